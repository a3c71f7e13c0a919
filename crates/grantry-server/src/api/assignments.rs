//! Assignments of groups to agents, in seed 003's shapes and from either side:
//! `POST /ai-agent-managers/{agentId}/groups` `{"groupId", "permission", "startDate", "endDate"}`
//! (plus an optional IANA `timezone` the dates are read in, UTC unless given), `GET` the same to
//! list, `PATCH|DELETE /ai-agent-managers/{agentId}/groups/{groupId}` to change or remove one; and
//! `GET|POST /groups/{id}/agents` from the group's side. Agents and groups are named by id or name.

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath};
use crate::error::Result;
use crate::service::{self, Assignment, Named, ServiceError, Span};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use grantry_core::authz::Action;
use grantry_core::model::Level;
use grantry_core::window::{self, Edge};
use grantry_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ai-agent-managers/{agent}/groups", get(of_agent).post(assign))
        .route("/ai-agent-managers/{agent}/groups/{group}", patch(change).delete(unassign))
        .route("/groups/{id}/agents", get(of_group).post(assign_from_group))
}

/// One group's assignment to one agent.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentView {
    pub agent_id: String,
    pub agent_name: String,
    pub group_id: String,
    pub group_name: String,
    /// `VIEW_AND_USE` or `EDIT`.
    pub permission: String,
    #[schema(value_type = String, format = DateTime)]
    pub start_date: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end_date: Option<Timestamp>,
    /// The timezone the window was given in, if one was.
    pub timezone: Option<String>,
    /// Whether the window is open now.
    pub active: bool,
    /// The grant that carries the assignment.
    pub grant_id: String,
}

impl AssignmentView {
    pub(super) fn new(a: &Assignment, now: Timestamp) -> Self {
        Self {
            agent_id: a.agent.id.clone(),
            agent_name: a.agent.name.clone(),
            group_id: a.group.id.0.clone(),
            group_name: a.group.name.clone(),
            permission: a.level.name().to_owned(),
            start_date: a.grant.starts_at,
            end_date: a.grant.expires_at,
            timezone: a.zone.clone(),
            active: a.grant.is_active(now),
            grant_id: a.grant.id.0.clone(),
        }
    }
}

/// Assignments.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssignmentList {
    pub assignments: Vec<AssignmentView>,
}

/// An assignment as written, and the revision that holds it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssignmentWritten {
    pub assignment: AssignmentView,
    pub revision: u64,
}

/// A group to assign to the agent (seed 003's shape).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AssignGroup {
    /// The group's id or name.
    pub group_id: String,
    /// `VIEW_AND_USE` or `EDIT`.
    pub permission: String,
    /// When access begins: a date (from the start of that day), a time, or an instant; now if absent.
    pub start_date: Option<String>,
    /// The last day of access (through the end of that day), a time, or an instant; none: no end.
    pub end_date: Option<String>,
    /// The IANA timezone the dates are read in (UTC unless given).
    pub timezone: Option<String>,
}

impl AssignGroup {
    fn terms(self) -> (String, Terms) {
        (
            self.group_id,
            Terms { permission: self.permission, start_date: self.start_date, end_date: self.end_date, timezone: self.timezone },
        )
    }
}

/// An agent to assign the group to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AssignAgent {
    /// The agent's id or name.
    pub agent_id: String,
    /// `VIEW_AND_USE` or `EDIT`.
    pub permission: String,
    /// When access begins: a date (from the start of that day), a time, or an instant; now if absent.
    pub start_date: Option<String>,
    /// The last day of access (through the end of that day), a time, or an instant; none: no end.
    pub end_date: Option<String>,
    /// The IANA timezone the dates are read in (UTC unless given).
    pub timezone: Option<String>,
}

impl AssignAgent {
    fn terms(self) -> (String, Terms) {
        (
            self.agent_id,
            Terms { permission: self.permission, start_date: self.start_date, end_date: self.end_date, timezone: self.timezone },
        )
    }
}

/// The level and window of an assignment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Terms {
    /// `VIEW_AND_USE` or `EDIT`.
    pub permission: String,
    /// When access begins: a date (`2024-12-01`, from the start of that day), a time, or an instant; now if absent.
    pub start_date: Option<String>,
    /// The last day of access (`2025-01-15`, through the end of that day), a time, or an instant; none: no end.
    pub end_date: Option<String>,
    /// The IANA timezone the dates are read in (UTC unless given).
    pub timezone: Option<String>,
}

impl Terms {
    pub(super) fn read(&self) -> Result<(Level, Span)> {
        let level: Level = self.permission.parse().map_err(|message| ServiceError::Invalid { field: "permission".into(), message })?;
        let zone_name = self.timezone.as_deref().map(str::trim);
        let zone = window::zone("timezone", zone_name.unwrap_or("UTC"))?;
        let start = self.start_date.as_deref().map(|t| window::instant("startDate", t, &zone, Edge::Start)).transpose()?;
        let end = self.end_date.as_deref().map(|t| window::instant("endDate", t, &zone, Edge::End)).transpose()?;
        Ok((level, Span { start, end, zone: zone_name.map(str::to_owned) }))
    }
}

