//! The scope tree below the organization: workspaces, projects (`WS/PRJ`) and their environments,
//! which carry the production flag that classifies traces at capture (seed 002). `Scope:Manage` is
//! checked at the parent of the node created (a workspace admin creates projects in its workspace).

use super::{org, Ctx};
use crate::ids::new_id;
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::audit::AuditDraft;
use grantry_core::authz::{self, Action};
use grantry_core::change::Change;
use grantry_core::ids::ScopeId;
use grantry_core::index::OrgState;
use grantry_core::model::{Principal, ScopeKind, ScopeNode, ScopeRef};
use grantry_core::validate;

/// The node at `path`, which must be of `kind`, or an error naming what to create; an API key is
/// refused paths outside its project before any lookup.
pub fn find<'a>(o: &'a OrgState, actor: &Principal, kind: ScopeKind, path: &str) -> Result<&'a ScopeNode> {
    authz::may_name(o, actor, path)?;
    let what = kind.name();
    o.scope_by_path(path)
        .filter(|n| n.kind == kind)
        .ok_or_else(|| ServiceError::NotFound(format!("no {what} `{path}` in this organization; create it first")))
}

/// Creates a workspace (`path` = `WS`), a project (`WS/PRJ`) or an environment (`WS/PRJ/ENV`).
pub async fn create_scope(state: &AppState, ctx: &Ctx, kind: ScopeKind, path: &str, is_production: bool) -> Result<(u64, ScopeNode)> {
    let (committed, node) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let (parent_path, slug) = path.rsplit_once('/').map_or(("", path), |(p, s)| (p, s));
            let (parent_kind, depth) = match kind {
                ScopeKind::Workspace => (None, 1),
                ScopeKind::Project => (Some(ScopeKind::Workspace), 2),
                ScopeKind::Environment => (Some(ScopeKind::Project), 3),
            };
            if path.split('/').count() != depth {
                let shape = ["WORKSPACE", "WORKSPACE/PROJECT", "WORKSPACE/PROJECT/ENVIRONMENT"][depth - 1];
                return Err(ServiceError::Invalid { field: kind.name().into(), message: format!("`{path}` is not of the form {shape}") });
            }
            let slug = validate::slug(kind.name(), slug)?;
            if kind == ScopeKind::Workspace && slug == "org" {
                return Err(ServiceError::Invalid {
                    field: "workspace".into(),
                    message: "`org` names the organization itself in scope paths; choose another name".into(),
                });
            }
            let parent = match parent_kind {
                None => ScopeRef::Org,
                Some(pk) => find(o, &ctx.actor, pk, parent_path)?.as_ref(),
            };
            let permit = ctx.authorize(ix, Action::ManageScope { at: &parent })?;
            if o.scope_by_path(path).is_some() {
                return Err(ServiceError::Conflict(format!("{} `{path}` already exists", kind.name())));
            }
            let node = ScopeNode {
                id: ScopeId(new_id()?),
                org: ctx.org.clone(),
                kind,
                slug,
                parent,
                is_production: kind == ScopeKind::Environment && is_production,
                created_at: ctx.now,
            };
            let mut d = AuditDraft::new(&ctx.audit_actor(), &format!("{}.created", kind.name()), kind.name(), node.id.as_str());
            d.after = serde_json::to_value(&node).ok();
            Ok((ctx.batch(permit, vec![Change::ScopeNodeCreated { node: node.clone() }], vec![d]), node))
        })
        .await?;
    Ok((committed.revision, node))
}

/// Sets an environment's production flag (writing nothing when it already has that value).
/// Traces already captured keep their classification.
pub async fn set_production(state: &AppState, ctx: &Ctx, path: &str, is_production: bool) -> Result<(u64, ScopeNode)> {
    {
        let ix = state.index();
        let o = org(&ix, &ctx.org)?;
        let env = find(o, &ctx.actor, ScopeKind::Environment, path)?;
        ctx.authorize(&ix, Action::SetProduction { environment: &env.as_ref(), is_production })?;
        if env.is_production == is_production {
            return Ok((ix.revision(), env.clone()));
        }
    }
    let (committed, node) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let env = find(o, &ctx.actor, ScopeKind::Environment, path)?;
            let permit = ctx.authorize(ix, Action::SetProduction { environment: &env.as_ref(), is_production })?;
            let mut after = env.clone();
            after.is_production = is_production;
            let mut d = AuditDraft::new(&ctx.audit_actor(), "environment.updated", "environment", env.id.as_str());
            d.before = serde_json::to_value(env).ok();
            d.after = serde_json::to_value(&after).ok();
            let change = Change::EnvironmentProductionSet { org: ctx.org.clone(), id: env.id.clone(), is_production };
            Ok((ctx.batch(permit, vec![change], vec![d]), after))
        })
        .await?;
    Ok((committed.revision, node))
}
