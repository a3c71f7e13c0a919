//! The storage suite: behaviour every backend must have. Each case takes a fresh store and runs on
//! SQLite and on PostgreSQL (a fresh database in the cluster `GRANTRY_TEST_POSTGRES_URL` names;
//! `bash .ci/run` starts one). Without that variable the PostgreSQL cases fail, saying so — unless
//! `GRANTRY_SKIP_POSTGRES=1` asks to skip them, which they report loudly.

#![expect(clippy::unwrap_used, reason = "tests fail loudly at the point of failure")]

use grantry_core::audit::{AuditDraft, AuditKey};
use grantry_core::change::Change;
use grantry_core::ids::{GrantId, OrgId, TokenId, UserId};
use grantry_core::model::*;
use grantry_core::{SignedDuration, Timestamp};
use grantry_store::{AuditFilter, GrantFilter, GrantState, GroupFailure, Notice, Settlement, Store, StoreError, WriteBatch};
use std::sync::Arc;

/// A fresh database; dropping it drops a SQLite file (PostgreSQL's go with the throwaway cluster).
struct Db {
    store: Arc<dyn Store>,
    url: String,
    _dir: Option<tempfile::TempDir>,
}

impl Db {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        Self { store: grantry_store::open(&url, key()).await.unwrap(), url, _dir: Some(dir) }
    }

    async fn postgres() -> Option<Self> {
        let url = grantry_store::testing::fresh_postgres_url().await.unwrap()?;
        Some(Self { store: grantry_store::open(&url, key()).await.unwrap(), url, _dir: None })
    }
}

/// Runs each named case on both backends.
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $case() {
                let db = super::Db::sqlite().await;
                super::$case(&db).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $case() {
                let Some(db) = super::Db::postgres().await else { return };
                super::$case(&db).await;
            })*
        }
    };
}

on_both_backends!(
    what_is_committed_comes_back_in_the_snapshot,
    a_failed_batch_writes_nothing,
    revoking_twice_is_a_conflict,
    each_organization_has_its_own_gapless_chain,
    the_audit_log_filters,
    expiries_are_reported_until_recorded,
    an_extended_grant_ends_later_in_the_tables,
    the_outbox_delivers_what_committed_once_per_lease,
    the_snapshot_loads_live_grants_and_the_records_keep_them_all,
    reopening_migrates_nothing_twice,
    the_change_log_reads_back_in_revision_order,
    concurrent_writers_keep_revisions_and_chains_in_order,
    the_isolation_report_lists_every_organization_scoped_table,
    the_scope_tree_comes_back_in_the_snapshot,
    keys_and_policies_come_back_in_the_snapshot,
    a_batch_validated_against_an_old_revision_is_refused,
    every_kind_of_tampering_is_detected_and_named,
    a_group_commits_each_batch_with_its_own_revision_and_events,
    a_group_with_a_refused_batch_writes_nothing_and_names_it,
    a_saved_index_comes_back_only_sealed_current_and_ours,
    a_commit_by_another_store_is_always_noticed,
    groups_and_members_come_back_in_the_snapshot,
);

#[path = "suite/groups.rs"]
mod groups;
use groups::groups_and_members_come_back_in_the_snapshot;

#[path = "suite/saved_index.rs"]
mod saved_index;
use saved_index::a_saved_index_comes_back_only_sealed_current_and_ours;

#[path = "suite/tamper.rs"]
mod tamper;
use tamper::every_kind_of_tampering_is_detected_and_named;

/// The installation's audit key in these tests.
fn key() -> AuditKey {
    AuditKey::from_bytes([42; 32])
}

/// How many events of `org` verify, or the event where its chain breaks.
async fn verified(store: &Arc<dyn Store>, org: &str) -> Result<usize, i64> {
    let v = store.verify_audit(&OrgId::from(org), None).await.unwrap();
    v.broken_at.map_or(Ok(v.events_checked), |b| Err(b.seq))
}

fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_900_000_000 + secs).unwrap()
}

fn org(id: &str) -> Org {
    Org { id: OrgId::from(id), slug: id.to_owned(), name: id.to_owned(), created_at: t(0), policy: Policy::default() }
}

fn user(org: &str, id: &str) -> User {
    User { id: UserId::from(id), org: OrgId::from(org), email: format!("{id}@{org}.test"), status: UserStatus::Active, created_at: t(1) }
}

fn grant(org: &str, id: &str, who: &str, expires_at: Option<Timestamp>) -> Grant {
    Grant {
        id: GrantId::from(id),
        org: OrgId::from(org),
        principal: Principal::User(UserId::from(who)),
        target: GrantTarget::Role { role: "org_member".into() },
        anchor: Anchor::Scope(ScopeRef::Org),
        starts_at: t(2),
        expires_at,
        justification: Some("ticket #1 says so".into()),
        tags: vec!["incident".into()],
        creator: Actor::System,
        source: GrantSource::Manual,
        created_at: t(2),
        revoked: None,
    }
}

