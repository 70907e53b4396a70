//! Several nodes sharing one real `redis-server` (`--redis`): seats name the node of their room
//! and are redeemed once across the cluster, room ids are unique, no room goes over capacity,
//! any node answers every lobby and ticket call, and a dead or stalled node leaves no listing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use client_sim::behavior::Behavior;
use client_sim::bot::{BotConfig, SeatMode};
use client_sim::load::{self, LoadPlan};
use client_sim::{GameClient, LobbyClient};
use protocol::api::{RoomList, SeatGrant};
use server::Config;
use tests::node_process::NodeProcess;
use tests::redis_server::RedisServer;
use tests::{TestServer, config, start};
use tokio_util::sync::CancellationToken;

/// A node of the cluster at `redis`.
fn node(redis: &RedisServer) -> Config {
    Config {
        redis: Some(redis.url()),
        max_connections_per_addr: 0,
        ..config()
    }
}

/// `GET /api/v1/rooms` on `server`.
async fn rooms(server: &TestServer) -> RoomList {
    try_rooms(server).await.expect("the room list")
}

/// `GET /api/v1/rooms` on `server`; none if it does not answer 200.
async fn try_rooms(server: &TestServer) -> Option<RoomList> {
    let answer = reqwest::get(server.url("/api/v1/rooms")).await.ok()?;
    if !answer.status().is_success() {
        return None;
    }
    answer.json().await.ok()
}

