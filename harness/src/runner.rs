//! The runner: every selected property, in parallel crash-isolated workers (`--jobs`, default one per core) or in
//! this process (`--in-process`), each with a fixed share of the budget; skipped properties with their reason; a
//! partial report now and then while it runs (so a killed run leaves one); then the report.
//!
//! Invariant: the report lists the properties in registry order whatever order the jobs finished in, and a
//! property's verdict depends only on its own cases (see `crate::verdict`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use conform_generators::search::Stop;
use conform_generators::Case;
use conform_properties::cuda::{cuda_status, CudaStatus};
use conform_properties::{DeviceNeed, Property};
use conform_reports::{
    ClaimProperty, ClaimReport, ClaimScope, Device, Event, PropertyReport, Report, Settings, Status, StoppedBy, Summary,
    FORMAT_VERSION, VACUOUS_REJECT_SHARE,
};

use crate::config::{DeviceChoice, RunConfig};
use crate::corpus::Loaded;
pub use crate::engine::run_check;
use crate::engine::{Engine, InProcess};
use crate::isolate::Workers;
use crate::known::KnownDeviation;
pub use crate::verdict::Replay;
use crate::verdict::{replay_with, run_property_with};

/// Where the checks run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    /// In this process, one property at a time: a crash of libtorch ends the run (`--in-process`, for debugging).
    InProcess,
    /// In `jobs` worker processes started from `exe`; a case running longer than `case_timeout` kills its worker.
    Workers { exe: PathBuf, jobs: usize, case_timeout: Option<Duration> },
}

impl Isolation {
    /// An engine for one job.
    pub fn engine(&self) -> Box<dyn Engine> {
        match self {
            Isolation::InProcess => Box::new(InProcess),
            Isolation::Workers { exe, case_timeout, .. } => Box::new(Workers::new(exe, *case_timeout)),
        }
    }

    fn jobs(&self) -> usize {
        match self {
            Isolation::InProcess => 1,
            Isolation::Workers { jobs, .. } => (*jobs).max(1),
        }
    }
}

/// Replays a stored case against a property and its known deviations, in this process.
pub fn replay(property: &Property, case: &Case, known: &[&KnownDeviation]) -> Replay {
    replay_with(&mut InProcess, property, case, known)
}

