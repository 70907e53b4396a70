//! Property tests of protocol v2: worlds carried through [`Replica`] frames into client
//! [`WorldView`]s, frame round trips, and hostile bytes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use protocol::frame::Frame;
use protocol::replica::{EventBatch, ReplicaFrame};
use protocol::schema::{ComponentDef, EventDef, FieldDef};
use protocol::wire::{Fixed, Text, Wire};
use protocol::world::{Desync, FrameError};
use protocol::{
    ClientMsg, Input, QPos, Replica, Schema, Value, WorldView, decode_client, decode_server,
    encode_client,
};

protocol::wire_struct! {
    /// A shared component with one field of most wire types.
    #[derive(Debug, Clone, PartialEq)]
    struct Stats {
        alive: bool,
        level: u8,
        heading: i16,
        score: u32,
        name: Text<8>,
        speed: Fixed<100>,
    }
}

protocol::wire_struct! {
    /// An owner-only component.
    #[derive(Debug, Clone, PartialEq)]
    struct Secret {
        gold: u32,
        mood: i8,
    }
}

protocol::wire_struct! {
    /// A shared marker without fields.
    #[derive(Debug, Clone, PartialEq)]
    struct Marker {}
}

protocol::wire_struct! {
    /// The input.
    #[derive(Debug, Clone, PartialEq)]
    struct Steer {
        move_x: i8,
        move_y: i8,
        buttons: u8,
    }
}

protocol::wire_struct! {
    /// The event.
    #[derive(Debug, Clone, PartialEq)]
    struct Hit {
        amount: u16,
        by: i32,
    }
}

const STATS: usize = 1;
const SECRET: usize = 2;
const MARKER: usize = 3;
const PLAYERS: [u32; 2] = [1, 2];

fn fields<W: Wire>() -> Vec<FieldDef> {
    W::FIELDS.iter().map(FieldDef::from).collect()
}

fn component<W: Wire>(owner_only: bool) -> ComponentDef {
    ComponentDef {
        name: W::NAME.into(),
        owner_only,
        fields: fields::<W>(),
    }
}

fn schema() -> Arc<Schema> {
    let schema = Schema {
        game: "props".into(),
        params: Vec::new(),
        kinds: vec!["player".into(), "coin".into()],
        components: vec![
            Schema::position(),
            component::<Stats>(false),
            component::<Secret>(true),
            component::<Marker>(false),
        ],
        input: fields::<Steer>(),
        events: vec![EventDef {
            name: Hit::NAME.into(),
            fields: fields::<Hit>(),
        }],
    };
    schema.check().unwrap();
    Arc::new(schema)
}

/// One entity of a test world.
#[derive(Debug, Clone)]
struct Ent {
    kind: u32,
    owner: Option<u32>,
    pos: Option<QPos>,
    stats: Option<Stats>,
    secret: Option<Secret>,
    marker: bool,
}

type World = BTreeMap<u32, Ent>;

fn stats() -> impl Strategy<Value = Stats> {
    (
        any::<bool>(),
        0u8..3,
        any::<i16>(),
        any::<u32>(),
        "[a-zé]{0,5}",
        any::<i32>(),
    )
        .prop_map(|(alive, level, heading, score, name, speed)| Stats {
            alive,
            level,
            heading,
            score,
            name: Text::truncated(&name),
            speed: Fixed(speed),
        })
}

fn ent() -> impl Strategy<Value = Ent> {
    (
        0u32..2,
        prop::option::of(prop::sample::select(PLAYERS.to_vec())),
        prop::option::weighted(0.8, (-3i32..3, any::<i32>())),
        prop::option::of(stats()),
        prop::option::of((0u32..3, any::<i8>())),
        any::<bool>(),
    )
        .prop_map(|(kind, owner, pos, stats, secret, marker)| Ent {
            kind,
            owner,
            pos: pos.map(|(x, y)| QPos::new(x, y)),
            stats,
            secret: secret.map(|(gold, mood)| Secret { gold, mood }),
            marker,
        })
}

