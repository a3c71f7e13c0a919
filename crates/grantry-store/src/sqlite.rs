//! The SQLite backend, the embedded default: WAL, `synchronous=FULL`, migrations embedded in the
//! binary, one writer at a time.

mod read;
mod write;

use crate::error::{Result, StoreError};
use crate::traits::{AuditFilter, AuditLog, BoxFuture, Committed, DueExpiry, LoggedChange, Snapshot, StateStore, WriteBatch};
use grantry_core::audit::AuditEvent;
use grantry_core::ids::OrgId;
use grantry_core::Timestamp;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::Mutex;

/// The schema versions, in order; each runs once, in its own transaction.
const MIGRATIONS: &[(i64, &str)] = &[(1, include_str!("../migrations/sqlite/0001_init.sql"))];

/// A store in one SQLite file.
pub struct SqliteStore {
    pool: SqlitePool,
    /// INVARIANT: held for the whole of every write transaction, so audit chains and revisions
    /// are assigned by one writer at a time.
    write_lock: Mutex<()>,
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `url` (`sqlite://PATH`).
    pub async fn open(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::InvalidUrl(format!("`{url}` is not a usable SQLite URL ({e}); use sqlite://PATH")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        let store = Self { pool, write_lock: Mutex::new(()) };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        let _writer = self.write_lock.lock().await;
        sqlx::raw_sql("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)").execute(&self.pool).await?;
        for (version, sql) in MIGRATIONS {
            let mut tx = self.pool.begin().await?;
            let done: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
            if done.is_none() {
                sqlx::raw_sql(sql).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO schema_migrations (version) VALUES ($1)").bind(version).execute(&mut *tx).await?;
                tx.commit().await?;
                tracing::info!(version, "applied SQLite migration");
            }
        }
        Ok(())
    }

    /// The schema version the database is at.
    pub async fn schema_version(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetch_one(&self.pool).await?)
    }
}

impl StateStore for SqliteStore {
    fn commit(&self, batch: WriteBatch) -> BoxFuture<'_, Result<Committed>> {
        Box::pin(async move {
            let _writer = self.write_lock.lock().await;
            let mut tx = self.pool.begin().await?;
            let committed = write::commit(&mut tx, batch).await?;
            tx.commit().await?;
            Ok(committed)
        })
    }

    fn snapshot(&self) -> BoxFuture<'_, Result<Snapshot>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            read::snapshot(&mut tx).await
        })
    }

    fn changes_since(&self, revision: u64, limit: u32) -> BoxFuture<'_, Result<Vec<LoggedChange>>> {
        Box::pin(async move { read::changes_since(&self.pool, revision, limit).await })
    }

    fn unrecorded_expiries(&self, now: Timestamp) -> BoxFuture<'_, Result<Vec<DueExpiry>>> {
        Box::pin(async move { read::unrecorded_expiries(&self.pool, now).await })
    }
}

impl AuditLog for SqliteStore {
    fn audit_events(&self, org: &OrgId, filter: AuditFilter) -> BoxFuture<'_, Result<Vec<AuditEvent>>> {
        let org = org.clone();
        Box::pin(async move { read::audit_events(&self.pool, &org, &filter).await })
    }
}
