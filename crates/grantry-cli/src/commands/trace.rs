//! `grantry trace …`: capture a trace (classified by its environment at capture), list and show
//! the traces one may read.

use super::{client, fmt_time, id_arg};
use crate::cli::{EnvArg, OutputArg};
use crate::output;
use anyhow::Result;
use clap::Subcommand;
use grantry_server::api::views::TraceView;
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
    /// List the traces you may read (each by the permission of its class), newest first.
    #[command(after_help = crate::examples!(
        "grantry trace list -e admin",
        "grantry trace list -e admin --project ml/agents --environment prod --limit 20"
    ))]
    List {
        /// Only this project's traces (WORKSPACE/PROJECT).
        #[arg(long)]
        project: Option<String>,
        /// Only this environment's traces (needs --project).
        #[arg(long, requires = "project")]
        environment: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Show one trace, if you may read it.
    #[command(after_help = crate::examples!("grantry trace show 0f1e2d3c4b5a69788796a5b4 -e admin"))]
    Show {
        /// The trace's id.
        id: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
}

fn class(is_prod: bool) -> &'static str {
    if is_prod {
        "production"
    } else {
        "non-production"
    }
}

pub async fn run(command: TraceCommand) -> Result<()> {
    match command {
        TraceCommand::Capture { project, environment, env, out } => {
            let trace: Value = client(&env.env)?.post("/traces", &json!({ "project": project, "environment": environment })).await?;
            if out.json {
                return output::json(&trace);
            }
            let t: TraceView = serde_json::from_value(trace)?;
            crate::say!("Captured trace {} in {} ({}).", t.id, t.environment, class(t.is_prod));
            Ok(())
        }
        TraceCommand::List { project, environment, limit, env, out } => {
            let mut query = vec![("limit", limit.to_string())];
            if let Some(p) = project {
                query.push(("under", environment.map_or_else(|| p.clone(), |e| format!("{p}/{e}"))));
            }
            let list: Value = client(&env.env)?.get("/traces", &query).await?;
            if out.json {
                return output::json(&list["traces"]);
            }
            let traces: Vec<TraceView> = serde_json::from_value(list["traces"].clone())?;
            let rows: Vec<Vec<String>> =
                traces.into_iter().map(|t| vec![t.id, t.environment, class(t.is_prod).to_owned(), fmt_time(t.created_at)]).collect();
            output::print_table(&["ID", "ENVIRONMENT", "CLASS", "CAPTURED"], &rows, "No traces you may read.");
            Ok(())
        }
        TraceCommand::Show { id, env, out } => {
            let id = id_arg("trace", &id)?;
            let trace: Value = client(&env.env)?.get(&format!("/traces/{id}"), &[]).await?;
            if out.json {
                return output::json(&trace);
            }
            let t: TraceView = serde_json::from_value(trace)?;
            crate::say!("Trace {} in {} ({}), captured {}.", t.id, t.environment, class(t.is_prod), fmt_time(t.created_at));
            Ok(())
        }
    }
}
