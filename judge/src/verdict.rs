//! What judging a case says: pass, reject (the case is outside what the property covers) or fail (an invariant
//! broke), and the tally of behaviours a property records instead of judging.
//!
//! Invariant: a failure's `signature` is stable across seeds and shrinking (the op and the kind of breakage, no
//! indices or bits); known deviations match it. The `message` is the one-line account for a person.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use conform_generators::search::Outcome;

/// An invariant broke.
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

/// What a check says of a case it does not pass. (Not to be confused with `conform_generators::InvalidCase`,
/// which says a case itself is malformed.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckError {
    /// The case is outside what the property covers; counted, never a failure.
    Reject(String),
    Fail(Failure),
}

impl CheckError {
    pub fn fail(signature: impl Into<String>, message: impl Into<String>) -> CheckError {
        CheckError::Fail(Failure { signature: signature.into(), message: message.into() })
    }

    /// A call into the system under test returned an error where it must not: the failure names the call, and the
    /// message keeps the error's first line (libtorch's errors go on with a C++ backtrace, which is no part of a
    /// one-line message). The one place conform shortens a system's error.
    pub fn system(what: &str, error: &str) -> CheckError {
        let first = one_line(error);
        CheckError::fail(format!("{what} failed"), format!("{what} failed: {first}"))
    }
}

/// A system under test's error shortened to its first line: libtorch's errors go on with a C++ backtrace, which
/// has no place in a one-line failure message. (conform's own errors are one line already; their hints are a
/// separate method, never a second line.)
pub fn one_line(error: &str) -> &str {
    error.lines().next().unwrap_or_default()
}

/// The result of checking one case.
pub type Verdict = Result<(), CheckError>;

/// The search loop's view of a check result.
pub fn outcome(result: Verdict) -> Outcome<Failure> {
    match result {
        Ok(()) => Outcome::Pass,
        Err(CheckError::Reject(why)) => Outcome::Reject(why),
        Err(CheckError::Fail(failure)) => Outcome::Fail(failure),
    }
}

/// Counts of behaviours a property tabulates instead of judging (what libtorch returns where C++ leaves the result
/// implementation-defined, or what happens to a NaN's sign and payload). Counts include shrink attempts.
#[derive(Debug, Default)]
pub struct Tally(Mutex<BTreeMap<String, u64>>);

impl Tally {
    pub fn add(&self, key: String) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()).entry(key).or_insert(0) += 1;
    }

    /// Adds `n` to the count of `key` (a count gathered over a whole case, added at once).
    pub fn add_n(&self, key: String, n: u64) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()).entry(key).or_insert(0) += n;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_map_one_to_one() {
        assert_eq!(outcome(Ok(())), Outcome::Pass);
        assert_eq!(outcome(Err(CheckError::Reject("r".into()))), Outcome::Reject("r".into()));
        let f = Failure { signature: "s".into(), message: "m".into() };
        assert_eq!(outcome(Err(CheckError::fail("s", "m"))), Outcome::Fail(f));
    }

    #[test]
    fn a_system_error_keeps_its_first_line() {
        let e = CheckError::system("to_kind(f64→f16)", "bad kind\nException raised from …");
        assert_eq!(e, CheckError::fail("to_kind(f64→f16) failed", "to_kind(f64→f16) failed: bad kind"));
    }

    #[test]
    fn tally_counts_keeps_maxima_and_empties_on_take() {
        let t = Tally::default();
        t.add("a".into());
        t.add("a".into());
        t.record_max("m".into(), 3);
        t.record_max("m".into(), 2);
        let taken = t.take();
        assert_eq!(taken["a"], 2);
        assert_eq!(taken["m"], 3);
        assert!(t.take().is_empty());
    }
}
