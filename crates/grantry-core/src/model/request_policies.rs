//! Request policies: which access requests a policy governs — a scope node and what is below
//! it, optionally only production or non-production, optionally only resources of one data
//! classification — and how it decides them: at once, or in stages of approvers by role or group
//! (with escalation), within a longest duration, with a ticket pattern, break-glass, a warning
//! before access ends, and the roles and permissions it decides requests for.

use super::records::{keep_record, read_record};
use super::requests::{default_warning, Requested};
use crate::attr::Attributes;
use crate::ids::GroupId;
use crate::model::{Resource, ResourceRef};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// The resource type of a request policy.
pub const REQUEST_POLICY: &str = "request_policy";

/// Who may approve a stage: holders (for good, where the target is) of every permission of one of
/// `roles`, and the members of `groups` (and of the groups below them). Both empty: whoever may
/// approve requests where the target is and could grant it themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approvers {
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub groups: Vec<GroupId>,
}

impl Approvers {
    /// Whether no approver is named (the organization's approvers decide).
    pub fn is_default(&self) -> bool {
        self.roles.is_empty() && self.groups.is_empty()
    }
}

/// One stage of approval: `approvals` distinct approvers among `approvers`; once it has been open
/// for `escalate_after`, `escalation` may approve it too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub name: String,
    pub approvals: u32,
    pub approvers: Approvers,
    #[serde(default)]
    pub escalate_after: Option<SignedDuration>,
    #[serde(default)]
    pub escalation: Approvers,
}

impl Stage {
    /// The stage a request without a policy goes through: one approval by the organization's
    /// approvers.
    pub fn default_single() -> Self {
        Self {
            name: "approval".into(),
            approvals: 1,
            approvers: Approvers::default(),
            escalate_after: None,
            escalation: Approvers::default(),
        }
    }
}

/// Whether a policy covers production environments, the others, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvFilter {
    Production,
    NonProduction,
}

/// A request policy: which targets it covers (a scope node and what is below it, optionally only
/// production or non-production, optionally only resources of one data classification) and how
/// requests for them are decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestPolicy {
    pub id: String,
    pub name: String,
    /// The scope path it covers (`""` for the whole organization).
    pub scope: String,
    pub environment: Option<EnvFilter>,
    pub classification: Option<String>,
    /// Approved at once (no stages).
    pub auto_approve: bool,
    pub stages: Vec<Stage>,
    /// How long a request stays pending before it lapses.
    pub pending_timeout: SignedDuration,
    /// The longest access a request may ask for under this policy.
    pub max_duration: SignedDuration,
    /// A pattern every request's ticket reference must match (none: no ticket needed).
    pub ticket_pattern: Option<String>,
    /// Whether a requester may break the glass: approved at once, flagged, reviewed afterwards.
    pub break_glass: bool,
    /// How long before access ends its holder is warned (`expiring_soon`).
    #[serde(default = "default_warning")]
    pub expiry_warning: SignedDuration,
    /// The roles and permissions it decides requests for; a request for anything else under it is
    /// refused (any, when empty).
    #[serde(default)]
    pub requestable: Vec<String>,
    /// Who made it (`user:ID`): what its approvals hand out stays within what they hold for good.
    pub created_by: String,
    pub created_at: Timestamp,
}

impl RequestPolicy {
    /// The policy a resource holds, if it is one.
    pub fn of(r: &Resource) -> Option<Self> {
        read_record(r, REQUEST_POLICY)
    }

    /// The attributes the resource keeps.
    pub fn attributes(&self) -> Attributes {
        keep_record(self)
    }

    /// The policy's resource reference.
    pub fn reference(&self) -> ResourceRef {
        ResourceRef::new(REQUEST_POLICY, &self.id)
    }

    /// Whether a request for `requested` may be made under it.
    pub fn allows(&self, requested: &Requested) -> bool {
        self.requestable.is_empty()
            || match requested {
                Requested::Role(r) => self.requestable.contains(r),
                Requested::Permissions(p) => p.iter().all(|x| self.requestable.contains(x)),
            }
    }

    /// How specific it is: a policy about production, or about one data classification, first —
    /// it decides what it names over a general one anywhere, so a laxer policy deeper down does
    /// not pass it by (a non-production filter only narrows: it outranks nothing) — then a deeper
    /// scope, then a narrower filter.
    pub fn specificity(&self) -> (usize, usize, usize) {
        let depth = if self.scope.is_empty() || self.scope == "org" { 0 } else { self.scope.split('/').count() };
        let guards = usize::from(self.environment == Some(EnvFilter::Production)) + usize::from(self.classification.is_some());
        (guards, depth, usize::from(self.environment.is_some()))
    }
}
