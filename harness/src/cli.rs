//! The `conform` command line: `list`, `run`, `replay`, `review`, `accept`, `reject`. It parses and dispatches:
//! settings are resolved in `config`, corpus files written in `corpus`, report files in `conform_reports::write_all`.
//! Exit codes: 0 conformant (or only known deviations), 1 a property failed the run (a new deviation, a known one
//! that is fixed, or a vacuous verdict), 2 a usage or environment error.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand};
use conform_properties::Property;

use crate::selftest::registry;
use conform_reports::console::{self, Progress};

use crate::config::{self, RunConfig, RunFlags};
use crate::corpus::{self, shown, Corpus};
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
        /// Corpus files, accepted (.json) or pending (.json.new), inside the corpus folder (--corpus).
        paths: Vec<PathBuf>,
        #[command(flatten)]
        files: Files,
        /// Check in this process instead of a crash-isolated worker (debugging: a crash then ends the replay).
        #[arg(long)]
        in_process: bool,
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
    /// Merge the report.json files of the shards of one run (`run --shard K/N`) into one report in DIR; refuses
    /// reports of different runs (seed, settings, versions, format), incomplete ones, and duplicate properties.
    Merge(crate::nightly::MergeArgs),
    /// Compare two report.json files property by property (by name: across versions and devices); exit 1 when
    /// anything got worse.
    Diff(crate::nightly::DiffArgs),
    /// Print, for corpus files (default: every accepted one), a minimal Rust program (and where the deviation is
    /// libtorch's, a Python/torch one) printing actual and expected bits, and a draft upstream issue.
    Repro(crate::repro::ReproArgs),
    /// Serve check and search requests on stdin/stdout (what `run` starts, one per job; not for people).
    #[command(hide = true)]
    Worker {
        /// Where to write the index of the case in flight.
        #[arg(long, value_name = "FILE")]
        progress: PathBuf,
    },
}

#[derive(Debug, Args)]
struct Files {
    /// The regression corpus [env: CONFORM_CORPUS] [default: corpus]
    #[arg(long, value_name = "DIR")]
    corpus: Option<PathBuf>,
    /// The known deviations file, which must exist when named [env: CONFORM_KNOWN] [default: known-deviations.toml,
    /// or none when that is missing]
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

    /// The known deviations, with their evidence in this corpus. Only the default path may be missing (no known
    /// deviations); a path given by `--known` or `CONFORM_KNOWN` must exist, so a typo is an error naming it.
    fn known(&self, names: &[&str]) -> Result<Vec<KnownDeviation>, UsageError> {
        let named = self.known.is_some() || std::env::var_os("CONFORM_KNOWN").is_some();
        let if_missing = if named { known::IfMissing::Error } else { known::IfMissing::NoDeviations };
        known::load(&self.known_path(), if_missing, &self.corpus(), names)
            .map_err(|e| UsageError { hint: e.hint(), message: corpus::shown_lines(&e.to_string()) })
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
    /// Only the properties of shard K of N (1 <= K <= N): those whose full name's FNV-1a 64 hash, shifted right by 32,
    /// modulo N is K-1.
    #[arg(long, value_name = "K/N", value_parser = crate::nightly::parse_shard)]
    shard: Option<crate::nightly::Shard>,
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
    /// Write new failures' pending corpus files under DIR (in the corpus layout) instead of into the corpus, even when
    /// CI is set, e.g. into a CI artifact [env: CONFORM_PENDING] [default: the corpus, and none when CI is set]
    #[arg(long, value_name = "DIR")]
    pending: Option<PathBuf>,
    /// Worker processes side by side, each running one property at a time [env: CONFORM_JOBS] [default: the
    /// number of cores]
    #[arg(long, value_name = "N", value_parser = config::parse_jobs)]
    jobs: Option<usize>,
    /// Run the checks in this process, one property at a time, instead of in crash-isolated workers (for
    /// debugging: an abort of libtorch then ends the run).
    #[arg(long, conflicts_with_all = ["jobs", "case_timeout"])]
    in_process: bool,
    /// Kill a worker whose case runs longer than this and record the case as a timeout, e.g. 30s, or none
    /// [env: CONFORM_CASE_TIMEOUT] [default: 30s]
    #[arg(long, value_name = "DURATION")]
    case_timeout: Option<String>,
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
        Command::Replay { paths, files, in_process } => replay(&paths, &files, in_process),
        Command::Review { files } => review(&files),
        Command::Accept(pick) => decide(&pick, true),
        Command::Reject(pick) => decide(&pick, false),
        Command::Merge(args) => crate::nightly::merge(args),
        Command::Diff(args) => crate::nightly::diff(args),
        Command::Repro(args) => crate::repro::run(args),
        Command::Worker { progress } => {
            crate::worker::serve(&progress).context("the worker's pipes closed")?;
            Ok(0)
        }
    }
}

fn names(all: &[Property]) -> Vec<&'static str> {
    all.iter().map(|p| p.name).collect()
}

