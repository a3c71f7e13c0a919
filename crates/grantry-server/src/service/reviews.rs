//! Access reviews (seed 003's recertification): an admin, or the group's own manager, certifies a
//! group's assignment to an agent or a user's membership of a group — it stays, and the review is
//! recorded — or revokes it, which takes it away in the same batch. Each review is an audit event
//! (`review.certified`, `review.revoked`) on `assignment:AGENT/GROUP` or `membership:GROUP/USER`;
//! the compliance report reads them back.

use super::agents::visible_agent;
use super::assignments::{assignments_of_agent, Assignment};
use super::groups::find_group;
use super::members::{find_user, member_event};
use super::{org, Ctx};
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::audit::AuditDraft;
use grantry_core::authz::Action;
use grantry_core::change::Change;
use grantry_core::model::{Group, GroupMember, Principal, Revocation, User};
use grantry_core::validate;
use serde_json::json;

/// What is reviewed: a group's assignment to an agent, or a user's membership of a group (each
/// named by id or name; the user by email or id).
#[derive(Debug, Clone)]
pub enum Reviewed {
    Assignment { agent: String, group: String },
    Membership { group: String, user: String },
}

/// Keep it, or take it away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Certify,
    Revoke,
}

impl Verdict {
    fn event(self) -> &'static str {
        match self {
            Self::Certify => "review.certified",
            Self::Revoke => "review.revoked",
        }
    }
}

/// A review as recorded.
#[derive(Debug, Clone)]
pub struct Review {
    pub target_type: &'static str,
    pub target_id: String,
    pub verdict: Verdict,
    pub summary: String,
}

/// The audit target of an assignment's review.
pub fn assignment_target(a: &Assignment) -> String {
    format!("{}/{}", a.agent.id, a.group.id)
}

/// The audit target of a membership's review.
pub fn membership_target(m: &GroupMember) -> String {
    format!("{}/{}", m.group, m.user)
}

fn review_event(
    ctx: &Ctx,
    verdict: Verdict,
    target: (&str, &str),
    principal: Principal,
    after: serde_json::Value,
    note: Option<&str>,
) -> AuditDraft {
    let mut d = AuditDraft::new(&ctx.audit_actor(), verdict.event(), target.0, target.1);
    d.principal = Some(principal.to_string());
    d.after = Some(after);
    d.justification = note.map(str::to_owned);
    d
}

/// Certifies or revokes `reviewed`, with an optional note.
pub async fn review(state: &AppState, ctx: &Ctx, reviewed: &Reviewed, verdict: Verdict, note: Option<&str>) -> Result<(u64, Review)> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if let Some(n) = note {
        validate::bounded("note", n, 1_000)?;
    }
    let (committed, done) = state
        .write_as(ctx, |ix, ctx| {
            let o = org(ix, &ctx.org)?;
            ctx.authorize(ix, Action::ListGroups)?;
            match reviewed {
                Reviewed::Assignment { agent, group } => {
                    let (a, resource) = visible_agent(ix, ctx, agent)?;
                    let g = find_group(o, group)?;
                    let permit = ctx.authorize(ix, Action::Review { group: g, agent: Some(&resource) })?;
                    let cur = assignments_of_agent(o, &a)
                        .into_iter()
                        .find(|x| x.group.id == g.id)
                        .ok_or_else(|| ServiceError::NotFound(format!("group `{}` is not assigned to agent `{}`", g.name, a.name)))?;
                    let target = assignment_target(&cur);
                    let after = json!({ "agentId": a.id, "agentName": a.name, "groupId": g.id, "groupName": g.name,
                                        "permission": cur.level, "grantId": cur.grant.id });
                    let mut audit = vec![review_event(ctx, verdict, ("assignment", &target), Principal::Group(g.id.clone()), after, note)];
                    let mut changes = Vec::new();
                    if verdict == Verdict::Revoke {
                        let revocation = Revocation { at: ctx.now, by: ctx.audit_actor() };
                        changes.push(Change::GrantRevoked { org: ctx.org.clone(), id: cur.grant.id.clone(), revocation });
                        let mut removed = AuditDraft::new(&ctx.audit_actor(), "agent.group_removed", "agent", &a.id);
                        removed.principal = Some(Principal::Group(g.id.clone()).to_string());
                        removed.before = audit[0].after.clone();
                        audit.push(removed);
                    }
                    let summary = format!("group `{}` on agent `{}` ({})", g.name, a.name, cur.level.name());
                    Ok((ctx.batch(permit, changes, audit), Review { target_type: "assignment", target_id: target, verdict, summary }))
                }
                Reviewed::Membership { group, user } => {
                    let g: &Group = find_group(o, group)?;
                    let permit = ctx.authorize(ix, Action::Review { group: g, agent: None })?;
                    let u: &User = find_user(o, user)?;
                    let m = o
                        .membership(&g.id, &u.id)
                        .ok_or_else(|| ServiceError::NotFound(format!("`{}` is not a member of group `{}`", u.email, g.name)))?;
                    let target = membership_target(m);
                    let after = json!({ "groupId": g.id, "groupName": g.name, "userId": u.id, "userEmail": u.email, "role": m.role });
                    let mut audit = vec![review_event(ctx, verdict, ("membership", &target), Principal::User(u.id.clone()), after, note)];
                    let mut changes = Vec::new();
                    if verdict == Verdict::Revoke {
                        // A group's manager revokes plain members only, as they remove them.
                        ctx.authorize(ix, Action::ManageMembers { group: g, role: m.role })?;
                        audit.push(member_event(ctx, "group.member_removed", g, u, Some(m), None));
                        changes.push(Change::GroupMemberRemoved { org: ctx.org.clone(), group: g.id.clone(), user: u.id.clone() });
                    }
                    let summary = format!("{} in group `{}`", u.email, g.name);
                    Ok((ctx.batch(permit, changes, audit), Review { target_type: "membership", target_id: target, verdict, summary }))
                }
            }
        })
        .await?;
    Ok((committed.revision, done))
}
