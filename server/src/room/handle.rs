//! [`RoomHandle`]: what the rest of the server holds of a room that lives on a tick thread.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use protocol::NetId;
use protocol::api::SpectatorSnapshot;
use protocol::schema::{FieldDef, Schema};
use tokio::sync::{broadcast, mpsc, watch};

use super::link::{Departure, RoomCommand};

/// The receiving ends of a room's two inboxes.
#[derive(Debug)]
pub struct RoomInbox {
    /// Joins, resumes and inputs (bounded).
    pub commands: mpsc::Receiver<RoomCommand>,
    /// Departures (unbounded: at most one per connection, never dropped).
    pub departures: mpsc::UnboundedReceiver<Departure>,
}

/// One spectator update: the JSON of a `delta` or `end` event.
#[derive(Debug, Clone)]
pub enum SpectatorEvent {
    /// What changed up to `tick`, as the JSON of a [`protocol::api::SpectatorDelta`].
    Delta {
        /// The tick (the SSE event id).
        tick: u32,
        /// The tick of the previous update.
        baseline: u32,
        /// The encoded delta, shared by every spectator.
        json: Arc<str>,
    },
    /// The room closed.
    End,
}

/// One state captured at the full spectator rate, for viewport streams to filter.
#[derive(Debug, Clone)]
pub struct LiveState {
    /// The whole room's state (its `update_hz` is the whole-room stream's).
    pub state: Arc<SpectatorSnapshot>,
    /// Updates per second of the captures: the spectator rate.
    pub update_hz: u16,
}

/// The room's spectator channels: the latest whole-room state, the stream of whole-room
/// updates, and every captured state for viewport streams.
#[derive(Debug)]
pub struct SpectatorFeed {
    /// The latest published whole-room state (none before the first update).
    pub latest: watch::Sender<Option<Arc<SpectatorSnapshot>>>,
    /// Whole-room updates; a spectator that falls behind gets a fresh snapshot.
    pub events: broadcast::Sender<SpectatorEvent>,
    /// The latest captured state at the full spectator rate (none while nobody watches).
    pub live: watch::Sender<Option<LiveState>>,
    /// Open spectator streams of this room.
    pub watchers: AtomicUsize,
    /// Open viewport streams of this room (counted in `watchers` too).
    pub viewers: AtomicUsize,
}

/// A room's bots as the rest of the server sees them.
#[derive(Debug, Default)]
struct BotSeats {
    /// Players the room is kept filled to with bots, besides `--bots-per-room`.
    fill_to: AtomicU32,
    /// Bots in the room now.
    present: AtomicU32,
    /// The room stays open without humans (the `--demo` room).
    keep_open: AtomicBool,
}

/// Shared state and the inbox of one room.
#[derive(Debug)]
pub struct RoomHandle {
    /// The room's id.
    pub id: u32,
    /// Its game mode.
    pub mode: String,
    /// Most players (connected, dropped within grace, or holding a seat).
    pub capacity: u32,
    commands: mpsc::Sender<RoomCommand>,
    departures: mpsc::UnboundedSender<Departure>,
    occupancy: AtomicU32,
    bots: BotSeats,
    next_net_id: AtomicU32,
    tick: AtomicU32,
    closed: AtomicBool,
    evicted: AtomicBool,
    /// Spectator channels.
    pub spectators: SpectatorFeed,
    schema: OnceLock<Arc<Schema>>,
}

impl RoomHandle {
    /// A handle and the receiving ends of its inboxes; `inbox` bounds the command inbox.
    pub fn new(id: u32, mode: String, capacity: u32, inbox: usize) -> (Arc<Self>, RoomInbox) {
        let (tx, rx) = mpsc::channel(inbox);
        let (departures, departed) = mpsc::unbounded_channel();
        let handle = Self {
            id,
            mode,
            capacity,
            commands: tx,
            departures,
            occupancy: AtomicU32::new(0),
            bots: BotSeats::default(),
            next_net_id: AtomicU32::new(1),
            tick: AtomicU32::new(0),
            closed: AtomicBool::new(false),
            evicted: AtomicBool::new(false),
            spectators: SpectatorFeed {
                latest: watch::channel(None).0,
                events: broadcast::channel(64).0,
                live: watch::channel(None).0,
                watchers: AtomicUsize::new(0),
                viewers: AtomicUsize::new(0),
            },
            schema: OnceLock::new(),
        };
        let inbox = RoomInbox {
            commands: rx,
            departures: departed,
        };
        (Arc::new(handle), inbox)
    }

    /// Records the schema of the room's game (once, when the room is built).
    pub fn set_schema(&self, schema: Arc<Schema>) {
        let _ = self.schema.set(schema);
    }

