//! `grantry grant …`: list and revoke temporary permission grants; the listing that
//! `conversation list-access` prints.

use super::{client, fmt_opt_time};
use crate::cli::{EnvArg, OutputArg};
use crate::client::Client;
use crate::output;
use anyhow::Result;
use clap::{Args, Subcommand};
use grantry_server::api::views::GrantView;
use serde_json::Value;

/// Which grants to list: `grant list` and `conversation list-access` take the same options.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// Show all users' grants, not just your own (for those who may list everyone's grants —
    /// org_admin and org_owner; for anyone else it still shows only their own).
    #[arg(long)]
    pub all: bool,
    /// Include expired (and revoked) grants.
    #[arg(long)]
    pub show_expired: bool,
    #[command(flatten)]
    pub out: OutputArg,
}

#[derive(Debug, Subcommand)]
pub enum GrantCommand {
    /// List temporary grants: yours, or everyone's with --all.
    #[command(after_help = crate::examples!(
        "grantry grant list -e production",
        "grantry grant list -e admin --all --show-expired --json"
    ))]
    List(ListArgs),
    /// Revoke a grant; it stops working on the next check.
    #[command(after_help = crate::examples!(
        "grantry grant revoke -e admin b81d59163c54a77b96e5ae28"
    ))]
    Revoke {
        #[command(flatten)]
        env: EnvArg,
        /// The grant's id.
        id: String,
        #[command(flatten)]
        out: OutputArg,
    },
}

pub async fn run(command: GrantCommand) -> Result<()> {
    match command {
        GrantCommand::List(args) => run_list(args).await,
        GrantCommand::Revoke { env, id, out } => {
            let done: Value = client(&env.env)?.delete(&format!("/role/temporary_permission_grant/{id}/")).await?;
            if out.json {
                return output::json(&done);
            }
            crate::say!("Revoked grant {id}.");
            Ok(())
        }
    }
}

/// Lists grants as `args` say, as JSON or a table.
pub async fn run_list(args: ListArgs) -> Result<()> {
    let grants = list(&client(&args.env.env)?, args.all, args.show_expired).await?;
    if args.out.json {
        return output::json(&grants);
    }
    print(&grants, if args.show_expired { "No grants." } else { "No active grants." });
    Ok(())
}

/// Every grant the listing shows, all pages: the caller's own unless `all`, active ones unless
/// `show_expired`, newest first.
pub async fn list(c: &Client, all: bool, show_expired: bool) -> Result<Vec<GrantView>> {
    let mut query = vec![("sort_by", "-created_at".to_owned()), ("limit", "200".to_owned())];
    if !show_expired {
        query.push(("is_expired", "false".to_owned()));
    }
    if !all {
        let me: Value = c.get("/me", &[]).await?;
        if let Some(id) = me.pointer("/user/id").and_then(Value::as_str) {
            query.push(("user_id", id.to_owned()));
        }
    }
    let mut grants = Vec::new();
    loop {
        let page: Value = c.get("/role/temporary_permission_grants/", &query).await?;
        grants.extend(serde_json::from_value::<Vec<GrantView>>(page["temporary_permission_grants"].clone())?);
        match page["continuation_token"].as_u64() {
            Some(next) => {
                query.retain(|(k, _)| *k != "continuation_token");
                query.push(("continuation_token", next.to_string()));
            }
            None => return Ok(grants),
        }
    }
}

/// Prints grants as a table.
pub fn print(grants: &[GrantView], empty: &str) {
    let rows: Vec<Vec<String>> = grants
        .iter()
        .map(|g| {
            let (permission, owner) = match &g.permission_grant {
                Some(pg) => (
                    pg.permission_name.clone(),
                    pg.conditions.pointer("/conversation_user_id/value").and_then(Value::as_str).unwrap_or("-").to_owned(),
                ),
                None => (g.role.clone().unwrap_or_default(), "-".to_owned()),
            };
            let status = serde_json::to_value(g.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            vec![g.id.clone(), permission, g.user_email.clone().unwrap_or_default(), owner, status, fmt_opt_time(g.expires_at)]
        })
        .collect();
    output::print_table(&["ID", "PERMISSION", "USER", "CONVERSATION OWNER", "STATUS", "EXPIRES AT"], &rows, empty);
}
