//! Run settings from `CONFORM_*` environment variables and CLI flags: parsing each value, and resolving a flag
//! against its variable and default (a flag wins over its variable). A bad value is an error that names the
//! variable or flag and how to fix it, never a silent default.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use conform_generators::DEFAULT_MAX_NUMEL;

use crate::runner::Isolation;

/// Cases per property for `conform run` when neither `--cases` nor `CONFORM_CASES` says.
pub const DEFAULT_CASES: u32 = 1_000_000;
/// Cases per property for `cargo test` trials (small: the suite must stay quick); `CONFORM_CASES` raises it.
pub const DEFAULT_TEST_CASES: u32 = 1000;
/// Total time budget of `conform run` (`--budget`, `CONFORM_BUDGET`), shared out evenly over the properties.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq)]
pub struct RunConfig {
    /// Cases per property (`--cases`, `CONFORM_CASES`).
    pub cases: u32,
    /// Run seed (`--seed`, `CONFORM_SEED`); random when unset, and always printed.
    pub seed: u64,
    /// Total time budget (`--budget`, `CONFORM_BUDGET`); `None` means no limit.
    pub budget: Option<Duration>,
    /// The one size knob (`CONFORM_MAX_NUMEL`, `--max-numel`).
    pub max_numel: usize,
    /// Where report.json goes (`--out`, `CONFORM_OUT`).
    pub out_dir: PathBuf,
    /// Which devices' properties run (`--device`, `CONFORM_DEVICE`).
    pub device: DeviceChoice,
    /// Where the checks run (`--jobs`, `CONFORM_JOBS`, `--in-process`, `--case-timeout`, `CONFORM_CASE_TIMEOUT`).
    pub isolation: Isolation,
}

/// Default time one case may take before its worker is killed and the case recorded as a timeout.
pub const DEFAULT_CASE_TIMEOUT: Duration = Duration::from_secs(30);

/// `--device cpu|cuda|all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChoice {
    /// Only properties that need the CPU alone.
    Cpu,
    /// Only properties that need CUDA; an error where CUDA is not usable.
    Cuda,
    /// Everything; CUDA properties are `skip` (with the reason) where CUDA is not usable.
    All,
}

pub fn parse_device(text: &str) -> Result<DeviceChoice, String> {
    match text.trim() {
        "cpu" => Ok(DeviceChoice::Cpu),
        "cuda" => Ok(DeviceChoice::Cuda),
        "all" => Ok(DeviceChoice::All),
        other => Err(format!("unknown device `{other}`")),
    }
}

pub const DEVICE_HINT: &str = "one of cpu, cuda, all";

/// A bad setting: which one, the value, and what would be accepted (the hint, printed on a line of its own).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {source_name} `{value}`: {why}")]
pub struct ConfigError {
    pub source_name: String,
    pub value: String,
    pub why: String,
    pub hint: &'static str,
}

/// Reads `var` from the environment and parses it, or `None` when unset.
pub fn env<T>(var: &str, parse: fn(&str) -> Result<T, String>, hint: &'static str) -> Result<Option<T>, ConfigError> {
    match std::env::var(var) {
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(v)) => {
            Err(ConfigError { source_name: var.into(), value: format!("{v:?}"), why: "not UTF-8".into(), hint })
        }
        Ok(value) => parse(&value).map(Some).map_err(|why| ConfigError { source_name: var.into(), value, why, hint }),
    }
}

