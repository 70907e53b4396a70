//! The Redis key layout of a cluster (README "Running several nodes" lists it for operators).
//!
//! - `nodes:next`: counter of node ids; a node takes one each time it registers.
//! - `rooms:next-block`: counter of room id blocks ([`crate::room::ids::BLOCK`] ids each).
//! - `nodes`: set of node ids that registered; a member whose lease is gone is removed by the
//!   next directory read.
//! - `node:{id}`: the node's lease, JSON [`super::directory::NodeInfo`], with a TTL of
//!   `--node-lease`.
//! - `node:{id}:rooms`: JSON list of the node's rooms ([`super::directory::RoomEntry`]), with the
//!   same TTL: a dead node's rooms leave every listing when its lease expires, with no cleanup.
//! - `lobby:{id}`: a lobby, JSON [`crate::lobby::lobbies::Lobby`] (members' keys included),
//!   with a TTL of `--lobby-idle-secs` renewed by each change while open, 5 minutes once
//!   started; `lobbies:public` and `lobbies:public:{mode}`: sorted sets of the public lobbies'
//!   ids by creation time (an id whose lobby expired is dropped by the next listing).
//! - `ticket:{id}`: a quick-match ticket, JSON [`crate::lobby::tickets::Ticket`], kept while it
//!   searches (`--ticket-ttl`) and one minute after; `tickets:queue`: sorted set of ticket ids
//!   by creation time, read by the matcher at each pass (it drops the ids of tickets no longer
//!   searching).
//! - `caps:{what}` and `caps:{what}:{client}`: sorted sets of the open lobbies and searching
//!   tickets, in the cluster and per client, scored by when they stop counting
//!   ([`super::caps`]).
//! - `lease:matcher`: the id of the node that runs the quick-match matcher, with the lease TTL;
//!   renewed by that node, taken by another when it lapses.
//! - Pub/sub channel `node:{id}:rpc`: requests to the node; `reply:{inbox}`: answers to one
//!   process.

/// The counter of node ids.
pub const NODE_IDS: &str = "nodes:next";
/// The counter of room id blocks.
pub const ROOM_ID_BLOCKS: &str = "rooms:next-block";
/// The matcher lease.
pub const MATCHER: &str = "lease:matcher";
/// The set of registered node ids.
pub const NODES: &str = "nodes";

/// The lease of node `id`.
pub fn lease(id: u64) -> String {
    format!("node:{id}")
}

/// The room list of node `id`.
pub fn rooms(id: u64) -> String {
    format!("node:{id}:rooms")
}

/// The prefix of a ticket's key.
pub const TICKET: &str = "ticket:";
/// The ticket ids the matcher reads, by creation time.
pub const TICKET_QUEUE: &str = "tickets:queue";
/// The prefix of a lobby's key.
pub const LOBBY: &str = "lobby:";
/// The public lobbies of every mode, by creation time.
pub const PUBLIC_LOBBIES: &str = "lobbies:public";

/// The public lobbies of `mode`, by creation time.
pub fn public_lobbies(mode: &str) -> String {
    format!("lobbies:public:{mode}")
}

/// The request channel of node `id`.
pub fn rpc(id: u64) -> String {
    format!("node:{id}:rpc")
}

/// The answer channel of one process.
pub fn reply(inbox: &str) -> String {
    format!("reply:{inbox}")
}
