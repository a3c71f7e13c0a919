//! Test fixtures for Grantry: a real server on port 0 over a temporary SQLite database, an API
//! client that returns status and JSON, and the JSON decision corpus with its drivers.

#![expect(clippy::expect_used, clippy::panic, reason = "test support: failing loudly at the point of failure is its job")]

pub mod api;
pub mod corpus;
pub mod mixed;
pub mod server;

pub use api::Api;
pub use mixed::{mixed_run, MixedRun};
pub use server::{fresh_key, TestServer, METRICS_TOKEN};

/// Runs each named case, `async fn case(server: TestServer)`, as two tests: `sqlite::case` with a
/// server over a temporary SQLite database and `postgres::case` over a fresh PostgreSQL database
/// (skipped, loudly, when `GRANTRY_SKIP_POSTGRES=1`).
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $case() {
                super::$case($crate::TestServer::start().await).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $case() {
                let Some(server) = $crate::TestServer::start_postgres().await else { return };
                super::$case(server).await;
            })*
        }
    };
}
