//! Seed 004 and issue 13's just-in-time access in the workload: agent pools; temporary access
//! instances (standard or privileged, a few users × a few pools, a third ending during the run);
//! and approved access requests for a pool role (two in five booked to start during the run, one
//! in four extended in place, many ending during the run); and checks of `AgentPool:Use` and
//! `AgentPool:IgnoreQuota`, each with the answer issue 13's rules give, worked out here on their
//! own. Like the agent checks, these run on Grantry alone.

use crate::workload::{Micros, Query, Rng, Target, Who, HOUR, RUN_LENGTH, RUN_START, T0};
use grantry_core::catalogue::perm::{AGENT_POOL_IGNORE_QUOTA, AGENT_POOL_USE};
use grantry_core::catalogue::role;

/// A temporary access instance: its role on its pools for its users, until `ends`.
#[derive(Debug, Clone)]
pub struct Instance {
    pub privileged: bool,
    pub users: Vec<usize>,
    pub pools: Vec<usize>,
    pub ends: Micros,
}

/// An approved access request for a pool role: from `starts` until `ends` (first approved until
/// `first_ends`, then extended when the two differ).
#[derive(Debug, Clone)]
pub struct Request {
    pub user: usize,
    pub pool: usize,
    pub privileged: bool,
    pub starts: Micros,
    pub first_ends: Micros,
    pub ends: Micros,
}

/// The just-in-time part of the workload, and its checks with their answers.
#[derive(Debug, Clone, Default)]
pub struct Jit {
    /// The pools' ids.
    pub pools: Vec<String>,
    pub instances: Vec<Instance>,
    pub requests: Vec<Request>,
    pub queries: Vec<Query>,
    pub expected: Vec<bool>,
}

/// An instant somewhere in the run, to the second.
fn during(rng: &mut Rng) -> Micros {
    RUN_START + i64::try_from(rng.below(usize::try_from(RUN_LENGTH / 1_000_000).unwrap_or(1))).unwrap_or(0) * 1_000_000
}

impl Jit {
    /// Builds the pools, instances and requests of `users` users (whose tier roles are `roles`),
    /// and `checks` checks.
    pub fn build(users: usize, roles: &[&'static str], checks: usize, rng: &mut Rng) -> Self {
        let mut j = Self { pools: (0..(users / 100).max(2)).map(|i| format!("pool{i:06}")).collect(), ..Self::default() };
        let pools = j.pools.len();
        for _ in 0..(pools / 2).max(1) {
            let mut users: Vec<usize> = (0..1 + rng.below(8)).map(|_| rng.below(users)).collect();
            let mut pools: Vec<usize> = (0..1 + rng.below(4)).map(|_| rng.below(pools)).collect();
            users.sort_unstable();
            users.dedup();
            pools.sort_unstable();
            pools.dedup();
            let ends = if rng.chance(0.33) { during(rng) } else { RUN_START + RUN_LENGTH + 24 * HOUR };
            j.instances.push(Instance { privileged: rng.chance(0.3), users, pools, ends });
        }
        for _ in 0..(users / 10).max(1) {
            let starts = if rng.chance(0.4) { during(rng) } else { T0 };
            let first_ends = starts + HOUR * i64::try_from(1 + rng.below(3)).unwrap_or(1);
            let ends = if rng.chance(0.25) { first_ends + HOUR } else { first_ends };
            j.requests.push(Request {
                user: rng.below(users),
                pool: rng.below(pools),
                privileged: rng.chance(0.1),
                starts,
                first_ends,
                ends,
            });
        }
        j.queries = j.checks(users, checks, rng);
        j.expected = j.queries.iter().map(|q| j.answer(roles, q)).collect();
        j
    }

    /// Checks by users of pools they were given (mostly) or of any pool.
    fn checks(&self, users: usize, count: usize, rng: &mut Rng) -> Vec<Query> {
        (0..count)
            .map(|i| {
                let at = RUN_START + RUN_LENGTH * i64::try_from(i).unwrap_or(0) / i64::try_from(count.max(1)).unwrap_or(1);
                let (user, pool) = match rng.below(10) {
                    0..=3 => {
                        let x = &self.instances[rng.below(self.instances.len())];
                        (x.users[rng.below(x.users.len())], x.pools[rng.below(x.pools.len())])
                    }
                    4..=7 => {
                        let r = &self.requests[rng.below(self.requests.len())];
                        (r.user, r.pool)
                    }
                    _ => (rng.below(users), rng.below(self.pools.len())),
                };
                let permission = if rng.chance(0.25) { AGENT_POOL_IGNORE_QUOTA } else { AGENT_POOL_USE };
                Query { who: Who::User(user), permission, target: Target::Pool(pool), at }
            })
            .collect()
    }

    /// Issue 13's answer: an organization admin uses every pool and ignores its quota; others,
    /// through an instance or an approved request in force at the instant, use the pool, and
    /// ignore its quota only when privileged.
    fn answer(&self, roles: &[&'static str], q: &Query) -> bool {
        let (Who::User(user), Target::Pool(pool)) = (q.who, q.target) else { return false };
        if roles[user] == role::ORG_ADMIN {
            return true;
        }
        let enough = |privileged: bool| privileged || q.permission == AGENT_POOL_USE;
        let by_instance =
            self.instances.iter().any(|x| q.at < x.ends && enough(x.privileged) && x.users.contains(&user) && x.pools.contains(&pool));
        let by_request =
            self.requests.iter().any(|r| r.user == user && r.pool == pool && enough(r.privileged) && r.starts <= q.at && q.at < r.ends);
        by_instance || by_request
    }

    /// The pool role `privileged` names.
    pub fn role(privileged: bool) -> &'static str {
        if privileged {
            role::POOL_PRIVILEGED
        } else {
            role::POOL_STANDARD
        }
    }

    /// How many grants it makes: users × pools per instance, one per request.
    pub fn grants(&self) -> usize {
        self.instances.iter().map(|x| x.users.len() * x.pools.len()).sum::<usize>() + self.requests.len()
    }
}
