//! Writing a group of batches in one transaction, on any [`Db`]: the revisions reserved, each
//! organization's audit chain head read and checked against its signed checkpoint, then the
//! group **planned** — every statement, with the audit events chained (keyed with the audit key)
//! onto those heads — and run in order; last, each chain's new head signed as its organization's
//! checkpoint. Planning reads nothing, so the statements run back to back.

use super::queries as q;
use super::statement::{Arg, Db, Kind, Statement};
use crate::error::{Result, StoreError};
use crate::rows::{change_entry, enum_text, json, micros, timestamp};
use crate::traits::{Committed, GroupFailure, Notice, WriteBatch};
use grantry_core::audit::{AuditDraft, AuditEvent, AuditKey, Checkpoint, GENESIS};
use grantry_core::change::Change;
use grantry_core::ids::OrgId;
use grantry_core::model::{Grant, Principal};
use grantry_core::Timestamp;
use std::collections::HashMap;

/// At most this many rows go in one insert (14 columns each: well under every backend's limit
/// on bound values).
const ROWS_PER_INSERT: usize = 256;

fn whole(error: StoreError) -> GroupFailure {
    GroupFailure { member: None, error }
}

/// Commits `batches` in order on `db` (inside its transaction): their revisions (consecutive)
/// reserved with one statement, the change-log entries, new grants and audit events of all of
/// them inserted a table at a time, the other changes in order between, and each audit chain's
/// new head signed once. When a batch's own statement fails, the failure names it.
pub(super) async fn commit_all<D: Db>(
    db: &mut D,
    batches: Vec<WriteBatch>,
    key: &AuditKey,
) -> std::result::Result<Vec<Committed>, GroupFailure> {
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
    let first_revision = reserve(db, base, batches.len()).await.map_err(whole)?;
    let heads = read_heads(db, &batches, key).await?;
    let (steps, committed) = plan(batches, first_revision, heads, key)?;
    for step in &steps {
        step.run(db).await?;
    }
    Ok(committed)
}

/// Moves the revision counter on by `n` and returns the first of the `n` revisions. With a base
/// revision, only if nobody committed since the first batch was validated (else
/// [`StoreError::Stale`]; on PostgreSQL a concurrent writer waits for this row, then finds it
/// moved). Every writer updates this one row first, so writers are ordered (on SQLite it also
/// takes the write lock at once, so the transaction never upgrades from a stale read), and
/// revisions commit in order on every backend.
async fn reserve<D: Db>(db: &mut D, base: Option<u64>, n: usize) -> Result<i64> {
    let n = i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{n} batches in one group")))?;
    let statement = match base {
        None => Statement::new(q::NEXT_REVISIONS.sql, vec![n.into()]),
        Some(base) => {
            let bound = i64::try_from(base).map_err(|_| StoreError::Corrupt(format!("revision {base} out of range")))?;
            Statement::new(q::NEXT_REVISIONS_FROM.sql, vec![n.into(), bound.into()])
        }
    };
    match db.row(&statement, &[Kind::Int]).await? {
        Some(cells) => Ok(cells[0].int("the revision counter")? - n + 1),
        None => Err(match base {
            Some(base) => StoreError::Stale { base },
            None => StoreError::Corrupt("the revision counter is missing".into()),
        }),
    }
}

/// Where one organization's chain stands.
struct Head {
    seq: i64,
    hash: String,
    at: Timestamp,
}

/// Where the chain of each organization with events in `batches` stands, as stored and checked
/// against its signed checkpoint.
async fn read_heads<D: Db>(db: &mut D, batches: &[WriteBatch], key: &AuditKey) -> std::result::Result<HashMap<OrgId, Head>, GroupFailure> {
    let mut heads = HashMap::new();
    for (member, batch) in batches.iter().enumerate() {
        if batch.audit.is_empty() || heads.contains_key(&batch.org) {
            continue;
        }
        let failed = |error: StoreError| GroupFailure { member: Some(member), error };
        // Only the batch that creates an organization begins a log; any other finding no log and
        // no checkpoint finds a log that was removed.
        let begins = batch.changes.iter().any(|c| matches!(c, Change::OrgCreated { org } if org.id == batch.org));
        db.enter(&batch.org).await.map_err(whole)?;
        let head = match db.row(&Statement::new(q::AUDIT_HEAD.sql, vec![batch.org.as_str().into()]), &[Kind::Int, Kind::Text]).await {
            Ok(Some(mut cells)) => {
                let hash = cells.pop().map_or(Ok(String::new()), |h| h.text("the audit head's hash"));
                Some((cells[0].int("the audit head's sequence number").map_err(failed)?, hash.map_err(failed)?))
            }
            Ok(None) => None,
            Err(e) => return Err(failed(e)),
        };
        let checkpoint = audit_checkpoint(db, &batch.org).await.map_err(failed)?;
        require_signed_head(&batch.org, head.as_ref(), checkpoint.as_ref(), key, begins).map_err(failed)?;
        let (seq, hash) = head.unwrap_or((0, GENESIS.to_owned()));
        heads.insert(batch.org.clone(), Head { seq, hash, at: batch.at });
    }
    Ok(heads)
}

