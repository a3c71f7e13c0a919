//! Exit codes as a type, and the one place an error becomes one:
//! 0 success, 1 failure, 2 bad usage or bad input, 3 denied (by `check`), 4 not found,
//! 5 not authorised. The server's answers map by status (400/413/414/422 → 2, 404 → 4,
//! 401/403 → 5); the CLI's own refusals say which they are by their type.

use crate::client::ServerError;
use grantry_store::StoreError;
use std::process::ExitCode;

/// How the program ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    Failure = 1,
    Usage = 2,
    Denied = 3,
    NotFound = 4,
    NotAuthorised = 5,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        Self::from(e as u8)
    }
}

impl Exit {
    /// The exit code an error ends the program with.
    pub fn of(e: &anyhow::Error) -> Self {
        if e.is::<Denied>() {
            Self::Denied
        } else if e.is::<UsageError>() || matches!(e.downcast_ref::<StoreError>(), Some(StoreError::InvalidUrl(_))) {
            Self::Usage
        } else if e.is::<NotFound>() {
            Self::NotFound
        } else if let Some(s) = e.downcast_ref::<ServerError>() {
            match s.status {
                400 | 413 | 414 | 422 => Self::Usage,
                401 | 403 => Self::NotAuthorised,
                404 => Self::NotFound,
                _ => Self::Failure,
            }
        } else {
            Self::Failure
        }
    }
}

/// An error in how the command was called or in its input (exit 2), as opposed to one in doing it
/// (exit 1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Something the command names does not exist (exit 4).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotFound(pub String);

/// A `check` that came out denied (exit 3); the explanation has been printed.
#[derive(Debug, thiserror::Error)]
#[error("denied")]
pub struct Denied;
