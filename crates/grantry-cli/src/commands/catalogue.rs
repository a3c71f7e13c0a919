//! `grantry permission list`: the catalogue's permissions (`grantry role list` shows its roles).

use super::client;
use crate::cli::{EnvArg, OutputArg};
use crate::output;
use anyhow::Result;
use clap::Subcommand;
use serde_json::Value;

#[derive(Debug, Subcommand)]
pub enum PermissionCommand {
    /// List the permissions, with the attributes a condition on each may test.
    #[command(after_help = crate::examples!(
        "grantry permission list -e admin",
        "grantry permission list -e admin --json"
    ))]
    List {
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

pub async fn permissions(command: PermissionCommand) -> Result<()> {
    let PermissionCommand::List { env, out } = command;
    let cat: Value = client(&env.env)?.get("/catalogue", &[]).await?;
    if out.json {
        return output::json(&cat["permissions"]);
    }
    let rows: Vec<Vec<String>> = cat["permissions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let attrs: Vec<String> =
                p["attributes"].as_array().into_iter().flatten().map(|a| format!("{}: {}", s(&a[0]), s(&a[1]))).collect();
            vec![s(&p["name"]), s(&p["kind"]), attrs.join(", "), s(&p["description"])]
        })
        .collect();
    output::print_table(&["PERMISSION", "KIND", "CONDITION ATTRIBUTES", "DESCRIPTION"], &rows, "No permissions.");
    Ok(())
}