fn batch(org: &str, at: Timestamp, changes: Vec<Change>) -> WriteBatch {
    let audit = changes.iter().map(|c| AuditDraft::new(&Actor::System, "test.change", "thing", &format!("{:?}", c.org()))).collect();
    WriteBatch { org: OrgId::from(org), at, changes, audit, base_revision: None, outbox: vec![] }
}

async fn chain(store: &Arc<dyn Store>, org: &str) -> Vec<grantry_core::audit::AuditEvent> {
    store.audit_events(&OrgId::from(org), AuditFilter::default()).await.unwrap()
}

async fn seed(db: &Db) -> Arc<dyn Store> {
    let store = db.store.clone();
    store
        .commit(batch("o1", t(0), vec![Change::OrgCreated { org: org("o1") }, Change::UserCreated { user: user("o1", "u1") }]))
        .await
        .unwrap();
    store
}

async fn what_is_committed_comes_back_in_the_snapshot(db: &Db) {
    let store = seed(db).await;
    let cred = Credential {
        id: TokenId::from("tk1"),
        org: OrgId::from("o1"),
        principal: Principal::User(UserId::from("u1")),
        secret_hash: "ab".repeat(32),
        created_at: t(3),
        expires_at: Some(t(99)),
        revoked_at: None,
        issued_by: Some(Principal::User(UserId::from("u2"))),
        custody: vec![Principal::User(UserId::from("u3"))],
    };
    let resource = Resource {
        org: OrgId::from("o1"),
        reference: ResourceRef::new("conversation", "c1"),
        parent: Some(ResourceRef::new("agent", "a1")),
        scope: ScopeRef::Org,
        attributes: [("conversation_user_id".to_owned(), "u1".into()), ("is_prod".to_owned(), grantry_core::attr::AttrValue::Bool(true))]
            .into(),
        created_at: t(3),
    };
    let g = grant("o1", "g1", "u1", Some(t(7200)));
    let changes = vec![
        Change::CredentialIssued { credential: cred.clone() },
        Change::ResourceRegistered { resource: resource.clone() },
        Change::GrantCreated { grant: g.clone() },
    ];
    let c1 = store.commit(batch("o1", t(3), changes)).await.unwrap();
    let revocation = Revocation { at: t(10), by: Actor::User(UserId::from("u1")) };
    let c2 = store
        .commit(batch("o1", t(10), vec![Change::GrantRevoked { org: OrgId::from("o1"), id: g.id.clone(), revocation: revocation.clone() }]))
        .await
        .unwrap();
    assert!(c2.revision > c1.revision, "revisions increase");

    let snap = store.snapshot().await.unwrap();
    assert_eq!(snap.revision, c2.revision);
    let mut revoked = g;
    revoked.revoked = Some(revocation);
    for expected in [
        Change::OrgCreated { org: org("o1") },
        Change::UserCreated { user: user("o1", "u1") },
        Change::CredentialIssued { credential: cred },
        Change::ResourceRegistered { resource },
    ] {
        assert!(snap.changes.contains(&expected), "snapshot lacks {expected:?}");
    }
    // A revoked grant is not loaded into the index; its whole record stays in the store.
    assert!(!snap.changes.iter().any(|c| matches!(c, Change::GrantCreated { .. })));
    let kept = store.grants(&OrgId::from("o1"), GrantFilter { id: Some(GrantId::from("g1")), ..Default::default() }).await.unwrap();
    assert_eq!(kept, [revoked]);
}

