//! Assignments of groups to agents (seed 003): a group gets `VIEW_AND_USE` or `EDIT` on an agent,
//! optionally within a window — a start and an end read in an IANA timezone — as a grant of the
//! level's agent role to the group, anchored at the agent. Access appears and disappears at
//! those instants, decided at check time. Only an active group with at least one member is
//! assigned; one group holds one assignment per agent (change its level or window, or remove it).
//! Audited as `agent.group_added`, `agent.permission_level_changed` and `agent.group_removed`,
//! with the seed's fields (agent and group ids and names, the level, the window).

use super::agents::{role_on, visible_agent};
use super::groups::find_group;
use super::planned::Outcome;
use super::{org, Ctx};
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::audit::AuditDraft;
use grantry_core::authz::{Action, Permit};
use grantry_core::change::Change;
use grantry_core::index::{DecisionIndex, OrgState};
use grantry_core::model::{Agent, Anchor, GrantTarget, GrantTerms, Group, Level, Principal, Revocation, AGENT};
use grantry_core::Timestamp;
use serde_json::{json, Value};

/// The tag that keeps the timezone an assignment's window was given in.
const ZONE_TAG: &str = "timezone:";

/// An assignment's window: when it opens and closes (instants, already read in `zone`), and the
/// zone's name for people.
#[derive(Debug, Clone, Default)]
pub struct Span {
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    pub zone: Option<String>,
}

/// A group's assignment to an agent, as the index holds it.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub agent: Agent,
    pub group: Group,
    pub level: Level,
    pub grant: GrantTerms,
    /// The timezone the window was given in, if one was.
    pub zone: Option<String>,
}

impl Assignment {
    fn read(o: &OrgState, agent: &Agent, g: GrantTerms) -> Option<Self> {
        let GrantTarget::Role { role } = &g.target else { return None };
        let level = Level::of_role(role)?;
        let Principal::Group(group) = &g.principal else { return None };
        let group = o.group(group)?.clone();
        Some(Self { agent: agent.clone(), group, level, grant: g, zone: None })
    }

    /// The seed's fields, for the audit log.
    fn audit_shape(&self) -> Value {
        json!({ "agentId": self.agent.id, "agentName": self.agent.name, "groupId": self.group.id, "groupName": self.group.name,
                "permission": self.level, "startDate": self.grant.starts_at, "endDate": self.grant.expires_at, "timezone": self.zone })
    }
}

/// `list` with each window's timezone, read from the grants' records (the index keeps no tags).
pub async fn with_zones(state: &AppState, org: &grantry_core::ids::OrgId, mut list: Vec<Assignment>) -> Result<Vec<Assignment>> {
    for a in &mut list {
        let records = super::Records::one(state, org, &a.grant.id).await?;
        a.zone = records.get(&a.grant.id).and_then(|g| g.tags.iter().find_map(|t| t.strip_prefix(ZONE_TAG).map(str::to_owned)));
    }
    Ok(list)
}

/// The assignments of agent `agent`, by group name.
pub fn assignments_of_agent(o: &OrgState, agent: &Agent) -> Vec<Assignment> {
    let mut out: Vec<Assignment> = o.grants_on(&agent.reference()).into_iter().filter_map(|g| Assignment::read(o, agent, g)).collect();
    out.sort_by_key(|a| a.group.name.to_lowercase());
    out
}

/// The assignments of group `group`, by agent name.
pub fn assignments_of_group(o: &OrgState, group: &Group) -> Vec<Assignment> {
    let mut out: Vec<Assignment> = o
        .grants_of(&Principal::Group(group.id.clone()))
        .into_iter()
        .filter_map(|g| {
            let Anchor::Resource(r) = &g.anchor else { return None };
            let agent = o.resource(r).filter(|r| r.reference.kind == AGENT).and_then(|r| Agent::of(&r))?;
            Assignment::read(o, &agent, g)
        })
        .collect();
    out.sort_by_key(|a| a.agent.name.to_lowercase());
    out
}

/// The window checked: an end after its start and after now.
fn checked(window: &Span, now: Timestamp) -> Result<(Timestamp, Option<Timestamp>)> {
    let start = window.start.unwrap_or(now);
    if let Some(end) = window.end {
        if end <= start {
            return Err(ServiceError::Invalid {
                field: "endDate".into(),
                message: format!("the window would end ({end}) before it starts ({start}); give an end after the start"),
            });
        }
        if end <= now {
            return Err(ServiceError::Invalid { field: "endDate".into(), message: format!("{end} is in the past; give an end after now") });
        }
    }
    Ok((start, window.end))
}

