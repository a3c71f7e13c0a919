//! Groups (seed 003): create, rename, describe, move under another parent, archive, restore and
//! delete. A group's name is unique in its organization without regard to case; its parent is an
//! active group; the tree has no cycles and is at most the organization's `max_group_depth`
//! deep. Archiving a group stops its grants reaching anyone (and what it passed down to its
//! children) on the next check; deleting it also revokes its grants and drops its memberships.
//! Each change writes a `group.*` audit event with the group before and after.

use super::{org, Ctx};
use crate::ids::new_id;
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::audit::AuditDraft;
use grantry_core::authz::Action;
use grantry_core::change::Change;
use grantry_core::ids::GroupId;
use grantry_core::index::OrgState;
use grantry_core::model::{Group, GroupStatus, Principal, Revocation};
use grantry_core::validate;
use serde_json::json;

/// The longest group name and description.
const MAX_NAME: usize = 100;
const MAX_DESCRIPTION: usize = 1_000;

/// A group to create.
#[derive(Debug, Clone, Default)]
pub struct GroupSpec {
    pub name: String,
    pub description: Option<String>,
    /// The parent group, by id or name.
    pub parent: Option<String>,
}

/// What to change about a group; `None` leaves a field as it is (`Some(None)` for the parent
/// makes the group a top-level one).
#[derive(Debug, Clone, Default)]
pub struct GroupPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub parent: Option<Option<String>>,
    pub status: Option<GroupStatus>,
}

/// The group named by `text` — its id, or its name without regard to case.
pub fn find_group<'a>(o: &'a OrgState, text: &str) -> Result<&'a Group> {
    o.group(&GroupId(text.to_owned()))
        .or_else(|| o.group_by_name(text.trim()))
        .ok_or_else(|| ServiceError::NotFound(format!("no group with id or name `{}` in this organization", validate::shown(text))))
}

fn group_name(o: &OrgState, name: &str, this: Option<&GroupId>) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ServiceError::Invalid { field: "name".into(), message: "is empty; give the group a name".into() });
    }
    validate::bounded("name", name, MAX_NAME)?;
    if validate::looks_like_id(name) {
        let message = "looks like an id (24 hexadecimal characters); give a name that does not".into();
        return Err(ServiceError::Invalid { field: "name".into(), message });
    }
    if let Some(other) = o.group_by_name(name).filter(|g| Some(&g.id) != this) {
        return Err(ServiceError::Conflict(format!(
            "a group named `{}` already exists (id `{}`); choose another name",
            other.name, other.id
        )));
    }
    Ok(name.to_owned())
}

fn description(text: &str) -> Result<String> {
    let text = text.trim();
    validate::bounded("description", text, MAX_DESCRIPTION)?;
    Ok(text.to_owned())
}

/// The parent `text` names for group `this` (`None` while it is being created): an active group
/// that is not `this` nor below it, with room for `this` and its subtree under the depth limit.
fn parent_for(o: &OrgState, text: &str, this: Option<&GroupId>) -> Result<GroupId> {
    let invalid = |message: String| ServiceError::Invalid { field: "parent".into(), message };
    let parent = find_group(o, text).map_err(ServiceError::named_in("parent"))?;
    if !parent.is_active() {
        return Err(invalid(format!("group `{}` is archived; restore it or choose an active parent", parent.name)));
    }
    let above = o.group_ancestry(&parent.id);
    if let Some(this) = this {
        if above.iter().any(|g| &g.id == this) {
            let name = o.group(this).map_or(this.as_str(), |g| g.name.as_str());
            return Err(invalid(format!(
                "group `{}` is `{name}` or below it, so it cannot be its parent: that would make a cycle",
                parent.name
            )));
        }
    }
    let height = this.map_or(1, |id| o.subtree_height(id));
    let max = o.org().policy.max_group_depth as usize;
    if above.len() + height > max {
        return Err(invalid(format!(
            "groups may nest {max} deep in this organization; under `{}` (at depth {}) the group{} would reach depth {}",
            parent.name,
            above.len(),
            if height > 1 { " and the groups below it" } else { "" },
            above.len() + height
        )));
    }
    Ok(parent.id.clone())
}

fn event(ctx: &Ctx, event_type: &str, group: &Group, before: Option<&Group>, after: Option<&Group>) -> AuditDraft {
    let mut d = AuditDraft::new(&ctx.audit_actor(), event_type, "group", group.id.as_str());
    d.principal = Some(Principal::Group(group.id.clone()).to_string());
    d.before = before.and_then(|g| serde_json::to_value(g).ok());
    d.after = after.and_then(|g| serde_json::to_value(g).ok());
    d
}

