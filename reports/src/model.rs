//! The report model: what a run found, as stable, versioned serde types. Writers read only this (and the events),
//! never the runner or libtorch.
//!
//! Invariant: `FORMAT_VERSION` changes whenever a field is renamed, removed or changes meaning; adding a field
//! with a default does not change it.
//!
//! Format history:
//! - 1: the first format.
//! - 2: `claims[].properties` holds `{"name", "status"}` objects instead of `"name: status"` strings (and the
//!   status is the lowercase JSON form, `fail`, not the label `FAIL`); `properties[].stopped_by` and
//!   `properties[].device` keep their strings, but only the values of [`StoppedBy`] and [`Device`] parse; new
//!   `run_id` (the JSON, HTML and JUnit of one run carry the same one) and `complete` (false for a run cut short;
//!   absent reads as true); new status `vacuous` with `properties[].vacuous_reason` and `summary.vacuous`;
//!   `settings.strict` is gone (one policy for `fixed`: it always fails the run).
//! - 2, with additions (defaults keep older files readable, so the version stays): `claims` comes before
//!   `properties`, and each claim starts with its `verdict` (`TRUE`, `FALSE`, `PARTLY`, `UNSETTLED`), `because` (one
//!   sentence naming the evidence) and `evidence` (per bearing property: `bears` `for`/`against`/`missing`, what it
//!   counted in the claim's scope, `held`, `broke`, `detail`), and ends with its `scope` (`aspect`, `dtypes`,
//!   `supported_by`, `note`: what [`crate::claims::settle`] judges it on); new `reproductions` (per counterexample
//!   and known deviation with a case: its corpus file, case, culprit, and the Rust, Python and upstream-issue texts
//!   of `conform repro`). Observation keys with a grammar that writers read: `"{dtype} arrays: {aspect} kept"` /
//!   `"… changed"` / `"{dtype} arrays: refused"` (the claims' scoped evidence), and from the cast judges
//!   `"{op}({source}→{target}) values: drawn"` / `"… values: wrong"` / `"… values: wrong within ½ ulp"` /
//!   `"… values: wrong beyond ½ ulp"` and `"{op}({source}→{target}) error: {bucket}"` (the cast matrix and its
//!   histograms; [`crate::casts`]); NaN behaviour keys end with the layout class, `[contiguous]` or `[strided]`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Version of the `report.json` format.
pub const FORMAT_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub format_version: u32,
    /// Names this run; the JSON, HTML and JUnit written for it carry the same id.
    pub run_id: String,
    /// True for a run that finished; false for one cut short, whose properties are those done so far.
    #[serde(default = "finished")]
    pub complete: bool,
    /// The seed article's claims, each with its verdict first, then the properties that bear on it. First in the
    /// file because it is the answer.
    pub claims: Vec<ClaimReport>,
    pub conform_version: String,
    pub libtorch_version: String,
    pub tch_version: String,
    /// The run seed; with the same binary and settings it reproduces every case.
    pub seed: u64,
    pub settings: Settings,
    pub duration_s: f64,
    pub properties: Vec<PropertyReport>,
    pub summary: Summary,
    /// Reproductions of every counterexample and known deviation with a stored case (`conform repro`), filled by
    /// the harness after the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reproductions: Vec<Reproduction>,
}

fn finished() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub cases: u32,
    pub budget_s: Option<f64>,
    pub max_numel: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every case held.
    Pass,
    /// A new deviation: the run fails.
    Fail,
    /// Only deviations recorded in known-deviations.toml, and each still reproduces.
    Known,
    /// A recorded deviation no longer reproduces: the entry is stale and must be removed, or a deviation that
    /// comes back later would pass unnoticed. Fails the run, everywhere (exit code, JUnit, `cargo test`).
    Fixed,
    /// The property ran but earned no verdict: it checked no case, or rejected more than
    /// [`VACUOUS_REJECT_SHARE`] of the cases it drew (`vacuous_reason` says which). Fails the run: a nightly run
    /// that nobody watches must not read "nothing was checked" as "pass".
    Vacuous,
    /// Not run, with a reason (no usable device; not selected). Does not fail the run.
    Skip,
}

/// A property that rejected more than this share of the cases it drew is `vacuous` (proptest gives up after
/// `max_global_rejects` the same way): its few checked cases cannot stand for the space it claims to cover.
pub const VACUOUS_REJECT_SHARE: f64 = 0.9;

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::Known => "known",
            Status::Fixed => "FIXED",
            Status::Vacuous => "VACUOUS",
            Status::Skip => "skip",
        }
    }

    /// Whether this status fails the run: the one policy that the exit code, JUnit and `cargo test` share.
    pub fn fails(self) -> bool {
        matches!(self, Status::Fail | Status::Fixed | Status::Vacuous)
    }
}

