//! Faults inside the server: a room whose tick panics is closed alone (needs the server's
//! `fault-injection` feature, which only this crate's dev-dependency enables).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use protocol::Input;
use protocol::api::RoomList;
use server::games::movement::Steer;
use server::room::fault::PANIC_MODE;
use tests::{close_code, config, metric, next_frame, play_for, start};

#[tokio::test]
async fn a_panicking_room_is_closed_alone_and_its_tick_thread_goes_on() {
    // One tick thread: every room below shares it.
    let server = start(config()).await;
    let mut calm = server.player("calm", "calm").await;
    next_frame(&mut calm).await;
    let mut doomed = server.player("doomed", PANIC_MODE).await;
    let doomed_room = doomed.welcome().room_id;
    next_frame(&mut doomed).await;

    doomed
        .send_input(Input::new(1, 1, &Steer::default()))
        .await
        .unwrap();
    assert_eq!(
        close_code(&mut doomed, Duration::from_secs(5)).await,
        4009,
        "the panicked room's players are told it closed"
    );

    assert!(
        play_for(&mut calm, Duration::from_millis(300)).await > 0,
        "the other room on the thread keeps ticking"
    );
    let mut late = server.player("late", "late").await;
    assert!(
        play_for(&mut late, Duration::from_millis(300)).await > 0,
        "a room opened after the panic ticks on the same thread"
    );
    let list: RoomList = reqwest::get(server.url("/api/v1/rooms"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        list.rooms.iter().all(|r| r.room_id != doomed_room),
        "the panicked room left the listings"
    );
    assert_eq!(
        metric(&server.metrics().await, "game_room_panics_total"),
        1.0
    );
    server.stop().await;
}
