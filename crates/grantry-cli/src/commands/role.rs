//! `grantry role …`: the roles of the catalogue, granting and revoking them at a tier, and the
//! role matrix (seed 002's team page).

use super::{client, fmt_time};
use crate::cli::{EnvArg, OutputArg};
use crate::output;
use anyhow::Result;
use clap::{Args, Subcommand};
use grantry_core::Timestamp;
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// List the roles, their tier and the permissions they carry.
    #[command(after_help = crate::examples!(
        "grantry role list -e admin",
        "grantry role list -e admin --json"
    ))]
    List {
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Grant a role to a user at the organization, a workspace or a project; permanently
    /// (replacing the user's role there), or for a window that ends on its own.
    ///
    /// The rules: a role is granted only at its own tier (org_* with --org, workspace_* with
    /// --workspace, project_* with --project). You need Role:Assign there and must hold every
    /// permission of the role permanently there (temporary grants never count); a role carrying
    /// traces:read:prod needs org_admin or higher. A window (--duration or --until) is at most the
    /// organization's max_role_duration (P3D unless `grantry org settings` changed it).
    #[command(after_help = crate::examples!(
        "grantry role grant -e admin --user-email dev@acme.example --role project_developer --project ml/agents",
        "grantry role grant -e admin --user-email dev@acme.example --role project_admin --project ml/agents --duration PT4H -j \"incident 4711\"",
        "grantry role grant -e admin --user-email ops@acme.example --role workspace_admin --workspace ml --until 2026-11-30T18:00:00Z",
        "grantry role grant -e admin --user-email ops@acme.example --role org_admin --org"
    ))]
    Grant {
        #[command(flatten)]
        target: RoleTargetArgs,
        /// How long the role lasts, ISO 8601 (e.g. PT4H); permanent when neither this nor --until.
        #[arg(long, conflicts_with = "until")]
        duration: Option<String>,
        /// When the role ends (RFC 3339, e.g. 2026-11-23T18:00:00Z).
        #[arg(long)]
        until: Option<Timestamp>,
        /// Why the role is granted.
        #[arg(short = 'j', long)]
        justification: Option<String>,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Revoke a role a user holds at a tier (permanent and time-bounded grants of it alike).
    #[command(after_help = crate::examples!(
        "grantry role revoke -e admin --user-email dev@acme.example --role project_admin --project ml/agents",
        "grantry role revoke -e admin --user-email ops@acme.example --role org_admin --org"
    ))]
    Revoke {
        #[command(flatten)]
        target: RoleTargetArgs,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Every user's roles at each tier, and where each reads production traces.
    #[command(after_help = crate::examples!(
        "grantry role matrix -e admin",
        "grantry role matrix -e admin --json"
    ))]
    Matrix {
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
}

/// Who, which role, and where.
#[derive(Debug, Args)]
pub struct RoleTargetArgs {
    /// The user's email.
    #[arg(long)]
    pub user_email: String,
    /// The role, e.g. project_admin (see `grantry role list`).
    #[arg(long)]
    pub role: String,
    #[command(flatten)]
    pub tier: TierArgs,
}

/// Exactly one tier node.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct TierArgs {
    /// At the organization.
    #[arg(long)]
    pub org: bool,
    /// At a workspace: WS.
    #[arg(long, value_name = "WS")]
    pub workspace: Option<String>,
    /// At a project: WS/PRJ.
    #[arg(long, value_name = "WS/PRJ")]
    pub project: Option<String>,
}

