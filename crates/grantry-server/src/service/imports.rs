//! CSV imports (seed 003's bulk operations): assignments `AgentId,GroupId,Permission,StartDate,EndDate`
//! and users `Name,Email,Group`. A file is validated whole — every row parsed and authorized
//! against the index — before anything is written, then written as one batch (one transaction):
//! a bad row rejects the file, naming its line and what is wrong, and nothing is written. A dry
//! run plans the same and writes nothing. Agents and groups are named by id or name; a repeated
//! assignment or membership in the file is an error; one already in place is left as it is (an
//! assignment with another level or window is changed).

use super::assignments::{plan_assign, Mode, Named, Span};
use super::groups::find_group;
use super::members::member_event;
use super::planned::{run, ImportReport, Outcome, Plan};
use super::users::plan_user;
use super::{org, Ctx};
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::authz::Action;
use grantry_core::catalogue::role;
use grantry_core::change::Change;
use grantry_core::model::{GroupMember, GroupRole, Level, User};
use grantry_core::validate;
use grantry_core::window::{self, Edge};
use std::collections::{BTreeMap, HashMap};

/// The most rows one file may hold.
pub const MAX_ROWS: usize = 50_000;

fn bad(line: u64, what: impl std::fmt::Display) -> ServiceError {
    ServiceError::Invalid { field: "csv".into(), message: format!("line {line}: {what}") }
}

/// A row's refusal, naming its line: a refused permission stays a refusal; whatever else is
/// wrong with the row makes the file invalid.
fn at_line<E: Into<ServiceError>>(line: u64) -> impl Fn(E) -> ServiceError {
    move |e| match e.into() {
        ServiceError::Forbidden(m) => ServiceError::Forbidden(format!("line {line}: {m}")),
        e @ (ServiceError::Invalid { .. } | ServiceError::NotFound(_) | ServiceError::Conflict(_)) => bad(line, e),
        other => other,
    }
}

/// The rows of `text` under the header `columns` (compared without case), each with its line.
fn rows(text: &str, columns: &[&str]) -> Result<Vec<(u64, Vec<String>)>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().map_err(|e| bad(1, e))?.iter().map(str::to_owned).collect();
    if header.len() != columns.len() || header.iter().zip(columns).any(|(h, c)| !h.eq_ignore_ascii_case(c)) {
        return Err(bad(1, format!("the header must be `{}`, not `{}`", columns.join(","), validate::shown(&header.join(",")))));
    }
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| bad(e.position().map_or(0, csv::Position::line), e))?;
        let line = record.position().map_or(0, csv::Position::line);
        if out.len() == MAX_ROWS {
            return Err(bad(line, format!("a file holds at most {MAX_ROWS} rows; split it")));
        }
        let cells: Vec<String> = record.iter().map(str::to_owned).collect();
        if let Some(c) = cells.iter().flat_map(|c| c.chars()).find(|c| validate::is_hostile(*c)) {
            return Err(bad(line, format!("holds the control or formatting character U+{:04X}", u32::from(c))));
        }
        out.push((line, cells));
    }
    if out.is_empty() {
        return Err(bad(1, "the file has a header and no rows"));
    }
    Ok(out)
}

