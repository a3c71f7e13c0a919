//! Interning for the compiled index: every string the decision compares (permissions, roles,
//! attribute names and values, principals, anchors) becomes a `u32` symbol, kept once; attribute
//! values become small copyable [`Val`]s; and each distinct set of conditions is kept once,
//! counted, so the grants that share one (the seed's three conversation permissions of one
//! request share theirs) share its memory, and the last one to end frees it.

use crate::attr::AttrValue;
use crate::condition::{Condition, Conditions};
use rustc_hash::{FxHashMap, FxHasher};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A string value that was never interned: equal to no condition's value.
pub(super) const UNKNOWN: Val = Val::Str(u32::MAX);

/// An interned attribute value; `List` only in an `In` condition, naming its shared list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(super) enum Val {
    Str(u32),
    Int(i64),
    Bool(bool),
    List(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(super) enum Op {
    Equals,
    NotEquals,
    In,
}

/// One condition: an attribute's symbol, the test, and the value tested against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(super) struct Cond {
    pub attr: u32,
    pub op: Op,
    pub val: Val,
}

/// The string table of one organization. Symbol 0 is the empty string, which stands for the
/// organization as an anchor.
#[derive(Debug, Clone)]
pub(super) struct Symbols {
    ids: HashMap<Arc<str>, u32>,
    names: Vec<Arc<str>>,
    /// The value lists of `In` conditions, each kept once.
    lists: Vec<Box<[Val]>>,
    list_ids: HashMap<Box<[Val]>, u32>,
}

/// Saved as its names and lists alone; the maps back to them are rebuilt on load, so each name is
/// kept once again.
impl Serialize for Symbols {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let names: Vec<&str> = self.names.iter().map(|n| &**n).collect();
        (names, &self.lists).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Symbols {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (names, lists): (Vec<String>, Vec<Box<[Val]>>) = Deserialize::deserialize(d)?;
        let names: Vec<Arc<str>> = names.into_iter().map(Arc::from).collect();
        let ids = names.iter().enumerate().map(|(i, n)| (n.clone(), u32::try_from(i).unwrap_or(u32::MAX - 1))).collect();
        let list_ids = lists.iter().enumerate().map(|(i, l)| (l.clone(), u32::try_from(i).unwrap_or(u32::MAX - 1))).collect();
        Ok(Self { ids, names, lists, list_ids })
    }
}

impl Default for Symbols {
    fn default() -> Self {
        let empty: Arc<str> = Arc::from("");
        Self { ids: HashMap::from([(empty.clone(), 0)]), names: vec![empty], lists: Vec::new(), list_ids: HashMap::new() }
    }
}

impl Symbols {
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&sym) = self.ids.get(s) {
            return sym;
        }
        let sym = u32::try_from(self.names.len()).unwrap_or(u32::MAX - 1);
        let name: Arc<str> = Arc::from(s);
        self.names.push(name.clone());
        self.ids.insert(name, sym);
        sym
    }

    /// The symbol of `s`, if it was ever interned.
    pub fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    pub fn name(&self, sym: u32) -> &str {
        self.names.get(sym as usize).map_or("", |n| n)
    }

    pub fn value(&mut self, v: &AttrValue) -> Val {
        match v {
            AttrValue::Str(s) => Val::Str(self.intern(s)),
            AttrValue::Int(i) => Val::Int(*i),
            AttrValue::Bool(b) => Val::Bool(*b),
        }
    }

    /// A value as the decision compares it, without interning (an unknown string equals nothing).
    pub fn lookup_value(&self, v: &AttrValue) -> Val {
        match v {
            AttrValue::Str(s) => self.get(s).map_or(UNKNOWN, Val::Str),
            AttrValue::Int(i) => Val::Int(*i),
            AttrValue::Bool(b) => Val::Bool(*b),
        }
    }

    pub fn attr_value(&self, v: Val) -> AttrValue {
        match v {
            Val::Str(sym) => AttrValue::Str(self.name(sym).to_owned()),
            Val::Int(i) => AttrValue::Int(i),
            Val::Bool(b) => AttrValue::Bool(b),
            Val::List(_) => AttrValue::Str(String::new()),
        }
    }

    pub(super) fn list(&self, val: Val) -> &[Val] {
        match val {
            Val::List(id) => self.lists.get(id as usize).map_or(&[], |l| l),
            _ => &[],
        }
    }

    pub fn conds(&mut self, conditions: &Conditions) -> Box<[Cond]> {
        conditions
            .iter()
            .map(|(attr, cond)| {
                let (op, val) = match cond {
                    Condition::Equals { value } => (Op::Equals, self.value(value)),
                    Condition::NotEquals { value } => (Op::NotEquals, self.value(value)),
                    Condition::In { values } => {
                        let list: Box<[Val]> = values.iter().map(|v| self.value(v)).collect();
                        let next = u32::try_from(self.lists.len()).unwrap_or(u32::MAX);
                        let id = *self.list_ids.entry(list.clone()).or_insert(next);
                        if id == next {
                            self.lists.push(list);
                        }
                        (Op::In, Val::List(id))
                    }
                };
                Cond { attr: self.intern(attr), op, val }
            })
            .collect()
    }

    pub fn conditions(&self, conds: &[Cond]) -> Conditions {
        conds
            .iter()
            .map(|c| {
                let cond = match c.op {
                    Op::Equals => Condition::Equals { value: self.attr_value(c.val) },
                    Op::NotEquals => Condition::NotEquals { value: self.attr_value(c.val) },
                    Op::In => Condition::In { values: self.list(c.val).iter().map(|v| self.attr_value(*v)).collect() },
                };
                (self.name(c.attr).to_owned(), cond)
            })
            .collect()
    }

    /// Whether `cond` holds for the attribute's value (none: it does not).
    pub fn holds(&self, cond: &Cond, actual: Option<Val>) -> bool {
        let Some(actual) = actual else { return false };
        match cond.op {
            Op::Equals => cond.val == actual,
            Op::NotEquals => cond.val != actual,
            Op::In => self.list(cond.val).contains(&actual),
        }
    }

    /// How many strings are interned.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Drops spare capacity after a bulk load.
    pub fn shrink(&mut self) {
        self.ids.shrink_to_fit();
        self.names.shrink_to_fit();
    }
}