async fn a_failed_batch_writes_nothing(db: &Db) {
    let store = seed(db).await;
    let before = (store.snapshot().await.unwrap(), chain(&store, "o1").await.len());
    // The second change collides with an existing user: the first must not survive either.
    let mut dup = user("o1", "u2");
    dup.email = "u1@o1.test".into();
    let err = store
        .commit(batch("o1", t(5), vec![Change::UserCreated { user: user("o1", "u3") }, Change::UserCreated { user: dup }]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let after = (store.snapshot().await.unwrap(), chain(&store, "o1").await.len());
    assert_eq!(before.0.changes, after.0.changes);
    assert_eq!(before.0.revision, after.0.revision);
    assert_eq!(before.1, after.1, "no audit event");
}

async fn a_batch_validated_against_an_old_revision_is_refused(db: &Db) {
    let store = seed(db).await;
    let base = store.snapshot().await.unwrap().revision;
    // Two writers validated against `base`; the first commits, the second must not.
    let first = WriteBatch { base_revision: Some(base), ..batch("o1", t(3), vec![Change::UserCreated { user: user("o1", "u2") }]) };
    let second = WriteBatch { base_revision: Some(base), ..batch("o1", t(3), vec![Change::UserCreated { user: user("o1", "u3") }]) };
    let committed = store.commit(first).await.unwrap();
    assert_eq!(committed.revision, base + 1);
    let before = (store.snapshot().await.unwrap(), chain(&store, "o1").await.len());
    assert!(matches!(store.commit(second).await, Err(StoreError::Stale { base: b }) if b == base));
    let after = (store.snapshot().await.unwrap(), chain(&store, "o1").await.len());
    assert_eq!((before.0.revision, before.0.changes, before.1), (after.0.revision, after.0.changes, after.1), "nothing written");
    let retried = WriteBatch { base_revision: Some(base + 1), ..batch("o1", t(4), vec![Change::UserCreated { user: user("o1", "u3") }]) };
    assert_eq!(store.commit(retried).await.unwrap().revision, base + 2);
}

/// A writer skips reading the change log only when nobody else committed since it last asked:
/// another store's commit (another process) is always noticed; on SQLite its own are not.
async fn a_commit_by_another_store_is_always_noticed(db: &Db) {
    let store = seed(db).await;
    let other = grantry_store::open(&db.url, key()).await.unwrap();
    store.others_may_have_written();
    store.commit(batch("o1", t(3), vec![Change::UserCreated { user: user("o1", "u2") }])).await.unwrap();
    let after_own = store.others_may_have_written();
    other.commit(batch("o1", t(4), vec![Change::UserCreated { user: user("o1", "u3") }])).await.unwrap();
    assert!(store.others_may_have_written(), "another store's commit is noticed");
    if db.url.starts_with("sqlite:") {
        assert!(!after_own, "a store's own commit is not another's");
        assert!(!store.others_may_have_written(), "and noticed once");
        other.commit(batch("o1", t(5), vec![Change::UserCreated { user: user("o1", "u4") }])).await.unwrap();
        assert!(store.others_may_have_written(), "each time");
    }
}

async fn a_group_commits_each_batch_with_its_own_revision_and_events(db: &Db) {
    let store = seed(db).await;
    store.commit(batch("o2", t(1), vec![Change::OrgCreated { org: org("o2") }])).await.unwrap();
    let base = store.snapshot().await.unwrap().revision;
    let (o1, o2) = (chain(&store, "o1").await.len() as i64, chain(&store, "o2").await.len() as i64);
    // Two organizations interleaved, several grants in one batch, and a revocation of a grant the
    // same group creates: each batch keeps its place.
    let revocation = Revocation { at: t(6), by: Actor::System };
    let group = vec![
        batch(
            "o1",
            t(3),
            vec![
                Change::GrantCreated { grant: grant("o1", "a", "u1", None) },
                Change::GrantCreated { grant: grant("o1", "b", "u1", None) },
            ],
        ),
        batch("o2", t(4), vec![Change::UserCreated { user: user("o2", "v1") }]),
        batch("o1", t(5), vec![Change::UserCreated { user: user("o1", "u2") }]),
        batch("o1", t(6), vec![Change::GrantRevoked { org: OrgId::from("o1"), id: GrantId::from("a"), revocation }]),
    ];
    let group: Vec<WriteBatch> =
        group.into_iter().enumerate().map(|(i, b)| WriteBatch { base_revision: Some(base + i as u64), ..b }).collect();
    let committed = store.commit_group(group).await.unwrap();
    let revisions: Vec<u64> = committed.iter().map(|c| c.revision).collect();
    assert_eq!(revisions, [base + 1, base + 2, base + 3, base + 4]);
    let seqs: Vec<Vec<i64>> = committed.iter().map(|c| c.events.iter().map(|e| e.seq).collect()).collect();
    assert_eq!(seqs, [vec![o1 + 1, o1 + 2], vec![o2 + 1], vec![o1 + 3], vec![o1 + 4]]);
    assert_eq!(verified(&store, "o1").await, Ok(o1 as usize + 4));
    assert_eq!(verified(&store, "o2").await, Ok(o2 as usize + 1));
    let logged: Vec<u64> = store.changes_since(base, 10).await.unwrap().iter().map(|l| l.revision).collect();
    assert_eq!(logged, revisions);
    let live = store.grants(&OrgId::from("o1"), GrantFilter { state: Some(GrantState::Live), ..Default::default() }).await.unwrap();
    assert_eq!(live.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(), ["b"]);
}

async fn a_group_with_a_refused_batch_writes_nothing_and_names_it(db: &Db) {
    let store = seed(db).await;
    let before = (store.snapshot().await.unwrap(), chain(&store, "o1").await.len());
    let mut dup = user("o1", "u9");
    dup.email = "u1@o1.test".into();
    let group = vec![
        batch("o1", t(3), vec![Change::UserCreated { user: user("o1", "u2") }]),
        batch("o1", t(4), vec![Change::UserCreated { user: dup }]),
        batch("o1", t(5), vec![Change::GrantCreated { grant: grant("o1", "g", "u1", None) }]),
    ];
    let err = store.commit_group(group).await.unwrap_err();
    assert!(matches!(err, GroupFailure { member: Some(1), error: StoreError::Conflict(_) }), "{err:?}");
    let after = (store.snapshot().await.unwrap(), chain(&store, "o1").await.len());
    assert_eq!((before.0.revision, before.0.changes, before.1), (after.0.revision, after.0.changes, after.1), "nothing written");
    // Batches that do not follow one another are refused before anything is written.
    let base = after.0.revision;
    let gap = vec![
        WriteBatch { base_revision: Some(base), ..batch("o1", t(3), vec![Change::UserCreated { user: user("o1", "u2") }]) },
        WriteBatch { base_revision: Some(base + 2), ..batch("o1", t(4), vec![Change::UserCreated { user: user("o1", "u3") }]) },
    ];
    assert!(matches!(store.commit_group(gap).await, Err(GroupFailure { member: None, error: StoreError::Corrupt(_) })));
    assert_eq!(store.snapshot().await.unwrap().revision, base);
}

async fn revoking_twice_is_a_conflict(db: &Db) {
    let store = seed(db).await;
    store.commit(batch("o1", t(3), vec![Change::GrantCreated { grant: grant("o1", "g1", "u1", None) }])).await.unwrap();
    let revoke = || {
        batch(
            "o1",
            t(4),
            vec![Change::GrantRevoked {
                org: OrgId::from("o1"),
                id: GrantId::from("g1"),
                revocation: Revocation { at: t(4), by: Actor::System },
            }],
        )
    };
    store.commit(revoke()).await.unwrap();
    assert!(matches!(store.commit(revoke()).await, Err(StoreError::Conflict(_))));
}

async fn each_organization_has_its_own_gapless_chain(db: &Db) {
    let store = seed(db).await;
    store.commit(batch("o2", t(1), vec![Change::OrgCreated { org: org("o2") }])).await.unwrap();
    for i in 0..5 {
        let o = if i % 2 == 0 { "o1" } else { "o2" };
        store.commit(batch(o, t(10 + i), vec![Change::UserCreated { user: user(o, &format!("x{i}")) }])).await.unwrap();
    }
    for o in ["o1", "o2"] {
        let events = chain(&store, o).await;
        assert_eq!(verified(&store, o).await, Ok(events.len()), "{o}");
        assert!(events.iter().all(|e| e.org.as_str() == o), "nothing of another organization");
    }
}

async fn the_audit_log_filters(db: &Db) {
    let store = seed(db).await;
    let mut d = AuditDraft::new(&Actor::User(UserId::from("u1")), "grant.created", "grant", "g9");
    d.principal = Some("user:u1".into());
    store
        .commit(WriteBatch { org: OrgId::from("o1"), at: t(50), changes: vec![], audit: vec![d], base_revision: None, outbox: vec![] })
        .await
        .unwrap();
    let by = |f: AuditFilter| {
        let store = store.clone();
        async move { store.audit_events(&OrgId::from("o1"), f).await.unwrap().len() }
    };
    assert_eq!(by(AuditFilter { event_type: Some("grant.created".into()), ..Default::default() }).await, 1);
    assert_eq!(by(AuditFilter { actor: Some("user:u1".into()), ..Default::default() }).await, 1);
    assert_eq!(by(AuditFilter { principal: Some("user:u1".into()), ..Default::default() }).await, 1);
    assert_eq!(by(AuditFilter { since: Some(t(51)), ..Default::default() }).await, 0);
    assert_eq!(by(AuditFilter { until: Some(t(50)), ..Default::default() }).await, 2);
    assert_eq!(by(AuditFilter { limit: Some(1), ..Default::default() }).await, 1);
    let any_of = |ids: &[&str]| AuditFilter { target_ids: ids.iter().map(|s| (*s).to_owned()).collect(), ..Default::default() };
    assert_eq!(by(any_of(&["nobody", "nothing"])).await, 0);
}

async fn expiries_are_reported_until_recorded(db: &Db) {
    let store = seed(db).await;
    let end = t(100);
    let changes = vec![
        Change::GrantCreated { grant: grant("o1", "temp", "u1", Some(end)) },
        Change::GrantCreated { grant: grant("o1", "perm", "u1", None) },
        Change::GrantCreated { grant: grant("o1", "later", "u1", Some(t(1000))) },
    ];
    store.commit(batch("o1", t(2), changes)).await.unwrap();
    assert!(store.unrecorded_expiries(end.checked_sub(SignedDuration::from_micros(1)).unwrap()).await.unwrap().is_empty());
    let due = store.unrecorded_expiries(end).await.unwrap();
    assert_eq!(due.iter().map(|d| d.grant.id.as_str()).collect::<Vec<_>>(), ["temp"]);
    assert_eq!(due[0].grant.expires_at, Some(end));
    store.commit(batch("o1", end, vec![Change::GrantExpiryRecorded { org: OrgId::from("o1"), id: GrantId::from("temp") }])).await.unwrap();
    assert!(store.unrecorded_expiries(t(500)).await.unwrap().is_empty());
}

async fn the_outbox_delivers_what_committed_once_per_lease(db: &Db) {
    let store = seed(db).await;
    let notice = |id: &str| Notice {
        id: id.into(),
        webhook: "w1".into(),
        event_type: "grant.revoked".into(),
        payload: format!("{{\"n\":\"{id}\"}}"),
    };
    let with = |at: Timestamp, changes: Vec<Change>, ids: &[&str]| WriteBatch {
        outbox: ids.iter().map(|i| notice(i)).collect(),
        ..batch("o1", at, changes)
    };
    store.commit(with(t(10), vec![Change::UserCreated { user: user("o1", "n1") }], &["a", "b"])).await.unwrap();
    // A batch that fails sends nothing: its notice is not in the outbox.
    let refused = store.commit(with(t(11), vec![Change::UserCreated { user: user("o1", "n1") }], &["never"])).await;
    assert!(refused.is_err());
    let org = OrgId::from("o1");
    assert_eq!(store.webhooks_due(t(12), 10).await.unwrap(), [(org.clone(), "w1".to_owned())]);
    let leased = store.lease_due(&org, "w1", t(12), t(42), 10).await.unwrap();
    assert_eq!(leased.iter().map(|d| d.notice.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!((leased[0].attempts, leased[0].org.as_str(), leased[0].notice.payload.as_str()), (0, "o1", "{\"n\":\"a\"}"));
    // Leased: nobody else gets them until the lease runs out (a second store, as a second server).
    let other = grantry_store::open(&db.url, key()).await.unwrap();
    assert!(other.lease_due(&org, "w1", t(13), t(43), 10).await.unwrap().is_empty());
    assert!(other.webhooks_due(t(13), 10).await.unwrap().is_empty(), "nothing due while leased");
    store.settle(&org, "a", Settlement::Delivered { at: t(14), attempts: 1 }).await.unwrap();
    store.settle(&org, "b", Settlement::Retry { attempts: 1, next: t(60), error: "connection refused".into() }).await.unwrap();
    assert!(other.lease_due(&org, "w1", t(59), t(89), 10).await.unwrap().is_empty(), "not before its retry");
    let again = other.lease_due(&org, "w1", t(60), t(90), 10).await.unwrap();
    assert_eq!((again.len(), again[0].notice.id.as_str(), again[0].attempts), (1, "b", 1));
    other.settle(&org, "b", Settlement::GivenUp { attempts: 9, error: "410 Gone".into() }).await.unwrap();
    assert!(store.lease_due(&org, "w1", t(10_000), t(10_030), 10).await.unwrap().is_empty());
    assert!(store.webhooks_due(t(10_000), 10).await.unwrap().is_empty());
    let kept = store.notices(&org, "w1", 10).await.unwrap();
    let mut states: Vec<(&str, Option<Timestamp>, bool, u32)> =
        kept.iter().map(|n| (n.id.as_str(), n.delivered_at, n.given_up, n.attempts)).collect();
    states.sort();
    assert_eq!(states, [("a", Some(t(14)), false, 1), ("b", None, true, 9)]);
    assert!(store.notices(&OrgId::from("o2"), "w1", 10).await.unwrap().is_empty(), "another organization sees none");
    assert!(store.webhook_secret(&org, "w1", 0).starts_with("whsec_"));
    assert_ne!(store.webhook_secret(&org, "w1", 0), store.webhook_secret(&org, "w1", 1));
    assert_eq!(store.webhook_secret(&org, "w1", 0), other.webhook_secret(&org, "w1", 0), "every server derives the same");
}

async fn an_extended_grant_ends_later_in_the_tables(db: &Db) {
    let store = seed(db).await;
    let changes = vec![
        Change::GrantCreated { grant: grant("o1", "temp", "u1", Some(t(100))) },
        Change::GrantCreated { grant: grant("o1", "gone", "u1", Some(t(100))) },
    ];
    store.commit(batch("o1", t(2), changes)).await.unwrap();
    let revocation = Revocation { at: t(3), by: Actor::System };
    store
        .commit(batch("o1", t(3), vec![Change::GrantRevoked { org: OrgId::from("o1"), id: GrantId::from("gone"), revocation }]))
        .await
        .unwrap();
    let extend = |id: &str| Change::GrantExtended { org: OrgId::from("o1"), id: GrantId::from(id), expires_at: t(300), at: t(4) };
    // Extending an ended grant is a conflict, and the batch writes nothing.
    let refused = store.commit(batch("o1", t(4), vec![extend("temp"), extend("gone")])).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");
    assert_eq!(store.unrecorded_expiries(t(100)).await.unwrap().len(), 1);
    store.commit(batch("o1", t(4), vec![extend("temp")])).await.unwrap();
    // Not due at its first end; due at the new one. A revoked grant stays as it was.
    assert!(store.unrecorded_expiries(t(100)).await.unwrap().is_empty());
    let due = store.unrecorded_expiries(t(300)).await.unwrap();
    assert_eq!(due.iter().map(|d| (d.grant.id.as_str(), d.grant.expires_at)).collect::<Vec<_>>(), [("temp", Some(t(300)))]);
    let snap = store.snapshot().await.unwrap();
    let ends: Vec<Option<Timestamp>> = snap
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::GrantCreated { grant } => Some(grant.expires_at),
            _ => None,
        })
        .collect();
    assert_eq!(ends, [Some(t(300))], "the snapshot loads the live grant with its new end");
    let gone = store.grants(&OrgId::from("o1"), GrantFilter { id: Some(GrantId::from("gone")), ..Default::default() }).await.unwrap();
    assert_eq!(gone[0].expires_at, Some(t(100)));
}

async fn the_snapshot_loads_live_grants_and_the_records_keep_them_all(db: &Db) {
    let store = seed(db).await;
    let changes = vec![
        Change::GrantCreated { grant: grant("o1", "ended", "u1", Some(t(100))) },
        Change::GrantCreated { grant: grant("o1", "gone", "u1", Some(t(1000))) },
        Change::GrantCreated { grant: grant("o1", "perm", "u1", None) },
        Change::GrantCreated { grant: grant("o1", "live", "u1", Some(t(1000))) },
    ];
    store.commit(batch("o1", t(2), changes)).await.unwrap();
    let revocation = Revocation { at: t(50), by: Actor::System };
    store
        .commit(batch("o1", t(50), vec![Change::GrantRevoked { org: OrgId::from("o1"), id: GrantId::from("gone"), revocation }]))
        .await
        .unwrap();
    store
        .commit(batch("o1", t(100), vec![Change::GrantExpiryRecorded { org: OrgId::from("o1"), id: GrantId::from("ended") }]))
        .await
        .unwrap();
    // The index is built from live grants only.
    let loaded: Vec<String> = store
        .snapshot()
        .await
        .unwrap()
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::GrantCreated { grant } => Some(grant.id.0.clone()),
            _ => None,
        })
        .collect();
    assert!(!loaded.contains(&"ended".to_owned()) && !loaded.contains(&"gone".to_owned()), "{loaded:?}");
    assert!(loaded.contains(&"perm".to_owned()) && loaded.contains(&"live".to_owned()), "{loaded:?}");
    // The records keep every grant, whole, and narrow by what is asked.
    let ids = |f: GrantFilter| {
        let store = store.clone();
        async move { store.grants(&OrgId::from("o1"), f).await.unwrap().into_iter().map(|g| g.id.0).collect::<Vec<_>>() }
    };
    let u1 = Some(Principal::User(UserId::from("u1")));
    let ended = GrantFilter { principal: u1.clone(), state: Some(GrantState::Ended), ..Default::default() };
    assert_eq!(ids(ended.clone()).await, ["ended", "gone"], "most recently ended first");
    assert_eq!(ids(GrantFilter { limit: Some(1), ..ended }).await, ["ended"]);
    let live = ids(GrantFilter { principal: u1.clone(), state: Some(GrantState::Live), ..Default::default() }).await;
    assert!(live.contains(&"perm".to_owned()) && live.contains(&"live".to_owned()) && !live.contains(&"gone".to_owned()));
    let temporary = ids(GrantFilter { principal: u1, temporary: true, ..Default::default() }).await;
    assert_eq!(temporary.len(), 3, "{temporary:?}");
    let one = store.grants(&OrgId::from("o1"), GrantFilter { id: Some(GrantId::from("gone")), ..Default::default() }).await.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].revoked.as_ref().map(|r| r.at), Some(t(50)));
    assert_eq!(one[0].justification, grant("o1", "gone", "u1", None).justification);
    // Another organization's grants are not reachable through this one.
    assert!(store
        .grants(&OrgId::from("o2"), GrantFilter { id: Some(GrantId::from("gone")), ..Default::default() })
        .await
        .unwrap()
        .is_empty());
}

