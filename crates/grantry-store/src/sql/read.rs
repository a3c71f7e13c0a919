//! Reading: the snapshot that builds the decision index, the audit log with its filters, and the
//! expiries still to record.

use super::queries as q;
use super::statement::{bound, Arg, Statement};
use crate::error::{Result, StoreError};
use crate::rows::{from_json, micros, opt_timestamp, read_change_entry, text_enum, timestamp};
use crate::traits::{AuditFilter, DueExpiry, GrantFilter, GrantState, LoggedChange, Snapshot};
use grantry_core::audit::AuditEvent;
use grantry_core::change::Change;
use grantry_core::ids::{ApiKeyId, GrantId, GroupId, OrgId, ScopeId, TokenId, UserId};
use grantry_core::model::{ApiKey, Credential, Grant, Group, GroupMember, Org, Resource, ResourceRef, Revocation, ScopeNode, User};
use grantry_core::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

fn parse<T: std::str::FromStr<Err = String>>(text: &str) -> Result<T> {
    text.parse().map_err(StoreError::Corrupt)
}

/// Everything of the snapshot but the live grants (see `live_grants`).
pub(super) async fn snapshot(tx: &mut Transaction<'_, Any>) -> Result<Snapshot> {
    let revision: i64 = sqlx::query_scalar(q::SNAPSHOT_REVISION.sql).fetch_one(&mut **tx).await?;
    let mut changes = Vec::new();
    for r in sqlx::query(q::SNAPSHOT_ORGS.sql).fetch_all(&mut **tx).await? {
        let org = Org {
            id: OrgId(r.try_get("id")?),
            slug: r.try_get("slug")?,
            name: r.try_get("name")?,
            created_at: timestamp(r.try_get("created_at_us")?)?,
            policy: from_json(r.try_get("policy")?)?,
        };
        changes.push(Change::OrgCreated { org });
    }
    for r in sqlx::query(q::SNAPSHOT_SCOPES.sql).fetch_all(&mut **tx).await? {
        let is_production: i64 = r.try_get("is_production")?;
        let node = ScopeNode {
            id: ScopeId(r.try_get("id")?),
            org: OrgId(r.try_get("org_id")?),
            kind: text_enum(r.try_get("kind")?)?,
            slug: r.try_get("slug")?,
            parent: from_json(r.try_get("parent")?)?,
            is_production: is_production != 0,
            created_at: timestamp(r.try_get("created_at_us")?)?,
        };
        changes.push(Change::ScopeNodeCreated { node });
    }
    for r in sqlx::query(q::SNAPSHOT_API_KEYS.sql).fetch_all(&mut **tx).await? {
        let key = ApiKey {
            id: ApiKeyId(r.try_get("id")?),
            org: OrgId(r.try_get("org_id")?),
            name: r.try_get("name")?,
            project: ScopeId(r.try_get("project_id")?),
            created_by: parse(r.try_get("created_by")?)?,
            created_at: timestamp(r.try_get("created_at_us")?)?,
            revoked_at: opt_timestamp(r.try_get("revoked_at_us")?)?,
            delegated_by: r.try_get::<Option<String>, _>("delegated_by")?.map(UserId),
            expires_at: opt_timestamp(r.try_get("expires_at_us")?)?,
        };
        changes.push(Change::ApiKeyCreated { key });
    }
    for r in sqlx::query(q::SNAPSHOT_USERS.sql).fetch_all(&mut **tx).await? {
        let user = User {
            id: UserId(r.try_get("id")?),
            org: OrgId(r.try_get("org_id")?),
            email: r.try_get("email")?,
            status: text_enum(r.try_get("status")?)?,
            created_at: timestamp(r.try_get("created_at_us")?)?,
        };
        changes.push(Change::UserCreated { user });
    }
    for r in sqlx::query(q::SNAPSHOT_CREDENTIALS.sql).fetch_all(&mut **tx).await? {
        let credential = Credential {
            id: TokenId(r.try_get("id")?),
            org: OrgId(r.try_get("org_id")?),
            principal: parse(r.try_get("principal")?)?,
            secret_hash: r.try_get("secret_hash")?,
            created_at: timestamp(r.try_get("created_at_us")?)?,
            expires_at: opt_timestamp(r.try_get("expires_at_us")?)?,
            revoked_at: opt_timestamp(r.try_get("revoked_at_us")?)?,
            issued_by: r.try_get::<Option<String>, _>("issued_by")?.as_deref().map(parse).transpose()?,
            custody: match r.try_get::<Option<String>, _>("custody")? {
                None => vec![],
                Some(text) => from_json::<Vec<String>>(&text)?.iter().map(|p| parse(p)).collect::<Result<_>>()?,
            },
        };
        changes.push(Change::CredentialIssued { credential });
    }
    for r in sqlx::query(q::SNAPSHOT_RESOURCES.sql).fetch_all(&mut **tx).await? {
        let parent: Option<String> = r.try_get("parent")?;
        let resource = Resource {
            org: OrgId(r.try_get("org_id")?),
            reference: ResourceRef::new(r.try_get::<String, _>("kind")?, r.try_get::<String, _>("id")?),
            parent: parent.as_deref().map(from_json).transpose()?,
            scope: from_json(r.try_get("scope")?)?,
            attributes: from_json(r.try_get("attributes")?)?,
            created_at: timestamp(r.try_get("created_at_us")?)?,
        };
        changes.push(Change::ResourceRegistered { resource });
    }
    for r in sqlx::query(q::SNAPSHOT_GROUPS.sql).fetch_all(&mut **tx).await? {
        let parent: Option<String> = r.try_get("parent_id")?;
        let group = Group {
            id: GroupId(r.try_get("id")?),
            org: OrgId(r.try_get("org_id")?),
            name: r.try_get("name")?,
            description: r.try_get("description")?,
            parent: parent.map(GroupId),
            status: text_enum(r.try_get("status")?)?,
            external_id: r.try_get("external_id")?,
            created_by: parse(r.try_get("created_by")?)?,
            created_at: timestamp(r.try_get("created_at_us")?)?,
        };
        changes.push(Change::GroupCreated { group });
    }
    for r in sqlx::query(q::SNAPSHOT_GROUP_MEMBERS.sql).fetch_all(&mut **tx).await? {
        let member = GroupMember {
            org: OrgId(r.try_get("org_id")?),
            group: GroupId(r.try_get("group_id")?),
            user: UserId(r.try_get("user_id")?),
            role: text_enum(r.try_get("role")?)?,
            added_at: timestamp(r.try_get("added_at_us")?)?,
            expires_at: opt_timestamp(r.try_get("expires_at_us")?)?,
        };
        changes.push(Change::GroupMemberSet { member });
    }
    let revision = u64::try_from(revision).map_err(|_| StoreError::Corrupt(format!("negative revision {revision}")))?;
    Ok(Snapshot { revision, changes })
}

