//! Source addresses: against a server on an IPv4 loopback address, bots connect from
//! 127.0.0.2, 127.0.0.3, … a few bots per address, so that a server's per-address caps
//! (`--max-connections-per-addr`, 64 by default) count each group apart and admit thousands of
//! bots from one machine. Elsewhere every bot uses the system's choice of source address.

use std::net::{IpAddr, Ipv4Addr};

/// The first address handed out (127.0.0.1 stays the address of everything else).
const FIRST: u32 = u32::from_be_bytes([127, 0, 0, 2]);
/// The last address of 127.0.0.0/8 a bot may use.
const LAST: u32 = u32::from_be_bytes([127, 255, 255, 254]);

/// Which source address each bot connects from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sources {
    /// Bots per address; 0 when spreading is off.
    per_addr: usize,
}

impl Sources {
    /// Spreads bots `per_addr` to an address when every one of `urls` names an IPv4 loopback
    /// host (`127.x.y.z` or `localhost`); otherwise (or with `per_addr` 0) does nothing.
    /// Spreading is off too where this system cannot bind 127.0.0.2 (some systems route only
    /// 127.0.0.1).
    pub fn plan(urls: &[String], per_addr: usize) -> Self {
        let loopback = !urls.is_empty() && urls.iter().all(|u| is_ipv4_loopback(u));
        let bindable = || std::net::UdpSocket::bind((Ipv4Addr::from(FIRST), 0)).is_ok();
        Self {
            per_addr: if per_addr > 0 && loopback && bindable() {
                per_addr
            } else {
                0
            },
        }
    }

    /// How many groups `bots` bots fall into (1 when spreading is off).
    pub fn groups(&self, bots: usize) -> usize {
        match self.per_addr {
            0 => 1,
            n => bots.div_ceil(n).max(1),
        }
    }

    /// The group of bot `bot` (0 when spreading is off).
    pub fn group(&self, bot: usize) -> usize {
        bot.checked_div(self.per_addr).unwrap_or(0)
    }

    /// The address of group `group`, if spreading is on.
    pub fn addr(&self, group: usize) -> Option<IpAddr> {
        if self.per_addr == 0 {
            return None;
        }
        let span = (LAST - FIRST + 1) as usize;
        let n = FIRST + (group % span) as u32;
        Some(IpAddr::V4(Ipv4Addr::from(n)))
    }
}

/// Whether `url`'s host is an IPv4 loopback address or `localhost`.
fn is_ipv4_loopback(url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else {
        return false;
    };
    url.host_str().is_some_and(|h| {
        h.eq_ignore_ascii_case("localhost")
            || h.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_servers_get_bots_spread_over_addresses() {
        let s = Sources::plan(&["http://127.0.0.1:8080".into()], 32);
        assert_eq!(s.groups(2000), 63);
        assert_eq!(s.group(31), 0);
        assert_eq!(s.group(32), 1);
        assert_eq!(s.addr(0), Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))));
        assert_eq!(s.addr(300), Some(IpAddr::V4(Ipv4Addr::new(127, 0, 1, 46))));
        let local = Sources::plan(&["http://localhost:1".into()], 8);
        assert_eq!(local.addr(0), Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))));
    }

    #[test]
    fn other_servers_and_zero_keep_the_system_s_address() {
        for (url, n) in [
            ("http://10.0.0.1:80", 32),
            ("http://[::1]:80", 32),
            ("http://127.0.0.1:1", 0),
        ] {
            let s = Sources::plan(&[url.into()], n);
            assert_eq!(
                (s.groups(100), s.group(99), s.addr(0)),
                (1, 0, None),
                "{url}"
            );
        }
    }
}
