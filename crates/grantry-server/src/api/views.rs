//! What the API sends back: the records of the core in the API's (Amigo-compatible) shapes.

use grantry_core::attr::AttrValue;
use grantry_core::audit::AuditEvent;
use grantry_core::index::OrgState;
use grantry_core::model::{Anchor, Grant, GrantTarget, Principal, Resource, User};
use grantry_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A permission with its conditions, as in `{"permission_name": …, "conditions": {…}}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PermissionGrantView {
    pub permission_name: String,
    /// By attribute name: `{"type": "Equals", "value": …}`, `{"type": "In", "values": […]}` or
    /// `{"type": "NotEquals", "value": …}`.
    #[schema(value_type = Object)]
    #[serde(default = "empty_object")]
    pub conditions: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// Where a grant stands at the time of the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantStatus {
    Active,
    Pending,
    Expired,
    Revoked,
}

/// A temporary permission grant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GrantView {
    pub id: String,
    pub user_id: Option<String>,
    pub user_email: Option<String>,
    pub permission_grant: Option<PermissionGrantView>,
    pub role: Option<String>,
    /// Where the grant applies: `org`, `WS`, `WS/PRJ`, or a resource `TYPE:ID`.
    pub scope: String,
    pub justification: Option<String>,
    pub tags: Vec<String>,
    pub creator: String,
    pub source: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    pub is_expired: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
    pub status: GrantStatus,
}

impl GrantView {
    /// The view of `g` at `now`, with the grantee's email from `org`.
    pub fn new(g: &Grant, org: &OrgState, now: Timestamp) -> Self {
        let user = match &g.principal {
            Principal::User(id) => org.user(id),
            Principal::Group(_) | Principal::ApiKey(_) => None,
        };
        let (permission_grant, role) = match &g.target {
            GrantTarget::Permission { grant } => (
                Some(PermissionGrantView {
                    permission_name: grant.permission.clone(),
                    conditions: serde_json::to_value(&grant.conditions).unwrap_or_default(),
                }),
                None,
            ),
            GrantTarget::Role { role } => (None, Some(role.clone())),
        };
        let revoked_at = g.revoked.as_ref().map(|r| r.at);
        let status = if revoked_at.is_some_and(|at| at <= now) {
            GrantStatus::Revoked
        } else if g.is_expired(now) {
            GrantStatus::Expired
        } else if now < g.starts_at {
            GrantStatus::Pending
        } else {
            GrantStatus::Active
        };
        Self {
            id: g.id.0.clone(),
            user_id: user.map(|u| u.id.0.clone()),
            user_email: user.map(|u| u.email.clone()),
            permission_grant,
            role,
            scope: match &g.anchor {
                Anchor::Scope(s) => org.scope_path(s),
                Anchor::Resource(r) => r.to_string(),
            },
            justification: g.justification.clone(),
            tags: g.tags.clone(),
            creator: g.creator.to_string(),
            source: serde_json::to_value(g.source).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
            created_at: g.created_at,
            expires_at: g.expires_at,
            is_expired: g.is_expired(now),
            revoked_at,
            status,
        }
    }
}

/// A user.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub status: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// The roles the user holds now, at the organization.
    pub roles: Vec<String>,
}

impl UserView {
    /// The view of `u`, with the roles it holds at `now`.
    pub fn new(u: &User, org: &OrgState, now: Timestamp) -> Self {
        let roles = org
            .grants_of(&Principal::User(u.id.clone()))
            .iter()
            .filter(|g| g.is_active(now))
            .filter_map(|g| match &g.target {
                GrantTarget::Role { role } => Some(role.clone()),
                GrantTarget::Permission { .. } => None,
            })
            .collect();
        Self { id: u.id.0.clone(), email: u.email.clone(), status: u.status.as_str().to_owned(), created_at: u.created_at, roles }
    }
}

/// A registered conversation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationView {
    pub id: String,
    /// The owner: the user the conversation belongs to.
    pub user_id: String,
    pub org_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// The conversation's page, relative to the server's URL.
    pub url_path: String,
}

impl ConversationView {
    /// The view of conversation `r` in the organization with slug `org_slug`.
    pub fn new(r: &Resource, org_slug: &str) -> Self {
        let attr = |name: &str| match r.attributes.get(name) {
            Some(grantry_core::attr::AttrValue::Str(s)) => s.clone(),
            _ => String::new(),
        };
        Self {
            id: r.reference.id.clone(),
            user_id: attr("conversation_user_id"),
            org_id: r.org.0.clone(),
            created_at: r.created_at,
            url_path: crate::service::conversation_url_path(org_slug, &r.reference.id),
        }
    }
}

/// An issued token; the secret is shown only in this response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenView {
    pub id: String,
    pub token: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    /// The revision that holds the token.
    pub revision: u64,
}

impl TokenView {
    /// The view of `t`, issued at `revision`.
    pub fn new(t: &crate::service::IssuedToken, revision: u64) -> Self {
        Self { id: t.id.0.clone(), token: t.secret.clone(), expires_at: t.credential.expires_at, revision }
    }
}

/// A token as listed: never its secret (only its hash is stored).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CredentialView {
    pub id: String,
    /// Whom it acts as: `user:ID` or `api_key:ID`.
    pub principal: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    /// When it stops (or stopped) being accepted; after a key rotation, the end of its grace period.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
    /// `active`, `retiring` (working until `revoked_at`: a rotated key's old secret in its grace
    /// period), `expired` or `revoked`, now.
    pub status: String,
    /// Who minted it, when someone other than its principal did (`user:ID`): such a token decides
    /// no access request until exchanged (`POST /v1/{org}/tokens/exchange`).
    #[serde(default)]
    pub issued_by: Option<String>,
    /// Who else could have held the lineage it comes from (minted a token exchanged on the way to
    /// it): an approval given with it counts for them too.
    #[serde(default)]
    pub custody: Vec<String>,
}

impl CredentialView {
    /// The view of `c` at `now`.
    pub fn new(c: &grantry_core::model::Credential, now: Timestamp) -> Self {
        let status = if c.revoked_at.is_some_and(|at| at <= now) {
            "revoked"
        } else if c.expires_at.is_some_and(|at| at <= now) {
            "expired"
        } else if c.revoked_at.is_some() {
            "retiring"
        } else {
            "active"
        };
        Self {
            id: c.id.0.clone(),
            principal: c.principal.to_string(),
            created_at: c.created_at,
            expires_at: c.expires_at,
            revoked_at: c.revoked_at,
            status: status.to_owned(),
            issued_by: c.issued_by.as_ref().map(ToString::to_string),
            custody: c.custody.iter().map(ToString::to_string).collect(),
        }
    }
}

/// The error body every failing call returns.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable code, a message saying how to fix it, and details.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// An audit event as stored and chained, with the emails of the users it names (as they are now).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEventView {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub event: AuditEvent,
    /// The actor's email, when the actor is a user.
    pub actor_email: Option<String>,
    /// The affected principal's email, when it is a user.
    pub principal_email: Option<String>,
}

/// A trace as the caller may see it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TraceView {
    pub id: String,
    /// `WS/PRJ/ENV`.
    pub environment: String,
    /// The environment's production flag at capture; fixed for the trace's life.
    pub is_prod: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl TraceView {
    /// The view of `trace` in organization `o`.
    pub fn new(o: &OrgState, trace: &Resource) -> Self {
        Self {
            id: trace.reference.id.clone(),
            environment: o.scope_path(&trace.scope),
            is_prod: trace.attributes.get("is_prod") == Some(&AttrValue::Bool(true)),
            created_at: trace.created_at,
        }
    }
}
