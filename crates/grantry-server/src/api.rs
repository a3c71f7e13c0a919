//! The HTTP API: `router(state)` builds every route without a socket. One module per feature,
//! each with its own `router()`; they share the extractors here and the views in `views`.

mod admin;
mod api_keys;
mod audit;
mod auth;
mod catalogue;
mod check;
mod conversations;
mod extract;
mod grants;
mod health;
mod openapi;
mod page;
mod roles;
mod scopes;
mod settings;
mod traces;
mod users;
pub mod views;

pub use audit::verify_org;
pub use auth::Caller;
pub use openapi::ApiDoc;

use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;

/// The whole API.
pub fn router(state: AppState) -> Router {
    let org = Router::new()
        .merge(grants::router())
        .merge(conversations::router())
        .merge(check::router())
        .merge(users::router())
        .merge(audit::router())
        .merge(admin::router())
        .merge(catalogue::router())
        .merge(scopes::router())
        .merge(traces::router())
        .merge(roles::router())
        .merge(api_keys::router())
        .merge(settings::router());
    Router::new().merge(health::router()).merge(openapi::router()).nest("/v1/{org}", org).fallback(not_found).with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no endpoint at `{}`; see /openapi.json for the API", uri.path()))
}
