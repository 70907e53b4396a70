//! [`GameClient`]: one game connection that keeps a [`WorldView`] in step with the server,
//! decoding whatever game the room plays by the schema the server sends after its welcome.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use protocol::world::{self, FrameError, FrameInfo};
use protocol::{ClientMsg, CloseCode, Desync, Input, Schema, ServerMsg, Value, Welcome, WorldView};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::error::ClientError;

/// Longest wait for the server's welcome and schema.
pub const JOIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Socket buffers: frames are small, so a small read buffer saves memory and zero-filling.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(2 * 1024)
        .write_buffer_size(0)
        .max_message_size(Some(protocol::codec::MAX_SERVER_MSG))
        .max_frame_size(Some(protocol::codec::MAX_SERVER_MSG))
}

/// Opens the WebSocket of `ws_url`, from `source` when given and the URL is a plain `ws://`
/// one on a loopback address (a chosen source address is for load tests against a server on
/// this machine); otherwise from the system's choice.
async fn open(
    ws_url: &str,
    source: Option<IpAddr>,
) -> Result<WebSocketStream<MaybeTlsStream<TcpStream>>, ClientError> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let request = ws_url.into_client_request()?;
    let uri = request.uri();
    let (host, port) = (uri.host().unwrap_or_default(), uri.port_u16().unwrap_or(80));
    let target = match source {
        Some(source) if uri.scheme_str() == Some("ws") => tokio::net::lookup_host((host, port))
            .await
            .map_err(tokio_tungstenite::tungstenite::Error::Io)?
            .find(|a| a.is_ipv4() == source.is_ipv4() && a.ip().is_loopback())
            .map(|a| (source, a)),
        _ => None,
    };
    let Some((source, target)) = target else {
        let (ws, _) =
            tokio_tungstenite::connect_async_with_config(ws_url, Some(ws_config()), true).await?;
        return Ok(ws);
    };
    let socket = match source {
        IpAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
        IpAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
    };
    let stream = async {
        let socket = socket?;
        socket.bind(std::net::SocketAddr::new(source, 0))?;
        let stream = socket.connect(target).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
    .await
    .map_err(tokio_tungstenite::tungstenite::Error::Io)?;
    let (ws, _) = tokio_tungstenite::client_async_with_config(
        request,
        MaybeTlsStream::Plain(stream),
        Some(ws_config()),
    )
    .await?;
    Ok(ws)
}

/// What one read from the server produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A snapshot or delta was applied (or failed to apply: `desync`).
    Frame {
        /// The frame's tick.
        tick: u32,
        /// The server's clock when the tick finished (µs since the Unix epoch).
        server_time_us: u64,
        /// Whether it was a full snapshot.
        snapshot: bool,
        /// Encoded size.
        bytes: usize,
        /// Why the mirror no longer matches, if it does not.
        desync: Option<Desync>,
    },
    /// The answer to a ping.
    Pong {
        /// The value sent.
        client_time_us: u64,
        /// The server's clock.
        server_time_us: u64,
    },
}

fn frame_event(info: FrameInfo, bytes: usize, desync: Option<Desync>) -> Event {
    Event::Frame {
        tick: info.tick,
        server_time_us: info.server_time_us,
        snapshot: info.snapshot,
        bytes,
        desync,
    }
}

/// A connected player.
#[derive(Debug)]
pub struct GameClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    welcome: Welcome,
    world: WorldView,
    ws_url: String,
    source: Option<IpAddr>,
    closing: Option<(u16, String)>,
}

impl GameClient {
    /// Connects to `ws_url` and takes the seat of `seat_token`.
    pub async fn join(ws_url: &str, seat_token: &str) -> Result<Self, ClientError> {
        Self::join_from(ws_url, seat_token, None).await
    }

    /// Like [`GameClient::join`], connecting from source address `source` (the system's choice
    /// when `None`); a resume of this client leaves from the same address.
    pub async fn join_from(
        ws_url: &str,
        seat_token: &str,
        source: Option<IpAddr>,
    ) -> Result<Self, ClientError> {
        let join = ClientMsg::Join {
            protocol_version: protocol::PROTOCOL_VERSION,
            seat_token: seat_token.to_owned(),
            resume_token: None,
        };
        Self::connect(ws_url, join, source).await
    }

