//! Several nodes sharing matchmaking and the room directory through Redis (`--redis`).
//!
//! # Design
//! A room lives on one node, and that node alone takes and gives back its seats, with the same
//! atomic counters as a node serving alone: no room can go over capacity. A seat is recorded in
//! Redis when issued and redeemed there by one atomic script before the room's node admits the
//! player ([`seats`]), so a token enters once across the cluster (its `ws_url` names the room's
//! node). What Redis shares:
//! - the node registry and the room directory ([`keys`]): each node renews a lease holding its
//!   public URL and lists its rooms under a key with the same TTL, so a dead node's rooms
//!   leave every listing when its lease lapses, without a cleanup pass;
//! - requests between nodes ([`rpc`]): a node that answers a join-or-create for a room on
//!   another node (or opens a room on the least-loaded node) asks that node over pub/sub to book
//!   the seat, and relays the seat;
//! - room ids: each node leases blocks of ids ([`crate::room::ids`]), unique across the cluster;
//! - lobbies and quick-match tickets ([`store`]), with the caps on them ([`caps`]): any node
//!   answers any lobby or ticket call, they outlive the node that created them, and the node
//!   holding the matcher lease matches the cluster's tickets.
//!
//! [`lease::run`] keeps the lease (and notices a stall longer than the lease: the node then
//! closes its rooms with 4009 and registers as a new node); [`rpc::serve`] answers the other
//! nodes; [`join`] is join-or-create across the cluster.

pub mod caps;
pub mod directory;
pub mod join;
pub mod keys;
pub mod lease;
pub mod rpc;
pub mod seats;
pub mod store;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use thiserror::Error;
use tokio::sync::{oneshot, watch};

use directory::Directory;

/// Why a cluster operation failed.
#[derive(Debug, Error)]
pub enum ClusterError {
    /// Redis answered with an error or could not be reached.
    #[error("the cluster store is unavailable: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis did not answer in time.
    #[error("the cluster store did not answer in time")]
    Timeout,
    /// This node holds no lease right now (registering, or registering again).
    #[error("this node is not registered in the cluster right now")]
    NotRegistered,
    /// The node asked is not listening, or did not answer in time.
    #[error("node {0} did not answer")]
    NodeSilent(u64),
}

/// Longest wait for one Redis command.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(1);

/// This node's link to the cluster.
pub struct Cluster {
    client: redis::Client,
    conn: ConnectionManager,
    /// The current node id (0 while unregistered); [`rpc::serve`] follows its changes.
    node: watch::Sender<u64>,
    /// This process's answer inbox (random, fixed for the process's life).
    inbox: String,
    /// The node's public base URL.
    url: String,
    /// Lease time to live.
    lease: Duration,
    /// The node that runs the cluster's matcher, as of the last renewal (0: unknown).
    matcher: AtomicU64,
    pending: DashMap<u64, oneshot::Sender<rpc::Reply>>,
    next_request: AtomicU64,
    /// The last directory read and when it was read: listings and join-or-create's choice of
    /// room use it for one renewal period ([`lease::period`]); the lease loop refreshes it.
    listing: RwLock<Option<(Instant, Arc<Directory>)>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("node", &self.node_id())
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Connects to Redis at `redis_url`; `url` is this node's public base URL.
    pub async fn connect(
        redis_url: &str,
        url: String,
        lease: Duration,
    ) -> Result<Self, ClusterError> {
        let client = redis::Client::open(redis_url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = tokio::time::timeout(
            COMMAND_TIMEOUT * 3,
            ConnectionManager::new_with_config(client.clone(), config),
        )
        .await
        .map_err(|_| ClusterError::Timeout)??;
        Ok(Self {
            client,
            conn,
            node: watch::Sender::new(0),
            inbox: crate::room::random_token(),
            url,
            lease,
            matcher: AtomicU64::new(0),
            pending: DashMap::new(),
            next_request: AtomicU64::new(1),
            listing: RwLock::new(None),
        })
    }

    /// The current node id; none while unregistered.
    pub fn node_id(&self) -> Option<u64> {
        Some(*self.node.borrow()).filter(|&id| id != 0)
    }

    /// Follows the current node id (0 while unregistered).
    pub fn node_watch(&self) -> watch::Receiver<u64> {
        self.node.subscribe()
    }

    /// Whether this node holds the lease of the cluster's matcher (quick-match tickets), as of
    /// its last renewal.
    pub fn runs_matcher(&self) -> bool {
        self.node_id()
            .is_some_and(|id| self.matcher.load(Ordering::Relaxed) == id)
    }

    /// This node's public base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs one Redis call within [`COMMAND_TIMEOUT`].
    pub(crate) async fn call<T>(
        &self,
        f: impl AsyncFnOnce(ConnectionManager) -> redis::RedisResult<T>,
    ) -> Result<T, ClusterError> {
        match tokio::time::timeout(COMMAND_TIMEOUT, f(self.conn.clone())).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(ClusterError::Redis(e)),
            Err(_) => Err(ClusterError::Timeout),
        }
    }

    /// Every live node with its rooms as read at most one renewal period ago
    /// ([`lease::period`]); read again (see [`Self::refresh`]) when older.
    pub async fn listing(&self) -> Result<Arc<Directory>, ClusterError> {
        let cached = self
            .listing
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|(at, _)| at.elapsed() < lease::period(self.lease))
            .map(|(_, directory)| directory.clone());
        match cached {
            Some(directory) => Ok(directory),
            None => self.refresh().await,
        }
    }

    /// Reads the directory and keeps it for [`Self::listing`]; a failed read forgets the kept
    /// one, so listings answer 503 while Redis is away.
    pub async fn refresh(&self) -> Result<Arc<Directory>, ClusterError> {
        let read = self.directory().await.map(Arc::new);
        *self.listing.write().unwrap_or_else(PoisonError::into_inner) = read
            .as_ref()
            .ok()
            .map(|directory| (Instant::now(), directory.clone()));
        read
    }

    /// Every live node with its rooms, read in one atomic script that also forgets registered
    /// nodes whose lease is gone.
    async fn directory(&self) -> Result<Directory, ClusterError> {
        let pairs: Vec<String> = self
            .call(async |mut conn| {
                lease::DIRECTORY
                    .key(keys::NODES)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        Ok(Directory::from_pairs(pairs))
    }
}
