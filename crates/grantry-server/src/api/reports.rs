//! The permission reports (seed 003), each as JSON, CSV or XLSX (`?format=`): the compliance
//! report (every assignment and membership, its last review, when the next falls due),
//! `GET /reports/access-matrix` (each cell the engine's own decision), `/reports/memberships` and
//! `/reports/coverage`, read from the index as it stands.

use super::auth::Caller;
use super::extract::ApiQuery;
use super::sheets::{self, yes, ReportQuery, Table};
use crate::error::Result;
use crate::service::{self, ComplianceItem};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use grantry_core::authz::Action;
use grantry_core::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reports/compliance", get(compliance))
        .route("/reports/access-matrix", get(access_matrix))
        .route("/reports/memberships", get(memberships))
        .route("/reports/coverage", get(coverage))
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

#[utoipa::path(get, path = "/v1/{org}/reports/compliance", params(("org" = String, Path), ReportQuery),
    responses((status = 200, content((ComplianceReport = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (Table = "application/vnd.grantry.table+json"))),
        (status = 403, body = super::views::ErrorBody), (status = 422, body = super::views::ErrorBody)))]
pub(super) async fn compliance(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<ReportQuery>) -> Result<Response> {
    let format = q.format()?;
    let (review_period_days, items) = service::compliance(&state, &caller.ctx).await?;
    let overdue = items.iter().filter(|i| i.overdue).count();
    let report = ComplianceReport { review_period_days, overdue, items: items.into_iter().map(ComplianceRow::new).collect() };
    sheets::respond(format, report, ComplianceReport::table).await
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

#[utoipa::path(get, path = "/v1/{org}/reports/access-matrix", params(("org" = String, Path), ReportQuery),
    responses((status = 200, content((AccessMatrix = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (Table = "application/vnd.grantry.table+json"))),
        (status = 403, body = super::views::ErrorBody), (status = 422, body = super::views::ErrorBody)))]
pub(super) async fn access_matrix(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<ReportQuery>) -> Result<Response> {
    let format = q.format()?;
    let cells = {
        let ix = state.index();
        let o = service::org(&ix, &caller.ctx.org)?;
        caller.ctx.authorize(&ix, Action::ReadReports)?;
        service::access_matrix(o, &caller.ctx)
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
            .collect()
    };
    sheets::respond(format, AccessMatrix { cells }, AccessMatrix::table).await
}

#[utoipa::path(get, path = "/v1/{org}/reports/memberships", params(("org" = String, Path), ReportQuery),
    responses((status = 200, content((MembershipReport = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (Table = "application/vnd.grantry.table+json"))),
        (status = 403, body = super::views::ErrorBody), (status = 422, body = super::views::ErrorBody)))]
pub(super) async fn memberships(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<ReportQuery>) -> Result<Response> {
    let format = q.format()?;
    let (groups, users) = {
        let ix = state.index();
        let o = service::org(&ix, &caller.ctx.org)?;
        caller.ctx.authorize(&ix, Action::ReadReports)?;
        service::memberships(o)
    };
    sheets::respond(format, MembershipReport { groups: listings(groups), users: listings(users) }, MembershipReport::table).await
}

#[utoipa::path(get, path = "/v1/{org}/reports/coverage", params(("org" = String, Path), ReportQuery),
    responses((status = 200, content((CoverageReport = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (Table = "application/vnd.grantry.table+json"))),
        (status = 403, body = super::views::ErrorBody), (status = 422, body = super::views::ErrorBody)))]
pub(super) async fn coverage(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<ReportQuery>) -> Result<Response> {
    let format = q.format()?;
    let c = {
        let ix = state.index();
        let o = service::org(&ix, &caller.ctx.org)?;
        caller.ctx.authorize(&ix, Action::ReadReports)?;
        service::coverage(o, &caller.ctx)
    };
    let report = CoverageReport {
        users_without_agents: c.users_without_agents,
        agents_without_groups: c.agents_without_groups,
        inactive_users_in_groups: listings(c.inactive_users_in_groups),
    };
    sheets::respond(format, report, CoverageReport::table).await
}

fn time(t: Option<Timestamp>) -> String {
    t.map(|t| t.to_string()).unwrap_or_default()
}

impl ComplianceReport {
    fn table(&self) -> Table {
        let rows = self
            .items
            .iter()
            .map(|i| {
                let r = i.last_review.as_ref();
                vec![
                    i.kind.clone(),
                    i.group.clone(),
                    i.subject.clone(),
                    i.level.clone(),
                    time(Some(i.since)),
                    time(r.map(|r| r.at)),
                    r.map(|r| r.by.clone()).unwrap_or_default(),
                    r.map(|r| r.verdict.clone()).unwrap_or_default(),
                    time(Some(i.due_at)),
                    yes(i.overdue),
                ]
            })
            .collect();
        let headers = &["KIND", "GROUP", "SUBJECT", "LEVEL", "SINCE", "LAST REVIEW", "BY", "VERDICT", "DUE", "OVERDUE"];
        let footer = Some(format!("{} overdue; a review holds {} days.", self.overdue, self.review_period_days));
        Table { name: "compliance", headers, rows, footer }
    }
}

impl AccessMatrix {
    fn table(&self) -> Table {
        let rows = self
            .cells
            .iter()
            .map(|c| vec![c.user.clone(), c.agent.clone(), yes(c.can_use), yes(c.can_edit), c.how.clone(), c.groups.join(", ")])
            .collect();
        Table { name: "access-matrix", headers: &["USER", "AGENT", "USE", "EDIT", "HOW", "GROUPS"], rows, footer: None }
    }
}

/// A row per listing: `by`, the name, its items.
fn listing_rows<'a>(by: &'a str, list: &'a [Listing]) -> impl Iterator<Item = Vec<String>> + 'a {
    list.iter().map(move |l| vec![by.to_owned(), l.name.clone(), l.items.join(", ")])
}

impl MembershipReport {
    fn table(&self) -> Table {
        let rows = listing_rows("group", &self.groups).chain(listing_rows("user", &self.users)).collect();
        Table { name: "memberships", headers: &["BY", "NAME", "MEMBERS / GROUPS"], rows, footer: None }
    }
}

impl CoverageReport {
    fn table(&self) -> Table {
        let one = |finding: &str, who: &String| vec![finding.to_owned(), who.clone(), String::new()];
        let rows = (self.users_without_agents.iter().map(|u| one("user without agents", u)))
            .chain(self.agents_without_groups.iter().map(|a| one("agent without groups", a)))
            .chain(listing_rows("inactive user in groups", &self.inactive_users_in_groups))
            .collect();
        Table { name: "coverage", headers: &["FINDING", "WHO", "GROUPS"], rows, footer: None }
    }
}
