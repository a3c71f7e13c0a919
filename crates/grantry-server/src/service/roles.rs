//! Roles at a tier (seed 002): granting one to a user at the organization, a workspace or a
//! project — permanently (replacing the user's permanent role at that node) or for a window that
//! ends on its own — and revoking it. Each writes `role.*` events and, when the user's effective
//! permission set at that node changed, an `rbac_grant` row.

use super::rbac::rbac_event;
use super::scopes::find;
use super::{grant_event, org, Ctx, Records};
use crate::ids::new_id;
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::authz::Action;
use grantry_core::catalogue::{role, Role, Tier};
use grantry_core::change::Change;
use grantry_core::duration::{parse_grant_duration, window_until};
use grantry_core::ids::GrantId;
use grantry_core::index::{DecisionIndex, OrgState};
use grantry_core::model::{
    Anchor, Grant, GrantSource, GrantTarget, GrantTerms, Principal, Revocation, ScopeKind, ScopeRef, User, UserStatus,
};
use grantry_core::{validate, Timestamp};
use serde_json::json;

/// Where a role is held: the organization, a workspace (`WS`) or a project (`WS/PRJ`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TierSel {
    Org,
    Workspace(String),
    Project(String),
}

/// How long a role is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Window {
    Permanent,
    /// An ISO 8601 duration from now.
    For(String),
    Until(Timestamp),
}

/// A role to grant or revoke.
#[derive(Debug, Clone)]
pub struct RoleChange {
    pub email: String,
    pub role: String,
    pub at: TierSel,
}

/// A role grant in force for `user` of `role` at `anchor`, for `window` (`None`: permanent).
pub fn role_grant(
    ctx: &Ctx,
    principal: Principal,
    role: &str,
    anchor: ScopeRef,
    expires_at: Option<Timestamp>,
    justification: Option<String>,
    source: GrantSource,
) -> Result<Grant> {
    Ok(Grant {
        id: GrantId(new_id()?),
        org: ctx.org.clone(),
        principal,
        target: GrantTarget::Role { role: role.to_owned() },
        anchor: Anchor::Scope(anchor),
        starts_at: ctx.now,
        expires_at,
        justification,
        tags: vec![],
        creator: ctx.audit_actor(),
        source,
        created_at: ctx.now,
        revoked: None,
    })
}

/// The checked parts of a role change: the user, the role and the node.
struct Resolved<'a> {
    user: &'a User,
    role: &'a Role,
    scope: ScopeRef,
}

/// Resolves a change: the role exists and belongs to the selected tier, the node and the user
/// exist, and the actor may assign roles there (what it may give or take is decided once the
/// change is known).
fn resolve<'a>(ix: &'a DecisionIndex, ctx: &Ctx, change: &RoleChange) -> Result<Resolved<'a>> {
    let o = org(ix, &ctx.org)?;
    let role = ix.catalogue().role(&change.role)?;
    let (tier, scope) = match &change.at {
        TierSel::Org => (Tier::Organization, ScopeRef::Org),
        TierSel::Workspace(p) => (Tier::Workspace, find(o, &ctx.actor, ScopeKind::Workspace, p)?.as_ref()),
        TierSel::Project(p) => (Tier::Project, find(o, &ctx.actor, ScopeKind::Project, p)?.as_ref()),
    };
    if role.tier != tier {
        return Err(ServiceError::Invalid {
            field: "role".into(),
            message: format!(
                "`{}` is {} {} role and cannot be held at {}; give it at {}",
                role.name,
                role.tier.article(),
                role.tier.name(),
                tier.place(),
                role.tier.place()
            ),
        });
    }
    let email = validate::email(&change.email)?;
    ctx.authorize(ix, Action::RevokeRole { scope: &scope, removing: &[] })?;
    let user = o
        .user_by_email(&email)
        .ok_or_else(|| ServiceError::NotFound(format!("no user with email `{email}` in this organization; create the user first")))?;
    Ok(Resolved { user, role, scope })
}

/// The records of the live grants of the user `change` names (none if there is no such user:
/// the write then says so).
async fn records_of(state: &AppState, ctx: &Ctx, change: &RoleChange) -> Result<Records> {
    let principal = {
        let ix = state.index();
        // A bad address, or a missing organization, is the write's to report, in its order.
        let (Ok(email), Ok(o)) = (validate::email(&change.email), org(&ix, &ctx.org)) else { return Ok(Records::default()) };
        o.user_by_email(&email).map(|u| Principal::User(u.id.clone()))
    };
    match principal {
        Some(p) => Records::live_of(state, &ctx.org, &p).await,
        None => Ok(Records::default()),
    }
}

/// `user`'s grants of `role` at exactly `scope` that are in force at `now`.
fn held(o: &OrgState, user: &User, role: &str, scope: &ScopeRef, now: Timestamp) -> Vec<GrantTerms> {
    let anchor = Anchor::Scope(scope.clone());
    o.grants_of(&Principal::User(user.id.clone()))
        .into_iter()
        .filter(|g| g.is_active(now) && g.anchor == anchor && matches!(&g.target, GrantTarget::Role { role: r } if r == role))
        .collect()
}

