//! Rate limiting met by a [`crate::LobbyClient`]: how many HTTP 429 answers came back, and how
//! long the client waited them out before retrying.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// What to tell a user whose load test is being throttled.
pub const HINT: &str = "the server's REST rate limit (HTTP 429) is slowing the bots down; \
    for load tests from one machine start it with --api-rate 0 --max-connections-per-addr 0";

/// Rate limiting met so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Throttling {
    /// HTTP 429 answers received.
    pub responses: u64,
    /// Time spent waiting after them before retrying.
    pub waited: Duration,
}

/// Counters shared by a client and its clones.
#[derive(Debug, Default)]
pub(crate) struct ThrottleCounters {
    responses: AtomicU64,
    waited_us: AtomicU64,
}

impl ThrottleCounters {
    /// Counts one 429 answer.
    pub(crate) fn answered_429(&self) {
        self.responses.fetch_add(1, Relaxed);
    }

    /// Adds time spent waiting after a 429.
    pub(crate) fn waited(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.waited_us.fetch_add(us, Relaxed);
    }

    /// The counts so far.
    pub(crate) fn snapshot(&self) -> Throttling {
        Throttling {
            responses: self.responses.load(Relaxed),
            waited: Duration::from_micros(self.waited_us.load(Relaxed)),
        }
    }
}
