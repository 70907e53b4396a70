//! Which client an address stands for, for every per-client limit (REST rate, connections,
//! spectator streams, tickets, lobbies, unentered rooms).

use std::net::{IpAddr, Ipv6Addr};

use dashmap::DashMap;

/// Bits of an IPv6 address that name one client (its /64 prefix).
const IPV6_CLIENT_PREFIX: u32 = 64;

/// The key a client is counted under: an IPv4 address (also when mapped into IPv6), or the /64
/// prefix of an IPv6 address. One IPv6 host usually holds a whole /64 and can pick a fresh
/// address for every request, so counting single IPv6 addresses would cap nothing.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let mask = u128::MAX << (128 - IPV6_CLIENT_PREFIX);
            IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & mask))
        }
        v4 => v4,
    }
}

/// How many things each client holds (counted under [`client_key`]), each count taken atomically
/// against a limit; a client whose count falls to zero is forgotten.
#[derive(Debug, Default)]
pub struct ClientCounts {
    counts: DashMap<IpAddr, usize>,
}

impl ClientCounts {
    /// Counts one more for the client of `ip` if it holds fewer than `limit`; returns whether
    /// it did.
    pub fn try_acquire(&self, ip: IpAddr, limit: usize) -> bool {
        let mut held = self.counts.entry(client_key(ip)).or_insert(0);
        if *held >= limit {
            return false;
        }
        *held += 1;
        true
    }

    /// Counts one fewer for the client of `ip`; call once for each successful
    /// [`ClientCounts::try_acquire`].
    pub fn release(&self, ip: IpAddr) {
        self.counts.remove_if_mut(&client_key(ip), |_, held| {
            *held = held.saturating_sub(1);
            *held == 0
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn ipv6_counts_by_its_64_and_ipv4_by_address() {
        assert_eq!(client_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(
            client_key(ip("2001:db8:1:2:ffff::9")),
            client_key(ip("2001:db8:1:2::1"))
        );
        assert_ne!(
            client_key(ip("2001:db8:1:3::1")),
            client_key(ip("2001:db8:1:2::1"))
        );
        assert_eq!(client_key(ip("192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(client_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
    }

    #[test]
    fn counts_are_capped_per_client_and_forgotten_at_zero() {
        let counts = ClientCounts::default();
        let (a, a_same_64) = (ip("2001:db8::1"), ip("2001:db8::2"));
        assert!(counts.try_acquire(a, 2));
        assert!(counts.try_acquire(a_same_64, 2));
        assert!(!counts.try_acquire(a, 2), "the third is refused");
        assert!(counts.try_acquire(ip("192.0.2.7"), 2));
        counts.release(a);
        assert!(
            counts.try_acquire(a, 2),
            "a released one can be taken again"
        );
        for held in [a, a, ip("192.0.2.7")] {
            counts.release(held);
        }
        assert!(
            counts.counts.is_empty(),
            "a client holding nothing is forgotten"
        );
    }
}
