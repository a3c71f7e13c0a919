//! Which request policy decides a target. A policy governs a reach: a scope node and what is
//! below it, optionally only production or only non-production, optionally only resources of one
//! data classification. The most specific policy whose reach holds the whole target decides it: one
//! with a filter (production, a classification) over a general one, then the deeper.
//! A target that reaches *into* the reach of a policy that asks for approval without lying wholly
//! inside it — a project when a policy governs its production environment, the organization when
//! one governs restricted agents — is refused: granting it would pass that policy by. Requests for several targets are
//! decided by one policy, or asked for separately.

use super::request_policies::{policies, scope_at};
use crate::service::error::{Result, ServiceError};
use grantry_core::attr::AttrValue;
use grantry_core::authz;
use grantry_core::index::OrgState;
use grantry_core::model::{Anchor, EnvFilter, RequestPolicy, ScopeKind, ScopeRef, AGENT, DATA_SOURCE};

/// What a target reaches, as policies see it.
struct Reach {
    /// Where it is in the scope tree.
    place: ScopeRef,
    /// Wholly production: a production environment, something in one, or a resource marked so.
    within_prod: bool,
    /// A scope target with a production environment below it.
    prod_below: Vec<ScopeRef>,
    /// A resource target's data classification.
    class: Option<String>,
    /// A scope target (which reaches every resource below it).
    scope: bool,
}

/// Attribute `name` of a resource target — or, when it has none, of what it belongs to (a data
/// source is as restricted as its agent).
fn text_attr(o: &OrgState, target: &Anchor, name: &str) -> Option<AttrValue> {
    let Anchor::Resource(r) = target else { return None };
    let mut at = o.resource(r)?;
    for _ in 0..8 {
        if let Some(v) = at.attributes.get(name) {
            return Some(v.clone());
        }
        at = o.resource(at.parent.as_ref()?)?;
    }
    None
}

fn reach(o: &OrgState, target: &Anchor) -> Reach {
    let place = authz::place(o, target);
    let in_prod_env =
        o.scope_chain(&place).iter().any(|s| matches!(s, ScopeRef::Environment(id) if o.scope(id).is_some_and(|n| n.is_production)));
    let within_prod = in_prod_env || text_attr(o, target, "is_prod") == Some(AttrValue::Bool(true));
    let scope = matches!(target, Anchor::Scope(_));
    let prod_below = if scope {
        o.scopes_of(ScopeKind::Environment)
            .iter()
            .filter(|e| e.is_production)
            .map(|e| e.as_ref())
            .filter(|e| o.is_within(e, &place))
            .collect()
    } else {
        Vec::new()
    };
    let class = match text_attr(o, target, "classification") {
        Some(AttrValue::Str(c)) => Some(c),
        _ => None,
    };
    Reach { place, within_prod, prod_below, class, scope }
}

/// Whether `p`'s reach holds the whole target.
fn contains(o: &OrgState, p: &RequestPolicy, r: &Reach) -> bool {
    let Ok(scope) = scope_at(o, "scope", &p.scope) else { return false };
    let env = match p.environment {
        None => true,
        Some(EnvFilter::Production) => r.within_prod,
        Some(EnvFilter::NonProduction) => !r.within_prod && r.prod_below.is_empty(),
    };
    let class = p.classification.as_ref().is_none_or(|c| !r.scope && r.class.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(c)));
    o.is_within(&r.place, &scope) && env && class
}

/// Whether the target reaches into `p`'s reach at all.
fn overlaps(o: &OrgState, p: &RequestPolicy, r: &Reach) -> bool {
    let Ok(scope) = scope_at(o, "scope", &p.scope) else { return false };
    if !r.scope {
        // A resource reaches itself (and what belongs to it), which it holds wholly.
        return contains(o, p, r);
    }
    let shared = |node: &ScopeRef| o.is_within(node, &scope) && o.is_within(node, &r.place);
    let nested = o.is_within(&r.place, &scope) || o.is_within(&scope, &r.place);
    let env = match p.environment {
        None => true,
        Some(EnvFilter::Production) => r.within_prod || r.prod_below.iter().any(shared),
        Some(EnvFilter::NonProduction) => !r.within_prod,
    };
    let class = p.classification.as_ref().is_none_or(|c| {
        [AGENT, DATA_SOURCE].iter().any(|kind| {
            o.resources_with(kind, "classification", &AttrValue::Str(c.to_ascii_lowercase())).iter().any(|res| shared(&res.scope))
        })
    });
    nested && env && class
}

/// Says what a policy governs, for a refusal.
fn governs(p: &RequestPolicy) -> String {
    let mut what = vec![if p.scope == "org" || p.scope.is_empty() { "the organization".to_owned() } else { format!("`{}`", p.scope) }];
    if let Some(e) = p.environment {
        what.push(if e == EnvFilter::Production { "production".into() } else { "non-production".into() });
    }
    if let Some(c) = &p.classification {
        what.push(format!("{c} resources"));
    }
    what.join(", ")
}

/// The policy that decides a request for `targets` (`None`: no policy, and the organization's
/// approvers decide).
pub fn deciding(o: &OrgState, targets: &[Anchor]) -> Result<Option<RequestPolicy>> {
    let all = policies(o);
    let mut chosen: Option<Option<&RequestPolicy>> = None;
    for t in targets {
        let r = reach(o, t);
        let decider = all.iter().find(|p| contains(o, p, &r));
        // One that approves at once loses nothing to being passed by: the decider is no laxer.
        if let Some(passed) = all.iter().find(|p| !p.auto_approve && !contains(o, p, &r) && overlaps(o, p, &r)) {
            return Err(ServiceError::Invalid {
                field: "targets".into(),
                message: format!(
                    "`{}` reaches into what policy `{}` governs ({}); ask for it where that policy applies, or for something narrower",
                    o.scope_path(&r.place),
                    passed.name,
                    governs(passed)
                ),
            });
        }
        match chosen {
            None => chosen = Some(decider),
            Some(prev) if prev.map(|x| &x.id) == decider.map(|x| &x.id) => {}
            Some(prev) => {
                let name = |p: Option<&RequestPolicy>| p.map_or_else(|| "no policy".to_owned(), |p| format!("policy `{}`", p.name));
                return Err(ServiceError::Invalid {
                    field: "targets".into(),
                    message: format!(
                        "these targets are decided by different policies ({} and {}); request them separately",
                        name(prev),
                        name(decider)
                    ),
                });
            }
        }
    }
    Ok(chosen.flatten().cloned())
}