    /// Connects to `ws_url` and takes back a dropped player with its resume token.
    pub async fn resume(ws_url: &str, resume_token: &str) -> Result<Self, ClientError> {
        Self::resume_from(ws_url, resume_token, None).await
    }

    /// Like [`GameClient::resume`], connecting from source address `source`.
    pub async fn resume_from(
        ws_url: &str,
        resume_token: &str,
        source: Option<IpAddr>,
    ) -> Result<Self, ClientError> {
        let join = ClientMsg::Join {
            protocol_version: protocol::PROTOCOL_VERSION,
            seat_token: String::new(),
            resume_token: Some(resume_token.to_owned()),
        };
        Self::connect(ws_url, join, source).await
    }

    /// The source address this client connected from, if it chose one.
    pub fn source(&self) -> Option<IpAddr> {
        self.source
    }

    async fn connect(
        ws_url: &str,
        join: ClientMsg,
        source: Option<IpAddr>,
    ) -> Result<Self, ClientError> {
        let join = protocol::encode_client(&join)?;
        // Connecting, the upgrade, the join and the answer: a server that takes the connection
        // and never answers must not hold the bot.
        let (ws, welcome, schema) = tokio::time::timeout(JOIN_TIMEOUT, async {
            let mut ws = open(ws_url, source).await?;
            ws.send(Message::Binary(join.into())).await?;
            let welcome = match next_message(&mut ws).await? {
                ServerMsg::Welcome(w) => w,
                other => return Err(unexpected("a welcome", &other)),
            };
            let schema = match next_message(&mut ws).await? {
                ServerMsg::Schema(s) => s,
                other => return Err(unexpected("the schema", &other)),
            };
            schema
                .check()
                .map_err(|e| ClientError::Protocol(format!("the server's schema: {e}")))?;
            Ok((ws, welcome, schema))
        })
        .await
        .map_err(|_| ClientError::Timeout("the welcome"))??;
        let world = WorldView::new(Arc::new(schema), welcome.player_id);
        Ok(Self {
            ws,
            welcome,
            world,
            ws_url: ws_url.to_owned(),
            source,
            closing: None,
        })
    }

    /// The welcome of the current connection.
    pub fn welcome(&self) -> &Welcome {
        &self.welcome
    }

    /// The mirrored world.
    pub fn world(&self) -> &WorldView {
        &self.world
    }

    /// The schema of the room's game.
    pub fn schema(&self) -> &Schema {
        self.world.schema()
    }

    /// The URL this client connected to.
    pub fn ws_url(&self) -> &str {
        &self.ws_url
    }

    /// The input sequence the server last acknowledged for this player (0 before any).
    pub fn acked_seq(&self) -> u32 {
        self.world.ack()
    }

    /// An input of the room's game, its fields named in `values` (any field not named gets its
    /// type's default); fails for an unknown field or a value that does not fit its type.
    pub fn input(
        &self,
        seq: u32,
        client_tick: u32,
        values: &[(&str, Value)],
    ) -> Result<Input, ClientError> {
        let fields = &self.schema().input;
        if let Some((name, _)) = values
            .iter()
            .find(|(n, _)| !fields.iter().any(|f| f.name == *n))
        {
            return Err(ClientError::Protocol(format!(
                "the game's input has no field `{name}`"
            )));
        }
        let mut bytes = Vec::with_capacity(fields.len() * 2);
        for f in fields {
            let given = values.iter().find(|(n, _)| *n == f.name).map(|(_, v)| v);
            let value = given.cloned().unwrap_or_else(|| f.ty.default_value());
            f.ty.write(&value, &mut bytes)
                .map_err(|e| ClientError::Protocol(format!("input field `{}`: {e}", f.name)))?;
        }
        Ok(Input {
            seq,
            client_tick,
            fields: bytes.into(),
        })
    }

    /// Sends one input.
    pub async fn send_input(&mut self, input: Input) -> Result<(), ClientError> {
        self.send(&ClientMsg::Input(input)).await
    }

    /// Sends a ping carrying `client_time_us`.
    pub async fn ping(&mut self, client_time_us: u64) -> Result<(), ClientError> {
        self.send(&ClientMsg::Ping { client_time_us }).await
    }

