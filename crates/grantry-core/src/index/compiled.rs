//! The hot path's layout. Strings are interned to `u32` symbols per organization; a principal's
//! grants are compiled into small entries keyed by (principal, permission), so a check touches
//! a few hash lookups and a short contiguous slice, whatever the organization's size. Roles are
//! expanded into their permission grants at compile time.
//!
//! INVARIANT: `check` over this layout decides exactly as `explain` over the full records; the
//! corpus and the property tests hold the two to it.

use crate::attr::{AttrValue, Attributes};
use crate::catalogue::{Catalogue, PermissionGrant};
use crate::condition::Condition;
use crate::ids::GrantId;
use crate::model::{Anchor, Grant, GrantTarget, Principal, Resource, ResourceRef, ScopeRef};
use rustc_hash::FxHashMap;
use std::collections::HashMap;

/// The anchor symbol that stands for the organization itself (covers everything).
const ORG_ANCHOR: u32 = 0;
/// A string value that was never interned: equal to no condition's value.
const UNKNOWN: Val = Val::Str(u32::MAX);

/// An interned attribute value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Val {
    Str(u32),
    Int(i64),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Equals,
    In,
    NotEquals,
}

/// A condition's values: one inline (the common case, no pointer to chase), or several.
#[derive(Debug, Clone)]
enum Vals {
    One(Val),
    Many(Box<[Val]>),
}

#[derive(Debug, Clone)]
struct Cond {
    attr: u32,
    op: Op,
    values: Vals,
}

impl Cond {
    fn holds(&self, actual: Option<Val>) -> bool {
        let Some(actual) = actual else { return false };
        let found = match &self.values {
            Vals::One(v) => *v == actual,
            Vals::Many(vs) => vs.contains(&actual),
        };
        match self.op {
            Op::Equals | Op::In => found,
            Op::NotEquals => !found,
        }
    }
}

/// One permission grant of one grant, ready to evaluate; its conditions are
/// `conds[cond_start..cond_start + cond_len]` of its bucket.
#[derive(Debug, Clone)]
struct Entry {
    grant: u32,
    starts_us: i64,
    ends_us: i64,
    revoked_us: i64,
    anchor: u32,
    cond_start: u32,
    cond_len: u32,
}

/// The entries of one (principal, permission), with all their conditions in one array: two
/// allocations to read, however many entries.
#[derive(Debug, Clone, Default)]
struct Bucket {
    entries: Vec<Entry>,
    conds: Vec<Cond>,
}

impl Bucket {
    fn conds(&self, e: &Entry) -> &[Cond] {
        let start = e.cond_start as usize;
        self.conds.get(start..start + e.cond_len as usize).unwrap_or_default()
    }
}

impl Entry {
    fn active(&self, now_us: i64) -> bool {
        self.starts_us <= now_us && now_us < self.ends_us && now_us < self.revoked_us
    }
}

/// A registered resource: interned attributes sorted by name, and the anchors that cover it.
#[derive(Debug, Clone, Default)]
struct CompiledResource {
    attrs: Box<[(u32, Val)]>,
    ancestors: Box<[u32]>,
}

/// Where a principal's entries are, and whether it may act.
#[derive(Debug, Clone, Copy)]
struct Slot {
    sym: u32,
    active: bool,
}

/// The compiled decision data of one organization.
#[derive(Debug, Clone, Default)]
pub(super) struct Compiled {
    symbols: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    principals: HashMap<Principal, Slot>,
    /// Keyed by (principal, permission) symbols, which this index assigns, so a fast hash is
    /// safe here (no caller can choose keys that collide).
    entries: FxHashMap<u64, Bucket>,
    resources: HashMap<ResourceRef, CompiledResource>,
    grants: HashMap<GrantId, (u32, Vec<u64>)>,
}

fn key(principal: u32, permission: u32) -> u64 {
    (u64::from(principal) << 32) | u64::from(permission)
}

fn micros(t: Option<jiff::Timestamp>) -> i64 {
    t.map_or(i64::MAX, |t| t.as_microsecond())
}

