//! The decision: `check` (allocation-free, for the hot path), `explain` (the same evaluation with
//! reasons for people).

use super::OrgState;
use crate::attr::{AttrValue, Attributes};
use crate::catalogue::{Catalogue, PermissionGrant};
use crate::condition::{first_failure, Condition};
use crate::decision::{Decision, Reason, ReasonCode, ResourceQuery, MAX_REASONS};
use crate::duration::humanize;
use crate::model::{Anchor, Grant, GrantTarget, GrantTerms, Principal, ResourceRef, Revocation, ScopeRef, UserStatus};
use jiff::Timestamp;

/// The resource type that stands for the organization itself in administrative checks.
pub const ORG_RESOURCE: &str = "organization";

/// What one grant says about one request.
enum Outcome<'g> {
    /// The grant does not carry the permission: it has nothing to say.
    Irrelevant,
    Allows,
    Revoked(&'g Revocation),
    NotYet(Timestamp),
    Expired(Timestamp),
    OutOfScope,
    ConditionFailed(&'g str, &'g Condition),
}

/// The resource as the decision sees it: its attributes and its place in the tree.
struct Subject<'a> {
    reference: &'a ResourceRef,
    attrs: std::borrow::Cow<'a, Attributes>,
    /// The resource's parent resource and scope node, if registered.
    parent: Option<ResourceRef>,
    scope: Option<ScopeRef>,
}

impl OrgState {
    fn subject<'a>(&'a self, query: &'a ResourceQuery) -> Subject<'a> {
        match self.resource(&query.reference) {
            Some(r) => {
                // Registered attributes override inline ones.
                let mut merged = query.attributes.clone();
                merged.extend(r.attributes);
                Subject { reference: &query.reference, attrs: std::borrow::Cow::Owned(merged), parent: r.parent, scope: Some(r.scope) }
            }
            None => {
                Subject { reference: &query.reference, attrs: std::borrow::Cow::Borrowed(&query.attributes), parent: None, scope: None }
            }
        }
    }

    /// Whether `anchor` is the subject or one of its ancestors.
    fn covers(&self, anchor: &Anchor, subject: &Subject<'_>) -> bool {
        match anchor {
            Anchor::Scope(ScopeRef::Org) => true,
            Anchor::Resource(r) => {
                if subject.reference == r {
                    return true;
                }
                let mut at = subject.parent.clone();
                // Bounded, as in the compiled check: a cycle of parents cannot hold the walk.
                for _ in 0..63 {
                    let Some(cur) = at else { return false };
                    if &cur == r {
                        return true;
                    }
                    at = self.resource(&cur).and_then(|x| x.parent);
                }
                false
            }
            Anchor::Scope(scope) => {
                let mut node = subject.scope.as_ref();
                while let Some(cur) = node {
                    if cur == scope {
                        return true;
                    }
                    node = self.scope_parent.get(cur);
                }
                false
            }
        }
    }