fn world() -> impl Strategy<Value = World> {
    prop::collection::btree_map(0u32..80, ent(), 0..60)
}

/// Brings the replica to `w` through `f`'s calls.
fn sync(f: &mut ReplicaFrame<'_>, before: &[u32], w: &World) {
    for id in before.iter().filter(|id| !w.contains_key(id)) {
        f.despawn(*id);
    }
    for (&id, e) in w {
        f.spawn(id, e.kind, e.owner);
        match e.pos {
            Some(p) => f.set_position(id, p),
            None => f.remove_component(id, 0),
        }
        match &e.stats {
            Some(s) => f.set_component(id, STATS, |w| s.write(w)),
            None => f.remove_component(id, STATS),
        }
        match &e.secret {
            Some(s) => f.set_component(id, SECRET, |w| s.write(w)),
            None => f.remove_component(id, SECRET),
        }
        if e.marker {
            f.set_component(id, MARKER, |w| Marker {}.write(w));
        } else {
            f.remove_component(id, MARKER);
        }
    }
}

/// Finishes a frame leading to `tick` with world `w`; returns the shared part of its delta.
fn step(replica: &mut Replica, tick: u32, w: &World) -> Vec<u8> {
    let before: Vec<u32> = replica.entities().map(|e| e.id).collect();
    let mut f = replica.begin(tick, u64::from(tick) * 50_000);
    sync(&mut f, &before, w);
    let mut out = Vec::new();
    f.finish(&mut out);
    out
}

fn snapshot(replica: &Replica, player: u32, ack: u32) -> Vec<u8> {
    let mut out = Vec::new();
    replica.write_snapshot_shared(&mut out);
    replica.write_own_snapshot(player, ack, EventBatch::default(), &mut out);
    out
}

fn delta(
    shared: &[u8],
    replica: &Replica,
    player: u32,
    acks: (u32, u32),
    events: EventBatch<'_>,
) -> Vec<u8> {
    let mut out = shared.to_vec();
    replica.write_own_delta(player, acks.0, acks.1, events, &mut out);
    out
}

fn stats_values(s: &Stats) -> Vec<Value> {
    vec![
        Value::Bool(s.alive),
        Value::Int(s.level.into()),
        Value::Int(s.heading.into()),
        Value::Int(s.score.into()),
        Value::Str(s.name.as_str().into()),
        Value::Int(s.speed.0.into()),
    ]
}

type Seen = BTreeMap<u32, (u32, Vec<(usize, Vec<Value>)>)>;

/// What player `player` must see of `w`.
fn expected(w: &World, player: u32) -> Seen {
    w.iter()
        .map(|(&id, e)| {
            let mut comps = Vec::new();
            if let Some(p) = e.pos {
                comps.push((0, vec![Value::Pos(p)]));
            }
            if let Some(s) = &e.stats {
                comps.push((STATS, stats_values(s)));
            }
            if let Some(s) = e.secret.as_ref().filter(|_| e.owner == Some(player)) {
                comps.push((
                    SECRET,
                    vec![Value::Int(s.gold.into()), Value::Int(s.mood.into())],
                ));
            }
            if e.marker {
                comps.push((MARKER, Vec::new()));
            }
            (id, (e.kind, comps))
        })
        .collect()
}

fn seen(view: &WorldView) -> Seen {
    view.entities()
        .map(|e| {
            let comps = e.components().map(|(i, v)| (i, v.to_vec())).collect();
            (e.id, (e.kind, comps))
        })
        .collect()
}

/// Events encoded as the server queues them, with their decoded form.
fn hits(n: u16) -> (Vec<u8>, Vec<Vec<Value>>) {
    let mut bytes = Vec::new();
    let mut values = Vec::new();
    for i in 0..n {
        let hit = Hit {
            amount: i * 300,
            by: -i32::from(i),
        };
        bytes.push(0);
        hit.write(&mut protocol::wire::FieldWriter::new(&mut bytes, 0));
        values.push(vec![
            Value::Int(hit.amount.into()),
            Value::Int(hit.by.into()),
        ]);
    }
    (bytes, values)
}

