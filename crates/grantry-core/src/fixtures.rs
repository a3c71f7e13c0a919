//! A small organization for the core's unit tests: an owner, an admin, alice and bob, and bob's
//! registered conversation `c1`.

use crate::catalogue::{perm, role, PermissionGrant};
use crate::change::Change;
use crate::condition::{Condition, Conditions};
use crate::decision::ResourceQuery;
use crate::ids::{GrantId, OrgId, UserId};
use crate::index::DecisionIndex;
use crate::model::*;
use jiff::Timestamp;

pub fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + secs).unwrap()
}

pub fn org() -> OrgId {
    OrgId::from("org1")
}

pub fn user(id: &str) -> Principal {
    Principal::User(UserId::from(id))
}

pub fn setup() -> DecisionIndex {
    let mut ix = DecisionIndex::default();
    let o = Org { id: org(), slug: "acme".into(), name: "Acme".into(), created_at: t(0), policy: Policy::default() };
    ix.apply(&Change::OrgCreated { org: o }).unwrap();
    for id in ["alice", "bob", "owner", "admin"] {
        let u = User { id: UserId::from(id), org: org(), email: format!("{id}@acme.io"), status: UserStatus::Active, created_at: t(0) };
        ix.apply(&Change::UserCreated { user: u }).unwrap();
    }
    let conv = Resource {
        org: org(),
        reference: ResourceRef::new("conversation", "c1"),
        parent: None,
        scope: ScopeRef::Org,
        attributes: [("conversation_user_id".to_owned(), "bob".into()), ("org_id".to_owned(), "org1".into())].into(),
        created_at: t(0),
    };
    ix.apply(&Change::ResourceRegistered { resource: conv }).unwrap();
    ix.apply(&Change::GrantCreated { grant: role_grant("r-owner", "owner", role::ORG_OWNER, None) }).unwrap();
    ix.apply(&Change::GrantCreated { grant: role_grant("r-admin", "admin", role::ORG_ADMIN, None) }).unwrap();
    ix
}

pub fn role_grant(id: &str, who: &str, role: &str, expires_at: Option<Timestamp>) -> Grant {
    grant(id, who, GrantTarget::Role { role: role.into() }, expires_at)
}

pub fn grant(id: &str, who: &str, target: GrantTarget, expires_at: Option<Timestamp>) -> Grant {
    Grant {
        id: GrantId::from(id),
        org: org(),
        principal: user(who),
        target,
        anchor: Anchor::Scope(ScopeRef::Org),
        starts_at: t(0),
        expires_at,
        justification: None,
        tags: vec![],
        creator: Actor::System,
        source: GrantSource::Manual,
        created_at: t(0),
        revoked: None,
    }
}

pub fn message_grant(id: &str, who: &str, owner: &str, expires_at: Timestamp) -> Grant {
    let conditions: Conditions = [
        ("conversation_user_id".to_owned(), Condition::Equals { value: owner.into() }),
        ("org_id".to_owned(), Condition::Equals { value: "org1".into() }),
    ]
    .into();
    let pg = PermissionGrant { permission: perm::CONVERSATION_GET_MESSAGE.into(), conditions };
    grant(id, who, GrantTarget::Permission { grant: pg }, Some(expires_at))
}

pub fn conv(id: &str) -> ResourceQuery {
    ResourceQuery { reference: ResourceRef::new("conversation", id), attributes: Default::default() }
}

/// A group `id` of the test organization, under `parent`.
pub fn group(id: &str, parent: Option<&str>, status: GroupStatus) -> Group {
    Group {
        id: crate::ids::GroupId::from(id),
        org: org(),
        name: format!("Group {id}"),
        description: String::new(),
        parent: parent.map(crate::ids::GroupId::from),
        status,
        external_id: None,
        created_by: Actor::System,
        created_at: t(0),
    }
}

/// `who`'s membership of group `group`, until `expires_at`.
pub fn member(group: &str, who: &str, expires_at: Option<Timestamp>) -> GroupMember {
    GroupMember {
        org: org(),
        group: crate::ids::GroupId::from(group),
        user: UserId::from(who),
        role: GroupRole::Member,
        added_at: t(0),
        expires_at,
    }
}
