//! The model: organizations, the scope tree, principals, resources, grants and credentials.
//!
//! Everything belongs to exactly one organization. A [`Grant`] is the one concept for every kind
//! of access: permanent roles, temporary permission grants, time-bounded roles, group windows and
//! temporary access instances all are grants, told apart by their target, anchor, window and source.

mod agents;
mod directory;
mod groups;
mod pools;
pub mod records;
mod request_policies;
mod requests;
mod webhooks;

pub use agents::{AccessType, Agent, Classification, DataSource, Level, AGENT, DATA_SOURCE};
pub use directory::{ApiKey, ScopeKind, ScopeNode};
pub use groups::{Group, GroupMember, GroupRole, GroupStatus};
pub use pools::{AgentPool, TempAccess, TempRole, AGENT_POOL, TEMP_ACCESS};
pub use request_policies::{Approvers, EnvFilter, RequestPolicy, Stage, REQUEST_POLICY};
pub use requests::{
    AccessRequest, Approval, Closed, Closing, Extended, Extension, Granted, Moment, Noted, RequestState, Requested, ACCESS_REQUEST,
    CONSUMABLE_BY, DEFAULT_WARNING, WATCHED,
};
pub use webhooks::{PayloadFormat, Webhook, NOTIFICATIONS, PINGS_PER_WINDOW, PING_WINDOW, WEBHOOK};

use crate::attr::Attributes;
use crate::catalogue::PermissionGrant;
use crate::ids::{ApiKeyId, GrantId, GroupId, OrgId, ScopeId, TokenId, UserId};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Per-organization policy settings; the defaults are the seeds' values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// The longest temporary permission grant (seed 001: P3D).
    pub max_grant_duration: SignedDuration,
    /// The duration of a grant when none is given (seed 001: PT2H).
    pub default_grant_duration: SignedDuration,
    /// The fewest characters a justification may have, after trimming (seed 001: 10).
    pub min_justification_chars: usize,
    /// The most characters a justification may have (1,000 unless changed).
    pub max_justification_chars: usize,
    /// The longest time-bounded role grant (seed 002's Phase 2; P3D like seed 001's grants).
    pub max_role_duration: SignedDuration,
    /// How many days audit events are kept (seed 002: five years).
    pub audit_retention_days: u32,
    /// How deep groups may nest: a group at the top is at depth 1 (5 unless changed).
    pub max_group_depth: u32,
    /// How many days a review of an assignment or a membership holds before the next is due
    /// (seed 003: quarterly, 90).
    pub review_period_days: u32,
    /// The most users one temporary access instance grants (seed 004: 50).
    pub temp_access_max_users: u32,
    /// The most agent pools one temporary access instance grants (seed 004: 20).
    pub temp_access_max_pools: u32,
    /// The longest temporary access instance (seed 004: 31 days).
    pub temp_access_max_duration: SignedDuration,
    /// The most temporary access instances active at once (seed 004: 100).
    pub temp_access_max_active: u32,
    /// How many days an access request stays listed after it ended (365 unless changed); the
    /// audit log keeps its events for the audit retention.
    pub request_retention_days: u32,
}

/// What an organization may set each temporary access limit to: users, pools, active instances.
pub const TEMP_ACCESS_USERS: std::ops::RangeInclusive<u32> = 1..=1_000;
pub const TEMP_ACCESS_POOLS: std::ops::RangeInclusive<u32> = 1..=200;
pub const TEMP_ACCESS_ACTIVE: std::ops::RangeInclusive<u32> = 1..=10_000;

/// The shortest and longest review period an organization may set, in days.
pub const REVIEW_PERIOD_DAYS: std::ops::RangeInclusive<u32> = 7..=730;

/// The shallowest and deepest group nesting an organization may set.
pub const GROUP_DEPTH: std::ops::RangeInclusive<u32> = 1..=10;

/// The fewest and most days an organization may keep ended access requests listed.
pub const REQUEST_RETENTION_DAYS: std::ops::RangeInclusive<u32> = 7..=36_500;