/// Refuses a change that would leave the organization without a permanent owner.
fn keep_an_owner(o: &OrgState, removing: &[&GrantTerms], now: Timestamp) -> Result<()> {
    let is_owner = |g: &GrantTerms| {
        !g.is_temporary()
            && g.anchor == Anchor::Scope(ScopeRef::Org)
            && matches!(&g.target, GrantTarget::Role { role } if role == grantry_core::catalogue::role::ORG_OWNER)
    };
    if !removing.iter().any(|g| is_owner(g)) {
        return Ok(());
    }
    let owners = o.role_grants(role::ORG_OWNER);
    let remaining = owners.iter().filter(|g| g.is_active(now) && is_owner(g) && !removing.iter().any(|r| r.id == g.id)).count();
    if remaining == 0 {
        return Err(ServiceError::Conflict(
            "this would leave the organization without an owner; make someone else org_owner first".to_owned(),
        ));
    }
    Ok(())
}

/// The revocation of each of `grants`, with its `role.revoked` event carrying the grant's record.
type Revoked = (Vec<Grant>, Vec<Change>, Vec<grantry_core::audit::AuditDraft>);
fn revocations(ctx: &Ctx, grants: &[&GrantTerms], records: &Records, event: &str) -> Result<Revoked> {
    let revocation = Revocation { at: ctx.now, by: ctx.audit_actor() };
    let mut revoked = Vec::new();
    let mut changes = Vec::new();
    let mut audit = Vec::new();
    for terms in grants {
        let g = records.of(terms)?;
        let mut after = g.clone();
        after.revoked = Some(revocation.clone());
        let mut d = grant_event(&ctx.audit_actor(), event, &after);
        d.before = serde_json::to_value(g).ok();
        audit.push(d);
        changes.push(Change::GrantRevoked { org: ctx.org.clone(), id: g.id.clone(), revocation: revocation.clone() });
        revoked.push(after);
    }
    Ok((revoked, changes, audit))
}

/// The `org_member` grant that keeps a user in the organization when the revocation takes away
/// their last permanent organization role; refused when that role is `org_member` itself.
fn member_fallback(o: &OrgState, ctx: &Ctx, r: &Resolved<'_>, removing: &[&GrantTerms]) -> Result<Option<Grant>> {
    if r.role.tier != Tier::Organization || removing.iter().all(|g| g.is_temporary()) {
        return Ok(None);
    }
    let principal = Principal::User(r.user.id.clone());
    let keeps_one = o.grants_of(&principal).iter().any(|g| {
        g.is_active(ctx.now)
            && !g.is_temporary()
            && g.anchor == Anchor::Scope(ScopeRef::Org)
            && matches!(g.target, GrantTarget::Role { .. })
            && !removing.iter().any(|x| x.id == g.id)
    });
    if keeps_one {
        return Ok(None);
    }
    if r.role.name == role::ORG_MEMBER {
        return Err(ServiceError::Conflict(format!(
            "`{}` holds only `{}`, the least organization role; to take away their access, suspend the user instead",
            r.user.email,
            role::ORG_MEMBER
        )));
    }
    let grant = role_grant(ctx, principal, role::ORG_MEMBER, ScopeRef::Org, None, None, GrantSource::Manual)?;
    Ok(Some(grant))
}

/// What a role grant did.
#[derive(Debug, Clone)]
pub struct RoleGranted {
    pub grant: Grant,
    /// The user's permanent roles at that node that the new one replaced.
    pub replaced: Vec<Grant>,
    /// Whether the user's effective permission set changed (and an `rbac_grant` row was written).
    pub effective_changed: bool,
}

