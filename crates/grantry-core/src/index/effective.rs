//! Effective permission sets: what a principal holds at a node of the scope tree through the
//! grants anchored there or above it (the cascade). The `rbac_grant` audit rows carry these sets before and after a change.

use super::OrgState;
use crate::catalogue::Catalogue;
use crate::model::{Anchor, GrantTarget, GrantTerms, Principal, ScopeRef, UserStatus};
use jiff::Timestamp;
use std::collections::BTreeSet;

impl OrgState {
    /// `scope` and the nodes above it, nearest first, ending with the organization.
    pub fn scope_chain(&self, scope: &ScopeRef) -> Vec<ScopeRef> {
        let mut chain = vec![scope.clone()];
        let mut at = scope;
        while let Some(parent) = self.scope_parent.get(at) {
            chain.push(parent.clone());
            at = parent;
        }
        chain
    }

    /// Whether `inner` is `outer` or lies below it.
    pub fn is_within(&self, inner: &ScopeRef, outer: &ScopeRef) -> bool {
        self.scope_chain(inner).contains(outer)
    }

    /// The names of the permissions that `grants` carry at `scope` at `now`: those of the grants
    /// in force then and anchored at the scope or above it. Conditions are not weighed: the set
    /// says what is held, and the decision says where it applies.
    pub fn effective_set(
        &self,
        cat: &Catalogue,
        grants: impl IntoIterator<Item = impl std::borrow::Borrow<GrantTerms>>,
        scope: &ScopeRef,
        now: Timestamp,
    ) -> BTreeSet<String> {
        let chain = self.scope_chain(scope);
        grants
            .into_iter()
            .filter(|g| {
                let g = g.borrow();
                g.is_active(now) && matches!(&g.anchor, Anchor::Scope(s) if chain.contains(s))
            })
            .flat_map(|g| match &g.borrow().target {
                GrantTarget::Role { role } => cat.find_role(role).map(|r| r.grants.iter().map(|pg| pg.permission.clone()).collect()),
                GrantTarget::Permission { grant } => Some(vec![grant.permission.clone()]),
            })
            .flatten()
            .collect()
    }

    /// What `principal` holds at `scope` at `now`; through permanent grants only when
    /// `permanent_only` (temporary grants never count when privileges are compared). A suspended
    /// user holds nothing, and a delegated key nothing its user does not hold.
    pub fn held_at(
        &self,
        cat: &Catalogue,
        principal: &Principal,
        scope: &ScopeRef,
        now: Timestamp,
        permanent_only: bool,
    ) -> BTreeSet<String> {
        if let Principal::User(id) = principal {
            if self.user(id).is_none_or(|u| u.status != UserStatus::Active) {
                return BTreeSet::new();
            }
        }
        let held = self.effective_of(cat, principal, scope, now, permanent_only);
        // A delegated key holds no more than its user does, here and now (as `check` decides).
        match self.delegator(principal) {
            Some(user) => {
                let theirs = self.held_at(cat, &user, scope, now, permanent_only);
                held.intersection(&theirs).cloned().collect()
            }
            None => held,
        }
    }

    /// What `principal`'s live grants carry at `scope` at `now`, whatever the principal's
    /// standing: [`OrgState::effective_set`] of its grants, read without rebuilding them.
    pub fn effective_of(
        &self,
        cat: &Catalogue,
        principal: &Principal,
        scope: &ScopeRef,
        now: Timestamp,
        permanent_only: bool,
    ) -> BTreeSet<String> {
        self.compiled.held_names(cat, principal, &self.scope_chain(scope), now.as_microsecond(), permanent_only)
    }

    /// A scope as people read it: `the organization`, `workspace `ml``, `project `ml/agents``.
    pub fn describe_scope(&self, scope: &ScopeRef) -> String {
        match scope {
            ScopeRef::Org => "the organization".to_owned(),
            ScopeRef::Workspace(id) | ScopeRef::Project(id) | ScopeRef::Environment(id) => match self.scope(id) {
                Some(n) => format!("{} `{}`", n.kind.name(), self.path_of(n)),
                None => format!("scope `{id}`"),
            },
        }
    }

    /// The path a scope is named by in the audit log and the matrix: `org`, `WS` or `WS/PRJ`.
    pub fn scope_path(&self, scope: &ScopeRef) -> String {
        match scope {
            ScopeRef::Org => "org".to_owned(),
            ScopeRef::Workspace(id) | ScopeRef::Project(id) | ScopeRef::Environment(id) => {
                self.scope(id).map_or_else(|| id.to_string(), |n| self.path_of(n))
            }
        }
    }
}
