//! The server's shared state: the store, the decision index (in two copies, see
//! [`crate::indexes`]), and the paths that keep the index in step with the store — its own
//! writes, committed in groups, and the change log that every server follows.

use crate::indexes::{Indexes, Outcome, ReadIndex};
use crate::metrics::Metrics;
use crate::service::error::{Result, ServiceError};
use crate::service::Ctx;
use grantry_core::index::{DecisionIndex, OrgState};
use grantry_store::{Committed, Store, StoreError, WriteBatch};
use std::sync::Arc;
use std::time::Duration;

/// How many requests may wait for a revision at once; more are told to retry.
const REVISION_WAITERS: usize = 64;
/// How many catch-ups for unknown tokens may run at once; more are judged without one.
const STRANGER_CATCH_UPS: usize = 2;
/// How many times a write is validated again after another server committed first.
const WRITE_ATTEMPTS: u32 = 16;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    indexes: Arc<Indexes>,
    /// Bounds the requests waiting for a revision this server has not reached.
    waiters: Arc<tokio::sync::Semaphore>,
    /// Bounds the catch-ups made for tokens this server does not know (yet), apart from the
    /// above, so unknown tokens cannot crowd out authenticated callers.
    strangers: Arc<tokio::sync::Semaphore>,
    metrics: Arc<Metrics>,
    from_saved: bool,
}

impl AppState {
    /// Loads the whole state from `store`: the index it saved for this build, if it has a usable
    /// one, and the change log after it; else from the tables.
    pub async fn load(store: Arc<dyn Store>) -> Result<Self> {
        let started = std::time::Instant::now();
        let (index, from_saved) = match crate::saved::load(store.as_ref()).await? {
            Some(index) => (index, true),
            None => {
                let snapshot = store.snapshot().await?;
                let mut index = DecisionIndex::default();
                index.apply_all(snapshot.revision, &snapshot.changes)?;
                index.shrink();
                (index, false)
            }
        };
        let saved_at = index.revision();
        let state = Self {
            store,
            indexes: Arc::new(Indexes::new(index)),
            waiters: Arc::new(tokio::sync::Semaphore::new(REVISION_WAITERS)),
            strangers: Arc::new(tokio::sync::Semaphore::new(STRANGER_CATCH_UPS)),
            metrics: Arc::new(Metrics::new(None)),
            from_saved,
        };
        let revision = state.catch_up().await?;
        let from = if from_saved { "the saved index" } else { "the tables" };
        tracing::info!(
            revision,
            replayed = revision.saturating_sub(saved_at),
            seconds = started.elapsed().as_secs_f64(),
            "loaded the state from {from}"
        );
        Ok(state)
    }

    /// Whether [`AppState::load`] started from a saved index (else it read the tables).
    pub fn loaded_from_saved(&self) -> bool {
        self.from_saved
    }

    /// Saves the index for the next start, where the store keeps one (beside a SQLite file);
    /// whether it did. It holds the published copy while it encodes it, and writes wait for
    /// that: call it before serving or after.
    pub async fn save_index(&self) -> Result<bool> {
        crate::saved::save(self.store.as_ref(), self.indexes.published()).await
    }

    /// Serves `/metrics` to the bearer of `token` (without one, `/metrics` is off).
    pub fn with_metrics_token(mut self, token: &str) -> Self {
        self.metrics = Arc::new(Metrics::new(Some(token)));
        self
    }

    /// What is counted.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The index as published: every committed change this server has applied. Readers never
    /// wait for writers; drop it before the next `.await`.
    pub fn index(&self) -> ReadIndex {
        self.indexes.read()
    }

    /// The revision the index is at.
    pub fn revision(&self) -> u64 {
        self.index().revision()
    }

    /// Runs one write: `build` validates against the index as it will stand — every committed
    /// write and every write staged ahead of this one — and returns the batch (or an error, and
    /// nothing is written). Batches staged together commit together (see [`crate::indexes`]);
    /// one that is refused fails alone and the others are validated again. When another server
    /// committed first, the index catches up and `build` runs again, a bounded number of times.
    /// The write returns once its change is published.
    pub async fn write<T>(&self, build: impl Fn(&DecisionIndex) -> Result<(WriteBatch, T)>) -> Result<(Committed, T)> {
        let started = std::time::Instant::now();
        let result = self.write_once(build).await;
        let outcome = match &result {
            Ok(_) => "committed",
            Err(e) if e.is_refusal() => "refused",
            Err(_) => "failed",
        };
        self.metrics.wrote(outcome, started.elapsed());
        result
    }

