//! The HTTP edge under hostile traffic: silent, partial and stalled connections are cut, one
//! address cannot hold every connection, error answers carry the JSON error shape, browsers get
//! CORS and security headers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use tests::{config, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Liveness bound: every wait in these tests is far longer than the server's own deadlines.
const LIVENESS: Duration = Duration::from_secs(5);

/// Sends `bytes` on a fresh connection and reads until the server closes it.
async fn exchange(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(bytes).await.unwrap();
    read_until_closed(&mut tcp).await
}

/// Reads until the server closes the connection; fails the test after [`LIVENESS`].
async fn read_until_closed(tcp: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let read = tokio::time::timeout(LIVENESS, async {
        // A reset after the answer also ends the connection.
        let _ = tcp.read_to_end(&mut buf).await;
    })
    .await;
    assert!(read.is_ok(), "the server closes the connection in time");
    buf
}

/// The status line and the JSON error of an HTTP/1.1 answer.
fn parse_answer(bytes: &[u8]) -> (String, String, serde_json::Value) {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text.split_once("\r\n\r\n").expect("a whole HTTP answer");
    let status = head.lines().next().unwrap_or_default().to_owned();
    let json = serde_json::from_str(body).unwrap_or(serde_json::Value::Null);
    (status, head.to_ascii_lowercase(), json)
}

fn short_timeouts() -> server::Config {
    server::Config {
        header_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_millis(500),
        ..config()
    }
}

