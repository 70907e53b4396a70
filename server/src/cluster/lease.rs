//! The node's lease: registration, renewal well inside the TTL, and what happens when the node
//! finds it lost its lease.
//!
//! - Renewal runs every third of `--node-lease` (at most every 500 ms) and republishes the
//!   node's rooms with the lease, in one script; then it takes or renews the
//!   matcher lease.
//! - A renewal loop that did not run for longer than the lease (the process was stopped, e.g.
//!   SIGSTOP, or starved) means the cluster has already dropped this node's rooms and its players
//!   may have been matched elsewhere: the node closes its rooms with 4009 and registers again
//!   under a new id, so no stale room comes back to life.
//! - Redis failing to answer is not the node's fault: its rooms keep running, and when Redis
//!   answers again the same registration and its rooms are written back.

use std::sync::Arc;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use redis::Script;

use super::directory::{NodeInfo, RoomEntry};
use super::{Cluster, ClusterError, keys};
use crate::app::App;
use crate::room::random_token;

/// Renewals per lease time to live.
const RENEWALS_PER_LEASE: u32 = 3;
/// Longest time between renewals (the room list is republished as often).
const MAX_PERIOD: Duration = Duration::from_millis(500);

/// Lists every live node: lease and rooms in pairs; forgets registered ids whose lease is gone.
pub static DIRECTORY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local info = redis.call('GET', 'node:' .. id)
  if info then
    table.insert(out, info)
    table.insert(out, redis.call('GET', 'node:' .. id .. ':rooms') or '[]')
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return out
",
    )
});

/// Renews (or writes back) a lease and its room list, unless another registration holds the
/// id; keeps the id counters above what this node holds (after Redis lost its data).
/// Returns 1 if the lease was held, 0 if it was written back, -1 if another holds it.
static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local current = redis.call('GET', KEYS[1])
if current and not string.find(current, ARGV[6], 1, true) then
  return -1
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[3], ARGV[4])
if tonumber(redis.call('GET', KEYS[4]) or '0') < tonumber(ARGV[4]) then
  redis.call('SET', KEYS[4], ARGV[4])
end
if tonumber(redis.call('GET', KEYS[5]) or '0') < tonumber(ARGV[5]) then
  redis.call('SET', KEYS[5], ARGV[5])
end
if current then return 1 end
return 0
",
    )
});

/// Takes the matcher lease if it is free, renews it if this node holds it; returns the holder.
static MATCHER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local holder = redis.call('GET', KEYS[1])
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return tonumber(ARGV[1])
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return tonumber(holder)
",
    )
});

/// How a renewal went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Renewal {
    /// The lease was ours and is renewed.
    Held,
    /// The lease was gone (Redis lost it) and is written back.
    Restored,
    /// Another registration holds this node id.
    Taken,
}

/// The time between renewals of a lease of time to live `lease`.
pub fn period(lease: Duration) -> Duration {
    (lease / RENEWALS_PER_LEASE).min(MAX_PERIOD)
}

/// Keeps this node registered until shutdown, and the directory it lists read once per
/// renewal; removes its lease and room list at shutdown.
pub async fn run(app: Arc<App>, cluster: Arc<Cluster>) {
    let period = period(cluster.lease);
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut incarnation = random_token();
    let mut last_run = Instant::now();
    let mut failing = false;
    loop {
        tokio::select! {
            () = app.shutdown.cancelled() => break,
            _ = ticker.tick() => {}
        }
        let stalled = last_run.elapsed() > cluster.lease;
        last_run = Instant::now();
        if stalled && cluster.node_id().is_some() {
            tracing::warn!(
                node = cluster.node_id(),
                "this node did not run for longer than its lease: closing its rooms and \
                 registering again as a new node"
            );
            leave(&app, &cluster, &mut incarnation);
        }
        match step(&app, &cluster, &incarnation).await {
            Ok(Renewal::Held) => {}
            Ok(Renewal::Restored) => {
                tracing::info!(
                    node = cluster.node_id(),
                    "lease written back with this node's rooms"
                );
            }
            Ok(Renewal::Taken) => {
                tracing::warn!(
                    node = cluster.node_id(),
                    "another process holds this node's id"
                );
                leave(&app, &cluster, &mut incarnation);
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "cannot renew the node's lease; rooms keep running");
                }
                failing = true;
                continue;
            }
        }
        if failing {
            tracing::info!(node = cluster.node_id(), "the cluster store answers again");
            failing = false;
        }
        if let Err(e) = cluster.refresh().await {
            tracing::debug!(error = %e, "cannot read the cluster's directory");
        }
    }
    deregister(&cluster).await;
}

