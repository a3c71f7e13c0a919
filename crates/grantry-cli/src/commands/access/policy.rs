//! `grantry access policy …`: request policies — create, list, show, delete. A stage is given as
//! `KEY=VALUE` pairs separated by commas, lists joined by `+`:
//! `name=peer,approvals=1,groups=sre` or
//! `name=manager,approvals=2,roles=org_admin+workspace_admin,escalate_after=PT4H,escalation_roles=org_owner`.

use super::super::client;
use crate::cli::{EnvArg, OutputArg};
use crate::exit::UsageError;
use crate::output::{self, text};
use anyhow::Result;
use clap::{ArgGroup, Subcommand};
use serde_json::{json, Map, Value};

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Make a policy: which requests it covers, and whether they are approved at once or in stages.
    #[command(
        after_help = crate::examples!(
            "grantry access policy create --name prod-two-step --scope payments --environment production --stage name=peer,approvals=1,groups=sre --stage name=manager,approvals=1,roles=org_admin,escalate_after=PT2H,escalation_roles=org_owner --ticket-pattern 'INC-[0-9]+' -e admin",
            "grantry access policy create --name staging-self-service --scope payments/api/staging --auto-approve --max-duration PT8H -e admin",
            "grantry access policy create --name restricted-agents --classification restricted --stage name=owners,approvals=2,groups=\"Data Owners\" --break-glass -e admin"
        )
    )]
    Create(Box<NewPolicy>),
    /// List the policies, most specific first (the first that covers a target decides it).
    #[command(after_help = crate::examples!("grantry access policy list -e dev"))]
    List {
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Show one policy by id or name.
    #[command(after_help = crate::examples!("grantry access policy show prod-two-step -e dev"))]
    Show {
        policy: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Delete a policy: what it approved keeps running, but nothing more of its requests is approved
    /// (a stage still open, an extension) — they are asked again under the policy in force.
    #[command(after_help = crate::examples!("grantry access policy delete prod-two-step -e admin"))]
    Delete {
        policy: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
}

/// A policy to make.
#[derive(Debug, clap::Args)]
#[command(group(ArgGroup::new("how").required(true).args(["auto_approve", "stages"])))]
pub struct NewPolicy {
    #[arg(long)]
    name: String,
    /// The scope path it covers, and everything below (the whole organization unless given).
    #[arg(long)]
    scope: Option<String>,
    /// Only production or only non_production targets.
    #[arg(long)]
    environment: Option<String>,
    /// Only resources of this data classification (an agent's, say).
    #[arg(long)]
    classification: Option<String>,
    /// Approve requests at once.
    #[arg(long)]
    auto_approve: bool,
    /// An approval stage (repeatable, in order): name=…,approvals=N,roles=A+B,groups=C+D[,escalate_after=PT4H,escalation_roles=…,escalation_groups=…].
    #[arg(long = "stage")]
    stages: Vec<String>,
    /// How long a request stays pending, as ISO 8601 (PT24H unless given).
    #[arg(long)]
    pending_timeout: Option<String>,
    /// The longest access a request may ask for, as ISO 8601.
    #[arg(long)]
    max_duration: Option<String>,
    /// A regular expression every ticket reference must match whole.
    #[arg(long)]
    ticket_pattern: Option<String>,
    /// Let requesters break the glass: approved at once, flagged, reviewed afterwards.
    #[arg(long)]
    break_glass: bool,
    /// How long before access ends its holder is warned, as ISO 8601 (PT15M unless given).
    #[arg(long)]
    expiry_warning: Option<String>,
    /// A role or permission it decides requests for (repeatable; any unless given).
    #[arg(long = "requestable")]
    requestable: Vec<String>,
    #[command(flatten)]
    env: EnvArg,
    #[command(flatten)]
    out: OutputArg,
}

/// A `--stage` as the API's body.
fn stage(text: &str) -> Result<Value> {
    let mut body = Map::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').ok_or_else(|| UsageError(format!("--stage: `{pair}` must be KEY=VALUE")))?;
        let list = || Value::from(value.split('+').map(str::trim).filter(|v| !v.is_empty()).collect::<Vec<_>>());
        let (name, v) = match key.trim() {
            "name" => ("name", Value::from(value.trim())),
            "approvals" => (
                "approvals",
                Value::from(value.trim().parse::<u32>().map_err(|_| UsageError(format!("--stage: approvals `{value}` is not a number")))?),
            ),
            "roles" => ("roles", list()),
            "groups" => ("groups", list()),
            "escalate_after" => ("escalateAfter", Value::from(value.trim())),
            "escalation_roles" => ("escalationRoles", list()),
            "escalation_groups" => ("escalationGroups", list()),
            other => {
                return Err(UsageError(format!(
                "--stage: unknown key `{other}`; use name, approvals, roles, groups, escalate_after, escalation_roles, escalation_groups"
            ))
                .into())
            }
        };
        body.insert(name.to_owned(), v);
    }
    body.entry("approvals").or_insert(Value::from(1));
    Ok(Value::Object(body))
}

fn row(p: &Value) -> Vec<String> {
    let mut covers = text(p, "scope");
    if let Some(e) = p["environment"].as_str() {
        covers = format!("{covers}, {}", output::clean_line(e));
    }
    if let Some(c) = p["classification"].as_str() {
        covers = format!("{covers}, {}", output::clean_line(c));
    }
    let ticket = p["ticketPattern"].as_str().map_or_else(|| "-".to_owned(), output::clean_line);
    let glass = if p["breakGlass"].as_bool() == Some(true) { "yes" } else { "no" };
    vec![text(p, "id"), text(p, "name"), covers, text(p, "summary"), text(p, "pendingTimeout"), ticket, glass.to_owned()]
}

const HEADERS: [&str; 7] = ["ID", "NAME", "COVERS", "DECIDES", "PENDING FOR", "TICKET", "BREAK-GLASS"];

/// `/request-policies/{id}` for the policy `text` names: an id as it is, or a name.
async fn path(c: &crate::client::Client, text: &str) -> Result<String> {
    let id = super::super::named_id(c, ("/request-policies", "policies"), "request policy", "grantry access policy list", text).await?;
    Ok(format!("/request-policies/{id}"))
}

pub async fn run(command: PolicyCommand) -> Result<()> {
    match command {
        PolicyCommand::Create(new) => {
            let NewPolicy {
                name,
                scope,
                environment,
                classification,
                auto_approve,
                stages,
                pending_timeout,
                max_duration,
                ticket_pattern,
                break_glass,
                expiry_warning,
                requestable,
                env,
                out,
            } = *new;
            let stages = stages.iter().map(|s| stage(s)).collect::<Result<Vec<_>>>()?;
            let body = json!({ "name": name, "scope": scope.unwrap_or_default(), "environment": environment, "classification": classification,
                               "autoApprove": auto_approve, "stages": stages, "pendingTimeout": pending_timeout, "maxDuration": max_duration,
                               "ticketPattern": ticket_pattern, "breakGlass": break_glass, "expiryWarning": expiry_warning,
                               "requestable": requestable });
            let written: Value = client(&env.env)?.post("/request-policies", &body).await?;
            if out.json {
                return output::json(&written);
            }
            let p = &written["policy"];
            crate::say!("Created request policy `{}` ({}): {}.", text(p, "name"), text(p, "id"), text(p, "summary"));
            Ok(())
        }
        PolicyCommand::List { env, out } => {
            let list: Value = client(&env.env)?.get("/request-policies", &[]).await?;
            let empty = "No request policies: the organization's approvers decide every request.";
            output::listed(&list, "policies", out.json, &HEADERS, row, empty)
        }
        PolicyCommand::Show { policy, env, out } => {
            let c = client(&env.env)?;
            let p: Value = c.get(&path(&c, &policy).await?, &[]).await?;
            if out.json {
                return output::json(&p);
            }
            output::print_table(&HEADERS, &[row(&p)], "No such policy.");
            Ok(())
        }
        PolicyCommand::Delete { policy, env, out } => {
            let c = client(&env.env)?;
            let written: Value = c.delete(&path(&c, &policy).await?).await?;
            if out.json {
                return output::json(&written);
            }
            crate::say!("Deleted request policy `{}`.", text(&written["policy"], "name"));
            Ok(())
        }
    }
}
