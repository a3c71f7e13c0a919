//! Property tests of the decision: the compiled `check` agrees with `explain` and with a naive
//! reference model written from DESIGN.md's definition; decisions are monotonic in grants; expiry
//! and revocation take effect at their instant.

#![expect(clippy::unwrap_used, reason = "tests fail loudly at the point of failure")]

use grantry_core::attr::{AttrValue, Attributes};
use grantry_core::catalogue::{role, PermissionGrant};
use grantry_core::change::Change;
use grantry_core::condition::{Condition, Conditions};
use grantry_core::decision::ResourceQuery;
use grantry_core::ids::{GrantId, OrgId, UserId};
use grantry_core::index::DecisionIndex;
use grantry_core::model::*;
use grantry_core::{SignedDuration, Timestamp};
use proptest::prelude::*;

const PERMS: [&str; 4] = ["Conversation:GetConversation", "Conversation:GetMessage", "traces:read", "User:Create"];
const OWNERS: [&str; 3] = ["o0", "o1", "o2"];
const USERS: usize = 3;

fn t(mins: i64) -> Timestamp {
    Timestamp::from_second(1_900_000_000 + mins * 60).unwrap()
}

#[derive(Debug, Clone)]
enum Cond {
    None,
    Equals(usize),
    In(Vec<usize>),
    NotEquals(usize),
}

#[derive(Debug, Clone)]
struct G {
    user: usize,
    role: bool,
    perm: usize,
    cond: Cond,
    start: i64,
    len: Option<i64>,
    revoked: Option<i64>,
}

#[derive(Debug, Clone)]
struct Q {
    user: usize,
    perm: usize,
    /// Some(i): registered conversation i (owner OWNERS[i]); None: unregistered, owner given inline.
    registered: Option<usize>,
    inline_owner: Option<usize>,
    at: i64,
}

fn cond() -> impl Strategy<Value = Cond> {
    prop_oneof![
        Just(Cond::None),
        (0..3usize).prop_map(Cond::Equals),
        proptest::collection::vec(0..3usize, 1..3).prop_map(Cond::In),
        (0..3usize).prop_map(Cond::NotEquals),
    ]
}

fn grant() -> impl Strategy<Value = G> {
    (
        0..USERS,
        proptest::bool::weighted(0.15),
        0..PERMS.len(),
        cond(),
        0..100i64,
        proptest::option::of(1..200i64),
        proptest::option::of(0..300i64),
    )
        .prop_map(|(user, role, perm, cond, start, len, revoked)| G { user, role, perm, cond, start, len, revoked })
}

fn query() -> impl Strategy<Value = Q> {
    (0..USERS, 0..PERMS.len(), proptest::option::of(0..3usize), proptest::option::of(0..3usize), 0..320i64)
        .prop_map(|(user, perm, registered, inline_owner, at)| Q { user, perm, registered, inline_owner, at })
}

fn to_grant(i: usize, g: &G) -> Grant {
    let conditions: Conditions = match &g.cond {
        Cond::None => Conditions::new(),
        Cond::Equals(o) => [("conversation_user_id".to_owned(), Condition::Equals { value: OWNERS[*o].into() })].into(),
        Cond::In(os) => {
            [("conversation_user_id".to_owned(), Condition::In { values: os.iter().map(|o| OWNERS[*o].into()).collect() })].into()
        }
        Cond::NotEquals(o) => [("conversation_user_id".to_owned(), Condition::NotEquals { value: OWNERS[*o].into() })].into(),
    };
    let target = if g.role {
        GrantTarget::Role { role: role::ORG_ADMIN.into() }
    } else {
        GrantTarget::Permission { grant: PermissionGrant { permission: PERMS[g.perm].into(), conditions } }
    };
    Grant {
        id: GrantId(format!("g{i}")),
        org: OrgId::from("o"),
        principal: Principal::User(UserId(format!("u{}", g.user))),
        target,
        anchor: Anchor::Scope(ScopeRef::Org),
        starts_at: t(g.start),
        expires_at: g.len.map(|l| t(g.start + l)),
        justification: None,
        tags: vec![],
        creator: Actor::System,
        source: GrantSource::Manual,
        created_at: t(g.start),
        revoked: g.revoked.map(|r| Revocation { at: t(r), by: Actor::System }),
    }
}

fn index(grants: &[G]) -> DecisionIndex {
    let mut ix = DecisionIndex::default();
    let org = Org { id: OrgId::from("o"), slug: "o".into(), name: "o".into(), created_at: t(0), policy: Policy::default() };
    ix.apply(&Change::OrgCreated { org }).unwrap();
    for u in 0..USERS {
        let user = User {
            id: UserId(format!("u{u}")),
            org: OrgId::from("o"),
            email: format!("u{u}@x.test"),
            status: UserStatus::Active,
            created_at: t(0),
        };
        ix.apply(&Change::UserCreated { user }).unwrap();
    }
    for (i, owner) in OWNERS.iter().enumerate() {
        let resource = Resource {
            org: OrgId::from("o"),
            reference: ResourceRef::new("conversation", format!("c{i}")),
            parent: None,
            scope: ScopeRef::Org,
            attributes: [("conversation_user_id".to_owned(), AttrValue::from(*owner))].into(),
            created_at: t(0),
        };
        ix.apply(&Change::ResourceRegistered { resource }).unwrap();
    }
    for (i, g) in grants.iter().enumerate() {
        // Revocations arrive as their own change, as they do in the service.
        let mut created = to_grant(i, g);
        let revoked = created.revoked.take();
        ix.apply(&Change::GrantCreated { grant: created }).unwrap();
        if let Some(revocation) = revoked {
            ix.apply(&Change::GrantRevoked { org: OrgId::from("o"), id: GrantId(format!("g{i}")), revocation }).unwrap();
        }
    }
    ix
}

