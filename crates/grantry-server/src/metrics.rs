//! Prometheus metrics, served at `GET /metrics` to whoever holds the metrics token (organization
//! tokens do not open it: the figures span every organization). Counted as things happen: checks
//! by endpoint and decision with their latency, writes by outcome with their latency, the expiry
//! sweeper's runs and the expiries it recorded. Read at each scrape: the index's size per
//! organization, its revision, the change log's, and how far behind the index is (follower lag).

use crate::state::AppState;
use grantry_core::secret::hash_secret;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::time::Duration;

type Labels = Vec<(&'static str, String)>;

fn latency() -> Histogram {
    // 1 µs to ~1 s.
    Histogram::new(exponential_buckets(1e-6, 4.0, 11))
}

/// Everything counted, and the token that may read it.
pub struct Metrics {
    registry: Registry,
    token_hash: Option<String>,
    checks: Family<Labels, Counter>,
    check_seconds: Family<Labels, Histogram, fn() -> Histogram>,
    writes: Family<Labels, Counter>,
    write_seconds: Histogram,
    write_groups: Histogram,
    sweeps: Family<Labels, Counter>,
    expiries_recorded: Counter,
    index_size: Family<Labels, Gauge>,
    index_revision: Gauge,
    log_revision: Gauge,
    follower_lag: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("enabled", &self.token_hash.is_some()).finish_non_exhaustive()
    }
}

impl Metrics {
    /// The metrics, readable with `token` (none: `/metrics` is off).
    pub fn new(token: Option<&str>) -> Self {
        let mut registry = Registry::with_prefix("grantry");
        let checks = Family::<Labels, Counter>::default();
        registry.register("checks", "Decisions answered, by endpoint (check, batch) and decision", checks.clone());
        let check_seconds = Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(latency);
        registry.register("check_request_seconds", "Time to answer a check, batch or lookup request, by endpoint", check_seconds.clone());
        let writes = Family::<Labels, Counter>::default();
        registry.register("writes", "Writes, by outcome (committed, refused, failed)", writes.clone());
        let write_seconds = latency();
        registry.register("write_seconds", "Time from validation to a committed, applied write", write_seconds.clone());
        let write_groups = Histogram::new([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]);
        registry.register("write_group_size", "Writes committed together, in one transaction and one sync to disk", write_groups.clone());
        let sweeps = Family::<Labels, Counter>::default();
        registry.register("sweeper_runs", "Runs of the expiry recorder, by outcome", sweeps.clone());
        let expiries_recorded = Counter::default();
        registry.register("expiries_recorded", "Grant expiries written to the audit log", expiries_recorded.clone());
        let index_size = Family::<Labels, Gauge>::default();
        registry.register("index_entries", "What the decision index holds, by organization and kind", index_size.clone());
        let index_revision = Gauge::default();
        registry.register("index_revision", "The change-log revision the index has applied", index_revision.clone());
        let log_revision = Gauge::default();
        registry.register("log_revision", "The newest revision in the change log", log_revision.clone());
        let follower_lag = Gauge::default();
        registry.register("follower_lag_revisions", "How many revisions the index is behind the change log", follower_lag.clone());
        Self {
            registry,
            token_hash: token.map(hash_secret),
            checks,
            check_seconds,
            writes,
            write_seconds,
            write_groups,
            sweeps,
            expiries_recorded,
            index_size,
            index_revision,
            log_revision,
            follower_lag,
        }
    }

    /// Whether `/metrics` is served, and to whom: the bearer of the metrics token.
    pub fn admits(&self, bearer: &str) -> Option<bool> {
        self.token_hash.as_ref().map(|h| *h == hash_secret(bearer))
    }

    /// A request of `endpoint` that decided `allowed` checks of `total`, in `took`.
    pub fn checked(&self, endpoint: &'static str, allowed: usize, total: usize, took: Duration) {
        let count = |decision: &str, n: usize| {
            if n > 0 {
                self.checks.get_or_create(&vec![("endpoint", endpoint.to_owned()), ("decision", decision.to_owned())]).inc_by(n as u64);
            }
        };
        count("allowed", allowed);
        count("denied", total.saturating_sub(allowed));
        self.check_seconds.get_or_create(&vec![("endpoint", endpoint.to_owned())]).observe(took.as_secs_f64());
    }

    /// A write that ended with `outcome` after `took`.
    pub fn wrote(&self, outcome: &'static str, took: Duration) {
        self.writes.get_or_create(&vec![("outcome", outcome.to_owned())]).inc();
        if outcome == "committed" {
            self.write_seconds.observe(took.as_secs_f64());
        }
    }

    /// A group of `size` writes committed together.
    pub fn grouped(&self, size: usize) {
        self.write_groups.observe(size as f64);
    }

    /// A run of the expiry recorder: how many it recorded, or that it failed.
    pub fn swept(&self, recorded: Option<usize>) {
        let outcome = if recorded.is_some() { "ok" } else { "failed" };
        self.sweeps.get_or_create(&vec![("outcome", outcome.to_owned())]).inc();
        self.expiries_recorded.inc_by(recorded.unwrap_or(0) as u64);
    }
}

/// The exposition text, with the figures read now.
pub async fn render(state: &AppState) -> crate::Result<String> {
    let latest = state.store.latest_revision().await?;
    let m = state.metrics();
    {
        let ix = state.index();
        for org in ix.orgs() {
            let size = org.size();
            for (kind, n) in [
                ("grants", size.grants),
                ("condition_sets", size.condition_sets),
                ("symbols", size.symbols),
                ("resources", size.resources),
                ("principals", size.principals),
            ] {
                let labels = vec![("org", org.org().slug.clone()), ("kind", kind.to_owned())];
                m.index_size.get_or_create(&labels).set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
        let applied = ix.revision();
        m.index_revision.set(i64::try_from(applied).unwrap_or(i64::MAX));
        m.log_revision.set(i64::try_from(latest).unwrap_or(i64::MAX));
        m.follower_lag.set(i64::try_from(latest.saturating_sub(applied)).unwrap_or(i64::MAX));
    }
    let mut out = String::new();
    encode(&mut out, &m.registry).map_err(|e| crate::service::ServiceError::Internal(format!("encoding the metrics: {e}")))?;
    Ok(out)
}
