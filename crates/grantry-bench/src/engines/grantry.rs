//! Grantry's core: the decision index built from the changes the server would apply, asked
//! through `OrgState::check`, as `POST /check` does.

use super::Engine;
use crate::agents::Access;
use crate::jit::Jit;
use crate::workload::{Target, Who, Workload, T0};
use grantry_core::attr::Attributes;
use grantry_core::catalogue::{carried_grant, role, PermissionGrant};
use grantry_core::change::Change;
use grantry_core::condition::{Condition, Conditions};
use grantry_core::decision::ResourceQuery;
use grantry_core::ids::{ApiKeyId, GrantId, GroupId, OrgId, ScopeId, UserId};
use grantry_core::index::DecisionIndex;
use grantry_core::model::{
    AccessType, Actor, Agent, AgentPool, Anchor, ApiKey, Classification, Grant, GrantSource, GrantTarget, Group, GroupMember, GroupRole,
    GroupStatus, Org, Policy, Principal, Resource, ResourceRef, ScopeKind, ScopeNode, ScopeRef, User, UserStatus, AGENT, AGENT_POOL,
};
use grantry_core::Timestamp;

pub struct Grantry {
    ix: DecisionIndex,
    org: OrgId,
}

fn at(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn node_ref(w: &Workload, node: usize) -> ScopeRef {
    let id = ScopeId(w.nodes[node].id.clone());
    match w.nodes[node].kind {
        crate::workload::NodeKind::Workspace => ScopeRef::Workspace(id),
        crate::workload::NodeKind::Project => ScopeRef::Project(id),
        crate::workload::NodeKind::Environment => ScopeRef::Environment(id),
    }
}

/// The changes that make the workload's state, in the order a server would apply them.
pub fn changes(w: &Workload) -> Vec<Change> {
    let org = OrgId(w.org.clone());
    let t0 = at(T0);
    let mut out = vec![Change::OrgCreated {
        org: Org { id: org.clone(), slug: w.org.clone(), name: w.org.clone(), created_at: t0, policy: Policy::default() },
    }];
    for (i, n) in w.nodes.iter().enumerate() {
        let kind = match n.kind {
            crate::workload::NodeKind::Workspace => ScopeKind::Workspace,
            crate::workload::NodeKind::Project => ScopeKind::Project,
            crate::workload::NodeKind::Environment => ScopeKind::Environment,
        };
        let parent = n.parent.map_or(ScopeRef::Org, |p| node_ref(w, p));
        let node = ScopeNode {
            id: ScopeId(n.id.clone()),
            org: org.clone(),
            kind,
            slug: n.id.clone(),
            parent,
            is_production: n.is_prod,
            created_at: t0,
        };
        debug_assert_eq!(node.as_ref(), node_ref(w, i));
        out.push(Change::ScopeNodeCreated { node });
    }
    for (u, id) in w.users.iter().enumerate() {
        let user = User {
            id: UserId(id.clone()),
            org: org.clone(),
            email: format!("{id}@bench.test"),
            status: UserStatus::Active,
            created_at: t0,
        };
        out.push(Change::UserCreated { user });
        let attributes: Attributes =
            [("conversation_user_id".to_owned(), id.as_str().into()), ("org_id".to_owned(), w.org.as_str().into())].into();
        let reference = ResourceRef::new("conversation", w.conversation(u));
        out.push(Change::ResourceRegistered {
            resource: Resource { org: org.clone(), reference, parent: None, scope: ScopeRef::Org, attributes, created_at: t0 },
        });
    }
    for k in &w.keys {
        let key = ApiKey {
            id: ApiKeyId(k.id.clone()),
            org: org.clone(),
            name: k.id.clone(),
            project: ScopeId(w.nodes[k.project].id.clone()),
            created_by: Actor::System,
            created_at: t0,
            revoked_at: None,
            delegated_by: None,
            expires_at: None,
        };
        out.push(Change::ApiKeyCreated { key });
    }
    for t in &w.traces {
        let attributes: Attributes = [("is_prod".to_owned(), grantry_core::attr::AttrValue::Bool(w.nodes[t.env].is_prod))].into();
        let reference = ResourceRef::new("trace", t.id.clone());
        let scope = node_ref(w, t.env);
        out.push(Change::ResourceRegistered {
            resource: Resource { org: org.clone(), reference, parent: None, scope, attributes, created_at: t0 },
        });
    }
    let mut seq = 0u64;
    let mut grant = |principal: Principal, target: GrantTarget, anchor: Anchor, expires: Option<i64>| {
        seq += 1;
        Change::GrantCreated {
            grant: Grant {
                id: GrantId(format!("{seq:024x}")),
                org: org.clone(),
                principal,
                target,
                anchor,
                starts_at: t0,
                expires_at: expires.map(at),
                justification: expires.map(|_| "benchmark access request".to_owned()),
                tags: vec![],
                creator: Actor::System,
                source: GrantSource::Import,
                created_at: t0,
                revoked: None,
            },
        }
    };
    for r in &w.roles {
        let anchor = Anchor::Scope(r.at.map_or(ScopeRef::Org, |n| node_ref(w, n)));
        out.push(grant(Principal::User(UserId(w.users[r.user].clone())), GrantTarget::Role { role: r.role.to_owned() }, anchor, None));
    }
    for t in &w.temps {
        let conditions: Conditions = [
            ("conversation_user_id".to_owned(), Condition::Equals { value: w.users[t.owner].as_str().into() }),
            ("org_id".to_owned(), Condition::Equals { value: w.org.as_str().into() }),
        ]
        .into();
        let target = GrantTarget::Permission { grant: PermissionGrant { permission: t.permission.to_owned(), conditions } };
        out.push(grant(Principal::User(UserId(w.users[t.user].clone())), target, Anchor::Scope(ScopeRef::Org), Some(t.ends)));
    }
    for k in &w.keys {
        for p in &k.permissions {
            let target = GrantTarget::Permission { grant: carried_grant(p) };
            out.push(grant(Principal::ApiKey(ApiKeyId(k.id.clone())), target, Anchor::Scope(node_ref(w, k.project)), None));
        }
    }
    // Seed 003: groups, memberships and agents as the server writes them; the creator holds
    // `agent_creator` on their agent, and each assignment is the level's role granted to the group
    // on the agent, within its window.
    let a = &w.agents;
    let group_id = |g: usize| GroupId(a.groups[g].id.clone());
    for g in &a.groups {
        let group = Group {
            id: GroupId(g.id.clone()),
            org: org.clone(),
            name: g.id.clone(),
            description: String::new(),
            parent: g.parent.map(group_id),
            status: GroupStatus::Active,
            external_id: None,
            created_by: Actor::System,
            created_at: t0,
        };
        out.push(Change::GroupCreated { group });
    }
    for m in &a.memberships {
        let member = GroupMember {
            org: org.clone(),
            group: group_id(m.group),
            user: UserId(w.users[m.user].clone()),
            role: GroupRole::Member,
            added_at: t0,
            expires_at: m.ends.map(at),
        };
        out.push(Change::GroupMemberSet { member });
    }
    for x in &a.agents {
        let access_type = match x.access {
            Access::Organization => AccessType::Organization,
            Access::Group => AccessType::Group,
            Access::Private => AccessType::Private,
        };
        let created_by = format!("user:{}", w.users[x.creator]);
        let agent = Agent {
            id: x.id.clone(),
            name: x.id.clone(),
            description: String::new(),
            access_type,
            classification: Classification::Internal,
            created_by,
        };
        out.push(Change::ResourceRegistered {
            resource: Resource {
                org: org.clone(),
                reference: agent.reference(),
                parent: None,
                scope: ScopeRef::Org,
                attributes: agent.attributes(),
                created_at: t0,
            },
        });
        let target = GrantTarget::Role { role: role::AGENT_CREATOR.to_owned() };
        out.push(grant(Principal::User(UserId(w.users[x.creator].clone())), target, Anchor::Resource(agent.reference()), None));
    }
    // Seed 004 and issue 13: pools, each instance's pool role for its users on its pools, and
    // each approved request's pool role in its window — extended in place where it was.
    for id in &w.jit.pools {
        let pool = AgentPool { id: id.clone(), name: id.clone(), description: String::new(), created_by: "system".into() };
        let resource = Resource {
            org: org.clone(),
            reference: pool.reference(),
            parent: None,
            scope: ScopeRef::Org,
            attributes: pool.attributes(),
            created_at: t0,
        };
        out.push(Change::ResourceRegistered { resource });
    }
    let pool_ref = |p: usize| Anchor::Resource(ResourceRef::new(AGENT_POOL, w.jit.pools[p].clone()));
    for x in &w.jit.instances {
        for (&u, &p) in x.users.iter().flat_map(|u| x.pools.iter().map(move |p| (u, p))) {
            let target = GrantTarget::Role { role: Jit::role(x.privileged).to_owned() };
            let Change::GrantCreated { mut grant } = grant(Principal::User(UserId(w.users[u].clone())), target, pool_ref(p), Some(x.ends))
            else {
                continue;
            };
            grant.source = GrantSource::TemporaryAccessInstance;
            out.push(Change::GrantCreated { grant });
        }
    }
    for r in &w.jit.requests {
        let target = GrantTarget::Role { role: Jit::role(r.privileged).to_owned() };
        let Change::GrantCreated { mut grant } =
            grant(Principal::User(UserId(w.users[r.user].clone())), target, pool_ref(r.pool), Some(r.first_ends))
        else {
            continue;
        };
        grant.starts_at = at(r.starts);
        grant.source = GrantSource::AccessRequest;
        let id = grant.id.clone();
        out.push(Change::GrantCreated { grant });
        if r.ends != r.first_ends {
            out.push(Change::GrantExtended { org: org.clone(), id, expires_at: at(r.ends), at: t0 });
        }
    }
    for x in &a.assignments {
        let level = if x.edit { role::AGENT_EDITOR } else { role::AGENT_USER };
        let target = GrantTarget::Role { role: level.to_owned() };
        let Change::GrantCreated { mut grant } =
            grant(Principal::Group(group_id(x.group)), target, Anchor::Resource(agent_ref(w, x.agent)), None)
        else {
            continue;
        };
        grant.starts_at = at(x.starts);
        grant.expires_at = x.ends.map(at);
        grant.source = GrantSource::Assignment;
        out.push(Change::GrantCreated { grant });
    }
    out
}

fn agent_ref(w: &Workload, agent: usize) -> ResourceRef {
    ResourceRef::new(AGENT, w.agents.agents[agent].id.clone())
}

impl Grantry {
    /// The index after applying `changes`.
    pub fn build(w: &Workload, changes: &[Change]) -> anyhow::Result<Self> {
        let mut ix = DecisionIndex::default();
        ix.apply_all(1, changes)?;
        ix.shrink();
        Ok(Self { ix, org: OrgId(w.org.clone()) })
    }
}

pub struct Prepared {
    principal: Principal,
    permission: &'static str,
    resource: ResourceQuery,
    at: Timestamp,
}

impl Grantry {
    /// Times `lookup` — the first page of 100 conversations each asker may read messages of —
    /// for the first `n` queries that name a conversation: nanoseconds each (sorted), and the
    /// conversations listed in all.
    pub fn lookups(&self, w: &Workload, n: usize) -> (Vec<u64>, usize) {
        let Some(o) = self.ix.org(&self.org) else { return (Vec::new(), 0) };
        let (mut took, mut listed) = (Vec::with_capacity(n), 0);
        for q in w.queries.iter().filter(|q| matches!(q.target, Target::Conversation(_))).take(n) {
            let p = self.prepare(w, q);
            let started = std::time::Instant::now();
            let (page, _) =
                o.lookup(&p.principal, grantry_core::catalogue::perm::CONVERSATION_GET_MESSAGE, "conversation", p.at, None, 100);
            took.push(u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX));
            listed += page.len();
        }
        took.sort_unstable();
        (took, listed)
    }
}

impl Engine for Grantry {
    type Prepared = Prepared;

    fn name(&self) -> &'static str {
        "grantry"
    }

    fn prepare(&self, w: &Workload, q: &crate::workload::Query) -> Prepared {
        let principal = match q.who {
            Who::User(u) => Principal::User(UserId(w.users[u].clone())),
            Who::Key(k) => Principal::ApiKey(ApiKeyId(w.keys[k].id.clone())),
        };
        let reference = match q.target {
            Target::Conversation(u) => ResourceRef::new("conversation", w.conversation(u)),
            Target::Trace(t) => ResourceRef::new("trace", w.traces[t].id.clone()),
            Target::Agent(a) => agent_ref(w, a),
            Target::Pool(p) => ResourceRef::new(AGENT_POOL, w.jit.pools[p].clone()),
        };
        Prepared { principal, permission: q.permission, resource: ResourceQuery { reference, attributes: Attributes::new() }, at: at(q.at) }
    }

    fn check(&self, p: &Prepared) -> bool {
        self.ix.org(&self.org).is_some_and(|o| o.check(&p.principal, p.permission, &p.resource, p.at))
    }
}
