//! Writing batches inside a transaction: for each, the change log entry, the state rows, and the
//! audit events chained (keyed with the audit key) onto the organization's last one; once for the
//! whole transaction, each chain's new head signed as its organization's checkpoint.

use super::queries as q;
use super::{enter, Backend, Scope};
use crate::error::{Result, StoreError};
use crate::rows::{change_entry, enum_text, json, micros};
use crate::traits::{Committed, GroupFailure, WriteBatch};
use grantry_core::audit::{AuditDraft, AuditEvent, AuditKey, Checkpoint, GENESIS};
use grantry_core::change::Change;
use grantry_core::ids::OrgId;
use grantry_core::model::{Grant, Principal};
use grantry_core::Timestamp;
use sqlx::any::AnyArguments;
use sqlx::{Any, Transaction};
use std::collections::HashMap;

type Tx<'a> = Transaction<'a, Any>;
type Statement<'q> = sqlx::query::Query<'q, Any, AnyArguments<'q>>;

/// At most this many rows go in one insert (14 columns each: well under every backend's limit
/// on bound values).
const ROWS_PER_INSERT: usize = 256;

/// Commits `batches` in order: their revisions (consecutive) reserved with one statement, the
/// change-log entries, new grants and audit events of all of them inserted a table at a time, the
/// other changes in order between, and each audit chain's new head signed once. When a batch's
/// own statement fails, the failure names it.
pub(super) async fn commit_all(
    tx: &mut Tx<'_>,
    backend: Backend,
    batches: Vec<WriteBatch>,
    key: &AuditKey,
) -> std::result::Result<Vec<Committed>, GroupFailure> {
    let whole = |error: StoreError| GroupFailure { member: None, error };
    let Some(first) = batches.first() else { return Ok(vec![]) };
    let base = first.base_revision;
    let follows = batches.iter().enumerate().all(|(i, b)| match (base, b.base_revision) {
        (Some(base), Some(own)) => own == base + i as u64,
        (None, None) => true,
        _ => false,
    });
    if !follows {
        return Err(whole(StoreError::Corrupt("the batches of a group must be validated one after another".into())));
    }
    let first_revision = reserve(tx, base, batches.len()).await.map_err(whole)?;
    let mut w = Writes { tx, backend, key, rows: Rows::default(), heads: HashMap::new(), entered: None };
    let mut committed = Vec::with_capacity(batches.len());
    for (member, batch) in batches.into_iter().enumerate() {
        let revision = first_revision + member as i64;
        committed.push(w.batch(member, revision, batch).await?);
    }
    w.finish().await.map_err(whole)?;
    Ok(committed)
}

/// Moves the revision counter on by `n` and returns the first of the `n` revisions. With a base
/// revision, only if nobody committed since the first batch was validated (else
/// [`StoreError::Stale`]; on PostgreSQL a concurrent writer waits for this row, then finds it
/// moved). Every writer updates this one row first, so writers are ordered (on SQLite it also
/// takes the write lock at once, so the transaction never upgrades from a stale read), and
/// revisions commit in order on every backend.
async fn reserve(tx: &mut Tx<'_>, base: Option<u64>, n: usize) -> Result<i64> {
    let n = i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{n} batches in one group")))?;
    let last: i64 = match base {
        None => sqlx::query_scalar(q::NEXT_REVISIONS.sql).bind(n).fetch_one(&mut **tx).await?,
        Some(base) => {
            let bound = i64::try_from(base).map_err(|_| StoreError::Corrupt(format!("revision {base} out of range")))?;
            let next: Option<i64> = sqlx::query_scalar(q::NEXT_REVISIONS_FROM.sql).bind(n).bind(bound).fetch_optional(&mut **tx).await?;
            next.ok_or(StoreError::Stale { base })?
        }
    };
    Ok(last - n + 1)
}

/// A group being written.
struct Writes<'t, 'c> {
    tx: &'t mut Tx<'c>,
    backend: Backend,
    key: &'t AuditKey,
    rows: Rows,
    /// Where each organization's audit chain stands: read (and checked against its signed
    /// checkpoint) at the group's first event for it, signed when the group is written.
    heads: HashMap<OrgId, Head>,
    /// The organization the statements run for (PostgreSQL's row-level security checks it).
    entered: Option<OrgId>,
}

/// Rows waiting to be inserted a table at a time, all of the organization entered.
#[derive(Default)]
struct Rows {
    log: Vec<(i64, OrgId, i64, String)>,
    grants: Vec<Grant>,
    events: Vec<AuditEvent>,
}

/// Where one organization's chain stands within a group.
struct Head {
    seq: i64,
    hash: String,
    at: Timestamp,
}

impl Writes<'_, '_> {
    async fn batch(&mut self, member: usize, revision: i64, batch: WriteBatch) -> std::result::Result<Committed, GroupFailure> {
        let failed = |error: StoreError| GroupFailure { member: Some(member), error };
        let whole = |error: StoreError| GroupFailure { member: None, error };
        // Only the batch that creates an organization begins a log; any other finding no log and
        // no checkpoint finds a log that was removed.
        let begins = batch.changes.iter().any(|c| matches!(c, Change::OrgCreated { org } if org.id == batch.org));
        self.enter(&batch.org).await.map_err(whole)?;
        // The chain's head is read before this batch adds rows, so reading it writes nothing early.
        let head = if batch.audit.is_empty() { None } else { Some(self.head(&batch.org, batch.at, begins).await.map_err(failed)?) };
        self.rows.log.push((revision, batch.org.clone(), micros(batch.at), change_entry(&batch.changes).map_err(failed)?));
        for change in batch.changes {
            match change {
                Change::GrantCreated { grant } => self.rows.grants.push(grant),
                other => {
                    self.flush().await.map_err(whole)?;
                    write_change(self.tx, &other).await.map_err(failed)?;
                }
            }
        }
        let events = match head {
            Some(head) => self.append_audit(&batch.org, batch.at, batch.audit, head),
            None => vec![],
        };
        let revision = u64::try_from(revision).map_err(|_| failed(StoreError::Corrupt(format!("negative revision {revision}"))))?;
        Ok(Committed { revision, events })
    }

