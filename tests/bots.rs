//! Server-side bots over real sockets: `--bots-per-room` fills rooms with bots that move and
//! give way to humans, coins bots score, `--fill-with-bots-after` matches a lonely ticket with
//! bots, and `--demo` opens a room of bots at start.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use client_sim::{Event, GameClient};
use protocol::api::{RoomView, TicketStatus};
use protocol::{QPos, Value};
use server::Config;
use tests::{TestServer, config, next_frame, start};

/// Liveness bound of every wait below.
const PATIENCE: Duration = Duration::from_secs(30);

/// Room `id` as `GET /api/v1/rooms/{id}` shows it.
async fn room(server: &TestServer, id: u32) -> RoomView {
    reqwest::get(server.url(&format!("/api/v1/rooms/{id}")))
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Every room of `GET /api/v1/rooms`.
async fn rooms(server: &TestServer) -> Vec<RoomView> {
    let list: protocol::api::RoomList = reqwest::get(server.url("/api/v1/rooms"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list.rooms
}

/// Reads room `id` until `check` holds; fails after [`PATIENCE`], saying `what`.
async fn room_until(
    server: &TestServer,
    id: u32,
    what: &str,
    check: impl Fn(&RoomView) -> bool,
) -> RoomView {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let view = room(server, id).await;
        if check(&view) {
            return view;
        }
        assert!(Instant::now() < deadline, "{what}; the room is {view:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads `client`'s frames (pinging now and then, so that it never idles out) until `check`
/// holds on it; fails after [`PATIENCE`], saying `what`.
async fn frames_until(client: &mut GameClient, what: &str, check: impl Fn(&GameClient) -> bool) {
    let deadline = Instant::now() + PATIENCE;
    let mut frames = 0u32;
    while !check(client) {
        assert!(Instant::now() < deadline, "{what}");
        let Event::Frame { desync, tick, .. } = next_frame(client).await else {
            unreachable!("next_frame returns frames")
        };
        assert_eq!(desync, None, "desync at tick {tick}");
        frames += 1;
        if frames.is_multiple_of(20) {
            client.ping(0).await.unwrap();
        }
    }
}

/// The other players' avatars in `client`'s mirror, with their positions.
fn others(client: &GameClient) -> Vec<(u32, QPos)> {
    let own = client.welcome().player_id;
    client
        .world()
        .entities()
        .filter(|e| e.kind == 0 && e.id != own)
        .filter_map(|e| e.position().map(|p| (e.id, p)))
        .collect()
}

/// A test server with `bots_per_room` and rooms of `capacity`.
fn with_bots(bots_per_room: u32, capacity: u32) -> Config {
    Config {
        bots_per_room,
        room_capacity: capacity,
        ..config()
    }
}

#[tokio::test]
async fn bots_fill_a_room_and_move() {
    let server = start(with_bots(4, 10)).await;
    let mut human = server.player("ada", "default").await;
    let id = human.welcome().room_id;
    let view = room_until(&server, id, "three bots join the human", |r| r.bots == 3).await;
    assert_eq!(view.players, 4, "`players` counts the bots");
    frames_until(&mut human, "the human sees three bots", |c| {
        others(c).len() == 3
    })
    .await;
    let start = others(&human);
    frames_until(&mut human, "every bot moves", |c| {
        let now = others(c);
        now.len() == 3 && now.iter().all(|b| !start.contains(b))
    })
    .await;
    human.leave().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_human_takes_a_bots_place_and_the_bot_returns_when_the_human_leaves() {
    let server = start(with_bots(4, 4)).await;
    let mut ada = server.player("ada", "default").await;
    let id = ada.welcome().room_id;
    room_until(&server, id, "three bots join", |r| r.bots == 3).await;
    frames_until(&mut ada, "ada sees three bots", |c| others(c).len() == 3).await;
    let bob = server.player("bob", "default").await;
    assert_eq!(
        bob.welcome().room_id,
        id,
        "a seat held by a bot is free for a human"
    );
    let view = room_until(&server, id, "a bot leaves for bob", |r| r.bots == 2).await;
    assert_eq!((view.players, view.capacity), (4, 4));
    let bob_id = bob.welcome().player_id;
    frames_until(&mut ada, "ada sees bob and two bots", |c| {
        let others = others(c);
        others.len() == 3 && others.iter().any(|o| o.0 == bob_id)
    })
    .await;
    bob.leave().await.unwrap();
    room_until(&server, id, "a bot comes back when bob leaves", |r| {
        (r.bots, r.players) == (3, 4)
    })
    .await;
    frames_until(&mut ada, "ada sees three bots again", |c| {
        let others = others(c);
        others.len() == 3 && others.iter().all(|o| o.0 != bob_id)
    })
    .await;
    ada.leave().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn coins_bots_score() {
    let server = start(with_bots(4, 10)).await;
    let mut human = server.player("ada", "coins").await;
    let own = human.welcome().player_id;
    let score = human
        .schema()
        .component_index("Score")
        .expect("coins has scores");
    frames_until(&mut human, "a bot scores a point", |c| {
        c.world().entities().any(|e| {
            e.kind == 0
                && e.id != own
                && e.component(score)
                    .is_some_and(|v| matches!(v, [Value::Int(p)] if *p > 0))
        })
    })
    .await;
    human.leave().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_lonely_ticket_is_matched_with_bots_after_the_fill_delay() {
    let fill_after = Duration::from_secs(1);
    let server = start(Config {
        fill_with_bots_after: Some(fill_after),
        match_wait: Duration::from_secs(600),
        room_capacity: 4,
        ..config()
    })
    .await;
    let api = server.api();
    let request = protocol::api::CreateTicket {
        player_name: "ada".into(),
        mode: "default".into(),
        region: "eu".into(),
        skill: None,
        party: Vec::new(),
    };
    let id = api.create_ticket(&request).await.unwrap().ticket_id;
    let deadline = Instant::now() + PATIENCE;
    let ticket = loop {
        let ticket = api.ticket(&id).await.unwrap();
        if ticket.status != TicketStatus::Searching {
            break ticket;
        }
        assert!(Instant::now() < deadline, "the lonely ticket is matched");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(ticket.status, TicketStatus::Matched);
    assert!(
        ticket.waited_ms >= fill_after.as_millis() as u64,
        "matched alone only after the fill delay: {ticket:?}"
    );
    let seat = &ticket.seats[0];
    let human = GameClient::join(&seat.ws_url, &seat.seat_token)
        .await
        .unwrap();
    let view = room_until(&server, seat.room_id, "bots fill the missing seats", |r| {
        r.bots == 3
    })
    .await;
    assert_eq!((view.players, view.capacity), (4, 4));
    human.leave().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn the_demo_room_is_listed_with_bots_at_start_and_a_human_takes_a_bots_place() {
    let server = start(Config {
        demo: true,
        room_capacity: 6,
        room_idle_secs: Duration::ZERO,
        ..config()
    })
    .await;
    let listed = rooms(&server).await;
    assert_eq!(listed.len(), 1, "one room at start: {listed:?}");
    assert_eq!(listed[0].mode, "default");
    let id = listed[0].room_id;
    room_until(&server, id, "the demo room fills with bots", |r| {
        (r.bots, r.players) == (6, 6)
    })
    .await;
    let mut human = server.player("ada", "default").await;
    assert_eq!(
        human.welcome().room_id,
        id,
        "a room full of bots has seats for humans"
    );
    room_until(&server, id, "a bot gives its place to the human", |r| {
        (r.bots, r.players) == (5, 6)
    })
    .await;
    frames_until(&mut human, "the human sees five bots", |c| {
        others(c).len() == 5
    })
    .await;
    human.leave().await.unwrap();
    room_until(
        &server,
        id,
        "the bot comes back, and the room stays open",
        |r| (r.bots, r.players) == (6, 6),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        rooms(&server).await.len(),
        1,
        "the demo room outlives its idle time"
    );
    server.stop().await;
}

#[tokio::test]
async fn demo_rooms_opens_that_many_rooms_of_bots() {
    use clap::CommandFactory as _;
    // The environment's `GAME_*` variables play no part.
    let mut command = Config::command().mut_args(|arg| arg.env(None));
    let alone = command.try_get_matches_from_mut(["game-server", "--demo-rooms", "3"]);
    assert!(alone.is_err(), "--demo-rooms needs --demo");
    let server = start(Config {
        demo: true,
        demo_rooms: 3,
        room_capacity: 4,
        ..config()
    })
    .await;
    let listed = rooms(&server).await;
    assert_eq!(listed.len(), 3, "{listed:?}");
    for room in listed {
        room_until(
            &server,
            room.room_id,
            "each demo room fills with bots",
            |r| (r.bots, r.players) == (4, 4),
        )
        .await;
    }
    server.stop().await;
}
