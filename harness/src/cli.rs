//! The `conform` command line: `list` and `run`. Exit codes: 0 conformant (or only known deviations), 1 a new
//! deviation (or, with `--strict`, a fixed one), 2 a usage or environment error.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use conform_properties::{registry, Family, Property};
use conform_reports::console::{self, Progress};

use crate::config::{self, RunConfig};
use crate::known::{self, KnownDeviation};
use crate::runner;

#[derive(Debug, Parser)]
#[command(name = "conform", version, about = "Property-based conformance checks of libtorch (tch) against ndarray and exact oracles")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print one property name per line.
    List {
        #[command(flatten)]
        select: Select,
    },
    /// Run properties and write DIR/report.json and DIR/junit.xml.
    Run(RunArgs),
}

#[derive(Debug, Args)]
struct Select {
    /// Only properties of this family (repeatable): roundtrip, dtype, aliasing, casts.
    #[arg(long = "family", value_name = "F")]
    families: Vec<String>,
    /// Only the property with this full name (repeatable).
    #[arg(long = "property", value_name = "NAME")]
    properties: Vec<String>,
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    select: Select,
    /// Cases per property [env: CONFORM_CASES] [default: 1000000, usually cut short by the budget]
    #[arg(long, value_name = "N", value_parser = config::parse_count)]
    cases: Option<u32>,
    /// Run seed, decimal or 0x-hex [env: CONFORM_SEED] [default: random, printed]
    #[arg(long, value_name = "S", value_parser = config::parse_seed)]
    seed: Option<u64>,
    /// Total time budget shared by the properties, e.g. 90s, 2m, or none [env: CONFORM_BUDGET] [default: 60s]
    #[arg(long, value_name = "DURATION")]
    budget: Option<String>,
    /// Most elements per case; the maximum rank and sides derive from it [env: CONFORM_MAX_NUMEL] [default: 64]
    #[arg(long, value_name = "N", value_parser = config::parse_numel)]
    max_numel: Option<usize>,
    /// Where report.json and junit.xml go [env: CONFORM_OUT] [default: target/conform]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The known deviations file [env: CONFORM_KNOWN] [default: known-deviations.toml]
    #[arg(long, value_name = "FILE")]
    known: Option<PathBuf>,
    /// Exit 1 when a known deviation no longer reproduces (fixed).
    #[arg(long)]
    strict: bool,
    /// No progress bars (the summary table is still printed).
    #[arg(long)]
    quiet: bool,
}

/// Runs the CLI and returns the process exit code.
pub fn main(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::List { select } => {
            let names: String = select.apply(registry())?.iter().map(|p| format!("{}\n", p.name)).collect();
            print_tolerating_closed_pipe(&names)?;
            Ok(0)
        }
        Command::Run(args) => run(args),
    }
}

impl Select {
    fn apply(&self, all: Vec<Property>) -> Result<Vec<Property>> {
        for f in &self.families {
            if !Family::ALL.iter().any(|family| family.name() == f) {
                let names: Vec<&str> = Family::ALL.iter().map(|f| f.name()).collect();
                bail!("unknown family `{f}`\n(hint: families are {})", names.join(", "));
            }
        }
        for name in &self.properties {
            if !all.iter().any(|p| p.name == name) {
                bail!("unknown property `{name}`\n(hint: `conform list` prints the property names)");
            }
        }
        Ok(all
            .into_iter()
            .filter(|p| self.families.is_empty() || self.families.iter().any(|f| f == p.family.name()))
            .filter(|p| self.properties.is_empty() || self.properties.iter().any(|n| n == p.name))
            .collect())
    }
}

/// Writes to stdout; a reader that went away (`conform list | head`) is not an error.
fn print_tolerating_closed_pipe(text: &str) -> Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("cannot write to stdout"),
        _ => Ok(()),
    }
}

