//! Grantry's server: the JSON API under `/v1/{org}/…`, bearer-token auth, the service operations
//! that turn requests into store transactions, the in-memory decision index they keep current,
//! the follower that keeps that index current with the change log, and the background job that
//! records expiries.
//!
//! Data flows one way: request → auth → service operation → one batch, committed with the batches
//! of concurrent writes in one store transaction (group commit) → its revision → the index
//! publishes the change → the response. Checks read only the published index.

pub mod api;
pub mod clock;
pub mod deliver;
pub mod error;
pub mod follower;
pub mod ids;
pub mod indexes;
pub mod metrics;
pub mod notify;
pub mod saved;
pub mod service;
pub mod state;
pub mod sweeper;
pub mod tls;

pub use error::{ApiError, Result};
pub use state::AppState;

use axum::serve::Listener;
use std::future::Future;

/// Serves the API on `listener` (TCP, or TLS over it: `tls::TlsListener`) until `shutdown` resolves, with the expiry sweeper, the
/// change-log follower and the webhook deliverer running.
pub async fn serve<L: Listener<Addr: std::fmt::Debug>>(
    state: AppState,
    listener: L,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let sweeper = tokio::spawn(sweeper::run(state.clone()));
    let follower = tokio::spawn(follower::run(state.clone()));
    let deliverer = tokio::spawn(deliver::run(state.clone()));
    let result = serve_api(state, listener, shutdown).await;
    sweeper.abort();
    follower.abort();
    deliverer.abort();
    result
}

/// Serves the API alone, without background jobs.
pub async fn serve_api<L: Listener<Addr: std::fmt::Debug>>(
    state: AppState,
    listener: L,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, api::router(state)).with_graceful_shutdown(shutdown).await
}