/// Why the search for counterexamples of a property stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StoppedBy {
    /// Every requested case was checked.
    AllCases,
    /// The time budget ran out first.
    Budget,
    /// Too many generated cases were rejected: a failure of its own, never a pass.
    TooManyRejects,
    /// A generated case failed.
    Failed,
    /// A stored corpus case failed, before the search.
    Corpus,
    /// The property did not run (see `skip_reason`).
    Skipped,
}

impl StoppedBy {
    /// The JSON form, for text output.
    pub fn label(self) -> &'static str {
        match self {
            StoppedBy::AllCases => "all-cases",
            StoppedBy::Budget => "budget",
            StoppedBy::TooManyRejects => "too-many-rejects",
            StoppedBy::Failed => "failed",
            StoppedBy::Corpus => "corpus",
            StoppedBy::Skipped => "skipped",
        }
    }
}

/// The devices a property needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Device {
    /// The CPU only.
    #[serde(rename = "cpu")]
    Cpu,
    /// The CPU and CUDA device 0.
    #[serde(rename = "cpu+cuda:0")]
    Cuda,
}

impl Device {
    /// The JSON form, for text output.
    pub fn label(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Cuda => "cpu+cuda:0",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyReport {
    pub name: String,
    pub family: String,
    pub device: Device,
    pub doc: String,
    pub status: Status,
    /// Generated cases checked (shrink attempts not counted).
    pub cases: u32,
    pub rejects: u32,
    /// Cases that failed with the signature of a known deviation (counted, not failing).
    pub known_hits: u32,
    /// Cases drawn but not checked because they were not expected to end within the property's share of the
    /// budget (the search went on with smaller ones).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped: u32,
    pub duration_s: f64,
    pub cases_per_s: f64,
    /// Tensor elements in the generated cases (a cast case batches thousands of values).
    #[serde(default)]
    pub values: u64,
    #[serde(default)]
    pub values_per_s: f64,
    /// Why generation stopped.
    pub stopped_by: StoppedBy,
    /// Corpus cases replayed before the search.
    #[serde(default)]
    pub corpus_replayed: u32,
    pub claims: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<Counterexample>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known: Vec<KnownReport>,
    /// Behaviours tabulated rather than judged (implementation-defined results), with counts.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub observations: BTreeMap<String, u64>,
    /// Why cases were rejected, with counts (rejects include shrink attempts).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reject_reasons: BTreeMap<String, u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// Why a `vacuous` property earned no verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vacuous_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counterexample {
    /// The shrunk case in the corpus JSON form.
    pub case: serde_json::Value,
    pub message: String,
    /// The stable part of the failure, which a known deviation matches.
    pub signature: String,
    pub cases_before_failure: u32,
    pub shrink_steps: u32,
    /// A command that reproduces it.
    pub repro: String,
    /// The corpus file it came from, when a stored case (not the search) found it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corpus_file: Option<String>,
}

/// A recorded deviation of this property and what the run saw of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnownReport {
    pub signature: String,
    pub reason: String,
    /// The recorded evidence case, replayed, still fails with this signature.
    pub reproduced: bool,
    /// What the replay said.
    pub replay_message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClaimReport {
    pub id: String,
    /// What the evidence says of the claim; absent where nothing judged it (a report of an older conform).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<ClaimVerdict>,
    /// One sentence naming the evidence: how many cases held, the counterexample, or what is missing.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub because: String,
    /// What each bearing property contributed, in the claim's scope.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<ClaimEvidence>,
    pub quote: String,
    /// The invariant conform checks instead of the claim.
    pub checked_as: String,
    /// Each property that bears on the claim, with its status in this run.
    pub properties: Vec<ClaimProperty>,
    /// Which evidence the verdict is judged on.
    #[serde(default)]
    pub scope: ClaimScope,
}

/// A claim's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ClaimVerdict {
    /// Every piece of evidence in scope speaks for the claim.
    True,
    /// Every piece of evidence in scope speaks against it.
    False,
    /// Some speaks for it and some against (true of one conversion, false of another).
    Partly,
    /// Nothing in scope ran; `because` says what is missing.
    Unsettled,
}

impl ClaimVerdict {
    pub fn label(self) -> &'static str {
        match self {
            ClaimVerdict::True => "TRUE",
            ClaimVerdict::False => "FALSE",
            ClaimVerdict::Partly => "PARTLY",
            ClaimVerdict::Unsettled => "UNSETTLED",
        }
    }
}

