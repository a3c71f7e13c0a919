//! `grantry token …`: issue, exchange, list and revoke login tokens.

use super::{client, fmt_opt_time, fmt_time, id_arg, user_id_by_email};
use crate::cli::{EnvArg, OutputArg};
use crate::client::Client;
use crate::config::{Config, Profile, Secret};
use crate::output;
use anyhow::Result;
use clap::Subcommand;
use grantry_server::api::views::CredentialView;
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a token, for yourself or (with --user-email) a user you manage who holds no token of
    /// their own yet (theirs could not decide access requests until they exchange it).
    #[command(after_help = crate::examples!(
        "grantry token create -e admin                                  # for yourself, without an end",
        "grantry token create -e admin --expires-in P30D",
        "grantry token create -e admin --user-email dev@acme.example    # for a user you manage: PT8H, at most P1D"
    ))]
    Create {
        #[command(flatten)]
        env: EnvArg,
        /// Whom the token is for (yourself when absent).
        #[arg(long)]
        user_email: Option<String>,
        /// ISO 8601 lifetime, e.g. P30D. Your own token has no end when absent; one for someone else
        /// lasts PT8H when absent, and at most P1D.
        #[arg(long)]
        expires_in: Option<String>,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Exchange the profile's token for a new one of your own, and save it in the profile.
    ///
    /// A token someone else minted for you (`user create --token`, `token create --user-email`)
    /// could be used by them too, so it decides no access request. The exchange gives a token only
    /// you have seen and revokes the old one at once: if someone exchanged it before you, yours is
    /// already refused — tell an admin.
    #[command(after_help = crate::examples!(
        "grantry token exchange -e lea                    # no end",
        "grantry token exchange -e lea --expires-in P90D"
    ))]
    Exchange {
        #[command(flatten)]
        env: EnvArg,
        /// ISO 8601 lifetime of the new token, e.g. P90D (no end when absent).
        #[arg(long)]
        expires_in: Option<String>,
        #[command(flatten)]
        out: OutputArg,
    },
    /// List tokens (never their secrets): yours, or with --user-email those of a user you manage.
    #[command(after_help = crate::examples!(
        "grantry token list -e admin",
        "grantry token list -e admin --user-email dev@acme.example --json"
    ))]
    List {
        #[command(flatten)]
        env: EnvArg,
        /// Whose tokens (yours when absent).
        #[arg(long)]
        user_email: Option<String>,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Revoke a token; it is refused from the next request on.
    #[command(after_help = crate::examples!(
        "grantry token revoke -e admin 5f3c0d7e9a1b2c3d4e5f6a7b"
    ))]
    Revoke {
        #[command(flatten)]
        env: EnvArg,
        /// The token's id (not its secret).
        id: String,
        #[command(flatten)]
        out: OutputArg,
    },
}

pub async fn run(command: TokenCommand) -> Result<()> {
    match command {
        TokenCommand::Create { env, user_email, expires_in, out } => {
            let c = client(&env.env)?;
            let user = match user_email {
                Some(e) => user_id_by_email(&c, &e).await?,
                None => {
                    let me: Value = c.get("/me", &[]).await?;
                    me.pointer("/user/id").and_then(Value::as_str).unwrap_or_default().to_owned()
                }
            };
            let token: Value = c.post(&format!("/users/{user}/tokens"), &json!({ "expires_in": expires_in })).await?;
            if out.json {
                return output::json(&token);
            }
            let expires = serde_json::from_value(token["expires_at"].clone()).ok();
            crate::say!("Token {} (expires {}); the secret is shown once:", token["id"].as_str().unwrap_or("?"), fmt_opt_time(expires));
            crate::say!("{}", token["token"].as_str().unwrap_or_default());
            Ok(())
        }
        TokenCommand::Exchange { env, expires_in, out } => {
            let mut config = Config::load()?;
            let profile = config.profile(&env.env)?.clone();
            let token: Value = Client::new(&profile)?.post("/tokens/exchange", &json!({ "expires_in": expires_in })).await?;
            let secret = token["token"].as_str().unwrap_or_default().to_owned();
            config.profiles.insert(env.env.clone(), Profile { token: Secret(secret), ..profile });
            let path = config.save()?;
            if out.json {
                return output::json(&json!({ "id": token["id"], "expires_at": token["expires_at"], "revision": token["revision"] }));
            }
            let expires: Option<grantry_core::Timestamp> = serde_json::from_value(token["expires_at"].clone()).ok().flatten();
            crate::say!(
                "Exchanged: token {} is your own ({}), saved in environment `{}` in {}; the old one is revoked.",
                token["id"].as_str().unwrap_or("?"),
                expires.map_or_else(|| "without an end".to_owned(), |t| format!("until {}", fmt_time(t))),
                env.env,
                path.display()
            );
            Ok(())
        }
        TokenCommand::List { env, user_email, out } => {
            let c = client(&env.env)?;
            let query = match user_email {
                Some(e) => vec![("user_id", user_id_by_email(&c, &e).await?)],
                None => vec![],
            };
            let list: Value = c.get("/tokens", &query).await?;
            if out.json {
                return output::json(&list["tokens"]);
            }
            let tokens: Vec<CredentialView> = serde_json::from_value(list["tokens"].clone())?;
            let rows: Vec<Vec<String>> = tokens
                .into_iter()
                .map(|t| {
                    let made_by = t.issued_by.unwrap_or_else(|| "-".to_owned());
                    vec![t.id, t.status, fmt_time(t.created_at), fmt_opt_time(t.expires_at), fmt_opt_time(t.revoked_at), made_by]
                })
                .collect();
            output::print_table(&["ID", "STATUS", "CREATED", "EXPIRES", "REVOKED", "MADE BY"], &rows, "No tokens.");
            Ok(())
        }
        TokenCommand::Revoke { env, id, out } => {
            let id = id_arg("token", &id)?;
            let done: Value = client(&env.env)?.delete(&format!("/tokens/{id}")).await?;
            if out.json {
                return output::json(&done);
            }
            crate::say!("Revoked token {id}.");
            Ok(())
        }
    }
}
