//! The playable page, `/play`, in headless Chromium (Debian's `chromium`, driven by
//! playwright-core from `tests/browser`; `tests/run.sh` installs both): it joins through the
//! JavaScript SDK, a held arrow key moves the local player at once and the server agrees, a
//! finger on a phone steers, two pages see each other and each other's scores and events, and a
//! page whose connection dies resumes as the same player. The page
//! is loaded through a proxy of the harness, which cuts the connections or delays every byte.
//! The page of the README's "Play it" section plays too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use tests::proxy::DelayProxy;
use tests::{TestServer, config, start};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

/// A server of `config` whose seats point at a proxy in front of it, delaying each way by
/// `delay`.
async fn proxied(config: server::Config, delay: Duration) -> (TestServer, DelayProxy) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = format!("http://{}", listener.local_addr().unwrap());
    let server = start(server::Config {
        public_url: Some(public),
        ..config
    })
    .await;
    let proxy = DelayProxy::serve(listener, server.addr, delay);
    (server, proxy)
}

/// Runs `tests/browser/play.mjs SCENARIO` against the page behind `proxy`, cutting the proxy's
/// connections whenever the script asks (it prints `CUT`, then waits for a line); returns its
/// JSON report.
async fn run_page(
    scenario: &str,
    server: &TestServer,
    proxy: &DelayProxy,
    env: &[(&str, PathBuf)],
) -> Value {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let chromium = tests::browser_tools();
    let _one = tests::BROWSER.lock().await;
    let shot = match scenario {
        "play" => root.join("../target/play.png"),
        other => root.join(format!("../target/play-{other}.png")),
    };
    let _ = std::fs::remove_file(&shot);
    let mut child = Command::new("node")
        .arg(root.join("browser/play.mjs"))
        .args([scenario, &proxy.base(), &server.base])
        .arg(&shot)
        .env("CHROMIUM", chromium)
        .envs(env.iter().cloned())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut last = String::new();
    let talk = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line == "CUT" {
                proxy.cut();
                stdin.write_all(b"cut\n").await.unwrap();
            } else {
                last = line;
            }
        }
        child.wait_with_output().await.unwrap()
    };
    let out = tokio::time::timeout(Duration::from_secs(120), talk)
        .await
        .expect("the browser check finishes within two minutes");
    assert!(
        out.status.success(),
        "browser check failed:\n{last}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::metadata(&shot).is_ok_and(|m| m.len() > 1000),
        "a screenshot was saved at {}",
        shot.display()
    );
    serde_json::from_str(&last).unwrap_or_else(|e| panic!("a JSON report ({e}): {last}"))
}

/// Quanta from a report's `{x, y}`.
fn xy(v: &Value) -> (i64, i64) {
    (v["x"].as_i64().unwrap(), v["y"].as_i64().unwrap())
}

/// A held key's report: it moved the player its way at once (predicted and drawn) and it ends
/// where the server says.
fn check_move(moved: &Value) {
    let sign = moved["sign"].as_i64().unwrap();
    let (bx, by) = xy(&moved["before"]);
    let first = &moved["first"];
    let (fx, fy) = xy(&first["predicted"]);
    assert!(
        (fx - bx) * sign > 0 && fy == by,
        "the first animation frame after the key press shows the move: {moved}"
    );
    let drawn_x = |v: &Value| v["x"].as_f64().unwrap();
    assert!(
        (drawn_x(&first["drawn"]) - drawn_x(&moved["drawn"])) * (sign as f64) > 0.0,
        "on screen too, in that animation frame: {moved}"
    );
    let (hx, _) = xy(&moved["held"]["predicted"]);
    assert!((hx - fx) * sign > 0, "it kept moving while held: {moved}");
    let (ex, ey) = xy(&moved["end"]);
    let (sx, sy) = xy(&moved["server"]);
    assert!(
        (ex - sx).abs() <= 1 && (ey - sy).abs() <= 1,
        "the prediction ends where the server says: {moved}"
    );
    assert!((sx - bx) * sign > 0, "the server moved it too: {moved}");
}

