//! Running one engine on one workload: building it (time and the bytes it keeps), a timed pass
//! over the checks (each check timed on its own, within a time budget), and throughput on one and
//! two threads.

use crate::engines::Engine;
use crate::workload::{Query, Workload};
use std::time::{Duration, Instant};

/// What one engine did on one workload.
#[derive(Debug, Clone)]
pub struct Run {
    pub engine: &'static str,
    pub load: Duration,
    pub bytes: usize,
    /// Each check's decision, in order, as far as the budget reached.
    pub decisions: Vec<bool>,
    /// Nanoseconds per check, sorted.
    pub latencies: Vec<u64>,
    pub per_second_1: f64,
    pub per_second_2: f64,
}

impl Run {
    /// The `q`-quantile of the latencies, in nanoseconds.
    pub fn quantile(&self, q: f64) -> u64 {
        let n = self.latencies.len();
        if n == 0 {
            return 0;
        }
        let i = ((n as f64 * q).ceil() as usize).clamp(1, n) - 1;
        self.latencies[i]
    }
}

/// The bytes allocated and not yet freed, process-wide.
pub fn allocated() -> usize {
    crate::ALLOCATOR.allocated()
}

/// Builds an engine, measuring the time and the bytes it keeps.
pub fn build<E>(make: impl FnOnce() -> anyhow::Result<E>) -> anyhow::Result<(E, Duration, usize)> {
    let before = allocated();
    let start = Instant::now();
    let engine = make()?;
    let load = start.elapsed();
    Ok((engine, load, allocated().saturating_sub(before)))
}

/// Runs `engine` over `queries` (checks of the workload `w`) within `budget` for the timed pass.
pub fn run<E: Engine>(engine: &E, w: &Workload, queries: &[Query], load: Duration, bytes: usize, budget: Duration) -> Run {
    let prepared: Vec<E::Prepared> = queries.iter().map(|q| engine.prepare(w, q)).collect();
    let mut decisions = Vec::with_capacity(prepared.len());
    let mut latencies = Vec::with_capacity(prepared.len());
    let started = Instant::now();
    for p in &prepared {
        let t = Instant::now();
        let allowed = std::hint::black_box(engine.check(std::hint::black_box(p)));
        latencies.push(u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX));
        decisions.push(allowed);
        if started.elapsed() > budget {
            break;
        }
    }
    latencies.sort_unstable();
    let reached = &prepared[..decisions.len()];
    let per_second_1 = throughput(engine, reached, 1);
    let per_second_2 = throughput(engine, reached, 2);
    Run { engine: engine.name(), load, bytes, decisions, latencies, per_second_1, per_second_2 }
}

/// Checks per second with `threads` threads, each answering every check of `checks`.
fn throughput<E: Engine>(engine: &E, checks: &[E::Prepared], threads: usize) -> f64 {
    let start = Instant::now();
    let answered: usize = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    for p in checks {
                        std::hint::black_box(engine.check(p));
                    }
                    checks.len()
                })
            })
            .collect();
        workers.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    answered as f64 / start.elapsed().as_secs_f64().max(1e-9)
}
