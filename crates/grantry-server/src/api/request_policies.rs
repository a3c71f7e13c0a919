//! Request policies: `POST|GET /request-policies`, `GET|DELETE /request-policies/{id}` (by id or
//! name). Anyone in the organization reads them — a requester should know who decides; making or
//! deleting one needs `AccessPolicy:Manage` where it applies.

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath};
use crate::error::Result;
use crate::service::{self, PolicySpec, ServiceError, StageSpec};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use grantry_core::duration::format_iso;
use grantry_core::index::OrgState;
use grantry_core::model::{EnvFilter, RequestPolicy};
use grantry_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new().route("/request-policies", get(list).post(create)).route("/request-policies/{id}", get(show).delete(remove))
}

/// A stage: `approvals` distinct approvers among the holders of `roles` and the members of
/// `groups` (both empty: whoever may approve requests there); after `escalateAfter`, also the
/// escalation's.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StageBody {
    #[serde(default)]
    pub name: String,
    #[schema(minimum = 1, maximum = 10)]
    pub approvals: u32,
    #[serde(default)]
    pub roles: Vec<String>,
    /// Group names or ids.
    #[serde(default)]
    pub groups: Vec<String>,
    /// ISO 8601.
    pub escalate_after: Option<String>,
    #[serde(default)]
    pub escalation_roles: Vec<String>,
    #[serde(default)]
    pub escalation_groups: Vec<String>,
}

/// A request policy to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewPolicy {
    #[schema(max_length = 100)]
    pub name: String,
    /// The scope path it covers (`org` or absent: the whole organization).
    #[serde(default)]
    pub scope: String,
    /// `production` or `non_production` (absent: both).
    pub environment: Option<String>,
    /// Only resources of this data classification (an agent's `classification`, say).
    pub classification: Option<String>,
    /// Approved at once (give no stages).
    #[serde(default)]
    pub auto_approve: bool,
    #[serde(default)]
    pub stages: Vec<StageBody>,
    /// ISO 8601, `PT24H` unless given (at most 14 days).
    pub pending_timeout: Option<String>,
    /// ISO 8601: the longest access a request may ask for.
    pub max_duration: Option<String>,
    /// A pattern (regular expression) every ticket reference must match whole.
    pub ticket_pattern: Option<String>,
    /// Whether the glass may be broken: approved at once, flagged, reviewed afterwards.
    #[serde(default)]
    pub break_glass: bool,
    /// ISO 8601: how long before access ends its holder is warned (`PT15M` unless given).
    pub expiry_warning: Option<String>,
    /// The roles and permissions it decides requests for (any unless given).
    #[serde(default)]
    pub requestable: Vec<String>,
}

/// A request policy.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyView {
    pub id: String,
    pub name: String,
    pub scope: String,
    pub environment: Option<String>,
    pub classification: Option<String>,
    pub auto_approve: bool,
    pub stages: Vec<StageBody>,
    pub pending_timeout: String,
    pub max_duration: String,
    pub ticket_pattern: Option<String>,
    pub break_glass: bool,
    pub expiry_warning: String,
    pub requestable: Vec<String>,
    /// How it decides, in words.
    pub summary: String,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

fn env_name(e: EnvFilter) -> &'static str {
    match e {
        EnvFilter::Production => "production",
        EnvFilter::NonProduction => "non_production",
    }
}

impl PolicyView {
    fn new(o: &OrgState, p: &RequestPolicy) -> Self {
        let group = |g: &grantry_core::ids::GroupId| o.group(g).map_or_else(|| g.to_string(), |g| g.name.clone());
        let stages = p
            .stages
            .iter()
            .map(|s| StageBody {
                name: s.name.clone(),
                approvals: s.approvals,
                roles: s.approvers.roles.clone(),
                groups: s.approvers.groups.iter().map(group).collect(),
                escalate_after: s.escalate_after.map(format_iso),
                escalation_roles: s.escalation.roles.clone(),
                escalation_groups: s.escalation.groups.iter().map(group).collect(),
            })
            .collect();
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            scope: p.scope.clone(),
            environment: p.environment.map(|e| env_name(e).to_owned()),
            classification: p.classification.clone(),
            auto_approve: p.auto_approve,
            stages,
            pending_timeout: format_iso(p.pending_timeout),
            max_duration: format_iso(p.max_duration),
            ticket_pattern: p.ticket_pattern.clone(),
            break_glass: p.break_glass,
            expiry_warning: format_iso(p.expiry_warning),
            requestable: p.requestable.clone(),
            summary: service::summary(p),
            created_by: p.created_by.clone(),
            created_at: p.created_at,
        }
    }
}

