//! Encoding and decoding of deltas with 1,000 and 10,000 entities, and the wire cost of one moved
//! entity for typical per-tick movement.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use protocol::{EntityKind, EntityState, QPos, ServerMsg, WorldView, decode_server};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};

/// Quanta per tick at the default 10 units/s and 30 Hz.
const MAX_SPEED: i32 = 33;

/// A world of `n` players and the next tick where every one of them moved and sent an input.
fn world_and_delta(n: u32, rng: &mut StdRng) -> (WorldView, Vec<EntityState>) {
    let mut view = WorldView::new();
    let mut frame = view.begin_frame(1, 0);
    let entities: Vec<EntityState> = (1..=n)
        .map(|id| EntityState {
            id,
            kind: EntityKind::Player,
            pos: QPos::new(rng.random_range(0..10_000), rng.random_range(0..10_000)),
            ack: 100,
        })
        .collect();
    for e in &entities {
        frame.upsert(*e);
    }
    frame.finish();
    let next = entities
        .iter()
        .map(|e| EntityState {
            pos: QPos::new(
                e.pos.x + rng.random_range(-MAX_SPEED..=MAX_SPEED),
                e.pos.y + rng.random_range(-MAX_SPEED..=MAX_SPEED),
            ),
            ack: e.ack + 1,
            ..*e
        })
        .collect();
    (view, next)
}

fn delta_msg(view: &WorldView, next: &[EntityState], acks: bool) -> ServerMsg {
    let mut view = view.clone();
    let mut frame = view.begin_frame(2, 1_700_000_000_000_000);
    for e in next {
        let ack = if acks { e.ack } else { e.ack - 1 };
        frame.upsert(EntityState { ack, ..*e });
    }
    ServerMsg::Delta(frame.finish())
}

fn bench(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(7);
    for n in [1_000u32, 10_000] {
        let (view, next) = world_and_delta(n, &mut rng);
        let moves_only =
            protocol::encode_server(&delta_msg(&view, &next, false)).unwrap_or_default();
        let with_acks = protocol::encode_server(&delta_msg(&view, &next, true)).unwrap_or_default();
        println!(
            "delta with {n} moved entities: {} bytes = {:.2} bytes per moved entity; with every player's input ack: {} bytes = {:.2} bytes per player",
            moves_only.len(),
            moves_only.len() as f64 / f64::from(n),
            with_acks.len(),
            with_acks.len() as f64 / f64::from(n),
        );

        let mut group = c.benchmark_group("delta");
        group.throughput(Throughput::Elements(u64::from(n)));
        let msg = delta_msg(&view, &next, true);
        let mut buf = Vec::with_capacity(with_acks.len());
        group.bench_with_input(BenchmarkId::new("encode", n), &msg, |b, msg| {
            b.iter(|| {
                buf.clear();
                protocol::codec::encode_into(black_box(msg), &mut buf).unwrap_or_default();
                buf.len()
            })
        });
        group.bench_with_input(BenchmarkId::new("decode", n), &with_acks, |b, bytes| {
            b.iter(|| decode_server(black_box(bytes)).is_ok())
        });
        group.bench_with_input(BenchmarkId::new("build", n), &next, |b, next| {
            b.iter(|| delta_msg(black_box(&view), next, true))
        });
        group.bench_with_input(
            BenchmarkId::new("decode_and_apply", n),
            &with_acks,
            |b, bytes| {
                b.iter(|| {
                    let mut v = view.clone();
                    if let Ok(ServerMsg::Delta(d)) = decode_server(black_box(bytes)) {
                        v.apply_delta(&d).is_ok()
                    } else {
                        false
                    }
                })
            },
        );
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
