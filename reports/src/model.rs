//! The report model: what a run found, as stable, versioned serde types. Writers read only this (and the events),
//! never the runner or libtorch.
//!
//! Invariant: `FORMAT_VERSION` changes whenever a field is renamed, removed or changes meaning; adding a field
//! with a default does not change it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Version of the `report.json` format.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub format_version: u32,
    pub conform_version: String,
    pub libtorch_version: String,
    pub tch_version: String,
    /// The run seed; with the same binary and settings it reproduces every case.
    pub seed: u64,
    pub settings: Settings,
    pub duration_s: f64,
    pub properties: Vec<PropertyReport>,
    /// The seed article's claims, each with the properties that bear on it.
    pub claims: Vec<ClaimReport>,
    pub summary: Summary,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub cases: u32,
    pub budget_s: Option<f64>,
    pub max_numel: usize,
    pub strict: bool,
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
    /// A recorded deviation no longer reproduces: the entry is stale (loud; fails the run under `--strict`).
    Fixed,
    /// Not run, with a reason.
    Skip,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::Known => "known",
            Status::Fixed => "FIXED",
            Status::Skip => "skip",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyReport {
    pub name: String,
    pub family: String,
    pub device: String,
    pub doc: String,
    pub status: Status,
    /// Generated cases checked (shrink attempts not counted).
    pub cases: u32,
    pub rejects: u32,
    /// Cases that failed with the signature of a known deviation (counted, not failing).
    pub known_hits: u32,
    pub duration_s: f64,
    pub cases_per_s: f64,
    /// Tensor elements in the generated cases (a cast case batches thousands of values).
    #[serde(default)]
    pub values: u64,
    #[serde(default)]
    pub values_per_s: f64,
    /// Why generation stopped: all-cases, budget, too-many-rejects, failed, or corpus (a stored case failed).
    pub stopped_by: String,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimReport {
    pub id: String,
    pub quote: String,
    /// The invariant conform checks instead of the claim.
    pub checked_as: String,
    /// `name: status` of each property that bears on the claim.
    pub properties: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub known: usize,
    pub fixed: usize,
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
                Status::Skip => s.skip += 1,
            }
        }
        s
    }
}
