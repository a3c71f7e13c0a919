//! A mixed run over two servers of one database: checkers ask the second server while the first
//! grants and revokes (about one write in a hundred requests). It measures how long a write takes
//! to be seen on the second server when nobody names its revision (the follower's lag), and it
//! collects every allow that came after an acknowledged revoke whose revision the checker sent —
//! of which there must be none.

use crate::{Api, TestServer};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MSG: &str = "Conversation:GetMessage";
/// Checks per write: the run is about 1% writes.
const CHECKS_PER_WRITE: u64 = 99;
/// How long a write may take to be seen before the run gives up on it.
const PATIENCE: Duration = Duration::from_secs(10);

/// What a mixed run saw.
#[derive(Debug, Default)]
pub struct MixedRun {
    /// Checks the checkers made on the second server.
    pub checks: u64,
    /// How many of them were allowed.
    pub allows: u64,
    /// Each allow that followed an acknowledged revoke, described.
    pub allows_after_revoke: Vec<String>,
    /// For each grant, the time from its acknowledgement on the first server to its first allow on
    /// the second, asked without a revision.
    pub visible: Vec<Duration>,
    /// How long the run took.
    pub elapsed: Duration,
}

/// What the writer and the checkers share.
struct Shared {
    conversations: Vec<String>,
    /// Conversations `0..started` have had their grant acknowledged.
    started: AtomicUsize,
    /// For each conversation, the revision of its acknowledged revoke (0 until then).
    revoked: Vec<AtomicU64>,
    checks: AtomicU64,
    allows: AtomicU64,
    stop: AtomicBool,
    violations: Mutex<Vec<String>>,
}

fn check_body(user: &str, conversation: &str, revision: Option<u64>) -> Value {
    json!({ "principal": { "type": "user", "id": user }, "permission": MSG,
            "resource": { "type": "conversation", "id": conversation }, "at_least_revision": revision })
}

async fn allowed(api: &Api, user: &str, conversation: &str, revision: Option<u64>) -> bool {
    let (status, decision) = api.post("/check", &check_body(user, conversation, revision)).await;
    assert_eq!(status, 200, "check: {decision}");
    decision["allowed"] == true
}

/// Runs `rounds` grant-then-revoke rounds through `a`, each on a conversation of its own, while
/// `checkers` tasks check on a second server that follows the same database.
pub async fn mixed_run(a: &TestServer, rounds: usize, checkers: usize) -> MixedRun {
    let owner = a.bootstrap("mixed", "owner@mixed.test").await;
    let (dev_id, dev) = owner.create_user("dev@mixed.test", "org_member").await;
    let mut conversations = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let (holder, _) = owner.create_user(&format!("holder{i}@mixed.test"), "org_member").await;
        conversations.push(owner.register_conversation(&holder).await);
    }
    let b = a.follower().await;
    let dev_b = Api::new(&b.url, "mixed", &dev.token);
    let shared = Arc::new(Shared {
        revoked: conversations.iter().map(|_| AtomicU64::new(0)).collect(),
        conversations,
        started: AtomicUsize::new(0),
        checks: AtomicU64::new(0),
        allows: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        violations: Mutex::new(Vec::new()),
    });
    let begun = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for seed in 0..checkers {
        let (shared, api, user) = (Arc::clone(&shared), dev_b.clone(), dev_id.clone());
        tasks.spawn(async move { check_loop(&shared, &api, &user, seed as u64 + 1).await });
    }
    let mut visible = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let conversation = shared.conversations[round].clone();
        let (status, made) = dev
            .post(&format!("/conversation/{conversation}/request_access"), &json!({ "justification": "Debugging reported issue #42" }))
            .await;
        assert_eq!(status, 201, "request access: {made}");
        let acknowledged = Instant::now();
        shared.started.store(round + 1, Ordering::Release);
        while !allowed(&dev_b, &dev_id, &conversation, None).await {
            assert!(acknowledged.elapsed() < PATIENCE, "the grant of round {round} was not seen on the second server");
        }
        visible.push(acknowledged.elapsed());
        pace(&shared, 2 * round as u64 + 1).await;
        let grants = made["grants"].as_array().cloned().unwrap_or_default();
        let grant = grants.iter().find(|g| g["permission_grant"]["permission_name"] == MSG).expect("a grant of the checked permission");
        let (status, revoked) = owner.delete(&format!("/role/temporary_permission_grant/{}/", grant["id"].as_str().unwrap_or(""))).await;
        assert_eq!(status, 200, "revoke: {revoked}");
        shared.revoked[round].store(revoked["revision"].as_u64().expect("the revoke's revision"), Ordering::Release);
        pace(&shared, 2 * round as u64 + 2).await;
    }
    shared.stop.store(true, Ordering::Release);
    while let Some(done) = tasks.join_next().await {
        done.expect("a checker");
    }
    let violations = std::mem::take(&mut *shared.violations.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    MixedRun {
        checks: shared.checks.load(Ordering::Acquire),
        allows: shared.allows.load(Ordering::Acquire),
        allows_after_revoke: violations,
        visible,
        elapsed: begun.elapsed(),
    }
}

/// Waits until the checkers have made their share of checks for `writes` writes.
async fn pace(shared: &Shared, writes: u64) {
    let since = Instant::now();
    while shared.checks.load(Ordering::Acquire) < CHECKS_PER_WRITE * writes && since.elapsed() < PATIENCE {
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

/// Checks conversations already granted, at random, naming the revoke's revision once there is
/// one; an allow after it is a violation.
async fn check_loop(shared: &Shared, api: &Api, user: &str, seed: u64) {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while !shared.stop.load(Ordering::Acquire) {
        let started = shared.started.load(Ordering::Acquire);
        if started == 0 {
            tokio::time::sleep(Duration::from_micros(200)).await;
            continue;
        }
        // xorshift: cheap, and enough to spread the checks.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let i = (state % started as u64) as usize;
        let revision = shared.revoked[i].load(Ordering::Acquire);
        let conversation = &shared.conversations[i];
        let allow = allowed(api, user, conversation, (revision > 0).then_some(revision)).await;
        shared.checks.fetch_add(1, Ordering::AcqRel);
        if allow {
            shared.allows.fetch_add(1, Ordering::AcqRel);
            if revision > 0 {
                let mut v = shared.violations.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                v.push(format!("`{conversation}` allowed at or after revision {revision}, whose revoke was acknowledged"));
            }
        }
    }
}
