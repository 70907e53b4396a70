//! Rooms with an interest radius, played by real bots over real sockets: every bot verifies the
//! checksum of what it sees on every frame while walking across cell borders.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use client_sim::behavior::Behavior;
use client_sim::bot::{BotConfig, SeatMode};
use client_sim::load::{self, LoadPlan};
use server::Config;
use tests::{config, start};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_bots_walk_across_cells_for_a_minute_without_a_desync() {
    // 40 × 40 units cut into cells of 5 (the radius): 64 cells, about 3 bots each; a bot at
    // full speed (10 units/s) crosses a cell border about every half second.
    let server = start(Config {
        world_size: 40,
        interest_radius: 5.0,
        room_capacity: 200,
        max_connections_per_addr: 0,
        ..config()
    })
    .await;
    let bots = 200;
    let plan = LoadPlan {
        urls: vec![server.base.clone()],
        bots,
        duration: Duration::from_secs(60),
        settle: Duration::ZERO,
        ramp_per_sec: 0.0,
        bots_per_source: 0,
        bot: BotConfig {
            seat_mode: SeatMode::JoinOrCreate,
            game_mode: "default".into(),
            region: "local".into(),
            input_hz: 20.0,
            behavior: Behavior::default_for("default"),
            seed: 7,
            lobby_size: 10,
            resume: true,
            rematch: true,
        },
        progress: false,
    };
    let report = load::run(plan, CancellationToken::new()).await.unwrap();
    assert_eq!(report.connected, bots, "{report:?}");
    assert_eq!(
        report.desyncs, 0,
        "every frame's checksum matched: {report:?}"
    );
    assert_eq!(report.errors, 0, "{report:?}");
    let per_bot = report.frames as f64 / bots as f64;
    assert!(
        per_bot > 20.0 * 45.0,
        "frames kept coming for the minute: {per_bot:.0} per bot"
    );
    // Everyone sees a part of the room: far fewer bytes than the whole room's moves.
    let whole_room = 20.0 * 3.0 * bots as f64;
    assert!(
        report.bytes_per_client_per_s < whole_room / 2.0,
        "{} B/s per client",
        report.bytes_per_client_per_s
    );
    server.stop().await;
}
