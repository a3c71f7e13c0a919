//! The registered resources of each type in id order, and by attribute value: what `lookup`
//! pages through without walking or sorting every resource of the type, and what says whether
//! any resource has a value. Derived from the resources, so a saved index rebuilds it.

use super::symbols::Val;
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::Arc;

/// Ids in order, each shared by every list that holds it.
type Ids = BTreeSet<Arc<str>>;

#[derive(Debug, Clone, Default)]
pub(super) struct Listing {
    /// Each type's ids.
    ordered: FxHashMap<u32, Ids>,
    /// The ids of each type with an attribute at a value: (type, attribute, value).
    by_value: FxHashMap<(u32, u32, Val), Ids>,
}

impl Listing {
    /// Lists the resource `id` of type `kind` with attributes `attrs`.
    pub(super) fn insert(&mut self, kind: u32, id: &str, attrs: &[(u32, Val)]) {
        let id: Arc<str> = id.into();
        for (attr, val) in attrs {
            self.by_value.entry((kind, *attr, *val)).or_default().insert(Arc::clone(&id));
        }
        self.ordered.entry(kind).or_default().insert(id);
    }

    /// Unlists the resource `id` of type `kind`, listed with attributes `attrs`.
    pub(super) fn remove(&mut self, kind: u32, id: &str, attrs: &[(u32, Val)]) {
        for (attr, val) in attrs {
            let key = (kind, *attr, *val);
            if self.by_value.get_mut(&key).is_some_and(|ids| ids.remove(id) && ids.is_empty()) {
                self.by_value.remove(&key);
            }
        }
        if let Some(ids) = self.ordered.get_mut(&kind) {
            ids.remove(id);
        }
    }

    /// The ids of type `kind`, in order, after `after`.
    pub(super) fn of_kind<'a>(&'a self, kind: u32, after: Option<&'a str>) -> impl Iterator<Item = &'a str> + 'a {
        self.ordered.get(&kind).into_iter().flat_map(move |ids| from(ids, after))
    }

    /// The ids of type `kind` whose attribute `attr` is `val`, in order, after `after`.
    pub(super) fn with_value<'a>(&'a self, kind: u32, attr: u32, val: Val, after: Option<&'a str>) -> impl Iterator<Item = &'a str> + 'a {
        self.by_value.get(&(kind, attr, val)).into_iter().flat_map(move |ids| from(ids, after))
    }

    /// Whether a resource of type `kind` has attribute `attr` at `val`.
    pub(super) fn has_value(&self, kind: u32, attr: u32, val: Val) -> bool {
        self.by_value.contains_key(&(kind, attr, val))
    }
}

fn from<'a>(ids: &'a Ids, after: Option<&'a str>) -> impl Iterator<Item = &'a str> + 'a {
    let start = after.map_or(Bound::Unbounded, Bound::Excluded);
    ids.range::<str, _>((start, Bound::Unbounded)).map(|id| &**id)
}
