//! The game API: how a game is defined on this server, on `bevy_ecs`.
//!
//! A game is a type implementing [`Game`]. For each room of its modes the server makes a fresh
//! `World`, and [`Game::build`] declares on a [`GameBuilder`] everything the game is made of:
//! - entity **kinds** beyond `player`, and **replicated components** (changes travel to every
//!   player, encoded once per tick) or **owner-only** ones (they reach only the entity's owner);
//! - the **input** type players send, decoded into [`PlayerInput`] on every avatar;
//! - **events** raised with [`GameEvents`] to every player or one, in the frame of their tick;
//! - **systems** in the Simulate phase, run each tick between Receive (inputs) and Replicate;
//! - what happens when a player **joins, drops, resumes or leaves** (observers);
//! - its **bot brain**: systems that steer server-side bots ([`Bot`]) through their
//!   [`PlayerInput`], so that rooms can be filled with bots that cost only simulation;
//! - its **resources** and **params** (numbers its clients read from the schema), and startup
//!   systems that spawn its first entities;
//! - its **end**: rounds are the game's own rules (see the coins game); [`RoomControl`] closes
//!   the room when a match is over.
//!
//! The engine owns [`Position`] (component 0, the cheapest on the wire), [`Player`], [`Owner`],
//! [`NetEntity`] and [`RoomInfo`]. Clients learn the game from the schema message and decode it
//! without generated code (PROTOCOL.md). Data types are declared with [`protocol::wire_struct!`].
//!
//! A whole game (every player gets a score that counts the ticks it moved):
//!
//! ```
//! use server::game::prelude::*;
//!
//! wire_struct! {
//!     #[derive(Component, Clone, Debug, Default)]
//!     pub struct Steps { pub count: u32 }
//! }
//! wire_struct! {
//!     #[derive(Clone, Debug, Default)]
//!     pub struct Walk { pub dx: i8, pub dy: i8 }
//! }
//!
//! pub struct Walker;
//!
//! impl Game for Walker {
//!     fn name(&self) -> &'static str {
//!         "walker"
//!     }
//!     fn build(&self, game: &mut GameBuilder) {
//!         game.replicate::<Steps>()
//!             .input::<Walk>()
//!             .on_join(|joined: On<PlayerJoined>, mut commands: Commands| {
//!                 commands.entity(joined.entity).insert(Steps::default());
//!             })
//!             .add_systems(walk);
//!     }
//! }
//!
//! fn walk(mut players: Query<(&PlayerInput<Walk>, &mut Position, &mut Steps)>, room: Res<RoomInfo>) {
//!     for (input, mut pos, mut steps) in &mut players {
//!         let Walk { dx, dy } = input.latest;
//!         if (dx, dy) != (0, 0) {
//!             let next = QPos::new(pos.0.x + i32::from(dx), pos.0.y + i32::from(dy));
//!             pos.0 = room.bounds.clamp(next);
//!             steps.count += 1;
//!         }
//!     }
//! }
//! # server::game::check(&Walker).unwrap();
//! ```

mod builder;
mod catalog;
mod engine;
mod events;
pub(crate) mod sync;

pub use builder::{GameBuilder, GameError};
pub(crate) use catalog::build;
pub use catalog::{GameCatalog, check};
pub use engine::{
    Bot, Disconnected, NetEntity, Owner, Player, PlayerDropped, PlayerInput, PlayerJoined,
    PlayerLeft, PlayerResumed, Position, Replicate, RoomControl, RoomInfo,
};
pub use events::{Audience, GameEvents};

use bevy_ecs::schedule::SystemSet;

/// A game the server can run: declares itself on a [`GameBuilder`] for each room.
pub trait Game: Send + Sync + 'static {
    /// The game's name (what `--mode-game MODE=GAME` names), 1 to 32 bytes.
    fn name(&self) -> &'static str;

    /// How many players a room of this game holds, unless `--mode-capacity` names the mode
    /// (none: `--room-capacity`). A duel says 2.
    fn room_capacity(&self) -> Option<u32> {
        None
    }

    /// The interest radius of this game's rooms in world units, unless `--mode-interest-radius`
    /// names the mode (none: `--interest-radius`). A player receives only the entities within
    /// the radius of its avatar, every entity without a [`Position`] and the entities it owns;
    /// 0 means every player sees every entity. PROTOCOL.md §6.5 says what travels.
    ///
    /// ```
    /// use server::game::prelude::*;
    ///
    /// /// A battle royale: a big map where each player sees 25 units around it.
    /// struct Royale;
    /// impl Game for Royale {
    ///     fn name(&self) -> &'static str { "royale" }
    ///     fn room_capacity(&self) -> Option<u32> { Some(1_000) }
    ///     fn interest_radius(&self) -> Option<f64> { Some(25.0) }
    ///     fn build(&self, game: &mut GameBuilder) {
    ///         server::games::movement::Movement.build(game);
    ///     }
    /// }
    /// assert!(server::game::check(&Royale).is_ok());
    /// ```
    fn interest_radius(&self) -> Option<f64> {
        None
    }

    /// Declares the game's kinds, components, input, events, systems and hooks for one room.
    fn build(&self, game: &mut GameBuilder<'_>);
}

/// The phases of a tick, run in this order.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TickSet {
    /// The engine drains the inbox: joins, leaves and inputs (decoded into [`PlayerInput`]).
    Receive,
    /// The game's bot brain ([`GameBuilder::bot_brain`]), then its systems
    /// ([`GameBuilder::add_systems`]).
    Simulate,
    /// The engine diffs the replicated components, encodes the frame's shared part and
    /// publishes the spectator update.
    Replicate,
    /// The engine queues every client's frame.
    Send,
}

/// The bot brain's systems, at the start of [`TickSet::Simulate`] (see
/// [`GameBuilder::bot_brain`]).
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct BotBrainSet;

/// Everything a game's file needs: the game API, `bevy_ecs`'s prelude, the wire types and
/// [`protocol::wire_struct!`].
pub mod prelude {
    pub use super::{
        Audience, Bot, Disconnected, Game, GameBuilder, GameEvents, NetEntity, Owner, Player,
        PlayerDropped, PlayerInput, PlayerJoined, PlayerLeft, PlayerResumed, Position, Replicate,
        RoomControl, RoomInfo,
    };
    pub use bevy_ecs::prelude::*;
    pub use protocol::wire::{Fixed, Text};
    pub use protocol::{NetId, QPos, wire_struct};
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_readme_shows_the_sprint_example_as_it_is() {
        let readme = include_str!("../../../README.md");
        let example = include_str!("../../examples/sprint.rs");
        let body = example
            .split_once("use server::game::prelude::*;")
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        assert!(
            readme.contains(&format!("use server::game::prelude::*;{body}```")),
            "README's \"Write your own game\" must show server/examples/sprint.rs from its `use` on"
        );
    }
}
