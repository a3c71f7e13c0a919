//! Cold start: the workload written through the store into a SQLite database, then loaded as
//! `grantry serve` loads it — the snapshot read, then the index built from it — and timed.

use crate::workload::Workload;
use grantry_core::audit::AuditKey;
use grantry_core::change::Change;
use grantry_core::ids::OrgId;
use grantry_core::index::DecisionIndex;
use grantry_core::Timestamp;
use grantry_store::WriteBatch;
use std::path::Path;
use std::time::Instant;

/// How many changes one commit of the import carries.
const CHUNK: usize = 5_000;

/// Writes the workload into `path` (unless it is there already), then loads it and prints the times.
pub fn measure(w: &Workload, path: &Path) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let url = format!("sqlite://{}", path.display());
        let key = AuditKey::from_bytes([7; 32]);
        if path.exists() {
            println!("cold start: loading the database already at {}", path.display());
        } else {
            let started = Instant::now();
            let store = grantry_store::open(&url, key.clone()).await?;
            let changes = crate::engines::grantry::changes(w);
            let org = OrgId(w.org.clone());
            let at = Timestamp::from_microsecond(crate::workload::T0)?;
            for chunk in changes.chunks(CHUNK) {
                let batch =
                    WriteBatch { org: org.clone(), at, changes: chunk.to_vec(), audit: Vec::new(), base_revision: None, outbox: vec![] };
                store.commit(batch).await?;
            }
            let grants = changes.iter().filter(|c| matches!(c, Change::GrantCreated { .. })).count();
            println!("cold start: wrote {grants} grants to {} in {:.1}s", path.display(), started.elapsed().as_secs_f64());
        }
        let store = grantry_store::open(&url, key.clone()).await?;
        let started = Instant::now();
        let snapshot = store.snapshot().await?;
        let read = started.elapsed();
        let mut index = DecisionIndex::default();
        index.apply_all(snapshot.revision, &snapshot.changes)?;
        index.shrink();
        let total = started.elapsed();
        println!(
            "cold start: {:.2}s to a ready index ({:.2}s reading the snapshot of {} changes, {:.2}s building the index)",
            total.as_secs_f64(),
            read.as_secs_f64(),
            snapshot.changes.len(),
            (total - read).as_secs_f64()
        );
        drop(index);
        drop(snapshot);
        // First from the tables (the saved index of an earlier run put aside), then from the index
        // that start saved.
        let mut saved = path.as_os_str().to_owned();
        saved.push(".index");
        match std::fs::remove_file(&saved) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        let started = Instant::now();
        let state = grantry_server::state::AppState::load(store).await?;
        println!(
            "cold start: AppState::load from the tables, as `grantry serve` first starts: {:.2}s (revision {})",
            started.elapsed().as_secs_f64(),
            state.revision()
        );
        let started = Instant::now();
        state.save_index().await?;
        let bytes = std::fs::metadata(&saved)?.len();
        println!("cold start: the index saved in {:.2}s ({:.0} MB)", started.elapsed().as_secs_f64(), bytes as f64 / 1e6);
        drop(state);
        let store = grantry_store::open(&url, key).await?;
        let started = Instant::now();
        let state = grantry_server::state::AppState::load(store).await?;
        anyhow::ensure!(state.loaded_from_saved(), "the saved index was not used");
        println!(
            "cold start: AppState::load from the saved index, as `grantry serve` starts again: {:.2}s (revision {})",
            started.elapsed().as_secs_f64(),
            state.revision()
        );
        Ok(())
    })
}
