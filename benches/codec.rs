//! Frames of 1,000 and 10,000 entities through the v2 layer: the replica writing a delta where
//! every entity moved (`build`), typed [`Frame`] encoding and decoding (`encode`, `decode`), and
//! a client's mirror applying the delta straight from its bytes (`decode_and_apply`, the mirror
//! cloned outside the timed part). `delta/*` is the movement game (names as before v2); the
//! `coins_delta/*` rows add the coins game's scores, names and coins. Also prints the wire cost
//! of one moved entity.
#![allow(missing_docs)]
// A benchmark builds the built-in games' schemas, which the server checks at every start.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use protocol::replica::EventBatch;
use protocol::{Frame, QPos, Replica, Schema, Wire as _, WorldView};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use server::game::{Game, check};
use server::games::coins::{COIN, Coin, Coins, Nameplate, Score};
use server::games::movement::Movement;

/// Quanta per tick at the default 10 units/s and 30 Hz.
const MAX_SPEED: i32 = 33;
/// The player whose frames the client side decodes.
const PLAYER: u32 = 1;

/// Component indices of the coins game (absent in the movement game).
#[derive(Clone, Copy)]
struct Indices {
    score: Option<usize>,
    name: Option<usize>,
    coin: Option<usize>,
}

impl Indices {
    fn of(schema: &Schema) -> Self {
        Self {
            score: schema.component_index(Score::NAME),
            name: schema.component_index(Nameplate::NAME),
            coin: schema.component_index(Coin::NAME),
        }
    }
}

/// A replica of `n` entities at tick 1, a mirror of it, and the positions every entity moves
/// between on later ticks.
struct Bench {
    schema: Arc<Schema>,
    replica: Replica,
    view: WorldView,
    moves: [Vec<QPos>; 2],
    indices: Indices,
    tick: u32,
}

fn bench_world(game: &dyn Game, n: u32, rng: &mut StdRng) -> Bench {
    let schema = Arc::new(check(game).expect("the built-in games build"));
    let indices = Indices::of(&schema);
    let coin_kind = schema.kind_index(COIN);
    let mut replica = Replica::new(&schema);
    let start: Vec<QPos> = (0..n)
        .map(|_| QPos::new(rng.random_range(0..10_000), rng.random_range(0..10_000)))
        .collect();
    let mut frame = replica.begin(1, 0);
    for (id, pos) in (1..).zip(&start) {
        // In the coins game one entity in ten is a coin; the rest are players.
        match coin_kind.filter(|_| id % 10 == 0) {
            Some(kind) => {
                frame.spawn(id, kind, None);
                if let Some(i) = indices.coin {
                    frame.set_component(id, i, |w| Coin { value: 1 }.write(w));
                }
            }
            None => {
                frame.spawn(id, 0, Some(id));
                if let Some(i) = indices.score {
                    frame.set_component(id, i, |w| Score { points: 0 }.write(w));
                }
                if let Some(i) = indices.name {
                    let name = protocol::Text::truncated(&format!("player-{id}"));
                    frame.set_component(id, i, |w| Nameplate { name }.write(w));
                }
            }
        }
        frame.set_position(id, *pos);
    }
    frame.finish(&mut Vec::new());
    let mut snapshot = Vec::new();
    replica.write_snapshot_shared(&mut snapshot);
    replica.write_own_snapshot(PLAYER, 100, EventBatch::default(), &mut snapshot);
    let mut view = WorldView::new(schema.clone(), PLAYER);
    view.apply(&snapshot)
        .expect("a snapshot of the replica applies");
    let step = |p: &QPos, rng: &mut StdRng| {
        QPos::new(
            p.x + rng.random_range(-MAX_SPEED..=MAX_SPEED),
            p.y + rng.random_range(-MAX_SPEED..=MAX_SPEED),
        )
    };
    let moves = [
        start.iter().map(|p| step(p, rng)).collect(),
        start.iter().map(|p| step(p, rng)).collect(),
    ];
    Bench {
        schema,
        replica,
        view,
        moves,
        indices,
        tick: 1,
    }
}

impl Bench {
    /// The next tick: every entity moves, and in the coins game every tenth player scores.
    /// Returns the delta player [`PLAYER`] receives (its input ack advanced by one).
    fn step(&mut self) -> Vec<u8> {
        self.tick += 1;
        let moves = &self.moves[(self.tick % 2) as usize];
        let mut frame = self.replica.begin(self.tick, 1_700_000_000_000_000);
        for (id, pos) in (1..).zip(moves) {
            frame.set_position(id, *pos);
        }
        if let Some(i) = self.indices.score {
            let points = self.tick as u16;
            for id in (1..=moves.len() as u32).filter(|id| id % 10 == 1) {
                frame.set_component(id, i, |w| Score { points }.write(w));
            }
        }
        let mut out = Vec::new();
        frame.finish(&mut out);
        let ack = 100 + self.tick;
        self.replica
            .write_own_delta(PLAYER, ack - 1, ack, EventBatch::default(), &mut out);
        out
    }
}

fn group(c: &mut Criterion, name: &str, game: &dyn Game, rng: &mut StdRng) {
    for n in [1_000u32, 10_000] {
        let mut b = bench_world(game, n, rng);
        // The mirror holds tick 1; this delta leads to tick 2.
        let delta = b.step();
        println!(
            "{name} with {n} entities, all moved: {} bytes = {:.2} bytes per entity (the receiving player's ack included)",
            delta.len(),
            delta.len() as f64 / f64::from(n),
        );
        let typed = Frame::decode(&b.schema, &delta).expect("the replica's delta decodes");
        b.view
            .clone()
            .apply(&delta)
            .expect("the delta applies to the mirror of its baseline");
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(u64::from(n)));
        group.bench_function(BenchmarkId::new("encode", n), |bencher| {
            bencher.iter(|| black_box(&typed).encode(&b.schema).map_or(0, |v| v.len()))
        });
        group.bench_function(BenchmarkId::new("decode", n), |bencher| {
            bencher.iter(|| Frame::decode(&b.schema, black_box(&delta)).is_ok())
        });
        group.bench_function(BenchmarkId::new("decode_and_apply", n), |bencher| {
            bencher.iter_batched_ref(
                || b.view.clone(),
                |view| view.apply(black_box(&delta)).is_ok(),
                BatchSize::LargeInput,
            )
        });
        group.bench_function(BenchmarkId::new("build", n), |bencher| {
            bencher.iter(|| b.step().len())
        });
        group.finish();
    }
}

fn bench(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(7);
    group(c, "delta", &Movement, &mut rng);
    group(c, "coins_delta", &Coins, &mut rng);
}

criterion_group!(benches, bench);
criterion_main!(benches);
