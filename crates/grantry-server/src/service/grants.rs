//! Temporary permission grants: creating them (one or the seed's three, all or none), revoking
//! them, and recording the expiries of every temporary grant (time-bounded roles too) in the audit log.

use super::conversations::CONVERSATION;
use super::rbac::rbac_event;
use super::{grant_event, org, Ctx, Records};
use crate::ids::new_id;
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::authz::{Action, Permit};
use grantry_core::catalogue::{PermissionGrant, CONVERSATION_ACCESS};
use grantry_core::change::Change;
use grantry_core::condition::{Condition, Conditions};
use grantry_core::duration::parse_grant_duration;
use grantry_core::ids::{GrantId, OrgId, UserId};
use grantry_core::index::DecisionIndex;
use grantry_core::model::{Actor, Anchor, Grant, GrantSource, GrantTarget, Principal, ResourceRef, Revocation, ScopeRef, UserStatus};
use grantry_core::{validate, Timestamp};
use std::collections::BTreeMap;

/// One temporary permission grant to make.
#[derive(Debug, Clone)]
pub struct GrantSpec {
    pub user: UserId,
    pub permission: PermissionGrant,
    /// ISO 8601; the organization's default when `None`.
    pub duration: Option<String>,
    pub justification: String,
    pub tags: Vec<String>,
}

/// Validates and authorizes `specs` and builds their grants; any invalid or refused spec fails
/// them all.
fn build(ix: &DecisionIndex, ctx: &Ctx, specs: &[GrantSpec], source: GrantSource) -> Result<(Vec<Grant>, Permit)> {
    let o = org(ix, &ctx.org)?;
    let policy = &o.org().policy;
    let mut permit = None;
    let grants = specs
        .iter()
        .map(|spec| {
            let user =
                o.user(&spec.user).ok_or_else(|| ServiceError::NotFound(format!("user `{}` not found in this organization", spec.user)))?;
            if user.status != UserStatus::Active {
                return Err(ServiceError::Invalid {
                    field: "user_id".into(),
                    message: format!("user `{}` is suspended and cannot be granted access", user.email),
                });
            }
            let principal = Principal::User(user.id.clone());
            permit = Some(ctx.authorize(ix, Action::CreateTemporaryGrant { to: &principal, grant: &spec.permission })?);
            let duration = match &spec.duration {
                Some(text) => parse_grant_duration(text, policy.max_grant_duration)?,
                None => policy.default_grant_duration,
            };
            let justification =
                validate::justification(&spec.justification, policy.min_justification_chars, policy.max_justification_chars)?;
            let expires_at = ctx
                .now
                .checked_add(duration)
                .map_err(|_| ServiceError::Invalid { field: "duration".into(), message: "is too long".into() })?;
            Ok(Grant {
                id: GrantId(new_id()?),
                org: ctx.org.clone(),
                principal,
                target: GrantTarget::Permission { grant: spec.permission.clone() },
                anchor: Anchor::Scope(ScopeRef::Org),
                starts_at: ctx.now,
                expires_at: Some(expires_at),
                justification: Some(justification),
                tags: validate::tags(&spec.tags)?,
                creator: ctx.audit_actor(),
                source,
                created_at: ctx.now,
                revoked: None,
            })
        })
        .collect::<Result<Vec<Grant>>>()?;
    let permit = permit.ok_or_else(|| ServiceError::Invalid { field: "grants".into(), message: "nothing to grant".into() })?;
    Ok((grants, permit))
}

/// The `rbac_grant` rows of new temporary grants: each principal's effective set at the
/// organization before and after them, where it changed.
fn rbac_rows(ix: &DecisionIndex, ctx: &Ctx, grants: &[Grant]) -> Result<Vec<grantry_core::audit::AuditDraft>> {
    let o = org(ix, &ctx.org)?;
    let cat = ix.catalogue();
    let mut principals: Vec<&Principal> = grants.iter().map(|g| &g.principal).collect();
    principals.dedup();
    Ok(principals
        .into_iter()
        .filter_map(|p| {
            // Grants only add: the new set is the prior one and what the new grants carry.
            let prior = o.effective_of(cat, p, &ScopeRef::Org, ctx.now, false);
            let added = grants.iter().filter(|g| &g.principal == p).map(Grant::terms);
            let mut new = prior.clone();
            new.extend(o.effective_set(cat, added, &ScopeRef::Org, ctx.now));
            let ids: Vec<&GrantId> = grants.iter().filter(|g| &g.principal == p).map(|g| &g.id).collect();
            let cause =
                serde_json::json!({ "event": "grant.created", "grant_ids": ids, "expires_at": grants.first().and_then(|g| g.expires_at) });
            let justification = grants.iter().find(|g| &g.principal == p).and_then(|g| g.justification.as_deref());
            rbac_event(o, &ctx.audit_actor(), p, &ScopeRef::Org, (&prior, &new), cause, justification)
        })
        .collect())
}

