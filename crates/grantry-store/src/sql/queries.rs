//! Every statement the store runs, in one place, each declaring how it reaches organizations'
//! rows: **org** statements bind the transaction's organization (`org_id = $n`, or the column in
//! an INSERT); **system** statements are read-only reads across organizations (loading the index,
//! following the change log, finding due expiries); **global** statements touch no
//! organization-scoped table. [`check_paths`] verifies every declaration against the SQL itself —
//! the query-path half of the isolation report, and the only isolation SQLite has.

use crate::traits::QueryPaths;

/// How a statement reaches organizations' rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Org,
    System,
    Global,
}

/// One statement of the store.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Query {
    pub name: &'static str,
    pub access: Access,
    pub sql: &'static str,
}

/// The organization-scoped tables, and the column that names the organization in each.
pub(crate) const ORG_TABLES: [(&str, &str); 13] = [
    ("orgs", "id"),
    ("scope_nodes", "org_id"),
    ("api_keys", "org_id"),
    ("users", "org_id"),
    ("credentials", "org_id"),
    ("resources", "org_id"),
    ("grants", "org_id"),
    ("audit_events", "org_id"),
    ("audit_checkpoints", "org_id"),
    ("change_log", "org_id"),
    ("groups", "org_id"),
    ("group_members", "org_id"),
    ("outbox", "org_id"),
];

pub(crate) const SNAPSHOT_REVISION: Query =
    Query { name: "snapshot_revision", access: Access::System, sql: "SELECT COALESCE(MAX(revision), 0) FROM change_log" };

pub(crate) const SNAPSHOT_ORGS: Query =
    Query { name: "snapshot_orgs", access: Access::System, sql: "SELECT * FROM orgs ORDER BY created_at_us, id" };

pub(crate) const SNAPSHOT_USERS: Query =
    Query { name: "snapshot_users", access: Access::System, sql: "SELECT * FROM users ORDER BY created_at_us, id" };

pub(crate) const SNAPSHOT_CREDENTIALS: Query =
    Query { name: "snapshot_credentials", access: Access::System, sql: "SELECT * FROM credentials ORDER BY created_at_us, id" };

pub(crate) const SNAPSHOT_RESOURCES: Query =
    Query { name: "snapshot_resources", access: Access::System, sql: "SELECT * FROM resources ORDER BY created_at_us, kind, id" };

/// Live grants only, and only their terms: the index holds nothing else (a revoked grant, or one
/// whose expiry is recorded, has left it by the same change; justifications, tags and creators
/// are read from the records when needed).
pub(crate) const SNAPSHOT_GRANTS: Query = Query {
    name: "snapshot_grants",
    access: Access::System,
    sql: "SELECT org_id, id, principal, target, anchor, starts_at_us, expires_at_us, created_at_us FROM grants
         WHERE revoked_at_us IS NULL AND expiry_recorded = 0 ORDER BY created_at_us, id",
};

/// The organization's grants, narrowed by clauses added at run time.
pub(crate) const GRANTS: Query = Query { name: "grants", access: Access::Org, sql: "SELECT * FROM grants WHERE org_id = $1" };

/// The change-log entry at one revision, to tell whether a saved index's history is this database's.
pub(crate) const CHANGE_AT: Query =
    Query { name: "change_at", access: Access::System, sql: "SELECT org_id, changes FROM change_log WHERE revision = $1" };

pub(crate) const CHANGES_SINCE: Query = Query {
    name: "changes_since",
    access: Access::System,
    sql: "SELECT revision, org_id, changes FROM change_log WHERE revision > $1 ORDER BY revision LIMIT $2",
};

pub(crate) const EXPIRIES_DUE: Query = Query {
    name: "expiries_due",
    access: Access::System,
    sql: "SELECT * FROM grants
         WHERE expiry_recorded = 0 AND expires_at_us IS NOT NULL AND expires_at_us <= $1
           AND revoked_at_us IS NULL
         ORDER BY expires_at_us LIMIT 500",
};

pub(crate) const AUDIT_EVENTS: Query =
    Query { name: "audit_events", access: Access::Org, sql: "SELECT * FROM audit_events WHERE org_id = $1" };

pub(crate) const NEXT_REVISIONS: Query = Query {
    name: "next_revisions",
    access: Access::Global,
    sql: "UPDATE revision_counter SET value = value + $1 WHERE id = 1 RETURNING value",
};

