//! Console output: a progress bar per property while the run goes (from events), then (from the report) the verdict
//! on each claim first, the summary table, the reasons behind skips and rejects grouped, and the account of each
//! failure.

use std::fmt::Write as _;

use indicatif::{ProgressBar, ProgressStyle};

use std::collections::BTreeMap;

use crate::events::Event;
use crate::model::{PropertyReport, Report, Status};
use crate::text::count;

/// The summary table, one row per property, then a totals line.
pub fn summary_table(report: &Report) -> String {
    let width = report.properties.iter().map(|p| p.name.len()).max().unwrap_or(8).max(8);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<width$}  {:<6}  {:>7}  {:>7}  {:>6}  {:>8}  {:>9}  {:>10}",
        "property", "status", "cases", "rejects", "known", "time", "cases/s", "values/s"
    );
    for p in &report.properties {
        let _ = writeln!(
            out,
            "{:<width$}  {:<6}  {:>7}  {:>7}  {:>6}  {:>7.2}s  {:>9.1}  {:>10.0}",
            p.name,
            p.status.label(),
            p.cases,
            p.rejects,
            p.known_hits,
            p.duration_s,
            p.cases_per_s,
            p.values_per_s
        );
    }
    let skipped: Vec<String> =
        report.properties.iter().filter(|p| p.skipped > 0).map(|p| format!("{} {}", p.name, p.skipped)).collect();
    if !skipped.is_empty() {
        let _ = writeln!(
            out,
            "cases drawn but not checked, as they would not have ended within their property's share: {}",
            skipped.join(", ")
        );
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "{} properties: {} pass, {} fail, {} known, {} fixed, {} vacuous, {} skip (seed {}, {:.1}s)",
        report.properties.len(),
        s.pass,
        s.fail,
        s.known,
        s.fixed,
        s.vacuous,
        s.skip,
        report.seed,
        report.duration_s
    );
    out
}

/// The verdict on each of the article's claims, first thing a reader sees: the verdict, the claim and its words,
/// and the one sentence naming the evidence.
pub fn claims(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "The article's claims, judged on this run's evidence:");
    for c in &report.claims {
        let verdict = c.verdict.map_or("-", |v| v.label());
        let _ = writeln!(out, "{verdict:<10} {}: \"{}\"", c.id, c.quote);
        if !c.because.is_empty() {
            let _ = writeln!(out, "{:<10} {}", "", c.because);
        }
    }
    out
}

/// The reasons behind skips and rejects, each said once with the properties it covers ("5 devices properties
/// skipped: …"), and which properties tabulated behaviours they do not judge (the tables are in report.json and
/// report.html).
pub fn observations(report: &Report) -> String {
    let mut out = String::new();
    let mut skipped: BTreeMap<&str, Vec<&PropertyReport>> = BTreeMap::new();
    for p in report.properties.iter().filter(|p| p.status == Status::Skip) {
        skipped.entry(p.skip_reason.as_deref().unwrap_or("no reason given")).or_default().push(p);
    }
    for (why, ps) in &skipped {
        let _ = writeln!(out, "{} skipped: {why}", some_properties(ps));
    }
    let mut rejected: BTreeMap<&str, Vec<(&PropertyReport, u64)>> = BTreeMap::new();
    for p in &report.properties {
        for (why, &n) in &p.reject_reasons {
            rejected.entry(why.lines().next().unwrap_or_default()).or_default().push((p, n));
        }
    }
    for (why, ps) in &rejected {
        let total: u64 = ps.iter().map(|(_, n)| n).sum();
        let each: Vec<String> = ps.iter().map(|(p, n)| format!("{} {}", p.name, count(*n))).collect();
        let who: Vec<&PropertyReport> = ps.iter().map(|(p, _)| *p).collect();
        let _ = writeln!(out, "{} rejected {} cases: {why} ({})", some_properties(&who), count(total), each.join(", "));
    }
    let tabulated: Vec<String> = report
        .properties
        .iter()
        .filter(|p| !p.observations.is_empty())
        .map(|p| format!("{} ({})", p.name, p.observations.len()))
        .collect();
    if !tabulated.is_empty() {
        let _ = writeln!(
            out,
            "{} properties tabulated behaviours they do not judge (report.json: properties[].observations; report.html): {}",
            tabulated.len(),
            tabulated.join(", ")
        );
    }
    out
}

/// `devices::x`, or `5 devices properties` when they share a family, or `3 properties`.
fn some_properties(ps: &[&PropertyReport]) -> String {
    match ps {
        [one] => one.name.clone(),
        [first, ..] if ps.iter().all(|p| p.family == first.family) => {
            format!("{} {} properties", ps.len(), first.family)
        }
        _ => format!("{} properties", ps.len()),
    }
}

/// The plain-text account of one property that did not pass; it lives in [`crate::text`], shared by every writer.
pub use crate::text::details;

/// Draws one progress bar per running property (several run side by side with `--jobs`) from the runner's events;
/// hidden when stderr is not a terminal. Lines it prints to stderr are best effort: a closed or full stderr
/// (`2>&1 | head -1`, `2>/dev/full`) never stops the run.
#[derive(Default)]
pub struct Progress {
    bars: indicatif::MultiProgress,
    running: std::collections::BTreeMap<String, ProgressBar>,
}

/// Writes a line to stderr, ignoring a closed or full stderr.
fn note(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

impl Progress {
    pub fn handle(&mut self, event: &Event<'_>) {
        match *event {
            Event::RunStarted { properties, seed, cases } => {
                note(format_args!("conform: {properties} properties, up to {cases} cases each, seed {seed}"));
            }
            Event::PropertyStarted { name, cases } => {
                let bar = self.bars.add(ProgressBar::new(cases as u64));
                bar.set_style(
                    ProgressStyle::with_template("{msg:48} [{bar:30}] {pos:>6}/{len:6} {per_sec:>12}")
                        .expect("valid template")
                        .progress_chars("=> "),
                );
                bar.set_message(name.to_string());
                self.running.insert(name.to_string(), bar);
            }
            Event::CaseFinished { name, done } => {
                if let Some(bar) = self.running.get(name) {
                    bar.set_position(done as u64);
                }
            }
            Event::PropertyFinished { report } => {
                if let Some(bar) = self.running.remove(&report.name) {
                    bar.finish_and_clear();
                    self.bars.remove(&bar);
                }
                let line = format!(
                    "{:<48} {:<6} {:>7} cases {:>7.2}s",
                    report.name,
                    report.status.label(),
                    report.cases,
                    report.duration_s
                );
                if self.bars.is_hidden() {
                    note(format_args!("{line}"));
                } else {
                    let _ = self.bars.println(&line);
                }
            }
            Event::RunFinished { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Five skips for one reason are one line, and so are rejects for one reason across properties.
    #[test]
    fn identical_reasons_are_said_once() {
        let mut r = crate::tests::report();
        for k in 0..5 {
            let mut p = crate::tests::property(&format!("devices::d{k}"), Status::Skip);
            p.skip_reason = Some("no usable CUDA device: none".into());
            r.properties.push(p);
        }
        for (name, n) in [("aliasing::a", 3u64), ("aliasing::b", 1200)] {
            let mut p = crate::tests::property(name, Status::Pass);
            p.reject_reasons.insert("negative strides: no view\nmore".into(), n);
            r.properties.push(p);
        }
        let text = observations(&r);
        assert_eq!(
            text,
            "5 devices properties skipped: no usable CUDA device: none\n\
             2 aliasing properties rejected 1,203 cases: negative strides: no view (aliasing::a 3, aliasing::b 1,200)\n"
        );
    }
}
