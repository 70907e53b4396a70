//! Process metrics kept in atomics and rendered in the Prometheus text format at `/metrics`.
//!
//! Hot paths touch only relaxed atomics; a room adds its per-tick totals once per tick.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use protocol::CloseCode;

/// A histogram with fixed buckets (upper bounds in seconds).
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    sum_ns: AtomicU64,
    count: AtomicU64,
}

/// Buckets for tick durations and lateness.
const TICK_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1,
];

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            sum_ns: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = self.bounds.iter().position(|b| secs <= *b) {
            self.counts[i].fetch_add(1, Relaxed);
        }
        self.sum_ns
            .fetch_add(d.as_nanos().min(u128::from(u64::MAX)) as u64, Relaxed);
        self.count.fetch_add(1, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            cumulative += count.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", self.sum_ns.load(Relaxed) as f64 / 1e9);
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// Every metric the server exports.
#[derive(Debug)]
pub struct Metrics {
    /// Time one room takes to run one tick.
    pub tick_duration: Histogram,
    /// How late a tick-thread pass started after its deadline.
    pub tick_lateness: Histogram,
    /// Game frames queued to clients.
    pub frames_sent: AtomicU64,
    /// Bytes of those frames.
    pub bytes_sent: AtomicU64,
    /// Full snapshots sent to resync a client.
    pub resyncs: AtomicU64,
    /// Frames not queued because a client's queue was full.
    pub queue_drops: AtomicU64,
    /// Inputs applied by rooms.
    pub inputs_applied: AtomicU64,
    /// Inputs dropped (stale, duplicate, over the per-tick cap, room inbox full).
    pub inputs_dropped: AtomicU64,
    /// Game WebSocket connections accepted.
    pub connections: AtomicU64,
    /// Game connections closed, by close code (index as in `CloseCode::ALL`).
    closes: [AtomicU64; CloseCode::ALL.len()],
    /// HTTP requests refused by the per-address rate limit.
    pub http_rate_limited: AtomicU64,
    /// Rooms closed because their tick panicked.
    pub room_panics: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            tick_duration: Histogram::new(TICK_BUCKETS),
            tick_lateness: Histogram::new(TICK_BUCKETS),
            frames_sent: AtomicU64::new(0),
            bytes_sent: AtomicU64::new(0),
            resyncs: AtomicU64::new(0),
            queue_drops: AtomicU64::new(0),
            inputs_applied: AtomicU64::new(0),
            inputs_dropped: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            closes: std::array::from_fn(|_| AtomicU64::new(0)),
            http_rate_limited: AtomicU64::new(0),
            room_panics: AtomicU64::new(0),
        }
    }
}

/// Point-in-time values the registry knows, rendered as gauges.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    /// Open rooms.
    pub rooms: u64,
    /// Players connected or holding a seat.
    pub players: u64,
    /// Open spectator streams.
    pub spectators: u64,
}

impl Metrics {
    /// Counts one closed game connection.
    pub fn count_close(&self, code: CloseCode) {
        if let Some(i) = CloseCode::ALL.iter().position(|c| *c == code) {
            self.closes[i].fetch_add(1, Relaxed);
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self, gauges: Gauges) -> String {
        let mut out = String::with_capacity(4096);
        self.tick_duration.render(
            &mut out,
            "game_tick_duration_seconds",
            "Time one room takes to run one tick.",
        );
        self.tick_lateness.render(
            &mut out,
            "game_tick_lateness_seconds",
            "How late a tick pass started after its deadline.",
        );
        let counters = [
            (
                "game_frames_sent_total",
                "Game frames queued to clients.",
                &self.frames_sent,
            ),
            (
                "game_bytes_sent_total",
                "Bytes of game frames queued to clients.",
                &self.bytes_sent,
            ),
            (
                "game_resyncs_total",
                "Full snapshots sent to resync a client.",
                &self.resyncs,
            ),
            (
                "game_queue_drops_total",
                "Frames skipped because a client queue was full.",
                &self.queue_drops,
            ),
            (
                "game_inputs_applied_total",
                "Inputs applied.",
                &self.inputs_applied,
            ),
            (
                "game_inputs_dropped_total",
                "Inputs dropped as stale, duplicate, over the cap or overflowing.",
                &self.inputs_dropped,
            ),
            (
                "game_connections_total",
                "Game WebSocket connections accepted.",
                &self.connections,
            ),
            (
                "http_rate_limited_total",
                "HTTP requests refused by the per-address rate limit.",
                &self.http_rate_limited,
            ),
            (
                "game_room_panics_total",
                "Rooms closed because their tick panicked.",
                &self.room_panics,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                value.load(Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP game_closes_total Game connections closed, by reason.\n# TYPE game_closes_total counter"
        );
        for (code, count) in CloseCode::ALL.iter().zip(&self.closes) {
            let _ = writeln!(
                out,
                "game_closes_total{{reason=\"{}\"}} {}",
                code.name(),
                count.load(Relaxed)
            );
        }
        let gauges = [
            ("game_rooms", "Open rooms.", gauges.rooms),
            (
                "game_players",
                "Players connected or holding a seat.",
                gauges.players,
            ),
            (
                "game_spectators",
                "Open spectator streams.",
                gauges.spectators,
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.tick_duration.observe(Duration::from_micros(70));
        m.tick_duration.observe(Duration::from_millis(3));
        let text = m.render(Gauges::default());
        assert!(
            text.contains("game_tick_duration_seconds_bucket{le=\"0.0001\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("game_tick_duration_seconds_bucket{le=\"0.005\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("game_tick_duration_seconds_count 2"),
            "{text}"
        );
    }
}
