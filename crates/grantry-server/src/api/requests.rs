//! Access requests: `POST|GET /access-requests`, `GET /access-requests/{id}`, and the decisions
//! `POST /access-requests/{id}/{approve,deny,cancel,revoke,review}` with a `reason`. A caller
//! sees its own requests, those it has approved and those it may decide now; with
//! `Role:ListTemporaryPermissionGrants`, every request.

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::request_views::RequestView;
use crate::error::Result;
use crate::service::{self, Decision, RequestSpec, ServiceError};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use grantry_core::index::DecisionIndex;
use grantry_core::model::{AccessRequest, RequestState};
use grantry_core::window::{self, Edge};
use grantry_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/access-requests", get(list).post(create))
        .route("/access-requests/{id}", get(show))
        .route("/access-requests/{id}/extension", post(extend))
        .route("/access-requests/{id}/{decision}", post(decide))
}

/// Requests, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RequestList {
    pub requests: Vec<RequestView>,
}

/// A request as written, and the revision that holds it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RequestWritten {
    pub request: RequestView,
    pub revision: u64,
}

/// A request for access, for oneself: a role or permissions on 1–20 targets.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewRequest {
    /// A role (give this or `permissions`).
    pub role: Option<String>,
    /// Data permissions (give these or `role`).
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Scope paths (`org`, `WS`, `WS/PRJ`, `WS/PRJ/ENV`) or registered resources as `TYPE:ID`.
    pub targets: Vec<String>,
    /// ISO 8601 (`PT2H` unless the organization says otherwise); the clock starts at approval.
    pub duration: Option<String>,
    /// The earliest the access may start (booked ahead, at most 31 days): a date, time or instant.
    pub start: Option<String>,
    /// The IANA timezone `start` is read in (UTC unless given).
    pub timezone: Option<String>,
    pub justification: String,
    /// A ticket reference (required where the deciding policy has a pattern).
    pub ticket: Option<String>,
    /// Break the glass: approved at once where a policy allows it, flagged, reviewed afterwards.
    #[serde(default)]
    pub break_glass: bool,
    /// Single use: a permission asked for whose first allowed check ends the access.
    pub single_use: Option<String>,
}

/// More time on an approved request (its requester asks).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionBody {
    /// ISO 8601: how much later the access ends.
    pub duration: String,
    /// Why (the request's own justification unless given).
    pub justification: Option<String>,
}

/// A decision's reason (send `{}` for none).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// Required to deny, and to revoke someone else's access.
    pub reason: Option<String>,
    /// Approving: only these of the request's targets (as listed: a scope path or `type:id`); the
    /// others are declined.
    pub targets: Option<Vec<String>>,
}

/// Filters; all optional.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListRequests {
    /// pending, scheduled, active, denied, cancelled, expired or revoked.
    pub state: Option<String>,
    /// Only the caller's own.
    pub mine: Option<bool>,
    /// Only those the caller may decide now.
    pub to_decide: Option<bool>,
    /// At most this many (100 unless given, at most 1,000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

fn view(state: &AppState, caller: &Caller, r: &AccessRequest, at: Timestamp) -> Result<RequestView> {
    let ix = state.index();
    Ok(RequestView::new(service::org(&ix, &caller.ctx.org)?, r, at))
}

#[utoipa::path(post, path = "/v1/{org}/access-requests", request_body = NewRequest, params(("org" = String, Path)),
    responses((status = 201, body = RequestWritten), (status = 403, body = super::views::ErrorBody), (status = 409, body = super::views::ErrorBody), (status = 422, body = super::views::ErrorBody)))]
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<NewRequest>,
) -> Result<(StatusCode, Json<RequestWritten>)> {
    let zone = window::zone("timezone", b.timezone.as_deref().unwrap_or("UTC"))?;
    let start = b.start.as_deref().map(|t| window::instant("start", t, &zone, Edge::Start)).transpose()?;
    let spec = RequestSpec {
        role: b.role,
        permissions: b.permissions,
        targets: b.targets,
        duration: b.duration,
        start,
        justification: b.justification,
        ticket: b.ticket,
        break_glass: b.break_glass,
        single_use: b.single_use,
    };
    let (revision, r) = service::create_request(&state, &caller.ctx, &spec).await?;
    let request = view(&state, &caller, &r, caller.ctx.now.max(r.created_at))?;
    Ok((StatusCode::CREATED, Json(RequestWritten { request, revision })))
}

