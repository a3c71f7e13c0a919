//! The core's error type: what was wrong with an input, said so a person can fix it.

/// An error from the core: always about the caller's input or the state it refers to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    /// The input is malformed or out of range; `field` names the input.
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    /// The input refers to something that does not exist in the organization.
    #[error("{0}")]
    NotFound(String),
    /// The change conflicts with the current state (a duplicate, an already revoked grant).
    #[error("{0}")]
    Conflict(String),
    /// The actor may not do this.
    #[error("{0}")]
    Forbidden(String),
}

impl CoreError {
    /// An `Invalid` error for `field`.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid { field, message: message.into() }
    }
}

/// The core's result type.
pub type Result<T> = std::result::Result<T, CoreError>;
