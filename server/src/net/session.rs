//! One game connection, one task: join, then play until the connection ends.
//!
//! A single task per connection reads the client's messages, writes what the room's frames left
//! waiting in the socket's [`Outbox`] (the room writes them straight into the socket), and sends
//! the close frame the room or the reader asks for. Nothing in it is shared with other
//! connections, so connections never contend with each other.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket};
use bytes::Bytes;
use futures_util::StreamExt;
use protocol::schema::FieldDef;
use protocol::{ClientMsg, CloseCode, ServerMsg};
use tokio::sync::oneshot;
use tracing::Instrument as _;

use super::outbox::Outbox;
use super::writer::{self, PING_INTERVAL};
use crate::app::App;
use crate::lobby::seats::Seat;
use crate::rate::TokenBucket;
use crate::room::link::{JoinAccepted, JoinRefused, JoinReply};
use crate::room::queue::FrameSender;
use crate::room::{ClientConn, CloseRequest, CloseSignal, Departure, RoomCommand, RoomHandle};

/// Longest a connection waits for its room to take a join and answer it, both together.
const ROOM_REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs a connection from upgrade to close; `outbox` is the socket under `socket`.
pub async fn run(socket: WebSocket, outbox: Arc<Outbox>, app: Arc<App>, room_hint: Option<u32>) {
    let conn_id = app.next_conn_id();
    let span = tracing::info_span!(
        "conn",
        conn_id,
        room = tracing::field::Empty,
        player = tracing::field::Empty
    );
    async move {
        app.metrics.connections.increment(1);
        let frames = FrameSender::Socket {
            outbox: outbox.clone(),
            max_waiting: app.config.client_queue.max(3),
        };
        let conn = ClientConn {
            conn_id,
            frames,
            close: CloseSignal::new(),
        };
        let bucket = TokenBucket::new(app.config.input_rate, app.config.input_burst);
        let mut session = Session {
            app: app.clone(),
            socket,
            conn,
            outbox,
            bucket,
        };
        let code = session.run(room_hint).await;
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

struct Session {
    app: Arc<App>,
    socket: WebSocket,
    /// Our side of the room link (the room holds a clone).
    conn: ClientConn,
    /// The socket under `socket`, which the room writes frames into.
    outbox: Arc<Outbox>,
    bucket: TokenBucket,
}

impl Session {
    /// Joins and plays; returns the close code the connection ended with, if the server closed it.
    async fn run(&mut self, room_hint: Option<u32>) -> Option<CloseCode> {
        let Some((room, player_id)) = self.join(room_hint).await else {
            let req = self.conn.close.requested()?;
            return Some(self.finish(&req).await);
        };
        let span = tracing::Span::current();
        span.record("room", room.id);
        span.record("player", player_id);
        tracing::info!("player connected");
        let (ending, close) = self.play(&room, player_id).await;
        let conn_id = self.conn.conn_id;
        room.depart(match ending {
            Ending::Left => Departure::Left { player_id, conn_id },
            Ending::Dropped => Departure::Dropped { player_id, conn_id },
        });
        let code = match close {
            Some(req) => Some(self.finish(&req).await),
            None => None,
        };
        tracing::info!(
            left = matches!(ending, Ending::Left),
            code = code.map(|c| c.code()),
            "player disconnected"
        );
        code
    }

    /// Closes the connection for `req` so that the client learns why: the frames already sent
    /// or waiting (for a lagging client, only the one it has started to receive), then no more
    /// of the room's frames, the `Disconnect`, the close frame,
    /// then the client's unread input is drained until its close frame or a short deadline, so
    /// that the kernel does not answer unread bytes with a reset. The close is counted at once
    /// (a client that does not read may hold the writes up to their deadline); returns its code.
    async fn finish(&mut self, req: &CloseRequest) -> CloseCode {
        self.app.metrics.count_close(req.code);
        if let Err(writer::WriteFailed) = self.write_close(req).await {
            tracing::debug!(code = req.code.code(), "the close could not be written");
        }
        req.code
    }

    /// Writes what [`Session::finish`] sends, then drains.
    async fn write_close(&mut self, req: &CloseRequest) -> Result<(), writer::WriteFailed> {
        // Stopped first: no frame is accepted between the drop and the close.
        self.outbox.stop_frames();
        if req.code == CloseCode::Lagging {
            self.outbox.drop_waiting_frames();
        }
        writer::send_close(&mut self.socket, req, self.app.config.write_timeout).await?;
        writer::drain(&mut self.socket).await;
        Ok(())
    }

    /// Waits for the join and gets the room to accept it.
    async fn join(&mut self, room_hint: Option<u32>) -> Option<(Arc<RoomHandle>, u32)> {
        let (seat_token, resume_token) = self.read_join().await?;
        let (reply, answer) = oneshot::channel();
        let (room, cmd, seat) = self
            .resolve(seat_token, resume_token, room_hint, reply)
            .await?;
        self.hand_to_room(room, cmd, seat.as_ref(), answer).await
    }

    /// Reads the first message within `--join-timeout`; it must be a join. Returns its seat
    /// token and resume token.
    async fn read_join(&mut self) -> Option<(String, Option<String>)> {
        let deadline = tokio::time::Instant::now() + self.app.config.join_timeout;
        let msg = loop {
            let next = tokio::select! {
                _ = self.app.shutdown.cancelled() => return self.refuse(CloseCode::Shutdown, "the server is shutting down"),
                next = tokio::time::timeout_at(deadline, self.socket.next()) => next,
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
                Ok(Some(Ok(Message::Binary(bytes)))) => match decode(&bytes, &[]) {
                    Ok(msg) => break msg,
                    Err((code, reason)) => return self.refuse(code, reason),
                },
            }
        };
        match msg {
            ClientMsg::Join {
                seat_token,
                resume_token,
                ..
            } => Some((seat_token, resume_token)),
            _ => self.refuse(CloseCode::Malformed, "the first message must be a join"),
        }
    }

    /// Finds the room of a resume token, or redeems the seat token; returns the room, the
    /// command that asks it to admit this connection, and the redeemed seat (if any).
    async fn resolve(
        &mut self,
        seat_token: String,
        resume_token: Option<String>,
        room_hint: Option<u32>,
        reply: JoinReply,
    ) -> Option<(Arc<RoomHandle>, RoomCommand, Option<Seat>)> {
        if let Some(token) = resume_token {
            let room = self
                .app
                .registry
                .room_of_resume_token(&token)
                .and_then(|id| self.app.registry.get(id));
            let Some(room) = room.filter(|r| room_hint.is_none_or(|h| h == r.id)) else {
                return self.refuse(CloseCode::BadToken, "unknown or expired resume token");
            };
            let conn = self.conn.clone();
            return Some((room, RoomCommand::Resume { token, conn, reply }, None));
        }
        let seat = match self.app.seats.redeem(&seat_token, room_hint).await {
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
        Some((room, cmd, Some(seat)))
    }

    /// Queues the join in its room and waits for the answer, both within one
    /// [`ROOM_REPLY_TIMEOUT`]. The seat is ours until the join is queued: if it never reaches
    /// the room we give it back; once queued, the room owns it and gives it back unless it
    /// admits this join (it does not admit a join whose connection gave up waiting).
    async fn hand_to_room(
        &mut self,
        room: Arc<RoomHandle>,
        cmd: RoomCommand,
        seat: Option<&Seat>,
        answer: oneshot::Receiver<Result<JoinAccepted, JoinRefused>>,
    ) -> Option<(Arc<RoomHandle>, u32)> {
        let deadline = tokio::time::Instant::now() + ROOM_REPLY_TIMEOUT;
        let queued = tokio::time::timeout_at(deadline, room.send(cmd)).await;
        if !matches!(queued, Ok(Ok(()))) {
            if let Some(seat) = seat {
                self.app.seats.release(seat);
            }
            return self.refuse(CloseCode::RoomClosed, "the room did not answer");
        }
        match tokio::time::timeout_at(deadline, answer).await {
            Ok(Ok(Ok(JoinAccepted { player_id }))) => Some((room, player_id)),
            Ok(Ok(Err(refused))) => self.refuse(refused.close_code(), refused.to_string()),
            Ok(Err(_)) | Err(_) => self.refuse(CloseCode::RoomClosed, "the room did not answer"),
        }
    }

    /// Writes frames and reads inputs until the connection ends; returns how it ended and the
    /// close still to send, if the peer can still get one.
    async fn play(&mut self, room: &RoomHandle, player_id: u32) -> (Ending, Option<CloseRequest>) {
        let idle = self.app.config.idle_timeout;
        // One idle timer per connection, re-armed only when it fires, not per message.
        let idle_timer = tokio::time::sleep(idle);
        tokio::pin!(idle_timer);
        let mut ping =
            tokio::time::interval_at(tokio::time::Instant::now() + PING_INTERVAL, PING_INTERVAL);
        let mut last_seen = Instant::now();
        let mut ending = Ending::Dropped;
        let close = self.conn.close.clone();
        let outbox = self.outbox.clone();
        // One future for the whole play phase: its stall deadline spans the loop's turns.
        let written = outbox.keep_written(self.app.config.write_timeout);
        tokio::pin!(written);
        loop {
            tokio::select! {
                biased;
                req = close.wait() => return (ending, Some(req)),
                e = &mut written => {
                    tracing::debug!(error = %e, "writing the room's frames failed");
                    return (ending, None);
                }
                next = self.socket.next() => {
                    let Some(msg) = next else { return (ending, None) };
                    last_seen = Instant::now();
                    match self.handle(room, player_id, msg, last_seen) {
                        Ok(()) => {}
                        Err(Some(e)) => ending = e,
                        Err(None) => return (ending, None),
                    }
                }
                _ = &mut idle_timer => {
                    if last_seen.elapsed() >= idle {
                        self.conn.close.close(CloseCode::IdleTimeout, "nothing received for too long");
                    } else {
                        idle_timer.as_mut().reset((last_seen + idle).into());
                    }
                }
                _ = ping.tick() => {
                    if writer::ping(&mut self.socket, self.app.config.write_timeout).await.is_err() {
                        return (ending, None);
                    }
                }
            }
        }
    }

    /// Handles one message from the client. `Err(Some(ending))` records how the session will
    /// end once the close request it made is sent; `Err(None)` ends it now (the peer is gone).
    fn handle(
        &mut self,
        room: &RoomHandle,
        player_id: u32,
        msg: Result<Message, axum::Error>,
        now: Instant,
    ) -> Result<(), Option<Ending>> {
        let msg = match msg {
            Ok(msg) => msg,
            Err(e) if too_big(&e) => return Err(self.close(CloseCode::TooBig, "message too big")),
            Err(_) => return Err(None),
        };
        if !self.bucket.try_take(now) {
            return Err(self.close(CloseCode::RateLimited, "too many messages"));
        }
        let bytes = match msg {
            Message::Binary(bytes) => bytes,
            Message::Ping(_) | Message::Pong(_) => return Ok(()),
            Message::Text(_) => {
                return Err(self.close(CloseCode::Malformed, "binary messages only"));
            }
            Message::Close(_) => return Err(None),
        };
        let conn_id = self.conn.conn_id;
        match decode(&bytes, room.input_fields()) {
            Ok(ClientMsg::Input(input)) => {
                if room
                    .try_send(RoomCommand::Input {
                        player_id,
                        conn_id,
                        input,
                    })
                    .is_err()
                {
                    self.app.metrics.inputs_dropped.increment(1);
                }
                Ok(())
            }
            Ok(ClientMsg::Ping { client_time_us }) => {
                let pong = ServerMsg::Pong {
                    client_time_us,
                    server_time_us: protocol::clock::unix_micros(),
                };
                if let Ok(bytes) = protocol::encode_server(&pong) {
                    // Refused: the client is behind anyway (or gone); skip the pong.
                    let _ = self.conn.frames.try_send(Bytes::from(bytes));
                }
                Ok(())
            }
            Ok(ClientMsg::Leave) => {
                self.close(CloseCode::Normal, "left the game");
                Err(Some(Ending::Left))
            }
            Ok(ClientMsg::Join { .. }) => Err(self.close(CloseCode::Malformed, "already joined")),
            Err((code, reason)) => Err(self.close(code, reason)),
        }
    }

    /// Requests a close; the play loop sends it next.
    fn close(&self, code: CloseCode, reason: impl Into<Cow<'static, str>>) -> Option<Ending> {
        self.conn.close.close(code, reason);
        Some(Ending::Dropped)
    }

    fn refuse<T>(&self, code: CloseCode, reason: impl Into<Cow<'static, str>>) -> Option<T> {
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

/// Decodes a client message (an input's fields by `input`, the room's input fields), mapping
/// failures to the close code and reason to send.
fn decode(bytes: &[u8], input: &[FieldDef]) -> Result<ClientMsg, (CloseCode, String)> {
    protocol::decode_client(bytes, input).map_err(|e| super::reason::refusal(&e))
}