pub fn parse_count(text: &str) -> Result<u32, String> {
    match u32::from_str(text.trim()) {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

pub fn parse_seed(text: &str) -> Result<u64, String> {
    let t = text.trim();
    match t.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => u64::from_str(t),
    }
    .map_err(|e| e.to_string())
}

/// The largest `--max-numel`: the cast properties batch 64 × N values per case, and a case holds at most
/// [`conform_generators::MAX_CASE_NUMEL`] elements.
pub const MAX_NUMEL: usize = conform_generators::MAX_CASE_NUMEL / 64;

pub fn parse_numel(text: &str) -> Result<usize, String> {
    match usize::from_str(text.trim()) {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) if n > MAX_NUMEL => Err(format!(
            "more than {MAX_NUMEL} elements per case: the cast properties draw 64 × N values, and a case holds at most {}",
            conform_generators::MAX_CASE_NUMEL
        )),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// `--jobs`: worker processes side by side.
pub fn parse_jobs(text: &str) -> Result<usize, String> {
    match usize::from_str(text.trim()) {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) if n > 256 => Err("more than 256 jobs".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// One job per core this process may use.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub const JOBS_HINT: &str = "a whole number of worker processes between 1 and 256, e.g. 2";
pub const CASE_TIMEOUT_HINT: &str = "a duration with a unit (ms, s, m, h), e.g. 30s, or `none`";

/// `90s`, `2m`, `1500ms`, `1h`, or `none` (no limit).
pub fn parse_budget(text: &str) -> Result<Option<Duration>, String> {
    let t = text.trim();
    if t == "none" {
        return Ok(None);
    }
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.').ok_or("missing unit")?;
    let (number, unit) = t.split_at(split);
    if number.is_empty() {
        return Err("expected a number followed by a unit".into());
    }
    let n: f64 = number.parse().map_err(|_| format!("`{number}` is not a number"))?;
    let seconds = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        other => return Err(format!("unknown unit `{other}`")),
    };
    if !(seconds > 0.0 && seconds.is_finite()) {
        return Err("must be positive".into());
    }
    // At most a year: longer is no limit a run can honour (and overflows the clock's arithmetic).
    if seconds > 366.0 * 86_400.0 {
        return Err("longer than a year; use `none` for no limit".into());
    }
    Ok(Some(Duration::from_secs_f64(seconds)))
}

pub const CASES_HINT: &str = "a whole number of cases per property, at least 1, e.g. 500";
pub const SEED_HINT: &str = "a u64 in decimal or 0x-prefixed hex, e.g. 12345";
pub const NUMEL_HINT: &str = "a whole number of elements per case between 1 and 262144, e.g. 64";
pub const BUDGET_HINT: &str = "a duration with a unit (ms, s, m, h), e.g. 90s or 2m, or `none`";

/// A seed from the clock, for runs that name none (printed, so the run can be repeated).
pub fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    (nanos as u64) ^ ((nanos >> 64) as u64) ^ (std::process::id() as u64).rotate_left(32)
}

impl RunConfig {
    /// The settings of a `cargo test` run: environment only, small default case count.
    pub fn from_env_for_tests() -> Result<RunConfig, ConfigError> {
        Ok(RunConfig {
            cases: env("CONFORM_CASES", parse_count, CASES_HINT)?.unwrap_or(DEFAULT_TEST_CASES),
            seed: env("CONFORM_SEED", parse_seed, SEED_HINT)?.unwrap_or_else(fresh_seed),
            budget: env("CONFORM_BUDGET", parse_budget, BUDGET_HINT)?.flatten(),
            max_numel: env("CONFORM_MAX_NUMEL", parse_numel, NUMEL_HINT)?.unwrap_or(DEFAULT_MAX_NUMEL),
            out_dir: PathBuf::from("target/conform"),
            device: env("CONFORM_DEVICE", parse_device, DEVICE_HINT)?.unwrap_or(DeviceChoice::All),
            isolation: Isolation::InProcess,
        })
    }
}

/// The flags of `conform run` that have a variable, as the CLI parsed them (`None`: not given).
#[derive(Debug, Clone, Default)]
pub struct RunFlags {
    pub cases: Option<u32>,
    pub seed: Option<u64>,
    pub budget: Option<String>,
    pub max_numel: Option<usize>,
    pub out: Option<PathBuf>,
    pub device: Option<DeviceChoice>,
    pub jobs: Option<usize>,
    pub in_process: bool,
    pub case_timeout: Option<String>,
}

impl RunConfig {
    /// The settings of `conform run`: each flag, else its `CONFORM_*` variable, else the default.
    pub fn resolve(flags: &RunFlags) -> Result<RunConfig, ConfigError> {
        Ok(RunConfig {
            cases: flag_or_env(flags.cases, "CONFORM_CASES", parse_count, CASES_HINT)?.unwrap_or(DEFAULT_CASES),
            seed: flag_or_env(flags.seed, "CONFORM_SEED", parse_seed, SEED_HINT)?.unwrap_or_else(fresh_seed),
            budget: match &flags.budget {
                Some(text) => parse_budget(text).map_err(|why| ConfigError {
                    source_name: "--budget".into(),
                    value: text.clone(),
                    why,
                    hint: BUDGET_HINT,
                })?,
                None => env("CONFORM_BUDGET", parse_budget, BUDGET_HINT)?.unwrap_or(Some(DEFAULT_BUDGET)),
            },
            max_numel: flag_or_env(flags.max_numel, "CONFORM_MAX_NUMEL", parse_numel, NUMEL_HINT)?
                .unwrap_or(DEFAULT_MAX_NUMEL),
            out_dir: non_empty_out(path_flag_or_env(flags.out.clone(), "CONFORM_OUT"), flags.out.is_some())?
                .unwrap_or_else(|| "target/conform".into()),
            device: flag_or_env(flags.device, "CONFORM_DEVICE", parse_device, DEVICE_HINT)?
                .unwrap_or(DeviceChoice::All),
            isolation: match flags.in_process {
                true => Isolation::InProcess,
                false => Isolation::Workers {
                    exe: std::env::current_exe().map_err(|e| ConfigError {
                        source_name: "the conform binary's path".into(),
                        value: String::new(),
                        why: e.to_string(),
                        hint: "run conform from a path it can find itself at, or pass --in-process",
                    })?,
                    jobs: flag_or_env(flags.jobs, "CONFORM_JOBS", parse_jobs, JOBS_HINT)?.unwrap_or_else(default_jobs),
                    case_timeout: match &flags.case_timeout {
                        Some(text) => parse_budget(text).map_err(|why| ConfigError {
                            source_name: "--case-timeout".into(),
                            value: text.clone(),
                            why,
                            hint: CASE_TIMEOUT_HINT,
                        })?,
                        None => env("CONFORM_CASE_TIMEOUT", parse_budget, CASE_TIMEOUT_HINT)?
                            .unwrap_or(Some(DEFAULT_CASE_TIMEOUT)),
                    },
                },
            },
        })
    }
}

/// A flag wins over its environment variable.
fn flag_or_env<T>(
    flag: Option<T>,
    var: &str,
    parse: fn(&str) -> Result<T, String>,
    hint: &'static str,
) -> Result<Option<T>, ConfigError> {
    match flag {
        Some(v) => Ok(Some(v)),
        None => env(var, parse, hint),
    }
}

/// A path flag, else its variable; `None` when neither is set.
pub fn path_flag_or_env(flag: Option<PathBuf>, var: &str) -> Option<PathBuf> {
    flag.or_else(|| std::env::var_os(var).map(PathBuf::from))
}

pub const OUT_HINT: &str = "a folder for report.json, report.html and junit.xml, e.g. target/conform";

/// An empty path is refused: `CONFORM_OUT=""` or `--out ""` would otherwise mean the current directory.
fn non_empty_out(path: Option<PathBuf>, from_flag: bool) -> Result<Option<PathBuf>, ConfigError> {
    match path {
        Some(p) if p.as_os_str().is_empty() => Err(ConfigError {
            source_name: if from_flag { "--out" } else { "CONFORM_OUT" }.into(),
            value: String::new(),
            why: "is empty".into(),
            hint: OUT_HINT,
        }),
        other => Ok(other),
    }
}

/// The corpus folder: `--corpus`, else `CONFORM_CORPUS`, else `corpus`.
pub fn corpus_dir(flag: Option<PathBuf>) -> PathBuf {
    path_flag_or_env(flag, "CONFORM_CORPUS").unwrap_or_else(|| "corpus".into())
}

/// The known-deviations file: `--known`, else `CONFORM_KNOWN`, else `known-deviations.toml`.
pub fn known_path(flag: Option<PathBuf>) -> PathBuf {
    path_flag_or_env(flag, "CONFORM_KNOWN").unwrap_or_else(|| "known-deviations.toml".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_parse_with_units_and_refuse_nonsense() {
        assert_eq!(parse_budget("90s"), Ok(Some(Duration::from_secs(90))));
        assert_eq!(parse_budget("2m"), Ok(Some(Duration::from_secs(120))));
        assert_eq!(parse_budget("1500ms"), Ok(Some(Duration::from_millis(1500))));
        assert_eq!(parse_budget("none"), Ok(None));
        assert_eq!(parse_budget("90"), Err("missing unit".into()));
        assert_eq!(parse_budget("5d"), Err("unknown unit `d`".into()));
        assert_eq!(parse_budget("0s"), Err("must be positive".into()));
        assert!(parse_budget("20000000000000000000s").unwrap_err().contains("longer than a year"));
        assert!(parse_budget("10000000000000000000s").is_err());
    }

    #[test]
    fn counts_seeds_and_sizes() {
        assert_eq!(parse_count("0"), Err("must be at least 1".into()));
        assert!(parse_count("ten").is_err());
        assert_eq!(parse_seed("0x10"), Ok(16));
        assert!(parse_numel("100000000").is_err());
        assert_eq!(parse_numel("262144"), Ok(262_144));
        assert!(parse_numel("262145").unwrap_err().contains("64 × N"));
        assert_eq!(parse_jobs("0"), Err("must be at least 1".into()));
        let err =
            ConfigError { source_name: "CONFORM_CASES".into(), value: "x".into(), why: "bad".into(), hint: CASES_HINT };
        assert_eq!(err.to_string(), "invalid CONFORM_CASES `x`: bad");
        assert_eq!(err.hint, CASES_HINT);
    }
}