fn grant_row(r: &AnyRow) -> Result<Grant> {
    let revoked_by: Option<String> = r.try_get("revoked_by")?;
    let revoked = match (opt_timestamp(r.try_get("revoked_at_us")?)?, revoked_by) {
        (Some(at), Some(by)) => Some(Revocation { at, by: parse(&by)? }),
        _ => None,
    };
    Ok(Grant {
        id: GrantId(r.try_get("id")?),
        org: OrgId(r.try_get("org_id")?),
        principal: parse(r.try_get("principal")?)?,
        target: from_json(r.try_get("target")?)?,
        anchor: from_json(r.try_get("anchor")?)?,
        starts_at: timestamp(r.try_get("starts_at_us")?)?,
        expires_at: opt_timestamp(r.try_get("expires_at_us")?)?,
        justification: r.try_get("justification")?,
        tags: from_json(r.try_get("tags")?)?,
        creator: parse(r.try_get("creator")?)?,
        source: text_enum(r.try_get("source")?)?,
        created_at: timestamp(r.try_get("created_at_us")?)?,
        revoked,
    })
}

pub(super) async fn changes_since(tx: &mut Transaction<'_, Any>, revision: u64, limit: u32) -> Result<Vec<LoggedChange>> {
    let after = i64::try_from(revision).map_err(|_| StoreError::Corrupt(format!("revision {revision} out of range")))?;
    let rows = sqlx::query(q::CHANGES_SINCE.sql).bind(after).bind(i64::from(limit)).fetch_all(&mut **tx).await?;
    rows.iter()
        .map(|r| {
            let revision: i64 = r.try_get("revision")?;
            Ok(LoggedChange {
                revision: u64::try_from(revision).map_err(|_| StoreError::Corrupt(format!("negative revision {revision}")))?,
                org: OrgId(r.try_get("org_id")?),
                changes: read_change_entry(r.try_get("changes")?)?,
            })
        })
        .collect()
}

pub(super) async fn unrecorded_expiries(tx: &mut Transaction<'_, Any>, now: Timestamp) -> Result<Vec<DueExpiry>> {
    let rows = sqlx::query(q::EXPIRIES_DUE.sql).bind(micros(now)).fetch_all(&mut **tx).await?;
    rows.iter().map(|r| Ok(DueExpiry { org: OrgId(r.try_get("org_id")?), grant: grant_row(r)? })).collect()
}

