//! `grantry-bench`: the decision benchmark. Builds one seeded workload per size (S, M, L), runs
//! the same checks on Grantry's core, cedar-policy and casbin, fails if any decision differs
//! (printing the check), and reports p50 / p99 / p99.9 latency, checks per second on one and two
//! threads, memory per grant and load time per engine; optionally a CSV and a PNG. See the
//! README's "Benchmarks" for how each peer is encoded and why.

mod agents;
mod cold;
mod engines;
mod jit;
mod measure;
mod plot;
mod replication;
mod workload;

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use workload::{Query, Size, Workload};

#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

const EXAMPLES: &str = "Examples:
  grantry-bench                                  # S, every engine, 200,000 checks
  grantry-bench --size s,m,l --out bench-out     # all sizes; writes bench-out/bench.csv and latency.png
  grantry-bench --size l --peers cedar --budget 60
  grantry-bench --size l --peers cedar --cold-start /tmp/bench.db   # also time loading L from SQLite
  grantry-bench --size s --checks 20000 --budget 5   # the CI smoke run: agreement, no timing asserted
  GRANTRY_TEST_POSTGRES_URL=postgres://me@127.0.0.1/postgres grantry-bench --replication 500
                                                 # two servers over PostgreSQL, 1% writes: write-to-visible, allows after revoke";

/// The peers Grantry is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Peer {
    Cedar,
    Casbin,
}

/// Runs the decision benchmark.
#[derive(Debug, Parser)]
#[command(name = "grantry-bench", about, after_help = EXAMPLES)]
struct Args {
    /// Sizes to run, in order: s (1k users, ~10k grants), m (10k, ~100k), l (100k, ~1M).
    #[arg(long, value_delimiter = ',', default_value = "s")]
    size: Vec<Size>,
    /// Checks per size.
    #[arg(long, default_value_t = 200_000)]
    checks: usize,
    /// The peers to run beside Grantry (which always runs: the others are compared with it).
    #[arg(long, value_delimiter = ',', default_value = "cedar,casbin")]
    peers: Vec<Peer>,
    /// Seconds each engine may spend on a size's timed pass; the checks it reached are compared.
    #[arg(long, default_value_t = 20.0)]
    budget: f64,
    /// A folder to write bench.csv and latency.png into.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also measure the cold start: write each size's workload into this SQLite file (suffixed by the
    /// size; reused when it exists) and time loading it as `grantry serve` does.
    #[arg(long, value_name = "FILE")]
    cold_start: Option<PathBuf>,
    /// Instead of the decision benchmark, run this many grant-then-revoke rounds through one server
    /// while checkers ask a second one over the same PostgreSQL database (a fresh database made from
    /// `GRANTRY_TEST_POSTGRES_URL`); prints write-to-visible latency, fails on an allow after an
    /// acknowledged revoke.
    #[arg(long, value_name = "ROUNDS")]
    replication: Option<usize>,
    /// The workload's seed.
    #[arg(long, default_value_t = 11)]
    seed: u64,
}

/// One engine at one size.
#[derive(Debug, Clone)]
pub struct Row {
    pub engine: &'static str,
    pub size: &'static str,
    pub users: usize,
    pub grants: usize,
    pub checks: usize,
    pub allowed_share: f64,
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub per_s_1: f64,
    pub per_s_2: f64,
    pub bytes_per_grant: f64,
    pub load_ms: f64,
}

fn row(w: &Workload, r: &measure::Run) -> Row {
    let allowed = r.decisions.iter().filter(|d| **d).count();
    Row {
        engine: r.engine,
        size: w.size.label(),
        users: w.users.len(),
        grants: w.grants(),
        checks: r.decisions.len(),
        allowed_share: allowed as f64 / r.decisions.len().max(1) as f64,
        p50: r.quantile(0.5),
        p99: r.quantile(0.99),
        p999: r.quantile(0.999),
        per_s_1: r.per_second_1,
        per_s_2: r.per_second_2,
        bytes_per_grant: r.bytes as f64 / w.grants().max(1) as f64,
        load_ms: r.load.as_secs_f64() * 1e3,
    }
}

