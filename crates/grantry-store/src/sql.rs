//! The SQL store: one implementation over sqlx's `Any` pool for both backends, chosen by URL —
//! SQLite (the embedded default: WAL, `synchronous=FULL`, one writer at a time) and PostgreSQL.
//! The queries are the same on both (`$n` placeholders); the schema has one migration per
//! version per backend, embedded in the binary.

mod audit_migration;
mod isolation;
mod live_grants;
mod outbox;
mod queries;
mod read;
mod saved_index;
mod sqlite_writer;
mod statement;
mod write;

use crate::error::{Result, StoreError};
use crate::traits::{
    AuditFilter, AuditLog, AuditVerification, BoxFuture, Committed, DueExpiry, GrantFilter, GrantRecords, GroupFailure, Isolation,
    IsolationReport, LoggedChange, SavedIndex, Snapshot, StateStore, WriteBatch,
};
use grantry_core::audit::{verify_against, verify_chain, AuditEvent, AuditKey, Checkpoint};
use grantry_core::change::Change;
use grantry_core::ids::OrgId;
use grantry_core::Timestamp;
use sqlite_writer::SqliteWriter;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::postgres::PgListener;
use sqlx::{Any, AnyPool, Connection, Transaction};
use statement::SqlxDb;
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::Mutex;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a URL names.
    pub fn of_url(url: &str) -> Option<Self> {
        match url.split_once(':').map(|(scheme, _)| scheme) {
            Some("sqlite") => Some(Self::Sqlite),
            Some("postgres" | "postgresql") => Some(Self::Postgres),
            _ => None,
        }
    }

    /// The newest schema version this binary knows for the backend.
    pub fn latest_version(self) -> i64 {
        self.migrations().last().map_or(0, |(v, _)| *v)
    }

    /// The schema versions, in order; each runs once, in its own transaction.
    fn migrations(self) -> &'static [(i64, &'static str)] {
        match self {
            Self::Sqlite => &[
                (1, include_str!("../migrations/sqlite/0001_init.sql")),
                (2, include_str!("../migrations/sqlite/0002_revision_counter.sql")),
                (3, include_str!("../migrations/sqlite/0003_scope_nodes.sql")),
                (4, include_str!("../migrations/sqlite/0004_api_keys.sql")),
                (5, include_str!("../migrations/sqlite/0005_audit_checkpoints.sql")),
                (6, include_str!("../migrations/sqlite/0006_live_grants.sql")),
                (7, include_str!("../migrations/sqlite/0007_groups.sql")),
                (8, include_str!("../migrations/sqlite/0008_outbox.sql")),
                (9, include_str!("../migrations/sqlite/0009_delegated_keys.sql")),
                (10, include_str!("../migrations/sqlite/0010_token_issuers.sql")),
            ],
            Self::Postgres => &[
                (1, include_str!("../migrations/postgres/0001_init.sql")),
                (2, include_str!("../migrations/postgres/0002_row_level_security.sql")),
                (3, include_str!("../migrations/postgres/0003_scope_nodes.sql")),
                (4, include_str!("../migrations/postgres/0004_api_keys.sql")),
                (5, include_str!("../migrations/postgres/0005_audit_checkpoints.sql")),
                (6, include_str!("../migrations/postgres/0006_live_grants.sql")),
                (7, include_str!("../migrations/postgres/0007_groups.sql")),
                (8, include_str!("../migrations/postgres/0008_outbox.sql")),
                (9, include_str!("../migrations/postgres/0009_delegated_keys.sql")),
                (10, include_str!("../migrations/postgres/0010_token_issuers.sql")),
            ],
        }
    }
}

/// SQLite's settings, set on every connection.
const SQLITE_PRAGMAS: [&str; 4] =
    ["PRAGMA busy_timeout = 5000", "PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON"];

/// The channel every commit notifies on PostgreSQL, with its revision.
const CHANGES_CHANNEL: &str = "grantry_changes";
/// How often the change log is read when nothing wakes the reader sooner.
const SQLITE_POLL: Duration = Duration::from_millis(250);
const POSTGRES_FALLBACK: Duration = Duration::from_secs(1);

