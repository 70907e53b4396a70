//! Which client an address stands for, for every per-client limit (REST rate, connections,
//! spectator streams, tickets, lobbies, unentered rooms).

use std::net::{IpAddr, Ipv6Addr};

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
}
