//! `grantry review …`: seed 003's access reviews — certify or revoke a group's assignment to an
//! agent or a user's membership of a group. `grantry report compliance` reads them.

use super::agent::agent_id;
use super::client;
use super::group::group_id;
use crate::cli::EnvArg;
use crate::exit::UsageError;
use crate::output;
use anyhow::Result;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

/// What a review is about: --agent and --group (an assignment), or --group and --user-email (a membership).
#[derive(Debug, Args)]
pub struct ReviewTarget {
    /// The agent (name or id): review the group's assignment to it.
    #[arg(long, conflicts_with = "user_email")]
    pub agent: Option<String>,
    /// The group (name or id).
    #[arg(long)]
    pub group: String,
    /// The member: review their membership of the group.
    #[arg(long, required_unless_present = "agent")]
    pub user_email: Option<String>,
    /// Why (kept in the audit log).
    #[arg(long)]
    pub note: Option<String>,
    #[command(flatten)]
    pub env: EnvArg,
    /// Print the review as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Certify an assignment or a membership: it stays, and the review is recorded.
    #[command(after_help = crate::examples!(
        "grantry review certify --agent \"Sales Agent\" --group \"Sales Team\" --note \"Q4 review\" -e admin",
        "grantry review certify --group \"Sales Team\" --user-email sam@acme.example -e admin"
    ))]
    Certify(ReviewTarget),
    /// Revoke an assignment or a membership: it is taken away now, and the review is recorded.
    #[command(after_help = crate::examples!(
        "grantry review revoke --group \"Sales Team\" --user-email sam@acme.example --note \"moved to support\" -e admin",
        "grantry review revoke --agent \"Sales Agent\" --group \"Contractors\" -e admin"
    ))]
    Revoke(ReviewTarget),
}

pub async fn review(command: ReviewCommand) -> Result<()> {
    let (verdict, t) = match command {
        ReviewCommand::Certify(t) => ("certify", t),
        ReviewCommand::Revoke(t) => ("revoke", t),
    };
    let c = client(&t.env.env)?;
    let group = group_id(&c, &t.group).await?;
    let body = match (&t.agent, &t.user_email) {
        (Some(agent), _) => {
            json!({ "kind": "assignment", "agent": agent_id(&c, agent).await?, "group": group, "verdict": verdict, "note": t.note })
        }
        (None, Some(user)) => json!({ "kind": "membership", "group": group, "user": user, "verdict": verdict, "note": t.note }),
        (None, None) => return Err(UsageError("give --agent (an assignment) or --user-email (a membership)".into()).into()),
    };
    let done: Value = c.post("/reviews", &body).await?;
    if t.json {
        return output::json(&done);
    }
    crate::say!(
        "{} {} (revision {}).",
        if verdict == "certify" { "Certified" } else { "Revoked" },
        output::clean_line(done["summary"].as_str().unwrap_or_default()),
        done["revision"]
    );
    Ok(())
}