/// The organization's signed checkpoint, if it has one.
pub(super) async fn audit_checkpoint<D: Db>(db: &mut D, org: &OrgId) -> Result<Option<Checkpoint>> {
    use Kind::{Int, Text};
    let Some(cells) =
        db.row(&Statement::new(q::AUDIT_CHECKPOINT.sql, vec![org.as_str().into()]), &[Text, Int, Text, Int, Text, Text]).await?
    else {
        return Ok(None);
    };
    let [org, seq, head_hash, at, key_id, signature] =
        <[Arg; 6]>::try_from(cells).map_err(|_| StoreError::Corrupt("a checkpoint row".into()))?;
    Ok(Some(Checkpoint {
        org: OrgId(org.text("a checkpoint's organization")?),
        seq: seq.int("a checkpoint's sequence number")?,
        head_hash: head_hash.text("a checkpoint's head")?,
        at: timestamp(at.int("a checkpoint's time")?)?,
        key_id: key_id.text("a checkpoint's key")?,
        signature: signature.text("a checkpoint's signature")?,
    }))
}

/// Refuses to append to a log whose head is not the one its signed checkpoint records: chaining
/// onto a cut or rewritten tail (and signing it) would hide the cut. Nothing more is written to
/// that organization until the log is restored.
fn require_signed_head(
    org: &OrgId,
    head: Option<&(i64, String)>,
    checkpoint: Option<&Checkpoint>,
    key: &AuditKey,
    begins: bool,
) -> Result<()> {
    let sound = match (head, checkpoint) {
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

/// One statement of a planned group.
enum Step {
    /// The statements after this one are for this organization.
    Enter(OrgId),
    Run {
        statement: Statement,
        /// The query's name, for errors.
        name: &'static str,
        /// The rows it must change, if it must.
        rows: Option<u64>,
        /// The batch whose change it writes (`None`: rows of several, or the group's own).
        member: Option<usize>,
    },
}

impl Step {
    async fn run<D: Db>(&self, db: &mut D) -> std::result::Result<(), GroupFailure> {
        let (statement, name, rows, member) = match self {
            Self::Enter(org) => return db.enter(org).await.map_err(whole),
            Self::Run { statement, name, rows, member } => (statement, name, rows, *member),
        };
        let failed = |error: StoreError| GroupFailure { member, error };
        let affected = db.execute(statement).await.map_err(failed)?;
        match (rows, member) {
            (Some(n), _) if affected == *n => Ok(()),
            (None, _) => Ok(()),
            (Some(_), Some(_)) => {
                Err(failed(StoreError::Conflict(format!("the change ({name}) found its record missing or already changed"))))
            }
            (Some(n), None) => Err(failed(StoreError::Conflict(format!("{name} wrote {affected} of {n} rows")))),
        }
    }
}

/// Plans the group: its statements, and what each batch committed.
fn plan(
    batches: Vec<WriteBatch>,
    first_revision: i64,
    heads: HashMap<OrgId, Head>,
    key: &AuditKey,
) -> std::result::Result<(Vec<Step>, Vec<Committed>), GroupFailure> {
    let mut p = Planner { key, steps: Vec::new(), rows: Rows::default(), heads, entered: None };
    let mut committed = Vec::with_capacity(batches.len());
    for (member, batch) in batches.into_iter().enumerate() {
        let revision = first_revision + member as i64;
        committed.push(p.batch(member, revision, batch)?);
    }
    p.flush().map_err(whole)?;
    for (org, head) in std::mem::take(&mut p.heads) {
        p.enter(&org).map_err(whole)?;
        let c = Checkpoint::sign(key, &org, head.seq, &head.hash, head.at);
        p.steps.push(Step::Run { statement: checkpoint_statement(&c), name: q::PUT_AUDIT_CHECKPOINT.name, rows: None, member: None });
    }
    Ok((p.steps, committed))
}

/// A group being planned.
struct Planner<'k> {
    key: &'k AuditKey,
    steps: Vec<Step>,
    rows: Rows,
    /// Where each organization's audit chain stands: as read, then as this group leaves it.
    heads: HashMap<OrgId, Head>,
    /// The organization the statements run for.
    entered: Option<OrgId>,
}

/// Rows waiting to be inserted a table at a time, all of the organization entered.
#[derive(Default)]
struct Rows {
    log: Vec<(i64, OrgId, i64, String)>,
    grants: Vec<Grant>,
    events: Vec<AuditEvent>,
    /// Notifications, each with its organization and time.
    notices: Vec<(OrgId, i64, Notice)>,
}

impl Planner<'_> {
    fn batch(&mut self, member: usize, revision: i64, batch: WriteBatch) -> std::result::Result<Committed, GroupFailure> {
        let failed = |error: StoreError| GroupFailure { member: Some(member), error };
        self.enter(&batch.org).map_err(whole)?;
        self.rows.log.push((revision, batch.org.clone(), micros(batch.at), change_entry(&batch.changes).map_err(failed)?));
        for change in batch.changes {
            match change {
                Change::GrantCreated { grant } => self.rows.grants.push(grant),
                other => {
                    self.flush().map_err(whole)?;
                    let (query, args) = change_statement(&other).map_err(failed)?;
                    self.steps.push(Step::Run {
                        statement: Statement::new(query.sql, args),
                        name: query.name,
                        rows: Some(1),
                        member: Some(member),
                    });
                }
            }
        }
        let events = if batch.audit.is_empty() { vec![] } else { self.append_audit(&batch.org, batch.at, batch.audit).map_err(failed)? };
        let at = micros(batch.at);
        self.rows.notices.extend(batch.outbox.into_iter().map(|n| (batch.org.clone(), at, n)));
        let revision = u64::try_from(revision).map_err(|_| failed(StoreError::Corrupt(format!("negative revision {revision}"))))?;
        Ok(Committed { revision, events })
    }

    /// Runs the next statements for `org`, once the rows of the organization before are written.
    fn enter(&mut self, org: &OrgId) -> Result<()> {
        if self.entered.as_ref() != Some(org) {
            self.flush()?;
            self.steps.push(Step::Enter(org.clone()));
            self.entered = Some(org.clone());
        }
        Ok(())
    }

    /// Inserts the rows waiting, a table at a time.
    fn flush(&mut self) -> Result<()> {
        let rows = std::mem::take(&mut self.rows);
        let log = |(revision, org, at, entry): &(i64, OrgId, i64, String)| {
            Ok(vec![(*revision).into(), org.as_str().into(), (*at).into(), entry.into()])
        };
        self.insert(&q::LOG_CHANGE, 4, &rows.log, log)?;
        self.insert(&q::INSERT_GRANT, 14, &rows.grants, grant_args)?;
        self.insert(&q::INSERT_AUDIT_EVENT, 14, &rows.events, event_args)?;
        let notice = |(org, at, n): &(OrgId, i64, Notice)| {
            Ok(vec![
                org.as_str().into(),
                n.id.as_str().into(),
                n.webhook.as_str().into(),
                n.event_type.as_str().into(),
                n.payload.as_str().into(),
                (*at).into(),
                (*at).into(),
            ])
        };
        self.insert(&q::INSERT_NOTICE, 7, &rows.notices, notice)
    }

    /// Plans inserting `rows` with `query` (whose `VALUES` holds one row of `columns`
    /// placeholders) repeated for as many rows as one statement takes; each row's values from
    /// `args`.
    fn insert<R>(&mut self, query: &q::Query, columns: usize, rows: &[R], args: impl Fn(&R) -> Result<Vec<Arg>>) -> Result<()> {
        let head = query.sql.split("VALUES").next().unwrap_or(query.sql);
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|r| {
                    let cells: Vec<String> = (1..=columns).map(|c| format!("${}", r * columns + c)).collect();
                    format!("({})", cells.join(", "))
                })
                .collect();
            let mut bound = Vec::with_capacity(chunk.len() * columns);
            for row in chunk {
                bound.extend(args(row)?);
            }
            let statement = Statement::new(format!("{head}VALUES {}", values.join(", ")), bound);
            self.steps.push(Step::Run { statement, name: query.name, rows: Some(chunk.len() as u64), member: None });
        }
        Ok(())
    }

    /// Chains `drafts` onto `org`'s audit log after its head.
    fn append_audit(&mut self, org: &OrgId, at: Timestamp, drafts: Vec<AuditDraft>) -> Result<Vec<AuditEvent>> {
        let head = self.heads.remove(org).ok_or_else(|| StoreError::Corrupt(format!("the audit head of `{org}` was not read")))?;
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
        Ok(events)
    }
}