pub(crate) const NEXT_REVISIONS_FROM: Query = Query {
    name: "next_revisions_from",
    access: Access::Global,
    sql: "UPDATE revision_counter SET value = value + $1 WHERE id = 1 AND value = $2 RETURNING value",
};

pub(crate) const LOG_CHANGE: Query = Query {
    name: "log_change",
    access: Access::Org,
    sql: "INSERT INTO change_log (revision, org_id, at_us, changes) VALUES ($1, $2, $3, $4)",
};

pub(crate) const INSERT_ORG: Query = Query {
    name: "insert_org",
    access: Access::Org,
    sql: "INSERT INTO orgs (id, slug, name, created_at_us, policy) VALUES ($1, $2, $3, $4, $5)",
};

pub(crate) const INSERT_USER: Query = Query {
    name: "insert_user",
    access: Access::Org,
    sql: "INSERT INTO users (org_id, id, email, status, created_at_us) VALUES ($1, $2, $3, $4, $5)",
};

pub(crate) const DELETE_USER: Query =
    Query { name: "delete_user", access: Access::Org, sql: "DELETE FROM users WHERE org_id = $1 AND id = $2" };

pub(crate) const SET_USER_STATUS: Query =
    Query { name: "set_user_status", access: Access::Org, sql: "UPDATE users SET status = $1 WHERE org_id = $2 AND id = $3" };

pub(crate) const INSERT_CREDENTIAL: Query = Query {
    name: "insert_credential",
    access: Access::Org,
    sql: "INSERT INTO credentials (id, org_id, principal, secret_hash, created_at_us, expires_at_us, revoked_at_us, issued_by, custody) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
};

pub(crate) const REVOKE_CREDENTIAL: Query = Query {
    name: "revoke_credential",
    access: Access::Org,
    // A revocation set for later (a rotated key's grace period) may be brought forward.
    sql: "UPDATE credentials SET revoked_at_us = $1 WHERE org_id = $2 AND id = $3 AND (revoked_at_us IS NULL OR revoked_at_us > $1)",
};

pub(crate) const INSERT_RESOURCE: Query = Query {
    name: "insert_resource",
    access: Access::Org,
    sql: "INSERT INTO resources (org_id, kind, id, parent, scope, attributes, created_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7)",
};

pub(crate) const UPDATE_RESOURCE: Query = Query {
    name: "update_resource",
    access: Access::Org,
    sql: "UPDATE resources SET parent = $1, scope = $2, attributes = $3 WHERE org_id = $4 AND kind = $5 AND id = $6",
};

pub(crate) const DELETE_RESOURCE: Query =
    Query { name: "delete_resource", access: Access::Org, sql: "DELETE FROM resources WHERE org_id = $1 AND kind = $2 AND id = $3" };

pub(crate) const INSERT_GRANT: Query = Query {
    name: "insert_grant",
    access: Access::Org,
    sql: "INSERT INTO grants (org_id, id, principal, target, anchor, starts_at_us, expires_at_us, justification, tags, creator, source, created_at_us, revoked_at_us, revoked_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
};

pub(crate) const REVOKE_GRANT: Query = Query {
    name: "revoke_grant",
    access: Access::Org,
    sql: "UPDATE grants SET revoked_at_us = $1, revoked_by = $2 WHERE org_id = $3 AND id = $4 AND revoked_at_us IS NULL",
};

pub(crate) const EXTEND_GRANT: Query = Query {
    name: "extend_grant",
    access: Access::Org,
    sql: "UPDATE grants SET expires_at_us = $1 WHERE org_id = $2 AND id = $3 AND revoked_at_us IS NULL AND expiry_recorded = 0",
};

pub(crate) const INSERT_NOTICE: Query = Query {
    name: "insert_notice",
    access: Access::Org,
    sql: "INSERT INTO outbox (org_id, id, webhook_id, event_type, payload, created_at_us, next_attempt_us) VALUES ($1, $2, $3, $4, $5, $6, $7)",
};

