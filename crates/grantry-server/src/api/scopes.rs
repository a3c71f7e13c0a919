//! The scope tree: workspaces, projects and environments (seed 002). Anyone in the organization
//! may list them; creating them and flipping an environment's production flag needs `Scope:Manage`.

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use crate::error::Result;
use crate::service;
use crate::service::ServiceError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use grantry_core::authz::sees_scope;
use grantry_core::index::OrgState;
use grantry_core::model::{ScopeKind, ScopeNode};
use grantry_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/workspaces", get(list_workspaces).post(create_workspace))
        .route("/projects", get(list_projects).post(create_project))
        .route("/environments", get(list_environments).post(create_environment))
        .route("/projects/{ws}/{prj}/environments/{name}", patch(update_environment))
}

/// A workspace, project or environment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScopeView {
    pub id: String,
    /// `workspace`, `project` or `environment`.
    pub kind: String,
    /// `WS`, `WS/PRJ` or `WS/PRJ/ENV`.
    pub path: String,
    pub is_production: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl ScopeView {
    fn new(n: &ScopeNode, o: &OrgState) -> Self {
        Self {
            id: n.id.0.clone(),
            kind: n.kind.name().to_owned(),
            path: o.path_of(n),
            is_production: n.is_production,
            created_at: n.created_at,
        }
    }
}

/// The node made or changed, and the revision that holds it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ScopeWritten {
    pub scope: ScopeView,
    pub revision: u64,
}

/// A list of nodes.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ScopeList {
    pub scopes: Vec<ScopeView>,
}

async fn create(
    state: &AppState,
    caller: &Caller,
    kind: ScopeKind,
    path: &str,
    is_production: bool,
) -> Result<(StatusCode, Json<ScopeWritten>)> {
    let (revision, node) = service::create_scope(state, &caller.ctx, kind, path, is_production).await?;
    let ix = state.index();
    let scope = ScopeView::new(&node, service::org(&ix, &caller.ctx.org)?);
    Ok((StatusCode::CREATED, Json(ScopeWritten { scope, revision })))
}

fn list(state: &AppState, caller: &Caller, kind: ScopeKind, under: Option<&str>) -> Result<Json<ScopeList>> {
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    let prefix = under.map(|p| format!("{p}/"));
    let scopes = o
        .scopes_of(kind)
        .into_iter()
        .filter(|n| sees_scope(o, &caller.ctx.actor, &n.as_ref()))
        .map(|n| ScopeView::new(n, o))
        .filter(|v| prefix.as_ref().is_none_or(|p| v.path.starts_with(p.as_str())))
        .collect();
    Ok(Json(ScopeList { scopes }))
}

/// A workspace to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWorkspace {
    #[schema(max_length = 63, pattern = r"^[a-z0-9][a-z0-9-]{0,62}$")]
    pub slug: String,
}

#[utoipa::path(post, path = "/v1/{org}/workspaces", request_body = NewWorkspace, params(("org" = String, Path)), responses((status = 201, body = ScopeWritten)))]
pub(super) async fn create_workspace(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<NewWorkspace>,
) -> Result<(StatusCode, Json<ScopeWritten>)> {
    create(&state, &caller, ScopeKind::Workspace, &b.slug, false).await
}

#[utoipa::path(get, path = "/v1/{org}/workspaces", params(("org" = String, Path)), responses((status = 200, body = ScopeList)))]
pub(super) async fn list_workspaces(State(state): State<AppState>, caller: Caller) -> Result<Json<ScopeList>> {
    list(&state, &caller, ScopeKind::Workspace, None)
}

/// A project to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    /// `WORKSPACE/PROJECT`.
    #[schema(max_length = 127, pattern = r"^[a-z0-9][a-z0-9-]{0,62}/[a-z0-9][a-z0-9-]{0,62}$")]
    pub project: String,
}

#[utoipa::path(post, path = "/v1/{org}/projects", request_body = NewProject, params(("org" = String, Path)), responses((status = 201, body = ScopeWritten)))]
pub(super) async fn create_project(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<NewProject>,
) -> Result<(StatusCode, Json<ScopeWritten>)> {
    create(&state, &caller, ScopeKind::Project, &b.project, false).await
}

/// Filters for listing projects and environments.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Under {
    /// Only those under this workspace (for projects) or project `WS/PRJ` (for environments).
    pub under: Option<String>,
}

#[utoipa::path(get, path = "/v1/{org}/projects", params(("org" = String, Path), Under), responses((status = 200, body = ScopeList)))]
pub(super) async fn list_projects(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<Under>) -> Result<Json<ScopeList>> {
    list(&state, &caller, ScopeKind::Project, q.under.as_deref())
}

/// An environment to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEnvironment {
    /// `WORKSPACE/PROJECT`.
    #[schema(max_length = 127, pattern = r"^[a-z0-9][a-z0-9-]{0,62}/[a-z0-9][a-z0-9-]{0,62}$")]
    pub project: String,
    #[schema(max_length = 63, pattern = r"^[a-z0-9][a-z0-9-]{0,62}$")]
    pub name: String,
    #[serde(default)]
    pub is_production: bool,
}

#[utoipa::path(post, path = "/v1/{org}/environments", request_body = NewEnvironment, params(("org" = String, Path)), responses((status = 201, body = ScopeWritten)))]
pub(super) async fn create_environment(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<NewEnvironment>,
) -> Result<(StatusCode, Json<ScopeWritten>)> {
    if b.name.contains('/') {
        return Err(
            ServiceError::Invalid { field: "name".into(), message: format!("`{}` must be a single name, without `/`", b.name) }.into()
        );
    }
    create(&state, &caller, ScopeKind::Environment, &format!("{}/{}", b.project, b.name), b.is_production).await
}

#[utoipa::path(get, path = "/v1/{org}/environments", params(("org" = String, Path), Under), responses((status = 200, body = ScopeList)))]
pub(super) async fn list_environments(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<Under>,
) -> Result<Json<ScopeList>> {
    list(&state, &caller, ScopeKind::Environment, q.under.as_deref())
}

/// An environment's new production flag.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentUpdate {
    pub is_production: bool,
}

#[utoipa::path(patch, path = "/v1/{org}/projects/{ws}/{prj}/environments/{name}", request_body = EnvironmentUpdate,
    params(("org" = String, Path), ("ws" = String, Path), ("prj" = String, Path), ("name" = String, Path)), responses((status = 200, body = ScopeWritten)))]
pub(super) async fn update_environment(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, ws, prj, name)): ApiPath<(String, String, String, String)>,
    ApiJson(b): ApiJson<EnvironmentUpdate>,
) -> Result<Json<ScopeWritten>> {
    let (revision, node) = service::set_production(&state, &caller.ctx, &format!("{ws}/{prj}/{name}"), b.is_production).await?;
    let ix = state.index();
    let scope = ScopeView::new(&node, service::org(&ix, &caller.ctx.org)?);
    Ok(Json(ScopeWritten { scope, revision }))
}
