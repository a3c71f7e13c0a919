//! `POST /groups:bulk`: users and agents added to or removed from several groups in one call and
//! one transaction (seed 003's bulk operations) — every user and every agent with every group —
//! or, with `dryRun`, what it would do. Answered like an import: a row per (group, user or agent).

use super::assignments::Terms;
use super::auth::Caller;
use super::extract::ApiJson;
use super::imports::ImportView;
use crate::error::Result;
use crate::service::{self, BulkSpec, ServiceError};
use crate::state::AppState;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use grantry_core::model::GroupRole;
use grantry_core::window::{self, Edge};
use serde::Deserialize;
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new().route("/groups:bulk", post(bulk))
}

/// A change across several groups.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BulkBody {
    /// The groups (ids or names), 1 to 100.
    pub group_ids: Vec<String>,
    /// Users (ids or emails) added to every group.
    #[serde(default)]
    pub add_user_ids: Vec<String>,
    /// Users taken out of every group (one not in a group is left as it is).
    #[serde(default)]
    pub remove_user_ids: Vec<String>,
    /// The added users' role: `MEMBER` (the default) or `MANAGER`.
    pub role: Option<String>,
    /// The added memberships' last day, time or instant; none: no end.
    pub member_end_date: Option<String>,
    /// Agents (ids or names) every group is assigned to.
    #[serde(default)]
    pub add_agent_ids: Vec<String>,
    /// Agents every group's assignment to is taken away (one not assigned is left as it is).
    #[serde(default)]
    pub remove_agent_ids: Vec<String>,
    /// The added assignments' level: `VIEW_AND_USE` (the default) or `EDIT`.
    pub permission: Option<String>,
    /// When the added assignments begin; now if absent.
    pub start_date: Option<String>,
    /// The added assignments' last day, time or instant; none: no end.
    pub end_date: Option<String>,
    /// The IANA timezone every date is read in (UTC unless given).
    pub timezone: Option<String>,
    /// Plan and answer, writing nothing.
    #[serde(default, alias = "dry_run")]
    pub dry_run: bool,
}

#[utoipa::path(post, path = "/v1/{org}/groups:bulk", request_body = BulkBody, params(("org" = String, Path)),
    responses((status = 200, body = ImportView), (status = 403, body = super::views::ErrorBody), (status = 422, body = super::views::ErrorBody)))]
pub(super) async fn bulk(State(state): State<AppState>, caller: Caller, ApiJson(b): ApiJson<BulkBody>) -> Result<Json<ImportView>> {
    let role: GroupRole = match b.role.as_deref() {
        None => GroupRole::Member,
        Some(text) => text.parse().map_err(|message| ServiceError::Invalid { field: "role".into(), message })?,
    };
    let terms = Terms {
        permission: b.permission.unwrap_or_else(|| "VIEW_AND_USE".to_owned()),
        start_date: b.start_date,
        end_date: b.end_date,
        timezone: b.timezone,
    };
    let (level, window) = terms.read()?;
    let zone = window::zone("timezone", terms.timezone.as_deref().map_or("UTC", str::trim))?;
    let member_until = b.member_end_date.as_deref().map(|t| window::instant("memberEndDate", t, &zone, Edge::End)).transpose()?;
    let spec = BulkSpec {
        groups: b.group_ids,
        add_users: b.add_user_ids,
        remove_users: b.remove_user_ids,
        role,
        member_until,
        add_agents: b.add_agent_ids,
        remove_agents: b.remove_agent_ids,
        level,
        window,
    };
    let report = service::bulk_change(&state, &caller.ctx, &spec, b.dry_run).await?;
    Ok(Json(ImportView::new(report)))
}
