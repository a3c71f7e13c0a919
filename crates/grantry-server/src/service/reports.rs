//! Seed 003's permission reports, read from the index as it stands: the agent access matrix
//! (which users reach which agents, how, and through which groups — each cell the engine's own
//! decision), group membership (users per group, groups per user), and permission coverage
//! (users with no agent, agents with no group, inactive users still in groups).

use super::assignments::assignments_of_agent;
use super::Ctx;
use grantry_core::catalogue::perm;
use grantry_core::decision::ResourceQuery;
use grantry_core::index::OrgState;
use grantry_core::model::{AccessType, Agent, Principal, UserStatus, AGENT};

/// One user's reach of one agent.
#[derive(Debug, Clone)]
pub struct MatrixCell {
    pub user: String,
    pub agent: String,
    pub agent_id: String,
    /// `Agent:Use` as the engine decides it now.
    pub can_use: bool,
    /// `Agent:Edit` as the engine decides it now.
    pub can_edit: bool,
    /// How: `group`, `organization-wide` or `role` (an admin's or the creator's).
    pub how: &'static str,
    /// The assigned groups (open now) that reach the user.
    pub groups: Vec<String>,
}

fn agents(o: &OrgState) -> Vec<Agent> {
    let mut all: Vec<Agent> = o.resources_of(AGENT).iter().filter_map(Agent::of).collect();
    all.sort_by_key(|a| grantry_core::validate::name_key(&a.name));
    all
}

/// The access matrix: a cell for every active user and every agent they may use.
pub fn access_matrix(o: &OrgState, ctx: &Ctx) -> Vec<MatrixCell> {
    let now = ctx.now;
    let agents: Vec<(Agent, Vec<_>)> = agents(o).into_iter().map(|a| (a.clone(), assignments_of_agent(o, &a))).collect();
    let mut cells = Vec::new();
    for user in o.users().into_iter().filter(|u| u.status == UserStatus::Active) {
        let who = Principal::User(user.id.clone());
        let through: Vec<_> = o.groups_through(&who, now).into_iter().map(|(g, _)| g).collect();
        for (agent, assigned) in &agents {
            let query = ResourceQuery { reference: agent.reference(), attributes: Default::default() };
            let can_use = o.check(&who, perm::AGENT_USE, &query, now);
            if !can_use {
                continue;
            }
            let groups: Vec<String> = assigned
                .iter()
                .filter(|a| a.grant.is_active(now) && through.contains(&a.group.id) && agent.access_type != AccessType::Private)
                .map(|a| a.group.name.clone())
                .collect();
            let how = match (groups.is_empty(), agent.access_type) {
                (false, _) => "group",
                (true, AccessType::Organization) => "organization-wide",
                (true, _) => "role",
            };
            let can_edit = o.check(&who, perm::AGENT_EDIT, &query, now);
            cells.push(MatrixCell {
                user: user.email.clone(),
                agent: agent.name.clone(),
                agent_id: agent.id.clone(),
                can_use,
                can_edit,
                how,
                groups,
            });
        }
    }
    cells
}

/// A name and what it lists: a group's members, a user's groups.
pub type Listing = (String, Vec<String>);

/// Group membership: each group's members (emails, with their role), and each user's groups.
pub fn memberships(o: &OrgState) -> (Vec<Listing>, Vec<Listing>) {
    let by_group = o
        .groups()
        .into_iter()
        .map(|g| {
            let members = o.members(&g.id).into_iter().filter_map(|m| o.user(&m.user).map(|u| format!("{} ({})", u.email, m.role.name())));
            (g.name.clone(), members.collect())
        })
        .collect();
    let by_user = o
        .users()
        .into_iter()
        .map(|u| {
            let groups = o.memberships_of(&u.id).into_iter().filter_map(|m| o.group(&m.group).map(|g| g.name.clone()));
            (u.email.clone(), groups.collect())
        })
        .collect();
    (by_group, by_user)
}

/// Permission coverage.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    /// Active users who may use no agent.
    pub users_without_agents: Vec<String>,
    /// Agents (not organization-wide) with no group assigned.
    pub agents_without_groups: Vec<String>,
    /// Suspended users still in groups, with the groups.
    pub inactive_users_in_groups: Vec<Listing>,
}

/// The coverage report, from the same decisions as the matrix.
pub fn coverage(o: &OrgState, ctx: &Ctx) -> Coverage {
    let matrix = access_matrix(o, ctx);
    let users_without_agents = o
        .users()
        .into_iter()
        .filter(|u| u.status == UserStatus::Active && !matrix.iter().any(|c| c.user == u.email))
        .map(|u| u.email.clone())
        .collect();
    let agents_without_groups = agents(o)
        .into_iter()
        .filter(|a| a.access_type != AccessType::Organization && assignments_of_agent(o, a).is_empty())
        .map(|a| a.name)
        .collect();
    let inactive_users_in_groups = o
        .users()
        .into_iter()
        .filter(|u| u.status != UserStatus::Active)
        .map(|u| {
            (
                u.email.clone(),
                o.memberships_of(&u.id).into_iter().filter_map(|m| o.group(&m.group).map(|g| g.name.clone())).collect::<Vec<_>>(),
            )
        })
        .filter(|(_, groups)| !groups.is_empty())
        .collect();
    Coverage { users_without_agents, agents_without_groups, inactive_users_in_groups }
}
