//! Temporary access instances (seed 004): `POST|GET /temp-access`, `GET|DELETE /temp-access/{id}`
//! (by id, or by name when one instance has it). `PATCH /temp-access/{id}` is always refused: an
//! active instance cannot be modified — delete it, which revokes its grants at once, and create it
//! again.

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath};
use crate::error::Result;
use crate::service::{self, Expiry, ServiceError, TempSpec};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use grantry_core::ids::UserId;
use grantry_core::index::OrgState;
use grantry_core::model::TempAccess;
use grantry_core::window::{self, Edge};
use grantry_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new().route("/temp-access", get(list).post(create)).route("/temp-access/{id}", get(show).patch(change).delete(remove))
}

/// An id and what people call it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Named {
    pub id: String,
    pub name: String,
}

/// A temporary access instance.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TempAccessView {
    pub id: String,
    pub name: String,
    /// `standard` or `privileged`.
    pub role: String,
    pub pools: Vec<Named>,
    /// Each user's id and email.
    pub users: Vec<Named>,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    /// `active` or `expired`.
    pub status: String,
    /// The grants it holds now (users × pools while active).
    pub live_grants: usize,
    pub created_by: String,
}

impl TempAccessView {
    fn new(o: &OrgState, t: &TempAccess, now: Timestamp) -> Self {
        let pools = t
            .pools
            .iter()
            .map(|id| Named { id: id.clone(), name: service::find_pool(o, id).map(|p| p.name).unwrap_or_default() })
            .collect();
        let users = t
            .users
            .iter()
            .map(|id| Named { id: id.clone(), name: o.user(&UserId(id.clone())).map(|u| u.email.clone()).unwrap_or_default() })
            .collect();
        let live_grants = service::grants_of(o, t).iter().filter(|g| g.is_active(now)).count();
        Self {
            id: t.id.clone(),
            name: t.name.clone(),
            role: t.role.name().to_owned(),
            pools,
            users,
            starts_at: t.starts_at,
            expires_at: t.expires_at,
            status: if t.is_active(now) { "active" } else { "expired" }.to_owned(),
            live_grants,
            created_by: t.created_by.clone(),
        }
    }
}

/// The organization's instances, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TempAccessList {
    pub instances: Vec<TempAccessView>,
}

/// An instance as written, and the revision that holds it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TempAccessWritten {
    pub instance: TempAccessView,
    /// Deleting: how many grants were revoked.
    pub revoked_grants: usize,
    pub revision: u64,
}

/// An instance to create: give exactly one of `days`, `hours` and `until`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewTempAccess {
    #[schema(max_length = 100)]
    pub name: String,
    /// `standard` or `privileged` (also ignores the pools' agent quotas).
    pub role: String,
    /// Agent pools by id or name (at most the organization's `temp_access_max_pools`, 20).
    pub pool_ids: Vec<String>,
    /// Users by id or email (at most `temp_access_max_users`, 50).
    pub user_ids: Vec<String>,
    #[schema(minimum = 1)]
    pub days: Option<u32>,
    #[schema(minimum = 1)]
    pub hours: Option<u32>,
    /// A date (through that day), a time or an instant.
    pub until: Option<String>,
    /// The IANA timezone `until` is read in (UTC unless given).
    pub timezone: Option<String>,
}

impl NewTempAccess {
    fn expiry(&self) -> Result<Expiry> {
        let zone = window::zone("timezone", self.timezone.as_deref().unwrap_or("UTC"))?;
        match (self.days, self.hours, self.until.as_deref()) {
            (Some(d), None, None) => Ok(Expiry::Days(d)),
            (None, Some(h), None) => Ok(Expiry::Hours(h)),
            (None, None, Some(t)) => Ok(Expiry::Until(window::instant("until", t, &zone, Edge::End)?)),
            _ => Err(ServiceError::Invalid { field: "days".into(), message: "give exactly one of days, hours and until".into() }.into()),
        }
    }
}

