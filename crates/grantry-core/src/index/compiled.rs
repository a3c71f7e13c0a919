//! The hot path's layout, and the index's only copy of each live grant. Strings are interned to
//! `u32` symbols per organization. Each live grant is one fixed-size record in a slab (its id
//! packed, its conditions as symbols), reached from a bucket keyed by (principal, permission) or
//! (principal, role), so a check touches a few hash lookups and a short slice, whatever the
//! organization's size. A role's permissions are compiled once per organization, not once per
//! grant. A revoked grant, or one whose expiry is recorded, leaves: the index holds only grants
//! that can still decide, and the store keeps the rest (and every grant's justification, tags and
//! creator).
//!
//! INVARIANT: `check` over this layout decides exactly as `explain` over the terms it gives back;
//! the corpus and the property tests hold the two to it.

use super::listing::Listing;
use super::reach::Reach;
use super::symbols::{Cond, CondSets, Op, Symbols, Val, NO_CONDITIONS};
use crate::attr::Attributes;
use crate::catalogue::{Catalogue, PermissionGrant};
use crate::ids::{GrantId, GroupId, OrgId, UserId};
use crate::model::{Anchor, Grant, GrantTarget, GrantTerms, Principal, Resource, ResourceRef, ScopeRef};
use jiff::Timestamp;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The anchor symbol that stands for the organization itself (covers everything).
const ORG_ANCHOR: u32 = 0;

/// A grant's id, packed: the 24 lowercase hex characters Grantry makes fit in twelve bytes; any
/// other id is interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Key {
    Hex([u8; 12]),
    Sym(u32),
}

/// One live grant.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Live {
    key: Key,
    starts_us: i64,
    /// `i64::MAX` for a permanent grant.
    ends_us: i64,
    principal: u32,
    /// The permission's symbol, or the role's.
    what: u32,
    anchor: u32,
    /// A permission grant's conditions (a role's are its permissions').
    conds: u32,
    role: bool,
}

/// A role that carries a permission, and the conditions it carries it under.
type Carrier = (u32, u32);

/// A registered resource: interned attributes sorted by name, the scope nodes that cover it
/// (its own first), and its parent resource, if any.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CompiledResource {
    attrs: Box<[(u32, Val)]>,
    scopes: Box<[u32]>,
    parent: Option<Box<ResourceRef>>,
    created_us: i64,
    /// A record kind's record, as it is (see `model::records`).
    #[serde(default)]
    record: Option<Box<str>>,
}

/// A principal's symbol, and whether it may act.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Slot {
    sym: u32,
    active: bool,
}

/// The compiled decision data of one organization.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Compiled {
    syms: Symbols,
    sets: CondSets,
    principals: HashMap<Principal, Slot>,
    /// The scope nodes' anchors (resource anchors are read back from their text).
    scope_of: FxHashMap<u32, ScopeRef>,
    /// Live grants; `None` marks a slot free for reuse.
    slab: Vec<Option<Live>>,
    free: Vec<u32>,
    by_key: FxHashMap<Key, u32>,
    /// Keyed by (principal, permission or role) symbols, which this index assigns, so a fast hash
    /// is safe here (no caller can choose keys that collide).
    buckets: FxHashMap<u64, Vec<u32>>,
    /// Each principal's grants, in the order they came.
    by_principal: FxHashMap<u32, Vec<u32>>,
    /// The grants anchored at each resource (an agent's assignments, a data source's readers), in
    /// the order they came; grants anchored in the scope tree are not listed here.
    by_resource: FxHashMap<u32, Vec<u32>>,
    /// For each permission, the roles that carry it and under which conditions.
    carriers: FxHashMap<u32, Vec<Carrier>>,
    roles_compiled: FxHashSet<u32>,
    /// Registered resources by type symbol, then id.
    resources: FxHashMap<u32, HashMap<Box<str>, CompiledResource>>,
    /// The same resources in id order and by attribute value; rebuilt by [`Compiled::relist`].
    #[serde(skip)]
    listing: Listing,
    /// The groups' trees and the users' memberships.
    reach: Reach,
    /// The principal symbols that are groups, and how many live grants groups hold of each
    /// permission or role: what lets a check skip the walk through groups that cannot help.
    group_syms: FxHashSet<u32>,
    group_held: FxHashMap<u32, u32>,
}

fn bucket_key(principal: u32, what: u32) -> u64 {
    (u64::from(principal) << 32) | u64::from(what)
}

