//! Agent pools (seed 004): `POST|GET /agent-pools`, `GET|DELETE /agent-pools/{id}` (by id or
//! name), and the seed's `GET /agent-pool` — the pools as a plain list, to find their ids.

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath};
use crate::error::Result;
use crate::service;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use grantry_core::authz::Action;
use grantry_core::model::AgentPool;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/agent-pools", get(list).post(create))
        .route("/agent-pools/{id}", get(show).delete(remove))
        .route("/agent-pool", get(seed_list))
}

/// An agent pool.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PoolView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub created_by: String,
}

impl PoolView {
    fn new(p: &AgentPool) -> Self {
        Self { id: p.id.clone(), name: p.name.clone(), description: p.description.clone(), created_by: p.created_by.clone() }
    }
}

/// The organization's pools, by name.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PoolList {
    pub pools: Vec<PoolView>,
}

/// A pool as written, and the revision that holds it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PoolWritten {
    pub pool: PoolView,
    pub revision: u64,
}

/// A pool to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPool {
    /// Unique in the organization (without regard to case), 1 to 100 characters.
    #[schema(max_length = 100)]
    pub name: String,
    #[schema(max_length = 1000)]
    pub description: Option<String>,
}

fn listed(state: &AppState, caller: &Caller) -> Result<Vec<PoolView>> {
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    caller.ctx.authorize(&ix, Action::ListPools)?;
    Ok(service::pools(o).iter().map(PoolView::new).collect())
}

#[utoipa::path(get, path = "/v1/{org}/agent-pools", params(("org" = String, Path)),
    responses((status = 200, body = PoolList), (status = 403, body = super::views::ErrorBody)))]
pub(super) async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<PoolList>> {
    Ok(Json(PoolList { pools: listed(&state, &caller)? }))
}

#[utoipa::path(get, path = "/v1/{org}/agent-pool", params(("org" = String, Path)),
    responses((status = 200, body = Vec<PoolView>), (status = 403, body = super::views::ErrorBody)))]
pub(super) async fn seed_list(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<PoolView>>> {
    Ok(Json(listed(&state, &caller)?))
}

#[utoipa::path(post, path = "/v1/{org}/agent-pools", request_body = NewPool, params(("org" = String, Path)),
    responses((status = 201, body = PoolWritten), (status = 403, body = super::views::ErrorBody), (status = 409, body = super::views::ErrorBody)))]
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<NewPool>,
) -> Result<(StatusCode, Json<PoolWritten>)> {
    let (revision, p) = service::create_pool(&state, &caller.ctx, &b.name, b.description.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(PoolWritten { pool: PoolView::new(&p), revision })))
}

#[utoipa::path(get, path = "/v1/{org}/agent-pools/{id}", params(("org" = String, Path), ("id" = String, Path, description = "the pool's id or name")),
    responses((status = 200, body = PoolView), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> Result<Json<PoolView>> {
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    caller.ctx.authorize(&ix, Action::ListPools)?;
    Ok(Json(PoolView::new(&service::find_pool(o, &id)?)))
}

#[utoipa::path(delete, path = "/v1/{org}/agent-pools/{id}", params(("org" = String, Path), ("id" = String, Path, description = "the pool's id or name")),
    responses((status = 200, body = PoolWritten), (status = 403, body = super::views::ErrorBody), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> Result<Json<PoolWritten>> {
    let (revision, p) = service::delete_pool(&state, &caller.ctx, &id).await?;
    Ok(Json(PoolWritten { pool: PoolView::new(&p), revision }))
}
