//! One row per level, and the Markdown table.

use serde::Serialize;

use crate::{GameMode, Level, Stack};

/// What one level measured.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub level: Level,
    pub connected: u64,
    pub server_cpu_pct: f64,
    pub client_cpu_pct: f64,
    pub server_cpu_us_per_frame: f64,
    /// Server CPU per bot and tick of its own bots (server-bots levels), µs.
    pub server_cpu_us_per_bot_tick: f64,
    pub frames_per_s: f64,
    pub server_peak_rss_mib: f64,
    pub rss_per_connection_kib: f64,
    pub tick_to_client_p50_ms: f64,
    pub tick_to_client_p99_ms: f64,
    pub tick_to_client_max_ms: f64,
    pub input_ack_p99_ms: f64,
    pub frames_per_client_per_s: f64,
    pub bytes_per_client_per_s: f64,
    pub desyncs: u64,
    pub disconnects: u64,
    pub errors: u64,
    /// Game events the bots received, by name (from client-sim's `events`).
    pub events: serde_json::Value,
    pub note: Option<String>,
}

/// What the benchmark measured from outside the processes.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    /// Server CPU, % of one core.
    pub server_cpu_pct: f64,
    /// Client CPU, % of one core.
    pub client_cpu_pct: f64,
    /// Server CPU per frame sent, µs.
    pub cpu_us_per_frame: f64,
    /// Server CPU per bot-tick of its own bots, µs.
    pub cpu_us_per_bot_tick: f64,
    /// Frames sent per second.
    pub frames_per_s: f64,
    /// Peak server RSS, bytes.
    pub peak_rss: u64,
    /// Highest server RSS in the steady window, bytes.
    pub steady_rss: u64,
    /// Server RSS before any client, bytes.
    pub idle_rss: u64,
}

impl Row {
    /// A row from the measurements and the clients' JSON report.
    pub fn new(level: &Level, r: &serde_json::Value, m: &Measured) -> Self {
        let Measured {
            server_cpu_pct,
            client_cpu_pct,
            cpu_us_per_frame: server_cpu_us_per_frame,
            cpu_us_per_bot_tick: server_cpu_us_per_bot_tick,
            frames_per_s,
            peak_rss,
            steady_rss,
            idle_rss,
        } = *m;
        let f = |k: &str, p: &str| r[k][p].as_f64().unwrap_or(f64::NAN);
        let connected = r["connected"].as_u64().unwrap_or(0);
        let per_conn = if connected > 0 {
            steady_rss.saturating_sub(idle_rss) as f64 / connected as f64 / 1024.0
        } else {
            f64::NAN
        };
        Self {
            level: level.clone(),
            connected,
            server_cpu_pct,
            client_cpu_pct,
            server_cpu_us_per_frame,
            server_cpu_us_per_bot_tick,
            frames_per_s,
            server_peak_rss_mib: peak_rss as f64 / 1024.0 / 1024.0,
            rss_per_connection_kib: per_conn,
            tick_to_client_p50_ms: f("tick_to_client_ms", "p50"),
            tick_to_client_p99_ms: f("tick_to_client_ms", "p99"),
            tick_to_client_max_ms: f("tick_to_client_ms", "max"),
            input_ack_p99_ms: f("input_ack_ms", "p99"),
            frames_per_client_per_s: r["frames_per_client_per_s"].as_f64().unwrap_or(f64::NAN),
            bytes_per_client_per_s: r["bytes_per_client_per_s"].as_f64().unwrap_or(f64::NAN),
            desyncs: r["desyncs"].as_u64().unwrap_or(0),
            disconnects: r["disconnects"].as_u64().unwrap_or(0),
            errors: r["errors"].as_u64().unwrap_or(0),
            events: r["events"].clone(),
            note: None,
        }
    }

    /// Why the ladder must stop here, if it must.
    pub fn stop_reason(&self, limit_ms: f64) -> Option<String> {
        let has_clients = self.level.stack != Stack::ServerBots;
        let p99 = self.tick_to_client_p99_ms;
        if has_clients && (p99.is_nan() || p99 > limit_ms) {
            return Some(format!(
                "p99 {:.1} ms is over {limit_ms} ms",
                self.tick_to_client_p99_ms
            ));
        }
        if self.errors > 0
            || self.disconnects > 0
            || self.desyncs > 0
            || self.connected < u64::from(self.level.bots)
        {
            return Some(format!(
                "{} of {} connected, {} errors, {} disconnects, {} desyncs",
                self.connected, self.level.bots, self.errors, self.disconnects, self.desyncs
            ));
        }
        None
    }

