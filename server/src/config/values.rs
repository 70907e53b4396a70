//! Value parsers for the flags: durations and numbers, each refused with a clear message when
//! it is not finite, below its minimum or above its maximum.

use std::ops::RangeInclusive;
use std::time::Duration;

/// The longest duration any flag accepts: a day. Longer ones are surely a mistake, and they
/// would overflow deadlines (`Instant + Duration`) and tick counts.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// A clap value parser for a duration between `min` and [`MAX_DURATION`]: a plain number is
/// seconds (`15`, `2.5`), anything else a humantime duration (`15s`, `500ms`, `2m 30s`).
pub fn duration_from(min: Duration) -> impl Fn(&str) -> Result<Duration, String> + Clone {
    move |s| {
        let d = parse_duration(s)?;
        if d < min || d > MAX_DURATION {
            return Err(format!(
                "`{s}` is out of range: a duration from {} to {} is expected",
                humantime::format_duration(min),
                humantime::format_duration(MAX_DURATION)
            ));
        }
        Ok(d)
    }
}

/// Parses a duration: a plain number of seconds, or a humantime duration.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    match s.parse::<f64>() {
        // Finite and non-negative, it fails only by overflow: then it is out of every range.
        Ok(secs) if secs.is_finite() && secs >= 0.0 => {
            Ok(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
        }
        Ok(_) => Err(format!(
            "`{s}` is not a duration: a finite, non-negative number of seconds is expected"
        )),
        Err(_) => humantime::parse_duration(s).map_err(|e| {
            format!("`{s}` is not a duration ({e}); use seconds (`15`, `2.5`) or units (`500ms`, `15s`, `2m`)")
        }),
    }
}

/// A clap value parser for a finite number in `range`.
pub fn number_in(range: RangeInclusive<f64>) -> impl Fn(&str) -> Result<f64, String> + Clone {
    move |s| {
        let x: f64 = s
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not a number"))?;
        if !x.is_finite() {
            return Err(format!("`{s}` is not a finite number"));
        }
        if !range.contains(&x) {
            return Err(format!(
                "`{s}` is out of range: a number from {} to {} is expected",
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
    fn plain_numbers_are_seconds_and_units_are_read() {
        let p = duration_from(Duration::ZERO);
        assert_eq!(p("15"), Ok(Duration::from_secs(15)));
        assert_eq!(p("2.5"), Ok(Duration::from_millis(2_500)));
        assert_eq!(p("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(p("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(p("1day"), Ok(MAX_DURATION));
    }

    #[test]
    fn nan_negative_infinite_and_huge_durations_are_refused() {
        let p = duration_from(Duration::ZERO);
        for bad in [
            "NaN", "nan", "-1", "-0.5", "inf", "1e300", "86401", "2days", "ten", "",
        ] {
            assert!(p(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn a_duration_below_the_minimum_is_refused() {
        let p = duration_from(Duration::from_millis(100));
        assert!(p("50ms").unwrap_err().contains("100ms"));
        assert_eq!(p("0.1"), Ok(Duration::from_millis(100)));
    }

    #[test]
    fn numbers_must_be_finite_and_in_range() {
        let p = number_in(0.0..=10.0);
        assert_eq!(p("2.5"), Ok(2.5));
        for bad in ["NaN", "-1", "inf", "11", "x"] {
            assert!(p(bad).is_err(), "{bad} accepted");
        }
    }
}
