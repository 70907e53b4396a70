//! The REST lobby API, rooms, seat reservations and the OpenAPI document, over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use client_sim::{ClientError, GameClient};
use protocol::api::{LobbyMembership, LobbyPage, LobbyView, RoomList, RoomView, SeatGrant};
use serde_json::{Value, json};
use tests::{TestServer, config, next_frame, start};

/// Sends a request and returns the status and JSON body (null when empty).
async fn call(req: reqwest::RequestBuilder) -> (u16, Value) {
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        },
    )
}

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

async fn create_lobby(server: &TestServer, body: Value) -> (u16, Value) {
    call(http().post(server.url("/api/v1/lobbies")).json(&body)).await
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error body in {body}"))
}

#[tokio::test]
async fn a_lobby_goes_from_creation_to_seats_for_every_member() {
    let server = start(config()).await;
    let (status, body) = create_lobby(
        &server,
        json!({"name": "Friday", "mode": "ctf", "max_players": 3, "player_name": "owner"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let created: LobbyMembership = serde_json::from_value(body).unwrap();
    let id = created.lobby.lobby_id.clone();
    let owner_key = created.owner_key.clone().unwrap();

    let join = |name: &'static str| {
        let url = server.url(&format!("/api/v1/lobbies/{id}/join"));
        async move { call(http().post(url).json(&json!({"player_name": name}))).await }
    };
    let (status, body) = join("ann").await;
    assert_eq!(status, 200, "{body}");
    let ann: LobbyMembership = serde_json::from_value(body).unwrap();
    assert_eq!(ann.lobby.members, ["owner", "ann"]);
    assert!(
        ann.owner_key.is_none(),
        "only the creator gets the owner key"
    );

    let (status, body) = join("ann").await;
    assert_eq!(
        (status, error_code(&body)),
        (409, "conflict"),
        "a name is taken once"
    );
    assert_eq!(join("bea").await.0, 200);
    let (status, body) = join("cid").await;
    assert_eq!((status, error_code(&body)), (409, "full"));

    // Only the owner key starts it.
    let start_url = server.url(&format!("/api/v1/lobbies/{id}/start"));
    let (status, body) = call(
        http()
            .post(&start_url)
            .header("x-owner-key", &ann.member_key),
    )
    .await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"));
    let (status, body) = call(http().post(&start_url)).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("x-owner-key"))
    );
    let (status, body) = call(http().post(&start_url).header("x-owner-key", &owner_key)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(http().post(&start_url).header("x-owner-key", &owner_key)).await;
    assert_eq!((status, error_code(&body)), (409, "already_started"));
    assert_eq!(error_code(&join("dan").await.1), "already_started");

    // Each member reads its own seat with its member key; others see none.
    let lobby_url = server.url(&format!("/api/v1/lobbies/{id}"));
    let (_, body) = call(http().get(&lobby_url)).await;
    let public: LobbyView = serde_json::from_value(body).unwrap();
    assert!(public.seat.is_none() && public.room_id.is_some());
    let (_, body) = call(
        http()
            .get(&lobby_url)
            .header("x-member-key", &ann.member_key),
    )
    .await;
    let mine: LobbyView = serde_json::from_value(body).unwrap();
    let seat = mine.seat.expect("ann's seat");
    assert_eq!(
        (seat.player_name.as_str(), Some(seat.room_id)),
        ("ann", public.room_id)
    );
    let mut client = GameClient::join(&seat.ws_url, &seat.seat_token)
        .await
        .unwrap();
    assert_eq!(
        client.welcome().player_id,
        seat.player_id,
        "the seat's player id is the entity id"
    );
    next_frame(&mut client).await;
    server.stop().await;
}

#[tokio::test]
async fn private_lobbies_are_unlisted_and_need_their_code() {
    let server = start(config()).await;
    let (_, body) = create_lobby(&server, json!({"name": "secret", "mode": "ctf", "max_players": 4, "player_name": "o", "private": true})).await;
    let created: LobbyMembership = serde_json::from_value(body).unwrap();
    let code = created
        .lobby
        .join_code
        .clone()
        .expect("the owner sees the join code");
    let id = created.lobby.lobby_id;
    let (_, body) = call(http().get(server.url("/api/v1/lobbies"))).await;
    let page: LobbyPage = serde_json::from_value(body).unwrap();
    assert!(
        page.lobbies.iter().all(|l| l.lobby_id != id),
        "private lobbies are not listed"
    );

    let url = server.url(&format!("/api/v1/lobbies/{id}/join"));
    let (status, body) = call(http().post(&url).json(&json!({"player_name": "p"}))).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"));
    let (status, body) = call(
        http()
            .post(&url)
            .json(&json!({"player_name": "p", "join_code": "WRONG"})),
    )
    .await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"));
    let (status, body) = call(
        http()
            .post(&url)
            .json(&json!({"player_name": "p", "join_code": code.to_lowercase()})),
    )
    .await;
    assert_eq!(status, 200, "codes are case-insensitive: {body}");
    let (_, body) = call(http().get(server.url(&format!("/api/v1/lobbies/{id}")))).await;
    assert!(
        body.get("join_code").is_none(),
        "strangers do not see the code"
    );
    server.stop().await;
}

#[tokio::test]
async fn invisible_names_and_bidi_controls_are_refused() {
    let server = start(config()).await;
    let lobby = |name: &str, player: &str| json!({"name": name, "mode": "ctf", "max_players": 2, "player_name": player});
    for name in [
        "\u{200B}",
        "\u{200B}\u{200D}\u{2060}\u{FEFF}",
        "\u{3000}\u{00A0}\u{2003}",
        "\u{00AD}",
        "Friday\u{202E}yadirF",
        "\u{2066}night\u{2069}",
        "a\u{200F}b",
        "a\u{061C}b",
    ] {
        let (status, body) = create_lobby(&server, lobby(name, "p")).await;
        assert_eq!(
            (status, error_code(&body), body["error"]["field"].as_str()),
            (400, "invalid_field", Some("name")),
            "lobby name {name:?}: {body}"
        );
    }
    for player in ["\u{200B}", "a\u{202E}b"] {
        let (status, body) = create_lobby(&server, lobby("ok", player)).await;
        assert_eq!(
            (status, error_code(&body)),
            (400, "invalid_field"),
            "{player:?}"
        );
        let (status, body) = call(
            http()
                .post(server.url("/api/v1/matchmaking/join-or-create"))
                .json(&json!({"player_name": player, "mode": "ctf"})),
        )
        .await;
        assert_eq!(
            (status, error_code(&body)),
            (400, "invalid_field"),
            "{player:?}"
        );
    }
    let (status, body) = create_lobby(&server, lobby("Friday night 🎮", "p")).await;
    assert_eq!(status, 201, "visible Unicode names stay welcome: {body}");
    server.stop().await;
}

#[tokio::test]
async fn join_codes_carry_80_random_bits() {
    let server = start(config()).await;
    let mut codes = std::collections::HashSet::new();
    for i in 0..20 {
        let (status, body) = create_lobby(&server, json!({"name": "secret", "mode": "ctf", "max_players": 2, "player_name": format!("o{i}"), "private": true})).await;
        assert_eq!(status, 201, "{body}");
        let code = body["lobby"]["join_code"].as_str().unwrap().to_owned();
        // 16 symbols of Crockford's base 32: 80 bits.
        assert_eq!(code.len(), 16, "{code}");
        assert!(
            code.bytes()
                .all(|b| b"0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(&b)),
            "{code}"
        );
        assert!(codes.insert(code), "codes repeat");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_lobby_list_filters_by_mode_and_pages() {
    let server = start(config()).await;
    for i in 0..5 {
        let mode = if i % 2 == 0 { "ffa" } else { "ctf" };
        create_lobby(&server, json!({"name": format!("l{i}"), "mode": mode, "max_players": 2, "player_name": format!("o{i}")})).await;
    }
    let page = |q: &str| {
        let url = server.url(&format!("/api/v1/lobbies{q}"));
        async move {
            let (status, body) = call(http().get(url)).await;
            assert_eq!(status, 200, "{body}");
            serde_json::from_value::<LobbyPage>(body).unwrap()
        }
    };
    let first = page("?limit=2").await;
    assert_eq!(
        (first.lobbies.len(), first.total, first.next_offset),
        (2, 5, Some(2))
    );
    let last = page("?limit=2&offset=4").await;
    assert_eq!((last.lobbies.len(), last.next_offset), (1, None));
    let ffa = page("?mode=ffa").await;
    assert_eq!(ffa.total, 3);
    assert!(ffa.lobbies.iter().all(|l| l.mode == "ffa"));
    let (status, body) = call(http().get(server.url("/api/v1/lobbies?limit=500"))).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("limit"))
    );
    let (status, body) = call(http().get(server.url("/api/v1/lobbies?limit=abc"))).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_query"));
    server.stop().await;
}

#[tokio::test]
async fn leaving_a_lobby_and_the_owner_closing_it() {
    let server = start(config()).await;
    let (_, body) = create_lobby(
        &server,
        json!({"name": "x", "mode": "ctf", "max_players": 4, "player_name": "o"}),
    )
    .await;
    let created: LobbyMembership = serde_json::from_value(body).unwrap();
    let id = created.lobby.lobby_id.clone();
    let (_, body) = call(
        http()
            .post(server.url(&format!("/api/v1/lobbies/{id}/join")))
            .json(&json!({"player_name": "m"})),
    )
    .await;
    let member: LobbyMembership = serde_json::from_value(body).unwrap();
    let leave = server.url(&format!("/api/v1/lobbies/{id}/leave"));
    let (status, body) = call(http().post(&leave).header("x-member-key", "nope")).await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"));
    assert_eq!(
        call(
            http()
                .post(&leave)
                .header("x-member-key", &member.member_key)
        )
        .await
        .0,
        204
    );
    let (_, body) = call(http().get(server.url(&format!("/api/v1/lobbies/{id}")))).await;
    assert_eq!(body["members"], json!(["o"]));
    assert_eq!(
        call(
            http()
                .post(&leave)
                .header("x-member-key", &created.member_key)
        )
        .await
        .0,
        204
    );
    let (status, body) = call(http().get(server.url(&format!("/api/v1/lobbies/{id}")))).await;
    assert_eq!(
        (status, error_code(&body)),
        (404, "not_found"),
        "the owner leaving closes the lobby"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_owner_leaving_hands_the_lobby_to_the_next_member() {
    let server = start(config()).await;
    let (_, body) = create_lobby(
        &server,
        json!({"name": "x", "mode": "ctf", "max_players": 4, "player_name": "o"}),
    )
    .await;
    let owner: LobbyMembership = serde_json::from_value(body).unwrap();
    let id = owner.lobby.lobby_id.clone();
    let mut members = Vec::new();
    for name in ["m1", "m2"] {
        let (_, body) = call(
            http()
                .post(server.url(&format!("/api/v1/lobbies/{id}/join")))
                .json(&json!({"player_name": name})),
        )
        .await;
        members.push(serde_json::from_value::<LobbyMembership>(body).unwrap());
    }
    let leave = server.url(&format!("/api/v1/lobbies/{id}/leave"));
    let status = call(
        http()
            .post(&leave)
            .header("x-member-key", &owner.member_key),
    )
    .await
    .0;
    assert_eq!(status, 204);
    let (status, body) = call(http().get(server.url(&format!("/api/v1/lobbies/{id}")))).await;
    assert_eq!(status, 200, "the lobby lives on: {body}");
    assert_eq!(body["members"], json!(["m1", "m2"]), "m1 owns it now");

    let start_url = server.url(&format!("/api/v1/lobbies/{id}/start"));
    for (key, who) in [
        (owner.owner_key.as_deref().unwrap(), "the old owner key"),
        (members[1].member_key.as_str(), "another member's key"),
    ] {
        let (status, body) = call(http().post(&start_url).header("x-owner-key", key)).await;
        assert_eq!((status, error_code(&body)), (403, "forbidden"), "{who}");
    }
    let (status, body) = call(
        http()
            .post(&start_url)
            .header("x-owner-key", &members[0].member_key),
    )
    .await;
    assert_eq!(status, 200, "the new owner starts it: {body}");
    assert_eq!(body["state"], "started");
    server.stop().await;
}

#[tokio::test]
async fn idle_lobbies_close_and_free_the_cap() {
    let server = start(server::Config {
        lobby_idle_secs: Duration::from_secs(1),
        max_lobbies: 2,
        ..config()
    })
    .await;
    let lobby =
        |name: &str| json!({"name": name, "mode": "ctf", "max_players": 4, "player_name": "o"});
    let (_, idle) = create_lobby(&server, lobby("idle")).await;
    let (_, busy) = create_lobby(&server, lobby("busy")).await;
    let (status, body) = create_lobby(&server, lobby("third")).await;
    assert_eq!((status, error_code(&body)), (429, "limit_reached"));

    let url = |body: &Value| {
        let id = body["lobby"]["lobby_id"].as_str().unwrap();
        server.url(&format!("/api/v1/lobbies/{id}"))
    };
    let (idle_url, busy_url) = (url(&idle), url(&busy));
    let busy_key = busy["member_key"].as_str().unwrap().to_owned();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        // A member reading the lobby keeps it alive; a stranger's read does not.
        let (status, _) = call(http().get(&busy_url).header("x-member-key", &busy_key)).await;
        assert_eq!(status, 200, "a lobby in use stays open");
        if call(http().get(&idle_url)).await.0 == 404 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the idle lobby is still open after 15 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, body) = create_lobby(&server, lobby("third")).await;
    assert_eq!(status, 201, "the closed lobby freed its place: {body}");
    server.stop().await;
}

#[tokio::test]
async fn bad_requests_get_the_right_status_and_a_json_error() {
    let server = start(server::Config {
        lobbies_per_addr: 2,
        ..config()
    })
    .await;
    let url = server.url("/api/v1/lobbies");
    let ok = json!({"name": "n", "mode": "ctf", "max_players": 2, "player_name": "p"});

    let mut bad_name = ok.clone();
    bad_name["player_name"] = json!("<script>");
    let (status, body) = create_lobby(&server, bad_name).await;
    assert_eq!(
        (status, error_code(&body), body["error"]["field"].as_str()),
        (400, "invalid_field", Some("player_name"))
    );
    let mut too_many = ok.clone();
    too_many["max_players"] = json!(11);
    assert_eq!(
        create_lobby(&server, too_many).await.1["error"]["field"],
        "max_players"
    );

    let (status, body) = call(
        http()
            .post(&url)
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!((status, error_code(&body)), (400, "malformed_json"));
    let (status, body) = call(http().post(&url).body(ok.to_string())).await;
    assert_eq!((status, error_code(&body)), (415, "unsupported_media_type"));
    let (status, body) = create_lobby(&server, json!({"name": "n", "mode": "ctf"})).await;
    assert_eq!((status, error_code(&body)), (422, "invalid_body"));
    let mut unknown = ok.clone();
    unknown["colour"] = json!("red");
    assert_eq!(
        create_lobby(&server, unknown).await.0,
        422,
        "unknown fields are refused"
    );
    let huge =
        json!({"name": "n", "mode": "ctf", "max_players": 2, "player_name": "x".repeat(32 * 1024)});
    let (status, body) = create_lobby(&server, huge).await;
    assert_eq!((status, error_code(&body)), (413, "body_too_large"));
    let (status, body) = call(http().get(server.url("/api/v1/nothing"))).await;
    assert_eq!((status, error_code(&body)), (404, "no_route"));

    // Per-address limit on open lobbies.
    assert_eq!(create_lobby(&server, ok.clone()).await.0, 201);
    assert_eq!(create_lobby(&server, ok.clone()).await.0, 201);
    let (status, body) = create_lobby(&server, ok.clone()).await;
    assert_eq!((status, error_code(&body)), (429, "limit_reached"));
    server.stop().await;
}

#[tokio::test]
async fn the_rest_api_is_rate_limited_per_address() {
    let server = start(server::Config {
        api_rate: 1.0,
        api_burst: 3.0,
        ..config()
    })
    .await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..6 {
        let res = http()
            .get(server.url("/api/v1/rooms"))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
        if res.status() == 429 {
            retry_after = res
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            let body: Value = res.json().await.unwrap();
            assert_eq!(error_code(&body), "rate_limited");
        }
    }
    assert_eq!(&statuses[..3], [200, 200, 200], "the burst passes");
    assert!(statuses[3..].contains(&429), "then 429: {statuses:?}");
    assert!(retry_after.is_some(), "429 says when to retry");
    assert_eq!(
        http()
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "operations endpoints are not limited"
    );
    server.stop().await;
}

#[tokio::test]
async fn rooms_are_listed_with_their_capacity_and_close_when_empty() {
    let server = start(server::Config {
        mode_capacities: vec![("duel".into(), 2)],
        room_idle_secs: Duration::from_millis(500),
        ..config()
    })
    .await;
    let mut seats: Vec<SeatGrant> = Vec::new();
    for i in 0..3 {
        seats.push(
            server
                .api()
                .join_or_create(&format!("p{i}"), "duel")
                .await
                .unwrap(),
        );
    }
    let rooms: std::collections::HashSet<u32> = seats.iter().map(|s| s.room_id).collect();
    assert_eq!(
        rooms.len(),
        2,
        "a duel holds two players: the third opens a second room"
    );

    let (_, body) = call(http().get(server.url("/api/v1/rooms"))).await;
    let list: RoomList = serde_json::from_value(body).unwrap();
    assert_eq!(list.rooms.len(), 2);
    assert!(
        list.rooms
            .iter()
            .all(|r| r.capacity == 2 && r.mode == "duel")
    );
    let (status, body) =
        call(http().get(server.url(&format!("/api/v1/rooms/{}", seats[0].room_id)))).await;
    assert_eq!(status, 200);
    let room: RoomView = serde_json::from_value(body).unwrap();
    assert!(
        room.spectate_url
            .ends_with(&format!("/spectate/{}", room.room_id))
    );
    assert_eq!(
        call(http().get(server.url("/api/v1/rooms/99999"))).await.0,
        404
    );
    let (status, body) = call(http().put(server.url("/api/v1/rooms"))).await;
    assert_eq!((status, error_code(&body)), (405, "method_not_allowed"));
    let (status, body) = call(http().get(server.url("/ws"))).await;
    assert_eq!(
        (status, error_code(&body)),
        (400, "not_a_websocket_upgrade"),
        "a plain GET on /ws"
    );
    let (status, body) = call(http().get(server.url("/api/v1/rooms/not-a-number"))).await;
    assert_eq!(
        (status, error_code(&body)),
        (400, "invalid_path"),
        "a bad path segment is a JSON 400"
    );

    // Every player comes and leaves; the empty rooms then close.
    for seat in &seats {
        let c = GameClient::join(&seat.ws_url, &seat.seat_token)
            .await
            .unwrap();
        c.leave().await.unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (_, body) = call(http().get(server.url("/api/v1/rooms"))).await;
        if body["rooms"].as_array().unwrap().is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "empty rooms close after the idle time: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.stop().await;
}

async fn join_code(seat_url: &str, token: &str) -> u16 {
    match GameClient::join(seat_url, token).await {
        Err(ClientError::Closed { code, .. }) => code,
        Ok(_) => 0,
        Err(e) => panic!("unexpected failure: {e}"),
    }
}

#[tokio::test]
async fn seat_tokens_are_single_use_room_bound_and_expiring() {
    let server = start(server::Config {
        seat_ttl: Duration::from_millis(400),
        ..config()
    })
    .await;
    let api = server.api();
    let a = api.join_or_create("a", "one").await.unwrap();
    let b = api.join_or_create("b", "two").await.unwrap();
    assert_ne!(a.room_id, b.room_id);
    assert!(a.seat_token.len() >= 32, "at least 128 bits");

    // Another room's URL refuses the token, and the token survives the attempt.
    assert_eq!(join_code(&b.ws_url, &a.seat_token).await, 4001);
    let mut ok = GameClient::join(&a.ws_url, &a.seat_token)
        .await
        .expect("the right room takes it");
    next_frame(&mut ok).await;
    assert_eq!(
        join_code(&a.ws_url, &a.seat_token).await,
        4001,
        "used once only"
    );

    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(join_code(&b.ws_url, &b.seat_token).await, 4001, "expired");
    server.stop().await;
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let server = start(config()).await;
    let (status, doc) = call(http().get(server.url("/openapi.json"))).await;
    assert_eq!(status, 200);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "OpenAPI 3"
    );
    let paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for expected in [
        "/api/v1/matchmaking/tickets",
        "/api/v1/matchmaking/tickets/{id}",
        "/api/v1/matchmaking/join-or-create",
        "/api/v1/lobbies",
        "/api/v1/lobbies/{id}",
        "/api/v1/lobbies/{id}/join",
        "/api/v1/lobbies/{id}/leave",
        "/api/v1/lobbies/{id}/start",
        "/api/v1/rooms",
        "/api/v1/rooms/{id}",
        "/api/v1/rooms/{id}/events",
        "/ws",
        "/healthz",
        "/openapi.json",
        "/",
        "/spectate/{id}",
        "/static/{file}",
    ] {
        assert!(
            paths.contains(&expected),
            "{expected} is documented; paths: {paths:?}"
        );
    }
    // And every documented path is served: none falls through to the router's fallback.
    for path in paths {
        let concrete = path.replace("{id}", "1").replace("{file}", "style.css");
        for (method, _) in doc["paths"][path].as_object().unwrap() {
            let req = http().request(
                method.to_uppercase().parse().unwrap(),
                server.url(&concrete),
            );
            let res = req.timeout(Duration::from_millis(500)).send().await;
            if let Ok(res) = res
                && res.status() == 404
            {
                let body: Value = res.json().await.unwrap_or(Value::Null);
                assert_ne!(
                    body["error"]["code"], "no_route",
                    "{method} {path} is documented but not served"
                );
            }
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_lobby_creates_never_exceed_the_caps() {
    // With many lobbies open, a check-then-insert cap has a wide window for a race.
    const OPEN: usize = 2_000;
    for (per_addr, max) in [(OPEN + 5, 100_000), (100_000, OPEN + 5)] {
        let server = start(server::Config {
            lobbies_per_addr: per_addr,
            max_lobbies: max,
            // 200 requests at once from one address: no per-address connection cap here.
            max_connections_per_addr: 0,
            ..config()
        })
        .await;
        let url = server.url("/api/v1/lobbies");
        let body = |i: usize| json!({"name": "n", "mode": "ctf", "max_players": 2, "player_name": format!("p{i}")});
        for i in 0..OPEN {
            assert_eq!(create_lobby(&server, body(i)).await.0, 201);
        }
        let requests = (OPEN..OPEN + 200).map(|i| {
            let request = http().post(&url).json(&body(i));
            async move { request.send().await.unwrap().status().as_u16() }
        });
        let statuses = futures_util::future::join_all(requests.map(tokio::spawn)).await;
        let accepted = statuses
            .iter()
            .filter(|s| *s.as_ref().unwrap() == 201)
            .count();
        assert_eq!(accepted, 5, "per address {per_addr}, on the server {max}");
        server.stop().await;
    }
}

#[tokio::test]
async fn a_members_seat_url_names_the_host_it_reached_not_the_starters() {
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], listener.local_addr().unwrap().port()));
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(server::run(listener, config(), shutdown.clone()));
    let base = format!("http://{addr}");
    let (status, owner) = call(http().post(format!("{base}/api/v1/lobbies")).json(&json!(
        {"name": "lan", "mode": "ctf", "max_players": 4, "player_name": "o"}
    )))
    .await;
    assert_eq!(status, 201, "{owner}");
    let id = owner["lobby"]["lobby_id"].as_str().unwrap();
    let (status, member) = call(
        http()
            .post(format!("{base}/api/v1/lobbies/{id}/join"))
            .json(&json!({"player_name": "m"})),
    )
    .await;
    assert_eq!(status, 200, "{member}");
    // The owner starts it through a Host of its choosing.
    let (status, started) = call(
        http()
            .post(format!("{base}/api/v1/lobbies/{id}/start"))
            .header("host", "evil.example")
            .header("x-owner-key", owner["owner_key"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, 200, "{started}");
    let (status, view) = call(
        http()
            .get(format!("{base}/api/v1/lobbies/{id}"))
            .header("host", "192.168.1.20:9000")
            .header("x-member-key", member["member_key"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    let url = view["seat"]["ws_url"].as_str().unwrap();
    assert!(url.starts_with("ws://192.168.1.20:9000/ws?room="), "{url}");
    shutdown.cancel();
}
