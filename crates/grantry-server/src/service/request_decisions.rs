//! Deciding access requests: approve (stage by stage; the last approval grants), deny, cancel,
//! revoke or give back, review a break-glass request, and extend an approved one in place — each
//! one write with its `access_request.*` event. An extension passes the request's stages again
//! (at once where its policy approves at once); then its grants end later — the same grants,
//! without a gap.

use super::request_policies::DEFAULT_PENDING;
use super::requests::{event, find_request, grant, invalid, kept, live_grants, within_authority};
use super::{org, revocations, Ctx};
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::audit::AuditDraft;
use grantry_core::authz::Action;
use grantry_core::change::Change;
use grantry_core::index::{DecisionIndex, OrgState};
use grantry_core::model::{AccessRequest, Approval, Closed, Closing, Granted, Principal, RequestState};
use grantry_core::validate;

/// The longest reason.
const MAX_REASON: usize = 1_000;

/// What a decision on a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Deny,
    Cancel,
    Revoke,
    /// A break-glass request's review after the fact.
    Review,
}

impl Decision {
    fn verb(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Deny => "deny",
            Self::Cancel => "cancel",
            Self::Revoke => "revoke",
            Self::Review => "review",
        }
    }
}

/// Gives the extension `r` waits on: every live grant of it ends later, in place.
fn lengthen(ix: &DecisionIndex, ctx: &Ctx, r: &mut AccessRequest, changes: &mut Vec<Change>, audit: &mut Vec<AuditDraft>) -> Result<()> {
    within_authority(ix, ctx, r)?;
    let o = org(ix, &ctx.org)?;
    let (Some(ext), Some(granted)) = (r.extension.take(), r.granted) else {
        return Err(ServiceError::Conflict("there is no extension to give".into()));
    };
    let expires_at = granted.expires_at.checked_add(ext.duration).map_err(|e| invalid("duration", format!("cannot extend: {e}")))?;
    for g in live_grants(o, r) {
        let mut d = AuditDraft::new(&ctx.audit_actor(), "grant.extended", "grant", g.id.as_str());
        d.principal = Some(g.principal.to_string());
        d.justification = Some(ext.justification.clone());
        d.before = Some(serde_json::json!({ "expires_at": g.expires_at }));
        d.after = Some(serde_json::json!({ "expires_at": expires_at }));
        audit.push(d);
        changes.push(Change::GrantExtended { org: ctx.org.clone(), id: g.id.clone(), expires_at, at: ctx.now });
    }
    r.granted = Some(Granted { expires_at, ..granted });
    // A new end: a new warning before it.
    r.noted.warned = false;
    r.extended.push(grantry_core::model::Extended { at: ctx.now, duration: ext.duration, expires_at });
    Ok(())
}

/// Why `decision` cannot be made on `r` in its state `st`.
fn not_now(decision: Decision, r: &AccessRequest, st: RequestState) -> ServiceError {
    let why = match st {
        RequestState::Expired if r.granted.is_none() => format!("it lapsed unanswered at {}; ask again", r.pending_until),
        RequestState::Expired => "its access has run out; ask again".to_owned(),
        RequestState::Pending => "it is still pending".to_owned(),
        RequestState::Scheduled | RequestState::Active => format!("it is already approved ({})", st.name()),
        other => format!("it is {}", other.name()),
    };
    ServiceError::Conflict(format!("cannot {} access request `{}`: {why}", decision.verb(), r.id))
}

/// A reason, checked (some decisions require one: [`needs_reason`]).
fn reason(text: Option<&str>) -> Result<String> {
    let text = text.unwrap_or_default().trim().to_owned();
    validate::printable("reason", &text)?;
    validate::bounded("reason", &text, MAX_REASON)?;
    Ok(text)
}

/// Refuses a decision made without a reason.
fn needs_reason(why: &str) -> Result<()> {
    if why.is_empty() {
        return Err(invalid("reason", "give a reason; the requester and the audit log see it".into()));
    }
    Ok(())
}

/// Keeps only the targets `texts` name (each one of the request's), declining the others.
fn narrow(o: &grantry_core::index::OrgState, r: &mut AccessRequest, texts: &[String]) -> Result<()> {
    let mut keep = Vec::new();
    for text in texts {
        let t = super::requests::target(o, text)?;
        if !r.targets.contains(&t) {
            return Err(invalid("targets", format!("`{}` is not one of this request's targets", validate::shown(text))));
        }
        if !keep.contains(&t) {
            keep.push(t);
        }
    }
    if keep.is_empty() {
        return Err(invalid("targets", "name at least one target to approve, or deny the request".into()));
    }
    let (kept, declined): (Vec<_>, Vec<_>) = std::mem::take(&mut r.targets).into_iter().partition(|t| keep.contains(t));
    r.targets = kept;
    r.declined.extend(declined);
    Ok(())
}