/// A store in a SQL database.
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    /// PostgreSQL only: the URL, for the notification listener's own connection.
    url: String,
    listener: Mutex<Option<PgListener>>,
    /// INVARIANT: held for the whole of every write transaction of this process; across
    /// processes, the revision counter row (updated first in every write) orders writers.
    write_lock: Mutex<()>,
    /// The installation's audit key: the chain's hashes and checkpoints are keyed with it.
    audit_key: AuditKey,
    /// A SQLite database in a file is written through a connection of its own.
    sqlite_writer: Option<SqliteWriter>,
}

/// `url` with what the backend needs added: for SQLite, create the file if missing.
fn connect_url(url: &str, backend: Backend) -> String {
    match backend {
        Backend::Sqlite if !url.contains("mode=") => format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' }),
        Backend::Sqlite | Backend::Postgres => url.to_owned(),
    }
}

/// Creates a missing SQLite database file readable and writable only by its owner (SQLite gives
/// the WAL and shared-memory files the same mode); an existing file is left as it is.
fn create_private_file(url: &str) -> Result<()> {
    let Some(path) = sqlite_path(url) else { return Ok(()) };
    if path.is_empty() || path == ":memory:" || std::path::Path::new(path).exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::InvalidUrl(format!("cannot create the database file `{path}`: {e}"))),
    }
}

/// The file a `sqlite:` URL names (without its query), or `None` for another backend.
pub(crate) fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite:")?;
    let path = rest.strip_prefix("//").unwrap_or(rest);
    Some(path.split_once('?').map_or(path, |(p, _)| p))
}

/// Where the audit key comes from, which decides what opening may do with the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keying {
    /// A key that existed before: chains written before keys existed are not keyed with it (a
    /// database writer could otherwise have forged them and had them signed).
    ExistingKey,
    /// A key made just now for this database: it keys the chains written before keys existed,
    /// and is refused if the log is already keyed with another.
    NewKey,
}

