//! Users and tokens: create users (with an organization role), look them up, issue and revoke
//! tokens, and `GET /me`.

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::views::{CredentialView, TokenView, UserView};
use crate::error::Result;
use crate::service;
use crate::service::ServiceError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use grantry_core::authz::Action;
use grantry_core::catalogue::role;
use grantry_core::duration::parse_grant_duration;
use grantry_core::ids::{TokenId, UserId};
use grantry_core::model::Principal;
use grantry_core::SignedDuration;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(me))
        .route("/users", get(list).post(create))
        .route("/users/{id}/tokens", post(issue_token))
        .route("/tokens", get(list_tokens))
        .route("/tokens/exchange", post(exchange_token))
        .route("/tokens/{id}", delete(revoke_token))
}

/// The caller and its organization.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub org_id: String,
    pub org_slug: String,
    pub principal: String,
    pub user: Option<UserView>,
    /// Who minted the token presented, when someone other than the caller did: their email (or
    /// `api_key:ID`). Such a token decides no access request until exchanged
    /// (`POST /v1/{org}/tokens/exchange`).
    pub token_made_by: Option<String>,
}

#[utoipa::path(get, path = "/v1/{org}/me", params(("org" = String, Path)), responses((status = 200, body = Me)))]
pub(super) async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<Me>> {
    let ctx = &caller.ctx;
    let ix = state.index();
    let o = service::org(&ix, &ctx.org)?;
    let user = match &ctx.actor {
        Principal::User(id) => o.user(id).map(|u| UserView::new(u, o, ctx.now)),
        Principal::Group(_) | Principal::ApiKey(_) => None,
    };
    Ok(Json(Me {
        org_id: ctx.org.0.clone(),
        org_slug: caller.org_slug.clone(),
        principal: ctx.actor.to_string(),
        user,
        token_made_by: ctx.token_made_by.as_ref().map(|p| match p {
            Principal::User(id) => o.user(id).map_or_else(|| p.to_string(), |u| u.email.clone()),
            _ => p.to_string(),
        }),
    }))
}

/// Filters for listing users.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListUsers {
    /// Only the user with this email.
    #[param(max_length = 254, pattern = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")]
    pub email: Option<String>,
}

/// Users.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserList {
    pub users: Vec<UserView>,
}

#[utoipa::path(get, path = "/v1/{org}/users", params(("org" = String, Path), ListUsers), responses((status = 200, body = UserList)))]
pub(super) async fn list(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<ListUsers>) -> Result<Json<UserList>> {
    let ctx = &caller.ctx;
    let ix = state.index();
    let o = service::org(&ix, &ctx.org)?;
    ctx.authorize(&ix, Action::ListUsers)?;
    let email = q.email.as_deref().map(grantry_core::validate::email).transpose()?;
    let users =
        o.users().into_iter().filter(|u| email.as_ref().is_none_or(|e| &u.email == e)).map(|u| UserView::new(u, o, ctx.now)).collect();
    Ok(Json(UserList { users }))
}

/// A user to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(max_length = 254, pattern = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")]
    pub email: String,
    /// An organization role (`org_member` when absent): `org_owner`, `org_admin`, `org_member`.
    pub role: Option<String>,
    /// Also issue a token for the new user (it lasts eight hours).
    #[serde(default)]
    pub token: bool,
}

/// The user created, and its token if asked for.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedUser {
    pub user: UserView,
    pub token: Option<TokenView>,
    pub revision: u64,
}

#[utoipa::path(post, path = "/v1/{org}/users", request_body = CreateUser, params(("org" = String, Path)),
    responses((status = 201, body = CreatedUser), (status = 409, body = super::views::ErrorBody)))]
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateUser>,
) -> Result<(StatusCode, Json<CreatedUser>)> {
    let role = body.role.as_deref().unwrap_or(role::ORG_MEMBER);
    let (revision, user, token) = service::create_user(&state, &caller.ctx, &body.email, role, body.token).await?;
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    let user = UserView::new(&user, o, caller.ctx.now);
    Ok((StatusCode::CREATED, Json(CreatedUser { user, token: token.as_ref().map(|t| TokenView::new(t, revision)), revision })))
}