    /// The schema of the room's game (none before the room is built).
    pub fn schema(&self) -> Option<&Arc<Schema>> {
        self.schema.get()
    }

    /// The fields of the game's input (none before the room is built).
    pub fn input_fields(&self) -> &[FieldDef] {
        self.schema.get().map_or(&[], |s| &s.input)
    }

    /// A network id for an entity the game spawned, unique in the room (players' ids come from
    /// the same counter, through [`RoomHandle::try_reserve`]).
    /// None once every id was used (ids are never reused, so they never collide).
    pub fn allocate_id(&self) -> Option<NetId> {
        self.next_net_id
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_add(1))
            .ok()
    }

    /// Takes a seat if one is free; returns the player id bound to it.
    pub fn try_reserve(&self) -> Option<NetId> {
        if self.is_closed() || self.is_evicted() {
            return None;
        }
        self.occupancy
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.capacity).then_some(n + 1)
            })
            .ok()?;
        let id = self.allocate_id();
        if id.is_none() {
            self.release();
        }
        id
    }

    /// Gives a seat back (an unused reservation expired, or a player is gone for good).
    pub fn release(&self) {
        let _ = self
            .occupancy
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }

    /// Seats taken: players present or dropped within grace, and unredeemed reservations.
    pub fn occupancy(&self) -> u32 {
        self.occupancy.load(Ordering::Acquire)
    }

    /// Keeps the room filled to `players` with bots while fewer humans are in it (at least; the
    /// room also keeps `--bots-per-room`). Bots come only to a game with a bot brain.
    pub fn fill_with_bots(&self, players: u32) {
        self.bots.fill_to.fetch_max(players, Ordering::Relaxed);
    }

    /// Players the room asked to be filled to with bots ([`RoomHandle::fill_with_bots`]).
    pub fn bot_fill(&self) -> u32 {
        self.bots.fill_to.load(Ordering::Relaxed)
    }

    /// Bots in the room now; they take no seat: [`RoomHandle::occupancy`] counts humans only.
    pub fn bots(&self) -> u32 {
        self.bots.present.load(Ordering::Relaxed)
    }

    pub(crate) fn set_bots(&self, bots: u32) {
        self.bots.present.store(bots, Ordering::Relaxed);
    }

    /// Keeps the room open while no human is in it (it closes only on shutdown).
    pub fn keep_open(&self) {
        self.bots.keep_open.store(true, Ordering::Relaxed);
    }

    /// Whether the room stays open without humans.
    pub fn keeps_open(&self) -> bool {
        self.bots.keep_open.load(Ordering::Relaxed)
    }

    /// The room's latest tick.
    pub fn tick(&self) -> u32 {
        self.tick.load(Ordering::Relaxed)
    }

    pub(crate) fn set_tick(&self, tick: u32) {
        self.tick.store(tick, Ordering::Relaxed);
    }

    /// Whether the room has closed.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Asks the room to close at its next tick with 4009 to every player, and takes no seat
    /// from now on (the node lost its place in the cluster).
    pub fn evict(&self) {
        self.evicted.store(true, Ordering::Release);
    }

    /// Whether [`RoomHandle::evict`] was called.
    pub fn is_evicted(&self) -> bool {
        self.evicted.load(Ordering::Acquire)
    }

    pub(crate) fn mark_closed(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// Closes the room if no seat is taken, atomically against [`RoomHandle::try_reserve`]:
    /// the seat count goes from zero to full in one step, so no seat is granted in a room that
    /// is closing. Returns whether it closed; a closed room then reports itself full.
    pub(crate) fn close_if_unoccupied(&self) -> bool {
        let claimed =
            self.occupancy
                .compare_exchange(0, self.capacity, Ordering::AcqRel, Ordering::Acquire);
        if claimed.is_err() {
            return false;
        }
        self.mark_closed();
        true
    }

    /// Queues a command without waiting; fails when the inbox is full or the room is gone.
    pub fn try_send(&self, cmd: RoomCommand) -> Result<(), mpsc::error::TrySendError<RoomCommand>> {
        self.commands.try_send(cmd)
    }

    /// Queues a command, waiting for inbox space (the room drains it every tick).
    pub async fn send(&self, cmd: RoomCommand) -> Result<(), mpsc::error::SendError<RoomCommand>> {
        self.commands.send(cmd).await
    }

    /// Tells the room that a connection ended, without waiting and whatever the inbox holds.
    /// Nothing is lost unless the room itself is gone.
    pub fn depart(&self, departure: Departure) {
        let _ = self.departures.send(departure);
    }
}
