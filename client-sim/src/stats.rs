//! What bots measure, and the report merged from all of them.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use hdrhistogram::Histogram;
use protocol::Schema;
use protocol::frame::EventValue;
use serde::Serialize;

use crate::throttle::{self, Throttling};

/// Highest value a histogram records, in microseconds (one minute).
const MAX_US: u64 = 60_000_000;

/// A latency histogram in microseconds.
#[derive(Debug, Clone)]
pub struct Latency(Histogram<u64>);

impl Default for Latency {
    // The bounds are constants that hdrhistogram accepts; no input reaches this.
    #[allow(clippy::expect_used)]
    fn default() -> Self {
        Self(Histogram::new_with_bounds(1, MAX_US, 3).expect("constant histogram bounds are valid"))
    }
}

impl Latency {
    /// Records one value in microseconds (clamped into range).
    pub fn record_us(&mut self, us: u64) {
        let _ = self.0.record(us.clamp(1, MAX_US));
    }

    /// Records a duration.
    pub fn record(&mut self, d: Duration) {
        self.record_us(d.as_micros().min(u128::from(MAX_US)) as u64);
    }

    /// p50, p99 and max in milliseconds.
    pub fn summary(&self) -> Percentiles {
        let ms = |us: u64| us as f64 / 1000.0;
        if self.0.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            p50: ms(self.0.value_at_quantile(0.50)),
            p99: ms(self.0.value_at_quantile(0.99)),
            max: ms(self.0.max()),
            count: self.0.len(),
        }
    }
}

/// A latency summary in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
    /// Samples.
    pub count: u64,
}

/// Samples a bot buffers before adding them to the shared histograms.
const BATCH: usize = 64;

/// Frame-rate latencies of every bot, kept in a few shared histograms (one per bot would cost
/// megabytes and cache misses at thousands of bots).
#[derive(Debug, Default)]
pub struct FrameLatencies {
    /// Whether samples are recorded yet: from the end of the settle period after the last bot
    /// started (see [`LoadPlan::settle`](crate::load::LoadPlan::settle)); until then bots drop
    /// them.
    pub recording: AtomicBool,
    /// Frame server time → arrival.
    pub tick_to_client: Mutex<Latency>,
    /// Input sent → first frame acknowledging it.
    pub input_ack: Mutex<Latency>,
    /// |frame interval − tick interval|.
    pub frame_jitter: Mutex<Latency>,
}

/// A bot's unflushed samples of one latency.
#[derive(Debug)]
pub struct Samples {
    values: Vec<u64>,
}

impl Default for Samples {
    fn default() -> Self {
        Self {
            values: Vec::with_capacity(BATCH),
        }
    }
}

impl Samples {
    /// Buffers one value in microseconds; adds the batch to `into` when full.
    pub fn push(&mut self, us: u64, into: &Mutex<Latency>) {
        self.values.push(us);
        if self.values.len() >= BATCH {
            self.flush(into);
        }
    }

    /// Adds the buffered values to `into`.
    pub fn flush(&mut self, into: &Mutex<Latency>) {
        if self.values.is_empty() {
            return;
        }
        let mut h = into.lock().unwrap_or_else(PoisonError::into_inner);
        for v in self.values.drain(..) {
            h.record_us(v);
        }
    }
}

/// What one bot measured (frame latencies go to [`FrameLatencies`]).
#[derive(Debug, Clone, Default)]
pub struct BotStats {
    /// Whether it got into a room.
    pub connected: bool,
    /// Matchmaking time.
    pub matchmaking: Option<Duration>,
    /// WebSocket connect and join time.
    pub connect: Option<Duration>,
    /// Frames received.
    pub frames: u64,
    /// Frame bytes received.
    pub bytes: u64,
    /// Snapshots received.
    pub snapshots: u64,
    /// Frames whose checksum or baseline did not match.
    pub desyncs: u64,
    /// Time spent connected.
    pub connected_for: Duration,
    /// Unexpected disconnects by reason.
    pub disconnects: BTreeMap<String, u64>,
    /// Errors by kind (matchmaking, connect, send…).
    pub errors: BTreeMap<String, u64>,
    /// Game events received, by event name.
    pub events: BTreeMap<String, u64>,
    /// Times it matchmade again after losing its room.
    pub rematches: u64,
}

impl BotStats {
    /// Counts an unexpected disconnect.
    pub fn disconnect(&mut self, reason: String) {
        *self.disconnects.entry(reason).or_default() += 1;
    }

    /// Counts an error.
    pub fn error(&mut self, kind: String) {
        *self.errors.entry(kind).or_default() += 1;
    }
}

/// Game events one connection received, counted by the schema's event index (no name lookup
/// per event) and added to [`BotStats::events`] by name when the connection ends.
#[derive(Debug, Default)]
pub struct EventTally {
    /// The schema's event names and how many of each arrived.
    counts: Vec<(String, u64)>,
}

impl EventTally {
    /// A tally for the events of `schema`'s game.
    pub fn new(schema: &Schema) -> Self {
        Self {
            counts: schema.events.iter().map(|e| (e.name.clone(), 0)).collect(),
        }
    }