/// Replays corpus files: 0 when each passes or reproduces a known deviation, 1 when one fails in a new way,
/// 2 when a file cannot be used (the others still replay).
fn replay(paths: &[PathBuf], files: &Files, in_process: bool) -> Result<u8> {
    let all = registry();
    let names = names(&all);
    let known = files.known(&names)?;
    let corpus = files.corpus();
    let paths = if paths.is_empty() { corpus.accepted() } else { paths.to_vec() };
    if paths.is_empty() {
        return Err(UsageError::new(
            format!("no corpus file to replay under {}", files.corpus().root.display()),
            "accept pending files with `conform accept`, or name files",
        )
        .into());
    }
    // A stored crash must be recorded again, not end the replay: each file is checked in a worker (one started
    // again after each death), as `run` checks it.
    let mut engine: Box<dyn crate::engine::Engine> = if in_process {
        conform_properties::init_libtorch(1);
        Box::new(crate::engine::InProcess)
    } else {
        let exe = std::env::current_exe().context("finding the conform binary to start a worker (or pass --in-process)")?;
        Box::new(crate::isolate::Workers::new(exe, Some(config::DEFAULT_CASE_TIMEOUT)))
    };
    let mut out = String::new();
    let mut code = 0u8;
    for path in &paths {
        let loaded = match corpus.load(path, &names) {
            Ok(loaded) => loaded,
            Err(e) => {
                let (path, kind) = (shown(&path.display().to_string()), shown(&e.kind.to_string()));
                out.push_str(&format!("{path}: ERROR {kind}\n"));
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
        let line = match crate::verdict::replay_with(engine.as_mut(), property, &loaded.entry.case, &mine) {
            runner::Replay::Passes => "passes now (the recorded failure is gone)".to_string(),
            runner::Replay::Rejected(why) => format!("rejected: {}", shown(&why)),
            runner::Replay::Known(f) => {
                format!("reproduces {} (known deviation: {})\n  {}", same(&f), shown(&f.signature), shown(&f.message))
            }
            runner::Replay::Fails(f) => {
                code = code.max(1);
                format!("FAILS {} ({})\n  {}", same(&f), shown(&f.signature), shown(&f.message))
            }
        };
        out.push_str(&format!("{}: {} {line}\n", shown(&path.display().to_string()), property.name));
    }
    print_tolerating_closed_pipe(&out)?;
    Ok(code)
}

/// Lists pending files with their failures. Everything shown comes from files a run or a person wrote, so it is
/// shown with control characters escaped: a message cannot send escape sequences to the terminal.
fn review(files: &Files) -> Result<u8> {
    let names = names(&registry());
    let corpus = files.corpus();
    let pending = corpus.pending();
    let mut out = String::new();
    for path in &pending {
        let shown_path = shown(&path.display().to_string());
        match corpus.load(path, &names) {
            Ok(l) => out.push_str(&format!(
                "{shown_path}\n  property:  {}\n  signature: {}\n  message:   {}\n  case:      {}\n",
                shown(&l.entry.property),
                shown(&l.entry.signature),
                shown(&l.entry.message),
                shown(&format!("{:?}", l.entry.case)),
            )),
            Err(e) => {
                out.push_str(&format!("{shown_path}\n  ERROR {}\n", shown(&e.kind.to_string())));
                if let Some(hint) = e.hint() {
                    out.push_str(&format!("  (hint: {hint})\n"));
                }
            }
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
    let corpus = pick.files.corpus();
    let paths = if pick.all { corpus.pending() } else { pick.paths.clone() };
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
            corpus.accept(path, &names).map(|p| format!("accepted {}", shown(&p.display().to_string())))
        } else {
            corpus.reject(path, &names).map(|()| format!("rejected {}", shown(&path.display().to_string())))
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
            .filter(|p| self.shard.is_none_or(|shard| shard.contains(p.name)))
            .collect())
    }
}

/// Writes to stdout; a reader that went away (`conform list | head`) is not an error.
pub(crate) fn print_tolerating_closed_pipe(text: &str) -> Result<()> {
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
            jobs: self.jobs,
            in_process: self.in_process,
            case_timeout: self.case_timeout.clone(),
        }
    }
}

fn run(args: RunArgs) -> Result<u8> {
    let config = RunConfig::resolve(&args.flags()).map_err(UsageError::from)?;
    let all = registry();
    let names = names(&all);
    let known_path = args.files.known_path();
    let known = args.files.known(&names)?;
    let corpus = args.files.corpus().pending_under(config::path_flag_or_env(args.pending.clone(), "CONFORM_PENDING"));
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

    // Refuse an --out that cannot hold the report before any case runs.
    conform_reports::check_out_dir(&config.out_dir).map_err(UsageError::from)?;
    // SIGINT and SIGTERM end the run with a partial report instead of none.
    let interrupted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, std::sync::Arc::clone(&interrupted))
            .context("cannot install the SIGINT/SIGTERM handler")?;
    }
    let mut progress = Progress::default();
    let quiet = args.quiet;
    let mut checkpoint_error = None;
    let mut report = runner::run(
        &properties,
        &config,
        &known,
        &stored,
        &mut |event| {
            if !quiet {
                progress.handle(event)
            }
        },
        &mut |partial| {
            if let Err(e) = conform_reports::write_all(partial, &config.out_dir) {
                checkpoint_error.get_or_insert(e);
            }
        },
        &|| interrupted.load(std::sync::atomic::Ordering::SeqCst),
    );
    if let Some(e) = checkpoint_error {
        return Err(UsageError::from(e).into());
    }

    crate::repro::attach(&mut report, &known);
    // The answer first: the verdict on each claim, then the table and the grouped reasons.
    let mut out = console::claims(&report);
    out.push('\n');
    out.push_str(&console::summary_table(&report));
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
