//! One property's verdict: replay the evidence of its known deviations, replay its corpus cases, then search its
//! case stream (from where a dead worker left off, if one died), shrink the first new failure or crash, and decide
//! the status. Everything that runs a check goes through an [`Engine`], so the same logic serves `--in-process`
//! runs and crash-isolated workers.
//!
//! Invariant: a failure whose signature is a known deviation of the property is counted and tolerated, so the
//! search goes on looking for new deviations behind it (a known crash included: the search resumes after the case
//! in a fresh worker); whether a known deviation still exists is decided by replaying its recorded evidence
//! (deterministic), never by whether random search happened to hit it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use conform_generators::search::{shrink_tree, tree_at, Outcome, SearchConfig, Stop};
use conform_generators::Case;
use conform_properties::{outcome, CheckError, Failure, Property};
use conform_reports::{Counterexample, Event, KnownReport, PropertyReport, Status, StoppedBy};
use proptest::strategy::ValueTree;

use crate::config::RunConfig;
use crate::corpus::Loaded;
use crate::engine::{Died, Ended, Engine, SearchJob};
use crate::known::KnownDeviation;
use crate::runner::{device, repro_command, vacuous};

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
pub fn replay_with(engine: &mut dyn Engine, property: &Property, case: &Case, known: &[&KnownDeviation]) -> Replay {
    match engine.check(property, case) {
        Ok(()) => Replay::Passes,
        Err(CheckError::Reject(why)) => Replay::Rejected(why),
        Err(CheckError::Fail(f)) if known.iter().any(|k| k.signature == f.signature) => Replay::Known(f),
        Err(CheckError::Fail(f)) => Replay::Fails(f),
    }
}

/// Replays a known deviation's evidence: it must still fail with the recorded signature.
fn replay_known(engine: &mut dyn Engine, property: &Property, known: &KnownDeviation) -> KnownReport {
    let (reproduced, replay_message) = match engine.check(property, &known.evidence) {
        Err(CheckError::Fail(f)) if f.signature == known.signature => (true, f.message),
        Err(CheckError::Fail(f)) => (false, format!("fails differently now: {} ({})", f.message, f.signature)),
        Err(CheckError::Reject(why)) => (false, format!("rejected: {why}")),
        Ok(()) => (false, "the evidence case passes now".into()),
    };
    KnownReport { signature: known.signature.clone(), reason: known.reason.clone(), reproduced, replay_message }
}

/// Totals of a search that may span several workers.
#[derive(Default)]
struct Totals {
    cases: u32,
    rejects: u32,
    known_hits: u32,
    skipped: u32,
    values: u64,
    reject_reasons: BTreeMap<String, u64>,
    observations: BTreeMap<String, u64>,
}

