//! Interest management at the protocol level: one room of 2,000 random walkers in a 112 × 112
//! world, each tick's pieces encoded once and every client's area delta assembled from them,
//! against the same room with everyone seeing everything (one shared delta, each client's own
//! part appended). Prints the bytes per client per tick of both.
//!
//! `interest/client_apply_radius_10_2000_players` times the other end: every client's mirror
//! ([`WorldView`]) applying its area delta, 2,000 mirrors per tick as a machine running the
//! room's bots does.
#![allow(missing_docs)]
// A benchmark builds the built-in games, which the server checks at every start.
#![allow(clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use protocol::replica::{EventBatch, Interest, View};
use protocol::{Bounds, QPos, Replica, Schema, WorldView};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};

const PLAYERS: u32 = 2_000;
const WORLD: i32 = 11_200;
const RADIUS: i32 = 1_000;
/// Quanta per tick at 10 units/s and 20 Hz.
const SPEED: i32 = 50;

struct Room {
    schema: Arc<Schema>,
    replica: Replica,
    /// Every client's mirror of the room (only in the room that times them).
    mirrors: Vec<WorldView>,
    /// Where each client's frame of the last tick ends in `arena`.
    ends: Vec<usize>,
    /// The frames of the last tick, one after another.
    arena: Vec<u8>,
    views: Vec<View>,
    pos: Vec<QPos>,
    heading: Vec<(i32, i32)>,
    rng: StdRng,
    tick: u32,
    out: Vec<u8>,
}

fn room(radius: bool) -> Room {
    let schema =
        Arc::new(server::game::check(&server::games::movement::Movement).expect("it builds"));
    let bounds = Bounds {
        width: WORLD,
        height: WORLD,
    };
    let replica = if radius {
        Replica::with_interest(&schema, Interest::new(RADIUS, bounds))
    } else {
        Replica::new(&schema)
    };
    let mut rng = StdRng::seed_from_u64(5);
    let pos = (0..PLAYERS)
        .map(|_| QPos::new(rng.random_range(0..WORLD), rng.random_range(0..WORLD)))
        .collect();
    let heading = (0..PLAYERS).map(|_| random_heading(&mut rng)).collect();
    let mut room = Room {
        schema,
        replica,
        mirrors: Vec::new(),
        ends: Vec::new(),
        arena: Vec::new(),
        views: (0..PLAYERS).map(|_| View::new()).collect(),
        pos,
        heading,
        rng,
        tick: 0,
        out: Vec::new(),
    };
    room.step();
    room.send(true);
    room
}

fn random_heading(rng: &mut StdRng) -> (i32, i32) {
    let a: f64 = rng.random_range(0.0..std::f64::consts::TAU);
    (
        (a.cos() * f64::from(SPEED)) as i32,
        (a.sin() * f64::from(SPEED)) as i32,
    )
}

impl Room {
    /// One tick of random walking, recorded into the replica (outside the timed part).
    fn step(&mut self) {
        self.tick += 1;
        let mut f = self.replica.begin(self.tick, u64::from(self.tick) * 50_000);
        for (i, (p, h)) in self.pos.iter_mut().zip(&mut self.heading).enumerate() {
            if self.rng.random_ratio(1, 20) {
                *h = random_heading(&mut self.rng);
            }
            *p = QPos::new((p.x + h.0).clamp(0, WORLD), (p.y + h.1).clamp(0, WORLD));
            let id = i as u32 + 1;
            f.spawn(id, 0, Some(id));
            f.set_position(id, *p);
        }
        self.out.clear();
        f.finish(&mut self.out);
    }

    /// Every client's frame of the last tick; returns the bytes of all of them.
    fn send(&mut self, snapshot: bool) -> usize {
        let shared = std::mem::take(&mut self.out);
        // A fresh buffer each tick, sized by the last, as the server's send phase does.
        let mut arena = Vec::with_capacity(self.arena.len());
        self.ends.clear();
        let radius = self.replica.interest().is_some();
        for (i, view) in self.views.iter_mut().enumerate() {
            let player = i as u32 + 1;
            let events = EventBatch::default();
            match (radius, snapshot) {
                (true, true) => self
                    .replica
                    .write_area_snapshot(view, player, 0, events, &mut arena),
                (true, false) => self
                    .replica
                    .write_area_delta(view, player, 0, 0, events, &mut arena),
                (false, _) => {
                    arena.extend_from_slice(&shared);
                    self.replica
                        .write_own_delta(player, 0, 0, events, &mut arena);
                }
            }
            self.ends.push(arena.len());
        }
        self.out = shared;
        self.arena = arena;
        self.arena.len()
    }

    /// Applies every client's frame of the last tick to its mirror.
    fn apply(&mut self) {
        let mut start = 0;
        for (mirror, &end) in self.mirrors.iter_mut().zip(&self.ends) {
            mirror
                .apply(&self.arena[start..end])
                .expect("a well-formed frame");
            start = end;
        }
    }

    /// Times `iters` ticks of every client applying its frame (recorded and assembled untimed).
    fn time_apply(&mut self, iters: u64) -> Duration {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            self.step();
            self.send(false);
            let t = Instant::now();
            self.apply();
            total += t.elapsed();
        }
        total
    }

    /// Times `iters` ticks: recording them untimed, encoding and assembling every frame timed.
    fn time(&mut self, iters: u64) -> (Duration, usize) {
        let (mut total, mut bytes) = (Duration::ZERO, 0);
        for _ in 0..iters {
            self.step();
            let t = Instant::now();
            bytes += self.send(false);
            total += t.elapsed();
        }
        (total, bytes)
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("interest");
    group.sample_size(20);
    for (name, radius) in [
        ("radius_10_2000_players", true),
        ("everyone_2000_players", false),
    ] {
        let mut r = room(radius);
        group.bench_function(name, |bencher| bencher.iter_custom(|iters| r.time(iters).0));
        let (took, bytes) = r.time(20);
        println!(
            "interest/{name}: {:.0} bytes per client per tick, {:.2} µs per client per tick",
            bytes as f64 / 20.0 / f64::from(PLAYERS),
            took.as_secs_f64() * 1e6 / 20.0 / f64::from(PLAYERS)
        );
    }
    let mut r = room(true);
    r.mirrors = (1..=PLAYERS)
        .map(|player| WorldView::new(r.schema.clone(), player))
        .collect();
    r.apply();
    group.bench_function("client_apply_radius_10_2000_players", |bencher| {
        bencher.iter_custom(|iters| r.time_apply(iters));
    });
    let took = r.time_apply(20);
    println!(
        "interest/client_apply_radius_10_2000_players: {:.2} µs per client per tick",
        took.as_secs_f64() * 1e6 / 20.0 / f64::from(PLAYERS)
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
