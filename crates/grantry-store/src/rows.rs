//! Conversions between grantry-core's values and column values: times as microseconds, nested
//! values as JSON text, and change-log entries in a versioned envelope.

use crate::error::{Result, StoreError};
use grantry_core::change::Change;
use grantry_core::Timestamp;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A time as stored: microseconds since the epoch.
pub fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

/// A stored time back.
pub fn timestamp(us: i64) -> Result<Timestamp> {
    Timestamp::from_microsecond(us).map_err(|e| StoreError::Corrupt(format!("time {us}: {e}")))
}

/// An optional stored time back.
pub fn opt_timestamp(us: Option<i64>) -> Result<Option<Timestamp>> {
    us.map(timestamp).transpose()
}

/// A value as JSON text.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// JSON text back into a value.
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{e} in `{text}`")))
}

/// The format of the change-log entries this version writes: `{"format": 1, "changes": […]}`.
/// Format 0, written before the format was recorded, is the bare array of changes; both replay.
pub const CHANGE_LOG_FORMAT: u64 = 1;

/// A batch's changes as a change-log entry.
pub fn change_entry(changes: &[Change]) -> Result<String> {
    json(&serde_json::json!({ "format": CHANGE_LOG_FORMAT, "changes": changes }))
}

/// A change-log entry's changes, in any format this version knows.
pub fn read_change_entry(text: &str) -> Result<Vec<Change>> {
    let value: serde_json::Value = from_json(text)?;
    let changes = match value {
        serde_json::Value::Array(_) => value,
        serde_json::Value::Object(mut entry) => match entry.get("format").and_then(serde_json::Value::as_u64) {
            Some(CHANGE_LOG_FORMAT) => entry.remove("changes").unwrap_or_default(),
            Some(newer) => {
                return Err(StoreError::Corrupt(format!(
                    "a change-log entry in format {newer}, written by a newer Grantry; upgrade this server"
                )))
            }
            None => return Err(StoreError::Corrupt(format!("a change-log entry without a format: `{text}`"))),
        },
        _ => return Err(StoreError::Corrupt(format!("a change-log entry that is neither: `{text}`"))),
    };
    serde_json::from_value(changes).map_err(|e| StoreError::Corrupt(format!("{e} in a change-log entry")))
}

/// A value whose serde form is a plain string (an enum of unit variants), as that string.
pub fn enum_text<T: Serialize>(value: &T) -> Result<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(StoreError::Corrupt("expected a string-valued enum".to_owned())),
    }
}

/// A plain string back into an enum of unit variants.
pub fn text_enum<T: DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|e| StoreError::Corrupt(format!("{e}: `{text}`")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use grantry_core::ids::OrgId;
    use grantry_core::model::Policy;

    #[test]
    fn change_log_entries_of_every_format_replay() {
        let changes = vec![Change::OrgPolicySet { org: OrgId("o1".into()), policy: Policy::default() }];
        let now = change_entry(&changes).unwrap();
        assert!(now.contains(r#""format":1"#), "{now}");
        assert_eq!(read_change_entry(&now).unwrap(), changes);
        let before = json(&changes).unwrap();
        assert_eq!(read_change_entry(&before).unwrap(), changes, "format 0: the bare array");
        let newer = r#"{"format": 2, "changes": []}"#;
        assert!(read_change_entry(newer).unwrap_err().to_string().contains("newer Grantry"));
    }
}
