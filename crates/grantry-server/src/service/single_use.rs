//! Single-use access: an approved request may name a permission whose first allowed check — asked
//! at the moment of asking, not about another time — ends the access it gave. A check is `/check`
//! or `check:batch` about the holder or a key they delegated to (whose access is bounded by
//! theirs), or Grantry's own read of a trace (`GET /traces/{id}`); listings (`lookup`, the trace
//! list) show what it reaches without using it. The check that uses it is allowed; the request's
//! grants are revoked in the same breath (one write, audited as `access_request.consumed`, and
//! `grant.revoked` to webhooks). Of checks racing for it, one consumes it and the others are
//! decided again against the index that holds the winner's write.

use super::requests::{find_request, kept, live_grants};
use super::{org, revocations, Ctx};
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::attr::AttrValue;
use grantry_core::audit::AuditDraft;
use grantry_core::authz::{Permit, SystemTask};
use grantry_core::change::Change;
use grantry_core::decision::{ReasonCode, ResourceQuery};
use grantry_core::ids::UserId;
use grantry_core::index::{DecisionIndex, OrgState};
use grantry_core::model::{AccessRequest, Actor, Closed, Closing, Principal, RequestState, ACCESS_REQUEST, CONSUMABLE_BY};
use grantry_core::Timestamp;
use std::sync::atomic::{AtomicU8, Ordering};

/// The user whose single-use access a check of `principal` would use: the user, or the one who
/// delegated the key.
fn holder<'a>(o: &'a OrgState, principal: &'a Principal) -> Option<&'a UserId> {
    match principal {
        Principal::User(id) => Some(id),
        Principal::ApiKey(k) => o.api_key(k).and_then(|k| k.delegated_by.as_ref()),
        Principal::Group(_) => None,
    }
}

/// Whether a check of `principal` may use single-use access at all (one lookup; the common
/// answer is no).
pub fn may_consume(o: &OrgState, principal: &Principal) -> bool {
    holder(o, principal).is_some_and(|id| o.has_resource_with(ACCESS_REQUEST, CONSUMABLE_BY, &AttrValue::Str(id.to_string())))
}

/// The active single-use requests for `permission` whose grants allow `principal` this check now.
fn used_by(
    ix: &DecisionIndex,
    o: &OrgState,
    principal: &Principal,
    permission: &str,
    resource: &ResourceQuery,
    now: Timestamp,
) -> Vec<AccessRequest> {
    let Some(id) = holder(o, principal) else { return Vec::new() };
    let decision = o.explain(ix.catalogue(), &Principal::User(id.clone()), permission, resource, now, &[]);
    let allowing: Vec<&grantry_core::ids::GrantId> =
        decision.reasons.iter().filter(|r| r.code == ReasonCode::GrantedBy).filter_map(|r| r.grant_id.as_ref()).collect();
    o.resources_with(ACCESS_REQUEST, CONSUMABLE_BY, &AttrValue::Str(id.to_string()))
        .iter()
        .filter_map(AccessRequest::of)
        .filter(|r| r.single_use.as_deref() == Some(permission) && r.state(now) == RequestState::Active)
        .filter(|r| live_grants(o, r).iter().any(|g| allowing.contains(&&g.id)))
        .collect()
}

/// Uses up the single-use access that allows `principal` `permission` on `resource` now, if any;
/// whether the check stays allowed (`false` only when another check used it up first and
/// nothing else allows it).
pub async fn consume(state: &AppState, ctx: &Ctx, principal: &Principal, permission: &str, resource: &ResourceQuery) -> Result<bool> {
    let system = Ctx { by: Actor::System, ..ctx.clone() };
    // What the index that saw nothing to use up answers: 1 allowed, 2 denied.
    let verdict = AtomicU8::new(0);
    let outcome = state
        .write_as(&system, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let used = used_by(ix, o, principal, permission, resource, ctx.now);
            if used.is_empty() {
                // Used up meanwhile (or never single-use): nothing to write. Decided again here,
                // where the write that used it up is already applied (the published index may
                // not have it yet).
                verdict.store(if o.check(principal, permission, resource, ctx.now) { 1 } else { 2 }, Ordering::Relaxed);
                return Err(ServiceError::Conflict("nothing to use up".into()));
            }
            let (mut changes, mut audit) = (Vec::new(), Vec::new());
            for r in used {
                let mut r = find_request(o, &r.id)?;
                let live = live_grants(o, &r);
                r.closed = Some(Closed {
                    how: Closing::Revoked,
                    by: Actor::System.to_string(),
                    at: ctx.now,
                    reason: format!("single use: used by a check of `{permission}` on `{}`", resource.reference),
                });
                r.noted.ended = true;
                let mut d = AuditDraft::new(&Actor::System, "access_request.consumed", ACCESS_REQUEST, &r.id);
                d.principal = Some(principal.to_string());
                d.after = serde_json::to_value(&r).ok();
                audit.push(d);
                changes.push(Change::ResourceUpdated { resource: kept(ctx, &r) });
                let (c, a) = revocations(ctx, &live);
                changes.extend(c);
                audit.extend(a);
            }
            Ok((ctx.batch(Permit::system(SystemTask::ConsumeSingleUse), changes, audit), ()))
        })
        .await;
    match outcome {
        Ok(_) => Ok(true),
        Err(ServiceError::Conflict(_)) => Ok(verdict.load(Ordering::Relaxed) == 1),
        Err(e) => Err(e),
    }
}