pub(crate) const WEBHOOKS_DUE: Query = Query {
    name: "webhooks_due",
    access: Access::System,
    sql: "SELECT org_id, webhook_id, MIN(next_attempt_us) AS due FROM outbox
         WHERE delivered_at_us IS NULL AND given_up = 0 AND next_attempt_us <= $1
           AND (leased_until_us IS NULL OR leased_until_us <= $1)
         GROUP BY org_id, webhook_id ORDER BY due LIMIT $2",
};

pub(crate) const NOTICES_DUE: Query = Query {
    name: "notices_due",
    access: Access::Org,
    sql: "SELECT org_id, id, webhook_id, event_type, payload, created_at_us, attempts FROM outbox
         WHERE org_id = $1 AND webhook_id = $2 AND delivered_at_us IS NULL AND given_up = 0 AND next_attempt_us <= $3
           AND (leased_until_us IS NULL OR leased_until_us <= $3)
         ORDER BY next_attempt_us LIMIT $4",
};

pub(crate) const LEASE_NOTICE: Query = Query {
    name: "lease_notice",
    access: Access::Org,
    sql: "UPDATE outbox SET leased_until_us = $1 WHERE org_id = $2 AND id = $3 AND delivered_at_us IS NULL AND given_up = 0
           AND (leased_until_us IS NULL OR leased_until_us <= $4)",
};

pub(crate) const SETTLE_NOTICE: Query = Query {
    name: "settle_notice",
    access: Access::Org,
    sql:
        "UPDATE outbox SET attempts = $1, next_attempt_us = $2, delivered_at_us = $3, given_up = $4, last_error = $5, leased_until_us = NULL
         WHERE org_id = $6 AND id = $7 AND delivered_at_us IS NULL",
};

pub(crate) const NOTICES: Query = Query {
    name: "notices",
    access: Access::Org,
    sql:
        "SELECT org_id, id, webhook_id, event_type, payload, created_at_us, attempts, next_attempt_us, delivered_at_us, given_up, last_error
         FROM outbox WHERE org_id = $1 AND webhook_id = $2 ORDER BY created_at_us DESC, id LIMIT $3",
};

pub(crate) const RECORD_EXPIRY: Query = Query {
    name: "record_expiry",
    access: Access::Org,
    sql: "UPDATE grants SET expiry_recorded = 1 WHERE org_id = $1 AND id = $2 AND expiry_recorded = 0",
};

pub(crate) const AUDIT_HEAD: Query = Query {
    name: "audit_head",
    access: Access::Org,
    sql: "SELECT seq, hash FROM audit_events WHERE org_id = $1 ORDER BY seq DESC LIMIT 1",
};

pub(crate) const AUDIT_CHECKPOINT: Query = Query {
    name: "audit_checkpoint",
    access: Access::Org,
    sql: "SELECT org_id, seq, head_hash, at_us, key_id, signature FROM audit_checkpoints WHERE org_id = $1",
};

pub(crate) const CHECKPOINT_KEYS: Query =
    Query { name: "checkpoint_keys", access: Access::System, sql: "SELECT DISTINCT key_id FROM audit_checkpoints" };

pub(crate) const PUT_AUDIT_CHECKPOINT: Query = Query {
    name: "put_audit_checkpoint",
    access: Access::Org,
    sql: "INSERT INTO audit_checkpoints (org_id, seq, head_hash, at_us, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (org_id) DO UPDATE SET seq = excluded.seq, head_hash = excluded.head_hash, at_us = excluded.at_us,
             key_id = excluded.key_id, signature = excluded.signature",
};

pub(crate) const REHASH_AUDIT_EVENT: Query = Query {
    name: "rehash_audit_event",
    access: Access::Org,
    sql: "UPDATE audit_events SET prev_hash = $3, hash = $4 WHERE org_id = $1 AND seq = $2",
};

pub(crate) const INSERT_AUDIT_EVENT: Query = Query {
    name: "insert_audit_event",
    access: Access::Org,
    sql: "INSERT INTO audit_events (org_id, seq, at_us, actor, event_type, target_type, target_id, principal, before_state, after_state, justification, request_id, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
};

pub(crate) const SNAPSHOT_SCOPES: Query =
    Query { name: "snapshot_scopes", access: Access::System, sql: "SELECT * FROM scope_nodes ORDER BY created_at_us, id" };

pub(crate) const INSERT_SCOPE_NODE: Query = Query {
    name: "insert_scope_node",
    access: Access::Org,
    sql: "INSERT INTO scope_nodes (org_id, id, kind, slug, parent, is_production, created_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7)",
};

