//! The outside client author's check: `tests/python/game_client.py`, a client written from
//! PROTOCOL.md and the REST docs alone (standard-library Python, its own WebSocket code), plays
//! the movement and coins games against the real server and verifies every frame's checksum;
//! its decoder also reads PROTOCOL.md's own worked example.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tests::{config, start};

/// Frames each Python client decodes before it leaves (3 s at the default 30 Hz).
const FRAMES: u32 = 90;
/// Python clients per room, so each also decodes another player's moves.
const CLIENTS: usize = 2;
/// Liveness bound for one client's whole session.
const LIVENESS: Duration = Duration::from_secs(60);

/// Whether `python3` runs here; says so on stderr when it does not.
fn python3_present() -> bool {
    let present = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !present {
        eprintln!("SKIPPED: python3 is not installed, so the outside client cannot run");
    }
    present
}

/// The path of a script in `tests/python/`.
fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(name)
}

/// Runs the Python client for `mode` against `base` and returns its JSON summary.
async fn run_client(base: &str, mode: &str) -> Value {
    let mut child = Command::new("python3")
        .arg(script("game_client.py"))
        .args([base, mode, &FRAMES.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python3");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > LIVENESS {
            child.kill().unwrap();
            panic!("the Python client of mode {mode} still runs after {LIVENESS:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "Python client of mode {mode} failed: {stderr}"
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("summary of mode {mode} is not JSON ({e}): {stderr}"))
}

/// Runs [`CLIENTS`] Python clients of `mode` at once, checks what every client must see, and
/// returns their summaries.
async fn play(base: &str, mode: &str, game: &str) -> Vec<Value> {
    let runs = (0..CLIENTS).map(|_| run_client(base, mode));
    let summaries = futures_util::future::join_all(runs).await;
    for s in &summaries {
        assert_eq!(s["game"], game, "{s}");
        assert_eq!(s["frames"], FRAMES, "{s}");
        assert_eq!(s["desyncs"], 0, "{s}");
        assert!(s["snapshots"].as_u64().unwrap() >= 1, "{s}");
        assert!(s["ack"].as_u64().unwrap() > 0, "no input was applied: {s}");
        assert_eq!(s["disconnect"]["code"], "normal", "{s}");
        assert_eq!(s["close_code"], 1000, "{s}");
    }
    summaries
}

#[test]
fn the_python_decoder_reads_the_documents_worked_example() {
    if !python3_present() {
        return;
    }
    let out = Command::new("python3")
        .arg(script("doc_examples.py"))
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_client_written_from_the_document_plays_without_desync() {
    if !python3_present() {
        return;
    }
    let server = start(config()).await;

    for s in play(&server.base, "default", "movement").await {
        assert_eq!(s["kinds_seen"], serde_json::json!(["player"]), "{s}");
        assert!(s["params"]["max_speed"].as_i64().unwrap() > 0, "{s}");
    }
    for s in play(&server.base, "coins", "coins").await {
        assert_eq!(
            s["kinds_seen"],
            serde_json::json!(["coin", "player", "round"]),
            "{s}"
        );
        let events = s["events_seen"].as_array().unwrap();
        assert!(events.contains(&"Hello".into()), "the join event: {s}");
    }
    server.stop().await;
}
