//! One game connection: join, then read inputs until the connection ends.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket};
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::SplitStream;
use protocol::{ClientMsg, CloseCode, CodecError, ServerMsg};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use super::writer::{self, WriterInputs};
use crate::app::App;
use crate::config::secs;
use crate::rate::TokenBucket;
use crate::room::link::JoinAccepted;
use crate::room::{ClientConn, CloseSignal, JoinRefused, RoomCommand, RoomHandle};

/// Longest the reader waits for its room to answer a join.
const ROOM_REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest the writer gets to send its close frame after the reader is done.
const WRITER_GRACE: Duration = Duration::from_secs(2);

/// Runs a connection from upgrade to close.
pub async fn run(socket: WebSocket, app: Arc<App>, room_hint: Option<u32>) {
    let conn_id = app.next_conn_id();
    let span = tracing::info_span!(
        "conn",
        conn_id,
        room = tracing::field::Empty,
        player = tracing::field::Empty
    );
    async move {
        app.metrics
            .connections
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (sink, stream) = socket.split();
        let (frames_tx, frames_rx) = mpsc::channel(app.config.client_queue.max(2));
        let (close, close_rx) = CloseSignal::new();
        let reader_done = CancellationToken::new();
        let inputs = WriterInputs {
            frames: frames_rx,
            close: close_rx,
            shutdown: app.shutdown.clone(),
            reader_done: reader_done.clone(),
        };
        let mut writer = tokio::spawn(writer::run(sink, inputs));

        let conn = ClientConn {
            conn_id,
            frames: frames_tx,
            close: close.clone(),
        };
        let mut reader = Reader {
            app: app.clone(),
            conn,
            stream,
            bucket: TokenBucket::new(app.config.input_rate, app.config.input_burst),
        };
        reader.run(room_hint).await;
        drop(reader);
        // The writer ends on its own after a close request; otherwise the peer is gone.
        if close.requested().is_none() {
            reader_done.cancel();
        }
        let code = match tokio::time::timeout(WRITER_GRACE, &mut writer).await {
            Ok(Ok(code)) => code,
            _ => {
                writer.abort();
                close.requested().map(|r| r.code)
            }
        };
        if let Some(code) = code {
            app.metrics.count_close(code);
        }
        tracing::debug!(code = code.map(|c| c.code()), "connection ended");
    }
    .instrument(span)
    .await;
}

/// How the play phase ended.
enum Ending {
    /// The player sent `Leave`.
    Left,
    /// The connection ended any other way: the entity waits for a resume.
    Dropped,
}

struct Reader {
    app: Arc<App>,
    conn: ClientConn,
    stream: SplitStream<WebSocket>,
    bucket: TokenBucket,
}

impl Reader {
    async fn run(&mut self, room_hint: Option<u32>) {
        let Some((room, player_id)) = self.join(room_hint).await else {
            return;
        };
        let span = tracing::Span::current();
        span.record("room", room.id);
        span.record("player", player_id);
        tracing::info!("player connected");
        let ending = self.play(&room, player_id).await;
        let conn_id = self.conn.conn_id;
        let cmd = match ending {
            Ending::Left => RoomCommand::Leave { player_id, conn_id },
            Ending::Dropped => RoomCommand::Disconnected { player_id, conn_id },
        };
        if tokio::time::timeout(ROOM_REPLY_TIMEOUT, room.send(cmd))
            .await
            .is_err()
        {
            tracing::warn!("room inbox stayed full; the drop is lost");
        }
        tracing::info!(left = matches!(ending, Ending::Left), "player disconnected");
    }

