//! [`RoomRegistry`]: every open room by id, room creation and seat-taking.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use dashmap::DashMap;
use thiserror::Error;
use tokio_util::sync::CancellationToken;

use super::components::Shared;
use super::game::{Room, RoomSettings};
use super::handle::{RoomHandle, SpectatorEvent};
use super::ids::RoomIds;
use super::pool::TickPool;
use crate::client_addr::ClientCounts;
use crate::config::Config;
use crate::game::GameCatalog;
use crate::metrics::Metrics;

/// Largest room a game may ask for (the bound of `--room-capacity`).
const MAX_CAPACITY: u32 = 10_000;

/// Room commands queued per player of capacity (inputs at the tick rate, plus slack).
const INBOX_PER_PLAYER: usize = 16;

/// Why a room could not be made or entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RegistryError {
    /// The server runs as many rooms as it may.
    #[error("the server runs its maximum of {0} rooms")]
    TooManyRooms(usize),
    /// The address already opened as many rooms as it may that no player has entered yet.
    #[error("{0} rooms per address that no player has entered yet")]
    TooManyUnenteredRooms(usize),
    /// The room has no free seat.
    #[error("room {0} is full")]
    RoomFull(u32),
    /// No such room.
    #[error("room {0} does not exist")]
    NoSuchRoom(u32),
    /// The mode's game failed to build a room (logged with the reason).
    #[error("the game of this mode could not open a room")]
    GameFailed,
    /// A cluster node has no room id left until its next lease renewal brings a block.
    #[error("this node is waiting for room ids from the cluster")]
    NoIds,
}

/// Open rooms by id, with a count of them that creators reserve against `--max-rooms` before
/// they insert, so concurrent creators never overshoot the cap.
#[derive(Debug, Default)]
pub struct OpenRooms {
    by_id: DashMap<u32, Arc<RoomHandle>>,
    counted: AtomicUsize,
}

impl OpenRooms {
    /// Reserves a place for one more room if fewer than `max` are open or reserved.
    fn reserve(&self, max: usize) -> bool {
        if self.counted.fetch_add(1, Ordering::AcqRel) < max {
            return true;
        }
        self.unreserve();
        false
    }

    /// Gives back a place reserved or held by a room.
    fn unreserve(&self) {
        let _ = self
            .counted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }

    /// Adds a room, into a place reserved for it.
    pub fn insert(&self, id: u32, handle: Arc<RoomHandle>) {
        self.by_id.insert(id, handle);
    }

    /// Removes a room, if it is still listed, and gives its place back.
    pub fn remove(&self, id: &u32) {
        if self.by_id.remove(id).is_some() {
            self.unreserve();
        }
    }

    /// Rooms open or reserved (a count kept apart from the map, so reading it locks nothing).
    fn count(&self) -> usize {
        self.counted.load(Ordering::Acquire)
    }
}

/// Every open room.
#[derive(Debug)]
pub struct RoomRegistry {
    rooms: Arc<OpenRooms>,
    resume_index: Arc<DashMap<String, u32>>,
    ids: RoomIds,
    settings: RoomSettings,
    default_capacity: u32,
    mode_capacities: std::collections::HashMap<String, u32>,
    /// `--mode-interest-radius`, in world units.
    mode_interest_radii: std::collections::HashMap<String, f64>,
    max_rooms: usize,
    unentered: Unentered,
    pool: TickPool,
    metrics: Arc<Metrics>,
    games: GameCatalog,
}

/// Rooms no player has entered yet, and how many each address opened (`--rooms-per-addr`).
#[derive(Debug, Default)]
struct Unentered {
    creator: DashMap<u32, IpAddr>,
    per_addr: ClientCounts,
    limit: usize,
}

impl Unentered {
    /// Counts one more room for `addr`, atomically against the limit.
    fn claim(&self, addr: IpAddr) -> Result<(), RegistryError> {
        if !self.per_addr.try_acquire(addr, self.limit) {
            return Err(RegistryError::TooManyUnenteredRooms(self.limit));
        }
        Ok(())
    }

    /// Gives back one room of `addr`.
    fn unclaim(&self, addr: IpAddr) {
        self.per_addr.release(addr);
    }

    /// Stops counting `room` against its creator.
    fn forget(&self, room: u32) {
        if let Some((_, addr)) = self.creator.remove(&room) {
            self.unclaim(addr);
        }
    }
}