/// No set: the id of the empty set of conditions.
pub(super) const NO_CONDITIONS: u32 = 0;
const END: u32 = u32::MAX;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CondSet {
    conds: Box<[Cond]>,
    refs: u32,
    /// The next set with the same hash.
    next: u32,
}

/// Distinct condition sets, each kept once and counted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct CondSets {
    sets: Vec<CondSet>,
    heads: FxHashMap<u64, u32>,
    free: Vec<u32>,
}

impl Default for CondSets {
    fn default() -> Self {
        Self { sets: vec![CondSet { conds: Box::default(), refs: 0, next: END }], heads: FxHashMap::default(), free: Vec::new() }
    }
}

fn hash(conds: &[Cond]) -> u64 {
    let mut h = FxHasher::default();
    conds.hash(&mut h);
    h.finish()
}

impl CondSets {
    /// The id of `conds`, one more holder counted.
    pub fn acquire(&mut self, conds: Box<[Cond]>) -> u32 {
        if conds.is_empty() {
            return NO_CONDITIONS;
        }
        let h = hash(&conds);
        let mut at = self.heads.get(&h).copied().unwrap_or(END);
        while let Some(set) = self.sets.get_mut(at as usize) {
            if set.conds == conds {
                set.refs += 1;
                return at;
            }
            at = set.next;
        }
        let next = self.heads.get(&h).copied().unwrap_or(END);
        let set = CondSet { conds, refs: 1, next };
        let id = match self.free.pop() {
            Some(id) => {
                if let Some(slot) = self.sets.get_mut(id as usize) {
                    *slot = set;
                }
                id
            }
            None => {
                self.sets.push(set);
                u32::try_from(self.sets.len() - 1).unwrap_or(END)
            }
        };
        self.heads.insert(h, id);
        id
    }

    /// One holder of set `id` fewer; the last one frees it.
    pub fn release(&mut self, id: u32) {
        let Some(set) = self.sets.get_mut(id as usize).filter(|_| id != NO_CONDITIONS) else { return };
        set.refs = set.refs.saturating_sub(1);
        if set.refs > 0 {
            return;
        }
        let conds = std::mem::take(&mut set.conds);
        let next = set.next;
        let h = hash(&conds);
        // Unlink it from its hash's chain.
        match self.heads.get(&h).copied() {
            Some(head) if head == id => {
                if next == END {
                    self.heads.remove(&h);
                } else {
                    self.heads.insert(h, next);
                }
            }
            Some(mut at) => {
                while let Some(prev) = self.sets.get_mut(at as usize) {
                    if prev.next == id {
                        prev.next = next;
                        break;
                    }
                    at = prev.next;
                }
            }
            None => {}
        }
        self.free.push(id);
    }

    pub fn get(&self, id: u32) -> &[Cond] {
        self.sets.get(id as usize).map_or(&[], |s| &s.conds)
    }

    /// How many distinct sets are held (the empty set aside).
    pub fn len(&self) -> usize {
        self.sets.len() - 1 - self.free.len()
    }

    pub fn shrink(&mut self) {
        self.sets.shrink_to_fit();
        self.heads.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(syms: &mut Symbols, owner: &str) -> Box<[Cond]> {
        syms.conds(&Conditions::from([("conversation_user_id".to_owned(), Condition::Equals { value: owner.into() })]))
    }

    #[test]
    fn a_shared_set_is_kept_once_and_freed_by_its_last_holder() {
        let (mut syms, mut sets) = (Symbols::default(), CondSets::default());
        let a = sets.acquire(set(&mut syms, "ann"));
        let a2 = sets.acquire(set(&mut syms, "ann"));
        let b = sets.acquire(set(&mut syms, "bob"));
        assert_eq!((a, sets.len()), (a2, 2));
        assert_ne!(a, b);
        sets.release(a);
        assert_eq!(sets.len(), 2, "one holder of ann's set is left");
        sets.release(a2);
        assert_eq!(sets.len(), 1);
        assert_eq!(
            syms.conditions(sets.get(b)),
            Conditions::from([("conversation_user_id".to_owned(), Condition::Equals { value: "bob".into() })])
        );
        // The freed slot is reused, and the chain still finds bob's set.
        let c = sets.acquire(set(&mut syms, "cat"));
        assert_eq!(c, a);
        assert_eq!(sets.acquire(set(&mut syms, "bob")), b);
        assert_eq!(sets.acquire(Box::default()), NO_CONDITIONS);
    }
}
