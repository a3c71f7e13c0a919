//! The decision index in two copies, and group commit.
//!
//! Readers take the **published** copy (an `Arc`, held for one request) and never wait for a
//! writer. The writer owns the **spare** copy: the published state plus the batches **staged**
//! for the next commit. Each write is validated against the spare — so it sees every write staged
//! before it — and its changes are applied there, unseen by readers. The staged batches are then
//! committed together, in one transaction and one sync to disk, each with its own revision and
//! audit events; only then does the spare become the published copy, and the old published copy,
//! once its last reader lets go, has the same changes applied and becomes the spare.
//!
//! Whoever stages the first batch of a group leads it: it lets go of the writer, queues for it
//! again behind the writes already waiting (the lock is fair, first come first served), and those
//! stage theirs meanwhile; then it commits the group. (Waiting a moment longer for as many writers
//! as the last group had was tried: no gain measured.) A write that fails validation is never
//! staged, so it fails alone. A batch the store refuses fails alone too: the group is rolled
//! back, the spare is rebuilt from the published copy, and the others are validated and sent
//! again.

use crate::service::error::{Result, ServiceError};
use grantry_core::change::Change;
use grantry_core::index::DecisionIndex;
use grantry_store::{Committed, GroupFailure, Store, StoreError, WriteBatch};
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::{Arc, PoisonError, RwLock};
use tokio::sync::{oneshot, Mutex};

/// How many change-log entries one read takes.
const LOG_PAGE: u32 = 500;

/// The published copy, for one request. It cannot be held across an `.await` in a handler (it is
/// not `Send`), so a writer waiting for the old copy waits microseconds.
pub struct ReadIndex {
    index: Arc<DecisionIndex>,
    _not_send: PhantomData<*const ()>,
}

impl Deref for ReadIndex {
    type Target = DecisionIndex;
    fn deref(&self) -> &DecisionIndex {
        &self.index
    }
}

/// The two copies and the writer.
pub struct Indexes {
    published: RwLock<Arc<DecisionIndex>>,
    /// INVARIANT: everything that changes the index holds this, so changes are applied once each,
    /// in revision order, whether they come from this server's writes or from the change log.
    writer: Arc<Mutex<Writer>>,
}

/// The writer's side.
pub struct Writer {
    /// INVARIANT: only the writer holds this `Arc` once `lag` is empty (it is published only by
    /// swapping), and it is then the published state plus `staged`, in order.
    spare: Arc<DecisionIndex>,
    /// Changes published but not yet applied to the spare: it was the published copy until the
    /// last swap, and may still have readers.
    lag: Vec<(u64, Vec<Change>)>,
    staged: Vec<Staged>,
}

/// A batch applied to the spare and waiting for its commit.
struct Staged {
    batch: WriteBatch,
    /// The revision the batch was applied at, and will commit at.
    revision: u64,
    done: oneshot::Sender<Outcome>,
}

/// What became of a staged batch.
pub enum Outcome {
    /// Committed in a group of `group` writes.
    Committed {
        committed: Committed,
        group: usize,
    },
    /// The group failed for another batch, or another server committed first: validate again —
    /// in a group of its own when `alone` (the group failed, and nobody could tell for which).
    Retry {
        error: StoreError,
        alone: bool,
    },
    Failed(StoreError),
}

/// A staged batch's ticket: its outcome, and whether its writer leads the group.
pub struct Ticket {
    pub outcome: oneshot::Receiver<Outcome>,
    pub leads: bool,
}

// Every step below may be cancelled at an `.await` (a caller went away) and leaves the writer
// sound: the spare is changed only in synchronous stretches, and what the published copy has that
// the spare lacks waits in `lag`. The one step whose outcome a cancellation would leave unknown —
// the store's commit — runs in a task of its own (`flush_soon`).
impl Indexes {
    /// Both copies of `index`.
    pub fn new(index: DecisionIndex) -> Self {
        let spare = Arc::new(index.clone());
        Self {
            published: RwLock::new(Arc::new(index)),
            writer: Arc::new(Mutex::new(Writer { spare, lag: Vec::new(), staged: Vec::new() })),
        }
    }

    /// The published copy.
    pub fn read(&self) -> ReadIndex {
        ReadIndex { index: self.published(), _not_send: PhantomData }
    }

