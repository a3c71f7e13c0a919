//! Webhooks: `POST|GET /webhooks`, `GET|DELETE /webhooks/{id}` (by id or name),
//! `POST /webhooks/{id}/rotate` (a new secret, shown once), `POST /webhooks/{id}/ping` (a test
//! notification) and `GET /webhooks/{id}/deliveries` (what was sent, retried or given up).
//! All need `Webhook:Manage`.

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use crate::error::Result;
use crate::service::{self, ServiceError, WebhookChange, WebhookSpec};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use grantry_core::authz::Action;
use grantry_core::model::{PayloadFormat, Webhook};
use grantry_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks", get(list).post(create))
        .route("/webhooks/{id}", get(show).delete(remove))
        .route("/webhooks/{id}/rotate", post(rotate))
        .route("/webhooks/{id}/ping", post(ping))
        .route("/webhooks/{id}/deliveries", get(deliveries))
}

/// A webhook (never its secret).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub name: String,
    pub url: String,
    /// The notifications it wants (empty: all).
    pub events: Vec<String>,
    /// `json` or `chat`.
    pub format: String,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<&Webhook> for WebhookView {
    fn from(w: &Webhook) -> Self {
        let format = match w.format {
            PayloadFormat::Json => "json",
            PayloadFormat::Chat => "chat",
        };
        Self {
            id: w.id.clone(),
            name: w.name.clone(),
            url: w.url.clone(),
            events: w.events.clone(),
            format: format.into(),
            created_by: w.created_by.clone(),
            created_at: w.created_at,
        }
    }
}

/// A webhook as written; `secret` only when it was made or rotated (shown this once).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookWritten {
    pub webhook: WebhookView,
    pub secret: Option<String>,
    pub revision: u64,
}

/// The webhooks, by name.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookView>,
}

/// A webhook to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    #[schema(max_length = 100)]
    pub name: String,
    /// An http or https URL.
    pub url: String,
    /// Notification types (all unless given): request.created, request.approved, grant.expired, …
    #[serde(default)]
    pub events: Vec<String>,
    /// `json` (the default) or `chat` (`{"text": …}`, for a chat tool's incoming webhook).
    pub format: Option<String>,
}

/// One notification and how its delivery stands.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryView {
    pub id: String,
    pub event_type: String,
    /// `delivered`, `pending` (retried at `next_attempt_at`) or `given_up`.
    pub status: String,
    pub attempts: u32,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<Timestamp>,
    pub last_error: Option<String>,
    /// The body sent.
    pub payload: serde_json::Value,
}

/// The newest notifications of a webhook.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<DeliveryView>,
}

/// How many deliveries to show.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDeliveries {
    /// At most this many (50 unless given, at most 500).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

fn format(text: Option<&str>) -> Result<PayloadFormat> {
    match text.map(str::trim) {
        None | Some("json") => Ok(PayloadFormat::Json),
        Some("chat") => Ok(PayloadFormat::Chat),
        Some(other) => Err(ServiceError::Invalid {
            field: "format".into(),
            message: format!("`{}` is not a payload format; use json or chat", grantry_core::validate::shown(other)),
        }
        .into()),
    }
}

/// The webhook the path names, for a caller who may manage webhooks.
fn found(state: &AppState, caller: &Caller, id: &str) -> Result<Webhook> {
    let ix = state.index();
    caller.ctx.authorize(&ix, Action::ManageWebhooks)?;
    Ok(service::find_webhook(service::org(&ix, &caller.ctx.org)?, id)?)
}

#[utoipa::path(post, path = "/v1/{org}/webhooks", request_body = NewWebhook, params(("org" = String, Path)),
    responses((status = 201, body = WebhookWritten), (status = 403, body = super::views::ErrorBody), (status = 409, body = super::views::ErrorBody), (status = 422, body = super::views::ErrorBody)))]
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<NewWebhook>,
) -> Result<(StatusCode, Json<WebhookWritten>)> {
    {
        let ix = state.index();
        caller.ctx.authorize(&ix, Action::ManageWebhooks)?;
    }
    let spec = WebhookSpec { name: b.name, url: b.url, events: b.events, format: format(b.format.as_deref())? };
    let (revision, hook, secret) = service::create_webhook(&state, &caller.ctx, &spec).await?;
    Ok((StatusCode::CREATED, Json(WebhookWritten { webhook: (&hook).into(), secret: Some(secret), revision })))
}

