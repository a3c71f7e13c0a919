//! A user's standing: `POST /users/{id}/suspend` and `/resume` (with an optional justification),
//! and `DELETE /users/{id}` (`?justification=`), which revokes the user's grants and tokens and
//! removes the user.

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use crate::error::Result;
use crate::service::{self, ServiceError, Standing};
use crate::state::AppState;
use axum::extract::State;
use axum::routing::{delete, post};
use axum::{Json, Router};
use grantry_core::ids::UserId;
use grantry_core::model::UserStatus;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new().route("/users/{id}/suspend", post(suspend)).route("/users/{id}/resume", post(resume)).route("/users/{id}", delete(remove))
}

/// Why the change is made (kept in the audit log).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StandingChange {
    #[schema(min_length = 1, max_length = 10000)]
    pub justification: Option<String>,
}

/// Where the user stands now.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StandingView {
    pub id: String,
    pub email: String,
    /// `active`, `suspended` or `deleted`.
    pub status: String,
    pub revision: u64,
}

async fn change(
    state: &AppState,
    caller: &Caller,
    id: String,
    standing: Standing,
    justification: Option<&str>,
) -> Result<Json<StandingView>> {
    let id = UserId(grantry_core::validate::record_id("user", &id)?);
    let (revision, user) = service::set_standing(state, &caller.ctx, &id, standing, justification).await?;
    let status = match standing {
        Standing::Suspend => UserStatus::Suspended.as_str(),
        Standing::Resume => UserStatus::Active.as_str(),
        Standing::Delete => "deleted",
    };
    Ok(Json(StandingView { id: user.id.0, email: user.email, status: status.to_owned(), revision }))
}

#[utoipa::path(post, path = "/v1/{org}/users/{id}/suspend", request_body = StandingChange, params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = StandingView), (status = 409, body = super::views::ErrorBody)))]
pub(super) async fn suspend(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<StandingChange>,
) -> Result<Json<StandingView>> {
    change(&state, &caller, id, Standing::Suspend, b.justification.as_deref()).await
}

#[utoipa::path(post, path = "/v1/{org}/users/{id}/resume", request_body = StandingChange, params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = StandingView), (status = 409, body = super::views::ErrorBody)))]
pub(super) async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<StandingChange>,
) -> Result<Json<StandingView>> {
    change(&state, &caller, id, Standing::Resume, b.justification.as_deref()).await
}

/// Why a user is deleted (kept in the audit log). In a query string it may have at most 500
/// characters (and at least the organization's minimum).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Deletion {
    #[param(min_length = 1, max_length = 500)]
    pub justification: Option<String>,
}

/// The longest justification a query string carries: within the 8 KiB request target even when
/// every character takes four bytes, each percent-encoded.
const QUERY_JUSTIFICATION: usize = 500;

#[utoipa::path(delete, path = "/v1/{org}/users/{id}", params(("org" = String, Path), ("id" = String, Path), Deletion),
    responses((status = 200, body = StandingView)))]
pub(super) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<Deletion>,
) -> Result<Json<StandingView>> {
    if q.justification.as_ref().is_some_and(|j| j.chars().count() > QUERY_JUSTIFICATION) {
        let message = format!("is longer than the {QUERY_JUSTIFICATION} characters a query string carries");
        return Err(ServiceError::Invalid { field: "justification".into(), message }.into());
    }
    change(&state, &caller, id, Standing::Delete, q.justification.as_deref()).await
}
