//! Golden byte vectors: an accidental change of the wire format fails here.
//!
//! Every vector below is printed in PROTOCOL.md; the expected bytes were computed independently
//! from the layout PROTOCOL.md gives, with Python. The hex blocks of PROTOCOL.md are read from the
//! file itself, so the document and the implementation cannot drift apart. When a change is
//! intended, bump `PROTOCOL_VERSION`, update PROTOCOL.md and these vectors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use protocol::frame::{Changed, EventValue, Moved, Own, Spawned};
use protocol::schema::{ComponentDef, EventDef, FieldDef, Param};
use protocol::wire::Wire;
use protocol::world::FrameError;
use protocol::{
    Bounds, ClientMsg, CloseCode, CodecError, Desync, Frame, Input, QPos, Schema, ServerMsg, Value,
    Welcome, WireType, WorldView, decode_client, decode_server, encode_client, encode_server,
};

const DOC: &str = include_str!("../PROTOCOL.md");

protocol::wire_struct! {
    /// The movement game's input (PROTOCOL.md §5.1).
    #[derive(Debug, Clone, PartialEq)]
    struct MoveInput {
        move_x: i8,
        move_y: i8,
        buttons: u8,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex digits with any whitespace between them, as PROTOCOL.md prints them.
fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The bytes of the ``` block that follows `<!-- {marker} -->` in PROTOCOL.md, without the
/// `#` comments.
fn doc_block(marker: &str) -> Vec<u8> {
    let block = DOC
        .split(&format!("<!-- {marker} -->"))
        .nth(1)
        .and_then(|rest| rest.split("```").nth(1))
        .unwrap_or_else(|| panic!("PROTOCOL.md has no block after <!-- {marker} -->"));
    let digits: String = block
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ");
    unhex(&digits)
}

fn field(name: &str, ty: WireType) -> FieldDef {
    FieldDef {
        name: name.into(),
        ty,
    }
}

fn max_speed_34() -> Vec<Param> {
    vec![Param {
        name: "max_speed".into(),
        value: 34,
    }]
}

fn move_input() -> Vec<FieldDef> {
    MoveInput::FIELDS.iter().map(FieldDef::from).collect()
}

/// The movement game's schema of PROTOCOL.md §6.2.
fn movement() -> Schema {
    Schema {
        game: "movement".into(),
        params: max_speed_34(),
        kinds: vec!["player".into()],
        components: vec![Schema::position()],
        input: move_input(),
        events: vec![],
    }
}

/// The coins game of PROTOCOL.md §8.
fn coins() -> Schema {
    Schema {
        game: "coins".into(),
        params: max_speed_34(),
        kinds: vec!["player".into(), "coin".into()],
        components: vec![
            Schema::position(),
            ComponentDef {
                name: "Score".into(),
                owner_only: false,
                fields: vec![field("points", WireType::U16)],
            },
            ComponentDef {
                name: "Wallet".into(),
                owner_only: true,
                fields: vec![field("coins", WireType::U8)],
            },
        ],
        input: move_input(),
        events: vec![EventDef {
            name: "CoinTaken".into(),
            fields: vec![field("player", WireType::U32), field("coin", WireType::U32)],
        }],
    }
}

fn pos(x: i32, y: i32) -> Value {
    Value::Pos(QPos::new(x, y))
}

fn snapshot(tick: u32, server_time_us: u64, spawned: Vec<Spawned>, own: Own) -> Frame {
    Frame {
        tick,
        baseline: None,
        server_time_us,
        despawned: vec![],
        moved: vec![],
        changed: vec![],
        spawned,
        pieces: None,
        own,
        checksum: 0,
    }
}

/// The movement-game snapshot among PROTOCOL.md §8's "More vectors".
fn movement_snapshot() -> Frame {
    let player = |id, x, y| Spawned {
        id,
        kind: 0,
        components: vec![(0, vec![pos(x, y)])],
    };
    Frame {
        checksum: 42,
        ..snapshot(
            2,
            5,
            vec![player(1, 0, 0), player(300, -1, 1)],
            Own {
                ack: 2,
                owned: vec![],
                events: vec![],
            },
        )
    }
}

/// The coins snapshot of tick 300 in PROTOCOL.md §8.
fn coins_snapshot() -> Frame {
    let entity = |id, kind, components| Spawned {
        id,
        kind,
        components,
    };
    Frame {
        checksum: 0x3502_d78f_5524_8a93,
        ..snapshot(
            300,
            1_699_999_999_950_000,
            vec![
                entity(
                    3,
                    0,
                    vec![(0, vec![pos(1000, 2000)]), (1, vec![Value::Int(4)])],
                ),
                entity(
                    4,
                    0,
                    vec![(0, vec![pos(3000, 500)]), (1, vec![Value::Int(0)])],
                ),
                entity(9, 1, vec![(0, vec![pos(1012, 1993)])]),
            ],
            Own {
                ack: 41,
                owned: vec![Changed {
                    id: 3,
                    components: vec![(2, vec![Value::Int(2)])],
                }],
                events: vec![],
            },
        )
    }
}

/// The delta from tick 300 to 301 worked through byte by byte in PROTOCOL.md §8.
fn worked_delta() -> Frame {
    Frame {
        tick: 301,
        baseline: Some(300),
        server_time_us: 1_700_000_000_000_000,
        despawned: vec![9],
        moved: vec![
            Moved {
                id: 3,
                dx: 12,
                dy: -7,
            },
            Moved {
                id: 4,
                dx: 0,
                dy: 30,
            },
        ],
        changed: vec![Changed {
            id: 3,
            components: vec![(1, vec![Value::Int(5)])],
        }],
        spawned: vec![Spawned {
            id: 12,
            kind: 1,
            components: vec![(0, vec![pos(5000, 250)])],
        }],
        pieces: None,
        own: Own {
            ack: 1,
            owned: vec![Changed {
                id: 3,
                components: vec![(2, vec![Value::Int(3)])],
            }],
            events: vec![EventValue {
                event: 0,
                values: vec![Value::Int(3), Value::Int(9)],
            }],
        },
        checksum: 0x97d9_12b4_5738_d334,
    }
}

const MOVEMENT_SCHEMA_HEX: &str = "01 08 6d6f76656d656e74 01 09 6d61785f7370656564 44
    01 06 706c61796572 01 08 506f736974696f6e 00 01 03 706f73 07
    03 06 6d6f76655f78 02 06 6d6f76655f79 02 07 627574746f6e73 01 00";

const COINS_SCHEMA_HEX: &str = "01 05 636f696e73 01 09 6d61785f7370656564 44
    02 06 706c61796572 04 636f696e 03
    08 506f736974696f6e 00 01 03 706f73 07
    05 53636f7265 00 01 06 706f696e7473 03
    06 57616c6c6574 01 01 05 636f696e73 01
    03 06 6d6f76655f78 02 06 6d6f76655f79 02 07 627574746f6e73 01
    01 09 436f696e54616b656e 02 06 706c61796572 05 04 636f696e 05";

const COINS_SNAPSHOT_HEX: &str = "02 fb2c01 fdb07c1d18240a0600
    03 03 00 03 fbd007 fba00f 04 01 00 03 fb7017 fbe803 00 05 01 01 fbe807 fb920f
    29 01 03 04 02 00 fd938a24558fd70235";

/// The worked delta's bytes by field, so that the refusal tests can replace one of them.
const WORKED_DELTA_PARTS: [&str; 9] = [
    "03 fb2d01 fb2c01 fd00401e18240a0600", // tag, tick, baseline, time
    "01 09",                               // despawned
    "02 03180d 01003c",                    // moved
    "01 03 02 05",                         // changed
    "01 0c 01 01 fb1027 fbf401",           // spawned
    "01",                                  // ack advance
    "01 03 04 03",                         // owned
    "01 00 03 09",                         // events
    "fd34d33857b412d997",                  // checksum
];
const HEADER: usize = 0;
const DESPAWNED: usize = 1;
const MOVED: usize = 2;
const CHANGED: usize = 3;
const SPAWNED: usize = 4;
const OWNED: usize = 6;
const EVENTS: usize = 7;
const CHECKSUM: usize = 8;

/// The worked delta with part `index` replaced by `with`.
fn worked_delta_with(index: usize, with: &str) -> Vec<u8> {
    let mut parts = WORKED_DELTA_PARTS;
    parts[index] = with;
    unhex(&parts.join(" "))
}

/// One-line vectors are spelled exactly as PROTOCOL.md prints them inline.
const MOVEMENT_SNAPSHOT_HEX: &str = "02 02 05 02 01 00 01 00 00 fb2b01 00 01 01 02 02 00 00 2a";

/// Client messages and their bytes as printed in PROTOCOL.md §5.1.
fn client_vectors() -> Vec<(ClientMsg, &'static str)> {
    vec![
        (
            ClientMsg::Join {
                protocol_version: 3,
                seat_token: "00112233445566778899aabbccddeeff".into(),
                resume_token: None,
            },
            "00 03 20 3030313132323333343435353636373738383939616162626363646465656666 00",
        ),
        (
            ClientMsg::Join {
                protocol_version: 3,
                seat_token: String::new(),
                resume_token: Some("ab".into()),
            },
            "00 03 00 01 02 6162",
        ),
        (
            ClientMsg::Input(Input::new(
                300,
                7,
                &MoveInput {
                    move_x: -127,
                    move_y: 64,
                    buttons: 1,
                },
            )),
            "01 fb2c01 07 81 40 01",
        ),
        (ClientMsg::Ping { client_time_us: 1 }, "02 01"),
        (ClientMsg::Leave, "03"),
    ]
}

/// Server messages other than frames and their bytes as printed in PROTOCOL.md §6.2 and §8.
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
                tick: 250,
                resume_token: "ff".into(),
            }),
            "00 03 01 1e fb204e fb204e fa 02 6666",
        ),
        (ServerMsg::Schema(movement()), MOVEMENT_SCHEMA_HEX),
        (ServerMsg::Schema(coins()), COINS_SCHEMA_HEX),
        (
            ServerMsg::Pong {
                client_time_us: 1,
                server_time_us: 2,
            },
            "04 01 02",
        ),
        (
            ServerMsg::Disconnect {
                code: CloseCode::Lagging,
                reason: "slow".into(),
            },
            "05 09 04 736c6f77",
        ),
    ]
}

