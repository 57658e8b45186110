//! Plain-text renderings of the report model that more than one writer shows (console, HTML, JUnit), so that no
//! writer calls another.
//!
//! Invariant: pure functions of the model; the text is the same wherever it appears.

use std::fmt::Write as _;

use crate::model::{PropertyReport, Status};

/// What a person needs about one property that did not pass: the minimal case, the message, a repro command, and
/// for a stale known deviation the replay result.
pub fn details(p: &PropertyReport) -> String {
    let mut out = String::new();
    if let Some(c) = &p.counterexample {
        let case = serde_json::to_string(&c.case).unwrap_or_default();
        let _ = writeln!(
            out,
            "{name} FAILED after {cases} cases ({steps} shrink steps)",
            name = p.name,
            cases = c.cases_before_failure,
            steps = c.shrink_steps
        );
        let _ = writeln!(out, "minimal failing input: {case}");
        let _ = writeln!(out, "{}", c.message);
        let _ = writeln!(out, "signature: {}", c.signature);
        let _ = writeln!(out, "repro: {}", c.repro);
    }
    for k in p.known.iter().filter(|k| !k.reproduced) {
        let _ = writeln!(
            out,
            "{name} FIXED? known deviation no longer reproduces: {sig}",
            name = p.name,
            sig = k.signature
        );
        let _ = writeln!(out, "replay of its evidence: {}", k.replay_message);
        let _ = writeln!(out, "(hint: if libtorch really changed, remove the entry from known-deviations.toml)");
    }
    if let (Status::Skip, Some(why)) = (p.status, &p.skip_reason) {
        let _ = writeln!(out, "{} skipped: {why}", p.name);
    }
    if let (Status::Vacuous, Some(why)) = (p.status, &p.vacuous_reason) {
        let _ = writeln!(out, "{} VACUOUS: {why}", p.name);
    }
    out
}
