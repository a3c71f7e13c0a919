//! The rest of the model's records: the scope tree's nodes and API keys.

use crate::ids::{ApiKeyId, OrgId, ScopeId, UserId};
use crate::model::{Actor, ScopeRef};
use jiff::Timestamp;
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
    /// The user who handed their access to an agent through this key: it never allows what they
    /// may not do now, and ends with their access (see `OrgState::check`).
    #[serde(default)]
    pub delegated_by: Option<UserId>,
    /// When the key ends, if it was made for a while (a delegation's duration): its secrets,
    /// rotated ones included, and its scopes, added ones included, end then too.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
}
