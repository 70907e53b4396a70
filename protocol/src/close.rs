//! WebSocket close codes the server uses.

use serde::{Deserialize, Serialize};

/// Why the server closes a game connection. The number is the WebSocket close code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CloseCode {
    /// 1000: the player left.
    Normal,
    /// 1001: the server is shutting down.
    Shutdown,
    /// 1009: a message exceeded the size limit.
    TooBig,
    /// 4000: a message could not be decoded, or came out of order.
    Malformed,
    /// 4001: the seat or resume token is unknown, used, expired or for another room.
    BadToken,
    /// 4002: the client speaks another protocol version.
    VersionMismatch,
    /// 4003: the client sent more messages than its rate limit allows.
    RateLimited,
    /// 4004: the room has no free seat.
    RoomFull,
    /// 4005: the server removed the player.
    Kicked,
    /// 4006: the client read too slowly and fell behind for too long.
    Lagging,
    /// 4007: no join message arrived in time.
    JoinTimeout,
    /// 4008: nothing arrived from the client for too long.
    IdleTimeout,
    /// 4009: the room closed.
    RoomClosed,
}

impl CloseCode {
    /// Every code, for documentation and metrics.
    pub const ALL: [CloseCode; 13] = [
        CloseCode::Normal,
        CloseCode::Shutdown,
        CloseCode::TooBig,
        CloseCode::Malformed,
        CloseCode::BadToken,
        CloseCode::VersionMismatch,
        CloseCode::RateLimited,
        CloseCode::RoomFull,
        CloseCode::Kicked,
        CloseCode::Lagging,
        CloseCode::JoinTimeout,
        CloseCode::IdleTimeout,
        CloseCode::RoomClosed,
    ];

    /// The WebSocket close code.
    pub const fn code(self) -> u16 {
        match self {
            CloseCode::Normal => 1000,
            CloseCode::Shutdown => 1001,
            CloseCode::TooBig => 1009,
            CloseCode::Malformed => 4000,
            CloseCode::BadToken => 4001,
            CloseCode::VersionMismatch => 4002,
            CloseCode::RateLimited => 4003,
            CloseCode::RoomFull => 4004,
            CloseCode::Kicked => 4005,
            CloseCode::Lagging => 4006,
            CloseCode::JoinTimeout => 4007,
            CloseCode::IdleTimeout => 4008,
            CloseCode::RoomClosed => 4009,
        }
    }

    /// The code for a WebSocket close code number, if it is one of ours.
    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// A short snake_case name, used as a metrics label and in reports.
    pub const fn name(self) -> &'static str {
        match self {
            CloseCode::Normal => "normal",
            CloseCode::Shutdown => "shutdown",
            CloseCode::TooBig => "too_big",
            CloseCode::Malformed => "malformed",
            CloseCode::BadToken => "bad_token",
            CloseCode::VersionMismatch => "version_mismatch",
            CloseCode::RateLimited => "rate_limited",
            CloseCode::RoomFull => "room_full",
            CloseCode::Kicked => "kicked",
            CloseCode::Lagging => "lagging",
            CloseCode::JoinTimeout => "join_timeout",
            CloseCode::IdleTimeout => "idle_timeout",
            CloseCode::RoomClosed => "room_closed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        for c in CloseCode::ALL {
            assert_eq!(CloseCode::from_code(c.code()), Some(c), "{c:?}");
        }
        assert_eq!(CloseCode::from_code(1234), None);
    }
}
