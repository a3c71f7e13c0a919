//! Property test of the one rule that bounds every grant: whatever temporary grant `authorize`
//! lets an actor make, the access it opens is access the actor holds permanently — or exactly
//! seed 001's self-service shape (one registered owner's conversations, in this organization).
//! Checked by decisions, not by restating the policy: the grant is applied, and every resource it
//! opens is compared with what the actor's permanent grants open.

#![expect(clippy::unwrap_used, reason = "tests fail loudly at the point of failure")]

use grantry_core::attr::{AttrValue, Attributes};
use grantry_core::authz::{authorize, Action};
use grantry_core::catalogue::{role, PermissionGrant};
use grantry_core::change::Change;
use grantry_core::condition::{Condition, Conditions};
use grantry_core::decision::ResourceQuery;
use grantry_core::ids::{GrantId, OrgId, UserId};
use grantry_core::index::DecisionIndex;
use grantry_core::model::*;
use grantry_core::Timestamp;
use proptest::prelude::*;

const ORG: &str = "org1";
const ROLES: [&str; 3] = [role::ORG_OWNER, role::ORG_ADMIN, role::ORG_MEMBER];
const PERMS: [&str; 4] = ["Conversation:GetMessage", "Conversation:GetConversation", "traces:read", "traces:read:prod"];
/// Conversation owners: u0 and u1 own registered conversations, u2 owns none.
const OWNERS: [&str; 3] = ["u0", "u1", "u2"];

fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_900_000_000 + secs).unwrap()
}

fn user(i: usize) -> Principal {
    Principal::User(UserId(format!("u{i}")))
}