pub(crate) const SET_ENVIRONMENT_PRODUCTION: Query = Query {
    name: "set_environment_production",
    access: Access::Org,
    sql: "UPDATE scope_nodes SET is_production = $1 WHERE org_id = $2 AND id = $3 AND kind = 'environment'",
};

pub(crate) const SET_ORG_POLICY: Query =
    Query { name: "set_org_policy", access: Access::Org, sql: "UPDATE orgs SET policy = $1 WHERE id = $2" };

pub(crate) const SNAPSHOT_API_KEYS: Query =
    Query { name: "snapshot_api_keys", access: Access::System, sql: "SELECT * FROM api_keys ORDER BY created_at_us, id" };

pub(crate) const INSERT_API_KEY: Query = Query {
    name: "insert_api_key",
    access: Access::Org,
    sql:
        "INSERT INTO api_keys (org_id, id, name, project_id, created_by, created_at_us, revoked_at_us, delegated_by, expires_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
};

pub(crate) const RENAME_API_KEY: Query =
    Query { name: "rename_api_key", access: Access::Org, sql: "UPDATE api_keys SET name = $1 WHERE org_id = $2 AND id = $3" };

pub(crate) const REVOKE_API_KEY: Query = Query {
    name: "revoke_api_key",
    access: Access::Org,
    sql: "UPDATE api_keys SET revoked_at_us = $1 WHERE org_id = $2 AND id = $3 AND revoked_at_us IS NULL",
};

pub(crate) const SNAPSHOT_GROUPS: Query =
    Query { name: "snapshot_groups", access: Access::System, sql: "SELECT * FROM groups ORDER BY created_at_us, id" };

pub(crate) const SNAPSHOT_GROUP_MEMBERS: Query =
    Query { name: "snapshot_group_members", access: Access::System, sql: "SELECT * FROM group_members ORDER BY org_id, group_id, user_id" };

pub(crate) const INSERT_GROUP: Query = Query {
    name: "insert_group",
    access: Access::Org,
    sql: "INSERT INTO groups (org_id, id, name, name_key, description, parent_id, status, external_id, created_by, created_at_us) \
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
};

pub(crate) const UPDATE_GROUP: Query = Query {
    name: "update_group",
    access: Access::Org,
    sql: "UPDATE groups SET name = $1, name_key = $2, description = $3, parent_id = $4, status = $5 WHERE org_id = $6 AND id = $7",
};

pub(crate) const DELETE_GROUP: Query =
    Query { name: "delete_group", access: Access::Org, sql: "DELETE FROM groups WHERE org_id = $1 AND id = $2" };

pub(crate) const SET_GROUP_MEMBER: Query = Query {
    name: "set_group_member",
    access: Access::Org,
    sql: "INSERT INTO group_members (org_id, group_id, user_id, role, added_at_us, expires_at_us) VALUES ($1, $2, $3, $4, $5, $6) \
          ON CONFLICT (org_id, group_id, user_id) DO UPDATE SET role = excluded.role, added_at_us = excluded.added_at_us, \
          expires_at_us = excluded.expires_at_us",
};

pub(crate) const REMOVE_GROUP_MEMBER: Query = Query {
    name: "remove_group_member",
    access: Access::Org,
    sql: "DELETE FROM group_members WHERE org_id = $1 AND group_id = $2 AND user_id = $3",
};

