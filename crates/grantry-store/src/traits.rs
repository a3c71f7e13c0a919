//! The storage traits the server depends on: [`StateStore`] (commit changes, load the state) and
//! [`AuditLog`] (read and verify the audit chain). [`Store`] is both.

use crate::error::{Result, StoreError};
use grantry_core::audit::{AuditDraft, AuditEvent, ChainBreak, Checkpoint};
use grantry_core::change::Change;
use grantry_core::ids::{GrantId, OrgId};
use grantry_core::model::{Grant, Principal};
use grantry_core::Timestamp;
use std::future::Future;
use std::pin::Pin;

/// A boxed future, so the traits can be used as `dyn`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One write: the changes of one organization and the audit events that record them, committed
/// together or not at all.
#[derive(Debug, Clone)]
pub struct WriteBatch {
    pub org: OrgId,
    /// The commit time, stamped on the change log and on events without their own time.
    pub at: Timestamp,
    pub changes: Vec<Change>,
    pub audit: Vec<AuditDraft>,
    /// Optimistic concurrency: `Some(r)` commits only while the latest revision is still `r`, the
    /// one the batch was validated against (else [`StoreError::Stale`]); `None` commits regardless.
    pub base_revision: Option<u64>,
    /// The webhook notifications the batch's events make: written with it, or not at all.
    pub outbox: Vec<Notice>,
}

/// A webhook notification to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub id: String,
    pub webhook: String,
    pub event_type: String,
    /// The JSON body, as it will be sent.
    pub payload: String,
}

/// A notification leased for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub org: OrgId,
    pub notice: Notice,
    pub created_at: Timestamp,
    /// The attempts made before this one.
    pub attempts: u32,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// Delivered at `at`, on attempt `attempts`.
    Delivered { at: Timestamp, attempts: u32 },
    /// Not delivered: tried again at `next`.
    Retry { attempts: u32, next: Timestamp, error: String },
    /// Not delivered, and no more tries.
    GivenUp { attempts: u32, error: String },
}

/// A notification as the outbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NoticeRecord {
    pub id: String,
    pub webhook: String,
    pub event_type: String,
    pub payload: String,
    pub created_at: Timestamp,
    pub attempts: u32,
    /// While it is still to be delivered.
    pub next_attempt_at: Option<Timestamp>,
    pub delivered_at: Option<Timestamp>,
    pub given_up: bool,
    pub last_error: Option<String>,
}

/// The outbox: notifications written with the changes they tell of, delivered at least once.
pub trait Outbox: Send + Sync {
    /// The webhooks with notifications due at `now` (organization and id), the longest waiting
    /// first, at most `limit`: a deliverer serves each in turn, so one flooded or slow webhook
    /// does not hold up the others.
    fn webhooks_due(&self, now: Timestamp, limit: u32) -> BoxFuture<'_, Result<Vec<(OrgId, String)>>>;
    /// Leases up to `limit` of `webhook`'s notifications due at `now` until `until` (another
    /// server's lease keeps them from being sent twice meanwhile), oldest due first.
    fn lease_due<'a>(
        &'a self,
        org: &'a OrgId,
        webhook: &'a str,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> BoxFuture<'a, Result<Vec<Delivery>>>;
    /// Records how delivering one ended.
    fn settle<'a>(&'a self, org: &'a OrgId, id: &'a str, how: Settlement) -> BoxFuture<'a, Result<()>>;
    /// The newest notifications for `webhook` of `org`.
    fn notices<'a>(&'a self, org: &'a OrgId, webhook: &'a str, limit: u32) -> BoxFuture<'a, Result<Vec<NoticeRecord>>>;
    /// The secret `webhook` of `org` signs with at `generation`: derived from the audit key, so it
    /// is never stored — shown once when made, and again only by rotating it.
    fn webhook_secret(&self, org: &OrgId, webhook: &str, generation: u32) -> String;
}

/// Why a group of batches did not commit. Nothing of the group was written.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct GroupFailure {
    /// The batch that failed, when one did: the others were sound and may be sent again.
    pub member: Option<usize>,
    pub error: StoreError,
}

