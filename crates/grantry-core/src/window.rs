//! Windows in people's terms (seed 003's "Dec 1, 2024 – Jan 15, 2025" in a timezone): a start or
//! end given as a date, a date and time, or an instant, read in an IANA timezone and turned into
//! the instants the decision compares. A start date opens at the start of that day; an end date
//! is the last day of access, so it closes at the start of the next — across DST changes and the
//! year's end alike, since the zone's rules decide when each day starts.

use crate::error::{CoreError, Result};
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// The zone named `name` (an IANA name such as `America/New_York`, or `UTC`).
pub fn zone(field: &'static str, name: &str) -> Result<TimeZone> {
    let name = name.trim();
    TimeZone::get(name).map_err(|_| {
        CoreError::invalid(
            field,
            format!(
                "`{}` is not a known timezone; use an IANA name such as UTC, Europe/Paris or America/New_York",
                crate::validate::shown(name)
            ),
        )
    })
}

/// The largest offset from UTC an instant may be given with: 18 hours.
const MAX_OFFSET_SECS: i32 = 18 * 3600;

/// Which edge of a window a text gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// A date means the start of that day.
    Start,
    /// A date means the end of that day (the start of the next).
    End,
}

/// The instant `text` gives in `zone`: `2024-12-01` (a day, read as `edge` says),
/// `2024-12-01T09:30` (a time of day there) or `2024-12-01T09:30:00Z` (an instant, with its offset).
pub fn instant(field: &'static str, text: &str, zone: &TimeZone, edge: Edge) -> Result<Timestamp> {
    let text = text.trim();
    let bad = |why: String| {
        CoreError::invalid(
            field,
            format!(
                "`{}` {why}; give a date (2024-12-01), a date and time (2024-12-01T09:30) or an instant (2024-12-01T09:30:00Z)",
                crate::validate::shown(text)
            ),
        )
    };
    if text.contains('[') {
        // An annotation (`…[Europe/Paris]`) would be ignored in an instant: refused, not guessed at.
        return Err(bad("carries a bracketed annotation; give the zone as `timezone` instead".to_owned()));
    }
    if let Ok(ts) = text.parse::<Timestamp>() {
        // Real offsets lie within ±18 hours (RFC 9557); a larger one is a typo that would move
        // the instant by a day or more.
        let offset = jiff::fmt::temporal::Pieces::parse(text).ok().and_then(|p| match p.offset() {
            Some(jiff::fmt::temporal::PiecesOffset::Numeric(n)) => Some(n.offset().seconds()),
            _ => None,
        });
        if offset.is_some_and(|secs| secs.abs() > MAX_OFFSET_SECS) {
            return Err(bad("has an offset beyond ±18:00".to_owned()));
        }
        return Ok(ts);
    }
    let has_time = text.contains(['T', 't', ' ']);
    if let Some(date) = text.parse::<Date>().ok().filter(|_| !has_time) {
        let day = match edge {
            Edge::Start => date,
            Edge::End => date.tomorrow().map_err(|e| bad(format!("has no day after it ({e})")))?,
        };
        return day.to_zoned(zone.clone()).map(|z| z.timestamp()).map_err(|e| bad(format!("is out of range ({e})")));
    }
    if let Some(at) = text.parse::<DateTime>().ok().filter(|_| has_time) {
        return at.to_zoned(zone.clone()).map(|z| z.timestamp()).map_err(|e| bad(format!("is out of range ({e})")));
    }
    Err(bad("is not a date or a time".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_holiday_window_crosses_the_year_in_its_zone() {
        let ny = zone("timezone", "America/New_York").unwrap();
        let start = instant("startDate", "2024-12-01", &ny, Edge::Start).unwrap();
        let end = instant("endDate", "2025-01-15", &ny, Edge::End).unwrap();
        assert_eq!(start.to_string(), "2024-12-01T05:00:00Z");
        assert_eq!(end.to_string(), "2025-01-16T05:00:00Z", "the end date is the last day of access");
        // Across a DST change the day still starts at local midnight.
        let march = instant("startDate", "2025-03-10", &ny, Edge::Start).unwrap();
        assert_eq!(march.to_string(), "2025-03-10T04:00:00Z");
        let paris = zone("timezone", "Europe/Paris").unwrap();
        assert_eq!(instant("endDate", "2025-01-15T09:30", &paris, Edge::End).unwrap().to_string(), "2025-01-15T08:30:00Z");
        assert_eq!(instant("endDate", "2025-01-15T09:30:00Z", &paris, Edge::End).unwrap().to_string(), "2025-01-15T09:30:00Z");
    }

    #[test]
    fn bad_zones_and_dates_say_what_to_give() {
        assert!(zone("timezone", "Mars/Olympus").unwrap_err().to_string().contains("IANA"));
        let utc = zone("timezone", "UTC").unwrap();
        let east = instant("start", "2024-12-01T09:30:00+18:00", &utc, Edge::Start).unwrap();
        assert_eq!(east.to_string(), "2024-11-30T15:30:00Z");
        let e = instant("start", "2024-12-01T09:30:00Z[Mars/Olympus]", &utc, Edge::Start).unwrap_err().to_string();
        assert!(e.contains("annotation"), "{e}");
        for far in ["2024-12-01T09:30:00+18:01", "2024-12-01T09:30:00-25:00", "2024-12-01T09:30:00-19:30"] {
            let e = instant("start", far, &utc, Edge::Start).unwrap_err().to_string();
            assert!(e.contains("beyond ±18:00"), "{far}: {e}");
        }
        let utc = TimeZone::UTC;
        for bad in ["2024-13-01", "tomorrow", "", "2024-12-01T25:00"] {
            assert!(instant("endDate", bad, &utc, Edge::End).unwrap_err().to_string().contains("give a date"), "{bad}");
        }
    }
}