fn grant_args(g: &Grant) -> Result<Vec<Arg>> {
    Ok(vec![
        g.org.as_str().into(),
        g.id.as_str().into(),
        principal_key(&g.principal).into(),
        json(&g.target)?.into(),
        json(&g.anchor)?.into(),
        micros(g.starts_at).into(),
        g.expires_at.map(micros).into(),
        g.justification.as_deref().into(),
        json(&g.tags)?.into(),
        g.creator.to_string().into(),
        enum_text(&g.source)?.into(),
        micros(g.created_at).into(),
        g.revoked.as_ref().map(|r| micros(r.at)).into(),
        g.revoked.as_ref().map(|r| r.by.to_string()).into(),
    ])
}

fn event_args(e: &AuditEvent) -> Result<Vec<Arg>> {
    Ok(vec![
        e.org.as_str().into(),
        e.seq.into(),
        micros(e.at).into(),
        e.actor.to_string().into(),
        e.event_type.as_str().into(),
        e.target_type.as_str().into(),
        e.target_id.as_str().into(),
        e.principal.as_deref().into(),
        e.before.as_ref().map(json).transpose()?.into(),
        e.after.as_ref().map(json).transpose()?.into(),
        e.justification.as_deref().into(),
        e.request_id.as_deref().into(),
        e.prev_hash.as_str().into(),
        e.hash.as_str().into(),
    ])
}

