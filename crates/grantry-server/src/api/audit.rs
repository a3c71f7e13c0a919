//! The audit log: `GET /audit` with filters; `GET /audit/verify`, which checks the organization's
//! keyed hash chain against its signed checkpoint and returns the signed head as a digest; and
//! `POST /audit/verify`, which also checks the log against a digest taken earlier. All need
//! `Audit:Read`.

use super::auth::Caller;
use super::extract::{ApiJson, ApiQuery};
use super::views::AuditEventView;
use crate::error::Result;
use crate::service;
use crate::service::ServiceError;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use grantry_core::audit::{AuditEvent, ChainBreak, Checkpoint};
use grantry_core::authz::Action;
use grantry_core::ids::OrgId;
use grantry_core::model::{Principal, ScopeNode, ScopeRef};
use grantry_core::Timestamp;
use grantry_store::AuditFilter;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(list)).route("/audit/verify", get(verify).post(verify_digest))
}

/// Filters for the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListAudit {
    /// e.g. `rbac_grant`, `role.granted`, `role.expired`, `grant.created`, `grant.expired`, `apikey.created`.
    pub event_type: Option<String>,
    /// The actor, as `user:ID` or `system`.
    pub actor: Option<String>,
    /// The affected principal, as `user:ID` or `api_key:ID`.
    pub principal: Option<String>,
    /// The `rbac_grant` rows of one scope — `org`, `WS` or `WS/PRJ` — and of the scopes above it,
    /// whose changes cascade into it. Workspace and project owners and admins read their own.
    pub scope: Option<String>,
    pub target_id: Option<String>,
    /// The events about one entity, as `TYPE:ID` — `agent:ID` or `group:ID` (seed 003), `user:ID`,
    /// `grant:ID`, …: those targeting it, and those whose affected principal it is.
    pub entity: Option<String>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<Timestamp>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<Timestamp>,
    /// Events after this sequence number (for paging).
    pub after_seq: Option<i64>,
    /// At most this many (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// A page of audit events, oldest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub events: Vec<AuditEventView>,
    /// Pass as `after_seq` for the next page; absent on the last page.
    pub next_after_seq: Option<i64>,
}

#[utoipa::path(get, path = "/v1/{org}/audit", params(("org" = String, Path), ListAudit), responses((status = 200, body = AuditPage)))]
pub(super) async fn list(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<ListAudit>) -> Result<Json<AuditPage>> {
    // A scope's feed holds its own changes and those that cascade into it from above; reading it
    // needs `Audit:Read` there (a workspace's or project's owners and admins), the whole log at
    // the organization.
    let scopes = {
        let ix = state.index();
        let o = service::org(&ix, &caller.ctx.org)?;
        match q.scope.as_deref() {
            None => {
                caller.ctx.authorize(&ix, Action::ReadAudit { scope: &ScopeRef::Org })?;
                vec![]
            }
            Some(path) => {
                grantry_core::authz::may_name(o, &caller.ctx.actor, path)?;
                let node = match path {
                    "org" => ScopeRef::Org,
                    _ => o.scope_by_path(path).map(ScopeNode::as_ref).ok_or_else(|| {
                        ServiceError::NotFound(format!(
                            "no workspace or project `{path}` in this organization; give `org`, `WS` or `WS/PRJ`"
                        ))
                    })?,
                };
                caller.ctx.authorize(&ix, Action::ReadAudit { scope: &node })?;
                o.scope_chain(&node).iter().map(|s| o.scope_path(s)).collect()
            }
        }
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ServiceError::Invalid { field: "limit".into(), message: format!("{limit} is out of range; give 1 to 1000") }.into());
    }
    if let Some(e) = q.entity.as_deref().filter(|e| e.split_once(':').is_none_or(|(k, i)| k.is_empty() || i.is_empty())) {
        let message = format!("`{}` is not an entity; give TYPE:ID, such as agent:ID or group:ID", grantry_core::validate::shown(e));
        return Err(ServiceError::Invalid { field: "entity".into(), message }.into());
    }
    let filter = AuditFilter {
        event_type: q.event_type,
        actor: q.actor,
        principal: q.principal,
        target_type: (!scopes.is_empty()).then(|| "scope".to_owned()),
        target_id: q.target_id,
        target_ids: scopes,
        entity: q.entity,
        since: q.since,
        until: q.until,
        after_seq: q.after_seq,
        limit: Some(limit),
    };
    let events = state.store.audit_events(&caller.ctx.org, filter).await?;
    let full = events.len() == usize::try_from(limit).unwrap_or(usize::MAX);
    let next_after_seq = events.last().map(|e| e.seq).filter(|_| full);
    let emails = emails_of(&state, &caller.ctx.org, &events).await?;
    let email = |who: &str| emails.get(who).cloned();
    let events = events
        .into_iter()
        .map(|event| AuditEventView {
            actor_email: email(&event.actor.to_string()),
            principal_email: event.principal.as_deref().and_then(email),
            event,
        })
        .collect();
    Ok(Json(AuditPage { events, next_after_seq }))
}