/// Where a request names the agent and the group: one it names in its body that does not exist
/// is bad input in that field, not a missing path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    InPath,
    GroupInBody,
    AgentInBody,
}

impl Named {
    fn field(self, which: Self, field: &'static str) -> impl Fn(ServiceError) -> ServiceError {
        let body = self == which;
        move |e| if body { ServiceError::named_in(field)(e) } else { e }
    }
}

/// The agent, group and current assignment `agent` and `group` name, authorized for `level`.
pub(super) fn resolve(
    ix: &DecisionIndex,
    ctx: &Ctx,
    (agent, group, named): (&str, &str, Named),
    level: Level,
) -> Result<(Agent, Group, Option<Assignment>, Permit)> {
    let o = org(ix, &ctx.org)?;
    let (agent, resource) = visible_agent(ix, ctx, agent).map_err(named.field(Named::AgentInBody, "agentId"))?;
    ctx.authorize(ix, Action::ListGroups)?;
    let group = find_group(o, group).map_err(named.field(Named::GroupInBody, "groupId"))?.clone();
    let level_role = ix.catalogue().role(level.role())?;
    let permit = ctx.authorize(ix, Action::AssignGroup { agent: &resource, group: &group, level: level_role })?;
    let current = assignments_of_agent(o, &agent).into_iter().find(|a| a.group.id == group.id);
    if let Some(cur) = &current {
        // Taking away or lowering an assignment is weighed like giving it.
        let cur_role = ix.catalogue().role(cur.level.role())?;
        ctx.authorize(ix, Action::AssignGroup { agent: &resource, group: &group, level: cur_role })?;
    }
    Ok((agent, group, current, permit))
}

fn event(ctx: &Ctx, event_type: &str, agent: &Agent, before: Option<&Assignment>, after: Option<&Assignment>) -> AuditDraft {
    let mut d = AuditDraft::new(&ctx.audit_actor(), event_type, AGENT, &agent.id);
    let group = after.or(before).map(|a| &a.group);
    d.principal = group.map(|g| Principal::Group(g.id.clone()).to_string());
    d.before = before.map(Assignment::audit_shape);
    d.after = after.map(Assignment::audit_shape);
    d
}

/// The assignment a batch makes: the grant, and the assignment as it reads back.
fn made(ctx: &Ctx, agent: &Agent, group: &Group, level: Level, window: &Span) -> Result<(grantry_core::model::Grant, Assignment)> {
    let span = checked(window, ctx.now)?;
    let tags = window.zone.iter().map(|z| format!("{ZONE_TAG}{z}")).collect();
    let grant = role_on(ctx, Principal::Group(group.id.clone()), level.role(), agent.reference(), span, tags)?;
    let assignment = Assignment { agent: agent.clone(), group: group.clone(), level, grant: grant.terms(), zone: window.zone.clone() };
    Ok((grant, assignment))
}

/// One assignment planned: the permit, its changes and audit events, and the assignment.
pub(super) struct Planned {
    pub permit: Permit,
    pub changes: Vec<Change>,
    pub audit: Vec<AuditDraft>,
    pub assignment: Assignment,
    pub outcome: Outcome,
}

/// Whether an assignment is to be made, changed, or either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// A new one: an existing assignment of the group is a conflict.
    New,
    /// A change of an existing one: its absence is "not assigned"; it is rewritten even when the same.
    Existing,
    /// Made, changed, or left when it is the same (imports, bulk changes); `members_joining` when
    /// the same write gives the group members, so that it may have none yet.
    Either { members_joining: bool },
}

