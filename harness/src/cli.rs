//! The `conform` command line: `list`, `run`, `replay`, `review`, `accept`, `reject`. Exit codes: 0 conformant (or only known deviations), 1 a new
//! deviation (or, with `--strict`, a fixed one), 2 a usage or environment error.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use conform_properties::{registry, Family, Property};
use conform_reports::console::{self, Progress};

use crate::config::{self, RunConfig};
use crate::corpus::{self, Corpus};
use crate::known::{self, KnownDeviation};
use crate::runner;

#[derive(Debug, Parser)]
#[command(
    name = "conform",
    version,
    about = "Property-based conformance checks of libtorch (tch) against ndarray and exact oracles"
)]
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
    /// Run properties (corpus cases first) and write DIR/report.json, report.html and junit.xml; a new failure is also
    /// written to the corpus as a pending `.json.new` file (never when CI is set).
    Run(RunArgs),
    /// Replay corpus files (default: every accepted file) and say whether each still fails the same way.
    Replay {
        /// Corpus files, accepted (.json) or pending (.json.new).
        paths: Vec<PathBuf>,
        #[command(flatten)]
        files: Files,
    },
    /// List pending corpus files with their failures.
    Review {
        #[command(flatten)]
        files: Files,
    },
    /// Move pending files into the corpus.
    Accept(Pick),
    /// Delete pending files.
    Reject(Pick),
}

#[derive(Debug, Args)]
struct Files {
    /// The regression corpus [env: CONFORM_CORPUS] [default: corpus]
    #[arg(long, value_name = "DIR")]
    corpus: Option<PathBuf>,
    /// The known deviations file [env: CONFORM_KNOWN] [default: known-deviations.toml]
    #[arg(long, value_name = "FILE")]
    known: Option<PathBuf>,
}

impl Files {
    fn corpus(&self) -> Corpus {
        Corpus::new(
            self.corpus
                .clone()
                .or_else(|| std::env::var_os("CONFORM_CORPUS").map(PathBuf::from))
                .unwrap_or_else(|| "corpus".into()),
        )
    }

    fn known_path(&self) -> PathBuf {
        self.known
            .clone()
            .or_else(|| std::env::var_os("CONFORM_KNOWN").map(PathBuf::from))
            .unwrap_or_else(|| "known-deviations.toml".into())
    }
}

#[derive(Debug, Args)]
struct Pick {
    /// Pending files (.json.new).
    paths: Vec<PathBuf>,
    /// Every pending file.
    #[arg(long, conflicts_with = "paths")]
    all: bool,
    #[command(flatten)]
    files: Files,
}

#[derive(Debug, Args)]
struct Select {
    /// Only properties of this family (repeatable): roundtrip, dtype, aliasing, casts, devices.
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
    /// Where report.json, report.html and junit.xml go [env: CONFORM_OUT] [default: target/conform]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    files: Files,
    /// Exit 1 when a known deviation no longer reproduces (fixed).
    #[arg(long)]
    strict: bool,
    /// Which devices' properties run: cpu, cuda (an error where CUDA is not usable), or all (CUDA properties are
    /// skipped with the reason where it is not) [env: CONFORM_DEVICE] [default: all]
    #[arg(long, value_name = "DEVICE", value_parser = config::parse_device)]
    device: Option<config::DeviceChoice>,
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
        Command::Replay { paths, files } => replay(&paths, &files),
        Command::Review { files } => review(&files),
        Command::Accept(pick) => decide(&pick, true),
        Command::Reject(pick) => decide(&pick, false),
    }
}

fn names(all: &[Property]) -> Vec<&'static str> {
    all.iter().map(|p| p.name).collect()
}

