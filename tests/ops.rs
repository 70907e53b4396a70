//! Operations endpoints: `/metrics` only on the admin listener (or with `--public-metrics`),
//! `/healthz` public, process metrics exported.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use server::Config;
use tests::{config, start, start_with};
use tokio_util::sync::CancellationToken;

async fn get(url: &str) -> (u16, String) {
    let res = reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn metrics_are_not_served_publicly_by_default() {
    let server = start_with(config(), false).await;
    let (status, body) = get(&server.url("/metrics")).await;
    assert_eq!(status, 404, "/metrics is off without --admin-bind: {body}");
    assert!(body.contains("\"error\""), "a JSON error: {body}");
    let (status, _) = get(&server.url("/healthz")).await;
    assert_eq!(status, 200, "/healthz stays public");
    server.stop().await;
}

#[tokio::test]
async fn admin_listener_serves_metrics_and_the_public_port_does_not() {
    let server = start(config()).await;
    let admin = server.admin_base.clone().unwrap();
    let (status, _) = get(&server.url("/metrics")).await;
    assert_eq!(status, 404, "no /metrics on the public port");
    let (status, _) = get(&server.url("/healthz")).await;
    assert_eq!(status, 200, "/healthz on the public port");
    let (status, _) = get(&format!("{admin}/healthz")).await;
    assert_eq!(status, 200, "/healthz on the admin port");
    let (status, _) = get(&format!("{admin}/api/v1/rooms")).await;
    assert_eq!(status, 404, "the admin port serves only operations");

    let _player = server.player("ada", "ops").await;
    let (status, text) = get(&format!("{admin}/metrics")).await;
    assert_eq!(status, 200);
    for name in [
        "game_frames_sent_total",
        "game_connections_total",
        "game_tick_duration_seconds_bucket",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_cpu_seconds_total",
    ] {
        assert!(text.contains(name), "{name} is exported:\n{text}");
    }
    server.stop().await;
}

#[tokio::test]
async fn public_metrics_flag_serves_metrics_on_the_public_port() {
    let server = start_with(
        Config {
            public_metrics: true,
            ..config()
        },
        false,
    )
    .await;
    let (status, text) = get(&server.url("/metrics")).await;
    assert_eq!(status, 200);
    assert!(text.contains("game_rooms"), "{text}");
    server.stop().await;
}

#[tokio::test]
async fn run_listens_on_the_admin_bind_address() {
    // A free port: bind, read it, release it.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let admin = probe.local_addr().unwrap();
    drop(probe);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(server::run(
        listener,
        Config {
            admin_bind: Some(admin),
            ..config()
        },
        shutdown.clone(),
    ));
    // `run` binds the admin address itself: wait until it accepts.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while tokio::net::TcpStream::connect(admin).await.is_err() {
        assert!(tokio::time::Instant::now() < deadline, "admin port opens");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, text) = get(&format!("http://{admin}/metrics")).await;
    assert_eq!(status, 200, "{text}");
    let (status, _) = get(&format!("http://{public}/metrics")).await;
    assert_eq!(status, 404);
    shutdown.cancel();
    let result = tokio::time::timeout(Duration::from_secs(15), handle).await;
    result.unwrap().unwrap().unwrap();
}

#[test]
fn admin_bind_and_public_metrics_exclude_each_other() {
    use clap::Parser as _;
    let parsed = Config::try_parse_from([
        "game-server",
        "--admin-bind",
        "127.0.0.1:9090",
        "--public-metrics",
    ]);
    assert!(parsed.is_err(), "the two flags conflict");
}

/// The nice value of each thread of process `pid`, by thread name (threads that end while they
/// are read are left out).
#[cfg(target_os = "linux")]
fn nice_by_thread(pid: u32) -> Vec<(String, i32)> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("/proc lists the threads");
    tasks
        .filter_map(|task| {
            let dir = task.ok()?.path();
            let name = std::fs::read_to_string(dir.join("comm")).ok()?;
            let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
            // Fields after the name, which is in parentheses: state is field 3, nice field 19.
            let after_name = &stat[stat.rfind(')')? + 2..];
            let nice = after_name.split(' ').nth(16)?.parse().ok()?;
            Some((name.trim().to_owned(), nice))
        })
        .collect()
}

/// The nice values of the threads whose names start with `name`.
#[cfg(target_os = "linux")]
fn nice_of(threads: &[(String, i32)], name: &str) -> Vec<i32> {
    threads
        .iter()
        .filter(|(n, _)| n.starts_with(name))
        .map(|&(_, nice)| nice)
        .collect()
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn network_threads_run_net_nice_steps_below_the_tick_threads() {
    for (flags, steps) in [
        (&[][..], 5),
        (&["--net-nice", "0"][..], 0),
        (&["--net-nice", "3"][..], 3),
    ] {
        let node = tests::node_process::NodeProcess::alone(flags).await;
        // A thread the runtime just started may not have set its priority yet: look again.
        let mut tries = 0;
        let (threads, base) = loop {
            let threads = nice_by_thread(node.pid());
            let (net, tick) = (nice_of(&threads, "net"), nice_of(&threads, "tick-"));
            assert!(
                !net.is_empty() && !tick.is_empty(),
                "{flags:?}: {threads:?}"
            );
            let base = tick[0];
            assert!(tick.iter().all(|&n| n == base), "{flags:?}: {threads:?}");
            tries += 1;
            if net.iter().all(|&n| n == base + steps) || tries == 20 {
                break (threads, base);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        if base + steps > 19 {
            eprintln!(
                "skipped {flags:?}: the test runs at nice {base}, too low to go {steps} lower"
            );
            continue;
        }
        let net = nice_of(&threads, "net");
        assert!(
            net.iter().all(|&n| n == base + steps),
            "{flags:?}: every network thread at nice {base} + {steps}: {threads:?}"
        );
    }
}
