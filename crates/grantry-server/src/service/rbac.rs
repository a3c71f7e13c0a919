//! The two rules every role and key-scope change shares: the actor's *permanent* permissions at
//! the scope must cover what is given or taken (and production-trace access only from org_admin or
//! higher), and an `rbac_grant` audit row records the affected principal's effective permission
//! set before and after — written only when that set changed.

use crate::error::{ApiError, Result};
use grantry_core::audit::AuditDraft;
use grantry_core::catalogue::{perm, Catalogue};
use grantry_core::index::OrgState;
use grantry_core::model::{Actor, Principal, ScopeRef};
use grantry_core::Timestamp;
use serde_json::json;
use std::collections::BTreeSet;

/// Requires that `actor` holds every one of `perms` permanently at `scope`, and, when they include
/// `traces:read:prod`, that it assigns roles permanently at the organization (org_admin or higher).
pub fn require_covers<'a>(
    o: &OrgState,
    cat: &Catalogue,
    actor: &Principal,
    what: &str,
    perms: impl IntoIterator<Item = &'a str>,
    scope: &ScopeRef,
    now: Timestamp,
) -> Result<()> {
    let mine = o.held_at(cat, actor, scope, now, true);
    let perms: BTreeSet<&str> = perms.into_iter().collect();
    let missing: Vec<&str> = perms.iter().copied().filter(|p| !mine.contains(*p)).collect();
    if !missing.is_empty() {
        return Err(ApiError::Forbidden(format!(
            "{what} carries permissions you do not hold permanently at {} ({}); ask someone who holds them",
            o.describe_scope(scope),
            missing.join(", ")
        )));
    }
    if perms.contains(perm::TRACES_READ_PROD) && !o.held_at(cat, actor, &ScopeRef::Org, now, true).contains(perm::ROLE_ASSIGN) {
        return Err(ApiError::Forbidden(format!(
            "{what} gives production-trace access (`{}`), which only org_admin or higher may grant; ask an organization admin",
            perm::TRACES_READ_PROD
        )));
    }
    Ok(())
}

/// The `rbac_grant` row for a change of `principal`'s effective set at `scope` from `prior` to
/// `new`, or `None` when the set did not change. `cause` names the change (`role.granted`, …).
pub fn rbac_event(
    o: &OrgState,
    by: &Actor,
    principal: &Principal,
    scope: &ScopeRef,
    prior: &BTreeSet<String>,
    new: &BTreeSet<String>,
    cause: serde_json::Value,
) -> Option<AuditDraft> {
    if prior == new {
        return None;
    }
    let path = o.scope_path(scope);
    let mut d = AuditDraft::new(by, "rbac_grant", "scope", &path);
    d.principal = Some(principal.to_string());
    d.before = Some(json!({ "scope": path, "effective": prior }));
    d.after = Some(json!({
        "scope": path,
        "effective": new,
        "added": new.difference(prior).collect::<Vec<_>>(),
        "removed": prior.difference(new).collect::<Vec<_>>(),
        "cause": cause,
    }));
    Some(d)
}
