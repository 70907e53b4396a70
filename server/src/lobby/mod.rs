//! Matchmaking, lobbies and seat reservations.
//!
//! - [`seats::SeatBook`]: single-use, expiring seat tokens bound to one room and one player;
//!   the only way into a room.
//! - [`tickets::Matchmaker`]: quick-match tickets, their queues per mode and region, and the
//!   matcher pass that groups them ([`matcher`]) into rooms.
//! - [`lobbies::Lobbies`]: player-made lobbies whose owner starts the game.
//!
//! Lobbies and tickets live behind [`store::Store`]: in memory by default, in Redis on a node of
//! a cluster (`--redis`).

pub mod caps;
pub mod lobbies;
pub mod matcher;
pub mod modes;
pub mod seats;
pub mod store;
pub mod tickets;
pub mod validate;

use thiserror::Error;

use crate::room::RegistryError;
use store::StoreError;

/// Why a lobby or matchmaking request failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LobbyError {
    /// A request field breaks its rule.
    #[error("`{field}` {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// No such ticket, lobby or room.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller lacks the key or code this needs.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The lobby or room has no room for more players.
    #[error("{0} is full")]
    Full(&'static str),
    /// The lobby already started.
    #[error("the lobby has already started")]
    Started,
    /// The request clashes with the current state (e.g. a name already in the lobby).
    #[error("{0}")]
    Conflict(&'static str),
    /// A per-address or per-server limit was reached.
    #[error("limit reached: {0}")]
    Limit(String),
    /// The server cannot open another room now.
    #[error("{0}")]
    Unavailable(String),
    /// The cluster's store (Redis) failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<RegistryError> for LobbyError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::TooManyRooms(_) | RegistryError::GameFailed | RegistryError::NoIds => {
                LobbyError::Unavailable(e.to_string())
            }
            RegistryError::TooManyUnenteredRooms(_) => LobbyError::Limit(e.to_string()),
            RegistryError::RoomFull(_) => LobbyError::Full("the room"),
            RegistryError::NoSuchRoom(_) => LobbyError::NotFound("room"),
        }
    }
}
