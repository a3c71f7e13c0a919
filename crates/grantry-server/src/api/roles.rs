//! Roles at a tier (seed 002): `POST /roles/grants` and `POST /roles/revocations` name a user by
//! email, a role and where it is held; `GET /roles/matrix` is the team page — every user's roles
//! at each tier, with since when and until when.

use super::auth::Caller;
use super::extract::ApiJson;
use super::views::GrantView;
use crate::error::Result;
use crate::service::ServiceError;
use crate::service::{self, RoleChange, TierSel, Window};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use grantry_core::authz::Action;
use grantry_core::catalogue::perm;
use grantry_core::model::{Anchor, Grant, GrantTarget, Principal};
use grantry_core::Timestamp;
use grantry_store::{GrantFilter, GrantState};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new().route("/roles/grants", post(grant)).route("/roles/revocations", post(revoke)).route("/roles/matrix", get(matrix))
}

/// Where a role is held.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TierInput {
    Organization,
    Workspace,
    Project,
}

/// A role, a user and a tier node.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleTarget {
    #[schema(max_length = 254, pattern = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")]
    pub user_email: String,
    /// e.g. `project_admin`; see `GET /catalogue`.
    pub role: String,
    pub tier: TierInput,
    /// `WS` for a workspace, `WS/PRJ` for a project; absent for the organization.
    pub path: Option<String>,
}

impl RoleTarget {
    fn change(self) -> Result<RoleChange> {
        let at = match (self.tier, self.path) {
            (TierInput::Organization, None) => TierSel::Org,
            (TierInput::Workspace, Some(p)) => TierSel::Workspace(p),
            (TierInput::Project, Some(p)) => TierSel::Project(p),
            (TierInput::Organization, Some(_)) => {
                return Err(ServiceError::Invalid {
                    field: "path".into(),
                    message: "the organization tier takes no path; leave it out".into(),
                }
                .into());
            }
            (_, None) => {
                return Err(ServiceError::Invalid {
                    field: "path".into(),
                    message: "name the node: `WS` for a workspace, `WS/PRJ` for a project".into(),
                }
                .into());
            }
        };
        Ok(RoleChange { email: self.user_email, role: self.role, at })
    }
}

/// A role to grant, permanently or for a window. (The fields of [`RoleTarget`] are repeated rather
/// than flattened: serde cannot deny unknown fields through `flatten`.)
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRole {
    #[schema(max_length = 254, pattern = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")]
    pub user_email: String,
    pub role: String,
    pub tier: TierInput,
    /// `WS` for a workspace, `WS/PRJ` for a project; absent for the organization.
    pub path: Option<String>,
    /// ISO 8601, e.g. `PT4H`; the role then ends on its own.
    #[schema(max_length = 64, pattern = r"^P")]
    pub duration: Option<String>,
    /// The end of the window, RFC 3339 (instead of `duration`).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<Timestamp>,
    #[schema(min_length = 1, max_length = 10000)]
    pub justification: Option<String>,
}

/// A granted role.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoleGrantedView {
    pub grant: GrantView,
    /// The permanent roles at that node the new one replaced.
    pub replaced: Vec<GrantView>,
    /// Whether the user's effective permission set there changed (an `rbac_grant` row was written).
    pub effective_changed: bool,
    pub revision: u64,
}

/// Revoked roles.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoleRevokedView {
    pub revoked: Vec<GrantView>,
    pub effective_changed: bool,
    pub revision: u64,
}

#[utoipa::path(post, path = "/v1/{org}/roles/grants", request_body = GrantRole, params(("org" = String, Path)),
    responses((status = 201, body = RoleGrantedView), (status = 403, body = super::views::ErrorBody), (status = 422, body = super::views::ErrorBody)))]
pub(super) async fn grant(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<GrantRole>,
) -> Result<(StatusCode, Json<RoleGrantedView>)> {
    let window = match (b.duration, b.until) {
        (None, None) => Window::Permanent,
        (Some(d), None) => Window::For(d),
        (None, Some(t)) => Window::Until(t),
        (Some(_), Some(_)) => {
            return Err(
                ServiceError::Invalid { field: "until".into(), message: "give either `duration` or `until`, not both".into() }.into()
            )
        }
    };
    let change = RoleTarget { user_email: b.user_email, role: b.role, tier: b.tier, path: b.path }.change()?;
    let (revision, out) = service::grant_role(&state, &caller.ctx, &change, &window, b.justification.as_deref()).await?;
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    let now = caller.ctx.now;
    let body = RoleGrantedView {
        grant: GrantView::new(&out.grant, o, now),
        replaced: out.replaced.iter().map(|g| GrantView::new(g, o, now)).collect(),
        effective_changed: out.effective_changed,
        revision,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

#[utoipa::path(post, path = "/v1/{org}/roles/revocations", request_body = RoleTarget, params(("org" = String, Path)),
    responses((status = 200, body = RoleRevokedView), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<RoleTarget>,
) -> Result<Json<RoleRevokedView>> {
    let (revision, revoked, effective_changed) = service::revoke_role(&state, &caller.ctx, &b.change()?).await?;
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    let revoked = revoked.iter().map(|g| GrantView::new(g, o, caller.ctx.now)).collect();
    Ok(Json(RoleRevokedView { revoked, effective_changed, revision }))
}

/// One role held.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HeldRole {
    pub role: String,
    /// `organization`, `workspace` or `project`.
    pub tier: String,
    /// `org`, `WS` or `WS/PRJ`.
    pub scope: String,
    pub grant_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub since: Timestamp,
    /// The end of a time-bounded role.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<Timestamp>,
    pub granted_by: String,
}

/// A temporary permission grant in force, as the matrix shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TemporaryAccess {
    pub grant_id: String,
    pub permission: String,
    /// The conditions, as `attr = value` / `attr in [...]`.
    pub conditions: Vec<String>,
    #[schema(value_type = String, format = DateTime)]
    pub until: Timestamp,
}