/// The policies, most specific first (the first that covers a target decides it).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PolicyList {
    pub policies: Vec<PolicyView>,
}

/// A policy as written, and the revision that holds it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PolicyWritten {
    pub policy: PolicyView,
    pub revision: u64,
}

fn spec(b: NewPolicy) -> Result<PolicySpec> {
    let environment = match b.environment.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("production") => Some(EnvFilter::Production),
        Some("non_production") => Some(EnvFilter::NonProduction),
        Some(other) => {
            return Err(ServiceError::Invalid {
                field: "environment".into(),
                message: format!(
                    "`{}` is not an environment filter; use production or non_production",
                    grantry_core::validate::shown(other)
                ),
            }
            .into())
        }
    };
    let stages = b
        .stages
        .into_iter()
        .map(|s| StageSpec {
            name: s.name,
            approvals: s.approvals,
            roles: s.roles,
            groups: s.groups,
            escalate_after: s.escalate_after,
            escalation_roles: s.escalation_roles,
            escalation_groups: s.escalation_groups,
        })
        .collect();
    Ok(PolicySpec {
        name: b.name,
        scope: b.scope,
        environment,
        classification: b.classification,
        auto_approve: b.auto_approve,
        stages,
        pending_timeout: b.pending_timeout,
        max_duration: b.max_duration,
        ticket_pattern: b.ticket_pattern,
        break_glass: b.break_glass,
        expiry_warning: b.expiry_warning,
        requestable: b.requestable,
    })
}

fn view(state: &AppState, caller: &Caller, p: &RequestPolicy) -> Result<PolicyView> {
    let ix = state.index();
    Ok(PolicyView::new(service::org(&ix, &caller.ctx.org)?, p))
}

#[utoipa::path(post, path = "/v1/{org}/request-policies", request_body = NewPolicy, params(("org" = String, Path)),
    responses((status = 201, body = PolicyWritten), (status = 403, body = super::views::ErrorBody), (status = 409, body = super::views::ErrorBody), (status = 422, body = super::views::ErrorBody)))]
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<NewPolicy>,
) -> Result<(StatusCode, Json<PolicyWritten>)> {
    let (revision, p) = service::create_policy(&state, &caller.ctx, &spec(b)?).await?;
    Ok((StatusCode::CREATED, Json(PolicyWritten { policy: view(&state, &caller, &p)?, revision })))
}

#[utoipa::path(get, path = "/v1/{org}/request-policies", params(("org" = String, Path)), responses((status = 200, body = PolicyList)))]
pub(super) async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<PolicyList>> {
    let ix = state.index();
    caller.ctx.authorize(&ix, grantry_core::authz::Action::ReadOrganization)?;
    let o = service::org(&ix, &caller.ctx.org)?;
    Ok(Json(PolicyList { policies: service::policies(o).iter().map(|p| PolicyView::new(o, p)).collect() }))
}

#[utoipa::path(get, path = "/v1/{org}/request-policies/{id}", params(("org" = String, Path), ("id" = String, Path, description = "the policy's id or name")),
    responses((status = 200, body = PolicyView), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> Result<Json<PolicyView>> {
    let ix = state.index();
    caller.ctx.authorize(&ix, grantry_core::authz::Action::ReadOrganization)?;
    let o = service::org(&ix, &caller.ctx.org)?;
    Ok(Json(PolicyView::new(o, &service::find_policy(o, &id)?)))
}

#[utoipa::path(delete, path = "/v1/{org}/request-policies/{id}", params(("org" = String, Path), ("id" = String, Path, description = "the policy's id or name")),
    responses((status = 200, body = PolicyWritten), (status = 403, body = super::views::ErrorBody), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((_, id)): ApiPath<(String, String)>,
) -> Result<Json<PolicyWritten>> {
    let (revision, p) = service::delete_policy(&state, &caller.ctx, &id).await?;
    Ok(Json(PolicyWritten { policy: view(&state, &caller, &p)?, revision }))
}
