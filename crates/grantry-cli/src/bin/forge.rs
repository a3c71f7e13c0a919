//! `forge`: the same program as `grantry`, under the name seed 001's commands use.

fn main() -> std::process::ExitCode {
    grantry_cli::run()
}
