//! `conform diff`: what changed between two reports, property by property — status, deviation signatures, cases
//! and cases/s — with a summary line, as text, markdown (for a CI job summary) or JSON. Properties are matched by
//! name only, so reports of other libtorch or tch versions, or of another device, compare; the versions, seeds and
//! devices of both are shown in the header.
//!
//! Invariant: [`Diff::worse`] is true exactly when some property got worse: it fails now ([`Status::fails`]) where
//! it did not (a new property that fails included), it shows a deviation signature it did not show before and that
//! is not recorded as a known deviation, or it is gone. A property's signatures are its counterexample's and those
//! of its known deviations that reproduced; a known one that is new was reviewed and recorded in
//! known-deviations.toml since, so it is listed but is not worse. Signatures are compared only when the property
//! ran on both sides (a `skip` observes nothing, so it neither adds nor fixes a signature).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::model::{PropertyReport, Report, Status};

/// Everything `conform diff` says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diff {
    pub old: Side,
    pub new: Side,
    /// In the new report's order, then the properties that disappeared, in the old report's order.
    pub properties: Vec<PropertyDiff>,
    pub summary: DiffSummary,
}

/// One of the two reports, as the header shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Side {
    pub file: String,
    pub run_id: String,
    pub seed: u64,
    pub conform_version: String,
    pub libtorch_version: String,
    pub tch_version: String,
    /// The devices of the properties that ran (not skipped).
    pub devices: Vec<String>,
    pub complete: bool,
    pub properties: usize,
}

/// How a property changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// It fails where it did not, shows a new signature, or is gone (`reasons` says which).
    Worse,
    /// Nothing worse, and it no longer fails or a signature is fixed.
    Better,
    /// Nothing worse or better, but its status changed, or it is new.
    Changed,
    Same,
}

impl Change {
    pub fn label(self) -> &'static str {
        match self {
            Change::Worse => "WORSE",
            Change::Better => "better",
            Change::Changed => "changed",
            Change::Same => "same",
        }
    }
}

/// One property in both reports, or in one of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyDiff {
    pub name: String,
    /// `None`: not in that report.
    pub old_status: Option<Status>,
    pub new_status: Option<Status>,
    pub change: Change,
    /// Why it is worse (empty unless `change` is `worse`).
    pub reasons: Vec<String>,
    /// Deviation signatures it did not show before, not recorded as known: each makes it worse.
    pub new_signatures: Vec<String>,
    /// Signatures of known deviations that it did not show before (recorded since): listed, not worse.
    pub newly_known_signatures: Vec<String>,
    /// Signatures it showed before and does not now.
    pub fixed_signatures: Vec<String>,
    pub old_cases: Option<u32>,
    pub new_cases: Option<u32>,
    /// New cases over old cases, when both ran and the old checked some.
    pub cases_ratio: Option<f64>,
    /// New cases/s over old cases/s, likewise.
    pub cases_per_s_ratio: Option<f64>,
}

/// Counts over the properties.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffSummary {
    pub properties: usize,
    pub worse: usize,
    pub better: usize,
    pub changed: usize,
    pub same: usize,
    pub appeared: usize,
    pub disappeared: usize,
    pub new_signatures: usize,
    pub newly_known_signatures: usize,
    pub fixed_signatures: usize,
}

impl Diff {
    /// Whether anything got worse: `conform diff` exits 1 then.
    pub fn worse(&self) -> bool {
        self.summary.worse > 0
    }

    /// The summary line.
    pub fn summary_line(&self) -> String {
        let s = &self.summary;
        let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        format!(
            "{}: {} worse, {} better, {} changed, {} same; {}, {} newly known, {} fixed; {} appeared, {} disappeared",
            plural(s.properties, "property", "properties"),
            s.worse,
            s.better,
            s.changed,
            s.same,
            plural(s.new_signatures, "new signature", "new signatures"),
            s.newly_known_signatures,
            s.fixed_signatures,
            s.appeared,
            s.disappeared,
        )
    }
}

