//! Plain-text renderings of the report model that more than one writer shows (console, HTML, JUnit), so that no
//! writer calls another.
//!
//! Invariant: pure functions of the model; the text is the same wherever it appears.

use std::fmt::Write as _;

use crate::model::{PropertyReport, Status};

/// What a person needs about one property that did not pass: the minimal case, the message, a repro command, and
/// for a stale known deviation the replay result. A skip's reason is not repeated here: the console groups identical
/// reasons (`console::observations`), JUnit and HTML show it where the skip is.
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
    if let (Status::Vacuous, Some(why)) = (p.status, &p.vacuous_reason) {
        let _ = writeln!(out, "{} VACUOUS: {why}", p.name);
    }
    out
}

/// A count with thousands separators, as the verdicts print it: `220,517`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `a`, `a and b`, `a, b and c`.
pub fn join_and<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [rest @ .., last] => {
            let rest: Vec<&str> = rest.iter().map(AsRef::as_ref).collect();
            format!("{} and {}", rest.join(", "), last.as_ref())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_lists_read_as_prose() {
        assert_eq!(
            [count(0), count(999), count(1000), count(220517), count(1234567)],
            ["0", "999", "1,000", "220,517", "1,234,567"]
        );
        assert_eq!(join_and::<&str>(&[]), "");
        assert_eq!(join_and(&["a"]), "a");
        assert_eq!(join_and(&["a", "b"]), "a and b");
        assert_eq!(join_and(&["a", "b", "c"]), "a, b and c");
    }
}