/// Every statement, for the check.
pub(crate) const ALL: [Query; 54] = [
    SNAPSHOT_REVISION,
    SNAPSHOT_ORGS,
    SNAPSHOT_USERS,
    SNAPSHOT_CREDENTIALS,
    SNAPSHOT_RESOURCES,
    SNAPSHOT_GRANTS,
    CHANGE_AT,
    CHANGES_SINCE,
    EXPIRIES_DUE,
    GRANTS,
    AUDIT_EVENTS,
    NEXT_REVISIONS,
    NEXT_REVISIONS_FROM,
    LOG_CHANGE,
    INSERT_ORG,
    INSERT_USER,
    SET_USER_STATUS,
    DELETE_USER,
    INSERT_CREDENTIAL,
    REVOKE_CREDENTIAL,
    INSERT_RESOURCE,
    UPDATE_RESOURCE,
    DELETE_RESOURCE,
    INSERT_GRANT,
    REVOKE_GRANT,
    EXTEND_GRANT,
    INSERT_NOTICE,
    WEBHOOKS_DUE,
    NOTICES_DUE,
    LEASE_NOTICE,
    SETTLE_NOTICE,
    NOTICES,
    RECORD_EXPIRY,
    AUDIT_HEAD,
    AUDIT_CHECKPOINT,
    CHECKPOINT_KEYS,
    PUT_AUDIT_CHECKPOINT,
    REHASH_AUDIT_EVENT,
    INSERT_AUDIT_EVENT,
    SNAPSHOT_SCOPES,
    INSERT_SCOPE_NODE,
    SET_ENVIRONMENT_PRODUCTION,
    SET_ORG_POLICY,
    SNAPSHOT_API_KEYS,
    INSERT_API_KEY,
    REVOKE_API_KEY,
    RENAME_API_KEY,
    SNAPSHOT_GROUPS,
    SNAPSHOT_GROUP_MEMBERS,
    INSERT_GROUP,
    UPDATE_GROUP,
    DELETE_GROUP,
    SET_GROUP_MEMBER,
    REMOVE_GROUP_MEMBER,
];

/// The identifiers of `sql`, lowercased, in order.
fn words(sql: &str) -> Vec<String> {
    sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// The organization-scoped tables a statement reads or writes.
fn org_tables(words: &[String]) -> Vec<(&'static str, &'static str)> {
    let keywords = ["from", "into", "update", "join"];
    let named: Vec<&String> = words.windows(2).filter(|w| keywords.contains(&w[0].as_str())).map(|w| &w[1]).collect();
    ORG_TABLES.iter().copied().filter(|(t, _)| named.iter().any(|n| n.as_str() == *t)).collect()
}

/// What is wrong with one statement's declaration, if anything.
fn violation(q: &Query) -> Option<String> {
    let w = words(q.sql);
    let tables = org_tables(&w);
    let binds = |col: &str| {
        let filtered = w.windows(2).any(|p| p[0] == col && p[1].starts_with('$'));
        let inserted = w.first().is_some_and(|v| v == "insert") && w.iter().take_while(|x| *x != "values").any(|x| x == col);
        filtered || inserted
    };
    match q.access {
        Access::Global if !tables.is_empty() => Some(format!("`{}` is declared global but touches {}", q.name, tables[0].0)),
        Access::System if w.first().is_none_or(|v| v != "select") => {
            Some(format!("`{}` reads across organizations but is not a SELECT", q.name))
        }
        Access::Org => tables
            .iter()
            .find(|(_, col)| !binds(col))
            .map(|(t, col)| format!("`{}` touches {t} without binding its organization ({col} = $n)", q.name)),
        Access::Global | Access::System => None,
    }
}

/// Checks every statement of the store.
pub(crate) fn check_paths() -> QueryPaths {
    QueryPaths {
        statements: ALL.len(),
        organization_scoped: ALL.iter().filter(|q| q.access == Access::Org).count(),
        system_reads: ALL.iter().filter(|q| q.access == Access::System).count(),
        global: ALL.iter().filter(|q| q.access == Access::Global).count(),
        violations: ALL.iter().filter_map(violation).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_statement_of_the_store_keeps_to_its_declaration() {
        let paths = check_paths();
        assert!(paths.violations.is_empty(), "{:?}", paths.violations);
        assert!(paths.organization_scoped > 10 && paths.system_reads > 5, "{paths:?}");
    }

    #[test]
    fn a_statement_that_forgets_its_organization_is_caught() {
        let forgot = Query { name: "forgot", access: Access::Org, sql: "SELECT * FROM grants WHERE id = $1" };
        assert!(violation(&forgot).is_some_and(|v| v.contains("grants")));
        let writes = Query { name: "writes", access: Access::System, sql: "UPDATE grants SET tags = $1" };
        assert!(violation(&writes).is_some());
        let sneaky = Query { name: "sneaky", access: Access::Global, sql: "SELECT COUNT(*) FROM users" };
        assert!(violation(&sneaky).is_some());
        let fine = Query { name: "fine", access: Access::Org, sql: "INSERT INTO users (org_id, id) VALUES ($1, $2)" };
        assert_eq!(violation(&fine), None);
    }
}
