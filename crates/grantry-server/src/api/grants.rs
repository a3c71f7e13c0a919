//! The temporary-grant endpoints, in the shapes of seed 001's platform:
//! `POST /role/temporary_permission_grant/`, `GET /role/temporary_permission_grants/`, and
//! `DELETE /role/temporary_permission_grant/{id}/` to revoke.

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::page::page;
use super::views::{GrantView, PermissionGrantView};
use crate::error::Result;
use crate::service::ServiceError;
use crate::service::{self, GrantSpec};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use grantry_core::authz::Action;
use grantry_core::catalogue::PermissionGrant;
use grantry_core::ids::{GrantId, UserId};
use grantry_core::model::{GrantSource, Principal};
use grantry_core::Timestamp;
use grantry_store::GrantFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/role/temporary_permission_grant/", post(create))
        .route("/role/temporary_permission_grants/", get(list))
        .route("/role/temporary_permission_grant/{id}/", delete(revoke))
}

/// A request for one temporary permission grant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGrant {
    #[schema(max_length = 24, pattern = r"^[0-9a-f]{24}$")]
    pub user_id: String,
    /// ISO 8601 (`PT30M`, `PT2H`, `P1D`); the organization's default (PT2H) when absent.
    #[schema(max_length = 64, pattern = r"^P")]
    pub duration: Option<String>,
    pub permission_grant: PermissionGrantView,
    /// Why access is needed (at least 10 characters).
    #[schema(min_length = 1, max_length = 10000)]
    pub justification: String,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub tags: Vec<String>,
}

/// The grant made.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedGrant {
    pub temporary_permission_grant_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    /// The revision that holds the grant.
    pub revision: u64,
}

#[utoipa::path(post, path = "/v1/{org}/role/temporary_permission_grant/", request_body = CreateGrant,
    params(("org" = String, Path, description = "organization slug")),
    responses((status = 201, body = CreatedGrant), (status = 422, body = super::views::ErrorBody)))]
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateGrant>,
) -> Result<(StatusCode, Json<CreatedGrant>)> {
    let conditions = serde_json::from_value(body.permission_grant.conditions.clone()).map_err(|e| ServiceError::Invalid {
        field: "permission_grant.conditions".into(),
        message: format!("{e}; write each as {{\"attr\": {{\"type\": \"Equals\", \"value\": …}}}}"),
    })?;
    let spec = GrantSpec {
        user: UserId(body.user_id),
        permission: PermissionGrant { permission: body.permission_grant.permission_name, conditions },
        duration: body.duration,
        justification: body.justification,
        tags: body.tags,
    };
    let (revision, grants) = service::create_grants(&state, &caller.ctx, vec![spec], GrantSource::Manual).await?;
    let g = grants.first().ok_or_else(|| ServiceError::Internal("no grant made".into()))?;
    let expires_at = g.expires_at.ok_or_else(|| ServiceError::Internal("temporary grant without an end".into()))?;
    Ok((StatusCode::CREATED, Json(CreatedGrant { temporary_permission_grant_id: g.id.0.clone(), expires_at, revision })))
}

/// Filters for listing grants.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListGrants {
    /// Only this user's grants (callers without `Role:ListTemporaryPermissionGrants` see only their own).
    pub user_id: Option<String>,
    /// `false`: active grants only; `true`: ended ones (expired or revoked) only.
    pub is_expired: Option<bool>,
    /// Only grants created by this actor (`user:ID`).
    pub creator: Option<String>,
    /// Only grants with this tag.
    pub tag: Option<String>,
    /// `expires_at`, `-expires_at`, `created_at` or `-created_at` (the default).
    pub sort_by: Option<String>,
    /// At most this many (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
    pub continuation_token: Option<usize>,
}

/// A page of grants.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GrantPage {
    pub temporary_permission_grants: Vec<GrantView>,
    pub has_more: bool,
    pub continuation_token: Option<usize>,
}

#[utoipa::path(get, path = "/v1/{org}/role/temporary_permission_grants/", params(("org" = String, Path), ListGrants),
    responses((status = 200, body = GrantPage), (status = 403, body = super::views::ErrorBody)))]
pub(super) async fn list(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<ListGrants>) -> Result<Json<GrantPage>> {
    let ctx = &caller.ctx;
    let user = {
        let ix = state.index();
        service::org(&ix, &ctx.org)?;
        let sees_all = ctx.authorize(&ix, Action::ListGrants { of: None }).is_ok();
        match &q.user_id {
            Some(u) => {
                let p = Principal::User(UserId(u.clone()));
                ctx.authorize(&ix, Action::ListGrants { of: Some(&p) })?;
                Some(p)
            }
            None if !sees_all => Some(ctx.actor.clone()),
            None => None,
        }
    };
    // The store keeps every grant, ended ones included; the index only the live.
    let mut grants = state.store.grants(&ctx.org, GrantFilter { principal: user, temporary: true, ..GrantFilter::default() }).await?;
    if let Some(ended) = q.is_expired {
        grants.retain(|g| ended != g.is_active(ctx.now));
    }
    if let Some(c) = &q.creator {
        grants.retain(|g| &g.creator.to_string() == c);
    }
    if let Some(t) = &q.tag {
        grants.retain(|g| g.tags.contains(t));
    }
    match q.sort_by.as_deref().unwrap_or("-created_at") {
        "created_at" => grants.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id))),
        "-created_at" => grants.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id))),
        "expires_at" => grants.sort_by(|a, b| (a.expires_at, &a.id).cmp(&(b.expires_at, &b.id))),
        "-expires_at" => grants.sort_by(|a, b| (b.expires_at, &b.id).cmp(&(a.expires_at, &a.id))),
        other => {
            return Err(ServiceError::Invalid {
                field: "sort_by".into(),
                message: format!("`{other}` is not a sort; use expires_at, -expires_at, created_at or -created_at"),
            }
            .into());
        }
    }
    let ix = state.index();
    let o = service::org(&ix, &ctx.org)?;
    let p = page(&grants, q.limit, q.continuation_token, |g| GrantView::new(g, o, ctx.now))?;
    Ok(Json(GrantPage { temporary_permission_grants: p.items, has_more: p.has_more, continuation_token: p.continuation_token }))
}

/// The revoked grant.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RevokedGrant {
    pub temporary_permission_grant_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub revoked_at: Timestamp,
    pub revision: u64,
}

#[utoipa::path(delete, path = "/v1/{org}/role/temporary_permission_grant/{id}/", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = RevokedGrant), (status = 409, body = super::views::ErrorBody)))]
pub(super) async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> Result<Json<RevokedGrant>> {
    let (revision, grant) = service::revoke_grant(&state, &caller.ctx, &GrantId(id)).await?;
    let revoked_at = grant.revoked.map_or(caller.ctx.now, |r| r.at);
    Ok(Json(RevokedGrant { temporary_permission_grant_id: grant.id.0, revoked_at, revision }))
}
