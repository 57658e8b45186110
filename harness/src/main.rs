//! `conform`: see `conform --help`. Exit codes: 0 conformant or only known deviations, 1 a new deviation,
//! 2 a usage or environment error.
#![forbid(unsafe_code)]

use clap::Parser;

fn main() -> std::process::ExitCode {
    match conform_harness::cli::main(conform_harness::cli::Cli::parse()) {
        Ok(code) => std::process::ExitCode::from(code),
        Err(error) => {
            // Best effort: a closed or full stderr must not turn a usage error into a panic.
            use std::io::Write as _;
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "error: {error:#}");
            if let Some(hint) = conform_harness::error::hint_of(&error) {
                let _ = writeln!(stderr, "(hint: {hint})");
            }
            std::process::ExitCode::from(2)
        }
    }
}
