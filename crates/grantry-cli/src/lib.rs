//! The `grantry` program: `serve` and every client command. `run` parses the command line,
//! dispatches to the subcommand's module, and turns the outcome into an exit code.

mod cli;
mod client;
mod commands;
mod config;
mod exit;
mod output;
mod progress;

use clap::Parser;
use exit::{Denied, Exit};
use std::process::ExitCode;

/// Runs the program with the process's arguments.
pub fn run() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return Exit::Failure.into();
        }
    };
    match runtime.block_on(commands::dispatch(cli.command)) {
        Ok(()) => Exit::Success.into(),
        Err(e) if e.is::<Denied>() => Exit::Denied.into(),
        Err(e) => {
            eprintln!("error: {}", output::clean_line(&format!("{e:#}")));
            Exit::of(&e).into()
        }
    }
}
