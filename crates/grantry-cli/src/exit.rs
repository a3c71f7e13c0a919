//! Exit codes as a type: 0 success, 1 failure, 2 bad usage, 3 denied (from `check`).

use std::process::ExitCode;

/// How the program ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    Failure = 1,
    Usage = 2,
    Denied = 3,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        Self::from(e as u8)
    }
}

/// An error in how the command was called (exit 2), as opposed to one in doing it (exit 1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// A `check` that came out denied (exit 3); the explanation has been printed.
#[derive(Debug, thiserror::Error)]
#[error("denied")]
pub struct Denied;
