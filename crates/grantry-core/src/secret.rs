//! Bearer secrets: their shape and their hash. Secrets are stored and compared only as hashes.

use sha2::{Digest, Sha256};

/// The prefix of every Grantry token, so a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "gty_";

/// The SHA-256 of a secret, in lowercase hex. Secrets are random and long, so a fast hash is
/// the right one: there is nothing to guess.
pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Whether `token` has the shape of a Grantry token: the prefix and 64 hex digits.
pub fn is_well_formed(token: &str) -> bool {
    token.strip_prefix(TOKEN_PREFIX).is_some_and(|rest| rest.len() == 64 && rest.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