    /// Leaves for good and waits (briefly) for the server's close.
    pub async fn leave(mut self) -> Result<(), ClientError> {
        self.send(&ClientMsg::Leave).await?;
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(Ok(_)) = self.ws.next().await {}
        })
        .await;
        Ok(())
    }

    /// Sends raw bytes as one binary message (for tests of hostile input).
    pub async fn send_raw(&mut self, bytes: Vec<u8>) -> Result<(), ClientError> {
        self.ws.send(Message::Binary(Bytes::from(bytes))).await?;
        Ok(())
    }

    /// Sends any client message.
    pub async fn send(&mut self, msg: &ClientMsg) -> Result<(), ClientError> {
        self.ws
            .send(Message::Binary(protocol::encode_client(msg)?.into()))
            .await?;
        Ok(())
    }

    /// Reads until the next frame or pong. Cancel-safe: use it in `select!`.
    ///
    /// A close from the server is `Err(ClientError::Closed)` with its code and reason.
    pub async fn recv(&mut self) -> Result<Event, ClientError> {
        loop {
            let msg = match self.ws.next().await {
                Some(Ok(msg)) => msg,
                Some(Err(e)) => return Err(self.closed_or(e.into())),
                None => {
                    return Err(self.closed_or(ClientError::Closed {
                        code: 1006,
                        reason: "connection lost".into(),
                    }));
                }
            };
            let bytes = match msg {
                Message::Binary(b) => b,
                Message::Close(frame) => {
                    let (code, reason) = frame.map_or((1005, String::new()), |f| {
                        (f.code.into(), f.reason.to_string())
                    });
                    return Err(ClientError::Closed { code, reason });
                }
                _ => continue,
            };
            if world::is_frame(&bytes) {
                // Applied straight from the bytes: no per-frame allocation.
                return match self.world.apply(&bytes) {
                    Ok(info) => Ok(frame_event(info, bytes.len(), None)),
                    // The header is read again only for the rare desync report.
                    Err(FrameError::Desync(d)) => match world::frame_header(&bytes) {
                        Some(info) => Ok(frame_event(info, bytes.len(), Some(d))),
                        None => Err(ClientError::Protocol(d.to_string())),
                    },
                    Err(e) => Err(ClientError::Protocol(e.to_string())),
                };
            }
            match protocol::decode_server(&bytes)? {
                ServerMsg::Pong {
                    client_time_us,
                    server_time_us,
                } => {
                    return Ok(Event::Pong {
                        client_time_us,
                        server_time_us,
                    });
                }
                ServerMsg::Disconnect { code, reason } => {
                    self.closing = Some((code.code(), reason))
                }
                other @ (ServerMsg::Welcome(_) | ServerMsg::Schema(_)) => {
                    return Err(unexpected("a frame", &other));
                }
            }
        }
    }

    /// A transport failure after a `Disconnect` message is that close, not a transport error.
    fn closed_or(&mut self, e: ClientError) -> ClientError {
        match self.closing.take() {
            Some((code, reason)) => ClientError::Closed { code, reason },
            None => e,
        }
    }

    /// The close code of an error, if the server closed on purpose.
    pub fn close_code(e: &ClientError) -> Option<CloseCode> {
        match e {
            ClientError::Closed { code, .. } => CloseCode::from_code(*code),
            _ => None,
        }
    }
}

/// The next message other than a frame while joining; a close is [`ClientError::Closed`].
async fn next_message(
    ws: &mut WebSocketStream<MaybeTlsStream<TcpStream>>,
) -> Result<ServerMsg, ClientError> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Binary(b))) => match protocol::decode_server(&b)? {
                ServerMsg::Disconnect { code, reason } => {
                    return Err(ClientError::Closed {
                        code: code.code(),
                        reason,
                    });
                }
                msg => return Ok(msg),
            },
            Some(Ok(Message::Close(frame))) => {
                let (code, reason) = frame.map_or((1005, String::new()), |f| {
                    (f.code.into(), f.reason.to_string())
                });
                return Err(ClientError::Closed { code, reason });
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => {
                return Err(ClientError::Closed {
                    code: 1006,
                    reason: "connection lost".into(),
                });
            }
        }
    }
}

/// A protocol error for a message that came where `expected` should have.
fn unexpected(expected: &str, got: &ServerMsg) -> ClientError {
    let what = match got {
        ServerMsg::Welcome(_) => "a welcome",
        ServerMsg::Schema(_) => "a schema",
        ServerMsg::Pong { .. } => "a pong",
        ServerMsg::Disconnect { .. } => "a disconnect",
    };
    ClientError::Protocol(format!("expected {expected}, got {what}"))
}
