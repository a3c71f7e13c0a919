//! `grantry audit …`: list the audit log with filters, verify its keyed chain and signed
//! checkpoint (through the server, or on the database directly), and print signed digests to
//! verify it against later.

use super::{client, fmt_time, user_id_by_email};
use crate::cli::{AuditKeyArg, OutputArg};
use crate::client::Client;
use crate::exit::UsageError;
use crate::output;
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use grantry_core::audit::{AuditEvent, Checkpoint};
use grantry_server::api::views::AuditEventView;
use grantry_server::AppState;
use serde_json::Value;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List audit events, oldest first.
    #[command(after_help = crate::examples!(
        "grantry audit list -e admin",
        "grantry audit list -e admin --type grant.created --actor dev@acme.example",
        "grantry audit list -e admin --type rbac_grant --principal dev@acme.example --scope ml/agents",
        "grantry audit list -e admin --since 2026-11-01T00:00:00Z --limit 100 --json",
        "grantry audit list -e admin --entity agent:9c1d0e2f3a4b5c6d7e8f9a0b"
    ))]
    List {
        /// The profile saved by `grantry login`.
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
        /// Only the events about this entity, as TYPE:ID: agent:ID, group:ID, user:ID, grant:ID, …
        #[arg(long)]
        entity: Option<String>,
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
    /// Verify the organization's audit chain: every event's keyed hash, the signed checkpoint of
    /// its head and, with --digest, a digest kept elsewhere. Exit 1, naming the event, if an event
    /// was edited, removed, reordered, re-hashed, or the tail was cut.
    #[command(after_help = crate::examples!(
        "grantry audit verify -e admin",
        "grantry audit verify --db sqlite://grantry.db --org acme",
        "grantry audit verify -e admin --digest digest-2026-11-24.json"
    ))]
    Verify {
        #[command(flatten)]
        at: AuditAt,
        /// A digest printed earlier by `grantry audit digest`: the log must still hold its head.
        #[arg(long, value_name = "FILE")]
        digest: Option<std::path::PathBuf>,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Print a signed digest of the audit log's head (sequence, hash, time) as JSON, after
    /// verifying it; keep it where the database's writers cannot reach, and check the log against
    /// it later with `grantry audit verify --digest FILE`.
    #[command(after_help = crate::examples!(
        "grantry audit digest -e admin > digest-2026-11-24.json",
        "grantry audit digest --db sqlite://grantry.db --org acme"
    ))]
    Digest {
        #[command(flatten)]
        at: AuditAt,
    },
}

/// Fails, naming the event, when a verification found the log broken.
fn broken(result: &Value) -> Result<()> {
    if result["ok"].as_bool() == Some(true) {
        return Ok(());
    }
    bail!(
        "audit chain is broken at event {}: {}",
        result.pointer("/broken_at/seq").unwrap_or(&Value::Null),
        result.pointer("/broken_at/reason").and_then(Value::as_str).unwrap_or("?")
    )
}

/// Where to reach the audit log: through the server, or on the database directly.
#[derive(Debug, clap::Args)]
pub struct AuditAt {
    /// The profile saved by `grantry login` (through the server).
    #[arg(short = 'e', long = "env", conflicts_with = "db")]
    env: Option<String>,
    /// Database URL (on the database directly; needs --org and the audit key).
    #[arg(long, requires = "org")]
    db: Option<String>,
    /// The organization's slug, with --db.
    #[arg(long)]
    org: Option<String>,
    #[command(flatten)]
    key: AuditKeyArg,
}

impl AuditAt {
    /// Verifies the log, against `digest` when given; the verification as JSON.
    async fn verify(&self, digest: Option<&Checkpoint>) -> Result<Value> {
        match (&self.env, &self.db, &self.org) {
            (Some(env), None, _) => match digest {
                None => client(env)?.get("/audit/verify", &[]).await,
                Some(d) => client(env)?.post("/audit/verify", &serde_json::json!({ "digest": d })).await,
            },
            (None, Some(db), Some(slug)) => {
                let state = AppState::load(self.key.open(db).await?).await?;
                let org_id = state.index().org_by_slug(slug).map(|o| o.org().id.clone());
                let org_id = org_id.ok_or_else(|| UsageError(format!("no organization `{slug}` in this database")))?;
                Ok(serde_json::to_value(grantry_server::api::verify_org(&state, &org_id, digest).await?)?)
            }
            _ => Err(UsageError("give -e/--env ENV, or --db URL with --org SLUG".to_owned()).into()),
        }
    }
}

async fn principal_filter(c: &Client, value: Option<String>) -> Result<Option<String>> {
    match value {
        Some(v) if v.contains('@') => Ok(Some(format!("user:{}", user_id_by_email(c, &v).await?))),
        other => Ok(other),
    }
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
        AuditCommand::List { env, event_type, actor, principal, scope, entity, since, until, limit, out } => {
            let c = client(&env)?;
            let mut query = vec![("limit", limit.to_string())];
            let filters = [
                ("event_type", event_type),
                ("actor", principal_filter(&c, actor).await?),
                ("principal", principal_filter(&c, principal).await?),
                ("scope", scope),
                ("entity", entity),
                ("since", since),
                ("until", until),
            ];
            query.extend(filters.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
            let page: Value = c.get("/audit", &query).await?;
            if out.json {
                return output::json(&page["events"]);
            }
            let events: Vec<AuditEventView> = serde_json::from_value(page["events"].clone())?;
            let rows: Vec<Vec<String>> = events
                .into_iter()
                .map(|AuditEventView { event: e, actor_email, principal_email }| {
                    let target = format!("{}:{}", e.target_type, e.target_id);
                    vec![
                        e.seq.to_string(),
                        fmt_time(e.at),
                        e.event_type.clone(),
                        actor_email.unwrap_or_else(|| e.actor.to_string()),
                        target,
                        principal_email.or_else(|| e.principal.clone()).unwrap_or_default(),
                        change(&e),
                        e.justification.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            let headers = ["SEQ", "AT", "EVENT", "ACTOR", "TARGET", "PRINCIPAL", "CHANGE", "JUSTIFICATION"];
            output::print_table(&headers, &rows, "No events.");
            Ok(())
        }
        AuditCommand::Verify { at, digest, out } => {
            let digest: Option<Checkpoint> =
                match &digest {
                    None => None,
                    Some(path) => {
                        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
                        Some(serde_json::from_str(&text).map_err(|e| {
                            UsageError(format!("{} is not a digest printed by `grantry audit digest` ({e})", path.display()))
                        })?)
                    }
                };
            let result = at.verify(digest.as_ref()).await?;
            if out.json {
                output::json(&result)?;
            }
            broken(&result)?;
            if !out.json {
                let against = digest.map(|d| format!("; holds the digest's head (event {})", d.seq)).unwrap_or_default();
                crate::say!(
                    "audit chain verifies: {} events, head {}, signed checkpoint in place{against}",
                    result["events_checked"],
                    result["head_hash"].as_str().unwrap_or("-")
                );
            }
            Ok(())
        }
        AuditCommand::Digest { at } => {
            let result = at.verify(None).await?;
            broken(&result)?;
            output::json(&result["digest"])
        }
    }
}
