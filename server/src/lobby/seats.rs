//! Seat reservations: 128-bit random tokens, single use, bound to one room and one player,
//! expiring after a TTL. A reservation holds a seat of its room until redeemed or expired; a
//! room whose every reservation expired or was withdrawn before anyone entered closes at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::api::SeatGrant;
use thiserror::Error;

use super::LobbyError;
use super::store::{MemoryStore, StoreError};
use crate::cluster::seats::SharedSeats;
use crate::room::{RoomHandle, RoomRegistry, random_token};

/// One reservation.
#[derive(Debug, Clone)]
pub struct Seat {
    /// The room it admits to.
    pub room_id: u32,
    /// The player id it binds.
    pub player_id: u32,
    /// The player's name.
    pub player_name: String,
    /// When it stops being redeemable.
    pub expires_at: Instant,
}

/// Why a seat token was refused at the WebSocket join.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RedeemError {
    /// Never issued, or already used.
    #[error("unknown or already used seat token")]
    Unknown,
    /// Issued but expired.
    #[error("seat token expired")]
    Expired,
    /// Issued for another room than the one the client connected to.
    #[error("seat token is for another room")]
    OtherRoom,
    /// The cluster's record of seats (Redis) cannot be reached; the seat stays redeemable.
    #[error("the cluster store is unavailable; try again")]
    Unavailable,
}

/// Every outstanding reservation.
#[derive(Debug)]
pub struct SeatBook {
    store: MemoryStore<Seat>,
    ttl: Duration,
    ws_base: String,
    registry: Arc<RoomRegistry>,
    /// On a cluster node, the cluster's record of seats.
    shared: Option<SharedSeats>,
}

impl SeatBook {
    /// A seat book issuing tokens valid for `ttl`; `ws_base` is e.g. `ws://127.0.0.1:8080`.
    /// On a cluster node, `shared` records every seat in Redis too.
    pub fn new(
        store: MemoryStore<Seat>,
        ttl: Duration,
        ws_base: String,
        registry: Arc<RoomRegistry>,
        shared: Option<SharedSeats>,
    ) -> Self {
        Self {
            store,
            ttl,
            ws_base,
            registry,
            shared,
        }
    }

    /// The WebSocket URL of a room: on the base the current request names when the server
    /// derives it from requests ([`crate::http::public`]), else on the configured base.
    pub fn ws_url(&self, room_id: u32) -> String {
        match crate::http::public::request_base() {
            Some(base) => format!("{}/ws?room={room_id}", base.replacen("http", "ws", 1)),
            None => format!("{}/ws?room={room_id}", self.ws_base),
        }
    }

    /// Rebuilds a seat's `ws_url` for the request being handled. A seat booked in another
    /// request (a lobby's start) or between requests (by the matcher) carries that moment's base;
    /// every reader gets the base it reached the server at (see [`Self::ws_url`]), never one that
    /// another client's `Host` named.
    /// A seat for a room of another node of a cluster keeps the URL that node gave it.
    pub fn rebase(&self, seat: &mut SeatGrant) {
        if self.registry.get(seat.room_id).is_some() {
            seat.ws_url = self.ws_url(seat.room_id);
        }
    }

    /// Reserves a seat in `room` for `player_name`.
    pub async fn reserve(
        &self,
        room: &RoomHandle,
        player_name: &str,
    ) -> Result<SeatGrant, LobbyError> {
        let player_id = room.try_reserve().ok_or(LobbyError::Full("the room"))?;
        self.book(room, player_id, player_name).await
    }

    /// Records a reservation for a seat already taken with [`RoomHandle::try_reserve`] (on a
    /// cluster node also in Redis; if Redis fails, the seat goes back to the room).
    pub async fn book(
        &self,
        room: &RoomHandle,
        player_id: u32,
        player_name: &str,
    ) -> Result<SeatGrant, LobbyError> {
        let token = random_token();
        if let Some(shared) = &self.shared
            && let Err(e) = shared.issue(&token, room.id, self.ttl).await
        {
            room.release();
            self.registry.close_if_abandoned(room.id);
            return Err(StoreError::from(e).into());
        }
        let seat = Seat {
            room_id: room.id,
            player_id,
            player_name: player_name.to_owned(),
            expires_at: Instant::now() + self.ttl,
        };
        self.store.put(token.clone(), seat);
        Ok(SeatGrant {
            player_name: player_name.to_owned(),
            room_id: room.id,
            ws_url: self.ws_url(room.id),
            seat_token: token,
            player_id,
            expires_in_ms: self.ttl.as_millis() as u64,
        })
    }

    /// Redeems a token once. `room` is the room the client connected to, if it named one. Only
    /// the node that issued the seat (the room's node) holds it; on a cluster node it is also
    /// redeemed in Redis, once across the cluster.
    pub async fn redeem(&self, token: &str, room: Option<u32>) -> Result<Seat, RedeemError> {
        let seat = self.store.read(token).ok_or(RedeemError::Unknown)?;
        if room.is_some_and(|r| r != seat.room_id) {
            return Err(RedeemError::OtherRoom);
        }
        if let Some(shared) = &self.shared {
            match shared.redeem(token, seat.room_id).await {
                Ok(true) => {}
                Ok(false) => return Err(RedeemError::Unknown),
                Err(e) => {
                    tracing::debug!(error = %e, "cannot redeem a seat in the cluster store");
                    return Err(RedeemError::Unavailable);
                }
            }
        }
        // Whoever removes it first owns it: a token is never redeemed twice.
        let seat = self.store.take(token).ok_or(RedeemError::Unknown)?;
        if seat.expires_at <= Instant::now() {
            self.release(&seat);
            self.registry.close_if_abandoned(seat.room_id);
            return Err(RedeemError::Expired);
        }
        self.registry.entered(seat.room_id);
        Ok(seat)
    }

    /// Withdraws an unredeemed reservation and frees its seat.
    pub fn cancel(&self, token: &str) {
        if let Some(seat) = self.store.take(token) {
            self.release(&seat);
            self.registry.close_if_abandoned(seat.room_id);
        }
    }

    /// Gives the seat of a reservation back to its room: one redeemed whose join did not happen,
    /// or one that expired or was cancelled.
    pub fn release(&self, seat: &Seat) {
        if let Some(room) = self.registry.get(seat.room_id) {
            room.release();
        }
    }

    /// Drops expired reservations and frees their seats; closes the rooms no one entered that
    /// this leaves without a seat held.
    pub fn sweep(&self) {
        let now = Instant::now();
        let mut expired = Vec::new();
        self.store.retain(|_, seat| {
            let keep = seat.expires_at > now;
            if !keep {
                expired.push(seat.clone());
            }
            keep
        });
        for seat in &expired {
            self.release(seat);
        }
        let rooms: std::collections::BTreeSet<u32> = expired.iter().map(|s| s.room_id).collect();
        for room in rooms {
            self.registry.close_if_abandoned(room);
        }
        self.registry.prune_unentered();
        if !expired.is_empty() {
            tracing::debug!(count = expired.len(), "expired seat reservations released");
        }
    }
}
