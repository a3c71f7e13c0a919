//! `grantry access …`: access requests — ask for a role or permissions on targets for a while,
//! list and show requests, approve, deny, cancel, revoke (or give back) and review them; and
//! `grantry access policy …`, the request policies that decide them.

mod policy;

use super::{client, fmt_opt_time, id_arg};
use crate::cli::{EnvArg, OutputArg};
use crate::output::{self, text};
use anyhow::Result;
use clap::{ArgGroup, Subcommand};
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub enum AccessCommand {
    /// Ask for access for yourself: a role or permissions on targets, for a while. The clock starts at approval.
    #[command(
        group(ArgGroup::new("what").required(true).args(["role", "permissions"])),
        after_help = crate::examples!(
            "grantry access request --role project_admin --target payments/api --duration PT4H --justification \"incident INC-4711: restart the workers\" -e dev",
            "grantry access request --permission traces:read:prod --target payments/api/prod --duration PT1H --ticket INC-4711 --justification \"read the failing traces\" -e dev",
            "grantry access request --role pool_standard --target agent_pool:65a1f0c2d3e4b5a6978897aa --start 2026-12-01T09:00 --timezone Europe/Paris --duration PT8H --justification \"release day support\" -e dev",
            "grantry access request --role org_admin --target org --break-glass --justification \"outage: the admins are unreachable\" -e dev",
            "grantry access request --permission traces:read --target payments/api/staging --single-use traces:read --justification \"one look at a trace\" -e dev"
        )
    )]
    Request {
        /// The role to ask for (its tier must fit the targets).
        #[arg(long)]
        role: Option<String>,
        /// A data permission to ask for (repeatable; instead of --role).
        #[arg(long = "permission")]
        permissions: Vec<String>,
        /// Where: a scope path (org, WS, WS/PRJ, WS/PRJ/ENV) or a resource as TYPE:ID (repeatable, at most 20).
        #[arg(long = "target", required = true)]
        targets: Vec<String>,
        /// How long, as ISO 8601 (PT2H unless the organization says otherwise).
        #[arg(long)]
        duration: Option<String>,
        /// Book it ahead: the earliest it may start (a date, time or instant; at most 31 days ahead).
        #[arg(long)]
        start: Option<String>,
        /// The IANA timezone --start is read in (UTC unless given).
        #[arg(long)]
        timezone: Option<String>,
        /// Why you need it (at least 10 characters unless the organization says otherwise).
        #[arg(long)]
        justification: String,
        /// A ticket reference (required where the deciding policy has a pattern).
        #[arg(long)]
        ticket: Option<String>,
        /// Break the glass: approved at once where a policy allows it, flagged, and reviewed afterwards.
        #[arg(long)]
        break_glass: bool,
        /// Single use: the first allowed check of this permission now — `check`, a trace read, or a
        /// check of a key you delegated — ends the access.
        #[arg(long)]
        single_use: Option<String>,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// List requests, newest first: yours, those you approved and those you may decide (everyone's for admins).
    #[command(after_help = crate::examples!(
        "grantry access list -e dev",
        "grantry access list --to-decide -e lead",
        "grantry access list --state active --json -e admin"
    ))]
    List {
        /// Only requests in this state: pending, scheduled, active, denied, cancelled, expired or revoked.
        #[arg(long)]
        state: Option<String>,
        /// Only your own.
        #[arg(long)]
        mine: bool,
        /// Only those you may decide now.
        #[arg(long)]
        to_decide: bool,
        /// At most this many (100 unless given).
        #[arg(long)]
        limit: Option<u32>,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Show one request: what, where, its stages and their approvals, its window.
    #[command(after_help = crate::examples!("grantry access show 65a1f0c2d3e4b5a6978897aa -e dev"))]
    Show {
        id: String,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Approve the open stage of a request (the last approval grants it).
    #[command(after_help = crate::examples!(
        "grantry access approve 65a1f0c2d3e4b5a6978897aa --reason \"on call this week\" -e lead",
        "grantry access approve 65a1f0c2d3e4b5a6978897aa --target payments/api --reason \"api only, not billing\" -e lead"
    ))]
    Approve(Decide),
    /// Deny a pending request (a reason is required).
    #[command(after_help = crate::examples!("grantry access deny 65a1f0c2d3e4b5a6978897aa --reason \"use the staging data\" -e lead"))]
    Deny(Decide),
    /// Cancel your own pending request.
    #[command(after_help = crate::examples!("grantry access cancel 65a1f0c2d3e4b5a6978897aa -e dev"))]
    Cancel(Decide),
    /// End an approved request's access now: give back your own, or revoke someone's (with a reason).
    #[command(after_help = crate::examples!(
        "grantry access revoke 65a1f0c2d3e4b5a6978897aa -e dev",
        "grantry access revoke 65a1f0c2d3e4b5a6978897aa --reason \"incident closed\" -e admin"
    ))]
    Revoke(Decide),
    /// Extend your approved request in place: the same grants end later, without a gap (re-approved where its policy says).
    #[command(after_help = crate::examples!(
        "grantry access extend 65a1f0c2d3e4b5a6978897aa --duration PT1H -e dev",
        "grantry access extend 65a1f0c2d3e4b5a6978897aa --duration PT30M --justification \"the migration overran\" -e dev"
    ))]
    Extend {
        id: String,
        /// How much later the access ends, as ISO 8601.
        #[arg(long)]
        duration: String,
        /// Why (the request's own justification unless given).
        #[arg(long)]
        justification: Option<String>,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Review a break-glass request after the fact.
    #[command(after_help = crate::examples!("grantry access review 65a1f0c2d3e4b5a6978897aa --reason \"justified: outage INC-4711\" -e lead"))]
    Review(Decide),
    /// Request policies: who approves which requests, in which stages.
    #[command(after_help = crate::examples!(
        "grantry access policy list -e dev",
        "grantry access policy create --name staging-self-service --scope payments/api/staging --auto-approve -e admin"
    ))]
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
}

