//! The server's shared state: the store, the decision index, and the paths that keep the index
//! in step with the store — its own writes, and the change log that every server follows.

use crate::metrics::Metrics;
use crate::service::error::{Result, ServiceError};
use crate::service::Ctx;
use grantry_core::change::Change;
use grantry_core::index::{DecisionIndex, OrgState};
use grantry_store::{Committed, Store, StoreError, WriteBatch};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};
use std::time::Duration;
use tokio::sync::Mutex;

/// How many change-log entries one read takes.
const LOG_PAGE: u32 = 500;
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
    index: Arc<RwLock<DecisionIndex>>,
    /// INVARIANT: held from validation to index update by every write of this server, so a
    /// write is validated against the newest state it can see.
    writer: Arc<Mutex<()>>,
    /// INVARIANT: held whenever changes are applied to the index, so they are applied once each,
    /// in revision order, whether they come from this server's writes or from the change log.
    applier: Arc<Mutex<()>>,
    /// Bounds the requests waiting for a revision this server has not reached.
    waiters: Arc<tokio::sync::Semaphore>,
    /// Bounds the catch-ups made for tokens this server does not know (yet), apart from the
    /// above, so unknown tokens cannot crowd out authenticated callers.
    strangers: Arc<tokio::sync::Semaphore>,
    metrics: Arc<Metrics>,
}

impl AppState {
    /// Loads the whole state from `store` into a fresh decision index.
    pub async fn load(store: Arc<dyn Store>) -> Result<Self> {
        let snapshot = store.snapshot().await?;
        let mut index = DecisionIndex::default();
        index.apply_all(snapshot.revision, &snapshot.changes)?;
        index.shrink();
        Ok(Self {
            store,
            index: Arc::new(RwLock::new(index)),
            writer: Arc::new(Mutex::new(())),
            applier: Arc::new(Mutex::new(())),
            waiters: Arc::new(tokio::sync::Semaphore::new(REVISION_WAITERS)),
            strangers: Arc::new(tokio::sync::Semaphore::new(STRANGER_CATCH_UPS)),
            metrics: Arc::new(Metrics::new(None)),
        })
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

    /// Reads the index. Hold the guard briefly: writers wait for it.
    pub fn index(&self) -> RwLockReadGuard<'_, DecisionIndex> {
        self.index.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The revision the index is at.
    pub fn revision(&self) -> u64 {
        self.index().revision()
    }

    /// Runs one write: `build` validates against the current index and returns the batch (or an
    /// error, and nothing is written); the batch commits only if no other write — by any server —
    /// committed since the revision it was validated against (optimistic concurrency); otherwise
    /// the index catches up and `build` runs again, a bounded number of times. Then the index is
    /// brought up to the new revision.
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
        let _writer = self.writer.lock().await;
        let mut stale = None;
        for attempt in 0..WRITE_ATTEMPTS {
            if attempt > 0 {
                // Another server keeps winning: step aside for a random few milliseconds.
                let mut jitter = [0u8; 1];
                getrandom::fill(&mut jitter).map_err(|e| ServiceError::Internal(format!("no randomness available: {e}")))?;
                let ms = u64::from(attempt.min(5)) * (1 + u64::from(jitter[0] % 8));
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            // Validate against everything committed so far, by any server.
            self.catch_up().await?;
            let (batch, out) = {
                let ix = self.index();
                let (batch, out) = build(&ix)?;
                (WriteBatch { base_revision: Some(ix.revision()), ..batch }, out)
            };
            let changes: Vec<Change> = batch.changes.clone();
            match self.store.commit(batch).await {
                Ok(committed) => {
                    self.advance(committed.revision, &changes).await?;
                    return Ok((committed, out));
                }
                Err(e @ StoreError::Stale { .. }) => stale = Some(e),
                Err(e) => return Err(e.into()),
            }
        }
        Err(stale.map_or_else(|| ServiceError::Internal("no write was attempted".into()), ServiceError::from))
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

    /// Applies this server's own commit: directly when it is the next revision, else by reading
    /// the change log up to it (another server committed in between).
    async fn advance(&self, revision: u64, own: &[Change]) -> Result<()> {
        let _applier = self.applier.lock().await;
        let current = self.revision();
        if current >= revision {
            return Ok(());
        }
        if current + 1 == revision {
            return self.apply(revision, own);
        }
        self.read_log().await.map(drop)
    }

    fn apply(&self, revision: u64, changes: &[Change]) -> Result<()> {
        let mut index = self.index.write().unwrap_or_else(PoisonError::into_inner);
        index
            .apply_all(revision, changes)
            .map_err(|e| ServiceError::Internal(format!("index out of step with the store at revision {revision}: {e}")))
    }

    /// Applies every change committed after the index's revision; returns the new revision.
    pub async fn catch_up(&self) -> Result<u64> {
        let _applier = self.applier.lock().await;
        self.read_log().await
    }

    async fn read_log(&self) -> Result<u64> {
        loop {
            let from = self.revision();
            let page = self.store.changes_since(from, LOG_PAGE).await?;
            for logged in &page {
                self.apply(logged.revision, &logged.changes)?;
            }
            if page.len() < LOG_PAGE as usize {
                return Ok(self.revision());
            }
        }
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
