//! Unit tests of the decision through groups: a grant to a group reaches its members and the
//! members of the groups below it, while the membership lasts and the groups on the way are
//! active; explain names the group.

use crate::catalogue::perm;
use crate::change::Change;
use crate::fixtures::*;
use crate::ids::{GroupId, UserId};
use crate::index::DecisionIndex;
use crate::model::*;

const READ: &str = perm::CONVERSATION_GET_MESSAGE;

/// Support (the parent) ← Tier 1 ← Tier 1 Night; alice is in Tier 1 Night until t(100); a
/// grant on bob's conversations is held by Support.
fn tree() -> DecisionIndex {
    let mut ix = setup();
    ix.apply(&Change::GroupCreated { group: group("support", None, GroupStatus::Active) }).unwrap();
    ix.apply(&Change::GroupCreated { group: group("tier1", Some("support"), GroupStatus::Active) }).unwrap();
    ix.apply(&Change::GroupCreated { group: group("night", Some("tier1"), GroupStatus::Active) }).unwrap();
    ix.apply(&Change::GroupMemberSet { member: member("night", "alice", Some(t(100))) }).unwrap();
    let mut g = message_grant("g-support", "nobody", "bob", t(7200));
    g.principal = Principal::Group(GroupId::from("support"));
    ix.apply(&Change::GrantCreated { grant: g }).unwrap();
    ix
}

#[test]
fn a_parent_groups_grant_reaches_the_members_of_its_descendants() {
    let ix = tree();
    let o = ix.org(&org()).unwrap();
    assert!(o.check(&user("alice"), READ, &conv("c1"), t(1)));
    assert!(!o.check(&user("bob"), READ, &conv("c1"), t(1)), "bob is in no group");
    let d = o.explain(ix.catalogue(), &user("alice"), READ, &conv("c1"), t(1), &[]);
    assert!(d.allowed && d.reasons[0].message.contains("of group `Group support`"), "{:?}", d.reasons);
    let through: Vec<String> = o.groups_through(&user("alice"), t(1)).into_iter().map(|(g, _)| g.0).collect();
    assert_eq!(through, ["night", "tier1", "support"]);
    // A membership's end is exact, like a grant's.
    assert!(!o.check(&user("alice"), READ, &conv("c1"), t(100)));
    assert!(o.groups_through(&user("alice"), t(100)).is_empty());
}

#[test]
fn archiving_any_group_on_the_way_ends_what_it_passed_down() {
    let mut ix = tree();
    ix.apply(&Change::GroupUpdated { group: group("tier1", Some("support"), GroupStatus::Archived) }).unwrap();
    assert!(!ix.org(&org()).unwrap().check(&user("alice"), READ, &conv("c1"), t(1)));
    ix.apply(&Change::GroupUpdated { group: group("tier1", Some("support"), GroupStatus::Active) }).unwrap();
    assert!(ix.org(&org()).unwrap().check(&user("alice"), READ, &conv("c1"), t(1)));
    // Moving the group to the top cuts it from the parent's access.
    ix.apply(&Change::GroupUpdated { group: group("tier1", None, GroupStatus::Active) }).unwrap();
    assert!(!ix.org(&org()).unwrap().check(&user("alice"), READ, &conv("c1"), t(1)));
}

#[test]
fn removal_deletion_and_the_users_own_state_all_end_it() {
    let mut ix = tree();
    ix.apply(&Change::GroupMemberRemoved { org: org(), group: GroupId::from("night"), user: UserId::from("alice") }).unwrap();
    assert!(!ix.org(&org()).unwrap().check(&user("alice"), READ, &conv("c1"), t(1)));
    ix.apply(&Change::GroupMemberSet { member: member("night", "alice", None) }).unwrap();
    assert!(ix.org(&org()).unwrap().check(&user("alice"), READ, &conv("c1"), t(1_000)), "no end now");
    ix.apply(&Change::UserStatusChanged { org: org(), user: UserId::from("alice"), status: UserStatus::Suspended }).unwrap();
    assert!(!ix.org(&org()).unwrap().check(&user("alice"), READ, &conv("c1"), t(1)), "a suspended user holds nothing");
    ix.apply(&Change::UserStatusChanged { org: org(), user: UserId::from("alice"), status: UserStatus::Active }).unwrap();
    ix.apply(&Change::GroupDeleted { org: org(), id: GroupId::from("night") }).unwrap();
    let o = ix.org(&org()).unwrap();
    assert!(!o.check(&user("alice"), READ, &conv("c1"), t(1)));
    assert!(o.group(&GroupId::from("night")).is_none() && o.memberships_of(&UserId::from("alice")).is_empty());
}

#[test]
fn lookup_and_the_effective_set_see_through_groups() {
    let ix = tree();
    let o = ix.org(&org()).unwrap();
    let (ids, more) = o.lookup(&user("alice"), READ, "conversation", t(1), None, 10);
    assert_eq!((ids, more), (vec!["c1".to_owned()], false));
    let held = o.held_at(ix.catalogue(), &user("alice"), &ScopeRef::Org, t(1), false);
    assert!(held.contains(READ));
    // Temporary membership and a temporary grant: nothing here is held for good.
    assert!(!o.held_at(ix.catalogue(), &user("alice"), &ScopeRef::Org, t(1), true).contains(READ));
}