/// Imports assignments from `csv` (`AgentId,GroupId,Permission,StartDate,EndDate`); dates are read
/// in `zone` (UTC unless given).
pub async fn import_assignments(state: &AppState, ctx: &Ctx, text: &str, zone: Option<&str>, dry_run: bool) -> Result<ImportReport> {
    let rows = rows(text, &["AgentId", "GroupId", "Permission", "StartDate", "EndDate"])?;
    let tz = window::zone("timezone", zone.unwrap_or("UTC"))?;
    run(state, ctx, dry_run, |ix, ctx| {
        let mut plan = Plan::default();
        let mut seen: HashMap<(String, String), u64> = HashMap::new();
        for (line, cells) in &rows {
            let [agent, group, permission, start, end] = &cells[..] else { return Err(bad(*line, "expected 5 cells")) };
            let level: Level = permission.parse().map_err(|e| bad(*line, e))?;
            let date = |text: &str, edge| {
                (!text.is_empty()).then(|| window::instant("date", text, &tz, edge)).transpose().map_err(|e| bad(*line, e))
            };
            let span = Span { start: date(start, Edge::Start)?, end: date(end, Edge::End)?, zone: zone.map(str::to_owned) };
            let p = plan_assign(ix, ctx, (agent, group, Named::InPath), level, &span, Mode::Either { members_joining: false })
                .map_err(at_line(*line))?;
            let key = (p.assignment.agent.id.clone(), p.assignment.group.id.0.clone());
            if let Some(first) = seen.insert(key, *line) {
                return Err(bad(
                    *line,
                    format!(
                        "assigns group `{}` to agent `{}` again (line {first} already does)",
                        p.assignment.group.name, p.assignment.agent.name
                    ),
                ));
            }
            let detail = format!("`{}` → `{}` {}", p.assignment.group.name, p.assignment.agent.name, level.name());
            plan.row(*line, p.outcome, detail, p.permit, p.changes, p.audit);
        }
        Ok(plan)
    })
    .await
}

/// Imports users from `csv` (`Name,Email,Group`): each user is created (as org_member) unless
/// they exist, and added to the group unless already in it.
pub async fn import_users(state: &AppState, ctx: &Ctx, text: &str, dry_run: bool) -> Result<ImportReport> {
    let rows = rows(text, &["Name", "Email", "Group"])?;
    run(state, ctx, dry_run, |ix, ctx| {
        let o = org(ix, &ctx.org)?;
        let mut plan = Plan::default();
        ctx.authorize(ix, Action::ListGroups)?;
        let mut made: BTreeMap<String, User> = BTreeMap::new();
        let mut seen: HashMap<(String, String), u64> = HashMap::new();
        for (line, cells) in &rows {
            let [name, email, group] = &cells[..] else { return Err(bad(*line, "expected 3 cells")) };
            validate::bounded("name", name, 200).map_err(at_line(*line))?;
            let g = find_group(o, group).map_err(at_line(*line))?;
            let permit = ctx.authorize(ix, Action::ManageMembers { group: g, role: GroupRole::Member }).map_err(at_line(*line))?;
            let key = validate::email(email).map_err(at_line(*line))?;
            let (mut changes, mut audit) = (vec![], vec![]);
            let (user, created) = match (o.user_by_email(&key), made.get(&key)) {
                (Some(u), _) => (u.clone(), false),
                (None, Some(u)) => (u.clone(), true),
                (None, None) => {
                    let org_member = ix.catalogue().role(role::ORG_MEMBER)?;
                    ctx.authorize(ix, Action::CreateUser { role: org_member }).map_err(at_line(*line))?;
                    let u;
                    (u, changes, audit) = plan_user(ix, ctx, &key, role::ORG_MEMBER).map_err(at_line(*line))?;
                    made.insert(key.clone(), u.clone());
                    (u, true)
                }
            };
            if let Some(first) = seen.insert((key.clone(), g.id.0.clone()), *line) {
                return Err(bad(*line, format!("adds `{key}` to group `{}` again (line {first} already does)", g.name)));
            }
            if !g.is_active() {
                return Err(bad(*line, format!("group `{}` is archived; restore it before adding members", g.name)));
            }
            let joins = o.membership(&g.id, &user.id).is_none();
            if joins {
                let member = GroupMember {
                    org: ctx.org.clone(),
                    group: g.id.clone(),
                    user: user.id.clone(),
                    role: GroupRole::Member,
                    added_at: ctx.now,
                    expires_at: None,
                };
                audit.push(member_event(ctx, "group.member_added", g, &user, None, Some(&member)));
                changes.push(Change::GroupMemberSet { member });
            }
            let outcome = match (created, joins) {
                (true, _) => Outcome::Created,
                (false, true) => Outcome::Changed,
                (false, false) => Outcome::Unchanged,
            };
            plan.row(*line, outcome, format!("{key} in `{}`", g.name), permit, changes, audit);
        }
        Ok(plan)
    })
    .await
}
