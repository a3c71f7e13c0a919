//! Grantry's storage: the [`Store`] traits and their backends, chosen by URL (`sqlite://…`, the
//! embedded default). Each write is one transaction holding the state change, its change-log
//! entry (numbered by a revision) and its hash-chained audit events. Driver errors stop here.

mod error;
mod rows;
mod sqlite;
mod traits;

pub use error::{Result, StoreError};
pub use sqlite::SqliteStore;
pub use traits::{AuditFilter, AuditLog, BoxFuture, Committed, DueExpiry, LoggedChange, Snapshot, StateStore, Store, WriteBatch};

use std::sync::Arc;

/// Opens the store named by `url`, creating and migrating the database if needed.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    match url.split_once(':').map(|(scheme, _)| scheme) {
        Some("sqlite") => Ok(Arc::new(SqliteStore::open(url).await?)),
        Some("postgres" | "postgresql") => Err(StoreError::InvalidUrl(
            "the PostgreSQL backend is not built yet; use a sqlite:// URL (e.g. sqlite://grantry.db)".to_owned(),
        )),
        _ => Err(StoreError::InvalidUrl(format!(
            "`{}` is not a database URL; use sqlite://PATH (e.g. sqlite://grantry.db)",
            redact_url(url)
        ))),
    }
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