#[utoipa::path(get, path = "/v1/{org}/webhooks", params(("org" = String, Path)),
    responses((status = 200, body = WebhookList), (status = 403, body = super::views::ErrorBody)))]
pub(super) async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<WebhookList>> {
    let ix = state.index();
    caller.ctx.authorize(&ix, Action::ManageWebhooks)?;
    let o = service::org(&ix, &caller.ctx.org)?;
    Ok(Json(WebhookList { webhooks: service::webhooks(o).iter().map(WebhookView::from).collect() }))
}

#[utoipa::path(get, path = "/v1/{org}/webhooks/{id}", params(("org" = String, Path), ("id" = String, Path, description = "the webhook's id or name")),
    responses((status = 200, body = WebhookView), (status = 403, body = super::views::ErrorBody), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> Result<Json<WebhookView>> {
    Ok(Json((&found(&state, &caller, &id)?).into()))
}

async fn change(state: &AppState, caller: &Caller, id: &str, change: WebhookChange) -> Result<Json<WebhookWritten>> {
    let (revision, hook, secret) = service::change_webhook(state, &caller.ctx, id, change).await?;
    Ok(Json(WebhookWritten { webhook: (&hook).into(), secret, revision }))
}

#[utoipa::path(delete, path = "/v1/{org}/webhooks/{id}", params(("org" = String, Path), ("id" = String, Path, description = "the webhook's id or name")),
    responses((status = 200, body = WebhookWritten), (status = 403, body = super::views::ErrorBody), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> Result<Json<WebhookWritten>> {
    change(&state, &caller, &id, WebhookChange::Delete).await
}

#[utoipa::path(post, path = "/v1/{org}/webhooks/{id}/rotate", params(("org" = String, Path), ("id" = String, Path, description = "the webhook's id or name")),
    responses((status = 200, body = WebhookWritten), (status = 403, body = super::views::ErrorBody), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> Result<Json<WebhookWritten>> {
    change(&state, &caller, &id, WebhookChange::Rotate).await
}

#[utoipa::path(post, path = "/v1/{org}/webhooks/{id}/ping", params(("org" = String, Path), ("id" = String, Path, description = "the webhook's id or name")),
    responses((status = 200, body = WebhookWritten), (status = 403, body = super::views::ErrorBody), (status = 404, body = super::views::ErrorBody),
        (status = 409, body = super::views::ErrorBody, description = "pinged five times in the last minute")))]
pub(super) async fn ping(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> Result<Json<WebhookWritten>> {
    change(&state, &caller, &id, WebhookChange::Ping).await
}

#[utoipa::path(get, path = "/v1/{org}/webhooks/{id}/deliveries", params(("org" = String, Path), ("id" = String, Path, description = "the webhook's id or name"), ListDeliveries),
    responses((status = 200, body = DeliveryList), (status = 403, body = super::views::ErrorBody), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<ListDeliveries>,
) -> Result<Json<DeliveryList>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ServiceError::Invalid { field: "limit".into(), message: "give 1 to 500".into() }.into());
    }
    let hook = found(&state, &caller, &id)?;
    let records = state.store.notices(&caller.ctx.org, &hook.id, limit).await.map_err(ServiceError::from)?;
    let deliveries = records
        .into_iter()
        .map(|n| DeliveryView {
            status: if n.delivered_at.is_some() {
                "delivered"
            } else if n.given_up {
                "given_up"
            } else {
                "pending"
            }
            .into(),
            id: n.id,
            event_type: n.event_type,
            attempts: n.attempts,
            created_at: n.created_at,
            next_attempt_at: n.next_attempt_at,
            delivered_at: n.delivered_at,
            last_error: n.last_error,
            payload: serde_json::from_str(&n.payload).unwrap_or(serde_json::Value::String(n.payload)),
        })
        .collect();
    Ok(Json(DeliveryList { deliveries }))
}
