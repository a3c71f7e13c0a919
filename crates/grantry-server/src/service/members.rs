//! Group members (seed 003): add users to a group as `MEMBER` or `MANAGER`, optionally until an
//! end, and remove them — many at once, all or nothing. Whoever holds `Group:Manage` does this
//! for any group; a group's own managers add and remove its plain members. A membership's end is
//! decided at check time like every expiry; a removal ends the access the group gave on the next
//! check. Each membership change writes a `group.member_*` audit event.

use super::groups::find_group;
use super::{org, Ctx};
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::audit::AuditDraft;
use grantry_core::authz::{Action, Permit};
use grantry_core::change::Change;
use grantry_core::ids::UserId;
use grantry_core::index::OrgState;
use grantry_core::model::{Group, GroupMember, GroupRole, Principal, User};
use grantry_core::{validate, Timestamp};
use serde_json::json;

/// The most users one call adds or removes.
pub const MAX_MEMBERS_AT_ONCE: usize = 1_000;

/// The user `text` names: an email (it holds an `@`) or an id.
pub fn find_user<'a>(o: &'a OrgState, text: &str) -> Result<&'a User> {
    let text = text.trim();
    let found = if text.contains('@') { o.user_by_email(&text.to_lowercase()) } else { o.user(&UserId(text.to_owned())) };
    found.ok_or_else(|| ServiceError::NotFound(format!("no user `{}` in this organization", validate::shown(text))))
}

/// The users `texts` name, each once, in the order given.
pub(super) fn users<'a>(o: &'a OrgState, field: &'static str, texts: &[String]) -> Result<Vec<&'a User>> {
    if texts.is_empty() || texts.len() > MAX_MEMBERS_AT_ONCE {
        return Err(ServiceError::Invalid {
            field: field.into(),
            message: format!("give 1 to {MAX_MEMBERS_AT_ONCE} users (ids or emails); {} were given", texts.len()),
        });
    }
    let mut out: Vec<&User> = Vec::with_capacity(texts.len());
    for text in texts {
        let u = find_user(o, text).map_err(ServiceError::named_in(field))?;
        if !out.iter().any(|seen| seen.id == u.id) {
            out.push(u);
        }
    }
    Ok(out)
}

pub(super) fn member_event(
    ctx: &Ctx,
    event_type: &str,
    group: &Group,
    user: &User,
    before: Option<&GroupMember>,
    after: Option<&GroupMember>,
) -> AuditDraft {
    let mut d = AuditDraft::new(&ctx.audit_actor(), event_type, "group", group.id.as_str());
    d.principal = Some(Principal::User(user.id.clone()).to_string());
    let shape = |m: &GroupMember| {
        json!({ "group_id": group.id, "group_name": group.name, "user_id": user.id, "user_email": user.email,
                "role": m.role, "expires_at": m.expires_at })
    };
    d.before = before.map(shape);
    d.after = after.map(shape);
    d
}

/// What adding users to a group changes: the permit, the changes and their audit events, and the
/// memberships as they will be.
struct Additions {
    permit: Permit,
    changes: Vec<Change>,
    audit: Vec<AuditDraft>,
    members: Vec<GroupMember>,
}

/// One membership planned: the permit, the change and its event when there is one, the membership.
pub(super) struct Planned {
    pub permit: Permit,
    pub change: Option<(Change, AuditDraft)>,
    pub member: GroupMember,
}

/// Whether members may be added to `g` until `expires_at`: the group is active and the end ahead.
pub(super) fn joinable(ctx: &Ctx, g: &Group, expires_at: Option<Timestamp>) -> Result<()> {
    if !g.is_active() {
        return Err(ServiceError::Conflict(format!("group `{}` is archived; restore it before adding members", g.name)));
    }
    if let Some(end) = expires_at.filter(|end| *end <= ctx.now) {
        return Err(ServiceError::Invalid {
            field: "endDate".into(),
            message: format!("{end} is not in the future; give an end after now, or none for a membership without end"),
        });
    }
    Ok(())
}

/// Adding `u` to `g` as `role` until `expires_at`, refused unless the actor may; a user already in
/// it takes the new role and end, and nothing changes when they are the same.
pub(super) fn plan_join(
    ix: &grantry_core::index::DecisionIndex,
    ctx: &Ctx,
    (g, u): (&Group, &User),
    role: GroupRole,
    expires_at: Option<Timestamp>,
) -> Result<Planned> {
    let o = org(ix, &ctx.org)?;
    let before = o.membership(&g.id, &u.id);
    // Making or unmaking a manager is for whoever manages groups, not for the group's managers.
    let weighed = before.map_or(role, |b| b.role.max(role));
    let permit = ctx.authorize(ix, Action::ManageMembers { group: g, role: weighed })?;
    let member = GroupMember {
        org: ctx.org.clone(),
        group: g.id.clone(),
        user: u.id.clone(),
        role,
        added_at: before.map_or(ctx.now, |b| b.added_at),
        expires_at,
    };
    if before == Some(&member) {
        return Ok(Planned { permit, change: None, member });
    }
    let event_type = if before.is_some() { "group.member_updated" } else { "group.member_added" };
    let event = member_event(ctx, event_type, g, u, before, Some(&member));
    Ok(Planned { permit, change: Some((Change::GroupMemberSet { member: member.clone() }, event)), member })
}