/// Makes `decision` on request `id`, with `why`.
///
/// Approving may name `only` some of the request's targets: the others are declined, and the
/// stages that follow decide the rest (one request, several targets, approved item by item).
pub async fn decide(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    decision: Decision,
    why: Option<&str>,
    only: Option<&[String]>,
) -> Result<(u64, AccessRequest)> {
    let why = reason(why)?;
    if only.is_some() && decision != Decision::Approve {
        return Err(invalid("targets", "targets are chosen when approving; leave them out to decide the whole request".into()));
    }
    let (committed, r) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            // Whoever may not decide is told why (ids are not guessed: 96 random bits).
            let mut r = find_request(o, id)?;
            let st = r.state(ctx.now);
            let by = ctx.audit_actor().to_string();
            let closing = |how| Closed { how, by: by.clone(), at: ctx.now, reason: why.clone() };
            let (mut changes, mut audit) = (vec![], vec![]);
            let (permit, event_type) = match decision {
                Decision::Approve | Decision::Deny => {
                    let extending = r.extension_pending(ctx.now);
                    let stage = match (st, r.open_stage()) {
                        (RequestState::Pending, Some(stage)) => stage,
                        (_, Some(stage)) if extending => stage,
                        _ => return Err(not_now(decision, &r, st)),
                    };
                    if let Some(texts) = only {
                        if extending {
                            return Err(invalid("targets", "an extension covers every target the request holds".into()));
                        }
                        narrow(o, &mut r, texts)?;
                    }
                    let permit = ctx.authorize(
                        ix,
                        Action::DecideRequest {
                            request: &r,
                            stage,
                            token_made_by: ctx.token_made_by.as_ref(),
                            custody: &ctx.token_custody,
                        },
                    )?;
                    if decision == Decision::Deny {
                        needs_reason(&why)?;
                        if extending {
                            r.extension = None;
                            (permit, "access_request.extension_denied")
                        } else {
                            r.closed = Some(closing(Closing::Denied));
                            (permit, "access_request.denied")
                        }
                    } else {
                        let Principal::User(me) = &ctx.actor else {
                            return Err(ServiceError::Forbidden("approvals are given by people".into()));
                        };
                        still_deciding(o, &r)?;
                        let approval =
                            Approval { stage, by: me.clone(), at: ctx.now, reason: why.clone(), custody: ctx.token_custody.clone() };
                        match r.extension.as_mut().filter(|_| extending) {
                            Some(ext) => ext.approvals.push(approval),
                            None => r.approvals.push(approval),
                        }
                        match (r.open_stage().is_some(), extending) {
                            (true, _) => (permit, "access_request.stage_approved"),
                            (false, true) => {
                                lengthen(ix, ctx, &mut r, &mut changes, &mut audit)?;
                                (permit, "access_request.extended")
                            }
                            (false, false) => {
                                grant(ix, ctx, &mut r, &mut changes, &mut audit)?;
                                (permit, "access_request.approved")
                            }
                        }
                    }
                }
                Decision::Cancel => {
                    let permit = ctx.authorize(ix, Action::WithdrawRequest { request: &r })?;
                    if r.extension_pending(ctx.now) {
                        r.extension = None;
                        (permit, "access_request.extension_cancelled")
                    } else if st == RequestState::Pending {
                        r.closed = Some(closing(Closing::Cancelled));
                        (permit, "access_request.cancelled")
                    } else {
                        return Err(not_now(decision, &r, st));
                    }
                }
                Decision::Revoke => {
                    if !matches!(st, RequestState::Scheduled | RequestState::Active) {
                        return Err(not_now(decision, &r, st));
                    }
                    let live = live_grants(o, &r);
                    let permit = match ctx.authorize(ix, Action::WithdrawRequest { request: &r }) {
                        Ok(p) => p,
                        Err(refusal) => {
                            needs_reason(&why)?;
                            let mut last = Err(refusal);
                            for g in &live {
                                last = Ok(ctx.authorize(ix, Action::RevokeGrant { grant: g })?);
                            }
                            last?
                        }
                    };
                    let (c, a) = revocations(ctx, &live);
                    changes.extend(c);
                    audit.extend(a);
                    r.closed = Some(closing(Closing::Revoked));
                    (permit, "access_request.revoked")
                }
                Decision::Review => {
                    if !r.break_glass || r.reviewed.is_some() {
                        return Err(ServiceError::Conflict(format!(
                            "access request `{}` is not a break-glass request awaiting review",
                            r.id
                        )));
                    }
                    let permit = ctx.authorize(
                        ix,
                        Action::DecideRequest {
                            request: &r,
                            stage: 0,
                            token_made_by: ctx.token_made_by.as_ref(),
                            custody: &ctx.token_custody,
                        },
                    )?;
                    let Principal::User(me) = &ctx.actor else { return Err(ServiceError::Forbidden("reviews are made by people".into())) };
                    r.reviewed =
                        Some(Approval { stage: 0, by: me.clone(), at: ctx.now, reason: why.clone(), custody: ctx.token_custody.clone() });
                    (permit, "access_request.reviewed")
                }
            };
            changes.insert(0, Change::ResourceUpdated { resource: kept(ctx, &r) });
            audit.insert(0, event(ctx, event_type, &r));
            Ok((ctx.batch(permit, changes, audit), r))
        })
        .await?;
    Ok((committed.revision, r))
}