/// The first check where `peer` decided otherwise than Grantry, as a sentence.
fn disagreement(w: &Workload, reference: &measure::Run, peer: &measure::Run) -> Option<String> {
    let i = reference.decisions.iter().zip(&peer.decisions).position(|(a, b)| a != b)?;
    let q: &Query = &w.queries[i];
    let who = match q.who {
        workload::Who::User(u) => format!("user {}", w.users[u]),
        workload::Who::Key(k) => format!("api key {}", w.keys[k].id),
    };
    let target = match q.target {
        workload::Target::Conversation(u) => format!("conversation {} (owner {})", w.conversation(u), w.users[u]),
        workload::Target::Trace(t) => format!("trace {} in {}", w.traces[t].id, w.nodes[w.traces[t].env].id),
        workload::Target::Agent(a) => format!("agent {}", w.agents.agents[a].id),
        workload::Target::Pool(p) => format!("agent pool {}", w.jit.pools[p]),
    };
    Some(format!(
        "check #{i}: {who} {} on {target} at {}µs: grantry says {}, {} says {}",
        q.permission, q.at, reference.decisions[i], peer.engine, peer.decisions[i]
    ))
}

/// Checks Grantry alone answers — seed 003's agents (`Agent:Use`, `Agent:Edit` through groups
/// three deep, windows and access types) and seed 004's pools (`AgentPool:Use`,
/// `AgentPool:IgnoreQuota` through instances and approved, booked or extended requests) — timed,
/// each compared with the answer the workload worked out itself. `what` says what they are.
fn own_checks(
    w: &Workload,
    grantry: &engines::grantry::Grantry,
    budget: Duration,
    what: &str,
    queries: &[Query],
    expected: &[bool],
) -> Vec<String> {
    let run = measure::run(grantry, w, queries, Duration::ZERO, 0, budget);
    let allowed = run.decisions.iter().filter(|d| **d).count();
    println!(
        "grantry's {what}: {} checks, {:.1}% allowed, p50 {}ns, p99 {}ns, p99.9 {}ns, {:.0}/s on 1 thread, {:.0}/s on 2",
        run.decisions.len(),
        allowed as f64 * 100.0 / run.decisions.len().max(1) as f64,
        run.quantile(0.5),
        run.quantile(0.99),
        run.quantile(0.999),
        run.per_second_1,
        run.per_second_2
    );
    let Some(i) = run.decisions.iter().zip(expected).position(|(got, want)| got != want) else {
        println!("grantry agreed with the workload's own answers on all {} of them", run.decisions.len());
        return Vec::new();
    };
    let q = &queries[i];
    let workload::Who::User(u) = q.who else { return vec![format!("{}: check #{i} of the {what} is not a user's", w.size.label())] };
    let target = match q.target {
        workload::Target::Agent(a) => format!("agent {}", w.agents.agents[a].id),
        workload::Target::Pool(p) => format!("agent pool {}", w.jit.pools[p]),
        other => format!("{other:?}"),
    };
    vec![format!(
        "{}: check #{i} of the {what}: user {} {} on {target} at {}µs: grantry says {}, the rules say {}",
        w.size.label(),
        w.users[u],
        q.permission,
        q.at,
        run.decisions[i],
        expected[i]
    )]
}

