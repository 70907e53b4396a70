//! The SSE spectator feed, read with a real HTTP client while players move.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use eventsource_stream::Eventsource;
use futures_util::{Stream, StreamExt};
use protocol::api::{SpectatorDelta, SpectatorEntity, SpectatorSnapshot, SpectatorValue};
use tests::{History, State, TestServer, Walkers, config, start};
use tokio_util::sync::CancellationToken;

async fn sse(
    server: &TestServer,
    room: u32,
    last_event_id: Option<&str>,
) -> impl Stream<Item = eventsource_stream::Event> + Unpin + use<> {
    let mut req = reqwest::Client::new().get(server.url(&format!("/api/v1/rooms/{room}/events")));
    if let Some(id) = last_event_id {
        req = req.header("last-event-id", id);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    Box::pin(
        res.bytes_stream()
            .eventsource()
            .map(|e| e.expect("a well-formed SSE event")),
    )
}

async fn next(
    stream: &mut (impl Stream<Item = eventsource_stream::Event> + Unpin),
) -> eventsource_stream::Event {
    tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("an event within 5 s")
        .expect("the stream goes on")
}

/// The entity's position, when it has one.
fn at(e: &SpectatorEntity) -> Option<(i32, i32)> {
    e.x.zip(e.y)
}

fn apply(state: &mut State, d: &SpectatorDelta) {
    for id in &d.despawned {
        assert!(state.remove(id).is_some(), "despawned {id} was known");
    }
    for e in &d.spawned {
        match at(e) {
            Some(p) => state.insert(e.id, p),
            None => state.remove(&e.id),
        };
    }
    for m in &d.moved {
        assert!(
            state.insert(m.id, (m.x, m.y)).is_some(),
            "moved {} was known",
            m.id
        );
    }
}

#[tokio::test]
async fn snapshot_plus_deltas_reproduce_the_room() {
    let server = start(config()).await;
    let mut walkers = Walkers::default();
    let history: History = Arc::default();
    let room = walkers
        .add(&server, "ann", "watched", Some(history.clone()))
        .await;
    walkers.add(&server, "bob", "watched", None).await;
    walkers.add(&server, "cid", "watched", None).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut stream = sse(&server, room, None).await;
    let first = next(&mut stream).await;
    assert_eq!(first.event, "snapshot");
    let snap: SpectatorSnapshot = serde_json::from_str(&first.data).unwrap();
    assert_eq!(first.id, snap.tick.to_string(), "event ids are ticks");
    assert_eq!((snap.room_id, snap.update_hz), (room, 10));
    assert!(
        snap.entities
            .iter()
            .any(|e| e.name.as_deref() == Some("ann")),
        "player labels"
    );
    let mut state: State = snap
        .entities
        .iter()
        .filter_map(|e| Some((e.id, at(e)?)))
        .collect();
    let mut tick = snap.tick;
    let mut deltas = 0;
    let mut moved = 0;
    while deltas < 15 {
        let ev = next(&mut stream).await;
        assert_eq!(ev.event, "delta", "{ev:?}");
        let d: SpectatorDelta = serde_json::from_str(&ev.data).unwrap();
        assert_eq!(d.baseline, tick, "each delta follows the previous event");
        assert!(d.tick > tick);
        apply(&mut state, &d);
        tick = d.tick;
        deltas += 1;
        moved += d.moved.len();
    }
    assert!(moved > 0, "players moved");
    // Compare with what ann's verified mirror held at the same tick.
    let truth = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            if let Some(s) = history.lock().unwrap().get(&tick).cloned() {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("ann saw the same tick");
    assert_eq!(
        state, truth,
        "the spectator's world at tick {tick} equals the players'"
    );

    // A reconnect with Last-Event-ID starts from a fresh snapshot and continues.
    let last_id = tick.to_string();
    let mut again = sse(&server, room, Some(&last_id)).await;
    let ev = next(&mut again).await;
    assert_eq!(ev.event, "snapshot");
    assert_eq!(next(&mut again).await.event, "delta");

    walkers.finish().await;
    server.stop().await;
}

#[tokio::test]
async fn unknown_rooms_404_and_full_rooms_503() {
    let server = start(server::Config {
        spectators_per_room: 1,
        ..config()
    })
    .await;
    let res = reqwest::get(server.url("/api/v1/rooms/4242/events"))
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");

    let mut walkers = Walkers::default();
    let room = walkers.add(&server, "ann", "watched", None).await;
    let mut first = sse(&server, room, None).await;
    assert_eq!(next(&mut first).await.event, "snapshot");
    let res = reqwest::get(server.url(&format!("/api/v1/rooms/{room}/events")))
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "spectators_full");
    drop(first);
    // The slot frees when the first spectator goes away.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        let res = reqwest::get(server.url(&format!("/api/v1/rooms/{room}/events")))
            .await
            .unwrap();
        if res.status() == 200 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the slot is freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    walkers.finish().await;
    server.stop().await;
}

#[tokio::test]
async fn the_feed_ends_when_the_room_closes() {
    let server = start(server::Config {
        room_idle_secs: Duration::from_millis(300),
        ..config()
    })
    .await;
    let mut walkers = Walkers::default();
    let room = walkers.add(&server, "ann", "watched", None).await;
    let mut stream = sse(&server, room, None).await;
    assert_eq!(next(&mut stream).await.event, "snapshot");
    walkers.finish().await;
    loop {
        let ev = next(&mut stream).await;
        if ev.event == "end" {
            break;
        }
        assert_eq!(ev.event, "delta");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_spectator_delay_holds_the_feed_back() {
    let server = start(server::Config {
        spectator_delay_ms: 1_000,
        ..config()
    })
    .await;
    let mut walkers = Walkers::default();
    let history: History = Arc::default();
    let room = walkers
        .add(&server, "ann", "watched", Some(history.clone()))
        .await;
    let mut stream = sse(&server, room, None).await;
    let first = next(&mut stream).await;
    let snap: SpectatorSnapshot = serde_json::from_str(&first.data).unwrap();
    let live = history.lock().unwrap().keys().copied().max().unwrap();
    // One second at 30 Hz is 30 ticks; allow for scheduling.
    assert!(
        live >= snap.tick + 20,
        "the spectator sees tick {} while players are at {live}",
        snap.tick
    );
    walkers.finish().await;
    server.stop().await;
}

#[tokio::test]
async fn the_spectator_pages_are_served() {
    let server = start(config()).await;
    for (path, kind, needle) in [
        ("/", "text/html", "Live rooms"),
        ("/spectate/1", "text/html", "<canvas"),
        ("/static/spectate.js", "text/javascript", "EventSource"),
        (
            "/static/spectate-viewport.js",
            "text/javascript",
            "pointerdown",
        ),
        ("/static/style.css", "text/css", "canvas"),
    ] {
        let res = reqwest::get(server.url(path)).await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{path}"
        );
        let body = res.text().await.unwrap();
        assert!(body.contains(needle), "{path}");
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{path} loads nothing from other hosts"
        );
    }
    assert_eq!(
        reqwest::get(server.url("/static/nope.js"))
            .await
            .unwrap()
            .status(),
        404
    );
    server.stop().await;
}

/// Opens a feed from the source address `from` and returns its status.
async fn open_from(server: &TestServer, room: u32, from: [u8; 4]) -> reqwest::Response {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(from))
        .build()
        .unwrap()
        .get(server.url(&format!("/api/v1/rooms/{room}/events")))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn one_address_cannot_hold_every_spectator_slot() {
    let server = start(server::Config {
        spectators_per_addr: 2,
        ..config()
    })
    .await;
    let mut walkers = Walkers::default();
    let room = walkers.add(&server, "ann", "watched", None).await;
    let held = [
        open_from(&server, room, [127, 0, 0, 1]).await,
        open_from(&server, room, [127, 0, 0, 1]).await,
    ];
    assert!(held.iter().all(|r| r.status() == 200));
    let over = open_from(&server, room, [127, 0, 0, 1]).await;
    assert_eq!(over.status(), 429);
    assert!(over.headers().contains_key("retry-after"));
    let body: serde_json::Value = over.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_spectators");
    let other = open_from(&server, room, [127, 0, 0, 2]).await;
    assert_eq!(other.status(), 200, "another address still gets a slot");
    drop((held, other));
    walkers.finish().await;
    server.stop().await;
}

#[tokio::test]
async fn a_spectator_that_stops_reading_frees_its_slot() {
    use tokio::io::AsyncWriteExt;
    let server = start(server::Config {
        spectators_per_room: 1,
        spectator_hz: 60,
        write_timeout: Duration::from_millis(500),
        tcp_send_buffer: 4096,
        ..config()
    })
    .await;
    let mut walkers = Walkers::default();
    let mut room = 0;
    for name in ["ann", "bob", "cid", "dan"] {
        room = walkers.add(&server, name, "stalled", None).await;
    }
    // A reader with a tiny receive window that never reads.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(1024).unwrap();
    socket.set_nonblocking(true).unwrap();
    let socket = tokio::net::TcpSocket::from_std_stream(socket.into());
    let mut stalled = socket.connect(server.addr).await.unwrap();
    let request = format!("GET /api/v1/rooms/{room}/events HTTP/1.1\r\nHost: x\r\n\r\n");
    stalled.write_all(request.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let url = server.url(&format!("/api/v1/rooms/{room}/events"));
    assert_eq!(
        reqwest::get(&url).await.unwrap().status(),
        503,
        "the stalled reader holds the only slot"
    );
    // Its writes stall once the buffers are full; the write deadline then frees the slot.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while reqwest::get(&url).await.unwrap().status() != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slot of a reader that stopped reading is freed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(stalled);
    walkers.finish().await;
    server.stop().await;
}

/// A coins player that steers toward the nearest coin of its verified mirror until `stop`.
async fn coin_chaser(
    server: &TestServer,
    name: &str,
    stop: CancellationToken,
) -> (u32, u32, tokio::task::JoinHandle<()>) {
    let mut client = server.player(name, "coins").await;
    let (room, me) = (client.welcome().room_id, client.welcome().player_id);
    let coin = client.schema().kind_index("coin").expect("coins has coins");
    let task = tokio::spawn(async move {
        let mut seq = 0u32;
        loop {
            let event = tokio::select! {
                _ = stop.cancelled() => break,
                e = client.recv() => e,
            };
            let Ok(client_sim::Event::Frame { desync, .. }) = event else {
                continue;
            };
            assert_eq!(desync, None);
            let (move_x, move_y) =
                client_sim::behavior::toward_nearest(client.world(), coin).unwrap_or((0, 0));
            let steer = [
                ("move_x", protocol::Value::Int(move_x.into())),
                ("move_y", protocol::Value::Int(move_y.into())),
            ];
            seq += 1;
            let input = client.input(seq, seq, &steer).unwrap();
            if client.send_input(input).await.is_err() {
                break;
            }
        }
        let _ = client.leave().await;
    });
    (room, me, task)
}

/// Asserts that no owner-only field reaches spectators.
fn no_purse<'a>(fields: impl IntoIterator<Item = &'a String>) {
    for key in fields {
        assert!(
            !key.starts_with("Purse."),
            "owner-only {key} reached a spectator"
        );
    }
}

#[tokio::test]
async fn a_coins_room_shows_coins_scores_and_the_round_but_no_purse() {
    let server = start(config()).await;
    let stop = CancellationToken::new();
    let (room, me, chaser) = coin_chaser(&server, "ada", stop.clone()).await;
    let mut stream = sse(&server, room, None).await;
    let first = next(&mut stream).await;
    assert_eq!(first.event, "snapshot");
    let snap: SpectatorSnapshot = serde_json::from_str(&first.data).unwrap();
    for e in &snap.entities {
        no_purse(e.fields.keys());
    }
    let player = snap
        .entities
        .iter()
        .find(|e| e.id == me)
        .expect("the player is in the feed");
    assert_eq!(
        (player.kind.as_str(), player.name.as_deref()),
        ("player", Some("ada"))
    );
    assert!(at(player).is_some(), "a player has a position");
    assert_eq!(
        player.fields["Nameplate.name"],
        SpectatorValue::Text("ada".into())
    );
    let round = snap
        .entities
        .iter()
        .find(|e| e.kind == "round")
        .expect("the round entity is listed");
    assert_eq!(at(round), None, "the round has no position");
    assert_eq!(round.fields["Round.running"], SpectatorValue::Bool(true));
    assert_eq!(round.fields["Round.target"], SpectatorValue::Int(10));
    let mut points = player.fields["Score.points"].clone();
    let mut coin_seen = snap
        .entities
        .iter()
        .any(|e| e.kind == "coin" && at(e).is_some());

    // Deltas: coins spawn, and the chaser's score changes as it takes them.
    let scored = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let ev = next(&mut stream).await;
            assert_eq!(ev.event, "delta", "{ev:?}");
            let d: SpectatorDelta = serde_json::from_str(&ev.data).unwrap();
            for e in &d.spawned {
                no_purse(e.fields.keys());
                coin_seen |=
                    e.kind == "coin" && at(e).is_some() && e.fields.contains_key("Coin.value");
            }
            for c in &d.changed {
                no_purse(c.fields.keys());
                if c.id == me
                    && let Some(p) = c.fields.get("Score.points")
                {
                    assert_ne!(*p, points, "a change carries a new value");
                    points = p.clone();
                    if points != SpectatorValue::Int(0) {
                        return;
                    }
                }
            }
        }
    })
    .await;
    assert!(
        scored.is_ok(),
        "Score.points of the player changed in a delta after it took a coin"
    );
    assert!(
        coin_seen,
        "coins appear with kind `coin`, a position and their fields"
    );
    stop.cancel();
    chaser.await.unwrap();
    server.stop().await;
}

