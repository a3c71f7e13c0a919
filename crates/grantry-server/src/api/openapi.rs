//! The OpenAPI document, generated from the handlers' annotations, at `/openapi.json`.

use super::{
    admin, agents, api_keys, assignments, audit, bulk, catalogue, check, conversations, grants, groups, imports, lookup, pools, reports,
    request_policies, requests, reviews, roles, scopes, settings, temp_access, traces, user_status, users, webhooks,
};
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
        check::check, check::check_batch, lookup::lookup,
        users::me, users::list, users::create, users::issue_token, users::exchange_token, users::revoke_token, users::list_tokens,
        user_status::suspend, user_status::resume, user_status::remove,
        audit::list, audit::verify, audit::verify_digest,
        admin::isolation,
        catalogue::catalogue,
        scopes::create_workspace, scopes::list_workspaces, scopes::create_project, scopes::list_projects,
        scopes::create_environment, scopes::list_environments, scopes::update_environment,
        traces::capture, traces::list, traces::show,
        roles::grant, roles::revoke, roles::matrix,
        api_keys::create, api_keys::list, api_keys::edit, api_keys::revoke, api_keys::rotate,
        settings::show, settings::update,
        groups::create, groups::list, groups::show, groups::update, groups::remove,
        groups::members, groups::add_members, groups::remove_members, groups::remove_member,
        agents::create, agents::list, agents::show, agents::update, agents::remove,
        agents::sources, agents::add_source, agents::restrict_source, agents::remove_source, agents::access,
        assignments::of_agent, assignments::assign, assignments::change, assignments::unassign,
        assignments::of_group, assignments::assign_from_group,
        imports::assignments, imports::users, bulk::bulk, pools::list, pools::seed_list, pools::create, pools::show, pools::remove, temp_access::create, temp_access::list, temp_access::show, temp_access::change, temp_access::remove,
        requests::create, requests::list, requests::show, requests::decide, requests::extend,
        request_policies::create, request_policies::list, request_policies::show, request_policies::remove,
        webhooks::create, webhooks::list, webhooks::show, webhooks::remove, webhooks::rotate, webhooks::ping, webhooks::deliveries,
        reviews::review, reports::compliance, reports::access_matrix, reports::memberships, reports::coverage,
    ),
    components(schemas(super::views::ErrorBody)),
    modifiers(&BearerAuth, &ErrorResponses)
)]
pub struct ApiDoc;

/// Documents, on every operation, the errors any request can meet — all in the one error shape:
/// a malformed request (400), no or a bad token (401), a caller without the permission or of
/// another organization (403), something named that does not exist (404), a body or target too
/// large (413, 414), invalid input (422), too many waiting requests (429) and a server not yet at
/// a revision asked for or a database away (503); and on writes, a conflict with the state (409).
struct ErrorResponses;

impl utoipa::Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
                .build()
        };
        let common = [
            ("400", "the request is malformed (its JSON, query or headers)"),
            ("401", "no token, or an unknown, expired or revoked one"),
            ("403", "the caller may not do this, or the token is of another organization"),
            ("404", "the organization, or something the request names, does not exist"),
            ("413", "the body is too large"),
            ("414", "the request target is too long"),
            ("422", "the input is invalid; the message says which field and how to fix it"),
            ("429", "too many requests are waiting for a revision; retry shortly"),
            ("503", "the database is away; retry shortly"),
        ];
        for item in openapi.paths.paths.values_mut() {
            let ops =
                [(&mut item.get, false), (&mut item.post, true), (&mut item.patch, true), (&mut item.delete, true), (&mut item.put, true)];
            for (op, writes) in ops {
                let Some(op) = op.as_mut() else { continue };
                let conflict = writes.then_some(("409", "the change conflicts with the current state"));
                for (status, description) in common.into_iter().chain(conflict) {
                    op.responses.responses.entry(status.to_owned()).or_insert_with(|| error(description).into());
                }
            }
        }
    }
}

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
