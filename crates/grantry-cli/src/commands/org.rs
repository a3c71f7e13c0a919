//! `grantry org settings`: show the organization's policy settings, or change some of them.

use super::client;
use crate::cli::{EnvArg, OutputArg};
use crate::output;
use anyhow::Result;
use clap::Subcommand;
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Show the settings; with options, change those first (needs Organization:Manage).
    #[command(after_help = crate::examples!(
        "grantry org settings -e admin",
        "grantry org settings -e admin --max-grant-duration P1D --default-grant-duration PT1H",
        "grantry org settings -e admin --min-justification-chars 20 --audit-retention-days 3650"
    ))]
    Settings {
        /// How many days audit events are kept (default 1826, five years).
        #[arg(long)]
        audit_retention_days: Option<u32>,
        /// The longest time-bounded role, ISO 8601 (default P3D).
        #[arg(long)]
        max_role_duration: Option<String>,
        /// The longest temporary permission grant, ISO 8601 (default P3D).
        #[arg(long)]
        max_grant_duration: Option<String>,
        /// The window of a grant asked for without --duration, ISO 8601 (default PT2H; at most
        /// the maximum).
        #[arg(long)]
        default_grant_duration: Option<String>,
        /// The shortest justification, in characters (default 10).
        #[arg(long)]
        min_justification_chars: Option<usize>,
        /// The longest justification, in characters (default 1000; at most 10000).
        #[arg(long)]
        max_justification_chars: Option<usize>,
        /// How deep groups may nest, 1 to 10 (default 5).
        #[arg(long)]
        max_group_depth: Option<u32>,
        /// How many days a review of an assignment or a membership holds, 7 to 730 (default 90).
        #[arg(long)]
        review_period_days: Option<u32>,
        /// The most users one temporary access instance grants (default 50).
        #[arg(long)]
        temp_access_max_users: Option<u32>,
        /// The most agent pools one temporary access instance grants (default 20).
        #[arg(long)]
        temp_access_max_pools: Option<u32>,
        /// The longest temporary access instance, ISO 8601 (default P31D).
        #[arg(long)]
        temp_access_max_duration: Option<String>,
        /// The most temporary access instances active at once (default 100).
        #[arg(long)]
        temp_access_max_active: Option<u32>,
        /// How many days an ended access request stays listed, 7 to 36500 (default 365).
        #[arg(long)]
        request_retention_days: Option<u32>,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
}

pub async fn run(command: OrgCommand) -> Result<()> {
    let OrgCommand::Settings {
        audit_retention_days,
        max_role_duration,
        max_grant_duration,
        default_grant_duration,
        min_justification_chars,
        max_justification_chars,
        max_group_depth,
        review_period_days,
        temp_access_max_users,
        temp_access_max_pools,
        temp_access_max_duration,
        temp_access_max_active,
        request_retention_days,
        env,
        out,
    } = command;
    let c = client(&env.env)?;
    let body = json!({
        "audit_retention_days": audit_retention_days,
        "max_role_duration": max_role_duration,
        "max_grant_duration": max_grant_duration,
        "default_grant_duration": default_grant_duration,
        "min_justification_chars": min_justification_chars,
        "max_justification_chars": max_justification_chars,
        "max_group_depth": max_group_depth,
        "review_period_days": review_period_days,
        "temp_access_max_users": temp_access_max_users,
        "temp_access_max_pools": temp_access_max_pools,
        "temp_access_max_duration": temp_access_max_duration,
        "temp_access_max_active": temp_access_max_active,
        "request_retention_days": request_retention_days,
    });
    let changes = body.as_object().is_some_and(|o| o.values().any(|v| !v.is_null()));
    let settings: Value = if changes { c.patch("/settings", &body).await? } else { c.get("/settings", &[]).await? };
    if out.json {
        return output::json(&settings);
    }
    let rows: Vec<Vec<String>> = [
        "max_grant_duration",
        "default_grant_duration",
        "max_role_duration",
        "min_justification_chars",
        "max_justification_chars",
        "audit_retention_days",
        "max_group_depth",
        "review_period_days",
        "temp_access_max_users",
        "temp_access_max_pools",
        "temp_access_max_duration",
        "temp_access_max_active",
        "request_retention_days",
    ]
    .iter()
    .map(|k| vec![(*k).to_owned(), settings[*k].as_str().map_or_else(|| settings[*k].to_string(), str::to_owned)])
    .collect();
    output::print_table(&["SETTING", "VALUE"], &rows, "No settings.");
    Ok(())
}
