//! The OpenAPI document, generated from the handlers' annotations, at `/openapi.json`.

use super::{admin, api_keys, audit, catalogue, check, conversations, grants, roles, scopes, settings, traces, users};
use crate::state::AppState;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

/// Grantry's API.
#[derive(OpenApi)]
#[openapi(
    info(title = "Grantry", description = "Access control for platforms that run AI agents: checks, temporary grants, audit."),
    paths(
        grants::create, grants::list, grants::revoke,
        conversations::register, conversations::list, conversations::request_access,
        check::check,
        users::me, users::list, users::create, users::issue_token, users::revoke_token,
        audit::list, audit::verify, audit::verify_digest,
        admin::isolation,
        catalogue::catalogue,
        scopes::create_workspace, scopes::list_workspaces, scopes::create_project, scopes::list_projects,
        scopes::create_environment, scopes::list_environments, scopes::update_environment,
        traces::capture,
        roles::grant, roles::revoke, roles::matrix,
        api_keys::create, api_keys::list, api_keys::edit, api_keys::revoke,
        settings::show, settings::update,
    ),
    components(schemas(super::views::ErrorBody)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
        openapi.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}
