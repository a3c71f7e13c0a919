//! The audit log against someone who can write the database but does not hold the audit key:
//! every kind of tampering is detected, and the event named. And the chains written before the
//! key existed are keyed once, when the schema reaches version 5.

use super::{batch, key, org, t, user, verified, Db};
use grantry_core::audit::AuditDraft;
use grantry_core::audit::{AuditEvent, AuditKey, GENESIS};
use grantry_core::change::Change;
use grantry_core::ids::OrgId;
use grantry_core::model::Actor;
use grantry_store::{AuditFilter, Keying, SqlStore, Store, StoreError, WriteBatch};
use sqlx::Connection;
use std::sync::Arc;

/// A connection straight to the database, past the store (and, on PostgreSQL, past the
/// per-organization row-level security, as a table owner could).
async fn raw(db: &Db) -> sqlx::AnyConnection {
    let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    if db.url.starts_with("postgres") {
        sqlx::query("SELECT set_config('grantry.scope', 'all', false)").execute(&mut conn).await.unwrap();
    }
    conn
}

/// Runs the `;`-separated `sql`, binding the organization as `$1`.
async fn tamper(db: &Db, org: &str, sql: &str) {
    let mut conn = raw(db).await;
    for statement in sql.split(';').filter(|s| !s.trim().is_empty()) {
        sqlx::query(statement).bind(org).execute(&mut conn).await.unwrap();
    }
}

/// An organization `o` whose chain has six events.
async fn six_events(db: &Db, o: &str) {
    db.store.commit(batch(o, t(1), vec![Change::OrgCreated { org: org(o) }])).await.unwrap();
    for i in 0..5 {
        db.store.commit(batch(o, t(10 + i), vec![Change::UserCreated { user: user(o, &format!("{o}u{i}")) }])).await.unwrap();
    }
    assert_eq!(verified(&db.store, o).await, Ok(6));
}