    /// A one-line summary for the progress log.
    pub fn one_line(&self) -> String {
        let server = if self.server_cpu_us_per_bot_tick.is_nan() {
            format!("{:.1} µs/frame", self.server_cpu_us_per_frame)
        } else {
            format!("{:.2} µs/bot-tick", self.server_cpu_us_per_bot_tick)
        };
        format!(
            "p50 {:.1} ms, p99 {:.1} ms, server {:.0} % CPU ({server}), bots {:.0} % CPU, {:.1} KiB/conn",
            self.tick_to_client_p50_ms,
            self.tick_to_client_p99_ms,
            self.server_cpu_pct,
            self.client_cpu_pct,
            self.rss_per_connection_kib
        )
    }
}

/// The Markdown table of all rows.
pub fn markdown(rows: &[Row], machine: &str) -> String {
    let mut s = format!("Machine: {machine}.\n\n");
    s.push_str("| level | connected | tick→client p50 / p99 / max (ms) | input ack p99 (ms) | server CPU (% of a core) | server µs CPU / frame | server µs CPU / bot-tick | bots CPU (%) | frames/s sent | server peak RSS (MiB) | RSS / conn (KiB) | frames/client/s | bytes/client/s | desyncs | disconnects | errors | game events |\n");
    s.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for r in rows {
        let cells = [
            r.level.name.clone(),
            r.connected.to_string(),
            format!(
                "{} / {} / {}",
                num(r.tick_to_client_p50_ms, 1),
                num(r.tick_to_client_p99_ms, 1),
                num(r.tick_to_client_max_ms, 1)
            ),
            num(r.input_ack_p99_ms, 1),
            num(r.server_cpu_pct, 0),
            num(r.server_cpu_us_per_frame, 1),
            num(r.server_cpu_us_per_bot_tick, 2),
            num(r.client_cpu_pct, 0),
            num(r.frames_per_s, 0),
            num(r.server_peak_rss_mib, 1),
            num(r.rss_per_connection_kib, 1),
            num(r.frames_per_client_per_s, 1),
            num(r.bytes_per_client_per_s, 0),
            r.desyncs.to_string(),
            r.disconnects.to_string(),
            r.errors.to_string(),
            events(&r.events),
        ];
        s.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    s.push_str(&cost_table(rows));
    for r in rows.iter().filter(|r| r.note.is_some()) {
        s.push_str(&format!(
            "\n{}: {}\n",
            r.level.name,
            r.note.as_deref().unwrap_or("")
        ));
    }
    s
}

/// Server CPU per client-second (µs), or NaN when nobody connected.
fn cpu_per_client_second(r: &Row) -> f64 {
    if r.connected == 0 {
        return f64::NAN;
    }
    r.server_cpu_pct / 100.0 * 1e6 / r.connected as f64
}

/// The side-by-side table: at each client count that ran the bare stack, the floor (if it ran),
/// the bare stack and the game server in rooms of 10 at 20 Hz, with the ratios of their server
/// CPU per client-second.
fn cost_table(rows: &[Row]) -> String {
    let find = |stack: Stack, clients: u32| {
        rows.iter().find(|r| {
            r.level.stack == stack
                && r.level.bots == clients
                && r.level.tick_rate == 20
                && (stack != Stack::Game
                    || (r.level.game == GameMode::Movement && r.level.room_capacity == 10))
        })
    };
    let mut lines = Vec::new();
    for bare in rows.iter().filter(|r| r.level.stack == Stack::Bare) {
        let clients = bare.level.bots;
        let cell = |r: Option<&Row>| {
            r.map_or("–".to_owned(), |r| {
                format!(
                    "{} µs / {} ms",
                    num(cpu_per_client_second(r), 0),
                    num(r.tick_to_client_p99_ms, 1)
                )
            })
        };
        let ratio = |a: Option<&Row>, b: Option<&Row>| match (a, b) {
            (Some(a), Some(b)) => format!(
                "{}×",
                num(cpu_per_client_second(a) / cpu_per_client_second(b), 2)
            ),
            _ => "–".to_owned(),
        };
        let (floor, game) = (find(Stack::Floor, clients), find(Stack::Game, clients));
        lines.push(format!(
            "| {clients} | {} | {} | {} | {} | {} |\n",
            cell(floor),
            cell(Some(bare)),
            cell(game),
            ratio(Some(bare), floor),
            ratio(game, Some(bare)),
        ));
    }
    if lines.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "\nServer CPU per client-second and p99 tick→client, side by side (rooms of 10, 20 Hz):\n\n\
         | clients | floor | bare stack | game server | bare / floor | game / bare |\n\
         |---|---|---|---|---|---|\n",
    );
    s.extend(lines);
    s
}

/// Event counts as `Name n, …`, or a dash when none arrived.
fn events(counts: &serde_json::Value) -> String {
    let Some(counts) = counts.as_object().filter(|c| !c.is_empty()) else {
        return "–".to_owned();
    };
    counts
        .iter()
        .map(|(name, n)| format!("{name} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A number with `decimals` decimals, or a dash when it was not measured.
fn num(v: f64, decimals: usize) -> String {
    if v.is_nan() {
        "–".to_owned()
    } else {
        format!("{v:.decimals$}")
    }
}