/// Runs one property in this process and reports it (the property crate's planted-defect tests and the
/// in-process `cargo test` path use it); `share` is its time for the search.
pub fn run_property(
    property: &Property,
    config: &RunConfig,
    known: &[&KnownDeviation],
    corpus: &[&Loaded],
    share: Option<Duration>,
    on_event: &mut dyn FnMut(&Event<'_>),
) -> PropertyReport {
    let report = run_property_with(&mut InProcess, property, config, known, corpus, share, on_event);
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
        skipped: 0,
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

pub(crate) fn device(need: DeviceNeed) -> Device {
    match need {
        DeviceNeed::Cpu => Device::Cpu,
        DeviceNeed::Cuda => Device::Cuda,
    }
}

/// What the worker threads tell the thread that reports.
enum Message {
    Started { name: &'static str, cases: u32 },
    Progress { name: &'static str, done: u32 },
    Finished { index: usize, report: Box<PropertyReport> },
}

/// How often a running `run` hands a partial report to `checkpoint`.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(3);

/// Each property's share of `budget` when `properties` run on `jobs` workers side by side, one at a time each: the
/// budget over the number of rounds the workers take (`properties / jobs`, rounded up), so that the last round ends
/// within the budget even when it has fewer properties than workers.
pub fn share_of(budget: Duration, properties: usize, jobs: usize) -> Duration {
    budget / properties.max(1).div_ceil(jobs.max(1)) as u32
}

/// Runs `properties` and builds the report. The budget is shared out evenly in advance ([`share_of`]): each property
/// that runs gets the same fixed share, from its own start, so a property that overruns (a slow case, a long shrink)
/// never eats another property's share; the run as a whole can exceed the budget by such overruns. `checkpoint` hears a partial report (`complete: false`) at the start and every
/// [`CHECKPOINT_EVERY`], and `stop` is polled as often: when it turns true, the run ends with the properties done so
/// far (the report stays incomplete).
pub fn run(
    properties: &[Property],
    config: &RunConfig,
    known: &[KnownDeviation],
    corpus: &[Loaded],
    on_event: &mut dyn FnMut(&Event<'_>),
    checkpoint: &mut dyn FnMut(&Report),
    stop: &dyn Fn() -> bool,
) -> Report {
    let started = Instant::now();
    let run_id = run_id(config.seed);
    on_event(&Event::RunStarted { properties: properties.len(), seed: config.seed, cases: config.cases });
    let wants_cuda = config.device != DeviceChoice::Cpu && properties.iter().any(|p| p.device == DeviceNeed::Cuda);
    let cuda = if wants_cuda { cuda_status() } else { CudaStatus::unusable("not asked for") };
    let mut reports: Vec<Option<PropertyReport>> = vec![None; properties.len()];
    let mut todo = Vec::new();
    for (i, property) in properties.iter().enumerate() {
        match skip_reason(property, config.device, &cuda) {
            Some(reason) => {
                let report = skipped(property, reason);
                on_event(&Event::PropertyFinished { report: &report });
                reports[i] = Some(report);
            }
            None => todo.push(i),
        }
    }
    let jobs = config.isolation.jobs().min(todo.len()).max(1);
    let share = config.budget.map(|budget| share_of(budget, todo.len(), jobs));
    let assemble = |reports: &[Option<PropertyReport>], complete: bool| {
        build_report(properties, config, &run_id, started, reports, complete)
    };
    checkpoint(&assemble(&reports, false));
    let next = AtomicUsize::new(0);
    let (send, receive) = mpsc::channel::<Message>();
    let mut stopped = false;
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let (send, next, todo) = (send.clone(), &next, &todo);
            scope.spawn(move || {
                let mut engine = config.isolation.engine();
                loop {
                    let Some(&i) = todo.get(next.fetch_add(1, Ordering::SeqCst)) else { break };
                    engine.warm_up();
                    let property = &properties[i];
                    let mine: Vec<&KnownDeviation> = known.iter().filter(|k| k.property == property.name).collect();
                    let cases: Vec<&Loaded> = corpus.iter().filter(|c| c.entry.property == property.name).collect();
                    let mut forward = |event: &Event<'_>| {
                        let message = match *event {
                            Event::PropertyStarted { cases, .. } => Message::Started { name: property.name, cases },
                            Event::CaseFinished { done, .. } => Message::Progress { name: property.name, done },
                            _ => return,
                        };
                        let _ = send.send(message);
                    };
                    let report =
                        run_property_with(engine.as_mut(), property, config, &mine, &cases, share, &mut forward);
                    if send.send(Message::Finished { index: i, report: Box::new(report) }).is_err() {
                        break;
                    }
                }
            });
        }
        drop(send);
        let mut last_checkpoint = Instant::now();
        loop {
            match receive.recv_timeout(Duration::from_millis(200)) {
                Ok(Message::Started { name, cases }) => on_event(&Event::PropertyStarted { name, cases }),
                Ok(Message::Progress { name, done }) => on_event(&Event::CaseFinished { name, done }),
                Ok(Message::Finished { index, report }) => {
                    on_event(&Event::PropertyFinished { report: &report });
                    reports[index] = Some(*report);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            if stop() {
                stopped = true;
                // The jobs stop taking properties; the report is what is done.
                next.store(todo.len(), Ordering::SeqCst);
                checkpoint(&assemble(&reports, false));
                break;
            }
            if last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
                last_checkpoint = Instant::now();
                checkpoint(&assemble(&reports, false));
            }
        }
        if stopped {
            // Leave the jobs running their last property; the caller exits, which ends their workers.
            std::process::exit(130);
        }
    });
    let report = assemble(&reports, true);
    on_event(&Event::RunFinished { report: &report });
    report
}

/// The report of the properties done so far (all of them when `complete`), in registry order.
fn build_report(
    properties: &[Property],
    config: &RunConfig,
    run_id: &str,
    started: Instant,
    reports: &[Option<PropertyReport>],
    complete: bool,
) -> Report {
    let (done_properties, done): (Vec<Property>, Vec<PropertyReport>) =
        properties.iter().zip(reports).filter_map(|(p, r)| r.as_ref().map(|r| (p.clone(), r.clone()))).unzip();
    Report {
        format_version: FORMAT_VERSION,
        run_id: run_id.to_string(),
        complete,
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
        claims: claims(&done_properties, &done),
        summary: Summary::of(&done),
        properties: done,
        reproductions: Vec::new(),
    }
}

/// Each article claim with the properties (of `properties`, reported in `reports` in the same order) bearing on it,
/// its scope from the claims table, and its verdict (`conform_reports::claims::settle`).
pub fn claims(properties: &[Property], reports: &[PropertyReport]) -> Vec<ClaimReport> {
    conform_properties::claims::ALL
        .iter()
        .filter_map(|claim| {
            let bearing: Vec<ClaimProperty> = properties
                .iter()
                .zip(reports)
                .filter(|(p, _)| p.claims.contains(claim))
                .map(|(p, r)| ClaimProperty { name: p.name.to_string(), status: r.status })
                .collect();
            let scope = ClaimScope {
                aspect: claim.aspect_name().map(Into::into),
                dtypes: claim.dtype_names().into_iter().map(Into::into).collect(),
                supported_by: claim.supported_by.iter().map(|n| n.to_string()).collect(),
                note: claim.note.into(),
            };
            let report = ClaimReport {
                id: claim.id.into(),
                quote: claim.quote.into(),
                checked_as: claim.checked_as.into(),
                properties: bearing,
                scope,
                ..Default::default()
            };
            // The verdict is computed by the reports crate, from the report's own evidence.
            (!report.properties.is_empty()).then(|| conform_reports::claims::settle(report, reports))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_budget_over_the_rounds_the_workers_take() {
        let minute = Duration::from_secs(60);
        // 3 properties on 2 workers take 2 rounds: 30 s each (40 s each would end the second round at 80 s).
        assert_eq!(share_of(minute, 3, 2), Duration::from_secs(30));
        assert_eq!(share_of(minute, 4, 2), Duration::from_secs(30));
        assert_eq!(share_of(minute, 15, 2), Duration::from_millis(7500));
        assert_eq!(share_of(minute, 2, 8), minute);
        assert_eq!(share_of(minute, 5, 1), Duration::from_secs(12));
        assert_eq!(share_of(minute, 0, 0), minute);
    }
}
