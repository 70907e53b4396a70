//! Value parsers for the command-line flags: each refuses non-finite and out-of-range values
//! with a clear message rather than panicking later.

use std::ops::RangeInclusive;
use std::time::Duration;

/// The longest run `--duration` accepts, and the longest gap between two bot starts.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// Parses a run duration: a plain number of seconds (`10`, `2.5`) or a humantime duration
/// (`90s`, `2m`), more than zero and at most [`MAX_DURATION`].
pub fn duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let d = match s.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 => {
            Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
        }
        Ok(_) => return Err(format!("`{s}` is not a positive, finite number of seconds")),
        Err(_) => {
            humantime::parse_duration(s).map_err(|e| format!("`{s}` is not a duration ({e})"))?
        }
    };
    if d.is_zero() || d > MAX_DURATION {
        return Err(format!(
            "`{s}` is out of range: more than 0 and at most a day"
        ));
    }
    Ok(d)
}

/// Parses a period that may be zero: `0`, or a duration as [`duration`] takes it.
pub fn duration_or_zero(s: &str) -> Result<Duration, String> {
    let zero = match s.trim().parse::<f64>() {
        Ok(secs) => secs == 0.0,
        Err(_) => humantime::parse_duration(s.trim()).is_ok_and(|d| d.is_zero()),
    };
    if zero {
        Ok(Duration::ZERO)
    } else {
        duration(s)
    }
}

/// A parser for a finite number in `range`.
pub fn number_in(range: RangeInclusive<f64>) -> impl Fn(&str) -> Result<f64, String> + Clone {
    move |s| {
        let x: f64 = s
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not a number"))?;
        if !x.is_finite() || !range.contains(&x) {
            return Err(format!(
                "`{s}` is out of range: a finite number from {} to {} is expected",
                range.start(),
                range.end()
            ));
        }
        Ok(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settle_period_may_be_zero() {
        assert_eq!(duration_or_zero("0"), Ok(Duration::ZERO));
        assert_eq!(duration_or_zero("0s"), Ok(Duration::ZERO));
        assert_eq!(duration_or_zero("1.5"), Ok(Duration::from_millis(1_500)));
        assert!(duration_or_zero("-1").is_err() && duration_or_zero("2d").is_err());
    }

    #[test]
    fn durations_are_seconds_or_units_within_a_day() {
        assert_eq!(duration("2.5"), Ok(Duration::from_millis(2_500)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        for bad in ["0", "-1", "NaN", "inf", "1e300", "2days"] {
            assert!(duration(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn numbers_are_finite_and_in_range() {
        let p = number_in(0.0..=10.0);
        assert_eq!(p("0"), Ok(0.0));
        for bad in ["NaN", "inf", "-1", "11"] {
            assert!(p(bad).is_err(), "{bad} accepted");
        }
    }
}
