//! Conversions between grantry-core's values and column values: times as microseconds, nested
//! values as JSON text.

use crate::error::{Result, StoreError};
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
