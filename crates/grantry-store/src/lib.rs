//! Grantry's storage: the [`Store`] traits and the SQL store behind them, on SQLite (the embedded
//! default) or PostgreSQL, chosen by URL. Each write is one transaction holding the state change, its change-log
//! entry (numbered by a revision) and its hash-chained audit events. Driver errors stop here.

pub mod audit_key;
mod error;
mod rows;
mod sql;
pub mod testing;
mod traits;

pub use audit_key::open_with_key_file;
pub use error::{Result, StoreError};
pub use sql::{Backend, Keying, SqlStore};
pub use traits::{
    AuditFilter, AuditLog, AuditVerification, BoxFuture, Committed, Delivery, DueExpiry, GrantFilter, GrantRecords, GrantState,
    GroupFailure, Isolation, IsolationReport, LoggedChange, Notice, NoticeRecord, Outbox, SavedIndex, Settlement, Snapshot, StateStore,
    Store, TableIsolation, WriteBatch,
};

use grantry_core::audit::AuditKey;
use std::sync::Arc;

/// Opens the store named by `url` (`sqlite://PATH`, the embedded default, or `postgres://…`),
/// creating and migrating the database if needed, with the installation's existing audit key.
pub async fn open(url: &str, key: AuditKey) -> Result<Arc<dyn Store>> {
    Ok(Arc::new(SqlStore::open(url, key, Keying::ExistingKey).await?))
}

/// A database URL safe to print: any password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_once('/').map_or((rest, None), |(a, p)| (a, Some(p)));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    match path {
        Some(p) => format!("{scheme}://{authority}/{p}"),
        None => format!("{scheme}://{authority}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_never_print_passwords() {
        assert_eq!(super::redact_url("postgres://app:s3cret@db:5432/grantry"), "postgres://app:***@db:5432/grantry");
        assert_eq!(super::redact_url("sqlite://grantry.db"), "sqlite://grantry.db");
    }
}
