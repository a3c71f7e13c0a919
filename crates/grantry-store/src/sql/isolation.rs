//! The isolation conformance report: every organization-scoped table (each table with an
//! `org_id` column, and `orgs`), whether tenant isolation is in force on it in the database, and
//! the check of every query path of the store.

use super::{queries, Backend};
use crate::error::Result;
use crate::traits::{IsolationReport, TableIsolation};
use sqlx::{AnyPool, Row};

/// The policy every organization-scoped table must carry on PostgreSQL.
const POLICY: &str = "grantry_org_isolation";

pub(super) async fn report(pool: &AnyPool, backend: Backend) -> Result<IsolationReport> {
    match backend {
        Backend::Postgres => postgres(pool).await,
        Backend::Sqlite => sqlite(pool).await,
    }
}

async fn postgres(pool: &AnyPool) -> Result<IsolationReport> {
    let role =
        sqlx::query("SELECT current_user::text AS name, rolsuper OR rolbypassrls AS bypasses FROM pg_roles WHERE rolname = current_user")
            .fetch_one(pool)
            .await?;
    let (role_name, bypasses): (String, bool) = (role.try_get("name")?, role.try_get("bypasses")?);
    let rows = sqlx::query(
        "SELECT c.relname::text AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
                EXISTS (SELECT 1 FROM pg_policies p WHERE p.schemaname = n.nspname AND p.tablename = c.relname AND p.policyname = $1) AS policy
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema() AND c.relkind = 'r'
           AND (c.relname = 'orgs' OR EXISTS (SELECT 1 FROM information_schema.columns k
                WHERE k.table_schema = n.nspname AND k.table_name = c.relname AND k.column_name = 'org_id'))
         ORDER BY c.relname",
    )
    .bind(POLICY)
    .fetch_all(pool)
    .await?;
    let tables = rows
        .iter()
        .map(|r| {
            let (enabled, forced, policy): (bool, bool, bool) = (r.try_get("enabled")?, r.try_get("forced")?, r.try_get("policy")?);
            Ok(TableIsolation {
                table: r.try_get("name")?,
                mechanism: "row-level security".to_owned(),
                rls_enabled: enabled,
                rls_forced: forced,
                policy,
                in_force: enabled && forced && policy && !bypasses,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let query_paths = queries::check_paths();
    let in_force = !tables.is_empty() && tables.iter().all(|t| t.in_force) && query_paths.violations.is_empty();
    let note = if bypasses {
        format!(
            "role `{role_name}` is a superuser or has BYPASSRLS, so no policy binds it; connect as an ordinary role that owns the tables"
        )
    } else {
        format!("every organization-scoped table is isolated by row-level security for role `{role_name}`")
    };
    let note = if in_force || bypasses { note } else { "some tables lack a forced isolation policy; run `grantry migrate`".to_owned() };
    Ok(IsolationReport { backend: "postgres".to_owned(), role: Some(role_name), in_force, note, tables, query_paths })
}

async fn sqlite(pool: &AnyPool) -> Result<IsolationReport> {
    let rows = sqlx::query(
        "SELECT m.name AS name FROM sqlite_master m WHERE m.type = 'table'
           AND (m.name = 'orgs' OR EXISTS (SELECT 1 FROM pragma_table_info(m.name) p WHERE p.name = 'org_id'))
         ORDER BY m.name",
    )
    .fetch_all(pool)
    .await?;
    let tables = rows
        .iter()
        .map(|r| {
            Ok(TableIsolation {
                table: r.try_get("name")?,
                mechanism: "organization-scoped queries".to_owned(),
                rls_enabled: false,
                rls_forced: false,
                policy: false,
                in_force: queries::check_paths().violations.is_empty(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let query_paths = queries::check_paths();
    let in_force = query_paths.violations.is_empty();
    let note = if in_force {
        format!(
            "SQLite has no row-level security; isolation rests on the store's queries, all {} of which check out ({} bind their organization, {} are read-only system reads); use PostgreSQL for isolation in the database itself",
            query_paths.statements, query_paths.organization_scoped, query_paths.system_reads
        )
    } else {
        format!("query paths that do not keep to their organization: {}", query_paths.violations.join("; "))
    };
    Ok(IsolationReport { backend: "sqlite".to_owned(), role: None, in_force, note, tables, query_paths })
}
