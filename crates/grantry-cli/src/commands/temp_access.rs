//! `grantry temp-access …`: temporary access instances (seed 004) — create one (a role on agent
//! pools for users, until it expires), list, show, delete. An active instance cannot be modified:
//! delete it, which revokes its grants at once, and create it again.

use super::{client, fmt_opt_time};
use crate::cli::{EnvArg, OutputArg};
use crate::client::Client;
use crate::output::{self, text};
use anyhow::Result;
use clap::{ArgGroup, Subcommand};
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub enum TempAccessCommand {
    /// Grant users a role on agent pools until the instance expires (in days, hours, or at a time).
    #[command(
        group(ArgGroup::new("expiration").required(true).args(["days", "hours", "until"])),
        after_help = crate::examples!(
            "grantry temp-access create --name \"on-call sam until Friday\" --role standard --pool \"Production EU\" --user-email sam@acme.test --days 3 -e admin",
            "grantry temp-access create --name incident-4711 --role privileged --pool P1 --pool P2 --user-email a@acme.test --user-email b@acme.test --hours 8 -e admin",
            "grantry temp-access create --name release --role standard --pool \"Production EU\" --user-email sam@acme.test --until 2026-12-31 --timezone Europe/Paris -e admin"
        )
    )]
    Create {
        /// A name to know the instance by (who and until when, say).
        #[arg(long)]
        name: String,
        /// standard, or privileged (also ignores the pools' agent quotas).
        #[arg(long)]
        role: String,
        /// An agent pool by name or id (repeatable; at most 20 unless the organization says otherwise).
        #[arg(long = "pool", required = true)]
        pools: Vec<String>,
        /// A user by email (repeatable; at most 50 unless the organization says otherwise).
        #[arg(long = "user-email", required = true)]
        emails: Vec<String>,
        /// Expires this many days from now (at most 31 unless the organization says otherwise).
        #[arg(long)]
        days: Option<u32>,
        /// Expires this many hours from now.
        #[arg(long)]
        hours: Option<u32>,
        /// Expires at this time: a date (through that day), a time or an instant.
        #[arg(long)]
        until: Option<String>,
        /// The IANA timezone --until is read in (UTC unless given).
        #[arg(long)]
        timezone: Option<String>,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// List the instances, newest first, active and expired.
    #[command(after_help = crate::examples!("grantry temp-access list -e admin", "grantry temp-access list --json -e admin"))]
    List {
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Show one instance: its pools, users and window.
    #[command(after_help = crate::examples!("grantry temp-access show 65a1f0c2d3e4b5a6978897aa -e admin"))]
    Show {
        /// The instance's id (or its name, when one instance has it).
        id: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Delete an instance: every grant it made is revoked at once.
    #[command(after_help = crate::examples!("grantry temp-access delete 65a1f0c2d3e4b5a6978897aa -e admin"))]
    Delete {
        /// The instance's id (or its name, when one instance has it).
        id: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
}

fn names(v: &Value) -> String {
    let all: Vec<String> = v.as_array().into_iter().flatten().map(|n| text(n, "name")).collect();
    all.join(", ")
}

fn row(t: &Value) -> Vec<String> {
    let until = fmt_opt_time(t["expires_at"].as_str().and_then(|s| s.parse().ok()));
    vec![text(t, "id"), text(t, "name"), text(t, "role"), names(&t["pools"]), names(&t["users"]), until, text(t, "status")]
}

const HEADERS: [&str; 7] = ["ID", "NAME", "ROLE", "POOLS", "USERS", "EXPIRES", "STATUS"];

/// `/temp-access/{id}` for the instance `text` names: an id as it is, or a name.
async fn path(c: &Client, text: &str) -> Result<String> {
    let id = super::named_id(c, ("/temp-access", "instances"), "temporary access instance", "grantry temp-access list", text).await?;
    Ok(format!("/temp-access/{id}"))
}

pub async fn run(command: TempAccessCommand) -> Result<()> {
    match command {
        TempAccessCommand::Create { name, role, pools, emails, days, hours, until, timezone, env, out } => {
            let body = json!({ "name": name, "role": role, "poolIds": pools, "userIds": emails, "days": days, "hours": hours,
                               "until": until, "timezone": timezone });
            let written: Value = client(&env.env)?.post("/temp-access", &body).await?;
            if out.json {
                return output::json(&written);
            }
            let t = &written["instance"];
            crate::say!(
                "Created temporary access `{}` ({}): {} on {} for {}, until {}.",
                text(t, "name"),
                text(t, "id"),
                text(t, "role"),
                names(&t["pools"]),
                names(&t["users"]),
                fmt_opt_time(t["expires_at"].as_str().and_then(|s| s.parse().ok()))
            );
            Ok(())
        }
        TempAccessCommand::List { env, out } => {
            let list: Value = client(&env.env)?.get("/temp-access", &[]).await?;
            output::listed(&list, "instances", out.json, &HEADERS, row, "No temporary access instances.")
        }
        TempAccessCommand::Show { id, env, out } => {
            let c = client(&env.env)?;
            let t: Value = c.get(&path(&c, &id).await?, &[]).await?;
            if out.json {
                return output::json(&t);
            }
            output::print_table(&HEADERS, &[row(&t)], "No such instance.");
            Ok(())
        }
        TempAccessCommand::Delete { id, env, out } => {
            let c = client(&env.env)?;
            let written: Value = c.delete(&path(&c, &id).await?).await?;
            if out.json {
                return output::json(&written);
            }
            let n = written["revoked_grants"].as_u64().unwrap_or_default();
            crate::say!(
                "Deleted temporary access `{}`; {n} grant{} revoked.",
                text(&written["instance"], "name"),
                if n == 1 { "" } else { "s" }
            );
            Ok(())
        }
    }
}
