//! The compiled index saved for the next start. The store keeps the file and checks that it is
//! this installation's and this database's (`grantry_store`'s `saved_index`); this module has the
//! index encoded (`DecisionIndex::encode`) and names the build, by a hash of this
//! executable, so that an index is only ever decoded by the build that encoded it.

use crate::service::error::{Result, ServiceError};
use grantry_core::index::DecisionIndex;
use grantry_store::Store;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// This build's name for its saved indexes; `None` when the executable cannot be read (then no
/// index is saved or loaded).
fn format() -> Option<&'static str> {
    static FORMAT: OnceLock<Option<String>> = OnceLock::new();
    FORMAT
        .get_or_init(|| {
            let exe = std::env::current_exe().and_then(std::fs::read).ok()?;
            let build = grantry_core::secret::hex(&Sha256::digest(&exe)[..16]);
            Some(format!("grantry {} decision index, build {build}", env!("CARGO_PKG_VERSION")))
        })
        .as_deref()
}

/// The saved index, if the store has a usable one for this build.
pub async fn load(store: &dyn Store) -> Result<Option<DecisionIndex>> {
    let Some(format) = format() else { return Ok(None) };
    let Some(saved) = store.saved_index(format).await? else { return Ok(None) };
    let revision = saved.revision;
    let decoded = tokio::task::spawn_blocking(move || DecisionIndex::decode(saved.body()))
        .await
        .map_err(|e| ServiceError::Internal(format!("decoding the saved index stopped: {e}")))?;
    match decoded {
        Ok(index) if index.revision() == revision => Ok(Some(index)),
        Ok(index) => {
            tracing::warn!(revision, decoded = index.revision(), "ignoring the saved index: its revision disagrees with its header");
            Ok(None)
        }
        Err(e) => {
            tracing::warn!(error = %e, "ignoring the saved index");
            Ok(None)
        }
    }
}

/// Saves `index` for the next start; whether the store keeps one.
pub async fn save(store: &dyn Store, index: std::sync::Arc<DecisionIndex>) -> Result<bool> {
    let Some(format) = format() else { return Ok(false) };
    let revision = index.revision();
    let body = tokio::task::spawn_blocking(move || index.encode())
        .await
        .map_err(|e| ServiceError::Internal(format!("encoding the index stopped: {e}")))??;
    Ok(store.save_index(format, revision, body).await?)
}
