//! Unit tests of the authorization module: privilege comparisons, owner protection and the
//! temporary-grant policy.

use super::{authorize, Action};
use crate::attr::AttrValue;
use crate::catalogue::{perm, role, PermissionGrant};
use crate::change::Change;
use crate::condition::{Condition, Conditions};
use crate::error::CoreError;
use crate::fixtures::*;
use crate::index::DecisionIndex;
use crate::model::*;

fn grant_of(permission: &str, conditions: &[(&str, Condition)]) -> PermissionGrant {
    let conditions: Conditions = conditions.iter().map(|(k, c)| ((*k).to_owned(), c.clone())).collect();
    PermissionGrant { permission: permission.to_owned(), conditions }
}

fn eq(v: impl Into<AttrValue>) -> Condition {
    Condition::Equals { value: v.into() }
}

/// Whether `who` may give `pg` to itself temporarily.
fn may_self_grant(ix: &DecisionIndex, who: &str, pg: &PermissionGrant) -> Result<(), CoreError> {
    let o = ix.org(&org()).unwrap();
    authorize(o, ix.catalogue(), &user(who), Action::CreateTemporaryGrant { to: &user(who), grant: pg }, t(1)).map(drop)
}

fn with_member(who: &str) -> DecisionIndex {
    let mut ix = setup();
    ix.apply(&Change::GrantCreated { grant: role_grant(&format!("r-{who}"), who, role::ORG_MEMBER, None) }).unwrap();
    ix
}

#[test]
fn privilege_comparisons_ignore_temporary_grants() {
    let mut ix = setup();
    // bob holds org_owner for an hour: he may act as an owner, but cannot manage the permanent admin.
    ix.apply(&Change::GrantCreated { grant: role_grant("r-bob", "bob", role::ORG_OWNER, Some(t(3600))) }).unwrap();
    let o = ix.org(&org()).unwrap();
    let cat = ix.catalogue();
    let may = |actor: &str, action: Action<'_>, at| authorize(o, cat, &user(actor), action, at).is_ok();
    let role = cat.role(role::ORG_MEMBER).unwrap();
    assert!(may("bob", Action::RegisterConversation, t(1)), "a temporary role works");
    assert!(!may("bob", Action::CreateUser { role }, t(1)), "but gives nothing: the role is not held permanently");
    assert!(!may("bob", Action::ManageUser { target: &user("admin") }, t(1)));
    assert!(may("owner", Action::ManageUser { target: &user("admin") }, t(1)));
    assert!(!may("admin", Action::ManageUser { target: &user("owner") }, t(1)), "an admin cannot manage an owner");
    assert!(may("alice", Action::ManageUser { target: &user("alice") }, t(1)));
    assert!(!may("bob", Action::RegisterConversation, t(3600)), "the temporary role ended");
}

#[test]
fn members_get_only_the_owner_scoped_conversation_shape() {
    let ix = with_member("alice");
    let org_id = org().0;
    let seed_shape = grant_of(perm::CONVERSATION_GET_MESSAGE, &[("conversation_user_id", eq("bob")), ("org_id", eq(org_id.as_str()))]);
    assert!(may_self_grant(&ix, "alice", &seed_shape).is_ok());
    for (why, pg) in [
        ("no conditions", grant_of(perm::CONVERSATION_GET_MESSAGE, &[])),
        ("only the organization", grant_of(perm::CONVERSATION_GET_MESSAGE, &[("org_id", eq(org_id.as_str()))])),
        ("no organization", grant_of(perm::CONVERSATION_GET_MESSAGE, &[("conversation_user_id", eq("bob"))])),
        ("another organization", grant_of(perm::CONVERSATION_GET_MESSAGE, &[("conversation_user_id", eq("bob")), ("org_id", eq("org2"))])),
        (
            "every owner but one",
            grant_of(
                perm::CONVERSATION_GET_MESSAGE,
                &[("conversation_user_id", Condition::NotEquals { value: "x".into() }), ("org_id", eq(org_id.as_str()))],
            ),
        ),
    ] {
        assert!(matches!(may_self_grant(&ix, "alice", &pg), Err(CoreError::Forbidden(_))), "{why}");
    }
    let nobody = grant_of(perm::CONVERSATION_GET_MESSAGE, &[("conversation_user_id", eq("carol")), ("org_id", eq(org_id.as_str()))]);
    assert!(matches!(may_self_grant(&ix, "alice", &nobody), Err(CoreError::NotFound(_))), "carol owns no registered conversation");
}

