//! `/healthz` (the process answers), `/readyz` (the index is loaded; its revision) and `/metrics`
//! (Prometheus, for the bearer of the metrics token only).

use crate::state::AppState;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics))
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "status": "ready", "revision": state.revision() }))
}

/// The metrics, to the bearer of the metrics token; off (404) when the server was started without one.
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let bearer = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
    let refuse = |status: StatusCode, message: &str| {
        (status, Json(json!({ "error": { "code": "unauthorized", "message": message } }))).into_response()
    };
    match state.metrics().admits(bearer) {
        None => (StatusCode::NOT_FOUND, Json(json!({ "error": { "code": "not_found", "message": "metrics are off; start the server with --metrics-token-file to serve them" } })))
            .into_response(),
        Some(false) => refuse(StatusCode::UNAUTHORIZED, "send the metrics token (--metrics-token-file) as `Authorization: Bearer …`; organization tokens do not open /metrics"),
        Some(true) => match crate::metrics::render(&state).await {
            Ok(text) => ([(CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response(),
            Err(e) => e.into_response(),
        },
    }
}
