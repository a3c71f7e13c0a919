//! Agents and their data sources (seed 003): `POST|GET /agents` (the list holds the agents the
//! caller may see), `GET|PATCH|DELETE /agents/{id}`; `POST|GET /agents/{id}/sources` —
//! `?user_email=E` answers which sources that user may retrieve from — and
//! `PATCH|DELETE /agents/{id}/sources/{source}` to restrict (to groups, or to nobody in
//! particular: every user of the agent) or remove one. Agents and sources are named by id or name.

use super::assignments::AssignmentView;
use super::auth::Caller;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use crate::error::Result;
use crate::service::{self, AgentPatch, AgentSpec, ServiceError, Source};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use grantry_core::authz::Action;
use grantry_core::model::{AccessType, Agent, Classification, Principal};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/agents", get(list).post(create))
        .route("/agents/{id}", get(show).patch(update).delete(remove))
        .route("/agents/{id}/sources", get(sources).post(add_source))
        .route("/agents/{id}/sources/{source}", patch(restrict_source).delete(remove_source))
        .route("/agents/{id}/access", get(access))
}

/// An agent.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AgentView {
    pub id: String,
    pub name: String,
    pub description: String,
    /// `organization`, `group` or `private`.
    pub access_type: String,
    /// `public`, `internal`, `confidential` or `restricted`.
    pub classification: String,
    pub created_by: String,
}

impl AgentView {
    fn new(a: &Agent) -> Self {
        Self {
            id: a.id.clone(),
            name: a.name.clone(),
            description: a.description.clone(),
            access_type: a.access_type.name().to_owned(),
            classification: a.classification.name().to_owned(),
            created_by: a.created_by.clone(),
        }
    }
}

/// A data source.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SourceView {
    pub id: String,
    pub name: String,
    /// `ALL_AGENT_USERS`, or `SPECIFIC_GROUPS` (then `groups` names them).
    pub access: String,
    pub groups: Vec<String>,
}

impl SourceView {
    fn new(s: &Source) -> Self {
        Self {
            id: s.source.id.clone(),
            name: s.source.name.clone(),
            access: if s.source.restricted { "SPECIFIC_GROUPS" } else { "ALL_AGENT_USERS" }.to_owned(),
            groups: s.groups.iter().map(|g| g.name.clone()).collect(),
        }
    }
}

/// The agents the caller may see.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AgentList {
    pub agents: Vec<AgentView>,
}

/// An agent with its assignments and data sources.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AgentDetail {
    pub agent: AgentView,
    pub assignments: Vec<AssignmentView>,
    pub sources: Vec<SourceView>,
}

/// An agent as written, and the revision that holds it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AgentWritten {
    pub agent: AgentView,
    pub revision: u64,
}

/// A data source as written, and the revision that holds it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SourceWritten {
    pub source: SourceView,
    pub revision: u64,
}

/// An agent's data sources; for a user, those they may retrieve from.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SourceList {
    pub sources: Vec<SourceView>,
}

/// An agent to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgent {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    /// `organization`, `group` or `private`.
    pub access_type: String,
    /// `public`, `internal` (the default), `confidential` or `restricted`.
    pub classification: Option<String>,
}

/// What to change about an agent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgent {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    /// `organization`, `group` or `private` (needs `Agent:ManagePermissions`).
    pub access_type: Option<String>,
    pub classification: Option<String>,
}

/// A data source to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddSource {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// The groups (ids or names) it is restricted to; none: every user of the agent.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// The groups a data source is restricted to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestrictSource {
    /// Group ids or names; empty: every user of the agent.
    pub groups: Vec<String>,
}

/// Whose sources to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SourcesQuery {
    /// Only the sources this user (by email or id) may retrieve from.
    pub user_email: Option<String>,
}

/// Whom and what to troubleshoot.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AccessQuery {
    /// The user, by email or id.
    pub user_email: String,
    /// `Agent:Use` unless given (`Agent:View`, `Agent:Edit`, …).
    pub permission: Option<String>,
}

/// One step of the troubleshooting walk.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StepView {
    /// What was looked at.
    pub check: String,
    /// Whether it stands in the way (`false`) or not.
    pub ok: bool,
    pub found: String,
}