/// Frames with their schema and bytes.
fn frame_vectors() -> Vec<(Schema, Frame, String)> {
    vec![
        (
            movement(),
            movement_snapshot(),
            MOVEMENT_SNAPSHOT_HEX.into(),
        ),
        (coins(), coins_snapshot(), COINS_SNAPSHOT_HEX.into()),
        (coins(), worked_delta(), WORKED_DELTA_PARTS.join(" ")),
    ]
}

#[test]
fn client_messages_match_their_golden_bytes() {
    let input = movement().input;
    for (msg, golden) in client_vectors() {
        let bytes = encode_client(&msg).unwrap();
        assert_eq!(bytes, unhex(golden), "{msg:?}");
        assert_eq!(decode_client(&bytes, &input).unwrap(), msg);
    }
}

#[test]
fn version_1_and_2_joins_are_a_version_mismatch() {
    // The Join of PROTOCOL.md versions 1 and 2: the same layout, an older protocol_version.
    for got in [1, 2] {
        let old = unhex(&format!(
            "00 0{got} 20 3030313132323333343435353636373738383939616162626363646465656666 00"
        ));
        assert!(matches!(
            decode_client(&old, &[]),
            Err(CodecError::VersionMismatch { got: g, expected: 3 }) if g == got
        ));
    }
}