pub(super) async fn every_kind_of_tampering_is_detected_and_named(db: &Db) {
    let cases: [(&str, &str, i64); 8] = [
        ("remove the whole log", "DELETE FROM audit_events WHERE org_id = $1; DELETE FROM audit_checkpoints WHERE org_id = $1", 1),
        ("edit", "UPDATE audit_events SET justification = 'nothing to see' WHERE org_id = $1 AND seq = 3", 3),
        ("delete in the middle", "DELETE FROM audit_events WHERE org_id = $1 AND seq = 3", 4),
        ("delete the last", "DELETE FROM audit_events WHERE org_id = $1 AND seq = 6", 6),
        ("truncate", "DELETE FROM audit_events WHERE org_id = $1 AND seq >= 3", 3),
        (
            "reorder",
            "UPDATE audit_events SET seq = 100 WHERE org_id = $1 AND seq = 2; UPDATE audit_events SET seq = 2 WHERE org_id = $1 AND seq = 3;
             UPDATE audit_events SET seq = 3 WHERE org_id = $1 AND seq = 100",
            2,
        ),
        ("remove the checkpoint", "DELETE FROM audit_checkpoints WHERE org_id = $1", 6),
        (
            "roll the checkpoint back over a cut tail",
            "UPDATE audit_checkpoints SET seq = 5 WHERE org_id = $1; DELETE FROM audit_events WHERE org_id = $1 AND seq = 6",
            5,
        ),
    ];
    for (i, (what, sql, seq)) in cases.iter().enumerate() {
        let o = format!("t{i}");
        six_events(db, &o).await;
        tamper(db, &o, sql).await;
        assert_eq!(verified(&db.store, &o).await, Err(*seq), "{what}");
        // The next write must not chain onto a cut tail and sign it: the cut would vanish.
        let next = WriteBatch { audit: vec![AuditDraft::new(&Actor::System, "x", "y", "z")], ..batch(&o, t(90), vec![]) };
        let head_moved =
            ["remove the whole log", "delete the last", "truncate", "remove the checkpoint", "roll the checkpoint back over a cut tail"];
        match db.store.commit(next).await {
            Err(StoreError::Corrupt(_)) => assert!(head_moved.contains(what), "{what}: refused although the head is intact"),
            Ok(_) => assert!(!head_moved.contains(what), "{what}: a write chained onto a tampered head"),
            Err(e) => unreachable!("{what}: {e}"),
        }
        assert_eq!(verified(&db.store, &o).await, Err(*seq), "{what}, after the next write");
    }

    // Edited, then re-hashed with the plain SHA-256 chain the log used to carry.
    six_events(db, "rehash").await;
    let mut events = db.store.audit_events(&OrgId::from("rehash"), AuditFilter::default()).await.unwrap();
    events[2].target_id = "forged".into();
    rehash_plain(&mut events);
    let mut conn = raw(db).await;
    for e in &events {
        sqlx::query("UPDATE audit_events SET target_id = $1, prev_hash = $2, hash = $3 WHERE org_id = 'rehash' AND seq = $4")
            .bind(&e.target_id)
            .bind(&e.prev_hash)
            .bind(&e.hash)
            .bind(e.seq)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    assert_eq!(verified(&db.store, "rehash").await, Err(1), "a chain recomputed without the key");

    // A digest taken earlier proves the log; another key verifies nothing.
    six_events(db, "digest").await;
    let digest = db.store.verify_audit(&OrgId::from("digest"), None).await.unwrap().head.unwrap();
    assert_eq!(digest.seq, 6);
    let checked = db.store.verify_audit(&OrgId::from("digest"), Some(&digest)).await.unwrap();
    assert_eq!(checked.broken_at, None);
    let other_key = grantry_store::open(&db.url, AuditKey::from_bytes([9; 32])).await.unwrap();
    let v = other_key.verify_audit(&OrgId::from("digest"), None).await.unwrap();
    assert_eq!(v.broken_at.map(|b| b.seq), Some(1), "another key verifies nothing");
}

/// Rewrites `events` as the unkeyed SHA-256 chain.
fn rehash_plain(events: &mut [AuditEvent]) {
    let mut prev = GENESIS.to_owned();
    for e in events {
        e.prev_hash.clone_from(&prev);
        e.hash = e.legacy_hash();
        prev.clone_from(&e.hash);
    }
}

/// A database as version 4 left it: chains hashed with plain SHA-256, `sound` and `broken`.
async fn version_4_database(url: &str) {
    {
        // The database as version 4 left it: chains hashed with plain SHA-256, one of them broken.
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::raw_sql("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)").execute(&pool).await.unwrap();
        for (v, sql) in [
            (1, include_str!("../../migrations/sqlite/0001_init.sql")),
            (2, include_str!("../../migrations/sqlite/0002_revision_counter.sql")),
            (3, include_str!("../../migrations/sqlite/0003_scope_nodes.sql")),
            (4, include_str!("../../migrations/sqlite/0004_api_keys.sql")),
        ] {
            sqlx::raw_sql(sql).execute(&pool).await.unwrap();
            sqlx::query("INSERT INTO schema_migrations VALUES ($1)").bind(v).execute(&pool).await.unwrap();
        }
        for o in ["sound", "broken"] {
            sqlx::query("INSERT INTO orgs (id, slug, name, created_at_us, policy) VALUES ($1, $1, $1, 0, '{}')")
                .bind(o)
                .execute(&pool)
                .await
                .unwrap();
            let mut events: Vec<AuditEvent> = (1..=3).map(|seq| legacy_event(o, seq)).collect();
            rehash_plain(&mut events);
            if o == "broken" {
                events[1].justification = Some("edited while unkeyed".into());
            }
            for e in &events {
                sqlx::query(
                    "INSERT INTO audit_events (org_id, seq, at_us, actor, event_type, target_type, target_id, justification, prev_hash, hash)
                     VALUES ($1, $2, $3, 'system', $4, $5, $6, $7, $8, $9)",
                )
                .bind(o)
                .bind(e.seq)
                .bind(e.at.as_microsecond())
                .bind(&e.event_type)
                .bind(&e.target_type)
                .bind(&e.target_id)
                .bind(&e.justification)
                .bind(&e.prev_hash)
                .bind(&e.hash)
                .execute(&pool)
                .await
                .unwrap();
            }
        }
        pool.close().await;
    }
}

#[tokio::test]
async fn a_version_4_database_has_its_chains_keyed_once_by_a_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("v4.db").display());
    version_4_database(&url).await;
    let store: Arc<dyn Store> = Arc::new(SqlStore::open(&url, key(), Keying::NewKey).await.unwrap());
    assert_eq!(verified(&store, "sound").await, Ok(3), "a sound chain is keyed and checkpointed");
    assert_eq!(verified(&store, "broken").await, Err(2), "a chain broken before keying still names its event");
    store.commit(batch("broken", t(50), vec![])).await.unwrap();
    drop(store);
    let again = grantry_store::open(&url, key()).await.unwrap();
    assert_eq!(verified(&again, "sound").await, Ok(3), "reopening keys nothing twice");
    let other = SqlStore::open(&url, AuditKey::from_bytes([5; 32]), Keying::NewKey).await.err().unwrap().to_string();
    assert!(other.contains("keyed with another audit key"), "a new key for a keyed log is refused: {other}");
}

#[tokio::test]
async fn unkeyed_chains_are_never_signed_with_a_key_that_existed_before() {
    // Someone with the database resets it to version 4 and writes an unkeyed chain: a server
    // holding the installation's key does not sign it.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("forged.db").display());
    version_4_database(&url).await;
    let store = grantry_store::open(&url, key()).await.unwrap();
    assert_eq!(verified(&store, "sound").await, Err(1));
    let refused =
        store.commit(WriteBatch { audit: vec![AuditDraft::new(&Actor::System, "x", "y", "z")], ..batch("sound", t(60), vec![]) }).await;
    assert!(matches!(refused, Err(StoreError::Corrupt(_))), "nothing is chained onto an unsigned head: {refused:?}");
    // The operator, vouching for the old chains, keys them.
    SqlStore::open(&url, key(), Keying::ExistingKey).await.unwrap().key_unkeyed_chains().await.unwrap();
    assert_eq!(verified(&store, "sound").await, Ok(3));
}

fn legacy_event(org: &str, seq: i64) -> AuditEvent {
    AuditEvent {
        org: OrgId::from(org),
        seq,
        at: t(seq),
        actor: grantry_core::model::Actor::System,
        event_type: "user.created".into(),
        target_type: "user".into(),
        target_id: format!("u{seq}"),
        principal: None,
        before: None,
        after: None,
        justification: Some("onboarding ticket #7".into()),
        request_id: None,
        prev_hash: String::new(),
        hash: String::new(),
    }
}