/// More time on an approved request, asked by its requester.
#[derive(Debug, Clone, Default)]
pub struct ExtensionSpec {
    /// ISO 8601: how much later the access ends.
    pub duration: String,
    /// Why (the request's own justification unless given).
    pub justification: Option<String>,
}

/// Asks to extend request `id` in place: given at once where its policy approves at once, else
/// decided in its stages; its grants then end later — the same grants, without a gap.
pub async fn extend(state: &AppState, ctx: &Ctx, id: &str, spec: &ExtensionSpec) -> Result<(u64, AccessRequest)> {
    let (committed, r) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let mut r = find_request(o, id)?;
            let permit = ctx.authorize(ix, Action::WithdrawRequest { request: &r })?;
            let st = r.state(ctx.now);
            let Some(granted) = r.granted.filter(|_| matches!(st, RequestState::Active | RequestState::Scheduled)) else {
                return Err(ServiceError::Conflict(format!("cannot extend access request `{}`: it is {}; ask again", r.id, st.name())));
            };
            if r.extension_pending(ctx.now) {
                return Err(ServiceError::Conflict(format!(
                    "an extension of access request `{}` is already waiting; cancel it first to ask for another",
                    r.id
                )));
            }
            let policy = still_deciding(o, &r)?;
            let org_policy = &o.org().policy;
            // The longest it was made under holds, whatever became of its policy since.
            let longest = r.max_duration.unwrap_or_else(|| {
                policy.as_ref().map_or(org_policy.max_role_duration.max(org_policy.max_grant_duration), |p| p.max_duration)
            });
            let duration = super::request_policies::duration("duration", Some(&spec.duration), longest, longest)?;
            let end = granted.expires_at.checked_add(duration).map_err(|e| invalid("duration", e.to_string()))?;
            if granted.starts_at.max(ctx.now).duration_until(end) > longest {
                return Err(invalid(
                    "duration",
                    format!(
                        "the access would then last {} from now, past the longest this request may have ({}); ask for less",
                        grantry_core::duration::format_iso(granted.starts_at.max(ctx.now).duration_until(end)),
                        grantry_core::duration::format_iso(longest)
                    ),
                ));
            }
            let org_policy = &o.org().policy;
            let justification = match spec.justification.as_deref().map(str::trim).filter(|j| !j.is_empty()) {
                Some(j) => validate::justification(j, org_policy.min_justification_chars, org_policy.max_justification_chars)?,
                None => r.justification.clone(),
            };
            let timeout = policy.as_ref().map_or(DEFAULT_PENDING, |p| p.pending_timeout);
            let pending_until = ctx.now.checked_add(timeout).map_err(|e| ServiceError::Internal(e.to_string()))?.min(granted.expires_at);
            r.extension =
                Some(grantry_core::model::Extension { duration, justification, asked_at: ctx.now, pending_until, approvals: vec![] });
            let (mut changes, mut audit) = (vec![], vec![]);
            let event_type = if r.stages.is_empty() {
                lengthen(ix, ctx, &mut r, &mut changes, &mut audit)?;
                "access_request.extended"
            } else {
                "access_request.extension_asked"
            };
            changes.insert(0, Change::ResourceUpdated { resource: kept(ctx, &r) });
            audit.insert(0, event(ctx, event_type, &r));
            Ok((ctx.batch(permit, changes, audit), r))
        })
        .await?;
    Ok((committed.revision, r))
}

/// The policy that decides `r`'s targets now, which must be the one that decided `r`: a policy
/// deleted or outranked since approves nothing more of it (neither a stage nor an extension).
fn still_deciding(o: &OrgState, r: &AccessRequest) -> Result<Option<grantry_core::model::RequestPolicy>> {
    let policy = super::policy_reach::deciding(o, &r.targets)?;
    if policy.as_ref().map(|p| &p.id) != r.policy.as_ref() {
        let then = match r.policy.as_deref().map(|id| (id, super::find_policy(o, id))) {
            None => "no policy".to_owned(),
            Some((_, Ok(p))) => format!("policy `{}`", p.name),
            Some((id, Err(_))) => format!("policy {id}, since deleted"),
        };
        let now = policy.as_ref().map_or_else(|| "no policy".to_owned(), |p| format!("policy `{}`", p.name));
        return Err(ServiceError::Conflict(format!(
            "access request `{}` was decided by {then}, but {now} decides its targets now; ask again with a new request",
            r.id
        )));
    }
    Ok(policy)
}
