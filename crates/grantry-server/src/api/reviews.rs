//! Access reviews and the reports (seed 003): `POST /reviews` certifies or revokes a group's
//! assignment to an agent or a user's membership of a group; `GET /reports/compliance` lists every
//! assignment and membership with its last review and when the next falls due;
//! `GET /reports/access-matrix`, `/reports/memberships` and `/reports/coverage` read the index.

use super::auth::Caller;
use super::extract::ApiJson;
use crate::error::Result;
use crate::service::{self, ComplianceItem, Reviewed, ServiceError, Verdict};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use grantry_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reviews", post(review))
        .route("/reports/compliance", get(compliance))
        .route("/reports/access-matrix", get(access_matrix))
        .route("/reports/memberships", get(memberships))
        .route("/reports/coverage", get(coverage))
}

/// A review to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// `assignment` (give `agent` and `group`) or `membership` (give `group` and `user`).
    pub kind: String,
    /// The agent's id or name.
    pub agent: Option<String>,
    /// The group's id or name.
    pub group: String,
    /// The user's email or id.
    pub user: Option<String>,
    /// `certify` (it stays) or `revoke` (it is taken away now).
    pub verdict: String,
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// A review as recorded.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReviewView {
    /// `assignment` or `membership`.
    pub kind: String,
    /// `AGENT/GROUP` or `GROUP/USER` ids.
    pub target: String,
    /// `certified` or `revoked`.
    pub verdict: String,
    pub summary: String,
    pub revision: u64,
}

/// The last review of an assignment or membership.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LastReviewView {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub by: String,
    pub verdict: String,
}

/// One row of the compliance report.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ComplianceRow {
    /// `assignment` or `membership`.
    pub kind: String,
    pub target: String,
    /// The agent's name (an assignment) or the user's email (a membership).
    pub subject: String,
    pub group: String,
    /// The level (`VIEW_AND_USE`, `EDIT`) or the role (`MEMBER`, `MANAGER`).
    pub level: String,
    #[schema(value_type = String, format = DateTime)]
    pub since: Timestamp,
    pub last_review: Option<LastReviewView>,
    #[schema(value_type = String, format = DateTime)]
    pub due_at: Timestamp,
    pub overdue: bool,
}

impl ComplianceRow {
    fn new(i: ComplianceItem) -> Self {
        Self {
            kind: i.kind.to_owned(),
            target: i.target,
            subject: i.subject,
            group: i.group,
            level: i.level,
            since: i.since,
            last_review: i.last_review.map(|r| LastReviewView { at: r.at, by: r.by, verdict: r.verdict }),
            due_at: i.due_at,
            overdue: i.overdue,
        }
    }
}

/// The compliance report.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ComplianceReport {
    pub review_period_days: u32,
    pub overdue: usize,
    pub items: Vec<ComplianceRow>,
}

#[utoipa::path(post, path = "/v1/{org}/reviews", request_body = ReviewBody, params(("org" = String, Path)),
    responses((status = 201, body = ReviewView), (status = 403, body = super::views::ErrorBody), (status = 404, body = super::views::ErrorBody)))]
pub(super) async fn review(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<ReviewBody>,
) -> Result<(StatusCode, Json<ReviewView>)> {
    let missing = |field: &str, kind: &str| ServiceError::Invalid {
        field: field.into(),
        message: format!("a review of an {kind} names its {field}"),
    };
    let reviewed = match (b.kind.as_str(), b.agent, b.user) {
        ("assignment", Some(agent), None) => Reviewed::Assignment { agent, group: b.group },
        ("assignment", None, _) => return Err(missing("agent", "assignment").into()),
        ("membership", None, Some(user)) => Reviewed::Membership { group: b.group, user },
        ("membership", _, None) => return Err(missing("user", "membership").into()),
        ("assignment" | "membership", ..) => {
            return Err(ServiceError::Invalid {
                field: "kind".into(),
                message: "an assignment names an agent, a membership a user; not both".into(),
            }
            .into())
        }
        _ => return Err(ServiceError::Invalid { field: "kind".into(), message: "give `assignment` or `membership`".into() }.into()),
    };
    let verdict = match b.verdict.as_str() {
        "certify" => Verdict::Certify,
        "revoke" => Verdict::Revoke,
        _ => return Err(ServiceError::Invalid { field: "verdict".into(), message: "give `certify` or `revoke`".into() }.into()),
    };
    let (revision, r) = service::review(&state, &caller.ctx, &reviewed, verdict, b.note.as_deref()).await?;
    let verdict = if r.verdict == Verdict::Certify { "certified" } else { "revoked" };
    Ok((
        StatusCode::CREATED,
        Json(ReviewView { kind: r.target_type.to_owned(), target: r.target_id, verdict: verdict.to_owned(), summary: r.summary, revision }),
    ))
}

