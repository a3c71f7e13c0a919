//! `grantry user …`: create and list users.

use super::{client, fmt_time};
use crate::cli::{EnvArg, OutputArg};
use crate::output;
use anyhow::Result;
use clap::Subcommand;
use grantry_server::api::views::UserView;
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user with an organization role.
    #[command(after_help = crate::examples!(
        "grantry user create -e admin --email dev@acme.example",
        "grantry user create -e admin --email dev@acme.example --token      # and print a token for them (eight hours)",
        "grantry user create -e admin --email ops@acme.example --role org_admin"
    ))]
    Create {
        #[command(flatten)]
        env: EnvArg,
        /// The user's email.
        #[arg(long)]
        email: String,
        /// Organization role: org_member (default), org_admin or org_owner.
        #[arg(long, default_value = "org_member")]
        role: String,
        /// Also issue and print a token for the new user (it lasts eight hours; they can make their own).
        #[arg(long)]
        token: bool,
        #[command(flatten)]
        out: OutputArg,
    },
    /// List users.
    #[command(after_help = crate::examples!(
        "grantry user list -e admin",
        "grantry user list -e admin --json"
    ))]
    List {
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
}

pub async fn run(command: UserCommand) -> Result<()> {
    match command {
        UserCommand::Create { env, email, role, token, out } => {
            let created: Value = client(&env.env)?.post("/users", &json!({ "email": email, "role": role, "token": token })).await?;
            if out.json {
                return output::json(&created);
            }
            let user: UserView = serde_json::from_value(created["user"].clone())?;
            crate::say!("Created user {} ({}) with role {}.", user.email, user.id, user.roles.join(", "));
            if let Some(t) = created["token"]["token"].as_str() {
                crate::say!("Token (shown once; keep it secret): {t}");
            }
            Ok(())
        }
        UserCommand::List { env, out } => {
            let list: Value = client(&env.env)?.get("/users", &[]).await?;
            if out.json {
                return output::json(&list["users"]);
            }
            let users: Vec<UserView> = serde_json::from_value(list["users"].clone())?;
            let rows: Vec<Vec<String>> =
                users.into_iter().map(|u| vec![u.id, u.email, u.status, u.roles.join(","), fmt_time(u.created_at)]).collect();
            output::print_table(&["ID", "EMAIL", "STATUS", "ROLES", "CREATED"], &rows, "No users.");
            Ok(())
        }
    }
}
