//! The compliance report (seed 003): every assignment of a group to an agent and every membership
//! of a group, when it was last reviewed and how, and when the next review falls due by the
//! organization's review period (quarterly unless changed) — overdue ones first.

use super::assignments::assignments_of_agent;
use super::reviews::{assignment_target, membership_target};
use super::{org, Ctx};
use crate::service::error::Result;
use crate::state::AppState;
use grantry_core::authz::Action;
use grantry_core::model::{Agent, AGENT};
use grantry_core::{SignedDuration, Timestamp};
use grantry_store::AuditFilter;
use std::collections::HashMap;

/// The last review of something.
#[derive(Debug, Clone)]
pub struct LastReview {
    pub at: Timestamp,
    pub by: String,
    /// `certified` or `revoked`.
    pub verdict: String,
}

/// One row of the report.
#[derive(Debug, Clone)]
pub struct ComplianceItem {
    /// `assignment` or `membership`.
    pub kind: &'static str,
    /// `AGENT/GROUP` or `GROUP/USER`: what a review names.
    pub target: String,
    /// The agent (for an assignment) or the user (for a membership).
    pub subject: String,
    pub group: String,
    /// The assignment's level, or the member's role.
    pub level: String,
    pub since: Timestamp,
    pub last_review: Option<LastReview>,
    pub due_at: Timestamp,
    pub overdue: bool,
}

/// The report, overdue rows first, then by when they fall due.
pub async fn compliance(state: &AppState, ctx: &Ctx) -> Result<(u32, Vec<ComplianceItem>)> {
    {
        let ix = state.index();
        ctx.authorize(&ix, Action::ReadReports)?;
    }
    let mut last: HashMap<(String, String), LastReview> = HashMap::new();
    for verdict in ["review.certified", "review.revoked"] {
        let filter = AuditFilter { event_type: Some(verdict.to_owned()), ..AuditFilter::default() };
        for e in state.store.audit_events(&ctx.org, filter).await? {
            let review = LastReview { at: e.at, by: e.actor.to_string(), verdict: verdict.trim_start_matches("review.").to_owned() };
            let key = (e.target_type.clone(), e.target_id.clone());
            if last.get(&key).is_none_or(|l| l.at <= review.at) {
                last.insert(key, review);
            }
        }
    }
    let ix = state.index();
    let o = org(&ix, &ctx.org)?;
    let period = SignedDuration::from_hours(24 * i64::from(o.org().policy.review_period_days));
    let row = |kind: &'static str, target: String, subject: String, group: String, level: String, since: Timestamp| {
        let last_review = last.get(&(kind.to_owned(), target.clone())).cloned();
        let from = last_review.as_ref().map_or(since, |r| r.at);
        let due_at = from.checked_add(period).unwrap_or(Timestamp::MAX);
        ComplianceItem { kind, target, subject, group, level, since, last_review, due_at, overdue: due_at <= ctx.now }
    };
    let mut items = Vec::new();
    for agent in o.resources_of(AGENT).iter().filter_map(Agent::of) {
        for a in assignments_of_agent(o, &agent) {
            items.push(row(
                "assignment",
                assignment_target(&a),
                a.agent.name.clone(),
                a.group.name.clone(),
                a.level.name().to_owned(),
                a.grant.starts_at,
            ));
        }
    }
    for g in o.groups() {
        for m in o.members(&g.id) {
            let email = o.user(&m.user).map_or_else(|| m.user.to_string(), |u| u.email.clone());
            items.push(row("membership", membership_target(m), email, g.name.clone(), m.role.name().to_owned(), m.added_at));
        }
    }
    items.sort_by(|a, b| (!a.overdue, a.due_at, &a.target).cmp(&(!b.overdue, b.due_at, &b.target)));
    Ok((o.org().policy.review_period_days, items))
}