fn run_size(args: &Args, size: Size, rows: &mut Vec<Row>) -> anyhow::Result<Vec<String>> {
    let started = Instant::now();
    let w = workload::build(size, args.checks, args.seed);
    println!(
        "\n{} — {} users, {} grants, {} nodes, {} checks (workload built in {:.1}s)",
        size.label(),
        w.users.len(),
        w.grants(),
        w.nodes.len(),
        w.queries.len(),
        started.elapsed().as_secs_f64()
    );
    if let Some(file) = &args.cold_start {
        let mut name = file.as_os_str().to_owned();
        name.push(format!(".{}", size.label().to_lowercase()));
        cold::measure(&w, std::path::Path::new(&name))?;
    }
    let budget = Duration::from_secs_f64(args.budget);
    let changes = engines::grantry::changes(&w);
    // What the grants themselves cost: the index with them, less the index of the same users,
    // scopes and resources without them.
    let bare: Vec<_> = changes.iter().filter(|c| !matches!(c, grantry_core::change::Change::GrantCreated { .. })).cloned().collect();
    let (without, _, bare_bytes) = measure::build(|| engines::grantry::Grantry::build(&w, &bare))?;
    drop((without, bare));
    let (grantry, load, bytes) = measure::build(|| engines::grantry::Grantry::build(&w, &changes))?;
    drop(changes);
    println!(
        "grantry's index: {:.0} bytes per grant for the grants alone ({:.1} MB in all, {:.1} MB of it users, scopes and resources)",
        bytes.saturating_sub(bare_bytes) as f64 / w.grants().max(1) as f64,
        bytes as f64 / 1e6,
        bare_bytes as f64 / 1e6
    );
    let reference = measure::run(&grantry, &w, &w.queries, load, bytes, budget);
    let (lookups, listed) = grantry.lookups(&w, 2_000);
    let at = |q: f64| lookups.get(((lookups.len() as f64 * q) as usize).min(lookups.len().saturating_sub(1))).copied().unwrap_or(0);
    println!(
        "grantry's lookup (the first 100 conversations an asker may read, {} askers): p50 {:.1}µs, p99 {:.1}µs, {:.1} listed on average",
        lookups.len(),
        at(0.5) as f64 / 1e3,
        at(0.99) as f64 / 1e3,
        listed as f64 / lookups.len().max(1) as f64
    );
    let a = &w.agents;
    let agents = format!(
        "agent checks ({} groups three deep, {} memberships, {} agents, {} assignments)",
        a.groups.len(),
        a.memberships.len(),
        a.agents.len(),
        a.assignments.len()
    );
    let mut problems = own_checks(&w, &grantry, budget, &agents, &a.queries, &a.expected);
    let j = &w.jit;
    let pools = format!(
        "pool checks ({} pools, {} temporary access instances, {} approved access requests, {} extended)",
        j.pools.len(),
        j.instances.len(),
        j.requests.len(),
        j.requests.iter().filter(|r| r.ends != r.first_ends).count()
    );
    problems.extend(own_checks(&w, &grantry, budget, &pools, &j.queries, &j.expected));
    drop(grantry);
    let mut runs = vec![reference.clone()];
    for peer in &args.peers {
        let run = match peer {
            Peer::Cedar => {
                let (e, load, bytes) = measure::build(|| engines::cedar::Cedar::build(&w))?;
                measure::run(&e, &w, &w.queries, load, bytes, budget)
            }
            Peer::Casbin => {
                let (e, load, bytes) = measure::build(|| engines::casbin::Casbin::build(&w))?;
                measure::run(&e, &w, &w.queries, load, bytes, budget)
            }
        };
        runs.push(run);
    }
    println!(
        "{:<8} {:>9} {:>8} {:>10} {:>10} {:>11} {:>12} {:>12} {:>10} {:>10}",
        "engine", "checks", "allowed", "p50", "p99", "p99.9", "checks/s 1t", "checks/s 2t", "B/grant", "load"
    );
    for r in &runs {
        let x = row(&w, r);
        println!(
            "{:<8} {:>9} {:>7.1}% {:>8}ns {:>8}ns {:>9}ns {:>12.0} {:>12.0} {:>10.0} {:>8.0}ms",
            x.engine,
            x.checks,
            x.allowed_share * 100.0,
            x.p50,
            x.p99,
            x.p999,
            x.per_s_1,
            x.per_s_2,
            x.bytes_per_grant,
            x.load_ms
        );
        if let Some(d) = disagreement(&w, &reference, r) {
            problems.push(format!("{}: {d}", size.label()));
        }
        rows.push(x);
    }
    let compared = runs.iter().map(|r| r.decisions.len()).min().unwrap_or(0);
    println!("every engine agreed on the {compared} checks all of them reached");
    Ok(problems)
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new("warn")).with_writer(std::io::stderr).init();
    if let Some(rounds) = args.replication {
        return match replication::measure(rounds, 4) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for size in &args.size {
        match run_size(&args, *size, &mut rows) {
            Ok(p) => problems.extend(p),
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::FAILURE;
            }
        }
    }
    if let Some(dir) = &args.out {
        let written = std::fs::create_dir_all(dir)
            .map_err(anyhow::Error::from)
            .and_then(|()| plot::csv(&rows, &dir.join("bench.csv")))
            .and_then(|()| plot::png(&rows, &dir.join("latency.png")));
        match written {
            Ok(()) => println!("wrote {} and {}", dir.join("bench.csv").display(), dir.join("latency.png").display()),
            Err(e) => {
                eprintln!("error: writing the results: {e:#}");
                return ExitCode::FAILURE;
            }
        }
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        for p in problems {
            eprintln!("DISAGREEMENT {p}");
        }
        ExitCode::FAILURE
    }
}
