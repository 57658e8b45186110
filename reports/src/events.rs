//! Events the runner emits while it works; reporters (progress bars, logs) consume them and never call back.

use crate::model::{PropertyReport, Report};

#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    RunStarted {
        properties: usize,
        seed: u64,
        cases: u32,
    },
    PropertyStarted {
        name: &'a str,
        cases: u32,
    },
    /// A generated case was checked; `done` counts them for this property.
    CaseFinished {
        name: &'a str,
        done: u32,
    },
    PropertyFinished {
        report: &'a PropertyReport,
    },
    RunFinished {
        report: &'a Report,
    },
}
