//! The writer task of a game connection: frames out, keep-alive pings, close frames.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use bytes::Bytes;
use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use protocol::{CloseCode, ServerMsg};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::room::CloseRequest;

/// How often the server pings an otherwise quiet client (its pongs keep the idle timer happy).
pub const PING_INTERVAL: Duration = Duration::from_secs(5);
/// Longest a single write may take before the peer is taken for dead.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most frames written between two flushes.
const MAX_BATCH: usize = 64;

/// What ends a writer.
pub struct WriterInputs {
    /// Frames from the room (and pongs from the reader).
    pub frames: mpsc::Receiver<Bytes>,
    /// Close requests from the room or the reader.
    pub close: watch::Receiver<Option<CloseRequest>>,
    /// The server's shutdown.
    pub shutdown: CancellationToken,
    /// Fired when the reader is done (the peer went away).
    pub reader_done: CancellationToken,
}

/// Writes frames until the connection must close; returns the close code it sent, if any.
pub async fn run(
    mut sink: SplitSink<WebSocket, Message>,
    mut inputs: WriterInputs,
) -> Option<CloseCode> {
    let mut ping = tokio::time::interval(PING_INTERVAL);
    ping.tick().await;
    loop {
        tokio::select! {
            biased;
            _ = inputs.shutdown.cancelled() => {
                let req = CloseRequest { code: CloseCode::Shutdown, reason: "the server is shutting down".into() };
                return send_close(&mut sink, req).await;
            }
            changed = inputs.close.changed() => {
                let req = inputs.close.borrow_and_update().clone();
                match (changed, req) {
                    (_, Some(req)) => return send_close(&mut sink, req).await,
                    (Err(_), None) => return None,
                    (Ok(()), None) => {}
                }
            }
            _ = inputs.reader_done.cancelled() => return None,
            frame = inputs.frames.recv() => {
                let frame = frame?;
                if write_batch(&mut sink, frame, &mut inputs.frames).await.is_err() {
                    return None;
                }
            }
            _ = ping.tick() => {
                if timed(sink.send(Message::Ping(Bytes::new()))).await.is_err() {
                    return None;
                }
            }
        }
    }
}

/// Feeds `first` and whatever else is queued (up to a batch), then flushes once.
async fn write_batch(
    sink: &mut SplitSink<WebSocket, Message>,
    first: Bytes,
    frames: &mut mpsc::Receiver<Bytes>,
) -> Result<(), ()> {
    timed(sink.feed(Message::Binary(first))).await?;
    for _ in 1..MAX_BATCH {
        let Ok(next) = frames.try_recv() else { break };
        timed(sink.feed(Message::Binary(next))).await?;
    }
    timed(sink.flush()).await
}

/// Sends the `Disconnect` message and the close frame.
async fn send_close(
    sink: &mut SplitSink<WebSocket, Message>,
    req: CloseRequest,
) -> Option<CloseCode> {
    let msg = ServerMsg::Disconnect {
        code: req.code,
        reason: req.reason.to_string(),
    };
    if let Ok(bytes) = protocol::encode_server(&msg) {
        let _ = timed(sink.send(Message::Binary(bytes.into()))).await;
    }
    let frame = CloseFrame {
        code: req.code.code(),
        reason: req.reason.as_ref().into(),
    };
    let _ = timed(sink.send(Message::Close(Some(frame)))).await;
    Some(req.code)
}

async fn timed<F: Future<Output = Result<(), axum::Error>>>(f: F) -> Result<(), ()> {
    match tokio::time::timeout(WRITE_TIMEOUT, f).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}
