//! The rest of the model's records: the scope tree's nodes, groups and their members, API keys,
//! and access requests. Groups and access requests are not used yet; the issues for seeds 003–004
//! give them changes, storage and endpoints.

use crate::catalogue::PermissionGrant;
use crate::ids::{ApiKeyId, GrantId, GroupId, OrgId, ScopeId, UserId};
use crate::model::{Actor, ScopeRef};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// The kind of a scope node below the organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    Workspace,
    Project,
    Environment,
}

/// A workspace, project or environment (seed 002). Slugs are unique within the parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeNode {
    pub id: ScopeId,
    pub org: OrgId,
    pub kind: ScopeKind,
    pub slug: String,
    /// The organization for a workspace, a workspace for a project, a project for an environment.
    pub parent: ScopeRef,
    /// Environments only: whether traces captured here are production traces.
    pub is_production: bool,
    pub created_at: Timestamp,
}

impl ScopeKind {
    /// The kind's name: `workspace`, `project` or `environment`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Workspace => "workspace",
            Self::Project => "project",
            Self::Environment => "environment",
        }
    }
}

impl ScopeNode {
    /// The reference to this node in the scope tree.
    pub fn as_ref(&self) -> ScopeRef {
        match self.kind {
            ScopeKind::Workspace => ScopeRef::Workspace(self.id.clone()),
            ScopeKind::Project => ScopeRef::Project(self.id.clone()),
            ScopeKind::Environment => ScopeRef::Environment(self.id.clone()),
        }
    }
}

/// A member's role within a group (seed 003): a manager may add and remove members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupRole {
    Member,
    Manager,
}

/// A group of users; grants to a group reach its members and the members of its child groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: GroupId,
    pub org: OrgId,
    pub name: String,
    pub description: String,
    pub parent: Option<GroupId>,
    /// Set for groups kept in step with an identity provider (SSO group sync).
    pub external_id: Option<String>,
    pub created_at: Timestamp,
}

/// One user's membership of one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMember {
    pub group: GroupId,
    pub user: UserId,
    pub role: GroupRole,
}

/// An API key of a project (seed 002): a principal that acts only within its project and its
/// scopes. Its secret is a [`crate::model::Credential`] whose principal is this key; each of its
/// scopes is a permanent grant to the key anchored at the project, so the decision treats a key
/// like any principal and a scope edit is a grant or a revocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub org: OrgId,
    pub name: String,
    /// The project the key belongs to and acts within.
    pub project: ScopeId,
    pub created_by: Actor,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// Where an access request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Approved,
    Denied,
    Withdrawn,
}

/// A request for grants that policy says need approval; approving it makes the grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRequest {
    pub id: GrantId,
    pub org: OrgId,
    pub requester: UserId,
    pub for_user: UserId,
    pub grants: Vec<PermissionGrant>,
    pub duration: SignedDuration,
    pub justification: String,
    pub status: RequestStatus,
    pub decided_by: Option<Actor>,
    pub created_at: Timestamp,
    /// The grants made when it was approved.
    pub granted: Vec<GrantId>,
}
