//! The seeded workload every engine is given: one organization → workspaces → projects →
//! environments; users, each with one tier role and three conversation access requests (a third
//! expired before the run, a third ending during it, a third live), every request the seed's
//! three conversation permissions bound to one owner; API keys with scope grants on their project;
//! conversations and traces; and the checks, with Zipf-skewed principals, about three in four
//! allowed, each at its own instant of the run; seed 003's groups and agents (`agents.rs`); and
//! seed 004's pools with issue 13's instances and access requests (`jit.rs`).
//! The same seed gives the same workload.

use crate::agents::Agents;
use crate::jit::Jit;
use grantry_core::catalogue::perm::{TRACES_READ, TRACES_READ_PROD};
use grantry_core::catalogue::{role, CONVERSATION_ACCESS};

/// The sizes of the issue: S, M and L.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Size {
    S,
    M,
    L,
}

impl Size {
    /// How many users; grants are about ten per user.
    pub fn users(self) -> usize {
        match self {
            Self::S => 1_000,
            Self::M => 10_000,
            Self::L => 100_000,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::S => "S",
            Self::M => "M",
            Self::L => "L",
        }
    }
}

/// Microseconds since the epoch, the unit of every instant here.
pub type Micros = i64;

pub const HOUR: Micros = 3_600_000_000;
/// The run's virtual clock: checks are spread over this window.
pub const RUN_START: Micros = 1_900_000_000_000_000;
pub const RUN_LENGTH: Micros = 2 * HOUR;
/// When every grant was made.
pub const T0: Micros = RUN_START - 3 * HOUR;

/// A node of the scope tree: workspaces, projects and environments, parents before children.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    /// Index of the parent node, `None` for a workspace (its parent is the organization).
    pub parent: Option<usize>,
    pub kind: NodeKind,
    pub is_prod: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Workspace,
    Project,
    Environment,
}

/// Who holds a grant or asks a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    User(usize),
    Key(usize),
}

/// Where a role is held: the organization or a node.
pub type At = Option<usize>;

/// A permanent tier role.
#[derive(Debug, Clone)]
pub struct RoleHold {
    pub user: usize,
    pub role: &'static str,
    pub at: At,
}

/// A temporary conversation grant: one permission, bound to one owner's conversations.
#[derive(Debug, Clone)]
pub struct Temp {
    pub user: usize,
    pub owner: usize,
    pub permission: &'static str,
    pub ends: Micros,
}

/// An API key of a project, with the permissions of its scope grants there.
#[derive(Debug, Clone)]
pub struct Key {
    pub id: String,
    pub project: usize,
    pub permissions: Vec<&'static str>,
}

/// A trace, captured in an environment.
#[derive(Debug, Clone)]
pub struct Trace {
    pub id: String,
    pub env: usize,
}

/// What a check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The conversation of this user (each user owns one).
    Conversation(usize),
    Trace(usize),
    /// An agent (seed 003); only Grantry is asked about agents.
    Agent(usize),
    /// An agent pool (seed 004); only Grantry is asked about pools.
    Pool(usize),
}

/// One check.
#[derive(Debug, Clone, Copy)]
pub struct Query {
    pub who: Who,
    pub permission: &'static str,
    pub target: Target,
    pub at: Micros,
}

/// The whole workload.
#[derive(Debug, Clone)]
pub struct Workload {
    pub size: Size,
    pub org: String,
    pub users: Vec<String>,
    pub nodes: Vec<Node>,
    pub roles: Vec<RoleHold>,
    pub temps: Vec<Temp>,
    pub keys: Vec<Key>,
    pub traces: Vec<Trace>,
    pub queries: Vec<Query>,
    /// Groups, agents and assignments, and the agent checks with their answers.
    pub agents: Agents,
    /// Agent pools, temporary access instances and access requests, and the pool checks with
    /// their answers.
    pub jit: Jit,
}