async fn reopening_migrates_nothing_twice(db: &Db) {
    seed(db).await;
    let again = grantry_store::SqlStore::open(&db.url, key(), grantry_store::Keying::ExistingKey).await.unwrap();
    assert_eq!(again.schema_version().await.unwrap(), again.backend().latest_version());
    assert_eq!(grantry_store::StateStore::snapshot(&again).await.unwrap().changes.len(), 2);
}

async fn concurrent_writers_keep_revisions_and_chains_in_order(db: &Db) {
    seed(db).await;
    // Two stores over one database stand for two servers.
    let other = grantry_store::open(&db.url, key()).await.unwrap();
    let mut writers = tokio::task::JoinSet::new();
    for i in 0..20 {
        let store = if i % 2 == 0 { db.store.clone() } else { other.clone() };
        writers.spawn(async move {
            store.commit(batch("o1", t(100 + i), vec![Change::UserCreated { user: user("o1", &format!("c{i}")) }])).await.unwrap().revision
        });
    }
    let mut revisions = Vec::new();
    while let Some(r) = writers.join_next().await {
        revisions.push(r.unwrap());
    }
    revisions.sort_unstable();
    revisions.dedup();
    assert_eq!(revisions.len(), 20, "every commit has its own revision");
    let log = db.store.changes_since(0, 1000).await.unwrap();
    let logged: Vec<u64> = log.iter().map(|l| l.revision).collect();
    assert_eq!(logged, (1..=21).collect::<Vec<u64>>(), "gapless, in order");
    let events = chain(&db.store, "o1").await;
    assert_eq!(verified(&db.store, "o1").await, Ok(events.len()));
}

