//! "Why can't this user see this agent?" (seed 003's troubleshooting list, answered by the system
//! itself): in the organization, active, the agent's access type, the user's groups and their
//! parents, the groups assigned to the agent with each window and its zone — then the decision,
//! as `check` makes it, and the single smallest change that would grant it. There is no cache or
//! session to refresh: every check is decided from the index as it stands.

use super::assignments::Assignment;
use super::Ctx;
use grantry_core::catalogue::{perm, Catalogue};
use grantry_core::decision::{Decision, ResourceQuery};
use grantry_core::ids::GroupId;
use grantry_core::index::OrgState;
use grantry_core::model::{AccessType, Agent, Level, Principal, User, UserStatus};
use grantry_core::Timestamp;

/// One step of the walk: what was looked at, whether it stands in the way, and what was found.
#[derive(Debug, Clone)]
pub struct Step {
    pub check: String,
    pub ok: bool,
    pub found: String,
}

/// The whole walk.
#[derive(Debug, Clone)]
pub struct Walk {
    pub steps: Vec<Step>,
    pub decision: Decision,
    /// The single smallest change that would grant it, when it is denied.
    pub fix: Option<String>,
}

fn step(check: &str, ok: bool, found: String) -> Step {
    Step { check: check.to_owned(), ok, found }
}

/// The level an assignment needs to carry `permission` (`None`: no assignment carries it).
fn level_for(permission: &str) -> Option<Level> {
    match permission {
        perm::AGENT_VIEW | perm::AGENT_USE => Some(Level::ViewAndUse),
        perm::AGENT_EDIT => Some(Level::Edit),
        _ => None,
    }
}

/// An assignment's window as people read it, in the timezone it was given in.
fn window(a: &Assignment) -> String {
    let zone = a.zone.as_deref().unwrap_or("UTC");
    let show = |t: Timestamp| {
        jiff::tz::TimeZone::get(zone).map_or_else(|_| t.to_string(), |z| t.to_zoned(z).strftime("%Y-%m-%d %H:%M %Z").to_string())
    };
    let named = a.zone.as_deref().map(|z| format!(" ({z})")).unwrap_or_default();
    match a.grant.expires_at {
        Some(end) => format!("{} until {}{named}", show(a.grant.starts_at), show(end)),
        None => format!("from {}{named}, no end", show(a.grant.starts_at)),
    }
}

/// Walks the seed's list for `user` and `permission` on `agent` at `now`; `assignments` carry their zones.
pub fn walk(o: &OrgState, cat: &Catalogue, ctx: &Ctx, user: &User, agent: &Agent, permission: &str, assignments: &[Assignment]) -> Walk {
    let now = ctx.now;
    let who = Principal::User(user.id.clone());
    let mut steps = vec![step("in the organization", true, format!("{} is a user of this organization", user.email))];
    let active = user.status == UserStatus::Active;
    steps.push(step(
        "account active",
        active,
        if active { "active".to_owned() } else { "suspended: they hold nothing until resumed".to_owned() },
    ));
    let type_note = match agent.access_type {
        AccessType::Organization => "organization-wide: every user may view and use it",
        AccessType::Group => "group-restricted: only the members of its assigned groups",
        AccessType::Private => "private: only its creator and the admins; assignments do not reach it",
    };
    steps.push(step("the agent's access type", true, format!("`{}` is {type_note}", agent.name)));
    // The user's groups, with the path up through their parents.
    let through = o.groups_through(&who, now);
    let mut lines = Vec::new();
    for m in o.memberships_of(&user.id) {
        let chain: Vec<String> = o
            .group_ancestry(&m.group)
            .iter()
            .map(|g| if g.is_active() { format!("`{}`", g.name) } else { format!("`{}` (archived)", g.name) })
            .collect();
        let until = match m.expires_at {
            Some(end) if end <= now => format!(", membership ended {end}"),
            Some(end) => format!(", until {end}"),
            None => String::new(),
        };
        lines.push(format!("{} as {}{until}", chain.join(" → "), m.role.name()));
    }
    let groups_found = if lines.is_empty() { "in no group".to_owned() } else { lines.join("; ") };
    steps.push(step(
        "the user's groups and their parents",
        !through.is_empty() || agent.access_type == AccessType::Organization,
        groups_found,
    ));
    // The groups assigned to the agent, each with its window, and whether it reaches the user.
    let reaches = |g: &GroupId| through.iter().any(|(t, _)| t == g);
    let mut assigned = Vec::new();
    for a in assignments {
        let open = a.grant.is_active(now);
        let mark = match (reaches(&a.group.id), open) {
            (true, true) => "reaches them",
            (true, false) => "reaches them, but its window is not open now",
            (false, _) => "does not reach them",
        };
        assigned.push(format!("`{}` {} {}: {mark}", a.group.name, a.level.name(), window(a)));
    }
    let any_reaching = assignments.iter().any(|a| reaches(&a.group.id) && a.grant.is_active(now));
    let assigned_found = if assigned.is_empty() { "no group is assigned".to_owned() } else { assigned.join("; ") };
    steps.push(step("groups assigned to the agent", any_reaching || agent.access_type != AccessType::Group, assigned_found));
    let query = ResourceQuery { reference: agent.reference(), attributes: Default::default() };
    let decision = o.explain(cat, &who, permission, &query, now, &[]);
    let fix = if decision.allowed { None } else { Some(smallest_fix(o, user, agent, permission, assignments, &through, now)) };
    Walk { steps, decision, fix }
}

