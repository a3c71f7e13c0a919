//! The `rbac_grant` audit row that every role, key-scope and temporary-grant change writes: the
//! affected principal's effective permission set before and after — only when that set changed.
//! (Who may make the change is decided in `grantry_core::authz`.)

use grantry_core::audit::AuditDraft;
use grantry_core::index::OrgState;
use grantry_core::model::{Actor, Principal, ScopeRef};
use serde_json::json;
use std::collections::BTreeSet;

/// The `rbac_grant` row for a change of `principal`'s effective set at `scope` from `prior` to
/// `new` (the pair), or `None` when the set did not change. `cause` names the change (`role.granted`, …) and
/// `justification` is the one the change was made with, if any.
pub fn rbac_event(
    o: &OrgState,
    by: &Actor,
    principal: &Principal,
    scope: &ScopeRef,
    (prior, new): (&BTreeSet<String>, &BTreeSet<String>),
    cause: serde_json::Value,
    justification: Option<&str>,
) -> Option<AuditDraft> {
    if prior == new {
        return None;
    }
    let path = o.scope_path(scope);
    let mut d = AuditDraft::new(by, "rbac_grant", "scope", &path);
    d.principal = Some(principal.to_string());
    d.justification = justification.map(str::to_owned);
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