/// Compares `old` (read from `old_file`) with `new` (from `new_file`).
pub fn diff(old: &Report, old_file: &str, new: &Report, new_file: &str) -> Diff {
    let mut properties: Vec<PropertyDiff> =
        new.properties.iter().map(|n| compare(old.properties.iter().find(|o| o.name == n.name), Some(n))).collect();
    properties.extend(
        old.properties
            .iter()
            .filter(|o| !new.properties.iter().any(|n| n.name == o.name))
            .map(|o| compare(Some(o), None)),
    );
    let mut summary = DiffSummary { properties: properties.len(), ..DiffSummary::default() };
    for p in &properties {
        match p.change {
            Change::Worse => summary.worse += 1,
            Change::Better => summary.better += 1,
            Change::Changed => summary.changed += 1,
            Change::Same => summary.same += 1,
        }
        summary.appeared += usize::from(p.old_status.is_none());
        summary.disappeared += usize::from(p.new_status.is_none());
        summary.new_signatures += p.new_signatures.len();
        summary.newly_known_signatures += p.newly_known_signatures.len();
        summary.fixed_signatures += p.fixed_signatures.len();
    }
    Diff { old: side(old, old_file), new: side(new, new_file), properties, summary }
}

fn side(r: &Report, file: &str) -> Side {
    let devices: BTreeSet<&str> =
        r.properties.iter().filter(|p| p.status != Status::Skip).map(|p| p.device.label()).collect();
    Side {
        file: file.to_string(),
        run_id: r.run_id.clone(),
        seed: r.seed,
        conform_version: r.conform_version.clone(),
        libtorch_version: r.libtorch_version.clone(),
        tch_version: r.tch_version.clone(),
        devices: devices.into_iter().map(str::to_string).collect(),
        complete: r.complete,
        properties: r.properties.len(),
    }
}

/// The deviation signatures a property showed: its counterexample's and its reproduced known deviations'.
fn signatures(p: &PropertyReport) -> BTreeSet<&str> {
    let known = p.known.iter().filter(|k| k.reproduced).map(|k| k.signature.as_str());
    p.counterexample.iter().map(|c| c.signature.as_str()).chain(known).collect()
}

fn ratio(new: f64, old: f64) -> Option<f64> {
    (old > 0.0).then(|| new / old)
}

fn compare(old: Option<&PropertyReport>, new: Option<&PropertyReport>) -> PropertyDiff {
    let name = new.or(old).expect("one side has the property").name.clone();
    let (old_status, new_status) = (old.map(|p| p.status), new.map(|p| p.status));
    let mut reasons = Vec::new();
    let (mut new_signatures, mut newly_known_signatures, mut fixed_signatures) = (Vec::new(), Vec::new(), Vec::new());
    let (mut cases_ratio, mut cases_per_s_ratio) = (None, None);
    match (old, new) {
        (Some(_), None) => reasons.push("gone: not in the new report".to_string()),
        (None, Some(n)) if n.status.fails() => reasons.push(format!("new property, {}", n.status.label())),
        (None, _) => {}
        (Some(o), Some(n)) => {
            if n.status.fails() && !o.status.fails() {
                reasons.push(format!("{} now (was {})", n.status.label(), o.status.label()));
            }
            if o.status != Status::Skip && n.status != Status::Skip {
                let (before, after) = (signatures(o), signatures(n));
                let known = |s: &&str| n.known.iter().any(|k| k.reproduced && k.signature == *s);
                let (recorded, unrecorded): (Vec<&str>, Vec<&str>) =
                    after.difference(&before).copied().partition(known);
                new_signatures = unrecorded.into_iter().map(str::to_string).collect();
                newly_known_signatures = recorded.into_iter().map(str::to_string).collect();
                fixed_signatures = before.difference(&after).map(|s| s.to_string()).collect();
                reasons.extend(new_signatures.iter().map(|s| format!("new signature: {s}")));
                cases_ratio = ratio(f64::from(n.cases), f64::from(o.cases));
                cases_per_s_ratio = ratio(n.cases_per_s, o.cases_per_s);
            }
        }
    }
    let better = old_status.is_some_and(|o| o.fails()) && new_status.is_some_and(|n| !n.fails());
    let change = if !reasons.is_empty() {
        Change::Worse
    } else if better || !fixed_signatures.is_empty() {
        Change::Better
    } else if old_status != new_status || !newly_known_signatures.is_empty() {
        Change::Changed
    } else {
        Change::Same
    };
    PropertyDiff {
        name,
        old_status,
        new_status,
        change,
        reasons,
        new_signatures,
        newly_known_signatures,
        fixed_signatures,
        old_cases: old.map(|p| p.cases),
        new_cases: new.map(|p| p.cases),
        cases_ratio,
        cases_per_s_ratio,
    }
}

