//! Test support: fresh databases for the suites that run on every backend. A PostgreSQL database
//! is made in the cluster `GRANTRY_TEST_POSTGRES_URL` names (`bash .ci/run` starts a throwaway
//! one). Without it, PostgreSQL tests fail saying so, unless `GRANTRY_SKIP_POSTGRES=1` asks to
//! skip them, which is reported loudly.

use crate::error::{Result, StoreError};

/// The URL of a new, empty PostgreSQL database for one test; `None` when skipping is asked for.
pub async fn fresh_postgres_url() -> Result<Option<String>> {
    let Ok(base) = std::env::var("GRANTRY_TEST_POSTGRES_URL") else {
        if std::env::var("GRANTRY_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
            eprintln!("WARNING: PostgreSQL tests SKIPPED (GRANTRY_SKIP_POSTGRES=1)");
            return Ok(None);
        }
        return Err(StoreError::InvalidUrl(
            "GRANTRY_TEST_POSTGRES_URL is not set: run the tests with `bash .ci/run`, which starts a throwaway PostgreSQL, or set GRANTRY_SKIP_POSTGRES=1 to skip them".to_owned(),
        ));
    };
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let name = format!("grantry_test_{}", grantry_core::secret::hex(&bytes));
    let admin = sqlx::PgPool::connect(&base).await?;
    sqlx::raw_sql(&format!("CREATE DATABASE {name}")).execute(&admin).await?;
    admin.close().await;
    let (server, _) =
        base.rsplit_once('/').ok_or_else(|| StoreError::InvalidUrl("GRANTRY_TEST_POSTGRES_URL has no database name".to_owned()))?;
    Ok(Some(format!("{server}/{name}")))
}
