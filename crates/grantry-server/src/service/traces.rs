//! Traces (seed 002): registered in an environment and classified at capture — `is_prod` is the
//! environment's production flag at that moment, never recomputed, so flipping the flag later
//! leaves every trace already captured in its class.

use super::scopes::find;
use super::{org, Ctx};
use crate::ids::new_id;
use crate::service::error::Result;
use crate::state::AppState;
use grantry_core::attr::{AttrValue, Attributes};
use grantry_core::audit::AuditDraft;
use grantry_core::authz::Action;
use grantry_core::change::Change;
use grantry_core::model::{Resource, ResourceRef, ScopeKind};

/// The resource type of traces.
pub const TRACE: &str = "trace";

/// Captures a trace in environment `environment` of project `project` (`WS/PRJ`).
pub async fn capture_trace(state: &AppState, ctx: &Ctx, project: &str, environment: &str) -> Result<(u64, Resource)> {
    let (committed, trace) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let env = find(o, &ctx.actor, ScopeKind::Environment, &format!("{project}/{environment}"))?;
            let permit = ctx.authorize(ix, Action::CaptureTrace { environment: &env.as_ref() })?;
            // INVARIANT: the class is copied here, once; nothing updates it afterwards.
            let attributes: Attributes =
                [("is_prod".to_owned(), AttrValue::Bool(env.is_production)), ("org_id".to_owned(), AttrValue::Str(ctx.org.0.clone()))]
                    .into();
            let id = new_id()?;
            let trace = Resource {
                org: ctx.org.clone(),
                reference: ResourceRef::new(TRACE, id.as_str()),
                parent: None,
                scope: env.as_ref(),
                attributes,
                created_at: ctx.now,
            };
            let mut d = AuditDraft::new(&ctx.audit_actor(), "trace.captured", TRACE, &id);
            d.after = serde_json::to_value(&trace).ok();
            Ok((ctx.batch(permit, vec![Change::ResourceRegistered { resource: trace.clone() }], vec![d]), trace))
        })
        .await?;
    Ok((committed.revision, trace))
}
