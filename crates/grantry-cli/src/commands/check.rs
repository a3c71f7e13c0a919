//! `grantry check`: may this principal do this action on this resource, now? Prints the decision
//! and its reasons; exit 0 allowed, 3 denied.

use super::{client, key_value};
use crate::cli::{EnvArg, OutputArg};
use crate::exit::{Denied, UsageError};
use crate::output;
use anyhow::Result;
use clap::Args;
use serde_json::{json, Map, Value};

/// Whom a check or a lookup is about.
#[derive(Debug, Args)]
pub struct WhoArg {
    /// The user (yourself when neither this nor --api-key).
    #[arg(long, conflicts_with = "api_key")]
    pub user_email: Option<String>,
    /// The API key, by id.
    #[arg(long)]
    pub api_key: Option<String>,
}

/// Check access.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub env: EnvArg,
    #[command(flatten)]
    pub who: WhoArg,
    /// The permission, e.g. Conversation:GetMessage.
    #[arg(long)]
    pub permission: String,
    /// The resource as TYPE:ID: conversation:ID, trace:ID, organization:ID, or any other type
    /// with its attributes given by --attr.
    #[arg(long, value_name = "TYPE:ID")]
    pub resource: String,
    /// An attribute of a resource grantry does not know, as KEY=VALUE (repeatable).
    #[arg(long = "attr", value_name = "KEY=VALUE")]
    pub attrs: Vec<String>,
    /// Decide as of this time (RFC 3339) instead of now.
    #[arg(long)]
    pub at: Option<String>,
    #[command(flatten)]
    pub out: OutputArg,
}

/// The principal a check or a lookup is about: the user with `--user-email`, the API key
/// `--api-key`, or, with neither, the caller.
pub async fn principal(c: &crate::client::Client, who: &WhoArg) -> Result<Value> {
    Ok(match (&who.user_email, &who.api_key) {
        (Some(email), _) => json!({ "type": "user", "email": email }),
        (None, Some(id)) => json!({ "type": "api_key", "id": id }),
        (None, None) => {
            let me: Value = c.get("/me", &[]).await?;
            let principal = me["principal"].as_str().unwrap_or_default();
            let (kind, id) = principal.split_once(':').unwrap_or(("user", principal));
            json!({ "type": kind, "id": id })
        }
    })
}

pub async fn run(args: CheckArgs) -> Result<()> {
    let (kind, id) =
        args.resource.split_once(':').filter(|(k, i)| !k.is_empty() && !i.is_empty()).ok_or_else(|| {
            UsageError(format!("--resource `{}` must be TYPE:ID, e.g. conversation:abc123def456abc123def456", args.resource))
        })?;
    let mut attributes = Map::new();
    for a in &args.attrs {
        let (k, v) = key_value("attr", a)?;
        attributes.insert(k.to_owned(), v);
    }
    let c = client(&args.env.env)?;
    let principal = principal(&c, &args.who).await?;
    let body = json!({ "principal": principal, "permission": args.permission, "resource": { "type": kind, "id": id, "attributes": attributes }, "at": args.at });
    let decision: Value = c.post("/check?explain=true", &body).await?;
    let allowed = decision["allowed"].as_bool().unwrap_or(false);
    if args.out.json {
        output::json(&decision)?;
    } else {
        crate::say!("{}", if allowed { "allowed" } else { "denied" });
        for r in decision["reasons"].as_array().into_iter().flatten() {
            crate::say!("  - {}", r["message"].as_str().unwrap_or_default());
        }
        match decision["reasons_omitted"].as_u64() {
            Some(n) if n > 0 => crate::say!("  - and {n} more grants, which decided the same way"),
            _ => {}
        }
    }
    if allowed {
        Ok(())
    } else {
        Err(Denied.into())
    }
}
