//! The saved index: kept beside a SQLite file (PostgreSQL keeps none), and given back only when
//! the same build saved it, its seal opens with the installation's key, and the database still
//! holds the change it was saved at — not after an edit, nor from another database.

use super::{batch, org, t, user, Db};
use grantry_core::audit::AuditKey;
use grantry_core::change::Change;
use grantry_store::Store;
use std::path::PathBuf;
use std::sync::Arc;

const FORMAT: &str = "test build 1";

fn file(db: &Db) -> PathBuf {
    PathBuf::from(format!("{}.index", db.url.trim_start_matches("sqlite://")))
}

async fn body(store: &Arc<dyn Store>, format: &str) -> Option<(u64, Vec<u8>)> {
    store.saved_index(format).await.unwrap().map(|s| (s.revision, s.body().to_vec()))
}

/// A database of one organization with `users` users, at revision `users + 1`.
async fn other_db(users: usize) -> Db {
    let db = Db::sqlite().await;
    db.store.commit(batch("o9", t(0), vec![Change::OrgCreated { org: org("o9") }])).await.unwrap();
    for i in 0..users {
        db.store.commit(batch("o9", t(1), vec![Change::UserCreated { user: user("o9", &format!("x{i}")) }])).await.unwrap();
    }
    db
}

pub(super) async fn a_saved_index_comes_back_only_sealed_current_and_ours(db: &Db) {
    let store = super::seed(db).await;
    let revision = store.latest_revision().await.unwrap();
    let kept = store.save_index(FORMAT, revision, b"the index".to_vec()).await.unwrap();
    if db.url.starts_with("postgres") {
        assert!(!kept, "PostgreSQL keeps no saved index");
        assert!(store.saved_index(FORMAT).await.unwrap().is_none());
        return;
    }
    assert!(kept);
    assert_eq!(body(&store, FORMAT).await, Some((revision, b"the index".to_vec())));
    // Later changes are the change log's to replay: the index still comes back.
    store.commit(batch("o1", t(2), vec![Change::UserCreated { user: user("o1", "u2") }])).await.unwrap();
    assert_eq!(body(&store, FORMAT).await.map(|b| b.0), Some(revision));
    assert_eq!(body(&store, "another build").await, None, "another build's index is never decoded");
    assert!(store.save_index(FORMAT, 999, Vec::new()).await.is_err(), "no index is saved at a revision the log lacks");

    let original = std::fs::read(file(db)).unwrap();
    // A byte of the body changed, or the header's revision: the seal does not open.
    let mut edited = original.clone();
    *edited.last_mut().unwrap() ^= 1;
    std::fs::write(file(db), &edited).unwrap();
    assert_eq!(body(&store, FORMAT).await, None, "an edited body");
    let text = String::from_utf8_lossy(&original).replace(&format!("\"revision\":{revision}"), &format!("\"revision\":{}", revision + 1));
    std::fs::write(file(db), text.as_bytes()).unwrap();
    assert_eq!(body(&store, FORMAT).await, None, "an edited revision");
    std::fs::write(file(db), b"garbage").unwrap();
    assert_eq!(body(&store, FORMAT).await, None, "not a saved index at all");

    // Another database's index, sealed with the same key: at a revision this one lacks, or at
    // one where this database holds another change.
    for (users, why) in [(5, "a revision this database lacks"), (1, "another change at the same revision")] {
        let other = other_db(users).await;
        let at = other.store.latest_revision().await.unwrap();
        assert!(other.store.save_index(FORMAT, at, b"theirs".to_vec()).await.unwrap());
        std::fs::copy(file(&other), file(db)).unwrap();
        assert_eq!(body(&store, FORMAT).await, None, "{why}");
    }
    // The same database made by another installation (another audit key): the history matches,
    // the seal does not open.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let theirs = grantry_store::open(&url, AuditKey::from_bytes([1; 32])).await.unwrap();
    let elsewhere = Db { store: theirs, url, _dir: Some(dir) };
    super::seed(&elsewhere).await;
    std::fs::write(file(&elsewhere), &original).unwrap();
    assert_eq!(body(&elsewhere.store, FORMAT).await, None, "another installation's key");
    std::fs::write(file(db), &original).unwrap();
    assert!(body(&store, FORMAT).await.is_some(), "the untouched file still comes back");
}
