//! The `Property` type: a named invariant with the space of cases it draws from and a check, and the result type of
//! a check, which keeps rejection (the input is outside what the property covers) apart from failure.
//!
//! Invariant: a check never panics on a libtorch error: it calls tch's fallible `f_*` functions and turns errors
//! into a `Fail` or a `Reject` that says which.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use conform_generators::search::Outcome;
use conform_generators::{CaseSpace, TensorCase};

use crate::claims::Claim;

/// An invariant broke. `signature` is stable across seeds and shrinking (the op and the kind of breakage, no
/// indices or bits) and is what a known deviation matches; `message` is the one-line account for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub signature: String,
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// What a check says of a case it does not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseError {
    /// The case is outside what the property covers; counted, never a failure.
    Reject(String),
    Fail(Failure),
}

impl CaseError {
    pub fn fail(signature: impl Into<String>, message: impl Into<String>) -> CaseError {
        CaseError::Fail(Failure { signature: signature.into(), message: message.into() })
    }
}

/// A libtorch (or conversion) call failed: the failure names the call, and the message carries the first line of
/// the error.
pub(crate) fn tch_fail(what: &str, e: impl std::fmt::Display) -> CaseError {
    let first = e.to_string().lines().next().unwrap_or_default().to_string();
    CaseError::fail(format!("{what} failed"), format!("{what} failed: {first}"))
}

/// The search loop's view of a check result.
pub fn outcome(result: Result<(), CaseError>) -> Outcome<Failure> {
    match result {
        Ok(()) => Outcome::Pass,
        Err(CaseError::Reject(why)) => Outcome::Reject(why),
        Err(CaseError::Fail(failure)) => Outcome::Fail(failure),
    }
}

/// The family a property belongs to; the first part of its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Roundtrip,
    Dtype,
    Aliasing,
    Casts,
    Devices,
}

impl Family {
    pub const ALL: [Family; 5] = [Family::Roundtrip, Family::Dtype, Family::Aliasing, Family::Casts, Family::Devices];

    pub fn name(self) -> &'static str {
        match self {
            Family::Roundtrip => "roundtrip",
            Family::Dtype => "dtype",
            Family::Aliasing => "aliasing",
            Family::Casts => "casts",
            Family::Devices => "devices",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The devices a property needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceNeed {
    /// The CPU alone.
    Cpu,
    /// The CPU and a usable CUDA device; reported `skip` with the reason where there is none.
    Cuda,
}

pub type Check = Arc<dyn Fn(&TensorCase) -> Result<(), CaseError> + Send + Sync>;

/// The cases a property draws, for a given `CONFORM_MAX_NUMEL`.
pub type Space = Arc<dyn Fn(usize) -> CaseSpace + Send + Sync>;

/// Counts of behaviours a property tabulates instead of judging (what libtorch returns where C++ leaves the result
/// implementation-defined, or what happens to a NaN's sign and payload). Counts include shrink attempts.
#[derive(Debug, Default)]
pub struct Tally(Mutex<BTreeMap<String, u64>>);

impl Tally {
    pub fn add(&self, key: String) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()).entry(key).or_insert(0) += 1;
    }

    /// Keeps the largest `value` seen under `key` (for measured maxima rather than counts).
    pub fn record_max(&self, key: String, value: u64) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let slot = map.entry(key).or_insert(0);
        *slot = (*slot).max(value);
    }

    /// The counts so far, leaving the tally empty.
    pub fn take(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// One invariant of the registry.
#[derive(Clone)]
pub struct Property {
    /// `family::name`, also the libtest trial name.
    pub name: &'static str,
    pub family: Family,
    pub device: DeviceNeed,
    /// One sentence: what must hold.
    pub doc: &'static str,
    /// The article claims this property bears on.
    pub claims: &'static [Claim],
    /// The cases it draws, for a given `CONFORM_MAX_NUMEL`.
    pub space: Space,
    pub check: Check,
    /// What it tabulates, if anything.
    pub tally: Option<Arc<Tally>>,
}

impl fmt::Debug for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Property").field("name", &self.name).field("family", &self.family).finish_non_exhaustive()
    }
}