/// The fewest and most days of audit retention an organization may set.
pub const AUDIT_RETENTION_DAYS: std::ops::RangeInclusive<u32> = 365..=36_500;

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_grant_duration: SignedDuration::from_hours(72),
            default_grant_duration: SignedDuration::from_hours(2),
            min_justification_chars: 10,
            max_justification_chars: 1_000,
            max_role_duration: SignedDuration::from_hours(72),
            audit_retention_days: 5 * 365 + 1,
            max_group_depth: 5,
            review_period_days: 90,
            temp_access_max_users: 50,
            temp_access_max_pools: 20,
            temp_access_max_duration: SignedDuration::from_hours(31 * 24),
            temp_access_max_active: 100,
            request_retention_days: 365,
        }
    }
}

/// An organization: the tenant every other record belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
    pub created_at: Timestamp,
    pub policy: Policy,
}

/// Whether a user may act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Suspended,
}

impl UserStatus {
    /// The status as stored and shown: `active` or `suspended`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }
}

/// A person in an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub org: OrgId,
    pub email: String,
    pub status: UserStatus,
    pub created_at: Timestamp,
}

/// Who a grant is for and who a check is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Principal {
    User(UserId),
    Group(GroupId),
    ApiKey(ApiKeyId),
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(id) => write!(f, "user:{id}"),
            Self::Group(id) => write!(f, "group:{id}"),
            Self::ApiKey(id) => write!(f, "api_key:{id}"),
        }
    }
}

impl std::str::FromStr for Principal {
    type Err = String;

    /// Parses the display form: `user:ID`, `group:ID` or `api_key:ID`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once(':') {
            Some(("user", id)) if !id.is_empty() => Ok(Self::User(UserId(id.to_owned()))),
            Some(("group", id)) if !id.is_empty() => Ok(Self::Group(GroupId(id.to_owned()))),
            Some(("api_key", id)) if !id.is_empty() => Ok(Self::ApiKey(ApiKeyId(id.to_owned()))),
            _ => Err(format!("`{s}` is not a principal; expected user:ID, group:ID or api_key:ID")),
        }
    }
}

/// Who made a change: a principal, or the system itself (expiries, imports).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Actor {
    User(UserId),
    ApiKey(ApiKeyId),
    System,
}

impl std::str::FromStr for Actor {
    type Err = String;

    /// Parses the display form: `user:ID`, `api_key:ID` or `system`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once(':') {
            _ if s == "system" => Ok(Self::System),
            Some(("user", id)) => Ok(Self::User(UserId(id.to_owned()))),
            Some(("api_key", id)) => Ok(Self::ApiKey(ApiKeyId(id.to_owned()))),
            _ => Err(format!("`{s}` is not an actor; expected user:ID, api_key:ID or system")),
        }
    }
}

impl From<&Principal> for Actor {
    fn from(p: &Principal) -> Self {
        match p {
            Principal::User(id) => Self::User(id.clone()),
            Principal::ApiKey(id) => Self::ApiKey(id.clone()),
            // INVARIANT: groups never authenticate, so they never act.
            Principal::Group(_) => Self::System,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(id) => write!(f, "user:{id}"),
            Self::ApiKey(id) => write!(f, "api_key:{id}"),
            Self::System => f.write_str("system"),
        }
    }
}

/// A node of the scope tree: the organization, or a workspace, project or environment in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum ScopeRef {
    Org,
    Workspace(ScopeId),
    Project(ScopeId),
    Environment(ScopeId),
}

/// A resource's type and id, e.g. `conversation:65a1…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourceRef {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

impl ResourceRef {
    /// A reference to the resource `kind:id`.
    pub fn new(kind: impl Into<String>, id: impl Into<String>) -> Self {
        Self { kind: kind.into(), id: id.into() }
    }
}

impl fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
    }
}

/// A resource an application registered with grantry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub org: OrgId,
    #[serde(rename = "ref")]
    pub reference: ResourceRef,
    /// The resource this one belongs to (a data source's agent).
    pub parent: Option<ResourceRef>,
    /// Where in the scope tree the resource hangs.
    pub scope: ScopeRef,
    pub attributes: Attributes,
    pub created_at: Timestamp,
}

/// What a grant gives: a role, or one permission grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GrantTarget {
    Role { role: String },
    Permission { grant: PermissionGrant },
}

