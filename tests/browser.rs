//! The spectator page in headless Chromium (Debian's `chromium`, driven by playwright-core from
//! `tests/browser`; `tests/run.sh` installs both) while players of a coins room move: it draws
//! the players and the coins and lists their replicated fields.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use tests::{Walkers, config, start};

#[tokio::test]
async fn the_spectator_page_draws_a_live_coins_room() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("browser/spectate.mjs");
    let chromium = tests::browser_tools();

    let server = start(config()).await;
    let mut walkers = Walkers::default();
    let mut room = 0;
    for name in ["ann", "bob", "cid"] {
        room = walkers.add(&server, name, "coins", None).await;
    }
    let shot = root.join("../target/spectator.png");
    let _ = std::fs::remove_file(&shot);
    let (base, shot_arg) = (server.base.clone(), shot.clone());
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || {
            std::process::Command::new("node")
                .arg(script)
                .arg(base)
                .arg(room.to_string())
                .arg(shot_arg)
                .env("CHROMIUM", chromium)
                .output()
        }),
    )
    .await
    .expect("the browser check finishes within a minute")
    .unwrap()
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser check failed:\n{stdout}\n{stderr}"
    );
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
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
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 1000,
        "a screenshot was saved at {}",
        shot.display()
    );

    walkers.finish().await;
    server.stop().await;
}