async fn views(state: &AppState, caller: &Caller, list: Vec<Assignment>) -> Result<Vec<AssignmentView>> {
    let list = service::with_zones(state, &caller.ctx.org, list).await?;
    Ok(list.iter().map(|a| AssignmentView::new(a, caller.ctx.now)).collect())
}

#[utoipa::path(get, path = "/v1/{org}/ai-agent-managers/{agent}/groups",
    params(("org" = String, Path), ("agent" = String, Path, description = "the agent's id or name")),
    responses((status = 200, body = AssignmentList), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn of_agent(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, agent)): ApiPath<(String, String)>,
) -> Result<Json<AssignmentList>> {
    let list = {
        let ix = state.index();
        let o = service::org(&ix, &caller.ctx.org)?;
        let (a, _) = service::visible_agent(&ix, &caller.ctx, &agent)?;
        caller.ctx.authorize(&ix, Action::ListGroups)?;
        service::assignments_of_agent(o, &a)
    };
    Ok(Json(AssignmentList { assignments: views(&state, &caller, list).await? }))
}

#[utoipa::path(post, path = "/v1/{org}/ai-agent-managers/{agent}/groups", request_body = AssignGroup,
    params(("org" = String, Path), ("agent" = String, Path, description = "the agent's id or name")),
    responses((status = 201, body = AssignmentWritten), (status = 404, body = super::views::ErrorBody), (status = 409, body = super::views::ErrorBody)))]
pub(super) async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, agent)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<AssignGroup>,
) -> Result<(StatusCode, Json<AssignmentWritten>)> {
    let (group, terms) = b.terms();
    let (level, span) = terms.read()?;
    let (revision, a) = service::assign(&state, &caller.ctx, &agent, &group, level, &span, Named::GroupInBody).await?;
    Ok((StatusCode::CREATED, Json(AssignmentWritten { assignment: AssignmentView::new(&a, caller.ctx.now), revision })))
}

#[utoipa::path(post, path = "/v1/{org}/groups/{id}/agents", request_body = AssignAgent,
    params(("org" = String, Path), ("id" = String, Path, description = "the group's id or name")),
    responses((status = 201, body = AssignmentWritten), (status = 404, body = super::views::ErrorBody), (status = 409, body = super::views::ErrorBody)))]
pub(super) async fn assign_from_group(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, group)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<AssignAgent>,
) -> Result<(StatusCode, Json<AssignmentWritten>)> {
    let (agent, terms) = b.terms();
    let (level, span) = terms.read()?;
    let (revision, a) = service::assign(&state, &caller.ctx, &agent, &group, level, &span, Named::AgentInBody).await?;
    Ok((StatusCode::CREATED, Json(AssignmentWritten { assignment: AssignmentView::new(&a, caller.ctx.now), revision })))
}

#[utoipa::path(patch, path = "/v1/{org}/ai-agent-managers/{agent}/groups/{group}", request_body = Terms,
    params(("org" = String, Path), ("agent" = String, Path, description = "the agent's id or name"), ("group" = String, Path, description = "the group's id or name")),
    responses((status = 200, body = AssignmentWritten), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn change(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, agent, group)): ApiPath<(String, String, String)>,
    ApiJson(b): ApiJson<Terms>,
) -> Result<Json<AssignmentWritten>> {
    let (level, span) = b.read()?;
    let (revision, a) = service::change_assignment(&state, &caller.ctx, &agent, &group, level, &span).await?;
    Ok(Json(AssignmentWritten { assignment: AssignmentView::new(&a, caller.ctx.now), revision }))
}

#[utoipa::path(delete, path = "/v1/{org}/ai-agent-managers/{agent}/groups/{group}",
    params(("org" = String, Path), ("agent" = String, Path, description = "the agent's id or name"), ("group" = String, Path, description = "the group's id or name")),
    responses((status = 200, body = AssignmentWritten), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn unassign(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, agent, group)): ApiPath<(String, String, String)>,
) -> Result<Json<AssignmentWritten>> {
    let (revision, a) = service::unassign(&state, &caller.ctx, &agent, &group).await?;
    Ok(Json(AssignmentWritten { assignment: AssignmentView::new(&a, caller.ctx.now), revision }))
}

#[utoipa::path(get, path = "/v1/{org}/groups/{id}/agents", params(("org" = String, Path), ("id" = String, Path, description = "the group's id or name")),
    responses((status = 200, body = AssignmentList), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn of_group(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, group)): ApiPath<(String, String)>,
) -> Result<Json<AssignmentList>> {
    let list = {
        let ix = state.index();
        let o = service::org(&ix, &caller.ctx.org)?;
        caller.ctx.authorize(&ix, Action::ListGroups)?;
        let g = service::find_group(o, &group)?;
        // Only the agents the caller may see.
        let visible = |a: &Assignment| service::visible_agent(&ix, &caller.ctx, &a.agent.id).is_ok();
        service::assignments_of_group(o, g).into_iter().filter(visible).collect()
    };
    Ok(Json(AssignmentList { assignments: views(&state, &caller, list).await? }))
}
