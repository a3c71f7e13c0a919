//! `POST /v1/{org}/traces`: capture a trace in an environment, classified at capture (seed 002).

use super::auth::Caller;
use super::extract::ApiJson;
use crate::error::Result;
use crate::service;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use grantry_core::attr::AttrValue;
use grantry_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new().route("/traces", post(capture))
}

/// Where a trace was captured.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureTrace {
    /// `WORKSPACE/PROJECT`.
    pub project: String,
    /// The environment's name.
    pub environment: String,
}

/// A captured trace.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CapturedTrace {
    pub id: String,
    /// `WS/PRJ/ENV`.
    pub environment: String,
    /// The environment's production flag at capture; fixed for the trace's life.
    pub is_prod: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    pub revision: u64,
}

#[utoipa::path(post, path = "/v1/{org}/traces", request_body = CaptureTrace, params(("org" = String, Path)),
    responses((status = 201, body = CapturedTrace), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn capture(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<CaptureTrace>,
) -> Result<(StatusCode, Json<CapturedTrace>)> {
    let (revision, trace) = service::capture_trace(&state, &caller.ctx, &b.project, &b.environment).await?;
    let is_prod = trace.attributes.get("is_prod") == Some(&AttrValue::Bool(true));
    let body = CapturedTrace {
        id: trace.reference.id,
        environment: format!("{}/{}", b.project, b.environment),
        is_prod,
        created_at: trace.created_at,
        revision,
    };
    Ok((StatusCode::CREATED, Json(body)))
}
