//! API keys of projects (seed 002): `POST /api-keys` (the secret is in this response only),
//! `GET /api-keys` (the keys of the projects the caller manages keys of), `PATCH /api-keys/{id}`
//! to add or remove scopes and rename, `POST /api-keys/{id}/rotate` for a new secret (the old ones
//! working for a grace period), `DELETE /api-keys/{id}` to revoke.

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath};
use crate::error::Result;
use crate::service;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use grantry_core::authz::Action;
use grantry_core::catalogue::Catalogue;
use grantry_core::duration::parse_grace;
use grantry_core::ids::ApiKeyId;
use grantry_core::index::OrgState;
use grantry_core::model::{ApiKey, ScopeRef};
use grantry_core::validate;
use grantry_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api-keys", get(list).post(create))
        .route("/api-keys/{id}", patch(edit).delete(revoke))
        .route("/api-keys/{id}/rotate", post(rotate))
}

/// An API key (never its secret).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct KeyView {
    pub id: String,
    pub name: String,
    /// `WS/PRJ`: the project the key acts within.
    pub project: String,
    /// The permissions the key carries now.
    pub scopes: Vec<String>,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
    /// The user whose access it carries, when it was delegated: it never allows what they may
    /// not do now.
    pub delegated_by: Option<String>,
}

impl KeyView {
    fn new(k: &ApiKey, o: &OrgState, cat: &Catalogue, now: Timestamp) -> Self {
        Self {
            id: k.id.0.clone(),
            name: k.name.clone(),
            project: o.scope_path(&ScopeRef::Project(k.project.clone())),
            scopes: service::key_scopes(o, cat, k, now).into_iter().collect(),
            created_by: k.created_by.to_string(),
            created_at: k.created_at,
            revoked_at: k.revoked_at,
            delegated_by: k.delegated_by.as_ref().map(|u| o.user(u).map_or_else(|| u.to_string(), |x| x.email.clone())),
        }
    }
}

/// A key to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// `WS/PRJ`.
    #[schema(max_length = 127, pattern = r"^[a-z0-9][a-z0-9-]{0,62}/[a-z0-9][a-z0-9-]{0,62}$")]
    pub project: String,
    /// e.g. `["traces:read:prod"]`.
    pub scopes: Vec<String>,
    #[schema(max_length = 100)]
    pub name: Option<String>,
    /// Hand your own access to an agent: the key never allows what you may not do at the moment
    /// of a check (any user may, for permissions they hold at the project now).
    #[serde(default)]
    pub delegate: bool,
    /// A delegated key's lifetime, ISO 8601 (at most the organization's longest grant).
    pub duration: Option<String>,
}

/// A created key, with its secret: shown here once, stored only hashed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedKeyView {
    pub key: KeyView,
    /// Send as `Authorization: Bearer <secret>`; it cannot be shown again.
    pub secret: String,
    pub revision: u64,
}

/// A key as written, and the revision that holds it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct KeyWritten {
    pub key: KeyView,
    pub revision: u64,
}

/// The keys the caller may see.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct KeyList {
    pub keys: Vec<KeyView>,
}

/// Scopes to add and to remove.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditKey {
    #[serde(default)]
    pub add_scopes: Vec<String>,
    #[serde(default)]
    pub remove_scopes: Vec<String>,
    /// A new name (1 to 100 printable characters).
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
}

/// How to rotate a key's secret.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKey {
    /// How long the key's current secrets keep working, ISO 8601, from PT0S (not at all) to P7D.
    pub grace: String,
}

/// A rotated key: its new secret (shown only here), and until when the old ones work.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RotatedKey {
    pub key: KeyView,
    pub secret: String,
    #[schema(value_type = String, format = DateTime)]
    pub old_secrets_until: Timestamp,
    pub revision: u64,
}

fn view(state: &AppState, caller: &Caller, key: &ApiKey) -> Result<KeyView> {
    let ix = state.index();
    Ok(KeyView::new(key, service::org(&ix, &caller.ctx.org)?, ix.catalogue(), caller.ctx.now))
}

#[utoipa::path(post, path = "/v1/{org}/api-keys", request_body = CreateKey, params(("org" = String, Path)),
    responses((status = 201, body = CreatedKeyView), (status = 403, body = super::views::ErrorBody), (status = 422, body = super::views::ErrorBody)))]
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<CreateKey>,
) -> Result<(StatusCode, Json<CreatedKeyView>)> {
    let delegation = b.delegate.then(|| service::Delegation { duration: b.duration.clone() });
    if !b.delegate && b.duration.is_some() {
        return Err(crate::service::ServiceError::Invalid {
            field: "duration".into(),
            message: "only a delegated key has a duration; give delegate: true".into(),
        }
        .into());
    }
    let (revision, created) =
        service::create_key(&state, &caller.ctx, &b.project, &b.scopes, b.name.as_deref(), delegation.as_ref()).await?;
    let key = view(&state, &caller, &created.key)?;
    Ok((StatusCode::CREATED, Json(CreatedKeyView { key, secret: created.secret, revision })))
}

#[utoipa::path(get, path = "/v1/{org}/api-keys", params(("org" = String, Path)), responses((status = 200, body = KeyList)))]
pub(super) async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<KeyList>> {
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    let (cat, now) = (ix.catalogue(), caller.ctx.now);
    let keys = o
        .api_keys()
        .into_iter()
        .filter(|k| {
            let mine = matches!((&caller.ctx.actor, &k.delegated_by), (grantry_core::model::Principal::User(me), Some(by)) if me == by);
            mine || caller.ctx.authorize(&ix, Action::ManageApiKeys { project: &ScopeRef::Project(k.project.clone()) }).is_ok()
        })
        .map(|k| KeyView::new(k, o, cat, now))
        .collect();
    Ok(Json(KeyList { keys }))
}

#[utoipa::path(patch, path = "/v1/{org}/api-keys/{id}", request_body = EditKey, params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = KeyWritten), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn edit(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<EditKey>,
) -> Result<Json<KeyWritten>> {
    let edit = service::KeyEdit { add: b.add_scopes, remove: b.remove_scopes, name: b.name };
    let (revision, key, _) = service::edit_key(&state, &caller.ctx, &ApiKeyId(validate::record_id("api key", &id)?), &edit).await?;
    Ok(Json(KeyWritten { key: view(&state, &caller, &key)?, revision }))
}

#[utoipa::path(delete, path = "/v1/{org}/api-keys/{id}", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = KeyWritten), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> Result<Json<KeyWritten>> {
    let (revision, key) = service::revoke_key(&state, &caller.ctx, &ApiKeyId(validate::record_id("api key", &id)?)).await?;
    Ok(Json(KeyWritten { key: view(&state, &caller, &key)?, revision }))
}

#[utoipa::path(post, path = "/v1/{org}/api-keys/{id}/rotate", request_body = RotateKey, params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = RotatedKey), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<RotateKey>,
) -> Result<Json<RotatedKey>> {
    let grace = parse_grace(&b.grace, service::MAX_ROTATION_GRACE)?;
    let (revision, key, secret, until) =
        service::rotate_key(&state, &caller.ctx, &ApiKeyId(validate::record_id("api key", &id)?), grace).await?;
    Ok(Json(RotatedKey { key: view(&state, &caller, &key)?, secret, old_secrets_until: until, revision }))
}
