//! A verdict per claim, computed from the evidence in a report: pure functions of the model, no libtorch.
//!
//! Each claim names its bearing properties and its scope ([`ClaimScope`]): the aspect of a conversion it is about
//! (judged on the `"{dtype} arrays: {aspect} kept|changed"` observations the properties tally), the dtypes it is
//! about, and which properties speak *for* it when they hold (every other one that holds speaks against it; one that
//! breaks in scope speaks the other way). The verdict is `TRUE` when all evidence in scope speaks for the claim,
//! `FALSE` when all speaks against, `PARTLY` when both, and `UNSETTLED` when none ran, saying what is missing.
//!
//! Invariant: only evidence in the claim's scope counts. A property's failure on another aspect or another dtype
//! (tch's bf16 kind bug, say, for the float64 claim) is a finding of its own ([`findings`]), never a verdict.

use std::collections::BTreeMap;

use crate::model::{
    Bearing, ClaimEvidence, ClaimReport, ClaimScope, ClaimVerdict, Device, PropertyReport, Report, Status,
};
use crate::text::{count, join_and};

/// `claim` with its verdict, sentence and evidence computed from `reports` (the properties of the run, any order).
pub fn settle(mut claim: ClaimReport, reports: &[PropertyReport]) -> ClaimReport {
    let evidence: Vec<ClaimEvidence> = claim
        .properties
        .iter()
        .map(|cp| match reports.iter().find(|r| r.name == cp.name) {
            Some(p) => weigh(&claim.scope, p),
            None => ClaimEvidence {
                property: cp.name.clone(),
                status: cp.status,
                bears: Bearing::Missing,
                counted: "cases".into(),
                held: 0,
                broke: 0,
                detail: Some("not in this report".into()),
            },
        })
        .collect();
    let (verdict, because) = conclude(&claim.scope, &evidence);
    claim.verdict = Some(verdict);
    claim.because = because;
    claim.evidence = evidence;
    claim
}

/// Settles every claim of `report` again from its properties (after a merge, or for a report read back).
pub fn settle_all(report: &mut Report) {
    let claims = std::mem::take(&mut report.claims);
    report.claims = claims.into_iter().map(|c| settle(c, &report.properties)).collect();
}

/// Counts of one aspect over the claim's dtypes, from a property's observations.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AspectCounts {
    pub kept: u64,
    pub changed: u64,
    pub refused: u64,
}

/// Reads the `"{dtype} arrays: {aspect} kept"`, `"… changed"` and `"{dtype} arrays: refused"` observations of `p`
/// for the dtypes in `dtypes` (all when empty).
pub fn aspect_counts(p: &PropertyReport, aspect: &str, dtypes: &[String]) -> AspectCounts {
    let mut c = AspectCounts::default();
    for (key, &n) in &p.observations {
        let Some((dtype, what)) = key.split_once(" arrays: ") else { continue };
        if !dtypes.is_empty() && !dtypes.iter().any(|d| d == dtype) {
            continue;
        }
        match what.strip_prefix(aspect).map(str::trim) {
            Some("kept") => c.kept += n,
            Some("changed") => c.changed += n,
            _ if what == "refused" => c.refused += n,
            _ => {}
        }
    }
    c
}

/// A skip reason without its `(hint: …)`: the verdict says what is missing, the property table how to fix it.
fn without_hint(reason: &str) -> &str {
    reason.split(" (hint:").next().unwrap_or(reason)
}

/// The dtype of a case in the corpus JSON form, if it has one.
fn case_dtype(case: &serde_json::Value) -> Option<&str> {
    case.get("dtype").and_then(|d| d.as_str())
}

fn units(scope: &ClaimScope) -> String {
    match (&scope.aspect, scope.dtypes.is_empty()) {
        (None, _) => "cases".into(),
        (Some(_), true) => "arrays".into(),
        (Some(_), false) => format!("{} arrays", join_and(&scope.dtypes)),
    }
}