/// Creates a group.
pub async fn create_group(state: &AppState, ctx: &Ctx, spec: &GroupSpec) -> Result<(u64, Group)> {
    let (committed, group) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let permit = ctx.authorize(ix, Action::ManageGroups)?;
            let group = Group {
                id: GroupId(new_id()?),
                org: ctx.org.clone(),
                name: group_name(o, &spec.name, None)?,
                description: description(spec.description.as_deref().unwrap_or_default())?,
                parent: spec.parent.as_deref().map(|p| parent_for(o, p, None)).transpose()?,
                status: GroupStatus::Active,
                external_id: None,
                created_by: ctx.audit_actor(),
                created_at: ctx.now,
            };
            let audit = vec![event(ctx, "group.created", &group, None, Some(&group))];
            Ok((ctx.batch(permit, vec![Change::GroupCreated { group: group.clone() }], audit), group))
        })
        .await?;
    Ok((committed.revision, group))
}

/// Changes group `group` (by id or name); writes nothing when nothing changes.
pub async fn update_group(state: &AppState, ctx: &Ctx, group: &str, patch: &GroupPatch) -> Result<(u64, Group)> {
    let build = |o: &OrgState| -> Result<(Group, Group)> {
        let before = find_group(o, group)?;
        let mut after = before.clone();
        if let Some(name) = &patch.name {
            after.name = group_name(o, name, Some(&before.id))?;
        }
        if let Some(text) = &patch.description {
            after.description = description(text)?;
        }
        if let Some(parent) = &patch.parent {
            after.parent = parent.as_deref().map(|p| parent_for(o, p, Some(&before.id))).transpose()?;
        }
        if let Some(status) = patch.status {
            after.status = status;
        }
        Ok((before.clone(), after))
    };
    {
        let ix = state.index();
        let o = org(&ix, &ctx.org)?;
        ctx.authorize(&ix, Action::ManageGroups)?;
        let (before, after) = build(o)?;
        if before == after {
            return Ok((ix.revision(), after));
        }
    }
    let (committed, after) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let permit = ctx.authorize(ix, Action::ManageGroups)?;
            let (before, after) = build(o)?;
            let event_type = match (before.status, after.status) {
                (GroupStatus::Active, GroupStatus::Archived) => "group.archived",
                (GroupStatus::Archived, GroupStatus::Active) => "group.restored",
                _ => "group.updated",
            };
            let audit = vec![event(ctx, event_type, &before, Some(&before), Some(&after))];
            Ok((ctx.batch(permit, vec![Change::GroupUpdated { group: after.clone() }], audit), after))
        })
        .await?;
    Ok((committed.revision, after))
}

/// Deletes group `group` (by id or name): its grants are revoked and its memberships dropped in
/// the same batch. A group with child groups is refused: move or delete them first.
pub async fn delete_group(state: &AppState, ctx: &Ctx, group: &str) -> Result<(u64, Group)> {
    let (committed, gone) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let permit = ctx.authorize(ix, Action::ManageGroups)?;
            let g = find_group(o, group)?;
            let children: Vec<&str> = o.children(&g.id).iter().map(|c| c.name.as_str()).collect();
            if !children.is_empty() {
                return Err(ServiceError::Conflict(format!(
                    "group `{}` has child groups ({}); move them to another parent or delete them first",
                    g.name,
                    children.join(", ")
                )));
            }
            let principal = Principal::Group(g.id.clone());
            let revocation = Revocation { at: ctx.now, by: ctx.audit_actor() };
            let held = o.grants_of(&principal);
            let mut changes: Vec<Change> = held
                .iter()
                .map(|grant| Change::GrantRevoked { org: ctx.org.clone(), id: grant.id.clone(), revocation: revocation.clone() })
                .collect();
            changes.push(Change::GroupDeleted { org: ctx.org.clone(), id: g.id.clone() });
            let mut deleted = event(ctx, "group.deleted", g, Some(g), None);
            let members: Vec<&str> = o.members(&g.id).iter().map(|m| m.user.as_str()).collect();
            let grants: Vec<&str> = held.iter().map(|grant| grant.id.as_str()).collect();
            deleted.after = Some(json!({ "revoked_grants": grants, "removed_members": members }));
            Ok((ctx.batch(permit, changes, vec![deleted]), g.clone()))
        })
        .await?;
    Ok((committed.revision, gone))
}
