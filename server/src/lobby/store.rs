//! The storage boundary behind lobbies and tickets: the async [`Store`] trait, its in-memory
//! implementation on `DashMap` ([`MemoryStore`]), and [`Backend`], the one a service holds:
//! in memory on a node alone, in Redis on a node of a cluster (`--redis`,
//! [`crate::cluster::store::RedisStore`]).
//!
//! A value changes only through [`Store::update`] and [`Store::remove_if`], which are atomic per
//! key: under the map's lock in memory, by compare-and-set in Redis. A shared store may run the
//! closure again when another node changed the value in between, so a closure changes only the
//! value it is given and what it returns; effects elsewhere (caps, seats) happen after the call.

use std::future::Future;

use dashmap::DashMap;
use thiserror::Error;

use crate::cluster::store::RedisStore;

/// Why a shared store could not answer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    /// Redis failed or did not answer in time.
    #[error("the cluster store is unavailable: {0}")]
    Unavailable(String),
    /// Other nodes kept changing the value while this one tried to.
    #[error("the value is being changed by other requests; try again")]
    Contended,
}

/// A map from string keys to values, shared by every request of a service: how values are read
/// and changed. New values enter through each store's own insert, which also lists them where
/// the store lists values ([`MemoryStore::put`], [`RedisStore::insert_indexed`]).
pub trait Store<V>: Send + Sync + std::fmt::Debug {
    /// A copy of one value.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<V>, StoreError>> + Send;
    /// Removes and returns one value if `remove` accepts it, atomically with respect to other
    /// changes of the same key.
    fn remove_if(
        &self,
        key: &str,
        remove: impl Fn(&V) -> bool + Send,
    ) -> impl Future<Output = Result<Option<V>, StoreError>> + Send;
    /// Changes one value, atomically with respect to other changes of the same key; returns what
    /// `f` returned, or none if the key does not exist. `f` may run more than once (see the
    /// module's documentation).
    fn update<R: Send>(
        &self,
        key: &str,
        f: impl FnMut(&mut V) -> R + Send,
    ) -> impl Future<Output = Result<Option<R>, StoreError>> + Send;
}

/// The in-memory store: everything lives in this process. Its own methods are synchronous (the
/// seat book and the sweeps use them); as a [`Store`] its futures finish at their first poll.
#[derive(Debug)]
pub struct MemoryStore<V>(DashMap<String, V>);

impl<V> Default for MemoryStore<V> {
    fn default() -> Self {
        Self(DashMap::new())
    }
}

impl<V: Clone> MemoryStore<V> {
    /// Inserts or replaces a value.
    pub fn put(&self, key: String, value: V) {
        self.0.insert(key, value);
    }

    /// A copy of one value.
    pub fn read(&self, key: &str) -> Option<V> {
        self.0.get(key).map(|v| v.value().clone())
    }

    /// Removes and returns one value.
    pub fn take(&self, key: &str) -> Option<V> {
        self.0.remove(key).map(|(_, v)| v)
    }

    /// Removes and returns one value if `remove` accepts it, under the key's lock.
    pub fn take_if(&self, key: &str, remove: impl Fn(&V) -> bool) -> Option<V> {
        self.0.remove_if(key, |_, v| remove(v)).map(|(_, v)| v)
    }

    /// Changes one value under the key's lock; none if the key does not exist.
    pub fn change<R>(&self, key: &str, mut f: impl FnMut(&mut V) -> R) -> Option<R> {
        self.0.get_mut(key).map(|mut v| f(v.value_mut()))
    }

    /// Keeps only the values for which `keep` returns true; `keep` may change them.
    pub fn retain(&self, mut keep: impl FnMut(&str, &mut V) -> bool) {
        self.0.retain(|k, v| keep(k, v));
    }

    /// A copy of every value that `filter` accepts.
    pub fn collect(&self, mut filter: impl FnMut(&V) -> bool) -> Vec<V> {
        self.0
            .iter()
            .filter(|e| filter(e.value()))
            .map(|e| e.value().clone())
            .collect()
    }
}

impl<V: Clone + Send + Sync + std::fmt::Debug> Store<V> for MemoryStore<V> {
    async fn get(&self, key: &str) -> Result<Option<V>, StoreError> {
        Ok(self.read(key))
    }

    async fn remove_if(
        &self,
        key: &str,
        remove: impl Fn(&V) -> bool + Send,
    ) -> Result<Option<V>, StoreError> {
        Ok(self.take_if(key, remove))
    }

    async fn update<R: Send>(
        &self,
        key: &str,
        f: impl FnMut(&mut V) -> R + Send,
    ) -> Result<Option<R>, StoreError> {
        Ok(self.change(key, f))
    }
}