/// Waits (at most 5 s) until `server` lists room `id` with `players` seats taken.
async fn wait_listed(server: &TestServer, id: u32, players: u32) -> RoomList {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let list = try_rooms(server)
            .await
            .unwrap_or(RoomList { rooms: Vec::new() });
        if list
            .rooms
            .iter()
            .any(|r| r.room_id == id && r.players == players)
        {
            return list;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} does not list room {id} with {players} players: {list:?}",
            server.base
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_seat_from_any_node_names_the_node_of_its_room() {
    let redis = RedisServer::start();
    let a = start(node(&redis)).await;
    let b = start(node(&redis)).await;
    let first = a.seat("ann", "default").await;
    assert!(
        first.ws_url.starts_with(&a.ws_url()),
        "a new room opens on the least-loaded node, this one on a tie: {first:?}"
    );
    wait_listed(&b, first.room_id, 1).await;

    let second = b.seat("bob", "default").await;
    assert_eq!(second.room_id, first.room_id, "B fills A's open room");
    assert!(
        second.ws_url.starts_with(&a.ws_url()),
        "the seat B issued names A, where the room runs: {second:?}"
    );
    let mut ann = GameClient::join(&first.ws_url, &first.seat_token)
        .await
        .unwrap();
    let mut bob = GameClient::join(&second.ws_url, &second.seat_token)
        .await
        .unwrap();
    tests::play_for(&mut ann, Duration::from_millis(200)).await;
    tests::play_for(&mut bob, Duration::from_millis(200)).await;

    let listed = wait_listed(&b, first.room_id, 2).await;
    let room = listed
        .rooms
        .iter()
        .find(|r| r.room_id == first.room_id)
        .unwrap();
    assert_eq!(room.node_url.as_deref(), Some(a.base.as_str()));
    assert!(room.events_url.starts_with(&a.base), "{room:?}");
    let direct = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in [
        format!("/api/v1/rooms/{}/events", first.room_id),
        format!("/spectate/{}", first.room_id),
    ] {
        let answer = direct.get(b.url(&path)).send().await.unwrap();
        assert_eq!(answer.status(), 307, "{path} on B redirects to A");
        let location = answer.headers()["location"].to_str().unwrap();
        assert_eq!(location, a.url(&path));
    }
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn listings_and_redirects_read_the_directory_once_per_renewal_not_per_request() {
    let redis = RedisServer::start();
    let a = start(node(&redis)).await;
    let b = start(node(&redis)).await;
    let seat = a.seat("ann", "default").await;
    wait_listed(&b, seat.room_id, 1).await;
    let direct = no_redirects();
    let requests = 100;
    let scripts_before = redis.calls("evalsha") + redis.calls("eval");
    for _ in 0..requests {
        let list = direct.get(b.url("/api/v1/rooms")).send().await.unwrap();
        assert_eq!(list.status(), 200);
        let redirect = direct
            .get(b.url(&format!("/spectate/{}", seat.room_id)))
            .send()
            .await
            .unwrap();
        assert_eq!(redirect.status(), 307);
    }
    let scripts = redis.calls("evalsha") + redis.calls("eval") - scripts_before;
    // Each node runs its renewal scripts and one directory read per renewal period, however
    // many requests it answers; one script per request would be 200 here.
    assert!(
        scripts < requests,
        "{scripts} scripts for {} requests",
        2 * requests
    );
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn one_seat_token_raced_on_two_nodes_is_redeemed_once() {
    let redis = RedisServer::start();
    let a = start(node(&redis)).await;
    let b = start(node(&redis)).await;
    for round in 0..12 {
        let issuer = if round % 2 == 0 { &a } else { &b };
        let seat: SeatGrant = issuer.seat(&format!("p{round}"), "race").await;
        let (owner, other) = if seat.ws_url.starts_with(&a.ws_url()) {
            (&a, &b)
        } else {
            (&b, &a)
        };
        let here = format!("{}?room={}", owner.ws_url(), seat.room_id);
        let there = format!("{}?room={}", other.ws_url(), seat.room_id);
        let (x, y, z) = tokio::join!(
            GameClient::join(&here, &seat.seat_token),
            GameClient::join(&there, &seat.seat_token),
            GameClient::join(&here, &seat.seat_token),
        );
        let entered = [x.is_ok(), y.is_ok(), z.is_ok()];
        assert_eq!(
            entered.iter().filter(|&&ok| ok).count(),
            1,
            "round {round}: one of three joins with one token enters: {entered:?}"
        );
        assert!(!entered[1], "the node without the room refuses its token");
    }
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn a_seat_is_recorded_in_redis_and_redeemed_there_once() {
    let redis = RedisServer::start();
    let a = start(node(&redis)).await;
    let seat = a.seat("ann", "default").await;
    let key = format!("seat:{}", seat.seat_token);
    assert_eq!(redis.cli(&["GET", &key]), seat.room_id.to_string());
    let ttl: u64 = redis.cli(&["PTTL", &key]).parse().unwrap();
    assert!(
        (1..=seat.expires_in_ms).contains(&ttl),
        "the record lives as long as the seat: {ttl} ms"
    );
    let mut ann = GameClient::join(&seat.ws_url, &seat.seat_token)
        .await
        .unwrap();
    tests::next_frame(&mut ann).await;
    assert_eq!(
        redis.cli(&["EXISTS", &key]),
        "0",
        "redeemed: the record is gone"
    );

    // A seat the cluster no longer records (redeemed elsewhere, or lost) does not enter.
    let other = a.seat("bob", "default").await;
    redis.cli(&["DEL", &format!("seat:{}", other.seat_token)]);
    assert!(
        GameClient::join(&other.ws_url, &other.seat_token)
            .await
            .is_err()
    );
    a.stop().await;
}

#[tokio::test]
async fn concurrent_join_or_create_on_three_nodes_overfills_no_room_and_repeats_no_id() {
    let redis = RedisServer::start();
    let nodes = [
        start(node(&redis)).await,
        start(node(&redis)).await,
        start(node(&redis)).await,
    ];
    let requests = (0..90).map(|i| {
        let node = &nodes[i % 3];
        let mode = if i % 2 == 0 { "even" } else { "odd" };
        async move { node.seat(&format!("p{i}"), mode).await }
    });
    let seats = futures_util::future::join_all(requests).await;
    let tokens: HashSet<&str> = seats.iter().map(|s| s.seat_token.as_str()).collect();
    assert_eq!(tokens.len(), seats.len(), "every seat token is new");
    let mut per_room: HashMap<u32, (String, HashSet<u32>)> = HashMap::new();
    for seat in &seats {
        let (node, players) = per_room
            .entry(seat.room_id)
            .or_insert_with(|| (seat.ws_url.clone(), HashSet::new()));
        assert_eq!(*node, seat.ws_url, "one room, one node");
        assert!(
            players.insert(seat.player_id),
            "player id given twice: {seat:?}"
        );
    }
    let capacity = config().room_capacity as usize;
    for (room, (_, players)) in &per_room {
        assert!(
            players.len() <= capacity,
            "room {room} holds {} seats",
            players.len()
        );
    }
    // Every room is listed once, by id, on every node.
    for node in &nodes {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let list = rooms(node).await;
            let ids: Vec<u32> = list.rooms.iter().map(|r| r.room_id).collect();
            let unique: HashSet<u32> = ids.iter().copied().collect();
            assert_eq!(unique.len(), ids.len(), "an id listed twice: {ids:?}");
            if per_room.keys().all(|id| unique.contains(id)) {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{ids:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    for node in nodes {
        node.stop().await;
    }
}

/// Waits until `server` no longer lists room `id`; fails if it still does at `deadline`.
async fn wait_unlisted(server: &TestServer, id: u32, deadline: tokio::time::Instant) {
    loop {
        let list = rooms(server).await;
        if !list.rooms.iter().any(|r| r.room_id == id) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} still lists room {id}: {list:?}",
            server.base
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A player in a new room on the node process `node`, listed on `others`.
async fn player_on(node: &NodeProcess, others: &[&TestServer]) -> (SeatGrant, GameClient) {
    let seat = LobbyClient::new(&node.base)
        .unwrap()
        .join_or_create("victim", "default")
        .await
        .unwrap();
    assert!(
        seat.ws_url.contains(&node.base["http://".len()..]),
        "{seat:?}"
    );
    let mut player = GameClient::join(&seat.ws_url, &seat.seat_token)
        .await
        .unwrap();
    tests::next_frame(&mut player).await;
    for other in others {
        wait_listed(other, seat.room_id, 1).await;
    }
    (seat, player)
}

#[tokio::test]
async fn a_killed_node_leaves_every_listing_within_5_s_and_its_players_play_elsewhere() {
    let redis = RedisServer::start();
    let a = start(node(&redis)).await;
    let b = start(node(&redis)).await;
    let mut victim = NodeProcess::start(&redis.url(), &[]).await;
    let (seat, mut player) = player_on(&victim, &[&a, &b]).await;
    let resume = player.welcome().resume_token.clone();

    victim.kill9();
    let killed = tokio::time::Instant::now();
    let lost = tokio::time::timeout(Duration::from_secs(5), async {
        while player.recv().await.is_ok() {}
    })
    .await;
    assert!(
        lost.is_ok(),
        "the player learns at once that its connection is gone"
    );
    for survivor in [&a, &b] {
        wait_unlisted(survivor, seat.room_id, killed + Duration::from_secs(5)).await;
    }
    assert!(
        GameClient::resume(&seat.ws_url, &resume).await.is_err(),
        "no resume on a dead node"
    );

    // Matched again through a survivor, the player plays on with a verified mirror.
    let again = a.seat("victim", "default").await;
    assert!(
        again.ws_url.starts_with(&a.ws_url()) || again.ws_url.starts_with(&b.ws_url()),
        "{again:?}"
    );
    let mut player = GameClient::join(&again.ws_url, &again.seat_token)
        .await
        .unwrap();
    tests::play_for(&mut player, Duration::from_millis(300)).await;
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn a_node_stopped_past_its_lease_closes_its_rooms_with_4009_and_registers_anew() {
    let redis = RedisServer::start();
    let a = start(node(&redis)).await;
    let victim = NodeProcess::start(&redis.url(), &["--node-lease", "1s"]).await;
    let (seat, mut player) = player_on(&victim, &[&a]).await;

    victim.signal("STOP");
    let stopped = tokio::time::Instant::now();
    wait_unlisted(&a, seat.room_id, stopped + Duration::from_secs(5)).await;
    victim.signal("CONT");
    assert_eq!(
        tests::close_code(&mut player, Duration::from_secs(10)).await,
        4009,
        "the stalled node closes its rooms"
    );
    // The old room never comes back; the node serves again, as a new node, with new rooms.
    let fresh = LobbyClient::new(&victim.base)
        .unwrap()
        .join_or_create("again", "other")
        .await
        .unwrap();
    assert_ne!(fresh.room_id, seat.room_id);
    wait_listed(&a, fresh.room_id, 1).await;
    let list = rooms(&a).await;
    assert!(
        !list.rooms.iter().any(|r| r.room_id == seat.room_id),
        "the stalled node's old room is listed again: {list:?}"
    );
    a.stop().await;
}

#[tokio::test]
async fn without_redis_the_api_answers_503_and_rooms_play_on_then_come_back() {
    let mut redis = RedisServer::start();
    let a = start(node(&redis)).await;
    let b = start(node(&redis)).await;
    let seat = a.seat("steady", "default").await;
    let mut player = GameClient::join(&seat.ws_url, &seat.seat_token)
        .await
        .unwrap();
    wait_listed(&b, seat.room_id, 1).await;

    redis.kill();
    for (path, post) in [
        ("/api/v1/rooms", false),
        ("/api/v1/matchmaking/join-or-create", true),
        ("/api/v1/lobbies", false),
        ("/api/v1/matchmaking/tickets/any", false),
    ] {
        let http = reqwest::Client::new();
        // A listing is at most one renewal period (500 ms here) old.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let answer = loop {
            let request = if post {
                http.post(b.url(path))
                    .json(&serde_json::json!({"player_name": "late", "mode": "default"}))
            } else {
                http.get(b.url(path))
            };
            let answer = tokio::time::timeout(Duration::from_secs(5), request.send())
                .await
                .expect("an answer, not a hang")
                .unwrap();
            if answer.status() == 503 || tokio::time::Instant::now() > deadline {
                break answer;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(answer.status(), 503, "{path}");
        assert!(answer.headers().contains_key("retry-after"), "{path}");
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(
            body["error"]["code"], "cluster_unavailable",
            "{path}: {body}"
        );
    }
    tests::play_for(&mut player, Duration::from_secs(2)).await;

    redis.restart();
    // The nodes write their leases and rooms back by themselves.
    wait_listed(&b, seat.room_id, 1).await;
    let late = b.seat("late", "default").await;
    assert_eq!(late.room_id, seat.room_id, "the room is open to join again");
    tests::play_for(&mut player, Duration::from_millis(300)).await;
    b.stop().await;
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_bots_on_three_nodes_survive_a_node_killed_under_them() {
    let redis = RedisServer::start();
    let a = start(node(&redis)).await;
    let b = start(node(&redis)).await;
    let mut victim = NodeProcess::start(&redis.url(), &["--node-lease", "1s"]).await;
    let bots = 300;
    let plan = LoadPlan {
        bots_per_source: 0,
        urls: vec![a.base.clone(), b.base.clone(), victim.base.clone()],
        bots,
        duration: Duration::from_secs(9),
        settle: Duration::ZERO,
        ramp_per_sec: 0.0,
        bot: BotConfig {
            seat_mode: SeatMode::JoinOrCreate,
            game_mode: "default".into(),
            region: "local".into(),
            input_hz: 10.0,
            behavior: Behavior::default_for("default"),
            seed: 1,
            lobby_size: 10,
            resume: true,
            rematch: true,
        },
        progress: false,
    };
    let run = tokio::spawn(load::run(plan, CancellationToken::new()));
    let capacity = config().room_capacity;
    let victim_base = victim.base.clone();
    let everyone_playing = |list: &RoomList, on_victim: bool| {
        let players: u32 = list.rooms.iter().map(|r| r.players).sum();
        let victims = list
            .rooms
            .iter()
            .any(|r| r.node_url.as_deref() == Some(victim_base.as_str()));
        players == bots as u32 && victims == on_victim
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let list = try_rooms(&a)
            .await
            .unwrap_or(RoomList { rooms: Vec::new() });
        assert!(list.rooms.iter().all(|r| r.players <= capacity), "{list:?}");
        if everyone_playing(&list, true) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not all bots seated, some on every node: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    victim.kill9();
    let killed = tokio::time::Instant::now();
    loop {
        let list = try_rooms(&b)
            .await
            .unwrap_or(RoomList { rooms: Vec::new() });
        assert!(list.rooms.iter().all(|r| r.players <= capacity), "{list:?}");
        if everyone_playing(&list, false) {
            break;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(5),
            "the victim's bots are not all playing on the survivors 5 s after the kill: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let report = run.await.unwrap().unwrap();
    assert_eq!(report.connected, bots, "{report:?}");
    assert_eq!(report.desyncs, 0, "{report:?}");
    assert!(
        report.rematches > 0,
        "the victim's bots matchmade again: {report:?}"
    );
    // A bot on the dead node learns it from a failed send or a failed read, whichever comes
    // first; its resume there is refused too.
    assert!(
        report
            .error_kinds
            .keys()
            .all(|k| k.starts_with("resume_") || k.starts_with("send_")),
        "no failure but the dead node's lost sends and refused resumes: {report:?}"
    );
    b.stop().await;
    a.stop().await;
}

/// An HTTP client that follows no redirect: a 307 stays a 307.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Creates a public lobby of mode `default` for two players through `base`; returns its id and
/// the owner's membership.
async fn open_lobby(http: &reqwest::Client, base: &str) -> (String, serde_json::Value) {
    let created = http
        .post(format!("{base}/api/v1/lobbies"))
        .json(&serde_json::json!({"name": "shared", "mode": "default", "max_players": 2, "player_name": "owner"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: serde_json::Value = created.json().await.unwrap();
    let id = created["lobby"]["lobby_id"].as_str().unwrap().to_owned();
    (id, created)
}

/// Answers `request` with its status (asserted, no redirect) and JSON body (null if none).
async fn answered(request: reqwest::RequestBuilder, status: u16) -> serde_json::Value {
    let answer = request.send().await.unwrap();
    let got = answer.status().as_u16();
    let body = answer.json().await.unwrap_or(serde_json::Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

#[tokio::test]
async fn a_lobby_opened_on_one_node_is_answered_by_every_node_without_a_redirect() {
    let redis = RedisServer::start();
    let a = start(node(&redis)).await;
    let b = start(node(&redis)).await;
    let c = start(node(&redis)).await;
    let http = no_redirects();
    let (id, created) = open_lobby(&http, &a.base).await;
    let owner_key = created["owner_key"].as_str().unwrap().to_owned();

    let page = answered(http.get(b.url("/api/v1/lobbies?mode=default")), 200).await;
    assert_eq!(page["lobbies"][0]["lobby_id"], id.as_str(), "{page}");
    assert_eq!(page["total"], 1, "{page}");
    let page = answered(http.get(c.url("/api/v1/lobbies?mode=other")), 200).await;
    assert_eq!(page["total"], 0, "{page}");
    let fetched = answered(http.get(c.url(&format!("/api/v1/lobbies/{id}"))), 200).await;
    assert_eq!(fetched["members"], serde_json::json!(["owner"]));

    let lobby = |node: &TestServer, op: &str| node.url(&format!("/api/v1/lobbies/{id}/{op}"));
    let leaver = answered(
        http.post(lobby(&b, "join"))
            .json(&serde_json::json!({"player_name": "leaver"})),
        200,
    )
    .await;
    answered(
        http.post(lobby(&c, "join"))
            .json(&serde_json::json!({"player_name": "late"})),
        409,
    )
    .await;
    answered(
        http.post(lobby(&c, "leave"))
            .header("x-member-key", leaver["member_key"].as_str().unwrap()),
        204,
    )
    .await;
    let guest = answered(
        http.post(lobby(&c, "join"))
            .json(&serde_json::json!({"player_name": "guest"})),
        200,
    )
    .await;
    answered(
        http.post(lobby(&b, "start"))
            .header("x-owner-key", "not-the-key"),
        403,
    )
    .await;
    let started = answered(
        http.post(lobby(&b, "start"))
            .header("x-owner-key", &owner_key),
        200,
    )
    .await;
    assert_eq!(started["state"], "started", "{started}");
    answered(
        http.post(lobby(&c, "start"))
            .header("x-owner-key", &owner_key),
        409,
    )
    .await;

    let guest = answered(
        http.get(c.url(&format!("/api/v1/lobbies/{id}")))
            .header("x-member-key", guest["member_key"].as_str().unwrap()),
        200,
    )
    .await;
    let seat: SeatGrant = serde_json::from_value(guest["seat"].clone()).unwrap();
    assert!(
        seat.ws_url.starts_with(&b.ws_url()),
        "B opened the room: {seat:?}"
    );
    let mut player = GameClient::join(&seat.ws_url, &seat.seat_token)
        .await
        .unwrap();
    tests::next_frame(&mut player).await;

    answered(http.get(b.url("/api/v1/lobbies/000000000000")), 404).await;
    for node in [c, b, a] {
        node.stop().await;
    }
}

#[tokio::test]
async fn a_lobby_outlives_the_node_that_created_it() {
    let redis = RedisServer::start();
    let a = start(node(&redis)).await;
    let mut creator = NodeProcess::start(&redis.url(), &[]).await;
    let http = no_redirects();
    let (id, created) = open_lobby(&http, &creator.base).await;
    creator.kill9();

    let lobby = |op: &str| a.url(&format!("/api/v1/lobbies/{id}/{op}"));
    answered(http.get(a.url(&format!("/api/v1/lobbies/{id}"))), 200).await;
    answered(
        http.post(lobby("join"))
            .json(&serde_json::json!({"player_name": "guest"})),
        200,
    )
    .await;
    let started = answered(
        http.post(lobby("start"))
            .header("x-owner-key", created["owner_key"].as_str().unwrap()),
        200,
    )
    .await;
    let seat: SeatGrant = serde_json::from_value(started["seat"].clone()).unwrap();
    assert!(seat.ws_url.starts_with(&a.ws_url()), "{seat:?}");
    let mut owner = GameClient::join(&seat.ws_url, &seat.seat_token)
        .await
        .unwrap();
    tests::next_frame(&mut owner).await;
    a.stop().await;
}

#[tokio::test]
async fn the_last_seat_of_a_lobby_joined_through_two_nodes_at_once_goes_to_one() {
    let redis = RedisServer::start();
    let a = start(node(&redis)).await;
    let b = start(node(&redis)).await;
    let http = no_redirects();
    for round in 0..10 {
        let (id, _) = open_lobby(&http, &a.base).await;
        let join = |node: &TestServer, name: String| {
            http.post(node.url(&format!("/api/v1/lobbies/{id}/join")))
                .json(&serde_json::json!({ "player_name": name }))
                .send()
        };
        let (x, y) = tokio::join!(join(&a, format!("x{round}")), join(&b, format!("y{round}")));
        let mut statuses = [x.unwrap().status().as_u16(), y.unwrap().status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [200, 409],
            "round {round}: one join takes the last seat"
        );
        let lobby = answered(http.get(b.url(&format!("/api/v1/lobbies/{id}"))), 200).await;
        assert_eq!(lobby["members"].as_array().unwrap().len(), 2, "{lobby}");
    }
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn a_ticket_created_on_one_node_is_polled_and_cancelled_on_another() {
    let redis = RedisServer::start();
    let a = start(node(&redis)).await;
    let b = start(node(&redis)).await;
    let http = no_redirects();
    // A mode of its own and a long wait: nothing matches the lone ticket meanwhile.
    let created = answered(
        http.post(a.url("/api/v1/matchmaking/tickets"))
            .json(&serde_json::json!({"player_name": "solo", "mode": "lonely", "region": "eu"})),
        202,
    )
    .await;
    let id = created["ticket_id"].as_str().unwrap();
    let ticket = |node: &TestServer| node.url(&format!("/api/v1/matchmaking/tickets/{id}"));
    let polled = answered(http.get(ticket(&b)), 200).await;
    assert_eq!(polled["status"], "searching", "{polled}");
    let cancelled = answered(http.delete(ticket(&b)), 200).await;
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    let polled = answered(http.get(ticket(&a)), 200).await;
    assert_eq!(
        polled["status"], "cancelled",
        "A reads what B did: {polled}"
    );
    answered(http.get(a.url("/api/v1/matchmaking/tickets/nope")), 404).await;
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn a_lobby_kept_active_past_its_idle_time_still_counts_against_its_creator() {
    let redis = RedisServer::start();
    let a = start(Config {
        lobbies_per_addr: 1,
        lobby_idle_secs: Duration::from_secs(1),
        ..node(&redis)
    })
    .await;
    let http = no_redirects();
    let (id, created) = open_lobby(&http, &a.base).await;
    let key = created["member_key"].as_str().unwrap().to_owned();
    // A member's reads keep the lobby open for three idle times.
    for _ in 0..12 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        answered(
            http.get(a.url(&format!("/api/v1/lobbies/{id}")))
                .header("x-member-key", &key),
            200,
        )
        .await;
    }
    let lobby = serde_json::json!({"name": "more", "mode": "default", "max_players": 2, "player_name": "owner"});
    let refused = answered(http.post(a.url("/api/v1/lobbies")).json(&lobby), 429).await;
    assert_eq!(refused["error"]["code"], "limit_reached", "{refused}");
    a.stop().await;
}

#[tokio::test]
async fn open_lobbies_and_searching_tickets_per_address_are_counted_across_the_cluster() {
    let redis = RedisServer::start();
    let capped = || Config {
        lobbies_per_addr: 1,
        tickets_per_addr: 1,
        ..node(&redis)
    };
    let a = start(capped()).await;
    let b = start(capped()).await;
    let http = no_redirects();
    let (id, created) = open_lobby(&http, &a.base).await;
    let lobby = serde_json::json!({"name": "more", "mode": "default", "max_players": 2, "player_name": "owner"});
    let refused = answered(http.post(b.url("/api/v1/lobbies")).json(&lobby), 429).await;
    assert_eq!(refused["error"]["code"], "limit_reached", "{refused}");
    answered(
        http.post(b.url(&format!("/api/v1/lobbies/{id}/leave")))
            .header("x-member-key", created["member_key"].as_str().unwrap()),
        204,
    )
    .await;
    answered(http.post(b.url("/api/v1/lobbies")).json(&lobby), 201).await;

    let ticket = serde_json::json!({"player_name": "solo", "mode": "lonely", "region": "eu"});
    let first = answered(
        http.post(a.url("/api/v1/matchmaking/tickets"))
            .json(&ticket),
        202,
    )
    .await;
    answered(
        http.post(b.url("/api/v1/matchmaking/tickets"))
            .json(&ticket),
        429,
    )
    .await;
    let id = first["ticket_id"].as_str().unwrap();
    answered(
        http.delete(b.url(&format!("/api/v1/matchmaking/tickets/{id}"))),
        200,
    )
    .await;
    answered(
        http.post(b.url("/api/v1/matchmaking/tickets"))
            .json(&ticket),
        202,
    )
    .await;
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn tickets_from_every_node_meet_in_the_one_matcher_of_the_cluster() {
    let redis = RedisServer::start();
    let nodes = [
        start(node(&redis)).await,
        start(node(&redis)).await,
        start(node(&redis)).await,
    ];
    // Every node has renewed its lease once, and so learned which node runs the matcher.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let capacity = config().room_capacity as usize;
    let http = reqwest::Client::new();
    let mut tickets = Vec::new();
    for i in 0..capacity {
        let node = &nodes[i % 3];
        let ticket: serde_json::Value = http
            .post(node.url("/api/v1/matchmaking/tickets"))
            .json(&serde_json::json!({"player_name": format!("q{i}"), "mode": "quick", "region": "eu"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tickets.push((node, ticket["ticket_id"].as_str().unwrap().to_owned()));
    }
    let mut rooms = HashSet::new();
    for (node, id) in &tickets {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let view: serde_json::Value = http
                .get(node.url(&format!("/api/v1/matchmaking/tickets/{id}")))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if view["status"] == "matched" {
                rooms.insert(view["seats"][0]["room_id"].as_u64().unwrap());
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{view}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert_eq!(
        rooms.len(),
        1,
        "tickets sent to three nodes fill one room: {rooms:?}"
    );
    for node in nodes {
        node.stop().await;
    }
}
