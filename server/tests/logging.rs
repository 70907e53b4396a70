//! The `game-server` binary's log output when standard output is a pipe (as when it goes to a
//! file): plain text without ANSI colour codes, or JSON lines with `--log-format json`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Starts `game-server` on an ephemeral port with `args`, stdout piped and no `GAME_*` variable.
fn spawn(args: &[&str]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_game-server"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GAME_") {
            command.env_remove(name);
        }
    }
    command
        .args(["--bind", "127.0.0.1:0"])
        .args(args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start game-server")
}

/// The server's first log line (30 s liveness limit), then stops it.
fn first_line(mut child: Child) -> String {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(30));
    let _ = child.kill();
    let _ = child.wait();
    line.expect("a log line within 30 s")
}

#[test]
fn text_logs_to_a_pipe_carry_no_colour_codes() {
    let line = first_line(spawn(&[]));
    assert!(line.contains("INFO"), "{line:?}");
    assert!(!line.contains('\u{1b}'), "ANSI escape in {line:?}");
}

#[test]
fn json_logs_are_one_object_per_line() {
    let line = first_line(spawn(&["--log-format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
    assert_eq!(v["level"], "INFO", "{line}");
    assert!(v["fields"]["message"].is_string(), "{line}");
    assert!(v["timestamp"].is_string(), "{line}");
}

#[test]
fn an_unknown_log_format_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_game-server"))
        .args(["--log-format", "xml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--log-format"), "{err}");
}