/// Replays corpus files: 0 when each passes or reproduces a known deviation, 1 when one fails in a new way,
/// 2 when a file cannot be used (the others still replay).
fn replay(paths: &[PathBuf], files: &Files) -> Result<u8> {
    let all = registry();
    let names = names(&all);
    let known = known::load(&files.known_path(), &names)?;
    let paths = if paths.is_empty() { files.corpus().accepted() } else { paths.to_vec() };
    if paths.is_empty() {
        bail!(
            "no corpus file to replay under {}\n(hint: accept pending files with `conform accept`, or name files)",
            files.corpus().root.display()
        );
    }
    conform_properties::init_libtorch(1);
    let mut out = String::new();
    let mut code = 0u8;
    for path in &paths {
        let loaded = match corpus::load(path, &names) {
            Ok(loaded) => loaded,
            Err(e) => {
                out.push_str(&format!("{path}: ERROR {e}\n", path = path.display()));
                code = 2;
                continue;
            }
        };
        let property = all.iter().find(|p| p.name == loaded.entry.property).expect("load checked the name");
        let mine: Vec<&KnownDeviation> = known.iter().filter(|k| k.property == property.name).collect();
        let same = |f: &conform_properties::Failure| {
            if f.message == loaded.entry.message {
                "identically"
            } else {
                "with a different message"
            }
        };
        let line = match runner::replay(property, &loaded.entry.case, &mine) {
            runner::Replay::Passes => "passes now (the recorded failure is gone)".to_string(),
            runner::Replay::Rejected(why) => format!("rejected: {why}"),
            runner::Replay::Known(f) => {
                format!("reproduces {} (known deviation: {})\n  {}", same(&f), f.signature, f.message)
            }
            runner::Replay::Fails(f) => {
                code = code.max(1);
                format!("FAILS {} ({})\n  {}", same(&f), f.signature, f.message)
            }
        };
        out.push_str(&format!("{}: {} {line}\n", path.display(), property.name));
    }
    print_tolerating_closed_pipe(&out)?;
    Ok(code)
}

fn review(files: &Files) -> Result<u8> {
    let names = names(&registry());
    let pending = files.corpus().pending();
    let mut out = String::new();
    for path in &pending {
        match corpus::load(path, &names) {
            Ok(l) => out.push_str(&format!(
                "{}\n  property:  {}\n  signature: {}\n  message:   {}\n  case:      {:?}\n",
                path.display(),
                l.entry.property,
                l.entry.signature,
                l.entry.message,
                l.entry.case
            )),
            Err(e) => out.push_str(&format!("{}\n  ERROR {}\n", path.display(), e.message)),
        }
    }
    out.push_str(&format!(
        "{} pending file(s){}\n",
        pending.len(),
        if pending.is_empty() { "" } else { "; `conform accept PATH…` or `conform reject PATH…` (or --all)" }
    ));
    print_tolerating_closed_pipe(&out)?;
    Ok(0)
}

fn decide(pick: &Pick, accept: bool) -> Result<u8> {
    let names = names(&registry());
    let paths = if pick.all { pick.files.corpus().pending() } else { pick.paths.clone() };
    if paths.is_empty() {
        bail!("no pending file named\n(hint: name .json.new files, or pass --all; `conform review` lists them)");
    }
    let mut out = String::new();
    let mut code = 0;
    for path in &paths {
        let result = if accept {
            corpus::accept(path, &names).map(|p| format!("accepted {}", p.display()))
        } else {
            corpus::reject(path).map(|()| format!("rejected {}", path.display()))
        };
        match result {
            Ok(line) => out.push_str(&format!("{line}\n")),
            Err(e) => {
                out.push_str(&format!("error: {e}\n"));
                code = 2;
            }
        }
    }
    print_tolerating_closed_pipe(&out)?;
    Ok(code)
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
            None => config::env("CONFORM_BUDGET", config::parse_budget, config::BUDGET_HINT)?
                .unwrap_or(Some(config::DEFAULT_BUDGET)),
        },
        max_numel: option_or_env(args.max_numel, "CONFORM_MAX_NUMEL", config::parse_numel, config::NUMEL_HINT)?
            .unwrap_or(conform_generators::DEFAULT_MAX_NUMEL),
        out_dir: args
            .out
            .clone()
            .or_else(|| std::env::var_os("CONFORM_OUT").map(PathBuf::from))
            .unwrap_or_else(|| "target/conform".into()),
        strict: args.strict,
        device: option_or_env(args.device, "CONFORM_DEVICE", config::parse_device, config::DEVICE_HINT)?
            .unwrap_or(config::DeviceChoice::All),
    })
}

