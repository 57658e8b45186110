//! Console output: a progress bar per property while the run goes (from events), then the summary table and the
//! account of each failure (from the report).

use std::fmt::Write as _;

use indicatif::{ProgressBar, ProgressStyle};

use crate::events::Event;
use crate::model::Report;

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

/// The article's claims with the invariant conform checks for each and the statuses of those properties.
pub fn claims(report: &Report) -> String {
    let mut out = String::new();
    for c in &report.claims {
        let _ = writeln!(out, "claim {}: \"{}\"", c.id, c.quote);
        let _ = writeln!(out, "  checked as: {}", c.checked_as);
        for p in &c.properties {
            let _ = writeln!(out, "  {}: {}", p.name, p.status.label());
        }
    }
    out
}

/// One line per property that tabulated implementation-defined behaviour (the table itself is in report.json), and
/// one per reason cases were rejected.
pub fn observations(report: &Report) -> String {
    let mut out = String::new();
    for p in &report.properties {
        for (why, n) in &p.reject_reasons {
            let _ = writeln!(out, "{}: {n} rejected: {}", p.name, why.lines().next().unwrap_or_default());
        }
    }
    for p in report.properties.iter().filter(|p| !p.observations.is_empty()) {
        let _ = writeln!(
            out,
            "{}: {} behaviours tabulated, not judged (report.json: properties[].observations)",
            p.name,
            p.observations.len()
        );
    }
    out
}

/// The plain-text account of one property that did not pass; it lives in [`crate::text`], shared by every writer.
pub use crate::text::details;

/// Draws one progress bar per property from the runner's events; hidden when stderr is not a terminal.
#[derive(Default)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn handle(&mut self, event: &Event<'_>) {
        match *event {
            Event::RunStarted { properties, seed, cases } => {
                eprintln!("conform: {properties} properties, up to {cases} cases each, seed {seed}");
            }
            Event::PropertyStarted { name, cases } => {
                let bar = ProgressBar::new(cases as u64);
                bar.set_style(
                    ProgressStyle::with_template("{msg:48} [{bar:30}] {pos:>6}/{len:6} {per_sec:>12}")
                        .expect("valid template")
                        .progress_chars("=> "),
                );
                bar.set_message(name.to_string());
                self.bar = Some(bar);
            }
            Event::CaseFinished { done, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_position(done as u64);
                }
            }
            Event::PropertyFinished { report } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                eprintln!(
                    "{:<48} {:<6} {:>7} cases {:>7.2}s",
                    report.name,
                    report.status.label(),
                    report.cases,
                    report.duration_s
                );
            }
            Event::RunFinished { .. } => {}
        }
    }
}
