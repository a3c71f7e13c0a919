//! Writes of many rows — CSV imports and bulk changes across groups — planned whole against the
//! index before anything is written, then written as one batch (one transaction), or, in a dry
//! run, only answered: what each row does and nothing written.

use super::Ctx;
use crate::service::error::{Result, ServiceError};
use crate::state::AppState;
use grantry_core::audit::AuditDraft;
use grantry_core::authz::Permit;
use grantry_core::change::Change;
use grantry_core::index::DecisionIndex;

/// What planning one row came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Changed,
    Unchanged,
    Removed,
}

impl Outcome {
    /// The word a report shows: `create`, `change`, `unchanged` or `remove`.
    pub fn action(self) -> &'static str {
        match self {
            Self::Created => "create",
            Self::Changed => "change",
            Self::Unchanged => "unchanged",
            Self::Removed => "remove",
        }
    }
}

/// What one row does.
#[derive(Debug, Clone)]
pub struct RowPlan {
    /// The row's line in the file (the header is line 1), or its place in a bulk change.
    pub line: u64,
    pub outcome: Outcome,
    pub detail: String,
}

/// What a write of many rows did, or, in a dry run, would do.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub rows: Vec<RowPlan>,
    pub dry_run: bool,
    pub revision: u64,
}

/// A planned write: the permit, the changes and events, and what each row does.
#[derive(Default)]
pub(super) struct Plan {
    pub permit: Option<Permit>,
    pub changes: Vec<Change>,
    pub audit: Vec<AuditDraft>,
    pub rows: Vec<RowPlan>,
}

impl Plan {
    /// Adds a row and what it changes; `permit` is what allowed it.
    pub fn row(&mut self, line: u64, outcome: Outcome, detail: String, permit: Permit, changes: Vec<Change>, audit: Vec<AuditDraft>) {
        self.rows.push(RowPlan { line, outcome, detail });
        self.changes.extend(changes);
        self.audit.extend(audit);
        self.permit = Some(permit);
    }
}

/// Runs `plan` once against the index and, unless `dry_run` or nothing changes, again in one write.
pub(super) async fn run(
    state: &AppState,
    ctx: &Ctx,
    dry_run: bool,
    plan: impl Fn(&DecisionIndex, &Ctx) -> Result<Plan>,
) -> Result<ImportReport> {
    {
        let ix = state.index();
        let p = plan(&ix, ctx)?;
        if dry_run || p.changes.is_empty() {
            return Ok(ImportReport { rows: p.rows, dry_run, revision: ix.revision() });
        }
    }
    let (committed, rows) = state
        .write_as(ctx, |ix, ctx| {
            let p = plan(ix, ctx)?;
            let permit = p.permit.ok_or_else(|| ServiceError::Internal("a write with changes has no permit".into()))?;
            Ok((ctx.batch(permit, p.changes, p.audit), p.rows))
        })
        .await?;
    Ok(ImportReport { rows, dry_run, revision: committed.revision })
}