#[tokio::test]
async fn unusable_urls_are_refused_without_printing_passwords() {
    let err = grantry_store::open("mysql://root:hunter2@db/grantry", key()).await.err().unwrap().to_string();
    assert!(err.contains("sqlite://") && !err.contains("hunter2"), "{err}");
    let err = grantry_store::open("postgres://app:hunter2@127.0.0.1:1/grantry", key()).await.err().unwrap().to_string();
    assert!(!err.contains("hunter2"), "{err}");
}

async fn the_change_log_reads_back_in_revision_order(db: &Db) {
    let store = seed(db).await;
    let first = store.snapshot().await.unwrap().revision;
    let mut revisions = Vec::new();
    for i in 0..3 {
        let c = store.commit(batch("o1", t(20 + i), vec![Change::UserCreated { user: user("o1", &format!("n{i}")) }])).await.unwrap();
        revisions.push(c.revision);
    }
    let log = store.changes_since(first, 100).await.unwrap();
    assert_eq!(log.iter().map(|l| l.revision).collect::<Vec<_>>(), revisions);
    assert_eq!(log[1].changes, vec![Change::UserCreated { user: user("o1", "n1") }]);
    assert_eq!(store.changes_since(first, 2).await.unwrap().len(), 2, "the limit holds");
    assert!(store.changes_since(revisions[2], 100).await.unwrap().is_empty());
}