/// The single smallest change that would grant `permission` on `agent` to `user`.
fn smallest_fix(
    o: &OrgState,
    user: &User,
    agent: &Agent,
    permission: &str,
    assignments: &[Assignment],
    through: &[(GroupId, bool)],
    now: Timestamp,
) -> String {
    if user.status != UserStatus::Active {
        return format!("resume {} (they are suspended)", user.email);
    }
    let Some(needed) = level_for(permission) else {
        return format!(
            "`{permission}` on an agent comes only with org_admin or org_owner; ask an owner to grant {} that role",
            user.email
        );
    };
    if agent.access_type == AccessType::Private {
        return format!(
            "change `{}`'s access type to `group` (private agents reach only their creator and the admins), then assign one of {}'s groups",
            agent.name, user.email
        );
    }
    let reaches = |g: &GroupId| through.iter().any(|(t, _)| t == g);
    let enough = |a: &&Assignment| a.level >= needed;
    // An assignment that reaches the user but is too low, or whose window is shut.
    if let Some(a) = assignments.iter().find(|a| reaches(&a.group.id) && !enough(a)) {
        return format!("raise group `{}`'s assignment on `{}` to {}", a.group.name, agent.name, needed.name());
    }
    if let Some(a) = assignments.iter().find(|a| reaches(&a.group.id) && !a.grant.is_active(now)) {
        let when = if a.grant.starts_at > now { "has not opened yet" } else { "has closed" };
        return format!("change the window of group `{}`'s assignment, which {when} ({})", a.group.name, window(a));
    }
    // A membership that would reach an assignment: renewed, or the group restored.
    for m in o.memberships_of(&user.id) {
        let path = o.group_ancestry(&m.group);
        let Some(a) = assignments.iter().filter(enough).find(|a| path.iter().any(|g| g.id == a.group.id) && a.grant.is_active(now)) else {
            continue;
        };
        if let Some(archived) = path.iter().find(|g| !g.is_active()) {
            if archived.id == a.group.id {
                return format!("restore the archived group `{}`, which is assigned {} on `{}`", archived.name, a.level.name(), agent.name);
            }
            return format!("restore the archived group `{}`, which stands between {} and `{}`", archived.name, user.email, a.group.name);
        }
        if !m.is_active(now) {
            let group = o.group(&m.group).map_or(m.group.as_str(), |g| g.name.as_str());
            return format!("renew {}'s membership of `{group}`, which has ended", user.email);
        }
    }
    // Otherwise: join a group that has it now, or have one of theirs assigned.
    let open: Vec<&Assignment> = assignments.iter().filter(enough).filter(|a| a.grant.is_active(now) && a.group.is_active()).collect();
    if let Some(a) = open.iter().min_by_key(|a| (a.level, a.group.name.to_lowercase())) {
        return format!("add {} to group `{}` (assigned {} on `{}`)", user.email, a.group.name, a.level.name(), agent.name);
    }
    match through.first().and_then(|(g, _)| o.group(g)) {
        Some(g) => format!("assign group `{}` to `{}` with {}", g.name, agent.name, needed.name()),
        None => format!("add {} to a group and assign that group to `{}` with {}", user.email, agent.name, needed.name()),
    }
}
