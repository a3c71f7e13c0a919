//! Fresh identifiers and secrets, from the operating system's random source.

use crate::service::error::{Result, ServiceError};
use grantry_core::secret::{hex, TOKEN_PREFIX};

/// `n` random bytes in hex.
fn random_hex(n: usize) -> Result<String> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|e| ServiceError::Internal(format!("no randomness available: {e}")))?;
    Ok(hex(&buf))
}

/// A new record id: 24 hex characters (the shape of a conversation id).
pub fn new_id() -> Result<String> {
    random_hex(12)
}

/// A new bearer secret: `gty_` and 64 hex characters (256 random bits).
pub fn new_secret() -> Result<String> {
    Ok(format!("{TOKEN_PREFIX}{}", random_hex(32)?))
}