#[test]
fn trace_grants_need_a_grantor_who_holds_them() {
    let ix = with_member("alice");
    for pg in [
        grant_of(perm::TRACES_READ_PROD, &[]),
        grant_of(perm::TRACES_READ_PROD, &[("is_prod", eq(true))]),
        grant_of(perm::TRACES_READ, &[("is_prod", eq(true))]),
        grant_of(perm::TRACES_READ, &[("is_prod", eq(false))]),
    ] {
        assert!(may_self_grant(&ix, "alice", &pg).is_err(), "a member may not give itself {pg:?}");
    }
    // org_admin holds both, bound to their class: it may give them bound the same way or narrower.
    assert!(may_self_grant(&ix, "admin", &grant_of(perm::TRACES_READ_PROD, &[("is_prod", eq(true))])).is_ok());
    assert!(may_self_grant(&ix, "admin", &grant_of(perm::TRACES_READ, &[("is_prod", eq(false)), ("org_id", eq("org1"))])).is_ok());
    assert!(may_self_grant(&ix, "admin", &grant_of(perm::TRACES_READ, &[])).is_err(), "unconditioned widens the class");
    assert!(may_self_grant(&ix, "admin", &grant_of(perm::TRACES_READ, &[("is_prod", eq(true))])).is_err(), "widens to prod");
    let o = ix.org(&org()).unwrap();
    let pg = grant_of(perm::TRACES_READ_PROD, &[("is_prod", eq(true))]);
    let to_alice = Action::CreateTemporaryGrant { to: &user("alice"), grant: &pg };
    assert!(authorize(o, ix.catalogue(), &user("admin"), to_alice, t(1)).is_ok(), "an admin gives a member prod traces for a while");
    assert!(authorize(o, ix.catalogue(), &user("alice"), to_alice, t(1)).is_err());
}

#[test]
fn only_owners_take_away_an_owners_role() {
    let ix = setup();
    let o = ix.org(&org()).unwrap();
    let cat = ix.catalogue();
    let owner_grants = o.grants_of(&user("owner"));
    let owner_role = owner_grants.iter().collect::<Vec<_>>();
    let member = cat.role(role::ORG_MEMBER).unwrap();
    let demote = Action::GrantRole { role: member, scope: &ScopeRef::Org, removing: &owner_role };
    assert!(authorize(o, cat, &user("admin"), demote, t(1)).is_err(), "an admin cannot demote an owner");
    assert!(authorize(o, cat, &user("owner"), demote, t(1)).is_ok());
    let admin_grants = o.grants_of(&user("admin"));
    let admin_role = admin_grants.iter().collect::<Vec<_>>();
    let revoke = Action::RevokeRole { scope: &ScopeRef::Org, removing: &admin_role };
    assert!(authorize(o, cat, &user("owner"), revoke, t(1)).is_ok());
    assert!(authorize(o, cat, &user("admin"), Action::RevokeRole { scope: &ScopeRef::Org, removing: &owner_role }, t(1)).is_err());
}