#[utoipa::path(get, path = "/v1/{org}/reports/compliance", params(("org" = String, Path)),
    responses((status = 200, body = ComplianceReport), (status = 403, body = super::views::ErrorBody)))]
pub(super) async fn compliance(State(state): State<AppState>, caller: Caller) -> Result<Json<ComplianceReport>> {
    let (review_period_days, items) = service::compliance(&state, &caller.ctx).await?;
    let overdue = items.iter().filter(|i| i.overdue).count();
    Ok(Json(ComplianceReport { review_period_days, overdue, items: items.into_iter().map(ComplianceRow::new).collect() }))
}

/// One user's reach of one agent.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MatrixCellView {
    pub user: String,
    pub agent: String,
    pub agent_id: String,
    pub can_use: bool,
    pub can_edit: bool,
    /// `group`, `organization-wide` or `role`.
    pub how: String,
    pub groups: Vec<String>,
}

/// The agent access matrix: a cell for every active user and every agent they may use.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccessMatrix {
    pub cells: Vec<MatrixCellView>,
}

/// A group's members, or a user's groups.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Listing {
    pub name: String,
    pub items: Vec<String>,
}

/// Group membership: members per group, groups per user.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MembershipReport {
    pub groups: Vec<Listing>,
    pub users: Vec<Listing>,
}

/// Permission coverage.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CoverageReport {
    pub users_without_agents: Vec<String>,
    pub agents_without_groups: Vec<String>,
    pub inactive_users_in_groups: Vec<Listing>,
}

fn listings(pairs: Vec<(String, Vec<String>)>) -> Vec<Listing> {
    pairs.into_iter().map(|(name, items)| Listing { name, items }).collect()
}

#[utoipa::path(get, path = "/v1/{org}/reports/access-matrix", params(("org" = String, Path)),
    responses((status = 200, body = AccessMatrix), (status = 403, body = super::views::ErrorBody)))]
pub(super) async fn access_matrix(State(state): State<AppState>, caller: Caller) -> Result<Json<AccessMatrix>> {
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    caller.ctx.authorize(&ix, grantry_core::authz::Action::ReadReports)?;
    let cells = service::access_matrix(o, &caller.ctx)
        .into_iter()
        .map(|c| MatrixCellView {
            user: c.user,
            agent: c.agent,
            agent_id: c.agent_id,
            can_use: c.can_use,
            can_edit: c.can_edit,
            how: c.how.to_owned(),
            groups: c.groups,
        })
        .collect();
    Ok(Json(AccessMatrix { cells }))
}

#[utoipa::path(get, path = "/v1/{org}/reports/memberships", params(("org" = String, Path)),
    responses((status = 200, body = MembershipReport), (status = 403, body = super::views::ErrorBody)))]
pub(super) async fn memberships(State(state): State<AppState>, caller: Caller) -> Result<Json<MembershipReport>> {
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    caller.ctx.authorize(&ix, grantry_core::authz::Action::ReadReports)?;
    let (groups, users) = service::memberships(o);
    Ok(Json(MembershipReport { groups: listings(groups), users: listings(users) }))
}

#[utoipa::path(get, path = "/v1/{org}/reports/coverage", params(("org" = String, Path)),
    responses((status = 200, body = CoverageReport), (status = 403, body = super::views::ErrorBody)))]
pub(super) async fn coverage(State(state): State<AppState>, caller: Caller) -> Result<Json<CoverageReport>> {
    let ix = state.index();
    let o = service::org(&ix, &caller.ctx.org)?;
    caller.ctx.authorize(&ix, grantry_core::authz::Action::ReadReports)?;
    let c = service::coverage(o, &caller.ctx);
    Ok(Json(CoverageReport {
        users_without_agents: c.users_without_agents,
        agents_without_groups: c.agents_without_groups,
        inactive_users_in_groups: listings(c.inactive_users_in_groups),
    }))
}