/// The email of every user the events name (`user:ID` → email): as they are now, or, for a user
/// since deleted, as the `user.deleted` event recorded them.
async fn emails_of(state: &AppState, org: &OrgId, events: &[AuditEvent]) -> Result<HashMap<String, String>> {
    let named: BTreeSet<String> =
        events.iter().flat_map(|e| [Some(e.actor.to_string()), e.principal.clone()]).flatten().filter(|p| p.starts_with("user:")).collect();
    let mut emails = HashMap::new();
    let mut gone = Vec::new();
    {
        let ix = state.index();
        let o = service::org(&ix, org)?;
        for who in named {
            if let Ok(Principal::User(id)) = who.parse::<Principal>() {
                match o.user(&id) {
                    Some(u) => drop(emails.insert(who, u.email.clone())),
                    None => gone.push((who, id)),
                }
            }
        }
    }
    for (who, id) in gone {
        let filter = AuditFilter {
            event_type: Some("user.deleted".into()),
            target_id: Some(id.0.clone()),
            limit: Some(1),
            ..AuditFilter::default()
        };
        let deleted = state.store.audit_events(org, filter).await?;
        if let Some(email) = deleted.first().and_then(|e| e.before.as_ref()).and_then(|b| b["email"].as_str()) {
            emails.insert(who, email.to_owned());
        }
    }
    Ok(emails)
}

fn require_audit(state: &AppState, caller: &Caller) -> Result<()> {
    let ix = state.index();
    caller.ctx.authorize(&ix, Action::ReadAudit { scope: &ScopeRef::Org }).map(drop).map_err(Into::into)
}

/// The result of verifying the chain.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Verification {
    pub ok: bool,
    pub events_checked: usize,
    #[schema(value_type = Option<Object>)]
    pub broken_at: Option<ChainBreak>,
    pub head_hash: Option<String>,
    /// The signed head of the chain: keep it elsewhere as a digest, and verify against it later.
    #[schema(value_type = Option<Object>)]
    pub digest: Option<Checkpoint>,
    /// The id of the audit key the log was checked with.
    pub key_id: String,
}

/// Verifies the organization's whole chain (and, when given, against a digest taken earlier).
pub async fn verify_org(state: &AppState, org: &OrgId, digest: Option<&Checkpoint>) -> Result<Verification> {
    let v = state.store.verify_audit(org, digest).await?;
    Ok(Verification {
        ok: v.broken_at.is_none(),
        events_checked: v.events_checked,
        broken_at: v.broken_at,
        head_hash: v.head.as_ref().map(|h| h.head_hash.clone()),
        digest: v.head,
        key_id: v.key_id,
    })
}

#[utoipa::path(get, path = "/v1/{org}/audit/verify", params(("org" = String, Path)),
    responses((status = 200, body = Verification), (status = 401, body = super::views::ErrorBody), (status = 403, body = super::views::ErrorBody)))]
pub(super) async fn verify(State(state): State<AppState>, caller: Caller) -> Result<Json<Verification>> {
    require_audit(&state, &caller)?;
    Ok(Json(verify_org(&state, &caller.ctx.org, None).await?))
}

/// A digest to verify the log against.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyDigest {
    /// A digest as `GET /audit/verify` returned it (`digest`).
    #[schema(value_type = Object)]
    pub digest: Checkpoint,
}

#[utoipa::path(post, path = "/v1/{org}/audit/verify", request_body = VerifyDigest, params(("org" = String, Path)),
    responses((status = 200, body = Verification), (status = 400, body = super::views::ErrorBody), (status = 401, body = super::views::ErrorBody),
        (status = 403, body = super::views::ErrorBody), (status = 422, body = super::views::ErrorBody)))]
pub(super) async fn verify_digest(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<VerifyDigest>,
) -> Result<Json<Verification>> {
    require_audit(&state, &caller)?;
    if b.digest.org != caller.ctx.org {
        return Err(ServiceError::Invalid {
            field: "digest".into(),
            message: format!("this digest is of organization `{}`, not this one; use a digest taken of this organization", b.digest.org),
        }
        .into());
    }
    Ok(Json(verify_org(&state, &caller.ctx.org, Some(&b.digest)).await?))
}