    /// Waits for the join and gets the room to accept it.
    async fn join(&mut self, room_hint: Option<u32>) -> Option<(Arc<RoomHandle>, u32)> {
        let deadline = tokio::time::Instant::now() + secs(self.app.config.join_timeout);
        let msg = loop {
            let next = tokio::select! {
                _ = self.app.shutdown.cancelled() => return None,
                next = tokio::time::timeout_at(deadline, self.stream.next()) => next,
            };
            match next {
                Err(_) => return self.refuse(CloseCode::JoinTimeout, "no join message in time"),
                Ok(Some(Err(e))) if too_big(&e) => {
                    return self.refuse(CloseCode::TooBig, "message too big");
                }
                Ok(None | Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return None,
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                Ok(Some(Ok(Message::Text(_)))) => {
                    return self.refuse(CloseCode::Malformed, "binary messages only");
                }
                Ok(Some(Ok(Message::Binary(bytes)))) => match decode(&bytes) {
                    Ok(msg) => break msg,
                    Err((code, reason)) => return self.refuse(code, reason),
                },
            }
        };
        let ClientMsg::Join {
            seat_token,
            resume_token,
            ..
        } = msg
        else {
            return self.refuse(CloseCode::Malformed, "the first message must be a join");
        };
        let (reply, answer) = oneshot::channel();
        let (room, cmd, seat) = match resume_token {
            Some(token) => {
                let room = self
                    .app
                    .registry
                    .room_of_resume_token(&token)
                    .and_then(|id| self.app.registry.get(id));
                let Some(room) = room.filter(|r| room_hint.is_none_or(|h| h == r.id)) else {
                    return self.refuse(CloseCode::BadToken, "unknown or expired resume token");
                };
                let cmd = RoomCommand::Resume {
                    token,
                    conn: self.conn.clone(),
                    reply,
                };
                (room, cmd, None)
            }
            None => {
                let seat = match self.app.seats.redeem(&seat_token, room_hint) {
                    Ok(seat) => seat,
                    Err(e) => return self.refuse(CloseCode::BadToken, e.to_string()),
                };
                let Some(room) = self.app.registry.get(seat.room_id) else {
                    return self.refuse(CloseCode::RoomClosed, "the room has closed");
                };
                let cmd = RoomCommand::Join {
                    player_id: seat.player_id,
                    name: seat.player_name.clone(),
                    conn: self.conn.clone(),
                    reply,
                };
                (room, cmd, Some(seat))
            }
        };
        let accepted = match tokio::time::timeout(ROOM_REPLY_TIMEOUT, room.send(cmd)).await {
            Ok(Ok(())) => tokio::time::timeout(ROOM_REPLY_TIMEOUT, answer)
                .await
                .ok()
                .and_then(Result::ok),
            _ => None,
        };
        match accepted {
            Some(Ok(JoinAccepted { player_id })) => Some((room, player_id)),
            Some(Err(refused)) => {
                if let Some(seat) = &seat {
                    self.app.seats.release(seat);
                }
                self.refuse(refused.close_code(), refused.to_string())
            }
            None => {
                if let Some(seat) = &seat {
                    self.app.seats.release(seat);
                }
                self.refuse(
                    JoinRefused::RoomClosed.close_code(),
                    "the room did not answer",
                )
            }
        }
    }

    /// Reads until the connection ends.
    async fn play(&mut self, room: &RoomHandle, player_id: u32) -> Ending {
        let idle = secs(self.app.config.idle_timeout);
        let closing = self.conn.close.clone();
        let conn_id = self.conn.conn_id;
        loop {
            let next = tokio::select! {
                _ = self.app.shutdown.cancelled() => return Ending::Dropped,
                _ = closing.wait() => return Ending::Dropped,
                next = tokio::time::timeout(idle, self.stream.next()) => next,
            };
            let msg = match next {
                Err(_) => {
                    self.conn
                        .close
                        .close(CloseCode::IdleTimeout, "nothing received for too long");
                    return Ending::Dropped;
                }
                Ok(None | Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => {
                    return Ending::Dropped;
                }
                Ok(Some(Ok(msg))) => msg,
            };
            if !self.bucket.try_take(Instant::now()) {
                self.conn
                    .close
                    .close(CloseCode::RateLimited, "too many messages");
                return Ending::Dropped;
            }
            let bytes = match msg {
                Message::Binary(bytes) => bytes,
                Message::Ping(_) | Message::Pong(_) => continue,
                Message::Text(_) => {
                    self.conn
                        .close
                        .close(CloseCode::Malformed, "binary messages only");
                    return Ending::Dropped;
                }
                Message::Close(_) => return Ending::Dropped,
            };
            match decode(&bytes) {
                Ok(ClientMsg::Input(input)) => {
                    if room
                        .try_send(RoomCommand::Input {
                            player_id,
                            conn_id,
                            input,
                        })
                        .is_err()
                    {
                        self.app
                            .metrics
                            .inputs_dropped
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
                Ok(ClientMsg::Ping { client_time_us }) => {
                    let pong = ServerMsg::Pong {
                        client_time_us,
                        server_time_us: crate::room::unix_micros(),
                    };
                    if let Ok(bytes) = protocol::encode_server(&pong) {
                        // A full queue means the client is behind anyway; skip the pong.
                        let _ = self.conn.frames.try_send(Bytes::from(bytes));
                    }
                }
                Ok(ClientMsg::Leave) => {
                    self.conn.close.close(CloseCode::Normal, "left the game");
                    return Ending::Left;
                }
                Ok(ClientMsg::Join { .. }) => {
                    self.conn
                        .close
                        .close(CloseCode::Malformed, "already joined");
                    return Ending::Dropped;
                }
                Err((code, reason)) => {
                    self.conn.close.close(code, reason);
                    return Ending::Dropped;
                }
            }
        }
    }

    fn refuse<T>(
        &self,
        code: CloseCode,
        reason: impl Into<std::borrow::Cow<'static, str>>,
    ) -> Option<T> {
        let reason = reason.into();
        tracing::info!(code = code.code(), %reason, "join refused");
        self.conn.close.close(code, reason);
        None
    }
}

/// Whether a read failed because the peer sent a message over tungstenite's size limit.
fn too_big(e: &axum::Error) -> bool {
    use std::error::Error as _;
    use tokio_tungstenite::tungstenite::Error;
    e.source()
        .and_then(|s| s.downcast_ref::<Error>())
        .is_some_and(|e| matches!(e, Error::Capacity(_)))
}

/// Decodes a client message, mapping failures to the close code and reason to send.
fn decode(bytes: &[u8]) -> Result<ClientMsg, (CloseCode, String)> {
    protocol::decode_client(bytes).map_err(|e| {
        let code = match e {
            CodecError::TooLarge { .. } => CloseCode::TooBig,
            CodecError::VersionMismatch { .. } => CloseCode::VersionMismatch,
            _ => CloseCode::Malformed,
        };
        (code, e.to_string())
    })
}
