//! The audit log: `GET /audit` with filters, and `GET /audit/verify`, which walks the
//! organization's hash chain. Both need `Audit:Read`.

use super::auth::Caller;
use super::extract::ApiQuery;
use crate::error::Result;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use grantry_core::audit::{verify_chain, AuditEvent, ChainBreak};
use grantry_core::authz::Action;
use grantry_core::Timestamp;
use grantry_store::AuditFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(list)).route("/audit/verify", get(verify))
}

/// Filters for the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListAudit {
    /// e.g. `rbac_grant`, `role.granted`, `role.expired`, `grant.created`, `grant.expired`, `apikey.created`.
    pub event_type: Option<String>,
    /// The actor, as `user:ID` or `system`.
    pub actor: Option<String>,
    /// The affected principal, as `user:ID` or `api_key:ID`.
    pub principal: Option<String>,
    /// The `rbac_grant` rows of one scope: `org`, `WS` or `WS/PRJ`.
    pub scope: Option<String>,
    pub target_id: Option<String>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<Timestamp>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<Timestamp>,
    /// Events after this sequence number (for paging).
    pub after_seq: Option<i64>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// A page of audit events, oldest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<AuditEvent>,
    /// Pass as `after_seq` for the next page; absent on the last page.
    pub next_after_seq: Option<i64>,
}

#[utoipa::path(get, path = "/v1/{org}/audit", params(("org" = String, Path), ListAudit), responses((status = 200, body = AuditPage)))]
pub(super) async fn list(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<ListAudit>) -> Result<Json<AuditPage>> {
    require_audit(&state, &caller)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let filter = AuditFilter {
        event_type: q.event_type,
        actor: q.actor,
        principal: q.principal,
        target_type: q.scope.is_some().then(|| "scope".to_owned()),
        target_id: q.scope.or(q.target_id),
        since: q.since,
        until: q.until,
        after_seq: q.after_seq,
        limit: Some(limit),
    };
    let events = state.store.audit_events(&caller.ctx.org, filter).await?;
    let full = events.len() == usize::try_from(limit).unwrap_or(usize::MAX);
    let next_after_seq = events.last().map(|e| e.seq).filter(|_| full);
    Ok(Json(AuditPage { events, next_after_seq }))
}

fn require_audit(state: &AppState, caller: &Caller) -> Result<()> {
    let ix = state.index();
    caller.ctx.authorize(&ix, Action::ReadAudit).map(drop)
}

/// The result of walking the chain.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Verification {
    pub ok: bool,
    pub events_checked: usize,
    #[schema(value_type = Option<Object>)]
    pub broken_at: Option<ChainBreak>,
    pub head_hash: Option<String>,
}

/// Walks the organization's whole chain.
pub async fn verify_org(state: &AppState, org: &grantry_core::ids::OrgId) -> Result<Verification> {
    let events = state.store.audit_events(org, AuditFilter::default()).await?;
    let head_hash = events.last().map(|e| e.hash.clone());
    Ok(match verify_chain(&events) {
        Ok(n) => Verification { ok: true, events_checked: n, broken_at: None, head_hash },
        Err(b) => Verification { ok: false, events_checked: usize::try_from(b.seq).unwrap_or(0), broken_at: Some(b), head_hash },
    })
}

#[utoipa::path(get, path = "/v1/{org}/audit/verify", params(("org" = String, Path)), responses((status = 200, body = Verification)))]
pub(super) async fn verify(State(state): State<AppState>, caller: Caller) -> Result<Json<Verification>> {
    require_audit(&state, &caller)?;
    Ok(Json(verify_org(&state, &caller.ctx.org).await?))
}
