//! `grantry apikey …`: API keys of projects (seed 002). The secret is printed once, at creation.

use super::{client, fmt_opt_time, fmt_time, id_arg};
use crate::cli::{EnvArg, OutputArg};
use crate::output;
use anyhow::Result;
use clap::Subcommand;
use grantry_core::Timestamp;
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key that acts only within a project and its scopes; prints its secret once.
    #[command(after_help = crate::examples!(
        "grantry apikey create -e admin --project ml/agents --scope traces:read:prod --name prod-reader",
        "grantry apikey create -e admin --project ml/agents --scope Trace:Capture --name ingest",
        "grantry apikey create -e dev --project ml/agents --scope traces:read --name my-agent --delegate --duration PT8H"
    ))]
    Create {
        /// The project, as WORKSPACE/PROJECT.
        #[arg(long)]
        project: String,
        /// A permission the key carries, e.g. traces:read:prod (repeatable).
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// A name to recognise the key by.
        #[arg(long)]
        name: Option<String>,
        /// Hand your own access to an agent: the key never allows what you may not do at the moment of a check.
        #[arg(long)]
        delegate: bool,
        /// A delegated key's lifetime, as ISO 8601 (PT8H).
        #[arg(long, requires = "delegate")]
        duration: Option<String>,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// List the keys of the projects you manage keys of.
    #[command(after_help = crate::examples!(
        "grantry apikey list -e admin",
        "grantry apikey list -e admin --json"
    ))]
    List {
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Add or remove scopes of a key.
    #[command(after_help = crate::examples!(
        "grantry apikey edit 5f3c0d7e9a1b2c3d4e5f6a7b --add-scope traces:read -e admin",
        "grantry apikey edit 5f3c0d7e9a1b2c3d4e5f6a7b --remove-scope traces:read:prod --add-scope traces:read -e admin"
    ))]
    Edit {
        /// The key's id.
        id: String,
        /// A scope to add (repeatable).
        #[arg(long = "add-scope", required_unless_present = "remove")]
        add: Vec<String>,
        /// A scope to remove (repeatable).
        #[arg(long = "remove-scope")]
        remove: Vec<String>,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Rename a key.
    #[command(after_help = crate::examples!("grantry apikey rename 5f3c0d7e9a1b2c3d4e5f6a7b --name ingest-eu -e admin"))]
    Rename {
        /// The key's id.
        id: String,
        /// The new name (1 to 100 printable characters).
        #[arg(long)]
        name: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Give a key a new secret (printed once); its current secrets keep working for --grace, then
    /// are refused. Audited as apikey.rotated.
    #[command(after_help = crate::examples!(
        "grantry apikey rotate 5f3c0d7e9a1b2c3d4e5f6a7b --grace PT1H -e admin      # an hour to roll the new secret out",
        "grantry apikey rotate 5f3c0d7e9a1b2c3d4e5f6a7b --grace PT0S -e admin      # the old secret stops now"
    ))]
    Rotate {
        /// The key's id.
        id: String,
        /// How long the current secrets keep working, ISO 8601: PT0S (not at all) up to P7D.
        #[arg(long)]
        grace: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Revoke a key: it is refused from the next request on.
    #[command(after_help = crate::examples!(
        "grantry apikey revoke 5f3c0d7e9a1b2c3d4e5f6a7b -e admin"
    ))]
    Revoke {
        /// The key's id.
        id: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
}

fn scopes(k: &Value) -> String {
    k["scopes"].as_array().into_iter().flatten().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")
}

fn time(v: &Value) -> Option<Timestamp> {
    v.as_str().and_then(|t| t.parse().ok())
}

pub async fn run(command: ApiKeyCommand) -> Result<()> {
    match command {
        ApiKeyCommand::Create { project, scopes: s, name, delegate, duration, env, out } => {
            let body = json!({ "project": project, "scopes": s, "name": name, "delegate": delegate, "duration": duration });
            let created: Value = client(&env.env)?.post("/api-keys", &body).await?;
            if out.json {
                return output::json(&created);
            }
            let k = &created["key"];
            crate::say!("Created api key {} in {} with scopes: {}.", k["id"].as_str().unwrap_or("?"), project, scopes(k));
            crate::say!("Secret (shown only now; send it as `Authorization: Bearer …`):");
            crate::say!("{}", created["secret"].as_str().unwrap_or_default());
            Ok(())
        }
        ApiKeyCommand::List { env, out } => {
            let list: Value = client(&env.env)?.get("/api-keys", &[]).await?;
            if out.json {
                return output::json(&list["keys"]);
            }
            let rows: Vec<Vec<String>> = list["keys"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|k| {
                    let created = time(&k["created_at"]).map(fmt_time).unwrap_or_default();
                    let text = |f: &str| k[f].as_str().unwrap_or_default().to_owned();
                    vec![text("id"), text("name"), text("project"), scopes(k), created, fmt_opt_time(time(&k["revoked_at"]))]
                })
                .collect();
            output::print_table(&["ID", "NAME", "PROJECT", "SCOPES", "CREATED", "REVOKED"], &rows, "No API keys.");
            Ok(())
        }
        ApiKeyCommand::Edit { id, add, remove, env, out } => {
            let id = id_arg("api key", &id)?;
            let body = json!({ "add_scopes": add, "remove_scopes": remove });
            let written: Value = client(&env.env)?.patch(&format!("/api-keys/{id}"), &body).await?;
            if out.json {
                return output::json(&written);
            }
            crate::say!("Api key {id} now carries: {}.", scopes(&written["key"]));
            Ok(())
        }
        ApiKeyCommand::Rename { id, name, env, out } => {
            let id = id_arg("api key", &id)?;
            let written: Value = client(&env.env)?.patch(&format!("/api-keys/{id}"), &json!({ "name": name })).await?;
            if out.json {
                return output::json(&written);
            }
            crate::say!("Api key {id} is now named `{}`.", written["key"]["name"].as_str().unwrap_or_default());
            Ok(())
        }
        ApiKeyCommand::Rotate { id, grace, env, out } => {
            let id = id_arg("api key", &id)?;
            let rotated: Value = client(&env.env)?.post(&format!("/api-keys/{id}/rotate"), &json!({ "grace": grace })).await?;
            if out.json {
                return output::json(&rotated);
            }
            let until = time(&rotated["old_secrets_until"]).map(fmt_time).unwrap_or_default();
            crate::say!("Rotated api key {id}; its old secrets work until {until}.");
            crate::say!("New secret (shown only now; send it as `Authorization: Bearer …`):");
            crate::say!("{}", rotated["secret"].as_str().unwrap_or_default());
            Ok(())
        }
        ApiKeyCommand::Revoke { id, env, out } => {
            let id = id_arg("api key", &id)?;
            let written: Value = client(&env.env)?.delete(&format!("/api-keys/{id}")).await?;
            if out.json {
                return output::json(&written);
            }
            crate::say!("Revoked api key {id}; it is refused from the next request on.");
            Ok(())
        }
    }
}