#[test]
fn server_messages_match_their_golden_bytes() {
    for (msg, golden) in server_vectors() {
        let bytes = encode_server(&msg).unwrap();
        assert_eq!(hex(&bytes), hex(&unhex(golden)), "{msg:?}");
        assert_eq!(decode_server(&bytes).unwrap(), msg);
    }
}

#[test]
fn wire_types_match_protocol_md_table() {
    let table = [
        (WireType::Bool, "00"),
        (WireType::U8, "01"),
        (WireType::I8, "02"),
        (WireType::U16, "03"),
        (WireType::I16, "04"),
        (WireType::U32, "05"),
        (WireType::I32, "06"),
        (WireType::Pos, "07"),
        (WireType::Str { max_len: 16 }, "08 10"),
        (WireType::Fixed { scale: 100 }, "09 64"),
    ];
    for (ty, golden) in table {
        let bytes = bincode::serde::encode_to_vec(ty, bincode::config::standard()).unwrap();
        assert_eq!(bytes, unhex(golden), "{ty:?}");
    }
}

#[test]
fn protocol_md_schemas_keep_the_schema_rules() {
    movement().check().unwrap();
    coins().check().unwrap();
}

#[test]
fn protocol_md_prints_every_vector_of_this_test() {
    let blocks = [
        ("schema-example-hex", MOVEMENT_SCHEMA_HEX),
        ("coins-schema-hex", COINS_SCHEMA_HEX),
        ("snapshot-example-hex", COINS_SNAPSHOT_HEX),
        ("worked-example-hex", &WORKED_DELTA_PARTS.join(" ")),
    ];
    for (marker, golden) in blocks {
        assert_eq!(
            hex(&doc_block(marker)),
            hex(&unhex(golden)),
            "block {marker}"
        );
    }
    let inline = client_vectors()
        .into_iter()
        .map(|(_, h)| h)
        .chain(server_vectors().into_iter().map(|(_, h)| h))
        .filter(|h| !h.contains('\n'))
        .chain([MOVEMENT_SNAPSHOT_HEX]);
    for golden in inline {
        assert!(
            DOC.contains(&format!("`{golden}`")),
            "PROTOCOL.md lacks `{golden}`"
        );
    }
}

