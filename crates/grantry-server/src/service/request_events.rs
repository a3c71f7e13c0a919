//! What the expiry sweeper records of access requests, at the moment each happens: a booked
//! access starting (`access_request.activated`), the warning before an access ends, with the
//! command that extends it (`access_request.expiring_soon`), a stage left waiting past its
//! escalation time (`access_request.escalated`: its second set of approvers may now decide it),
//! and a request's end — lapsed unanswered or run out (`access_request.expired`). Each is written once (the request notes it),
//! by whichever server gets there first, and turns into its webhook notification like any event.
//! Decisions never wait for this: a check decides start and end by the clock.
//!
//! It also forgets requests that ended longer ago than the organization's
//! `request_retention_days` (`access_request.purged`), so the decision index does not grow for
//! good; their events stay in the audit log for the audit retention.

use super::org;
use crate::service::error::Result;
use crate::state::AppState;
use grantry_core::attr::AttrValue;
use grantry_core::audit::AuditDraft;
use grantry_core::change::Change;
use grantry_core::duration::format_iso;
use grantry_core::ids::OrgId;
use grantry_core::index::OrgState;
use grantry_core::model::{AccessRequest, Actor, Moment, Principal, Resource, ScopeRef, ACCESS_REQUEST, WATCHED};
use grantry_core::Timestamp;
use serde_json::json;

/// The requests of `o` with something to record at `now`.
fn due(o: &OrgState, now: Timestamp) -> Vec<AccessRequest> {
    o.resources_with(ACCESS_REQUEST, WATCHED, &AttrValue::Bool(true))
        .iter()
        .filter_map(AccessRequest::of)
        .filter(|r| !r.moments_due(now).is_empty())
        .collect()
}

/// The event recording `moment` of `r`, at `at`.
fn event(r: &AccessRequest, moment: Moment, at: Timestamp) -> AuditDraft {
    let (kind, extra) = match moment {
        Moment::Activated => ("access_request.activated", json!({})),
        Moment::ExpiringSoon => {
            let ends = r.granted.map(|g| g.expires_at);
            let command = format!("grantry access extend {} --duration {}", r.id, format_iso(r.duration));
            ("access_request.expiring_soon", json!({ "expires_at": ends, "extend_command": command }))
        }
        Moment::Expired => ("access_request.expired", json!({ "lapsed": r.granted.is_none() })),
        Moment::Escalated(stage) => ("access_request.escalated", json!({ "stage": stage })),
    };
    let mut d = AuditDraft::new(&Actor::System, kind, ACCESS_REQUEST, &r.id);
    d.principal = Some(Principal::User(r.requester.clone()).to_string());
    d.at = Some(at);
    let mut after = serde_json::to_value(r).unwrap_or_default();
    if let (Some(obj), Some(more)) = (after.as_object_mut(), extra.as_object()) {
        obj.extend(more.clone());
    }
    d.after = Some(after);
    d
}

/// Records, for every organization, what is due of its requests at `now`; how many moments.
pub async fn record_request_events(state: &AppState, now: Timestamp) -> Result<usize> {
    sweep(
        state,
        now,
        |o| !due(o, now).is_empty(),
        |o| {
            let (mut changes, mut audit) = (Vec::new(), Vec::new());
            for mut r in due(o, now) {
                for (moment, at) in r.moments_due(now) {
                    audit.push(event(&r, moment, at));
                    r.note(moment);
                }
                let resource = Resource {
                    org: o.org().id.clone(),
                    reference: r.reference(),
                    parent: None,
                    scope: ScopeRef::Org,
                    attributes: r.attributes(),
                    created_at: r.created_at,
                };
                changes.push(Change::ResourceUpdated { resource });
            }
            (changes, audit)
        },
    )
    .await
}

/// For every organization in which `pending` finds work at `now`, one write by the system of what
/// `work` makes of it — worked out again inside the write, since another server may have done it
/// meanwhile; how many events were written in all.
async fn sweep(
    state: &AppState,
    now: Timestamp,
    pending: impl Fn(&OrgState) -> bool,
    work: impl Fn(&OrgState) -> (Vec<Change>, Vec<AuditDraft>),
) -> Result<usize> {
    let orgs: Vec<OrgId> = {
        let ix = state.index();
        ix.orgs().filter(|o| pending(o)).map(|o| o.org().id.clone()).collect()
    };
    let mut written = 0;
    for org_id in orgs {
        let (_, n) = state
            .write(|ix| {
                let (changes, audit) = work(org(ix, &org_id)?);
                let n = audit.len();
                Ok((grantry_store::WriteBatch { org: org_id.clone(), at: now, changes, audit, base_revision: None, outbox: vec![] }, n))
            })
            .await?;
        written += n;
    }
    Ok(written)
}

/// The most requests one organization's purge removes in one write.
const PURGE_BATCH: usize = 500;

/// The requests of `o` that ended before its retention at `now`, at most [`PURGE_BATCH`].
fn past_retention(o: &OrgState, now: Timestamp) -> Vec<AccessRequest> {
    let keep = grantry_core::SignedDuration::from_hours(24 * i64::from(o.org().policy.request_retention_days));
    let Ok(before) = now.checked_sub(keep) else { return Vec::new() };
    o.resources_with(ACCESS_REQUEST, WATCHED, &AttrValue::Bool(false))
        .iter()
        .filter_map(AccessRequest::of)
        .filter(|r| r.ended_at(now).is_some_and(|end| end <= before))
        .take(PURGE_BATCH)
        .collect()
}

/// Removes, for every organization, the access requests that ended before its retention at
/// `now` (a batch of at most 500 each); how many.
pub async fn purge_ended_requests(state: &AppState, now: Timestamp) -> Result<usize> {
    sweep(
        state,
        now,
        |o| !past_retention(o, now).is_empty(),
        |o| {
            past_retention(o, now)
                .into_iter()
                .map(|r| {
                    let mut d = AuditDraft::new(&Actor::System, "access_request.purged", ACCESS_REQUEST, &r.id);
                    d.principal = Some(Principal::User(r.requester.clone()).to_string());
                    d.before = Some(json!({ "state": r.state(now).name(), "ended_at": r.ended_at(now) }));
                    (Change::ResourceRemoved { org: o.org().id.clone(), reference: r.reference() }, d)
                })
                .unzip()
        },
    )
    .await
}
