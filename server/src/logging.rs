//! Log output of the `game-server` binary: human text or one JSON object per line, coloured
//! only when standard output is a terminal.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

/// How log lines are written to standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines, with ANSI colour only when standard output is a terminal.
    Text,
    /// One JSON object per line (`timestamp`, `level`, `fields`, `target`), never coloured.
    Json,
}

/// Installs the global subscriber: `RUST_LOG` filters (default `info`), `format` shapes lines.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stdout().is_terminal()).init(),
        LogFormat::Json => builder.json().with_ansi(false).init(),
    }
}