impl SqlStore {
    /// Opens (creating if missing) and migrates the database at `url`, keying its audit chain
    /// with `audit_key`.
    pub async fn open(url: &str, audit_key: AuditKey, keying: Keying) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url).ok_or_else(|| {
            StoreError::InvalidUrl(format!("`{}` is not a database URL; use sqlite://PATH or postgres://…", crate::redact_url(url)))
        })?;
        if backend == Backend::Sqlite {
            create_private_file(url)?;
        }
        let options = AnyConnectOptions::from_str(&connect_url(url, backend))
            .map_err(|e| StoreError::InvalidUrl(format!("`{}` is not a usable database URL ({e})", crate::redact_url(url))))?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 10 })
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        for pragma in SQLITE_PRAGMAS {
                            sqlx::query(pragma).execute(&mut *conn).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let mut store = Self {
            pool,
            backend,
            url: url.to_owned(),
            listener: Mutex::new(None),
            write_lock: Mutex::new(()),
            audit_key,
            sqlite_writer: None,
        };
        store.migrate(keying).await?;
        store.sqlite_writer = store.sqlite_file().map(SqliteWriter::open).transpose()?;
        if keying == Keying::NewKey {
            store.refuse_foreign_key().await?;
        }
        Ok(store)
    }

    /// Keys the chains still unkeyed (written before audit keys, and left so because the key
    /// existed before the upgrade) with this store's key: an operator's decision, vouching that
    /// nobody rewrote them in the meantime.
    pub async fn key_unkeyed_chains(&self) -> Result<()> {
        let _writer = self.write_lock.lock().await;
        let mut tx = self.pool.begin().await?;
        audit_migration::key_existing_chains(&mut tx, self.backend, &self.audit_key, Keying::NewKey).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Refuses a new key for a log already keyed with another one.
    async fn refuse_foreign_key(&self) -> Result<()> {
        let mut tx = self.begin(Scope::All, true).await?;
        let ids: Vec<String> = sqlx::query_scalar(queries::CHECKPOINT_KEYS.sql).fetch_all(&mut *tx).await?;
        match ids.into_iter().find(|id| *id != self.audit_key.id()) {
            Some(other) => Err(StoreError::AuditKeyMismatch(format!(
                "this database's audit log is keyed with another audit key (id {other}); give that key's file"
            ))),
            None => Ok(()),
        }
    }

    /// The backend this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    async fn migrate(&self, keying: Keying) -> Result<()> {
        let _writer = self.write_lock.lock().await;
        let mut conn = self.pool.acquire().await?;
        sqlx::raw_sql("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)").execute(&mut *conn).await?;
        for (version, sql) in self.backend.migrations() {
            let mut tx = conn.begin().await?;
            if self.backend == Backend::Postgres {
                // One migrator at a time across servers starting together.
                sqlx::query("SELECT pg_advisory_xact_lock(7412)").execute(&mut *tx).await?;
            }
            let done: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
            if done.is_none() {
                sqlx::raw_sql(sql).execute(&mut *tx).await?;
                if *version == audit_migration::KEYED_CHAINS {
                    audit_migration::key_existing_chains(&mut tx, self.backend, &self.audit_key, keying).await?;
                }
                sqlx::query("INSERT INTO schema_migrations (version) VALUES ($1)").bind(version).execute(&mut *tx).await?;
                tracing::info!(version, backend = ?self.backend, "applied migration");
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// Waits for a commit notification, at most [`POSTGRES_FALLBACK`]; (re)connects the listener
    /// as needed, and on any trouble just waits.
    async fn wait_for_notification(&self) {
        let mut slot = self.listener.lock().await;
        if slot.is_none() {
            match PgListener::connect(&self.url).await {
                Ok(mut l) => match l.listen(CHANGES_CHANNEL).await {
                    Ok(()) => *slot = Some(l),
                    Err(e) => tracing::warn!(error = %e, "cannot listen for changes; polling"),
                },
                Err(e) => tracing::warn!(error = %e, "cannot connect the change listener; polling"),
            }
        }
        let Some(listener) = slot.as_mut() else {
            drop(slot);
            tokio::time::sleep(POSTGRES_FALLBACK).await;
            return;
        };
        match tokio::time::timeout(POSTGRES_FALLBACK, listener.recv()).await {
            Ok(Ok(_)) | Err(_) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the change listener failed; reconnecting");
                *slot = None;
            }
        }
    }

    /// The schema version the database is at.
    pub async fn schema_version(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetch_one(&self.pool).await?)
    }
}

/// Which organizations' rows a transaction may touch (PostgreSQL's row-level security; SQLite
/// has none, and the store's queries filter by organization on both).
#[derive(Debug, Clone, Copy)]
enum Scope<'a> {
    Org(&'a OrgId),
    /// The system's own reads across organizations.
    All,
}

impl SqlStore {
    /// Begins a transaction limited to `scope`; `snapshot` asks for one consistent read-only view.
    async fn begin(&self, scope: Scope<'_>, snapshot: bool) -> Result<Transaction<'_, Any>> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres && snapshot {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(&mut *tx).await?;
        }
        enter(&mut tx, self.backend, scope).await?;
        Ok(tx)
    }
}

/// Limits the rest of the transaction to `scope` (PostgreSQL's row-level security reads it).
async fn enter(tx: &mut Transaction<'_, Any>, backend: Backend, scope: Scope<'_>) -> Result<()> {
    if backend == Backend::Postgres {
        let (key, value) = match scope {
            Scope::Org(org) => ("grantry.org", org.as_str()),
            Scope::All => ("grantry.scope", "all"),
        };
        sqlx::query("SELECT set_config($1, $2, true)").bind(key).bind(value).execute(&mut **tx).await?;
    }
    Ok(())
}

impl SqlStore {
    /// The SQLite database's file, if this store is one in a file opened for writing, named as
    /// written (no percent escapes): what rusqlite may open beside the pool, and keep a saved
    /// index beside. Any other `mode=` (`ro`, `memory`) leaves the pool the only connection.
    fn sqlite_file(&self) -> Option<&str> {
        let query = self.url.split_once('?').map_or("", |(_, q)| q);
        let writable = query.split('&').all(|kv| !kv.starts_with("mode=") || kv == "mode=rwc" || kv == "mode=rw");
        (self.backend == Backend::Sqlite && writable)
            .then(|| sqlite_path(&self.url))
            .flatten()
            .filter(|p| !p.is_empty() && *p != ":memory:" && !p.starts_with("file:") && !p.contains('%'))
    }
}