#[tokio::test]
async fn the_play_page_moves_sees_others_and_resumes() {
    let (server, proxy) = proxied(config(), Duration::ZERO).await;
    let report = run_page("play", &server, &proxy, &[]).await;
    check_move(&report["moved"]);
    assert_eq!(
        report["ann"]["room"], report["bob"]["room"],
        "one room: {report}"
    );
    let scores: Vec<(&str, u32)> = report["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row[0].as_str().unwrap(),
                row[1].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert!(
        scores.iter().any(|&(name, _)| name == "ann")
            && scores
                .iter()
                .any(|&(name, points)| name == "bob" && points > 0),
        "the scores list both players, bob with the coin he took: {report}"
    );
    let logged = |prefix: &str| {
        report["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str().is_some_and(|e| e.starts_with(prefix)))
    };
    assert!(
        logged("CoinTaken: player bob"),
        "the event log names who took the coin: {report}"
    );
    assert!(
        logged("Hello: round 1"),
        "the event log has the joiner's own event, from the first snapshot: {report}"
    );
    let touched = &report["touched"];
    assert_eq!(touched["pointer"], "touch", "{touched}");
    let sign = touched["sign"].as_i64().unwrap();
    let (bx, by) = xy(&touched["before"]);
    let (ex, ey) = xy(&touched["end"]);
    let (sx, sy) = xy(&touched["server"]);
    assert!(
        (ex - bx) * sign > 0 && (ex, ey) == (sx, sy) && ey == by,
        "a finger dragged sideways moves the player that way, and the server agrees: {touched}"
    );
    assert_eq!(report["hud"]["players"], "2", "{report}");
    assert_eq!(report["hud"]["desyncs"], "0", "{report}");
    for who in ["ann", "bob"] {
        let after = &report["after"][who];
        assert_eq!(after["id"], report[who]["id"], "{who} is the same player");
        assert_eq!(after["status"], "live", "{report}");
    }
    check_move(&report["again"]);
    server.stop().await;
}

#[tokio::test]
async fn prediction_shows_the_move_at_once_through_100_ms_each_way() {
    let (server, proxy) = proxied(config(), Duration::from_millis(100)).await;
    let report = run_page("latency", &server, &proxy, &[]).await;
    assert!(
        report["ping"].as_f64() >= Some(200.0),
        "the proxy delays each way: {report}"
    );
    check_move(&report["moved"]);
    let moved = &report["moved"];
    eprintln!(
        "through 100 ms each way: ping {:.0} ms; the first animation frame after the key press \
         drew the player {} quanta on, and it stopped at {:?} where the server has it at {:?}",
        report["ping"].as_f64().unwrap_or_default(),
        (xy(&moved["first"]["predicted"]).0 - xy(&moved["before"]).0).abs(),
        xy(&moved["end"]),
        xy(&moved["server"]),
    );
    server.stop().await;
}

/// The page of the README's "Play it" section, its SDK address and server pointed at `base`.
fn readme_page(base: &str) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let section = readme
        .split("\n## Play it\n")
        .nth(1)
        .expect("README has a \"Play it\" section");
    let start = section.find("```html\n").expect("with an html block") + "```html\n".len();
    let end = start + section[start..].find("```").expect("the block ends");
    let page = &section[start..end];
    assert!(
        page.contains("http://127.0.0.1:8080"),
        "the README's page addresses the server of the README's command"
    );
    page.replace("http://127.0.0.1:8080", base)
}

#[tokio::test]
async fn the_readme_page_joins_and_moves_its_player() {
    // The README's page is served from an origin of its own, as the README says.
    let cors = server::Config {
        cors_origins: vec!["*".parse().unwrap()],
        ..config()
    };
    let (server, proxy) = proxied(cors, Duration::ZERO).await;
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/readme-play.html");
    std::fs::write(&file, readme_page(&proxy.base())).unwrap();
    let report = run_page("snippet", &server, &proxy, &[("PLAY_SNIPPET", file)]).await;
    let sign = report["sign"].as_i64().unwrap();
    let (bx, by) = xy(&report["before"]);
    let (ax, ay) = xy(&report["after"]);
    assert!(
        (ax - bx) * sign > 0 && ay == by,
        "the arrow key moved the player on the server: {report}"
    );
    server.stop().await;
}