/// A database opened read-only (`?mode=ro`) is not written, whichever connection writes.
#[tokio::test]
async fn a_read_only_sqlite_url_writes_nothing() {
    let db = Db::sqlite().await;
    let store = seed(&db).await;
    let before = store.snapshot().await.unwrap().revision;
    let read_only = grantry_store::open(&format!("{}?mode=ro", db.url), key()).await.unwrap();
    let refused = read_only.commit(batch("o1", t(3), vec![Change::UserCreated { user: user("o1", "u2") }])).await;
    assert!(refused.is_err(), "a read-only store committed: {refused:?}");
    assert_eq!(store.snapshot().await.unwrap().revision, before, "nothing written");
}

#[tokio::test]
async fn a_version_1_sqlite_database_upgrades_and_keeps_its_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("v1.db").display());
    {
        // The database as version 1 left it, with three revisions of history.
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::raw_sql(include_str!("../migrations/sqlite/0001_init.sql")).execute(&pool).await.unwrap();
        sqlx::raw_sql("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY); INSERT INTO schema_migrations VALUES (1);")
            .execute(&pool)
            .await
            .unwrap();
        for r in 1..=3 {
            sqlx::query("INSERT INTO change_log (org_id, at_us, changes) VALUES ('o1', $1, '[]')").bind(r).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
    let store = grantry_store::SqlStore::open(&url, key(), grantry_store::Keying::ExistingKey).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), grantry_store::Backend::Sqlite.latest_version());
    let store: Arc<dyn Store> = Arc::new(store);
    assert_eq!(store.snapshot().await.unwrap().revision, 3);
    store.commit(batch("o1", t(0), vec![Change::OrgCreated { org: org("o1") }])).await.unwrap();
    let next = store.commit(batch("o1", t(1), vec![Change::UserCreated { user: user("o1", "u1") }])).await.unwrap();
    assert_eq!(next.revision, 5, "revisions continue after the upgrade");
}

