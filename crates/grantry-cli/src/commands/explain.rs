//! `grantry explain`: seed 003's troubleshooting list, walked by the system — why a user may or may
//! not reach an agent, and the single smallest change that would grant it. Exit 0 allowed, 3 denied.

use super::agent::agent_id;
use super::client;
use crate::cli::{EnvArg, OutputArg};
use crate::exit::{Denied, UsageError};
use crate::output;
use anyhow::Result;
use clap::Args;
use serde_json::Value;

/// Explain a user's access to an agent.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// The user.
    #[arg(long)]
    pub user_email: String,
    /// The agent, as agent:ID (or agent:NAME).
    #[arg(long, value_name = "agent:ID")]
    pub resource: String,
    /// The permission: Agent:Use unless given (Agent:View, Agent:Edit, …).
    #[arg(long)]
    pub permission: Option<String>,
    #[command(flatten)]
    pub out: OutputArg,
}

pub async fn run(a: ExplainArgs) -> Result<()> {
    let Some(agent) = a.resource.strip_prefix("agent:").filter(|s| !s.trim().is_empty()) else {
        return Err(UsageError(format!("--resource `{}` must be agent:ID (or agent:NAME)", output::clean_line(&a.resource))).into());
    };
    let c = client(&a.env.env)?;
    let id = agent_id(&c, agent).await?;
    let mut query = vec![("user_email", a.user_email.clone())];
    if let Some(p) = &a.permission {
        query.push(("permission", p.clone()));
    }
    let walk: Value = c.get(&format!("/agents/{id}/access"), &query).await?;
    let allowed = walk["allowed"].as_bool() == Some(true);
    if a.out.json {
        output::json(&walk)?;
    } else {
        let text = |v: &Value| output::clean_line(v.as_str().unwrap_or_default());
        crate::say!(
            "{} on `{}` for {}: {}",
            text(&walk["permission"]),
            text(&walk["agent"]),
            text(&walk["user"]),
            if allowed { "allowed" } else { "denied" }
        );
        for s in walk["steps"].as_array().into_iter().flatten() {
            let mark = if s["ok"].as_bool() == Some(true) { "ok " } else { "NO " };
            crate::say!("  {mark} {}: {}", text(&s["check"]), text(&s["found"]));
        }
        for r in walk["reasons"].as_array().into_iter().flatten() {
            crate::say!("  - {}", text(&r["message"]));
        }
        if let Some(fix) = walk["fix"].as_str() {
            crate::say!("Smallest change that grants it: {}", output::clean_line(fix));
        }
        crate::say!("Decided now, from revision {}: there is no cache or session to refresh.", walk["revision"]);
    }
    if allowed {
        Ok(())
    } else {
        Err(Denied.into())
    }
}