#[tokio::test]
async fn silent_and_partial_connections_are_closed() {
    let server = start(short_timeouts()).await;
    let cases: [(&str, &[u8]); 3] = [
        ("no byte at all", b""),
        ("half an HTTP/2 preface", b"PRI * HTTP/2.0\r\n"),
        (
            "half a request head",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n",
        ),
    ];
    for (what, bytes) in cases {
        let answer = exchange(server.addr, bytes).await;
        assert!(
            !String::from_utf8_lossy(&answer).contains("200 OK"),
            "{what}: no answer to an unfinished request"
        );
    }
    // An idle keep-alive connection is closed too, after its answered request.
    let answer = exchange(server.addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
    // So is one whose unread body never comes after its answer.
    let answer = exchange(
        server.addr,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab",
    )
    .await;
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
    server.stop().await;
}

#[tokio::test]
async fn http2_prior_knowledge_is_not_served() {
    let server = start(short_timeouts()).await;
    // The HTTP/2 preface and an empty SETTINGS frame.
    let mut h2 = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    h2.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    let answer = exchange(server.addr, &h2).await;
    assert!(
        !(answer.len() >= 9 && answer[3] == 4),
        "the server does not answer with an HTTP/2 SETTINGS frame"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_stalled_body_gets_408_and_the_connection_closes() {
    let server = start(short_timeouts()).await;
    let answer = exchange(
        server.addr,
        b"POST /api/v1/lobbies HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":",
    )
    .await;
    let (status, _, json) = parse_answer(&answer);
    assert!(status.starts_with("HTTP/1.1 408"), "{status}");
    assert_eq!(json["error"]["code"], "request_timeout");
    server.stop().await;
}

#[tokio::test]
async fn one_address_cannot_hold_every_connection() {
    let server = start(server::Config {
        max_connections_per_addr: 2,
        ..config()
    })
    .await;
    let _idle = [
        TcpStream::connect(server.addr).await.unwrap(),
        TcpStream::connect(server.addr).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let answer = exchange(server.addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let (status, head, json) = parse_answer(&answer);
    assert!(status.starts_with("HTTP/1.1 503"), "{status}");
    assert!(head.contains("retry-after: "), "{head}");
    assert_eq!(json["error"]["code"], "too_many_connections");
    drop(_idle);
    // The slots come back once those connections close.
    let deadline = tokio::time::Instant::now() + LIVENESS;
    while reqwest::get(server.url("/healthz"))
        .await
        .map(|r| r.status())
        .ok()
        != Some(reqwest::StatusCode::OK)
    {
        assert!(tokio::time::Instant::now() < deadline, "slots are freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn new_connections_are_refused_during_shutdown() {
    let server = start(server::Config {
        write_timeout: Duration::from_secs(2),
        tcp_send_buffer: 4096,
        shutdown_grace: Duration::from_secs(10),
        ..config()
    })
    .await;
    // A client that asks for many responses and reads none keeps a response in flight, and
    // with it the server in its shutdown grace.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(1024).unwrap();
    socket.set_nonblocking(true).unwrap();
    let mut stalled = tokio::net::TcpSocket::from_std_stream(socket.into())
        .connect(server.addr)
        .await
        .unwrap();
    let request = "GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n".repeat(50);
    stalled.write_all(request.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.begin_shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let refused = tokio::time::timeout(LIVENESS, async {
        let Ok(mut tcp) = TcpStream::connect(server.addr).await else {
            return true;
        };
        let _ = tcp
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await;
        let mut buf = [0u8; 64];
        matches!(tcp.read(&mut buf).await, Ok(0) | Err(_))
    })
    .await;
    assert_eq!(
        refused,
        Ok(true),
        "a new connection is refused at once, not left waiting"
    );
    drop(stalled);
    server.stop().await;
}

#[tokio::test]
async fn a_body_declared_too_large_gets_413_at_once() {
    let server = start(config()).await;
    let answer = exchange(
        server.addr,
        b"POST /api/v1/lobbies HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000000000\r\n\r\n{}",
    )
    .await;
    let (status, _, json) = parse_answer(&answer);
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    assert_eq!(json["error"]["code"], "body_too_large");
    server.stop().await;
}

#[tokio::test]
async fn a_websocket_upgrade_of_another_version_gets_426() {
    let server = start(config()).await;
    for version in ["Sec-WebSocket-Version: 8\r\n", ""] {
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{version}Connection: close\r\n\r\n"
        );
        let answer = exchange(server.addr, request.as_bytes()).await;
        let (status, head, json) = parse_answer(&answer);
        assert!(status.starts_with("HTTP/1.1 426"), "{version:?}: {status}");
        assert!(head.contains("sec-websocket-version: 13"), "{head}");
        assert_eq!(json["error"]["code"], "unsupported_websocket_version");
    }
    server.stop().await;
}

#[tokio::test]
async fn oversized_headers_get_431_with_a_json_body() {
    let server = start(config()).await;
    let big_value = format!("X-Big: {}\r\n", "a".repeat(20 * 1024));
    let many: String = (0..100).map(|i| format!("X-H{i}: v\r\n")).collect();
    for (what, headers) in [("one big header", big_value), ("100 headers", many)] {
        let request = format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{headers}\r\n");
        let answer = exchange(server.addr, request.as_bytes()).await;
        let (status, _, json) = parse_answer(&answer);
        assert!(status.starts_with("HTTP/1.1 431"), "{what}: {status}");
        assert_eq!(json["error"]["code"], "headers_too_large", "{what}");
    }
    server.stop().await;
}

/// A preflight for `POST /api/v1/lobbies` from `origin`.
async fn preflight(base: &str, origin: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{base}/api/v1/lobbies"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, x-member-key, x-owner-key",
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let same_origin_only = start(config()).await;
    let res = preflight(&same_origin_only.base, "https://game.example").await;
    assert!(
        res.headers().get("access-control-allow-origin").is_none(),
        "no CORS headers by default"
    );
    same_origin_only.stop().await;

    let server = start(server::Config {
        cors_origins: vec![reqwest::header::HeaderValue::from_static(
            "https://game.example",
        )],
        ..config()
    })
    .await;
    let res = preflight(&server.base, "https://game.example").await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://game.example"
    );
    let methods = res.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let headers = res.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    for lobby_key in ["x-member-key", "x-owner-key"] {
        assert!(
            headers.contains(lobby_key),
            "lobbies need {lobby_key}: {headers}"
        );
    }
    let res = preflight(&server.base, "https://evil.example").await;
    assert!(res.headers().get("access-control-allow-origin").is_none());
    let res = reqwest::Client::new()
        .get(server.url("/api/v1/rooms"))
        .header("origin", "https://game.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://game.example"
    );
    server.stop().await;
}

#[tokio::test]
async fn html_pages_carry_security_headers_and_no_inline_script() {
    let server = start(config()).await;
    for path in ["/", "/spectate/1"] {
        let res = reqwest::get(server.url(path)).await.unwrap();
        let csp = res.headers()["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert_eq!(res.headers()["x-content-type-options"], "nosniff", "{path}");
        let body = res.text().await.unwrap();
        assert!(
            !body.contains("<script>") && !body.contains("style="),
            "{path}: nothing inline that the policy would block"
        );
    }
    let js = reqwest::get(server.url("/static/index.js")).await.unwrap();
    assert_eq!(js.status(), 200);
    assert_eq!(js.headers()["x-content-type-options"], "nosniff");
    server.stop().await;
}

/// A server bound to `0.0.0.0` without `--public-url`; its local address.
async fn start_on_any_address(
    config: server::Config,
) -> (SocketAddr, tokio_util::sync::CancellationToken) {
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(server::run(listener, config, shutdown.clone()));
    (SocketAddr::from(([127, 0, 0, 1], port)), shutdown)
}

/// The `ws_url` of a seat asked for with `headers`.
async fn seat_url(addr: SocketAddr, headers: &[(&str, &str)]) -> String {
    let mut req = reqwest::Client::new()
        .post(format!("http://{addr}/api/v1/matchmaking/join-or-create"))
        .json(&serde_json::json!({"player_name": "ann", "mode": "lan"}));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let seat: serde_json::Value = req.send().await.unwrap().json().await.unwrap();
    seat["ws_url"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn matched_ticket_seat_urls_follow_the_host_when_bound_to_any_address() {
    // The matcher books a ticket's seats between requests; reading the ticket must still give
    // a URL on the host the client reached.
    let (addr, shutdown) = start_on_any_address(server::Config {
        match_wait: Duration::ZERO,
        ..config()
    })
    .await;
    let http = reqwest::Client::new();
    let created: serde_json::Value = http
        .post(format!("http://{addr}/api/v1/matchmaking/tickets"))
        .json(&serde_json::json!({"player_name": "ann", "mode": "lan", "region": "eu"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["ticket_id"].as_str().unwrap().to_owned();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let ticket = loop {
        let ticket: serde_json::Value = http
            .get(format!("http://{addr}/api/v1/matchmaking/tickets/{id}"))
            .header("host", "192.168.1.20:9000")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if ticket["status"] == "matched" || tokio::time::Instant::now() > deadline {
            break ticket;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(ticket["status"], "matched", "{ticket}");
    for url in [&ticket["ws_url"], &ticket["seats"][0]["ws_url"]] {
        let url = url.as_str().unwrap();
        assert!(url.starts_with("ws://192.168.1.20:9000/ws?room="), "{url}");
    }
    shutdown.cancel();
}

#[tokio::test]
async fn seat_urls_follow_the_host_when_bound_to_any_address() {
    let (addr, shutdown) = start_on_any_address(config()).await;
    let port = addr.port();
    let url = seat_url(addr, &[]).await;
    assert!(
        url.starts_with(&format!("ws://127.0.0.1:{port}/ws?room=")),
        "{url}"
    );
    let url = seat_url(addr, &[("host", "192.168.1.20:9000")]).await;
    assert!(url.starts_with("ws://192.168.1.20:9000/ws?room="), "{url}");
    let forwarded = [
        ("host", "lan-box:9000"),
        ("x-forwarded-host", "play.example"),
        ("x-forwarded-proto", "https"),
    ];
    let url = seat_url(addr, &forwarded).await;
    assert!(
        url.starts_with("ws://lan-box:9000/"),
        "proxy headers are ignored without --trust-proxy: {url}"
    );
    shutdown.cancel();

    let (addr, shutdown) = start_on_any_address(server::Config {
        trust_proxy: true,
        ..config()
    })
    .await;
    let url = seat_url(addr, &forwarded).await;
    assert!(url.starts_with("wss://play.example/ws?room="), "{url}");
    shutdown.cancel();
}
