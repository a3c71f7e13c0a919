//! Bulk changes across groups (seed 003): users and agents added to or removed from several
//! groups in one call — every user to every group, every agent to every group — planned whole
//! against the index and written as one batch (one transaction), or refused with nothing written.
//! Each pair is authorized as its single change would be. A pair already as asked is
//! `unchanged`; removing a user who is not in a group, or an agent the group is not assigned to,
//! is `unchanged` too, since several groups rarely hold the same people. Agents may be assigned
//! to a group that has no members yet when the same call adds users to it.

use super::agents::visible_agent;
use super::assignments::{plan_assign, resolve, taken_away, Mode, Named, Span};
use super::groups::find_group;
use super::members::{joinable, managed_group, plan_join, plan_leave, users};
use super::planned::{run, ImportReport, Outcome, Plan};
use super::{org, Ctx};
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::ids::UserId;
use grantry_core::index::DecisionIndex;
use grantry_core::model::{Agent, Group, GroupRole, Level};
use grantry_core::Timestamp;

/// The most groups one call changes.
pub const MAX_GROUPS_AT_ONCE: usize = 100;
/// The most agents one call adds or removes.
pub const MAX_AGENTS_AT_ONCE: usize = 1_000;
/// The most (group, user or agent) pairs one call touches.
pub const MAX_PAIRS: usize = 20_000;

/// What a bulk change asks.
#[derive(Debug, Clone)]
pub struct BulkSpec {
    /// The groups, by id or name.
    pub groups: Vec<String>,
    /// Users (ids or emails) added to every group, as `role` until `member_until`.
    pub add_users: Vec<String>,
    /// Users taken out of every group.
    pub remove_users: Vec<String>,
    pub role: GroupRole,
    pub member_until: Option<Timestamp>,
    /// Agents (ids or names) every group is assigned to, at `level` within `window`.
    pub add_agents: Vec<String>,
    /// Agents every group's assignment to is taken away.
    pub remove_agents: Vec<String>,
    pub level: Level,
    pub window: Span,
}

fn invalid(field: &str, message: String) -> ServiceError {
    ServiceError::Invalid { field: field.into(), message }
}

/// The request's shape, checked before anything is looked up.
fn checked(spec: &BulkSpec) -> Result<()> {
    if spec.groups.is_empty() || spec.groups.len() > MAX_GROUPS_AT_ONCE {
        return Err(invalid("groupIds", format!("give 1 to {MAX_GROUPS_AT_ONCE} groups; {} were given", spec.groups.len())));
    }
    for (field, list) in [("addAgentIds", &spec.add_agents), ("removeAgentIds", &spec.remove_agents)] {
        if list.len() > MAX_AGENTS_AT_ONCE {
            return Err(invalid(field, format!("give at most {MAX_AGENTS_AT_ONCE} agents; {} were given", list.len())));
        }
    }
    let each = spec.add_users.len() + spec.remove_users.len() + spec.add_agents.len() + spec.remove_agents.len();
    if each == 0 {
        return Err(invalid("addUserIds", "nothing to do: give users or agents to add or remove".into()));
    }
    if each.saturating_mul(spec.groups.len()) > MAX_PAIRS {
        return Err(invalid("groupIds", format!("this touches more than {MAX_PAIRS} (group, user or agent) pairs; split it")));
    }
    Ok(())
}

/// The groups the spec names, each once, in the order given.
fn groups<'a>(ix: &'a DecisionIndex, ctx: &Ctx, texts: &[String]) -> Result<Vec<&'a Group>> {
    let o = org(ix, &ctx.org)?;
    ctx.authorize(ix, grantry_core::authz::Action::ListGroups)?;
    let mut out: Vec<&Group> = Vec::with_capacity(texts.len());
    for text in texts {
        let g = find_group(o, text).map_err(ServiceError::named_in("groupIds"))?;
        if !out.iter().any(|seen| seen.id == g.id) {
            out.push(g);
        }
    }
    Ok(out)
}

/// The agents `texts` name that the actor may see, each once, in the order given.
fn agents(ix: &DecisionIndex, ctx: &Ctx, field: &'static str, texts: &[String]) -> Result<Vec<Agent>> {
    let mut out: Vec<Agent> = Vec::with_capacity(texts.len());
    for text in texts {
        let (a, _) = visible_agent(ix, ctx, text).map_err(ServiceError::named_in(field))?;
        if !out.iter().any(|seen| seen.id == a.id) {
            out.push(a);
        }
    }
    Ok(out)
}

/// Refuses what is both added and removed, however each names it.
fn once<T>(field: &str, add: &[T], remove: &[T], same: impl Fn(&T, &T) -> bool, shown: impl Fn(&T) -> String) -> Result<()> {
    match remove.iter().find(|r| add.iter().any(|a| same(a, r))) {
        Some(both) => Err(invalid(field, format!("`{}` is both added and removed; give it once", shown(both)))),
        None => Ok(()),
    }
}

