//! `grantry import …`: seed 003's CSV files — assignments (`AgentId,GroupId,Permission,StartDate,EndDate`)
//! and users (`Name,Email,Group`). The server validates the whole file before writing any of it,
//! in one transaction; a bad row rejects the file with its line number. `--dry-run` shows what
//! each row would do. A large file shows its progress on a terminal.

use super::client;
use crate::cli::{EnvArg, OutputArg};
use crate::exit::UsageError;
use crate::output;
use crate::progress;
use anyhow::Result;
use clap::Subcommand;
use serde_json::{json, Value};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Assign groups to agents from a CSV file: AgentId,GroupId,Permission,StartDate,EndDate
    /// (agents and groups by id or name; dates optional).
    #[command(after_help = crate::examples!(
        "grantry import assignments assignments.csv --dry-run -e admin",
        "grantry import assignments assignments.csv --timezone America/New_York -e admin"
    ))]
    Assignments {
        /// The CSV file (- for standard input).
        file: PathBuf,
        /// The IANA timezone the dates are read in (UTC unless given).
        #[arg(long)]
        timezone: Option<String>,
        /// Show what each row would do; write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
    /// Create users (as org_member) and add them to groups from a CSV file: Name,Email,Group.
    #[command(after_help = crate::examples!(
        "grantry import users people.csv --dry-run -e admin",
        "grantry import users people.csv -e admin"
    ))]
    Users {
        /// The CSV file (- for standard input).
        file: PathBuf,
        /// Show what each row would do; write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        env: EnvArg,
        #[command(flatten)]
        out: OutputArg,
    },
}

fn read(file: &PathBuf) -> Result<String> {
    if file.as_os_str() == "-" {
        return Ok(std::io::read_to_string(std::io::stdin())?);
    }
    std::fs::read_to_string(file).map_err(|e| UsageError(format!("cannot read `{}`: {e}", file.display())).into())
}

pub async fn run(command: ImportCommand) -> Result<()> {
    let (path, body, dry_run, env, out) = match command {
        ImportCommand::Assignments { file, timezone, dry_run, env, out } => {
            ("/imports/assignments", json!({ "csv": read(&file)?, "dry_run": dry_run, "timezone": timezone }), dry_run, env, out)
        }
        ImportCommand::Users { file, dry_run, env, out } => {
            ("/imports/users", json!({ "csv": read(&file)?, "dry_run": dry_run }), dry_run, env, out)
        }
    };
    let lines = body["csv"].as_str().map_or(0, |t| t.lines().count().saturating_sub(1));
    let (stream, bar) = progress::upload(serde_json::to_vec(&body)?, "the file", &format!("The server is checking {lines} rows"));
    let report = client(&env.env)?.post_stream::<Value>(path, stream).await;
    bar.finish_and_clear();
    print_report(&report?, dry_run, &out, "LINE")
}

/// Prints what a write of many rows (an import, a bulk change) did or would do; `first` heads the
/// rows' numbers.
pub fn print_report(report: &Value, dry_run: bool, out: &OutputArg, first: &str) -> Result<()> {
    if out.json {
        return output::json(report);
    }
    let rows: Vec<Vec<String>> = output::rows_of(&report["rows"], |r| {
        vec![
            r["line"].to_string(),
            output::clean_cell(r["action"].as_str().unwrap_or_default()),
            output::clean_cell(r["detail"].as_str().unwrap_or_default()),
        ]
    });
    output::print_table(&[first, "ACTION", "WHAT"], &rows, "No rows.");
    let counts = format!(
        "{} to create, {} to change, {} to remove, {} unchanged",
        report["created"], report["changed"], report["removed"], report["unchanged"]
    );
    if dry_run {
        crate::say!("Dry run: {counts}; nothing was written.");
    } else {
        crate::say!("Written in one transaction (revision {}): {counts}.", report["revision"]);
    }
    Ok(())
}
