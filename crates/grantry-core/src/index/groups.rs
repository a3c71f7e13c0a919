//! One organization's groups in the index: the records, their members, the lookups the service
//! needs (by name, by member, the tree), and the changes that keep them and the compiled layout
//! in step.

use super::compiled::Compiled;
use super::OrgState;
use crate::change::Change;
use crate::error::{CoreError, Result};
use crate::ids::{GroupId, UserId};
use crate::model::{Group, GroupMember, Principal};
use crate::validate::name_key;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The groups of one organization and their members.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Groups {
    by_id: HashMap<GroupId, Group>,
    /// Name key ([`name_key`]) → id: names are unique without case or odd spaces.
    by_name: HashMap<String, GroupId>,
    members: HashMap<GroupId, BTreeMap<UserId, GroupMember>>,
    of_user: HashMap<UserId, BTreeSet<GroupId>>,
}

fn unknown(id: &GroupId) -> CoreError {
    CoreError::NotFound(format!("group `{id}` is not known"))
}

impl Groups {
    /// Applies a group change; other changes are not for it.
    pub(super) fn apply(&mut self, change: &Change, compiled: &mut Compiled) -> Result<()> {
        match change {
            Change::GroupCreated { group } | Change::GroupUpdated { group } => {
                if let Some(old) = self.by_id.get(&group.id) {
                    self.by_name.remove(&name_key(&old.name));
                }
                self.by_name.insert(name_key(&group.name), group.id.clone());
                compiled.set_group(&group.id, group.parent.as_ref(), group.is_active());
                self.by_id.insert(group.id.clone(), group.clone());
            }
            Change::GroupDeleted { id, .. } => {
                let group = self.by_id.remove(id).ok_or_else(|| unknown(id))?;
                self.by_name.remove(&name_key(&group.name));
                for user in self.members.remove(id).unwrap_or_default().into_keys() {
                    self.forget(&user, id);
                    compiled.remove_member(&user, id);
                }
                compiled.remove_group(id);
            }
            Change::GroupMemberSet { member } => {
                if !self.by_id.contains_key(&member.group) {
                    return Err(unknown(&member.group));
                }
                compiled.set_member(&member.user, &member.group, member.expires_at);
                self.of_user.entry(member.user.clone()).or_default().insert(member.group.clone());
                self.members.entry(member.group.clone()).or_default().insert(member.user.clone(), member.clone());
            }
            Change::GroupMemberRemoved { group, user, .. } => {
                self.members.get_mut(group).and_then(|m| m.remove(user));
                self.forget(user, group);
                compiled.remove_member(user, group);
            }
            Change::UserDeleted { user, .. } => {
                for group in self.of_user.remove(user).unwrap_or_default() {
                    self.members.get_mut(&group).and_then(|m| m.remove(user));
                }
                compiled.remove_memberships(user);
            }
            _ => {}
        }
        Ok(())
    }

    fn forget(&mut self, user: &UserId, group: &GroupId) {
        if let Some(set) = self.of_user.get_mut(user) {
            set.remove(group);
            if set.is_empty() {
                self.of_user.remove(user);
            }
        }
    }
}

impl OrgState {
    /// The group with id `id`.
    pub fn group(&self, id: &GroupId) -> Option<&Group> {
        self.groups.by_id.get(id)
    }

    /// The group named `name` (without regard to case).
    pub fn group_by_name(&self, name: &str) -> Option<&Group> {
        self.groups.by_name.get(&name_key(name)).and_then(|id| self.groups.by_id.get(id))
    }

    /// Every group, sorted by name.
    pub fn groups(&self) -> Vec<&Group> {
        let mut all: Vec<&Group> = self.groups.by_id.values().collect();
        all.sort_by_key(|g| g.name.to_lowercase());
        all
    }

    /// The members of group `id`, by user id (ended memberships included, until removed).
    pub fn members(&self, id: &GroupId) -> Vec<&GroupMember> {
        self.groups.members.get(id).map(|m| m.values().collect()).unwrap_or_default()
    }

    /// `user`'s membership of group `group`.
    pub fn membership(&self, group: &GroupId, user: &UserId) -> Option<&GroupMember> {
        self.groups.members.get(group)?.get(user)
    }

    /// The memberships of `user`, by group name.
    pub fn memberships_of(&self, user: &UserId) -> Vec<&GroupMember> {
        let groups = self.groups.of_user.get(user).into_iter().flatten();
        let mut out: Vec<&GroupMember> = groups.filter_map(|g| self.membership(g, user)).collect();
        out.sort_by_cached_key(|m| self.group(&m.group).map(|g| name_key(&g.name)));
        out
    }

    /// How many memberships of group `id` count at `now`.
    pub fn active_member_count(&self, id: &GroupId, now: Timestamp) -> usize {
        self.groups.members.get(id).map_or(0, |m| m.values().filter(|m| m.is_active(now)).count())
    }

    /// How many users group `id`'s access reaches at `now`: its members and those of the active
    /// groups below it, each once (what "a group with at least one member" means for a parent).
    pub fn members_reached(&self, id: &GroupId, now: Timestamp) -> usize {
        self.members_reached_leaving(id, now, &[])
    }

    /// [`Self::members_reached`] once `leaving` have left group `id` itself (they may still be
    /// reached through a group below it).
    pub fn members_reached_leaving(&self, id: &GroupId, now: Timestamp, leaving: &[UserId]) -> usize {
        let mut users = BTreeSet::new();
        let mut stack = vec![(id.clone(), 0)];
        while let Some((g, depth)) = stack.pop() {
            if depth > 64 || self.group(&g).is_none_or(|g| !g.is_active()) {
                continue;
            }
            let staying = self.members(&g).into_iter().filter(|m| m.is_active(now) && !(depth == 0 && leaving.contains(&m.user)));
            users.extend(staying.map(|m| m.user.clone()));
            stack.extend(self.children(&g).into_iter().map(|c| (c.id.clone(), depth + 1)));
        }
        users.len()
    }

    /// The groups whose parent is `id`, sorted by name.
    pub fn children(&self, id: &GroupId) -> Vec<&Group> {
        self.groups().into_iter().filter(|g| g.parent.as_ref() == Some(id)).collect()
    }

    /// `id` and the groups above it, nearest first (bounded, though the tree has no cycles).
    pub fn group_ancestry(&self, id: &GroupId) -> Vec<&Group> {
        let mut out = Vec::new();
        let mut at = self.group(id);
        while let Some(g) = at.filter(|_| out.len() < 64) {
            out.push(g);
            at = g.parent.as_ref().and_then(|p| self.group(p));
        }
        out
    }

    /// How deep the tree below `id` goes, `id` counted: 1 for a group without children.
    pub fn subtree_height(&self, id: &GroupId) -> usize {
        fn height(o: &OrgState, id: &GroupId, budget: usize) -> usize {
            if budget == 0 {
                return 0;
            }
            1 + o.children(id).iter().map(|c| height(o, &c.id, budget - 1)).max().unwrap_or(0)
        }
        height(self, id, 64)
    }

    /// The groups through which `principal` holds at `now` — its groups and the active groups
    /// above them, nearest first — each with whether it is held for good.
    pub fn groups_through(&self, principal: &Principal, now: Timestamp) -> Vec<(GroupId, bool)> {
        self.compiled.groups_through(principal, now.as_microsecond())
    }
}
