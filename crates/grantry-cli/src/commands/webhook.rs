//! `grantry webhook …`: where the organization's notifications go — create one (its secret is
//! shown once), list, show, rotate its secret, ping it, read its deliveries, delete it.

use super::{client, fmt_opt_time};
use crate::cli::{EnvArg, OutputArg};
use crate::client::Client;
use crate::output::{self, text};
use anyhow::Result;
use clap::Subcommand;
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Send notifications to a URL: signed JSON (X-Grantry-Signature), or chat messages.
    #[command(after_help = crate::examples!(
        "grantry webhook create --name audit-feed --url https://hooks.acme.example/grantry -e admin",
        "grantry webhook create --name approvals --url https://hooks.slack.com/services/T0/B0/XYZ --format chat --event request.created --event request.approved -e admin"
    ))]
    Create {
        #[arg(long)]
        name: String,
        /// An http or https URL.
        #[arg(long)]
        url: String,
        /// A notification to send (repeatable; all unless given): request.created, request.approved, request.denied,
        /// request.revoked, request.extended, request.break_glass, grant.activated, grant.expired, grant.revoked, …
        #[arg(long = "event")]
        events: Vec<String>,
        /// json (signed, Grantry's shape) or chat ({"text": …}, for a chat tool's incoming webhook).
        #[arg(long, default_value = "json")]
        format: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// List the webhooks.
    #[command(after_help = crate::examples!("grantry webhook list -e admin"))]
    List {
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Show one webhook (by id or name).
    #[command(after_help = crate::examples!("grantry webhook show audit-feed -e admin"))]
    Show(One),
    /// Give a webhook a new secret (shown once); the old one signs nothing more.
    #[command(after_help = crate::examples!("grantry webhook rotate audit-feed -e admin"))]
    Rotate(One),
    /// Send a webhook a test notification (webhook.ping); at most five a minute per webhook.
    #[command(after_help = crate::examples!("grantry webhook ping audit-feed -e admin"))]
    Ping(One),
    /// What was sent to a webhook, newest first: delivered, pending (with its next attempt) or given up.
    #[command(after_help = crate::examples!("grantry webhook deliveries audit-feed -e admin", "grantry webhook deliveries audit-feed --json -e admin"))]
    Deliveries(One),
    /// Delete a webhook: nothing more is sent to it.
    #[command(after_help = crate::examples!("grantry webhook delete audit-feed -e admin"))]
    Delete(One),
}

/// One webhook, by id or name.
#[derive(Debug, clap::Args)]
pub struct One {
    webhook: String,
    #[command(flatten)]
    env: EnvArg,
    #[command(flatten)]
    out: OutputArg,
}

fn row(w: &Value) -> Vec<String> {
    let events: Vec<String> = w["events"].as_array().into_iter().flatten().filter_map(Value::as_str).map(output::clean_line).collect();
    let events = if events.is_empty() { "all".to_owned() } else { events.join(", ") };
    vec![text(w, "id"), text(w, "name"), text(w, "url"), text(w, "format"), events]
}

const HEADERS: [&str; 5] = ["ID", "NAME", "URL", "FORMAT", "EVENTS"];

/// `/webhooks/{id}` for the webhook `text` names.
async fn path(c: &Client, text: &str) -> Result<String> {
    let id = super::named_id(c, ("/webhooks", "webhooks"), "webhook", "grantry webhook list", text).await?;
    Ok(format!("/webhooks/{id}"))
}

fn time(v: &Value, field: &str) -> String {
    fmt_opt_time(v[field].as_str().and_then(|s| s.parse().ok()))
}

/// Prints a written webhook and, when there is one, its secret.
fn written(w: &Value, verb: &str) {
    crate::say!("{verb} webhook `{}` ({}) → {}.", text(&w["webhook"], "name"), text(&w["webhook"], "id"), text(&w["webhook"], "url"));
    if let Some(secret) = w["secret"].as_str() {
        crate::say!("Signing secret (shown once; keep it secret): {}", output::clean_line(secret));
    }
}

pub async fn run(command: WebhookCommand) -> Result<()> {
    match command {
        WebhookCommand::Create { name, url, events, format, env, out } => {
            let body = json!({ "name": name, "url": url, "events": events, "format": format });
            let made: Value = client(&env.env)?.post("/webhooks", &body).await?;
            if out.json {
                return output::json(&made);
            }
            written(&made, "Created");
            Ok(())
        }
        WebhookCommand::List { env, out } => {
            let list: Value = client(&env.env)?.get("/webhooks", &[]).await?;
            output::listed(&list, "webhooks", out.json, &HEADERS, row, "No webhooks.")
        }
        WebhookCommand::Show(one) => {
            let c = client(&one.env.env)?;
            let w: Value = c.get(&path(&c, &one.webhook).await?, &[]).await?;
            if one.out.json {
                return output::json(&w);
            }
            output::print_table(&HEADERS, &[row(&w)], "No such webhook.");
            Ok(())
        }
        WebhookCommand::Rotate(one) => change(one, "rotate", "Rotated the secret of").await,
        WebhookCommand::Ping(one) => change(one, "ping", "Pinged").await,
        WebhookCommand::Delete(one) => {
            let c = client(&one.env.env)?;
            let gone: Value = c.delete(&path(&c, &one.webhook).await?).await?;
            if one.out.json {
                return output::json(&gone);
            }
            written(&gone, "Deleted");
            Ok(())
        }
        WebhookCommand::Deliveries(one) => {
            let c = client(&one.env.env)?;
            let list: Value = c.get(&format!("{}/deliveries", path(&c, &one.webhook).await?), &[]).await?;
            if one.out.json {
                return output::json(&list["deliveries"]);
            }
            let rows = output::rows_of(&list["deliveries"], |d| {
                let when = if d["delivered_at"].is_string() { time(d, "delivered_at") } else { time(d, "next_attempt_at") };
                vec![text(d, "id"), text(d, "event_type"), text(d, "status"), d["attempts"].to_string(), when, text(d, "last_error")]
            });
            output::print_table(&["ID", "EVENT", "STATUS", "ATTEMPTS", "AT / NEXT", "LAST ERROR"], &rows, "Nothing sent yet.");
            Ok(())
        }
    }
}

async fn change(one: One, action: &str, verb: &str) -> Result<()> {
    let c = client(&one.env.env)?;
    let w: Value = c.post(&format!("{}/{action}", path(&c, &one.webhook).await?), &json!({})).await?;
    if one.out.json {
        return output::json(&w);
    }
    written(&w, verb);
    Ok(())
}
