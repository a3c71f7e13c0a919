//! The background job that records, once a second, what ended or comes due on its own: grants'
//! expiries (`grant.expired`), and access requests' booked starts, warnings before their end and
//! their ends (see `service::request_events`); and, once a minute, forgets access requests past
//! their organization's retention. It only writes events (and so notifications) and forgets what
//! has ended; whether a grant works is decided at check time, whatever this does.

use crate::state::AppState;
use crate::{clock, service};
use std::time::Duration;

/// How many ticks (seconds) apart the retention purge runs (it reads every ended request).
const PURGE_EVERY: u64 = 60;

/// Runs forever (until the task is aborted), recording expiries every second.
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for n in 0_u64.. {
        tick.tick().await;
        let result = service::record_expiries(&state, clock::now()).await;
        state.metrics().swept(result.as_ref().ok().copied());
        match result {
            Ok(0) => {}
            Ok(n) => tracing::info!(count = n, "recorded grant expiries"),
            Err(e) => tracing::warn!(error = %e, "could not record grant expiries; will retry"),
        }
        if let Err(e) = service::record_request_events(&state, clock::now()).await {
            tracing::warn!(error = %e, "could not record access requests' starts and ends; will retry");
        }
        if n % PURGE_EVERY == 0 {
            match service::purge_ended_requests(&state, clock::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(count = n, "forgot access requests past their retention"),
                Err(e) => tracing::warn!(error = %e, "could not forget access requests past their retention; will retry"),
            }
        }
    }
}
