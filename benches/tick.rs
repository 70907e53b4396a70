//! One room's tick (receive, simulate, replicate once, fan out) of the movement game with 1,000
//! and 10,000 moving entities, the cost per connected client per tick of the fan-out, and rooms
//! of the coins game. The movement rows keep their names across versions so figures compare.
#![allow(missing_docs)]
// A benchmark builds the built-in games, which the server checks at every start.
#![allow(clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use protocol::QPos;
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use server::Config;
use server::game::{Game, Position, Replicate};
use server::games::coins::Coins;
use server::games::movement::{Movement, Velocity};
use server::room::components::Shared;
use server::room::queue::{FrameReceiver, frame_queue};
use server::room::{ClientConn, CloseSignal, Room, RoomCommand, RoomHandle, RoomSettings};
use tokio::sync::oneshot;

/// A room playing a game with `entities` moving entities (no connections) and `clients`
/// connected players whose queues the benchmark drains.
struct Bench {
    room: Room,
    queues: Vec<FrameReceiver>,
    rng: StdRng,
    speed: i32,
}

fn bench_room(game: &dyn Game, entities: u32, clients: u32) -> Bench {
    // Never idle-close: most bench rooms have no players.
    let config = Config {
        room_capacity: 10_000,
        room_idle_secs: server::config::MAX_DURATION,
        ..Config::default()
    };
    let settings = RoomSettings::from_config(&config);
    let (handle, rx) = RoomHandle::new(1, "bench".into(), 10_000, 1 << 16);
    let shared = Shared {
        metrics: Arc::default(),
        resume_index: Arc::default(),
        rooms: Arc::default(),
    };
    let speed = settings.max_speed;
    let mut room =
        Room::new(handle.clone(), settings, rx, shared, game).expect("the built-in games build");
    let mut rng = StdRng::seed_from_u64(3);
    let world = room.world_mut();
    for _ in 0..entities {
        world.spawn((
            Replicate::kind(protocol::schema::PLAYER_KIND),
            Position(QPos::new(
                rng.random_range(0..10_000),
                rng.random_range(0..10_000),
            )),
            Velocity::default(),
        ));
    }
    let mut queues = Vec::new();
    let mut answers = Vec::new();
    for _ in 0..clients {
        let Some(player_id) = handle.try_reserve() else {
            break;
        };
        let (tx, frames) = frame_queue(64);
        let conn = ClientConn {
            conn_id: u64::from(player_id),
            frames: tx,
            close: CloseSignal::new(),
        };
        let (reply, answer) = oneshot::channel();
        // A join whose answer nobody waits for is not admitted.
        answers.push(answer);
        let _ = handle.try_send(RoomCommand::Join {
            player_id,
            name: format!("c{player_id}"),
            conn,
            reply,
        });
        queues.push(frames);
    }
    room.tick();
    let mut bench = Bench {
        room,
        queues,
        rng,
        speed,
    };
    bench.drain();
    bench
}

impl Bench {
    /// New random velocities for every entity and player (outside the timed part).
    fn stir(&mut self) {
        let speed = self.speed;
        let world = self.room.world_mut();
        let mut q = world.query::<&mut Velocity>();
        for mut v in q.iter_mut(world) {
            *v = Velocity {
                x: self.rng.random_range(-speed..=speed),
                y: self.rng.random_range(-speed..=speed),
            };
        }
    }

    fn drain(&mut self) {
        for q in &mut self.queues {
            while q.try_recv().is_some() {}
        }
    }

    /// Times `iters` ticks, stirring and draining between them untimed.
    fn time(&mut self, iters: u64) -> Duration {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            self.stir();
            let t = Instant::now();
            self.room.tick();
            total += t.elapsed();
            self.drain();
        }
        total
    }
}

fn movement(c: &mut Criterion) {
    let mut group = c.benchmark_group("tick");
    for n in [1_000u32, 10_000] {
        let mut b = bench_room(&Movement, n, 0);
        group.bench_function(BenchmarkId::new("moving_entities", n), |bencher| {
            bencher.iter_custom(|iters| b.time(iters))
        });
    }
    group.finish();

    // A typical small room: ten players, all connected.
    let mut b = bench_room(&Movement, 0, 10);
    c.bench_function("tick/room_of_10_connected", |bencher| {
        bencher.iter_custom(|iters| b.time(iters))
    });

    // Fan-out: the same 100 moving entities with 0 and with 1,000 connected clients.
    let mut group = c.benchmark_group("fan_out");
    let mut per_tick = Vec::new();
    for clients in [0u32, 1_000] {
        let mut b = bench_room(&Movement, 100, clients);
        group.bench_function(BenchmarkId::new("clients", clients), |bencher| {
            bencher.iter_custom(|iters| b.time(iters))
        });
        let iters = 2_000;
        per_tick.push(b.time(iters) / iters as u32);
    }
    group.finish();
    if let [none, many] = per_tick[..] {
        let per_client = many.saturating_sub(none).as_nanos() as f64 / 1_000.0;
        println!(
            "fan-out: {none:?} per tick without clients, {many:?} with 1,000: {per_client:.0} ns per client per tick"
        );
    }
}

/// Coins rooms: players that move (and take coins, score, win rounds), all connected.
fn coins(c: &mut Criterion) {
    let mut group = c.benchmark_group("tick");
    for players in [10u32, 100] {
        let mut b = bench_room(&Coins, 0, players);
        group.bench_function(format!("coins_room_of_{players}"), |bencher| {
            bencher.iter_custom(|iters| b.time(iters))
        });
    }
    group.finish();
}

criterion_group!(benches, movement, coins);
criterion_main!(benches);
