//! Resource attributes: the typed values that conditions test.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One attribute value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttrValue {
    Bool(bool),
    Int(i64),
    Str(String),
}

impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool(b) => write!(f, "{b}"),
            Self::Int(i) => write!(f, "{i}"),
            Self::Str(s) => write!(f, "`{s}`"),
        }
    }
}

impl From<&str> for AttrValue {
    fn from(s: &str) -> Self {
        Self::Str(s.to_owned())
    }
}

impl From<bool> for AttrValue {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

/// The type an attribute is declared with in the permission catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttrType {
    String,
    Bool,
    Int,
}

impl AttrType {
    /// Whether `value` is of this type.
    pub fn admits(self, value: &AttrValue) -> bool {
        matches!((self, value), (Self::String, AttrValue::Str(_)) | (Self::Bool, AttrValue::Bool(_)) | (Self::Int, AttrValue::Int(_)))
    }
}

/// A resource's attributes, by name.
pub type Attributes = BTreeMap<String, AttrValue>;

/// The text attribute `key` of `attrs`; `""` when it is absent or not text.
pub fn text<'a>(attrs: &'a Attributes, key: &str) -> &'a str {
    match attrs.get(key) {
        Some(AttrValue::Str(s)) => s,
        _ => "",
    }
}