fn grant(id: String, who: usize, target: GrantTarget, expires_at: Option<Timestamp>) -> Grant {
    Grant {
        id: GrantId(id),
        org: OrgId::from(ORG),
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

fn resource(kind: &str, id: &str, attrs: &[(&str, AttrValue)]) -> Resource {
    let attributes: Attributes = attrs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    Resource {
        org: OrgId::from(ORG),
        reference: ResourceRef::new(kind, id),
        parent: None,
        scope: ScopeRef::Org,
        attributes,
        created_at: t(0),
    }
}

/// Three users with the given organization roles (and, for `temp`, a temporary org_owner role),
/// conversations of u0 and u1, a production and a development trace.
fn index(roles: &[usize; 3], temp_owner: Option<usize>) -> DecisionIndex {
    let mut ix = DecisionIndex::default();
    let org = Org { id: OrgId::from(ORG), slug: "acme".into(), name: "Acme".into(), created_at: t(0), policy: Policy::default() };
    ix.apply(&Change::OrgCreated { org }).unwrap();
    for (i, r) in roles.iter().enumerate() {
        let u = User {
            id: UserId(format!("u{i}")),
            org: OrgId::from(ORG),
            email: format!("u{i}@a.io"),
            status: UserStatus::Active,
            created_at: t(0),
        };
        ix.apply(&Change::UserCreated { user: u }).unwrap();
        let g = grant(format!("r{i}"), i, GrantTarget::Role { role: ROLES[*r].into() }, None);
        ix.apply(&Change::GrantCreated { grant: g }).unwrap();
    }
    if let Some(i) = temp_owner {
        let g = grant("temp".into(), i, GrantTarget::Role { role: role::ORG_OWNER.into() }, Some(t(3600)));
        ix.apply(&Change::GrantCreated { grant: g }).unwrap();
    }
    let org_id = AttrValue::Str(ORG.into());
    for (id, owner) in [("c0", "u0"), ("c1", "u1")] {
        let r = resource("conversation", id, &[("conversation_user_id", owner.into()), ("org_id", org_id.clone())]);
        ix.apply(&Change::ResourceRegistered { resource: r }).unwrap();
    }
    for (id, prod) in [("tp", true), ("td", false)] {
        let r = resource("trace", id, &[("is_prod", AttrValue::Bool(prod)), ("org_id", org_id.clone())]);
        ix.apply(&Change::ResourceRegistered { resource: r }).unwrap();
    }
    ix
}

/// The resources a grant could open: registered ones, and unregistered ones described inline.
fn probes() -> Vec<ResourceQuery> {
    let registered =
        ["c0", "c1"].map(|id| ResourceQuery { reference: ResourceRef::new("conversation", id), attributes: Attributes::new() });
    let traces = ["tp", "td"].map(|id| ResourceQuery { reference: ResourceRef::new("trace", id), attributes: Attributes::new() });
    let inline = OWNERS.iter().flat_map(|o| {
        [ORG, "org2"].map(|org| ResourceQuery {
            reference: ResourceRef::new("conversation", format!("x-{o}-{org}")),
            attributes: [("conversation_user_id".to_owned(), AttrValue::from(*o)), ("org_id".to_owned(), AttrValue::from(org))].into(),
        })
    });
    registered.into_iter().chain(traces).chain(inline).collect()
}

fn condition() -> impl Strategy<Value = Option<(&'static str, Condition)>> {
    let value = prop_oneof![
        (0..3usize).prop_map(|i| AttrValue::from(OWNERS[i])),
        Just(AttrValue::from(ORG)),
        Just(AttrValue::from("org2")),
        any::<bool>().prop_map(AttrValue::Bool),
    ];
    let cond = prop_oneof![
        value.clone().prop_map(|value| Condition::Equals { value }),
        value.clone().prop_map(|value| Condition::NotEquals { value }),
        proptest::collection::vec(value, 1..3).prop_map(|values| Condition::In { values }),
    ];
    proptest::option::of((prop_oneof![Just("conversation_user_id"), Just("org_id"), Just("is_prod")], cond))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn no_temporary_grant_opens_more_than_its_grantor_holds_or_the_self_service_shape(
        roles in proptest::array::uniform3(0..3usize),
        temp_owner in proptest::option::of(0..3usize),
        actor in 0..3usize,
        target in 0..3usize,
        perm in 0..PERMS.len(),
        conds in proptest::collection::vec(condition(), 0..3),
    ) {
        let ix = index(&roles, temp_owner);
        let o = ix.org(&OrgId::from(ORG)).unwrap();
        let conditions: Conditions = conds.into_iter().flatten().map(|(k, c)| (k.to_owned(), c)).collect();
        let pg = PermissionGrant { permission: PERMS[perm].to_owned(), conditions };
        let action = Action::CreateTemporaryGrant { to: &user(target), grant: &pg };
        if authorize(o, ix.catalogue(), &user(actor), action, t(1)).is_err() {
            return Ok(());
        }
        // Apply it, and compare what it opens with the actor's permanent access.
        let mut after = ix.clone();
        let g = grant("new".into(), target, GrantTarget::Permission { grant: pg.clone() }, Some(t(600)));
        after.apply(&Change::GrantCreated { grant: g }).unwrap();
        let mut permanent = ix.clone();
        if temp_owner.is_some() {
            let revocation = Revocation { at: t(0), by: Actor::System };
            permanent.apply(&Change::GrantRevoked { org: OrgId::from(ORG), id: GrantId("temp".into()), revocation }).unwrap();
        }
        let (a, p) = (after.org(&OrgId::from(ORG)).unwrap(), permanent.org(&OrgId::from(ORG)).unwrap());
        let eq = |attr: &str, v: &str| matches!(pg.conditions.get(attr), Some(Condition::Equals { value: AttrValue::Str(s) }) if s == v);
        for q in probes() {
            let opens = a.check(&user(target), &pg.permission, &q, t(2)) && !ix.org(&OrgId::from(ORG)).unwrap().check(&user(target), &pg.permission, &q, t(2));
            if !opens {
                continue;
            }
            let held = p.check(&user(actor), &pg.permission, &q, t(2));
            let self_service = pg.permission.starts_with("Conversation:")
                && eq("org_id", ORG)
                && OWNERS[..2].iter().any(|owner| eq("conversation_user_id", owner));
            prop_assert!(held || self_service, "u{actor} (roles {roles:?}, temp owner {temp_owner:?}) opened {q:?} with {pg:?} for u{target}");
        }
    }
}
