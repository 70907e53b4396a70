//! The matchmaker with 50,000 searching tickets: the cost of creating one more ticket, and of
//! one matcher pass.
//!
//! The tickets wait in one mode across four regions with distinct skills 0.2 rating points
//! apart and a fixed window of ±0.1, so no two ever match: the queue stays at 50,000 and every
//! pass does the full work of looking for a match and finding none (the steady state of a big
//! queue). Ticket creation is also timed one by one, and its p50 / p99 printed.
//!
//! A second pass case holds 50,000 parties of 6 of one skill in rooms of 10: no two fit in one
//! room, so every anchor meets only tickets that do not fit (the input that made a pass
//! quadratic before anchors stopped early).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use protocol::api::CreateTicket;
use server::{App, Config};
use tokio_util::sync::CancellationToken;

/// Searching tickets held while measuring.
const OPEN: usize = 50_000;
/// Regions the tickets spread over.
const REGIONS: [&str; 4] = ["eu", "us", "asia", "sa"];
/// Creates timed one by one for the percentiles.
const TIMED_CREATES: usize = 2_000;

fn ticket(i: usize) -> CreateTicket {
    CreateTicket {
        player_name: format!("p{i}"),
        mode: "bench".into(),
        region: REGIONS[i % REGIONS.len()].into(),
        skill: Some(i as f64 * 0.2 % 10_000.0),
        party: Vec::new(),
    }
}

/// A party of 6 of skill 1,000: two never fit in one room of 10 (the default capacity).
fn party_of_six(i: usize) -> CreateTicket {
    CreateTicket {
        player_name: format!("p{i}"),
        mode: "bench".into(),
        region: "eu".into(),
        skill: Some(1_000.0),
        party: (1..6).map(|k| format!("p{i}m{k}")).collect(),
    }
}

/// A server state holding [`OPEN`] searching tickets made by `make` that never match.
fn app_with_open_tickets(shutdown: CancellationToken, make: fn(usize) -> CreateTicket) -> Arc<App> {
    let config = Config {
        max_tickets: 10 * OPEN,
        tickets_per_addr: 10 * OPEN,
        skill_window: 0.1,
        skill_widen_per_sec: 0.0,
        match_wait: Duration::from_secs(86_400),
        ticket_ttl: Duration::from_secs(86_400),
        tick_threads: 1,
        modes: vec!["*".into()],
        ..Config::default()
    };
    let app = App::start(
        config,
        server::GameCatalog::builtin(),
        "http://127.0.0.1:1".into(),
        shutdown,
    )
    .unwrap();
    let start = Instant::now();
    for i in 0..OPEN {
        now(app.matchmaker.create(make(i), addr(i))).unwrap();
    }
    println!("filled {OPEN} tickets in {:?}", start.elapsed());
    app
}

/// The answer of a future of the in-memory store, which is ready at its first poll.
fn now<F: std::future::Future>(f: F) -> F::Output {
    futures_util::FutureExt::now_or_never(f).expect("in memory, an answer at once")
}

fn addr(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + (i as u32 % 4096)))
}

/// Creates one ticket (timed) and cancels it (not timed), so the queue stays at [`OPEN`].
fn create_once(app: &App, i: usize) -> Duration {
    let start = Instant::now();
    let view = now(app.matchmaker.create(ticket(OPEN + i), addr(i))).unwrap();
    let took = start.elapsed();
    now(app.matchmaker.cancel(&view.ticket_id)).unwrap();
    took
}

fn bench(c: &mut Criterion) {
    let shutdown = CancellationToken::new();
    let app = app_with_open_tickets(shutdown.clone(), ticket);

    let mut times: Vec<Duration> = (0..TIMED_CREATES).map(|i| create_once(&app, i)).collect();
    times.sort();
    let pct = |p: usize| times[(times.len() * p / 100).min(times.len() - 1)];
    println!(
        "ticket create with {OPEN} open: p50 {:?}, p99 {:?}, max {:?} ({TIMED_CREATES} creates)",
        pct(50),
        pct(99),
        times[times.len() - 1]
    );

    let mut group = c.benchmark_group("matchmaking");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.measurement_time(Duration::from_secs(2));
    let mut n = TIMED_CREATES;
    group.bench_function("ticket_create/50000_open", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    n += 1;
                    create_once(&app, n)
                })
                .sum()
        })
    });
    // One untimed pass first, so the timed ones do not also clear the tickets the create
    // benchmark cancelled.
    now(app.matchmaker.run_pass());
    group.bench_function("matcher_pass/50000_open", |b| {
        b.iter(|| now(app.matchmaker.run_pass()))
    });
    let parties = app_with_open_tickets(shutdown.clone(), party_of_six);
    group.bench_function("matcher_pass/50000_parties_of_6_in_10", |b| {
        b.iter(|| now(parties.matchmaker.run_pass()))
    });
    group.finish();
    shutdown.cancel();
}

criterion_group!(benches, bench);
criterion_main!(benches);
