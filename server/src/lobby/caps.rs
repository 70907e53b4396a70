//! [`Caps`]: a server-wide and a per-address limit on open things, taken atomically, so
//! concurrent requests can never exceed either.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::LobbyError;
use crate::client_addr::ClientCounts;
use crate::cluster::caps::RedisCaps;

/// The caps on one kind of thing: counted in this process (a node alone), or across the
/// cluster in Redis.
#[derive(Debug)]
pub enum Slots {
    /// Counted here.
    Here(Caps),
    /// Counted across the cluster.
    Cluster(RedisCaps),
}

impl Slots {
    /// Takes a slot for `id`, created by `addr`, which counts until released (across the
    /// cluster: for the caps' life unless renewed); or refuses with the limit reached.
    pub async fn acquire(&self, addr: IpAddr, id: &str) -> Result<(), LobbyError> {
        match self {
            Self::Here(caps) => caps.acquire(addr),
            Self::Cluster(caps) => caps.acquire(addr, id).await,
        }
    }

    /// Counts the slot of `id` for the caps' life from now (across the cluster; here it counts
    /// until released).
    pub async fn renew(&self, addr: IpAddr, id: &str) {
        if let Self::Cluster(caps) = self {
            caps.renew(addr, id).await;
        }
    }

    /// Gives back the slot of `id`; call once for each successful [`Slots::acquire`].
    pub async fn release(&self, addr: IpAddr, id: &str) {
        match self {
            Self::Here(caps) => caps.release(addr),
            Self::Cluster(caps) => caps.release(addr, id).await,
        }
    }
}

/// Counts of open things against two limits; an address counts as its client (IPv6: its /64,
/// see [`crate::client_addr::client_key`]).
#[derive(Debug)]
pub struct Caps {
    what: &'static str,
    total: AtomicUsize,
    max_total: usize,
    per_addr: ClientCounts,
    max_per_addr: usize,
}

impl Caps {
    /// At most `max_total` open `what` on the server and `max_per_addr` per address.
    pub fn new(what: &'static str, max_total: usize, max_per_addr: usize) -> Self {
        Self {
            what,
            total: AtomicUsize::new(0),
            max_total,
            per_addr: ClientCounts::default(),
            max_per_addr,
        }
    }

    /// Takes a slot for `addr`, or refuses with the limit reached.
    pub fn acquire(&self, addr: IpAddr) -> Result<(), LobbyError> {
        // Reserve a server-wide slot first; give it back if over either limit.
        if self.total.fetch_add(1, Ordering::AcqRel) >= self.max_total {
            self.total.fetch_sub(1, Ordering::AcqRel);
            return Err(LobbyError::Limit(format!(
                "the server holds {} {}",
                self.max_total, self.what
            )));
        }
        if !self.per_addr.try_acquire(addr, self.max_per_addr) {
            self.total.fetch_sub(1, Ordering::AcqRel);
            return Err(LobbyError::Limit(format!(
                "{} {} per address",
                self.max_per_addr, self.what
            )));
        }
        Ok(())
    }

    /// Gives back a slot of `addr`; call once for each successful [`Caps::acquire`].
    pub fn release(&self, addr: IpAddr) {
        self.per_addr.release(addr);
        let _ = self
            .total
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_takers_never_exceed_either_limit() {
        let caps = Caps::new("tickets", 50, 30);
        let addrs = [IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2])];
        let taken = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for t in 0..8 {
                let (caps, taken) = (&caps, &taken);
                s.spawn(move || {
                    for _ in 0..100 {
                        if caps.acquire(addrs[t % 2]).is_ok() {
                            taken.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        assert_eq!(taken.load(Ordering::Relaxed), 50);
        assert!(caps.acquire(addrs[0]).is_err());
        caps.release(addrs[0]);
        assert!(
            caps.acquire(addrs[0]).is_ok(),
            "a released slot can be taken again"
        );
        assert!(caps.acquire(addrs[1]).is_err(), "but only that one");
    }
}