/// Where a grant applies: a scope node (and everything below it) or one resource (and its children).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "ref", rename_all = "snake_case")]
pub enum Anchor {
    Scope(ScopeRef),
    Resource(ResourceRef),
}

impl Anchor {
    /// The scope node a grant anchored here counts at: its own, or the organization for a grant
    /// on one resource.
    pub fn scope(&self) -> &ScopeRef {
        match self {
            Self::Scope(s) => s,
            Self::Resource(_) => &ScopeRef::Org,
        }
    }
}

/// How a grant came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantSource {
    Manual,
    AccessRequest,
    TemporaryAccessInstance,
    Import,
    Sync,
    Bootstrap,
    /// A group's assignment to an agent, or to a restricted data source (seed 003).
    Assignment,
}

/// The revocation of a grant or credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub at: Timestamp,
    pub by: Actor,
}

/// A grant: principal × (role | permission grant) × anchor × optional window × justification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub id: GrantId,
    pub org: OrgId,
    pub principal: Principal,
    pub target: GrantTarget,
    pub anchor: Anchor,
    pub starts_at: Timestamp,
    /// `None` for a permanent grant.
    pub expires_at: Option<Timestamp>,
    pub justification: Option<String>,
    pub tags: Vec<String>,
    pub creator: Actor,
    pub source: GrantSource,
    pub created_at: Timestamp,
    pub revoked: Option<Revocation>,
}

impl Grant {
    /// Whether the grant is temporary (has an end).
    pub fn is_temporary(&self) -> bool {
        self.expires_at.is_some()
    }

    /// Whether the grant is in force at `now`: started, not yet expired, not revoked by `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.starts_at <= now && self.expires_at.is_none_or(|end| now < end) && self.revoked.as_ref().is_none_or(|r| now < r.at)
    }

    /// Whether the grant has expired at `now`.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|end| end <= now)
    }

    /// What the grant gives, to whom, where and when: the part the decision index keeps.
    pub fn terms(&self) -> GrantTerms {
        GrantTerms {
            id: self.id.clone(),
            principal: self.principal.clone(),
            target: self.target.clone(),
            anchor: self.anchor.clone(),
            starts_at: self.starts_at,
            expires_at: self.expires_at,
        }
    }
}

/// A live grant as the decision index holds it: what it gives, to whom, where and when. Its
/// justification, tags and creator, and every grant that has ended, stay in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantTerms {
    pub id: GrantId,
    pub principal: Principal,
    pub target: GrantTarget,
    pub anchor: Anchor,
    pub starts_at: Timestamp,
    /// `None` for a permanent grant.
    pub expires_at: Option<Timestamp>,
}

impl GrantTerms {
    /// Whether the grant is temporary (has an end).
    pub fn is_temporary(&self) -> bool {
        self.expires_at.is_some()
    }

    /// Whether the grant is in force at `now`: started and not yet expired (a revoked grant is
    /// no longer in the index).
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.starts_at <= now && self.expires_at.is_none_or(|end| now < end)
    }

    /// Whether the grant has expired at `now`.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|end| end <= now)
    }
}

impl Credential {
    /// Whether it is accepted at `now`: neither revoked nor expired.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none_or(|at| at > now) && self.expires_at.is_none_or(|at| at > now)
    }
}

/// A bearer secret's record: who it authenticates, stored only as a hash of the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    pub id: TokenId,
    pub org: OrgId,
    pub principal: Principal,
    /// The SHA-256 of the secret, in hex; the secret itself is never stored.
    pub secret_hash: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    /// Who else held the secret when it was made: whoever minted it for its principal (or, for a
    /// credential made with such a one, that minter), absent for one its principal made with a
    /// credential of their own. Deciding access requests needs a credential without it, so that
    /// nobody decides as someone they minted a token for (see `authz::requests`).
    #[serde(default)]
    pub issued_by: Option<Principal>,
    /// Who else could have held the lineage this credential comes from: whoever minted a token that
    /// was exchanged on the way to it, and theirs in turn. An approval with it counts for them
    /// too (see `authz::requests`).
    #[serde(default)]
    pub custody: Vec<Principal>,
}