#[tokio::test]
async fn postgres_hides_other_organizations_rows_from_any_query() {
    let Some(db) = Db::postgres().await else { return };
    let store = seed(&db).await;
    store
        .commit(batch("o2", t(1), vec![Change::OrgCreated { org: org("o2") }, Change::UserCreated { user: user("o2", "spy") }]))
        .await
        .unwrap();
    // A raw connection, as the same role the server uses (the tables' owner).
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await.unwrap() }
    };
    for table in ["orgs", "users", "grants", "audit_events", "change_log", "credentials", "resources", "scope_nodes", "api_keys"] {
        let sql: &'static str = Box::leak(format!("SELECT COUNT(*) FROM {table}").into_boxed_str());
        assert_eq!(count(sql).await, 0, "{table}: a query without the organization setting sees nothing");
    }
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SELECT set_config('grantry.org', 'o1', true)").execute(&mut *tx).await.unwrap();
    let emails: Vec<String> = sqlx::query_scalar("SELECT email FROM users ORDER BY email").fetch_all(&mut *tx).await.unwrap();
    assert_eq!(emails, ["u1@o1.test"], "a query that forgets its filter sees only its organization");
    let write = sqlx::query("INSERT INTO users (org_id, id, email, status, created_at_us) VALUES ('o2', 'x', 'x@o2.test', 'active', 0)")
        .execute(&mut *tx)
        .await;
    assert!(write.is_err(), "nor can it write into another organization");
}

async fn the_isolation_report_lists_every_organization_scoped_table(db: &Db) {
    let report = db.store.isolation_report().await.unwrap();
    let tables: Vec<&str> = report.tables.iter().map(|t| t.table.as_str()).collect();
    let expected = [
        "api_keys",
        "audit_checkpoints",
        "audit_events",
        "change_log",
        "credentials",
        "grants",
        "group_members",
        "groups",
        "orgs",
        "outbox",
        "resources",
        "scope_nodes",
        "users",
    ];
    assert_eq!(tables, expected);
    assert!(report.query_paths.violations.is_empty(), "{:?}", report.query_paths);
    match report.backend.as_str() {
        "postgres" => {
            assert!(report.in_force, "{report:?}");
            assert!(report.tables.iter().all(|t| t.rls_enabled && t.rls_forced && t.policy && t.in_force), "{report:?}");
        }
        _ => {
            assert!(report.in_force, "every query path checks out: {report:?}");
            assert!(report.tables.iter().all(|t| !t.rls_enabled), "SQLite claims no database-level isolation");
        }
    }
}