#[test]
fn frames_match_their_golden_bytes() {
    for (schema, frame, golden) in frame_vectors() {
        assert_eq!(hex(&frame.encode(&schema).unwrap()), hex(&unhex(&golden)));
        assert_eq!(Frame::decode(&schema, &unhex(&golden)).unwrap(), frame);
    }
}

#[test]
fn protocol_md_worked_example_decodes() {
    let bytes = doc_block("worked-example-hex");
    assert_eq!(bytes.len(), 57, "PROTOCOL.md gives its byte count");
    assert_eq!(Frame::decode(&coins(), &bytes).unwrap(), worked_delta());
}

#[test]
fn protocol_md_examples_apply_with_their_checksums() {
    let mut mirror = WorldView::new(Arc::new(coins()), 3);
    let snapshot = mirror.apply(&doc_block("snapshot-example-hex")).unwrap();
    assert_eq!((snapshot.tick, snapshot.snapshot), (300, true));
    assert_eq!(mirror.checksum(), 0x3502_d78f_5524_8a93);
    assert_eq!(mirror.ack(), 41);

    let delta = mirror.apply(&doc_block("worked-example-hex")).unwrap();
    assert_eq!((delta.tick, delta.snapshot), (301, false));
    assert_eq!(mirror.checksum(), 0x97d9_12b4_5738_d334);
    assert_eq!(mirror.ack(), 42);
    assert_eq!(mirror.events(), worked_delta().own.events.as_slice());
    assert_eq!(mirror.get(9), None, "the taken coin is gone");
    let me = mirror.get(3).unwrap();
    assert_eq!(me.position(), Some(QPos::new(1012, 1993)));
    assert_eq!(me.component(2), Some([Value::Int(3)].as_slice()));
    let other = mirror.get(4).unwrap();
    assert_eq!(
        other.component(2),
        None,
        "another player's Wallet is not ours"
    );
}

/// A mirror of player 3 holding PROTOCOL.md §8's snapshot of tick 300.
fn mirror_at_300() -> WorldView {
    let mut mirror = WorldView::new(Arc::new(coins()), 3);
    mirror.apply(&doc_block("snapshot-example-hex")).unwrap();
    mirror
}

