//! The tick pool: a few threads (one per core by default), each ticking its share of the rooms
//! on a fixed-step clock. Tick threads never await I/O: they write
//! frames into sockets without blocking (see [`crate::net::outbox`]).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use protocol::CloseCode;
use tokio_util::sync::CancellationToken;

use super::game::Room;
use crate::metrics::Metrics;

/// The tick threads and the channels that hand them new rooms.
#[derive(Debug)]
pub struct TickPool {
    shards: Vec<Shard>,
    threads: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

#[derive(Debug)]
struct Shard {
    rooms: mpsc::Sender<Room>,
    load: Arc<AtomicUsize>,
}

impl TickPool {
    /// Starts `threads` tick threads that tick every `period` until `shutdown`.
    pub fn start(
        threads: usize,
        period: Duration,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
    ) -> std::io::Result<Self> {
        let mut shards = Vec::new();
        let mut handles = Vec::new();
        for i in 0..threads.max(1) {
            let (tx, rx) = mpsc::channel();
            let load = Arc::new(AtomicUsize::new(0));
            let (m, s, l) = (metrics.clone(), shutdown.clone(), load.clone());
            let handle = std::thread::Builder::new()
                .name(format!("tick-{i}"))
                .spawn(move || run_shard(rx, period, &m, &s, &l))?;
            shards.push(Shard { rooms: tx, load });
            handles.push(handle);
        }
        Ok(Self {
            shards,
            threads: std::sync::Mutex::new(handles),
        })
    }

    /// Hands a room to the least loaded tick thread.
    pub fn spawn(&self, room: Room) {
        let Some(shard) = self
            .shards
            .iter()
            .min_by_key(|s| s.load.load(Ordering::Relaxed))
        else {
            return;
        };
        shard.load.fetch_add(1, Ordering::Relaxed);
        if shard.rooms.send(room).is_err() {
            shard.load.fetch_sub(1, Ordering::Relaxed);
            tracing::warn!("tick thread is gone; room dropped");
        }
    }

    /// Waits until every tick thread has ended (after the shutdown token fired).
    pub fn join(&self) {
        let handles = match self.threads.lock() {
            Ok(mut h) => std::mem::take(&mut *h),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        for h in handles {
            if h.join().is_err() {
                tracing::error!("a tick thread panicked");
            }
        }
    }
}

/// Ticks one room, containing a panic to it: a room whose tick panicked is closed (its players
/// get 4009, it leaves the listings), logged and counted; the thread and its other rooms go on.
/// Returns whether the room is still open.
fn tick_contained(room: &mut Room, metrics: &Metrics) -> bool {
    let panic = match std::panic::catch_unwind(AssertUnwindSafe(|| room.tick())) {
        Ok(open) => return open,
        Err(panic) => panic,
    };
    metrics.room_panics.increment(1);
    let what = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message");
    tracing::error!(
        room = room.id(),
        panic = what,
        "a room's tick panicked; closing the room"
    );
    let closed = std::panic::catch_unwind(AssertUnwindSafe(|| {
        room.close(CloseCode::RoomClosed, "the room failed and closed");
    }));
    if closed.is_err() {
        tracing::error!(room = room.id(), "closing the failed room panicked too");
    }
    false
}

fn run_shard(
    inbox: mpsc::Receiver<Room>,
    period: Duration,
    metrics: &Metrics,
    shutdown: &CancellationToken,
    load: &AtomicUsize,
) {
    let mut rooms: Vec<Room> = Vec::new();
    let mut deadline = Instant::now();
    loop {
        rooms.extend(inbox.try_iter());
        if shutdown.is_cancelled() {
            for mut room in rooms.drain(..) {
                room.close(CloseCode::Shutdown, "the server is shutting down");
            }
            return;
        }
        metrics
            .tick_lateness
            .record(Instant::now().saturating_duration_since(deadline));
        rooms.retain_mut(|room| {
            let started = Instant::now();
            let open = tick_contained(room, metrics);
            metrics.tick_duration.record(started.elapsed());
            if !open {
                load.fetch_sub(1, Ordering::Relaxed);
            }
            open
        });
        deadline += period;
        let now = Instant::now();
        if now > deadline + period * 4 {
            // Far behind (the machine stalled): skip the missed ticks instead of racing.
            tracing::warn!(
                behind_ms = (now - deadline).as_millis() as u64,
                "tick thread fell behind; skipping ticks"
            );
            deadline = now;
        } else if deadline > now {
            std::thread::sleep(deadline - now);
        }
    }
}