/// What a commit produced.
#[derive(Debug, Clone)]
pub struct Committed {
    pub revision: u64,
    pub events: Vec<AuditEvent>,
}

/// The state the decision index holds, as changes, and the revision it is current to: live
/// grants only, each with its terms alone (justification, tags and creator empty — the
/// [`GrantRecords`] have them).
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub revision: u64,
    pub changes: Vec<Change>,
}

/// A compiled index read back from where [`StateStore::save_index`] put it.
#[derive(Debug, Clone)]
pub struct SavedIndex {
    /// The revision it was saved at.
    pub revision: u64,
    pub(crate) bytes: Vec<u8>,
    pub(crate) body_start: usize,
}

impl SavedIndex {
    /// The index as its build encoded it.
    pub fn body(&self) -> &[u8] {
        self.bytes.get(self.body_start..).unwrap_or_default()
    }
}

/// Filters for reading the audit log; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub event_type: Option<String>,
    /// An actor in display form (`user:ID`, `system`).
    pub actor: Option<String>,
    /// An affected principal in display form (`user:ID`).
    pub principal: Option<String>,
    /// e.g. `scope`, with `target_id` a scope path, for the `rbac_grant` rows of one scope.
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// Any of these target ids (with `target_type`): a scope and the scopes above it.
    pub target_ids: Vec<String>,
    /// The events about one entity, as `TYPE:ID` (`agent:ID`, `group:ID`, …): those that target it
    /// and those whose affected principal it is (a group's assignments to agents).
    pub entity: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Only events after this sequence number (for paging).
    pub after_seq: Option<i64>,
    pub limit: Option<u32>,
}

/// A temporary grant whose expiry is due to be recorded, with its whole record (the audit event
/// carries it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueExpiry {
    pub org: OrgId,
    pub grant: Grant,
}

/// Whether a grant can still decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantState {
    /// Not revoked, and its expiry not recorded: what the decision index holds.
    Live,
    /// Revoked, or expired and recorded.
    Ended,
}

/// Which grants to read; every field narrows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantFilter {
    pub id: Option<GrantId>,
    pub principal: Option<Principal>,
    /// Only grants with an end.
    pub temporary: bool,
    pub state: Option<GrantState>,
    /// At most this many; ended grants come most recently ended first, others oldest first.
    pub limit: Option<u32>,
}

/// One committed batch as the change log holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedChange {
    pub revision: u64,
    pub org: OrgId,
    pub changes: Vec<Change>,
}

/// Writing changes and loading the state.
pub trait StateStore: Send + Sync {
    /// Commits a batch in one transaction and returns its revision and events.
    fn commit(&self, batch: WriteBatch) -> BoxFuture<'_, Result<Committed>> {
        Box::pin(async move {
            let mut committed = self.commit_group(vec![batch]).await.map_err(|f| f.error)?;
            committed.pop().ok_or_else(|| StoreError::Corrupt("a commit returned no revision".to_owned()))
        })
    }
    /// Commits batches in order, in one transaction (one sync to disk), each with its own
    /// revision (consecutive) and its own audit events; all or nothing.
    fn commit_group(&self, batches: Vec<WriteBatch>) -> BoxFuture<'_, std::result::Result<Vec<Committed>, GroupFailure>>;
    /// Loads the state the decision index holds (see [`Snapshot`]).
    fn snapshot(&self) -> BoxFuture<'_, Result<Snapshot>>;
    /// The change log after `revision`, oldest first, at most `limit` entries.
    /// INVARIANT: revisions become visible in order, so reading past the last one seen never
    /// skips a change that commits later.
    fn changes_since(&self, revision: u64, limit: u32) -> BoxFuture<'_, Result<Vec<LoggedChange>>>;
    /// Returns when other writers may have committed changes: at once when the database says so
    /// (PostgreSQL's notifications), else after a short wait. The change log stays the truth: a
    /// missed wake-up only delays.
    fn wait_for_changes(&self) -> BoxFuture<'_, ()>;
    /// Whether others may have committed since this store last wrote or looked: `false` only
    /// when the database says for certain that nobody did (SQLite's `data_version`), so a writer
    /// may skip reading the change log before it validates. Every call after a `true` answers
    /// for what came after it.
    fn others_may_have_written(&self) -> bool {
        true
    }
    /// The newest revision in the change log (what a follower is behind of).
    fn latest_revision(&self) -> BoxFuture<'_, Result<u64>>;
    /// The compiled index [`StateStore::save_index`] saved, if this store keeps one (beside a
    /// SQLite file), a build of `format` saved it, its seal opens with this installation's audit
    /// key, and the change log holds the same entry at its revision. Anything else is `None`
    /// (and logged): the caller loads from the tables.
    fn saved_index(&self, format: &str) -> BoxFuture<'_, Result<Option<SavedIndex>>>;
    /// Saves `body`, the compiled index at `revision` encoded by a build of `format`, for the
    /// next start; whether this store keeps one (PostgreSQL does not).
    fn save_index(&self, format: &str, revision: u64, body: Vec<u8>) -> BoxFuture<'_, Result<bool>>;
    /// Temporary grants that expired at or before `now` and whose expiry is not yet in the audit log.
    fn unrecorded_expiries(&self, now: Timestamp) -> BoxFuture<'_, Result<Vec<DueExpiry>>>;
}

