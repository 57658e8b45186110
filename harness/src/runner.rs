//! The runner: for each property, replay the evidence of its known deviations, then search for new failures with
//! the property's strategy under the run's seed, case count and time budget, and shrink the first one.
//!
//! Invariant: a failure whose signature is a known deviation of the property is counted and tolerated, so the
//! search goes on looking for new deviations behind it; whether a known deviation still exists is decided by
//! replaying its recorded evidence (deterministic), never by whether random search happened to hit it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use conform_generators::search::{search, Outcome, SearchConfig, Stop};
use conform_generators::Case;
use conform_properties::cuda::{cuda_status, CudaStatus};
use conform_properties::{outcome, CheckError, DeviceNeed, Failure, Property, Verdict};
use conform_reports::{
    ClaimProperty, ClaimReport, Counterexample, Device, Event, KnownReport, PropertyReport, Report, Settings, Status,
    StoppedBy, Summary, FORMAT_VERSION, VACUOUS_REJECT_SHARE,
};

use crate::config::{DeviceChoice, RunConfig};
use crate::corpus::Loaded;
use crate::known::KnownDeviation;

/// Runs one check on one case, turning a panic (a tch wrapper that unwraps) into a failure.
pub fn run_check(property: &Property, case: &Case) -> Verdict {
    match catch_unwind(AssertUnwindSafe(|| property.check(case))) {
        Ok(result) => result,
        Err(panic) => {
            let text = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "non-string panic".into());
            let first = conform_judge::one_line(&text);
            Err(CheckError::fail(format!("check panicked: {first}"), format!("the check panicked: {text}")))
        }
    }
}

/// What replaying one stored case says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// The case passes (the failure it recorded is gone).
    Passes,
    /// It fails with the signature of a known deviation of the property.
    Known(Failure),
    /// It fails in a way no known deviation covers.
    Fails(Failure),
    /// The property does not cover it any more.
    Rejected(String),
}

/// Replays a stored case against a property and its known deviations.
pub fn replay(property: &Property, case: &Case, known: &[&KnownDeviation]) -> Replay {
    match run_check(property, case) {
        Ok(()) => Replay::Passes,
        Err(CheckError::Reject(why)) => Replay::Rejected(why),
        Err(CheckError::Fail(f)) if known.iter().any(|k| k.signature == f.signature) => Replay::Known(f),
        Err(CheckError::Fail(f)) => Replay::Fails(f),
    }
}

