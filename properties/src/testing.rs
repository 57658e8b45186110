//! Test helpers: run a check through the same search loop the harness uses and return the shrunk failure.

use conform_generators::{arb_case, search, CaseSpace, SearchConfig, TensorCase};

use crate::property::{outcome, Failure, Verdict};

/// The minimal failing case of `check` over `space`, searching seeds 0, 1, … until one fails.
pub fn minimal_failure(space: CaseSpace, check: impl Fn(&TensorCase) -> Verdict) -> (TensorCase, Failure) {
    let strategy = arb_case(space);
    for seed in 0..20 {
        let report =
            search(&strategy, "test", &SearchConfig::new(500, seed), |c| outcome(check(c)), |_, _| {}).unwrap();
        if let Some(found) = report.found {
            return (found.minimal, found.failure);
        }
    }
    panic!("the planted defect was never detected: the property cannot fail");
}

/// Asserts that `check` passes 300 cases of `space`.
pub fn assert_passes(space: CaseSpace, check: impl Fn(&TensorCase) -> Verdict) {
    let strategy = arb_case(space);
    let report = search(&strategy, "test", &SearchConfig::new(300, 1), |c| outcome(check(c)), |_, _| {}).unwrap();
    if let Some(found) = report.found {
        panic!("unexpected failure on {:?}: {}", found.minimal, found.failure);
    }
}
