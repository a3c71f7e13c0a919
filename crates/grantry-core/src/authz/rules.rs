//! The rules the actions are made of: holding a permission (at the organization or at a node of
//! the scope tree), managing another principal, and covering — with one's own permanent
//! permissions — what is given or taken away.

use crate::attr::AttrValue;
use crate::catalogue::{perm, role, Catalogue};
use crate::decision::ResourceQuery;
use crate::error::{CoreError, Result};
use crate::ids::ApiKeyId;
use crate::index::OrgState;
use crate::model::{Anchor, GrantTarget, GrantTerms, Group, GroupRole, Principal, Resource, ScopeRef, UserStatus};
use jiff::Timestamp;
use std::collections::BTreeSet;

/// Requires that `actor` holds `permission` at the organization at `now` (through any grant in force).
pub(super) fn require(o: &OrgState, cat: &Catalogue, actor: &Principal, permission: &str, now: Timestamp) -> Result<()> {
    if o.held_at(cat, actor, &ScopeRef::Org, now, false).contains(permission) {
        Ok(())
    } else {
        Err(CoreError::Forbidden(format!("you need the `{permission}` permission for this; ask an organization admin")))
    }
}

/// Requires that `actor` holds `permission` at `scope` at `now`. An API key acts only within its
/// project, and the error says so.
pub(super) fn require_at(
    o: &OrgState,
    cat: &Catalogue,
    actor: &Principal,
    permission: &str,
    scope: &ScopeRef,
    now: Timestamp,
) -> Result<()> {
    if let Principal::ApiKey(id) = actor {
        if o.api_key(id).is_some_and(|key| !o.is_within(scope, &ScopeRef::Project(key.project.clone()))) {
            return Err(outside_project(o, id));
        }
    }
    if o.held_at(cat, actor, scope, now, false).contains(permission) {
        return Ok(());
    }
    let place = o.describe_scope(scope);
    Err(CoreError::Forbidden(format!("you need the `{permission}` permission at {place} for this; ask an admin of it")))
}

/// The refusal of an API key acting outside its project.
pub(super) fn outside_project(o: &OrgState, id: &ApiKeyId) -> CoreError {
    let home = o.api_key(id).and_then(|k| o.scope(&k.project)).map(|n| o.path_of(n)).unwrap_or_default();
    CoreError::Forbidden(format!("api key `{id}` acts only within project `{home}`; use a key of the project you are working in"))
}

/// What `principal` holds permanently at `scope` at `now` (temporary grants never count when
/// privileges are compared).
pub(super) fn held_permanently(o: &OrgState, cat: &Catalogue, principal: &Principal, scope: &ScopeRef, now: Timestamp) -> BTreeSet<String> {
    o.held_at(cat, principal, scope, now, true)
}

/// Requires that `actor` holds every one of `perms` permanently at `scope`, and, when they include
/// `traces:read:prod`, that it assigns roles permanently at the organization (org_admin or higher).
pub(super) fn require_covers<'a>(
    o: &OrgState,
    cat: &Catalogue,
    actor: &Principal,
    what: &str,
    perms: impl IntoIterator<Item = &'a str>,
    scope: &ScopeRef,
    now: Timestamp,
) -> Result<()> {
    let mine = held_permanently(o, cat, actor, scope, now);
    let perms: BTreeSet<&str> = perms.into_iter().collect();
    let missing: Vec<&str> = perms.iter().copied().filter(|p| !mine.contains(*p)).collect();
    if !missing.is_empty() {
        return Err(CoreError::Forbidden(format!(
            "{what} carries permissions you do not hold permanently at {} ({}); ask someone who holds them",
            o.describe_scope(scope),
            missing.join(", ")
        )));
    }
    if perms.contains(perm::TRACES_READ_PROD) {
        require_prod_grantor(o, cat, actor, what, now)?;
    }
    Ok(())
}

