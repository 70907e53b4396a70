//! Hostile input on the game WebSocket: each closes only the offending connection, with the
//! right close code, and never harms the other players.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use client_sim::GameClient;
use futures_util::{SinkExt, StreamExt};
use protocol::{ClientMsg, Input};
use server::games::movement::Steer;
use tests::{TestServer, close_code, config, next_frame, play_for, start};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn raw(url: &str) -> Ws {
    tokio_tungstenite::connect_async(url)
        .await
        .expect("WebSocket upgrade")
        .0
}

/// Reads until the close frame; returns its code.
async fn raw_close(ws: &mut Ws) -> u16 {
    let read = async {
        while let Some(msg) = ws.next().await {
            if let Ok(Message::Close(frame)) = msg {
                return frame.map_or(1005, |f| f.code.into());
            }
            if msg.is_err() {
                break;
            }
        }
        panic!("connection ended without a close frame");
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("closed in time")
}

/// A well-formed input of the movement game (every room of these tests plays it).
fn steer(seq: u32) -> Input {
    Input::new(seq, seq, &Steer::default())
}

fn join_msg(version: u16, token: &str) -> Vec<u8> {
    protocol::encode_client(&ClientMsg::Join {
        protocol_version: version,
        seat_token: token.into(),
        resume_token: None,
    })
    .unwrap()
}

async fn first_message_closes_with(server: &TestServer, msg: Message) -> u16 {
    let mut ws = raw(&server.ws_url()).await;
    ws.send(msg).await.unwrap();
    raw_close(&mut ws).await
}

#[tokio::test]
async fn bad_first_messages_get_their_close_codes() {
    let server = start(config()).await;
    let seat = server.seat("x", "hostile").await;
    let full_join = join_msg(protocol::PROTOCOL_VERSION, &seat.seat_token);
    let input = protocol::encode_client(&ClientMsg::Input(steer(1))).unwrap();
    let cases: Vec<(&str, Message, u16)> = vec![
        (
            "garbage",
            Message::Binary(vec![0xff, 0xfe, 0x00].into()),
            4000,
        ),
        (
            "truncated join",
            Message::Binary(full_join[..full_join.len() / 2].to_vec().into()),
            4000,
        ),
        ("text", Message::Text("hello".into()), 4000),
        ("input before join", Message::Binary(input.into()), 4000),
        (
            "ping before join",
            Message::Binary(
                protocol::encode_client(&ClientMsg::Ping { client_time_us: 1 })
                    .unwrap()
                    .into(),
            ),
            4000,
        ),
        (
            "seat token over 64 bytes",
            Message::Binary(join_msg(protocol::PROTOCOL_VERSION, &"a".repeat(65)).into()),
            4000,
        ),
        ("oversized", Message::Binary(vec![0u8; 300].into()), 1009),
        ("huge", Message::Binary(vec![0u8; 64 * 1024].into()), 1009),
        (
            "wrong version",
            Message::Binary(join_msg(99, &seat.seat_token).into()),
            4002,
        ),
        (
            "unknown token",
            Message::Binary(join_msg(protocol::PROTOCOL_VERSION, "00ff").into()),
            4001,
        ),
    ];
    for (name, msg, code) in cases {
        assert_eq!(
            first_message_closes_with(&server, msg).await,
            code,
            "{name}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn silence_is_closed_by_the_join_and_idle_timeouts() {
    let server = start(server::Config {
        join_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(500),
        ..config()
    })
    .await;
    let mut ws = raw(&server.ws_url()).await;
    assert_eq!(raw_close(&mut ws).await, 4007, "no join");

    let mut quiet = server.player("quiet", "idle").await;
    assert_eq!(
        close_code(&mut quiet, Duration::from_secs(5)).await,
        4008,
        "joined, then silent"
    );
    server.stop().await;
}

/// A player in the room who must not notice the offender.
async fn bystander(server: &TestServer, mode: &str) -> GameClient {
    let mut b = server.player("bystander", mode).await;
    next_frame(&mut b).await;
    b
}

/// Asserts that `c` is closed with `code` after the bad message `name` while the bystander `b`
/// still plays.
async fn closes_alone(c: &mut GameClient, b: &mut GameClient, code: u16, name: &str) {
    assert_eq!(close_code(c, Duration::from_secs(5)).await, code, "{name}");
    assert!(
        play_for(b, Duration::from_millis(100)).await > 0,
        "bystander still plays after {name}"
    );
}

#[tokio::test]
async fn bad_messages_after_joining_close_only_that_connection() {
    let server = start(config()).await;
    let mut b = bystander(&server, "after").await;
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("garbage", vec![0x01, 0xfd, 0xff], 4000),
        (
            "second join",
            join_msg(protocol::PROTOCOL_VERSION, "aa"),
            4000,
        ),
        ("oversized", vec![1u8; 1000], 1009),
        (
            "trailing bytes",
            [protocol::encode_client(&ClientMsg::Leave).unwrap(), vec![0]].concat(),
            4000,
        ),
    ];
    for (name, bytes, code) in cases {
        let mut c = server.player(name, "after").await;
        next_frame(&mut c).await;
        c.send_raw(bytes).await.unwrap();
        closes_alone(&mut c, &mut b, code, name).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn a_flood_is_closed_as_rate_limited() {
    let server = start(config()).await;
    let mut b = bystander(&server, "flood").await;
    let mut flooder = server.player("flooder", "flood").await;
    next_frame(&mut flooder).await;
    for seq in 1..=400 {
        if flooder.send_input(steer(seq)).await.is_err() {
            break;
        }
    }
    assert_eq!(close_code(&mut flooder, Duration::from_secs(5)).await, 4003);
    assert!(
        play_for(&mut b, Duration::from_millis(300)).await >= 5,
        "the bystander keeps getting frames"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_client_trickling_http_headers_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = start(server::Config {
        header_timeout: Duration::from_millis(500),
        ..config()
    })
    .await;
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    // Headers that never end.
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok(),
        "the server closes the connection after the header timeout"
    );
    let text = String::from_utf8_lossy(&buf);
    assert!(
        !text.contains("200 OK"),
        "no answer to an unfinished request: {text}"
    );
    // A complete request still works.
    assert_eq!(
        reqwest::get(server.url("/healthz")).await.unwrap().status(),
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn connections_over_the_limit_get_503_at_once() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = start(server::Config {
        max_connections: 2,
        ..config()
    })
    .await;
    let mut a = server.player("a", "cap").await;
    let _idle = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut over = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    over.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), over.read_to_end(&mut answer))
        .await
        .expect("answered and closed at once")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 503") && answer.contains("server_full"),
        "a connection over the limit gets 503: {answer}"
    );
    assert!(
        play_for(&mut a, Duration::from_millis(200)).await > 0,
        "the admitted player keeps playing"
    );
    server.stop().await;
}

/// What a raw client read up to the close frame: pongs, the `Disconnect` code, the close code.
#[derive(Debug, Default)]
struct Ending {
    pongs: usize,
    disconnect: Option<protocol::CloseCode>,
    reason: String,
    close: Option<u16>,
}

/// Reads until the close frame, failing the test on a reset or when nothing closes in `within`.
async fn read_to_close(ws: &mut Ws, within: Duration) -> Ending {
    let read = async {
        let mut end = Ending::default();
        while let Some(msg) = ws.next().await {
            match msg.expect("a clean close, not a reset") {
                Message::Binary(bytes) if protocol::world::is_frame(&bytes) => {}
                Message::Binary(bytes) => match protocol::decode_server(&bytes).unwrap() {
                    protocol::ServerMsg::Pong { .. } => end.pongs += 1,
                    protocol::ServerMsg::Disconnect { code, reason } => {
                        end.disconnect = Some(code);
                        end.reason = reason;
                    }
                    _ => {}
                },
                Message::Close(frame) => {
                    end.close = Some(frame.map_or(1005, |f| f.code.into()));
                    return end;
                }
                _ => {}
            }
        }
        panic!("connection ended without a close frame: {end:?}");
    };
    tokio::time::timeout(within, read)
        .await
        .expect("closed in time")
}

/// Joins, writes `messages` in one write, and reads up to the close frame.
async fn burst(server: &TestServer, messages: impl Iterator<Item = ClientMsg>) -> Ending {
    let seat = server.seat("burst", "burst").await;
    let mut ws = raw(&server.ws_url()).await;
    let join = join_msg(protocol::PROTOCOL_VERSION, &seat.seat_token);
    ws.send(Message::Binary(join.into())).await.unwrap();
    for msg in messages {
        let bytes = protocol::encode_client(&msg).unwrap();
        ws.feed(Message::Binary(bytes.into())).await.unwrap();
    }
    ws.flush().await.unwrap();
    read_to_close(&mut ws, Duration::from_secs(10)).await
}

#[tokio::test]
async fn a_burst_of_pings_gets_its_pongs_the_disconnect_and_the_close_frame() {
    let server = start(config()).await;
    // 200 pings in one write: far over the burst of the rate limit.
    let pings = (0..200u64).map(|t| ClientMsg::Ping { client_time_us: t });
    let end = burst(&server, pings).await;
    assert!(end.pongs > 0, "the pongs already answered arrive: {end:?}");
    assert_eq!(
        end.disconnect,
        Some(protocol::CloseCode::RateLimited),
        "{end:?}"
    );
    assert_eq!(end.close, Some(4003), "{end:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_burst_of_5000_inputs_gets_the_disconnect_and_the_close_frame() {
    let server = start(config()).await;
    let inputs = (1..=5_000u32).map(|seq| ClientMsg::Input(steer(seq)));
    let end = burst(&server, inputs).await;
    assert_eq!(
        end.disconnect,
        Some(protocol::CloseCode::RateLimited),
        "{end:?}"
    );
    assert_eq!(end.close, Some(4003), "{end:?}");
    server.stop().await;
}

#[tokio::test]
async fn close_reasons_are_sentences_not_debug_text() {
    let server = start(config()).await;
    let seat = server.seat("prefix", "reasons").await;
    let mut ws = raw(&server.ws_url()).await;
    let join = join_msg(protocol::PROTOCOL_VERSION, &seat.seat_token);
    ws.send(Message::Binary(join.into())).await.unwrap();
    // An Input whose u32 `seq` carries the 0xfd prefix of a u64 (PROTOCOL.md §3: refused).
    let input = [vec![1u8, 0xfd], vec![0; 8], vec![0; 5]].concat();
    ws.send(Message::Binary(input.into())).await.unwrap();
    let end = read_to_close(&mut ws, Duration::from_secs(5)).await;
    assert_eq!(end.close, Some(4000), "{end:?}");
    // A sentence about the bytes, not a decoder's debug text (`InvalidIntegerType { .. }`).
    assert!(
        end.reason
            == "a u32 or i32 field starts with the prefix of a longer integer, see PROTOCOL.md §3",
        "{end:?}"
    );
    drop(ws);
    server.stop().await;
}

/// A v1 client's join, byte by byte: tag 0, then bincode of (protocol_version u16 = 1,
/// seat_token String, resume_token Option<String> = None).
fn v1_join(token: &str) -> Vec<u8> {
    let len = u8::try_from(token.len()).expect("a short token");
    [vec![0, 1, len], token.as_bytes().to_vec(), vec![0]].concat()
}

#[tokio::test]
async fn a_version_1_client_gets_the_disconnect_and_close_4002() {
    let server = start(config()).await;
    let seat = server.seat("old", "v1").await;
    let mut ws = raw(&server.ws_url()).await;
    ws.send(Message::Binary(v1_join(&seat.seat_token).into()))
        .await
        .unwrap();
    let end = read_to_close(&mut ws, Duration::from_secs(5)).await;
    assert_eq!(
        end.disconnect,
        Some(protocol::CloseCode::VersionMismatch),
        "{end:?}"
    );
    assert_eq!(end.close, Some(4002), "{end:?}");
    server.stop().await;
}

#[tokio::test]
async fn inputs_that_do_not_match_the_schema_close_with_4000() {
    let server = start(config()).await;
    let mut b = bystander(&server, "fields").await;
    // The movement game's input is move_x i8, move_y i8, buttons u8 after seq and client_tick.
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("no fields", vec![1, 1, 1]),
        ("too short", vec![1, 1, 1, 5, 5]),
        ("too long", vec![1, 1, 1, 5, 5, 0, 9]),
    ];
    for (name, bytes) in cases {
        let mut c = server.player(name, "fields").await;
        next_frame(&mut c).await;
        // The same input with the right fields is accepted.
        c.send_raw(vec![1, 1, 1, 5, 5, 0]).await.unwrap();
        while c.acked_seq() != 1 {
            next_frame(&mut c).await;
        }
        c.send_raw(bytes).await.unwrap();
        closes_alone(&mut c, &mut b, 4000, name).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn an_input_with_an_extra_byte_gets_the_disconnect_and_the_close_frame() {
    let server = start(config()).await;
    let seat = server.seat("long", "long").await;
    let mut ws = raw(&server.ws_url()).await;
    let join = join_msg(protocol::PROTOCOL_VERSION, &seat.seat_token);
    ws.send(Message::Binary(join.into())).await.unwrap();
    // Welcome and schema, then the first frame: the player is in the room.
    let first_frame = async {
        while let Some(msg) = ws.next().await {
            if let Message::Binary(bytes) = msg.unwrap()
                && protocol::world::is_frame(&bytes)
            {
                return;
            }
        }
        panic!("the connection ended before the first frame");
    };
    tokio::time::timeout(Duration::from_secs(5), first_frame)
        .await
        .expect("a first frame in time");
    // seq 1, client_tick 1, move_x, move_y, buttons, and one byte too many.
    ws.send(Message::Binary(vec![1, 1, 1, 5, 5, 0, 9].into()))
        .await
        .unwrap();
    let end = read_to_close(&mut ws, Duration::from_secs(5)).await;
    assert_eq!(
        end.disconnect,
        Some(protocol::CloseCode::Malformed),
        "{end:?}"
    );
    assert_eq!(end.close, Some(4000), "{end:?}");
    server.stop().await;
}
