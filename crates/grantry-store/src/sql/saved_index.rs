//! The compiled decision index saved beside a SQLite database, so that a start reads one file and
//! replays the change log after it instead of reading and compiling every live row.
//!
//! The file is `MAGIC`, a little-endian `u32` header length, the header (JSON) and the body (the
//! index, encoded by the server). The header names the build that wrote it (`format`: an index
//! from another build is never decoded), the revision, a digest of the change-log entry at that
//! revision, and a seal under the installation's audit key over all of it and the body. Loading
//! refuses a file whose seal does not open (edited, or another installation's), whose build
//! differs, or whose revision the database lacks or holds a different entry at (restored from a
//! backup, or replaced); the server then loads from the tables as before.

use super::queries as q;
use crate::error::{Result, StoreError};
use crate::traits::SavedIndex;
use grantry_core::audit::AuditKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{Any, Row, Transaction};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 16] = b"grantry-index\x00\x00\x01";
const SEAL: &str = "saved index";
/// A header longer than this is not one of ours.
const MAX_HEADER: usize = 4096;

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    revision: u64,
    log_digest: String,
    seal: String,
}

/// The file beside the SQLite database at `db`.
pub(super) fn beside(db: &str) -> PathBuf {
    let mut name = Path::new(db).as_os_str().to_owned();
    name.push(".index");
    PathBuf::from(name)
}

/// The digest of the change-log entry at `revision` (empty at revision 0, before any change);
/// `None` when the log has no such entry.
pub(super) async fn log_digest(tx: &mut Transaction<'_, Any>, revision: u64) -> Result<Option<String>> {
    if revision == 0 {
        return Ok(Some(String::new()));
    }
    let at = i64::try_from(revision).map_err(|_| StoreError::Corrupt(format!("revision {revision} out of range")))?;
    let Some(row) = sqlx::query(q::CHANGE_AT.sql).bind(at).fetch_optional(&mut **tx).await? else { return Ok(None) };
    let (org, changes): (String, String) = (row.try_get("org_id")?, row.try_get("changes")?);
    let mut h = Sha256::new();
    h.update(org.as_bytes());
    h.update([0]);
    h.update(changes.as_bytes());
    Ok(Some(grantry_core::secret::hex(&h.finalize())))
}

fn sealed_parts<'a>(format: &'a str, revision: &'a str, digest: &'a str, body: &'a [u8]) -> [&'a [u8]; 4] {
    [format.as_bytes(), revision.as_bytes(), digest.as_bytes(), body]
}

/// The file's bytes for `body`.
pub(super) fn encode(key: &AuditKey, format: &str, revision: u64, log_digest: String, body: &[u8]) -> Result<Vec<u8>> {
    let seal = key.seal(SEAL, &sealed_parts(format, &revision.to_string(), &log_digest, body));
    let header = serde_json::to_vec(&Header { format: format.to_owned(), revision, log_digest, seal })
        .map_err(|e| StoreError::Corrupt(format!("encoding the saved index's header: {e}")))?;
    let len = u32::try_from(header.len()).map_err(|_| StoreError::Corrupt("the saved index's header is too long".to_owned()))?;
    let mut out = Vec::with_capacity(MAGIC.len() + 4 + header.len() + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(body);
    Ok(out)
}

/// The saved index in `bytes` if its seal opens under `key` and a build of `format` wrote it,
/// with the digest its revision's change-log entry must have; else why not.
pub(super) fn decode(key: &AuditKey, format: &str, bytes: Vec<u8>) -> std::result::Result<(SavedIndex, String), String> {
    let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or("it is not a saved index")?;
    let (len, rest) = rest.split_first_chunk::<4>().ok_or("it is cut short")?;
    let len = u32::from_le_bytes(*len) as usize;
    if len > MAX_HEADER || rest.len() < len {
        return Err("its header is damaged".to_owned());
    }
    let header: Header = serde_json::from_slice(&rest[..len]).map_err(|e| format!("its header is damaged: {e}"))?;
    if header.format != format {
        return Err(format!("another build saved it (`{}`)", header.format));
    }
    let body_start = MAGIC.len() + 4 + len;
    let body = bytes.get(body_start..).unwrap_or_default();
    if !key.opens(SEAL, &sealed_parts(format, &header.revision.to_string(), &header.log_digest, body), &header.seal) {
        return Err("its seal does not open with this installation's audit key (edited, or another installation's)".to_owned());
    }
    Ok((SavedIndex { revision: header.revision, bytes, body_start }, header.log_digest))
}

/// Writes `bytes` to `path` through a private temporary file, synced, then renamed over it, so a
/// crash leaves the old file or the new one.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    // A leftover from a crash is removed first, so the file is always created here, with mode 0600.
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
}
