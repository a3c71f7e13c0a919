//! Decisions and their explanations.

use crate::attr::Attributes;
use crate::ids::GrantId;
use crate::model::ResourceRef;
use serde::{Deserialize, Serialize};

/// The resource a check is about: its reference and any attributes the caller passes inline.
/// Attributes of a registered resource override inline ones, so a caller cannot spoof them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceQuery {
    #[serde(flatten)]
    pub reference: ResourceRef,
    #[serde(default)]
    pub attributes: Attributes,
}

/// Why a decision came out as it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// This grant allowed the request.
    GrantedBy,
    /// This grant carries the permission but has expired.
    Expired,
    /// This grant carries the permission but has not started yet.
    NotYetActive,
    /// This grant carries the permission but was revoked.
    Revoked,
    /// This grant carries the permission but applies elsewhere in the scope tree.
    OutOfScope,
    /// This grant carries the permission but a condition did not hold on the resource.
    ConditionFailed,
    /// No grant of the principal carries the permission.
    NoGrant,
    /// A delegated API key's grant allows it, but the user it acts for may not do it now.
    DelegatorLacks,
    /// The principal is suspended or revoked.
    PrincipalInactive,
    /// The principal does not exist in the organization.
    UnknownPrincipal,
    /// The permission is not in the catalogue.
    UnknownPermission,
    /// A grant carries the permission, but it also needs another on the resource's parent (the
    /// use of a data source's agent), which the principal lacks.
    NeedsParent,
}

/// One reason: a code, the grant it is about (if any) and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: ReasonCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<GrantId>,
    pub message: String,
}

/// A decision with its explanation: for an allow, the grants that allowed it; for a deny, what
/// was missing. Bounded: at most [`MAX_REASONS`] reasons, and how many more there were.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub allowed: bool,
    pub reasons: Vec<Reason>,
    /// How many more grants decided the same way than `reasons` lists.
    #[serde(default)]
    pub omitted: usize,
}

/// The most reasons an explanation lists; a principal with thousands of grants for one
/// permission gets the first ones and a count of the rest.
pub const MAX_REASONS: usize = 10;