/// Creates the grants of `specs` in one transaction: all of them or none.
pub async fn create_grants(state: &AppState, ctx: &Ctx, specs: Vec<GrantSpec>, source: GrantSource) -> Result<(u64, Vec<Grant>)> {
    let (committed, grants) = state
        .write_as(ctx, |ix, ctx| {
            let (grants, permit) = build(ix, ctx, &specs, source)?;
            let mut audit: Vec<_> = grants.iter().map(|g| grant_event(&ctx.audit_actor(), "grant.created", g)).collect();
            audit.extend(rbac_rows(ix, ctx, &grants)?);
            let changes = grants.iter().map(|g| Change::GrantCreated { grant: g.clone() }).collect();
            Ok((ctx.batch(permit, changes, audit), grants))
        })
        .await?;
    Ok((committed.revision, grants))
}

/// Seed 001's request-access: the three conversation permissions, scoped by conditions to the
/// conversation's owner and the organization, for `user` (the actor when `None`).
pub async fn request_conversation_access(
    state: &AppState,
    ctx: &Ctx,
    conversation: &str,
    user: Option<UserId>,
    duration: Option<String>,
    justification: &str,
    tags: Vec<String>,
) -> Result<(u64, Vec<Grant>)> {
    let id = validate::conversation_id(conversation)?;
    let owner = {
        let ix = state.index();
        let o = org(&ix, &ctx.org)?;
        let conv = o.resource(&ResourceRef::new(CONVERSATION, id.as_str())).ok_or_else(|| {
            ServiceError::NotFound(format!(
                "conversation `{id}` not found in this organization; check the id, or register the conversation first"
            ))
        })?;
        conv.attributes
            .get("conversation_user_id")
            .cloned()
            .ok_or_else(|| ServiceError::Internal(format!("conversation `{id}` has no owner")))?
    };
    let user = match (user, &ctx.actor) {
        (Some(u), _) => u,
        (None, Principal::User(me)) => me.clone(),
        (None, _) => {
            return Err(ServiceError::Forbidden("only a user asks for conversation access for itself; an API key may not".into()));
        }
    };
    let conditions: Conditions = BTreeMap::from([
        ("conversation_user_id".to_owned(), Condition::Equals { value: owner }),
        ("org_id".to_owned(), Condition::Equals { value: ctx.org.0.as_str().into() }),
    ]);
    let specs = CONVERSATION_ACCESS
        .iter()
        .map(|p| GrantSpec {
            user: user.clone(),
            permission: PermissionGrant { permission: (*p).to_owned(), conditions: conditions.clone() },
            duration: duration.clone(),
            justification: justification.to_owned(),
            tags: tags.clone(),
        })
        .collect();
    create_grants(state, ctx, specs, GrantSource::AccessRequest).await
}

