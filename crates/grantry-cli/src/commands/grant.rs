//! `grantry grant …`: create (seed 001's raw API), list and revoke temporary permission grants;
//! the listing that `conversation list-access` prints.

use super::{attr_value, client, fmt_opt_time, id_arg, key_value, user_id_by_email};
use crate::cli::{EnvArg, OutputArg};
use crate::client::Client;
use crate::exit::UsageError;
use crate::output;
use anyhow::Result;
use clap::{Args, Subcommand};
use grantry_server::api::views::GrantView;
use serde_json::{json, Map, Value};

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
    /// Create a temporary permission grant: seed 001's raw API, for any permission and conditions
    /// your authority allows (see the temporary-grant policy in the README).
    #[command(after_help = crate::examples!(
        "grantry grant create -e admin --user-email dev@acme.example --permission Conversation:GetMessage --equals conversation_user_id=8aeeefa9dd20d5912158d50e --own-org -j \"Debugging issue #42\" -d PT2H",
        "grantry grant create -e admin --user-email dev@acme.example --permission traces:read:prod --equals is_prod=true -j \"incident 4711\" -d PT4H --tag incident"
    ))]
    Create(CreateArgs),
    /// List temporary grants: yours, or everyone's with --all.
    #[command(after_help = crate::examples!(
        "grantry grant list -e dev",
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

/// A grant to create.
#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    env: EnvArg,
    /// Whom the grant is for (yourself when absent).
    #[arg(long)]
    user_email: Option<String>,
    /// The permission, e.g. Conversation:GetMessage (see `grantry permission list`).
    #[arg(long)]
    permission: String,
    /// A condition: the resource's attribute KEY must equal VALUE (repeatable).
    #[arg(long = "equals", value_name = "KEY=VALUE")]
    equals: Vec<String>,
    /// A condition: the attribute KEY must be one of the comma-separated values (repeatable).
    #[arg(long = "in", value_name = "KEY=V1,V2")]
    one_of: Vec<String>,
    /// A condition: the attribute KEY must not equal VALUE (repeatable).
    #[arg(long = "not-equals", value_name = "KEY=VALUE")]
    not_equals: Vec<String>,
    /// Also require org_id = this organization's id (the seed's shape).
    #[arg(long)]
    own_org: bool,
    /// Why (at least the organization's minimum length).
    #[arg(short = 'j', long)]
    justification: String,
    /// ISO 8601 duration; the organization's default (PT2H) when absent, at most its maximum.
    #[arg(short = 'd', long)]
    duration: Option<String>,
    /// A tag to find the grant by later (repeatable).
    #[arg(long = "tag")]
    tags: Vec<String>,
    #[command(flatten)]
    out: OutputArg,
}

/// The conditions the flags describe, as the API takes them.
fn conditions(a: &CreateArgs, org_id: Option<&str>) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    let mut put = |key: &str, condition: Value| -> Result<()> {
        match out.insert(key.to_owned(), condition) {
            None => Ok(()),
            Some(_) => Err(UsageError(format!("two conditions on `{key}`; give one per attribute")).into()),
        }
    };
    for text in &a.equals {
        let (k, v) = key_value("equals", text)?;
        put(k, json!({ "type": "Equals", "value": v }))?;
    }
    for text in &a.one_of {
        let (k, _) = key_value("in", text)?;
        let values: Vec<Value> = text[k.len() + 1..].split(',').map(attr_value).collect();
        put(k, json!({ "type": "In", "values": values }))?;
    }
    for text in &a.not_equals {
        let (k, v) = key_value("not-equals", text)?;
        put(k, json!({ "type": "NotEquals", "value": v }))?;
    }
    if let Some(id) = org_id {
        put("org_id", json!({ "type": "Equals", "value": id }))?;
    }
    Ok(out)
}

async fn create(a: CreateArgs) -> Result<()> {
    let c = client(&a.env.env)?;
    let me: Value = c.get("/me", &[]).await?;
    let org_id = me["org_id"].as_str().ok_or_else(|| anyhow::anyhow!("the server's /me answer names no organization"))?;
    let conditions = conditions(&a, a.own_org.then_some(org_id))?;
    let user_id = match &a.user_email {
        Some(e) => user_id_by_email(&c, e).await?,
        None => me.pointer("/user/id").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| {
            UsageError("this profile is not a user's (an API key's?); say whom the grant is for with --user-email".to_owned())
        })?,
    };
    let body = json!({
        "user_id": user_id,
        "duration": a.duration,
        "permission_grant": { "permission_name": a.permission, "conditions": conditions },
        "justification": a.justification,
        "tags": a.tags,
    });
    let made: Value = c.post("/role/temporary_permission_grant/", &body).await?;
    if a.out.json {
        return output::json(&made);
    }
    let until = made["expires_at"].as_str().and_then(|t| t.parse().ok());
    let who = a.user_email.as_deref().unwrap_or("you");
    crate::say!(
        "Granted `{}` to {who} until {} (grant {}).",
        a.permission,
        fmt_opt_time(until),
        made["temporary_permission_grant_id"].as_str().unwrap_or("?")
    );
    Ok(())
}

pub async fn run(command: GrantCommand) -> Result<()> {
    match command {
        GrantCommand::Create(args) => create(args).await,
        GrantCommand::List(args) => run_list(args).await,
        GrantCommand::Revoke { env, id, out } => {
            let id = id_arg("grant", &id)?;
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
