//! Groups and their members in the store: they come back in the snapshot as committed, a name is
//! unique without case, and deleting a group or a user takes its memberships along.

use super::{batch, seed, t, user, Db};
use grantry_core::change::Change;
use grantry_core::ids::{GroupId, OrgId, UserId};
use grantry_core::model::*;
use grantry_store::StoreError;

fn group(id: &str, name: &str, parent: Option<&str>) -> Group {
    Group {
        id: GroupId::from(id),
        org: OrgId::from("o1"),
        name: name.to_owned(),
        description: "for the suite".to_owned(),
        parent: parent.map(GroupId::from),
        status: GroupStatus::Active,
        external_id: None,
        created_by: Actor::User(UserId::from("u1")),
        created_at: t(2),
    }
}

fn member(group: &str, who: &str, role: GroupRole, expires_at: Option<grantry_core::Timestamp>) -> GroupMember {
    GroupMember { org: OrgId::from("o1"), group: GroupId::from(group), user: UserId::from(who), role, added_at: t(2), expires_at }
}

fn groups_in(changes: &[Change]) -> (Vec<Group>, Vec<GroupMember>) {
    let groups = changes.iter().filter_map(|c| if let Change::GroupCreated { group } = c { Some(group.clone()) } else { None });
    let members = changes.iter().filter_map(|c| if let Change::GroupMemberSet { member } = c { Some(member.clone()) } else { None });
    (groups.collect(), members.collect())
}

pub(super) async fn groups_and_members_come_back_in_the_snapshot(db: &Db) {
    let store = seed(db).await;
    let support = group("g1", "Support", None);
    let tier1 = group("g2", "Tier 1", Some("g1"));
    let changes = vec![
        Change::UserCreated { user: user("o1", "u2") },
        Change::GroupCreated { group: support.clone() },
        Change::GroupCreated { group: tier1.clone() },
        Change::GroupMemberSet { member: member("g2", "u1", GroupRole::Member, None) },
        Change::GroupMemberSet { member: member("g2", "u2", GroupRole::Member, Some(t(100))) },
        Change::GroupMemberSet { member: member("g1", "u2", GroupRole::Manager, None) },
    ];
    store.commit(batch("o1", t(2), changes)).await.unwrap();
    // A name is unique in the organization without regard to case.
    let clash = Change::GroupCreated { group: group("g3", "SUPPORT", None) };
    assert!(matches!(store.commit(batch("o1", t(3), vec![clash])).await, Err(StoreError::Conflict(_))));
    // A changed membership replaces the row; an archived, renamed group is stored as it is now.
    let archived = Group { status: GroupStatus::Archived, name: "Tier One".to_owned(), ..tier1.clone() };
    let changes = vec![
        Change::GroupMemberSet { member: member("g2", "u1", GroupRole::Manager, Some(t(50))) },
        Change::GroupUpdated { group: archived.clone() },
    ];
    store.commit(batch("o1", t(3), changes)).await.unwrap();
    let (groups, mut members) = groups_in(&store.snapshot().await.unwrap().changes);
    assert_eq!(groups, [support.clone(), archived]);
    members.sort_by(|a, b| (&a.group, &a.user).cmp(&(&b.group, &b.user)));
    let want = [
        member("g1", "u2", GroupRole::Manager, None),
        member("g2", "u1", GroupRole::Manager, Some(t(50))),
        member("g2", "u2", GroupRole::Member, Some(t(100))),
    ];
    assert_eq!(members, want);
    // A user who leaves takes their memberships along; so does a deleted group.
    let changes = vec![
        Change::UserDeleted { org: OrgId::from("o1"), user: UserId::from("u2") },
        Change::GroupMemberRemoved { org: OrgId::from("o1"), group: GroupId::from("g2"), user: UserId::from("u1") },
    ];
    store.commit(batch("o1", t(4), changes)).await.unwrap();
    let (_, members) = groups_in(&store.snapshot().await.unwrap().changes);
    assert!(members.is_empty(), "{members:?}");
    store.commit(batch("o1", t(5), vec![Change::GroupMemberSet { member: member("g2", "u1", GroupRole::Member, None) }])).await.unwrap();
    store.commit(batch("o1", t(6), vec![Change::GroupDeleted { org: OrgId::from("o1"), id: GroupId::from("g2") }])).await.unwrap();
    let (groups, members) = groups_in(&store.snapshot().await.unwrap().changes);
    assert_eq!((groups, members), (vec![support], vec![]));
}
