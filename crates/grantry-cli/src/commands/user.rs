//! `grantry user …`: create, list, suspend, resume and delete users.

use super::{client, fmt_time, user_id_by_email};
use crate::cli::{EnvArg, OutputArg};
use crate::exit::UsageError;
use crate::output;
use anyhow::Result;
use clap::{Args, Subcommand};
use grantry_server::api::views::UserView;
use grantry_server::service::Standing;
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
    /// Suspend a user: their tokens and grants stop working at once; on resume, what has not ended
    /// meanwhile works again.
    #[command(after_help = crate::examples!(
        "grantry user suspend -e admin --email dev@acme.example -j \"on leave until 2026-12-01\""
    ))]
    Suspend(StandingArgs),
    /// Lift a suspension.
    #[command(after_help = crate::examples!("grantry user resume -e admin --email dev@acme.example -j \"back from leave\""))]
    Resume(StandingArgs),
    /// Delete a user for good: their grants and tokens are revoked and the user removed (the audit
    /// log keeps the history); the email may then be used for a new user.
    #[command(after_help = crate::examples!(
        "grantry user delete -e admin --email dev@acme.example --yes -j \"left the company, ticket HR-311\""
    ))]
    Delete {
        #[command(flatten)]
        who: StandingArgs,
        /// Confirm: deleting cannot be undone.
        #[arg(long)]
        yes: bool,
    },
}

/// Whose standing changes, and why.
#[derive(Debug, Args)]
pub struct StandingArgs {
    #[command(flatten)]
    env: EnvArg,
    /// The user's email.
    #[arg(long)]
    email: String,
    /// Why (kept in the audit log).
    #[arg(short = 'j', long)]
    justification: Option<String>,
    #[command(flatten)]
    out: OutputArg,
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
        UserCommand::Suspend(who) => standing(who, Standing::Suspend).await,
        UserCommand::Resume(who) => standing(who, Standing::Resume).await,
        UserCommand::Delete { who, yes } => {
            if !yes {
                return Err(UsageError(format!(
                    "deleting `{}` cannot be undone; pass --yes to confirm (or suspend them instead)",
                    who.email
                ))
                .into());
            }
            standing(who, Standing::Delete).await
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

/// Suspends, resumes or deletes the user `who` names.
async fn standing(StandingArgs { env, email, justification, out }: StandingArgs, standing: Standing) -> Result<()> {
    let c = client(&env.env)?;
    let id = user_id_by_email(&c, &email).await?;
    let why = json!({ "justification": justification });
    let (done, what): (Value, _) = match standing {
        Standing::Suspend => (
            c.post(&format!("/users/{id}/suspend"), &why).await?,
            "Suspended; their tokens and grants stop working until `grantry user resume`",
        ),
        Standing::Resume => (c.post(&format!("/users/{id}/resume"), &why).await?, "Resumed; their tokens and grants work again"),
        Standing::Delete => {
            let query: Vec<(&str, String)> = justification.map(|j| ("justification", j)).into_iter().collect();
            (c.delete_with(&format!("/users/{id}"), &query).await?, "Deleted; their grants and tokens are revoked")
        }
    };
    if out.json {
        return output::json(&done);
    }
    crate::say!("{what}: {email} ({id}).");
    Ok(())
}
