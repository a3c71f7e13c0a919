//! `grantry audit …`: list the audit log with filters, and verify its hash chain (through the
//! server, or on the database directly).

use super::{client, fmt_time, user_id_by_email};
use crate::cli::OutputArg;
use crate::client::Client;
use crate::exit::UsageError;
use crate::output;
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use grantry_core::audit::AuditEvent;
use grantry_server::AppState;
use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List audit events, oldest first.
    List {
        /// Environment name (the profile saved by `grantry login`).
        #[arg(short = 'e', long = "env")]
        env: String,
        /// Only this event type (rbac_grant, role.granted, role.expired, grant.created, apikey.created, …).
        #[arg(long = "type")]
        event_type: Option<String>,
        /// Only events by this actor: an email, user:ID, api_key:ID or system.
        #[arg(long)]
        actor: Option<String>,
        /// Only events affecting this principal: an email, user:ID or api_key:ID.
        #[arg(long)]
        principal: Option<String>,
        /// Only the rbac_grant rows of this scope: org, WS or WS/PRJ.
        #[arg(long)]
        scope: Option<String>,
        /// Only events at or after this time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Only events before this time (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// At most this many events.
        #[arg(long, default_value_t = 1000)]
        limit: u32,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Verify the organization's audit hash chain; exit 1 if it is broken.
    Verify {
        /// Environment name (verify through the server).
        #[arg(short = 'e', long = "env", conflicts_with = "db")]
        env: Option<String>,
        /// Database URL (verify on the database directly; needs --org).
        #[arg(long, requires = "org")]
        db: Option<String>,
        /// The organization's slug, with --db.
        #[arg(long)]
        org: Option<String>,
        #[command(flatten)]
        out: OutputArg,
    },
}

async fn principal_filter(c: &Client, value: Option<String>) -> Result<Option<String>> {
    match value {
        Some(v) if v.contains('@') => Ok(Some(format!("user:{}", user_id_by_email(c, &v).await?))),
        other => Ok(other),
    }
}

/// `user:ID` → email for every user the caller may list; empty if it may not.
async fn emails(c: &Client) -> HashMap<String, String> {
    let list: Value = c.get("/users", &[]).await.unwrap_or_default();
    let users = list["users"].as_array().into_iter().flatten();
    users.filter_map(|u| Some((format!("user:{}", u["id"].as_str()?), u["email"].as_str()?.to_owned()))).collect()
}

/// What an `rbac_grant` row changed in the effective set: `+traces:read:prod -Role:Assign`.
fn change(e: &AuditEvent) -> String {
    let Some(after) = e.after.as_ref().filter(|_| e.event_type == "rbac_grant") else { return String::new() };
    let list = |key: &str, sign: char| -> Vec<String> {
        after[key].as_array().into_iter().flatten().filter_map(Value::as_str).map(|p| format!("{sign}{p}")).collect()
    };
    [list("added", '+'), list("removed", '-')].concat().join(" ")
}

pub async fn run(command: AuditCommand) -> Result<()> {
    match command {
        AuditCommand::List { env, event_type, actor, principal, scope, since, until, limit, out } => {
            let c = client(&env)?;
            let mut query = vec![("limit", limit.to_string())];
            let filters = [
                ("event_type", event_type),
                ("actor", principal_filter(&c, actor).await?),
                ("principal", principal_filter(&c, principal).await?),
                ("scope", scope),
                ("since", since),
                ("until", until),
            ];
            query.extend(filters.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
            let page: Value = c.get("/audit", &query).await?;
            let events: Vec<AuditEvent> = serde_json::from_value(page["events"].clone())?;
            if out.json {
                return output::json(&events);
            }
            let emails = emails(&c).await;
            let name = |p: String| emails.get(&p).cloned().unwrap_or(p);
            let rows: Vec<Vec<String>> = events
                .iter()
                .map(|e| {
                    let target = format!("{}:{}", e.target_type, e.target_id);
                    vec![
                        e.seq.to_string(),
                        fmt_time(e.at),
                        e.event_type.clone(),
                        name(e.actor.to_string()),
                        target,
                        e.principal.clone().map(name).unwrap_or_default(),
                        change(e),
                        e.justification.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            let headers = ["SEQ", "AT", "EVENT", "ACTOR", "TARGET", "PRINCIPAL", "CHANGE", "JUSTIFICATION"];
            output::print_table(&headers, &rows, "No events.");
            Ok(())
        }
        AuditCommand::Verify { env, db, org, out } => {
            let result: Value = match (env, db, org) {
                (Some(env), None, _) => client(&env)?.get("/audit/verify", &[]).await?,
                (None, Some(db), Some(slug)) => {
                    let store = grantry_store::open(&db)
                        .await
                        .with_context(|| format!("cannot open the database {}", grantry_store::redact_url(&db)))?;
                    let state = AppState::load(store).await?;
                    let org_id = state.index().org_by_slug(&slug).map(|o| o.org().id.clone());
                    let org_id = org_id.ok_or_else(|| UsageError(format!("no organization `{slug}` in this database")))?;
                    serde_json::to_value(grantry_server::api::verify_org(&state, &org_id).await?)?
                }
                _ => return Err(UsageError("give -e/--env ENV, or --db URL with --org SLUG".to_owned()).into()),
            };
            if out.json {
                output::json(&result)?;
            }
            if result["ok"].as_bool() == Some(true) {
                if !out.json {
                    crate::say!(
                        "audit chain verifies: {} events, head {}",
                        result["events_checked"],
                        result["head_hash"].as_str().unwrap_or("-")
                    );
                }
                Ok(())
            } else {
                bail!(
                    "audit chain is broken at event {}: {}",
                    result.pointer("/broken_at/seq").unwrap_or(&Value::Null),
                    result.pointer("/broken_at/reason").and_then(Value::as_str).unwrap_or("?")
                )
            }
        }
    }
}