fn resource(q: &Q) -> ResourceQuery {
    let mut attributes = Attributes::new();
    if let Some(o) = q.inline_owner {
        attributes.insert("conversation_user_id".into(), OWNERS[o].into());
    }
    match q.registered {
        Some(i) => ResourceQuery { reference: ResourceRef::new("conversation", format!("c{i}")), attributes },
        None => ResourceQuery { reference: ResourceRef::new("conversation", "unregistered"), attributes },
    }
}

/// DESIGN.md's definition, written out directly.
fn reference(grants: &[G], q: &Q) -> bool {
    // Registered attributes override inline ones.
    let owner = q.registered.or(q.inline_owner).map(|o| OWNERS[o]);
    grants.iter().any(|g| {
        // A revoked grant has left the index: it allows nothing, whenever the check is asked for.
        let active = g.start <= q.at && g.len.is_none_or(|l| q.at < g.start + l) && g.revoked.is_none();
        // org_admin carries User:Create, and traces:read only on traces whose is_prod is false
        // (these resources have no is_prod, so it never applies here).
        let carries = if g.role { PERMS[q.perm] == "User:Create" } else { g.perm == q.perm };
        let holds = g.role
            || match &g.cond {
                Cond::None => true,
                Cond::Equals(o) => owner == Some(OWNERS[*o]),
                Cond::In(os) => owner.is_some_and(|w| os.iter().any(|o| OWNERS[*o] == w)),
                Cond::NotEquals(o) => owner.is_some_and(|w| w != OWNERS[*o]),
            };
        g.user == q.user && active && carries && holds
    })
}

fn decide(ix: &DecisionIndex, q: &Q) -> (bool, bool) {
    let o = ix.org(&OrgId::from("o")).unwrap();
    let p = Principal::User(UserId(format!("u{}", q.user)));
    let r = resource(q);
    let at = t(q.at);
    (o.check(&p, PERMS[q.perm], &r, at), o.explain(ix.catalogue(), &p, PERMS[q.perm], &r, at, &[]).allowed)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn check_explain_and_the_reference_agree(grants in proptest::collection::vec(grant(), 0..12), queries in proptest::collection::vec(query(), 1..24)) {
        let ix = index(&grants);
        for q in &queries {
            let (check, explain) = decide(&ix, q);
            prop_assert_eq!(check, explain, "check and explain disagree on {:?}", q);
            prop_assert_eq!(check, reference(&grants, q), "the index and the reference disagree on {:?}", q);
            // The effective set read from the records equals the one computed from the grants' terms.
            let o = ix.org(&OrgId::from("o")).unwrap();
            let p = Principal::User(UserId(format!("u{}", q.user)));
            for permanent in [false, true] {
                let terms = o.grants_of(&p).into_iter().filter(|g| !permanent || !g.is_temporary());
                let expected = o.effective_set(ix.catalogue(), terms, &ScopeRef::Org, t(q.at));
                prop_assert_eq!(o.effective_of(ix.catalogue(), &p, &ScopeRef::Org, t(q.at), permanent), expected);
            }
        }
    }

    #[test]
    fn adding_a_grant_never_takes_access_away(grants in proptest::collection::vec(grant(), 0..10), extra in grant(), queries in proptest::collection::vec(query(), 1..24)) {
        let before = index(&grants);
        let mut more = grants.clone();
        more.push(extra);
        let after = index(&more);
        for q in &queries {
            prop_assert!(!decide(&before, q).0 || decide(&after, q).0, "a grant took access away on {:?}", q);
        }
    }

    #[test]
    fn a_grant_ends_exactly_at_its_end(start in 0..100i64, len in 1..200i64, perm in 0..2usize) {
        let g = G { user: 0, role: false, perm, cond: Cond::None, start, len: Some(len), revoked: None };
        let ix = index(std::slice::from_ref(&g));
        let o = ix.org(&OrgId::from("o")).unwrap();
        let p = Principal::User(UserId::from("u0"));
        let r = resource(&Q { user: 0, perm, registered: Some(0), inline_owner: None, at: 0 });
        let end = t(start + len);
        prop_assert!(o.check(&p, PERMS[perm], &r, end.checked_sub(SignedDuration::from_micros(1)).unwrap()));
        prop_assert!(!o.check(&p, PERMS[perm], &r, end));
    }
}