impl Workload {
    /// How many grants the workload makes: roles, temporary grants, key scopes, and the agents'
    /// creators' and assignments' grants.
    pub fn grants(&self) -> usize {
        self.roles.len()
            + self.temps.len()
            + self.keys.iter().map(|k| k.permissions.len()).sum::<usize>()
            + self.agents.agents.len()
            + self.agents.assignments.len()
            + self.jit.grants()
    }

    /// The chain of nodes above `node` (itself first), ending below the organization.
    pub fn chain(&self, node: usize) -> Vec<usize> {
        let mut out = vec![node];
        let mut at = node;
        while let Some(p) = self.nodes.get(at).and_then(|n| n.parent) {
            out.push(p);
            at = p;
        }
        out
    }

    /// The conversation id of user `u`'s conversation.
    pub fn conversation(&self, u: usize) -> String {
        format!("{u:024x}")
    }
}

/// splitmix64: small, fast, and the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// Zipf over ranks `0..n` with exponent 1: a few principals ask most checks.
struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    fn new(n: usize) -> Self {
        let mut total = 0.0;
        let cdf = (1..=n)
            .map(|k| {
                total += 1.0 / k as f64;
                total
            })
            .collect::<Vec<_>>();
        Self { cdf: cdf.into_iter().map(|c| c / total).collect() }
    }

    fn sample(&self, rng: &mut Rng) -> usize {
        let x = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        self.cdf.partition_point(|c| *c < x).min(self.cdf.len().saturating_sub(1))
    }
}

/// Builds the workload of `size` with `checks` checks.
pub fn build(size: Size, checks: usize, seed: u64) -> Workload {
    let mut rng = Rng::new(seed);
    let n = size.users();
    let users: Vec<String> = (0..n).map(|u| format!("u{u:07}")).collect();
    let mut nodes = Vec::new();
    let workspaces = 4 + n / 2_000;
    for w in 0..workspaces {
        nodes.push(Node { id: format!("ws{w}"), parent: None, kind: NodeKind::Workspace, is_prod: false });
        let ws = nodes.len() - 1;
        for p in 0..4 {
            nodes.push(Node { id: format!("ws{w}-p{p}"), parent: Some(ws), kind: NodeKind::Project, is_prod: false });
            let prj = nodes.len() - 1;
            for (e, prod) in [("prod", true), ("staging", false), ("dev", false)] {
                nodes.push(Node { id: format!("ws{w}-p{p}-{e}"), parent: Some(prj), kind: NodeKind::Environment, is_prod: prod });
            }
        }
    }
    let of_kind = |kind: NodeKind| nodes.iter().enumerate().filter(|(_, x)| x.kind == kind).map(|(i, _)| i).collect::<Vec<_>>();
    let (wss, prjs, envs) = (of_kind(NodeKind::Workspace), of_kind(NodeKind::Project), of_kind(NodeKind::Environment));
    let mut roles = Vec::with_capacity(n);
    for user in 0..n {
        let roll = rng.below(100);
        let (role, at) = match roll {
            0..=1 => (role::ORG_ADMIN, None),
            2..=9 => (role::WORKSPACE_ADMIN, Some(wss[rng.below(wss.len())])),
            10..=19 => (role::PROJECT_DEVELOPER, Some(prjs[rng.below(prjs.len())])),
            20..=29 => (role::PROJECT_ADMIN, Some(prjs[rng.below(prjs.len())])),
            _ => (role::ORG_MEMBER, None),
        };
        roles.push(RoleHold { user, role, at });
    }
    let mut temps = Vec::with_capacity(n * 9);
    for user in 0..n {
        for request in 0..3 {
            let owner = (user + 1 + rng.below(n - 1)) % n;
            let ends = match request {
                0 => T0 + HOUR,
                1 => RUN_START + i64::try_from(rng.below(usize::try_from(RUN_LENGTH / 1_000_000).unwrap_or(1))).unwrap_or(0) * 1_000_000,
                _ => RUN_START + RUN_LENGTH + 24 * HOUR,
            };
            for permission in CONVERSATION_ACCESS {
                temps.push(Temp { user, owner, permission, ends });
            }
        }
    }
    let keys: Vec<Key> = (0..n / 100)
        .map(|k| {
            let permissions = if k % 2 == 0 { vec![TRACES_READ] } else { vec![TRACES_READ, TRACES_READ_PROD] };
            Key { id: format!("k{k:06}"), project: prjs[rng.below(prjs.len())], permissions }
        })
        .collect();
    let traces: Vec<Trace> = envs.iter().flat_map(|&env| (0..4).map(move |t| Trace { id: format!("t{env}-{t}"), env })).collect();
    let mut w = Workload {
        size,
        org: "bench".into(),
        users,
        nodes,
        roles,
        temps,
        keys,
        traces,
        queries: Vec::new(),
        agents: Agents::default(),
        jit: Jit::default(),
    };
    w.queries = queries(&w, checks, &mut rng);
    let held: Vec<&'static str> = w.roles.iter().map(|r| r.role).collect();
    w.agents = Agents::build(w.users.len(), &held, checks / 4, &mut rng);
    w.jit = Jit::build(w.users.len(), &held, checks / 4, &mut rng);
    w
}