pub(super) async fn grants(tx: &mut Transaction<'_, Any>, org: &OrgId, f: &GrantFilter) -> Result<Vec<Grant>> {
    let mut sql = String::from(q::GRANTS.sql);
    let principal = f.principal.as_ref().map(ToString::to_string);
    let mut args = vec![Arg::from(org.as_str())];
    for (clause, arg) in [("id =", f.id.as_ref().map(|id| Arg::from(id.as_str()))), ("principal =", principal.as_deref().map(Arg::from))] {
        if let Some(arg) = arg {
            args.push(arg);
            sql.push_str(&format!(" AND {clause} ${}", args.len()));
        }
    }
    if f.temporary {
        sql.push_str(" AND expires_at_us IS NOT NULL");
    }
    sql.push_str(match f.state {
        None => " ORDER BY created_at_us, id",
        Some(GrantState::Live) => " AND revoked_at_us IS NULL AND expiry_recorded = 0 ORDER BY created_at_us, id",
        Some(GrantState::Ended) => {
            " AND (revoked_at_us IS NOT NULL OR expiry_recorded <> 0) ORDER BY COALESCE(revoked_at_us, expires_at_us) DESC, id"
        }
    });
    if let Some(limit) = f.limit {
        args.push(Arg::from(i64::from(limit)));
        sql.push_str(&format!(" LIMIT ${}", args.len()));
    }
    bound(&Statement::new(sql, args)).fetch_all(&mut **tx).await?.iter().map(grant_row).collect()
}

pub(super) async fn audit_events(tx: &mut Transaction<'_, Any>, org: &OrgId, f: &AuditFilter) -> Result<Vec<AuditEvent>> {
    // Placeholders are numbered `$n`, which both backends accept (sqlx's `QueryBuilder<Any>`
    // writes `?`, which PostgreSQL does not).
    let mut sql = String::from(q::AUDIT_EVENTS.sql);
    let mut args = vec![Arg::from(org.as_str())];
    let filters: [(&str, Option<Arg>); 8] = [
        ("event_type =", f.event_type.as_deref().map(Arg::from)),
        ("actor =", f.actor.as_deref().map(Arg::from)),
        ("principal =", f.principal.as_deref().map(Arg::from)),
        ("target_type =", f.target_type.as_deref().map(Arg::from)),
        ("target_id =", f.target_id.as_deref().map(Arg::from)),
        ("at_us >=", f.since.map(|t| Arg::from(micros(t)))),
        ("at_us <", f.until.map(|t| Arg::from(micros(t)))),
        ("seq >", f.after_seq.map(Arg::from)),
    ];
    for (clause, arg) in filters {
        if let Some(arg) = arg {
            args.push(arg);
            sql.push_str(&format!(" AND {clause} ${}", args.len()));
        }
    }
    if !f.target_ids.is_empty() {
        let mut placeholders = Vec::new();
        for id in &f.target_ids {
            args.push(Arg::from(id));
            placeholders.push(format!("${}", args.len()));
        }
        sql.push_str(&format!(" AND target_id IN ({})", placeholders.join(", ")));
    }
    if let Some((kind, id)) = f.entity.as_deref().and_then(|e| e.split_once(':')) {
        let n = args.len();
        args.extend([Arg::from(kind), Arg::from(id), Arg::from(f.entity.as_deref())]);
        sql.push_str(&format!(" AND ((target_type = ${} AND target_id = ${}) OR principal = ${})", n + 1, n + 2, n + 3));
    }
    sql.push_str(" ORDER BY seq");
    if let Some(limit) = f.limit {
        args.push(Arg::from(i64::from(limit)));
        sql.push_str(&format!(" LIMIT ${}", args.len()));
    }
    bound(&Statement::new(sql, args)).fetch_all(&mut **tx).await?.iter().map(audit_row).collect()
}

fn audit_row(r: &AnyRow) -> Result<AuditEvent> {
    let before: Option<String> = r.try_get("before_state")?;
    let after: Option<String> = r.try_get("after_state")?;
    Ok(AuditEvent {
        org: OrgId(r.try_get("org_id")?),
        seq: r.try_get("seq")?,
        at: timestamp(r.try_get("at_us")?)?,
        actor: parse(r.try_get("actor")?)?,
        event_type: r.try_get("event_type")?,
        target_type: r.try_get("target_type")?,
        target_id: r.try_get("target_id")?,
        principal: r.try_get("principal")?,
        before: before.as_deref().map(from_json).transpose()?,
        after: after.as_deref().map(from_json).transpose()?,
        justification: r.try_get("justification")?,
        request_id: r.try_get("request_id")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}