/// A decision on one request.
#[derive(Debug, clap::Args)]
pub struct Decide {
    /// The request's id.
    id: String,
    /// Why (required to deny, and to revoke someone else's access).
    #[arg(long)]
    reason: Option<String>,
    /// Approving: only this target (repeatable); the request's others are declined.
    #[arg(long = "target")]
    targets: Vec<String>,
    #[command(flatten)]
    env: EnvArg,
    #[command(flatten)]
    out: OutputArg,
}

fn time(v: &Value, field: &str) -> String {
    fmt_opt_time(v[field].as_str().and_then(|s| s.parse().ok()))
}

/// What a request asks for, in a few words.
fn what(r: &Value) -> String {
    match r["role"].as_str() {
        Some(role) => output::clean_line(role),
        None => {
            let p: Vec<String> =
                r["permissions"].as_array().into_iter().flatten().filter_map(Value::as_str).map(output::clean_line).collect();
            p.join(", ")
        }
    }
}

fn targets(r: &Value) -> String {
    let t: Vec<String> = r["targets"].as_array().into_iter().flatten().map(|t| text(t, "target")).collect();
    t.join(", ")
}

/// Where the request stands, with the stage it (or its extension) waits on.
fn standing(r: &Value) -> String {
    let mut state = text(r, "state");
    if r["extension"].is_object() {
        state = format!("{state}, extension pending");
    }
    match r["openStage"].as_u64().and_then(|i| r["stages"].get(usize::try_from(i).ok()?)) {
        Some(stage) => format!("{state} ({})", text(stage, "name")),
        None => state,
    }
}

fn row(r: &Value) -> Vec<String> {
    let until = if r["expiresAt"].is_string() { time(r, "expiresAt") } else { "-".to_owned() };
    vec![text(r, "id"), text(r, "requester"), what(r), targets(r), text(r, "duration"), standing(r), until]
}

const HEADERS: [&str; 7] = ["ID", "REQUESTER", "WHAT", "TARGETS", "FOR", "STATE", "UNTIL"];

