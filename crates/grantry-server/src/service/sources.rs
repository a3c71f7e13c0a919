//! Data sources of agents (seed 003): each belongs to an agent and is open to every user of the
//! agent, or restricted to some groups — a grant of `data_source_reader` to each group, anchored
//! at the source. Retrieving from a source also needs the use of its agent, so a restriction only
//! ever narrows. Adding, restricting and removing sources needs `Agent:Edit` on the agent, and is
//! audited (`agent.data_source_added`, `agent.data_source_restriction_changed`,
//! `agent.data_source_removed`).

use super::agents::{record_name, role_on, sources_of, visible_agent};
use super::groups::find_group;
use super::{org, Ctx};
use crate::ids::new_id;
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::audit::AuditDraft;
use grantry_core::authz::Action;
use grantry_core::catalogue::{perm, role};
use grantry_core::change::Change;
use grantry_core::decision::ResourceQuery;
use grantry_core::ids::GroupId;
use grantry_core::index::{DecisionIndex, OrgState};
use grantry_core::model::{Agent, DataSource, Group, Principal, Resource, Revocation, ScopeRef, User};
use grantry_core::Timestamp;
use serde_json::json;

/// The most groups one source may be restricted to.
const MAX_GROUPS: usize = 100;

/// A data source with the groups it is restricted to (none: open to every user of its agent).
#[derive(Debug, Clone)]
pub struct Source {
    pub source: DataSource,
    pub groups: Vec<Group>,
}

/// The groups `source` is restricted to, by name.
fn groups_of(o: &OrgState, source: &DataSource) -> Vec<Group> {
    let mut out: Vec<Group> = o
        .grants_on(&source.reference())
        .into_iter()
        .filter_map(|g| match g.principal {
            Principal::Group(id) => o.group(&id).cloned(),
            _ => None,
        })
        .collect();
    out.sort_by_key(|g| g.name.to_lowercase());
    out.dedup_by(|a, b| a.id == b.id);
    out
}

/// The data sources of `agent` with their groups, by name.
pub fn sources(o: &OrgState, agent: &Agent) -> Vec<Source> {
    let mut out: Vec<Source> = sources_of(o, &agent.id).into_iter().map(|(s, _)| Source { groups: groups_of(o, &s), source: s }).collect();
    out.sort_by_key(|s| s.source.name.to_lowercase());
    out
}

/// Each data source of `agent`, and whether `user` may retrieve from it at `now` (decided as a
/// check of `DataSource:Retrieve`, which also needs `Agent:Use` on the agent).
pub fn sources_for(o: &OrgState, agent: &Agent, user: &User, now: Timestamp) -> Vec<(Source, bool)> {
    let who = Principal::User(user.id.clone());
    sources(o, agent)
        .into_iter()
        .map(|s| {
            let query = ResourceQuery { reference: s.source.reference(), attributes: Default::default() };
            let allowed = o.check(&who, perm::DATA_SOURCE_RETRIEVE, &query, now);
            (s, allowed)
        })
        .collect()
}

/// The groups `texts` name, each once: active groups only.
fn named_groups(o: &OrgState, texts: &[String]) -> Result<Vec<Group>> {
    if texts.len() > MAX_GROUPS {
        return Err(ServiceError::Invalid {
            field: "groups".into(),
            message: format!("name at most {MAX_GROUPS} groups; {} were given", texts.len()),
        });
    }
    let mut out: Vec<Group> = Vec::new();
    for t in texts {
        let g = find_group(o, t).map_err(ServiceError::named_in("groups"))?;
        if !g.is_active() {
            return Err(ServiceError::Conflict(format!("group `{}` is archived; restore it or name an active group", g.name)));
        }
        if !out.iter().any(|x| x.id == g.id) {
            out.push(g.clone());
        }
    }
    Ok(out)
}

/// The agent named, which the actor may edit.
fn editable(ix: &DecisionIndex, ctx: &Ctx, agent: &str) -> Result<(Agent, Resource, grantry_core::authz::Permit)> {
    let (a, resource) = visible_agent(ix, ctx, agent)?;
    let permit = ctx.authorize(ix, Action::OnAgent { agent: &resource, permission: perm::AGENT_EDIT })?;
    Ok((a, resource, permit))
}

fn find_source(o: &OrgState, agent: &Agent, text: &str) -> Result<(DataSource, Resource)> {
    let t = text.trim();
    sources_of(o, &agent.id)
        .into_iter()
        .find(|(s, _)| s.id == t || grantry_core::validate::name_key(&s.name) == grantry_core::validate::name_key(t))
        .ok_or_else(|| ServiceError::NotFound(format!("agent `{}` has no data source `{}`", agent.name, grantry_core::validate::shown(t))))
}

fn event(ctx: &Ctx, event_type: &str, agent: &Agent, source: &DataSource, before: Option<&[Group]>, after: Option<&[Group]>) -> AuditDraft {
    let mut d = AuditDraft::new(&ctx.audit_actor(), event_type, "data_source", &source.id);
    let shape = |groups: &[Group]| {
        let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        let ids: Vec<&GroupId> = groups.iter().map(|g| &g.id).collect();
        json!({ "agentId": agent.id, "agentName": agent.name, "dataSourceId": source.id, "dataSourceName": source.name,
                "access": if groups.is_empty() { "ALL_AGENT_USERS" } else { "SPECIFIC_GROUPS" }, "groupIds": ids, "groupNames": names })
    };
    d.before = before.map(shape);
    d.after = after.map(shape);
    d
}

