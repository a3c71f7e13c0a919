//! `grantry login`: checks a token against the server and saves it as a named profile.

use crate::cli::OutputArg;
use crate::client::Client;
use crate::config::{Config, Profile, Secret};
use crate::output;
use anyhow::Result;
use clap::Args;
use serde_json::{json, Value};

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
    #[command(flatten)]
    pub out: OutputArg,
}

pub async fn run(args: LoginArgs) -> Result<()> {
    let profile = Profile { url: args.url.trim_end_matches('/').to_owned(), org: args.org, token: Secret(args.token.trim().to_owned()) };
    let me: Value = Client::new(&profile).get("/me", &[]).await?;
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
    Ok(())
}