/// Plans the whole change against `ix`. The groups are looked up and authorized first, so that
/// which users and agents exist is told only to someone who may manage every one of them.
fn plan(ix: &DecisionIndex, ctx: &Ctx, spec: &BulkSpec) -> Result<Plan> {
    let o = org(ix, &ctx.org)?;
    let groups = groups(ix, ctx, &spec.groups)?;
    let permits = groups.iter().map(|g| managed_group(ix, ctx, g.id.as_str()).map(|(_, p)| p)).collect::<Result<Vec<_>>>()?;
    let named = |field, texts: &[String]| if texts.is_empty() { Ok(vec![]) } else { users(o, field, texts) };
    let (add_users, remove_users) = (named("addUserIds", &spec.add_users)?, named("removeUserIds", &spec.remove_users)?);
    once("removeUserIds", &add_users, &remove_users, |a, b| a.id == b.id, |u| u.email.clone())?;
    let (add_agents, remove_agents) =
        (agents(ix, ctx, "addAgentIds", &spec.add_agents)?, agents(ix, ctx, "removeAgentIds", &spec.remove_agents)?);
    once("removeAgentIds", &add_agents, &remove_agents, |a, b| a.id == b.id, |a| a.name.clone())?;
    let leaving: Vec<UserId> = remove_users.iter().map(|u| u.id.clone()).collect();
    let mut plan = Plan::default();
    let mut line = 0;
    let mut next = || {
        line += 1;
        line
    };
    for (g, permit) in groups.into_iter().zip(permits) {
        if !add_users.is_empty() {
            joinable(ctx, g, spec.member_until)?;
        }
        for u in &add_users {
            let p = plan_join(ix, ctx, (g, u), spec.role, spec.member_until)?;
            let outcome = match (&p.change, o.membership(&g.id, &u.id)) {
                (None, _) => Outcome::Unchanged,
                (Some(_), None) => Outcome::Created,
                (Some(_), Some(_)) => Outcome::Changed,
            };
            let (changes, audit) = p.change.into_iter().unzip();
            plan.row(next(), outcome, format!("{} in `{}` as {}", u.email, g.name, spec.role.name()), p.permit, changes, audit);
        }
        for u in &remove_users {
            let detail = format!("{} out of `{}`", u.email, g.name);
            match plan_leave(ix, ctx, g, u)? {
                None => plan.row(next(), Outcome::Unchanged, detail, permit.clone(), vec![], vec![]),
                Some(p) => {
                    let (changes, audit) = p.change.into_iter().unzip();
                    plan.row(next(), Outcome::Removed, detail, p.permit, changes, audit);
                }
            }
        }
        // Users joining give the group members; users leaving may leave it with none.
        if !add_agents.is_empty() && add_users.is_empty() && !leaving.is_empty() && o.members_reached_leaving(&g.id, ctx.now, &leaving) == 0
        {
            return Err(ServiceError::Conflict(format!(
                "group `{}` would have no members left (nor would the groups below it); an agent is assigned only to a group with members",
                g.name
            )));
        }
        for agent in &add_agents {
            let names = (agent.id.as_str(), g.id.as_str(), Named::InPath);
            let mode = Mode::Either { members_joining: !add_users.is_empty() };
            let p = plan_assign(ix, ctx, names, spec.level, &spec.window, mode).map_err(ServiceError::named_in("addAgentIds"))?;
            let detail = format!("`{}` → `{}` {}", g.name, p.assignment.agent.name, spec.level.name());
            plan.row(next(), p.outcome, detail, p.permit, p.changes, p.audit);
        }
        for agent in &remove_agents {
            let names = (agent.id.as_str(), g.id.as_str(), Named::InPath);
            let (agent, group, current, permit) =
                resolve(ix, ctx, names, Level::ViewAndUse).map_err(ServiceError::named_in("removeAgentIds"))?;
            let detail = format!("`{}` off `{}`", group.name, agent.name);
            match current {
                None => plan.row(next(), Outcome::Unchanged, detail, permit, vec![], vec![]),
                Some(cur) => {
                    let p = taken_away(ctx, &agent, cur, permit);
                    plan.row(next(), p.outcome, detail, p.permit, p.changes, p.audit);
                }
            }
        }
    }
    Ok(plan)
}

/// Makes the bulk change `spec` in one transaction, or, in a dry run, answers what it would do.
pub async fn bulk_change(state: &AppState, ctx: &Ctx, spec: &BulkSpec, dry_run: bool) -> Result<ImportReport> {
    checked(spec)?;
    run(state, ctx, dry_run, |ix, ctx| plan(ix, ctx, spec)).await
}