/// Requires that `actor` is org_admin or higher: it assigns roles permanently at the organization.
/// Seed 002: only they give production-trace access.
pub(super) fn require_prod_grantor(o: &OrgState, cat: &Catalogue, actor: &Principal, what: &str, now: Timestamp) -> Result<()> {
    if held_permanently(o, cat, actor, &ScopeRef::Org, now).contains(perm::ROLE_ASSIGN) {
        return Ok(());
    }
    Err(CoreError::Forbidden(format!(
        "{what} gives production-trace access (`{}`), which only org_admin or higher may grant; ask an organization admin",
        perm::TRACES_READ_PROD
    )))
}

/// Requires that `actor` could have given each role grant of `removing` at `scope`: one takes
/// away only what one could give, so an org_admin cannot demote or remove an owner.
pub(super) fn require_takes_away(
    o: &OrgState,
    cat: &Catalogue,
    actor: &Principal,
    scope: &ScopeRef,
    removing: &[&GrantTerms],
    now: Timestamp,
) -> Result<()> {
    for g in removing {
        let GrantTarget::Role { role: name } = &g.target else { continue };
        let Some(r) = cat.find_role(name) else { continue };
        if name == role::ORG_OWNER && g.anchor == Anchor::Scope(ScopeRef::Org) && !is_owner(o, actor, now) {
            return Err(CoreError::Forbidden(
                "only an owner of the organization may change or take away an owner's role; ask an org_owner".to_owned(),
            ));
        }
        require_covers(o, cat, actor, &format!("taking away role `{name}`"), r.permission_names(), scope, now)?;
    }
    Ok(())
}

/// Whether `actor` holds `org_owner` permanently.
fn is_owner(o: &OrgState, actor: &Principal, now: Timestamp) -> bool {
    o.grants_of(actor).iter().any(|g| {
        !g.is_temporary()
            && g.is_active(now)
            && g.anchor == Anchor::Scope(ScopeRef::Org)
            && matches!(&g.target, GrantTarget::Role { role } if role == role::ORG_OWNER)
    })
}

/// Requires that `actor` permanently holds, wherever `target` holds anything now — temporary
/// grants, time-bounded roles and data permissions included — everything `target` holds there:
/// a token that acts as `target` must not carry more than its issuer could.
pub(super) fn require_covers_all_held(o: &OrgState, cat: &Catalogue, actor: &Principal, target: &Principal, now: Timestamp) -> Result<()> {
    let mut scopes: Vec<ScopeRef> = o.grants_of(target).iter().filter(|g| g.is_active(now)).map(|g| g.anchor.scope().clone()).collect();
    scopes.dedup();
    for scope in &scopes {
        let theirs = o.held_at(cat, target, scope, now, false);
        let mine = held_permanently(o, cat, actor, scope, now);
        let missing: Vec<&str> = theirs.iter().filter(|p| !mine.contains(*p)).map(String::as_str).collect();
        if !missing.is_empty() {
            return Err(CoreError::Forbidden(format!(
                "{target} now holds at {} what you do not hold permanently ({}); a token acting as them would carry it, so only they may make one",
                o.describe_scope(scope),
                missing.join(", ")
            )));
        }
    }
    Ok(())
}

/// Requires that `actor` may manage `target`: itself always; another principal only with a
/// permanent `User:Manage` and permanent permissions that cover all of the target's. The target's
/// are counted from their permanent grants even while they are suspended: a suspended owner is
/// still an owner to anyone who would act for them, mint them a token, or resume or delete them.
pub(super) fn require_manage(o: &OrgState, cat: &Catalogue, actor: &Principal, target: &Principal, now: Timestamp) -> Result<()> {
    if actor == target {
        return Ok(());
    }
    let theirs = o.effective_of(cat, target, &ScopeRef::Org, now, true);
    let admin = |held: &BTreeSet<String>| cat.admin_subset(held.iter().map(String::as_str));
    let mine = admin(&held_permanently(o, cat, actor, &ScopeRef::Org, now));
    if !mine.contains(perm::USER_MANAGE) {
        return Err(CoreError::Forbidden(format!(
            "acting for another user needs the `{}` permission held through a permanent role; ask an organization admin",
            perm::USER_MANAGE
        )));
    }
    let theirs = admin(&theirs);
    let missing: Vec<&str> = theirs.difference(&mine).map(String::as_str).collect();
    if !missing.is_empty() {
        return Err(CoreError::Forbidden(format!(
            "{target} holds permissions you do not ({}); only someone who holds all of them may manage this user",
            missing.join(", ")
        )));
    }
    Ok(())
}

