//! The `cargo test` entry: one libtest-mimic trial per property, so `cargo test -- --list`, `--exact`, name filters
//! and nextest's `--partition` work as for any test. Settings come from `CONFORM_*` variables (`CONFORM_CASES`
//! raises the small default case count; `CONFORM_SEED` repeats a run). A trial fails on a new deviation and on a
//! known deviation that no longer reproduces.

use std::path::Path;
use std::process::ExitCode;

use conform_harness::config::RunConfig;
use conform_harness::{known, runner, KNOWN_DEVIATIONS};
use conform_properties::registry;
use conform_reports::{console, Status};
use libtest_mimic::{Arguments, Failed, Trial};

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let config = match RunConfig::from_env_for_tests() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let properties = registry();
    let names: Vec<&str> = properties.iter().map(|p| p.name).collect();
    let known = match known::load(Path::new(KNOWN_DEVIATIONS), &names) {
        Ok(known) => known,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if !args.list {
        eprintln!("conform: {} cases per property, seed {} (set CONFORM_SEED={} to repeat)", config.cases, config.seed, config.seed);
    }
    conform_properties::init_libtorch(1);
    let trials = properties
        .into_iter()
        .map(|property| {
            let config = config.clone();
            let mine: Vec<known::KnownDeviation> = known.iter().filter(|k| k.property == property.name).cloned().collect();
            Trial::test(property.name, move || {
                let refs: Vec<&known::KnownDeviation> = mine.iter().collect();
                let report = runner::run_property(&property, &config, &refs, None, &mut |_| {});
                match report.status {
                    Status::Pass | Status::Known | Status::Skip => Ok(()),
                    Status::Fail | Status::Fixed => Err(Failed::from(console::details(&report))),
                }
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit_code()
}
