//! What bots measure, and the report merged from all of them.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

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

    /// Adds another histogram's values.
    pub fn merge(&mut self, other: &Latency) {
        let _ = self.0.add(&other.0);
    }

    /// How many values were recorded.
    pub fn count(&self) -> u64 {
        self.0.len()
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

/// What one bot measured.
#[derive(Debug, Clone, Default)]
pub struct BotStats {
    /// Whether it got into a room.
    pub connected: bool,
    /// Frame server time → arrival.
    pub tick_to_client: Latency,
    /// Input sent → first frame acknowledging it.
    pub input_ack: Latency,
    /// |frame interval − tick interval|.
    pub frame_jitter: Latency,
    /// Matchmaking time.
    pub matchmaking: Latency,
    /// WebSocket connect and join time.
    pub connect: Latency,
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

    /// Adds another bot's numbers.
    pub fn merge(&mut self, o: &BotStats) {
        self.tick_to_client.merge(&o.tick_to_client);
        self.input_ack.merge(&o.input_ack);
        self.frame_jitter.merge(&o.frame_jitter);
        self.matchmaking.merge(&o.matchmaking);
        self.connect.merge(&o.connect);
        self.frames += o.frames;
        self.bytes += o.bytes;
        self.snapshots += o.snapshots;
        self.desyncs += o.desyncs;
        self.connected_for += o.connected_for;
        for (k, v) in &o.disconnects {
            *self.disconnects.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &o.errors {
            *self.errors.entry(k.clone()).or_default() += v;
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
    /// Unexpected disconnects by reason.
    pub disconnect_reasons: BTreeMap<String, u64>,
    /// Errors by kind.
    pub error_kinds: BTreeMap<String, u64>,
    /// Whether the run was interrupted (Ctrl-C).
    pub interrupted: bool,
}

impl Report {
    /// Merges every bot's numbers.
    pub fn from_bots(bots: &[BotStats], duration: Duration, interrupted: bool) -> Self {
        let mut all = BotStats::default();
        for b in bots {
            all.merge(b);
        }
        let secs = all.connected_for.as_secs_f64();
        let per_client_s = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
        Self {
            bots: bots.len(),
            connected: bots.iter().filter(|b| b.connected).count(),
            duration_s: duration.as_secs_f64(),
            tick_to_client_ms: all.tick_to_client.summary(),
            input_ack_ms: all.input_ack.summary(),
            frame_jitter_ms: all.frame_jitter.summary(),
            matchmaking_ms: all.matchmaking.summary(),
            connect_ms: all.connect.summary(),
            bytes_per_client_per_s: per_client_s(all.bytes),
            frames_per_client_per_s: per_client_s(all.frames),
            frames: all.frames,
            snapshots: all.snapshots,
            desyncs: all.desyncs,
            disconnects: all.disconnects.values().sum(),
            errors: all.errors.values().sum(),
            disconnect_reasons: all.disconnects,
            error_kinds: all.errors,
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
        s.push_str(&format!(
            "{:<22} {:>9} {:>9} {:>9} {:>10}\n",
            "latency (ms)", "p50", "p99", "max", "samples"
        ));
        s.push_str(&row("tick to client", &self.tick_to_client_ms));
        s.push_str(&row("input to ack", &self.input_ack_ms));
        s.push_str(&row("frame jitter", &self.frame_jitter_ms));
        s.push_str(&row("matchmaking", &self.matchmaking_ms));
        s.push_str(&row("connect", &self.connect_ms));
        s.push_str(&format!(
            "\nper client: {:.1} frames/s, {:.0} bytes/s\nframes {} (snapshots {}), desyncs {}, disconnects {}, errors {}\n",
            self.frames_per_client_per_s, self.bytes_per_client_per_s, self.frames, self.snapshots, self.desyncs, self.disconnects, self.errors
        ));
        for (k, v) in &self.disconnect_reasons {
            s.push_str(&format!("  disconnect {k}: {v}\n"));
        }
        for (k, v) in &self.error_kinds {
            s.push_str(&format!("  error {k}: {v}\n"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_report_adds_up() {
        let mut a = BotStats {
            connected: true,
            frames: 30,
            bytes: 3000,
            connected_for: Duration::from_secs(1),
            ..Default::default()
        };
        a.tick_to_client.record_us(2000);
        let mut b = BotStats {
            connected: true,
            frames: 30,
            bytes: 1000,
            connected_for: Duration::from_secs(1),
            ..Default::default()
        };
        b.tick_to_client.record_us(4000);
        b.disconnect("lagging".into());
        let r = Report::from_bots(&[a, b, BotStats::default()], Duration::from_secs(2), false);
        assert_eq!(
            (r.bots, r.connected, r.frames, r.disconnects),
            (3, 2, 60, 1)
        );
        assert_eq!(r.frames_per_client_per_s, 30.0);
        assert_eq!(r.bytes_per_client_per_s, 2000.0);
        assert!(
            (r.tick_to_client_ms.max - 4.0).abs() < 0.01,
            "{:?}",
            r.tick_to_client_ms
        );
    }
}
