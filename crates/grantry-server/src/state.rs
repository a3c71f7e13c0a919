//! The server's shared state: the store, the decision index, and the write path that keeps them
//! in step.

use crate::error::{ApiError, Result};
use grantry_core::change::Change;
use grantry_core::index::DecisionIndex;
use grantry_store::{Committed, Store, WriteBatch};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};
use tokio::sync::Mutex;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    index: Arc<RwLock<DecisionIndex>>,
    /// INVARIANT: held from validation to index update by every write, so a write is validated
    /// against the state it will be applied to and the index applies commits in revision order.
    writer: Arc<Mutex<()>>,
}

impl AppState {
    /// Loads the whole state from `store` into a fresh decision index.
    pub async fn load(store: Arc<dyn Store>) -> Result<Self> {
        let snapshot = store.snapshot().await?;
        let mut index = DecisionIndex::default();
        index.apply_all(snapshot.revision, &snapshot.changes)?;
        Ok(Self { store, index: Arc::new(RwLock::new(index)), writer: Arc::new(Mutex::new(())) })
    }

    /// Reads the index. Hold the guard briefly: writers wait for it.
    pub fn index(&self) -> RwLockReadGuard<'_, DecisionIndex> {
        self.index.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one write: `build` validates against the current index and returns the batch (or an
    /// error, and nothing is written); the batch is committed, then applied to the index.
    pub async fn write<T>(&self, build: impl FnOnce(&DecisionIndex) -> Result<(WriteBatch, T)>) -> Result<(Committed, T)> {
        let _writer = self.writer.lock().await;
        let (batch, out) = build(&self.index())?;
        let changes: Vec<Change> = batch.changes.clone();
        let committed = self.store.commit(batch).await?;
        let mut index = self.index.write().unwrap_or_else(PoisonError::into_inner);
        index.apply_all(committed.revision, &changes).map_err(|e| ApiError::Internal(format!("index out of step with the store: {e}")))?;
        Ok((committed, out))
    }
}
