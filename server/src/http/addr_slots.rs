//! Open things (connections, spectator streams) counted per client address, with a cap.

use std::net::IpAddr;
use std::sync::Arc;

use crate::client_addr::ClientCounts;

/// Per-address counters with a cap. An IPv6 client counts by its /64 prefix: one host is
/// usually given a whole /64, so counting single addresses would cap nothing.
#[derive(Debug)]
pub struct AddrSlots {
    cap: usize,
    counts: ClientCounts,
}

/// One slot held by an address; dropping it gives the slot back.
#[derive(Debug)]
pub struct AddrSlot {
    slots: Arc<AddrSlots>,
    ip: IpAddr,
}

impl AddrSlots {
    /// Counters allowing `cap` slots per address (0: no cap).
    pub fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            cap,
            counts: ClientCounts::default(),
        })
    }

    /// Takes a slot for `ip`, or `None` when its address already holds the cap.
    pub fn try_acquire(self: &Arc<Self>, ip: IpAddr) -> Option<AddrSlot> {
        let limit = if self.cap == 0 { usize::MAX } else { self.cap };
        self.counts.try_acquire(ip, limit).then(|| AddrSlot {
            slots: self.clone(),
            ip,
        })
    }
}

impl Drop for AddrSlot {
    fn drop(&mut self) {
        self.slots.counts.release(self.ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_address_and_frees_on_drop() {
        let slots = AddrSlots::new(2);
        let a: IpAddr = [10, 0, 0, 1].into();
        let held = [slots.try_acquire(a), slots.try_acquire(a)];
        assert!(held.iter().all(Option::is_some));
        assert!(slots.try_acquire(a).is_none(), "the third is refused");
        assert!(slots.try_acquire([10, 0, 0, 2].into()).is_some());
        drop(held);
        let again = [slots.try_acquire(a), slots.try_acquire(a)];
        assert!(
            again.iter().all(Option::is_some),
            "dropped slots are free again"
        );
    }

    #[test]
    fn ipv6_counts_by_its_64_prefix() {
        let slots = AddrSlots::new(1);
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2::ffff".parse().unwrap();
        let other_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        let _held = slots.try_acquire(one);
        assert!(slots.try_acquire(same_64).is_none());
        assert!(slots.try_acquire(other_64).is_some());
    }

    #[test]
    fn no_cap_when_zero() {
        let slots = AddrSlots::new(0);
        let a: IpAddr = [10, 0, 0, 1].into();
        let held: Vec<_> = (0..100).map(|_| slots.try_acquire(a)).collect();
        assert!(held.iter().all(Option::is_some));
    }
}
