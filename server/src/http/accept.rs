//! What the accept loop does when `accept` fails: out of file descriptors (or kernel memory),
//! it backs off instead of spinning, and logs once per burst with a count.

use std::io;
use std::time::{Duration, Instant};

use super::burst::Burst;

/// First pause after a failed accept; it doubles with each failure in a row.
const FIRST_PAUSE: Duration = Duration::from_millis(100);
/// Longest pause between accept attempts.
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// The accept loop's failure state.
#[derive(Debug)]
pub struct AcceptFailures {
    pause: Duration,
    burst: Burst,
}

impl AcceptFailures {
    /// No failure yet; a burst's count is logged at most once per `log_window`.
    pub fn new(log_window: Duration) -> Self {
        Self {
            pause: FIRST_PAUSE,
            burst: Burst::new(log_window),
        }
    }

    /// Notes a failed accept; returns how long to wait before accepting again.
    pub fn failed(&mut self, e: &io::Error) -> Duration {
        if concerns_one_connection(e) {
            tracing::debug!(error = %e, "a connection failed before it was accepted");
            return Duration::ZERO;
        }
        if self.burst.note(Instant::now()) {
            tracing::warn!(error = %e, "cannot accept connections; backing off (up to {MAX_PAUSE:?}) and counting further failures");
        }
        let pause = self.pause;
        self.pause = (self.pause * 2).min(MAX_PAUSE);
        pause
    }

    /// Notes an accepted connection: the next failure starts a fresh back-off.
    pub fn succeeded(&mut self) {
        self.pause = FIRST_PAUSE;
    }

    /// Logs the failures counted since the last line, if a log window has passed.
    pub fn flush(&mut self) {
        if let Some(n) = self.burst.flush(Instant::now()) {
            tracing::warn!(failures = n, "accept kept failing: {n} more failures");
        }
    }
}

/// Errors about the one connection being accepted (it went away); the listener is fine.
fn concerns_one_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    ) || e.raw_os_error() == Some(libc::EPROTO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_descriptors_backs_off_doubling_to_a_second() {
        let mut f = AcceptFailures::new(Duration::from_secs(5));
        let emfile = io::Error::from_raw_os_error(libc::EMFILE);
        let pauses: Vec<_> = (0..6).map(|_| f.failed(&emfile).as_millis()).collect();
        assert_eq!(pauses, [100, 200, 400, 800, 1000, 1000]);
        f.succeeded();
        let enfile = io::Error::from_raw_os_error(libc::ENFILE);
        assert_eq!(f.failed(&enfile), FIRST_PAUSE);
    }

    #[test]
    fn an_aborted_connection_needs_no_pause() {
        let mut f = AcceptFailures::new(Duration::from_secs(5));
        let aborted = io::Error::from(io::ErrorKind::ConnectionAborted);
        assert_eq!(f.failed(&aborted), Duration::ZERO);
    }
}
