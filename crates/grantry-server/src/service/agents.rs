//! Agents (seed 003): register one with an access type (organization-wide, group-restricted,
//! private) and a data classification; change its name, description, classification (needs
//! `Agent:Edit` on it) or access type (`Agent:ManagePermissions`); delete it (`Agent:Delete`),
//! which revokes every grant on it and on its data sources. The creator holds `agent_creator` on
//! it, so a private agent stays theirs. Audited as `agent.created`, `agent.updated`,
//! `agent.access_type_changed` (the seed's event, with before and after) and `agent.deleted`.

use super::{grant_event, org, Ctx};
use crate::ids::new_id;
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::audit::AuditDraft;
use grantry_core::authz::Action;
use grantry_core::catalogue::{perm, role};
use grantry_core::change::Change;
use grantry_core::ids::GrantId;
use grantry_core::index::OrgState;
use grantry_core::model::{
    AccessType, Actor, Agent, Anchor, Classification, DataSource, Grant, GrantSource, GrantTarget, Principal, Resource, ResourceRef,
    Revocation, ScopeRef, AGENT, DATA_SOURCE,
};
use grantry_core::validate;
use serde_json::json;

/// The longest agent or data source name, and description.
pub(super) const MAX_NAME: usize = 100;
const MAX_DESCRIPTION: usize = 1_000;

/// An agent to register.
#[derive(Debug, Clone)]
pub struct AgentSpec {
    pub name: String,
    pub description: Option<String>,
    pub access_type: AccessType,
    pub classification: Classification,
}

/// What to change about an agent; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AgentPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub access_type: Option<AccessType>,
    pub classification: Option<Classification>,
}

/// The agent `text` names — its id, or its name without regard to case — with its resource.
pub fn find_agent(o: &OrgState, text: &str) -> Result<(Agent, Resource)> {
    let by_id = o.resource(&ResourceRef::new(AGENT, text.trim()));
    let found = by_id.or_else(|| {
        let key = validate::name_key(text);
        o.resources_of(AGENT).into_iter().find(|r| Agent::of(r).is_some_and(|a| validate::name_key(&a.name) == key))
    });
    found
        .and_then(|r| Agent::of(&r).map(|a| (a, r)))
        .ok_or_else(|| ServiceError::NotFound(format!("no agent with id or name `{}` in this organization", validate::shown(text))))
}

/// The agent `text` names, if `ctx`'s actor may see it: an agent it may not see is "not found",
/// so a private agent's name and existence stay private.
pub fn visible_agent(ix: &grantry_core::index::DecisionIndex, ctx: &Ctx, text: &str) -> Result<(Agent, Resource)> {
    let o = org(ix, &ctx.org)?;
    let found = find_agent(o, text)?;
    match ctx.authorize(ix, Action::OnAgent { agent: &found.1, permission: perm::AGENT_VIEW }) {
        Ok(_) => Ok(found),
        Err(_) => Err(ServiceError::NotFound(format!("no agent with id or name `{}` in this organization", validate::shown(text)))),
    }
}

/// A name for an agent or data source: trimmed, 1 to 100 printable characters.
pub(super) fn record_name(field: &'static str, name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ServiceError::Invalid { field: field.into(), message: "is empty; give it a name".into() });
    }
    if validate::looks_like_id(name) {
        let message = "looks like an id (24 hexadecimal characters); give a name that does not".into();
        return Err(ServiceError::Invalid { field: field.into(), message });
    }
    validate::bounded(field, name, MAX_NAME)?;
    Ok(name.to_owned())
}

/// A name for agent `this` (`None`: a new one), unique in the organization by [`validate::name_key`].
/// A clash with an agent the caller may not see says only that the name is taken.
fn agent_name(ix: &grantry_core::index::DecisionIndex, ctx: &Ctx, name: &str, this: Option<&str>) -> Result<String> {
    let o = org(ix, &ctx.org)?;
    let name = record_name("name", name)?;
    let key = validate::name_key(&name);
    let mut agents = o.resources_of(AGENT).into_iter().filter_map(|r| Agent::of(&r));
    match agents.find(|a| validate::name_key(&a.name) == key && Some(a.id.as_str()) != this) {
        None => Ok(name),
        Some(other) if visible_agent(ix, ctx, &other.id).is_ok() => {
            Err(ServiceError::Conflict(format!("an agent named `{}` already exists (id `{}`); choose another name", other.name, other.id)))
        }
        Some(_) => Err(ServiceError::Conflict("that agent name is taken; choose another name".into())),
    }
}

