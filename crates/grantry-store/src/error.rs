//! The store's error type. Driver errors are mapped here and never travel further.

/// An error from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The write conflicts with a record already there (a unique key).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The batch was validated against revision `base`, but another write committed since;
    /// catch up, validate again and retry.
    #[error("stale: validated against revision {base}, but the store has moved on")]
    Stale { base: u64 },
    /// The database could not be reached or failed; the detail is for the log, not for clients.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A stored value could not be read back (a bug or a hand-edited row).
    #[error("stored data is malformed: {0}")]
    Corrupt(String),
    /// The database's audit log is keyed with another audit key than the one given.
    #[error("{0}")]
    AuditKeyMismatch(String),
    /// The database URL is not usable.
    #[error("{0}")]
    InvalidUrl(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => Self::NotFound("row".to_owned()),
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict(db.message().to_owned()),
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) | sqlx::Error::ColumnNotFound(_) => Self::Corrupt(e.to_string()),
            _ => Self::Unavailable(e.to_string()),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi::{SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE};
        match &e {
            rusqlite::Error::QueryReturnedNoRows => Self::NotFound("row".to_owned()),
            rusqlite::Error::SqliteFailure(f, message)
                if f.extended_code == SQLITE_CONSTRAINT_UNIQUE || f.extended_code == SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                Self::Conflict(message.clone().unwrap_or_else(|| e.to_string()))
            }
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::IntegralValueOutOfRange(..) => Self::Corrupt(e.to_string()),
            _ => Self::Unavailable(e.to_string()),
        }
    }
}

/// The store's result type.
pub type Result<T> = std::result::Result<T, StoreError>;
