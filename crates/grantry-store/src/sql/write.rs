//! Writing one batch inside a transaction: the change log entry, the state rows, and the audit
//! events chained (keyed with the audit key) onto the organization's last one, with the chain's
//! new head signed as the organization's checkpoint.

use super::queries as q;
use crate::error::{Result, StoreError};
use crate::rows::{change_entry, enum_text, json, micros};
use crate::traits::{Committed, WriteBatch};
use grantry_core::audit::{AuditDraft, AuditEvent, AuditKey, Checkpoint, GENESIS};
use grantry_core::change::Change;
use grantry_core::ids::OrgId;
use grantry_core::model::Principal;
use grantry_core::Timestamp;
use sqlx::{Any, Transaction};

type Tx<'a> = Transaction<'a, Any>;

pub(super) async fn commit(tx: &mut Tx<'_>, batch: WriteBatch, key: &AuditKey) -> Result<Committed> {
    // The revision counter goes first: every writer updates this one row, so writers are ordered
    // (on SQLite it also takes the write lock at once, so the transaction never upgrades from a
    // stale read), and revisions commit in order on every backend.
    // With a base revision, the counter moves only if nobody committed since the batch was
    // validated (on PostgreSQL a concurrent writer waits for this row and then finds it moved).
    let revision: i64 = match batch.base_revision {
        None => sqlx::query_scalar(q::NEXT_REVISION.sql).fetch_one(&mut **tx).await?,
        Some(base) => {
            let bound = i64::try_from(base).map_err(|_| StoreError::Corrupt(format!("revision {base} out of range")))?;
            let next: Option<i64> = sqlx::query_scalar(q::NEXT_REVISION_FROM.sql).bind(bound).fetch_optional(&mut **tx).await?;
            next.ok_or(StoreError::Stale { base })?
        }
    };
    sqlx::query(q::LOG_CHANGE.sql)
        .bind(revision)
        .bind(batch.org.as_str())
        .bind(micros(batch.at))
        .bind(change_entry(&batch.changes)?)
        .execute(&mut **tx)
        .await?;
    for change in &batch.changes {
        write_change(tx, change).await?;
    }
    // Only the batch that creates an organization begins a log; any other finding no log and no
    // checkpoint finds a log that was removed.
    let begins = batch.changes.iter().any(|c| matches!(c, Change::OrgCreated { org } if org.id == batch.org));
    let events = append_audit(tx, &batch.org, batch.at, batch.audit, key, begins).await?;
    let revision = u64::try_from(revision).map_err(|_| StoreError::Corrupt(format!("negative revision {revision}")))?;
    Ok(Committed { revision, events })
}

/// The text a principal is stored as (its display form, `user:ID`).
pub(crate) fn principal_key(p: &Principal) -> String {
    p.to_string()
}

