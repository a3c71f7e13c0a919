//! Unit tests of the decision: expiry, revocation, conditions and scope.

use crate::catalogue::perm;
use crate::change::Change;
use crate::decision::ReasonCode;
use crate::fixtures::*;
use crate::ids::{GrantId, UserId};
use crate::model::*;
use jiff::SignedDuration;

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
    let d = o.explain(cat, &user("alice"), perm::CONVERSATION_GET_MESSAGE, &conv("c1"), t(7380), &[]);
    assert!(!d.allowed);
    assert_eq!(d.reasons[0].code, ReasonCode::Expired);
    assert!(d.reasons[0].message.contains("expired 3 minutes ago"), "{}", d.reasons[0].message);
}

#[test]
fn conditions_scope_the_grant_to_the_owner() {
    let mut ix = setup();
    ix.apply(&Change::GrantCreated { grant: message_grant("g1", "alice", "someone-else", t(7200)) }).unwrap();
    let o = ix.org(&org()).unwrap();
    let d = o.explain(ix.catalogue(), &user("alice"), perm::CONVERSATION_GET_MESSAGE, &conv("c1"), t(1), &[]);
    assert!(!d.allowed);
    assert_eq!(d.reasons[0].code, ReasonCode::ConditionFailed);
    // A permission the grant does not carry has nothing to say about it.
    let d = o.explain(ix.catalogue(), &user("alice"), perm::CONVERSATION_GET, &conv("c1"), t(1), &[]);
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
fn an_ended_grant_leaves_the_index_and_is_explained_from_the_store() {
    let mut ix = setup();
    let grant = message_grant("g1", "alice", "bob", t(7200));
    let before = ix.org(&org()).unwrap().grant_count();
    ix.apply(&Change::GrantCreated { grant: grant.clone() }).unwrap();
    ix.apply(&Change::GrantCreated { grant: message_grant("g2", "alice", "bob", t(60)) }).unwrap();
    assert_eq!(ix.org(&org()).unwrap().grant_count(), before + 2);
    let revocation = Revocation { at: t(60), by: Actor::System };
    ix.apply(&Change::GrantRevoked { org: org(), id: GrantId::from("g1"), revocation: revocation.clone() }).unwrap();
    ix.apply(&Change::GrantExpiryRecorded { org: org(), id: GrantId::from("g2") }).unwrap();
    let o = ix.org(&org()).unwrap();
    assert_eq!(o.grant_count(), before);
    assert!(o.grant(&GrantId::from("g1")).is_none() && o.grant(&GrantId::from("g2")).is_none());
    // The index answers for the grants as they stand: a revoked grant allows nothing, whenever asked.
    assert!(!o.check(&user("alice"), perm::CONVERSATION_GET_MESSAGE, &conv("c1"), t(59)));
    let d = o.explain(ix.catalogue(), &user("alice"), perm::CONVERSATION_GET_MESSAGE, &conv("c1"), t(61), &[]);
    assert_eq!((d.allowed, d.reasons[0].code), (false, ReasonCode::NoGrant));
    // With the ended grants the store keeps, the denial says why.
    let ended = [Grant { revoked: Some(revocation), ..grant }];
    let d = o.explain(ix.catalogue(), &user("alice"), perm::CONVERSATION_GET_MESSAGE, &conv("c1"), t(61), &ended);
    assert_eq!((d.allowed, d.reasons[0].code), (false, ReasonCode::Revoked));
    // Asked about a moment before it ended, explain agrees with check: an ended grant allows nothing.
    let d = o.explain(ix.catalogue(), &user("alice"), perm::CONVERSATION_GET_MESSAGE, &conv("c1"), t(59), &ended);
    assert_eq!((d.allowed, d.reasons[0].code), (false, ReasonCode::Revoked));
    let expired = [Grant { id: GrantId::from("g2"), expires_at: Some(t(60)), revoked: None, ..ended[0].clone() }];
    let d = o.explain(ix.catalogue(), &user("alice"), perm::CONVERSATION_GET_MESSAGE, &conv("c1"), t(30), &expired);
    assert_eq!((d.allowed, d.reasons[0].code), (false, ReasonCode::Expired));
    // Ending an unknown or already ended grant again changes nothing.
    ix.apply(&Change::GrantExpiryRecorded { org: org(), id: GrantId::from("g2") }).unwrap();
}

#[test]
fn suspended_users_get_nothing() {
    let mut ix = setup();
    ix.apply(&Change::GrantCreated { grant: message_grant("g1", "alice", "bob", t(7200)) }).unwrap();
    ix.apply(&Change::UserStatusChanged { org: org(), user: UserId::from("alice"), status: UserStatus::Suspended }).unwrap();
    let o = ix.org(&org()).unwrap();
    let d = o.explain(ix.catalogue(), &user("alice"), perm::CONVERSATION_GET_MESSAGE, &conv("c1"), t(1), &[]);
    assert_eq!((d.allowed, d.reasons[0].code), (false, ReasonCode::PrincipalInactive));
}

#[test]
fn explanations_are_bounded_however_many_grants_decide() {
    let mut ix = setup();
    for i in 0..25 {
        ix.apply(&Change::GrantCreated { grant: message_grant(&format!("ok{i}"), "alice", "bob", t(7200)) }).unwrap();
        ix.apply(&Change::GrantCreated { grant: message_grant(&format!("no{i}"), "bob", "someone-else", t(7200)) }).unwrap();
    }
    let o = ix.org(&org()).unwrap();
    let cat = ix.catalogue();
    let allowed = o.explain(cat, &user("alice"), perm::CONVERSATION_GET_MESSAGE, &conv("c1"), t(1), &[]);
    assert!(allowed.allowed);
    assert_eq!((allowed.reasons.len(), allowed.omitted), (crate::decision::MAX_REASONS, 15));
    let denied = o.explain(cat, &user("bob"), perm::CONVERSATION_GET_MESSAGE, &conv("c1"), t(1), &[]);
    assert!(!denied.allowed);
    assert_eq!((denied.reasons.len(), denied.omitted), (crate::decision::MAX_REASONS, 15));
    assert!(denied.reasons.iter().all(|r| r.code == ReasonCode::ConditionFailed));
}

#[test]
fn lookup_lists_what_check_allows_in_id_order_and_pages() {
    let mut ix = setup();
    // Conversations c2..c6: bob owns the even ones, carol the odd ones.
    for i in 2..=6 {
        let owner = if i % 2 == 0 { "bob" } else { "carol" };
        let resource = Resource {
            org: org(),
            reference: ResourceRef::new("conversation", format!("c{i}")),
            parent: None,
            scope: ScopeRef::Org,
            attributes: [("conversation_user_id".to_owned(), owner.into()), ("org_id".to_owned(), "org1".into())].into(),
            created_at: t(0),
        };
        ix.apply(&Change::ResourceRegistered { resource }).unwrap();
    }
    ix.apply(&Change::GrantCreated { grant: message_grant("g1", "alice", "bob", t(7200)) }).unwrap();
    let o = ix.org(&org()).unwrap();
    let look = |after: Option<&str>, limit: usize, at: i64| {
        o.lookup(&user("alice"), perm::CONVERSATION_GET_MESSAGE, "conversation", t(at), after, limit)
    };
    // bob's conversations: c1 (the fixture's), c2, c4, c6 — exactly those `check` allows.
    let (all, more) = look(None, 100, 1);
    assert_eq!((all.as_slice(), more), (&["c1", "c2", "c4", "c6"].map(String::from)[..], false));
    for i in 1..=6 {
        let id = format!("c{i}");
        assert_eq!(all.contains(&id), o.check(&user("alice"), perm::CONVERSATION_GET_MESSAGE, &conv(&id), t(1)), "{id}");
    }
    // Paged by id: two, then the rest after the last one shown.
    let (first, more) = look(None, 2, 1);
    assert_eq!((first.as_slice(), more), (&["c1", "c2"].map(String::from)[..], true));
    let (rest, more) = look(Some("c2"), 2, 1);
    assert_eq!((rest.as_slice(), more), (&["c4", "c6"].map(String::from)[..], false));
    // Expired: nothing. Another permission, another type, another principal: nothing.
    assert!(look(None, 100, 7200).0.is_empty());
    assert!(o.lookup(&user("alice"), perm::CONVERSATION_GET, "conversation", t(1), None, 100).0.is_empty());
    assert!(o.lookup(&user("alice"), perm::CONVERSATION_GET_MESSAGE, "trace", t(1), None, 100).0.is_empty());
    assert!(o.lookup(&user("bob"), perm::CONVERSATION_GET_MESSAGE, "conversation", t(1), None, 100).0.is_empty());
}

/// `lookup` decides only the resources a grant could allow, yet lists exactly what `check`
/// allows, page after page: grants that require a value, a list of values, anything but a value,
/// a role that allows everywhere, and an expired grant; and the same after a save and a load.
#[test]
fn lookup_agrees_with_check_whatever_the_grants() {
    use crate::catalogue::PermissionGrant;
    use crate::condition::{Condition, Conditions};
    let mut ix = setup();
    let owners = ["bob", "carol", "dan", "erin"];
    for i in 0..40 {
        let resource = Resource {
            org: org(),
            reference: ResourceRef::new("conversation", format!("c{i:02}")),
            parent: None,
            scope: ScopeRef::Org,
            attributes: [("conversation_user_id".to_owned(), owners[i % 4].into()), ("org_id".to_owned(), "org1".into())].into(),
            created_at: t(0),
        };
        ix.apply(&Change::ResourceRegistered { resource }).unwrap();
    }
    let on_owner = |id: &str, who: &str, condition: Condition| {
        let conditions: Conditions = [("conversation_user_id".to_owned(), condition)].into();
        let pg = PermissionGrant { permission: perm::CONVERSATION_GET_MESSAGE.into(), conditions };
        grant(id, who, GrantTarget::Permission { grant: pg }, Some(t(7200)))
    };
    for g in [
        message_grant("g-equals", "alice", "bob", t(7200)),
        on_owner("g-in", "alice", Condition::In { values: vec!["carol".into(), "nobody".into()] }),
        on_owner("g-not", "admin", Condition::NotEquals { value: "dan".into() }),
        message_grant("g-expired", "bob", "erin", t(10)),
    ] {
        ix.apply(&Change::GrantCreated { grant: g }).unwrap();
    }
    let saved = crate::index::DecisionIndex::decode(&ix.encode().unwrap()).unwrap();
    for ix in [&ix, &saved] {
        let o = ix.org(&org()).unwrap();
        let mut all: Vec<String> = (0..40).map(|i| format!("c{i:02}")).collect();
        all.push("c1".into());
        all.sort();
        for who in ["alice", "bob", "owner", "admin"] {
            for permission in [perm::CONVERSATION_GET_MESSAGE, perm::CONVERSATION_GET] {
                let expected: Vec<String> = all.iter().filter(|id| o.check(&user(who), permission, &conv(id), t(100))).cloned().collect();
                let (whole, more) = o.lookup(&user(who), permission, "conversation", t(100), None, 1000);
                assert_eq!((&whole, more), (&expected, false), "{who} {permission}");
                let (mut paged, mut after) = (Vec::new(), None::<String>);
                loop {
                    let (page, more) = o.lookup(&user(who), permission, "conversation", t(100), after.as_deref(), 3);
                    assert!(page.len() <= 3);
                    paged.extend(page.iter().cloned());
                    after = page.last().cloned();
                    if !more {
                        break;
                    }
                }
                assert_eq!(paged, expected, "{who} {permission}, by pages of 3");
            }
        }
        let alice = o.lookup(&user("alice"), perm::CONVERSATION_GET_MESSAGE, "conversation", t(100), None, 1000).0;
        assert_eq!(alice.len(), 21, "bob's ten and c1, carol's ten: {alice:?}");
    }
}

/// A saved index decodes to one that decides alike, and
/// keeps deciding alike as changes come after it: its interned names, shared condition lists and
/// freed slots come back as they were.
#[test]
fn a_saved_index_decodes_to_one_that_decides_alike() {
    let mut ix = setup();
    let in_list: crate::condition::Conditions =
        [("conversation_user_id".to_owned(), crate::condition::Condition::In { values: vec!["bob".into(), "carol".into()] })].into();
    let pg = crate::catalogue::PermissionGrant { permission: perm::CONVERSATION_GET.into(), conditions: in_list };
    ix.apply(&Change::GrantCreated { grant: grant("g-in", "alice", GrantTarget::Permission { grant: pg }, Some(t(600))) }).unwrap();
    ix.apply(&Change::GrantCreated { grant: message_grant("g1", "alice", "bob", t(7200)) }).unwrap();
    ix.apply(&Change::GrantCreated { grant: message_grant("g2", "bob", "bob", t(60)) }).unwrap();
    let revoke = |id: &str| Change::GrantRevoked {
        org: org(),
        id: GrantId::from(id),
        revocation: Revocation { at: t(5), by: Actor::User(UserId::from("owner")) },
    };
    ix.apply(&revoke("g2")).unwrap();
    // A workspace: its parent is the organization, a variant with no content.
    let ws = ScopeNode {
        id: crate::ids::ScopeId::from("ws1"),
        org: org(),
        kind: ScopeKind::Workspace,
        slug: "ml".into(),
        parent: ScopeRef::Org,
        is_production: false,
        created_at: t(0),
    };
    ix.apply(&Change::ScopeNodeCreated { node: ws }).unwrap();
    let mut back = crate::index::DecisionIndex::decode(&ix.encode().unwrap()).unwrap();
    assert_eq!(back.revision(), ix.revision());
    let after = [
        Change::GrantCreated { grant: message_grant("g3", "bob", "bob", t(900)) },
        revoke("g1"),
        Change::GrantCreated { grant: role_grant("r-alice", "alice", crate::catalogue::role::ORG_ADMIN, Some(t(300))) },
    ];
    for (step, change) in [None].into_iter().chain(after.iter().map(Some)).enumerate() {
        if let Some(change) = change {
            ix.apply(change).unwrap();
            back.apply(change).unwrap();
        }
        let (a, b) = (ix.org(&org()).unwrap(), back.org(&org()).unwrap());
        assert_eq!(a.size(), b.size(), "after step {step}");
        for who in ["alice", "bob", "owner", "admin", "nobody"] {
            for permission in [perm::CONVERSATION_GET, perm::CONVERSATION_GET_MESSAGE, perm::TRACES_READ] {
                for at in [0, 100, 599, 600, 1000, 8000] {
                    let (x, y) = (a.check(&user(who), permission, &conv("c1"), t(at)), b.check(&user(who), permission, &conv("c1"), t(at)));
                    assert_eq!(x, y, "{who} {permission} at {at}, step {step}");
                }
            }
        }
    }
}
