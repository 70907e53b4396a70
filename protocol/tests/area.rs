//! Property tests of area deltas (PROTOCOL.md §6.5): worlds carried through a [`Replica`] with an
//! interest radius into client [`WorldView`]s, which hold exactly what lies within the radius of
//! their avatar and verify every checksum.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;
use protocol::frame::Frame;
use protocol::replica::{EventBatch, Interest, View};
use protocol::schema::{ComponentDef, FieldDef};
use protocol::wire::Wire;
use protocol::{Bounds, QPos, Replica, Schema, Value, WorldView};

protocol::wire_struct! {
    /// A shared component.
    #[derive(Debug, Clone, PartialEq)]
    struct Score {
        points: u16,
    }
}

protocol::wire_struct! {
    /// An owner-only component.
    #[derive(Debug, Clone, PartialEq)]
    struct Ammo {
        rounds: u8,
    }
}

const SCORE: usize = 1;
const AMMO: usize = 2;
const PLAYERS: [u32; 3] = [1, 2, 3];
const SIZE: i32 = 2_000;
const RADIUS: i32 = 300;

fn component<W: Wire>(owner_only: bool) -> ComponentDef {
    ComponentDef {
        name: W::NAME.into(),
        owner_only,
        fields: W::FIELDS.iter().map(FieldDef::from).collect(),
    }
}

fn schema() -> Arc<Schema> {
    let schema = Schema {
        game: "area".into(),
        params: Vec::new(),
        kinds: vec!["player".into(), "thing".into()],
        components: vec![
            Schema::position(),
            component::<Score>(false),
            component::<Ammo>(true),
        ],
        input: Vec::new(),
        events: Vec::new(),
    };
    schema.check().unwrap();
    Arc::new(schema)
}

#[derive(Debug, Clone)]
struct Ent {
    kind: u32,
    owner: Option<u32>,
    pos: Option<QPos>,
    score: u16,
    ammo: Option<u8>,
}

type World = BTreeMap<u32, Ent>;

fn ent() -> impl Strategy<Value = Ent> {
    (
        0u32..2,
        prop::option::weighted(0.3, prop::sample::select(PLAYERS.to_vec())),
        prop::option::weighted(0.9, (-50..SIZE + 50, -50..SIZE + 50)),
        0u16..4,
        prop::option::weighted(0.3, any::<u8>()),
    )
        .prop_map(|(kind, owner, pos, score, ammo)| Ent {
            kind,
            owner,
            pos: pos.map(|(x, y)| QPos::new(x, y)),
            score,
            ammo,
        })
}

/// A first world, then worlds that each move, change, add and remove some of its entities.
fn worlds() -> impl Strategy<Value = Vec<World>> {
    let first = prop::collection::btree_map(0u32..120, ent(), 20..80);
    let edits = prop::collection::vec(
        prop::collection::vec(
            (0u32..120, ent(), 0u8..6, -150i32..150, -150i32..150),
            0..40,
        ),
        1..8,
    );
    (first, edits).prop_map(|(first, edits)| {
        let mut worlds = vec![first];
        for edit in edits {
            let mut w = worlds.last().unwrap().clone();
            for (id, new, what, dx, dy) in edit {
                match (what, w.get_mut(&id)) {
                    (0, _) => {
                        w.remove(&id);
                    }
                    (1, _) => {
                        w.insert(id, new);
                    }
                    (2, Some(e)) => e.score = new.score,
                    (_, Some(e)) => {
                        e.pos = e.pos.map(|p| QPos::new(p.x + dx, p.y + dy));
                    }
                    (_, None) => {}
                }
            }
            worlds.push(w);
        }
        worlds
    })
}

fn step(replica: &mut Replica, tick: u32, w: &World) {
    let before: Vec<u32> = replica.entities().map(|e| e.id).collect();
    let mut f = replica.begin(tick, u64::from(tick) * 50_000);
    for id in before.iter().filter(|id| !w.contains_key(id)) {
        f.despawn(*id);
    }
    for (&id, e) in w {
        f.spawn(id, e.kind, e.owner);
        match e.pos {
            Some(p) => f.set_position(id, p),
            None => f.remove_component(id, 0),
        }
        f.set_component(id, SCORE, |wr| Score { points: e.score }.write(wr));
        match e.ammo {
            Some(rounds) => f.set_component(id, AMMO, |wr| Ammo { rounds }.write(wr)),
            None => f.remove_component(id, AMMO),
        }
    }
    let mut out = Vec::new();
    f.finish(&mut out);
    assert!(
        out.is_empty(),
        "a replica with a radius writes no shared delta"
    );
}

type Seen = BTreeMap<u32, (u32, Vec<(usize, Vec<Value>)>)>;