    /// Runs the next statements for `org`, once the rows of the organization before are written.
    async fn enter(&mut self, org: &OrgId) -> Result<()> {
        if self.entered.as_ref() != Some(org) {
            self.flush().await?;
            enter(self.tx, self.backend, Scope::Org(org)).await?;
            self.entered = Some(org.clone());
        }
        Ok(())
    }

    /// Inserts the rows waiting, a table at a time.
    async fn flush(&mut self) -> Result<()> {
        let rows = std::mem::take(&mut self.rows);
        insert(self.tx, &q::LOG_CHANGE, 4, &rows.log, |s, (revision, org, at, entry)| {
            Ok(s.bind(*revision).bind(org.as_str()).bind(*at).bind(entry.as_str()))
        })
        .await?;
        insert(self.tx, &q::INSERT_GRANT, 14, &rows.grants, bind_grant).await?;
        insert(self.tx, &q::INSERT_AUDIT_EVENT, 14, &rows.events, bind_event).await
    }

    /// Where `org`'s chain stands: as this group left it, or as stored (checked against its
    /// signed checkpoint).
    async fn head(&mut self, org: &OrgId, at: Timestamp, begins: bool) -> Result<Head> {
        if let Some(head) = self.heads.remove(org) {
            return Ok(head);
        }
        self.flush().await?;
        let head: Option<(i64, String)> = sqlx::query_as(q::AUDIT_HEAD.sql).bind(org.as_str()).fetch_optional(&mut **self.tx).await?;
        require_signed_head(self.tx, org, head.as_ref(), self.key, begins).await?;
        let (seq, hash) = head.unwrap_or((0, GENESIS.to_owned()));
        Ok(Head { seq, hash, at })
    }

    /// Chains `drafts` onto `org`'s audit log after `head`.
    fn append_audit(&mut self, org: &OrgId, at: Timestamp, drafts: Vec<AuditDraft>, head: Head) -> Vec<AuditEvent> {
        let (mut seq, mut prev) = (head.seq, head.hash);
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
            e.hash = e.compute_hash(self.key);
            prev = e.hash.clone();
            events.push(e);
        }
        self.rows.events.extend(events.iter().cloned());
        self.heads.insert(org.clone(), Head { seq, hash: prev, at });
        events
    }

    /// Writes what waits, and signs each chain's new head as its organization's checkpoint.
    async fn finish(mut self) -> Result<()> {
        self.flush().await?;
        for (org, head) in std::mem::take(&mut self.heads) {
            self.enter(&org).await?;
            write_checkpoint(self.tx, &Checkpoint::sign(self.key, &org, head.seq, &head.hash, head.at)).await?;
        }
        Ok(())
    }
}

/// Inserts `rows` with `query` (whose `VALUES` holds one row of `columns` placeholders) repeated
/// for as many rows as one statement takes; each row bound by `bind`.
async fn insert<'r, R: Sync>(
    tx: &mut Tx<'_>,
    query: &q::Query,
    columns: usize,
    rows: &'r [R],
    bind: impl for<'q> Fn(Statement<'q>, &'q R) -> Result<Statement<'q>>,
) -> Result<()> {
    let head = query.sql.split("VALUES").next().unwrap_or(query.sql);
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|r| {
                let cells: Vec<String> = (1..=columns).map(|c| format!("${}", r * columns + c)).collect();
                format!("({})", cells.join(", "))
            })
            .collect();
        let sql = format!("{head}VALUES {}", values.join(", "));
        let mut statement = sqlx::query(&sql);
        for row in chunk {
            statement = bind(statement, row)?;
        }
        let affected = statement.execute(&mut **tx).await?.rows_affected();
        if affected != chunk.len() as u64 {
            return Err(StoreError::Conflict(format!("{} wrote {affected} of {} rows", query.name, chunk.len())));
        }
    }
    Ok(())
}

fn bind_grant<'q>(s: Statement<'q>, g: &'q Grant) -> Result<Statement<'q>> {
    Ok(s.bind(g.org.as_str())
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
        .bind(g.revoked.as_ref().map(|r| r.by.to_string())))
}

fn bind_event<'q>(s: Statement<'q>, e: &'q AuditEvent) -> Result<Statement<'q>> {
    Ok(s.bind(e.org.as_str())
        .bind(e.seq)
        .bind(micros(e.at))
        .bind(e.actor.to_string())
        .bind(e.event_type.as_str())
        .bind(e.target_type.as_str())
        .bind(e.target_id.as_str())
        .bind(e.principal.as_deref())
        .bind(e.before.as_ref().map(json).transpose()?)
        .bind(e.after.as_ref().map(json).transpose()?)
        .bind(e.justification.as_deref())
        .bind(e.request_id.as_deref())
        .bind(e.prev_hash.as_str())
        .bind(e.hash.as_str()))
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
        Change::GrantCreated { grant } => {
            insert(tx, &q::INSERT_GRANT, 14, std::slice::from_ref(grant), bind_grant).await?;
            1
        }
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
    sqlx::query(q::PUT_AUDIT_CHECKPOINT.sql)
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
