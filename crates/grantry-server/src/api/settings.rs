//! `GET /settings` (anyone in the organization) and `PATCH /settings` (`Organization:Manage`):
//! the organization's policy settings.

use super::auth::Caller;
use super::extract::ApiJson;
use crate::error::Result;
use crate::service::{self, PolicyPatch};
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use grantry_core::duration::format_iso;
use grantry_core::model::Policy;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new().route("/settings", get(show).patch(update))
}

/// The organization's settings, durations in ISO 8601.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SettingsView {
    /// The longest temporary permission grant.
    pub max_grant_duration: String,
    /// The duration of a grant when none is given.
    pub default_grant_duration: String,
    /// The longest time-bounded role.
    pub max_role_duration: String,
    /// The fewest characters a justification may have.
    pub min_justification_chars: usize,
    /// The most characters a justification may have.
    pub max_justification_chars: usize,
    /// How many days audit events are kept (five years by default).
    pub audit_retention_days: u32,
    /// How deep groups may nest (a top-level group is at depth 1).
    pub max_group_depth: u32,
    /// How many days a review of an assignment or a membership holds (90: quarterly).
    pub review_period_days: u32,
    /// The most users one temporary access instance grants (50).
    pub temp_access_max_users: u32,
    /// The most agent pools one temporary access instance grants (20).
    pub temp_access_max_pools: u32,
    /// The longest temporary access instance, ISO 8601 (P31D).
    pub temp_access_max_duration: String,
    /// The most temporary access instances active at once (100).
    pub temp_access_max_active: u32,
    /// How many days an ended access request stays listed (365).
    pub request_retention_days: u32,
    /// The revision the settings are current to.
    pub revision: u64,
}

impl SettingsView {
    fn new(p: &Policy, revision: u64) -> Self {
        Self {
            max_grant_duration: format_iso(p.max_grant_duration),
            default_grant_duration: format_iso(p.default_grant_duration),
            max_role_duration: format_iso(p.max_role_duration),
            min_justification_chars: p.min_justification_chars,
            max_justification_chars: p.max_justification_chars,
            audit_retention_days: p.audit_retention_days,
            max_group_depth: p.max_group_depth,
            review_period_days: p.review_period_days,
            temp_access_max_users: p.temp_access_max_users,
            temp_access_max_pools: p.temp_access_max_pools,
            temp_access_max_duration: format_iso(p.temp_access_max_duration),
            temp_access_max_active: p.temp_access_max_active,
            request_retention_days: p.request_retention_days,
            revision,
        }
    }
}

/// The settings to change; the others stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSettings {
    /// The longest temporary permission grant, ISO 8601 (at most P366D).
    pub max_grant_duration: Option<String>,
    /// The window of a grant asked for without a duration, ISO 8601 (at most the maximum).
    pub default_grant_duration: Option<String>,
    /// The longest time-bounded role, ISO 8601 (at most P366D).
    pub max_role_duration: Option<String>,
    pub audit_retention_days: Option<u32>,
    /// The shortest justification, in characters (at least 1, at most the longest).
    #[schema(minimum = 1, maximum = 10000)]
    pub min_justification_chars: Option<usize>,
    /// The longest justification, in characters (up to 10000).
    #[schema(minimum = 1, maximum = 10000)]
    pub max_justification_chars: Option<usize>,
    /// How deep groups may nest, 1 to 10 (not below the deepest group now).
    #[schema(minimum = 1, maximum = 10)]
    pub max_group_depth: Option<u32>,
    /// How many days a review holds before the next is due, 7 to 730.
    #[schema(minimum = 7, maximum = 730)]
    pub review_period_days: Option<u32>,
    /// The most users one temporary access instance grants, 1 to 1000.
    #[schema(minimum = 1, maximum = 1000)]
    pub temp_access_max_users: Option<u32>,
    /// The most agent pools one temporary access instance grants, 1 to 200.
    #[schema(minimum = 1, maximum = 200)]
    pub temp_access_max_pools: Option<u32>,
    /// The longest temporary access instance, ISO 8601 (at most P366D).
    pub temp_access_max_duration: Option<String>,
    /// The most temporary access instances active at once, 1 to 10000.
    #[schema(minimum = 1, maximum = 10000)]
    pub temp_access_max_active: Option<u32>,
    /// How many days an ended access request stays listed, 7 to 36500 (its events stay in the
    /// audit log for the audit retention).
    #[schema(minimum = 7, maximum = 36500)]
    pub request_retention_days: Option<u32>,
}

#[utoipa::path(get, path = "/v1/{org}/settings", params(("org" = String, Path)), responses((status = 200, body = SettingsView)))]
pub(super) async fn show(State(state): State<AppState>, caller: Caller) -> Result<Json<SettingsView>> {
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    Ok(Json(SettingsView::new(&o.org().policy, ix.revision())))
}

#[utoipa::path(patch, path = "/v1/{org}/settings", request_body = UpdateSettings, params(("org" = String, Path)),
    responses((status = 200, body = SettingsView), (status = 403, body = super::views::ErrorBody), (status = 422, body = super::views::ErrorBody)))]
pub(super) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<UpdateSettings>,
) -> Result<Json<SettingsView>> {
    let patch = PolicyPatch {
        max_grant_duration: b.max_grant_duration,
        default_grant_duration: b.default_grant_duration,
        max_role_duration: b.max_role_duration,
        audit_retention_days: b.audit_retention_days,
        min_justification_chars: b.min_justification_chars,
        max_justification_chars: b.max_justification_chars,
        max_group_depth: b.max_group_depth,
        review_period_days: b.review_period_days,
        temp_access_max_users: b.temp_access_max_users,
        temp_access_max_pools: b.temp_access_max_pools,
        temp_access_max_duration: b.temp_access_max_duration,
        temp_access_max_active: b.temp_access_max_active,
        request_retention_days: b.request_retention_days,
    };
    let (revision, policy) = service::update_policy(&state, &caller.ctx, &patch).await?;
    Ok(Json(SettingsView::new(&policy, revision)))
}
