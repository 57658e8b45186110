//! The `conform` command line: `list`, `run`, `replay`, `review`, `accept`, `reject`. It parses and dispatches:
//! settings are resolved in `config`, corpus files written in `corpus`, report files in `conform_reports::write_all`.
//! Exit codes: 0 conformant (or only known deviations), 1 a property failed the run (a new deviation, a known one
//! that is fixed, or a vacuous verdict), 2 a usage or environment error.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand};
use conform_properties::{registry, Property};
use conform_reports::console::{self, Progress};

use crate::config::{self, RunConfig, RunFlags};
use crate::corpus::{self, Corpus};
use crate::error::UsageError;
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
        Corpus::new(config::corpus_dir(self.corpus.clone()))
    }

    fn known_path(&self) -> PathBuf {
        config::known_path(self.known.clone())
    }

    fn known(&self, names: &[&str]) -> Result<Vec<KnownDeviation>, UsageError> {
        Ok(known::load(&self.known_path(), names)?)
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
    /// Only properties of this family (repeatable).
    #[arg(long = "family", value_name = "F", value_parser = family_names())]
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
    let known = files.known(&names)?;
    let paths = if paths.is_empty() { files.corpus().accepted() } else { paths.to_vec() };
    if paths.is_empty() {
        return Err(UsageError::new(
            format!("no corpus file to replay under {}", files.corpus().root.display()),
            "accept pending files with `conform accept`, or name files",
        )
        .into());
    }
    conform_properties::init_libtorch(1);
    let mut out = String::new();
    let mut code = 0u8;
    for path in &paths {
        let loaded = match corpus::load(path, &names) {
            Ok(loaded) => loaded,
            Err(e) => {
                out.push_str(&format!("{path}: ERROR {kind}\n", path = path.display(), kind = e.kind));
                if let Some(hint) = e.hint() {
                    out.push_str(&format!("  (hint: {hint})\n"));
                }
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
            Err(e) => out.push_str(&format!("{}\n  ERROR {}\n", path.display(), e.kind)),
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
        return Err(UsageError::new(
            "no pending file named",
            "name .json.new files, or pass --all; `conform review` lists them",
        )
        .into());
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
                if let Some(hint) = e.hint() {
                    out.push_str(&format!("  (hint: {hint})\n"));
                }
                code = 2;
            }
        }
    }
    print_tolerating_closed_pipe(&out)?;
    Ok(code)
}

/// The `--family` values: the family table's names.
fn family_names() -> PossibleValuesParser {
    PossibleValuesParser::new(conform_properties::families().into_iter().map(|f| f.family.name()))
}

impl Select {
    fn apply(&self, all: Vec<Property>) -> Result<Vec<Property>, UsageError> {
        for name in &self.properties {
            if !all.iter().any(|p| p.name == name) {
                return Err(UsageError::new(
                    format!("unknown property `{name}`"),
                    "`conform list` prints the property names",
                ));
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

impl RunArgs {
    fn flags(&self) -> RunFlags {
        RunFlags {
            cases: self.cases,
            seed: self.seed,
            budget: self.budget.clone(),
            max_numel: self.max_numel,
            out: self.out.clone(),
            device: self.device,
        }
    }
}

fn run(args: RunArgs) -> Result<u8> {
    let config = RunConfig::resolve(&args.flags()).map_err(UsageError::from)?;
    let all = registry();
    let names = names(&all);
    let known_path = args.files.known_path();
    let known = args.files.known(&names)?;
    let corpus = args.files.corpus();
    let (stored, corpus_errors) = corpus.load_accepted(&names);
    let properties = args.select.apply(all)?;
    if properties.is_empty() {
        return Err(
            UsageError::new("no property matches the selection", "`conform list` prints the property names").into()
        );
    }
    conform_properties::init_libtorch(1);
    if config.device == config::DeviceChoice::Cuda {
        use conform_properties::cuda::{cuda_status, CudaStatus};
        if let CudaStatus::Unusable { reason, hint } = cuda_status() {
            let message = format!("--device cuda, but CUDA is not usable: {reason}");
            return Err(UsageError { message, hint }.into());
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
    let versions = (report.libtorch_version.as_str(), report.tch_version.as_str());
    let in_ci = std::env::var_os("CI").is_some();
    for p in &report.properties {
        let details = console::details(p);
        if !details.is_empty() {
            out.push_str(&format!("\n{details}"));
        }
        let new_failure =
            p.counterexample.as_ref().filter(|c| p.status == conform_reports::Status::Fail && c.corpus_file.is_none());
        if let Some(c) = new_failure {
            out.push_str(
                &corpus::record_new_failure(&corpus, &p.name, c, versions, &known_path, in_ci)
                    .map_err(UsageError::from)?,
            );
        }
    }
    for e in &corpus_errors {
        out.push_str(&format!("corpus error: {e}\n"));
        if let Some(hint) = e.hint() {
            out.push_str(&format!("  (hint: {hint})\n"));
        }
    }
    let written = conform_reports::write_all(&report, &config.out_dir).map_err(UsageError::from)?;
    out.push_str(&format!("report: {}\n", written.json.display()));
    print_tolerating_closed_pipe(&out)?;
    // A corpus file that cannot be read is a usage error even when everything else ran.
    Ok(if corpus_errors.is_empty() { runner::exit_code(&report) } else { 2 })
}