/// The reader grants that restrict `source` to `groups`.
fn readers(ctx: &Ctx, source: &DataSource, groups: &[Group]) -> Result<Vec<Change>> {
    groups
        .iter()
        .map(|g| {
            let grant =
                role_on(ctx, Principal::Group(g.id.clone()), role::DATA_SOURCE_READER, source.reference(), (ctx.now, None), vec![])?;
            Ok(Change::GrantCreated { grant })
        })
        .collect()
}

/// Adds data source `name` to `agent`, open to every user of it, or restricted to `groups`.
pub async fn add_source(state: &AppState, ctx: &Ctx, agent: &str, name: &str, groups: &[String]) -> Result<(u64, Source)> {
    let (committed, out) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let (a, _, permit) = editable(ix, ctx, agent)?;
            let name = record_name("name", name)?;
            if let Ok((other, _)) = find_source(o, &a, &name) {
                return Err(ServiceError::Conflict(format!("agent `{}` already has a data source named `{}`", a.name, other.name)));
            }
            let groups = named_groups(o, groups)?;
            let source = DataSource { id: new_id()?, name, agent_id: a.id.clone(), restricted: !groups.is_empty() };
            let resource = Resource {
                org: ctx.org.clone(),
                reference: source.reference(),
                parent: Some(a.reference()),
                scope: ScopeRef::Org,
                attributes: source.attributes(),
                created_at: ctx.now,
            };
            let mut changes = vec![Change::ResourceRegistered { resource }];
            changes.extend(readers(ctx, &source, &groups)?);
            let audit = vec![event(ctx, "agent.data_source_added", &a, &source, None, Some(&groups))];
            Ok((ctx.batch(permit, changes, audit), Source { source, groups }))
        })
        .await?;
    Ok((committed.revision, out))
}

/// Restricts data source `source` of `agent` to exactly `groups` (none: open to every user of
/// the agent); writes nothing when that is how it stands.
pub async fn restrict_source(state: &AppState, ctx: &Ctx, agent: &str, source: &str, groups: &[String]) -> Result<(u64, Source)> {
    {
        let ix = state.index();
        let o = org(&ix, &ctx.org)?;
        let (a, ..) = editable(&ix, ctx, agent)?;
        let (s, _) = find_source(o, &a, source)?;
        let (was, now) = (groups_of(o, &s), named_groups(o, groups)?);
        let ids = |gs: &[Group]| gs.iter().map(|g| g.id.clone()).collect::<std::collections::BTreeSet<_>>();
        // Unchanged only if the flag agrees too: a source whose groups were all deleted is still
        // restricted (to nobody) until it is opened.
        if ids(&was) == ids(&now) && s.restricted != now.is_empty() {
            return Ok((ix.revision(), Source { source: s, groups: was }));
        }
    }
    let (committed, out) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let (a, _, permit) = editable(ix, ctx, agent)?;
            let (before, resource) = find_source(o, &a, source)?;
            let was = groups_of(o, &before);
            let now: Vec<Group> = named_groups(o, groups)?;
            let after = DataSource { restricted: !now.is_empty(), ..before.clone() };
            let revocation = Revocation { at: ctx.now, by: ctx.audit_actor() };
            let mut changes: Vec<Change> = o
                .grants_on(&before.reference())
                .into_iter()
                .filter(|g| !matches!(&g.principal, Principal::Group(id) if now.iter().any(|n| &n.id == id)))
                .map(|g| Change::GrantRevoked { org: ctx.org.clone(), id: g.id, revocation: revocation.clone() })
                .collect();
            let added: Vec<Group> = now.iter().filter(|n| !was.iter().any(|w| w.id == n.id)).cloned().collect();
            changes.extend(readers(ctx, &after, &added)?);
            if after.restricted != before.restricted {
                changes.push(Change::ResourceUpdated { resource: Resource { attributes: after.attributes(), ..resource } });
            }
            let audit = vec![event(ctx, "agent.data_source_restriction_changed", &a, &after, Some(&was), Some(&now))];
            Ok((ctx.batch(permit, changes, audit), Source { source: after, groups: now }))
        })
        .await?;
    Ok((committed.revision, out))
}

/// Removes data source `source` of `agent`, revoking its readers' grants.
pub async fn remove_source(state: &AppState, ctx: &Ctx, agent: &str, source: &str) -> Result<(u64, Source)> {
    let (committed, out) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let (a, _, permit) = editable(ix, ctx, agent)?;
            let (s, _) = find_source(o, &a, source)?;
            let was = groups_of(o, &s);
            let revocation = Revocation { at: ctx.now, by: ctx.audit_actor() };
            let mut changes: Vec<Change> = o
                .grants_on(&s.reference())
                .into_iter()
                .map(|g| Change::GrantRevoked { org: ctx.org.clone(), id: g.id, revocation: revocation.clone() })
                .collect();
            changes.push(Change::ResourceRemoved { org: ctx.org.clone(), reference: s.reference() });
            let audit = vec![event(ctx, "agent.data_source_removed", &a, &s, Some(&was), None)];
            Ok((ctx.batch(permit, changes, audit), Source { source: s, groups: was }))
        })
        .await?;
    Ok((committed.revision, out))
}
