//! Records kept whole in a resource: access requests, request policies and webhooks are
//! resources of their own type whose one attribute, `record`, holds the record as JSON — so they
//! travel through the change log, the index and the tables like any resource, and a check never
//! reads them.

use crate::attr::{text, AttrValue, Attributes};
use crate::model::Resource;
use serde::{Deserialize, Serialize};

/// The attribute holding the record.
pub const RECORD: &str = "record";

/// The resource types that keep a record. The index keeps their record as it is — not interned,
/// not listed: no condition tests it, and each change of it would otherwise leave a symbol behind.
pub const RECORD_KINDS: [&str; 3] = [super::ACCESS_REQUEST, super::REQUEST_POLICY, super::WEBHOOK];

/// The record a resource of type `kind` keeps, if it is one.
pub(crate) fn read_record<T: for<'de> Deserialize<'de>>(r: &Resource, kind: &str) -> Option<T> {
    (r.reference.kind == kind).then(|| serde_json::from_str(text(&r.attributes, RECORD)).ok()).flatten()
}

/// The attributes that keep `record`.
pub(crate) fn keep_record<T: Serialize>(record: &T) -> Attributes {
    Attributes::from([(RECORD.to_owned(), AttrValue::Str(serde_json::to_string(record).unwrap_or_default()))])
}