/// What `player`, looking from `centre`, must hold of `w`.
fn expected(w: &World, player: u32, centre: Option<QPos>) -> Seen {
    let near = |p: QPos| {
        centre.is_some_and(|c| {
            let (dx, dy) = (i64::from(p.x - c.x), i64::from(p.y - c.y));
            dx * dx + dy * dy <= i64::from(RADIUS) * i64::from(RADIUS)
        })
    };
    w.iter()
        .filter(|(_, e)| e.owner == Some(player) || e.pos.is_none_or(near))
        .map(|(&id, e)| {
            let mut comps = Vec::new();
            if let Some(p) = e.pos {
                comps.push((0, vec![Value::Pos(p)]));
            }
            comps.push((SCORE, vec![Value::Int(e.score.into())]));
            if let Some(a) = e.ammo.filter(|_| e.owner == Some(player)) {
                comps.push((AMMO, vec![Value::Int(a.into())]));
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

fn interest() -> Interest {
    Interest::new(
        RADIUS,
        Bounds {
            width: SIZE,
            height: SIZE,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn each_client_holds_exactly_what_lies_in_its_radius(worlds in worlds(), cell in 100i32..700) {
        let schema = schema();
        let mut replica = Replica::with_interest(&schema, Interest { cell, ..interest() });
        let mut clients: Vec<(u32, View, WorldView, Option<QPos>)> = PLAYERS
            .iter()
            .map(|&p| (p, View::new(), WorldView::new(schema.clone(), p), None))
            .collect();
        for (tick, w) in worlds.iter().enumerate() {
            step(&mut replica, tick as u32 + 1, w);
            for (player, view, mirror, centre) in &mut clients {
                *centre = w.get(player).and_then(|e| e.pos).or(*centre);
                let mut out = Vec::new();
                if tick == 0 {
                    replica.write_area_snapshot(view, *player, 0, EventBatch::default(), &mut out);
                } else {
                    replica.write_area_delta(view, *player, 0, 0, EventBatch::default(), &mut out);
                }
                let decoded = Frame::decode(&schema, &out).unwrap();
                prop_assert_eq!(decoded.encode(&schema).unwrap(), out.clone());
                mirror.apply(&out).unwrap();
                prop_assert_eq!(seen(mirror), expected(w, *player, *centre));
                let held: BTreeSet<u32> = view.held().iter().copied().collect();
                prop_assert_eq!(held, seen(mirror).keys().copied().collect::<BTreeSet<_>>());
            }
        }
    }

    #[test]
    fn corrupted_area_deltas_never_panic(worlds in worlds(), flip in any::<(u16, u8)>()) {
        let schema = schema();
        let mut replica = Replica::with_interest(&schema, interest());
        let mut view = View::new();
        let mut mirror = WorldView::new(schema.clone(), 1);
        for (tick, w) in worlds.iter().enumerate() {
            step(&mut replica, tick as u32 + 1, w);
            let mut out = Vec::new();
            if tick == 0 {
                replica.write_area_snapshot(&mut view, 1, 0, EventBatch::default(), &mut out);
                mirror.apply(&out).unwrap();
                continue;
            }
            replica.write_area_delta(&mut view, 1, 0, 0, EventBatch::default(), &mut out);
            let mut bad = out.clone();
            let at = usize::from(flip.0) % bad.len();
            bad[at] ^= flip.1.max(1);
            let mut copy = mirror.clone();
            let _ = copy.apply(&bad);
            let _ = Frame::decode(&schema, &bad);
            let _ = copy.apply(&out[..at]);
            mirror.apply(&out).unwrap();
        }
    }
}

#[test]
fn a_teleport_across_the_map_swaps_everything_the_client_holds() {
    let schema = schema();
    let mut replica = Replica::with_interest(&schema, interest());
    let thing = |x, y| Ent {
        kind: 1,
        owner: None,
        pos: Some(QPos::new(x, y)),
        score: 0,
        ammo: None,
    };
    let mut w: World = (10..20)
        .map(|id| (id, thing(100 + id as i32, 100)))
        .collect();
    w.extend((20..30).map(|id| (id, thing(1_800 + id as i32, 1_800))));
    w.insert(
        1,
        Ent {
            owner: Some(1),
            kind: 0,
            ..thing(100, 120)
        },
    );
    let (mut view, mut mirror) = (View::new(), WorldView::new(schema.clone(), 1));
    step(&mut replica, 1, &w);
    let mut out = Vec::new();
    replica.write_area_snapshot(&mut view, 1, 0, EventBatch::default(), &mut out);
    mirror.apply(&out).unwrap();
    assert_eq!(
        seen(&mirror).keys().copied().collect::<Vec<_>>(),
        [1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
    );
    w.get_mut(&1).unwrap().pos = Some(QPos::new(1_820, 1_790));
    step(&mut replica, 2, &w);
    out.clear();
    replica.write_area_delta(&mut view, 1, 0, 0, EventBatch::default(), &mut out);
    let frame = Frame::decode(&schema, &out).unwrap();
    assert_eq!(
        frame.despawned,
        (10..20).collect::<Vec<_>>(),
        "everything near the old place leaves"
    );
    assert_eq!(
        frame.spawned.iter().map(|s| s.id).collect::<Vec<_>>(),
        (20..30).collect::<Vec<_>>()
    );
    mirror.apply(&out).unwrap();
    assert_eq!(
        seen(&mirror),
        expected(&w, 1, Some(QPos::new(1_820, 1_790)))
    );
}
