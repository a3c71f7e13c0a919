//! How grants reach a user through groups: each user's memberships (with their end), and each
//! group's parent and status. A grant to a group reaches the members of that group and of every
//! group below it, while the membership lasts and every group on the way up is active — an
//! archived group passes nothing on, so archiving a parent ends what its children inherited.
//!
//! INVARIANT: the group tree has no cycles (the service refuses a parent that would make one);
//! the walk is bounded all the same.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// The deepest walk up a group tree, whatever the organization's setting (it allows at most 10).
const MAX_WALK: usize = 16;

/// A group's place in the tree.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Node {
    parent: Option<u32>,
    active: bool,
}

/// One membership: the group, and when it ends (`i64::MAX`: it does not).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Membership {
    group: u32,
    ends_us: i64,
}

/// The group trees and memberships of one organization, by principal symbol.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Reach {
    groups: FxHashMap<u32, Node>,
    member_of: FxHashMap<u32, Vec<Membership>>,
}

impl Reach {
    /// Records group `group` with its parent and status (new, or changed).
    pub(super) fn set_group(&mut self, group: u32, parent: Option<u32>, active: bool) {
        self.groups.insert(group, Node { parent, active });
    }

    /// Forgets group `group`; its memberships are removed one by one before it.
    pub(super) fn remove_group(&mut self, group: u32) {
        self.groups.remove(&group);
    }

    /// Makes `user` a member of `group` until `ends_us`.
    pub(super) fn set_member(&mut self, user: u32, group: u32, ends_us: i64) {
        let list = self.member_of.entry(user).or_default();
        match list.iter_mut().find(|m| m.group == group) {
            Some(m) => m.ends_us = ends_us,
            None => list.push(Membership { group, ends_us }),
        }
    }

    /// Ends `user`'s membership of `group`.
    pub(super) fn remove_member(&mut self, user: u32, group: u32) {
        if let Some(list) = self.member_of.get_mut(&user) {
            list.retain(|m| m.group != group);
            if list.is_empty() {
                self.member_of.remove(&user);
            }
        }
    }

    /// Forgets every membership of `user`.
    pub(super) fn remove_user(&mut self, user: u32) {
        self.member_of.remove(&user);
    }

    /// Whether `f` says yes for one of the groups through which `user` holds in `window`: each
    /// group of a membership in force (for good, if the window asks), then its parents while they
    /// are active, nearest first.
    /// Allocation-free, for the hot path.
    pub(super) fn any(&self, user: u32, window: super::compiled::Window, mut f: impl FnMut(u32) -> bool) -> bool {
        let Some(list) = self.member_of.get(&user) else { return false };
        let now_us = window.now_us();
        list.iter().filter(|m| now_us < m.ends_us && window.admits(m.ends_us)).any(|m| self.up(m.group).any(&mut f))
    }

    /// The groups through which `user` holds at `now_us`, each once, with whether every
    /// membership that leads to it is for good (`false` if the nearest one has an end).
    pub(super) fn through(&self, user: u32, now_us: i64) -> Vec<(u32, bool)> {
        let mut out: Vec<(u32, bool)> = Vec::new();
        for m in self.member_of.get(&user).into_iter().flatten().filter(|m| now_us < m.ends_us) {
            for g in self.up(m.group) {
                match out.iter_mut().find(|(seen, _)| *seen == g) {
                    Some((_, permanent)) => *permanent |= m.ends_us == i64::MAX,
                    None => out.push((g, m.ends_us == i64::MAX)),
                }
            }
        }
        out
    }

    /// `group` and its parents, nearest first, up to the first archived one (not included).
    fn up(&self, group: u32) -> impl Iterator<Item = u32> + '_ {
        let mut at = Some(group);
        std::iter::from_fn(move || {
            let g = at?;
            let node = self.groups.get(&g).filter(|n| n.active)?;
            at = node.parent;
            Some(g)
        })
        .take(MAX_WALK)
    }

    /// How many memberships are held.
    pub(super) fn memberships(&self) -> usize {
        self.member_of.values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::super::compiled::Window;
    use super::*;

    #[test]
    fn a_member_reaches_the_active_groups_above_theirs() {
        let mut r = Reach::default();
        r.set_group(10, None, true);
        r.set_group(11, Some(10), true);
        r.set_group(12, Some(11), true);
        r.set_member(1, 12, i64::MAX);
        r.set_member(1, 11, 100);
        assert_eq!(r.through(1, 50), vec![(12, true), (11, true), (10, true)]);
        r.remove_member(1, 12);
        assert_eq!(r.through(1, 50), vec![(11, false), (10, false)]);
        assert!(r.through(1, 100).is_empty(), "the membership ended at 100");
        r.set_member(1, 12, i64::MAX);
        r.set_group(11, Some(10), false);
        assert_eq!(r.through(1, 0), vec![(12, true)], "an archived group passes nothing on");
        assert!(r.any(1, Window::Any(0), |g| g == 12) && !r.any(1, Window::Any(0), |g| g == 10));
        r.set_member(1, 12, 100);
        assert!(!r.any(1, Window::ForGood(0), |_| true), "a membership with an end is not for good");
    }

    #[test]
    fn a_cycle_cannot_hold_the_walk() {
        let mut r = Reach::default();
        r.set_group(10, Some(11), true);
        r.set_group(11, Some(10), true);
        r.set_member(1, 10, i64::MAX);
        let mut seen = 0;
        assert!(!r.any(1, Window::Any(0), |_| {
            seen += 1;
            false
        }));
        assert_eq!(seen, MAX_WALK);
    }
}