/// Requires that `actor` may read trace `trace`: the permission of its class, decided as a check.
pub(super) fn require_readable_trace(o: &OrgState, actor: &Principal, trace: &Resource, now: Timestamp) -> Result<()> {
    let permission =
        if trace.attributes.get("is_prod") == Some(&AttrValue::Bool(true)) { perm::TRACES_READ_PROD } else { perm::TRACES_READ };
    let query = ResourceQuery { reference: trace.reference.clone(), attributes: trace.attributes.clone() };
    if o.check(actor, permission, &query, now) {
        Ok(())
    } else {
        Err(CoreError::Forbidden(format!("reading trace `{}` needs `{permission}` on it; ask an admin of its project", trace.reference.id)))
    }
}

/// Refuses acting on `target` while they are a suspended user; `then` says what to do instead.
pub(super) fn require_not_suspended(o: &OrgState, target: &Principal, then: &str) -> Result<()> {
    match target {
        Principal::User(id) if o.user(id).is_some_and(|u| u.status == UserStatus::Suspended) => {
            Err(CoreError::Forbidden(format!("{target} is suspended; {then}")))
        }
        _ => Ok(()),
    }
}

/// Requires that `actor` permanently holds every administrative permission any grant of `target`
/// in force gives them at the organization — temporary ones included, and whether or not they are
/// suspended; `why` says what the action would do with them.
pub(super) fn require_covers_admin_held(
    o: &OrgState,
    cat: &Catalogue,
    actor: &Principal,
    target: &Principal,
    why: &str,
    now: Timestamp,
) -> Result<()> {
    let theirs = cat.admin_subset(o.effective_of(cat, target, &ScopeRef::Org, now, false).iter().map(String::as_str));
    let mine = cat.admin_subset(held_permanently(o, cat, actor, &ScopeRef::Org, now).iter().map(String::as_str));
    let missing: Vec<&str> = theirs.difference(&mine).map(String::as_str).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(CoreError::Forbidden(format!("{target} holds, for now, what you do not hold permanently ({}); {why}", missing.join(", "))))
    }
}

/// Whether `actor` is an active user who manages `group` (an active group) for good: a manager
/// whose own membership ends hands on nothing that would outlast it.
pub(super) fn manages_group(o: &OrgState, actor: &Principal, group: &Group, now: Timestamp) -> bool {
    let Principal::User(id) = actor else { return false };
    let active = o.user(id).is_some_and(|u| u.status == UserStatus::Active);
    let manager = o.membership(&group.id, id).is_some_and(|m| m.role == GroupRole::Manager && m.is_active(now) && m.expires_at.is_none());
    active && group.is_active() && manager
}

/// Requires that `actor` may do `permission` on the registered resource `on`, decided as a check —
/// through what it holds for good alone when `for_good` (handing access on rests on that).
pub(super) fn require_on(o: &OrgState, actor: &Principal, on: &Resource, permission: &str, for_good: bool, now: Timestamp) -> Result<()> {
    let query = ResourceQuery { reference: on.reference.clone(), attributes: on.attributes.clone() };
    let allowed = if for_good { o.check_for_good(actor, permission, &query, now) } else { o.check(actor, permission, &query, now) };
    if allowed {
        return Ok(());
    }
    let name = on.attributes.get("name").map_or_else(|| format!("`{}`", on.reference), |n| format!("{n} (`{}`)", on.reference));
    let held = if for_good { ", held for good (not through a temporary grant or a membership with an end)," } else { "" };
    Err(CoreError::Forbidden(format!("you need `{permission}` on {name}{held} for this; ask an admin or a manager of it")))
}