/// The text a principal is stored as (its display form, `user:ID`).
pub(crate) fn principal_key(p: &Principal) -> String {
    p.to_string()
}

/// The statement that writes `change` (one row), and its arguments.
fn change_statement(change: &Change) -> Result<(&'static q::Query, Vec<Arg>)> {
    Ok(match change {
        Change::OrgCreated { org } => (
            &q::INSERT_ORG,
            vec![org.id.as_str().into(), (&org.slug).into(), (&org.name).into(), micros(org.created_at).into(), json(&org.policy)?.into()],
        ),
        Change::OrgPolicySet { org, policy } => (&q::SET_ORG_POLICY, vec![json(policy)?.into(), org.as_str().into()]),
        Change::ApiKeyCreated { key: k } => (
            &q::INSERT_API_KEY,
            vec![
                k.org.as_str().into(),
                k.id.as_str().into(),
                (&k.name).into(),
                k.project.as_str().into(),
                k.created_by.to_string().into(),
                micros(k.created_at).into(),
                k.revoked_at.map(micros).into(),
                k.delegated_by.as_ref().map(|u| u.as_str()).into(),
                k.expires_at.map(micros).into(),
            ],
        ),
        Change::ApiKeyRenamed { org, id, name } => (&q::RENAME_API_KEY, vec![name.into(), org.as_str().into(), id.as_str().into()]),
        Change::ApiKeyRevoked { org, id, at } => (&q::REVOKE_API_KEY, stamp(*at, org, id.as_str())),
        Change::ScopeNodeCreated { node: n } => (
            &q::INSERT_SCOPE_NODE,
            vec![
                n.org.as_str().into(),
                n.id.as_str().into(),
                enum_text(&n.kind)?.into(),
                (&n.slug).into(),
                json(&n.parent)?.into(),
                i64::from(n.is_production).into(),
                micros(n.created_at).into(),
            ],
        ),
        Change::EnvironmentProductionSet { org, id, is_production } => {
            (&q::SET_ENVIRONMENT_PRODUCTION, vec![i64::from(*is_production).into(), org.as_str().into(), id.as_str().into()])
        }
        Change::UserCreated { user } => (
            &q::INSERT_USER,
            vec![
                user.org.as_str().into(),
                user.id.as_str().into(),
                (&user.email).into(),
                enum_text(&user.status)?.into(),
                micros(user.created_at).into(),
            ],
        ),
        Change::UserStatusChanged { org, user, status } => {
            (&q::SET_USER_STATUS, vec![enum_text(status)?.into(), org.as_str().into(), user.as_str().into()])
        }
        Change::UserDeleted { org, user } => (&q::DELETE_USER, vec![org.as_str().into(), user.as_str().into()]),
        Change::CredentialIssued { credential: c } => (
            &q::INSERT_CREDENTIAL,
            vec![
                c.id.as_str().into(),
                c.org.as_str().into(),
                principal_key(&c.principal).into(),
                (&c.secret_hash).into(),
                micros(c.created_at).into(),
                c.expires_at.map(micros).into(),
                c.revoked_at.map(micros).into(),
                c.issued_by.as_ref().map(principal_key).into(),
                (!c.custody.is_empty()).then(|| json(&c.custody.iter().map(principal_key).collect::<Vec<_>>())).transpose()?.into(),
            ],
        ),
        Change::CredentialRevoked { org, id, at } => (&q::REVOKE_CREDENTIAL, stamp(*at, org, id.as_str())),
        Change::ResourceRegistered { resource: r } => (
            &q::INSERT_RESOURCE,
            vec![
                r.org.as_str().into(),
                (&r.reference.kind).into(),
                (&r.reference.id).into(),
                r.parent.as_ref().map(json).transpose()?.into(),
                json(&r.scope)?.into(),
                json(&r.attributes)?.into(),
                micros(r.created_at).into(),
            ],
        ),
        Change::ResourceUpdated { resource: r } => (
            &q::UPDATE_RESOURCE,
            vec![
                r.parent.as_ref().map(json).transpose()?.into(),
                json(&r.scope)?.into(),
                json(&r.attributes)?.into(),
                r.org.as_str().into(),
                (&r.reference.kind).into(),
                (&r.reference.id).into(),
            ],
        ),
        Change::ResourceRemoved { org, reference } => {
            (&q::DELETE_RESOURCE, vec![org.as_str().into(), (&reference.kind).into(), (&reference.id).into()])
        }
        Change::GrantCreated { grant } => (&q::INSERT_GRANT, grant_args(grant)?),
        Change::GrantRevoked { org, id, revocation } => (
            &q::REVOKE_GRANT,
            vec![micros(revocation.at).into(), revocation.by.to_string().into(), org.as_str().into(), id.as_str().into()],
        ),
        Change::GrantExtended { org, id, expires_at, .. } => {
            (&q::EXTEND_GRANT, vec![micros(*expires_at).into(), org.as_str().into(), id.as_str().into()])
        }
        Change::GrantExpiryRecorded { org, id } => (&q::RECORD_EXPIRY, vec![org.as_str().into(), id.as_str().into()]),
        Change::GroupCreated { group: g } => (
            &q::INSERT_GROUP,
            vec![
                g.org.as_str().into(),
                g.id.as_str().into(),
                (&g.name).into(),
                grantry_core::validate::name_key(&g.name).into(),
                (&g.description).into(),
                g.parent.as_ref().map(|p| p.as_str()).into(),
                enum_text(&g.status)?.into(),
                g.external_id.as_deref().into(),
                g.created_by.to_string().into(),
                micros(g.created_at).into(),
            ],
        ),
        Change::GroupUpdated { group: g } => (
            &q::UPDATE_GROUP,
            vec![
                (&g.name).into(),
                grantry_core::validate::name_key(&g.name).into(),
                (&g.description).into(),
                g.parent.as_ref().map(|p| p.as_str()).into(),
                enum_text(&g.status)?.into(),
                g.org.as_str().into(),
                g.id.as_str().into(),
            ],
        ),
        Change::GroupDeleted { org, id } => (&q::DELETE_GROUP, vec![org.as_str().into(), id.as_str().into()]),
        Change::GroupMemberSet { member: m } => (
            &q::SET_GROUP_MEMBER,
            vec![
                m.org.as_str().into(),
                m.group.as_str().into(),
                m.user.as_str().into(),
                enum_text(&m.role)?.into(),
                micros(m.added_at).into(),
                m.expires_at.map(micros).into(),
            ],
        ),
        Change::GroupMemberRemoved { org, group, user } => {
            (&q::REMOVE_GROUP_MEMBER, vec![org.as_str().into(), group.as_str().into(), user.as_str().into()])
        }
    })
}

/// The arguments of a statement that stamps a time on one record: the time, the organization
/// and the record's id, in that order.
fn stamp(at: Timestamp, org: &OrgId, id: &str) -> Vec<Arg> {
    vec![micros(at).into(), org.as_str().into(), id.into()]
}

/// The statement that replaces the organization's checkpoint with `c`.
pub(super) fn checkpoint_statement(c: &Checkpoint) -> Statement {
    Statement::new(
        q::PUT_AUDIT_CHECKPOINT.sql,
        vec![c.org.as_str().into(), c.seq.into(), (&c.head_hash).into(), micros(c.at).into(), (&c.key_id).into(), (&c.signature).into()],
    )
}
