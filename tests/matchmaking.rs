//! Quick-match tickets over real HTTP: lifecycle, bursts, parties and the widening skill window.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use protocol::api::{CreateTicket, TicketStatus, TicketView};
use serde_json::{Value, json};
use tests::{TestServer, config, start};

fn ticket(name: &str, skill: Option<f64>, party: &[&str]) -> CreateTicket {
    CreateTicket {
        player_name: name.into(),
        mode: "arena".into(),
        region: "eu".into(),
        skill,
        party: party.iter().map(|s| s.to_string()).collect(),
    }
}

async fn wait_until_done(server: &TestServer, id: &str, within: Duration) -> TicketView {
    let api = server.api();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let t = api.ticket(id).await.unwrap();
        if t.status != TicketStatus::Searching || tokio::time::Instant::now() >= deadline {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_ticket_searches_can_be_cancelled_and_unknown_ones_are_404() {
    let server = start(server::Config {
        match_wait: Duration::from_secs(60),
        ..config()
    })
    .await;
    let http = reqwest::Client::new();
    let res = http
        .post(server.url("/api/v1/matchmaking/tickets"))
        .json(&ticket("solo", None, &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let t: TicketView = res.json().await.unwrap();
    assert_eq!(t.status, TicketStatus::Searching);
    assert!(t.seat_token.is_none());

    let url = server.url(&format!("/api/v1/matchmaking/tickets/{}", t.ticket_id));
    let cancelled: TicketView = http
        .delete(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cancelled.status, TicketStatus::Cancelled);
    let again: TicketView = http.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        again.status,
        TicketStatus::Cancelled,
        "a cancelled ticket never matches"
    );

    let res = http
        .get(server.url("/api/v1/matchmaking/tickets/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    server.stop().await;
}

#[tokio::test]
async fn invalid_tickets_name_their_field() {
    let server = start(server::Config {
        room_capacity: 4,
        ..config()
    })
    .await;
    let http = reqwest::Client::new();
    let cases = [
        (
            json!({"player_name": "a", "mode": "arena", "region": "eu", "skill": -5.0}),
            "skill",
        ),
        (
            json!({"player_name": "a", "mode": "Arena!", "region": "eu"}),
            "mode",
        ),
        (
            json!({"player_name": "a", "mode": "arena", "region": ""}),
            "region",
        ),
        (
            json!({"player_name": "a", "mode": "arena", "region": "eu", "party": ["b", "c", "d", "e"]}),
            "party",
        ),
        (
            json!({"player_name": "a", "mode": "arena", "region": "eu", "party": ["b", "b"]}),
            "party",
        ),
    ];
    for (body, field) in cases {
        let res = http
            .post(server.url("/api/v1/matchmaking/tickets"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{body}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"]["field"], field, "{body}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_burst_of_200_tickets_forms_full_rooms_without_losing_or_doubling_anyone() {
    let server = start(server::Config {
        match_wait: Duration::from_secs(1),
        tickets_per_addr: 1000,
        // One address plays every player here.
        rooms_per_addr: 1000,
        ..config()
    })
    .await;
    let api = server.api();
    let mut ids = Vec::new();
    for i in 0..200 {
        let skill = Some(900.0 + f64::from(i % 5) * 50.0);
        ids.push(
            api.create_ticket(&ticket(&format!("p{i}"), skill, &[]))
                .await
                .unwrap()
                .ticket_id,
        );
    }
    let mut rooms: HashMap<u32, Vec<String>> = HashMap::new();
    let mut tokens = HashSet::new();
    for id in &ids {
        let t = wait_until_done(&server, id, Duration::from_secs(10)).await;
        assert_eq!(t.status, TicketStatus::Matched, "ticket {id} matched");
        let seat = &t.seats[0];
        assert!(
            tokens.insert(seat.seat_token.clone()),
            "seat tokens are unique"
        );
        rooms
            .entry(seat.room_id)
            .or_default()
            .push(seat.player_name.clone());
    }
    let players: usize = rooms.values().map(Vec::len).sum();
    assert_eq!(players, 200, "every ticket got exactly one seat");
    let names: HashSet<&String> = rooms.values().flatten().collect();
    assert_eq!(names.len(), 200, "no player is in two rooms");
    assert!(
        rooms.values().all(|r| r.len() <= 10),
        "no room over capacity"
    );
    assert!(
        rooms.len() >= 20,
        "200 players fill at least 20 rooms of 10"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_party_lands_together() {
    let server = start(server::Config {
        match_wait: Duration::from_millis(500),
        ..config()
    })
    .await;
    let api = server.api();
    let party = api
        .create_ticket(&ticket("lead", Some(1000.0), &["wing1", "wing2"]))
        .await
        .unwrap();
    let mut solos = Vec::new();
    for i in 0..9 {
        solos.push(
            api.create_ticket(&ticket(&format!("solo{i}"), Some(1000.0), &[]))
                .await
                .unwrap(),
        );
    }
    let t = wait_until_done(&server, &party.ticket_id, Duration::from_secs(5)).await;
    assert_eq!(t.status, TicketStatus::Matched);
    let names: Vec<_> = t.seats.iter().map(|s| s.player_name.as_str()).collect();
    assert_eq!(
        names,
        ["lead", "wing1", "wing2"],
        "a seat for every member, the owner first"
    );
    let room = t.seats[0].room_id;
    assert!(t.seats.iter().all(|s| s.room_id == room), "all in one room");
    assert_eq!(t.room_id, Some(room));
    let ids: HashSet<u32> = t.seats.iter().map(|s| s.player_id).collect();
    assert_eq!(ids.len(), 3, "distinct player ids");
    server.stop().await;
}

#[tokio::test]
async fn the_skill_window_widens_while_a_ticket_waits() {
    // Two players 400 apart: the window starts at ±100 and widens by 200 per second, so they
    // match after about 1.5 s, and never with a player 5,000 away.
    let server = start(server::Config {
        room_capacity: 2,
        match_wait: Duration::from_secs(60),
        skill_window: 100.0,
        skill_widen_per_sec: 200.0,
        ..config()
    })
    .await;
    let api = server.api();
    let low = api
        .create_ticket(&ticket("low", Some(1000.0), &[]))
        .await
        .unwrap();
    let high = api
        .create_ticket(&ticket("high", Some(1400.0), &[]))
        .await
        .unwrap();
    let far = api
        .create_ticket(&ticket("far", Some(6000.0), &[]))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        api.ticket(&low.ticket_id).await.unwrap().status,
        TicketStatus::Searching,
        "too far apart at first"
    );
    let t = wait_until_done(&server, &low.ticket_id, Duration::from_secs(5)).await;
    assert_eq!(t.status, TicketStatus::Matched);
    assert!(
        t.waited_ms >= 1_000,
        "matched only once the window had widened: {} ms",
        t.waited_ms
    );
    let h = api.ticket(&high.ticket_id).await.unwrap();
    assert_eq!(h.room_id, t.room_id, "low and high share the room");
    assert_eq!(
        api.ticket(&far.ticket_id).await.unwrap().status,
        TicketStatus::Searching
    );
    server.stop().await;
}

#[tokio::test]
async fn tickets_expire() {
    let server = start(server::Config {
        ticket_ttl: Duration::from_millis(300),
        match_wait: Duration::from_secs(60),
        ..config()
    })
    .await;
    let t = server
        .api()
        .create_ticket(&ticket("lonely", None, &[]))
        .await
        .unwrap();
    let done = wait_until_done(&server, &t.ticket_id, Duration::from_secs(3)).await;
    assert_eq!(done.status, TicketStatus::Expired);
    server.stop().await;
}

/// Posts JSON and returns the status and body.
async fn post(server: &TestServer, path: &str, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(server.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn join_or_create(server: &TestServer, name: &str, mode: &str) -> (u16, Value) {
    let body = json!({"player_name": name, "mode": mode});
    post(server, "/api/v1/matchmaking/join-or-create", body).await
}

#[tokio::test]
async fn an_address_opens_few_rooms_that_no_one_entered() {
    let server = start(server::Config {
        rooms_per_addr: 2,
        match_wait: Duration::ZERO,
        ..config()
    })
    .await;
    let (status, first) = join_or_create(&server, "a", "m1").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(join_or_create(&server, "b", "m2").await.0, 200);
    let (status, body) = join_or_create(&server, "c", "m3").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (429, &json!("limit_reached")),
        "{body}"
    );
    assert_eq!(
        join_or_create(&server, "d", "m1").await.0,
        200,
        "a seat in a room already open is no new room"
    );

    // A lobby start and a lone ticket cannot open rooms either.
    let (status, lobby) = post(
        &server,
        "/api/v1/lobbies",
        json!({"name": "l", "mode": "m5", "max_players": 2, "player_name": "o"}),
    )
    .await;
    assert_eq!(status, 201, "{lobby}");
    let start_url = server.url(&format!(
        "/api/v1/lobbies/{}/start",
        lobby["lobby"]["lobby_id"].as_str().unwrap()
    ));
    let res = reqwest::Client::new()
        .post(&start_url)
        .header("x-owner-key", lobby["owner_key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let mut lone = ticket("lone", None, &[]);
    lone.mode = "m6".into();
    let t = server.api().create_ticket(&lone).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        server.api().ticket(&t.ticket_id).await.unwrap().status,
        TicketStatus::Searching,
        "the matcher may not open a room for the address either"
    );

    // Entering a room frees its slot.
    let client = client_sim::GameClient::join(
        first["ws_url"].as_str().unwrap(),
        first["seat_token"].as_str().unwrap(),
    )
    .await
    .unwrap();
    let matched = wait_until_done(&server, &t.ticket_id, Duration::from_secs(10)).await;
    assert_eq!(
        matched.status,
        TicketStatus::Matched,
        "the lone ticket gets the freed slot"
    );
    let (status, body) = join_or_create(&server, "c", "m3").await;
    assert_eq!(status, 429, "the ticket's room took the slot: {body}");
    drop(client);
    server.stop().await;
}

#[tokio::test]
async fn a_room_whose_seats_expire_unredeemed_closes_at_once() {
    let server = start(server::Config {
        seat_ttl: Duration::from_secs(1),
        room_idle_secs: Duration::from_secs(120),
        ..config()
    })
    .await;
    let (status, seat) = join_or_create(&server, "ghost", "lonely").await;
    assert_eq!(status, 200);
    let room_url = server.url(&format!("/api/v1/rooms/{}", seat["room_id"]));
    assert_eq!(reqwest::get(&room_url).await.unwrap().status(), 200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while reqwest::get(&room_url).await.unwrap().status() != 404 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the room outlived its only seat by 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, _) = join_or_create(&server, "ghost", "lonely").await;
    assert_eq!(status, 200, "a new room opens for the mode");
    server.stop().await;
}

#[tokio::test]
async fn only_the_configured_modes_are_accepted() {
    let defaults = server::Config {
        api_rate: 0.0,
        tick_threads: 1,
        mode_capacities: vec![("duel".into(), 2)],
        ..server::Config::default()
    };
    let server = start(defaults.clone()).await;
    assert_eq!(join_or_create(&server, "a", "default").await.0, 200);
    assert_eq!(join_or_create(&server, "b", "duel").await.0, 200);
    let (status, body) = join_or_create(&server, "c", "fresh").await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (400, &json!("mode")),
        "{body}"
    );
    let ticket_body = json!({"player_name": "t", "mode": "fresh", "region": "eu"});
    assert_eq!(
        post(&server, "/api/v1/matchmaking/tickets", ticket_body)
            .await
            .0,
        400
    );
    let lobby = json!({"name": "l", "mode": "fresh", "max_players": 2, "player_name": "o"});
    assert_eq!(post(&server, "/api/v1/lobbies", lobby).await.0, 400);
    server.stop().await;

    let server = start(server::Config {
        modes: vec!["ctf".into()],
        ..defaults
    })
    .await;
    assert_eq!(join_or_create(&server, "a", "ctf").await.0, 200);
    assert_eq!(join_or_create(&server, "b", "default").await.0, 400);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_ticket_requests_never_exceed_the_caps() {
    // With many tickets open, a check-then-insert cap has a wide window for a race.
    const OPEN: u32 = 2_000;
    for (per_addr, max) in [(OPEN + 10, 100_000), (100_000, OPEN + 10)] {
        let server = start(server::Config {
            tickets_per_addr: per_addr as usize,
            max_tickets: max as usize,
            // Nobody matches, so no ticket gives its place back during the burst.
            match_wait: Duration::from_secs(600),
            skill_window: 1.0,
            skill_widen_per_sec: 0.0,
            // Many requests at once from one address: no per-address connection cap here.
            max_connections_per_addr: 0,
            ..config()
        })
        .await;
        let http = reqwest::Client::new();
        let url = server.url("/api/v1/matchmaking/tickets");
        let body = |i: u32| ticket(&format!("p{i}"), Some(f64::from(i) * 2.0), &[]);
        for i in 0..OPEN {
            let status = http
                .post(&url)
                .json(&body(i))
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, 202);
        }
        let requests = (OPEN..OPEN + 300).map(|i| {
            let request = http.post(&url).json(&body(i));
            async move { request.send().await.unwrap().status().as_u16() }
        });
        let statuses = futures_util::future::join_all(requests.map(tokio::spawn)).await;
        let accepted = statuses
            .iter()
            .filter(|s| *s.as_ref().unwrap() == 202)
            .count();
        let refused = statuses
            .iter()
            .filter(|s| *s.as_ref().unwrap() == 429)
            .count();
        assert_eq!(
            (accepted, refused),
            (10, 290),
            "per address {per_addr}, on the server {max}"
        );
        server.stop().await;
    }
}
