//! The spectator page in headless Chromium (Debian's `chromium`, driven by playwright-core from
//! `tests/browser`; `tests/run.sh` installs both) while players move.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use tests::{Walkers, config, start};

#[tokio::test]
async fn the_spectator_page_draws_a_live_room() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("browser/spectate.mjs");
    assert!(
        root.join("browser/node_modules/playwright-core").exists(),
        "playwright-core is not installed: run `npm ci --prefix tests/browser` (tests/run.sh does it)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        PathBuf::from(&chromium).exists(),
        "no Chromium at {chromium}: `apt-get install chromium` (tests/run.sh does it) or set CHROMIUM"
    );

    let server = start(config()).await;
    let mut walkers = Walkers::default();
    let mut room = 0;
    for name in ["ann", "bob", "cid"] {
        room = walkers.add(&server, name, "browser", None).await;
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
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 1000,
        "a screenshot was saved at {}",
        shot.display()
    );

    walkers.finish().await;
    server.stop().await;
}
