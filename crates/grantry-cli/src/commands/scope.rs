//! `grantry workspace|project|environment …`: the scope tree (seed 002).

use super::{client, slug_arg};
use crate::cli::{EnvArg, OutputArg};
use crate::exit::UsageError;
use crate::output;
use anyhow::Result;
use clap::Subcommand;
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Create a workspace.
    #[command(after_help = crate::examples!(
        "grantry workspace create ml -e admin"
    ))]
    Create {
        /// The workspace's slug (lowercase letters, digits, dashes).
        slug: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// List workspaces.
    #[command(after_help = crate::examples!(
        "grantry workspace list -e admin",
        "grantry workspace list -e admin --json"
    ))]
    List {
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project, named WORKSPACE/PROJECT.
    #[command(after_help = crate::examples!(
        "grantry project create ml/agents -e admin"
    ))]
    Create {
        /// WORKSPACE/PROJECT.
        project: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// List projects.
    #[command(after_help = crate::examples!(
        "grantry project list -e admin",
        "grantry project list -e admin --workspace ml"
    ))]
    List {
        /// Only the projects of this workspace.
        #[arg(long)]
        workspace: Option<String>,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum EnvironmentCommand {
    /// Create an environment in a project.
    #[command(after_help = crate::examples!(
        "grantry environment create --project ml/agents prod --production -e admin",
        "grantry environment create --project ml/agents staging -e admin"
    ))]
    Create {
        /// The project, as WORKSPACE/PROJECT.
        #[arg(long)]
        project: String,
        /// The environment's name.
        name: String,
        /// Traces captured here are production traces.
        #[arg(long)]
        production: bool,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Change an environment's production flag (traces already captured keep their class).
    #[command(after_help = crate::examples!(
        "grantry environment update --project ml/agents staging --production true -e admin",
        "grantry environment update --project ml/agents staging --production false -e admin     # org_admin or higher"
    ))]
    Update {
        /// The project, as WORKSPACE/PROJECT.
        #[arg(long)]
        project: String,
        /// The environment's name.
        name: String,
        /// true or false.
        #[arg(long, action = clap::ArgAction::Set, value_parser = clap::value_parser!(bool))]
        production: bool,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// List environments.
    #[command(after_help = crate::examples!(
        "grantry environment list -e admin",
        "grantry environment list --project ml/agents -e admin"
    ))]
    List {
        /// Only the environments of this project (WORKSPACE/PROJECT).
        #[arg(long)]
        project: Option<String>,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
}

fn print_written(written: &Value, json_out: bool, verb: &str) -> Result<()> {
    if json_out {
        return output::json(written);
    }
    let s = &written["scope"];
    let prod = if s["is_production"].as_bool() == Some(true) { " (production)" } else { "" };
    crate::say!("{verb} {} `{}`{prod}.", s["kind"].as_str().unwrap_or("scope"), s["path"].as_str().unwrap_or("?"));
    Ok(())
}

fn print_list(list: &Value, json_out: bool) -> Result<()> {
    if json_out {
        return output::json(&list["scopes"]);
    }
    let rows: Vec<Vec<String>> = list["scopes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let prod = if s["is_production"].as_bool() == Some(true) { "yes" } else { "no" };
            vec![
                s["path"].as_str().unwrap_or_default().to_owned(),
                s["kind"].as_str().unwrap_or_default().to_owned(),
                prod.to_owned(),
                s["id"].as_str().unwrap_or_default().to_owned(),
            ]
        })
        .collect();
    output::print_table(&["PATH", "KIND", "PRODUCTION", "ID"], &rows, "None.");
    Ok(())
}

fn under(filter: Option<String>) -> Vec<(&'static str, String)> {
    filter.map(|u| vec![("under", u)]).unwrap_or_default()
}

pub async fn workspace(command: WorkspaceCommand) -> Result<()> {
    match command {
        WorkspaceCommand::Create { slug, env, out } => {
            print_written(&client(&env.env)?.post("/workspaces", &json!({ "slug": slug })).await?, out.json, "Created")
        }
        WorkspaceCommand::List { env, out } => print_list(&client(&env.env)?.get("/workspaces", &[]).await?, out.json),
    }
}

pub async fn project(command: ProjectCommand) -> Result<()> {
    match command {
        ProjectCommand::Create { project, env, out } => {
            print_written(&client(&env.env)?.post("/projects", &json!({ "project": project })).await?, out.json, "Created")
        }
        ProjectCommand::List { workspace, env, out } => print_list(&client(&env.env)?.get("/projects", &under(workspace)).await?, out.json),
    }
}

pub async fn environment(command: EnvironmentCommand) -> Result<()> {
    match command {
        EnvironmentCommand::Create { project, name, production, env, out } => {
            let body = json!({ "project": project, "name": name, "is_production": production });
            print_written(&client(&env.env)?.post("/environments", &body).await?, out.json, "Created")
        }
        EnvironmentCommand::Update { project, name, production, env, out } => {
            let (ws, prj) =
                project.split_once('/').ok_or_else(|| UsageError(format!("--project `{project}` must be WORKSPACE/PROJECT")))?;
            let (ws, prj, name) = (slug_arg("workspace", ws)?, slug_arg("project", prj)?, slug_arg("environment", &name)?);
            let body = json!({ "is_production": production });
            print_written(&client(&env.env)?.patch(&format!("/projects/{ws}/{prj}/environments/{name}"), &body).await?, out.json, "Updated")
        }
        EnvironmentCommand::List { project, env, out } => {
            print_list(&client(&env.env)?.get("/environments", &under(project)).await?, out.json)
        }
    }
}