fn description(text: &str) -> Result<String> {
    let text = text.trim();
    validate::bounded("description", text, MAX_DESCRIPTION)?;
    Ok(text.to_owned())
}

fn agent_event(ctx: &Ctx, event_type: &str, agent: &Agent) -> AuditDraft {
    let mut d = AuditDraft::new(&ctx.audit_actor(), event_type, AGENT, &agent.id);
    d.after = Some(
        json!({ "agentId": agent.id, "agentName": agent.name, "accessType": agent.access_type, "classification": agent.classification }),
    );
    d
}

/// The data sources of agent `agent_id`, by id.
pub(super) fn sources_of(o: &OrgState, agent_id: &str) -> Vec<(DataSource, Resource)> {
    let parent = ResourceRef::new(AGENT, agent_id);
    o.resources_with(DATA_SOURCE, "agent_id", &agent_id.into())
        .into_iter()
        .filter(|r| r.parent.as_ref() == Some(&parent))
        .filter_map(|r| DataSource::of(&r).map(|s| (s, r)))
        .collect()
}

/// A grant of agent role `role_name` on `on` to `to`, from `starts_at` until `expires_at`.
pub(super) fn role_on(
    ctx: &Ctx,
    to: Principal,
    role_name: &str,
    on: ResourceRef,
    window: (grantry_core::Timestamp, Option<grantry_core::Timestamp>),
    tags: Vec<String>,
) -> Result<Grant> {
    Ok(Grant {
        id: GrantId(new_id()?),
        org: ctx.org.clone(),
        principal: to,
        target: GrantTarget::Role { role: role_name.to_owned() },
        anchor: Anchor::Resource(on),
        starts_at: window.0,
        expires_at: window.1,
        justification: None,
        tags,
        creator: ctx.audit_actor(),
        source: GrantSource::Assignment,
        created_at: ctx.now,
        revoked: None,
    })
}

/// Registers an agent; its creator (a user) holds `agent_creator` on it.
pub async fn create_agent(state: &AppState, ctx: &Ctx, spec: &AgentSpec) -> Result<(u64, Agent)> {
    let (committed, agent) = state
        .write_as(ctx, |ix, ctx| {
            let permit = ctx.authorize(ix, Action::CreateAgent)?;
            let agent = Agent {
                id: new_id()?,
                name: agent_name(ix, ctx, &spec.name, None)?,
                description: description(spec.description.as_deref().unwrap_or_default())?,
                access_type: spec.access_type,
                classification: spec.classification,
                created_by: ctx.audit_actor().to_string(),
            };
            let resource = Resource {
                org: ctx.org.clone(),
                reference: agent.reference(),
                parent: None,
                scope: ScopeRef::Org,
                attributes: agent.attributes(),
                created_at: ctx.now,
            };
            let mut changes = vec![Change::ResourceRegistered { resource }];
            let mut audit = vec![agent_event(ctx, "agent.created", &agent)];
            if let Actor::User(id) = ctx.audit_actor() {
                let grant = role_on(ctx, Principal::User(id), role::AGENT_CREATOR, agent.reference(), (ctx.now, None), vec![])?;
                audit.push(grant_event(&ctx.audit_actor(), "grant.created", &grant));
                changes.push(Change::GrantCreated { grant });
            }
            Ok((ctx.batch(permit, changes, audit), agent))
        })
        .await?;
    Ok((committed.revision, agent))
}

