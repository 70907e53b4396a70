//! Per-address rate limiting of the REST API (`--api-rate`, `--api-burst`).
//!
//! The limit is kept per IPv4 address and per IPv6 /64 prefix: one IPv6 host usually holds a
//! whole /64 and can pick a fresh address for every request, so keying on the full address would
//! give it billions of buckets.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::ApiError;
use crate::app::App;
use crate::client_addr::client_key;

/// One GCRA bucket per client key (IPv4 address or IPv6 /64), via `governor`.
#[derive(Debug)]
pub struct AddrLimiter {
    /// `None` when the limit is off (`--api-rate 0`).
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
}

impl AddrLimiter {
    /// A limiter allowing `rate` requests per second per client on average and bursts of
    /// `burst` (at least 1). A `rate` that is not a positive number turns the limit off.
    pub fn new(rate: f64, burst: f64) -> Self {
        let period = (rate.is_finite() && rate > 0.0)
            .then(|| Duration::try_from_secs_f64(1.0 / rate).ok())
            .flatten();
        let burst = NonZeroU32::new(burst.clamp(1.0, f64::from(u32::MAX)) as u32)
            .unwrap_or(NonZeroU32::MIN);
        let limiter = period
            .and_then(Quota::with_period)
            .map(|quota| RateLimiter::keyed(quota.allow_burst(burst)));
        Self { limiter }
    }

    /// Takes a token for the client at `ip`; on refusal, how long to wait.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter
            .check_key(&client_key(ip))
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets clients whose buckets have refilled.
    pub fn prune(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// Middleware: 429 with `Retry-After` when a client exceeds `--api-rate`.
pub async fn limit(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(ip) = ip
        && let Err(wait) = app.api_limiter.check(ip)
    {
        app.metrics.http_rate_limited.increment(1);
        return ApiError::rate_limited(wait.as_secs_f64().ceil() as u64).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn ipv6_addresses_of_one_64_share_a_bucket() {
        let limiter = AddrLimiter::new(1.0, 2.0);
        assert!(limiter.check(ip("2001:db8:1:2::1")).is_ok());
        assert!(limiter.check(ip("2001:db8:1:2:ffff::9")).is_ok());
        let wait = limiter.check(ip("2001:db8:1:2:abcd::7"));
        assert!(wait.is_err(), "a third address of the same /64 is limited");
        assert!(
            limiter.check(ip("2001:db8:1:3::1")).is_ok(),
            "the next /64 has its own bucket"
        );
    }

    #[test]
    fn ipv4_is_limited_per_address_also_when_mapped() {
        let limiter = AddrLimiter::new(1.0, 1.0);
        assert!(limiter.check(ip("192.0.2.1")).is_ok());
        assert!(limiter.check(ip("::ffff:192.0.2.1")).is_err());
        assert!(limiter.check(ip("192.0.2.2")).is_ok());
    }

    #[test]
    fn zero_or_invalid_rate_turns_the_limit_off() {
        for rate in [0.0, -1.0, f64::NAN] {
            let limiter = AddrLimiter::new(rate, 1.0);
            assert!((0..100).all(|_| limiter.check(ip("192.0.2.1")).is_ok()));
        }
    }

    #[test]
    fn refusal_says_how_long_to_wait() {
        let limiter = AddrLimiter::new(2.0, 1.0);
        assert!(limiter.check(ip("192.0.2.1")).is_ok());
        let wait = limiter.check(ip("192.0.2.1")).err().unwrap_or_default();
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(500));
    }
}
