//! Conversations: register one with its owner, look them up (the owner's `user_id` is what a
//! temporary grant is scoped to), and request access to one (seed 001's three grants, atomically).

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::page::page;
use super::views::{ConversationView, GrantView};
use crate::error::Result;
use crate::service::ServiceError;
use crate::service::{self, CONVERSATION};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use grantry_core::authz::Action;
use grantry_core::catalogue::perm;
use grantry_core::decision::ResourceQuery;
use grantry_core::ids::UserId;
use grantry_core::index::OrgState;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new().route("/conversation/", get(list).post(register)).route("/conversation/{id}/request_access", post(request_access))
}

/// Resolves a user given by id or by email.
pub(super) fn resolve_user(org: &OrgState, id: Option<String>, email: Option<String>) -> Result<Option<UserId>> {
    match (id, email) {
        (Some(_), Some(_)) => {
            Err(ServiceError::Invalid { field: "user_id".into(), message: "give user_id or user_email, not both".into() }.into())
        }
        (Some(id), None) => Ok(Some(UserId(id))),
        (None, Some(email)) => {
            let email = grantry_core::validate::email(&email)?;
            let user = org.user_by_email(&email).ok_or_else(|| {
                ServiceError::NotFound(format!(
                    "no user with email `{email}` in this organization; check the address or create the user first"
                ))
            })?;
            Ok(Some(user.id.clone()))
        }
        (None, None) => Ok(None),
    }
}

/// A conversation to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterConversation {
    /// The owner, by id…
    #[schema(max_length = 24, pattern = r"^[0-9a-f]{24}$")]
    pub user_id: Option<String>,
    /// …or by email.
    #[schema(max_length = 254, pattern = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")]
    pub user_email: Option<String>,
    /// A 24-hex id; a new one when absent.
    #[schema(max_length = 24, pattern = r"^[0-9a-fA-F]{24}$")]
    pub id: Option<String>,
}

/// A registered conversation and the revision that holds it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RegisteredConversation {
    pub conversation: ConversationView,
    pub revision: u64,
}

#[utoipa::path(post, path = "/v1/{org}/conversation/", request_body = RegisterConversation, params(("org" = String, Path)),
    responses((status = 201, body = RegisteredConversation), (status = 409, body = super::views::ErrorBody)))]
pub(super) async fn register(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<RegisterConversation>,
) -> Result<(StatusCode, Json<RegisteredConversation>)> {
    let owner = {
        let ix = state.index();
        // Authorized before the owner is looked up, so users are not probed through it.
        caller.ctx.authorize(&ix, Action::RegisterConversation)?;
        resolve_user(service::org(&ix, &caller.ctx.org)?, body.user_id, body.user_email)?
    };
    let owner = owner.ok_or_else(|| ServiceError::Invalid {
        field: "user_id".into(),
        message: "name the conversation's owner (user_id or user_email)".into(),
    })?;
    let (revision, r) = service::register_conversation(&state, &caller.ctx, &owner, body.id.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(RegisteredConversation { conversation: ConversationView::new(&r, &caller.org_slug), revision })))
}

/// Filters for looking conversations up.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListConversations {
    /// One conversation by id.
    #[param(max_length = 24, pattern = r"^[0-9a-fA-F]{24}$")]
    pub id: Option<String>,
    /// Only this owner's conversations.
    #[param(max_length = 24, pattern = r"^[0-9a-f]{24}$")]
    pub user_id: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
    pub continuation_token: Option<usize>,
}

/// A page of conversations.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConversationPage {
    pub conversations: Vec<ConversationView>,
    pub has_more: bool,
    pub continuation_token: Option<usize>,
}

/// Lists the conversations the caller may see: all of them for a caller that registers them;
/// those it may `GetConversation` otherwise; and, looked up by id, any one for a caller that may
/// request access (it needs the owner to scope the request).
#[utoipa::path(get, path = "/v1/{org}/conversation/", params(("org" = String, Path), ListConversations),
    responses((status = 200, body = ConversationPage)))]
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListConversations>,
) -> Result<Json<ConversationPage>> {
    let ctx = &caller.ctx;
    let ix = state.index();
    let o = service::org(&ix, &ctx.org)?;
    if let Some(u) = &q.user_id {
        grantry_core::validate::record_id("user_id", u)?;
    }
    let id = q.id.as_deref().map(grantry_core::validate::conversation_id).transpose()?;
    let sees_all = ctx.authorize(&ix, Action::SeeConversations { by_id: q.id.is_some() }).is_ok();
    let visible: Vec<_> = o
        .resources_of(CONVERSATION)
        .into_iter()
        .filter(|r| id.as_ref().is_none_or(|id| &r.reference.id == id))
        .filter(|r| q.user_id.as_ref().is_none_or(|u| r.attributes.get("conversation_user_id") == Some(&u.as_str().into())))
        .filter(|r| {
            sees_all
                || o.check(
                    &ctx.actor,
                    perm::CONVERSATION_GET,
                    &ResourceQuery { reference: r.reference.clone(), attributes: Default::default() },
                    ctx.now,
                )
        })
        .collect();
    let p = page(&visible, q.limit, q.continuation_token, |r| ConversationView::new(r, &caller.org_slug))?;
    Ok(Json(ConversationPage { conversations: p.items, has_more: p.has_more, continuation_token: p.continuation_token }))
}

/// A request for access to one conversation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestAccess {
    /// Why access is needed (at least 10 characters).
    #[schema(min_length = 1, max_length = 10000)]
    pub justification: String,
    /// ISO 8601; PT2H when absent.
    #[schema(max_length = 64, pattern = r"^P")]
    pub duration: Option<String>,
    /// Whom to grant (the caller when both are absent), by id…
    #[schema(max_length = 24, pattern = r"^[0-9a-f]{24}$")]
    pub user_id: Option<String>,
    /// …or by email.
    #[schema(max_length = 254, pattern = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")]
    pub user_email: Option<String>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub tags: Vec<String>,
}

/// The three grants made.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccessGranted {
    pub conversation_id: String,
    pub grants: Vec<GrantView>,
    pub revision: u64,
}

#[utoipa::path(post, path = "/v1/{org}/conversation/{id}/request_access", request_body = RequestAccess, params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 201, body = AccessGranted), (status = 404, body = super::views::ErrorBody), (status = 422, body = super::views::ErrorBody)))]
pub(super) async fn request_access(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<RequestAccess>,
) -> Result<(StatusCode, Json<AccessGranted>)> {
    let user = {
        let ix = state.index();
        resolve_user(service::org(&ix, &caller.ctx.org)?, body.user_id, body.user_email)?
    };
    let (revision, grants) =
        service::request_conversation_access(&state, &caller.ctx, &id, user, body.duration, &body.justification, body.tags).await?;
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    let grants = grants.iter().map(|g| GrantView::new(g, o, caller.ctx.now)).collect();
    Ok((StatusCode::CREATED, Json(AccessGranted { conversation_id: id.to_ascii_lowercase(), grants, revision })))
}