    async fn write_once<T>(&self, build: impl Fn(&DecisionIndex) -> Result<(WriteBatch, T)>) -> Result<(Committed, T)> {
        let (mut last, mut alone) = (None, false);
        for attempt in 0..WRITE_ATTEMPTS {
            if matches!(last, Some(StoreError::Stale { .. })) {
                // Another server keeps winning: step aside for a random few milliseconds.
                let mut jitter = [0u8; 1];
                getrandom::fill(&mut jitter).map_err(|e| ServiceError::Internal(format!("no randomness available: {e}")))?;
                let ms = u64::from(attempt.min(5)) * (1 + u64::from(jitter[0] % 8));
                tokio::time::sleep(Duration::from_millis(ms)).await;
                // Whatever the store's hint says, the change log has what this index lacks.
                self.catch_up().await?;
            }
            let (ticket, out) = self.indexes.stage(&self.store, alone, &build).await?;
            if ticket.leads {
                // Commits once the writes already waiting have joined the group.
                self.indexes.flush_soon(Arc::clone(&self.store));
            }
            match ticket.outcome.await {
                Ok(Outcome::Committed { committed, group }) => {
                    if ticket.leads || alone {
                        self.metrics.grouped(group);
                    }
                    return Ok((committed, out));
                }
                Ok(Outcome::Retry { error, alone: by_itself }) => (last, alone) = (Some(error), by_itself),
                Ok(Outcome::Failed(e)) => return Err(e.into()),
                Err(_) => return Err(ServiceError::Internal("the write's group went away".into())),
            }
        }
        Err(last.map_or_else(|| ServiceError::Internal("no write was attempted".into()), ServiceError::from))
    }

    /// Runs one write on behalf of a caller: like [`AppState::write`], validated at the caller's
    /// time or, when another request or server committed a change stamped later (a revocation
    /// made while this request waited), at that change's time — never before a change it sees.
    pub async fn write_as<T>(&self, ctx: &Ctx, build: impl Fn(&DecisionIndex, &Ctx) -> Result<(WriteBatch, T)>) -> Result<(Committed, T)> {
        self.write(|ix| {
            let latest = ix.org(&ctx.org).and_then(OrgState::latest_change_at);
            match latest {
                Some(at) if at > ctx.now => build(ix, &ctx.at(at)),
                _ => build(ix, ctx),
            }
        })
        .await
    }

    /// Applies every change committed after the index's revision; returns the new revision.
    pub async fn catch_up(&self) -> Result<u64> {
        self.indexes.catch_up(&self.store).await
    }

    /// Makes sure the index has applied `revision` (read-your-writes across servers), catching up
    /// from the change log once; a revision no write has returned is refused at once.
    pub async fn at_least(&self, revision: Option<u64>) -> Result<()> {
        let Some(wanted) = revision else { return Ok(()) };
        if self.revision() >= wanted {
            return Ok(());
        }
        let _waiting = self.waiters.try_acquire().map_err(|_| {
            ServiceError::RateLimited(format!("too many requests are waiting for revisions; retry revision {wanted} shortly"))
        })?;
        // INVARIANT: a write returns its revision only once committed, and revisions become
        // visible in order, so one read of the change log reaches any revision a write returned.
        if self.catch_up().await? >= wanted {
            return Ok(());
        }
        Err(ServiceError::Behind { wanted, have: self.revision() })
    }

    /// Catches up once, unless as many requests as may wait already do: for a token this server
    /// does not know yet (minted on another server), without letting unknown tokens load it.
    pub async fn catch_up_if_idle(&self) -> Result<()> {
        match self.strangers.try_acquire() {
            Ok(_waiting) => self.catch_up().await.map(drop),
            Err(_) => Ok(()),
        }
    }
}
