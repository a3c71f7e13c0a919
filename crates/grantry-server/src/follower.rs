//! The follower: keeps this server's decision index current with changes other processes commit
//! (other servers, `grantry admin bootstrap`), by reading the change log a few times a second.
//! A request that names a revision (`at_least_revision`) catches up at once instead of waiting.

use crate::state::AppState;
use std::time::Duration;

/// How often the change log is read.
pub const POLL: Duration = Duration::from_millis(250);

/// Runs forever (until the task is aborted).
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = state.catch_up().await {
            tracing::warn!(error = %e, "could not read the change log; will retry");
        }
    }
}
