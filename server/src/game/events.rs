//! [`GameEvents`]: one-off messages a game sends to all players or to one, delivered in order in
//! the frame of the tick that raised them (a client skipped while its queue was full gets them
//! with its next frame; a player without a connection misses them).

use std::any::TypeId;
use std::collections::HashMap;
use std::ops::Range;

use bevy_ecs::prelude::*;
use protocol::NetId;
use protocol::cursor::put_varint;
use protocol::wire::{FieldWriter, Wire};

/// Who an event is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Every player of the room.
    All,
    /// One player.
    Player(NetId),
}

/// Raises the game's events (declared with [`super::GameBuilder::event`]). Use it in a system
/// as `ResMut<GameEvents>`:
///
/// ```
/// use server::game::prelude::*;
///
/// protocol::wire_struct! {
///     pub struct Goal { pub team: u8 }
/// }
///
/// fn score(mut events: ResMut<GameEvents>) {
///     events.broadcast(&Goal { team: 1 });
/// }
/// # let _ = score;
/// ```
#[derive(Resource, Debug, Default)]
pub struct GameEvents {
    types: HashMap<TypeId, u32>,
    raised: Vec<(Audience, Range<usize>)>,
    bytes: Vec<u8>,
}

impl GameEvents {
    /// Declares event type `E` with schema index `index`.
    pub(crate) fn declare<E: Wire + 'static>(&mut self, index: u32) {
        self.types.insert(TypeId::of::<E>(), index);
    }

    /// Sends `event` to every player.
    pub fn broadcast<E: Wire + 'static>(&mut self, event: &E) {
        self.raise(Audience::All, event);
    }

    /// Sends `event` to player `player` alone.
    pub fn send_to<E: Wire + 'static>(&mut self, player: NetId, event: &E) {
        self.raise(Audience::Player(player), event);
    }

    fn raise<E: Wire + 'static>(&mut self, audience: Audience, event: &E) {
        let Some(&index) = self.types.get(&TypeId::of::<E>()) else {
            tracing::error!(
                event = E::NAME,
                "event raised but never declared with GameBuilder::event; dropped"
            );
            return;
        };
        let start = self.bytes.len();
        put_varint(&mut self.bytes, u64::from(index));
        event.write(&mut FieldWriter::new(&mut self.bytes, 0));
        self.raised.push((audience, start..self.bytes.len()));
    }

    /// This tick's events, in the order they were raised, with their encodings.
    pub(crate) fn raised(&self) -> impl Iterator<Item = (Audience, &[u8])> {
        self.raised
            .iter()
            .map(|(a, r)| (*a, &self.bytes[r.clone()]))
    }

    /// Whether no event was raised this tick.
    pub(crate) fn is_empty(&self) -> bool {
        self.raised.is_empty()
    }

    /// Forgets this tick's events (after they were queued to every client).
    pub(crate) fn clear(&mut self) {
        self.raised.clear();
        self.bytes.clear();
    }
}
