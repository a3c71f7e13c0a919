//! Unit tests of the decision: expiry, revocation, conditions, scope and privileges.

use crate::catalogue::{perm, role, PermissionGrant};
use crate::change::Change;
use crate::condition::{Condition, Conditions};
use crate::decision::{ReasonCode, ResourceQuery};
use crate::ids::{GrantId, OrgId, UserId};
use crate::index::DecisionIndex;
use crate::model::*;
use jiff::{SignedDuration, Timestamp};

fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + secs).unwrap()
}

fn org() -> OrgId {
    OrgId::from("org1")
}

fn user(id: &str) -> Principal {
    Principal::User(UserId::from(id))
}

fn setup() -> DecisionIndex {
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

fn role_grant(id: &str, who: &str, role: &str, expires_at: Option<Timestamp>) -> Grant {
    grant(id, who, GrantTarget::Role { role: role.into() }, expires_at)
}

fn grant(id: &str, who: &str, target: GrantTarget, expires_at: Option<Timestamp>) -> Grant {
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

fn message_grant(id: &str, who: &str, owner: &str, expires_at: Timestamp) -> Grant {
    let conditions: Conditions = [
        ("conversation_user_id".to_owned(), Condition::Equals { value: owner.into() }),
        ("org_id".to_owned(), Condition::Equals { value: "org1".into() }),
    ]
    .into();
    let pg = PermissionGrant { permission: perm::CONVERSATION_GET_MESSAGE.into(), conditions };
    grant(id, who, GrantTarget::Permission { grant: pg }, Some(expires_at))
}

fn conv(id: &str) -> ResourceQuery {
    ResourceQuery { reference: ResourceRef::new("conversation", id), attributes: Default::default() }
}

#[test]
fn expiry_is_exact() {
    let mut ix = setup();
    ix.apply(&Change::GrantCreated { grant: message_grant("g1", "alice", "bob", t(7200)) }).unwrap();
    let o = ix.org(&org()).unwrap();
    let cat = ix.catalogue();
    assert!(o.check(&user("alice"), perm::CONVERSATION_GET_MESSAGE, &conv("c1"), t(0)));
    let last = t(7200).checked_sub(SignedDuration::from_nanos(1)).unwrap();
    assert!(o.check(&user("alice"), perm::CONVERSATION_GET_MESSAGE, &conv("c1"), last));
    assert!(!o.check(&user("alice"), perm::CONVERSATION_GET_MESSAGE, &conv("c1"), t(7200)));
    let d = o.explain(cat, &user("alice"), perm::CONVERSATION_GET_MESSAGE, &conv("c1"), t(7380));
    assert!(!d.allowed);
    assert_eq!(d.reasons[0].code, ReasonCode::Expired);
    assert!(d.reasons[0].message.contains("expired 3 minutes ago"), "{}", d.reasons[0].message);
}

#[test]
fn conditions_scope_the_grant_to_the_owner() {
    let mut ix = setup();
    ix.apply(&Change::GrantCreated { grant: message_grant("g1", "alice", "someone-else", t(7200)) }).unwrap();
    let o = ix.org(&org()).unwrap();
    let d = o.explain(ix.catalogue(), &user("alice"), perm::CONVERSATION_GET_MESSAGE, &conv("c1"), t(1));
    assert!(!d.allowed);
    assert_eq!(d.reasons[0].code, ReasonCode::ConditionFailed);
    // A permission the grant does not carry has nothing to say about it.
    let d = o.explain(ix.catalogue(), &user("alice"), perm::CONVERSATION_GET, &conv("c1"), t(1));
    assert_eq!(d.reasons[0].code, ReasonCode::NoGrant);
}

#[test]
fn inline_attributes_cannot_override_registered_ones() {
    let mut ix = setup();
    ix.apply(&Change::GrantCreated { grant: message_grant("g1", "alice", "mallory", t(7200)) }).unwrap();
    let o = ix.org(&org()).unwrap();
    let mut q = conv("c1");
    q.attributes.insert("conversation_user_id".into(), "mallory".into());
    assert!(!o.check(&user("alice"), perm::CONVERSATION_GET_MESSAGE, &q, t(1)));
    // An unregistered resource is judged on the attributes given.
    let mut q = conv("unregistered");
    q.attributes.insert("conversation_user_id".into(), "mallory".into());
    q.attributes.insert("org_id".into(), "org1".into());
    assert!(o.check(&user("alice"), perm::CONVERSATION_GET_MESSAGE, &q, t(1)));
}

#[test]
fn revoke_takes_effect_at_its_instant() {
    let mut ix = setup();
    ix.apply(&Change::GrantCreated { grant: message_grant("g1", "alice", "bob", t(7200)) }).unwrap();
    ix.apply(&Change::GrantRevoked { org: org(), id: GrantId::from("g1"), revocation: Revocation { at: t(60), by: Actor::System } })
        .unwrap();
    let o = ix.org(&org()).unwrap();
    assert!(o.check(&user("alice"), perm::CONVERSATION_GET_MESSAGE, &conv("c1"), t(59)));
    let d = o.explain(ix.catalogue(), &user("alice"), perm::CONVERSATION_GET_MESSAGE, &conv("c1"), t(60));
    assert_eq!((d.allowed, d.reasons[0].code), (false, ReasonCode::Revoked));
}

#[test]
fn suspended_users_get_nothing() {
    let mut ix = setup();
    ix.apply(&Change::GrantCreated { grant: message_grant("g1", "alice", "bob", t(7200)) }).unwrap();
    ix.apply(&Change::UserStatusChanged { org: org(), user: UserId::from("alice"), status: UserStatus::Suspended }).unwrap();
    let o = ix.org(&org()).unwrap();
    let d = o.explain(ix.catalogue(), &user("alice"), perm::CONVERSATION_GET_MESSAGE, &conv("c1"), t(1));
    assert_eq!((d.allowed, d.reasons[0].code), (false, ReasonCode::PrincipalInactive));
}

#[test]
fn privilege_comparisons_ignore_temporary_grants() {
    let mut ix = setup();
    // bob holds org_owner for an hour: he may act as an owner, but cannot manage the permanent admin.
    ix.apply(&Change::GrantCreated { grant: role_grant("r-bob", "bob", role::ORG_OWNER, Some(t(3600))) }).unwrap();
    let o = ix.org(&org()).unwrap();
    let cat = ix.catalogue();
    assert!(o.require(&user("bob"), perm::USER_CREATE, t(1)).is_ok());
    assert!(o.require_manage(cat, &user("bob"), &user("admin"), t(1)).is_err());
    assert!(o.require_manage(cat, &user("owner"), &user("admin"), t(1)).is_ok());
    assert!(o.require_manage(cat, &user("admin"), &user("owner"), t(1)).is_err(), "an admin cannot manage an owner");
    assert!(o.require_manage(cat, &user("alice"), &user("alice"), t(1)).is_ok());
    assert!(o.require(&user("bob"), perm::USER_CREATE, t(3600)).is_err(), "the temporary role ended");
}
