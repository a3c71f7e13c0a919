//! The audit key's file: 32 random bytes in hex, readable only by its owner, kept outside the
//! database, so someone who can write the database cannot recompute the audit chain. By default
//! it sits beside a SQLite database (`grantry.db.audit-key`); with PostgreSQL it must be named,
//! and every server of an installation given the same file.

use crate::error::{Result, StoreError};
use crate::sql::{Backend, Keying, SqlStore};
use crate::Store;
use grantry_core::audit::AuditKey;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn bad(path: &Path, what: impl std::fmt::Display) -> StoreError {
    StoreError::InvalidUrl(format!("audit key file `{}`: {what}", path.display()))
}

/// Where the audit key lives when no file is named: beside a SQLite database. PostgreSQL has no
/// default — every server of an installation must be given the same file.
pub fn default_key_path(db_url: &str) -> Result<PathBuf> {
    match crate::sql::sqlite_path(db_url) {
        Some(db) if !db.is_empty() && db != ":memory:" => Ok(PathBuf::from(format!("{db}.audit-key"))),
        _ => Err(StoreError::InvalidUrl(
            "this database needs its audit key file named (give the same file to every server of the installation)".to_owned(),
        )),
    }
}

/// Reads the key at `path`; `None` when the file does not exist. A key file that others may read
/// is refused: whoever reads it can rewrite the audit log undetected.
pub fn read(path: &Path) -> Result<Option<AuditKey>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(path, format!("cannot read: {e}"))),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_err(|e| bad(path, e))?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(bad(path, format!("others may read it (mode {mode:03o}); make it readable by its owner only (chmod 600)")));
        }
    }
    AuditKey::from_hex(&text).map(Some).ok_or_else(|| bad(path, "does not hold a key (64 hex digits)"))
}

/// Writes a new key to `path`, which must not exist yet, readable by its owner only: written
/// whole to a temporary file beside it, then linked into place, so no reader ever sees it half
/// written and of several processes only one makes it.
fn create(path: &Path) -> Result<AuditKey> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| bad(path, format!("no randomness available: {e}")))?;
    let key = AuditKey::from_bytes(bytes);
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or_else(|| Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(|e| bad(path, format!("cannot create: {e}")))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file().set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(|e| bad(path, e))?;
    }
    writeln!(file, "{}", key.to_hex()).and_then(|()| file.as_file().sync_all()).map_err(|e| bad(path, format!("cannot write: {e}")))?;
    file.persist_noclobber(path).map_err(|e| bad(path, format!("cannot create: {}", e.error)))?;
    Ok(key)
}

/// Opens the store at `url` with the audit key in `key_file`, or in its default place. A missing
/// file is created with a new key — which may then key chains written before keys existed (an
/// upgrade), but is refused, and removed, if the database's log is already keyed with another.
pub async fn open_with_key_file(url: &str, key_file: Option<&Path>) -> Result<Arc<dyn Store>> {
    if Backend::of_url(url).is_none() {
        return Err(StoreError::InvalidUrl(format!(
            "`{}` is not a database URL; use sqlite://PATH or postgres://…",
            crate::redact_url(url)
        )));
    }
    let path = key_file.map_or_else(|| default_key_path(url), |p| Ok(p.to_path_buf()))?;
    if let Some(key) = read(&path)? {
        return Ok(Arc::new(SqlStore::open(url, key, Keying::ExistingKey).await?));
    }
    // Created first, so of several processes starting together only one makes the key.
    let key = match create(&path) {
        Ok(key) => key,
        Err(_) if path.exists() => return Box::pin(open_with_key_file(url, Some(&path))).await,
        Err(e) => return Err(e),
    };
    match SqlStore::open(url, key.clone(), Keying::NewKey).await {
        Ok(store) => {
            tracing::info!(path = %path.display(), key_id = key.id(), "created the audit key; keep it outside the database");
            Ok(Arc::new(store))
        }
        // Only a key the database refuses is taken back; after any other failure it may already
        // have keyed chains, or another process may be using it.
        Err(e @ StoreError::AuditKeyMismatch(_)) => {
            let _ = std::fs::remove_file(&path);
            Err(e)
        }
        Err(e) => Err(e),
    }
}