/// Runs one property with `engine` and reports it; `share` is its time for the search (from its start).
pub fn run_property_with(
    engine: &mut dyn Engine,
    property: &Property,
    config: &RunConfig,
    known: &[&KnownDeviation],
    corpus: &[&Loaded],
    share: Option<Duration>,
    on_event: &mut dyn FnMut(&Event<'_>),
) -> PropertyReport {
    let started = Instant::now();
    on_event(&Event::PropertyStarted { name: property.name, cases: config.cases });
    let known_reports: Vec<KnownReport> = known.iter().map(|k| replay_known(engine, property, k)).collect();
    // The corpus first, as Hypothesis replays its database: a stored failure that is not known fails the property
    // at once, deterministically, whatever the seed.
    let from_corpus = corpus.iter().find_map(|loaded| match replay_with(engine, property, &loaded.entry.case, known) {
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

    let signatures: Vec<String> = known.iter().map(|k| k.signature.clone()).collect();
    let mut totals = Totals::default();
    let (stop, counterexample) = match from_corpus {
        Some(c) => (Stop::Failed, Some(c)),
        // The share counts from the property's start: replaying its evidence and corpus spends it too, but at most
        // half of it. The search always gets at least half its share, so a property whose evidence is slow to
        // replay (each stored crash restarts its worker) still earns its verdict on cases instead of `vacuous`; such
        // a property can overrun its share by what its replays cost beyond half.
        None => {
            // A replayed crash leaves no worker: start one first, so that the half is search time, not start-up.
            engine.warm_up();
            let left = share.map(|s| s.saturating_sub(started.elapsed()).max(s / 2));
            search(engine, property, config, &signatures, left, &mut totals, on_event)
        }
    };
    let duration = started.elapsed();
    let from_corpus = counterexample.as_ref().is_some_and(|c| c.corpus_file.is_some());
    let vacuous_reason = match counterexample {
        Some(_) => None,
        None => vacuous(totals.cases, totals.rejects, stop),
    };
    let status = match (&counterexample, known_reports.iter().any(|k| !k.reproduced), known_reports.is_empty()) {
        (Some(_), _, _) => Status::Fail,
        (None, true, _) => Status::Fixed,
        _ if vacuous_reason.is_some() => Status::Vacuous,
        (None, false, false) => Status::Known,
        (None, false, true) => Status::Pass,
    };
    let seconds = duration.as_secs_f64().max(1e-9);
    PropertyReport {
        name: property.name.to_string(),
        family: property.family.to_string(),
        device: device(property.device),
        doc: property.doc.to_string(),
        status,
        cases: totals.cases,
        rejects: totals.rejects,
        known_hits: totals.known_hits,
        skipped: totals.skipped,
        duration_s: duration.as_secs_f64(),
        cases_per_s: totals.cases as f64 / seconds,
        values: totals.values,
        values_per_s: totals.values as f64 / seconds,
        stopped_by: if from_corpus { StoppedBy::Corpus } else { stopped_by(stop) },
        corpus_replayed: corpus.len() as u32,
        claims: property.claims.iter().map(|c| c.id.to_string()).collect(),
        counterexample,
        known: known_reports,
        observations: totals.observations,
        reject_reasons: totals.reject_reasons,
        skip_reason: None,
        vacuous_reason,
    }
}

/// The search, resumed in a fresh worker after each death whose signature is a known deviation; a new crash or
/// timeout is shrunk (its checks in fresh workers too) into the counterexample.
fn search(
    engine: &mut dyn Engine,
    property: &Property,
    config: &RunConfig,
    known: &[String],
    share: Option<Duration>,
    totals: &mut Totals,
    on_event: &mut dyn FnMut(&Event<'_>),
) -> (Stop, Option<Counterexample>) {
    let started = Instant::now();
    let mut job = SearchJob {
        seed: config.seed,
        cases: config.cases,
        max_numel: config.max_numel,
        start: 0,
        share,
        known: known.to_vec(),
    };
    loop {
        // A worker that died is started again before the share left is read, so its start-up counts against this
        // property (whose case crashed it), not as free time.
        engine.warm_up();
        job.share = share.map(|s| s.saturating_sub(started.elapsed()));
        let before = totals.cases;
        let name = property.name;
        let mut progress = |done: u32| on_event(&Event::CaseFinished { name, done: before + done });
        match engine.search(property, &job, &mut progress) {
            Ok(s) => {
                totals.cases += s.cases;
                totals.rejects += s.rejects;
                totals.known_hits += s.known_hits;
                totals.skipped += s.skipped;
                totals.values += s.values;
                merge(&mut totals.reject_reasons, s.reject_reasons);
                merge(&mut totals.observations, s.observations);
                let counterexample = match (s.found, s.error) {
                    (Some(f), _) => Some(Counterexample {
                        case: serde_json::to_value(&f.minimal).expect("a case serialises"),
                        message: f.message,
                        signature: f.signature,
                        cases_before_failure: f.index + 1,
                        shrink_steps: f.shrink_steps,
                        repro: repro_command(property.name, config, f.index + 1),
                        corpus_file: None,
                    }),
                    (None, Some(error)) => Some(Counterexample {
                        case: serde_json::Value::Null,
                        message: error,
                        signature: "cannot draw cases".into(),
                        cases_before_failure: 0,
                        shrink_steps: 0,
                        repro: repro_command(property.name, config, 1),
                        corpus_file: None,
                    }),
                    (None, None) => None,
                };
                let stop = match s.ended {
                    Ended::AllCases => Stop::AllCases,
                    Ended::Deadline => Stop::Deadline,
                    Ended::TooManyRejects => Stop::TooManyRejects,
                    Ended::Failed | Ended::CannotDraw => Stop::Failed,
                };
                return (stop, counterexample);
            }
            Err(died) => {
                totals.cases += died.done;
                let Some(index) = died.index else {
                    return (Stop::Failed, Some(no_case(property, config, &died)));
                };
                totals.cases += 1; // the case in flight
                if !died.shrinking && known.contains(&died.death.signature) {
                    totals.known_hits += 1;
                    job.start = index + 1;
                    continue;
                }
                return (Stop::Failed, Some(shrink_death(engine, property, config, known, index, died)));
            }
        }
    }
}

fn merge(into: &mut BTreeMap<String, u64>, from: BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k).or_insert(0) += v;
    }
}

/// A worker died before any case: the property cannot be checked (e.g. the worker binary cannot start).
fn no_case(property: &Property, config: &RunConfig, died: &Died) -> Counterexample {
    Counterexample {
        case: serde_json::Value::Null,
        message: format!("the worker died before checking a case: {}", died.death.message),
        signature: died.death.signature.clone(),
        cases_before_failure: 0,
        shrink_steps: 0,
        repro: repro_command(property.name, config, 1),
        corpus_file: None,
    }
}

/// The case a worker died on (or whose failure it was shrinking), regenerated here from its index and shrunk with
/// every candidate checked in a fresh worker: a crash or timeout of a candidate counts as failing.
fn shrink_death(
    engine: &mut dyn Engine,
    property: &Property,
    config: &RunConfig,
    known: &[String],
    index: u32,
    died: Died,
) -> Counterexample {
    let strategy = (property.space)(config.max_numel);
    let Ok(mut tree) = tree_at(&strategy, config.seed, property.name, index) else {
        return no_case(property, config, &died);
    };
    let original = tree.current();
    let mut check = |case: &Case| match outcome(engine.check(property, case)) {
        Outcome::Fail(f) if known.contains(&f.signature) => Outcome::Pass,
        other => other,
    };
    // Checked again in a fresh worker: an outside kill or a flaky crash does not happen twice.
    let (minimal, failure, steps) = match check(&original) {
        Outcome::Fail(first) => {
            let shrink_config = SearchConfig::new(config.cases, config.seed);
            let found = shrink_tree(&mut tree, first, &shrink_config, &mut check);
            (found.minimal, found.failure, found.shrink_steps)
        }
        _ => {
            let mut failure = died.death.failure();
            failure.message.push_str(
                " (the case passed when checked again in a fresh worker: an outside kill or a flaky crash; not shrunk)",
            );
            (original, failure, 0)
        }
    };
    let what = if died.shrinking { "while shrinking the failure of" } else { "while checking" };
    Counterexample {
        case: serde_json::to_value(&minimal).expect("a case serialises"),
        message: failure.message,
        signature: failure.signature,
        cases_before_failure: index + 1,
        shrink_steps: steps,
        repro: format!("{} (a worker died {what} case {index})", repro_command(property.name, config, index + 1)),
        corpus_file: None,
    }
}

fn stopped_by(stop: Stop) -> StoppedBy {
    match stop {
        Stop::AllCases => StoppedBy::AllCases,
        Stop::Deadline => StoppedBy::Budget,
        Stop::TooManyRejects => StoppedBy::TooManyRejects,
        Stop::Failed => StoppedBy::Failed,
    }
}