/// Closes every room of this node and forgets its registration.
fn leave(app: &App, cluster: &Cluster, incarnation: &mut String) {
    app.registry.evict_all();
    cluster.node.send_replace(0);
    *incarnation = random_token();
}

/// Registers if needed, leases a block of room ids if the node runs low, and renews.
async fn step(app: &App, cluster: &Cluster, incarnation: &str) -> Result<Renewal, ClusterError> {
    let id = match cluster.node_id() {
        Some(id) => id,
        None => register(cluster).await?,
    };
    if app.registry.ids().wants_block() {
        let block: u32 = cluster
            .call(async |mut c| {
                redis::cmd("INCR")
                    .arg(keys::ROOM_ID_BLOCKS)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        app.registry.ids().add_block(block);
    }
    let info = NodeInfo {
        id,
        url: cluster.url.clone(),
        incarnation: incarnation.to_owned(),
    };
    let rooms: Vec<RoomEntry> = app
        .registry
        .list()
        .iter()
        .filter(|r| !r.is_closed() && !r.is_evicted())
        .map(|r| RoomEntry::of(r))
        .collect();
    let info = serde_json::to_string(&info).unwrap_or_default();
    let rooms = serde_json::to_string(&rooms).unwrap_or_default();
    let ttl = cluster.lease.as_millis() as u64;
    let block = app.registry.ids().highest_block();
    let answer: i64 = cluster
        .call(async |mut c| {
            RENEW
                .key(keys::lease(id))
                .key(keys::rooms(id))
                .key(keys::NODES)
                .key(keys::NODE_IDS)
                .key(keys::ROOM_ID_BLOCKS)
                .arg(&info)
                .arg(&rooms)
                .arg(ttl)
                .arg(id)
                .arg(block)
                .arg(incarnation)
                .invoke_async(&mut c)
                .await
        })
        .await?;
    if answer >= 0 {
        let matcher: u64 = cluster
            .call(async |mut c| {
                MATCHER
                    .key(keys::MATCHER)
                    .arg(id)
                    .arg(ttl)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        cluster
            .matcher
            .store(matcher, std::sync::atomic::Ordering::Relaxed);
    }
    Ok(match answer {
        1 => Renewal::Held,
        0 => Renewal::Restored,
        _ => Renewal::Taken,
    })
}

/// Takes a new node id (a node registers before it serves, and again after losing its lease).
pub async fn register(cluster: &Cluster) -> Result<u64, ClusterError> {
    let id: u64 = cluster
        .call(async |mut c| {
            redis::cmd("INCR")
                .arg(keys::NODE_IDS)
                .query_async(&mut c)
                .await
        })
        .await?;
    cluster.node.send_replace(id);
    tracing::info!(node = id, url = %cluster.url, "registered in the cluster");
    Ok(id)
}

/// Removes this node's lease and room list, so its rooms leave the listings at once.
async fn deregister(cluster: &Cluster) {
    let Some(id) = cluster.node_id() else { return };
    let removed = cluster
        .call(async |mut c| {
            redis::cmd("DEL")
                .arg(keys::lease(id))
                .arg(keys::rooms(id))
                .query_async::<()>(&mut c)
                .await
        })
        .await;
    if let Err(e) = removed {
        tracing::warn!(error = %e, "cannot remove the node's lease; it expires by itself");
    }
}
