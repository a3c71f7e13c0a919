//! Grantry's storage: the [`Store`] traits and the SQL store behind them, on SQLite (the embedded
//! default) or PostgreSQL, chosen by URL. Each write is one transaction holding the state change, its change-log
//! entry (numbered by a revision) and its hash-chained audit events. Driver errors stop here.

pub mod audit_key;
mod error;
mod rows;
mod sql;
pub mod testing;
mod traits;

pub use error::{Result, StoreError};
pub use sql::{Backend, SqlStore};
pub use traits::{
    AuditFilter, AuditLog, AuditVerification, BoxFuture, Committed, DueExpiry, Isolation, IsolationReport, LoggedChange, Snapshot,
    StateStore, Store, TableIsolation, WriteBatch,
};

use grantry_core::audit::AuditKey;
use std::sync::Arc;

/// Opens the store named by `url` (`sqlite://PATH`, the embedded default, or `postgres://…`),
/// creating and migrating the database if needed, with the audit key `key`.
pub async fn open(url: &str, key: AuditKey) -> Result<Arc<dyn Store>> {
    Ok(Arc::new(SqlStore::open(url, key).await?))
}

/// Opens the store at `url` with the audit key in `key_file`, or in its default place (see
/// [`audit_key::default_key_path`]), creating the key if it does not exist.
pub async fn open_with_key_file(url: &str, key_file: Option<&std::path::Path>) -> Result<Arc<dyn Store>> {
    let path = key_file.map_or_else(|| audit_key::default_key_path(url), std::path::Path::to_path_buf);
    open(url, audit_key::load_or_create(&path)?).await
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