/// A player that holds the direction its `steer` channel says (x, y in -127..=127) until the
/// channel closes; returns its room and entity id.
async fn holder(
    server: &TestServer,
    name: &str,
    mode: &str,
    mut steer: tokio::sync::watch::Receiver<(i8, i8)>,
) -> (u32, u32, tokio::task::JoinHandle<()>) {
    let mut client = server.player(name, mode).await;
    let (room, me) = (client.welcome().room_id, client.welcome().player_id);
    let task = tokio::spawn(async move {
        let mut seq = 0u32;
        loop {
            let event = tokio::select! {
                c = steer.changed() => if c.is_err() { break } else { continue },
                e = client.recv() => e,
            };
            match event {
                Ok(client_sim::Event::Frame { .. }) => {}
                Ok(_) => continue,
                Err(_) => break,
            }
            let (move_x, move_y) = *steer.borrow();
            seq += 1;
            let steer = server::games::movement::Steer {
                move_x,
                move_y,
                buttons: 0,
            };
            if client
                .send_input(protocol::Input::new(seq, seq, &steer))
                .await
                .is_err()
            {
                break;
            }
        }
        let _ = client.leave().await;
    });
    (room, me, task)
}

/// Opens the feed of `room` with the query `query` and returns the response.
async fn open(server: &TestServer, room: u32, query: &str) -> reqwest::Response {
    reqwest::get(server.url(&format!("/api/v1/rooms/{room}/events?{query}")))
        .await
        .unwrap()
}

