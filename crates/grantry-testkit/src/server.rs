//! A real server over a temporary database, on a free loopback port, in this process.

use crate::api::Api;
use grantry_core::audit::AuditKey;
use grantry_server::{clock, service, AppState};
use tempfile::TempDir;
use tokio::sync::oneshot;

/// A new random audit key.
pub fn fresh_key() -> AuditKey {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("randomness");
    AuditKey::from_bytes(bytes)
}

/// The token that reads every test server's `/metrics`.
pub const METRICS_TOKEN: &str = "test-metrics-token-0123456789";

/// A running server; stops when dropped.
pub struct TestServer {
    pub url: String,
    pub state: AppState,
    /// The first server of a database owns its directory; a second one shares it.
    _dir: Option<TempDir>,
    db_url: String,
    /// The installation's audit key, shared by every server of the database.
    key: AuditKey,
    stop: Option<oneshot::Sender<()>>,
}

impl TestServer {
    /// Starts a server with its background jobs.
    pub async fn start() -> Self {
        Self::launch(true).await
    }

    /// Starts a server without background jobs (the expiry sweeper, the change-log follower),
    /// to show that expiry does not depend on them.
    pub async fn start_without_sweeper() -> Self {
        Self::launch(false).await
    }

    /// Another server over the same database, without background jobs, so that what it sees of
    /// the first one's writes comes only from `at_least_revision`.
    pub async fn second(&self) -> Self {
        Self::launch_on(None, self.db_url.clone(), self.key.clone(), false).await
    }

    /// Another server over the same database with its background jobs, so that it follows the
    /// first one's writes on its own.
    pub async fn follower(&self) -> Self {
        Self::launch_on(None, self.db_url.clone(), self.key.clone(), true).await
    }

    /// Starts a server with its background jobs over a fresh PostgreSQL database; `None` when
    /// PostgreSQL tests are skipped (see `grantry_store::testing`).
    pub async fn start_postgres() -> Option<Self> {
        let url = grantry_store::testing::fresh_postgres_url().await.expect("a PostgreSQL database for the test")?;
        Some(Self::launch_on(None, url, fresh_key(), true).await)
    }

    async fn launch(background: bool) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("grantry.db").display());
        Self::launch_on(Some(dir), url, fresh_key(), background).await
    }

    async fn launch_on(dir: Option<TempDir>, db_url: String, key: AuditKey, background: bool) -> Self {
        let store = grantry_store::open(&db_url, key.clone()).await.expect("open store");
        let state = AppState::load(store).await.expect("load state").with_metrics_token(METRICS_TOKEN);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let st = state.clone();
        tokio::spawn(async move {
            let served = if background {
                grantry_server::serve(st, listener, shutdown).await
            } else {
                grantry_server::serve_api(st, listener, shutdown).await
            };
            served.expect("serve");
        });
        Self { url, state, _dir: dir, db_url, key, stop: Some(stop) }
    }

    /// The audit key the servers of this database use.
    pub fn audit_key(&self) -> AuditKey {
        self.key.clone()
    }

    /// The database URL.
    pub fn db_url(&self) -> String {
        self.db_url.clone()
    }

    /// Creates organization `org` with owner `email` and returns a client acting as the owner.
    pub async fn bootstrap(&self, org: &str, email: &str) -> Api {
        let b = service::bootstrap(&self.state, org, email, clock::now()).await.expect("bootstrap");
        Api::new(&self.url, org, &b.token)
    }

    /// How many grants the organization `org` has in the index.
    pub fn grant_count(&self, org: &str) -> usize {
        self.state.index().org_by_slug(org).map_or(0, |o| o.grant_count())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