#[tokio::test]
async fn postgres_wakes_followers_on_commit() {
    let Some(db) = Db::postgres().await else { return };
    let store = seed(&db).await;
    let writer = grantry_store::open(&db.url, key()).await.unwrap();
    // The first wait connects the listener (and times out: nothing is committed meanwhile).
    store.wait_for_changes().await;
    let waiting = tokio::spawn({
        let store = store.clone();
        async move {
            let started = std::time::Instant::now();
            store.wait_for_changes().await;
            started.elapsed()
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    writer.commit(batch("o1", t(9), vec![Change::UserCreated { user: user("o1", "woken") }])).await.unwrap();
    let waited = waiting.await.unwrap();
    assert!(waited < std::time::Duration::from_millis(700), "woken by the commit, not by the 1 s fallback: {waited:?}");
}

async fn the_scope_tree_comes_back_in_the_snapshot(db: &Db) {
    let store = seed(db).await;
    let node = |id: &str, kind, slug: &str, parent| ScopeNode {
        id: grantry_core::ids::ScopeId::from(id),
        org: OrgId::from("o1"),
        kind,
        slug: slug.to_owned(),
        parent,
        is_production: false,
        created_at: t(5),
    };
    let ws = node("w1", ScopeKind::Workspace, "ml", ScopeRef::Org);
    let prj = node("p1", ScopeKind::Project, "agents", ScopeRef::Workspace(ws.id.clone()));
    let env = node("e1", ScopeKind::Environment, "prod", ScopeRef::Project(prj.id.clone()));
    let changes = vec![
        Change::ScopeNodeCreated { node: ws.clone() },
        Change::ScopeNodeCreated { node: prj.clone() },
        Change::ScopeNodeCreated { node: env.clone() },
    ];
    store.commit(batch("o1", t(5), changes)).await.unwrap();
    store
        .commit(batch(
            "o1",
            t(6),
            vec![Change::EnvironmentProductionSet { org: OrgId::from("o1"), id: env.id.clone(), is_production: true }],
        ))
        .await
        .unwrap();
    let twin = node("p2", ScopeKind::Project, "agents", ScopeRef::Workspace(ws.id.clone()));
    assert!(
        matches!(store.commit(batch("o1", t(7), vec![Change::ScopeNodeCreated { node: twin }])).await, Err(StoreError::Conflict(_))),
        "slugs are unique within their parent"
    );
    let snap = store.snapshot().await.unwrap();
    let mut prod = env;
    prod.is_production = true;
    for n in [ws, prj, prod] {
        assert!(snap.changes.contains(&Change::ScopeNodeCreated { node: n.clone() }), "snapshot lacks {n:?}");
    }
}

async fn keys_and_policies_come_back_in_the_snapshot(db: &Db) {
    let store = seed(db).await;
    let project = ScopeNode {
        id: grantry_core::ids::ScopeId::from("p1"),
        org: OrgId::from("o1"),
        kind: ScopeKind::Project,
        slug: "agents".to_owned(),
        parent: ScopeRef::Org,
        is_production: false,
        created_at: t(5),
    };
    let key = ApiKey {
        id: grantry_core::ids::ApiKeyId::from("k1"),
        org: OrgId::from("o1"),
        name: "prod reader".to_owned(),
        project: project.id.clone(),
        created_by: Actor::User(UserId::from("u1")),
        created_at: t(5),
        revoked_at: None,
        delegated_by: Some(UserId::from("u1")),
        expires_at: Some(t(50)),
    };
    let policy = Policy { audit_retention_days: 400, ..Policy::default() };
    let changes = vec![
        Change::ScopeNodeCreated { node: project },
        Change::ApiKeyCreated { key: key.clone() },
        Change::OrgPolicySet { org: OrgId::from("o1"), policy: policy.clone() },
    ];
    store.commit(batch("o1", t(5), changes)).await.unwrap();
    let revoke = || Change::ApiKeyRevoked { org: OrgId::from("o1"), id: key.id.clone(), at: t(6) };
    store.commit(batch("o1", t(6), vec![revoke()])).await.unwrap();
    assert!(matches!(store.commit(batch("o1", t(7), vec![revoke()])).await, Err(StoreError::Conflict(_))), "revoked once only");
    let snap = store.snapshot().await.unwrap();
    let revoked = ApiKey { revoked_at: Some(t(6)), ..key };
    assert!(snap.changes.contains(&Change::ApiKeyCreated { key: revoked }), "{:?}", snap.changes);
    let org = snap.changes.iter().find_map(|c| match c {
        Change::OrgCreated { org } if org.id == OrgId::from("o1") => Some(org.clone()),
        _ => None,
    });
    assert_eq!(org.unwrap().policy, policy);
}