/// What one property says about a claim, in the claim's scope.
fn weigh(scope: &ClaimScope, p: &PropertyReport) -> ClaimEvidence {
    let supports = scope.supported_by.contains(&p.name);
    let counted = match &scope.aspect {
        Some(aspect) => format!("{}, {aspect}", units(scope)),
        None => "cases".into(),
    };
    let missing = |detail: String| ClaimEvidence {
        property: p.name.clone(),
        status: p.status,
        bears: Bearing::Missing,
        counted: counted.clone(),
        held: 0,
        broke: 0,
        detail: Some(detail),
    };
    match p.status {
        Status::Skip if p.device == Device::Cuda => {
            return missing(format!(
                "no CUDA device ran: {}",
                without_hint(p.skip_reason.as_deref().unwrap_or("skipped"))
            ))
        }
        Status::Skip => {
            return missing(format!("skipped: {}", without_hint(p.skip_reason.as_deref().unwrap_or("no reason given"))))
        }
        Status::Vacuous => {
            return missing(format!("checked nothing: {}", p.vacuous_reason.as_deref().unwrap_or("vacuous")))
        }
        Status::Fixed => {
            let stale: Vec<&str> = p.known.iter().filter(|k| !k.reproduced).map(|k| k.signature.as_str()).collect();
            return missing(format!("a recorded deviation no longer reproduces ({})", stale.join("; ")));
        }
        Status::Pass | Status::Known | Status::Fail => {}
    }
    let in_scope = |case: &serde_json::Value| {
        scope.dtypes.is_empty() || case_dtype(case).is_some_and(|d| scope.dtypes.iter().any(|s| s == d))
    };
    let (held, broke, detail) = match &scope.aspect {
        Some(aspect) => {
            let c = aspect_counts(p, aspect, &scope.dtypes);
            let counterexample = p.counterexample.as_ref().filter(|cx| in_scope(&cx.case));
            // A stored case that failed before any search leaves no tally; in scope, it counts against.
            let unseen = counterexample.filter(|_| c.kept + c.changed + c.refused == 0);
            let broke = c.changed + u64::from(unseen.is_some());
            if c.kept + broke == 0 {
                let why = match c.refused {
                    0 => format!("no {} reached it", units(scope)),
                    r => format!("it refused all {} {} it drew", count(r), units(scope)),
                };
                return missing(why);
            }
            let detail = match (broke, counterexample) {
                (0, _) => (c.refused > 0).then(|| format!("it refused {} more", count(c.refused))),
                (_, Some(cx)) => Some(cx.message.clone()),
                (_, None) => None,
            };
            (c.kept, broke, detail)
        }
        None => {
            let checked = u64::from(p.cases.saturating_sub(p.rejects));
            let reproduced: Vec<&str> =
                p.known.iter().filter(|k| k.reproduced).map(|k| k.replay_message.as_str()).collect();
            let (broke, detail) = match (&p.counterexample, p.status) {
                (Some(cx), _) => (1, Some(cx.message.clone())),
                (None, Status::Known) => {
                    (u64::from(p.known_hits).max(reproduced.len() as u64), reproduced.first().map(|m| m.to_string()))
                }
                _ => (0, None),
            };
            let held = checked.saturating_sub(broke);
            if held + broke == 0 {
                return missing(format!("checked no case ({} drawn, {} rejected)", p.cases, p.rejects));
            }
            (held, broke, detail)
        }
    };
    let bears = match (broke > 0, supports) {
        (false, true) | (true, false) => Bearing::For,
        (false, false) | (true, true) => Bearing::Against,
    };
    ClaimEvidence { property: p.name.clone(), status: p.status, bears, counted, held, broke, detail }
}

/// One phrase for one piece of evidence: how many held, or how many broke and how.
fn phrase(scope: &ClaimScope, e: &ClaimEvidence) -> String {
    let total = e.held + e.broke;
    let units = units(scope);
    let detail = e.detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default();
    match (&scope.aspect, e.broke) {
        (Some(aspect), 0) => format!("{} kept the {aspect} of all {} {units}{detail}", e.property, count(total)),
        (Some(aspect), b) => {
            format!("{} changed the {aspect} of {} of {} {units}{detail}", e.property, count(b), count(total))
        }
        (None, 0) => format!("{} held in all {} cases", e.property, count(total)),
        (None, b) => format!("{} broke in {} of {} cases{detail}", e.property, count(b), count(total)),
    }
}

