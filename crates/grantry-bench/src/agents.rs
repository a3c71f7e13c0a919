//! Seed 003 in the workload: groups in trees three deep, memberships (some ending during the run),
//! agents of each access type with their creators, and assignments of groups to agents at a
//! level, some within windows that open or close during the run; and checks of `Agent:Use` and
//! `Agent:Edit`, each with the answer the seed's rules give, worked out here on their own (not by
//! the engine). The peers do not model groups and agents; these checks run on Grantry alone and
//! are compared with these answers.

use crate::workload::{Micros, Query, Rng, Target, Who, RUN_LENGTH, RUN_START, T0};
use grantry_core::catalogue::perm::{AGENT_EDIT, AGENT_USE};
use grantry_core::catalogue::role;

/// A group; `parent` is an index into the groups, parents before children.
#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub parent: Option<usize>,
}

/// A user's membership of a group, until `ends` if it ends.
#[derive(Debug, Clone)]
pub struct Membership {
    pub user: usize,
    pub group: usize,
    pub ends: Option<Micros>,
}

/// An agent's access type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Organization,
    Group,
    Private,
}

#[derive(Debug, Clone)]
pub struct Agent {
    pub id: String,
    pub access: Access,
    pub creator: usize,
}

/// A group's assignment to an agent: `EDIT` or `VIEW_AND_USE`, from `starts` until `ends`.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub agent: usize,
    pub group: usize,
    pub edit: bool,
    pub starts: Micros,
    pub ends: Option<Micros>,
}

/// Seed 003's part of the workload, and its checks with their answers.
#[derive(Debug, Clone, Default)]
pub struct Agents {
    pub groups: Vec<Group>,
    pub memberships: Vec<Membership>,
    pub agents: Vec<Agent>,
    pub assignments: Vec<Assignment>,
    pub queries: Vec<Query>,
    pub expected: Vec<bool>,
    /// Each user's memberships, and each agent's assignments (indexes), for the answers.
    by_user: Vec<Vec<usize>>,
    by_agent: Vec<Vec<usize>>,
}

/// An instant somewhere in the run.
fn during(rng: &mut Rng) -> Micros {
    RUN_START + i64::try_from(rng.below(usize::try_from(RUN_LENGTH / 1_000_000).unwrap_or(1))).unwrap_or(0) * 1_000_000
}

impl Agents {
    /// Builds the groups and agents of `users` users (whose tier roles are `roles`), and `checks` checks.
    pub fn build(users: usize, roles: &[&'static str], checks: usize, rng: &mut Rng) -> Self {
        let mut a = Self::default();
        // Trees of seven: a top group, two children, four grandchildren.
        for t in 0..(users / 50).max(1) {
            let top = a.groups.len();
            a.groups.push(Group { id: format!("g{t}"), parent: None });
            for c in 0..2 {
                let child = a.groups.len();
                a.groups.push(Group { id: format!("g{t}-{c}"), parent: Some(top) });
                for g in 0..2 {
                    a.groups.push(Group { id: format!("g{t}-{c}-{g}"), parent: Some(child) });
                }
            }
        }
        // Most users in one group, some in two; one membership in five ends during the run.
        for user in 0..users {
            for _ in 0..(1 + usize::from(rng.chance(0.3))) {
                let group = rng.below(a.groups.len());
                if a.memberships.iter().rev().take(2).any(|m| m.user == user && m.group == group) {
                    continue;
                }
                let ends = rng.chance(0.2).then(|| during(rng));
                a.memberships.push(Membership { user, group, ends });
            }
        }
        for i in 0..(users / 20).max(1) {
            let access = match rng.below(10) {
                0..=1 => Access::Organization,
                2..=8 => Access::Group,
                _ => Access::Private,
            };
            a.agents.push(Agent { id: format!("agent{i:06}"), access, creator: rng.below(users) });
            // One to three groups each, a third within a window that opens or closes in the run.
            for _ in 0..1 + rng.below(3) {
                let (starts, ends) = match rng.below(6) {
                    0 => (during(rng), None),
                    1 => (T0, Some(during(rng))),
                    _ => (T0, None),
                };
                let group = rng.below(a.groups.len());
                if a.assignments.iter().any(|x| x.agent == i && x.group == group) {
                    continue;
                }
                a.assignments.push(Assignment { agent: i, group, edit: rng.chance(0.3), starts, ends });
            }
        }
        a.by_user = vec![Vec::new(); users];
        for (i, m) in a.memberships.iter().enumerate() {
            a.by_user[m.user].push(i);
        }
        a.by_agent = vec![Vec::new(); a.agents.len()];
        for (i, x) in a.assignments.iter().enumerate() {
            a.by_agent[x.agent].push(i);
        }
        a.queries = a.checks(users, checks, rng);
        a.expected = a.queries.iter().map(|q| a.answer(roles, q)).collect();
        a
    }

    /// Checks by users, of agents their groups were assigned mostly, some of any agent.
    fn checks(&self, users: usize, count: usize, rng: &mut Rng) -> Vec<Query> {
        let mut by_group: Vec<Vec<usize>> = vec![Vec::new(); self.groups.len()];
        for x in &self.assignments {
            by_group[x.group].push(x.agent);
        }
        (0..count)
            .map(|i| {
                let at = RUN_START + RUN_LENGTH * i64::try_from(i).unwrap_or(0) / i64::try_from(count.max(1)).unwrap_or(1);
                let m = &self.memberships[rng.below(self.memberships.len())];
                let (user, mut agent) = (m.user, rng.below(self.agents.len()));
                if rng.chance(0.7) {
                    // An agent assigned to the group or one above it.
                    let line: Vec<usize> = self.up(m.group).collect();
                    let g = line[rng.below(line.len())];
                    if let Some(&x) = by_group[g].get(rng.below(by_group[g].len().max(1))) {
                        agent = x;
                    }
                }
                let user = if rng.chance(0.1) { rng.below(users) } else { user };
                let permission = if rng.chance(0.25) { AGENT_EDIT } else { AGENT_USE };
                Query { who: Who::User(user), permission, target: Target::Agent(agent), at }
            })
            .collect()
    }

    /// `group` and the groups above it, nearest first.
    pub fn up(&self, group: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(Some(group), |g| self.groups[*g].parent)
    }

    /// The seed's answer: an admin may do anything with every agent, its creator with theirs; a
    /// member uses the organization-wide agents; a group's members (and its child groups'), while
    /// the membership lasts, use an agent (not a private one) assigned to the group within its
    /// window, and edit it when the assignment is `EDIT`.
    fn answer(&self, roles: &[&'static str], q: &Query) -> bool {
        let (Who::User(user), Target::Agent(agent)) = (q.who, q.target) else { return false };
        let (edit, a) = (q.permission == AGENT_EDIT, &self.agents[agent]);
        if roles[user] == role::ORG_ADMIN || a.creator == user {
            return true;
        }
        if !edit && a.access == Access::Organization && roles[user] == role::ORG_MEMBER {
            return true;
        }
        if a.access == Access::Private {
            return false;
        }
        let open = |x: &&Assignment| (x.edit || !edit) && x.starts <= q.at && x.ends.is_none_or(|e| q.at < e);
        let reached: Vec<usize> = self.by_user[user]
            .iter()
            .map(|&i| &self.memberships[i])
            .filter(|m| m.ends.is_none_or(|e| q.at < e))
            .flat_map(|m| self.up(m.group))
            .collect();
        self.by_agent[agent].iter().map(|&i| &self.assignments[i]).filter(open).any(|x| reached.contains(&x.group))
    }
}
