//! [`ClientError`]: everything that can go wrong for a game client.

use protocol::{CloseCode, CodecError};
use thiserror::Error;

/// A client failure.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The HTTP request failed (connection refused, timeout, bad JSON…).
    #[error("HTTP request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The lobby API answered with an error body.
    #[error("lobby API refused ({status}): {code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The error code from the body.
        code: String,
        /// The message from the body.
        message: String,
    },
    /// The WebSocket failed.
    #[error("WebSocket error: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    /// A server message could not be decoded or encoded.
    #[error("codec error: {0}")]
    Codec(#[from] CodecError),
    /// The server closed the connection.
    #[error("closed by the server: {code} {reason}")]
    Closed {
        /// The WebSocket close code (see [`CloseCode`]).
        code: u16,
        /// The reason.
        reason: String,
    },
    /// Something did not happen in time.
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// The server did something the protocol does not allow.
    #[error("protocol violation: {0}")]
    Protocol(String),
}

impl ClientError {
    /// A short label for reports: the close reason name, the API code, or the error kind.
    pub fn label(&self) -> String {
        match self {
            ClientError::Http(e) if e.is_timeout() => "http_timeout".into(),
            ClientError::Http(e) if e.is_connect() => "http_connect".into(),
            ClientError::Http(_) => "http".into(),
            ClientError::Api { code, .. } => format!("api_{code}"),
            ClientError::Ws(_) => "ws".into(),
            ClientError::Codec(_) => "codec".into(),
            ClientError::Closed { code, .. } => CloseCode::from_code(*code)
                .map_or_else(|| format!("close_{code}"), |c| c.name().to_owned()),
            ClientError::Timeout(what) => format!("timeout_{}", what.replace(' ', "_")),
            ClientError::Protocol(_) => "protocol".into(),
        }
    }
}