async fn write_change(tx: &mut Tx<'_>, change: &Change) -> Result<()> {
    let affected = match change {
        Change::OrgCreated { org } => sqlx::query(q::INSERT_ORG.sql)
            .bind(org.id.as_str())
            .bind(&org.slug)
            .bind(&org.name)
            .bind(micros(org.created_at))
            .bind(json(&org.policy)?)
            .execute(&mut **tx)
            .await?
            .rows_affected(),
        Change::OrgPolicySet { org, policy } => {
            sqlx::query(q::SET_ORG_POLICY.sql).bind(json(policy)?).bind(org.as_str()).execute(&mut **tx).await?.rows_affected()
        }
        Change::ApiKeyCreated { key: k } => sqlx::query(q::INSERT_API_KEY.sql)
            .bind(k.org.as_str())
            .bind(k.id.as_str())
            .bind(&k.name)
            .bind(k.project.as_str())
            .bind(k.created_by.to_string())
            .bind(micros(k.created_at))
            .bind(k.revoked_at.map(micros))
            .execute(&mut **tx)
            .await?
            .rows_affected(),
        Change::ApiKeyRenamed { org, id, name } => {
            sqlx::query(q::RENAME_API_KEY.sql).bind(name).bind(org.as_str()).bind(id.as_str()).execute(&mut **tx).await?.rows_affected()
        }
        Change::ApiKeyRevoked { org, id, at } => stamp(tx, q::REVOKE_API_KEY.sql, *at, org, id.as_str()).await?,
        Change::ScopeNodeCreated { node: n } => sqlx::query(q::INSERT_SCOPE_NODE.sql)
            .bind(n.org.as_str())
            .bind(n.id.as_str())
            .bind(enum_text(&n.kind)?)
            .bind(&n.slug)
            .bind(json(&n.parent)?)
            .bind(i64::from(n.is_production))
            .bind(micros(n.created_at))
            .execute(&mut **tx)
            .await?
            .rows_affected(),
        Change::EnvironmentProductionSet { org, id, is_production } => sqlx::query(q::SET_ENVIRONMENT_PRODUCTION.sql)
            .bind(i64::from(*is_production))
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(&mut **tx)
            .await?
            .rows_affected(),
        Change::UserCreated { user } => sqlx::query(q::INSERT_USER.sql)
            .bind(user.org.as_str())
            .bind(user.id.as_str())
            .bind(&user.email)
            .bind(enum_text(&user.status)?)
            .bind(micros(user.created_at))
            .execute(&mut **tx)
            .await?
            .rows_affected(),
        Change::UserStatusChanged { org, user, status } => sqlx::query(q::SET_USER_STATUS.sql)
            .bind(enum_text(status)?)
            .bind(org.as_str())
            .bind(user.as_str())
            .execute(&mut **tx)
            .await?
            .rows_affected(),
        Change::UserDeleted { org, user } => {
            sqlx::query(q::DELETE_USER.sql).bind(org.as_str()).bind(user.as_str()).execute(&mut **tx).await?.rows_affected()
        }
        Change::CredentialIssued { credential: c } => sqlx::query(q::INSERT_CREDENTIAL.sql)
            .bind(c.id.as_str())
            .bind(c.org.as_str())
            .bind(principal_key(&c.principal))
            .bind(&c.secret_hash)
            .bind(micros(c.created_at))
            .bind(c.expires_at.map(micros))
            .bind(c.revoked_at.map(micros))
            .execute(&mut **tx)
            .await?
            .rows_affected(),
        Change::CredentialRevoked { org, id, at } => stamp(tx, q::REVOKE_CREDENTIAL.sql, *at, org, id.as_str()).await?,
        Change::ResourceRegistered { resource: r } => sqlx::query(q::INSERT_RESOURCE.sql)
            .bind(r.org.as_str())
            .bind(&r.reference.kind)
            .bind(&r.reference.id)
            .bind(r.parent.as_ref().map(json).transpose()?)
            .bind(json(&r.scope)?)
            .bind(json(&r.attributes)?)
            .bind(micros(r.created_at))
            .execute(&mut **tx)
            .await?
            .rows_affected(),
        Change::GrantCreated { grant: g } => sqlx::query(q::INSERT_GRANT.sql)
            .bind(g.org.as_str())
            .bind(g.id.as_str())
            .bind(principal_key(&g.principal))
            .bind(json(&g.target)?)
            .bind(json(&g.anchor)?)
            .bind(micros(g.starts_at))
            .bind(g.expires_at.map(micros))
            .bind(g.justification.as_deref())
            .bind(json(&g.tags)?)
            .bind(g.creator.to_string())
            .bind(enum_text(&g.source)?)
            .bind(micros(g.created_at))
            .bind(g.revoked.as_ref().map(|r| micros(r.at)))
            .bind(g.revoked.as_ref().map(|r| r.by.to_string()))
            .execute(&mut **tx)
            .await?
            .rows_affected(),
        Change::GrantRevoked { org, id, revocation } => sqlx::query(q::REVOKE_GRANT.sql)
            .bind(micros(revocation.at))
            .bind(revocation.by.to_string())
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(&mut **tx)
            .await?
            .rows_affected(),
        Change::GrantExpiryRecorded { org, id } => {
            sqlx::query(q::RECORD_EXPIRY.sql).bind(org.as_str()).bind(id.as_str()).execute(&mut **tx).await?.rows_affected()
        }
    };
    if affected == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!("the change {} found its record missing or already changed", change_kind(change))))
    }
}

