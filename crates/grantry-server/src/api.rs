//! The HTTP API: `router(state)` builds every route without a socket. One module per feature,
//! each with its own `router()`; they share the extractors here and the views in `views`.

mod admin;
mod agents;
mod api_keys;
mod assignments;
mod audit;
mod auth;
mod bulk;
mod catalogue;
mod check;
mod conversations;
mod extract;
mod grants;
mod groups;
mod health;
mod imports;
mod links;
mod lookup;
mod openapi;
mod page;
mod pools;
mod reports;
mod request_policies;
mod request_views;
mod requests;
mod reviews;
mod roles;
mod scopes;
mod settings;
mod sheets;
mod temp_access;
mod traces;
mod user_status;
mod users;
pub mod views;
mod webhooks;

pub use audit::verify_org;
pub use auth::Caller;
pub use openapi::ApiDoc;

use crate::error::ApiError;
use crate::service::ServiceError;
use crate::state::AppState;
use axum::Router;

/// The whole API.
pub fn router(state: AppState) -> Router {
    let org = Router::new()
        .merge(grants::router())
        .merge(conversations::router())
        .merge(check::router())
        .merge(lookup::router())
        .merge(users::router())
        .merge(user_status::router())
        .merge(audit::router())
        .merge(admin::router())
        .merge(catalogue::router())
        .merge(scopes::router())
        .merge(traces::router())
        .merge(roles::router())
        .merge(api_keys::router())
        .merge(groups::router())
        .merge(agents::router())
        .merge(assignments::router())
        .merge(imports::router())
        .merge(bulk::router())
        .merge(pools::router())
        .merge(temp_access::router())
        .merge(requests::router())
        .merge(request_policies::router())
        .merge(webhooks::router())
        .merge(reviews::router())
        .merge(reports::router())
        .merge(settings::router());
    Router::new()
        .merge(health::router())
        .merge(openapi::router())
        .merge(links::router())
        .nest("/v1/{org}", org.method_not_allowed_fallback(method_not_allowed))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(bound_uri))
        .layer(axum::extract::DefaultBodyLimit::max(extract::BODY_LIMIT))
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ServiceError::NotFound(format!("no endpoint at `{}`; see /openapi.json for the API", uri.path())).into()
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("`{method}` is not allowed on `{}`; see /openapi.json for its methods", uri.path()))
}

/// Refuses an overlong request target in the API's error shape (targets beyond the HTTP layer's
/// own limit of 64 KiB are refused by it, with no body).
async fn bound_uri(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    let len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if len > extract::URI_LIMIT {
        return ApiError::UriTooLong(format!("the request target is {len} bytes; keep it under {} bytes", extract::URI_LIMIT))
            .into_response();
    }
    next.run(req).await
}
