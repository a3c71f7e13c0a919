//! The clock: the one place that reads the time. Everything else takes `now` as an argument.

use jiff::Timestamp;

/// The current time, truncated to microseconds (the precision the store keeps, so a time read
/// back compares equal to the one written).
pub fn now() -> Timestamp {
    #[expect(clippy::disallowed_methods, reason = "this is the clock")]
    let now = Timestamp::now();
    Timestamp::from_microsecond(now.as_microsecond()).unwrap_or(now)
}
