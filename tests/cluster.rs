//! Several nodes sharing join-or-create and the room directory through a real `redis-server`
//! (`--redis`): seats name the node of their room, a seat is redeemed once across the cluster,
//! room ids are unique, no room goes over capacity.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use client_sim::GameClient;
use protocol::api::{RoomList, SeatGrant};
use server::Config;
use tests::redis_server::RedisServer;
use tests::{TestServer, config, start};

/// A node of the cluster at `redis`.
fn node(redis: &RedisServer) -> Config {
    Config {
        redis: Some(redis.url()),
        ..config()
    }
}

/// `GET /api/v1/rooms` on `server`.
async fn rooms(server: &TestServer) -> RoomList {
    reqwest::get(server.url("/api/v1/rooms"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits (at most 5 s) until `server` lists room `id` with `players` seats taken.
async fn wait_listed(server: &TestServer, id: u32, players: u32) -> RoomList {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let list = rooms(server).await;
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
