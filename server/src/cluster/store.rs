//! [`RedisStore`]: lobby and ticket values in Redis, one JSON string per key with a TTL, shared
//! by every node of the cluster.
//!
//! A change reads the value, applies the caller's closure, and writes the result back with the
//! `SWAP` script only if the value is still the one read (compare-and-set); otherwise it reads
//! again and retries. The closure holds the rules (lobby join, leave and start; ticket match,
//! cancel and expiry), the same code the in-memory store runs, and the script makes each
//! read-modify-write atomic across nodes. Lists (public lobbies, the matcher's queue) are
//! sorted sets of ids, read with `PAGE`, which drops ids whose value has expired.

use std::marker::PhantomData;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use redis::Script;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Cluster, ClusterError};
use crate::lobby::store::{Store, StoreError};

/// Tries of one change before it gives up as contended.
const MAX_TRIES: usize = 16;

/// Writes (`ARGV[2]` with a TTL of `ARGV[3]` ms) or deletes (`ARGV[2]` empty) `KEYS[1]` if it
/// still holds `ARGV[1]`. Returns 1 if it did, 0 if the value changed meanwhile.
static SWAP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
",
    )
});

/// Reads the sorted set `KEYS[1]` of ids in order: drops the ids whose value (`ARGV[1]` .. id)
/// is gone, and returns how many are left followed by the values of the `ARGV[3]` ids from
/// position `ARGV[2]` on.
static PAGE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local from, count = tonumber(ARGV[2]), tonumber(ARGV[3])
local out, n = {''}, 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local value = redis.call('GET', ARGV[1] .. id)
  if value then
    if n >= from and n < from + count then table.insert(out, value) end
    n = n + 1
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
out[1] = tostring(n)
return out
",
    )
});

/// How long a value lives in Redis after its last write.
pub type Ttl<V> = Arc<dyn Fn(&V) -> Duration + Send + Sync>;

/// Values under `{prefix}{key}` in the cluster's Redis.
pub struct RedisStore<V> {
    cluster: Arc<Cluster>,
    prefix: &'static str,
    ttl: Ttl<V>,
    _values: PhantomData<fn() -> V>,
}

impl<V> std::fmt::Debug for RedisStore<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl From<ClusterError> for StoreError {
    fn from(e: ClusterError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

impl<V: Serialize + DeserializeOwned> RedisStore<V> {
    /// A store of values under `prefix` (e.g. `lobby:`), each kept for `ttl` of it after a write.
    pub fn new(cluster: Arc<Cluster>, prefix: &'static str, ttl: Ttl<V>) -> Self {
        Self {
            cluster,
            prefix,
            ttl,
            _values: PhantomData,
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// A stored value that does not parse (written by a node of another version) reads as
    /// absent.
    fn parse(&self, key: &str, raw: &str) -> Option<V> {
        serde_json::from_str(raw)
            .inspect_err(|e| tracing::warn!(key, error = %e, "a stored value does not parse"))
            .ok()
    }

    fn ttl_ms(&self, value: &V) -> u64 {
        ((self.ttl)(value).as_millis() as u64).max(1)
    }

    async fn raw(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = self.key(key);
        Ok(self
            .cluster
            .call(async |mut c| redis::cmd("GET").arg(&key).query_async(&mut c).await)
            .await?)
    }

    /// The JSON of `value`.
    fn encode(value: &V) -> Result<String, StoreError> {
        serde_json::to_string(value).map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Writes `new` (the JSON of `value`) if `key` still holds `old`, or deletes it when `new`
    /// is none; returns whether it did.
    async fn swap(
        &self,
        key: &str,
        old: &str,
        new: Option<(&str, &V)>,
    ) -> Result<bool, StoreError> {
        let ttl = new.map_or(1, |(_, v)| self.ttl_ms(v));
        let new = new.map_or("", |(json, _)| json);
        let full = self.key(key);
        let swapped: i64 = self
            .cluster
            .call(async |mut c| {
                SWAP.key(&full)
                    .arg(old)
                    .arg(new)
                    .arg(ttl)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(swapped == 1)
    }

    /// Stores `value` under `key` and adds `key` to each sorted set of `indexes` with score
    /// `score`, in one atomic pipeline.
    pub async fn insert_indexed(
        &self,
        key: &str,
        value: &V,
        indexes: &[String],
        score: f64,
    ) -> Result<(), StoreError> {
        let json = Self::encode(value)?;
        let (full, ttl) = (self.key(key), self.ttl_ms(value));
        self.cluster
            .call(async |mut c| {
                let mut pipe = redis::pipe();
                pipe.atomic()
                    .cmd("SET")
                    .arg(&full)
                    .arg(&json)
                    .arg("PX")
                    .arg(ttl)
                    .ignore();
                for index in indexes {
                    pipe.cmd("ZADD").arg(index).arg(score).arg(key).ignore();
                }
                pipe.query_async::<()>(&mut c).await
            })
            .await?;
        Ok(())
    }

    /// Removes `members` from the sorted set `index`.
    pub async fn unindex_all(&self, index: &str, members: &[String]) -> Result<(), StoreError> {
        self.cluster
            .call(async |mut c| {
                redis::cmd("ZREM")
                    .arg(index)
                    .arg(members)
                    .query_async::<()>(&mut c)
                    .await
            })
            .await?;
        Ok(())
    }

    /// The number of live values listed in the sorted set `index`, and the values of `count`
    /// of them from position `from` on, in the set's order.
    pub async fn page(
        &self,
        index: &str,
        from: usize,
        count: usize,
    ) -> Result<(usize, Vec<V>), StoreError> {
        let answer: Vec<String> = self
            .cluster
            .call(async |mut c| {
                PAGE.key(index)
                    .arg(self.prefix)
                    .arg(from)
                    .arg(count)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        let mut answer = answer.into_iter();
        let total = answer.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        let values = answer.filter_map(|raw| self.parse(index, &raw)).collect();
        Ok((total, values))
    }
}

impl<V> Store<V> for RedisStore<V>
where
    V: Send + Sync + Serialize + DeserializeOwned + std::fmt::Debug,
{
    async fn get(&self, key: &str) -> Result<Option<V>, StoreError> {
        Ok(self.raw(key).await?.and_then(|raw| self.parse(key, &raw)))
    }

    async fn remove_if(
        &self,
        key: &str,
        remove: impl Fn(&V) -> bool + Send,
    ) -> Result<Option<V>, StoreError> {
        for _ in 0..MAX_TRIES {
            let Some(raw) = self.raw(key).await? else {
                return Ok(None);
            };
            let Some(value) = self.parse(key, &raw) else {
                return Ok(None);
            };
            if !remove(&value) {
                return Ok(None);
            }
            if self.swap(key, &raw, None).await? {
                return Ok(Some(value));
            }
        }
        Err(StoreError::Contended)
    }

    async fn update<R: Send>(
        &self,
        key: &str,
        mut f: impl FnMut(&mut V) -> R + Send,
    ) -> Result<Option<R>, StoreError> {
        for _ in 0..MAX_TRIES {
            let Some(raw) = self.raw(key).await? else {
                return Ok(None);
            };
            let Some(mut value) = self.parse(key, &raw) else {
                return Ok(None);
            };
            let answer = f(&mut value);
            let new = Self::encode(&value)?;
            if new == raw || self.swap(key, &raw, Some((&new, &value))).await? {
                return Ok(Some(answer));
            }
        }
        Err(StoreError::Contended)
    }
}
