//! [`RedisCaps`]: the caps on open lobbies and searching tickets counted across the cluster.
//!
//! Each capped thing is a member of two sorted sets, `caps:{what}` (the cluster's) and
//! `caps:{what}:{client}` (its creator's, see [`crate::client_addr::client_key`]), scored by the
//! Unix milliseconds after which it stops counting unless renewed: a lobby's idle deadline, a
//! ticket's end of search. Whichever node ends the thing (starts or closes the lobby, matches,
//! cancels or expires the ticket) removes it; one that ends without a word (its node died, its
//! lobby idled out) stops counting at its deadline, so no count leaks.

use std::net::IpAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use redis::Script;

use super::Cluster;
use crate::client_addr::client_key;
use crate::lobby::LobbyError;

/// Drops members past their deadline from `KEYS[1]` and `KEYS[2]`; refuses with 1 (`KEYS[1]`
/// holds `ARGV[3]`) or 2 (`KEYS[2]` holds `ARGV[4]`); else adds `ARGV[5]` to both with score
/// `ARGV[2]` and returns 0. `ARGV[1]` is now; `ARGV[6]` the longest life of a member (ms).
static TAKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
for i = 1, 2 do redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[1]) end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 1 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 2 end
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], ARGV[2], ARGV[5])
  redis.call('PEXPIRE', KEYS[i], ARGV[6])
end
return 0
",
    )
});

/// Cluster-wide caps on one kind of thing.
#[derive(Debug)]
pub struct RedisCaps {
    cluster: Arc<Cluster>,
    what: &'static str,
    /// `caps:{what}`, with dashes for spaces: the cluster's set, and its clients' sets' prefix.
    total_key: String,
    max_total: usize,
    max_per_addr: usize,
    /// The longest a thing counts without renewal.
    life: Duration,
}

fn now_ms() -> u64 {
    protocol::clock::unix_micros() / 1000
}

impl RedisCaps {
    /// At most `max_total` open `what` in the cluster and `max_per_addr` per client, each
    /// counting for at most `life` after it was taken or renewed.
    pub fn new(
        cluster: Arc<Cluster>,
        what: &'static str,
        max_total: usize,
        max_per_addr: usize,
        life: Duration,
    ) -> Self {
        Self {
            cluster,
            what,
            total_key: format!("caps:{}", what.replace(' ', "-")),
            max_total,
            max_per_addr,
            life,
        }
    }

    fn keys(&self, addr: IpAddr) -> [String; 2] {
        [
            self.total_key.clone(),
            format!("{}:{}", self.total_key, client_key(addr)),
        ]
    }

    /// The Unix milliseconds until which a thing taken or renewed now counts.
    fn deadline(&self) -> u64 {
        now_ms() + self.life.as_millis() as u64
    }

    /// Counts `id`, created by `addr`, for the caps' life from now; refuses with the limit
    /// reached.
    pub async fn acquire(&self, addr: IpAddr, id: &str) -> Result<(), LobbyError> {
        let [total, mine] = self.keys(addr);
        let now = now_ms();
        let refused: i64 = self
            .cluster
            .call(async |mut c| {
                TAKE.key(&total)
                    .key(&mine)
                    .arg(now)
                    .arg(self.deadline())
                    .arg(self.max_total)
                    .arg(self.max_per_addr)
                    .arg(id)
                    .arg(self.life.as_millis() as u64)
                    .invoke_async(&mut c)
                    .await
            })
            .await
            .map_err(|e| LobbyError::Store(e.into()))?;
        match refused {
            0 => Ok(()),
            1 => Err(LobbyError::Limit(format!(
                "the cluster holds {} {}",
                self.max_total, self.what
            ))),
            _ => Err(LobbyError::Limit(format!(
                "{} {} per address",
                self.max_per_addr, self.what
            ))),
        }
    }

    /// Counts `id` (still held) for the caps' life from now, and keeps its sets that long.
    pub async fn renew(&self, addr: IpAddr, id: &str) {
        let deadline = self.deadline();
        let life_ms = self.life.as_millis() as u64;
        let keys = self.keys(addr);
        let renewed = self
            .cluster
            .call(async |mut c| {
                let mut pipe = redis::pipe();
                for key in &keys {
                    pipe.cmd("ZADD")
                        .arg(key)
                        .arg("XX")
                        .arg(deadline)
                        .arg(id)
                        .ignore();
                    pipe.cmd("PEXPIRE").arg(key).arg(life_ms).ignore();
                }
                pipe.query_async::<()>(&mut c).await
            })
            .await;
        if let Err(e) = renewed {
            tracing::debug!(error = %e, what = self.what, "cannot renew a cap slot");
        }
    }

    /// Stops counting `id`; if Redis cannot be told, it stops counting at its deadline.
    pub async fn release(&self, addr: IpAddr, id: &str) {
        let keys = self.keys(addr);
        let released = self
            .cluster
            .call(async |mut c| {
                let mut pipe = redis::pipe();
                for key in &keys {
                    pipe.cmd("ZREM").arg(key).arg(id).ignore();
                }
                pipe.query_async::<()>(&mut c).await
            })
            .await;
        if let Err(e) = released {
            tracing::debug!(error = %e, what = self.what, "cannot give back a cap slot");
        }
    }
}