impl StateStore for SqlStore {
    fn commit_group(&self, batches: Vec<WriteBatch>) -> BoxFuture<'_, std::result::Result<Vec<Committed>, GroupFailure>> {
        Box::pin(async move {
            let whole = |error: StoreError| GroupFailure { member: None, error };
            if batches.is_empty() {
                return Ok(vec![]);
            }
            let _writer = self.write_lock.lock().await;
            if let Some(writer) = &self.sqlite_writer {
                return writer.commit(batches, &self.audit_key).await;
            }
            // The revision counter is everyone's; `commit_all` enters each organization.
            let mut tx = self.pool.begin().await.map_err(|e| whole(e.into()))?;
            let committed = write::commit_all(&mut SqlxDb::new(&mut tx, self.backend), batches, &self.audit_key).await?;
            if let (Backend::Postgres, Some(last)) = (self.backend, committed.last()) {
                // Delivered when the transaction commits, to every server listening.
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANGES_CHANNEL)
                    .bind(last.revision.to_string())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| whole(e.into()))?;
            }
            tx.commit().await.map_err(|e| whole(e.into()))?;
            Ok(committed)
        })
    }

    fn snapshot(&self) -> BoxFuture<'_, Result<Snapshot>> {
        Box::pin(async move {
            // One consistent view of every table and the revision; on SQLite the grants are read
            // after it, directly (see `live_grants`).
            let mut tx = self.begin(Scope::All, true).await?;
            let mut snapshot = read::snapshot(&mut tx).await?;
            let grants = match self.sqlite_file() {
                Some(path) => {
                    tx.commit().await?;
                    let path = path.to_owned();
                    tokio::task::spawn_blocking(move || live_grants::from_sqlite_file(&path))
                        .await
                        .map_err(|e| StoreError::Corrupt(format!("reading the live grants stopped: {e}")))??
                }
                _ => live_grants::through_sqlx(&mut tx).await?,
            };
            // A grant of an organization made after the revision comes back with the change log,
            // after its organization (read apart, the grants may be newer than the rest).
            let orgs: std::collections::HashSet<OrgId> = snapshot
                .changes
                .iter()
                .filter_map(|c| match c {
                    Change::OrgCreated { org } => Some(org.id.clone()),
                    _ => None,
                })
                .collect();
            let known = grants.into_iter().filter(|g| orgs.contains(&g.org));
            snapshot.changes.extend(known.map(|grant| Change::GrantCreated { grant }));
            Ok(snapshot)
        })
    }

    fn others_may_have_written(&self) -> bool {
        self.sqlite_writer.as_ref().is_none_or(SqliteWriter::others_wrote)
    }

    fn changes_since(&self, revision: u64, limit: u32) -> BoxFuture<'_, Result<Vec<LoggedChange>>> {
        Box::pin(async move {
            let mut tx = self.begin(Scope::All, false).await?;
            read::changes_since(&mut tx, revision, limit).await
        })
    }

    fn wait_for_changes(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            match self.backend {
                Backend::Sqlite => tokio::time::sleep(SQLITE_POLL).await,
                Backend::Postgres => self.wait_for_notification().await,
            }
        })
    }

    fn latest_revision(&self) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move {
            let mut tx = self.begin(Scope::All, false).await?;
            let revision: i64 = sqlx::query_scalar(queries::SNAPSHOT_REVISION.sql).fetch_one(&mut *tx).await?;
            u64::try_from(revision).map_err(|_| StoreError::Corrupt(format!("negative revision {revision}")))
        })
    }

    fn saved_index(&self, format: &str) -> BoxFuture<'_, Result<Option<SavedIndex>>> {
        let format = format.to_owned();
        Box::pin(async move {
            let Some(path) = self.sqlite_file().map(saved_index::beside) else { return Ok(None) };
            let bytes = match tokio::fs::read(&path).await {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot read the saved index; loading from the tables");
                    return Ok(None);
                }
            };
            let (saved, digest) = match saved_index::decode(&self.audit_key, &format, bytes) {
                Ok(found) => found,
                Err(why) => {
                    tracing::warn!(path = %path.display(), "ignoring the saved index: {why}; loading from the tables");
                    return Ok(None);
                }
            };
            let mut tx = self.begin(Scope::All, false).await?;
            match saved_index::log_digest(&mut tx, saved.revision).await? {
                Some(d) if d == digest => Ok(Some(saved)),
                found => {
                    let why = if found.is_some() { "holds another change at" } else { "has no" };
                    tracing::warn!(path = %path.display(), "ignoring the saved index: the database {why} revision {} (restored or replaced); loading from the tables", saved.revision);
                    Ok(None)
                }
            }
        })
    }

    fn save_index(&self, format: &str, revision: u64, body: Vec<u8>) -> BoxFuture<'_, Result<bool>> {
        let format = format.to_owned();
        Box::pin(async move {
            let Some(path) = self.sqlite_file().map(saved_index::beside) else { return Ok(false) };
            let mut tx = self.begin(Scope::All, false).await?;
            let digest = saved_index::log_digest(&mut tx, revision)
                .await?
                .ok_or_else(|| StoreError::Corrupt(format!("the change log has no revision {revision} to save the index at")))?;
            drop(tx);
            let key = self.audit_key.clone();
            tokio::task::spawn_blocking(move || {
                let bytes = saved_index::encode(&key, &format, revision, digest, &body)?;
                saved_index::write_atomically(&path, &bytes)
                    .map_err(|e| StoreError::Unavailable(format!("cannot write the saved index {}: {e}", path.display())))
            })
            .await
            .map_err(|e| StoreError::Unavailable(format!("saving the index stopped: {e}")))??;
            Ok(true)
        })
    }

    fn unrecorded_expiries(&self, now: Timestamp) -> BoxFuture<'_, Result<Vec<DueExpiry>>> {
        Box::pin(async move {
            let mut tx = self.begin(Scope::All, false).await?;
            read::unrecorded_expiries(&mut tx, now).await
        })
    }
}

