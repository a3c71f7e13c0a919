//! `grantry pool …`: agent pools (seed 004) — register, list, show and delete them. A pool is
//! named by its id or its name; deleting one revokes every grant on it at once.

use super::client;
use crate::cli::{EnvArg, OutputArg};
use crate::client::Client;
use crate::output::{self, text};
use anyhow::Result;
use clap::Subcommand;
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub enum PoolCommand {
    /// Register an agent pool.
    #[command(after_help = crate::examples!(
        "grantry pool create \"Production EU\" -e admin",
        "grantry pool create \"Payments on-call\" --description \"Agents of the payments service\" -e admin"
    ))]
    Create {
        /// The pool's name, unique in the organization (without regard to case).
        name: String,
        /// What the pool is for.
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// List the organization's agent pools, with their ids.
    #[command(after_help = crate::examples!("grantry pool list -e admin", "grantry pool list --json -e admin"))]
    List {
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Show one agent pool.
    #[command(after_help = crate::examples!("grantry pool show \"Production EU\" -e admin"))]
    Show {
        /// The pool's name or id.
        pool: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Delete an agent pool: every grant on it is revoked at once.
    #[command(after_help = crate::examples!("grantry pool delete \"Production EU\" -e admin"))]
    Delete {
        /// The pool's name or id.
        pool: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
}

/// The id of the pool `text` names: an id as it is, or a name.
pub async fn pool_id(client: &Client, text: &str) -> Result<String> {
    super::named_id(client, ("/agent-pools", "pools"), "agent pool", "grantry pool list", text).await
}

fn rows(pools: &[&Value]) -> Vec<Vec<String>> {
    pools.iter().map(|p| vec![text(p, "id"), text(p, "name"), text(p, "description")]).collect()
}

pub async fn run(command: PoolCommand) -> Result<()> {
    match command {
        PoolCommand::Create { name, description, env, out } => {
            let written: Value = client(&env.env)?.post("/agent-pools", &json!({ "name": name, "description": description })).await?;
            if out.json {
                return output::json(&written);
            }
            crate::say!("Created agent pool `{}` ({}).", text(&written["pool"], "name"), text(&written["pool"], "id"));
            Ok(())
        }
        PoolCommand::List { env, out } => {
            let list: Value = client(&env.env)?.get("/agent-pools", &[]).await?;
            if out.json {
                return output::json(&list["pools"]);
            }
            let pools: Vec<&Value> = list["pools"].as_array().into_iter().flatten().collect();
            output::print_table(&["ID", "NAME", "DESCRIPTION"], &rows(&pools), "No agent pools.");
            Ok(())
        }
        PoolCommand::Show { pool, env, out } => {
            let c = client(&env.env)?;
            let shown: Value = c.get(&format!("/agent-pools/{}", pool_id(&c, &pool).await?), &[]).await?;
            if out.json {
                return output::json(&shown);
            }
            output::print_table(&["ID", "NAME", "DESCRIPTION"], &rows(&[&shown]), "No such pool.");
            Ok(())
        }
        PoolCommand::Delete { pool, env, out } => {
            let c = client(&env.env)?;
            let written: Value = c.delete(&format!("/agent-pools/{}", pool_id(&c, &pool).await?)).await?;
            if out.json {
                return output::json(&written);
            }
            crate::say!("Deleted agent pool `{}`; its grants are revoked.", text(&written["pool"], "name"));
            Ok(())
        }
    }
}
