//! `conform`: see `conform --help`. Exit codes: 0 conformant or only known deviations, 1 a new deviation,
//! 2 a usage or environment error.
#![forbid(unsafe_code)]

use clap::Parser;

fn main() -> std::process::ExitCode {
    match conform_harness::cli::main(conform_harness::cli::Cli::parse()) {
        Ok(code) => std::process::ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            if let Some(hint) = conform_harness::error::hint_of(&error) {
                eprintln!("(hint: {hint})");
            }
            std::process::ExitCode::from(2)
        }
    }
}
