//! `grantry admin …`: commands that work on the database directly, for whoever holds it.

use crate::cli::{AuditKeyArg, OutputArg};
use crate::output;
use anyhow::Result;
use clap::Subcommand;
use grantry_server::{clock, service, AppState};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an organization (if absent) and an owner, and print a token for the owner.
    #[command(after_help = crate::examples!(
        "grantry admin bootstrap --org acme --email ana@acme.example                 # on ./grantry.db",
        "grantry admin bootstrap --db sqlite:///var/lib/grantry/grantry.db --org acme --email ana@acme.example",
        "grantry admin bootstrap --db postgres://app:secret@db:5432/grantry --audit-key /etc/grantry/audit.key --org acme --email ana@acme.example"
    ))]
    Bootstrap {
        /// Database URL (sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB).
        #[arg(long, env = "GRANTRY_DB", hide_env_values = true, default_value = "sqlite://grantry.db")]
        db: String,
        /// The organization's slug (lowercase letters, digits, dashes).
        #[arg(long)]
        org: String,
        /// The owner's email.
        #[arg(long)]
        email: String,
        #[command(flatten)]
        key: AuditKeyArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Report, for every organization-scoped table, whether tenant isolation is in force in the
    /// database itself (row-level security on PostgreSQL). Exit 1 on PostgreSQL when it is not.
    #[command(after_help = crate::examples!(
        "grantry admin isolation --db postgres://app:secret@db:5432/grantry --audit-key /etc/grantry/audit.key",
        "grantry admin isolation --db sqlite://grantry.db --json"
    ))]
    Isolation {
        /// Database URL (sqlite://PATH or postgres://…).
        #[arg(long, env = "GRANTRY_DB", hide_env_values = true)]
        db: String,
        #[command(flatten)]
        key: AuditKeyArg,
        #[command(flatten)]
        out: OutputArg,
    },
}

pub async fn run(command: AdminCommand) -> Result<()> {
    match command {
        AdminCommand::Bootstrap { db, org, email, key, out } => {
            let store = key.open(&db).await?;
            let state = AppState::load(store).await?;
            let b = service::bootstrap(&state, &org, &email, clock::now()).await?;
            if out.json {
                return output::json(&json!({ "org_id": b.org_id, "user_id": b.user_id, "token": b.token }));
            }
            let what = if b.created_org { "created" } else { "already existed" };
            crate::say!("Organization `{org}` ({}) {what}; owner {email} ({}).", b.org_id, b.user_id);
            crate::say!("Token (shown once; keep it secret): {}", b.token);
            crate::say!("Next: grantry login --env NAME --url http://127.0.0.1:8080 --org {org} --token {}", b.token);
            Ok(())
        }
        AdminCommand::Isolation { db, key, out } => {
            let store = key.open(&db).await?;
            let report = store.isolation_report().await?;
            if out.json {
                output::json(&report)?;
            } else {
                let yes = |b: bool| if b { "yes" } else { "no" }.to_owned();
                let rows: Vec<Vec<String>> = report
                    .tables
                    .iter()
                    .map(|t| {
                        vec![t.table.clone(), t.mechanism.clone(), yes(t.rls_enabled), yes(t.rls_forced), yes(t.policy), yes(t.in_force)]
                    })
                    .collect();
                output::print_table(
                    &["TABLE", "MECHANISM", "RLS", "FORCED", "POLICY", "IN FORCE"],
                    &rows,
                    "No organization-scoped tables.",
                );
                crate::say!("{}", report.note);
            }
            if report.backend == "postgres" && !report.in_force {
                anyhow::bail!("tenant isolation is not in force in the database: {}", report.note);
            }
            Ok(())
        }
    }
}
