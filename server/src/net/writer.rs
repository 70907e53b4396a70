//! The connection task's own writes to a game connection (keep-alive pings, the close), each
//! bounded by the caller's write timeout (`--write-timeout`). The room's frames go straight
//! into the socket ([`super::outbox`]).

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use protocol::ServerMsg;

use crate::room::CloseRequest;

/// How often the server pings a client (its pongs keep the idle timer happy).
pub const PING_INTERVAL: Duration = Duration::from_secs(5);
/// Longest the server keeps reading a closed connection's input (see [`drain`]).
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);
/// Most messages [`drain`] reads before it gives up on the peer.
pub const MAX_DRAINED: usize = 4096;

/// A write that failed or timed out: the connection is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteFailed;

/// Sends a keep-alive ping, within `timeout`.
pub async fn ping(socket: &mut WebSocket, timeout: Duration) -> Result<(), WriteFailed> {
    timed(timeout, socket.send(Message::Ping(Bytes::new()))).await
}

/// Sends the `Disconnect` message and the close frame, both within one `timeout`.
pub async fn send_close(
    socket: &mut WebSocket,
    req: &CloseRequest,
    timeout: Duration,
) -> Result<(), WriteFailed> {
    let msg = ServerMsg::Disconnect {
        code: req.code,
        reason: req.reason.to_string(),
    };
    let frame = CloseFrame {
        code: req.code.code(),
        reason: close_reason(&req.reason).into(),
    };
    timed(timeout, async {
        if let Ok(bytes) = protocol::encode_server(&msg) {
            socket.feed(Message::Binary(bytes.into())).await?;
        }
        socket.send(Message::Close(Some(frame))).await
    })
    .await
}

/// Reads and discards what the client still sends after our close frame, until its own close
/// frame ends the stream, a read fails, [`MAX_DRAINED`] messages or [`DRAIN_TIMEOUT`]. Closing
/// a socket with unread input makes the kernel send a reset, which destroys what the client has
/// not read yet: the `Disconnect` and the close frame.
pub async fn drain(socket: &mut WebSocket) {
    let discard = async {
        for _ in 0..MAX_DRAINED {
            match socket.next().await {
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, discard).await;
}

/// Longest close-frame reason: a control frame carries at most 125 bytes, 2 of them the code.
const MAX_CLOSE_REASON: usize = 123;

/// `reason` cut to fit a close frame, at a character boundary (the `Disconnect` message before
/// it carries the whole text).
fn close_reason(reason: &str) -> &str {
    if reason.len() <= MAX_CLOSE_REASON {
        return reason;
    }
    let mut end = MAX_CLOSE_REASON;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

/// Runs the write `f`, failed if it errs or takes longer than `timeout`.
async fn timed<F: Future<Output = Result<(), axum::Error>>>(
    timeout: Duration,
    f: F,
) -> Result<(), WriteFailed> {
    match tokio::time::timeout(timeout, f).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(WriteFailed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stalled_write_fails_after_the_given_timeout() {
        let stalled = timed(Duration::from_millis(50), std::future::pending());
        let liveness = Duration::from_secs(5);
        let result = tokio::time::timeout(liveness, stalled).await;
        assert_eq!(result, Ok(Err(WriteFailed)));
    }

    #[test]
    fn close_reasons_fit_a_control_frame() {
        assert_eq!(close_reason("short"), "short");
        let long = "é".repeat(100);
        let cut = close_reason(&long);
        assert!(
            cut.len() <= MAX_CLOSE_REASON && long.starts_with(cut),
            "{} bytes",
            cut.len()
        );
    }
}
