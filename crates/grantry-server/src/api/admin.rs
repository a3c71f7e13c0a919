//! Administration: `GET /v1/{org}/admin/isolation`, the isolation conformance report, for admins
//! (those who may read the audit log: it is a compliance view of the same kind).

use super::auth::Caller;
use crate::error::Result;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use grantry_core::authz::Action;
use grantry_store::IsolationReport;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/isolation", get(isolation))
}

/// Every organization-scoped table and whether tenant isolation is in force on it in the database.
#[utoipa::path(get, path = "/v1/{org}/admin/isolation", params(("org" = String, Path)),
    responses((status = 200, body = Object), (status = 403, body = super::views::ErrorBody)))]
pub(super) async fn isolation(State(state): State<AppState>, caller: Caller) -> Result<Json<IsolationReport>> {
    {
        let ix = state.index();
        caller.ctx.authorize(&ix, Action::ReadAudit { scope: &grantry_core::model::ScopeRef::Org })?;
    }
    Ok(Json(state.store.isolation_report().await?))
}
