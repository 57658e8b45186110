//! The `Property` type: a named invariant with the space of cases it draws from and a check, and the result type of
//! a check, which keeps rejection (the input is outside what the property covers) apart from failure.
//!
//! Invariant: a check never panics on a libtorch error: it calls tch's fallible `f_*` functions and turns errors
//! into a `Fail` or a `Reject` that says which.

use std::fmt;
use std::sync::Arc;

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
}

impl Family {
    pub const ALL: [Family; 3] = [Family::Roundtrip, Family::Dtype, Family::Aliasing];

    pub fn name(self) -> &'static str {
        match self {
            Family::Roundtrip => "roundtrip",
            Family::Dtype => "dtype",
            Family::Aliasing => "aliasing",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

pub type Check = Arc<dyn Fn(&TensorCase) -> Result<(), CaseError> + Send + Sync>;

/// One invariant of the registry.
#[derive(Clone)]
pub struct Property {
    /// `family::name`, also the libtest trial name.
    pub name: &'static str,
    pub family: Family,
    /// One sentence: what must hold.
    pub doc: &'static str,
    /// The article claims this property bears on.
    pub claims: &'static [Claim],
    /// The cases it draws, for a given `CONFORM_MAX_NUMEL`.
    pub space: fn(usize) -> CaseSpace,
    pub check: Check,
}

impl fmt::Debug for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Property").field("name", &self.name).field("family", &self.family).finish_non_exhaustive()
    }
}
