//! `grantry conversation …`: register conversations, and seed 001's `request-access` and
//! `list-access`.

mod target;

use super::{client, fmt_time, grant};
use crate::cli::{EnvArg, OutputArg};
use crate::client::Client;
use crate::config::Config;
use crate::exit::NotFound;
use crate::output;
use anyhow::Result;
use clap::Subcommand;
use grantry_server::api::views::GrantView;
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub enum ConversationCommand {
    /// Register a conversation with its owner; prints its id and URL.
    #[command(after_help = crate::examples!(
        "grantry conversation create -e admin --owner-email bob@acme.example",
        "grantry conversation create -e admin --owner-email bob@acme.example --id 65a1f0c2d3e4b5a6978897aa"
    ))]
    Create {
        #[command(flatten)]
        env: EnvArg,
        /// The conversation owner's email.
        #[arg(long)]
        owner_email: String,
        /// A 24-hex id (a new one when absent).
        #[arg(long)]
        id: Option<String>,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Request temporary access to one conversation: three grants scoped to its owner.
    #[command(after_help = crate::examples!(
        "forge conversation request-access https://grantry.acme.example/acme/admin/conversation/65a1f0c2d3e4b5a6978897aa -j \"Debugging reported issue #42\"",
        "forge conversation request-access https://acme.app.example/admin/conversation/65a1f0c2d3e4b5a6978897aa -j \"Debugging issue #42\"   # seed 001's form",
        "forge conversation request-access 65a1f0c2d3e4b5a6978897aa -e dev -j \"Reviewing customer feedback\" -d PT4H",
        "forge conversation request-access 65a1f0c2d3e4b5a6978897aa -e dev -j \"Pairing on ticket 1234\" --user-email colleague@acme.example"
    ))]
    RequestAccess {
        /// Conversation URL or 24-char hex ID.
        conversation: String,
        /// Reason for access (at least the organization's minimum, 10 characters unless
        /// `grantry org settings` changed it).
        #[arg(short = 'j', long)]
        justification: String,
        /// The profile saved by `grantry login` (inferred from the URL when absent; required with
        /// a bare id).
        #[arg(short = 'e', long = "env")]
        env: Option<String>,
        /// ISO 8601 duration (e.g. PT30M, PT2H, P1D); the organization's default (PT2H) when
        /// absent, at most its maximum (P3D).
        #[arg(short = 'd', long)]
        duration: Option<String>,
        /// Email of user to grant access to (yourself when absent).
        #[arg(long)]
        user_email: Option<String>,
        #[command(flatten)]
        out: OutputArg,
    },
    /// List active temporary grants: yours, or everyone's with --all.
    #[command(after_help = crate::examples!(
        "forge conversation list-access -e dev                            # your active grants",
        "forge conversation list-access -e admin --all --show-expired     # everyone's, ended ones too"
    ))]
    ListAccess(grant::ListArgs),
}

pub async fn run(command: ConversationCommand) -> Result<()> {
    match command {
        ConversationCommand::Create { env, owner_email, id, out } => {
            let c = client(&env.env)?;
            let made: Value = c.post("/conversation/", &json!({ "user_email": owner_email, "id": id })).await?;
            let conv = &made["conversation"];
            let url = format!("{}{}", c.url(), conv["url_path"].as_str().unwrap_or_default());
            if out.json {
                return output::json(&json!({ "id": conv["id"], "user_id": conv["user_id"], "url": url, "revision": made["revision"] }));
            }
            crate::say!("Registered conversation {} (owner {owner_email}).", conv["id"].as_str().unwrap_or("?"));
            crate::say!("URL: {url}");
            Ok(())
        }
        ConversationCommand::RequestAccess { conversation, justification, env, duration, user_email, out } => {
            let config = Config::load()?;
            let target = target::resolve(&conversation, env.as_deref(), &config)?;
            let c = Client::new(config.profile(&target.env)?)?;
            request_access(&c, &target, &justification, duration, user_email, out.json).await
        }
        ConversationCommand::ListAccess(args) => grant::run_list(args).await,
    }
}

async fn request_access(
    c: &Client,
    target: &target::Target,
    justification: &str,
    duration: Option<String>,
    user_email: Option<String>,
    json_out: bool,
) -> Result<()> {
    // As seed 001's sequence: fetch the conversation's owner, then create the grants (one call:
    // the server writes all three in one transaction, or none).
    let found: Value = c.get("/conversation/", &[("id", target.id.clone())]).await?;
    let owner = found
        .pointer("/conversations/0/user_id")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            NotFound(format!("conversation `{}` not found in environment `{}`; check the id or the environment", target.id, target.env))
        })?
        .to_owned();
    let body = json!({ "justification": justification, "duration": duration, "user_email": user_email });
    let made: Value = c.post(&format!("/conversation/{}/request_access", target.id), &body).await?;
    let grants: Vec<GrantView> = serde_json::from_value(made["grants"].clone())?;
    if json_out {
        return output::json(
            &json!({ "conversation_id": target.id, "owner_user_id": owner, "grants": grants, "revision": made["revision"] }),
        );
    }
    let who = grants.first().and_then(|g| g.user_email.clone()).unwrap_or_default();
    let until = grants.first().and_then(|g| g.expires_at).map(fmt_time).unwrap_or_default();
    crate::say!("Granted {who} temporary access to conversation {} (owner {owner}) until {until}:", target.id);
    grant::print(&grants, "");
    Ok(())
}
