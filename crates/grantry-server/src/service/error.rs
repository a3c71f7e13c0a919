//! The services' own error type: transport-free — what was wrong and how to fix it, said for a
//! person, with no status code and no command-line flag. The API maps it to HTTP in one place
//! (`crate::error`); the console and SCIM to come reuse it as it is.

use grantry_core::CoreError;
use grantry_store::StoreError;

/// An error a service operation returns.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input is malformed or out of range; `field` names it.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Something the request names does not exist in the organization.
    #[error("{0}")]
    NotFound(String),
    /// The change conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// The actor may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Too many requests are waiting; retry shortly.
    #[error("{0}")]
    RateLimited(String),
    /// The database is away; the detail is for the log.
    #[error("{0}")]
    Unavailable(String),
    /// The request named a revision no write has returned (the change log, read once, ends
    /// before it).
    #[error("this server is at revision {have}, not yet {wanted}")]
    Behind { wanted: u64, have: u64 },
    /// A bug or corrupt data; the detail is for the log.
    #[error("{0}")]
    Internal(String),
}

impl ServiceError {
    /// Whether the request was refused (bad input, nothing there, a conflict, not allowed) rather
    /// than failed.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::Invalid { .. } | Self::NotFound(_) | Self::Conflict(_) | Self::Forbidden(_))
    }
}

/// The services' result type.
pub type Result<T> = std::result::Result<T, ServiceError>;

impl ServiceError {
    /// A core error about an input, said of `field` instead (a duration parsed for `grace`, say).
    pub fn about(field: &'static str) -> impl FnOnce(CoreError) -> Self {
        move |e| match e {
            CoreError::Invalid { message, .. } => Self::Invalid { field: field.to_owned(), message },
            other => other.into(),
        }
    }

    /// Something a body or query field names that does not exist: invalid input in `field` (a 422),
    /// not a missing resource (a 404 says the path names nothing).
    pub fn named_in(field: &'static str) -> impl Fn(Self) -> Self {
        move |e| match e {
            Self::NotFound(message) => Self::Invalid { field: field.to_owned(), message },
            other => other,
        }
    }
}

impl From<CoreError> for ServiceError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Invalid { field, message } => Self::Invalid { field: field.to_owned(), message },
            CoreError::NotFound(m) => Self::NotFound(m),
            CoreError::Conflict(m) => Self::Conflict(m),
            CoreError::Forbidden(m) => Self::Forbidden(m),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => Self::NotFound(m),
            StoreError::Conflict(m) => {
                // The driver's words stay in the log.
                tracing::warn!(detail = %m, "store conflict");
                Self::Conflict("the change conflicts with the current state; reload and try again".to_owned())
            }
            StoreError::Stale { base } => {
                Self::Conflict(format!("the organization kept changing while this change was validated (from revision {base}); try again"))
            }
            StoreError::Unavailable(m) => Self::Unavailable(m),
            StoreError::Corrupt(m) | StoreError::InvalidUrl(m) | StoreError::AuditKeyMismatch(m) => Self::Internal(m),
        }
    }
}