fn micros(t: Option<Timestamp>) -> i64 {
    t.map_or(i64::MAX, |t| t.as_microsecond())
}

fn timestamp(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::MAX)
}

/// Twelve bytes from 24 lowercase hex characters.
fn packed(id: &str) -> Option<[u8; 12]> {
    let digits = id.as_bytes();
    if digits.len() != 24 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 12];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

impl Compiled {
    fn anchor_sym(&mut self, anchor: &Anchor) -> u32 {
        match anchor {
            Anchor::Scope(ScopeRef::Org) => ORG_ANCHOR,
            Anchor::Scope(scope) => {
                let sym = self.syms.intern(&anchor_text(anchor));
                self.scope_of.entry(sym).or_insert_with(|| scope.clone());
                sym
            }
            Anchor::Resource(_) => self.syms.intern(&anchor_text(anchor)),
        }
    }

    fn anchor(&self, sym: u32) -> Anchor {
        if sym == ORG_ANCHOR {
            return Anchor::Scope(ScopeRef::Org);
        }
        if let Some(scope) = self.scope_of.get(&sym) {
            return Anchor::Scope(scope.clone());
        }
        resource_anchor(self.syms.name(sym)).map_or(Anchor::Scope(ScopeRef::Org), Anchor::Resource)
    }