/// What verifying an organization's audit log found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditVerification {
    pub events_checked: usize,
    /// Where and why the log is broken, if it is.
    pub broken_at: Option<ChainBreak>,
    /// The signed head of the chain (a digest to keep elsewhere), when the log verifies.
    pub head: Option<Checkpoint>,
    /// The id of the audit key the log was checked with.
    pub key_id: String,
}

/// Reading the audit log.
pub trait AuditLog: Send + Sync {
    /// Events of `org` matching `filter`, oldest first.
    fn audit_events(&self, org: &OrgId, filter: AuditFilter) -> BoxFuture<'_, Result<Vec<AuditEvent>>>;
    /// Verifies `org`'s whole chain under the audit key, against its signed checkpoint and, when
    /// given, against a `digest` taken earlier.
    fn verify_audit<'a>(&'a self, org: &'a OrgId, digest: Option<&'a Checkpoint>) -> BoxFuture<'a, Result<AuditVerification>>;
}

/// How one organization-scoped table is isolated.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TableIsolation {
    pub table: String,
    pub mechanism: String,
    pub rls_enabled: bool,
    pub rls_forced: bool,
    pub policy: bool,
    /// Whether the database itself keeps organizations apart on this table, for this role.
    pub in_force: bool,
}

/// The check of every statement the store runs: each binds its organization, or is a declared
/// read-only system read, or touches no organization-scoped table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QueryPaths {
    pub statements: usize,
    pub organization_scoped: usize,
    pub system_reads: usize,
    pub global: usize,
    /// Statements that do not keep to their declaration (empty when all is well).
    pub violations: Vec<String>,
}

/// The isolation conformance report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IsolationReport {
    pub backend: String,
    /// The database role the server connects as.
    pub role: Option<String>,
    /// Whether isolation is in force: on PostgreSQL, every table's policy binds the role and every
    /// query path checks out; on SQLite, every query path checks out.
    pub in_force: bool,
    pub note: String,
    pub tables: Vec<TableIsolation>,
    pub query_paths: QueryPaths,
}

/// Reporting how tenants are kept apart in the database.
pub trait Isolation: Send + Sync {
    /// Every organization-scoped table and whether its isolation is in force.
    fn isolation_report(&self) -> BoxFuture<'_, Result<IsolationReport>>;
}

/// Every grant's whole record — its justification, tags and creator, and the grants that have
/// ended — which the decision index does not keep.
pub trait GrantRecords: Send + Sync {
    /// The grants of `org` that `filter` selects.
    fn grants(&self, org: &OrgId, filter: GrantFilter) -> BoxFuture<'_, Result<Vec<Grant>>>;
}

/// The whole store.
pub trait Store: StateStore + AuditLog + GrantRecords + Isolation + Outbox {}

impl<T: StateStore + AuditLog + GrantRecords + Isolation + Outbox> Store for T {}