#[test]
fn frames_breaking_protocol_md_rules_are_malformed() {
    // PROTOCOL.md §6.4 "What a client must refuse", malformed: one case per rule.
    let cases = [
        (CHANGED, "01 03 03 00 00 05", "bit 0 in changed"),
        (CHANGED, "01 03 06 05 03", "an owner-only bit in changed"),
        (CHANGED, "01 03 08", "a mask bit past the component count"),
        (CHANGED, "01 03 02 fc05000000", "a u16 with the u32 prefix"),
        (
            SPAWNED,
            "01 0c 01 05 fb1027 fbf401 00",
            "an owner-only bit in spawned",
        ),
        (
            SPAWNED,
            "01 0c 02 01 fb1027 fbf401",
            "a kind past the kind count",
        ),
        (OWNED, "01 03 02 05", "a shared component in owned"),
        (EVENTS, "01 01 03 09", "an event past the event count"),
        (MOVED, "02 03180d 00003c", "an id gap of 0 after the first"),
        (
            CHECKSUM,
            "fd34d33857b412d997 00",
            "a byte after the checksum",
        ),
    ];
    for (index, with, rule) in cases {
        let bytes = worked_delta_with(index, with);
        assert!(Frame::decode(&coins(), &bytes).is_err(), "{rule}");
        assert!(
            matches!(mirror_at_300().apply(&bytes), Err(FrameError::Malformed(_))),
            "{rule}"
        );
    }
    let whole = doc_block("worked-example-hex");
    for cut in 0..whole.len() {
        assert!(
            Frame::decode(&coins(), &whole[..cut]).is_err(),
            "cut at {cut}"
        );
    }
}

#[test]
fn frames_that_do_not_fit_the_mirror_are_desyncs() {
    // PROTOCOL.md §6.4 "What a client must refuse", desync: well-formed bytes, wrong mirror.
    let delta = doc_block("worked-example-hex");
    let mut empty = WorldView::new(Arc::new(coins()), 3);
    let no_baseline = Desync::NoBaseline { tick: 301 };
    assert_eq!(empty.apply(&delta), Err(FrameError::Desync(no_baseline)));

    let desync = |index, with| match mirror_at_300().apply(&worked_delta_with(index, with)) {
        Err(FrameError::Desync(d)) => d,
        other => panic!("{with}: expected a desync, got {other:?}"),
    };
    // Baseline 299 (fb2b01) while the mirror holds 300.
    assert_eq!(
        desync(HEADER, "03 fb2d01 fb2b01 fd00401e18240a0600"),
        Desync::WrongBaseline {
            baseline: 299,
            held: 300
        }
    );
    assert_eq!(
        desync(CHECKSUM, "00"),
        Desync::Checksum {
            tick: 301,
            mirror: 0x97d9_12b4_5738_d334,
            server: 0
        }
    );
    // Spawning player 4, which the mirror holds.
    assert_eq!(
        desync(SPAWNED, "01 04 01 01 fb1027 fbf401"),
        Desync::DuplicateEntity(4)
    );
    // Changing the Score of coin 9 after its despawn, then of coin 9 still there (it has none).
    assert_eq!(desync(CHANGED, "01 09 02 05"), Desync::UnknownEntity(9));
    let mut mirror = mirror_at_300();
    let kept_coin = [(DESPAWNED, "00"), (CHANGED, "01 09 02 05")];
    let mut parts = WORKED_DELTA_PARTS;
    for (index, with) in kept_coin {
        parts[index] = with;
    }
    assert_eq!(
        mirror.apply(&unhex(&parts.join(" "))),
        Err(FrameError::Desync(Desync::MissingComponent {
            id: 9,
            component: 1
        }))
    );
}

/// The area delta of tick 302 worked through in PROTOCOL.md §6.5: player 3, in a room with a
/// radius of 4,500 quanta, after §8's delta of tick 301.
fn area_delta() -> Frame {
    Frame {
        tick: 302,
        baseline: Some(301),
        server_time_us: 1_700_000_000_050_000,
        despawned: vec![4],
        moved: vec![],
        changed: vec![],
        spawned: vec![Spawned {
            id: 15,
            kind: 1,
            components: vec![(0, vec![pos(1100, 1990)])],
        }],
        pieces: Some(vec![
            protocol::frame::Piece {
                moved: vec![Moved {
                    id: 3,
                    dx: 5,
                    dy: 0,
                }],
                changed: vec![Changed {
                    id: 3,
                    components: vec![(1, vec![Value::Int(6)])],
                }],
            },
            protocol::frame::Piece {
                moved: vec![Moved {
                    id: 7,
                    dx: 0,
                    dy: -3,
                }],
                changed: vec![],
            },
        ]),
        own: Own {
            ack: 1,
            owned: vec![],
            events: vec![],
        },
        checksum: AREA_CHECKSUM,
    }
}

