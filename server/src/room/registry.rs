//! [`RoomRegistry`]: every open room by id, room creation and seat-taking.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use dashmap::DashMap;
use thiserror::Error;
use tokio_util::sync::CancellationToken;

use super::components::Shared;
use super::game::{Room, RoomSettings};
use super::handle::RoomHandle;
use super::pool::TickPool;
use crate::config::Config;
use crate::metrics::Metrics;

/// Room commands queued per player of capacity (inputs at the tick rate, plus slack).
const INBOX_PER_PLAYER: usize = 16;

/// Why a room could not be made or entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RegistryError {
    /// The server runs as many rooms as it may.
    #[error("the server runs its maximum of {0} rooms")]
    TooManyRooms(usize),
    /// The room has no free seat.
    #[error("room {0} is full")]
    RoomFull(u32),
    /// No such room.
    #[error("room {0} does not exist")]
    NoSuchRoom(u32),
}

/// Every open room.
#[derive(Debug)]
pub struct RoomRegistry {
    rooms: Arc<DashMap<u32, Arc<RoomHandle>>>,
    resume_index: Arc<DashMap<String, u32>>,
    next_id: AtomicU32,
    settings: RoomSettings,
    default_capacity: u32,
    mode_capacities: std::collections::HashMap<String, u32>,
    max_rooms: usize,
    pool: TickPool,
    metrics: Arc<Metrics>,
}

impl RoomRegistry {
    /// A registry whose rooms tick on a new tick pool until `shutdown`.
    pub fn start(
        config: &Config,
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
            next_id: AtomicU32::new(1),
            settings: RoomSettings::from_config(config),
            default_capacity: config.room_capacity,
            mode_capacities: config.mode_capacities.iter().cloned().collect(),
            max_rooms: config.max_rooms,
            pool,
            metrics,
        })
    }

    /// The capacity of a room of `mode`.
    pub fn capacity_for(&self, mode: &str) -> u32 {
        self.mode_capacities
            .get(mode)
            .copied()
            .unwrap_or(self.default_capacity)
    }

    /// Opens a new room of `mode`.
    pub fn create(&self, mode: &str) -> Result<Arc<RoomHandle>, RegistryError> {
        if self.rooms.len() >= self.max_rooms {
            return Err(RegistryError::TooManyRooms(self.max_rooms));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
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
        let room = Room::new(handle.clone(), self.settings.clone(), rx, shared);
        self.rooms.insert(id, handle.clone());
        self.pool.spawn(room);
        tracing::info!(room = id, mode, capacity, "room opened");
        Ok(handle)
    }

    /// Takes a seat in an open room of `mode` that has one, or in a new room.
    pub fn seat_in_any(&self, mode: &str) -> Result<(Arc<RoomHandle>, u32), RegistryError> {
        let mut open: Vec<Arc<RoomHandle>> = self
            .rooms
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
        let room = self.create(mode)?;
        let player_id = room.try_reserve().ok_or(RegistryError::RoomFull(room.id))?;
        Ok((room, player_id))
    }

    /// One room.
    pub fn get(&self, id: u32) -> Option<Arc<RoomHandle>> {
        self.rooms.get(&id).map(|r| r.value().clone())
    }

    /// Every open room, by id.
    pub fn list(&self) -> Vec<Arc<RoomHandle>> {
        let mut rooms: Vec<_> = self.rooms.iter().map(|r| r.value().clone()).collect();
        rooms.sort_by_key(|r| r.id);
        rooms
    }

    /// The room a resume token belongs to.
    pub fn room_of_resume_token(&self, token: &str) -> Option<u32> {
        self.resume_index.get(token).map(|r| *r)
    }

    /// Open rooms.
    pub fn len(&self) -> usize {
        self.rooms.len()
    }

    /// Whether no room is open.
    pub fn is_empty(&self) -> bool {
        self.rooms.is_empty()
    }

    /// Waits for the tick threads to end (after shutdown).
    pub fn join(&self) {
        self.pool.join();
    }
}
