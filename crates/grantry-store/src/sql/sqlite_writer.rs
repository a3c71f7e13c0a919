//! SQLite's writes, on one rusqlite connection of their own, on a blocking thread: a group's
//! statements run back to back there. Through sqlx each statement was a trip to its worker
//! thread and back — about 0.25 ms a statement with eight writers, 2.4 ms for a group of eight
//! grant creations before its sync — which held SQLite to 1,900 durable writes a second.
//!
//! The connection has the pool's settings (`synchronous=FULL`: a commit is on disk when it
//! returns). Other processes writing the same file are ordered by SQLite's lock, as before.

use super::statement::{Arg, Db, Kind, Statement};
use super::{write, SQLITE_PRAGMAS};
use crate::error::{Result, StoreError};
use crate::traits::{Committed, GroupFailure, WriteBatch};
use futures_util::FutureExt;
use grantry_core::audit::AuditKey;
use grantry_core::ids::OrgId;
use rusqlite::types::ToSqlOutput;
use rusqlite::{Connection, OpenFlags, OptionalExtension, ToSql, TransactionBehavior};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Distinct statements kept prepared: the group's inserts differ by their number of rows.
const PREPARED: usize = 128;

/// The writing connection.
pub(super) struct SqliteWriter {
    conn: Arc<Mutex<Connection>>,
    /// The connection's `data_version` when last asked: it moves when another connection
    /// commits, never for this one's own commits.
    seen: AtomicI64,
}

impl SqliteWriter {
    /// Opens the database file at `path` (created and migrated already) for writing.
    pub(super) fn open(path: &str) -> Result<Self> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        for pragma in SQLITE_PRAGMAS {
            // Some settings answer with a row (`journal_mode`); it is read and dropped.
            conn.prepare(pragma)?.query([])?.next()?;
        }
        // A multi-row insert keeps a statement journal; in memory, not in a temporary file.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.set_prepared_statement_cache_capacity(PREPARED);
        Ok(Self { conn: Arc::new(Mutex::new(conn)), seen: AtomicI64::new(i64::MIN) })
    }

    /// Whether another connection — another process, or a command of this one not written
    /// here — may have committed since the last call. Busy or failing, it says yes.
    pub(super) fn others_wrote(&self) -> bool {
        let Ok(conn) = self.conn.try_lock() else { return true };
        match conn.query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0)) {
            Ok(version) => self.seen.swap(version, Ordering::AcqRel) != version,
            Err(_) => true,
        }
    }

    /// Commits `batches` as one transaction (see [`write::commit_all`]).
    pub(super) async fn commit(&self, batches: Vec<WriteBatch>, key: &AuditKey) -> std::result::Result<Vec<Committed>, GroupFailure> {
        let whole = |error: StoreError| GroupFailure { member: None, error };
        let (conn, key) = (Arc::clone(&self.conn), key.clone());
        tokio::task::spawn_blocking(move || {
            // A panic mid-transaction rolled it back as it unwound, so the connection is sound.
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| whole(e.into()))?;
            // Nothing here waits, so the write finishes in one poll.
            let committed = write::commit_all(&mut Rusqlite(&tx), batches, &key)
                .now_or_never()
                .ok_or_else(|| whole(StoreError::Unavailable("a SQLite write did not finish at once".into())))??;
            tx.commit().map_err(|e| whole(e.into()))?;
            Ok(committed)
        })
        .await
        .map_err(|e| whole(StoreError::Unavailable(format!("a SQLite write stopped: {e}"))))?
    }
}

impl SqliteWriter {
    /// Runs one statement on its own (its own transaction); the rows it changed.
    pub(super) async fn execute(&self, statement: Statement) -> Result<u64> {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            let changed = conn.prepare_cached(&numbered(&statement.sql))?.execute(rusqlite::params_from_iter(&statement.args))?;
            Ok(changed as u64)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("a SQLite write stopped: {e}")))?
    }
}

/// A rusqlite transaction as a [`Db`].
struct Rusqlite<'c>(&'c rusqlite::Transaction<'c>);

impl Db for Rusqlite<'_> {
    async fn enter(&mut self, _org: &OrgId) -> Result<()> {
        Ok(())
    }

    async fn execute(&mut self, s: &Statement) -> Result<u64> {
        let changed = self.0.prepare_cached(&numbered(&s.sql))?.execute(rusqlite::params_from_iter(&s.args))?;
        Ok(changed as u64)
    }

    async fn row(&mut self, s: &Statement, columns: &[Kind]) -> Result<Option<Vec<Arg>>> {
        let mut statement = self.0.prepare_cached(&numbered(&s.sql))?;
        let row = statement.query_row(rusqlite::params_from_iter(&s.args), |r| {
            columns
                .iter()
                .enumerate()
                .map(|(i, kind)| {
                    Ok(match kind {
                        Kind::Int => Arg::Int(r.get(i)?),
                        Kind::Text => Arg::Text(r.get(i)?),
                    })
                })
                .collect()
        });
        Ok(row.optional()?)
    }
}

impl ToSql for Arg {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Self::Int(v) => v.to_sql(),
            Self::Text(v) => v.to_sql(),
        }
    }
}

/// `sql` with its `$n` placeholders written `?n`: SQLite reads `$1` as a name, numbered by where
/// it first appears, not by its digits.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        let placeholder = c == '$' && chars.peek().is_some_and(char::is_ascii_digit);
        out.push(if placeholder { '?' } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn placeholders_are_numbered_by_their_digits() {
        assert_eq!(numbered("UPDATE t SET a = $2 WHERE b = $1 AND c = '$x'"), "UPDATE t SET a = ?2 WHERE b = ?1 AND c = '$x'");
    }
}