fn view(state: &AppState, caller: &Caller, t: &TempAccess) -> Result<TempAccessView> {
    let ix = state.index();
    Ok(TempAccessView::new(service::org(&ix, &caller.ctx.org)?, t, caller.ctx.now))
}

/// Reading instances is for whoever may make them.
fn authorized(ix: &grantry_core::index::DecisionIndex, caller: &Caller) -> Result<()> {
    let role = ix.catalogue().role(grantry_core::catalogue::role::POOL_STANDARD).map_err(ServiceError::from)?;
    caller.ctx.authorize(ix, grantry_core::authz::Action::ManageTempAccess { pools: &[], role })?;
    Ok(())
}

#[utoipa::path(post, path = "/v1/{org}/temp-access", request_body = NewTempAccess, params(("org" = String, Path)),
    responses((status = 201, body = TempAccessWritten), (status = 403, body = super::views::ErrorBody), (status = 409, body = super::views::ErrorBody), (status = 422, body = super::views::ErrorBody)))]
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<NewTempAccess>,
) -> Result<(StatusCode, Json<TempAccessWritten>)> {
    let role = b.role.parse().map_err(|message| ServiceError::Invalid { field: "role".into(), message })?;
    let spec = TempSpec { expiry: b.expiry()?, name: b.name, role, pools: b.pool_ids, users: b.user_ids };
    let (revision, t) = service::create_temp_access(&state, &caller.ctx, &spec).await?;
    // Shown as of its own start: a write waits its turn, and may be stamped after the request came.
    let ix = state.index();
    let instance = TempAccessView::new(service::org(&ix, &caller.ctx.org)?, &t, caller.ctx.now.max(t.starts_at));
    Ok((StatusCode::CREATED, Json(TempAccessWritten { instance, revoked_grants: 0, revision })))
}

#[utoipa::path(get, path = "/v1/{org}/temp-access", params(("org" = String, Path)),
    responses((status = 200, body = TempAccessList), (status = 403, body = super::views::ErrorBody)))]
pub(super) async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<TempAccessList>> {
    let ix = state.index();
    authorized(&ix, &caller)?;
    let o = service::org(&ix, &caller.ctx.org)?;
    Ok(Json(TempAccessList { instances: service::instances(o).iter().map(|t| TempAccessView::new(o, t, caller.ctx.now)).collect() }))
}

#[utoipa::path(get, path = "/v1/{org}/temp-access/{id}", params(("org" = String, Path), ("id" = String, Path, description = "the instance's id or name")),
    responses((status = 200, body = TempAccessView), (status = 403, body = super::views::ErrorBody), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> Result<Json<TempAccessView>> {
    let ix = state.index();
    authorized(&ix, &caller)?;
    let o = service::org(&ix, &caller.ctx.org)?;
    Ok(Json(TempAccessView::new(o, &service::find_instance(o, &id)?, caller.ctx.now)))
}

#[utoipa::path(patch, path = "/v1/{org}/temp-access/{id}", params(("org" = String, Path), ("id" = String, Path, description = "the instance's id or name")),
    request_body = serde_json::Value,
    responses((status = 403, body = super::views::ErrorBody), (status = 404, body = super::views::ErrorBody), (status = 409, body = super::views::ErrorBody)))]
pub(super) async fn change(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
    ApiJson(_): ApiJson<serde_json::Value>,
) -> Result<Json<TempAccessView>> {
    let ix = state.index();
    Err(service::refuse_change(&ix, &caller.ctx, &id).into())
}

#[utoipa::path(delete, path = "/v1/{org}/temp-access/{id}", params(("org" = String, Path), ("id" = String, Path, description = "the instance's id or name")),
    responses((status = 200, body = TempAccessWritten), (status = 403, body = super::views::ErrorBody), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> Result<Json<TempAccessWritten>> {
    let (revision, t, revoked_grants) = service::delete_temp_access(&state, &caller.ctx, &id).await?;
    Ok(Json(TempAccessWritten { instance: view(&state, &caller, &t)?, revoked_grants, revision }))
}
