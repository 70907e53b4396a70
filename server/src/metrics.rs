//! The server's metrics, kept by `metrics-exporter-prometheus` and rendered in the Prometheus
//! text format at `/metrics`.
//!
//! Each server owns its recorder (none is installed globally), so several servers in one process
//! (the tests) keep separate figures. Hot paths hold registered handles: bumping a counter is an
//! atomic add, recording a tick duration an append to a lock-free bucket that [`Metrics::upkeep`]
//! drains. Process metrics (CPU seconds, resident memory, open file descriptors) are read from
//! `/proc/self` by [`Metrics::upkeep`], not at each render, so scrapes cost no file-system work
//! (on Linux; elsewhere they are not exported).

use metrics::{Counter, Gauge, Histogram, Key, Label, Recorder as _, SharedString, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use protocol::CloseCode;

/// Bucket upper bounds in seconds for tick durations and lateness.
const TICK_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1,
];

/// Every metric the server exports, as handles into its own Prometheus recorder.
#[derive(Debug)]
pub struct Metrics {
    /// Time one room takes to run one tick.
    pub tick_duration: Histogram,
    /// How late a tick-thread pass started after its deadline.
    pub tick_lateness: Histogram,
    /// Game frames queued to clients.
    pub frames_sent: Counter,
    /// Bytes of those frames.
    pub bytes_sent: Counter,
    /// Full snapshots sent to resync a client.
    pub resyncs: Counter,
    /// Frames not queued because a client's queue was full.
    pub queue_drops: Counter,
    /// Inputs applied by rooms.
    pub inputs_applied: Counter,
    /// Inputs dropped (stale, duplicate, over the per-tick cap, room inbox full).
    pub inputs_dropped: Counter,
    /// Game WebSocket connections accepted.
    pub connections: Counter,
    /// HTTP requests refused by the per-address rate limit.
    pub http_rate_limited: Counter,
    /// Rooms closed because their tick panicked.
    pub room_panics: Counter,
    /// Game connections closed, by close code (index as in `CloseCode::ALL`).
    closes: Vec<Counter>,
    rooms: Gauge,
    players: Gauge,
    spectators: Gauge,
    #[cfg(target_os = "linux")]
    process: ProcessMetrics,
    handle: PrometheusHandle,
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

impl Default for Metrics {
    fn default() -> Self {
        // `set_buckets` refuses only an empty list, and TICK_BUCKETS is not empty.
        let builder = PrometheusBuilder::new()
            .set_buckets(TICK_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let r = Registrar(&recorder);
        Self {
            tick_duration: r.histogram(
                "game_tick_duration_seconds",
                "Time one room takes to run one tick.",
            ),
            tick_lateness: r.histogram(
                "game_tick_lateness_seconds",
                "How late a tick pass started after its deadline.",
            ),
            frames_sent: r.counter("game_frames_sent_total", "Game frames queued to clients."),
            bytes_sent: r.counter(
                "game_bytes_sent_total",
                "Bytes of game frames queued to clients.",
            ),
            resyncs: r.counter(
                "game_resyncs_total",
                "Full snapshots sent to resync a client.",
            ),
            queue_drops: r.counter(
                "game_queue_drops_total",
                "Frames skipped because a client queue was full.",
            ),
            inputs_applied: r.counter("game_inputs_applied_total", "Inputs applied."),
            inputs_dropped: r.counter(
                "game_inputs_dropped_total",
                "Inputs dropped as stale, duplicate, over the cap or overflowing.",
            ),
            connections: r.counter(
                "game_connections_total",
                "Game WebSocket connections accepted.",
            ),
            http_rate_limited: r.counter(
                "http_rate_limited_total",
                "HTTP requests refused by the per-address rate limit.",
            ),
            room_panics: r.counter(
                "game_room_panics_total",
                "Rooms closed because their tick panicked.",
            ),
            closes: r.closes(),
            rooms: r.gauge("game_rooms", "Open rooms."),
            players: r.gauge("game_players", "Players connected or holding a seat."),
            spectators: r.gauge("game_spectators", "Open spectator streams."),
            #[cfg(target_os = "linux")]
            process: ProcessMetrics::register(&r),
            handle,
        }
    }
}

impl Metrics {
    /// Counts one closed game connection.
    pub fn count_close(&self, code: CloseCode) {
        if let Some(i) = CloseCode::ALL.iter().position(|c| *c == code) {
            self.closes[i].increment(1);
        }
    }

    /// Drains recorded histogram samples into their buckets, so memory stays bounded between
    /// scrapes, and reads the process figures (at the connection cap, listing the open file
    /// descriptors walks tens of thousands of entries). Call it every second or so.
    pub fn upkeep(&self) {
        #[cfg(target_os = "linux")]
        self.process.read();
        self.handle.run_upkeep();
    }

