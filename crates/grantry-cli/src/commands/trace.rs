//! `grantry trace capture`: register a trace, classified by its environment at capture.

use super::client;
use crate::cli::{EnvArg, OutputArg};
use crate::output;
use anyhow::Result;
use clap::Subcommand;
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub enum TraceCommand {
    /// Capture a trace; it is a production trace if its environment is production now, for good.
    #[command(after_help = crate::examples!(
        "grantry trace capture --project ml/agents --environment prod -e admin",
        "grantry trace capture --project ml/agents --environment staging -e admin --json"
    ))]
    Capture {
        /// The project, as WORKSPACE/PROJECT.
        #[arg(long)]
        project: String,
        /// The environment's name.
        #[arg(long)]
        environment: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
}

pub async fn run(command: TraceCommand) -> Result<()> {
    match command {
        TraceCommand::Capture { project, environment, env, out } => {
            let trace: Value = client(&env.env)?.post("/traces", &json!({ "project": project, "environment": environment })).await?;
            if out.json {
                return output::json(&trace);
            }
            let class = if trace["is_prod"].as_bool() == Some(true) { "production" } else { "non-production" };
            crate::say!(
                "Captured trace {} in {} ({class}).",
                trace["id"].as_str().unwrap_or("?"),
                trace["environment"].as_str().unwrap_or("?")
            );
            Ok(())
        }
    }
}