    /// The published copy itself. A writer waits for its holders before it changes the spare
    /// again, so hold it only where no write can be waiting (at start, or at shutdown).
    pub(crate) fn published(&self) -> Arc<DecisionIndex> {
        Arc::clone(&self.published.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Validates one write against the spare with `build` and stages its batch; an error stages
    /// nothing. The change log is read first when no group is forming and others may have
    /// written. `alone` commits the batch in a group of its own, at once.
    pub async fn stage<T>(
        self: &Arc<Self>,
        store: &Arc<dyn Store>,
        alone: bool,
        build: impl FnOnce(&DecisionIndex) -> Result<(WriteBatch, T)>,
    ) -> Result<(Ticket, T)> {
        let mut w = loop {
            let w = Arc::clone(&self.writer).lock_owned().await;
            if !alone || w.staged.is_empty() {
                break w;
            }
            drop(w);
            self.flush_soon(Arc::clone(store)).await.map_err(|e| ServiceError::Internal(format!("a group commit stopped: {e}")))?;
        };
        if w.staged.is_empty() && store.others_may_have_written() {
            self.read_log(&mut w, store.as_ref()).await?;
        }
        self.settle(&mut w).await?;
        let base = w.spare.revision();
        let (mut batch, out) = build(&w.spare)?;
        // The notifications its events make commit with it (the outbox).
        batch.outbox.extend(crate::notify::notices(&w.spare, &batch)?);
        let batch = WriteBatch { base_revision: Some(base), ..batch };
        let revision = base + 1;
        if let Err(e) = spare(&mut w)?.apply_all(revision, &batch.changes) {
            // The spare may hold part of the batch: rebuild it without.
            self.rebuild(&mut w)?;
            return Err(ServiceError::Internal(format!("the index refused a validated write at revision {revision}: {e}")));
        }
        let (done, outcome) = oneshot::channel();
        w.staged.push(Staged { batch, revision, done });
        let leads = w.staged.len() == 1;
        if alone {
            // Committed while the writer is still held, so nothing joins it.
            let (indexes, store) = (Arc::clone(self), Arc::clone(store));
            tokio::spawn(async move { indexes.flush(&mut w, store.as_ref()).await });
            return Ok((Ticket { outcome, leads: false }, out));
        }
        Ok((Ticket { outcome, leads }, out))
    }

    /// Commits the group being formed, in a task of its own, once the writes already waiting for
    /// the writer have joined it.
    pub fn flush_soon(self: &Arc<Self>, store: Arc<dyn Store>) -> tokio::task::JoinHandle<()> {
        let indexes = Arc::clone(self);
        tokio::spawn(async move {
            let mut w = indexes.writer.lock().await;
            indexes.flush(&mut w, store.as_ref()).await;
        })
    }

    /// Commits the staged batches as one group and publishes them; tells each its outcome.
    async fn flush(&self, w: &mut Writer, store: &dyn Store) {
        let staged = std::mem::take(&mut w.staged);
        if staged.is_empty() {
            return;
        }
        let replay: Vec<(u64, Vec<Change>)> = staged.iter().map(|s| (s.revision, s.batch.changes.clone())).collect();
        let (batches, dones): (Vec<WriteBatch>, Vec<_>) = staged.into_iter().map(|s| (s.batch, s.done)).unzip();
        let outcomes: Vec<Outcome> = match store.commit_group(batches).await {
            Ok(committed) => {
                self.publish(w, replay);
                let group = committed.len();
                committed.into_iter().map(|committed| Outcome::Committed { committed, group }).collect()
            }
            Err(GroupFailure { member, error }) => {
                if let Err(e) = self.rebuild(w) {
                    tracing::error!(error = %e, "could not rebuild the spare index after a failed group");
                }
                failed_group(dones.len(), member, error)
            }
        };
        for (done, outcome) in dones.into_iter().zip(outcomes) {
            // A writer that went away no longer needs its outcome.
            let _ = done.send(outcome);
        }
    }

    /// Commits any group being formed, then applies every change committed after the index's
    /// revision (by other servers and processes); returns the new revision.
    pub async fn catch_up(self: &Arc<Self>, store: &Arc<dyn Store>) -> Result<u64> {
        loop {
            let mut w = self.writer.lock().await;
            if w.staged.is_empty() {
                return self.read_log(&mut w, store.as_ref()).await;
            }
            drop(w);
            self.flush_soon(Arc::clone(store)).await.map_err(|e| ServiceError::Internal(format!("a group commit stopped: {e}")))?;
        }
    }

    async fn read_log(&self, w: &mut Writer, store: &dyn Store) -> Result<u64> {
        debug_assert!(w.staged.is_empty(), "the change log is read between groups only");
        loop {
            self.settle(w).await?;
            let page = store.changes_since(w.spare.revision(), LOG_PAGE).await?;
            if page.is_empty() {
                return Ok(w.spare.revision());
            }
            let full = page.len() == LOG_PAGE as usize;
            let replay: Vec<(u64, Vec<Change>)> = page.into_iter().map(|l| (l.revision, l.changes)).collect();
            for (revision, changes) in &replay {
                if let Err(e) = spare(w)?.apply_all(*revision, changes) {
                    self.rebuild(w)?;
                    return Err(ServiceError::Internal(format!("index out of step with the store at revision {revision}: {e}")));
                }
            }
            self.publish(w, replay);
            if !full {
                return Ok(self.published().revision());
            }
        }
    }

    /// Publishes the spare, which holds `replay` already; the old published copy becomes the
    /// spare, lagging by `replay` until [`Indexes::settle`].
    fn publish(&self, w: &mut Writer, replay: Vec<(u64, Vec<Change>)>) {
        let mut published = self.published.write().unwrap_or_else(PoisonError::into_inner);
        std::mem::swap(&mut *published, &mut w.spare);
        w.lag = replay;
    }

    /// Brings the spare level with the published copy: waits for the old copy's last readers (they
    /// hold it for one request), then applies what it lacks.
    async fn settle(&self, w: &mut Writer) -> Result<()> {
        if w.lag.is_empty() {
            return Ok(());
        }
        let mut spins = 0u32;
        while Arc::strong_count(&w.spare) > 1 {
            spins += 1;
            if spins < 64 {
                tokio::task::yield_now().await;
            } else {
                tokio::time::sleep(std::time::Duration::from_micros(50)).await;
            }
        }
        let lag = std::mem::take(&mut w.lag);
        for (revision, changes) in &lag {
            if let Err(e) = spare(w)?.apply_all(*revision, changes) {
                self.rebuild(w)?;
                return Err(ServiceError::Internal(format!("the index copies disagree at revision {revision}: {e}")));
            }
        }
        Ok(())
    }

    /// Rebuilds the spare from the published copy and the batches still staged.
    fn rebuild(&self, w: &mut Writer) -> Result<()> {
        w.spare = Arc::new(DecisionIndex::clone(&self.published()));
        w.lag.clear();
        for s in &w.staged {
            let spare = Arc::get_mut(&mut w.spare).ok_or_else(|| ServiceError::Internal("the spare index is shared".into()))?;
            spare
                .apply_all(s.revision, &s.batch.changes)
                .map_err(|e| ServiceError::Internal(format!("a staged write no longer applies: {e}")))?;
        }
        Ok(())
    }
}

/// The spare, to change.
fn spare(w: &mut Writer) -> Result<&mut DecisionIndex> {
    Arc::get_mut(&mut w.spare).ok_or_else(|| ServiceError::Internal("the spare index is shared".into()))
}

/// What each of `n` batches is told when their group fails: the batch that failed gets the error
/// and the others are validated and sent again — as all are when another server committed first,
/// and, each alone, when the group failed as a whole (a lone batch gets the error).
fn failed_group(n: usize, member: Option<usize>, error: StoreError) -> Vec<Outcome> {
    if let StoreError::Stale { base } = error {
        return (0..n).map(|_| Outcome::Retry { error: StoreError::Stale { base }, alone: false }).collect();
    }
    let told = error.to_string();
    let mut error = Some(error);
    (0..n)
        .map(|i| match member {
            Some(m) if m != i => {
                Outcome::Retry { error: StoreError::Unavailable(format!("another write in its group failed: {told}")), alone: false }
            }
            None if n > 1 => Outcome::Retry { error: StoreError::Unavailable(format!("its group failed: {told}")), alone: true },
            _ => Outcome::Failed(error.take().unwrap_or_else(|| StoreError::Unavailable(told.clone()))),
        })
        .collect()
}