impl Compiled {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&sym) = self.symbols.get(s) {
            return sym;
        }
        if self.names.is_empty() {
            // Symbol 0 is the organization anchor.
            self.names.push("".into());
        }
        let sym = u32::try_from(self.names.len()).unwrap_or(u32::MAX - 1);
        self.names.push(s.into());
        self.symbols.insert(s.into(), sym);
        sym
    }

    fn value(&mut self, v: &AttrValue) -> Val {
        match v {
            AttrValue::Str(s) => Val::Str(self.intern(s)),
            AttrValue::Int(i) => Val::Int(*i),
            AttrValue::Bool(b) => Val::Bool(*b),
        }
    }

    fn lookup_value(&self, v: &AttrValue) -> Val {
        match v {
            AttrValue::Str(s) => self.symbols.get(s.as_str()).map_or(UNKNOWN, |&sym| Val::Str(sym)),
            AttrValue::Int(i) => Val::Int(*i),
            AttrValue::Bool(b) => Val::Bool(*b),
        }
    }

    fn anchor_sym(&mut self, anchor: &Anchor) -> u32 {
        match anchor {
            Anchor::Scope(ScopeRef::Org) => ORG_ANCHOR,
            other => {
                let text = anchor_text(other);
                self.intern(&text)
            }
        }
    }

    fn slot(&mut self, principal: &Principal) -> Slot {
        if let Some(slot) = self.principals.get(principal) {
            return *slot;
        }
        let sym = self.intern(&principal.to_string());
        // Groups and keys are active; a user is active once created, and follows its status.
        let slot = Slot { sym, active: !matches!(principal, Principal::User(_)) };
        self.principals.insert(principal.clone(), slot);
        slot
    }

    pub(super) fn set_active(&mut self, principal: &Principal, active: bool) {
        let mut slot = self.slot(principal);
        slot.active = active;
        self.principals.insert(principal.clone(), slot);
    }

    pub(super) fn add_grant(&mut self, cat: &Catalogue, grant: &Grant) {
        let slot = self.slot(&grant.principal);
        let carried: Vec<PermissionGrant> = match &grant.target {
            GrantTarget::Permission { grant: pg } => vec![pg.clone()],
            GrantTarget::Role { role } => cat.find_role(role).map(|r| r.grants.clone()).unwrap_or_default(),
        };
        let seq = u32::try_from(self.grants.len()).unwrap_or(u32::MAX);
        let anchor = self.anchor_sym(&grant.anchor);
        let mut keys = Vec::with_capacity(carried.len());
        for pg in carried {
            let conds: Vec<Cond> = pg
                .conditions
                .iter()
                .map(|(attr, cond)| {
                    let (op, values) = match cond {
                        Condition::Equals { value } => (Op::Equals, Vals::One(self.value(value))),
                        Condition::NotEquals { value } => (Op::NotEquals, Vals::One(self.value(value))),
                        Condition::In { values } => (Op::In, Vals::Many(values.iter().map(|v| self.value(v)).collect())),
                    };
                    Cond { attr: self.intern(attr), op, values }
                })
                .collect();
            let k = key(slot.sym, self.intern(&pg.permission));
            let bucket = self.entries.entry(k).or_default();
            let entry = Entry {
                grant: seq,
                starts_us: grant.starts_at.as_microsecond(),
                ends_us: micros(grant.expires_at),
                revoked_us: micros(grant.revoked.as_ref().map(|r| r.at)),
                anchor,
                cond_start: u32::try_from(bucket.conds.len()).unwrap_or(u32::MAX),
                cond_len: u32::try_from(conds.len()).unwrap_or(0),
            };
            bucket.conds.extend(conds);
            bucket.entries.push(entry);
            keys.push(k);
        }
        self.grants.insert(grant.id.clone(), (seq, keys));
    }

    pub(super) fn revoke(&mut self, id: &GrantId, at: jiff::Timestamp) {
        let Some((seq, keys)) = self.grants.get(id) else { return };
        for k in keys {
            for e in self.entries.get_mut(k).into_iter().flat_map(|b| b.entries.iter_mut()).filter(|e| e.grant == *seq) {
                e.revoked_us = at.as_microsecond();
            }
        }
    }

    /// Compiles a registered resource.
    /// INVARIANT: a resource's parent is registered before it, and scope nodes never move, so
    /// the ancestors computed here stay true.
    pub(super) fn add_resource(
        &mut self,
        resource: &Resource,
        all: &HashMap<ResourceRef, Resource>,
        scope_parent: &HashMap<ScopeRef, ScopeRef>,
    ) {
        let mut attrs: Vec<(u32, Val)> = resource.attributes.iter().map(|(k, v)| (self.intern(k), self.value(v))).collect();
        attrs.sort_unstable_by_key(|(k, _)| *k);
        let mut ancestors = vec![self.anchor_sym(&Anchor::Resource(resource.reference.clone()))];
        let mut parent = resource.parent.clone();
        while let Some(p) = parent.take() {
            ancestors.push(self.anchor_sym(&Anchor::Resource(p.clone())));
            parent = all.get(&p).and_then(|r| r.parent.clone()).filter(|next| next != &resource.reference);
        }
        let mut node = Some(resource.scope.clone());
        while let Some(n) = node {
            ancestors.push(self.anchor_sym(&Anchor::Scope(n.clone())));
            node = scope_parent.get(&n).cloned();
        }
        self.resources.insert(resource.reference.clone(), CompiledResource { attrs: attrs.into(), ancestors: ancestors.into() });
    }

    /// The decision of the hot path.
    pub(super) fn check(&self, principal: &Principal, permission: &str, reference: &ResourceRef, inline: &Attributes, now_us: i64) -> bool {
        let Some(slot) = self.principals.get(principal).filter(|s| s.active) else { return false };
        let Some(&perm) = self.symbols.get(permission) else { return false };
        let Some(bucket) = self.entries.get(&key(slot.sym, perm)) else { return false };
        let registered = self.resources.get(reference);
        let attr = |sym: u32| -> Option<Val> {
            if let Some(r) = registered {
                if let Ok(i) = r.attrs.binary_search_by_key(&sym, |(k, _)| *k) {
                    return Some(r.attrs[i].1);
                }
            }
            let name = self.names.get(sym as usize)?;
            inline.get(&**name).map(|v| self.lookup_value(v))
        };
        let covers = |anchor: u32| {
            anchor == ORG_ANCHOR
                || registered.map_or_else(
                    || self.symbols.get(anchor_text(&Anchor::Resource(reference.clone())).as_str()) == Some(&anchor),
                    |r| r.ancestors.contains(&anchor),
                )
        };
        bucket.entries.iter().any(|e| e.active(now_us) && covers(e.anchor) && bucket.conds(e).iter().all(|c| c.holds(attr(c.attr))))
    }
}

/// The text an anchor is interned as.
fn anchor_text(anchor: &Anchor) -> String {
    match anchor {
        Anchor::Scope(ScopeRef::Org) => String::new(),
        Anchor::Scope(ScopeRef::Workspace(id)) => format!("\u{1}ws:{id}"),
        Anchor::Scope(ScopeRef::Project(id)) => format!("\u{1}prj:{id}"),
        Anchor::Scope(ScopeRef::Environment(id)) => format!("\u{1}env:{id}"),
        Anchor::Resource(r) => format!("\u{1}res:{}:{}", r.kind, r.id),
    }
}