/// A replica at tick 1 holding `first`, and a mirror per player that applied its snapshot.
fn start(first: &World) -> (Replica, Vec<WorldView>) {
    let schema = schema();
    let mut replica = Replica::new(&schema);
    step(&mut replica, 1, first);
    let views = PLAYERS
        .iter()
        .map(|&p| {
            let mut view = WorldView::new(schema.clone(), p);
            let info = view.apply(&snapshot(&replica, p, 7)).unwrap();
            assert!(info.snapshot);
            assert_eq!(view.tick(), Some(1));
            assert_eq!(seen(&view), expected(first, p));
            view
        })
        .collect();
    (replica, views)
}

/// At about 16 places of `bytes` spread by `seed`: a flipped byte, a truncation and an
/// inserted byte.
fn corruptions(bytes: &[u8], seed: u8) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let stride = bytes.len() / 16 + 1;
    for i in (usize::from(seed) % stride..bytes.len()).step_by(stride) {
        let mut b = bytes.to_vec();
        b[i] ^= seed | 1;
        out.push(b);
        out.push(bytes[..i].to_vec());
        let mut b = bytes.to_vec();
        b.insert(i, seed);
        out.push(b);
    }
    out
}

proptest! {
    #[test]
    fn worlds_travel_through_replica_frames(worlds in prop::collection::vec(world(), 2..6), n_events in 0u16..4) {
        let (mut replica, mut views) = start(&worlds[0]);
        let (event_bytes, event_values) = hits(n_events);
        let mut ack = 7u32;
        for (tick, w) in (2u32..).zip(&worlds[1..]) {
            let shared = step(&mut replica, tick, w);
            let next_ack = ack.wrapping_add(tick * 1_000_003);
            for view in &mut views {
                let p = view.player_id();
                let events = EventBatch { count: event_values.len(), bytes: &event_bytes };
                let bytes = delta(&shared, &replica, p, (ack, next_ack), events);
                let info = view.apply(&bytes).unwrap();
                prop_assert!(!info.snapshot);
                prop_assert_eq!(info.tick, tick);
                prop_assert_eq!(seen(view), expected(w, p));
                prop_assert_eq!(view.ack(), next_ack);
                let got: Vec<_> = view.events().iter().map(|e| (e.event, e.values.clone())).collect();
                let want: Vec<_> = event_values.iter().map(|v| (0usize, v.clone())).collect();
                prop_assert_eq!(got, want);
            }
            ack = next_ack;
        }
    }

    #[test]
    fn decoded_frames_encode_to_the_same_bytes(a in world(), b in world()) {
        let schema = schema();
        let (mut replica, _) = start(&a);
        let (event_bytes, _) = hits(2);
        let shared = step(&mut replica, 2, &b);
        for p in PLAYERS {
            let events = EventBatch { count: 2, bytes: &event_bytes };
            for bytes in [snapshot(&replica, p, 3), delta(&shared, &replica, p, (1, 3), events)] {
                let frame = Frame::decode(&schema, &bytes).unwrap();
                prop_assert_eq!(frame.encode(&schema).unwrap(), bytes);
            }
        }
    }

    #[test]
    fn apply_and_decode_accept_the_same_bytes(a in world(), b in world(), seed in any::<u8>()) {
        let schema = schema();
        let (mut replica, views) = start(&a);
        let shared = step(&mut replica, 2, &b);
        let good = delta(&shared, &replica, 1, (0, 1), EventBatch::default());
        for bytes in corruptions(&good, seed).into_iter().chain([good.clone()]) {
            let decoded = Frame::decode(&schema, &bytes);
            let mut view = views[0].clone();
            let applied = view.apply(&bytes);
            prop_assert_eq!(
                decoded.is_ok(),
                !matches!(applied, Err(FrameError::Malformed(_))),
                "decode {:?}, apply {:?}", decoded.err(), applied
            );
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300), a in world()) {
        let schema = schema();
        let (_, mut views) = start(&a);
        let _ = views[0].apply(&bytes);
        let _ = WorldView::new(schema.clone(), 1).apply(&bytes);
        let _ = Frame::decode(&schema, &bytes);
        let _ = decode_client(&bytes, &schema.input);
        let _ = decode_server(&bytes);
        for tag in [2u8, 3] {
            let mut framed = vec![tag];
            framed.extend_from_slice(&bytes);
            let _ = views[1].apply(&framed);
            let _ = Frame::decode(&schema, &framed);
        }
    }

    #[test]
    fn a_missed_delta_desyncs_until_the_next_snapshot(worlds in prop::collection::vec(world(), 4)) {
        let (mut replica, mut views) = start(&worlds[0]);
        let view = &mut views[0];
        step(&mut replica, 2, &worlds[1]);
        let shared = step(&mut replica, 3, &worlds[2]);
        let bytes = delta(&shared, &replica, 1, (7, 7), EventBatch::default());
        prop_assert_eq!(
            view.apply(&bytes),
            Err(FrameError::Desync(Desync::WrongBaseline { baseline: 2, held: 1 }))
        );
        let shared = step(&mut replica, 4, &worlds[3]);
        let bytes = delta(&shared, &replica, 1, (7, 7), EventBatch::default());
        prop_assert!(matches!(view.apply(&bytes), Err(FrameError::Desync(_))));
        view.apply(&snapshot(&replica, 1, 7)).unwrap();
        prop_assert_eq!(seen(view), expected(&worlds[3], 1));
        prop_assert_eq!(view.tick(), Some(4));
    }

    #[test]
    fn client_messages_round_trip(msg in client_msg()) {
        let schema = schema();
        let bytes = encode_client(&msg).unwrap();
        prop_assert_eq!(decode_client(&bytes, &schema.input).unwrap(), msg);
    }
}