/// How one bearing property's result weighs on a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bearing {
    For,
    Against,
    /// It gave no evidence in scope (skipped, vacuous, stale, or no case in scope).
    Missing,
}

/// What one property contributed to a claim's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimEvidence {
    pub property: String,
    pub status: Status,
    pub bears: Bearing,
    /// What was counted: `cases`, or e.g. `f64 arrays, dtype`.
    pub counted: String,
    /// Counted units in which the invariant held.
    pub held: u64,
    /// Counted units in which it broke.
    pub broke: u64,
    /// The counterexample or deviation that broke it, or why the evidence is missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The evidence a claim is judged on (filled from the claims table in `conform_properties::claims`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimScope {
    /// The aspect of a conversion the claim is about (`bits`, `dtype`), judged on the `"{dtype} arrays: {aspect}
    /// kept|changed"` observations; absent: the bearing properties' whole verdicts count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aspect: Option<String>,
    /// The array dtypes the claim is about; empty: all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dtypes: Vec<String>,
    /// Bearing properties whose holding speaks for the claim; any other that holds speaks against it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supported_by: Vec<String>,
    /// What the verdict's sentence adds that conform does not check itself.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// A counterexample or known deviation made reproducible without conform (`conform repro`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reproduction {
    pub property: String,
    pub signature: String,
    /// The corpus file it was made from, if the case is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corpus_file: Option<String>,
    /// The case in the corpus JSON form.
    pub case: serde_json::Value,
    /// What the run (or the corpus) said of it.
    pub message: String,
    /// Whose behaviour it is: `libtorch`, `tch`, `half`, `ndarray`, or `conform` (no standalone program).
    pub culprit: String,
    /// A minimal Rust program printing the actual and the expected bits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rust: Option<String>,
    /// A minimal Python/torch program, where the deviation is libtorch's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<String>,
    /// A draft upstream issue in Markdown: title, versions, expected vs actual, why.
    pub issue: String,
}

/// A property that bears on a claim, and how it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimProperty {
    pub name: String,
    pub status: Status,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub known: usize,
    pub fixed: usize,
    #[serde(default)]
    pub vacuous: usize,
    pub skip: usize,
}

impl Summary {
    pub fn of(properties: &[PropertyReport]) -> Summary {
        let mut s = Summary::default();
        for p in properties {
            match p.status {
                Status::Pass => s.pass += 1,
                Status::Fail => s.fail += 1,
                Status::Known => s.known += 1,
                Status::Fixed => s.fixed += 1,
                Status::Vacuous => s.vacuous += 1,
                Status::Skip => s.skip += 1,
            }
        }
        s
    }

    /// Properties whose status fails the run.
    pub fn failing(&self) -> usize {
        self.fail + self.fixed + self.vacuous
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopped_by_keeps_the_format_1_strings() {
        let parsed: StoppedBy = serde_json::from_str(r#""too-many-rejects""#).unwrap();
        assert_eq!(parsed, StoppedBy::TooManyRejects);
        for s in [
            StoppedBy::AllCases,
            StoppedBy::Budget,
            StoppedBy::TooManyRejects,
            StoppedBy::Failed,
            StoppedBy::Corpus,
            StoppedBy::Skipped,
        ] {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.label()));
            assert_eq!(serde_json::from_str::<StoppedBy>(&json).unwrap(), s);
        }
        assert!(serde_json::from_str::<StoppedBy>(r#""deadline""#).is_err());
    }

    #[test]
    fn device_keeps_the_format_1_strings() {
        assert_eq!(serde_json::from_str::<Device>(r#""cpu+cuda:0""#).unwrap(), Device::Cuda);
        assert_eq!(serde_json::from_str::<Device>(r#""cpu""#).unwrap(), Device::Cpu);
        for d in [Device::Cpu, Device::Cuda] {
            assert_eq!(serde_json::to_string(&d).unwrap(), format!("\"{}\"", d.label()));
        }
        assert!(serde_json::from_str::<Device>(r#""cuda""#).is_err());
    }

    #[test]
    fn claim_property_is_name_and_lowercase_status() {
        let p = ClaimProperty { name: "casts::a".into(), status: Status::Fail };
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"name":"casts::a","status":"fail"}"#);
        assert_eq!(serde_json::from_str::<ClaimProperty>(&json).unwrap(), p);
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}
