//! Conversations: resources applications register with their owner, so that temporary grants can
//! be scoped to the owner (seed 001).

use super::{org, Ctx};
use crate::ids::new_id;
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::attr::{AttrValue, Attributes};
use grantry_core::audit::AuditDraft;
use grantry_core::authz::Action;
use grantry_core::change::Change;
use grantry_core::ids::UserId;
use grantry_core::model::{Principal, Resource, ResourceRef, ScopeRef};
use grantry_core::validate;

/// The resource type of conversations.
pub const CONVERSATION: &str = "conversation";

/// The path of a conversation's page, relative to the server's URL: `/{org}/admin/conversation/{id}`.
pub fn conversation_url_path(org_slug: &str, id: &str) -> String {
    format!("/{org_slug}/admin/conversation/{id}")
}

/// Registers a conversation owned by `owner`, with the given id or a new one.
pub async fn register_conversation(state: &AppState, ctx: &Ctx, owner: &UserId, id: Option<&str>) -> Result<(u64, Resource)> {
    let (committed, resource) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let permit = ctx.authorize(ix, Action::RegisterConversation)?;
            let id = match id {
                Some(id) => validate::conversation_id(id)?,
                None => new_id()?,
            };
            if o.user(owner).is_none() {
                return Err(ServiceError::NotFound(format!(
                    "user `{owner}` not found in this organization; give the id of an existing user"
                )));
            }
            let reference = ResourceRef::new(CONVERSATION, id.as_str());
            if o.resource(&reference).is_some() {
                return Err(ServiceError::Conflict(format!("conversation `{id}` is already registered")));
            }
            let attributes: Attributes = [
                ("conversation_user_id".to_owned(), AttrValue::Str(owner.0.clone())),
                ("org_id".to_owned(), AttrValue::Str(ctx.org.0.clone())),
            ]
            .into();
            let resource =
                Resource { org: ctx.org.clone(), reference, parent: None, scope: ScopeRef::Org, attributes, created_at: ctx.now };
            let mut d = AuditDraft::new(&ctx.audit_actor(), "conversation.registered", CONVERSATION, &id);
            d.principal = Some(Principal::User(owner.clone()).to_string());
            d.after = serde_json::to_value(&resource).ok();
            Ok((ctx.batch(permit, vec![Change::ResourceRegistered { resource: resource.clone() }], vec![d]), resource))
        })
        .await?;
    Ok((committed.revision, resource))
}
