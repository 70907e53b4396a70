//! Headless game clients for the game state server.
//!
//! - [`args`]: the command line's value parsers.
//! - [`lobby::LobbyClient`]: the REST lobby and matchmaking API.
//! - [`game::GameClient`]: one WebSocket game connection that keeps a [`protocol::WorldView`] in
//!   step, verifying every frame's checksum; a Rust game client can embed it.
//! - [`bot`]: a bot that matchmakes, plays with a [`behavior::Behavior`] and measures.
//! - [`steering::Steering`]: a game's `move_x`/`move_y` input, resolved once per connection.
//! - [`load`]: many bots with ramp-up, progress and a merged [`stats::Report`].
//! - [`throttle`]: the REST rate limiting a client met (HTTP 429s and time waited).
//!
//! Latencies compare the frame's `server_time_us` with this machine's clock, so they are exact
//! when bots and server share a machine (as in the load benchmark) and offset by the clock skew
//! otherwise.

pub mod args;
pub mod behavior;
pub mod bot;
pub mod error;
pub mod game;
pub mod load;
pub mod lobby;
pub mod source;
pub mod stats;
pub mod steering;
pub mod throttle;

pub use error::ClientError;
pub use game::{Event, GameClient};
pub use lobby::LobbyClient;
