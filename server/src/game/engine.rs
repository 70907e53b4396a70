//! What the engine puts in every room's world for a game to read: the position, players,
//! ownership, network identity, inputs, the room's settings, and the player lifecycle events.

use bevy_ecs::prelude::*;
use protocol::{Bounds, NetId, QPos};

/// Where an entity is, in quanta: component 0 of every game. It travels on the cheapest path of
/// the wire (a displacement of a few bytes); every entity that has one is drawn by the spectator
/// page.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position(pub QPos);

/// A player's avatar. The engine spawns it (with [`Position`], [`Owner`] and [`PlayerInput`] of
/// the game's input) when a player joins, keeps it for the grace period after a drop (marked
/// [`Disconnected`]), and despawns it when the player leaves or the grace ends.
#[derive(Component, Debug, Clone, PartialEq, Eq)]
pub struct Player {
    /// The player's id, also its entity's network id.
    pub id: NetId,
    /// The name the player matchmade with.
    pub name: String,
}

/// Marks a player's avatar that the server drives itself: a bot, with no connection. It is
/// spawned like a human's avatar (a player id, [`Player`], [`Position`], [`Owner`],
/// [`PlayerInput`]; the game's join and leave observers run for it), and the game's bot brain
/// ([`super::GameBuilder::bot_brain`]) writes its [`PlayerInput`]. No frame is encoded for it.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bot;

/// Present on a [`Player`] while its connection is gone and it may still resume. The engine
/// resets the player's input to its default when this is added.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Disconnected;

/// The player that owns an entity: its owner-only components reach that player alone. A
/// player's avatar is owned by its player; a game may give any entity an owner.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner(pub NetId);

/// Asks the engine to replicate an entity the game spawned, as the entity kind `kind` (declared
/// with [`super::GameBuilder::kind`]). At the end of the tick the engine gives it a [`NetEntity`].
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replicate {
    /// The entity kind's name.
    pub kind: &'static str,
}

impl Replicate {
    /// Replicates the entity as kind `kind`.
    pub const fn kind(kind: &'static str) -> Self {
        Self { kind }
    }
}

/// The network identity the engine gave a replicated entity. Only the engine makes one, and it
/// never changes (an immutable component): read it, do not insert it.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
#[component(immutable)]
pub struct NetEntity {
    id: NetId,
    kind: u32,
}

impl NetEntity {
    /// The identity of an entity with network id `id` and kind index `kind`.
    pub(crate) fn new(id: NetId, kind: u32) -> Self {
        Self { id, kind }
    }

    /// Its id, unique in the room (a player's avatar has the player's id).
    pub fn id(&self) -> NetId {
        self.id
    }

    /// Its kind's index in the schema.
    pub fn kind(&self) -> u32 {
        self.kind
    }
}

/// A player's input, decoded into the game's input type `I` (see
/// [`super::GameBuilder::input`]). The engine keeps it on every [`Player`].
#[derive(Component, Debug, Clone, Default)]
pub struct PlayerInput<I: Send + Sync + 'static> {
    /// The last input applied; it holds until the next one (and is reset to the default when
    /// the player drops).
    pub latest: I,
    /// Every input applied during this tick, in order (at most `--inputs-per-tick`).
    pub this_tick: Vec<I>,
}

impl<I: Clone + Send + Sync + 'static> PlayerInput<I> {
    /// Applies `input` as this tick's one input, as the receive phase does for a player who
    /// sent one: it becomes `latest` and all of `this_tick`. A bot brain calls it (only when
    /// the bot's mind changed, so that systems reading `Changed<PlayerInput<I>>` stay idle).
    pub fn apply(&mut self, input: I) {
        self.this_tick.clear();
        self.this_tick.push(input.clone());
        self.latest = input;
    }
}

/// The room a game's systems run in, and the server's settings for it. Read it with
/// `Res<RoomInfo>`.
#[derive(Resource, Debug, Clone)]
pub struct RoomInfo {
    /// The room's id.
    pub room_id: u32,
    /// Its game mode.
    pub mode: String,
    /// Ticks per second.
    pub tick_rate: u16,
    /// The tick being computed.
    pub tick: u32,
    /// The playable rectangle ([`Position`]s are kept inside it by the games that move things).
    pub bounds: Bounds,
    /// `--max-speed` in quanta per tick: how fast the built-in games let a player move.
    pub max_speed: i32,
    /// Most players the room holds.
    pub capacity: u32,
    /// How far a player sees, in quanta (0: everything).
    pub interest_radius: i32,
}

/// Triggered when a player joins: its avatar exists, with [`Player`], [`Position`] and [`Owner`].
/// Observe it with [`super::GameBuilder::on_join`] to give the avatar the game's components.
#[derive(Event, Debug, Clone)]
pub struct PlayerJoined {
    /// The avatar.
    pub entity: Entity,
    /// The player's id.
    pub player: NetId,
}

/// Triggered when a player's connection dropped; the avatar stays for the grace period.
#[derive(Event, Debug, Clone)]
pub struct PlayerDropped {
    /// The avatar.
    pub entity: Entity,
    /// The player's id.
    pub player: NetId,
}

/// Triggered when a dropped (or replaced) player took its avatar back.
#[derive(Event, Debug, Clone)]
pub struct PlayerResumed {
    /// The avatar.
    pub entity: Entity,
    /// The player's id.
    pub player: NetId,
}

/// Triggered just before a player's avatar is despawned: it left, or its grace period ended.
/// Its components are still there to read.
#[derive(Event, Debug, Clone)]
pub struct PlayerLeft {
    /// The avatar.
    pub entity: Entity,
    /// The player's id.
    pub player: NetId,
}

/// Lets a game end its room: when a system calls [`RoomControl::close`], the engine closes the
/// room after the tick (every client gets `Disconnect` and close code 4009 with the reason, and
/// the room leaves the listings). Use it for a match that is over.
#[derive(Resource, Debug, Clone, Default)]
pub struct RoomControl {
    closing: Option<&'static str>,
}

impl RoomControl {
    /// Closes the room at the end of this tick, telling the players `reason`.
    pub fn close(&mut self, reason: &'static str) {
        self.closing.get_or_insert(reason);
    }

    /// The reason the game closed the room for, if it did.
    pub fn closing(&self) -> Option<&'static str> {
        self.closing
    }
}