/// The verdict and its sentence.
fn conclude(scope: &ClaimScope, evidence: &[ClaimEvidence]) -> (ClaimVerdict, String) {
    let side =
        |b: Bearing| -> Vec<String> { evidence.iter().filter(|e| e.bears == b).map(|e| phrase(scope, e)).collect() };
    let (pro, con) = (side(Bearing::For), side(Bearing::Against));
    // Missing evidence grouped by what is missing: four skipped CUDA properties are one remark.
    let mut missing: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in evidence.iter().filter(|e| e.bears == Bearing::Missing) {
        missing.entry(e.detail.as_deref().unwrap_or("no evidence")).or_default().push(&e.property);
    }
    // "no CUDA device ran: <reason>" reads "No CUDA device ran for any of its 4 properties (<reason>)".
    let missing_text = |lead: bool| -> String {
        let parts: Vec<String> = missing
            .iter()
            .map(|(why, names)| {
                let (headline, reason) = match why.split_once(": ") {
                    Some((h, r)) => (h, format!(" ({r})")),
                    None => (*why, String::new()),
                };
                match (lead, names.len()) {
                    (true, 1) => format!("{headline} for {}{reason}", names[0]),
                    (true, n) => format!("{headline} for any of its {n} properties{reason}"),
                    (false, 1) => format!("{} did not count: {headline}{reason}", names[0]),
                    (false, n) => format!("{n} more properties did not count: {headline}{reason}"),
                }
            })
            .collect();
        parts.join("; ")
    };
    let (verdict, mut text) = match (pro.is_empty(), con.is_empty()) {
        (true, true) => {
            let mut text = missing_text(true);
            if let Some(first) = text.get(..1) {
                text = first.to_uppercase() + &text[1..];
            }
            return (ClaimVerdict::Unsettled, format!("{text}."));
        }
        (false, true) => (ClaimVerdict::True, join_and(&pro)),
        (true, false) => (ClaimVerdict::False, join_and(&con)),
        (false, false) => (ClaimVerdict::Partly, format!("{}, but {}", join_and(&pro), join_and(&con))),
    };
    if !scope.note.is_empty() {
        text.push_str("; ");
        text.push_str(&scope.note);
    }
    if !missing.is_empty() {
        text.push_str(&format!(" ({})", missing_text(false)));
    }
    text.push('.');
    (verdict, text)
}

/// A deviation the run found, as a finding of its own: a known deviation that reproduces, or a new counterexample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub property: String,
    pub signature: String,
    /// The reviewed reason (known deviations) or the message (new ones).
    pub text: String,
    pub status: Status,
    /// Claims whose verdict this property's broken evidence entered (empty: a finding of its own only).
    pub claims: Vec<String>,
}