fn client_msg() -> impl Strategy<Value = ClientMsg> {
    prop_oneof![
        ("[a-f0-9]{0,64}", prop::option::of("[a-f0-9]{0,64}")).prop_map(
            |(seat_token, resume_token)| ClientMsg::Join {
                protocol_version: protocol::PROTOCOL_VERSION,
                seat_token,
                resume_token,
            }
        ),
        (
            any::<u32>(),
            any::<u32>(),
            any::<i8>(),
            any::<i8>(),
            any::<u8>()
        )
            .prop_map(|(seq, client_tick, move_x, move_y, buttons)| {
                let steer = Steer {
                    move_x,
                    move_y,
                    buttons,
                };
                ClientMsg::Input(Input::new(seq, client_tick, &steer))
            }),
        any::<u64>().prop_map(|client_time_us| ClientMsg::Ping { client_time_us }),
        Just(ClientMsg::Leave),
    ]
}

#[test]
fn a_delta_before_any_snapshot_has_no_baseline() {
    let schema = schema();
    let mut replica = Replica::new(&schema);
    let shared = step(&mut replica, 5, &World::new());
    let bytes = delta(&shared, &replica, 1, (0, 0), EventBatch::default());
    let mut view = WorldView::new(schema, 1);
    assert_eq!(
        view.apply(&bytes),
        Err(FrameError::Desync(Desync::NoBaseline { tick: 5 }))
    );
}

