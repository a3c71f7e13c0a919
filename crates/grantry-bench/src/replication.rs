//! Two servers over one PostgreSQL database: the testkit's mixed run (checks on a following server
//! while another grants and revokes, about 1% writes), timed on the release build. Prints how long a
//! write takes to be seen on the second server, and fails if any check was allowed after an
//! acknowledged revoke whose revision it sent.

use std::time::Duration;

/// Runs `rounds` grant-then-revoke rounds with `checkers` checkers; `Err` on a violation.
pub fn measure(rounds: usize, checkers: usize) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let Some(first) = grantry_testkit::TestServer::start_postgres().await else {
            anyhow::bail!(
                "--replication needs PostgreSQL: set GRANTRY_TEST_POSTGRES_URL to a database this user may create databases from"
            );
        };
        let run = grantry_testkit::mixed_run(&first, rounds, checkers).await;
        let mut visible = run.visible.clone();
        visible.sort_unstable();
        let at =
            |q: f64| visible.get(((visible.len() as f64 * q) as usize).min(visible.len().saturating_sub(1))).copied().unwrap_or_default();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "replication over PostgreSQL: {} writes and {} checks in {:.1}s ({:.1}% writes); {:.0}% of checks allowed",
            2 * rounds,
            run.checks,
            run.elapsed.as_secs_f64(),
            200.0 * rounds as f64 / (run.checks as f64 + 2.0 * rounds as f64),
            100.0 * run.allows as f64 / run.checks.max(1) as f64
        );
        println!(
            "write to visible on the second server, without a revision: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            ms(at(0.5)),
            ms(at(0.99)),
            ms(at(1.0))
        );
        println!("allows after an acknowledged revoke, its revision sent: {}", run.allows_after_revoke.len());
        if let Some(first) = run.allows_after_revoke.first() {
            anyhow::bail!("{} checks were allowed after an acknowledged revoke, the first: {first}", run.allows_after_revoke.len());
        }
        Ok(())
    })
}