impl RoomRegistry {
    /// A registry whose rooms play the games of `games` and tick on a new tick pool until
    /// `shutdown`.
    pub fn start(
        config: &Config,
        games: GameCatalog,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
    ) -> std::io::Result<Self> {
        let pool = TickPool::start(
            config.tick_thread_count(),
            config.tick_period(),
            metrics.clone(),
            shutdown,
        )?;
        Ok(Self {
            rooms: Arc::default(),
            resume_index: Arc::default(),
            ids: if config.redis.is_some() {
                RoomIds::clustered()
            } else {
                RoomIds::local()
            },
            settings: RoomSettings::from_config(config),
            default_capacity: config.room_capacity,
            mode_capacities: config.mode_capacities.iter().cloned().collect(),
            mode_interest_radii: config.mode_interest_radii.iter().cloned().collect(),
            max_rooms: config.max_rooms,
            unentered: Unentered {
                limit: config.rooms_per_addr,
                ..Unentered::default()
            },
            pool,
            metrics,
            games,
        })
    }

    /// Where this registry's room ids come from.
    pub fn ids(&self) -> &RoomIds {
        &self.ids
    }

    /// Closes every room at its next tick, its players with 4009: the node lost its place in
    /// the cluster, and its rooms with it.
    pub fn evict_all(&self) {
        for room in self.list() {
            room.evict();
        }
    }

    /// The games this registry's rooms play.
    pub fn games(&self) -> &GameCatalog {
        &self.games
    }

    /// The capacity of a room of `mode`.
    /// `--mode-capacity` for the mode, else the capacity its game asks for, else
    /// `--room-capacity`.
    pub fn capacity_for(&self, mode: &str) -> u32 {
        self.mode_capacities
            .get(mode)
            .copied()
            .or_else(|| self.games.game_for(mode).room_capacity())
            .map_or(self.default_capacity, |c| c.clamp(1, MAX_CAPACITY))
    }

    /// The interest radius of a room of `mode`, in quanta: `--mode-interest-radius` for the
    /// mode, else the radius its game asks for, else `--interest-radius`.
    pub fn interest_radius_for(&self, mode: &str) -> i32 {
        self.mode_interest_radii
            .get(mode)
            .copied()
            .or_else(|| self.games.game_for(mode).interest_radius())
            .map_or(self.settings.interest_radius, protocol::quant::quanta_of)
            .max(0)
    }

    /// Opens a new room of `mode` for `creator`, which counts against `--rooms-per-addr` until
    /// a seat in it is redeemed.
    pub fn create(&self, mode: &str, creator: IpAddr) -> Result<Arc<RoomHandle>, RegistryError> {
        if !self.rooms.reserve(self.max_rooms) {
            return Err(RegistryError::TooManyRooms(self.max_rooms));
        }
        if let Err(e) = self.unentered.claim(creator) {
            self.rooms.unreserve();
            return Err(e);
        }
        let Some(id) = self.ids.take() else {
            self.unentered.unclaim(creator);
            self.rooms.unreserve();
            return Err(RegistryError::NoIds);
        };
        // The room counts against its creator from the claim on, but is named as the creator's
        // only once it is listed: `prune_unentered` forgets named rooms that are not listed,
        // and building a room takes a while.
        match self.open(id, mode, |_| {}) {
            Ok(handle) => {
                self.unentered.creator.insert(id, creator);
                Ok(handle)
            }
            Err(e) => {
                self.unentered.unclaim(creator);
                Err(e)
            }
        }
    }

    /// Opens the demo room: a room of `mode` kept filled to `bots` players with bots and kept
    /// open while no human is in it (it counts against no address).
    pub fn open_demo(&self, mode: &str, bots: u32) -> Result<Arc<RoomHandle>, RegistryError> {
        if !self.rooms.reserve(self.max_rooms) {
            return Err(RegistryError::TooManyRooms(self.max_rooms));
        }
        let Some(id) = self.ids.take() else {
            self.rooms.unreserve();
            return Err(RegistryError::NoIds);
        };
        self.open(id, mode, |room| {
            room.fill_with_bots(bots);
            room.keep_open();
        })
    }

