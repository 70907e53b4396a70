//! The clock frames are stamped with.

use std::time::{SystemTime, UNIX_EPOCH};

/// The wall clock in microseconds since the Unix epoch: the unit of every `server_time_us`.
/// A client compares it with the same clock to measure tick-to-client latency.
pub fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros().min(u128::from(u64::MAX)) as u64)
}
