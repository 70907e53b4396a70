//! Per-address rate limiting of the REST API.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dashmap::DashMap;

use super::error::ApiError;
use crate::app::App;
use crate::rate::TokenBucket;

/// Buckets idle this long are forgotten.
const IDLE_BUCKET: Duration = Duration::from_secs(60);

/// One token bucket per client address.
#[derive(Debug, Default)]
pub struct AddrLimiter {
    buckets: DashMap<IpAddr, (TokenBucket, Instant)>,
}

impl AddrLimiter {
    /// Takes a token for `ip`; on refusal, the seconds to wait.
    pub fn check(&self, ip: IpAddr, rate: f64, burst: f64) -> Result<(), f64> {
        let now = Instant::now();
        let mut entry = self
            .buckets
            .entry(ip)
            .or_insert_with(|| (TokenBucket::new(rate, burst), now));
        entry.1 = now;
        if entry.0.try_take(now) {
            Ok(())
        } else {
            Err(entry.0.wait_secs())
        }
    }

    /// Forgets addresses idle for a minute.
    pub fn prune(&self) {
        let now = Instant::now();
        self.buckets
            .retain(|_, (_, seen)| now.duration_since(*seen) < IDLE_BUCKET);
    }
}

/// Middleware: 429 with `Retry-After` when an address exceeds `--api-rate`.
pub async fn limit(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(ip) = ip
        && let Err(wait) = app
            .api_limiter
            .check(ip, app.config.api_rate, app.config.api_burst)
    {
        app.metrics
            .http_rate_limited
            .fetch_add(1, Ordering::Relaxed);
        return ApiError::rate_limited(wait.ceil() as u64).into_response();
    }
    next.run(request).await
}
