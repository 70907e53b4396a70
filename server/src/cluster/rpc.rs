//! Requests between nodes over Redis pub/sub: "book a seat for this player in room R (or in any
//! room of this mode, opening one if needed)". The node that runs the room books the seat with
//! its own atomic counters and answers with the seat, whose `ws_url` names that node.
//!
//! A request goes to channel `node:{id}:rpc`; `PUBLISH` counts the listeners, so a request to a
//! node that is gone fails at once instead of waiting. The answer goes to the asking process's
//! `reply:{inbox}` channel. A request carries a deadline; a node that reads it late (it was
//! stopped) drops it, and an answer that comes too late is dropped too (its seat expires
//! unredeemed).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use protocol::api::{JoinOrCreate, SeatGrant};
use serde::{Deserialize, Serialize};

use super::{Cluster, ClusterError, keys};
use crate::app::App;
use crate::lobby::LobbyError;

/// How long a node waits for another node's answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(1);
/// Pause before subscribing again after the pub/sub connection broke.
const RESUBSCRIBE_PAUSE: Duration = Duration::from_millis(250);

/// A seat request from one node to another.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    /// Matches the answer to the question.
    pub id: u64,
    /// The asking process's answer channel.
    pub reply_to: String,
    /// Unix milliseconds after which the asker no longer waits.
    pub deadline_ms: u64,
    /// What is asked.
    pub join: RemoteJoin,
}

/// A seat for `player_name`: in `room`, or, without one, in any room of `mode` on the node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoteJoin {
    /// The mode.
    pub mode: String,
    /// The player.
    pub player_name: String,
    /// The room, if the asker chose one.
    pub room: Option<u32>,
    /// The client's address (counted against `--rooms-per-addr` if a room is opened).
    pub creator: IpAddr,
}

/// Why a node refused a seat request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// The room is full or gone: try another.
    Full,
    /// A per-address or per-server limit was reached there ([`LobbyError::Limit`]).
    Limit(String),
    /// The node cannot seat the player now ([`LobbyError::Unavailable`]), or refused the
    /// request for a reason that is the node's, not the client's (e.g. a mode it does not serve).
    Unavailable(String),
}

impl From<Refusal> for LobbyError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Full => {
                LobbyError::Unavailable("no room of this mode can take a player now".into())
            }
            Refusal::Limit(message) => LobbyError::Limit(message),
            Refusal::Unavailable(message) => LobbyError::Unavailable(message),
        }
    }
}

/// The answer to a [`Request`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reply {
    /// The request's id.
    pub id: u64,
    /// The seat, or why not.
    pub result: Result<SeatGrant, Refusal>,
}

/// Removes a pending request when its asker stops waiting, however it stops.
struct Pending<'a> {
    cluster: &'a Cluster,
    id: u64,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        self.cluster.pending.remove(&self.id);
    }
}

fn unix_ms() -> u64 {
    protocol::clock::unix_micros() / 1000
}

impl Cluster {
    /// Asks node `node` for a seat.
    pub async fn ask(
        &self,
        node: u64,
        join: RemoteJoin,
    ) -> Result<Result<SeatGrant, Refusal>, ClusterError> {
        let id = self
            .next_request
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.pending.insert(id, tx);
        let _pending = Pending { cluster: self, id };
        let request = Request {
            id,
            reply_to: keys::reply(&self.inbox),
            deadline_ms: unix_ms() + ANSWER_TIMEOUT.as_millis() as u64,
            join,
        };
        let payload = serde_json::to_string(&request).unwrap_or_default();
        let listeners: u64 = self
            .call(async |mut c| {
                redis::cmd("PUBLISH")
                    .arg(keys::rpc(node))
                    .arg(&payload)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        if listeners == 0 {
            return Err(ClusterError::NodeSilent(node));
        }
        match tokio::time::timeout(ANSWER_TIMEOUT, rx).await {
            Ok(Ok(reply)) => Ok(reply.result),
            _ => Err(ClusterError::NodeSilent(node)),
        }
    }
}

/// Answers other nodes' requests and routes answers to this node's waiting requests, until
/// shutdown; subscribes again after the connection breaks and when the node id changes.
pub async fn serve(app: Arc<App>, cluster: Arc<Cluster>) {
    let mut node = cluster.node.subscribe();
    loop {
        let session = listen(&app, &cluster, &mut node);
        tokio::select! {
            () = app.shutdown.cancelled() => return,
            result = session => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "node request channel lost; subscribing again");
                }
            }
        }
        tokio::select! {
            () = app.shutdown.cancelled() => return,
            () = tokio::time::sleep(RESUBSCRIBE_PAUSE) => {}
        }
    }
}