impl Isolation for SqlStore {
    fn isolation_report(&self) -> BoxFuture<'_, Result<IsolationReport>> {
        Box::pin(async move { isolation::report(&self.pool, self.backend).await })
    }
}

impl GrantRecords for SqlStore {
    fn grants(&self, org: &OrgId, filter: GrantFilter) -> BoxFuture<'_, Result<Vec<grantry_core::model::Grant>>> {
        let org = org.clone();
        Box::pin(async move {
            let mut tx = self.begin(Scope::Org(&org), false).await?;
            read::grants(&mut tx, &org, &filter).await
        })
    }
}

impl AuditLog for SqlStore {
    fn audit_events(&self, org: &OrgId, filter: AuditFilter) -> BoxFuture<'_, Result<Vec<AuditEvent>>> {
        let org = org.clone();
        Box::pin(async move {
            let mut tx = self.begin(Scope::Org(&org), false).await?;
            read::audit_events(&mut tx, &org, &filter).await
        })
    }

    fn verify_audit<'a>(&'a self, org: &'a OrgId, digest: Option<&'a Checkpoint>) -> BoxFuture<'a, Result<AuditVerification>> {
        Box::pin(async move {
            // One consistent view: the events and the checkpoint written with them.
            let mut tx = self.begin(Scope::Org(org), true).await?;
            let events = read::audit_events(&mut tx, org, &AuditFilter::default()).await?;
            let checkpoint = write::audit_checkpoint(&mut SqlxDb::new(&mut tx, self.backend), org).await?;
            let key = &self.audit_key;
            let checked = verify_chain(&events, key, checkpoint.as_ref())
                .and_then(|n| digest.map_or(Ok(()), |d| verify_against(&events, key, d)).map(|()| n));
            Ok(match checked {
                Ok(n) => AuditVerification { events_checked: n, broken_at: None, head: checkpoint, key_id: key.id() },
                Err(b) => AuditVerification {
                    events_checked: usize::try_from(b.seq.saturating_sub(1)).unwrap_or(0),
                    broken_at: Some(b),
                    head: None,
                    key_id: key.id(),
                },
            })
        })
    }
}