    fn slot(&mut self, principal: &Principal) -> Slot {
        if let Some(slot) = self.principals.get(principal) {
            return *slot;
        }
        let sym = self.syms.intern(&principal.to_string());
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

    /// Records group `id` (new or changed): its parent, and whether it is active.
    pub(super) fn set_group(&mut self, id: &GroupId, parent: Option<&GroupId>, active: bool) {
        let sym = self.slot(&Principal::Group(id.clone())).sym;
        let parent = parent.map(|p| self.slot(&Principal::Group(p.clone())).sym);
        self.set_active(&Principal::Group(id.clone()), active);
        self.reach.set_group(sym, parent, active);
    }

    /// Forgets group `id` (its memberships were removed before it).
    pub(super) fn remove_group(&mut self, id: &GroupId) {
        let group = Principal::Group(id.clone());
        if let Some(slot) = self.principals.get(&group) {
            self.reach.remove_group(slot.sym);
        }
        self.set_active(&group, false);
    }

    /// Makes `user` a member of `group` until `ends` (or for good).
    pub(super) fn set_member(&mut self, user: &UserId, group: &GroupId, ends: Option<Timestamp>) {
        let user = self.slot(&Principal::User(user.clone())).sym;
        let group = self.slot(&Principal::Group(group.clone())).sym;
        self.reach.set_member(user, group, micros(ends));
    }

    /// Ends `user`'s membership of `group`.
    pub(super) fn remove_member(&mut self, user: &UserId, group: &GroupId) {
        let (Some(user), Some(group)) =
            (self.principals.get(&Principal::User(user.clone())), self.principals.get(&Principal::Group(group.clone())))
        else {
            return;
        };
        self.reach.remove_member(user.sym, group.sym);
    }

    /// Forgets every membership of `user`.
    pub(super) fn remove_memberships(&mut self, user: &UserId) {
        if let Some(slot) = self.principals.get(&Principal::User(user.clone())) {
            self.reach.remove_user(slot.sym);
        }
    }

    /// The groups through which `principal` holds at `now_us` (a user's groups and the active
    /// groups above them, nearest first), each with whether it is held for good.
    pub(super) fn groups_through(&self, principal: &Principal, now_us: i64) -> Vec<(GroupId, bool)> {
        let Some(slot) = self.principals.get(principal).filter(|_| matches!(principal, Principal::User(_))) else { return Vec::new() };
        let name = |sym: u32| GroupId(self.syms.name(sym).strip_prefix("group:").unwrap_or_default().to_owned());
        self.reach.through(slot.sym, now_us).into_iter().map(|(g, permanent)| (name(g), permanent)).collect()
    }

    /// The packed key of `id`, interning it when `intern` (else `None` if it was never seen).
    fn key(&mut self, id: &GrantId, intern: bool) -> Option<Key> {
        match packed(id.as_str()) {
            Some(hex) => Some(Key::Hex(hex)),
            None if intern => Some(Key::Sym(self.syms.intern(id.as_str()))),
            None => self.syms.get(id.as_str()).map(Key::Sym),
        }
    }

    fn key_text(&self, key: Key) -> GrantId {
        match key {
            Key::Hex(bytes) => GrantId(crate::secret::hex(&bytes)),
            Key::Sym(sym) => GrantId(self.syms.name(sym).to_owned()),
        }
    }

    /// The permissions of `role`, compiled once per organization.
    fn compile_role(&mut self, cat: &Catalogue, role: &str) -> u32 {
        let sym = self.syms.intern(role);
        if self.roles_compiled.insert(sym) {
            let carried: Vec<PermissionGrant> = cat.find_role(role).map(|r| r.grants.clone()).unwrap_or_default();
            for pg in carried {
                let perm = self.syms.intern(&pg.permission);
                let conds = self.syms.conds(&pg.conditions);
                let set = self.sets.acquire(conds);
                self.carriers.entry(perm).or_default().push((sym, set));
            }
        }
        sym
    }

    /// Adds a grant that can still decide; a revoked one has nothing to add.
    pub(super) fn add_grant(&mut self, cat: &Catalogue, grant: &Grant) {
        self.remove(&grant.id);
        if grant.revoked.is_some() {
            return;
        }
        let Some(key) = self.key(&grant.id, true) else { return };
        let slot = self.slot(&grant.principal);
        let (what, role, conds) = match &grant.target {
            GrantTarget::Role { role } => (self.compile_role(cat, role), true, NO_CONDITIONS),
            GrantTarget::Permission { grant: pg } => {
                let conds = self.syms.conds(&pg.conditions);
                (self.syms.intern(&pg.permission), false, self.sets.acquire(conds))
            }
        };
        let anchor = self.anchor_sym(&grant.anchor);
        let live = Live {
            key,
            starts_us: grant.starts_at.as_microsecond(),
            ends_us: micros(grant.expires_at),
            principal: slot.sym,
            what,
            anchor,
            conds,
            role,
        };
        let at = match self.free.pop() {
            Some(at) => {
                if let Some(cell) = self.slab.get_mut(at as usize) {
                    *cell = Some(live);
                }
                at
            }
            None => {
                self.slab.push(Some(live));
                u32::try_from(self.slab.len() - 1).unwrap_or(u32::MAX)
            }
        };
        self.by_key.insert(key, at);
        self.buckets.entry(bucket_key(slot.sym, what)).or_default().push(at);
        self.by_principal.entry(slot.sym).or_default().push(at);
        if let Principal::Group(_) = grant.principal {
            self.group_syms.insert(slot.sym);
            *self.group_held.entry(what).or_default() += 1;
        }
        if let Anchor::Resource(_) = grant.anchor {
            self.by_resource.entry(anchor).or_default().push(at);
        }
    }

    /// Moves a live grant's end (an extension in place); `false` if it is not live.
    pub(super) fn set_end(&mut self, id: &GrantId, expires_at: Timestamp) -> bool {
        let Some(key) = self.key(id, false) else { return false };
        let Some(&at) = self.by_key.get(&key) else { return false };
        match self.slab.get_mut(at as usize).and_then(Option::as_mut) {
            Some(live) => {
                live.ends_us = expires_at.as_microsecond();
                true
            }
            None => false,
        }
    }

    /// Takes a grant out of the index; `false` if it was not there (already ended, or never seen).
    pub(super) fn remove(&mut self, id: &GrantId) -> bool {
        let Some(key) = self.key(id, false) else { return false };
        let Some(at) = self.by_key.remove(&key) else { return false };
        let Some(live) = self.slab.get_mut(at as usize).and_then(Option::take) else { return false };
        if self.group_syms.contains(&live.principal) {
            if let Some(n) = self.group_held.get_mut(&live.what) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.group_held.remove(&live.what);
                }
            }
        }
        let bucket = bucket_key(live.principal, live.what);
        if let Some(list) = self.buckets.get_mut(&bucket) {
            list.retain(|&i| i != at);
            if list.is_empty() {
                self.buckets.remove(&bucket);
            }
        }
        for (map, owner) in [(&mut self.by_principal, live.principal), (&mut self.by_resource, live.anchor)] {
            if let Some(list) = map.get_mut(&owner) {
                if let Some(pos) = list.iter().position(|&i| i == at) {
                    list.remove(pos);
                }
                if list.is_empty() {
                    map.remove(&owner);
                }
            }
        }
        self.sets.release(live.conds);
        self.free.push(at);
        true
    }

    fn live(&self, at: u32) -> Option<&Live> {
        self.slab.get(at as usize).and_then(Option::as_ref)
    }

    fn terms(&self, g: &Live) -> GrantTerms {
        let name = |sym: u32| self.syms.name(sym).to_owned();
        let target = if g.role {
            GrantTarget::Role { role: name(g.what) }
        } else {
            GrantTarget::Permission {
                grant: PermissionGrant { permission: name(g.what), conditions: self.syms.conditions(self.sets.get(g.conds)) },
            }
        };
        GrantTerms {
            id: self.key_text(g.key),
            principal: self.syms.name(g.principal).parse().unwrap_or_else(|_| Principal::User(name(g.principal).as_str().into())),
            target,
            anchor: self.anchor(g.anchor),
            starts_at: timestamp(g.starts_us),
            expires_at: (g.ends_us != i64::MAX).then(|| timestamp(g.ends_us)),
        }
    }

    /// The live grants of `principal`, in the order they came.
    pub(super) fn grants_of(&self, principal: &Principal) -> Vec<GrantTerms> {
        let Some(slot) = self.principals.get(principal) else { return Vec::new() };
        let list = self.by_principal.get(&slot.sym).map_or(&[][..], Vec::as_slice);
        list.iter().filter_map(|&at| self.live(at)).map(|g| self.terms(g)).collect()
    }

    /// The names of the permissions `principal`'s live grants carry at `scope` or above it at
    /// `now_us` (roles expanded), through permanent grants only when `permanent_only`: the
    /// effective set, read straight from the records, without rebuilding each grant's terms.
    pub(super) fn held_names(
        &self,
        cat: &Catalogue,
        principal: &Principal,
        chain: &[ScopeRef],
        now_us: i64,
        permanent_only: bool,
    ) -> std::collections::BTreeSet<String> {
        let Some(slot) = self.principals.get(principal) else { return Default::default() };
        let anchors: Vec<u32> = chain
            .iter()
            .filter_map(|s| match s {
                ScopeRef::Org => Some(ORG_ANCHOR),
                other => self.syms.get(&anchor_text(&Anchor::Scope(other.clone()))),
            })
            .collect();
        // The principal's own grants, and those of the groups it holds through (for good only if
        // the membership is).
        let mut holders = vec![(slot.sym, true)];
        if matches!(principal, Principal::User(_)) {
            holders.extend(self.reach.through(slot.sym, now_us));
        }
        // Many grants carry the same permission or role: each is named once.
        let mut carried: Vec<(u32, bool)> = holders
            .iter()
            .filter(|(_, for_good)| *for_good || !permanent_only)
            .flat_map(|(sym, _)| self.by_principal.get(sym).map_or(&[][..], Vec::as_slice))
            .filter_map(|&at| self.live(at))
            .filter(|g| g.starts_us <= now_us && now_us < g.ends_us && !(permanent_only && g.ends_us != i64::MAX))
            .filter(|g| anchors.contains(&g.anchor))
            .map(|g| (g.what, g.role))
            .collect();
        carried.sort_unstable();
        carried.dedup();
        let mut names = std::collections::BTreeSet::new();
        for (what, role) in carried {
            let what = self.syms.name(what);
            if role {
                names.extend(cat.find_role(what).into_iter().flat_map(|r| r.grants.iter().map(|pg| pg.permission.clone())));
            } else {
                names.insert(what.to_owned());
            }
        }
        names
    }

    /// The live grant with id `id`.
    pub(super) fn grant(&self, id: &GrantId) -> Option<GrantTerms> {
        let key = match packed(id.as_str()) {
            Some(hex) => Key::Hex(hex),
            None => Key::Sym(self.syms.get(id.as_str())?),
        };
        self.by_key.get(&key).and_then(|&at| self.live(at)).map(|g| self.terms(g))
    }

    /// The live grants anchored at the resource `reference`, in the order they came.
    pub(super) fn grants_at(&self, reference: &ResourceRef) -> Vec<GrantTerms> {
        let Some(anchor) = self.syms.get(&anchor_text(&Anchor::Resource(reference.clone()))) else { return Vec::new() };
        let list = self.by_resource.get(&anchor).map_or(&[][..], Vec::as_slice);
        list.iter().filter_map(|&at| self.live(at)).map(|g| self.terms(g)).collect()
    }

    /// The live grants of role `role`, wherever held (the only grants rebuilt).
    pub(super) fn role_grants(&self, role: &str) -> Vec<GrantTerms> {
        let Some(sym) = self.syms.get(role) else { return Vec::new() };
        self.slab.iter().flatten().filter(|g| g.role && g.what == sym).map(|g| self.terms(g)).collect()
    }

    /// How many live grants there are.
    pub(super) fn grant_count(&self) -> usize {
        self.by_key.len()
    }

    /// Compiles a registered resource; `scope_parent` gives the nodes above its scope.
    /// INVARIANT: scope nodes never move, so the chain computed here stays true.
    pub(super) fn add_resource(&mut self, resource: &Resource, scope_parent: &HashMap<ScopeRef, ScopeRef>) {
        use crate::model::records::{RECORD, RECORD_KINDS};
        let keeps_record = RECORD_KINDS.contains(&resource.reference.kind.as_str());
        let mut record = None;
        let mut attrs: Vec<(u32, Val)> = Vec::with_capacity(resource.attributes.len());
        for (k, v) in &resource.attributes {
            match v {
                crate::attr::AttrValue::Str(text) if keeps_record && k == RECORD => record = Some(text.as_str().into()),
                _ => attrs.push((self.syms.intern(k), self.syms.value(v))),
            }
        }
        attrs.sort_unstable_by_key(|(k, _)| *k);
        let mut scopes = Vec::new();
        let mut node = Some(resource.scope.clone());
        while let Some(n) = node {
            scopes.push(self.anchor_sym(&Anchor::Scope(n.clone())));
            node = scope_parent.get(&n).cloned();
        }
        let kind = self.syms.intern(&resource.reference.kind);
        let compiled = CompiledResource {
            attrs: attrs.into(),
            scopes: scopes.into(),
            parent: resource.parent.clone().map(Box::new),
            created_us: resource.created_at.as_microsecond(),
            record,
        };
        let id = resource.reference.id.as_str();
        let of_kind = self.resources.entry(kind).or_default();
        if let Some(old) = of_kind.get(id) {
            self.listing.remove(kind, id, &old.attrs);
        }
        self.listing.insert(kind, id, &compiled.attrs);
        of_kind.insert(id.into(), compiled);
    }

    /// Forgets a registered resource.
    pub(super) fn remove_resource(&mut self, reference: &ResourceRef) {
        let Some(kind) = self.syms.get(&reference.kind) else { return };
        let Some(old) = self.resources.get_mut(&kind).and_then(|of_kind| of_kind.remove(reference.id.as_str())) else { return };
        self.listing.remove(kind, &reference.id, &old.attrs);
    }

    /// Rebuilds the listing of the resources (it is not saved with the index).
    pub(super) fn relist(&mut self) {
        let mut listing = Listing::default();
        for (kind, of_kind) in &self.resources {
            for (id, r) in of_kind {
                listing.insert(*kind, id, &r.attrs);
            }
        }
        self.listing = listing;
    }

    fn compiled_resource(&self, reference: &ResourceRef) -> Option<&CompiledResource> {
        let kind = self.syms.get(&reference.kind)?;
        self.resources.get(&kind)?.get(reference.id.as_str())
    }

    fn resource_record(&self, org: &OrgId, reference: ResourceRef, r: &CompiledResource) -> Resource {
        Resource {
            org: org.clone(),
            reference,
            parent: r.parent.as_deref().cloned(),
            scope: r.scopes.first().and_then(|s| self.scope_of.get(s)).cloned().unwrap_or(ScopeRef::Org),
            attributes: r
                .attrs
                .iter()
                .map(|(k, v)| (self.syms.name(*k).to_owned(), self.syms.attr_value(*v)))
                .chain(
                    r.record
                        .as_deref()
                        .map(|text| (crate::model::records::RECORD.to_owned(), crate::attr::AttrValue::Str(text.to_owned()))),
                )
                .collect(),
            created_at: timestamp(r.created_us),
        }
    }

    /// The registered resource `reference`.
    pub(super) fn resource(&self, org: &OrgId, reference: &ResourceRef) -> Option<Resource> {
        self.compiled_resource(reference).map(|r| self.resource_record(org, reference.clone(), r))
    }

    /// Every registered resource of type `kind`.
    pub(super) fn resources_of(&self, org: &OrgId, kind: &str) -> Vec<Resource> {
        let Some(of_kind) = self.syms.get(kind).and_then(|k| self.resources.get(&k)) else { return Vec::new() };
        of_kind.iter().map(|(id, r)| self.resource_record(org, ResourceRef::new(kind, &**id), r)).collect()
    }

    /// The registered resources of type `kind` whose attribute `attr` equals `value`, by id.
    pub(super) fn resources_with(&self, org: &OrgId, kind: &str, attr: &str, value: &crate::attr::AttrValue) -> Vec<Resource> {
        let (Some(kind_sym), Some(attr)) = (self.syms.get(kind), self.syms.get(attr)) else { return Vec::new() };
        let ids = self.listing.with_value(kind_sym, attr, self.syms.lookup_value(value), None);
        ids.filter_map(|id| self.resource(org, &ResourceRef::new(kind, id))).collect()
    }

    /// Whether a registered resource of type `kind` has attribute `attr` equal to `value`.
    pub(super) fn has_resource_with(&self, kind: &str, attr: &str, value: &crate::attr::AttrValue) -> bool {
        let (Some(kind), Some(attr)) = (self.syms.get(kind), self.syms.get(attr)) else { return false };
        self.listing.has_value(kind, attr, self.syms.lookup_value(value))
    }

    /// Whether the resource anchor `anchor` is the subject or a registered parent above it.
    /// Allocation-free, for the hot path.
    fn under_resource(&self, anchor: u32, subject: &Subject<'_>) -> bool {
        let Some((kind, id)) = resource_anchor_parts(self.syms.name(anchor)) else { return false };
        if subject.kind == kind && subject.id == id {
            return true;
        }
        let mut at = subject.registered.and_then(|r| r.parent.as_deref());
        // Bounded: a cycle of parents cannot hold the walk (the subject and 63 above it, as
        // explanations walk).
        for _ in 0..63 {
            let Some(cur) = at else { return false };
            if cur.kind == kind && cur.id == id {
                return true;
            }
            at = self.compiled_resource(cur).and_then(|r| r.parent.as_deref());
        }
        false
    }

    /// Whether a group may hold `perm`: one holds a grant of it, or of a role that carries it. When
    /// none does, a check need not walk the asker's groups.
    fn groups_may_hold(&self, perm: u32) -> bool {
        self.group_held.contains_key(&perm)
            || self.carriers.get(&perm).is_some_and(|list| list.iter().any(|(role, _)| self.group_held.contains_key(role)))
    }

    /// How much this organization's compiled index holds.
    pub(super) fn size(&self) -> super::IndexSize {
        super::IndexSize {
            grants: self.by_key.len(),
            condition_sets: self.sets.len(),
            symbols: self.syms.len(),
            resources: self.resources.values().map(HashMap::len).sum(),
            principals: self.principals.len(),
            memberships: self.reach.memberships(),
        }
    }

    /// Drops spare capacity after a bulk load.
    pub(super) fn shrink(&mut self) {
        self.syms.shrink();
        self.sets.shrink();
        self.slab.shrink_to_fit();
        self.by_key.shrink_to_fit();
        self.buckets.shrink_to_fit();
        self.by_principal.shrink_to_fit();
        self.by_resource.shrink_to_fit();
        self.principals.shrink_to_fit();
    }

    /// The decision of the hot path.
    pub(super) fn check(&self, principal: &Principal, permission: &str, reference: &ResourceRef, inline: &Attributes, now_us: i64) -> bool {
        self.check_as(principal, permission, reference, inline, Window::Any(now_us))
    }

    /// The decision through `window`'s grants: every grant in force, or only those held for good.
    pub(super) fn check_as(
        &self,
        principal: &Principal,
        permission: &str,
        reference: &ResourceRef,
        inline: &Attributes,
        window: Window,
    ) -> bool {
        let Some(asker) = self.asker(principal, permission) else { return false };
        let registered = self.compiled_resource(reference);
        let subject = Subject { kind: &reference.kind, id: &reference.id, registered, inline };
        let held = self.decide(asker, &subject, window)
            || (self.groups_may_hold(asker.1) && self.reach.any(asker.0, window, |group| self.decide((group, asker.1), &subject, window)));
        held && self.parent_allows(principal, permission, registered, window)
    }

    /// Whether `principal` holds on the resource's parent what `permission` also needs there
    /// (retrieving from a data source needs the use of its agent); `true` when it needs nothing.
    fn parent_allows(&self, principal: &Principal, permission: &str, registered: Option<&CompiledResource>, window: Window) -> bool {
        let Some(needed) = crate::catalogue::needed_on_parent(permission) else { return true };
        let Some(parent) = registered.and_then(|r| r.parent.as_deref()) else { return false };
        self.check_as(principal, needed, parent, &Attributes::new(), window)
    }

    /// The registered resources of type `kind` that `principal` may act on with `permission` at
    /// `now_us`, by id, after `after`: at most `limit`, and whether there are more.
    ///
    /// Only resources one of the principal's live grants could allow are decided: when every
    /// such grant tests an attribute for a value (or a list of them), the resources listed with
    /// those values; else every resource of the type, in id order, until the page is full.
    pub(super) fn lookup(
        &self,
        principal: &Principal,
        permission: &str,
        kind: &str,
        now_us: i64,
        after: Option<&str>,
        limit: usize,
    ) -> (Vec<String>, bool) {
        let nothing = (Vec::new(), false);
        let (Some(asker), Some(kind_sym)) = (self.asker(principal, permission), self.syms.get(kind)) else { return nothing };
        let Some(of_kind) = self.resources.get(&kind_sym) else { return nothing };
        // The asker and the groups it holds through.
        let mut holders = vec![asker.0];
        holders.extend(self.reach.through(asker.0, now_us).into_iter().map(|(g, _)| g));
        // Each grant that could allow, with the conditions it is tested under.
        let held = |what: u32| {
            holders
                .iter()
                .flat_map(move |h| self.buckets.get(&bucket_key(*h, what)).map_or(&[][..], Vec::as_slice))
                .filter_map(|&at| self.live(at))
                .filter(|g| g.starts_us <= now_us && now_us < g.ends_us)
        };
        let carriers = self.carriers.get(&asker.1).map_or(&[][..], Vec::as_slice);
        let tested = held(asker.1).map(|g| g.conds).chain(carriers.iter().flat_map(|(role, conds)| held(*role).map(|_| *conds)));
        // Where each could allow: the values one of its conditions requires, or anywhere.
        let mut values: Vec<(u32, Val)> = Vec::new();
        let mut anywhere = false;
        let mut any = false;
        for conds in tested {
            any = true;
            let required = self.sets.get(conds).iter().find_map(|c: &Cond| match (c.op, c.val) {
                (Op::Equals, Val::List(_)) | (Op::NotEquals, _) => None,
                (Op::Equals, v) => Some(vec![(c.attr, v)]),
                (Op::In, v) => Some(self.syms.list(v).iter().map(|v| (c.attr, *v)).collect()),
            });
            match required {
                Some(required) => values.extend(required),
                None => {
                    anywhere = true;
                    break;
                }
            }
        }
        if !any {
            return nothing;
        }
        let none = Attributes::new();
        let allowed = |id: &&str| {
            of_kind.get(*id).is_some_and(|r| {
                let subject = Subject { kind, id, registered: Some(r), inline: &none };
                holders.iter().any(|h| self.decide((*h, asker.1), &subject, Window::Any(now_us)))
                    && self.parent_allows(principal, permission, Some(r), Window::Any(now_us))
            })
        };
        let page = |ids: &mut dyn Iterator<Item = &str>| {
            let mut ids = ids.filter(allowed);
            let page: Vec<String> = ids.by_ref().take(limit).map(str::to_owned).collect();
            let more = ids.next().is_some();
            (page, more)
        };
        if anywhere {
            return page(&mut self.listing.of_kind(kind_sym, after));
        }
        let candidates: std::collections::BTreeSet<&str> =
            values.iter().flat_map(|(attr, val)| self.listing.with_value(kind_sym, *attr, *val, after)).collect();
        page(&mut candidates.into_iter())
    }

    /// The principal's and the permission's symbols, if the principal may act and the permission
    /// was ever interned (else nothing allows).
    fn asker(&self, principal: &Principal, permission: &str) -> Option<(u32, u32)> {
        let slot = self.principals.get(principal).filter(|s| s.active)?;
        Some((slot.sym, self.syms.get(permission)?))
    }

    /// Whether one of the principal's live grants of the permission, held directly or through a
    /// role, allows it on `subject` at `now_us`.
    fn decide(&self, (principal, perm): (u32, u32), subject: &Subject<'_>, window: Window) -> bool {
        let now_us = window.now_us();
        let attr = |sym: u32| -> Option<Val> {
            if let Some(r) = subject.registered {
                if let Ok(i) = r.attrs.binary_search_by_key(&sym, |(k, _)| *k) {
                    return r.attrs.get(i).map(|(_, v)| *v);
                }
            }
            subject.inline.get(self.syms.name(sym)).map(|v| self.syms.lookup_value(v))
        };
        let covers = |anchor: u32| {
            anchor == ORG_ANCHOR
                || subject.registered.is_some_and(|r| r.scopes.contains(&anchor))
                || (!self.scope_of.contains_key(&anchor) && self.under_resource(anchor, subject))
        };
        let allows = |g: &Live, conds: u32| {
            g.starts_us <= now_us
                && now_us < g.ends_us
                && window.admits(g.ends_us)
                && covers(g.anchor)
                && self.sets.get(conds).iter().all(|c: &Cond| self.syms.holds(c, attr(c.attr)))
        };
        let carriers = self.carriers.get(&perm).map_or(&[][..], Vec::as_slice);
        // A principal with fewer grants than there are keys to look up (a group, most often)
        // has them read in one go instead: the same grants are weighed either way.
        let own = self.by_principal.get(&principal).map_or(&[][..], Vec::as_slice);
        if own.len() <= carriers.len() {
            return own.iter().filter_map(|&at| self.live(at)).any(|g| {
                (g.what == perm && allows(g, g.conds)) || carriers.iter().any(|(role, conds)| g.what == *role && allows(g, *conds))
            });
        }
        let held = |what: u32| {
            let list = self.buckets.get(&bucket_key(principal, what)).map_or(&[][..], Vec::as_slice);
            list.iter().filter_map(|&at| self.live(at))
        };
        if held(perm).any(|g| allows(g, g.conds)) {
            return true;
        }
        carriers.iter().any(|(role, conds)| held(*role).any(|g| allows(g, *conds)))
    }
}