    fn evaluate<'g>(
        &self,
        cat: &'g Catalogue,
        (grant, revoked): (&'g GrantTerms, Option<&'g Revocation>),
        permission: &str,
        subject: &Subject<'_>,
        now: Timestamp,
    ) -> Outcome<'g> {
        let carried: &[PermissionGrant] = match &grant.target {
            GrantTarget::Permission { grant: pg } => std::slice::from_ref(pg),
            GrantTarget::Role { role } => cat.find_role(role).map_or(&[], |r| r.grants.as_slice()),
        };
        let mut relevant = carried.iter().filter(|pg| pg.permission == permission).peekable();
        if relevant.peek().is_none() {
            return Outcome::Irrelevant;
        }
        if let Some(r) = revoked.filter(|r| r.at <= now) {
            return Outcome::Revoked(r);
        }
        if now < grant.starts_at {
            return Outcome::NotYet(grant.starts_at);
        }
        if let Some(end) = grant.expires_at.filter(|end| *end <= now) {
            return Outcome::Expired(end);
        }
        if !self.covers(&grant.anchor, subject) {
            return Outcome::OutOfScope;
        }
        let mut failure = None;
        for pg in relevant {
            match first_failure(&pg.conditions, &subject.attrs) {
                None => return Outcome::Allows,
                Some(f) => failure = failure.or(Some(f)),
            }
        }
        failure.map_or(Outcome::Irrelevant, |(attr, cond)| Outcome::ConditionFailed(attr, cond))
    }

    /// Whether `principal` may do `permission` on the resource at `now`: the hot path, over the
    /// compiled layout, deciding exactly as [`OrgState::explain`] does.
    /// A delegated API key also needs its user to be allowed, now.
    pub fn check(&self, principal: &Principal, permission: &str, resource: &ResourceQuery, now: Timestamp) -> bool {
        let allows = |p: &Principal| self.compiled.check(p, permission, &resource.reference, &resource.attributes, now.as_microsecond());
        allows(principal) && self.delegator(principal).is_none_or(|user| allows(&user))
    }

    /// The user a delegated API key acts for, when `principal` is one.
    pub(super) fn delegator(&self, principal: &Principal) -> Option<Principal> {
        let Principal::ApiKey(id) = principal else { return None };
        self.api_key(id)?.delegated_by.clone().map(Principal::User)
    }

    /// Whether `principal` may do `permission` on the resource at `now` through what it holds for
    /// good alone: grants without an end, through memberships without one. Handing access on rests
    /// on this (temporary grants never count when privileges are compared).
    pub fn check_for_good(&self, principal: &Principal, permission: &str, resource: &ResourceQuery, now: Timestamp) -> bool {
        let window = super::compiled::Window::ForGood(now.as_microsecond());
        let allows = |p: &Principal| self.compiled.check_as(p, permission, &resource.reference, &resource.attributes, window);
        allows(principal) && self.delegator(principal).is_none_or(|user| allows(&user))
    }

    /// The registered resources of type `kind` that `principal` may act on with `permission` at
    /// `now`, in id order after `after`: at most `limit` ids, and whether there are more. Each is
    /// decided as [`OrgState::check`] decides it.
    pub fn lookup(
        &self,
        principal: &Principal,
        permission: &str,
        kind: &str,
        now: Timestamp,
        after: Option<&str>,
        limit: usize,
    ) -> (Vec<String>, bool) {
        let (mut ids, more) = self.compiled.lookup(principal, permission, kind, now.as_microsecond(), after, limit);
        if let Some(user) = self.delegator(principal) {
            // A delegated key lists what its user may act on too (the page may come out shorter).
            let empty = crate::attr::Attributes::new();
            ids.retain(|id| self.compiled.check(&user, permission, &ResourceRef::new(kind, id.as_str()), &empty, now.as_microsecond()));
        }
        (ids, more)
    }

    /// The decision with its reasons: the grants that allowed it, or what was missing. The index
    /// holds live grants only; `ended` are the principal's grants that have ended (revoked, or
    /// expired and recorded), read from the store, so a denial can say "expired 2 hours ago".
    pub fn explain(
        &self,
        cat: &Catalogue,
        principal: &Principal,
        permission: &str,
        resource: &ResourceQuery,
        now: Timestamp,
        ended: &[Grant],
    ) -> Decision {
        let deny = |code, message: String| Decision { allowed: false, reasons: vec![Reason { code, grant_id: None, message }], omitted: 0 };
        if cat.permission(permission).is_err() {
            return deny(ReasonCode::UnknownPermission, format!("`{permission}` is not a permission in the catalogue"));
        }
        if let Principal::User(id) = principal {
            match self.user(id) {
                None => return deny(ReasonCode::UnknownPrincipal, format!("user `{id}` is not in this organization")),
                Some(u) if u.status != UserStatus::Active => {
                    return deny(ReasonCode::PrincipalInactive, format!("user `{}` is suspended", u.email));
                }
                Some(_) => {}
            }
        }
        let subject = self.subject(resource);
        let (mut allows, mut misses) = (Vec::new(), Vec::new());
        let (mut more_allows, mut more_misses) = (0, 0);
        // The principal's own live grants, then those of the groups it holds through.
        let mut live: Vec<(GrantTerms, Option<String>)> = self.grants_of(principal).into_iter().map(|g| (g, None)).collect();
        for (group, _) in self.groups_through(principal, now) {
            let name = self.group(&group).map(|g| g.name.clone());
            live.extend(self.grants_of(&Principal::Group(group)).into_iter().map(|g| (g, name.clone())));
        }
        let ended: Vec<(GrantTerms, Option<&Revocation>)> = ended
            .iter()
            .filter(|g| &g.principal == principal && !live.iter().any(|(l, _)| l.id == g.id))
            .map(|g| (g.terms(), g.revoked.as_ref()))
            .collect();
        let all = live.iter().map(|(g, via)| (g, via.as_deref(), None, false)).chain(ended.iter().map(|(g, r)| (g, None, *r, true)));
        for (grant, via, revoked, has_ended) in all {
            let describe = |grant: &GrantTerms, now| describe(grant, via, now);
            let outcome = match (self.evaluate(cat, (grant, revoked), permission, &subject, now), revoked, grant.expires_at) {
                // An ended grant allows nothing at any `at`, as `check` decides: it is said to
                // have ended, even when asked about a moment before it did.
                (Outcome::Allows | Outcome::NotYet(_), Some(r), _) if has_ended => Outcome::Revoked(r),
                (Outcome::Allows | Outcome::NotYet(_), None, Some(end)) if has_ended => Outcome::Expired(end),
                (outcome, ..) => outcome,
            };
            // Only the first reasons of each kind are put into words; the rest are counted.
            match outcome {
                Outcome::Irrelevant => continue,
                Outcome::Allows if allows.len() == MAX_REASONS => {
                    more_allows += 1;
                    continue;
                }
                Outcome::Allows => {}
                _ if !allows.is_empty() || misses.len() == MAX_REASONS => {
                    more_misses += 1;
                    continue;
                }
                _ => {}
            }
            let (code, message) = match outcome {
                Outcome::Irrelevant => continue,
                Outcome::Allows => (ReasonCode::GrantedBy, format!("allowed by {}", describe(grant, now))),
                Outcome::Revoked(r) => {
                    (ReasonCode::Revoked, format!("{} was revoked {} ago", describe(grant, now), humanize(now.duration_since(r.at))))
                }
                Outcome::NotYet(at) => {
                    (ReasonCode::NotYetActive, format!("{} starts in {}", describe(grant, now), humanize(at.duration_since(now))))
                }
                Outcome::Expired(at) => {
                    (ReasonCode::Expired, format!("{} expired {} ago", describe(grant, now), humanize(now.duration_since(at))))
                }
                Outcome::OutOfScope => {
                    (ReasonCode::OutOfScope, format!("{} does not apply to `{}`", describe(grant, now), resource.reference))
                }
                Outcome::ConditionFailed(attr, cond) => {
                    let actual = subject.attrs.get(attr).map_or_else(|| "no value".to_owned(), AttrValue::to_string);
                    (
                        ReasonCode::ConditionFailed,
                        format!("{} requires {attr} {cond}, but `{}` has {actual}", describe(grant, now), resource.reference),
                    )
                }
            };
            let reason = Reason { code, grant_id: Some(grant.id.clone()), message };
            if code == ReasonCode::GrantedBy {
                allows.push(reason)
            } else {
                misses.push(reason)
            }
        }
        if !allows.is_empty() {
            if let Some(refusal) = self.parent_refusal(principal, permission, &resource.reference, now) {
                return deny(ReasonCode::NeedsParent, refusal);
            }
            if let Some(user) = self.delegator(principal).filter(|user| !self.check(user, permission, resource, now)) {
                let who = match &user {
                    Principal::User(id) => self.user(id).map_or_else(|| user.to_string(), |u| u.email.clone()),
                    other => other.to_string(),
                };
                return deny(
                    ReasonCode::DelegatorLacks,
                    format!(
                        "{principal} acts for {who}, who may not `{permission}` `{}` now; a delegated key never holds more than its user",
                        resource.reference
                    ),
                );
            }
            return Decision { allowed: true, reasons: allows, omitted: more_allows };
        }
        if misses.is_empty() {
            return deny(ReasonCode::NoGrant, format!("{principal} has no grant that carries `{permission}`"));
        }
        Decision { allowed: false, reasons: misses, omitted: more_misses }
    }

    /// Why `permission` on `reference` is refused for want of what it also needs on the
    /// resource's parent, if it is (as [`OrgState::check`] decides).
    fn parent_refusal(&self, principal: &Principal, permission: &str, reference: &ResourceRef, now: Timestamp) -> Option<String> {
        let needed = crate::catalogue::needed_on_parent(permission)?;
        let Some(parent) = self.resource(reference).and_then(|r| r.parent) else {
            return Some(format!("`{permission}` also needs `{needed}` on the resource's parent, and `{reference}` has none registered"));
        };
        let query = ResourceQuery { reference: parent.clone(), attributes: Attributes::new() };
        (!self.check(principal, needed, &query, now))
            .then(|| format!("{principal} may not `{needed}` `{parent}`, which `{permission}` on `{reference}` also needs"))
    }

    /// The organization itself as a resource, for administrative checks.
    pub fn as_resource(&self) -> ResourceQuery {
        ResourceQuery { reference: ResourceRef::new(ORG_RESOURCE, self.org.id.as_str()), attributes: Attributes::new() }
    }
}

/// A grant as people read it: "temporary grant `id` (Conversation:GetMessage, expires in 2 hours)",
/// and "of group `Support`" when it reaches the principal through a group.
fn describe(grant: &GrantTerms, via: Option<&str>, now: Timestamp) -> String {
    let what = match &grant.target {
        GrantTarget::Role { role } => format!("role `{role}`"),
        GrantTarget::Permission { grant: pg } => format!("`{}`", pg.permission),
    };
    let kind = if grant.is_temporary() { "temporary grant" } else { "grant" };
    let when = match grant.expires_at {
        Some(end) if end > now => format!(", expires in {}", humanize(end.duration_since(now))),
        Some(end) => format!(", expired at {end}"),
        None => String::new(),
    };
    let of = via.map(|name| format!(" of group `{name}`")).unwrap_or_default();
    format!("{kind} `{}`{of} ({what}{when})", grant.id)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod groups;
