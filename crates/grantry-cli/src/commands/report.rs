//! `grantry report …`: seed 003's permission reports — the agent access matrix, group membership,
//! permission coverage and compliance (reviews) — as a table, JSON, CSV or an XLSX workbook. The
//! server makes every form (`?format=table|csv|xlsx`); the CLI lays the table out for a terminal.

use super::{client, fmt_opt_time};
use crate::cli::EnvArg;
use crate::exit::UsageError;
use crate::output;
use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;
use std::io::IsTerminal;
use std::path::PathBuf;

/// How a report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Xlsx,
}

/// Where and how.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// table (the default), json, csv or xlsx (an Excel workbook: give --output, or redirect).
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Which users reach which agents, how (a group, organization-wide, a role) and through which
    /// groups: each cell the engine's own decision.
    #[command(after_help = crate::examples!(
        "grantry report access-matrix -e admin",
        "grantry report access-matrix --format csv -e admin > matrix.csv",
        "grantry report access-matrix --format xlsx --output matrix.xlsx -e admin"
    ))]
    AccessMatrix(ReportArgs),
    /// Users per group, and groups per user.
    #[command(after_help = crate::examples!("grantry report memberships -e admin", "grantry report memberships --format json -e admin"))]
    Memberships(ReportArgs),
    /// Users with no agent access, agents with no assigned group, inactive users still in groups.
    #[command(after_help = crate::examples!("grantry report coverage -e admin", "grantry report coverage --format xlsx -o coverage.xlsx -e admin"))]
    Coverage(ReportArgs),
    /// Every assignment and membership, when it was last reviewed, and when the next review falls
    /// due by the organization's review period (quarterly unless changed); overdue ones first.
    #[command(after_help = crate::examples!(
        "grantry report compliance -e admin",
        "grantry report compliance --format csv -e admin > compliance.csv",
        "grantry report compliance --format xlsx --output compliance.xlsx -e admin"
    ))]
    Compliance(ReportArgs),
}

/// A cell for a terminal: times as the other commands show them, `-` for nothing.
fn shown(cell: &Value) -> String {
    let text = cell.as_str().unwrap_or_default();
    match text.parse::<grantry_core::Timestamp>() {
        Ok(t) => fmt_opt_time(Some(t)),
        Err(_) if text.is_empty() => "-".to_owned(),
        Err(_) => output::clean_cell(text),
    }
}

/// The server's table laid out for a terminal, with its footer.
fn print_table(table: &Value) {
    let headers: Vec<&str> = table["headers"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let rows = output::rows_of(&table["rows"], |r| r.as_array().into_iter().flatten().map(shown).collect());
    output::print_table(&headers, &rows, "Nothing to report.");
    if let Some(footer) = table["footer"].as_str() {
        crate::say!("{}", output::clean_line(footer));
    }
}

pub async fn run(command: ReportCommand) -> Result<()> {
    let (path, a) = match &command {
        ReportCommand::AccessMatrix(a) => ("/reports/access-matrix", a),
        ReportCommand::Memberships(a) => ("/reports/memberships", a),
        ReportCommand::Coverage(a) => ("/reports/coverage", a),
        ReportCommand::Compliance(a) => ("/reports/compliance", a),
    };
    if a.format == Format::Table && a.output.is_some() {
        return Err(UsageError("--output writes a file: give --format csv, xlsx or json with it".into()).into());
    }
    if a.format == Format::Xlsx && a.output.is_none() && std::io::stdout().is_terminal() {
        return Err(UsageError("an XLSX workbook is not for a terminal; give --output FILE, or redirect: > report.xlsx".into()).into());
    }
    let c = client(&a.env.env)?;
    let data = match a.format {
        Format::Json => {
            let report: Value = c.get(path, &[]).await?;
            if a.output.is_none() {
                return output::json(&report);
            }
            serde_json::to_vec_pretty(&report)?
        }
        Format::Table => {
            let data = c.get_bytes(path, &[("format", "table".to_owned())]).await?;
            print_table(&serde_json::from_slice(&data)?);
            return Ok(());
        }
        Format::Csv => c.get_bytes(path, &[("format", "csv".to_owned())]).await?,
        Format::Xlsx => c.get_bytes(path, &[("format", "xlsx".to_owned())]).await?,
    };
    match &a.output {
        None => output::bytes(&data)?,
        Some(file) => {
            std::fs::write(file, &data).map_err(|e| UsageError(format!("cannot write `{}`: {e}", file.display())))?;
            crate::say!("Wrote {} bytes to {}.", data.len(), file.display());
        }
    }
    Ok(())
}
