//! Single-use access: an approved request may name a permission whose first allowed check — asked
//! at the moment of asking, not about another time — ends the access it gave. The check that uses
//! it is allowed; the request's grants are revoked in the same breath (one write, audited as
//! `access_request.consumed`, and `grant.revoked` to webhooks). Two checks racing for it: one
//! consumes it, the other is decided again without it.

use super::requests::{find_request, kept, live_grants};
use super::{org, revocations, Ctx};
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::attr::AttrValue;
use grantry_core::audit::AuditDraft;
use grantry_core::authz::{Permit, SystemTask};
use grantry_core::change::Change;
use grantry_core::decision::{ReasonCode, ResourceQuery};
use grantry_core::index::{DecisionIndex, OrgState};
use grantry_core::model::{AccessRequest, Actor, Closed, Closing, Principal, RequestState, ACCESS_REQUEST, CONSUMABLE_BY};
use grantry_core::Timestamp;

/// Whether `principal` may hold single-use access at all (one lookup; the common answer is no).
pub fn may_consume(o: &OrgState, principal: &Principal) -> bool {
    match principal {
        Principal::User(id) => o.has_resource_with(ACCESS_REQUEST, CONSUMABLE_BY, &AttrValue::Str(id.to_string())),
        _ => false,
    }
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
    let Principal::User(id) = principal else { return Vec::new() };
    let decision = o.explain(ix.catalogue(), principal, permission, resource, now, &[]);
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
    let outcome = state
        .write_as(&system, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let used = used_by(ix, o, principal, permission, resource, ctx.now);
            if used.is_empty() {
                // Used up meanwhile (or never single-use): nothing to write.
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
        Err(ServiceError::Conflict(_)) => {
            let ix = state.index();
            Ok(org(&ix, &ctx.org)?.check(principal, permission, resource, ctx.now))
        }
        Err(e) => Err(e),
    }
}
