//! The game WebSocket endpoint, `GET /ws`.
//!
//! Each connection is one task ([`session`]): it redeems the seat, then forwards validated
//! inputs to the room. The room writes its frames straight into the connection's socket
//! ([`outbox`]) and never waits for it; the task writes what the socket could not take at once,
//! and its own messages ([`writer`]).

pub mod outbox;
pub mod reason;
pub mod session;
pub mod writer;

use std::sync::Arc;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Extension, State, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::IntoResponse as _;
use axum::response::Response;
use serde::Deserialize;

use crate::app::App;
use crate::http::error::{ApiError, ApiQuery};
use crate::http::socket::ConnOutbox;

/// Bytes tungstenite reads from the socket at once. Its default (128 KiB) is zero-filled before
/// every read and held per connection; game inputs are tiny.
pub const READ_BUFFER: usize = 512;
/// Bytes buffered before tungstenite writes (it writes only the session's own messages: pings
/// and the close; the room's frames go straight into the socket).
pub const WRITE_BUFFER: usize = 8 * 1024;
/// Largest WebSocket message or frame tungstenite accepts; the codec's own limit is smaller, so
/// an oversized game message is still read and refused with 1009 and a reason.
pub const MAX_WS_MESSAGE: usize = 4 * 1024;

/// Query of `GET /ws`.
#[derive(Debug, Deserialize)]
pub struct WsQuery {
    /// The room the client means to enter; a seat for another room is refused.
    pub room: Option<u32>,
}

/// Upgrades to a game WebSocket (binary protocol: PROTOCOL.md).
#[utoipa::path(get, path = "/ws", tag = "game",
    params(("room" = Option<u32>, Query, description = "the room of the seat; a seat for another room is refused")),
    responses(
        (status = 101, description = "Switching to the game WebSocket protocol"),
        (status = 400, description = "Not a WebSocket upgrade, or `room` is not a room id", body = protocol::api::ErrorBody),
        (status = 426, description = "A WebSocket version other than 13; `Sec-WebSocket-Version: 13` names the one served", body = protocol::api::ErrorBody),
        (status = 503, description = "The server is shutting down", body = protocol::api::ErrorBody),
    ))]
pub async fn ws_handler(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    ApiQuery(query): ApiQuery<WsQuery>,
    State(app): State<Arc<App>>,
    Extension(ConnOutbox(outbox)): Extension<ConnOutbox>,
) -> Response {
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => {
            let status = rejection.status();
            return ApiError::new(status, "not_a_websocket_upgrade", rejection.body_text())
                .into_response();
        }
    };
    let room = query.room;
    if app.shutdown.is_cancelled() {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the server is shutting down",
        )
        .into_response();
    }
    let tracker = app.tracker.clone();
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(1 << 20)
        .max_message_size(MAX_WS_MESSAGE)
        .max_frame_size(MAX_WS_MESSAGE)
        .on_upgrade(move |socket| tracker.track_future(session::run(socket, outbox, app, room)))
}