const AREA_CHECKSUM: u64 = 0x3561_b74a_d1ba_09cc;

/// The area delta's bytes by field.
const AREA_PARTS: [&str; 6] = [
    "06 fb2e01 fb2d01 fd50031f18240a0600", // tag, tick, baseline, time
    "01 04",                               // left
    "02 01 030a00 01 03 02 06 01 070005 00", // pieces
    "01 0f 01 01 fb9808 fb8c0f",           // entered
    "01 00 00",                            // ack advance, owned, events
    "fdcc09bad14ab76135",                  // checksum
];
const LEFT: usize = 1;
const ENTERED: usize = 3;

/// The area delta with part `index` replaced by `with`.
fn area_delta_with(index: usize, with: &str) -> Vec<u8> {
    let mut parts = AREA_PARTS;
    parts[index] = with;
    unhex(&parts.join(" "))
}

/// Player 3's mirror after §8's delta of tick 301.
fn mirror_at_301() -> WorldView {
    let mut mirror = mirror_at_300();
    mirror.apply(&doc_block("worked-example-hex")).unwrap();
    mirror
}

#[test]
fn protocol_md_area_example_decodes_and_applies() {
    let bytes = doc_block("area-example-hex");
    assert_eq!(hex(&bytes), hex(&unhex(&AREA_PARTS.join(" "))));
    assert_eq!(bytes.len(), 54, "PROTOCOL.md gives its byte count");
    assert_eq!(Frame::decode(&coins(), &bytes).unwrap(), area_delta());
    assert_eq!(hex(&area_delta().encode(&coins()).unwrap()), hex(&bytes));
    let mut mirror = mirror_at_301();
    let info = mirror.apply(&bytes).unwrap();
    assert_eq!((info.tick, info.snapshot), (302, false));
    assert_eq!(mirror.checksum(), AREA_CHECKSUM);
    assert_eq!(mirror.ack(), 43);
    let ids: Vec<u32> = mirror.entities().map(|e| e.id).collect();
    assert_eq!(ids, [3, 12, 15], "4 left, 7 is not held, 15 entered");
    let me = mirror.get(3).unwrap();
    assert_eq!(me.position(), Some(QPos::new(1017, 1993)));
    assert_eq!(me.component(1), Some([Value::Int(6)].as_slice()));
}

#[test]
fn area_deltas_that_do_not_fit_the_mirror_are_desyncs() {
    let desync = |index, with| match mirror_at_301().apply(&area_delta_with(index, with)) {
        Err(FrameError::Desync(d)) => d,
        other => panic!("{with}: expected a desync, got {other:?}"),
    };
    assert_eq!(
        desync(LEFT, "01 05"),
        Desync::UnknownEntity(5),
        "left names an entity not held"
    );
    assert_eq!(
        desync(ENTERED, "01 0c 01 01 fb9808 fb8c0f"),
        Desync::DuplicateEntity(12),
        "entered names an entity held"
    );
    let baseline = area_delta_with(0, "06 fb2e01 fb2c01 fd50031f18240a0600");
    assert!(matches!(
        mirror_at_301().apply(&baseline),
        Err(FrameError::Desync(Desync::WrongBaseline { .. }))
    ));
    let malformed = [
        (
            2,
            "02 01 030a00 01 03 03 00 00 06 01 070005 00",
            "bit 0 in a piece's changed",
        ),
        (
            2,
            "03 01 030a00 01 03 02 06 01 070005 00",
            "more pieces than bytes",
        ),
        (
            2,
            "02 02 030a00 00 0000 00 01 070005 00",
            "an id gap of 0 in a piece",
        ),
    ];
    for (index, with, rule) in malformed {
        assert!(
            matches!(
                mirror_at_301().apply(&area_delta_with(index, with)),
                Err(FrameError::Malformed(_))
            ),
            "{rule}"
        );
    }
}