/// Plans assigning `group` to `agent` at `level` within `window`, as `mode` says.
pub(super) fn plan_assign(
    ix: &DecisionIndex,
    ctx: &Ctx,
    names: (&str, &str, Named),
    level: Level,
    window: &Span,
    mode: Mode,
) -> Result<Planned> {
    let o = org(ix, &ctx.org)?;
    let (agent, group, current, permit) = resolve(ix, ctx, names, level)?;
    let (grant, assignment) = made(ctx, &agent, &group, level, window)?;
    let joining = matches!(mode, Mode::Either { members_joining: true });
    match (group.is_active(), o.members_reached(&group.id, ctx.now) > 0 || joining) {
        (false, _) => return Err(ServiceError::Conflict(format!("group `{}` is archived; restore it before assigning it", group.name))),
        (true, false) => {
            return Err(ServiceError::Conflict(format!(
                "group `{}` has no members (nor have the groups below it); add at least one member before assigning it",
                group.name
            )))
        }
        _ => {}
    }
    let Some(cur) = current else {
        if mode == Mode::Existing {
            return Err(not_assigned(&agent, &group));
        }
        let audit = vec![event(ctx, "agent.group_added", &agent, None, Some(&assignment))];
        return Ok(Planned { permit, changes: vec![Change::GrantCreated { grant }], audit, assignment, outcome: Outcome::Created });
    };
    if mode == Mode::New {
        return Err(ServiceError::Conflict(format!(
            "group `{}` is already assigned to agent `{}` with {}; change that assignment's level or window instead",
            group.name,
            agent.name,
            cur.level.name()
        )));
    }
    let same = cur.level == level
        && cur.grant.expires_at == grant.expires_at
        && (window.start.is_none() || cur.grant.starts_at == grant.starts_at);
    if same && matches!(mode, Mode::Either { .. }) {
        return Ok(Planned { permit, changes: vec![], audit: vec![], assignment: cur, outcome: Outcome::Unchanged });
    }
    let revocation = Revocation { at: ctx.now, by: ctx.audit_actor() };
    let changes = vec![Change::GrantRevoked { org: ctx.org.clone(), id: cur.grant.id.clone(), revocation }, Change::GrantCreated { grant }];
    let audit = vec![event(ctx, "agent.permission_level_changed", &agent, Some(&cur), Some(&assignment))];
    Ok(Planned { permit, changes, audit, assignment, outcome: Outcome::Changed })
}

/// Assigns `group` to `agent` (each by id or name) at `level` within `window`.
pub async fn assign(
    state: &AppState,
    ctx: &Ctx,
    agent: &str,
    group: &str,
    level: Level,
    window: &Span,
    named: Named,
) -> Result<(u64, Assignment)> {
    let (committed, assignment) = state
        .write_as(ctx, |ix, ctx| {
            let p = plan_assign(ix, ctx, (agent, group, named), level, window, Mode::New)?;
            Ok((ctx.batch(p.permit, p.changes, p.audit), p.assignment))
        })
        .await?;
    Ok((committed.revision, assignment))
}

/// Changes the level or window of `group`'s assignment to `agent`: the old grant is revoked and a
/// new one made in the same batch, so access never lapses in between.
pub async fn change_assignment(
    state: &AppState,
    ctx: &Ctx,
    agent: &str,
    group: &str,
    level: Level,
    window: &Span,
) -> Result<(u64, Assignment)> {
    let (committed, assignment) = state
        .write_as(ctx, |ix, ctx| {
            let p = plan_assign(ix, ctx, (agent, group, Named::InPath), level, window, Mode::Existing)?;
            Ok((ctx.batch(p.permit, p.changes, p.audit), p.assignment))
        })
        .await?;
    Ok((committed.revision, assignment))
}

/// Takes away `group`'s assignment to `agent`: its members lose it on the next check.
pub async fn unassign(state: &AppState, ctx: &Ctx, agent: &str, group: &str) -> Result<(u64, Assignment)> {
    let (committed, gone) = state
        .write_as(ctx, |ix, ctx| {
            // `resolve` weighs taking away the current level, whatever it is.
            let (agent, group, current, permit) = resolve(ix, ctx, (agent, group, Named::InPath), Level::ViewAndUse)?;
            let cur = current.ok_or_else(|| not_assigned(&agent, &group))?;
            let p = taken_away(ctx, &agent, cur, permit);
            Ok((ctx.batch(p.permit, p.changes, p.audit), p.assignment))
        })
        .await?;
    Ok((committed.revision, gone))
}

/// Taking away `cur`, `group`'s assignment to `agent`: its grant revoked now.
pub(super) fn taken_away(ctx: &Ctx, agent: &Agent, cur: Assignment, permit: Permit) -> Planned {
    let revocation = Revocation { at: ctx.now, by: ctx.audit_actor() };
    let changes = vec![Change::GrantRevoked { org: ctx.org.clone(), id: cur.grant.id.clone(), revocation }];
    let audit = vec![event(ctx, "agent.group_removed", agent, Some(&cur), None)];
    Planned { permit, changes, audit, assignment: cur, outcome: Outcome::Removed }
}

fn not_assigned(agent: &Agent, group: &Group) -> ServiceError {
    ServiceError::NotFound(format!("group `{}` is not assigned to agent `{}`", group.name, agent.name))
}