    /// Counts the events of one applied frame.
    pub fn count(&mut self, events: &[EventValue]) {
        for e in events {
            if let Some((_, n)) = self.counts.get_mut(e.event) {
                *n += 1;
            }
        }
    }

    /// Adds the counts (events that arrived at least once) to `into`, by name.
    pub fn add_to(self, into: &mut BTreeMap<String, u64>) {
        for (name, n) in self.counts.into_iter().filter(|(_, n)| *n > 0) {
            *into.entry(name).or_default() += n;
        }
    }
}

/// The run's report (also the `--json` document).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Bots started.
    pub bots: usize,
    /// Bots that got into a room.
    pub connected: usize,
    /// Wall time of the run.
    pub duration_s: f64,
    /// Seconds over which the frame latencies (tick to client, input to ack, jitter) were
    /// recorded: from the end of the settle period after the last bot started to the end of the
    /// run.
    pub frame_latency_window_s: f64,
    /// Tick-to-client latency (server timestamp → arrival; same machine clock).
    pub tick_to_client_ms: Percentiles,
    /// Input-to-acknowledgement latency.
    pub input_ack_ms: Percentiles,
    /// Frame interval jitter.
    pub frame_jitter_ms: Percentiles,
    /// Matchmaking time.
    pub matchmaking_ms: Percentiles,
    /// Connect-and-join time.
    pub connect_ms: Percentiles,
    /// Frame bytes per connected client per second.
    pub bytes_per_client_per_s: f64,
    /// Frames per connected client per second.
    pub frames_per_client_per_s: f64,
    /// Frames received in all.
    pub frames: u64,
    /// Snapshots received (joins and resyncs).
    pub snapshots: u64,
    /// Frames that did not match the server's checksum or baseline.
    pub desyncs: u64,
    /// Unexpected disconnects.
    pub disconnects: u64,
    /// Errors.
    pub errors: u64,
    /// Times bots matchmade again after losing their room (its node gone, or closed).
    pub rematches: u64,
    /// Unexpected disconnects by reason.
    pub disconnect_reasons: BTreeMap<String, u64>,
    /// Errors by kind.
    pub error_kinds: BTreeMap<String, u64>,
    /// Game events the bots received, by event name (each bot counts the events it received).
    pub events: BTreeMap<String, u64>,
    /// HTTP 429 (rate limited) answers the bots received from the REST API.
    pub http_429: u64,
    /// Seconds the bots spent waiting out 429 answers before retrying (added over every bot).
    pub throttle_wait_s: f64,
    /// Whether the run was interrupted (Ctrl-C).
    pub interrupted: bool,
}

impl Report {
    /// Merges every bot's numbers with the shared frame latencies (recorded over `window`) and
    /// the rate limiting the bots met.
    pub fn from_bots(
        bots: &[BotStats],
        latencies: &FrameLatencies,
        throttling: Throttling,
        duration: Duration,
        window: Duration,
        interrupted: bool,
    ) -> Self {
        let (mut matchmaking, mut connect) = (Latency::default(), Latency::default());
        let mut all = BotStats::default();
        for b in bots {
            b.matchmaking.inspect(|d| matchmaking.record(*d));
            b.connect.inspect(|d| connect.record(*d));
            all.frames += b.frames;
            all.bytes += b.bytes;
            all.snapshots += b.snapshots;
            all.desyncs += b.desyncs;
            all.connected_for += b.connected_for;
            all.rematches += b.rematches;
            for (k, v) in &b.disconnects {
                *all.disconnects.entry(k.clone()).or_default() += v;
            }
            for (k, v) in &b.errors {
                *all.errors.entry(k.clone()).or_default() += v;
            }
            for (k, v) in &b.events {
                *all.events.entry(k.clone()).or_default() += v;
            }
        }
        let summary =
            |m: &Mutex<Latency>| m.lock().unwrap_or_else(PoisonError::into_inner).summary();
        let secs = all.connected_for.as_secs_f64();
        let per_client_s = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
        Self {
            bots: bots.len(),
            connected: bots.iter().filter(|b| b.connected).count(),
            duration_s: duration.as_secs_f64(),
            frame_latency_window_s: window.as_secs_f64(),
            tick_to_client_ms: summary(&latencies.tick_to_client),
            input_ack_ms: summary(&latencies.input_ack),
            frame_jitter_ms: summary(&latencies.frame_jitter),
            matchmaking_ms: matchmaking.summary(),
            connect_ms: connect.summary(),
            bytes_per_client_per_s: per_client_s(all.bytes),
            frames_per_client_per_s: per_client_s(all.frames),
            frames: all.frames,
            snapshots: all.snapshots,
            desyncs: all.desyncs,
            disconnects: all.disconnects.values().sum(),
            errors: all.errors.values().sum(),
            rematches: all.rematches,
            disconnect_reasons: all.disconnects,
            error_kinds: all.errors,
            events: all.events,
            http_429: throttling.responses,
            throttle_wait_s: throttling.waited.as_secs_f64(),
            interrupted,
        }
    }

