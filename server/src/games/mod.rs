//! The built-in games, written only with the public game API ([`crate::game`]), as a game
//! developer would write theirs:
//! - [`movement`]: dots that move at a maximum speed (every mode but `coins` by default);
//! - [`coins`]: coins spawn at random places, touching one scores, the first to the target wins
//!   the round, and a new round starts after a pause (mode `coins`). The reference game: it uses
//!   every part of the API.

pub mod coins;
pub mod movement;
