//! The JavaScript client SDK (`protocol/js/`): the server serves it, its Node tests pass (every
//! vector of PROTOCOL.md, read from the document), and it plays a real server over `ws` without a
//! desync (movement and coins), resuming as the same player after its connection dies, and
//! waits `Retry-After` when the REST rate limit answers 429. The Node parts are skipped, saying so on stderr, where `node` is missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use tests::{config, start};

/// Liveness bound for one Node run.
const LIVENESS: Duration = Duration::from_secs(60);

/// The SDK's folder.
fn sdk_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../protocol/js")
}

/// Whether `node` runs here; says so on stderr when it does not.
fn node_present() -> bool {
    let present = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !present {
        eprintln!("SKIPPED: node is not installed, so the JavaScript SDK's tests cannot run");
    }
    present
}

/// Runs `node` with `args` in the SDK's folder (and `env`), failing the test after [`LIVENESS`].
async fn node(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("node");
    cmd.args(args).current_dir(sdk_dir());
    for (k, v) in env {
        cmd.env(k, v);
    }
    tokio::time::timeout(LIVENESS, tokio::task::spawn_blocking(move || cmd.output()))
        .await
        .expect("node finishes within a minute")
        .unwrap()
        .expect("node runs")
}

#[tokio::test]
async fn the_server_serves_the_sdk_and_its_types() {
    let server = start(config()).await;
    for (path, mime, body) in [
        (
            "/sdk/game-client.js",
            "text/javascript",
            include_str!("../protocol/js/game-client.js"),
        ),
        (
            "/sdk/game-client.d.ts",
            "application/typescript",
            include_str!("../protocol/js/game-client.d.ts"),
        ),
    ] {
        let res = reqwest::get(server.url(path)).await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let header = |name: &str| res.headers()[name].to_str().unwrap().to_owned();
        assert!(header("content-type").starts_with(mime), "{path}");
        assert_eq!(header("cache-control"), "no-cache", "{path}");
        assert_eq!(res.text().await.unwrap(), body, "{path} is the SDK file");
    }
    let doc: Value = reqwest::get(server.url("/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in ["/sdk/game-client.js", "/sdk/game-client.d.ts"] {
        assert!(
            doc["paths"][path]["get"].is_object(),
            "{path} is documented"
        );
    }
    server.stop().await;
}

/// The SDK's Node test files, `test/*.test.mjs` (named one by one: Node 22 and later take no
/// folder for `--test`).
fn node_test_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(sdk_dir().join("test"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".test.mjs"))
        .map(|name| format!("test/{name}"))
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn the_sdks_node_tests_pass() {
    if !node_present() {
        return;
    }
    let files = node_test_files();
    assert!(files.len() >= 6, "the SDK's Node tests: {files:?}");
    let mut args = vec!["--test"];
    args.extend(files.iter().map(String::as_str));
    let out = node(&args, &[]).await;
    assert!(
        out.status.success(),
        "node --test protocol/js/test/*.test.mjs failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_plays_a_real_server_without_desync() {
    if !node_present() {
        return;
    }
    assert!(
        sdk_dir().join("node_modules/ws").exists(),
        "ws is not installed: run `npm ci --prefix protocol/js` (tests/run.sh does it)"
    );
    let server = start(config()).await;
    let out = node(&["e2e/play.mjs"], &[("SDK_E2E_URL", &server.base)]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the SDK's session failed:\n{stdout}\n{stderr}"
    );
    let s: Value = serde_json::from_str(stdout.trim()).unwrap();

    assert_eq!(
        s["refused"]["status"], 400,
        "a bad mode is a ServerError: {s}"
    );
    assert!(s["refused"]["code"].is_string(), "{s}");
    assert_eq!(s["game"], "movement", "{s}");
    assert_eq!(s["same_room"], true, "{s}");
    assert_eq!(s["desyncs"], 0, "every frame verified: {s}");
    assert!(s["frames"].as_u64().unwrap() > 10, "{s}");
    assert!(s["ping_ms"].as_f64().is_some(), "ping measured: {s}");
    for axis in ["x", "y"] {
        let (from, to) = (
            s["start"][axis].as_i64().unwrap(),
            s["end"][axis].as_i64().unwrap(),
        );
        let intent = s["intent"][format!("move_{axis}")].as_i64().unwrap();
        assert_eq!(
            (to - from).signum(),
            intent.signum(),
            "moved along {axis} in the input's direction: {s}"
        );
    }
    assert_eq!(s["pending"], 0, "every input acknowledged: {s}");
    assert_eq!(
        s["predicted"], s["end"],
        "at rest, prediction equals the server: {s}"
    );
    assert!(s["seen_by_watcher"]["x"].is_number(), "{s}");
    assert_eq!(s["resumes"], 1, "a dropped connection resumed: {s}");
    assert_eq!(s["resumed_after"], "connection_lost", "{s}");
    assert_eq!(
        s["after_resume"], s["end"],
        "the same entity, where it stopped: {s}"
    );
    let coins = &s["coins"];
    assert_eq!(coins["game"], "coins", "{s}");
    assert_eq!(coins["desyncs"], 0, "the coins game verified too: {s}");
    assert_eq!(
        coins["kinds"],
        serde_json::json!(["coin", "player", "round"]),
        "{s}"
    );
    assert_eq!(
        coins["nameplate"]["name"], "sdk-coins",
        "a string field: {s}"
    );
    assert!(
        coins["purse"]["coins"].is_number(),
        "its owner-only Purse: {s}"
    );
    assert!(
        coins["events"]
            .as_array()
            .unwrap()
            .contains(&"Hello".into()),
        "the join event: {s}"
    );
    for close in s["close"].as_array().unwrap() {
        assert_eq!(close["code"], 1000, "{s}");
        assert_eq!(close["name"], "normal", "{s}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_waits_retry_after_on_429_from_a_real_server() {
    if !node_present() {
        return;
    }
    let server = start(server::Config {
        api_rate: 0.5,
        api_burst: 1.0,
        ..config()
    })
    .await;
    let out = node(&["e2e/throttle.mjs"], &[("SDK_E2E_URL", &server.base)]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the SDK's REST calls failed:\n{stdout}\n{stderr}"
    );
    let s: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(
        s["statuses"],
        serde_json::json!([200, 429, 200]),
        "one retry: {s}"
    );
    assert_eq!(s["rooms"], true, "{s}");
    assert!(
        s["waited_ms"].as_f64().unwrap() >= 1000.0,
        "the retry waited Retry-After: {s}"
    );
    assert_eq!(s["refused"]["status"], 429, "no retry left: {s}");
    assert_eq!(s["refused"]["code"], "rate_limited", "{s}");
    assert!(
        s["refused"]["retry_after_ms"].as_f64().unwrap() >= 1000.0,
        "{s}"
    );
    server.stop().await;
}
