//! The follower: keeps this server's decision index current with changes other processes commit
//! (other servers, `grantry admin bootstrap`). It reads the change log whenever the store says
//! there may be news — at once on PostgreSQL's commit notifications, every 250 ms on SQLite — and
//! the log is the truth, so a missed notification only delays. A request that names a revision
//! (`at_least_revision`) catches up at once instead of waiting.

use crate::state::AppState;

/// Runs forever (until the task is aborted).
pub async fn run(state: AppState) {
    loop {
        state.store.wait_for_changes().await;
        if let Err(e) = state.catch_up().await {
            tracing::warn!(error = %e, "could not read the change log; will retry");
        }
    }
}