#[test]
fn a_suspended_owner_is_still_an_owner_to_suspend_resume_or_delete() {
    let mut ix = setup();
    let suspend = Change::UserStatusChanged { org: org(), user: crate::ids::UserId::from("owner"), status: UserStatus::Suspended };
    ix.apply(&suspend).unwrap();
    let o = ix.org(&org()).unwrap();
    let may = |actor: &str, target: &str| {
        authorize(o, ix.catalogue(), &user(actor), Action::SetUserStatus { target: &user(target), resuming: false }, t(1))
    };
    // The suspended owner holds nothing now, yet an admin may neither bring them back nor delete them.
    let refused = may("admin", "owner").unwrap_err();
    assert!(refused.to_string().contains("Organization:Manage"), "{refused}");
    assert!(may("admin", "alice").is_ok(), "an admin manages a member");
    assert!(may("alice", "bob").is_err(), "a member manages nobody");
    assert!(may("admin", "admin").unwrap_err().to_string().contains("yourself"));
}

#[test]
fn an_admin_does_not_mint_a_token_for_a_suspended_owner() {
    let mut ix = setup();
    let suspend = Change::UserStatusChanged { org: org(), user: crate::ids::UserId::from("owner"), status: UserStatus::Suspended };
    ix.apply(&suspend).unwrap();
    let o = ix.org(&org()).unwrap();
    let may = |action: Action<'_>| authorize(o, ix.catalogue(), &user("admin"), action, t(1)).is_ok();
    // A token minted now would carry the owner's powers the moment they are resumed.
    assert!(!may(Action::IssueToken { to: &user("owner") }));
    assert!(!may(Action::ManageUser { target: &user("owner") }));
}

#[test]
fn nobody_mints_a_token_for_a_suspended_user_whatever_they_hold_for_a_while() {
    let mut ix = setup();
    // alice holds org_owner for an hour (a temporary grant the admin could never have given), then
    // is suspended: while suspended she holds nothing, so the cover rule alone would let it pass.
    ix.apply(&Change::GrantCreated { grant: role_grant("r-alice", "alice", role::ORG_OWNER, Some(t(3600))) }).unwrap();
    let suspend = Change::UserStatusChanged { org: org(), user: crate::ids::UserId::from("alice"), status: UserStatus::Suspended };
    ix.apply(&suspend).unwrap();
    let o = ix.org(&org()).unwrap();
    let refused = authorize(o, ix.catalogue(), &user("admin"), Action::IssueToken { to: &user("alice") }, t(1)).unwrap_err();
    assert!(refused.to_string().contains("suspended"), "{refused}");
    assert!(authorize(o, ix.catalogue(), &user("owner"), Action::IssueToken { to: &user("alice") }, t(1)).is_err(), "not even an owner");
}

#[test]
fn an_admin_does_not_resume_a_temporary_owner() {
    let mut ix = setup();
    // alice is an owner for an hour; an owner suspended her. Resuming her gives owner powers back.
    ix.apply(&Change::GrantCreated { grant: role_grant("r-alice", "alice", role::ORG_OWNER, Some(t(3600))) }).unwrap();
    ix.apply(&Change::GrantCreated { grant: role_grant("m-alice", "alice", role::ORG_MEMBER, None) }).unwrap();
    let suspend = Change::UserStatusChanged { org: org(), user: crate::ids::UserId::from("alice"), status: UserStatus::Suspended };
    ix.apply(&suspend).unwrap();
    let o = ix.org(&org()).unwrap();
    let may = |actor: &str, resuming: bool| {
        authorize(o, ix.catalogue(), &user(actor), Action::SetUserStatus { target: &user("alice"), resuming }, t(1))
    };
    let refused = may("admin", true).unwrap_err();
    assert!(refused.to_string().contains("Organization:Manage"), "{refused}");
    assert!(may("owner", true).is_ok(), "an owner may");
    assert!(may("admin", false).is_ok(), "suspending or deleting her takes away, which protects");
    assert!(may("admin", true).is_err() && may("owner", true).is_ok());
    // Once the temporary role has ended, resuming her gives back only what an admin could give.
    let later = authorize(o, ix.catalogue(), &user("admin"), Action::SetUserStatus { target: &user("alice"), resuming: true }, t(3601));
    assert!(later.is_ok(), "{later:?}");
}