    /// A plain-text summary table.
    pub fn table(&self) -> String {
        let row = |name: &str, p: &Percentiles| {
            format!(
                "{name:<22} {:>9.2} {:>9.2} {:>9.2} {:>10}\n",
                p.p50, p.p99, p.max, p.count
            )
        };
        let mut s = String::new();
        s.push_str(&format!(
            "bots {} connected {} in {:.1} s{}\n\n",
            self.bots,
            self.connected,
            self.duration_s,
            if self.interrupted {
                " (interrupted)"
            } else {
                ""
            }
        ));
        let header = |title: &str| {
            format!(
                "{title:<22} {:>9} {:>9} {:>9} {:>10}\n",
                "p50", "p99", "max", "samples"
            )
        };
        if self.tick_to_client_ms.count == 0 {
            s.push_str("no frame latencies: interrupted before the settle period ended, or no bot got a frame\n");
        } else {
            s.push_str(&format!(
                "frame latencies (ms) over the last {:.1} s, after ramp-up and settling\n",
                self.frame_latency_window_s
            ));
            s.push_str(&header("latency (ms)"));
            s.push_str(&row("tick to client", &self.tick_to_client_ms));
            s.push_str(&row("input to ack", &self.input_ack_ms));
            s.push_str(&row("frame jitter", &self.frame_jitter_ms));
        }
        s.push_str("\nevery bot's seat (ms)\n");
        s.push_str(&header("latency (ms)"));
        s.push_str(&row("matchmaking", &self.matchmaking_ms));
        s.push_str(&row("connect", &self.connect_ms));
        s.push_str(&format!(
            "\nper client: {:.1} frames/s, {:.0} bytes/s\nframes {} (snapshots {}), desyncs {}, disconnects {}, rematches {}, errors {}\n",
            self.frames_per_client_per_s, self.bytes_per_client_per_s, self.frames, self.snapshots, self.desyncs, self.disconnects, self.rematches, self.errors
        ));
        for (k, v) in &self.disconnect_reasons {
            s.push_str(&format!("  disconnect {k}: {v}\n"));
        }
        for (k, v) in &self.error_kinds {
            s.push_str(&format!("  error {k}: {v}\n"));
        }
        if !self.events.is_empty() {
            let counts: Vec<String> = self
                .events
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            s.push_str(&format!("game events received: {}\n", counts.join(", ")));
        }
        if self.http_429 > 0 {
            s.push_str(&format!(
                "throttled: {} HTTP 429 answers, {:.1} s spent waiting on them (all bots together)\n  hint: {}\n",
                self.http_429,
                self.throttle_wait_s,
                throttle::HINT
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_report_adds_up() {
        let latencies = FrameLatencies::default();
        let mut samples = Samples::default();
        samples.push(2000, &latencies.tick_to_client);
        samples.push(4000, &latencies.tick_to_client);
        samples.flush(&latencies.tick_to_client);
        let mut a = BotStats {
            connected: true,
            frames: 30,
            bytes: 3000,
            connected_for: Duration::from_secs(1),
            ..Default::default()
        };
        let mut b = BotStats {
            connected: true,
            frames: 30,
            bytes: 1000,
            connected_for: Duration::from_secs(1),
            ..Default::default()
        };
        b.disconnect("lagging".into());
        let schema = Schema {
            game: "test".into(),
            params: Vec::new(),
            kinds: vec!["player".into()],
            components: vec![Schema::position()],
            input: Vec::new(),
            events: ["CoinTaken", "RoundOver"]
                .map(|name| protocol::schema::EventDef {
                    name: name.into(),
                    fields: Vec::new(),
                })
                .into(),
        };
        let taken = EventValue {
            event: 0,
            values: Vec::new(),
        };
        for bot in [&mut a, &mut b] {
            let mut tally = EventTally::new(&schema);
            tally.count(&[taken.clone(), taken.clone()]);
            tally.add_to(&mut bot.events);
        }
        let throttling = Throttling {
            responses: 3,
            waited: Duration::from_millis(1500),
        };
        let r = Report::from_bots(
            &[a, b, BotStats::default()],
            &latencies,
            throttling,
            Duration::from_secs(2),
            Duration::from_secs(1),
            false,
        );
        assert_eq!(
            (r.bots, r.connected, r.frames, r.disconnects),
            (3, 2, 60, 1)
        );
        assert_eq!(r.frames_per_client_per_s, 30.0);
        assert_eq!(r.bytes_per_client_per_s, 2000.0);
        assert_eq!(r.tick_to_client_ms.count, 2);
        assert!(r.table().contains("over the last 1.0 s"), "{}", r.table());
        // Only events that arrived are listed.
        assert_eq!(r.events, BTreeMap::from([("CoinTaken".to_owned(), 4)]));
        assert!(r.table().contains("game events received: CoinTaken 4"));
        assert_eq!((r.http_429, r.throttle_wait_s), (3, 1.5));
        assert!(r.table().contains("--api-rate 0"), "{}", r.table());
        assert!(
            (r.tick_to_client_ms.max - 4.0).abs() < 0.01,
            "{:?}",
            r.tick_to_client_ms
        );
    }
}