/// One user's row of the matrix.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MatrixRow {
    pub user_id: String,
    pub email: String,
    pub status: String,
    pub roles: Vec<HeldRole>,
    /// Where the user reads production traces (`traces:read:prod`) through these roles.
    pub prod_traces: Vec<String>,
    /// Temporary permission grants in force, with their ends.
    pub temporary: Vec<TemporaryAccess>,
}

/// The team page: every user's roles in force now, at every tier.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RoleMatrix {
    pub rows: Vec<MatrixRow>,
}

#[utoipa::path(get, path = "/v1/{org}/roles/matrix", params(("org" = String, Path)), responses((status = 200, body = RoleMatrix)))]
pub(super) async fn matrix(State(state): State<AppState>, caller: Caller) -> Result<Json<RoleMatrix>> {
    let sees_grants = {
        let ix = state.index();
        service::org(&ix, &caller.ctx.org)?;
        caller.ctx.authorize(&ix, Action::ListUsers)?;
        // Others' temporary grants show to those who may list everyone's grants.
        caller.ctx.authorize(&ix, Action::ListGrants { of: None }).is_ok()
    };
    // Who granted each role is in the store's records, not the index.
    let live = state.store.grants(&caller.ctx.org, GrantFilter { state: Some(GrantState::Live), ..GrantFilter::default() }).await?;
    let mut held: HashMap<&Principal, Vec<&Grant>> = HashMap::new();
    for g in &live {
        held.entry(&g.principal).or_default().push(g);
    }
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    let now = caller.ctx.now;
    let cat = ix.catalogue();
    let rows = o
        .users()
        .into_iter()
        .map(|u| {
            let principal = Principal::User(u.id.clone());
            let grants = held.get(&principal).map_or(&[][..], Vec::as_slice);
            let mut roles: Vec<HeldRole> = grants
                .iter()
                .filter(|g| g.is_active(now))
                .filter_map(|g| {
                    let GrantTarget::Role { role } = &g.target else { return None };
                    let Anchor::Scope(scope) = &g.anchor else { return None };
                    Some(HeldRole {
                        role: role.clone(),
                        tier: cat.find_role(role).map_or("", |r| r.tier.name()).to_owned(),
                        scope: o.scope_path(scope),
                        grant_id: g.id.0.clone(),
                        since: g.starts_at,
                        until: g.expires_at,
                        granted_by: g.creator.to_string(),
                    })
                })
                .collect();
            let rank = |h: &HeldRole| ["organization", "workspace", "project"].iter().position(|t| *t == h.tier);
            roles.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.scope.cmp(&b.scope)).then_with(|| a.role.cmp(&b.role)));
            let mut prod_traces: Vec<String> = roles
                .iter()
                .filter(|h| cat.find_role(&h.role).is_some_and(|r| r.permission_names().contains(perm::TRACES_READ_PROD)))
                .map(|h| h.scope.clone())
                .collect();
            prod_traces.dedup();
            let mine = caller.ctx.actor == principal;
            let mut temporary: Vec<TemporaryAccess> = grants
                .iter()
                .filter(|g| (sees_grants || mine) && g.is_active(now))
                .filter_map(|g| {
                    let (GrantTarget::Permission { grant }, Some(until)) = (&g.target, g.expires_at) else { return None };
                    let conditions = grant.conditions.iter().map(|(attr, c)| format!("{attr} {c}")).collect();
                    Some(TemporaryAccess { grant_id: g.id.0.clone(), permission: grant.permission.clone(), conditions, until })
                })
                .collect();
            // Soonest to end first; then by permission, so the order does not follow random ids.
            temporary.sort_by(|a, b| (a.until, &a.permission, &a.grant_id).cmp(&(b.until, &b.permission, &b.grant_id)));
            let status = serde_json::to_value(u.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            MatrixRow { user_id: u.id.0.clone(), email: u.email.clone(), status, roles, prod_traces, temporary }
        })
        .collect();
    Ok(Json(RoleMatrix { rows }))
}
