//! `grantry lookup`: which resources of a type may this principal act on with a permission, now?
//! Prints their ids, a page at a time (`--after` the last id of the page before).

use super::check::{principal, WhoArg};
use super::client;
use crate::cli::{EnvArg, OutputArg};
use crate::output;
use anyhow::Result;
use clap::Args;
use serde_json::{json, Value};

/// List the resources a principal may act on.
#[derive(Debug, Args)]
pub struct LookupArgs {
    #[command(flatten)]
    pub env: EnvArg,
    #[command(flatten)]
    pub who: WhoArg,
    /// The permission, e.g. Conversation:GetMessage.
    #[arg(long)]
    pub permission: String,
    /// The type of the resources: conversation, trace, …
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: String,
    /// At most this many ids (1 to 1,000).
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// The page after this one: the continuation token the last page printed.
    #[arg(long, value_name = "TOKEN")]
    pub after: Option<String>,
    /// Decide as of this time (RFC 3339) instead of now.
    #[arg(long)]
    pub at: Option<String>,
    #[command(flatten)]
    pub out: OutputArg,
}

pub async fn run(args: LookupArgs) -> Result<()> {
    let c = client(&args.env.env)?;
    let principal = principal(&c, &args.who).await?;
    let body = json!({ "principal": principal, "permission": args.permission, "resource_type": args.kind,
                       "limit": args.limit, "continuation_token": args.after, "at": args.at });
    let page: Value = c.post("/lookup", &body).await?;
    if args.out.json {
        return output::json(&page);
    }
    let ids = page["ids"].as_array().cloned().unwrap_or_default();
    for id in &ids {
        crate::say!("{}:{}", args.kind, id.as_str().unwrap_or_default());
    }
    if ids.is_empty() {
        crate::say!("no {} allows {}", args.kind, args.permission);
    }
    if let (true, Some(token)) = (page["has_more"].as_bool().unwrap_or(false), page["continuation_token"].as_str()) {
        crate::say!("(more: add --after {token})");
    }
    Ok(())
}