/// The checks: principals by Zipf rank, mostly conversations they asked for, some traces.
fn queries(w: &Workload, count: usize, rng: &mut Rng) -> Vec<Query> {
    let n = w.users.len();
    let zipf = Zipf::new(n);
    // Rank → user, shuffled, so the hot users are spread over the id space.
    let mut rank: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        rank.swap(i, rng.below(i + 1));
    }
    // The traces under each node, and all of them under the organization.
    let mut under: Vec<Vec<usize>> = vec![Vec::new(); w.nodes.len()];
    for (i, t) in w.traces.iter().enumerate() {
        for node in w.chain(t.env) {
            under[node].push(i);
        }
    }
    let traces_in = |node: usize| -> &[usize] { under.get(node).map_or(&[], Vec::as_slice) };
    (0..count)
        .map(|i| {
            let at = RUN_START + RUN_LENGTH * i64::try_from(i).unwrap_or(0) / i64::try_from(count.max(1)).unwrap_or(1);
            let permission_of = |rng: &mut Rng, list: &[&'static str]| list[rng.below(list.len())];
            if !w.keys.is_empty() && rng.chance(0.05) {
                let k = rng.below(w.keys.len());
                let key = &w.keys[k];
                let scope = if rng.chance(0.8) { key.project } else { rng.below(w.nodes.len()) };
                let pool = traces_in(scope);
                let target = Target::Trace(pool.get(rng.below(pool.len())).copied().unwrap_or(0));
                return Query { who: Who::Key(k), permission: permission_of(rng, &[TRACES_READ, TRACES_READ_PROD]), target, at };
            }
            let user = rank[zipf.sample(rng)];
            if rng.chance(0.85) {
                // A conversation: of the live request's owner mostly, else the one ending during
                // the run, the expired one, or someone never asked for.
                let mine = |request: usize| w.temps[(user * 3 + request) * 3].owner;
                let roll = rng.below(100);
                let owner = match roll {
                    0..=79 => mine(2),
                    80..=87 => mine(1),
                    88..=93 => mine(0),
                    _ => rng.below(n),
                };
                Query {
                    who: Who::User(user),
                    permission: permission_of(rng, &CONVERSATION_ACCESS),
                    target: Target::Conversation(owner),
                    at,
                }
            } else {
                // A trace: where the user's role is held, mostly.
                let held = w.roles[user].at;
                let scope = match held {
                    Some(node) if rng.chance(0.8) => node,
                    _ => rng.below(w.nodes.len()),
                };
                let pool = traces_in(scope);
                let target = Target::Trace(pool.get(rng.below(pool.len())).copied().unwrap_or(0));
                Query { who: Who::User(user), permission: permission_of(rng, &[TRACES_READ, TRACES_READ_PROD]), target, at }
            }
        })
        .collect()
}
