//! `grantry login`: checks a token against the server and saves it as a named profile.

use crate::cli::OutputArg;
use crate::client::Client;
use crate::config::{Config, Profile, Secret};
use crate::exit::UsageError;
use crate::output;
use anyhow::Result;
use clap::Args;
use serde_json::{json, Value};
use std::path::PathBuf;

/// Save a profile.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The name to save the profile under (used with -e/--env).
    #[arg(short = 'e', long = "env")]
    pub env: String,
    /// The server's URL, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub url: String,
    /// The organization's slug.
    #[arg(long)]
    pub org: String,
    /// A token (from `grantry admin bootstrap`, `user create --token` or `token create`).
    #[arg(long, env = "GRANTRY_TOKEN", hide_env_values = true)]
    pub token: String,
    /// A PEM file of certificate authorities to trust for this server, besides the system's (for
    /// a server whose certificate a private authority signs). Saved with the profile.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    #[command(flatten)]
    pub out: OutputArg,
}

pub async fn run(args: LoginArgs) -> Result<()> {
    if args.ca_cert.is_some() && !args.url.starts_with("https://") {
        return Err(UsageError(format!("--ca-cert is for HTTPS; `{}` is not an https:// URL", args.url)).into());
    }
    // Saved as an absolute path, so the profile works from any directory.
    let ca_cert = match args.ca_cert {
        Some(path) => Some(std::path::absolute(&path).map_err(|e| UsageError(format!("--ca-cert {}: {e}", path.display())))?),
        None => None,
    };
    let profile =
        Profile { url: args.url.trim_end_matches('/').to_owned(), org: args.org, token: Secret(args.token.trim().to_owned()), ca_cert };
    let me: Value = Client::new(&profile)?.get("/me", &[]).await?;
    let mut config = Config::load()?;
    config.profiles.insert(args.env.clone(), profile);
    let path = config.save()?;
    if args.out.json {
        return output::json(&json!({ "env": args.env, "org": me["org_slug"], "principal": me["principal"], "config": path }));
    }
    let who = me.pointer("/user/email").or_else(|| me.get("principal")).and_then(Value::as_str).unwrap_or("?");
    crate::say!(
        "Logged in to `{}` as {who}; saved environment `{}` in {}.",
        me["org_slug"].as_str().unwrap_or("?"),
        args.env,
        path.display()
    );
    if let Some(by) = me["token_made_by"].as_str() {
        crate::say!(
            "This token was made for you by {by}; to decide access requests, exchange it for one of your own: `grantry token exchange -e {}`.",
            args.env
        );
    }
    Ok(())
}