/// Taking `u` out of `g`, refused unless the actor may; `None` when `u` is not a member.
pub(super) fn plan_leave(ix: &grantry_core::index::DecisionIndex, ctx: &Ctx, g: &Group, u: &User) -> Result<Option<Planned>> {
    let o = org(ix, &ctx.org)?;
    let Some(m) = o.membership(&g.id, &u.id) else { return Ok(None) };
    let permit = ctx.authorize(ix, Action::ManageMembers { group: g, role: m.role })?;
    let event = member_event(ctx, "group.member_removed", g, u, Some(m), None);
    let change = Change::GroupMemberRemoved { org: ctx.org.clone(), group: g.id.clone(), user: u.id.clone() };
    Ok(Some(Planned { permit, change: Some((change, event)), member: m.clone() }))
}

/// The group `text` names and the permit to manage its plain members; whether a group exists is
/// told only to those who may see the groups.
pub(super) fn managed_group<'a>(ix: &'a grantry_core::index::DecisionIndex, ctx: &Ctx, text: &str) -> Result<(&'a Group, Permit)> {
    let o = org(ix, &ctx.org)?;
    ctx.authorize(ix, Action::ListGroups)?;
    let g = find_group(o, text)?;
    let permit = ctx.authorize(ix, Action::ManageMembers { group: g, role: GroupRole::Member })?;
    Ok((g, permit))
}

/// The membership changes that adding `users` to `group` as `role` until `expires_at` makes, with
/// their audit events; refused unless the actor may make every one of them.
fn additions(
    ix: &grantry_core::index::DecisionIndex,
    ctx: &Ctx,
    group: &str,
    texts: &[String],
    role: GroupRole,
    expires_at: Option<Timestamp>,
) -> Result<Additions> {
    let o = org(ix, &ctx.org)?;
    let (g, mut permit) = managed_group(ix, ctx, group)?;
    joinable(ctx, g, expires_at)?;
    let (mut changes, mut audit, mut members) = (Vec::new(), Vec::new(), Vec::new());
    for u in users(o, "userIds", texts)? {
        let p = plan_join(ix, ctx, (g, u), role, expires_at)?;
        permit = p.permit;
        if let Some((change, event)) = p.change {
            changes.push(change);
            audit.push(event);
        }
        members.push(p.member);
    }
    Ok(Additions { permit, changes, audit, members })
}

/// Adds `users` (ids or emails) to `group` (id or name) as `role`, until `expires_at` if given;
/// a user already in it takes the new role and end. Writes nothing when nothing changes.
pub async fn add_members(
    state: &AppState,
    ctx: &Ctx,
    group: &str,
    users: &[String],
    role: GroupRole,
    expires_at: Option<Timestamp>,
) -> Result<(u64, Vec<GroupMember>)> {
    {
        let ix = state.index();
        let planned = additions(&ix, ctx, group, users, role, expires_at)?;
        if planned.changes.is_empty() {
            return Ok((ix.revision(), planned.members));
        }
    }
    let (committed, members) = state
        .write_as(ctx, |ix, ctx| {
            let a = additions(ix, ctx, group, users, role, expires_at)?;
            Ok((ctx.batch(a.permit, a.changes, a.audit), a.members))
        })
        .await?;
    Ok((committed.revision, members))
}

/// Removes `users` (ids or emails) from `group` (id or name); each must be a member.
pub async fn remove_members(state: &AppState, ctx: &Ctx, group: &str, users: &[String]) -> Result<(u64, Vec<GroupMember>)> {
    let (committed, removed) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            let (g, mut permit) = managed_group(ix, ctx, group)?;
            let (mut changes, mut audit, mut removed) = (Vec::new(), Vec::new(), Vec::new());
            for u in self::users(o, "userIds", users)? {
                let p = plan_leave(ix, ctx, g, u)?.ok_or_else(|| ServiceError::Invalid {
                    field: "userIds".into(),
                    message: format!("`{}` is not a member of group `{}`", u.email, g.name),
                })?;
                permit = p.permit;
                if let Some((change, event)) = p.change {
                    changes.push(change);
                    audit.push(event);
                }
                removed.push(p.member);
            }
            Ok((ctx.batch(permit, changes, audit), removed))
        })
        .await?;
    Ok((committed.revision, removed))
}
