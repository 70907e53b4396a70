//! [`Caps`]: a server-wide and a per-address limit on open things, taken atomically, so
//! concurrent requests can never exceed either.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use dashmap::DashMap;

use super::LobbyError;
use crate::client_addr::client_key;

/// Counts of open things against two limits; an address counts as its client (IPv6: its /64,
/// see [`client_key`]).
#[derive(Debug)]
pub struct Caps {
    what: &'static str,
    total: AtomicUsize,
    max_total: usize,
    per_addr: DashMap<IpAddr, usize>,
    max_per_addr: usize,
}

impl Caps {
    /// At most `max_total` open `what` on the server and `max_per_addr` per address.
    pub fn new(what: &'static str, max_total: usize, max_per_addr: usize) -> Self {
        Self {
            what,
            total: AtomicUsize::new(0),
            max_total,
            per_addr: DashMap::new(),
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
        let mut count = self.per_addr.entry(client_key(addr)).or_insert(0);
        if *count >= self.max_per_addr {
            drop(count);
            self.total.fetch_sub(1, Ordering::AcqRel);
            return Err(LobbyError::Limit(format!(
                "{} {} per address",
                self.max_per_addr, self.what
            )));
        }
        *count += 1;
        Ok(())
    }

    /// Gives back a slot of `addr`; call once for each successful [`Caps::acquire`].
    pub fn release(&self, addr: IpAddr) {
        self.per_addr.remove_if_mut(&client_key(addr), |_, count| {
            *count = count.saturating_sub(1);
            *count == 0
        });
        let _ = self
            .total
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }

    /// Slots held on the server.
    pub fn total(&self) -> usize {
        self.total.load(Ordering::Acquire)
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
        assert_eq!(caps.total(), 50);
        assert!(caps.acquire(addrs[0]).is_err());
        caps.release(addrs[0]);
        assert_eq!(caps.total(), 49);
        assert!(caps.acquire(addrs[0]).is_ok());
    }
}
