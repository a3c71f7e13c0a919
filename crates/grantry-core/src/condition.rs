//! Conditions on a permission grant: tests of one resource attribute each (`Equals`, `In`,
//! `NotEquals`). A grant applies only when all its conditions hold.

use crate::attr::{AttrValue, Attributes};
use crate::catalogue::Permission;
use crate::error::{CoreError, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A test of one attribute, in the wire shape `{"type": "Equals", "value": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum Condition {
    Equals { value: AttrValue },
    In { values: Vec<AttrValue> },
    NotEquals { value: AttrValue },
}

/// Conditions by attribute name; all must hold.
pub type Conditions = BTreeMap<String, Condition>;

impl Condition {
    /// Whether the condition holds for `actual` (the attribute's value, if the resource has it).
    /// A missing attribute satisfies no condition, not even `NotEquals`.
    pub fn holds(&self, actual: Option<&AttrValue>) -> bool {
        let Some(actual) = actual else { return false };
        match self {
            Self::Equals { value } => actual == value,
            Self::In { values } => values.contains(actual),
            Self::NotEquals { value } => actual != value,
        }
    }

    fn values(&self) -> impl Iterator<Item = &AttrValue> {
        match self {
            Self::Equals { value } | Self::NotEquals { value } => std::slice::from_ref(value).iter(),
            Self::In { values } => values.iter(),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Equals { value } => write!(f, "= {value}"),
            Self::NotEquals { value } => write!(f, "≠ {value}"),
            Self::In { values } => {
                let list: Vec<String> = values.iter().map(ToString::to_string).collect();
                write!(f, "in [{}]", list.join(", "))
            }
        }
    }
}

/// The first condition that does not hold on `attrs`, with the attribute's name.
pub fn first_failure<'a>(conditions: &'a Conditions, attrs: &Attributes) -> Option<(&'a str, &'a Condition)> {
    conditions.iter().find(|(name, cond)| !cond.holds(attrs.get(name.as_str()))).map(|(name, cond)| (name.as_str(), cond))
}

/// The most values an `In` condition may list.
pub const MAX_IN_VALUES: usize = 100;
/// The longest string value a condition may compare with.
pub const MAX_VALUE_CHARS: usize = 256;

/// Checks that every condition tests an attribute `permission` declares, with values of its type,
/// each short and printable.
pub fn validate(permission: &Permission, conditions: &Conditions) -> Result<()> {
    for (name, cond) in conditions {
        let Some(ty) = permission.attribute(name) else {
            let known: Vec<&str> = permission.attributes.iter().map(|(n, _)| *n).collect();
            return Err(CoreError::invalid(
                "conditions",
                format!(
                    "permission `{}` has no attribute `{name}`; conditions may test: {}",
                    permission.name,
                    if known.is_empty() { "nothing".to_owned() } else { known.join(", ") }
                ),
            ));
        };
        if let Condition::In { values } = cond {
            if values.is_empty() || values.len() > MAX_IN_VALUES {
                return Err(CoreError::invalid("conditions", format!("`In` on `{name}` needs 1 to {MAX_IN_VALUES} values")));
            }
        }
        for v in cond.values() {
            if let AttrValue::Str(s) = v {
                if s.chars().count() > MAX_VALUE_CHARS {
                    return Err(CoreError::invalid(
                        "conditions",
                        format!("a value of `{name}` is longer than {MAX_VALUE_CHARS} characters"),
                    ));
                }
                crate::validate::printable("conditions", s)?;
            }
        }
        if let Some(bad) = cond.values().find(|v| !ty.admits(v)) {
            return Err(CoreError::invalid(
                "conditions",
                format!("attribute `{name}` is a {ty:?}, but the condition compares it with {bad}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_attribute_satisfies_nothing() {
        let ne = Condition::NotEquals { value: "a".into() };
        assert!(!ne.holds(None));
        assert!(ne.holds(Some(&"b".into())));
        assert!(!ne.holds(Some(&"a".into())));
    }

    #[test]
    fn wire_shape_round_trips() {
        let json = r#"{"type":"In","values":["a","b"]}"#;
        let cond: Condition = serde_json::from_str(json).unwrap();
        assert!(cond.holds(Some(&"b".into())));
        assert_eq!(serde_json::to_string(&cond).unwrap(), json);
    }
}