/// Why a user may or may not reach an agent, and the smallest change that would grant it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccessWalk {
    pub user: String,
    pub agent: String,
    pub permission: String,
    pub allowed: bool,
    pub steps: Vec<StepView>,
    /// The decision's reasons, as `/check?explain=true` gives them.
    #[schema(value_type = Vec<Object>)]
    pub reasons: Vec<grantry_core::decision::Reason>,
    /// The single smallest change that would grant it (when denied).
    pub fix: Option<String>,
    /// Every check is decided from the index at this revision: there is no cache or session to refresh.
    pub revision: u64,
}

fn access_type(text: &str) -> Result<AccessType> {
    Ok(text.parse().map_err(|message| ServiceError::Invalid { field: "access_type".into(), message })?)
}

fn classification(text: &str) -> Result<Classification> {
    Ok(text.parse().map_err(|message| ServiceError::Invalid { field: "classification".into(), message })?)
}

#[utoipa::path(post, path = "/v1/{org}/agents", request_body = CreateAgent, params(("org" = String, Path)),
    responses((status = 201, body = AgentWritten), (status = 403, body = super::views::ErrorBody), (status = 409, body = super::views::ErrorBody)))]
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<CreateAgent>,
) -> Result<(StatusCode, Json<AgentWritten>)> {
    let spec = AgentSpec {
        name: b.name,
        description: b.description,
        access_type: access_type(&b.access_type)?,
        classification: b.classification.as_deref().map(classification).transpose()?.unwrap_or(Classification::Internal),
    };
    let (revision, a) = service::create_agent(&state, &caller.ctx, &spec).await?;
    Ok((StatusCode::CREATED, Json(AgentWritten { agent: AgentView::new(&a), revision })))
}

#[utoipa::path(get, path = "/v1/{org}/agents", params(("org" = String, Path)), responses((status = 200, body = AgentList)))]
pub(super) async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<AgentList>> {
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    let agents = o
        .resources_of(grantry_core::model::AGENT)
        .iter()
        .filter(|r| caller.ctx.authorize(&ix, Action::OnAgent { agent: r, permission: grantry_core::catalogue::perm::AGENT_VIEW }).is_ok())
        .filter_map(Agent::of)
        .map(|a| AgentView::new(&a))
        .collect();
    Ok(Json(AgentList { agents }))
}