/// Runs one property: replays its known deviations' evidence and its corpus cases, then searches;
/// `deadline` ends the search (shrinking a failure found before it still completes).
pub fn run_property(
    property: &Property,
    config: &RunConfig,
    known: &[&KnownDeviation],
    corpus: &[&Loaded],
    deadline: Option<Instant>,
    on_event: &mut dyn FnMut(&Event<'_>),
) -> PropertyReport {
    let started = Instant::now();
    let known_reports: Vec<KnownReport> = known.iter().map(|k| replay_known(property, k)).collect();
    // The corpus first, as Hypothesis replays its database: a stored failure that is not known fails the property
    // at once, deterministically, whatever the seed.
    let from_corpus = corpus.iter().find_map(|loaded| match replay(property, &loaded.entry.case, known) {
        Replay::Fails(f) => Some(Counterexample {
            case: serde_json::to_value(&loaded.entry.case).expect("a case serialises"),
            message: f.message,
            signature: f.signature,
            cases_before_failure: 0,
            shrink_steps: 0,
            repro: format!("conform replay {}", loaded.path.display()),
            corpus_file: Some(loaded.path.display().to_string()),
        }),
        _ => None,
    });

    on_event(&Event::PropertyStarted { name: property.name, cases: config.cases });
    let strategy = (property.space)(config.max_numel);
    if let Some(tally) = &property.tally {
        tally.take();
    }
    let search_config = SearchConfig { deadline, ..SearchConfig::new(config.cases, config.seed) };
    let mut known_hits = 0u32;
    let mut reject_reasons = std::collections::BTreeMap::<String, u64>::new();
    let check = |case: &Case| match outcome(run_check(property, case)) {
        Outcome::Fail(f) if known.iter().any(|k| k.signature == f.signature) => {
            known_hits += 1;
            Outcome::Pass
        }
        Outcome::Reject(why) => {
            *reject_reasons.entry(why.clone()).or_insert(0) += 1;
            Outcome::Reject(why)
        }
        other => other,
    };
    let mut values = 0u64;
    let search_config = match from_corpus {
        Some(_) => SearchConfig { cases: 0, ..search_config },
        None => search_config,
    };
    let searched = search(&strategy, property.name, &search_config, check, |done, case: &Case| {
        values += case.size() as u64;
        on_event(&Event::CaseFinished { name: property.name, done })
    });
    let duration = started.elapsed();

    let (cases, rejects, stop, counterexample) = match searched {
        Ok(r) => {
            let counterexample = from_corpus.or_else(|| {
                r.found.map(|f| Counterexample {
                    case: serde_json::to_value(&f.minimal).expect("a case serialises"),
                    message: f.failure.message,
                    signature: f.failure.signature,
                    cases_before_failure: r.cases,
                    shrink_steps: f.shrink_steps,
                    repro: repro_command(property.name, config, r.cases),
                    corpus_file: None,
                })
            });
            (r.cases, r.rejects, r.stop, counterexample)
        }
        // Only a property whose case space is empty gets here: a defect of the property, reported as a failure.
        Err(error) => (
            0,
            0,
            Stop::Failed,
            Some(Counterexample {
                case: serde_json::Value::Null,
                message: error.to_string(),
                signature: "cannot draw cases".into(),
                cases_before_failure: 0,
                shrink_steps: 0,
                repro: repro_command(property.name, config, 1),
                corpus_file: None,
            }),
        ),
    };
    let counterexample_from_corpus = counterexample.as_ref().is_some_and(|c| c.corpus_file.is_some());
    let vacuous_reason = match counterexample {
        Some(_) => None,
        None => vacuous(cases, rejects, stop),
    };
    let status = match (&counterexample, known_reports.iter().any(|k| !k.reproduced), known_reports.is_empty()) {
        (Some(_), _, _) => Status::Fail,
        (None, true, _) => Status::Fixed,
        _ if vacuous_reason.is_some() => Status::Vacuous,
        (None, false, false) => Status::Known,
        (None, false, true) => Status::Pass,
    };
    let report = PropertyReport {
        name: property.name.to_string(),
        family: property.family.to_string(),
        device: device(property.device),
        doc: property.doc.to_string(),
        status,
        cases,
        rejects,
        known_hits,
        duration_s: duration.as_secs_f64(),
        cases_per_s: cases as f64 / duration.as_secs_f64().max(1e-9),
        values,
        values_per_s: values as f64 / duration.as_secs_f64().max(1e-9),
        stopped_by: if counterexample_from_corpus { StoppedBy::Corpus } else { stopped_by(stop) },
        corpus_replayed: corpus.len() as u32,
        claims: property.claims.iter().map(|c| c.id.to_string()).collect(),
        counterexample,
        known: known_reports,
        observations: property.tally.as_ref().map(|t| t.take()).unwrap_or_default(),
        reject_reasons,
        skip_reason: None,
        vacuous_reason,
    };
    on_event(&Event::PropertyFinished { report: &report });
    report
}

/// Why a search that found nothing earned no verdict, if it did not: it checked no case (the budget ran out
/// first, or every case was rejected), or it rejected more than [`VACUOUS_REJECT_SHARE`] of the cases it drew.
pub fn vacuous(cases: u32, rejects: u32, stop: Stop) -> Option<String> {
    let checked = cases.saturating_sub(rejects);
    let why_stopped = match stop {
        Stop::Deadline => "its share of the time budget ran out",
        Stop::TooManyRejects => "it gave up after too many rejects",
        Stop::AllCases | Stop::Failed => "it drew every requested case",
    };
    if checked == 0 {
        return Some(format!("checked no case: {why_stopped} after {cases} drawn, {rejects} rejected"));
    }
    let share = rejects as f64 / cases as f64;
    (share > VACUOUS_REJECT_SHARE).then(|| {
        format!(
            "rejected {rejects} of {cases} cases ({:.0} %, more than the {:.0} % allowed); only {checked} checked",
            share * 100.0,
            VACUOUS_REJECT_SHARE * 100.0
        )
    })
}

/// Replays a known deviation's evidence: it must still fail with the recorded signature.
fn replay_known(property: &Property, known: &KnownDeviation) -> KnownReport {
    let (reproduced, replay_message) = match run_check(property, &known.evidence) {
        Err(CheckError::Fail(f)) if f.signature == known.signature => (true, f.message),
        Err(CheckError::Fail(f)) => (false, format!("fails differently now: {} ({})", f.message, f.signature)),
        Err(CheckError::Reject(why)) => (false, format!("rejected: {why}")),
        Ok(()) => (false, "the evidence case passes now".into()),
    };
    KnownReport { signature: known.signature.clone(), reason: known.reason.clone(), reproduced, replay_message }
}

fn stopped_by(stop: Stop) -> StoppedBy {
    match stop {
        Stop::AllCases => StoppedBy::AllCases,
        Stop::Deadline => StoppedBy::Budget,
        Stop::TooManyRejects => StoppedBy::TooManyRejects,
        Stop::Failed => StoppedBy::Failed,
    }
}

/// The command that draws the same cases again: the property's stream depends only on the seed and its name.
pub fn repro_command(name: &str, config: &RunConfig, cases: u32) -> String {
    let numel = match config.max_numel {
        conform_generators::DEFAULT_MAX_NUMEL => String::new(),
        n => format!(" --max-numel {n}"),
    };
    format!("conform run --property {name} --seed {} --cases {cases} --budget none{numel}", config.seed)
}

/// Why a property does not run under `choice` with CUDA in state `cuda`, or `None` when it runs.
pub fn skip_reason(property: &Property, choice: DeviceChoice, cuda: &CudaStatus) -> Option<String> {
    match (property.device, choice, cuda) {
        (DeviceNeed::Cpu, DeviceChoice::Cuda, _) => {
            Some("not selected: --device cuda runs only the CUDA properties".into())
        }
        (DeviceNeed::Cuda, DeviceChoice::Cpu, _) => Some("not selected: --device cpu".into()),
        (DeviceNeed::Cuda, _, CudaStatus::Unusable { reason, hint: Some(hint) }) => {
            Some(format!("no usable CUDA device: {reason} (hint: {hint})"))
        }
        (DeviceNeed::Cuda, _, CudaStatus::Unusable { reason, hint: None }) => {
            Some(format!("no usable CUDA device: {reason}"))
        }
        _ => None,
    }
}

/// The report of a property that did not run.
pub fn skipped(property: &Property, reason: String) -> PropertyReport {
    PropertyReport {
        name: property.name.to_string(),
        family: property.family.to_string(),
        device: device(property.device),
        doc: property.doc.to_string(),
        status: Status::Skip,
        cases: 0,
        rejects: 0,
        known_hits: 0,
        duration_s: 0.0,
        cases_per_s: 0.0,
        values: 0,
        values_per_s: 0.0,
        stopped_by: StoppedBy::Skipped,
        corpus_replayed: 0,
        claims: property.claims.iter().map(|c| c.id.to_string()).collect(),
        counterexample: None,
        known: Vec::new(),
        observations: Default::default(),
        reject_reasons: Default::default(),
        skip_reason: Some(reason),
        vacuous_reason: None,
    }
}

fn device(need: DeviceNeed) -> Device {
    match need {
        DeviceNeed::Cpu => Device::Cpu,
        DeviceNeed::Cuda => Device::Cuda,
    }
}

/// Runs `properties` in order and builds the report. The budget is shared out evenly in advance: each property
/// that runs gets the same fixed share, from its own start, so a property that overruns (a slow case, a long
/// shrink) never eats a later property's share; the run as a whole can exceed the budget by such overruns.
pub fn run(
    properties: &[Property],
    config: &RunConfig,
    known: &[KnownDeviation],
    corpus: &[Loaded],
    on_event: &mut dyn FnMut(&Event<'_>),
) -> Report {
    let started = Instant::now();
    on_event(&Event::RunStarted { properties: properties.len(), seed: config.seed, cases: config.cases });
    let mut reports = Vec::with_capacity(properties.len());
    let wants_cuda = config.device != DeviceChoice::Cpu && properties.iter().any(|p| p.device == DeviceNeed::Cuda);
    let cuda = if wants_cuda { cuda_status() } else { CudaStatus::unusable("not asked for") };
    let running = properties.iter().filter(|p| skip_reason(p, config.device, &cuda).is_none()).count().max(1);
    let share = config.budget.map(|budget| budget / running as u32);
    for property in properties {
        if let Some(reason) = skip_reason(property, config.device, &cuda) {
            let report = skipped(property, reason);
            on_event(&Event::PropertyFinished { report: &report });
            reports.push(report);
            continue;
        }
        // A share too large for the clock to represent is no limit.
        let deadline = share.and_then(|share| Instant::now().checked_add(share));
        let mine: Vec<&KnownDeviation> = known.iter().filter(|k| k.property == property.name).collect();
        let cases: Vec<&Loaded> = corpus.iter().filter(|c| c.entry.property == property.name).collect();
        reports.push(run_property(property, config, &mine, &cases, deadline, on_event));
    }
    let report = Report {
        format_version: FORMAT_VERSION,
        run_id: run_id(config.seed),
        complete: true,
        conform_version: env!("CARGO_PKG_VERSION").into(),
        libtorch_version: conform_properties::LIBTORCH_VERSION.into(),
        tch_version: conform_properties::TCH_VERSION.into(),
        seed: config.seed,
        settings: Settings {
            cases: config.cases,
            budget_s: config.budget.map(|b: Duration| b.as_secs_f64()),
            max_numel: config.max_numel,
        },
        duration_s: started.elapsed().as_secs_f64(),
        claims: claims(properties, &reports),
        summary: Summary::of(&reports),
        properties: reports,
    };
    on_event(&Event::RunFinished { report: &report });
    report
}

fn claims(properties: &[Property], reports: &[PropertyReport]) -> Vec<ClaimReport> {
    conform_properties::claims::ALL
        .iter()
        .filter_map(|claim| {
            let bearing: Vec<ClaimProperty> = properties
                .iter()
                .zip(reports)
                .filter(|(p, _)| p.claims.contains(claim))
                .map(|(p, r)| ClaimProperty { name: p.name.to_string(), status: r.status })
                .collect();
            (!bearing.is_empty()).then(|| ClaimReport {
                id: claim.id.into(),
                quote: claim.quote.into(),
                checked_as: claim.checked_as.into(),
                properties: bearing,
            })
        })
        .collect()
}

/// An identifier of this run, carried by its report.json, report.html and junit.xml alike: the seed, the start time
/// and the process, so two runs never share one.
pub fn run_id(seed: u64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("{seed:016x}-{:x}-{:x}", now.as_millis(), std::process::id())
}

/// The run's exit code: 0 when every property passed, was `known` or was skipped; 1 when one failed the run
/// (`fail`, `fixed` or `vacuous`: [`Status::fails`], the policy JUnit and `cargo test` share).
pub fn exit_code(report: &Report) -> u8 {
    if report.summary.failing() > 0 {
        1
    } else {
        0
    }
}
