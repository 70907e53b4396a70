//! The spectator page in headless Chromium (Debian's `chromium`, driven by playwright-core from
//! `tests/browser`; `tests/run.sh` installs both) while players of a coins room move: it draws
//! the players and the coins and lists their replicated fields; in a room with an interest
//! radius, it streams a viewport that mouse and finger drags move.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use tests::{TestServer, Walkers, config, start};

/// Runs `tests/browser/{script}` against `server`'s room `room`, saving a screenshot at
/// `target/{shot}`; returns its JSON report once it has succeeded.
async fn run_script(script: &str, server: &TestServer, room: u32, shot: &str) -> serde_json::Value {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("browser").join(script);
    let chromium = tests::browser_tools();
    let shot = root.join("../target").join(shot);
    let _ = std::fs::remove_file(&shot);
    let _one = tests::BROWSER.lock().await;
    // Killed with its browser if the check overruns.
    let run = tokio::process::Command::new("node")
        .arg(script)
        .arg(&server.base)
        .arg(room.to_string())
        .arg(&shot)
        .env("CHROMIUM", chromium)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the browser check finishes within a minute")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser check failed:\n{stdout}\n{stderr}"
    );
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 1000,
        "a screenshot was saved at {}",
        shot.display()
    );
    serde_json::from_str(stdout.trim()).unwrap()
}

#[tokio::test]
async fn the_spectator_page_draws_a_live_coins_room() {
    let server = start(config()).await;
    let mut walkers = Walkers::default();
    let mut room = 0;
    for name in ["ann", "bob", "cid"] {
        room = walkers.add(&server, name, "coins", None).await;
    }
    let report = run_script("spectate.mjs", &server, room, "spectator.png").await;
    assert_eq!(report["status"], "live");
    assert_eq!(report["changed"], true);
    assert_eq!(report["drawn"]["player"], 3, "a dot per player: {report}");
    assert!(
        report["drawn"]["coin"].as_u64() > Some(0),
        "coins are drawn: {report}"
    );
    let tables = report["tables"].as_array().unwrap();
    let table = |kind: &str| {
        tables
            .iter()
            .find(|t| t["kind"] == kind)
            .unwrap_or_else(|| panic!("a fields table for {kind}: {report}"))
    };
    let players = table("player");
    let columns = players["columns"].as_array().unwrap();
    let score = columns
        .iter()
        .position(|c| c == "Score.points")
        .expect("the players' table has a Score.points column");
    assert!(
        !columns
            .iter()
            .any(|c| c.as_str().is_some_and(|c| c.starts_with("Purse."))),
        "owner-only fields are not listed: {report}"
    );
    let rows = players["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "a row per player: {report}");
    assert!(
        rows.iter()
            .all(|r| r[score].as_str().is_some_and(|s| s.parse::<u16>().is_ok())),
        "every player's row shows a score: {report}"
    );
    assert!(
        table("round")["columns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "Round.number"),
        "the round, which has no position, is listed with its fields: {report}"
    );

    walkers.finish().await;
    server.stop().await;
}

#[tokio::test]
async fn the_spectator_page_of_a_radius_room_drags_its_viewport() {
    // A world of 4 radii: the first viewport (4 radii square) shows all of it.
    let server = start(server::Config {
        interest_radius: 10.0,
        world_size: 40,
        ..config()
    })
    .await;
    let mut walkers = Walkers::default();
    let mut room = 0;
    for name in ["ann", "bob", "cid"] {
        room = walkers.add(&server, name, "big", None).await;
    }
    let report = run_script(
        "spectate-viewport.mjs",
        &server,
        room,
        "spectator-viewport.png",
    )
    .await;
    assert_eq!(report["changed"], true, "the page draws: {report}");
    // The whole room (the overview), then one viewport feed per drag.
    let feeds: Vec<&str> = report["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    assert_eq!(feeds.first(), Some(&""), "the whole room first: {report}");
    let viewports: Vec<&str> = feeds.iter().copied().filter(|f| !f.is_empty()).collect();
    assert_eq!(
        viewports.len(),
        3,
        "a viewport, then one per drag: {report}"
    );
    assert_eq!(viewports[0], "x=0.00&y=0.00&w=40.00&h=40.00", "{report}");
    assert_eq!(report["drawn"]["player"], 3, "a dot per player: {report}");
    assert_ne!(
        viewports[1], viewports[0],
        "a mouse drag moves the viewport: {report}"
    );
    assert_ne!(
        viewports[2], viewports[1],
        "a finger drag moves the viewport: {report}"
    );
    assert_eq!(report["shown"], viewports[0], "{report}");
    assert_eq!(report["afterMouse"], viewports[1], "{report}");
    assert_eq!(report["afterTouch"], viewports[2], "{report}");
    assert!(
        report["entities"]
            .as_str()
            .is_some_and(|e| e.ends_with(" of 3")),
        "the overview holds the room's 3 players: {report}"
    );

    walkers.finish().await;
    server.stop().await;
}
