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
    modes: BTreeMap<String, &'static str>,
    default_game: &'static str,
}

impl std::fmt::Debug for GameCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GameCatalog")
            .field("games", &self.games.keys().collect::<Vec<_>>())
            .field("modes", &self.modes)
            .field("default_game", &self.default_game)
            .finish()
    }
}

impl GameCatalog {
    /// A catalog of the built-in games: mode `coins` plays `coins`, every other mode plays
    /// `movement`.
    pub fn builtin() -> Self {
        let mut catalog = Self {
            games: BTreeMap::new(),
            modes: BTreeMap::new(),
            default_game: crate::games::movement::NAME,
        };
        catalog.add(crate::games::movement::Movement);
        catalog.add(crate::games::coins::Coins);
        catalog
            .modes
            .insert("coins".to_owned(), crate::games::coins::NAME);
        catalog
    }

    /// Adds (or replaces) a game.
    pub fn add(&mut self, game: impl Game) -> &mut Self {
        self.games.insert(game.name(), Arc::new(game));
        self
    }

    /// Makes rooms of `mode` play `game`; fails for an unknown game.
    pub fn assign(&mut self, mode: &str, game: &str) -> Result<&mut Self, GameError> {
        let name = self.known(game)?;
        self.modes.insert(mode.to_owned(), name);
        Ok(self)
    }

    /// Makes modes without an assignment play `game`; fails for an unknown game.
    pub fn set_default(&mut self, game: &str) -> Result<&mut Self, GameError> {
        self.default_game = self.known(game)?;
        Ok(self)
    }

    fn known(&self, game: &str) -> Result<&'static str, GameError> {
        self.games
            .get_key_value(game)
            .map(|(name, _)| *name)
            .ok_or_else(|| GameError {
                game: game.to_owned(),
                reason: format!(
                    "no such game; known: {}",
                    self.games.keys().copied().collect::<Vec<_>>().join(", ")
                ),
            })
    }

    /// The game rooms of `mode` play.
    pub fn game_for(&self, mode: &str) -> Arc<dyn Game> {
        let name = self.modes.get(mode).copied().unwrap_or(self.default_game);
        match self.games.get(name) {
            Some(game) => game.clone(),
            // `assign` and `set_default` only accept known games.
            None => Arc::new(crate::games::movement::Movement),
        }
    }

    /// The name of the game rooms of `mode` play.
    pub fn game_name_for(&self, mode: &str) -> &'static str {
        self.modes.get(mode).copied().unwrap_or(self.default_game)
    }

    /// Builds every game once on a scratch world, so that a broken definition stops the server
    /// at start rather than when a room opens.
    pub fn check_all(&self) -> Result<(), GameError> {
        self.games
            .values()
            .try_for_each(|g| check(g.as_ref()).map(drop))
    }
}

/// Builds `game` on a scratch world and returns its schema, or what is wrong with it.
pub fn check(game: &dyn Game) -> Result<Schema, GameError> {
    let mut world = World::new();
    world.insert_resource(RoomInfo {
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
    });
    let (mut schedule, mut startup) = (Schedule::default(), Schedule::default());
    build(game, &mut world, &mut schedule, &mut startup).map(|b| b.schema)
}

/// Builds `game` into a room's world and schedules.
pub(crate) fn build(
    game: &dyn Game,
    world: &mut World,
    schedule: &mut Schedule,
    startup: &mut Schedule,
) -> Result<Built, GameError> {
    let mut builder = GameBuilder::new(game.name(), world, schedule, startup);
    game.build(&mut builder);
    builder.finish()
}