/// A stream of events read into `(tick, state after it, delta)` by a task of its own, so that
/// two streams can be read at once.
async fn follow(
    mut stream: impl Stream<Item = eventsource_stream::Event> + Unpin + Send + 'static,
) -> (
    SpectatorSnapshot,
    tokio::sync::mpsc::UnboundedReceiver<(u32, State, SpectatorDelta)>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let first = next(&mut stream).await;
    assert_eq!(first.event, "snapshot", "{first:?}");
    let snap: SpectatorSnapshot = serde_json::from_str(&first.data).unwrap();
    let mut state: State = snap
        .entities
        .iter()
        .filter_map(|e| Some((e.id, at(e)?)))
        .collect();
    let mut tick = snap.tick;
    tokio::spawn(async move {
        while let Some(ev) = stream.next().await {
            if ev.event != "delta" {
                break;
            }
            let d: SpectatorDelta = serde_json::from_str(&ev.data).unwrap();
            assert_eq!(d.baseline, tick, "each delta follows the previous event");
            apply(&mut state, &d);
            tick = d.tick;
            if tx.send((tick, state.clone(), d)).is_err() {
                break;
            }
        }
    });
    (snap, rx)
}

/// The next update of a followed stream.
async fn update(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<(u32, State, SpectatorDelta)>,
) -> (u32, State, SpectatorDelta) {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an update within 10 s")
        .expect("the stream goes on")
}