impl RoleTargetArgs {
    fn body(&self) -> Value {
        let (tier, path) = match (&self.tier.workspace, &self.tier.project) {
            (Some(ws), _) => ("workspace", Some(ws)),
            (_, Some(p)) => ("project", Some(p)),
            _ => ("organization", None),
        };
        json!({ "user_email": self.user_email, "role": self.role, "tier": tier, "path": path })
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn opt_time(v: &Value) -> Option<Timestamp> {
    v.as_str().and_then(|t| t.parse().ok())
}

pub async fn run(command: RoleCommand) -> Result<()> {
    match command {
        RoleCommand::List { env, out } => list(&env, out).await,
        RoleCommand::Grant { target, duration, until, justification, env, out } => {
            let mut body = target.body();
            body["duration"] = json!(duration);
            body["until"] = json!(until.map(|t| t.to_string()));
            body["justification"] = json!(justification);
            let granted: Value = client(&env.env)?.post("/roles/grants", &body).await?;
            if out.json {
                return output::json(&granted);
            }
            let g = &granted["grant"];
            let until = opt_time(&g["expires_at"]).map(|t| format!(" until {}", fmt_time(t))).unwrap_or_default();
            crate::say!("Granted `{}` to {} at {}{until} (grant {}).", s(&g["role"]), target.user_email, s(&g["scope"]), s(&g["id"]));
            for r in granted["replaced"].as_array().into_iter().flatten() {
                crate::say!("It replaces `{}` (grant {}).", s(&r["role"]), s(&r["id"]));
            }
            if granted["effective_changed"].as_bool() != Some(true) {
                crate::say!("Their effective permissions there did not change, so no rbac_grant event was written.");
            }
            Ok(())
        }
        RoleCommand::Revoke { target, env, out } => {
            let revoked: Value = client(&env.env)?.post("/roles/revocations", &target.body()).await?;
            if out.json {
                return output::json(&revoked);
            }
            for g in revoked["revoked"].as_array().into_iter().flatten() {
                crate::say!("Revoked `{}` from {} at {} (grant {}).", s(&g["role"]), target.user_email, s(&g["scope"]), s(&g["id"]));
            }
            Ok(())
        }
        RoleCommand::Matrix { env, out } => matrix(&env, out).await,
    }
}

async fn list(env: &EnvArg, out: OutputArg) -> Result<()> {
    let cat: Value = client(&env.env)?.get("/catalogue", &[]).await?;
    if out.json {
        return output::json(&cat["roles"]);
    }
    let rows: Vec<Vec<String>> = cat["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let perms: Vec<&str> = r["grants"].as_array().into_iter().flatten().map(|g| s(&g["permission_name"])).collect();
            vec![s(&r["name"]).to_owned(), s(&r["tier"]).to_owned(), perms.join(", ")]
        })
        .collect();
    output::print_table(&["ROLE", "TIER", "PERMISSIONS"], &rows, "No roles.");
    Ok(())
}

async fn matrix(env: &EnvArg, out: OutputArg) -> Result<()> {
    let m: Value = client(&env.env)?.get("/roles/matrix", &[]).await?;
    if out.json {
        return output::json(&m["rows"]);
    }
    let cell = |row: &Value, tier: &str| -> String {
        let held: Vec<String> = row["roles"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|h| s(&h["tier"]) == tier)
            .map(|h| {
                let at = if tier == "organization" { String::new() } else { format!("{}: ", s(&h["scope"])) };
                let since = opt_time(&h["since"]).map(|t| format!(" since {}", fmt_time(t))).unwrap_or_default();
                let until = opt_time(&h["until"]).map(|t| format!(" until {}", fmt_time(t))).unwrap_or_default();
                format!("{at}{}{since}{until}", s(&h["role"]))
            })
            .collect();
        if held.is_empty() {
            "-".to_owned()
        } else {
            held.join("; ")
        }
    };
    let rows: Vec<Vec<String>> = m["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let prod: Vec<&str> = r["prod_traces"].as_array().into_iter().flatten().map(s).collect();
            let prod = if prod.is_empty() { "-".to_owned() } else { prod.join(", ") };
            let temporary: Vec<String> = r["temporary"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| format!("{} until {}", s(&t["permission"]), opt_time(&t["until"]).map(fmt_time).unwrap_or_default()))
                .collect();
            let temporary = if temporary.is_empty() { "-".to_owned() } else { temporary.join("; ") };
            vec![s(&r["email"]).to_owned(), cell(r, "organization"), cell(r, "workspace"), cell(r, "project"), prod, temporary]
        })
        .collect();
    let headers = ["USER", "ORGANIZATION", "WORKSPACE", "PROJECT", "PROD TRACES AT", "TEMPORARY"];
    output::print_table(&headers, &rows, "No users.");
    Ok(())
}
