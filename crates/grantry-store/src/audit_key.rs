//! The audit key's file: 32 random bytes in hex, created readable only by its owner on first use
//! and kept outside the database, so someone who can write the database cannot recompute the
//! audit chain. By default it sits beside a SQLite database (`grantry.db.audit-key`); with
//! PostgreSQL, every server of an installation must be given the same file.

use crate::error::{Result, StoreError};
use grantry_core::audit::AuditKey;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the audit key lives when no file is named: beside a SQLite database, or
/// `grantry-audit.key` in the working directory for PostgreSQL.
pub fn default_key_path(db_url: &str) -> PathBuf {
    match crate::sql::sqlite_path(db_url) {
        Some(db) if db != ":memory:" => PathBuf::from(format!("{db}.audit-key")),
        _ => PathBuf::from("grantry-audit.key"),
    }
}

/// Reads the key at `path`, creating it (mode 0600, fresh random bytes) if it does not exist.
pub fn load_or_create(path: &Path) -> Result<AuditKey> {
    let bad = |what: String| StoreError::InvalidUrl(format!("audit key file `{}`: {what}", path.display()));
    match std::fs::read_to_string(path) {
        Ok(text) => AuditKey::from_hex(&text).ok_or_else(|| bad("does not hold a key (64 hex digits)".into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| bad(format!("no randomness available: {e}")))?;
            let key = AuditKey::from_bytes(bytes);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(path) {
                Ok(mut file) => {
                    writeln!(file, "{}", key.to_hex()).and_then(|()| file.sync_all()).map_err(|e| bad(format!("cannot write: {e}")))?;
                    tracing::info!(path = %path.display(), key_id = key.id(), "created the audit key; keep it outside the database");
                    Ok(key)
                }
                // Another process created it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create(path),
                Err(e) => Err(bad(format!("cannot create: {e}"))),
            }
        }
        Err(e) => Err(bad(format!("cannot read: {e}"))),
    }
}
