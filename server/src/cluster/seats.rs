//! [`SharedSeats`]: the cluster's record of seat reservations, `seat:{token}` → room id with the
//! seat's TTL, written when a node issues a seat and deleted by the one redemption that wins.
//!
//! Only the node that runs the room admits its players (it alone holds the seat's player id
//! and the room); before admitting, it redeems the token here with `REDEEM`, which reads and
//! deletes in one step, so a token is redeemed once across the cluster however many nodes try
//! it at the same moment. A seat withdrawn or expired on its node keeps its record until the
//! record's TTL ends; no node holds the seat any more, so it admits no one.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use redis::Script;

use super::{Cluster, ClusterError};

/// Deletes `KEYS[1]` if it holds room id `ARGV[1]`; returns 1 if it did, 0 if the seat is
/// unknown, already redeemed, expired or for another room.
static REDEEM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
",
    )
});

/// The seat key of `token`.
fn key(token: &str) -> String {
    format!("seat:{token}")
}

/// Seat reservations recorded in the cluster's Redis.
#[derive(Debug, Clone)]
pub struct SharedSeats {
    cluster: Arc<Cluster>,
}

impl SharedSeats {
    /// The seats of `cluster`.
    pub fn new(cluster: Arc<Cluster>) -> Self {
        Self { cluster }
    }

    /// Records seat `token` in room `room_id`, redeemable for `ttl`.
    pub async fn issue(
        &self,
        token: &str,
        room_id: u32,
        ttl: Duration,
    ) -> Result<(), ClusterError> {
        let key = key(token);
        let ttl = (ttl.as_millis() as u64).max(1);
        self.cluster
            .call(async |mut c| {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(room_id)
                    .arg("PX")
                    .arg(ttl)
                    .query_async::<()>(&mut c)
                    .await
            })
            .await
    }

    /// Redeems seat `token` of room `room_id`; returns whether this call won it.
    pub async fn redeem(&self, token: &str, room_id: u32) -> Result<bool, ClusterError> {
        let key = key(token);
        let won: i64 = self
            .cluster
            .call(async |mut c| REDEEM.key(&key).arg(room_id).invoke_async(&mut c).await)
            .await?;
        Ok(won == 1)
    }
}
