//! `grantry review …` and `grantry report …`: seed 003's access reviews — certify or revoke a
//! group's assignment to an agent or a user's membership of a group — and the compliance report
//! that reads them (a table, JSON or CSV).

use super::agent::agent_id;
use super::group::group_id;
use super::{client, fmt_opt_time};
use crate::cli::EnvArg;
use crate::exit::UsageError;
use crate::output;
use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};

/// What a review is about: --agent and --group (an assignment), or --group and --user-email (a membership).
#[derive(Debug, Args)]
pub struct ReviewTarget {
    /// The agent (name or id): review the group's assignment to it.
    #[arg(long, conflicts_with = "user_email")]
    pub agent: Option<String>,
    /// The group (name or id).
    #[arg(long)]
    pub group: String,
    /// The member: review their membership of the group.
    #[arg(long, required_unless_present = "agent")]
    pub user_email: Option<String>,
    /// Why (kept in the audit log).
    #[arg(long)]
    pub note: Option<String>,
    #[command(flatten)]
    pub env: EnvArg,
    /// Print the review as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Certify an assignment or a membership: it stays, and the review is recorded.
    #[command(after_help = crate::examples!(
        "grantry review certify --agent \"Sales Agent\" --group \"Sales Team\" --note \"Q4 review\" -e admin",
        "grantry review certify --group \"Sales Team\" --user-email sam@acme.example -e admin"
    ))]
    Certify(ReviewTarget),
    /// Revoke an assignment or a membership: it is taken away now, and the review is recorded.
    #[command(after_help = crate::examples!(
        "grantry review revoke --group \"Sales Team\" --user-email sam@acme.example --note \"moved to support\" -e admin",
        "grantry review revoke --agent \"Sales Agent\" --group \"Contractors\" -e admin"
    ))]
    Revoke(ReviewTarget),
}

/// How a report is printed.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Every assignment and membership, when it was last reviewed, and when the next review falls
    /// due by the organization's review period (quarterly unless changed); overdue ones first.
    #[command(after_help = crate::examples!(
        "grantry report compliance -e admin",
        "grantry report compliance --format csv -e admin > compliance.csv"
    ))]
    Compliance {
        #[command(flatten)]
        env: EnvArg,
        /// table (the default), json or csv.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
}

pub async fn review(command: ReviewCommand) -> Result<()> {
    let (verdict, t) = match command {
        ReviewCommand::Certify(t) => ("certify", t),
        ReviewCommand::Revoke(t) => ("revoke", t),
    };
    let c = client(&t.env.env)?;
    let group = group_id(&c, &t.group).await?;
    let body = match (&t.agent, &t.user_email) {
        (Some(agent), _) => {
            json!({ "kind": "assignment", "agent": agent_id(&c, agent).await?, "group": group, "verdict": verdict, "note": t.note })
        }
        (None, Some(user)) => json!({ "kind": "membership", "group": group, "user": user, "verdict": verdict, "note": t.note }),
        (None, None) => return Err(UsageError("give --agent (an assignment) or --user-email (a membership)".into()).into()),
    };
    let done: Value = c.post("/reviews", &body).await?;
    if t.json {
        return output::json(&done);
    }
    crate::say!(
        "{} {} (revision {}).",
        if verdict == "certify" { "Certified" } else { "Revoked" },
        output::clean_line(done["summary"].as_str().unwrap_or_default()),
        done["revision"]
    );
    Ok(())
}

fn time(v: &Value) -> String {
    fmt_opt_time(v.as_str().and_then(|t| t.parse().ok()))
}

pub async fn report(command: ReportCommand) -> Result<()> {
    let ReportCommand::Compliance { env, format } = command;
    let report: Value = client(&env.env)?.get("/reports/compliance", &[]).await?;
    let headers = ["KIND", "GROUP", "SUBJECT", "LEVEL", "SINCE", "LAST REVIEW", "BY", "VERDICT", "DUE", "OVERDUE"];
    let rows = output::rows_of(&report["items"], |i| {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let r = &i["last_review"];
        vec![
            text(&i["kind"]),
            text(&i["group"]),
            text(&i["subject"]),
            text(&i["level"]),
            time(&i["since"]),
            time(&r["at"]),
            text(&r["by"]),
            text(&r["verdict"]),
            time(&i["due_at"]),
            if i["overdue"].as_bool() == Some(true) { "yes".to_owned() } else { "no".to_owned() },
        ]
    });
    match format {
        Format::Json => output::json(&report),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            w.write_record(headers)?;
            for row in &rows {
                // A spreadsheet wants an empty cell where a table shows `-`.
                w.write_record(row.iter().map(|c| if c == "-" { "" } else { c.as_str() }))?;
            }
            w.flush()?;
            Ok(())
        }
        Format::Table => {
            let rows: Vec<Vec<String>> = rows.into_iter().map(|r| r.iter().map(|c| output::clean_cell(c)).collect()).collect();
            output::print_table(&headers, &rows, "No assignments or memberships.");
            crate::say!("{} overdue; a review holds {} days.", report["overdue"], report["review_period_days"]);
            Ok(())
        }
    }
}