/// Revokes a grant: one's own, or (with `Role:RevokeTemporaryPermissionGrant`) one held by a
/// user the actor may manage.
pub async fn revoke_grant(state: &AppState, ctx: &Ctx, id: &GrantId) -> Result<(u64, Grant)> {
    let records = Records::one(state, &ctx.org, id).await?;
    let (committed, grant) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            // Only temporary permission grants: roles leave through the role rules (owners kept,
            // the member fallback), API-key scopes by editing the key.
            let not_found = || {
                ServiceError::NotFound(format!(
                    "no temporary permission grant `{id}` in this organization; roles are revoked as roles, and an API key's scopes by editing the key"
                ))
            };
            let record = records.get(id).filter(|g| g.is_temporary() && matches!(g.target, GrantTarget::Permission { .. }));
            let record = record.ok_or_else(not_found)?;
            let terms = record.terms();
            let permit = ctx.authorize(ix, Action::RevokeGrant { grant: &terms })?;
            // The index holds the grants that can still decide; the record says why one cannot.
            if o.grant(id).is_none() {
                return Err(ServiceError::Conflict(match &record.revoked {
                    Some(r) => format!("grant `{id}` was already revoked at {}", r.at),
                    None if record.is_expired(ctx.now) => format!("grant `{id}` already expired; there is nothing to revoke"),
                    None => format!("grant `{id}` was revoked while this request was under way; there is nothing to revoke"),
                }));
            }
            if record.is_expired(ctx.now) {
                return Err(ServiceError::Conflict(format!("grant `{id}` already expired; there is nothing to revoke")));
            }
            let grant = record;
            let revocation = Revocation { at: ctx.now, by: ctx.audit_actor() };
            let mut revoked = grant.clone();
            revoked.revoked = Some(revocation.clone());
            let mut event = grant_event(&ctx.audit_actor(), "grant.revoked", &revoked);
            event.before = serde_json::to_value(grant).ok();
            let mut audit = vec![event];
            // The principal's effective set at the organization, with the grant and without it.
            let held = o.grants_of(&grant.principal);
            let prior = o.effective_set(ix.catalogue(), &held, &ScopeRef::Org, ctx.now);
            let rest = held.iter().filter(|g| g.id != grant.id);
            let new = o.effective_set(ix.catalogue(), rest, &ScopeRef::Org, ctx.now);
            let cause = serde_json::json!({ "event": "grant.revoked", "grant_id": grant.id });
            audit.extend(rbac_event(o, &ctx.audit_actor(), &grant.principal, &ScopeRef::Org, (&prior, &new), cause, None));
            let change = Change::GrantRevoked { org: ctx.org.clone(), id: id.clone(), revocation };
            Ok((ctx.batch(permit, vec![change], audit), revoked))
        })
        .await?;
    Ok((committed.revision, grant))
}

/// Writes an expiry event (`grant.expired`, or `role.expired` with its `rbac_grant` row), by the
/// system and at the instant of expiry, for every temporary grant that has expired by `now` and is
/// not yet recorded. Returns how many.
/// The decision never waits for this: expiry is decided at check time.
pub async fn record_expiries(state: &AppState, now: Timestamp) -> Result<usize> {
    let due = state.store.unrecorded_expiries(now).await?;
    let mut by_org: BTreeMap<OrgId, Vec<Grant>> = BTreeMap::new();
    for d in due {
        by_org.entry(d.org).or_default().push(d.grant);
    }
    let mut recorded = 0;
    for (org_id, due) in by_org {
        let ids: Vec<&GrantId> = due.iter().map(|g| &g.id).collect();
        let (_, n) = state
            .write(|ix| {
                let o = org(ix, &org_id)?;
                let mut changes = Vec::new();
                let mut audit = Vec::new();
                // One `rbac_grant` row per principal, scope and instant, however many grants end then.
                let mut told = std::collections::BTreeSet::new();
                // Still in the index: not revoked, and not recorded by another server meanwhile.
                for g in due.iter().filter(|g| o.grant(&g.id).is_some()) {
                    let Some(end) = g.expires_at else { continue };
                    let is_role = matches!(g.target, GrantTarget::Role { .. });
                    let mut event = grant_event(&Actor::System, if is_role { "role.expired" } else { "grant.expired" }, g);
                    event.at = Some(end);
                    audit.push(event);
                    let first = told.insert((g.principal.to_string(), o.scope_path(g.anchor.scope()), end));
                    if let (true, Anchor::Scope(scope)) = (first, &g.anchor) {
                        // The effective set just before and at the instant of expiry.
                        let held = |t| o.effective_set(ix.catalogue(), o.grants_of(&g.principal), scope, t);
                        let before = end.checked_sub(grantry_core::SignedDuration::from_micros(1)).unwrap_or(end);
                        let what = if is_role { "role.expired" } else { "grant.expired" };
                        let together: Vec<GrantId> = o
                            .grants_of(&g.principal)
                            .iter()
                            .filter(|x| x.expires_at == Some(end) && x.anchor == g.anchor && ids.contains(&&x.id))
                            .map(|x| x.id.clone())
                            .collect();
                        let cause = serde_json::json!({ "event": what, "grant_ids": together });
                        if let Some(mut d) = rbac_event(
                            o,
                            &Actor::System,
                            &g.principal,
                            scope,
                            (&held(before), &held(end)),
                            cause,
                            g.justification.as_deref(),
                        ) {
                            d.at = Some(end);
                            audit.push(d);
                        }
                    }
                    changes.push(Change::GrantExpiryRecorded { org: org_id.clone(), id: g.id.clone() });
                }
                let n = changes.len();
                Ok((grantry_store::WriteBatch { org: org_id.clone(), at: now, changes, audit, base_revision: None, outbox: vec![] }, n))
            })
            .await?;
        recorded += n;
    }
    Ok(recorded)
}
