//! ISO 8601 durations for grants (`PT30M`, `PT2H`, `P1D`, `P3D`): parsed with jiff, days taken as
//! 24 hours, and checked against the organization's maximum.

use crate::error::{CoreError, Result};
use jiff::fmt::temporal::SpanParser;
use jiff::{SignedDuration, Span, SpanRelativeTo};

/// The strict ISO 8601 parser (jiff's `FromStr` also takes the "friendly" `2h` form, which the
/// seed does not allow).
static ISO: SpanParser = SpanParser::new();

/// Parses an ISO 8601 duration and checks that it is positive and at most `max`.
pub fn parse_grant_duration(text: &str, max: SignedDuration) -> Result<SignedDuration> {
    let duration = parse_iso("duration", text, max)?;
    bounded("duration", &format!("`{}`", text.trim()), duration, max)
}

/// Parses a grace period: `PT0S` (none) or a positive ISO 8601 duration in whole microseconds,
/// at most `max`.
pub fn parse_grace(text: &str, max: SignedDuration) -> Result<SignedDuration> {
    let duration = parse_iso("grace", text, max)?;
    if duration.is_zero() {
        return Ok(duration);
    }
    bounded("grace", &format!("`{}`", text.trim()), duration, max)
}

/// An ISO 8601 duration of days and smaller units (days taken as 24 hours), as `field`.
fn parse_iso(field: &'static str, text: &str, max: SignedDuration) -> Result<SignedDuration> {
    if text.len() > 64 {
        return Err(CoreError::invalid(
            field,
            format!("`{}` is too long for a duration; write it like PT2H", crate::validate::shown(text)),
        ));
    }
    let text = text.trim();
    let span: Span = ISO
        .parse_span(text)
        .map_err(|_| CoreError::invalid(field, format!("`{text}` is not an ISO 8601 duration; write it like PT30M, PT2H or P1D")))?;
    if span.get_years() != 0 || span.get_months() != 0 {
        return Err(CoreError::invalid(
            field,
            format!("`{text}` uses years or months, whose length varies; give the duration in days or hours (e.g. P3D)"),
        ));
    }
    span.to_duration(SpanRelativeTo::days_are_24_hours())
        .map_err(|_| CoreError::invalid(field, format!("`{text}` is too large; the maximum is {}", format_iso(max))))
}

/// The window from `now` until `end`, which must be in the future and at most `max` away.
pub fn window_until(now: jiff::Timestamp, end: jiff::Timestamp, max: SignedDuration) -> Result<SignedDuration> {
    bounded("until", &format!("`{end}`"), end.duration_since(now), max)
}

/// The shortest window: one second.
pub const SHORTEST: SignedDuration = SignedDuration::from_secs(1);

/// Checks that `duration` (shown to people as `shown`) is at least a second, in whole
/// microseconds (the store's resolution), and at most `max`.
fn bounded(field: &'static str, shown: &str, duration: SignedDuration, max: SignedDuration) -> Result<SignedDuration> {
    let (not_positive, too_long) = match field {
        "until" => ("is not in the future", "is further away than this organization's maximum of"),
        "grace" => ("is negative; give PT0S for none, or a duration such as PT1H", "is longer than the longest grace period,"),
        _ => ("is not positive; give a duration such as PT2H", "is longer than this organization's maximum of"),
    };
    if duration <= SignedDuration::ZERO {
        return Err(CoreError::invalid(field, format!("{shown} {not_positive}")));
    }
    if duration < SHORTEST {
        return Err(CoreError::invalid(field, format!("{shown} is shorter than a second; give at least PT1S")));
    }
    if duration.subsec_nanos() % 1_000 != 0 {
        return Err(CoreError::invalid(field, format!("{shown} is finer than a microsecond; round it to whole microseconds")));
    }
    if duration > max {
        return Err(CoreError::invalid(field, format!("{shown} {too_long} {}; ask for a shorter window", format_iso(max))));
    }
    Ok(duration)
}

/// Formats a duration in ISO 8601, using days for whole days (`P3D`, `PT2H`, `PT1H30M`).
pub fn format_iso(d: SignedDuration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return "PT0S".to_owned();
    }
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let mut out = String::from("P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if rem > 0 {
        out.push('T');
        for (n, unit) in [(h, 'H'), (m, 'M'), (s, 'S')] {
            if n > 0 {
                out.push_str(&format!("{n}{unit}"));
            }
        }
    }
    out
}

/// A duration for people: "3 minutes", "2 hours 5 minutes", "41 seconds".
pub fn humanize(d: SignedDuration) -> String {
    let secs = d.as_secs().abs();
    let parts = [(secs / 86_400, "day"), (secs % 86_400 / 3600, "hour"), (secs % 3600 / 60, "minute"), (secs % 60, "second")];
    let words: Vec<String> =
        parts.iter().filter(|(n, _)| *n > 0).take(2).map(|(n, unit)| format!("{n} {unit}{}", if *n == 1 { "" } else { "s" })).collect();
    if words.is_empty() {
        "0 seconds".to_owned()
    } else {
        words.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: SignedDuration = SignedDuration::from_hours(72);

    #[test]
    fn accepts_the_seed_examples() {
        assert_eq!(parse_grant_duration("PT30M", MAX).unwrap(), SignedDuration::from_mins(30));
        assert_eq!(parse_grant_duration("PT2H", MAX).unwrap(), SignedDuration::from_hours(2));
        assert_eq!(parse_grant_duration("P1D", MAX).unwrap(), SignedDuration::from_hours(24));
        assert_eq!(parse_grant_duration("P3D", MAX).unwrap(), MAX);
        assert_eq!(parse_grant_duration("PT2S", MAX).unwrap(), SignedDuration::from_secs(2));
    }

    #[test]
    fn a_window_until_an_end_is_in_the_future_and_within_the_maximum() {
        let now: jiff::Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        let at = |t: &str| t.parse::<jiff::Timestamp>().unwrap();
        assert_eq!(window_until(now, at("2026-11-23T14:00:00Z"), MAX).unwrap(), SignedDuration::from_hours(4));
        assert_eq!(window_until(now, at("2026-11-26T10:00:00Z"), MAX).unwrap(), MAX);
        for (end, says) in [("2026-11-23T10:00:00Z", "not in the future"), ("2026-11-26T10:00:01Z", "further away than")] {
            let err = window_until(now, at(end), MAX).unwrap_err().to_string();
            assert!(err.starts_with("until: ") && err.contains(says), "{end}: {err}");
        }
    }

    #[test]
    fn rejects_bad_durations_with_a_fix() {
        for bad in ["", "2h", "PT", "P1M", "PT0S", "P0D", "-PT1H", "P4D", "PT73H", "P1Y"] {
            let err = parse_grant_duration(bad, MAX).unwrap_err().to_string();
            assert!(err.starts_with("duration: "), "{bad}: {err}");
        }
    }

    #[test]
    fn formats() {
        assert_eq!(format_iso(MAX), "P3D");
        assert_eq!(format_iso(SignedDuration::from_mins(90)), "PT1H30M");
        assert_eq!(humanize(SignedDuration::from_secs(185)), "3 minutes 5 seconds");
    }
}
