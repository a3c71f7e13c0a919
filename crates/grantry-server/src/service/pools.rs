//! Agent pools (seed 004): register one (`AgentPool:Manage`), list them (whoever lists users),
//! delete one — which revokes every grant on it at once. A pool is named by its id or its name
//! (unique without regard to case). Audited as `agent_pool.created` and `agent_pool.deleted`.

use super::agents::record_name;
use super::{org, Ctx};
use crate::ids::new_id;
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::audit::AuditDraft;
use grantry_core::authz::Action;
use grantry_core::change::Change;
use grantry_core::index::OrgState;
use grantry_core::model::{AgentPool, Resource, ResourceRef, Revocation, ScopeRef, AGENT_POOL};
use grantry_core::validate;
use serde_json::json;

/// The longest pool description.
const MAX_DESCRIPTION: usize = 1_000;

/// The organization's pools, by name.
pub fn pools(o: &OrgState) -> Vec<AgentPool> {
    let mut all: Vec<AgentPool> = o.resources_of(AGENT_POOL).iter().filter_map(AgentPool::of).collect();
    all.sort_by_key(|p| validate::name_key(&p.name));
    all
}

/// The pool `text` names: its id, or its name without regard to case.
pub fn find_pool(o: &OrgState, text: &str) -> Result<AgentPool> {
    let by_id = o.resource(&ResourceRef::new(AGENT_POOL, text.trim())).and_then(|r| AgentPool::of(&r));
    let key = validate::name_key(text);
    by_id.or_else(|| pools(o).into_iter().find(|p| validate::name_key(&p.name) == key)).ok_or_else(|| {
        ServiceError::NotFound(format!("no agent pool with id or name `{}`; `grantry pool list` shows them", validate::shown(text)))
    })
}

fn pool_event(ctx: &Ctx, event_type: &str, pool: &AgentPool) -> AuditDraft {
    let mut d = AuditDraft::new(&ctx.audit_actor(), event_type, AGENT_POOL, &pool.id);
    d.after = Some(json!({ "poolId": pool.id, "poolName": pool.name, "description": pool.description }));
    d
}

/// Registers an agent pool named `name`.
pub async fn create_pool(state: &AppState, ctx: &Ctx, name: &str, description: Option<&str>) -> Result<(u64, AgentPool)> {
    let description = description.unwrap_or_default().trim().to_owned();
    validate::bounded("description", &description, MAX_DESCRIPTION)?;
    let (committed, pool) = state
        .write_as(ctx, |ix, ctx| {
            let permit = ctx.authorize(ix, Action::ManagePools)?;
            let o = org(ix, &ctx.org)?;
            let name = record_name("name", name)?;
            let key = validate::name_key(&name);
            if let Some(other) = pools(o).into_iter().find(|p| validate::name_key(&p.name) == key) {
                return Err(ServiceError::Conflict(format!(
                    "an agent pool named `{}` already exists (id `{}`); choose another name",
                    other.name, other.id
                )));
            }
            let pool = AgentPool { id: new_id()?, name, description: description.clone(), created_by: ctx.audit_actor().to_string() };
            let resource = Resource {
                org: ctx.org.clone(),
                reference: pool.reference(),
                parent: None,
                scope: ScopeRef::Org,
                attributes: pool.attributes(),
                created_at: ctx.now,
            };
            let audit = vec![pool_event(ctx, "agent_pool.created", &pool)];
            Ok((ctx.batch(permit, vec![Change::ResourceRegistered { resource }], audit), pool))
        })
        .await?;
    Ok((committed.revision, pool))
}

/// Deletes the pool `text` names: every grant on it is revoked in the same write.
pub async fn delete_pool(state: &AppState, ctx: &Ctx, text: &str) -> Result<(u64, AgentPool)> {
    let (committed, gone) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            ctx.authorize(ix, Action::ListPools)?;
            let pool = find_pool(o, text)?;
            let permit = ctx.authorize(ix, Action::ManagePools)?;
            let revocation = Revocation { at: ctx.now, by: ctx.audit_actor() };
            let grants = o.grants_on(&pool.reference());
            let mut changes: Vec<Change> = grants
                .iter()
                .map(|g| Change::GrantRevoked { org: ctx.org.clone(), id: g.id.clone(), revocation: revocation.clone() })
                .collect();
            changes.push(Change::ResourceRemoved { org: ctx.org.clone(), reference: pool.reference() });
            let mut d = pool_event(ctx, "agent_pool.deleted", &pool);
            d.before = d.after.take();
            d.after = Some(json!({ "revoked_grants": grants.iter().map(|g| g.id.as_str()).collect::<Vec<_>>() }));
            Ok((ctx.batch(permit, changes, vec![d]), pool))
        })
        .await?;
    Ok((committed.revision, gone))
}