/// Changes agent `agent` (id or name); writes nothing when nothing changes.
pub async fn update_agent(state: &AppState, ctx: &Ctx, agent: &str, patch: &AgentPatch) -> Result<(u64, Agent)> {
    let build = |ix: &grantry_core::index::DecisionIndex, ctx: &Ctx| -> Result<(Agent, Agent, Resource)> {
        let (before, resource) = find_agent(org(ix, &ctx.org)?, agent)?;
        let mut after = before.clone();
        if let Some(name) = &patch.name {
            after.name = agent_name(ix, ctx, name, Some(&before.id))?;
        }
        if let Some(text) = &patch.description {
            after.description = description(text)?;
        }
        if let Some(t) = patch.access_type {
            after.access_type = t;
        }
        if let Some(c) = patch.classification {
            after.classification = c;
        }
        Ok((before, after, resource))
    };
    let authorize = |ix: &grantry_core::index::DecisionIndex, ctx: &Ctx| -> Result<(Agent, Agent, Resource, grantry_core::authz::Permit)> {
        let (_, found) = visible_agent(ix, ctx, agent)?;
        let mut permit = ctx.authorize(ix, Action::OnAgent { agent: &found, permission: perm::AGENT_EDIT })?;
        let (before, after, resource) = build(ix, ctx)?;
        if after.access_type != before.access_type {
            permit = ctx.authorize(ix, Action::OnAgent { agent: &resource, permission: perm::AGENT_MANAGE_PERMISSIONS })?;
        }
        Ok((before, after, resource, permit))
    };
    {
        let ix = state.index();
        let (before, after, ..) = authorize(&ix, ctx)?;
        if before == after {
            return Ok((ix.revision(), after));
        }
    }
    let (committed, after) = state
        .write_as(ctx, |ix, ctx| {
            let (before, after, resource, permit) = authorize(ix, ctx)?;
            let mut audit = Vec::new();
            if after.access_type != before.access_type {
                let mut d = agent_event(ctx, "agent.access_type_changed", &after);
                d.before = Some(json!({ "accessType": before.access_type }));
                audit.push(d);
            }
            if (&after.name, &after.description, after.classification) != (&before.name, &before.description, before.classification) {
                let mut d = agent_event(ctx, "agent.updated", &after);
                d.before =
                    Some(json!({ "agentName": before.name, "description": before.description, "classification": before.classification }));
                audit.push(d);
            }
            let updated = Resource { attributes: after.attributes(), ..resource };
            Ok((ctx.batch(permit, vec![Change::ResourceUpdated { resource: updated }], audit), after))
        })
        .await?;
    Ok((committed.revision, after))
}

/// Deletes agent `agent` (id or name) and its data sources, revoking every grant on them.
pub async fn delete_agent(state: &AppState, ctx: &Ctx, agent: &str) -> Result<(u64, Agent)> {
    let (committed, gone) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let (a, resource) = visible_agent(ix, ctx, agent)?;
            let permit = ctx.authorize(ix, Action::OnAgent { agent: &resource, permission: perm::AGENT_DELETE })?;
            let revocation = Revocation { at: ctx.now, by: ctx.audit_actor() };
            let sources = sources_of(o, &a.id);
            let mut grants = o.grants_on(&a.reference());
            for (s, _) in &sources {
                grants.extend(o.grants_on(&s.reference()));
            }
            let mut changes: Vec<Change> = grants
                .iter()
                .map(|g| Change::GrantRevoked { org: ctx.org.clone(), id: g.id.clone(), revocation: revocation.clone() })
                .collect();
            changes.extend(sources.iter().map(|(s, _)| Change::ResourceRemoved { org: ctx.org.clone(), reference: s.reference() }));
            changes.push(Change::ResourceRemoved { org: ctx.org.clone(), reference: a.reference() });
            let mut d = agent_event(ctx, "agent.deleted", &a);
            d.before = d.after.take();
            let ids: Vec<&str> = grants.iter().map(|g| g.id.as_str()).collect();
            let source_ids: Vec<&str> = sources.iter().map(|(s, _)| s.id.as_str()).collect();
            d.after = Some(json!({ "revoked_grants": ids, "removed_data_sources": source_ids }));
            Ok((ctx.batch(permit, changes, vec![d]), a))
        })
        .await?;
    Ok((committed.revision, gone))
}