/// Grants a role for `window`. A permanent role replaces the user's permanent role at that node
/// (one role per tier node, as the team page shows); a time-bounded one is held beside it.
pub async fn grant_role(
    state: &AppState,
    ctx: &Ctx,
    change: &RoleChange,
    window: &Window,
    justification: Option<&str>,
) -> Result<(u64, RoleGranted)> {
    let records = records_of(state, ctx, change).await?;
    let (committed, out) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let cat = ix.catalogue();
            let r = resolve(ix, ctx, change)?;
            ctx.authorize(ix, Action::GrantRole { role: r.role, scope: &r.scope, removing: &[] })?;
            if r.user.status != UserStatus::Active {
                return Err(ServiceError::Invalid {
                    field: "user_email".into(),
                    message: format!("user `{}` is suspended and cannot be given a role", r.user.email),
                });
            }
            let policy = &o.org().policy;
            let expires_at = match window {
                Window::Permanent => None,
                Window::For(text) => Some(parse_grant_duration(text, policy.max_role_duration)?),
                Window::Until(end) => Some(window_until(ctx.now, *end, policy.max_role_duration)?),
            }
            .map(|d| ctx.now.checked_add(d))
            .transpose()
            .map_err(|_| ServiceError::Invalid { field: "duration".into(), message: "is too long".into() })?;
            let justification = justification
                .map(|j| validate::justification(j, policy.min_justification_chars, policy.max_justification_chars))
                .transpose()?;
            let same = held(o, r.user, &r.role.name, &r.scope, ctx.now);
            if same.iter().any(|g| !g.is_temporary()) {
                return Err(ServiceError::Conflict(format!(
                    "`{}` already holds `{}` at {} permanently; there is nothing to grant",
                    r.user.email,
                    r.role.name,
                    o.describe_scope(&r.scope)
                )));
            }
            let principal = Principal::User(r.user.id.clone());
            let holds = o.grants_of(&principal);
            let replaced: Vec<&GrantTerms> = if expires_at.is_none() {
                let anchor = Anchor::Scope(r.scope.clone());
                holds
                    .iter()
                    .filter(|g| {
                        g.is_active(ctx.now) && !g.is_temporary() && g.anchor == anchor && matches!(g.target, GrantTarget::Role { .. })
                    })
                    .collect()
            } else {
                vec![]
            };
            let permit = ctx.authorize(ix, Action::GrantRole { role: r.role, scope: &r.scope, removing: &replaced })?;
            keep_an_owner(o, &replaced, ctx.now)?;
            let grant = role_grant(ctx, principal.clone(), &r.role.name, r.scope.clone(), expires_at, justification, GrantSource::Manual)?;
            let prior = o.effective_set(cat, &holds, &r.scope, ctx.now);
            let (revoked, mut changes, mut audit) = revocations(ctx, &replaced, &records, "role.replaced")?;
            let kept = holds.iter().filter(|g| !replaced.iter().any(|x| x.id == g.id)).cloned();
            let new = o.effective_set(cat, kept.chain(std::iter::once(grant.terms())), &r.scope, ctx.now);
            changes.push(Change::GrantCreated { grant: grant.clone() });
            audit.push(grant_event(&ctx.audit_actor(), "role.granted", &grant));
            let cause = json!({ "event": "role.granted", "role": r.role.name, "grant_id": grant.id, "expires_at": grant.expires_at });
            let rbac = rbac_event(o, &ctx.audit_actor(), &principal, &r.scope, (&prior, &new), cause, grant.justification.as_deref());
            let effective_changed = rbac.is_some();
            audit.extend(rbac);
            Ok((ctx.batch(permit, changes, audit), RoleGranted { grant, replaced: revoked, effective_changed }))
        })
        .await?;
    Ok((committed.revision, out))
}

/// Revokes every grant of the role the user holds at that node (permanent and time-bounded).
pub async fn revoke_role(state: &AppState, ctx: &Ctx, change: &RoleChange) -> Result<(u64, Vec<Grant>, bool)> {
    let records = records_of(state, ctx, change).await?;
    let (committed, out) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let cat = ix.catalogue();
            let r = resolve(ix, ctx, change)?;
            let holding = held(o, r.user, &r.role.name, &r.scope, ctx.now);
            let grants: Vec<&GrantTerms> = holding.iter().collect();
            if grants.is_empty() {
                return Err(ServiceError::NotFound(format!(
                    "`{}` does not hold `{}` at {}; the role matrix shows who holds what",
                    r.user.email,
                    r.role.name,
                    o.describe_scope(&r.scope)
                )));
            }
            let permit = ctx.authorize(ix, Action::RevokeRole { scope: &r.scope, removing: &grants })?;
            keep_an_owner(o, &grants, ctx.now)?;
            let principal = Principal::User(r.user.id.clone());
            let holds = o.grants_of(&principal);
            let prior = o.effective_set(cat, &holds, &r.scope, ctx.now);
            let (revoked, mut changes, mut audit) = revocations(ctx, &grants, &records, "role.revoked")?;
            let fallback = member_fallback(o, ctx, &r, &grants)?;
            if let Some(g) = &fallback {
                changes.push(Change::GrantCreated { grant: g.clone() });
                audit.push(grant_event(&ctx.audit_actor(), "role.granted", g));
            }
            let remaining = holds.iter().filter(|g| !grants.iter().any(|x| x.id == g.id)).cloned();
            let new = o.effective_set(cat, remaining.chain(fallback.iter().map(Grant::terms)), &r.scope, ctx.now);
            let cause =
                json!({ "event": "role.revoked", "role": r.role.name, "grant_ids": revoked.iter().map(|g| &g.id).collect::<Vec<_>>() });
            let rbac = rbac_event(o, &ctx.audit_actor(), &principal, &r.scope, (&prior, &new), cause, None);
            let changed = rbac.is_some();
            audit.extend(rbac);
            Ok((ctx.batch(permit, changes, audit), (revoked, changed)))
        })
        .await?;
    Ok((committed.revision, out.0, out.1))
}
