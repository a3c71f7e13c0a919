//! Keying the chains written before the audit key existed (schema version 5), with a key made
//! for this database just now (never with one that existed before: someone with the database
//! could have forged unkeyed chains to have them signed). Each organization's chain is first
//! verified with the unkeyed SHA-256 it was written with; the sound part is re-hashed with the
//! key and the head signed, in the migration's own transaction, so it happens once, with the
//! schema change. Events from the first broken one on keep their old hashes, so `audit verify`
//! goes on naming the event where the chain broke.

use super::queries as q;
use super::read;
use super::statement::{Db, SqlxDb};
use super::write::{audit_checkpoint, checkpoint_statement};
use super::{Backend, Keying};
use crate::error::Result;
use crate::traits::AuditFilter;
use grantry_core::audit::{AuditKey, Checkpoint, GENESIS};
use grantry_core::ids::OrgId;
use sqlx::{Any, Row, Transaction};

/// The schema version whose migration keys the existing chains.
pub(super) const KEYED_CHAINS: i64 = 5;

pub(super) async fn key_existing_chains(tx: &mut Transaction<'_, Any>, backend: Backend, key: &AuditKey, keying: Keying) -> Result<()> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT set_config('grantry.scope', 'all', true)").execute(&mut **tx).await?;
    }
    let orgs = sqlx::query(q::SNAPSHOT_ORGS.sql).fetch_all(&mut **tx).await?;
    for row in orgs {
        let id = OrgId(row.try_get("id")?);
        let mut events = read::audit_events(tx, &id, &AuditFilter::default()).await?;
        if events.is_empty() || audit_checkpoint(&mut SqlxDb::new(&mut *tx, backend), &id).await?.is_some() {
            // Nothing to key, or keyed already.
            continue;
        }
        if keying == Keying::ExistingKey {
            // A key that existed before this version cannot have keyed these chains: whoever wrote
            // them unkeyed may be someone with the database, so they are not signed now.
            tracing::error!(org = %id, "unkeyed audit events found with an audit key that already existed; left unkeyed for `audit verify` to report");
            continue;
        }
        let mut prev = GENESIS.to_owned();
        let sound = events
            .iter()
            .enumerate()
            .take_while(|(i, e)| {
                let ok = usize::try_from(e.seq).ok() == Some(i + 1) && e.prev_hash == prev && e.legacy_hash() == e.hash;
                prev.clone_from(&e.hash);
                ok
            })
            .count();
        if sound < events.len() {
            tracing::warn!(org = %id, at = sound + 1, "the audit chain was already broken before keying; the rest is left for `audit verify` to report");
        }
        let mut prev = GENESIS.to_owned();
        for e in events.iter_mut().take(sound) {
            e.prev_hash.clone_from(&prev);
            e.hash = e.compute_hash(key);
            sqlx::query(q::REHASH_AUDIT_EVENT.sql)
                .bind(id.as_str())
                .bind(e.seq)
                .bind(&e.prev_hash)
                .bind(&e.hash)
                .execute(&mut **tx)
                .await?;
            prev.clone_from(&e.hash);
        }
        // The head is signed as it stands (broken or not), so new events can follow it and
        // `audit verify` goes on naming the break.
        if let Some(head) = events.last() {
            let c = Checkpoint::sign(key, &id, head.seq, &head.hash, head.at);
            SqlxDb::new(&mut *tx, backend).execute(&checkpoint_statement(&c)).await?;
        }
        tracing::info!(org = %id, events = sound, "keyed the audit chain");
    }
    Ok(())
}