/// A room with an interest radius, a world of 20 × 20 units and fast players.
fn radius_config() -> server::Config {
    server::Config {
        interest_radius: 10.0,
        world_size: 20,
        max_speed: 40.0,
        ..config()
    }
}

#[tokio::test]
async fn a_viewport_shows_exactly_what_is_inside_and_entries_and_exits_as_spawns_and_despawns() {
    let server = start(radius_config()).await;
    let (go_in, steer_in) = tokio::sync::watch::channel((-127i8, 0i8));
    let (go_out, steer_out) = tokio::sync::watch::channel((127i8, 0i8));
    let (room, inside, a) = holder(&server, "ina", "big", steer_in).await;
    let (_, outside, b) = holder(&server, "outa", "big", steer_out).await;
    // The left half of the world: `ina` rests on the left wall (x = 0, inside), `outa` on the
    // right one (x = 20 units, outside).
    let (x0, x1) = (0, 1_000);
    let shows = |p: &(i32, i32)| (x0..x1).contains(&p.0);

    let (whole, mut rooms) = follow(sse(&server, room, None).await).await;
    assert_eq!(whole.interest_radius, 10.0);
    assert_eq!(whole.viewport, None);
    let settled = |s: &State| {
        s.get(&inside).map(|p| p.0) == Some(0) && s.get(&outside).map(|p| p.0) == Some(2_000)
    };
    while !settled(&update(&mut rooms).await.1) {}

    // Taller than the world, so that only x decides.
    let res = open(&server, room, "x=0&y=0&w=10&h=30").await;
    assert_eq!(res.status(), 200);
    let view = Box::pin(res.bytes_stream().eventsource().map(|e| e.unwrap()));
    let (snap, mut views) = follow(view).await;
    assert_eq!(
        snap.update_hz, 10,
        "a viewport comes at the full spectator rate"
    );
    let v = snap.viewport.expect("the snapshot says its viewport");
    assert_eq!((v.x, v.y, v.w, v.h), (0.0, 0.0, 10.0, 30.0));
    let ids: Vec<u32> = snap.entities.iter().map(|e| e.id).collect();
    assert_eq!(ids, [inside], "only the player inside the viewport");

    // At the same tick, the viewport holds exactly the whole room's entities inside it.
    let mut seen = std::collections::HashMap::new();
    let mut compared = 0;
    while compared < 3 {
        let (tick, state, _) = update(&mut rooms).await;
        let expected: State = state.into_iter().filter(|(_, p)| shows(p)).collect();
        let held = loop {
            if let Some(s) = seen.get(&tick) {
                break Some(s);
            }
            match tokio::time::timeout(Duration::from_secs(10), views.recv()).await {
                Ok(Some((t, s, _))) => {
                    seen.insert(t, s);
                    if t > tick {
                        break None;
                    }
                }
                _ => panic!("the viewport stream goes on"),
            }
        };
        // A viewport stream may skip a state it was too slow for; it must not hold another.
        if let Some(held) = held {
            assert_eq!(held, &expected, "the viewport at tick {tick}");
            compared += 1;
        }
    }

    // `outa` walks into the viewport: a spawn with its full state; back out: a despawn.
    go_out.send_replace((-127, 0));
    let entered = loop {
        let (_, _, d) = update(&mut views).await;
        if let Some(e) = d.spawned.iter().find(|e| e.id == outside) {
            break e.clone();
        }
    };
    assert_eq!(entered.name.as_deref(), Some("outa"));
    assert_eq!(entered.kind, "player");
    assert!(at(&entered).is_some_and(|p| shows(&p)), "{entered:?}");
    go_out.send_replace((127, 0));
    loop {
        let (_, state, d) = update(&mut views).await;
        if d.despawned.contains(&outside) {
            assert!(!state.contains_key(&outside));
            break;
        }
    }
    drop((go_in, go_out));
    a.await.unwrap();
    b.await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn the_whole_room_of_a_radius_room_comes_at_the_lower_rate() {
    let server = start(radius_config()).await;
    let mut walkers = Walkers::default();
    let room = walkers.add(&server, "ann", "big", None).await;
    let mut stream = sse(&server, room, None).await;
    let first = next(&mut stream).await;
    let snap: SpectatorSnapshot = serde_json::from_str(&first.data).unwrap();
    assert_eq!(snap.update_hz, 2, "--spectator-full-room-hz");
    let mut tick = snap.tick;
    for _ in 0..3 {
        let ev = next(&mut stream).await;
        let d: SpectatorDelta = serde_json::from_str(&ev.data).unwrap();
        assert_eq!(d.baseline, tick);
        assert_eq!(
            d.tick - tick,
            15,
            "30 ticks per second at 2 updates per second"
        );
        tick = d.tick;
    }
    walkers.finish().await;
    server.stop().await;
}

#[tokio::test]
async fn bad_viewports_get_400_naming_the_parameter() {
    let server = start(config()).await;
    let mut walkers = Walkers::default();
    let room = walkers.add(&server, "ann", "watched", None).await;
    for (query, field) in [
        ("x=0&y=0&w=10", "h"),
        ("y=0&w=10&h=10", "x"),
        ("x=abc&y=0&w=10&h=10", "x"),
        ("x=0&y=NaN&w=10&h=10", "y"),
        ("x=0&y=0&w=0&h=10", "w"),
        ("x=0&y=0&w=10&h=-1", "h"),
        ("x=0&y=0&w=1e300&h=10", "w"),
        ("x=inf&y=0&w=10&h=10", "x"),
        ("x=0&x=1&y=0&w=10&h=10", "x"),
        ("x=0&y=0&w=10&h=10&zoom=2", "zoom"),
    ] {
        let res = open(&server, room, query).await;
        assert_eq!(res.status(), 400, "{query}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_query", "{query}");
        assert_eq!(body["error"]["field"], field, "{query}");
        assert!(body["error"]["message"].is_string(), "{query}");
    }
    walkers.finish().await;
    server.stop().await;
}
