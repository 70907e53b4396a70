//! Golden byte vectors: an accidental change of the wire format fails here.
#![allow(clippy::unwrap_used, clippy::expect_used)]
//!
//! When a change is intended, bump `PROTOCOL_VERSION`, update PROTOCOL.md and these vectors.

use protocol::frame::Despawn;
use protocol::{
    Ack, Bounds, ClientMsg, CloseCode, Delta, EntityKind, EntityState, Input, Move, QPos,
    ServerMsg, Snapshot, Welcome, decode_client, decode_server, encode_client, encode_server,
};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn player(id: u32, x: i32, y: i32, ack: u32) -> EntityState {
    EntityState {
        id,
        kind: EntityKind::Player,
        pos: QPos::new(x, y),
        ack,
    }
}

/// The delta worked through byte by byte in PROTOCOL.md.
fn worked_delta() -> ServerMsg {
    ServerMsg::Delta(Delta {
        tick: 301,
        baseline: 300,
        server_time_us: 1_700_000_000_000_000,
        despawned: vec![Despawn { id: 9 }],
        moved: vec![
            Move {
                id: 3,
                dx: 12,
                dy: -7,
            },
            Move {
                id: 4,
                dx: 0,
                dy: 30,
            },
        ],
        acks: vec![Ack { id: 3, advance: 1 }],
        spawned: vec![player(12, 5000, 250, 0)],
        checksum: 0x0123_4567_89ab_cdef,
    })
}

/// The hex printed in PROTOCOL.md's worked example.
const WORKED_DELTA_HEX: &str = "
    02 fb2d01 fb2c01 fd00401e18240a0600
    01 09
    02 03180d 01003c
    01 0301
    01 0c00fb1027fbf40100
    fdefcdab8967452301";

fn client_vectors() -> Vec<(ClientMsg, &'static str)> {
    vec![
        (
            ClientMsg::Join {
                protocol_version: 1,
                seat_token: "00112233445566778899aabbccddeeff".into(),
                resume_token: None,
            },
            "000120303031313232333334343535363637373838393961616262636364646565666600",
        ),
        (
            ClientMsg::Join {
                protocol_version: 1,
                seat_token: String::new(),
                resume_token: Some("ab".into()),
            },
            "00010001026162",
        ),
        (
            ClientMsg::Input(Input {
                seq: 300,
                client_tick: 7,
                move_x: -127,
                move_y: 64,
                buttons: 1,
            }),
            "01fb2c0107814001",
        ),
        (ClientMsg::Ping { client_time_us: 1 }, "0201"),
        (ClientMsg::Leave, "03"),
    ]
}

fn server_vectors() -> Vec<(ServerMsg, &'static str)> {
    vec![
        (
            ServerMsg::Welcome(Welcome {
                player_id: 3,
                room_id: 1,
                tick_rate: 30,
                bounds: Bounds {
                    width: 10_000,
                    height: 10_000,
                },
                max_speed: 34,
                tick: 250,
                resume_token: "ff".into(),
            }),
            "0003011efb204efb204e44fa026666",
        ),
        (
            ServerMsg::Snapshot(Snapshot {
                tick: 2,
                server_time_us: 5,
                entities: vec![player(1, 0, 0, 0), player(300, -1, 1, 2)],
                checksum: 42,
            }),
            "010205020100000000fb2b01000102022a",
        ),
        (
            ServerMsg::Pong {
                client_time_us: 1,
                server_time_us: 2,
            },
            "030102",
        ),
        (
            ServerMsg::Disconnect {
                code: CloseCode::Lagging,
                reason: "slow".into(),
            },
            "040904736c6f77",
        ),
        (
            worked_delta(),
            "02fb2d01fb2c01fd00401e18240a060001090203180d01003c010301010c00fb1027fbf40100fdefcdab8967452301",
        ),
    ]
}

#[test]
fn client_messages_match_their_golden_bytes() {
    for (msg, golden) in client_vectors() {
        let bytes = encode_client(&msg).unwrap();
        assert_eq!(hex(&bytes), golden, "{msg:?}");
        assert_eq!(decode_client(&unhex(golden)).unwrap(), msg);
    }
}

#[test]
fn server_messages_match_their_golden_bytes() {
    for (msg, golden) in server_vectors() {
        let bytes = encode_server(&msg).unwrap();
        assert_eq!(hex(&bytes), golden, "{msg:?}");
        assert_eq!(decode_server(&unhex(golden)).unwrap(), msg);
    }
}

#[test]
fn protocol_md_worked_example_decodes() {
    let doc = include_str!("../PROTOCOL.md");
    let compact: String = WORKED_DELTA_HEX.split_whitespace().collect();
    let in_doc: String = doc
        .split("<!-- worked-example-hex -->")
        .nth(1)
        .and_then(|rest| rest.split("```").nth(1))
        .map(|block| {
            block
                .lines()
                .flat_map(|l| l.split('#').next().unwrap_or("").split_whitespace())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        in_doc, compact,
        "PROTOCOL.md's worked example differs from this test's"
    );
    assert_eq!(decode_server(&unhex(&in_doc)).unwrap(), worked_delta());
}