/// A flag wins over its environment variable.
fn option_or_env<T>(
    flag: Option<T>,
    var: &str,
    parse: fn(&str) -> Result<T, String>,
    hint: &'static str,
) -> Result<Option<T>> {
    match flag {
        Some(v) => Ok(Some(v)),
        None => Ok(config::env(var, parse, hint)?),
    }
}

fn run(args: RunArgs) -> Result<u8> {
    let config = run_config(&args)?;
    let all = registry();
    let names = names(&all);
    let known_path = args.files.known_path();
    let known = known::load(&known_path, &names)?;
    let corpus = args.files.corpus();
    let (stored, corpus_errors) = corpus.load_accepted(&names);
    let properties = args.select.apply(all)?;
    if properties.is_empty() {
        bail!("no property matches the selection\n(hint: `conform list` prints the property names)");
    }
    conform_properties::init_libtorch(1);
    if config.device == config::DeviceChoice::Cuda {
        if let conform_properties::devices::CudaStatus::Unusable(why) = conform_properties::devices::cuda_status() {
            bail!("--device cuda, but CUDA is not usable: {why}");
        }
    }

    let mut progress = Progress::default();
    let quiet = args.quiet;
    let report = runner::run(&properties, &config, &known, &stored, &mut |event| {
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
        let new_failure =
            p.counterexample.as_ref().filter(|c| p.status == conform_reports::Status::Fail && c.corpus_file.is_none());
        if let Some(c) = new_failure {
            if let Ok(case) = serde_json::from_value::<conform_generators::TensorCase>(c.case.clone()) {
                let versions = (report.libtorch_version.as_str(), report.tch_version.as_str());
                let entry = conform_generators::CorpusEntry::new(&p.name, &c.signature, &c.message, versions, case);
                match corpus.write_pending(&entry, std::env::var_os("CI").is_some())? {
                    Some(pending) => out.push_str(&format!(
                        "pending: {} (review with `conform review`, then `conform accept` or `conform reject`)\n",
                        pending.display()
                    )),
                    None => out.push_str("no pending file written (CI is set, or the case is already in the corpus)\n"),
                }
                let accepted = corpus.path_for(&entry);
                let relative =
                    accepted.strip_prefix(known_path.parent().unwrap_or(Path::new("."))).unwrap_or(&accepted);
                let deviation = known::Entry {
                    property: p.name.clone(),
                    signature: c.signature.clone(),
                    reason: "TODO: why this is libtorch's or tch's behaviour, not a conform bug".into(),
                    evidence: relative.display().to_string(),
                };
                out.push_str(&format!(
                    "if this is a deviation of libtorch/tch to accept after review, accept the pending file and add to {}:\n{}",
                    known_path.display(),
                    known::entry_toml(&deviation)
                ));
            }
        }
    }
    for e in &corpus_errors {
        out.push_str(&format!("corpus error: {e}\n"));
    }
    std::fs::create_dir_all(&config.out_dir).with_context(|| format!("cannot create {}", config.out_dir.display()))?;
    let json_path = config.out_dir.join("report.json");
    std::fs::write(&json_path, conform_reports::to_json(&report))
        .with_context(|| format!("cannot write {}", json_path.display()))?;
    let html_path = config.out_dir.join("report.html");
    std::fs::write(&html_path, conform_reports::html::to_html(&report))
        .with_context(|| format!("cannot write {}", html_path.display()))?;
    let junit_path = config.out_dir.join("junit.xml");
    let junit = conform_reports::junit::to_junit(&report).context("cannot render junit.xml")?;
    std::fs::write(&junit_path, junit).with_context(|| format!("cannot write {}", junit_path.display()))?;
    out.push_str(&format!("report: {}\n", json_path.display()));
    print_tolerating_closed_pipe(&out)?;
    // A corpus file that cannot be read is a usage error even when everything else ran.
    Ok(if corpus_errors.is_empty() { runner::exit_code(&report, config.strict) } else { 2 })
}
