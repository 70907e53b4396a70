//! [`GameCatalog`]: the games a server can run and which game each mode plays.

use std::collections::BTreeMap;
use std::sync::Arc;

use bevy_ecs::prelude::*;
use protocol::Bounds;
use protocol::schema::Schema;

use super::Game;
use super::builder::{Built, GameBuilder, GameError};
use super::engine::RoomInfo;

/// The games a server knows, and the game of each mode.
#[derive(Clone)]
pub struct GameCatalog {
    games: BTreeMap<&'static str, Arc<dyn Game>>,
    modes: BTreeMap<String, Arc<dyn Game>>,
    default_game: Arc<dyn Game>,
}

impl std::fmt::Debug for GameCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GameCatalog")
            .field("games", &self.games.keys().collect::<Vec<_>>())
            .field(
                "modes",
                &self
                    .modes
                    .iter()
                    .map(|(m, g)| (m, g.name()))
                    .collect::<Vec<_>>(),
            )
            .field("default_game", &self.default_game.name())
            .finish()
    }
}

impl GameCatalog {
    /// A catalog of the built-in games: mode `coins` plays `coins`, every other mode plays
    /// `movement`.
    pub fn builtin() -> Self {
        let movement: Arc<dyn Game> = Arc::new(crate::games::movement::Movement);
        let coins: Arc<dyn Game> = Arc::new(crate::games::coins::Coins);
        Self {
            games: [movement.clone(), coins.clone()]
                .into_iter()
                .map(|g| (g.name(), g))
                .collect(),
            modes: [("coins".to_owned(), coins)].into_iter().collect(),
            default_game: movement,
        }
    }

    /// Adds (or replaces) a game.
    pub fn add(&mut self, game: impl Game) -> &mut Self {
        self.games.insert(game.name(), Arc::new(game));
        self
    }

    /// Makes rooms of `mode` play `game`; fails for an unknown game.
    pub fn assign(&mut self, mode: &str, game: &str) -> Result<&mut Self, GameError> {
        let game = self.known(game)?;
        self.modes.insert(mode.to_owned(), game);
        Ok(self)
    }

    /// Makes modes without an assignment play `game`; fails for an unknown game.
    pub fn set_default(&mut self, game: &str) -> Result<&mut Self, GameError> {
        self.default_game = self.known(game)?;
        Ok(self)
    }

    fn known(&self, game: &str) -> Result<Arc<dyn Game>, GameError> {
        self.games.get(game).cloned().ok_or_else(|| GameError {
            game: game.to_owned(),
            reason: format!(
                "no such game; known: {}",
                self.games.keys().copied().collect::<Vec<_>>().join(", ")
            ),
        })
    }

    /// The game rooms of `mode` play.
    pub fn game_for(&self, mode: &str) -> Arc<dyn Game> {
        self.modes.get(mode).unwrap_or(&self.default_game).clone()
    }

    /// Builds every game once on a scratch world with `room`'s settings, so that a broken
    /// definition stops the server at start rather than when a room opens. Returns the names
    /// of the games that have no bot brain (their rooms never get bots).
    pub fn check_all(&self, room: &RoomInfo) -> Result<Vec<&'static str>, GameError> {
        let mut brainless = Vec::new();
        for game in self.games.values() {
            if !check_in(game.as_ref(), room.clone())?.bot_brain {
                brainless.push(game.name());
            }
        }
        Ok(brainless)
    }
}

/// Builds `game` on a scratch world (20 Hz, 100 × 100 units, rooms of 10) and returns its
/// schema, or what is wrong with it.
pub fn check(game: &dyn Game) -> Result<Schema, GameError> {
    let room = RoomInfo {
        room_id: 0,
        mode: "check".to_owned(),
        tick_rate: 20,
        tick: 0,
        bounds: Bounds {
            width: 10_000,
            height: 10_000,
        },
        max_speed: 34,
        capacity: 10,
        interest_radius: 0,
    };
    check_in(game, room).map(|b| b.schema)
}

/// Builds `game` on a scratch world of a room with settings `room`.
fn check_in(game: &dyn Game, room: RoomInfo) -> Result<Built, GameError> {
    let mut world = World::new();
    world.insert_resource(room);
    let (mut schedule, mut startup) = (Schedule::default(), Schedule::default());
    build(game, &mut world, &mut schedule, &mut startup, true)
}

/// Builds `game` into a room's world and schedules; the bot brain's systems go into the tick
/// schedule only when the room may get `bots`.
pub(crate) fn build(
    game: &dyn Game,
    world: &mut World,
    schedule: &mut Schedule,
    startup: &mut Schedule,
    bots: bool,
) -> Result<Built, GameError> {
    let mut builder = GameBuilder::new(game.name(), world, schedule, startup, bots);
    game.build(&mut builder);
    builder.finish()
}