#[utoipa::path(get, path = "/v1/{org}/agents/{id}", params(("org" = String, Path), ("id" = String, Path, description = "the agent's id or name")),
    responses((status = 200, body = AgentDetail), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> Result<Json<AgentDetail>> {
    let (agent, assignments, sources) = {
        let ix = state.index();
        let o = service::org(&ix, &caller.ctx.org)?;
        let (a, _) = service::visible_agent(&ix, &caller.ctx, &id)?;
        let assignments = service::assignments_of_agent(o, &a);
        let sources: Vec<SourceView> = service::sources(o, &a).iter().map(SourceView::new).collect();
        (a, assignments, sources)
    };
    let assignments = service::with_zones(&state, &caller.ctx.org, assignments).await?;
    let assignments = assignments.iter().map(|a| AssignmentView::new(a, caller.ctx.now)).collect();
    Ok(Json(AgentDetail { agent: AgentView::new(&agent), assignments, sources }))
}

#[utoipa::path(patch, path = "/v1/{org}/agents/{id}", request_body = UpdateAgent,
    params(("org" = String, Path), ("id" = String, Path, description = "the agent's id or name")),
    responses((status = 200, body = AgentWritten), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<UpdateAgent>,
) -> Result<Json<AgentWritten>> {
    let patch = AgentPatch {
        name: b.name,
        description: b.description,
        access_type: b.access_type.as_deref().map(access_type).transpose()?,
        classification: b.classification.as_deref().map(classification).transpose()?,
    };
    let (revision, a) = service::update_agent(&state, &caller.ctx, &id, &patch).await?;
    Ok(Json(AgentWritten { agent: AgentView::new(&a), revision }))
}

#[utoipa::path(delete, path = "/v1/{org}/agents/{id}", params(("org" = String, Path), ("id" = String, Path, description = "the agent's id or name")),
    responses((status = 200, body = AgentWritten), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> Result<Json<AgentWritten>> {
    let (revision, a) = service::delete_agent(&state, &caller.ctx, &id).await?;
    Ok(Json(AgentWritten { agent: AgentView::new(&a), revision }))
}

#[utoipa::path(get, path = "/v1/{org}/agents/{id}/sources", params(("org" = String, Path), ("id" = String, Path, description = "the agent's id or name"), SourcesQuery),
    responses((status = 200, body = SourceList), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn sources(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<SourcesQuery>,
) -> Result<Json<SourceList>> {
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    let (a, _) = service::visible_agent(&ix, &caller.ctx, &id)?;
    let sources = match q.user_email {
        None => service::sources(o, &a).iter().map(SourceView::new).collect(),
        Some(who) => {
            let user = service::find_user(o, &who).map_err(ServiceError::named_in("user_email"))?;
            caller.ctx.authorize(&ix, Action::Check { principal: &Principal::User(user.id.clone()) })?;
            service::sources_for(o, &a, user, caller.ctx.now)
                .iter()
                .filter(|(_, allowed)| *allowed)
                .map(|(s, _)| SourceView::new(s))
                .collect()
        }
    };
    Ok(Json(SourceList { sources }))
}

#[utoipa::path(post, path = "/v1/{org}/agents/{id}/sources", request_body = AddSource,
    params(("org" = String, Path), ("id" = String, Path, description = "the agent's id or name")),
    responses((status = 201, body = SourceWritten), (status = 404, body = super::views::ErrorBody), (status = 409, body = super::views::ErrorBody)))]
pub(super) async fn add_source(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<AddSource>,
) -> Result<(StatusCode, Json<SourceWritten>)> {
    let (revision, s) = service::add_source(&state, &caller.ctx, &id, &b.name, &b.groups).await?;
    Ok((StatusCode::CREATED, Json(SourceWritten { source: SourceView::new(&s), revision })))
}

#[utoipa::path(patch, path = "/v1/{org}/agents/{id}/sources/{source}", request_body = RestrictSource,
    params(("org" = String, Path), ("id" = String, Path, description = "the agent's id or name"), ("source" = String, Path, description = "the source's id or name")),
    responses((status = 200, body = SourceWritten), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn restrict_source(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id, source)): ApiPath<(String, String, String)>,
    ApiJson(b): ApiJson<RestrictSource>,
) -> Result<Json<SourceWritten>> {
    let (revision, s) = service::restrict_source(&state, &caller.ctx, &id, &source, &b.groups).await?;
    Ok(Json(SourceWritten { source: SourceView::new(&s), revision }))
}

#[utoipa::path(delete, path = "/v1/{org}/agents/{id}/sources/{source}",
    params(("org" = String, Path), ("id" = String, Path, description = "the agent's id or name"), ("source" = String, Path, description = "the source's id or name")),
    responses((status = 200, body = SourceWritten), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn remove_source(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id, source)): ApiPath<(String, String, String)>,
) -> Result<Json<SourceWritten>> {
    let (revision, s) = service::remove_source(&state, &caller.ctx, &id, &source).await?;
    Ok(Json(SourceWritten { source: SourceView::new(&s), revision }))
}

#[utoipa::path(get, path = "/v1/{org}/agents/{id}/access", params(("org" = String, Path), ("id" = String, Path, description = "the agent's id or name"), AccessQuery),
    responses((status = 200, body = AccessWalk), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn access(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<AccessQuery>,
) -> Result<Json<AccessWalk>> {
    let permission = q.permission.unwrap_or_else(|| grantry_core::catalogue::perm::AGENT_USE.to_owned());
    let (agent, user, assignments) = {
        let ix = state.index();
        let o = service::org(&ix, &caller.ctx.org)?;
        let (a, _) = service::visible_agent(&ix, &caller.ctx, &id)?;
        let user = service::find_user(o, &q.user_email).map_err(ServiceError::named_in("user_email"))?.clone();
        caller.ctx.authorize(&ix, Action::Check { principal: &Principal::User(user.id.clone()) })?;
        ix.catalogue().permission(&permission)?;
        (a.clone(), user, service::assignments_of_agent(o, &a))
    };
    let assignments = service::with_zones(&state, &caller.ctx.org, assignments).await?;
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    let w = service::walk(o, ix.catalogue(), &caller.ctx, &user, &agent, &permission, &assignments);
    Ok(Json(AccessWalk {
        user: user.email,
        agent: agent.name,
        permission,
        allowed: w.decision.allowed,
        steps: w.steps.into_iter().map(|s| StepView { check: s.check, ok: s.ok, found: s.found }).collect(),
        reasons: w.decision.reasons,
        fix: w.fix,
        revision: ix.revision(),
    }))
}
