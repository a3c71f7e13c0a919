//! Traces (seed 002): `POST /v1/{org}/traces` captures one in an environment, classified at
//! capture; `GET /v1/{org}/traces` lists, and `GET /v1/{org}/traces/{id}` shows, those the caller
//! may read (each by the permission of its class, decided as a check is).

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::views::TraceView;
use crate::error::Result;
use crate::service;
use crate::service::ServiceError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use grantry_core::authz::Action;
use grantry_core::catalogue::perm;
use grantry_core::decision::ResourceQuery;
use grantry_core::model::{Resource, ResourceRef, ScopeKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new().route("/traces", post(capture).get(list)).route("/traces/{id}", get(show))
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
    #[serde(flatten)]
    pub trace: TraceView,
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
    let ix = state.index();
    let body = CapturedTrace { trace: TraceView::new(service::org(&ix, &caller.ctx.org)?, &trace), revision };
    Ok((StatusCode::CREATED, Json(body)))
}

/// Which traces to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListTraces {
    /// Only the traces of this project (`WS/PRJ`) or environment (`WS/PRJ/ENV`).
    pub under: Option<String>,
    /// At most this many, newest first (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Traces, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TraceList {
    pub traces: Vec<TraceView>,
}

#[utoipa::path(get, path = "/v1/{org}/traces", params(("org" = String, Path), ListTraces), responses((status = 200, body = TraceList)))]
pub(super) async fn list(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<ListTraces>) -> Result<Json<TraceList>> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ServiceError::Invalid { field: "limit".into(), message: format!("{limit} is out of range; give 1 to 1000") }.into());
    }
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    let under = match q.under.as_deref() {
        None => None,
        Some(path) => {
            grantry_core::authz::may_name(o, &caller.ctx.actor, path)?;
            let node = o.scope_by_path(path).filter(|n| matches!(n.kind, ScopeKind::Project | ScopeKind::Environment));
            let node = node.ok_or_else(|| {
                ServiceError::NotFound(format!(
                    "no project or environment `{}`; give WS/PRJ or WS/PRJ/ENV",
                    grantry_core::validate::shown(path)
                ))
            })?;
            Some(node.as_ref())
        }
    };
    let mut traces: Vec<Resource> = o
        .resources_of(service::TRACE)
        .into_iter()
        .filter(|t| under.as_ref().is_none_or(|u| o.is_within(&t.scope, u)))
        .filter(|t| caller.ctx.authorize(&ix, Action::ReadTrace { trace: t }).is_ok())
        .collect();
    traces.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.reference.id.cmp(&b.reference.id)));
    let traces = traces.into_iter().take(usize::try_from(limit).unwrap_or(usize::MAX)).map(|t| TraceView::new(o, &t)).collect();
    Ok(Json(TraceList { traces }))
}

#[utoipa::path(get, path = "/v1/{org}/traces/{id}", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = TraceView), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> Result<Json<TraceView>> {
    let id = grantry_core::validate::record_id("trace", &id)?;
    let hidden = || {
        ServiceError::NotFound(format!(
            "no trace `{id}` that you may read in this organization; production traces need `traces:read:prod`, others `traces:read`"
        ))
    };
    let (view, uses) = {
        let ix = state.index();
        let o = service::org(&ix, &caller.ctx.org)?;
        // One answer for a trace that does not exist and one the caller may not read, so that
        // neither its existence nor its class is told to whoever may not read it.
        let trace = o
            .resource(&ResourceRef::new(service::TRACE, id.as_str()))
            .filter(|t| caller.ctx.authorize(&ix, Action::ReadTrace { trace: t }).is_ok())
            .ok_or_else(hidden)?;
        let view = TraceView::new(o, &trace);
        // A read is a use: single-use access that allows it is used up by it.
        let uses = service::may_consume(o, &caller.ctx.actor).then(|| {
            let permission = if view.is_prod { perm::TRACES_READ_PROD } else { perm::TRACES_READ };
            (permission, ResourceQuery { reference: trace.reference.clone(), attributes: trace.attributes.clone() })
        });
        (view, uses)
    };
    if let Some((permission, query)) = uses {
        if !service::consume(&state, &caller.ctx, &caller.ctx.actor, permission, &query).await? {
            return Err(hidden().into());
        }
    }
    Ok(Json(view))
}