/// Runs a statement that stamps a time on one record: `sql` binds the time, the organization and
/// the record's id, in that order. Returns the rows it changed.
async fn stamp(tx: &mut Tx<'_>, sql: &str, at: Timestamp, org: &OrgId, id: &str) -> Result<u64> {
    Ok(sqlx::query(sql).bind(micros(at)).bind(org.as_str()).bind(id).execute(&mut **tx).await?.rows_affected())
}

fn change_kind(change: &Change) -> String {
    serde_json::to_value(change).ok().and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned)).unwrap_or_default()
}

async fn append_audit(
    tx: &mut Tx<'_>,
    org: &OrgId,
    at: Timestamp,
    drafts: Vec<AuditDraft>,
    key: &AuditKey,
    begins: bool,
) -> Result<Vec<AuditEvent>> {
    if drafts.is_empty() {
        return Ok(vec![]);
    }
    let head: Option<(i64, String)> = sqlx::query_as(q::AUDIT_HEAD.sql).bind(org.as_str()).fetch_optional(&mut **tx).await?;
    require_signed_head(tx, org, head.as_ref(), key, begins).await?;
    let (mut seq, mut prev) = head.unwrap_or((0, GENESIS.to_owned()));
    let mut events = Vec::with_capacity(drafts.len());
    for d in drafts {
        seq += 1;
        let mut e = AuditEvent {
            org: org.clone(),
            seq,
            at: d.at.unwrap_or(at),
            actor: d.actor,
            event_type: d.event_type,
            target_type: d.target_type,
            target_id: d.target_id,
            principal: d.principal,
            before: d.before,
            after: d.after,
            justification: d.justification,
            request_id: d.request_id,
            prev_hash: prev,
            hash: String::new(),
        };
        e.hash = e.compute_hash(key);
        sqlx::query(q::INSERT_AUDIT_EVENT.sql)
            .bind(org.as_str())
            .bind(e.seq)
            .bind(micros(e.at))
            .bind(e.actor.to_string())
            .bind(&e.event_type)
            .bind(&e.target_type)
            .bind(&e.target_id)
            .bind(e.principal.as_deref())
            .bind(e.before.as_ref().map(json).transpose()?)
            .bind(e.after.as_ref().map(json).transpose()?)
            .bind(e.justification.as_deref())
            .bind(e.request_id.as_deref())
            .bind(&e.prev_hash)
            .bind(&e.hash)
            .execute(&mut **tx)
            .await?;
        prev = e.hash.clone();
        events.push(e);
    }
    if let Some(head) = events.last() {
        write_checkpoint(tx, &Checkpoint::sign(key, org, head.seq, &head.hash, at)).await?;
    }
    Ok(events)
}

/// Refuses to append to a log whose head is not the one its signed checkpoint records: chaining
/// onto a cut or rewritten tail (and signing it) would hide the cut. Nothing more is written to
/// that organization until the log is restored.
async fn require_signed_head(tx: &mut Tx<'_>, org: &OrgId, head: Option<&(i64, String)>, key: &AuditKey, begins: bool) -> Result<()> {
    let checkpoint = super::read::audit_checkpoint(tx, org).await?;
    let sound = match (head, &checkpoint) {
        (None, None) => begins,
        (Some((seq, hash)), Some(c)) => c.is_signed_by(key) && c.seq == *seq && &c.head_hash == hash,
        _ => false,
    };
    if sound {
        return Ok(());
    }
    tracing::error!(org = %org, "the audit log's head does not match its signed checkpoint: it was cut or rewritten; refusing to write to it");
    Err(StoreError::Corrupt(format!(
        "the audit log of organization `{org}` does not match its signed checkpoint; run `audit verify`, and restore the log (or, for chains written before audit keys, key them with `migrate --key-unkeyed-chains`)"
    )))
}

/// Replaces the organization's checkpoint with `c`.
pub(super) async fn write_checkpoint(tx: &mut Tx<'_>, c: &Checkpoint) -> Result<()> {
    sqlx::query(q::DELETE_AUDIT_CHECKPOINT.sql).bind(c.org.as_str()).execute(&mut **tx).await?;
    sqlx::query(q::INSERT_AUDIT_CHECKPOINT.sql)
        .bind(c.org.as_str())
        .bind(c.seq)
        .bind(&c.head_hash)
        .bind(micros(c.at))
        .bind(&c.key_id)
        .bind(&c.signature)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