fn status(s: Option<Status>) -> &'static str {
    s.map_or("-", Status::label)
}

fn times(r: Option<f64>) -> String {
    r.map_or("-".to_string(), |r| format!("×{r:.2}"))
}

fn header_rows(d: &Diff) -> [(&'static str, String, String); 7] {
    let (o, n) = (&d.old, &d.new);
    let devices = |s: &Side| if s.devices.is_empty() { "none".to_string() } else { s.devices.join(", ") };
    let complete = |s: &Side| if s.complete { "yes".to_string() } else { "NO (cut short)".to_string() };
    [
        ("report", o.file.clone(), n.file.clone()),
        ("seed", o.seed.to_string(), n.seed.to_string()),
        ("conform", o.conform_version.clone(), n.conform_version.clone()),
        ("libtorch", o.libtorch_version.clone(), n.libtorch_version.clone()),
        ("tch", o.tch_version.clone(), n.tch_version.clone()),
        ("devices", devices(o), devices(n)),
        ("complete", complete(o), complete(n)),
    ]
}

/// The diff as plain text: header, what got worse, one row per property, the summary line.
pub fn to_text(d: &Diff) -> String {
    let mut out = String::new();
    let rows = header_rows(d);
    let old_width = rows.iter().map(|(_, old, _)| old.chars().count()).max().unwrap_or(0);
    let _ = writeln!(out, "{:<9} {:<old_width$}  new", "", "old");
    for (what, old, new) in rows {
        let _ = writeln!(out, "{what:<9} {old:<old_width$}  {new}");
    }
    out.push('\n');
    let width = d.properties.iter().map(|p| p.name.len()).max().unwrap_or(0).max("property".len());
    let _ = writeln!(
        out,
        "{:<width$}  {:<7}  {:<7}  {:<7}  {:>8}  {:>8}",
        "property", "old", "new", "change", "cases", "cases/s"
    );
    for p in &d.properties {
        let _ = writeln!(
            out,
            "{:<width$}  {:<7}  {:<7}  {:<7}  {:>8}  {:>8}",
            p.name,
            status(p.old_status),
            status(p.new_status),
            p.change.label(),
            times(p.cases_ratio),
            times(p.cases_per_s_ratio)
        );
        for reason in p.reasons.iter().filter(|r| !r.starts_with("new signature: ")) {
            let _ = writeln!(out, "    worse: {reason}");
        }
        for s in &p.new_signatures {
            let _ = writeln!(out, "    + new signature: {s}");
        }
        for s in &p.newly_known_signatures {
            let _ = writeln!(out, "    + newly known signature: {s}");
        }
        for s in &p.fixed_signatures {
            let _ = writeln!(out, "    - fixed signature: {s}");
        }
    }
    let _ = writeln!(out, "\n{}", d.summary_line());
    out
}

/// Text for a markdown table cell: no line breaks, pipes escaped.
fn cell(text: &str) -> String {
    text.replace('\n', " ").replace('|', "\\|")
}

/// Text in a markdown code span: backticks cannot be escaped inside one, so they become quotes.
fn code(text: &str) -> String {
    format!("`{}`", cell(&text.replace('`', "'")))
}

/// The diff as markdown for `$GITHUB_STEP_SUMMARY`: the summary line as a heading, what got worse as a list, the
/// two reports side by side, then one table row per property.
pub fn to_markdown(d: &Diff) -> String {
    let mut out = String::new();
    let verdict = if d.worse() { "worse" } else { "nothing worse" };
    let _ = writeln!(out, "### conform diff: {verdict}\n\n{}\n", d.summary_line());
    let worse: Vec<&PropertyDiff> = d.properties.iter().filter(|p| p.change == Change::Worse).collect();
    if !worse.is_empty() {
        out.push_str("**Worse:**\n\n");
        for p in worse {
            let reasons = p.reasons.iter().filter(|r| !r.starts_with("new signature: ")).map(|r| cell(r));
            let signatures = p.new_signatures.iter().map(|s| format!("new signature {}", code(s)));
            let _ = writeln!(out, "- {}: {}", code(&p.name), reasons.chain(signatures).collect::<Vec<_>>().join("; "));
        }
        out.push('\n');
    }
    out.push_str("| | old | new |\n| --- | --- | --- |\n");
    for (what, old, new) in header_rows(d) {
        let _ = writeln!(out, "| {what} | {} | {} |", cell(&old), cell(&new));
    }
    out.push_str("\n| property | old | new | change | cases | cases/s | signatures |\n");
    out.push_str("| --- | --- | --- | --- | ---: | ---: | --- |\n");
    for p in &d.properties {
        let signatures: Vec<String> = p
            .new_signatures
            .iter()
            .map(|s| format!("new: {}", code(s)))
            .chain(p.newly_known_signatures.iter().map(|s| format!("newly known: {}", code(s))))
            .chain(p.fixed_signatures.iter().map(|s| format!("fixed: {}", code(s))))
            .collect();
        let change = match p.change {
            Change::Worse => format!("**{}**", p.change.label()),
            other => other.label().to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {change} | {} | {} | {} |",
            code(&p.name),
            status(p.old_status),
            status(p.new_status),
            times(p.cases_ratio),
            times(p.cases_per_s_ratio),
            signatures.join("<br>")
        );
    }
    out
}

/// The diff as pretty JSON.
pub fn to_json(d: &Diff) -> String {
    serde_json::to_string_pretty(d).expect("a diff always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Counterexample, Device, KnownReport};

    fn report() -> Report {
        crate::tests::report()
    }

    fn find<'a>(d: &'a Diff, name: &str) -> &'a PropertyDiff {
        d.properties.iter().find(|p| p.name == name).unwrap()
    }

    fn counterexample(signature: &str) -> Counterexample {
        Counterexample {
            case: serde_json::Value::Null,
            message: "m".into(),
            signature: signature.into(),
            cases_before_failure: 3,
            shrink_steps: 1,
            repro: "conform run".into(),
            corpus_file: None,
        }
    }

    #[test]
    fn a_report_against_itself_is_all_same() {
        let d = diff(&report(), "a.json", &report(), "a.json");
        assert!(!d.worse());
        assert!(d.properties.iter().all(|p| p.change == Change::Same && p.reasons.is_empty()), "{d:#?}");
        assert_eq!(d.summary.same, 3);
        assert_eq!(find(&d, "roundtrip::a").cases_ratio, Some(1.0));
        assert_eq!(
            d.summary_line(),
            "3 properties: 0 worse, 0 better, 0 changed, 3 same; 0 new signatures, 0 newly known, 0 fixed; 0 appeared, \
             0 disappeared"
        );
    }

    #[test]
    fn a_pass_that_now_fails_is_worse_with_its_new_signature() {
        let mut new = report();
        new.properties[0].status = Status::Fail;
        new.properties[0].counterexample = Some(counterexample("out[0] bits changed"));
        let d = diff(&report(), "old.json", &new, "new.json");
        assert!(d.worse());
        let p = find(&d, "roundtrip::a");
        assert_eq!(p.change, Change::Worse);
        assert_eq!(p.reasons, ["FAIL now (was pass)", "new signature: out[0] bits changed"]);
        assert_eq!(p.new_signatures, ["out[0] bits changed"]);
        assert_eq!((d.summary.worse, d.summary.new_signatures), (1, 1));
    }

    #[test]
    fn every_failing_status_counts_and_a_still_failing_property_is_not_worse() {
        for now in [Status::Fail, Status::Fixed, Status::Vacuous] {
            let mut new = report();
            new.properties[0].status = now;
            assert!(diff(&report(), "o", &new, "n").worse(), "pass -> {now:?}");
        }
        // roundtrip::b fails on both sides with the same signature: not worse.
        let d = diff(&report(), "o", &report(), "n");
        assert_eq!(find(&d, "roundtrip::b").change, Change::Same);
    }

    #[test]
    fn a_failing_property_with_another_signature_is_worse_and_the_old_one_fixed() {
        let mut new = report();
        new.properties[1].counterexample = Some(counterexample("another"));
        let d = diff(&report(), "o", &new, "n");
        let p = find(&d, "roundtrip::b");
        assert_eq!(p.change, Change::Worse);
        assert_eq!(p.new_signatures, ["another"]);
        assert_eq!(p.fixed_signatures, ["x: bits of a negative-zero element changed"]);
    }

    #[test]
    fn a_newly_recorded_known_deviation_is_listed_not_worse_and_one_that_stops_reproducing_is_fixed() {
        let mut old = report();
        old.properties[2].status = Status::Known;
        old.properties[2].known[0].reproduced = true;
        let mut new = old.clone();
        new.properties[0].status = Status::Known;
        new.properties[0].known.push(KnownReport {
            signature: "tch refused".into(),
            reason: "r".into(),
            reproduced: true,
            replay_message: "m".into(),
        });
        let d = diff(&old, "o", &new, "n");
        let recorded = find(&d, "roundtrip::a");
        assert_eq!((recorded.change, recorded.new_signatures.len()), (Change::Changed, 0), "reviewed and recorded");
        assert_eq!(recorded.newly_known_signatures, ["tch refused"]);
        assert!(!d.worse());
        // The stale entry: FIXED fails the run, so it is worse, and its signature is listed as fixed.
        let d = diff(&old, "o", &report(), "n");
        let stale = find(&d, "dtype::c");
        assert_eq!(stale.change, Change::Worse);
        assert_eq!(stale.reasons, ["FIXED now (was known)"]);
        assert_eq!(stale.fixed_signatures, ["tch refused"]);
    }

    #[test]
    fn a_failure_recorded_as_known_is_better_and_its_signature_newly_known() {
        let mut new = report();
        let failing = &mut new.properties[1];
        let signature = "another way".to_string();
        failing.status = Status::Known;
        failing.counterexample = None;
        failing.known.push(KnownReport {
            signature: signature.clone(),
            reason: "r".into(),
            reproduced: true,
            replay_message: "m".into(),
        });
        let d = diff(&report(), "o", &new, "n");
        let p = find(&d, "roundtrip::b");
        assert_eq!((p.change, &p.newly_known_signatures), (Change::Better, &vec![signature]));
        assert_eq!(p.fixed_signatures, ["x: bits of a negative-zero element changed"]);
        assert!(!d.worse());
    }

    #[test]
    fn a_failure_that_goes_away_is_better() {
        let mut new = report();
        new.properties[1].status = Status::Pass;
        new.properties[1].counterexample = None;
        let d = diff(&report(), "o", &new, "n");
        let p = find(&d, "roundtrip::b");
        assert_eq!(p.change, Change::Better);
        assert_eq!(p.fixed_signatures.len(), 1);
        assert!(!d.worse());
    }

    #[test]
    fn a_property_that_disappears_is_worse_and_a_new_passing_one_is_not() {
        let mut new = report();
        let gone = new.properties.remove(0);
        new.properties.push(PropertyReport { name: "casts::new".into(), ..gone.clone() });
        let d = diff(&report(), "o", &new, "n");
        assert!(d.worse());
        assert_eq!(d.properties.last().unwrap().name, "roundtrip::a", "the disappeared come last");
        assert_eq!(find(&d, "roundtrip::a").reasons, ["gone: not in the new report"]);
        assert_eq!(find(&d, "casts::new").change, Change::Changed);
        assert_eq!((d.summary.appeared, d.summary.disappeared, d.summary.worse), (1, 1, 1));
        let mut failing = new.clone();
        failing.properties.last_mut().unwrap().status = Status::Fail;
        let d = diff(&new, "o", &failing, "n");
        assert_eq!(find(&d, "casts::new").change, Change::Worse, "a property that has always failed");
    }

    #[test]
    fn across_devices_a_skipped_side_neither_adds_nor_fixes_signatures() {
        // A CUDA report against a CPU report: the device property ran on one side only.
        let mut cuda = report();
        cuda.properties[2].device = Device::Cuda;
        cuda.properties[2].status = Status::Known;
        cuda.properties[2].known[0].reproduced = true;
        let mut cpu = cuda.clone();
        cpu.properties[2].status = Status::Skip;
        cpu.properties[2].known.clear();
        cpu.libtorch_version = "2.13.0".into();
        let d = diff(&cuda, "cuda.json", &cpu, "cpu.json");
        let p = find(&d, "dtype::c");
        assert_eq!((p.change, p.fixed_signatures.len(), p.cases_ratio), (Change::Changed, 0, None));
        assert!(!diff(&cpu, "cpu.json", &cuda, "cuda.json").worse());
        assert_eq!(d.old.devices, ["cpu", "cpu+cuda:0"]);
        assert_eq!(d.new.devices, ["cpu"]);
        let text = to_text(&d);
        let line = text.lines().find(|l| l.starts_with("libtorch ")).unwrap();
        assert_eq!(line.split_whitespace().collect::<Vec<_>>(), ["libtorch", "2.11.0", "2.13.0"], "{text}");
    }

    #[test]
    fn ratios_compare_cases_and_speed() {
        let mut new = report();
        new.properties[0].cases = 150;
        new.properties[0].cases_per_s = 100.0;
        let p = find(&diff(&report(), "o", &new, "n"), "roundtrip::a").clone();
        assert_eq!((p.cases_ratio, p.cases_per_s_ratio), (Some(1.5), Some(0.5)));
        assert_eq!((times(p.cases_ratio), times(None)), ("×1.50".to_string(), "-".to_string()));
    }

    /// The three writers on one diff with a little of everything: a new failure, a fix, a disappearance.
    fn planted() -> Diff {
        let mut new = report();
        new.properties[0].status = Status::Fail;
        new.properties[0].counterexample = Some(counterexample("out[0] | bits `changed`"));
        new.properties[0].cases = 37;
        new.properties.remove(2);
        new.tch_version = "0.26.0".into();
        diff(&report(), "previous/report.json", &new, "merged/report.json")
    }

    #[test]
    fn text_snapshot() {
        insta::assert_snapshot!(to_text(&planted()));
    }

    #[test]
    fn markdown_snapshot_escapes_pipes_and_backticks() {
        let md = to_markdown(&planted());
        assert!(md.contains("`out[0] \\| bits 'changed'`"), "{md}");
        insta::assert_snapshot!(md);
    }

    #[test]
    fn json_round_trips() {
        let d = planted();
        let json = to_json(&d);
        assert_eq!(serde_json::from_str::<Diff>(&json).unwrap(), d);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["properties"][0]["change"], "worse");
        assert_eq!(value["summary"]["worse"], 2);
    }
}