fn visible(ix: &DecisionIndex, caller: &Caller, q: &ListRequests) -> Result<Vec<AccessRequest>> {
    let o = service::org(ix, &caller.ctx.org)?;
    let wanted: Option<RequestState> =
        q.state.as_deref().map(str::parse).transpose().map_err(|message| ServiceError::Invalid { field: "state".into(), message })?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1_000).contains(&limit) {
        return Err(ServiceError::Invalid { field: "limit".into(), message: "give 1 to 1000".into() }.into());
    }
    let now = caller.ctx.now;
    let me = &caller.ctx.actor;
    let decidable = |r: &AccessRequest| {
        (r.state(now) == RequestState::Pending || r.extension_pending(now))
            && r.open_stage().is_some_and(|stage| service::decides_in_person(ix, &caller.ctx, r, stage))
    };
    Ok(service::requests(o)
        .into_iter()
        .filter(|r| wanted.is_none_or(|w| r.state(now) == w))
        .filter(|r| !q.mine.unwrap_or(false) || matches!(me, grantry_core::model::Principal::User(id) if id == &r.requester))
        .filter(|r| !q.to_decide.unwrap_or(false) || decidable(r))
        .filter(|r| service::may_see(ix, &caller.ctx, r))
        .take(limit as usize)
        .collect())
}

#[utoipa::path(get, path = "/v1/{org}/access-requests", params(("org" = String, Path), ListRequests),
    responses((status = 200, body = RequestList), (status = 403, body = super::views::ErrorBody), (status = 422, body = super::views::ErrorBody)))]
pub(super) async fn list(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<ListRequests>) -> Result<Json<RequestList>> {
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    let requests = visible(&ix, &caller, &q)?.iter().map(|r| RequestView::new(o, r, caller.ctx.now)).collect();
    Ok(Json(RequestList { requests }))
}

#[utoipa::path(get, path = "/v1/{org}/access-requests/{id}", params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = RequestView), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> Result<Json<RequestView>> {
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    let r = service::find_request(o, &id)?;
    if !service::may_see(&ix, &caller.ctx, &r) {
        return Err(ServiceError::NotFound(format!(
            "no access request `{}`; `grantry access list` shows yours",
            grantry_core::validate::shown(&id)
        ))
        .into());
    }
    Ok(Json(RequestView::new(o, &r, caller.ctx.now)))
}

#[utoipa::path(post, path = "/v1/{org}/access-requests/{id}/{decision}", request_body = DecisionBody,
    params(("org" = String, Path), ("id" = String, Path), ("decision" = String, Path, description = "approve, deny, cancel, revoke or review")),
    responses((status = 200, body = RequestWritten), (status = 403, body = super::views::ErrorBody), (status = 404, body = super::views::ErrorBody), (status = 409, body = super::views::ErrorBody), (status = 422, body = super::views::ErrorBody)))]
pub(super) async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id, decision)): ApiPath<(String, String, String)>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<Json<RequestWritten>> {
    let decision = match decision.as_str() {
        "approve" => Decision::Approve,
        "deny" => Decision::Deny,
        "cancel" => Decision::Cancel,
        "revoke" => Decision::Revoke,
        "review" => Decision::Review,
        other => {
            return Err(ServiceError::NotFound(format!(
                "`{}` is not a decision; use approve, deny, cancel, revoke or review",
                grantry_core::validate::shown(other)
            ))
            .into())
        }
    };
    let (revision, r) = service::decide(&state, &caller.ctx, &id, decision, body.reason.as_deref(), body.targets.as_deref()).await?;
    // Shown as of the decision: a write waits its turn, and may be stamped after the call came.
    let decided = [
        r.closed.as_ref().map(|c| c.at),
        r.granted.map(|g| g.approved_at),
        r.approvals.last().map(|a| a.at),
        r.reviewed.as_ref().map(|a| a.at),
    ];
    let at = decided.into_iter().flatten().fold(caller.ctx.now, Timestamp::max);
    let request = view(&state, &caller, &r, at)?;
    Ok(Json(RequestWritten { request, revision }))
}

#[utoipa::path(post, path = "/v1/{org}/access-requests/{id}/extension", request_body = ExtensionBody,
    params(("org" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = RequestWritten), (status = 403, body = super::views::ErrorBody), (status = 404, body = super::views::ErrorBody), (status = 409, body = super::views::ErrorBody), (status = 422, body = super::views::ErrorBody)))]
pub(super) async fn extend(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<ExtensionBody>,
) -> Result<Json<RequestWritten>> {
    let spec = service::ExtensionSpec { duration: body.duration, justification: body.justification };
    let (revision, r) = service::extend(&state, &caller.ctx, &id, &spec).await?;
    let at =
        r.extension.as_ref().map(|e| e.asked_at).into_iter().chain(r.extended.last().map(|e| e.at)).fold(caller.ctx.now, Timestamp::max);
    let request = view(&state, &caller, &r, at)?;
    Ok(Json(RequestWritten { request, revision }))
}
