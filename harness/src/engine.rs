//! Where checks run: in this process ([`InProcess`], for debugging and for the property crate's own tests) or in
//! crash-isolated worker processes (`crate::isolate::Workers`). The runner talks to both through [`Engine`]: check
//! one case, or search a property's case stream from some case on.
//!
//! Invariant: a search is a pure function of the property, the job (seed, case count, start, share of the budget,
//! known signatures) and the machine's clock, so a worker that runs it reports the same cases in the same order as
//! this process would, and a parent can regenerate the case a dead worker was checking from its index alone.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use conform_generators::search::{search_observed, Observer, Outcome, SearchConfig, Stop};
use conform_generators::Case;
use conform_properties::{outcome, CheckError, Failure, Property, Verdict};
use serde::{Deserialize, Serialize};

/// One search: a property's case stream under the run's seed, from case `start` on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchJob {
    pub seed: u64,
    /// The stream's case count (the search ends at case `cases - 1`).
    pub cases: u32,
    pub max_numel: usize,
    /// Draw from case `start` on (earlier cases were checked by a worker that died).
    pub start: u32,
    /// Time for this search from its start; `None`: no limit.
    pub share: Option<Duration>,
    /// Signatures of the property's known deviations, tolerated and counted.
    pub known: Vec<String>,
}

/// How a search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ended {
    AllCases,
    Deadline,
    TooManyRejects,
    Failed,
    /// The property's space could not draw a case (a defect of the property).
    CannotDraw,
}

impl From<Stop> for Ended {
    fn from(stop: Stop) -> Ended {
        match stop {
            Stop::AllCases => Ended::AllCases,
            Stop::Deadline => Ended::Deadline,
            Stop::TooManyRejects => Ended::TooManyRejects,
            Stop::Failed => Ended::Failed,
        }
    }
}

/// A failing case found by a search, shrunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoundCase {
    pub minimal: Case,
    pub signature: String,
    pub message: String,
    pub shrink_steps: u32,
    /// Index of the case in the stream whose shrinking gave `minimal`.
    pub index: u32,
}

/// What a search found, with the counts the report needs. Counts cover this search only (from `start`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Searched {
    pub cases: u32,
    pub rejects: u32,
    pub known_hits: u32,
    /// Cases drawn but not checked: not expected to end within the share (see `search_observed`).
    #[serde(default)]
    pub skipped: u32,
    pub values: u64,
    pub ended: Ended,
    pub found: Option<FoundCase>,
    /// Why no case could be drawn, when `ended` is `CannotDraw`.
    pub error: Option<String>,
    pub reject_reasons: BTreeMap<String, u64>,
    pub observations: BTreeMap<String, u64>,
}

/// How a worker process died, as a failure: the signature names the kind of death (stable, e.g. `crash: killed by
/// SIGABRT`), the message adds the tail of its stderr.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Death {
    pub signature: String,
    pub message: String,
}

impl Death {
    pub fn failure(&self) -> Failure {
        Failure { signature: self.signature.clone(), message: self.message.clone() }
    }
}

/// A worker died during a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Died {
    /// The case being checked, or whose failure was being shrunk, when it died (`None`: before any case).
    pub index: Option<u32>,
    /// True when it died while shrinking the failure of case `index`.
    pub shrinking: bool,
    /// Cases it had finished checking (for counts).
    pub done: u32,
    pub death: Death,
}

/// Runs checks and searches.
pub trait Engine {
    /// Checks one case; the death of a worker is a failure (its [`Death`]).
    fn check(&mut self, property: &Property, case: &Case) -> Verdict;

    /// Runs `job`; `progress` hears the number of cases checked so far now and then.
    fn search(&mut self, property: &Property, job: &SearchJob, progress: &mut dyn FnMut(u32))
        -> Result<Searched, Died>;

    /// Gets ready to check (starts a worker if there is none), so that start-up is not charged to the next
    /// property's share of the budget. A worker that cannot start is found again by the next check.
    fn warm_up(&mut self) {}
}

/// Checks in this process: a panic is caught, an abort or a segfault ends the process (`--in-process`).
#[derive(Debug, Default)]
pub struct InProcess;

impl Engine for InProcess {
    fn check(&mut self, property: &Property, case: &Case) -> Verdict {
        run_check(property, case)
    }

    fn search(
        &mut self,
        property: &Property,
        job: &SearchJob,
        progress: &mut dyn FnMut(u32),
    ) -> Result<Searched, Died> {
        struct Progress<'a>(&'a mut dyn FnMut(u32));
        impl Observer<Case> for Progress<'_> {
            fn checked(&mut self, done: u32, _case: &Case) {
                (self.0)(done)
            }
        }
        Ok(search_here(property, job, &mut Progress(progress)))
    }
}

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

/// Runs `job` in this process (what a worker runs too): draws cases, checks them, tolerates and counts known
/// signatures, shrinks the first new failure; `observer` hears each case index before it is checked.
pub fn search_here(property: &Property, job: &SearchJob, observer: &mut dyn Observer<Case>) -> Searched {
    let strategy = (property.space)(job.max_numel);
    if let Some(tally) = &property.tally {
        tally.take();
    }
    let deadline = job.share.and_then(|share| Instant::now().checked_add(share));
    let config = SearchConfig { deadline, start: job.start, ..SearchConfig::new(job.cases, job.seed) };
    let mut known_hits = 0u32;
    let mut reject_reasons = BTreeMap::<String, u64>::new();
    let check = |case: &Case| match outcome(run_check(property, case)) {
        Outcome::Fail(f) if job.known.contains(&f.signature) => {
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
    struct Counting<'a> {
        inner: &'a mut dyn Observer<Case>,
        values: &'a mut u64,
    }
    impl Observer<Case> for Counting<'_> {
        fn starting(&mut self, index: u32) {
            self.inner.starting(index)
        }
        fn checked(&mut self, done: u32, case: &Case) {
            *self.values += case.size() as u64;
            self.inner.checked(done, case)
        }
        fn shrinking(&mut self, index: u32) {
            self.inner.shrinking(index)
        }
        fn size(&self, case: &Case) -> u64 {
            case.size() as u64
        }
    }
    let searched = search_observed(
        &strategy,
        property.name,
        &config,
        check,
        &mut Counting { inner: observer, values: &mut values },
    );
    let observations = property.tally.as_ref().map(|t| t.take()).unwrap_or_default();
    let drawn = searched.as_ref().map_or(0, |r| r.drawn());
    match searched {
        Ok(r) => Searched {
            cases: r.cases,
            rejects: r.rejects,
            known_hits,
            skipped: r.skipped,
            values,
            ended: r.stop.into(),
            found: r.found.map(|f| FoundCase {
                minimal: f.minimal,
                signature: f.failure.signature,
                message: f.failure.message,
                shrink_steps: f.shrink_steps,
                index: job.start + drawn - 1,
            }),
            error: None,
            reject_reasons,
            observations,
        },
        // Only a property whose case space is empty gets here: a defect of the property, reported as a failure.
        Err(error) => Searched {
            cases: 0,
            rejects: 0,
            known_hits,
            skipped: 0,
            values,
            ended: Ended::CannotDraw,
            found: None,
            error: Some(error.to_string()),
            reject_reasons,
            observations,
        },
    }
}
