//! The game loop over real WebSockets: authority, replication, reconnects, slow clients,
//! shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use client_sim::{ClientError, Event, GameClient};
use futures_util::SinkExt;
use protocol::{ClientMsg, Input};
use server::games::movement::Steer;
use tests::{close_code, config, metric, next_frame, play_for, start};
use tokio_tungstenite::tungstenite::Message;

fn input(seq: u32, move_x: i8, move_y: i8) -> Input {
    let steer = Steer {
        move_x,
        move_y,
        buttons: 0,
    };
    Input::new(seq, seq, &steer)
}

/// The position of entity `id` in `client`'s mirror.
fn pos(client: &GameClient, id: u32) -> protocol::QPos {
    client
        .world()
        .get(id)
        .and_then(|e| e.position())
        .expect("the entity is mirrored with a position")
}

#[tokio::test]
async fn two_players_see_each_other_move() {
    let server = start(config()).await;
    let mut a = server.player("ada", "duel").await;
    let mut b = server.player("bob", "duel").await;
    assert_eq!(
        a.welcome().room_id,
        b.welcome().room_id,
        "both land in the one open room"
    );
    let (a_id, b_id) = (a.welcome().player_id, b.welcome().player_id);

    // Wait until each sees the other.
    while a.world().get(b_id).is_none() {
        next_frame(&mut a).await;
    }
    while b.world().get(a_id).is_none() {
        next_frame(&mut b).await;
    }
    let b_seen_by_a = pos(&a, b_id);
    let a_seen_by_b = pos(&b, a_id);

    // Both walk for half a second: a to the right and up, b to the left and down.
    for seq in 1..=15 {
        a.send_input(input(seq, 127, 127)).await.unwrap();
        b.send_input(input(seq, -127, -127)).await.unwrap();
        next_frame(&mut a).await;
        next_frame(&mut b).await;
    }
    play_for(&mut a, Duration::from_millis(300)).await;
    play_for(&mut b, Duration::from_millis(300)).await;
    let b_now = pos(&a, b_id);
    let a_now = pos(&b, a_id);
    assert_ne!(b_now, b_seen_by_a, "a sees b move");
    assert_ne!(a_now, a_seen_by_b, "b sees a move");
    assert!(
        b_now.x <= b_seen_by_a.x && b_now.y <= b_seen_by_a.y,
        "b moved down-left: {b_seen_by_a:?} -> {b_now:?}"
    );
    assert!(
        a_now.x >= a_seen_by_b.x && a_now.y >= a_seen_by_b.y,
        "a moved up-right: {a_seen_by_b:?} -> {a_now:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn movement_never_exceeds_the_maximum_speed() {
    let server = start(config()).await;
    let mut a = server.player("ada", "speed").await;
    let id = a.welcome().player_id;
    let max = a
        .schema()
        .param("max_speed")
        .expect("the movement game's schema has max_speed");
    next_frame(&mut a).await;

    let mut seq = 0;
    let mut last: Option<(u32, protocol::QPos)> = None;
    let mut moved = 0;
    for _ in 0..40 {
        // Claim an oversized move twice per tick: -128 on x and full y (within the rate limit).
        for _ in 0..2 {
            seq += 1;
            a.send_input(input(seq, i8::MIN, i8::MAX)).await.unwrap();
        }
        let Event::Frame { tick, .. } = next_frame(&mut a).await else {
            unreachable!()
        };
        let pos = pos(&a, id);
        if let Some((t, p)) = last
            && t + 1 == tick
        {
            let (dx, dy) = (f64::from(pos.x - p.x), f64::from(pos.y - p.y));
            assert!(
                (dx * dx + dy * dy).sqrt() <= max as f64 + 1e-9,
                "moved ({dx}, {dy}) in one tick; max {max}"
            );
            moved += usize::from(dx != 0.0 || dy != 0.0);
        }
        last = Some((tick, pos));
    }
    assert!(moved > 0, "the player moved at all");
    server.stop().await;
}

#[tokio::test]
async fn inputs_are_acknowledged_and_stale_ones_ignored() {
    let server = start(config()).await;
    let mut a = server.player("ada", "acks").await;
    next_frame(&mut a).await;
    a.send_input(input(5, 10, 0)).await.unwrap();
    while a.acked_seq() != 5 {
        next_frame(&mut a).await;
    }
    // Stale and duplicate sequence numbers change nothing.
    a.send_input(input(3, -127, 0)).await.unwrap();
    a.send_input(input(5, -127, 0)).await.unwrap();
    play_for(&mut a, Duration::from_millis(300)).await;
    assert_eq!(a.acked_seq(), 5);
    server.stop().await;
}

#[tokio::test]
async fn a_dropped_player_resumes_within_the_grace_period_and_not_after() {
    let server = start(tests::TestServer::with_grace(
        config(),
        Duration::from_secs(1),
    ))
    .await;
    let a = server.player("ada", "resume").await;
    let (id, token, url) = (
        a.welcome().player_id,
        a.welcome().resume_token.clone(),
        a.ws_url().to_owned(),
    );
    drop(a);
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut back = GameClient::resume(&url, &token)
        .await
        .expect("resume within the grace period");
    assert_eq!(back.welcome().player_id, id, "same entity back");
    let Event::Frame { snapshot, .. } = next_frame(&mut back).await else {
        unreachable!()
    };
    assert!(snapshot, "a resume starts with a snapshot");
    assert!(
        back.world().get(id).is_some(),
        "the entity is in the snapshot"
    );
    let token2 = back.welcome().resume_token.clone();
    assert_ne!(token2, token, "a resume hands out a new token");

    // The old token is spent.
    match GameClient::resume(&url, &token).await {
        Err(ClientError::Closed { code, .. }) => assert_eq!(code, 4001),
        other => panic!("a used resume token must be refused, got {other:?}"),
    }
    drop(back);
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    match GameClient::resume(&url, &token2).await {
        Err(ClientError::Closed { code, .. }) => {
            assert_eq!(code, 4001, "refused after the grace period")
        }
        other => panic!("resume after the grace period must fail, got {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn a_silently_dropped_player_resumes_at_once_and_its_old_connection_is_replaced() {
    let server = start(config()).await;
    // The old connection stays open and silent, as when a phone loses its network (no FIN).
    let mut old = server.player("ada", "silent").await;
    let (id, token, url) = (
        old.welcome().player_id,
        old.welcome().resume_token.clone(),
        old.ws_url().to_owned(),
    );
    let mut back = GameClient::resume(&url, &token)
        .await
        .expect("a resume takes the entity over while the old connection is open");
    assert_eq!(back.welcome().player_id, id, "same entity back");
    let Event::Frame { snapshot, .. } = next_frame(&mut back).await else {
        unreachable!()
    };
    assert!(snapshot, "a resume starts with a snapshot");
    assert_eq!(
        close_code(&mut old, Duration::from_secs(5)).await,
        4005,
        "the replaced connection is closed as documented"
    );
    assert!(back.world().get(id).is_some(), "the entity stays");
    assert!(play_for(&mut back, Duration::from_millis(200)).await > 0);
    server.stop().await;
}

#[tokio::test]
async fn every_mirror_matches_the_server_over_300_ticks_with_joins_and_leaves() {
    let server = start(config_with_tick_rate(60)).await;
    let mut players = Vec::new();
    for i in 0..4 {
        players.push(server.player(&format!("p{i}"), "churn").await);
    }
    let start_tick = {
        let Event::Frame { tick, .. } = next_frame(&mut players[0]).await else {
            unreachable!()
        };
        tick
    };
    let mut seq = 0;
    let mut verified = 0u64;
    let mut step = 0;
    loop {
        step += 1;
        seq += 1;
        if step % 40 == 0 && players.len() < 8 {
            players.push(server.player(&format!("late{step}"), "churn").await);
        }
        if step % 70 == 0 && players.len() > 2 {
            players.remove(1).leave().await.unwrap();
        }
        for (i, p) in players.iter_mut().enumerate() {
            let angle = (seq as f64 / 10.0) + i as f64;
            p.send_input(input(
                seq,
                (angle.cos() * 127.0) as i8,
                (angle.sin() * 127.0) as i8,
            ))
            .await
            .unwrap();
        }
        let mut newest = 0;
        for p in &mut players {
            let Event::Frame { tick, desync, .. } = next_frame(p).await else {
                unreachable!()
            };
            assert_eq!(
                desync,
                None,
                "player {} desynced at tick {tick}",
                p.welcome().player_id
            );
            verified += 1;
            newest = newest.max(tick);
        }
        if newest >= start_tick + 300 {
            break;
        }
    }
    // Every player must also agree on who is in the room.
    let reference: Vec<_> = players[0].world().entities().map(|e| e.id).collect();
    for p in &mut players {
        while entity_ids(p) != reference {
            next_frame(p).await;
        }
    }
    assert!(verified > 300, "verified {verified} frames");
    server.stop().await;
}

fn entity_ids(p: &GameClient) -> Vec<u32> {
    p.world().entities().map(|e| e.id).collect()
}

fn config_with_tick_rate(rate: u16) -> server::Config {
    server::Config {
        tick_rate: rate,
        ..config()
    }
}

#[tokio::test]
async fn shutdown_closes_every_client_with_1001() {
    let server = start(config()).await;
    let mut clients = Vec::new();
    for i in 0..3 {
        let mut c = server.player(&format!("p{i}"), "bye").await;
        next_frame(&mut c).await;
        clients.push(c);
    }
    server.begin_shutdown();
    for c in &mut clients {
        assert_eq!(close_code(c, Duration::from_secs(5)).await, 1001);
    }
    server.stop().await;
}

/// Ten players in one room, all walking, at 60 Hz: frames big enough to fill socket buffers.
async fn busy_room(server: &tests::TestServer, mode: &str) -> Vec<GameClient> {
    let mut players = Vec::new();
    for i in 0..9 {
        players.push(server.player(&format!("busy{i}"), mode).await);
    }
    players
}

/// Reads frames for every player for `d`, sending inputs; returns the frame arrival gaps of the
/// first player.
async fn walk(players: &mut [GameClient], d: Duration) -> Vec<Duration> {
    let end = Instant::now() + d;
    let mut seq = players[0].acked_seq();
    let mut gaps = Vec::new();
    let mut last = None;
    while Instant::now() < end {
        seq += 1;
        for (i, p) in players.iter_mut().enumerate() {
            let dir = if (seq / 30 + i as u32).is_multiple_of(2) {
                127
            } else {
                -127
            };
            p.send_input(input(seq, dir, -dir)).await.unwrap();
        }
        for (i, p) in players.iter_mut().enumerate() {
            let Event::Frame { desync, .. } = next_frame(p).await else {
                unreachable!()
            };
            assert_eq!(desync, None);
            if i == 0 {
                let now = Instant::now();
                if let Some(prev) = last.replace(now) {
                    gaps.push(now - prev);
                }
            }
        }
    }
    gaps
}

/// A WebSocket that joins with `seat` and then never reads, with a tiny receive buffer.
async fn stalled_client(
    seat: &protocol::api::SeatGrant,
) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    let addr = seat
        .ws_url
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(addr).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(seat.ws_url.as_str(), tcp)
        .await
        .unwrap();
    let join = ClientMsg::Join {
        protocol_version: protocol::PROTOCOL_VERSION,
        seat_token: seat.seat_token.clone(),
        resume_token: None,
    };
    ws.send(Message::Binary(
        protocol::encode_client(&join).unwrap().into(),
    ))
    .await
    .unwrap();
    ws
}

fn slow_client_config(lag_limit_ticks: u32) -> server::Config {
    server::Config {
        tick_rate: 60,
        client_queue: 4,
        lag_limit_ticks,
        tcp_send_buffer: 4096,
        ..config()
    }
}

fn median(gaps: &mut [Duration]) -> Duration {
    gaps.sort();
    gaps[gaps.len() / 2]
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_as_lagging_without_delaying_the_others() {
    let server = start(slow_client_config(30)).await;
    let mut players = busy_room(&server, "stall").await;
    let seat = server.seat("stalled", "stall").await;
    let _stalled = stalled_client(&seat).await;

    let mut gaps = walk(&mut players, Duration::from_secs(8)).await;
    let metrics = server.metrics().await;
    let lagging = metric(&metrics, "game_closes_total{reason=\"lagging\"}");
    assert!(
        lagging >= 1.0,
        "the stalled client was closed as lagging\n{metrics}"
    );
    assert!(
        metric(&metrics, "game_queue_drops_total") >= 1.0,
        "its queue overflowed"
    );
    let tick = Duration::from_secs_f64(1.0 / 60.0);
    let m = median(&mut gaps);
    assert!(
        m <= tick * 2,
        "the others' median frame interval {m:?} stays near the tick interval {tick:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_gets_4006_when_it_reads_again() {
    let lag_limit = 20;
    let server = start(slow_client_config(lag_limit)).await;
    let mut players = busy_room(&server, "lag").await;
    let seat = server.seat("stalled", "lag").await;
    let mut stalled = stalled_client(&seat).await;

    // Walk until the server has decided to close the stalled client as lagging.
    let deadline = Instant::now() + Duration::from_secs(30);
    while metric(
        &server.metrics().await,
        "game_closes_total{reason=\"lagging\"}",
    ) < 1.0
    {
        assert!(
            Instant::now() < deadline,
            "the stalled client is closed as lagging"
        );
        walk(&mut players, Duration::from_millis(500)).await;
    }

    // Reading again: what was buffered, then the Disconnect and the close frame.
    let mut disconnect = None;
    let read = async {
        loop {
            let msg = futures_util::StreamExt::next(&mut stalled)
                .await
                .expect("a close frame before the end of the stream")
                .expect("no reset");
            match msg {
                Message::Binary(bytes) if protocol::world::is_frame(&bytes) => {}
                Message::Binary(bytes) => {
                    if let protocol::ServerMsg::Disconnect { code, .. } =
                        protocol::decode_server(&bytes).unwrap()
                    {
                        disconnect = Some(code);
                    }
                }
                Message::Close(frame) => return frame.map(|f| u16::from(f.code)),
                _ => {}
            }
        }
    };
    let code = tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("closed in time");
    assert_eq!(code, Some(4006));
    assert_eq!(disconnect, Some(protocol::CloseCode::Lagging));
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_pauses_reading_is_resynced_with_a_snapshot() {
    let server = start(slow_client_config(100_000)).await;
    let mut players = busy_room(&server, "pause").await;
    let seat = server.seat("pauser", "pause").await;
    let mut pauser = stalled_client(&seat).await;

    walk(&mut players, Duration::from_secs(8)).await;
    let metrics = server.metrics().await;
    assert!(
        metric(&metrics, "game_queue_drops_total") >= 1.0,
        "the paused client's queue overflowed\n{metrics}"
    );

    // Now read everything: welcome, schema, the first snapshot, deltas, then a resync snapshot;
    // every frame must apply.
    let mut player_id = None;
    let mut world = None;
    let mut snapshots = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while snapshots < 2 && Instant::now() < deadline {
        let msg = tokio::time::timeout(
            Duration::from_secs(5),
            futures_util::StreamExt::next(&mut pauser),
        )
        .await
        .unwrap()
        .unwrap()
        .unwrap();
        let Message::Binary(bytes) = msg else {
            continue;
        };
        if protocol::world::is_frame(&bytes) {
            let mirror: &mut protocol::WorldView =
                world.as_mut().expect("the schema comes before any frame");
            let info = mirror.apply(&bytes).unwrap();
            snapshots += usize::from(info.snapshot);
            continue;
        }
        match protocol::decode_server(&bytes).unwrap() {
            protocol::ServerMsg::Welcome(w) => player_id = Some(w.player_id),
            protocol::ServerMsg::Schema(s) => {
                let id = player_id.expect("the welcome comes before the schema");
                world = Some(protocol::WorldView::new(std::sync::Arc::new(s), id));
            }
            _ => {}
        }
    }
    assert_eq!(snapshots, 2, "the join snapshot and one resync snapshot");
    let metrics = server.metrics().await;
    assert!(metric(&metrics, "game_resyncs_total") >= 1.0, "{metrics}");
    server.stop().await;
}

#[tokio::test]
async fn leaving_closes_with_1000_and_removes_the_entity() {
    let server = start(config()).await;
    let mut a = server.player("ada", "leave").await;
    let mut b = server.player("bob", "leave").await;
    let b_id = b.welcome().player_id;
    while a.world().get(b_id).is_none() {
        next_frame(&mut a).await;
    }
    b.send(&ClientMsg::Leave).await.unwrap();
    assert_eq!(close_code(&mut b, Duration::from_secs(5)).await, 1000);
    while a.world().get(b_id).is_some() {
        next_frame(&mut a).await;
    }
    server.stop().await;
}
