//! The temporary-grant policy: who may give a data permission temporarily, and under which
//! conditions. A grantor who holds the permission permanently at the organization, under
//! conditions no wider than those asked for, may give it. Anyone else may give only the
//! self-service shape the permission's policy names — for the conversation permissions, seed
//! 001's: `conversation_user_id` equal to the owner of a registered conversation and `org_id`
//! equal to the organization. Everything else is refused, so a member cannot open every
//! conversation or a production trace for itself.

use super::rules::{held_permanently, require_prod_grantor};
use crate::attr::AttrValue;
use crate::catalogue::{perm, Catalogue, PermissionGrant, SelfService};
use crate::condition::Condition;
use crate::error::{CoreError, Result};
use crate::index::OrgState;
use crate::model::{Anchor, GrantTarget, Principal, ScopeRef};
use jiff::Timestamp;

/// The attribute that binds a grant to the organization.
const ORG_ATTR: &str = "org_id";

/// Decides whether `actor` may give `grant` temporarily (to someone it may manage).
pub(super) fn may_grant(o: &OrgState, cat: &Catalogue, actor: &Principal, grant: &PermissionGrant, now: Timestamp) -> Result<()> {
    let permission = cat.validate_temporary(grant)?;
    if grant.permission == perm::TRACES_READ_PROD {
        require_prod_grantor(o, cat, actor, &format!("a temporary grant of `{}`", grant.permission), now)?;
    }
    if holds_covering(o, cat, actor, grant, now) {
        return Ok(());
    }
    match &permission.self_service {
        Some(shape) => self_service(o, shape, grant),
        None => Err(CoreError::Forbidden(format!(
            "a temporary grant of `{}` with these conditions reaches further than what you hold permanently; \
             only someone who holds it permanently under the same or narrower conditions may give it",
            grant.permission
        ))),
    }
}

/// Whether `actor` permanently holds, at the organization, a grant of the permission whose
/// conditions all appear among `grant`'s (so `grant` is no wider).
fn holds_covering(o: &OrgState, cat: &Catalogue, actor: &Principal, grant: &PermissionGrant, now: Timestamp) -> bool {
    if !held_permanently(o, cat, actor, &ScopeRef::Org, now).contains(&grant.permission) {
        return false;
    }
    o.grants_of(actor)
        .iter()
        .filter(|g| !g.is_temporary() && g.is_active(now) && g.anchor == Anchor::Scope(ScopeRef::Org))
        .flat_map(|g| match &g.target {
            GrantTarget::Role { role } => cat.find_role(role).map_or(&[][..], |r| r.grants.as_slice()),
            GrantTarget::Permission { grant } => std::slice::from_ref(grant),
        })
        .filter(|held| held.permission == grant.permission)
        .any(|held| held.conditions.iter().all(|(attr, c)| grant.conditions.get(attr) == Some(c)))
}

/// Checks the self-service shape: the owner attribute equal to the owner of a registered
/// resource of the shape's type, and the organization attribute equal to this organization.
fn self_service(o: &OrgState, shape: &SelfService, grant: &PermissionGrant) -> Result<()> {
    let org_id = o.org().id.as_str();
    let how = format!(
        "a temporary grant of `{}` must name one owner's {}s: give the conditions `{}` Equals the owner's user id \
         and `{ORG_ATTR}` Equals `{org_id}` (the shape a conversation access request makes)",
        grant.permission, shape.resource_type, shape.owner_attr
    );
    let owner = match grant.conditions.get(shape.owner_attr) {
        Some(Condition::Equals { value: AttrValue::Str(owner) }) => owner,
        _ => return Err(CoreError::Forbidden(how)),
    };
    if !matches!(grant.conditions.get(ORG_ATTR), Some(Condition::Equals { value: AttrValue::Str(v) }) if v == org_id) {
        return Err(CoreError::Forbidden(how));
    }
    if !o.has_resource_with(shape.resource_type, shape.owner_attr, &AttrValue::Str(owner.clone())) {
        return Err(CoreError::NotFound(format!(
            "no registered {} in this organization is owned by `{owner}`; register the {} first",
            shape.resource_type, shape.resource_type
        )));
    }
    Ok(())
}
