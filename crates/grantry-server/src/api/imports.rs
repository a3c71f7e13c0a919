//! CSV imports (seed 003): `POST /imports/assignments` (`AgentId,GroupId,Permission,StartDate,EndDate`)
//! and `POST /imports/users` (`Name,Email,Group`), each `{"csv": "…", "dry_run": false}`. A file is
//! validated whole and written in one transaction, or refused naming the line; a dry run answers
//! what each row would do and writes nothing. Bodies up to 16 MiB.

use super::auth::Caller;
use super::extract::{ApiJson, IMPORT_LIMIT};
use crate::error::Result;
use crate::service::{self, ImportReport, Outcome};
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/imports/assignments", post(assignments))
        .route("/imports/users", post(users))
        .layer(DefaultBodyLimit::max(IMPORT_LIMIT))
}

/// A CSV file to import.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Import {
    /// The file's text, header first.
    pub csv: String,
    /// Plan and answer, writing nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Assignments only: the IANA timezone the dates are read in (UTC unless given).
    pub timezone: Option<String>,
}

/// What one row does.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RowView {
    pub line: u64,
    /// `create`, `change`, `unchanged` or `remove`.
    pub action: String,
    pub detail: String,
}

/// What the import did, or would do.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportView {
    pub dry_run: bool,
    pub created: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Memberships and assignments taken away (bulk changes).
    pub removed: usize,
    pub rows: Vec<RowView>,
    pub revision: u64,
}

impl ImportView {
    pub(super) fn new(r: ImportReport) -> Self {
        let count = |o: Outcome| r.rows.iter().filter(|x| x.outcome == o).count();
        Self {
            dry_run: r.dry_run,
            created: count(Outcome::Created),
            changed: count(Outcome::Changed),
            unchanged: count(Outcome::Unchanged),
            removed: count(Outcome::Removed),
            rows: r
                .rows
                .iter()
                .map(|x| RowView { line: x.line, action: x.outcome.action().to_owned(), detail: x.detail.clone() })
                .collect(),
            revision: r.revision,
        }
    }
}

#[utoipa::path(post, path = "/v1/{org}/imports/assignments", request_body = Import, params(("org" = String, Path)),
    responses((status = 200, body = ImportView), (status = 422, body = super::views::ErrorBody)))]
pub(super) async fn assignments(State(state): State<AppState>, caller: Caller, ApiJson(b): ApiJson<Import>) -> Result<Json<ImportView>> {
    let report = service::import_assignments(&state, &caller.ctx, &b.csv, b.timezone.as_deref(), b.dry_run).await?;
    Ok(Json(ImportView::new(report)))
}

#[utoipa::path(post, path = "/v1/{org}/imports/users", request_body = Import, params(("org" = String, Path)),
    responses((status = 200, body = ImportView), (status = 422, body = super::views::ErrorBody)))]
pub(super) async fn users(State(state): State<AppState>, caller: Caller, ApiJson(b): ApiJson<Import>) -> Result<Json<ImportView>> {
    if b.timezone.is_some() {
        return Err(service::ServiceError::Invalid {
            field: "timezone".into(),
            message: "a users file has no dates; leave timezone out".into(),
        }
        .into());
    }
    let report = service::import_users(&state, &caller.ctx, &b.csv, b.dry_run).await?;
    Ok(Json(ImportView::new(report)))
}
