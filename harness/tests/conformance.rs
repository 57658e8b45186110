//! The `cargo test` entry: one libtest-mimic trial per property and one per corpus file (kind `regression`, named
//! after the file), so `cargo test -- --list`, `--exact`, name filters and nextest's `--partition` work as for any
//! test. Settings come from `CONFORM_*` variables (`CONFORM_CASES` raises the small default case count;
//! `CONFORM_SEED` repeats a run). A property trial fails when its status fails a run (`Status::fails`: a new
//! deviation, a known deviation that no longer reproduces, or a vacuous verdict — the same policy as `conform
//! run`'s exit code and JUnit); a regression trial fails when its case fails in a way no known deviation covers,
//! is rejected by its property, or cannot be read. A trial that cannot run here (a CUDA property without CUDA) is
//! ignored, and fails with the reason under `--include-ignored`: it never reports `ok`.

use std::path::Path;
use std::process::ExitCode;

use conform_harness::config::RunConfig;
use conform_harness::corpus::{self, Corpus};
use conform_harness::known;
use conform_harness::{runner, trials};
use conform_harness::{CORPUS, KNOWN_DEVIATIONS, REPO_ROOT};
use conform_properties::cuda::{cuda_status, CudaStatus};
use conform_properties::{registry, DeviceNeed};
use libtest_mimic::{Arguments, Trial};

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let mut config = match RunConfig::from_env_for_tests() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}\n(hint: {})", e.hint);
            return ExitCode::from(2);
        }
    };
    // Every trial checks in a crash-isolated worker (this package's `conform` binary), so an abort of libtorch
    // fails its trial instead of killing this test binary; CONFORM_IN_PROCESS=1 checks in this process instead.
    if std::env::var_os("CONFORM_IN_PROCESS").is_none() {
        config.isolation = runner::Isolation::Workers {
            exe: env!("CARGO_BIN_EXE_conform").into(),
            jobs: 1,
            case_timeout: Some(conform_harness::config::DEFAULT_CASE_TIMEOUT),
        };
    }
    let properties = registry();
    let names: Vec<&str> = properties.iter().map(|p| p.name).collect();
    let known = match known::load(Path::new(KNOWN_DEVIATIONS), known::IfMissing::Error, &Corpus::new(CORPUS), &names) {
        Ok(known) => known,
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("(hint: {hint})");
            }
            return ExitCode::from(2);
        }
    };
    if !args.list {
        eprintln!(
            "conform: {} cases per property, seed {} (set CONFORM_SEED={} to repeat)",
            config.cases, config.seed, config.seed
        );
    }
    conform_properties::init_libtorch(1);
    let corpus_files = Corpus::new(CORPUS).accepted();
    let loaded: Vec<Result<corpus::Loaded, corpus::CorpusError>> =
        corpus_files.iter().map(|p| Corpus::new(CORPUS).load(p, &names)).collect();

    let cuda = match properties.iter().any(|p| p.device == DeviceNeed::Cuda) {
        true => cuda_status(),
        false => CudaStatus::unusable("no property needs it"),
    };
    for property in &properties {
        if let Some(reason) = runner::skip_reason(property, config.device, &cuda) {
            eprintln!("conform: {} not run: {reason}", property.name);
        }
    }
    let stored: Vec<corpus::Loaded> = loaded.iter().filter_map(|l| l.as_ref().ok()).cloned().collect();
    let mut trials: Vec<Trial> =
        properties.iter().map(|p| trials::property_trial(p, &config, &cuda, &known, &stored)).collect();
    for (path, result) in corpus_files.iter().zip(loaded) {
        let name = path.strip_prefix(REPO_ROOT).unwrap_or(path).display().to_string();
        trials.push(trials::regression_trial(name, result, &properties, &known, &config.isolation));
    }
    libtest_mimic::run(&args, trials).exit_code()
}
