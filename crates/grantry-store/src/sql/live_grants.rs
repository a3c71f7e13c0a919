//! The snapshot's live grants — most of a large snapshot — read and parsed in one place for both
//! backends. On SQLite they are read with rusqlite on a blocking thread: sqlx yields a big result
//! a row at a time through its worker (about 20 µs a row), which made a million grants a
//! 20-second start.
//!
//! INVARIANT: on SQLite the grants are read in a read transaction of their own, begun after the
//! one that read the revision and the other tables. That is safe because every grant change
//! replays idempotently (a creation replaces, a revocation or recorded expiry removes what may
//! already be gone): whatever committed in between is in the rows and is applied again from the
//! change log; and a grant of an organization the snapshot does not have yet is left for the
//! change log to bring after its organization.

use super::queries as q;
use crate::error::{Result, StoreError};
use crate::rows::{from_json, opt_timestamp, timestamp};
use grantry_core::ids::{GrantId, OrgId};
use grantry_core::model::{Actor, Grant, GrantSource};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// One row of `SNAPSHOT_GRANTS`, as either backend reads it.
struct TermsRow {
    org: String,
    id: String,
    principal: String,
    target: String,
    anchor: String,
    starts_us: i64,
    expires_us: Option<i64>,
    created_us: i64,
}

/// A [`TermsRow`] from a row whose columns are read by index with `$get` (sqlx's `try_get`,
/// rusqlite's `get`), in `SNAPSHOT_GRANTS`' order.
macro_rules! terms_row {
    ($r:expr, $get:ident) => {
        TermsRow {
            org: $r.$get(0)?,
            id: $r.$get(1)?,
            principal: $r.$get(2)?,
            target: $r.$get(3)?,
            anchor: $r.$get(4)?,
            starts_us: $r.$get(5)?,
            expires_us: $r.$get(6)?,
            created_us: $r.$get(7)?,
        }
    };
}

impl TermsRow {
    /// The grant with its terms; the fields the index does not keep are left empty.
    fn grant(self) -> Result<Grant> {
        Ok(Grant {
            id: GrantId(self.id),
            org: OrgId(self.org),
            principal: self.principal.parse().map_err(StoreError::Corrupt)?,
            target: from_json(&self.target)?,
            anchor: from_json(&self.anchor)?,
            starts_at: timestamp(self.starts_us)?,
            expires_at: opt_timestamp(self.expires_us)?,
            justification: None,
            tags: Vec::new(),
            creator: Actor::System,
            source: GrantSource::Manual,
            created_at: timestamp(self.created_us)?,
            revoked: None,
        })
    }
}

/// The live grants, through sqlx (PostgreSQL), streamed.
pub(super) async fn through_sqlx(tx: &mut Transaction<'_, Any>) -> Result<Vec<Grant>> {
    use futures_util::TryStreamExt;
    let mut out = Vec::new();
    let mut rows = sqlx::query(q::SNAPSHOT_GRANTS.sql).fetch(&mut **tx);
    while let Some(r) = rows.try_next().await? {
        let r: AnyRow = r;
        out.push(terms_row!(r, try_get).grant()?);
    }
    Ok(out)
}

fn sqlite_error(e: rusqlite::Error) -> StoreError {
    StoreError::Corrupt(format!("reading the live grants: {e}"))
}

/// The live grants of the SQLite database at `path`, read directly (blocking).
pub(super) fn from_sqlite_file(path: &str) -> Result<Vec<Grant>> {
    use rusqlite::OpenFlags;
    // Opened read-write (a read-only connection cannot always open a WAL database) and told to
    // refuse writes; the statement reads one consistent view.
    let conn = rusqlite::Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(sqlite_error)?;
    conn.pragma_update(None, "query_only", true).map_err(sqlite_error)?;
    conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(sqlite_error)?;
    let mut statement = conn.prepare(q::SNAPSHOT_GRANTS.sql).map_err(sqlite_error)?;
    let rows = statement.query_map([], |r| Ok(terms_row!(r, get))).map_err(sqlite_error)?;
    rows.map(|row| row.map_err(sqlite_error).and_then(TermsRow::grant)).collect()
}