/// Where a service keeps its values: this process's memory, or the cluster's Redis.
#[derive(Debug)]
pub enum Backend<V> {
    /// In memory (a node alone).
    Memory(MemoryStore<V>),
    /// In Redis, shared by every node of the cluster.
    Shared(RedisStore<V>),
}

impl<V> Default for Backend<V> {
    fn default() -> Self {
        Self::Memory(MemoryStore::default())
    }
}

impl<V> Backend<V> {
    /// The in-memory store, if the values live here.
    pub fn memory(&self) -> Option<&MemoryStore<V>> {
        match self {
            Self::Memory(m) => Some(m),
            Self::Shared(_) => None,
        }
    }
}

impl<V> Store<V> for Backend<V>
where
    V: Clone + Send + Sync + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
{
    async fn get(&self, key: &str) -> Result<Option<V>, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.read(key)),
            Self::Shared(r) => r.get(key).await,
        }
    }

    async fn remove_if(
        &self,
        key: &str,
        remove: impl Fn(&V) -> bool + Send,
    ) -> Result<Option<V>, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.take_if(key, remove)),
            Self::Shared(r) => r.remove_if(key, remove).await,
        }
    }

    async fn update<R: Send>(
        &self,
        key: &str,
        f: impl FnMut(&mut V) -> R + Send,
    ) -> Result<Option<R>, StoreError> {
        match self {
            Self::Memory(m) => Ok(m.change(key, f)),
            Self::Shared(r) => r.update(key, f).await,
        }
    }
}

/// Serde of an [`std::time::Instant`] as Unix microseconds, so that a value stored in Redis
/// keeps its times across nodes (whose clocks agree through NTP). This process maps the two
/// clocks through one pair of readings taken once, so a time read back and written again is
/// written unchanged.
pub mod unix_time {
    use std::sync::LazyLock;
    use std::time::{Duration, Instant};

    use serde::{Deserialize, Deserializer, Serializer};

    /// An instant and the Unix time (µs) read at that instant.
    static ANCHOR: LazyLock<(Instant, u64)> =
        LazyLock::new(|| (Instant::now(), protocol::clock::unix_micros()));

    /// The Unix time of `at`.
    pub fn to_unix(at: Instant) -> u64 {
        let (instant, unix) = *ANCHOR;
        match at.checked_duration_since(instant) {
            Some(after) => unix.saturating_add(after.as_micros() as u64),
            None => unix.saturating_sub(instant.duration_since(at).as_micros() as u64),
        }
    }

    /// The instant of Unix time `us` (the nearest this process can represent).
    pub fn from_unix(us: u64) -> Instant {
        let (instant, unix) = *ANCHOR;
        if us >= unix {
            instant + Duration::from_micros(us - unix)
        } else {
            instant
                .checked_sub(Duration::from_micros(unix - us))
                .unwrap_or(instant)
        }
    }

    /// Writes an instant.
    pub fn serialize<S: Serializer>(at: &Instant, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(to_unix(*at))
    }

    /// Reads an instant.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Instant, D::Error> {
        u64::deserialize(d).map(from_unix)
    }

    /// The same for an optional instant.
    pub mod option {
        use std::time::Instant;

        use serde::{Deserialize, Deserializer, Serializer};

        /// Writes an optional instant.
        pub fn serialize<S: Serializer>(at: &Option<Instant>, s: S) -> Result<S::Ok, S::Error> {
            match at {
                Some(at) => s.serialize_some(&super::to_unix(*at)),
                None => s.serialize_none(),
            }
        }

        /// Reads an optional instant.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Instant>, D::Error> {
            Option::<u64>::deserialize(d).map(|us| us.map(super::from_unix))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn update_and_remove_if_change_values_atomically() {
        let s: Backend<u32> = Backend::default();
        let m = s.memory().expect("in memory");
        m.put("a".into(), 1);
        m.put("b".into(), 2);
        assert_eq!(s.update("a", |v| *v += 10).await, Ok(Some(())));
        assert_eq!(s.update("zz", |v| *v += 10).await, Ok(None));
        assert_eq!(s.remove_if("b", |v| *v > 5).await, Ok(None));
        m.retain(|_, v| *v > 5);
        assert_eq!(s.get("a").await, Ok(Some(11)));
        assert_eq!(s.get("b").await, Ok(None));
        assert_eq!(m.collect(|_| true), [11]);
    }

    #[test]
    fn a_time_read_back_is_written_unchanged() {
        for at in [
            Instant::now(),
            Instant::now() - std::time::Duration::from_millis(5_123),
        ] {
            let us = unix_time::to_unix(at);
            assert_eq!(unix_time::to_unix(unix_time::from_unix(us)), us);
        }
    }

    use std::time::Instant;
}
