//! The `grantry` binary: parses the command line and dispatches.

fn main() -> std::process::ExitCode {
    grantry_cli::run()
}