/// The delta of one frame in which `change` runs on a replica holding `before`, as a [`Frame`].
fn delta_of(before: &World, change: impl FnOnce(&mut ReplicaFrame<'_>)) -> Frame {
    let schema = schema();
    let mut replica = Replica::new(&schema);
    step(&mut replica, 1, before);
    let mut f = replica.begin(2, 0);
    change(&mut f);
    let mut out = Vec::new();
    f.finish(&mut out);
    replica.write_own_delta(1, 0, 0, EventBatch::default(), &mut out);
    Frame::decode(&schema, &out).unwrap()
}

fn one(owner: Option<u32>) -> World {
    let e = Ent {
        kind: 0,
        owner,
        pos: Some(QPos::new(i32::MAX, 5)),
        stats: None,
        secret: Some(Secret { gold: 1, mood: 0 }),
        marker: false,
    };
    World::from([(9, e)])
}

fn is_empty(f: &Frame) -> bool {
    f.despawned.is_empty() && f.moved.is_empty() && f.changed.is_empty() && f.spawned.is_empty()
}

#[test]
fn a_spawn_then_despawn_in_one_frame_sends_nothing() {
    let f = delta_of(&World::new(), |f| {
        f.spawn(4, 1, None);
        f.set_position(4, QPos::new(1, 1));
        f.despawn(4);
    });
    assert!(is_empty(&f), "{f:?}");
}

#[test]
fn a_despawn_then_spawn_travels_as_both() {
    let f = delta_of(&one(None), |f| {
        f.despawn(9);
        f.spawn(9, 0, None);
    });
    assert_eq!(f.despawned, [9]);
    assert_eq!(f.spawned.len(), 1);
    assert!(
        f.spawned[0].components.is_empty(),
        "the old components went with it"
    );
}

#[test]
fn changes_to_an_entity_spawned_in_the_frame_travel_in_its_spawn() {
    let f = delta_of(&World::new(), |f| {
        f.spawn(4, 1, Some(1));
        f.set_position(4, QPos::new(1, 1));
        f.set_position(4, QPos::new(2, 3));
        f.set_component(4, SECRET, |w| Secret { gold: 5, mood: 1 }.write(w));
    });
    assert!(f.moved.is_empty() && f.changed.is_empty() && f.despawned.is_empty());
    assert_eq!(
        f.spawned[0].components,
        [(0, vec![Value::Pos(QPos::new(2, 3))])]
    );
    assert_eq!(
        f.own.owned.len(),
        1,
        "the owner gets its owner-only components"
    );
}

#[test]
fn a_move_is_a_wrapping_displacement_and_equal_bytes_are_no_change() {
    let f = delta_of(&one(Some(1)), |f| {
        f.set_position(9, QPos::new(i32::MIN, 5));
        f.set_component(9, SECRET, |w| Secret { gold: 1, mood: 0 }.write(w));
    });
    assert_eq!(f.moved.len(), 1);
    assert_eq!((f.moved[0].dx, f.moved[0].dy), (1, 0));
    assert!(f.changed.is_empty() && f.own.owned.is_empty(), "{f:?}");
}

#[test]
fn removing_a_component_or_changing_the_owner_replaces_the_entity() {
    let removed = delta_of(&one(None), |f| f.remove_component(9, 0));
    assert_eq!(removed.despawned, [9]);
    assert!(removed.spawned[0].components.is_empty());
    let given = delta_of(&one(None), |f| f.spawn(9, 0, Some(1)));
    assert_eq!(given.despawned, [9]);
    assert_eq!(
        given.own.owned.len(),
        1,
        "the new owner gets the owner-only components"
    );
}

#[test]
fn an_owner_only_change_reaches_only_its_owner() {
    let schema = schema();
    let mut replica = Replica::new(&schema);
    step(&mut replica, 1, &one(Some(2)));
    let mut f = replica.begin(2, 0);
    f.set_component(9, SECRET, |w| Secret { gold: 2, mood: 0 }.write(w));
    let mut shared = Vec::new();
    f.finish(&mut shared);
    for (player, owned) in [(1, 0), (2, 1)] {
        let bytes = delta(&shared, &replica, player, (0, 0), EventBatch::default());
        let frame = Frame::decode(&schema, &bytes).unwrap();
        assert!(is_empty(&frame));
        assert_eq!(frame.own.owned.len(), owned, "player {player}");
    }
}

#[test]
fn masks_that_break_their_list_s_rules_are_malformed() {
    let schema = schema();
    let mut frame = delta_of(&one(Some(1)), |_| {});
    frame.checksum = 0;
    let changed = |components| protocol::frame::Changed { id: 9, components };
    for (what, bad) in [
        (
            "position in changed",
            changed(vec![(0, vec![Value::Pos(QPos::new(0, 0))])]),
        ),
        (
            "owner-only in changed",
            changed(vec![(SECRET, vec![Value::Int(1), Value::Int(0)])]),
        ),
    ] {
        let mut f = frame.clone();
        f.changed = vec![bad];
        assert!(f.encode(&schema).is_err(), "{what}");
    }
    // The same refusals on the decoding side, from hand-made bytes: delta of tick 2 from 1,
    // no despawned or moved, one changed entry (id 9) with a mask naming the marker, no
    // spawned, ack 0, no owned, no events, checksum 0.
    let mut bytes = vec![3, 2, 1, 0, 0, 0, 1, 9, 1 << MARKER, 0, 0, 0, 0, 0];
    assert!(Frame::decode(&schema, &bytes).is_ok());
    bytes[8] = 1;
    assert!(Frame::decode(&schema, &bytes).is_err(), "position");
    bytes[8] = 1 << SECRET;
    assert!(Frame::decode(&schema, &bytes).is_err());
    bytes[8] = 1 << 7;
    assert!(
        Frame::decode(&schema, &bytes).is_err(),
        "component 7 does not exist"
    );
}

#[test]
fn a_frame_over_the_size_limit_is_malformed() {
    let schema = schema();
    let mut bytes = vec![2u8];
    bytes.resize(protocol::codec::MAX_SERVER_MSG + 1, 0);
    assert!(Frame::decode(&schema, &bytes).is_err());
    let mut view = WorldView::new(schema, 1);
    assert!(matches!(view.apply(&bytes), Err(FrameError::Malformed(_))));
}

/// A change to a frame.
type Edit = fn(&mut Frame);

#[test]
fn deltas_that_do_not_fit_the_mirror_are_typed_desyncs() {
    let schema = schema();
    let (_, views) = start(&one(Some(1)));
    let base = delta_of(&one(Some(1)), |_| {});
    let cases: [(Edit, Desync); 4] = [
        (|f| f.despawned = vec![3], Desync::UnknownEntity(3)),
        (
            |f| {
                f.spawned = vec![protocol::frame::Spawned {
                    id: 9,
                    kind: 0,
                    components: Vec::new(),
                }]
            },
            Desync::DuplicateEntity(9),
        ),
        (
            |f| {
                f.changed = vec![protocol::frame::Changed {
                    id: 9,
                    components: vec![(MARKER, Vec::new())],
                }]
            },
            Desync::MissingComponent {
                id: 9,
                component: MARKER,
            },
        ),
        (
            |f| {
                f.moved = vec![protocol::frame::Moved {
                    id: 9,
                    dx: 1,
                    dy: 1,
                }];
                f.checksum ^= 1;
            },
            Desync::Checksum {
                tick: 2,
                mirror: 0,
                server: 0,
            },
        ),
    ];
    for (edit, want) in cases {
        let mut frame = base.clone();
        edit(&mut frame);
        let mut view = views[0].clone();
        let got = view.apply(&frame.encode(&schema).unwrap());
        match (got, want) {
            (Err(FrameError::Desync(Desync::Checksum { tick, .. })), Desync::Checksum { .. }) => {
                assert_eq!(tick, 2);
            }
            (got, want) => assert_eq!(got, Err(FrameError::Desync(want))),
        }
        assert_eq!(view.tick(), None, "a failed frame leaves no baseline");
    }
}

#[test]
fn a_snapshot_carries_its_events_and_the_next_frame_replaces_them() {
    let schema = schema();
    let mut replica = Replica::new(&schema);
    step(&mut replica, 1, &one(Some(1)));
    let (event_bytes, event_values) = hits(3);
    let mut bytes = Vec::new();
    replica.write_snapshot_shared(&mut bytes);
    let events = EventBatch {
        count: 3,
        bytes: &event_bytes,
    };
    replica.write_own_snapshot(1, 4, events, &mut bytes);
    let mut view = WorldView::new(schema, 1);
    view.apply(&bytes).unwrap();
    let got: Vec<_> = view.events().iter().map(|e| e.values.clone()).collect();
    assert_eq!(got, event_values);
    assert_eq!(view.ack(), 4);
    let shared = step(&mut replica, 2, &one(Some(1)));
    view.apply(&delta(&shared, &replica, 1, (4, 4), EventBatch::default()))
        .unwrap();
    assert!(view.events().is_empty());
}