/// Every deviation of the run: each reproduced known deviation and each counterexample, in property order.
pub fn findings(report: &Report) -> Vec<Finding> {
    let claims_of = |name: &str| -> Vec<String> {
        report
            .claims
            .iter()
            .filter(|c| c.evidence.iter().any(|e| e.property == name && e.broke > 0))
            .map(|c| c.id.clone())
            .collect()
    };
    let mut out = Vec::new();
    for p in &report.properties {
        for k in p.known.iter().filter(|k| k.reproduced) {
            out.push(Finding {
                property: p.name.clone(),
                signature: k.signature.clone(),
                text: k.reason.clone(),
                status: Status::Known,
                claims: claims_of(&p.name),
            });
        }
        if let Some(cx) = &p.counterexample {
            out.push(Finding {
                property: p.name.clone(),
                signature: cx.signature.clone(),
                text: cx.message.clone(),
                status: p.status,
                claims: claims_of(&p.name),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClaimProperty, Counterexample, KnownReport};

    fn property(name: &str, status: Status) -> PropertyReport {
        let mut p = crate::tests::property(name, status);
        p.cases = 1000;
        p.rejects = 0;
        p
    }

    fn claim(names: &[&str], scope: ClaimScope) -> ClaimReport {
        ClaimReport {
            id: "c".into(),
            quote: "q".into(),
            checked_as: "inv".into(),
            properties: names.iter().map(|n| ClaimProperty { name: n.to_string(), status: Status::Pass }).collect(),
            scope,
            ..Default::default()
        }
    }

    fn verdict(c: &ClaimReport, reports: &[PropertyReport]) -> (ClaimVerdict, String) {
        let settled = settle(c.clone(), reports);
        (settled.verdict.unwrap(), settled.because)
    }

    fn known(signature: &str) -> KnownReport {
        KnownReport {
            signature: signature.into(),
            reason: "why".into(),
            reproduced: true,
            replay_message: format!("{signature}: replayed"),
        }
    }

    /// One property against the claim (requires_grad keeps aliasing): it holds → FALSE, it breaks → TRUE, it is
    /// skipped on a missing GPU → UNSETTLED saying so, it is vacuous → UNSETTLED saying so.
    #[test]
    fn planted_reports_flip_a_claim_with_one_property() {
        let c = claim(&["aliasing::r"], ClaimScope::default());
        let held = property("aliasing::r", Status::Pass);
        assert_eq!(verdict(&c, std::slice::from_ref(&held)), (ClaimVerdict::False, "aliasing::r held in all 1,000 cases.".into()));

        let mut broke = held.clone();
        broke.status = Status::Fail;
        broke.counterexample = Some(Counterexample {
            case: serde_json::json!({"dtype": "f32"}),
            message: "the tensor copied".into(),
            signature: "copied".into(),
            cases_before_failure: 10,
            shrink_steps: 0,
            repro: "conform replay x".into(),
            corpus_file: None,
        });
        let (v, because) = verdict(&c, &[broke]);
        assert_eq!(v, ClaimVerdict::True);
        assert_eq!(because, "aliasing::r broke in 1 of 1,000 cases (the tensor copied).");

        let mut gpu = property("aliasing::r", Status::Skip);
        gpu.device = Device::Cuda;
        gpu.skip_reason = Some("no usable CUDA device: none here".into());
        let (v, because) = verdict(&c, &[gpu]);
        assert_eq!(v, ClaimVerdict::Unsettled);
        assert_eq!(because, "No CUDA device ran for aliasing::r (no usable CUDA device: none here).");

        let mut vacuous = property("aliasing::r", Status::Vacuous);
        vacuous.vacuous_reason = Some("checked no case".into());
        assert_eq!(verdict(&c, &[vacuous]).0, ClaimVerdict::Unsettled);
    }

    /// One property for the claim and one against it → PARTLY; when the one against breaks it speaks for the claim
    /// too → TRUE.
    #[test]
    fn planted_reports_make_a_claim_partly_true_then_true() {
        let scope = ClaimScope { supported_by: vec!["aliasing::views".into()], ..Default::default() };
        let c = claim(&["aliasing::views", "aliasing::copies"], scope);
        let views = property("aliasing::views", Status::Pass);
        let copies = property("aliasing::copies", Status::Pass);
        let (v, because) = verdict(&c, &[views.clone(), copies.clone()]);
        assert_eq!(v, ClaimVerdict::Partly);
        assert_eq!(because, "aliasing::views held in all 1,000 cases, but aliasing::copies held in all 1,000 cases.");
        let mut aliasing_copies = copies;
        aliasing_copies.status = Status::Known;
        aliasing_copies.known_hits = 3;
        aliasing_copies.known.push(known("copy aliases"));
        let (v, because) = verdict(&c, &[views, aliasing_copies]);
        assert_eq!(v, ClaimVerdict::True);
        assert!(because.contains("aliasing::copies broke in 3 of 1,000 cases (copy aliases: replayed)"), "{because}");
    }

    /// The float64 claim is judged on f64 arrays' dtype only: a bf16 kind bug in the same property leaves it FALSE;
    /// an f64 array whose dtype changed makes it TRUE; no f64 array at all leaves it UNSETTLED.
    #[test]
    fn planted_reports_flip_a_dtype_scoped_claim() {
        let scope = ClaimScope {
            aspect: Some("dtype".into()),
            dtypes: vec!["f64".into()],
            note: "torch.Tensor(array) gives float32".into(),
            ..Default::default()
        };
        let c = claim(&["dtype::k"], scope);
        let mut p = property("dtype::k", Status::Known);
        p.known.push(known("wrong tensor kind"));
        for (key, n) in [
            ("f64 arrays: dtype kept", 40),
            ("f64 arrays: bits kept", 40),
            ("bf16 arrays: dtype changed", 7),
            ("f32 arrays: dtype kept", 9),
        ] {
            p.observations.insert(key.into(), n);
        }
        let (v, because) = verdict(&c, &[p.clone()]);
        assert_eq!(v, ClaimVerdict::False);
        assert_eq!(because, "dtype::k kept the dtype of all 40 f64 arrays; torch.Tensor(array) gives float32.");

        let mut changed = p.clone();
        changed.observations.insert("f64 arrays: dtype changed".into(), 2);
        let (v, because) = verdict(&c, &[changed]);
        assert_eq!(v, ClaimVerdict::True);
        assert!(because.starts_with("dtype::k changed the dtype of 2 of 42 f64 arrays"), "{because}");

        let mut none = p;
        none.observations.retain(|k, _| !k.starts_with("f64"));
        none.observations.insert("f64 arrays: refused".into(), 5);
        let (v, because) = verdict(&c, &[none]);
        assert_eq!(v, ClaimVerdict::Unsettled);
        assert_eq!(because, "It refused all 5 f64 arrays it drew for dtype::k.");
    }

    /// A stored counterexample in scope that failed before any search (so nothing was tallied) counts against the
    /// invariant; one out of scope does not.
    #[test]
    fn an_untallied_counterexample_counts_only_in_scope() {
        let scope = ClaimScope { aspect: Some("dtype".into()), dtypes: vec!["f64".into()], ..Default::default() };
        let c = claim(&["dtype::k"], scope);
        let mut p = property("dtype::k", Status::Fail);
        p.cases = 0;
        let cx = |dtype: &str| Counterexample {
            case: serde_json::json!({"kind": "tensor", "dtype": dtype}),
            message: format!("{dtype} became f32"),
            signature: "s".into(),
            cases_before_failure: 0,
            shrink_steps: 0,
            repro: "r".into(),
            corpus_file: Some("corpus/x.json".into()),
        };
        p.counterexample = Some(cx("f64"));
        let (v, because) = verdict(&c, &[p.clone()]);
        assert_eq!(
            (v, because.as_str()),
            (ClaimVerdict::True, "dtype::k changed the dtype of 1 of 1 f64 arrays (f64 became f32).")
        );
        p.counterexample = Some(cx("bf16"));
        assert_eq!(verdict(&c, &[p]).0, ClaimVerdict::Unsettled);
    }

    /// Missing evidence next to a verdict is said, grouped by reason.
    #[test]
    fn missing_evidence_beside_a_verdict_is_grouped() {
        let c = claim(&["a::x", "devices::y", "devices::z"], ClaimScope::default());
        let skipped = |name: &str| {
            let mut p = property(name, Status::Skip);
            p.device = Device::Cuda;
            p.skip_reason = Some("no GPU".into());
            p
        };
        let reports = [property("a::x", Status::Pass), skipped("devices::y"), skipped("devices::z")];
        let (v, because) = verdict(&c, &reports);
        assert_eq!(v, ClaimVerdict::False);
        assert_eq!(
            because,
            "a::x held in all 1,000 cases (2 more properties did not count: no CUDA device ran (no GPU))."
        );
        // The hint of a skip reason is left to the property table.
        let mut hinted = skipped("devices::y");
        hinted.skip_reason = Some("no usable CUDA device: none (hint: run elsewhere)".into());
        let only_gpu = claim(&["devices::y"], ClaimScope::default());
        assert_eq!(verdict(&only_gpu, &[hinted]).1, "No CUDA device ran for devices::y (no usable CUDA device: none).");
    }

    #[test]
    fn findings_list_every_reproduced_deviation_and_counterexample() {
        let mut r = crate::tests::report();
        r.properties[0].known.push(known("sig"));
        let f = findings(&r);
        assert_eq!(
            f.iter().map(|f| f.signature.as_str()).collect::<Vec<_>>(),
            ["sig", "x: bits of a negative-zero element changed"]
        );
    }
}