fn run_config(args: &RunArgs) -> Result<RunConfig> {
    Ok(RunConfig {
        cases: option_or_env(args.cases, "CONFORM_CASES", config::parse_count, config::CASES_HINT)?
            .unwrap_or(config::DEFAULT_CASES),
        seed: option_or_env(args.seed, "CONFORM_SEED", config::parse_seed, config::SEED_HINT)?
            .unwrap_or_else(config::fresh_seed),
        budget: match &args.budget {
            Some(text) => config::parse_budget(text).map_err(|why| config::ConfigError {
                source_name: "--budget".into(),
                value: text.clone(),
                why,
                hint: config::BUDGET_HINT,
            })?,
            None => config::env("CONFORM_BUDGET", config::parse_budget, config::BUDGET_HINT)?.unwrap_or(Some(config::DEFAULT_BUDGET)),
        },
        max_numel: option_or_env(args.max_numel, "CONFORM_MAX_NUMEL", config::parse_numel, config::NUMEL_HINT)?
            .unwrap_or(conform_generators::DEFAULT_MAX_NUMEL),
        out_dir: args.out.clone().or_else(|| std::env::var_os("CONFORM_OUT").map(PathBuf::from)).unwrap_or_else(|| "target/conform".into()),
        strict: args.strict,
    })
}

/// A flag wins over its environment variable.
fn option_or_env<T>(flag: Option<T>, var: &str, parse: fn(&str) -> Result<T, String>, hint: &'static str) -> Result<Option<T>> {
    match flag {
        Some(v) => Ok(Some(v)),
        None => Ok(config::env(var, parse, hint)?),
    }
}

fn run(args: RunArgs) -> Result<u8> {
    let config = run_config(&args)?;
    let all = registry();
    let names: Vec<&str> = all.iter().map(|p| p.name).collect();
    let known_path = args
        .known
        .clone()
        .or_else(|| std::env::var_os("CONFORM_KNOWN").map(PathBuf::from))
        .unwrap_or_else(|| "known-deviations.toml".into());
    let known = known::load(&known_path, &names)?;
    let properties = args.select.apply(all)?;
    if properties.is_empty() {
        bail!("no property matches the selection\n(hint: `conform list` prints the property names)");
    }
    conform_properties::init_libtorch(1);

    let mut progress = Progress::default();
    let quiet = args.quiet;
    let report = runner::run(&properties, &config, &known, &mut |event| {
        if !quiet {
            progress.handle(event)
        }
    });

    let mut out = console::summary_table(&report);
    out.push('\n');
    out.push_str(&console::claims(&report));
    out.push_str(&console::observations(&report));
    for p in &report.properties {
        let details = console::details(p);
        if !details.is_empty() {
            out.push_str(&format!("\n{details}"));
        }
        if let Some(c) = p.counterexample.as_ref().filter(|_| p.status == conform_reports::Status::Fail) {
            if let Ok(evidence) = serde_json::from_value(c.case.clone()) {
                let entry = KnownDeviation {
                    property: p.name.clone(),
                    signature: c.signature.clone(),
                    reason: "TODO: why this is libtorch's or tch's behaviour, not a conform bug".into(),
                    message: c.message.clone(),
                    evidence,
                };
                out.push_str(&format!(
                    "if this is a deviation of libtorch/tch to accept after review, add to {}:\n{}",
                    known_path.display(),
                    known::entry_toml(&entry)
                ));
            }
        }
    }
    std::fs::create_dir_all(&config.out_dir).with_context(|| format!("cannot create {}", config.out_dir.display()))?;
    let json_path = config.out_dir.join("report.json");
    std::fs::write(&json_path, conform_reports::to_json(&report)).with_context(|| format!("cannot write {}", json_path.display()))?;
    let junit_path = config.out_dir.join("junit.xml");
    let junit = conform_reports::junit::to_junit(&report).context("cannot render junit.xml")?;
    std::fs::write(&junit_path, junit).with_context(|| format!("cannot write {}", junit_path.display()))?;
    out.push_str(&format!("report: {}\n", json_path.display()));
    print_tolerating_closed_pipe(&out)?;
    Ok(runner::exit_code(&report, config.strict))
}