/// One pub/sub connection's life: subscribe, then dispatch until it breaks.
async fn listen(
    app: &Arc<App>,
    cluster: &Arc<Cluster>,
    node: &mut tokio::sync::watch::Receiver<u64>,
) -> Result<(), ClusterError> {
    let pubsub = tokio::time::timeout(ANSWER_TIMEOUT, cluster.client.get_async_pubsub())
        .await
        .map_err(|_| ClusterError::Timeout)??;
    let (mut sink, mut stream) = pubsub.split();
    sink.subscribe(keys::reply(&cluster.inbox)).await?;
    let mut current = *node.borrow_and_update();
    if current != 0 {
        sink.subscribe(keys::rpc(current)).await?;
    }
    loop {
        tokio::select! {
            changed = node.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
                let next = *node.borrow_and_update();
                if current != 0 {
                    sink.unsubscribe(keys::rpc(current)).await?;
                }
                if next != 0 {
                    sink.subscribe(keys::rpc(next)).await?;
                }
                current = next;
            }
            msg = stream.next() => {
                let Some(msg) = msg else { return Ok(()) };
                dispatch(app, cluster, msg.get_channel_name(), msg.get_payload_bytes());
            }
        }
    }
}

/// Routes one message: an answer to its waiting request, a request to a task that answers it.
fn dispatch(app: &Arc<App>, cluster: &Arc<Cluster>, channel: &str, payload: &[u8]) {
    if channel.starts_with("reply:") {
        match serde_json::from_slice::<Reply>(payload) {
            Ok(reply) => {
                if let Some((_, tx)) = cluster.pending.remove(&reply.id) {
                    let _ = tx.send(reply);
                }
            }
            Err(e) => tracing::warn!(error = %e, "an answer from another node does not parse"),
        }
        return;
    }
    match serde_json::from_slice::<Request>(payload) {
        Ok(request) if request.deadline_ms >= unix_ms() => {
            tokio::spawn(answer(app.clone(), cluster.clone(), request));
        }
        Ok(_) => tracing::debug!("a request from another node came too late; dropped"),
        Err(e) => tracing::warn!(error = %e, "a request from another node does not parse"),
    }
}

/// Books the seat asked for and publishes the answer.
async fn answer(app: Arc<App>, cluster: Arc<Cluster>, request: Request) {
    let result = book(&app, &request.join).await.map_err(refusal);
    let reply = Reply {
        id: request.id,
        result,
    };
    let payload = serde_json::to_string(&reply).unwrap_or_default();
    let sent = cluster
        .call(async |mut c| {
            redis::cmd("PUBLISH")
                .arg(&request.reply_to)
                .arg(&payload)
                .query_async::<u64>(&mut c)
                .await
        })
        .await;
    if let Err(e) = sent {
        tracing::debug!(error = %e, "cannot answer another node; the seat expires unused");
    }
}

/// What the asker learns of a refusal here.
pub fn refusal(e: LobbyError) -> Refusal {
    match e {
        LobbyError::Full(_) | LobbyError::NotFound(_) => Refusal::Full,
        LobbyError::Limit(message) => Refusal::Limit(message),
        LobbyError::Unavailable(message) => Refusal::Unavailable(message),
        e => Refusal::Unavailable(e.to_string()),
    }
}

/// Books a seat on this node.
pub async fn book(app: &App, join: &RemoteJoin) -> Result<SeatGrant, LobbyError> {
    match join.room {
        Some(id) => {
            let room = app.registry.get(id).ok_or(LobbyError::NotFound("room"))?;
            if room.mode != join.mode {
                return Err(LobbyError::NotFound("room"));
            }
            app.seats.reserve(&room, &join.player_name).await
        }
        None => {
            app.matchmaker
                .join_or_create(
                    &JoinOrCreate {
                        player_name: join.player_name.clone(),
                        mode: join.mode.clone(),
                    },
                    join.creator,
                )
                .await
        }
    }
}
