//! Logging a repeated event once per burst, with a count, instead of once per event.

use std::time::{Duration, Instant};

/// Counts events of one kind. The first event of a burst is logged at once; later ones are
/// counted and reported once per window while the burst lasts; a window without events ends
/// the burst.
#[derive(Debug)]
pub struct Burst {
    window: Duration,
    since: Option<Instant>,
    unreported: u64,
}

impl Burst {
    /// A counter that reports at most once per `window`.
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            since: None,
            unreported: 0,
        }
    }

    /// Notes one event at `now`; `true` when it starts a burst and should be logged now.
    pub fn note(&mut self, now: Instant) -> bool {
        if self.since.is_none() {
            self.since = Some(now);
            return true;
        }
        self.unreported += 1;
        false
    }

    /// Call regularly: once a window has passed, the events counted but not yet logged (to be
    /// logged now if any). A window with none ends the burst.
    pub fn flush(&mut self, now: Instant) -> Option<u64> {
        let since = self.since?;
        if now.duration_since(since) < self.window {
            return None;
        }
        let n = std::mem::take(&mut self.unreported);
        self.since = (n > 0).then_some(now);
        (n > 0).then_some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_burst_and_one_summary_per_window() {
        let w = Duration::from_secs(5);
        let t0 = Instant::now();
        let mut b = Burst::new(w);
        assert!(b.note(t0), "the first event is logged");
        assert!((0..1000).all(|_| !b.note(t0)), "the rest are counted");
        assert_eq!(
            b.flush(t0 + Duration::from_secs(1)),
            None,
            "not before the window"
        );
        assert_eq!(b.flush(t0 + w), Some(1000));
        assert_eq!(b.flush(t0 + 2 * w), None, "a quiet window ends the burst");
        assert!(b.note(t0 + 3 * w), "the next burst is logged at once");
    }
}