/// A token to issue.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueToken {
    /// ISO 8601 lifetime (at most P365D). One's own token has no end when absent; one for someone
    /// else lasts PT8H when absent, and at most P1D.
    pub expires_in: Option<String>,
}

#[utoipa::path(post, path = "/v1/{org}/users/{id}/tokens", request_body = IssueToken, params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 201, body = TokenView)))]
pub(super) async fn issue_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<IssueToken>,
) -> Result<(StatusCode, Json<TokenView>)> {
    let ttl = token_ttl(body.expires_in.as_deref())?;
    let (revision, token) =
        service::issue_token(&state, &caller.ctx, &UserId(grantry_core::validate::record_id("user", &id)?), ttl).await?;
    Ok((StatusCode::CREATED, Json(TokenView::new(&token, revision))))
}

#[utoipa::path(post, path = "/v1/{org}/tokens/exchange", request_body = IssueToken, params(("org" = String, Path)),
    responses((status = 201, body = TokenView)))]
/// Exchanges the token presented for a new one of the caller's own (with no end unless
/// `expires_in` says), revoking the presented one in the same write: what a user does first with a
/// token someone else minted for them, since only a token of one's own decides access requests.
pub(super) async fn exchange_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<IssueToken>,
) -> Result<(StatusCode, Json<TokenView>)> {
    let ttl = token_ttl(body.expires_in.as_deref())?;
    let (revision, token) = service::exchange_token(&state, &caller.ctx, ttl).await?;
    Ok((StatusCode::CREATED, Json(TokenView::new(&token, revision))))
}

/// A token's lifetime as asked (at most P365D).
fn token_ttl(expires_in: Option<&str>) -> Result<Option<SignedDuration>> {
    Ok(expires_in
        .map(|t| parse_grant_duration(t, SignedDuration::from_hours(24 * 365)))
        .transpose()
        .map_err(ServiceError::about("expires_in"))?)
}

/// The revision that holds the revocation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Revoked {
    pub revision: u64,
}

#[utoipa::path(delete, path = "/v1/{org}/tokens/{id}", params(("org" = String, Path), ("id" = String, Path)), responses((status = 200, body = Revoked)))]
pub(super) async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> Result<Json<Revoked>> {
    let revision = service::revoke_token(&state, &caller.ctx, &TokenId(grantry_core::validate::record_id("token", &id)?)).await?;
    Ok(Json(Revoked { revision }))
}

/// Whose tokens to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListTokens {
    /// The user whose tokens to list (the caller's own when absent; another user's needs
    /// `User:Manage` over them).
    #[param(pattern = "^[0-9a-f]{24}$")]
    pub user_id: Option<String>,
}

/// Tokens, oldest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<CredentialView>,
}

#[utoipa::path(get, path = "/v1/{org}/tokens", params(("org" = String, Path), ListTokens), responses((status = 200, body = TokenList)))]
pub(super) async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListTokens>,
) -> Result<Json<TokenList>> {
    let ctx = &caller.ctx;
    let ix = state.index();
    let o = service::org(&ix, &ctx.org)?;
    let of = match q.user_id {
        None => ctx.actor.clone(),
        Some(id) => {
            let id = grantry_core::validate::record_id("user_id", &id)?;
            // Whether a user exists is told only to those who may manage users at all.
            ctx.authorize(&ix, Action::ManageUser { target: &Principal::User(UserId(String::new())) })?;
            let user = o.user(&UserId(id.clone())).ok_or_else(|| ServiceError::NotFound(format!("no user `{id}` in this organization")))?;
            Principal::User(user.id.clone())
        }
    };
    ctx.authorize(&ix, Action::ListTokens { of: &of })?;
    let mut tokens: Vec<CredentialView> = ix.credentials_of(&ctx.org, &of).into_iter().map(|c| CredentialView::new(c, ctx.now)).collect();
    tokens.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
    Ok(Json(TokenList { tokens }))
}