/// Which grants a decision weighs: every one in force at an instant, or only those in force then
/// that are held for good (no end on the grant, nor on the memberships it comes through) — what
/// authority to hand access on rests on.
#[derive(Debug, Clone, Copy)]
pub(super) enum Window {
    Any(i64),
    ForGood(i64),
}

impl Window {
    pub(super) fn now_us(self) -> i64 {
        match self {
            Self::Any(now) | Self::ForGood(now) => now,
        }
    }

    /// Whether something that ends at `ends_us` counts.
    pub(super) fn admits(self, ends_us: i64) -> bool {
        matches!(self, Self::Any(_)) || ends_us == i64::MAX
    }
}

/// The resource a decision is about.
struct Subject<'a> {
    kind: &'a str,
    id: &'a str,
    registered: Option<&'a CompiledResource>,
    inline: &'a Attributes,
}

/// The resource an anchor's text names.
fn resource_anchor(text: &str) -> Option<ResourceRef> {
    resource_anchor_parts(text).map(|(kind, id)| ResourceRef::new(kind, id))
}

/// The type and id of the resource an anchor's text names.
fn resource_anchor_parts(text: &str) -> Option<(&str, &str)> {
    text.strip_prefix("\u{1}res:")?.split_once('\u{0}')
}

/// The text an anchor is interned as.
fn anchor_text(anchor: &Anchor) -> String {
    match anchor {
        Anchor::Scope(ScopeRef::Org) => String::new(),
        Anchor::Scope(ScopeRef::Workspace(id)) => format!("\u{1}ws:{id}"),
        Anchor::Scope(ScopeRef::Project(id)) => format!("\u{1}prj:{id}"),
        Anchor::Scope(ScopeRef::Environment(id)) => format!("\u{1}env:{id}"),
        // NUL between type and id: neither can hold it, so no two anchors read back alike.
        Anchor::Resource(r) => format!("\u{1}res:{}\u{0}{}", r.kind, r.id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_stay_small() {
        // The per-grant record is what the memory target rests on; a field added here is a
        // decision, not an accident.
        assert_eq!(std::mem::size_of::<Option<Live>>(), 56);
        assert_eq!(std::mem::size_of::<Cond>(), 24);
        assert_eq!(std::mem::size_of::<Key>(), 16);
    }

    #[test]
    fn ids_pack_and_come_back() {
        let mut c = Compiled::default();
        for id in ["5f3c0a9b1d2e4f6071829304", "g1", "ABCDEF0123456789abcdef01", "5f3c0a9b1d2e4f607182930"] {
            let key = c.key(&GrantId(id.into()), true);
            assert_eq!(key.map(|k| c.key_text(k)), Some(GrantId(id.into())), "{id}");
        }
        assert!(matches!(c.key(&GrantId("5f3c0a9b1d2e4f6071829304".into()), false), Some(Key::Hex(_))));
        assert!(c.key(&GrantId("never-seen".into()), false).is_none());
    }
}
