//! `grantry report …`: seed 003's permission reports — the agent access matrix, group membership,
//! permission coverage and compliance (reviews) — as a table, JSON or CSV.

use super::{client, fmt_opt_time};
use crate::cli::EnvArg;
use crate::output;
use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;

/// How a report is printed.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// Where and how.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// table (the default), json or csv.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Which users reach which agents, how (a group, organization-wide, a role) and through which
    /// groups: each cell the engine's own decision.
    #[command(after_help = crate::examples!("grantry report access-matrix -e admin", "grantry report access-matrix --format csv -e admin > matrix.csv"))]
    AccessMatrix(ReportArgs),
    /// Users per group, and groups per user.
    #[command(after_help = crate::examples!("grantry report memberships -e admin", "grantry report memberships --format json -e admin"))]
    Memberships(ReportArgs),
    /// Users with no agent access, agents with no assigned group, inactive users still in groups.
    #[command(after_help = crate::examples!("grantry report coverage -e admin"))]
    Coverage(ReportArgs),
    /// Every assignment and membership, when it was last reviewed, and when the next review falls
    /// due by the organization's review period (quarterly unless changed); overdue ones first.
    #[command(after_help = crate::examples!("grantry report compliance -e admin", "grantry report compliance --format csv -e admin > compliance.csv"))]
    Compliance(ReportArgs),
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn time(v: &Value) -> String {
    fmt_opt_time(v.as_str().and_then(|t| t.parse().ok()))
}

fn list(v: &Value) -> String {
    v.as_array().into_iter().flatten().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")
}

fn yes(v: &Value) -> String {
    if v.as_bool() == Some(true) { "yes" } else { "no" }.to_owned()
}

/// One name and its items, a row each way.
fn listing_rows(v: &Value) -> Vec<Vec<String>> {
    output::rows_of(v, |l| vec![text(&l["name"]), list(&l["items"])])
}

pub async fn run(command: ReportCommand) -> Result<()> {
    let (path, a) = match &command {
        ReportCommand::AccessMatrix(a) => ("/reports/access-matrix", a),
        ReportCommand::Memberships(a) => ("/reports/memberships", a),
        ReportCommand::Coverage(a) => ("/reports/coverage", a),
        ReportCommand::Compliance(a) => ("/reports/compliance", a),
    };
    let format = a.format;
    let report: Value = client(&a.env.env)?.get(path, &[]).await?;
    if let Format::Json = format {
        return output::json(&report);
    }
    let (headers, rows, footer): (Vec<&str>, Vec<Vec<String>>, Option<String>) = match command {
        ReportCommand::AccessMatrix(_) => (
            vec!["USER", "AGENT", "USE", "EDIT", "HOW", "GROUPS"],
            output::rows_of(&report["cells"], |c| {
                vec![text(&c["user"]), text(&c["agent"]), yes(&c["can_use"]), yes(&c["can_edit"]), text(&c["how"]), list(&c["groups"])]
            }),
            None,
        ),
        ReportCommand::Memberships(_) => {
            let mut rows: Vec<Vec<String>> =
                listing_rows(&report["groups"]).into_iter().map(|r| [vec!["group".to_owned()], r].concat()).collect();
            rows.extend(listing_rows(&report["users"]).into_iter().map(|r| [vec!["user".to_owned()], r].concat()));
            (vec!["BY", "NAME", "MEMBERS / GROUPS"], rows, None)
        }
        ReportCommand::Coverage(_) => {
            let one = |kind: &str, v: &Value| output::rows_of(v, |x| vec![kind.to_owned(), text(x), String::new()]);
            let mut rows = one("user without agents", &report["users_without_agents"]);
            rows.extend(one("agent without groups", &report["agents_without_groups"]));
            rows.extend(
                listing_rows(&report["inactive_users_in_groups"])
                    .into_iter()
                    .map(|r| [vec!["inactive user in groups".to_owned()], r].concat()),
            );
            (vec!["FINDING", "WHO", "GROUPS"], rows, None)
        }
        ReportCommand::Compliance(_) => (
            vec!["KIND", "GROUP", "SUBJECT", "LEVEL", "SINCE", "LAST REVIEW", "BY", "VERDICT", "DUE", "OVERDUE"],
            output::rows_of(&report["items"], |i| {
                let r = &i["last_review"];
                let cells = [&i["kind"], &i["group"], &i["subject"], &i["level"]].map(text);
                let rest = [time(&i["since"]), time(&r["at"]), text(&r["by"]), text(&r["verdict"]), time(&i["due_at"]), yes(&i["overdue"])];
                cells.into_iter().chain(rest).collect()
            }),
            Some(format!("{} overdue; a review holds {} days.", report["overdue"], report["review_period_days"])),
        ),
    };
    if let Format::Csv = format {
        let mut w = csv::Writer::from_writer(std::io::stdout());
        w.write_record(&headers)?;
        for row in &rows {
            // A spreadsheet wants an empty cell where a table shows `-`.
            w.write_record(row.iter().map(|c| if c == "-" { "" } else { c.as_str() }))?;
        }
        w.flush()?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = rows.into_iter().map(|r| r.iter().map(|c| output::clean_cell(c)).collect()).collect();
    output::print_table(&headers, &rows, "Nothing to report.");
    if let Some(f) = footer {
        crate::say!("{f}");
    }
    Ok(())
}
