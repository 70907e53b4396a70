//! The `client-sim` binary against a real server on `127.0.0.1:0`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

type Server = (
    String,
    CancellationToken,
    tokio::task::JoinHandle<Result<(), server::ServerError>>,
);

/// A server without a REST rate limit.
async fn start_server() -> Server {
    start_server_with(server::Config {
        api_rate: 0.0,
        tick_threads: 1,
        ..server::Config::default()
    })
    .await
}

async fn start_server_with(config: server::Config) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(server::run(listener, config, shutdown.clone()));
    (base, shutdown, handle)
}

/// Runs the binary off the async runtime.
async fn client_sim(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_client-sim"))
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn args(base: &str, extra: &[&str]) -> Vec<String> {
    ["--url", base, "--bots", "10", "--ramp", "0"]
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect()
}

#[tokio::test]
async fn ten_bots_connect_stay_in_sync_and_measure_plausible_numbers() {
    let (base, shutdown, handle) = start_server().await;
    let dir = std::env::temp_dir().join(format!("client-sim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("report.json");
    let out = client_sim(args(
        &base,
        &[
            "--duration",
            "3",
            "--max-p99-ms",
            "1000",
            "--json",
            json.to_str().unwrap(),
        ],
    ))
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("tick to client"),
        "a summary table:\n{stdout}"
    );

    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(r["bots"], 10);
    assert_eq!(r["connected"], 10, "{r}");
    assert_eq!(r["desyncs"], 0, "{r}");
    assert_eq!(r["disconnects"], 0, "{r}");
    assert_eq!(r["errors"], 0, "{r}");
    let f = |k: &str, p: &str| r[k][p].as_f64().unwrap_or_else(|| panic!("{k}.{p} in {r}"));
    assert!(
        f("tick_to_client_ms", "p50") > 0.0 && f("tick_to_client_ms", "p99") < 1000.0,
        "{r}"
    );
    assert!(f("tick_to_client_ms", "max") >= f("tick_to_client_ms", "p99"));
    // Inputs are acknowledged within a few ticks (30 Hz: 33 ms each).
    assert!(
        f("input_ack_ms", "p50") > 0.0 && f("input_ack_ms", "p50") < 500.0,
        "{r}"
    );
    let fps = r["frames_per_client_per_s"].as_f64().unwrap();
    assert!(
        (20.0..=40.0).contains(&fps),
        "about 30 frames/s at 30 Hz: {fps}"
    );
    let bps = r["bytes_per_client_per_s"].as_f64().unwrap();
    assert!(
        (100.0..=20_000.0).contains(&bps),
        "a few hundred bytes to a few KB per second: {bps}"
    );
    assert!(r["duration_s"].as_f64().unwrap() >= 3.0);
    // Frame latencies cover the last half of the 3 s (the settle period, 2 s by default, is
    // capped at half the duration): about 10 bots × 30 Hz × 1.5 s samples, not the whole run's.
    let window = r["frame_latency_window_s"].as_f64().unwrap();
    assert!((1.3..=1.8).contains(&window), "{r}");
    let samples = f("tick_to_client_ms", "count");
    assert!(
        samples <= 10.0 * 30.0 * (window + 0.2) && samples >= 10.0 * 30.0 * (window - 0.5),
        "{samples} samples in {window} s: {r}"
    );
    shutdown.cancel();
    handle.await.unwrap().unwrap();
}

#[tokio::test]
async fn the_exit_code_follows_max_p99() {
    let (base, shutdown, handle) = start_server().await;
    let out = client_sim(args(&base, &["--duration", "1", "--max-p99-ms", "0.001"])).await;
    assert_eq!(out.status.code(), Some(1), "p99 is above a microsecond");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("p99 tick-to-client"),
        "says why"
    );
    let out = client_sim(args(&base, &["--duration", "1"])).await;
    assert_eq!(out.status.code(), Some(0), "no limit, no failure");
    shutdown.cancel();
    handle.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_server_that_goes_away_gives_a_clean_report_with_disconnects() {
    let (base, shutdown, handle) = start_server().await;
    let run = tokio::spawn(client_sim(args(
        &base,
        &["--duration", "4", "--json", "/dev/stdout"],
    )));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    shutdown.cancel();
    handle.await.unwrap().unwrap();
    let out = run.await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a clean exit, not a panic\n{stdout}\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let json = &stdout[stdout.find('{').expect("the JSON report")..];
    let r: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(r["connected"], 10);
    assert!(
        r["disconnects"].as_u64().unwrap() >= 10,
        "every bot's drop is counted: {r}"
    );
    assert!(
        r["disconnect_reasons"]["shutdown"].as_u64().unwrap() >= 1,
        "{r}"
    );
}

#[tokio::test]
async fn throttling_is_counted_and_explained() {
    // One request per second: ten bots asking at once get 429s.
    let (base, shutdown, handle) = start_server_with(server::Config {
        api_rate: 1.0,
        api_burst: 1.0,
        tick_threads: 1,
        ..server::Config::default()
    })
    .await;
    let out = client_sim(args(&base, &["--duration", "2", "--json", "/dev/stdout"])).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let json = &stdout[stdout.find('{').expect("the JSON report")..];
    let r: serde_json::Value = serde_json::from_str(json).unwrap();
    assert!(r["http_429"].as_u64().unwrap() >= 1, "{r}");
    assert!(r["throttle_wait_s"].as_f64().unwrap() > 0.0, "{r}");
    let table = &stdout[..stdout.find('{').unwrap()];
    assert!(
        table.contains("HTTP 429"),
        "the summary counts them:\n{table}"
    );
    assert!(
        table.contains("--api-rate 0"),
        "the summary hints:\n{table}"
    );
    assert!(
        stderr.contains("--api-rate 0"),
        "the run hints live:\n{stderr}"
    );
    shutdown.cancel();
    handle.await.unwrap().unwrap();
}

#[tokio::test]
async fn an_unthrottled_run_reports_no_429s() {
    let (base, shutdown, handle) = start_server().await;
    let out = client_sim(args(&base, &["--duration", "1", "--json", "/dev/stdout"])).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = &stdout[stdout.find('{').expect("the JSON report")..];
    let r: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(r["http_429"], 0, "{r}");
    assert_eq!(r["throttle_wait_s"], 0.0, "{r}");
    assert!(!stdout.contains("--api-rate 0"), "{stdout}");
    shutdown.cancel();
    handle.await.unwrap().unwrap();
}

#[tokio::test]
async fn non_finite_and_out_of_range_flags_are_refused_without_a_panic() {
    for (flag, value) in [
        ("--duration", "NaN"),
        ("--duration", "-1"),
        ("--duration", "400days"),
        ("--ramp", "inf"),
        ("--input-hz", "0"),
        ("--input-hz", "inf"),
    ] {
        let out = client_sim(vec![
            "--url".into(),
            "http://127.0.0.1:9".into(),
            format!("{flag}={value}"),
        ])
        .await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}={value}: {stderr}");
        assert!(stderr.contains(flag), "{flag}={value}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[tokio::test]
async fn bots_spread_over_every_url_and_matchmake_again_when_their_node_goes_away() {
    let (a, a_shutdown, a_handle) = start_server().await;
    let (b, b_shutdown, b_handle) = start_server().await;
    let urls = format!("{a},{b}");
    let run = tokio::spawn(client_sim(args(
        &urls,
        &["--duration", "4", "--json", "/dev/stdout"],
    )));
    // Both nodes get bots.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    for base in [&a, &b] {
        loop {
            let list: serde_json::Value = reqwest::get(format!("{base}/api/v1/rooms"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if list["rooms"].as_array().is_some_and(|r| !r.is_empty()) {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{base} got no bot");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    b_shutdown.cancel();
    b_handle.await.unwrap().unwrap();
    let out = run.await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = &stdout[stdout.find('{').expect("the JSON report")..];
    let r: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(r["connected"], 10, "{r}");
    assert_eq!(r["desyncs"], 0, "{r}");
    let rematches = r["rematches"].as_u64().unwrap();
    assert!(
        rematches >= 1 && rematches >= r["disconnects"].as_u64().unwrap(),
        "every bot that lost its node matchmade again on the other: {r}"
    );
    assert_eq!(r["errors"], 0, "{r}");
    assert!(
        stdout.contains(&format!("rematches {rematches}")),
        "{stdout}"
    );
    a_shutdown.cancel();
    a_handle.await.unwrap().unwrap();
}