/// Prints a request as people read it.
fn describe(r: &Value) {
    crate::say!("Request {} by {}: {} on {} for {}.", text(r, "id"), text(r, "requester"), what(r), targets(r), text(r, "duration"));
    crate::say!("State: {}.", standing(r));
    if r["startsAt"].is_string() {
        crate::say!("Access: from {} until {}.", time(r, "startsAt"), time(r, "expiresAt"));
    } else if text(r, "state") == "pending" {
        crate::say!("Pending until {}.", time(r, "pendingUntil"));
    }
    for stage in r["stages"].as_array().into_iter().flatten() {
        let given = stage["approvals"].as_array().map_or(0, Vec::len);
        let by: Vec<String> = stage["approvals"].as_array().into_iter().flatten().map(|a| text(a, "by")).collect();
        let by = if by.is_empty() { String::new() } else { format!(": {}", by.join(", ")) };
        crate::say!("  stage {}: {given}/{} approvals by {}{by}", text(stage, "name"), stage["approvalsNeeded"], text(stage, "approvers"));
    }
    if r["breakGlass"].as_bool() == Some(true) {
        let review =
            if r["reviewed"].is_object() { format!("reviewed by {}", text(&r["reviewed"], "by")) } else { "awaiting review".to_owned() };
        crate::say!("Break-glass: {review}.");
    }
    if let Some(e) = r["extension"].as_object() {
        let e = Value::Object(e.clone());
        crate::say!(
            "Extension by {} asked, pending until {}: {}",
            text(&e, "duration"),
            time(&e, "pendingUntil"),
            text(&e, "justification")
        );
    }
    for e in r["extended"].as_array().into_iter().flatten() {
        crate::say!("Extended by {} at {}.", text(e, "duration"), time(e, "at"));
    }
    let declined: Vec<String> = r["declined"].as_array().into_iter().flatten().map(|t| text(t, "target")).collect();
    if !declined.is_empty() {
        crate::say!("Declined: {}.", declined.join(", "));
    }
    if r["closedBy"].is_string() {
        crate::say!("Closed by {} at {}: {}", text(r, "closedBy"), time(r, "closedAt"), text(r, "reason"));
    }
}

async fn decide(verb: &str, d: Decide) -> Result<()> {
    let id = id_arg("id", &d.id)?;
    let targets = (!d.targets.is_empty()).then_some(&d.targets);
    let written: Value =
        client(&d.env.env)?.post(&format!("/access-requests/{id}/{verb}"), &json!({ "reason": d.reason, "targets": targets })).await?;
    if d.out.json {
        return output::json(&written);
    }
    describe(&written["request"]);
    Ok(())
}

pub async fn run(command: AccessCommand) -> Result<()> {
    match command {
        AccessCommand::Request {
            role,
            permissions,
            targets,
            duration,
            start,
            timezone,
            justification,
            ticket,
            break_glass,
            single_use,
            env,
            out,
        } => {
            let body = json!({ "role": role, "permissions": permissions, "targets": targets, "duration": duration, "start": start,
                               "timezone": timezone, "justification": justification, "ticket": ticket, "breakGlass": break_glass,
                               "singleUse": single_use });
            let written: Value = client(&env.env)?.post("/access-requests", &body).await?;
            if out.json {
                return output::json(&written);
            }
            describe(&written["request"]);
            Ok(())
        }
        AccessCommand::List { state, mine, to_decide, limit, env, out } => {
            let mut query: Vec<(&str, String)> = vec![("mine", mine.to_string()), ("toDecide", to_decide.to_string())];
            query.extend(state.map(|s| ("state", s)));
            query.extend(limit.map(|l| ("limit", l.to_string())));
            let list: Value = client(&env.env)?.get("/access-requests", &query).await?;
            output::listed(&list, "requests", out.json, &HEADERS, row, "No access requests.")
        }
        AccessCommand::Show { id, env, out } => {
            let id = id_arg("id", &id)?;
            let r: Value = client(&env.env)?.get(&format!("/access-requests/{id}"), &[]).await?;
            if out.json {
                return output::json(&r);
            }
            describe(&r);
            Ok(())
        }
        AccessCommand::Extend { id, duration, justification, env, out } => {
            let id = id_arg("id", &id)?;
            let body = json!({ "duration": duration, "justification": justification });
            let written: Value = client(&env.env)?.post(&format!("/access-requests/{id}/extension"), &body).await?;
            if out.json {
                return output::json(&written);
            }
            describe(&written["request"]);
            Ok(())
        }
        AccessCommand::Approve(d) => decide("approve", d).await,
        AccessCommand::Deny(d) => decide("deny", d).await,
        AccessCommand::Cancel(d) => decide("cancel", d).await,
        AccessCommand::Revoke(d) => decide("revoke", d).await,
        AccessCommand::Review(d) => decide("review", d).await,
        AccessCommand::Policy(c) => policy::run(c).await,
    }
}