    /// Builds room `id` of `mode` into a place reserved for it, lets `setup` adjust its handle,
    /// and hands it to a tick thread.
    fn open(
        &self,
        id: u32,
        mode: &str,
        setup: impl FnOnce(&RoomHandle),
    ) -> Result<Arc<RoomHandle>, RegistryError> {
        let capacity = self.capacity_for(mode);
        let inbox = (capacity as usize)
            .saturating_mul(INBOX_PER_PLAYER)
            .clamp(64, 1 << 16);
        let (handle, rx) = RoomHandle::new(id, mode.to_owned(), capacity, inbox);
        let shared = Shared {
            metrics: self.metrics.clone(),
            resume_index: self.resume_index.clone(),
            rooms: self.rooms.clone(),
        };
        let game = self.games.game_for(mode);
        // The game's own code runs here (its build and startup systems): a panic in it fails
        // this room alone, on the caller's thread, with every reservation given back.
        let settings = RoomSettings {
            interest_radius: self.interest_radius_for(mode),
            ..self.settings.clone()
        };
        let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Room::new(handle.clone(), settings, rx, shared, game.as_ref())
        }));
        let room = match built {
            Ok(Ok(room)) => room,
            Ok(Err(e)) => return Err(self.abandon(id, mode, &e.to_string())),
            Err(_) => return Err(self.abandon(id, mode, "the game panicked while building")),
        };
        setup(&handle);
        self.rooms.insert(id, handle.clone());
        self.pool.spawn(room);
        tracing::info!(room = id, mode, game = game.name(), capacity, "room opened");
        Ok(handle)
    }

    /// Gives back the place reserved for room `id`, after its game failed to build it (its
    /// creator's claim is given back by the caller).
    fn abandon(&self, id: u32, mode: &str, error: &str) -> RegistryError {
        tracing::error!(room = id, mode, error, "cannot open a room");
        self.rooms.unreserve();
        RegistryError::GameFailed
    }

    /// Takes a seat in an open room of `mode` that has one, or in a new room for `creator`.
    pub fn seat_in_any(
        &self,
        mode: &str,
        creator: IpAddr,
    ) -> Result<(Arc<RoomHandle>, u32), RegistryError> {
        let mut open: Vec<Arc<RoomHandle>> = self
            .rooms
            .by_id
            .iter()
            .filter(|r| r.mode == mode && !r.is_closed() && r.occupancy() < r.capacity)
            .map(|r| r.value().clone())
            .collect();
        // Fill the fullest room first, so that players meet.
        open.sort_by_key(|r| std::cmp::Reverse(r.occupancy()));
        for room in open {
            if let Some(player_id) = room.try_reserve() {
                return Ok((room, player_id));
            }
        }
        let room = self.create(mode, creator)?;
        let player_id = room.try_reserve().ok_or(RegistryError::RoomFull(room.id))?;
        Ok((room, player_id))
    }

    /// A seat of `room` was redeemed: a player entered, so the room no longer counts against
    /// its creator.
    pub fn entered(&self, room: u32) {
        self.unentered.forget(room);
    }

    /// Closes `room` at once if no player ever entered it and no seat of it is held any more
    /// (its reservations expired or were withdrawn); returns whether it closed.
    pub fn close_if_abandoned(&self, room: u32) -> bool {
        let Some(handle) = self.get(room) else {
            self.unentered.forget(room);
            return false;
        };
        // The tick thread drops a room marked closed at its next tick.
        if !self.unentered.creator.contains_key(&room) || !handle.close_if_unoccupied() {
            return false;
        }
        self.rooms.remove(&room);
        self.unentered.forget(room);
        let _ = handle.spectators.events.send(SpectatorEvent::End);
        tracing::info!(room, mode = %handle.mode, "room closed: its seats expired unredeemed");
        true
    }

    /// Stops counting rooms that closed in other ways against their creators.
    pub fn prune_unentered(&self) {
        let closed: Vec<u32> = self
            .unentered
            .creator
            .iter()
            .map(|e| *e.key())
            .filter(|id| !self.rooms.by_id.contains_key(id))
            .collect();
        for room in closed {
            self.unentered.forget(room);
        }
    }

    /// One room.
    pub fn get(&self, id: u32) -> Option<Arc<RoomHandle>> {
        self.rooms.by_id.get(&id).map(|r| r.value().clone())
    }

    /// Every open room, by id.
    pub fn list(&self) -> Vec<Arc<RoomHandle>> {
        let mut rooms: Vec<_> = self.rooms.by_id.iter().map(|r| r.value().clone()).collect();
        rooms.sort_by_key(|r| r.id);
        rooms
    }

    /// The room a resume token belongs to.
    pub fn room_of_resume_token(&self, token: &str) -> Option<u32> {
        self.resume_index.get(token).map(|r| *r)
    }

    /// Open rooms (and rooms being opened).
    pub fn len(&self) -> usize {
        self.rooms.count()
    }

    /// Whether no room is open or being opened.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits for the tick threads to end (after shutdown).
    pub fn join(&self) {
        self.pool.join();
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::sync::Barrier;
    use std::sync::atomic::AtomicBool;

    use super::*;

    fn registry(config: &Config) -> RoomRegistry {
        RoomRegistry::start(
            config,
            crate::GameCatalog::builtin(),
            Arc::default(),
            CancellationToken::new(),
        )
        .unwrap_or_else(|e| panic!("tick pool: {e}"))
    }

    #[test]
    fn concurrent_creators_never_open_more_rooms_than_the_cap() {
        let max_rooms = 8;
        let registry = registry(&Config {
            max_rooms,
            rooms_per_addr: usize::MAX,
            ..Config::default()
        });
        let creators = 8;
        let barrier = Barrier::new(creators);
        let opened: usize = std::thread::scope(|s| {
            let workers: Vec<_> = (0..creators)
                .map(|n| {
                    let (registry, barrier) = (&registry, &barrier);
                    s.spawn(move || {
                        let creator = IpAddr::V4(Ipv4Addr::new(10, 0, 0, n as u8));
                        barrier.wait();
                        (0..max_rooms)
                            .filter(|_| registry.create("ffa", creator).is_ok())
                            .count()
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
        });
        assert_eq!(opened, max_rooms);
        assert_eq!(registry.len(), max_rooms);
        assert_eq!(registry.list().len(), max_rooms);
        for room in registry.list() {
            assert!(registry.close_if_abandoned(room.id));
        }
        assert!(registry.is_empty());
        assert!(
            registry
                .create("ffa", IpAddr::V4(Ipv4Addr::LOCALHOST))
                .is_ok()
        );
    }

    #[test]
    fn a_game_sets_its_rooms_capacity_unless_the_mode_has_one() {
        struct Duel;
        impl crate::game::Game for Duel {
            fn name(&self) -> &'static str {
                "duel"
            }
            fn room_capacity(&self) -> Option<u32> {
                Some(2)
            }
            fn build(&self, _: &mut crate::game::GameBuilder) {}
        }
        let config = Config {
            mode_capacities: vec![("ranked".into(), 4)],
            ..Config::default()
        };
        let mut games = crate::GameCatalog::builtin();
        games.add(Duel);
        for mode in ["duel", "ranked"] {
            games.assign(mode, "duel").unwrap_or_else(|e| panic!("{e}"));
        }
        let registry =
            RoomRegistry::start(&config, games, Arc::default(), CancellationToken::new())
                .unwrap_or_else(|e| panic!("tick pool: {e}"));
        assert_eq!(registry.capacity_for("duel"), 2, "the game's");
        assert_eq!(registry.capacity_for("ranked"), 4, "the flag's");
        assert_eq!(registry.capacity_for("default"), config.room_capacity);
    }

    #[test]
    fn no_seat_is_granted_in_a_room_that_closes_as_abandoned() {
        let registry = registry(&Config::default());
        let creator = IpAddr::V4(Ipv4Addr::LOCALHOST);
        for round in 0..4_000 {
            let room = registry
                .create("ffa", creator)
                .unwrap_or_else(|e| panic!("{e}"));
            let barrier = Barrier::new(2);
            let done = AtomicBool::new(false);
            let (reserved, closed) = std::thread::scope(|s| {
                // Starts a little later each round, then keeps trying until the closer is
                // done, so some round lands in any window the closer leaves.
                let reserver = s.spawn(|| {
                    barrier.wait();
                    for _ in 0..round % 1_000 {
                        std::hint::spin_loop();
                    }
                    while !done.load(Ordering::Acquire) {
                        if room.try_reserve().is_some() {
                            return true;
                        }
                    }
                    false
                });
                barrier.wait();
                let closed = registry.close_if_abandoned(room.id);
                done.store(true, Ordering::Release);
                (reserver.join().unwrap_or(false), closed)
            });
            assert!(
                !(reserved && closed),
                "room {} closed under a granted seat",
                room.id
            );
            if reserved {
                room.release();
                assert!(registry.close_if_abandoned(room.id));
            }
        }
    }
}