    /// The Prometheus text exposition of every metric, with `gauges` and the process figures
    /// of the last [`Metrics::upkeep`].
    pub fn render(&self, gauges: Gauges) -> String {
        self.rooms.set(gauges.rooms as f64);
        self.players.set(gauges.players as f64);
        self.spectators.set(gauges.spectators as f64);
        self.handle.run_upkeep();
        self.handle.render()
    }
}

/// This process's CPU time, resident memory and open file descriptors, from `/proc/self`.
#[cfg(target_os = "linux")]
#[derive(Debug)]
struct ProcessMetrics {
    cpu_seconds: Counter,
    resident_bytes: Gauge,
    open_fds: Gauge,
}

#[cfg(target_os = "linux")]
impl ProcessMetrics {
    fn register(r: &Registrar<'_>) -> Self {
        Self {
            cpu_seconds: r.counter(
                "process_cpu_seconds_total",
                "User and system CPU time of the process, in whole seconds.",
            ),
            resident_bytes: r.gauge(
                "process_resident_memory_bytes",
                "Resident memory of the process in bytes.",
            ),
            open_fds: r.gauge("process_open_fds", "Open file descriptors of the process."),
        }
    }

    /// Reads the figures now; one that cannot be read keeps its last value.
    fn read(&self) {
        let Ok(me) = procfs::process::Process::myself() else {
            return;
        };
        if let Ok(stat) = me.stat() {
            let ticks = procfs::ticks_per_second().max(1);
            self.cpu_seconds
                .absolute(stat.utime.saturating_add(stat.stime) / ticks);
            let rss = stat.rss.saturating_mul(procfs::page_size());
            self.resident_bytes.set(rss as f64);
        }
        if let Ok(fds) = me.fd_count() {
            self.open_fds.set(fds as f64);
        }
    }
}

/// Registers described metrics in one recorder.
struct Registrar<'a>(&'a PrometheusRecorder);

impl Registrar<'_> {
    fn counter(&self, name: &'static str, help: &'static str) -> Counter {
        self.0
            .describe_counter(name.into(), None, SharedString::const_str(help));
        self.0
            .register_counter(&Key::from_static_name(name), &metadata())
    }

    fn gauge(&self, name: &'static str, help: &'static str) -> Gauge {
        self.0
            .describe_gauge(name.into(), None, SharedString::const_str(help));
        self.0
            .register_gauge(&Key::from_static_name(name), &metadata())
    }

    fn histogram(&self, name: &'static str, help: &'static str) -> Histogram {
        self.0.describe_histogram(
            name.into(),
            Some(Unit::Seconds),
            SharedString::const_str(help),
        );
        self.0
            .register_histogram(&Key::from_static_name(name), &metadata())
    }

    /// One `game_closes_total{reason}` counter per close code, in `CloseCode::ALL` order.
    fn closes(&self) -> Vec<Counter> {
        const NAME: &str = "game_closes_total";
        self.0.describe_counter(
            NAME.into(),
            None,
            SharedString::const_str("Game connections closed, by reason."),
        );
        CloseCode::ALL
            .iter()
            .map(|code| {
                let key = Key::from_parts(NAME, vec![Label::new("reason", code.name())]);
                self.0.register_counter(&key, &metadata())
            })
            .collect()
    }
}

fn metadata() -> metrics::Metadata<'static> {
    metrics::Metadata::new(module_path!(), metrics::Level::INFO, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.tick_duration.record(Duration::from_micros(70));
        m.tick_duration.record(Duration::from_millis(3));
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

    #[test]
    fn counters_keep_their_names_and_every_close_reason_shows() {
        let m = Metrics::default();
        m.frames_sent.increment(3);
        m.count_close(CloseCode::Lagging);
        let text = m.render(Gauges {
            rooms: 2,
            ..Gauges::default()
        });
        assert!(text.contains("\ngame_frames_sent_total 3\n"), "{text}");
        assert!(
            text.contains("game_closes_total{reason=\"lagging\"} 1"),
            "{text}"
        );
        assert!(text.contains("\ngame_rooms 2\n"), "{text}");
        assert!(
            text.contains("# TYPE game_frames_sent_total counter"),
            "{text}"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn process_metrics_are_exported() {
        let m = Metrics::default();
        m.upkeep();
        let text = m.render(Gauges::default());
        for name in [
            "process_resident_memory_bytes",
            "process_open_fds",
            "process_cpu_seconds_total",
        ] {
            assert!(text.contains(&format!("\n{name} ")), "{name} in\n{text}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_render_reads_no_process_figures_only_upkeep_does() {
        fn open_fds(text: &str) -> Option<&str> {
            text.lines().find(|l| l.starts_with("process_open_fds "))
        }
        let m = Metrics::default();
        m.upkeep();
        let before = m.render(Gauges::default());
        let held: Vec<_> = (0..64)
            .map(|_| std::fs::File::open("/dev/null"))
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("/dev/null: {e}"));
        let after = m.render(Gauges::default());
        assert!(open_fds(&before).is_some(), "{before}");
        assert_eq!(open_fds(&before), open_fds(&after));
        drop(held);
    }
}
