//! The decision's speed: `check` on an index of many users, each with a role and a few temporary
//! conversation grants, at two sizes, to show a check's cost depends on the principal's own
//! grants and not on the total. Run with `cargo bench -p grantry-core --bench check`.

#![expect(clippy::unwrap_used, reason = "a benchmark fails loudly")]

use grantry_core::catalogue::{perm, role, PermissionGrant, CONVERSATION_ACCESS};
use grantry_core::change::Change;
use grantry_core::condition::{Condition, Conditions};
use grantry_core::decision::ResourceQuery;
use grantry_core::ids::{GrantId, OrgId, UserId};
use grantry_core::index::DecisionIndex;
use grantry_core::model::*;
use grantry_core::{SignedDuration, Timestamp};
use std::hint::black_box;
use std::time::Instant;

const GRANTS_PER_USER: usize = 3 * CONVERSATION_ACCESS.len() + 1;

fn build(users: usize) -> (DecisionIndex, OrgId, Timestamp) {
    let t0 = Timestamp::from_second(1_900_000_000).unwrap();
    let org = OrgId::from("bench");
    let mut ix = DecisionIndex::default();
    let o = Org { id: org.clone(), slug: "bench".into(), name: "bench".into(), created_at: t0, policy: Policy::default() };
    ix.apply(&Change::OrgCreated { org: o }).unwrap();
    let mut n = 0u64;
    let mut grant = |who: &UserId, target: GrantTarget, expires_at: Option<Timestamp>| {
        n += 1;
        Change::GrantCreated {
            grant: Grant {
                id: GrantId(format!("{n:024x}")),
                org: org.clone(),
                principal: Principal::User(who.clone()),
                target,
                anchor: Anchor::Scope(ScopeRef::Org),
                starts_at: t0,
                expires_at,
                justification: None,
                tags: vec![],
                creator: Actor::System,
                source: GrantSource::Manual,
                created_at: t0,
                revoked: None,
            },
        }
    };
    for u in 0..users {
        let id = UserId(format!("u{u}"));
        let user = User { id: id.clone(), org: org.clone(), email: format!("u{u}@bench.test"), status: UserStatus::Active, created_at: t0 };
        ix.apply(&Change::UserCreated { user }).unwrap();
        ix.apply(&grant(&id, GrantTarget::Role { role: role::ORG_MEMBER.into() }, None)).unwrap();
        let conv = ResourceRef::new("conversation", format!("{u:024x}"));
        let owner = format!("owner{u}");
        let resource = Resource {
            org: org.clone(),
            reference: conv,
            parent: None,
            scope: ScopeRef::Org,
            attributes: [("conversation_user_id".to_owned(), owner.as_str().into()), ("org_id".to_owned(), "bench".into())].into(),
            created_at: t0,
        };
        ix.apply(&Change::ResourceRegistered { resource }).unwrap();
        // Three requests: an expired one, one for someone else's conversations, the live one.
        for (k, (who, hours)) in [(format!("other{u}"), 2), (format!("third{u}"), 48), (owner, 48)].into_iter().enumerate() {
            let end = t0.checked_add(SignedDuration::from_hours(if k == 0 { 1 } else { hours })).unwrap();
            for p in CONVERSATION_ACCESS {
                let conditions: Conditions = [
                    ("conversation_user_id".to_owned(), Condition::Equals { value: who.as_str().into() }),
                    ("org_id".to_owned(), Condition::Equals { value: "bench".into() }),
                ]
                .into();
                let pg = PermissionGrant { permission: p.into(), conditions };
                ix.apply(&grant(&id, GrantTarget::Permission { grant: pg }, Some(end))).unwrap();
            }
        }
    }
    (ix, org, t0.checked_add(SignedDuration::from_hours(3)).unwrap())
}

fn time(label: &str, iterations: u32, mut f: impl FnMut(u32) -> bool) {
    let start = Instant::now();
    let mut allowed = 0u32;
    for i in 0..iterations {
        allowed += u32::from(black_box(f(i)));
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(iterations);
    println!("  {label:<46} {ns:>8.0} ns/check   ({allowed} of {iterations} allowed)");
}

fn main() {
    for users in [1_000, 50_000] {
        let (ix, org, now) = build(users);
        let o = ix.org(&org).unwrap();
        let cat = ix.catalogue();
        let total: usize = o.all_grants().count();
        assert_eq!(total, users * GRANTS_PER_USER);
        println!("{users} users, {total} grants in the organization, {GRANTS_PER_USER} per user:");
        let principals: Vec<Principal> = (0..users).map(|u| Principal::User(UserId(format!("u{u}")))).collect();
        let resources: Vec<ResourceQuery> = (0..users)
            .map(|u| ResourceQuery { reference: ResourceRef::new("conversation", format!("{u:024x}")), attributes: Default::default() })
            .collect();
        let n = 2_000_000;
        let pick = |i: u32| (i as usize * 7919) % users;
        time("allowed (own conversation, live grant)", n, |i| {
            let u = pick(i);
            o.check(&principals[u], perm::CONVERSATION_GET_MESSAGE, &resources[u], now)
        });
        time("denied (another user's conversation)", n, |i| {
            let u = pick(i);
            o.check(&principals[u], perm::CONVERSATION_GET_MESSAGE, &resources[(u + 1) % users], now)
        });
        time("denied (permission no grant carries)", n, |i| {
            let u = pick(i);
            o.check(&principals[u], perm::TRACES_READ, &resources[u], now)
        });
        let hot = users.min(1_000);
        time("allowed, a hot set of 1,000 users", n, |i| {
            let u = (i as usize * 7919) % hot;
            o.check(&principals[u], perm::CONVERSATION_GET_MESSAGE, &resources[u], now)
        });
        time("explain (allowed, with reasons)", n / 10, |i| {
            let u = pick(i);
            o.explain(cat, &principals[u], perm::CONVERSATION_GET_MESSAGE, &resources[u], now, &[]).allowed
        });
    }
}
