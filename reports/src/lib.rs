//! conform's report model and writers: console (progress and summary table), JSON (`report.json`), JUnit and HTML,
//! and [`write_all`], which writes the three report files of a run at once; [`merge()`] makes one report of the shards
//! of a run, and [`diff()`] says what changed between two reports.
//! [`claims`] computes the verdict on each of the article's claims from a report's evidence, and [`casts`] reads the
//! cast judges' counts into the cast matrix and error histograms that the HTML draws.
//! No libtorch: the harness fills the model, writers only read it, and no writer calls another (text they share
//! lives in [`text`]).
#![forbid(unsafe_code)]

pub mod casts;
pub mod claims;
pub mod console;
pub mod diff;
pub mod events;
pub mod html;
pub mod junit;
pub mod merge;
pub mod model;
pub mod text;
pub mod write;

pub use diff::{diff, Change, Diff, DiffSummary, PropertyDiff, Side};
pub use events::Event;
pub use merge::{merge, read_report, MergeError, MergeOptions, ReadError, ShardReport};
pub use model::{
    Bearing, ClaimEvidence, ClaimProperty, ClaimReport, ClaimScope, ClaimVerdict, Counterexample, Device, KnownReport,
    PropertyReport, Report, Reproduction, Settings, Status, StoppedBy, Summary, FORMAT_VERSION, VACUOUS_REJECT_SHARE,
};
pub use write::{check_out_dir, write_all, WriteError, Written};

/// The report as pretty JSON, the content of `report.json`.
pub fn to_json(report: &Report) -> String {
    serde_json::to_string_pretty(report).expect("the report model always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn property(name: &str, status: Status) -> PropertyReport {
        PropertyReport {
            name: name.into(),
            family: name.split("::").next().unwrap().into(),
            device: Device::Cpu,
            doc: "what must hold".into(),
            status,
            cases: 100,
            rejects: 2,
            known_hits: 0,
            skipped: 0,
            duration_s: 0.5,
            cases_per_s: 200.0,
            values: 1600,
            values_per_s: 3200.0,
            stopped_by: StoppedBy::AllCases,
            corpus_replayed: 0,
            claims: vec!["not-bitwise-identical".into()],
            counterexample: None,
            known: vec![],
            observations: Default::default(),
            reject_reasons: Default::default(),
            skip_reason: None,
            vacuous_reason: None,
        }
    }

    /// A report with one property of each interesting kind, shared by the writers' tests.
    pub(crate) fn report() -> Report {
        let mut failing = property("roundtrip::b", Status::Fail);
        failing.counterexample = Some(Counterexample {
            case: serde_json::json!({"dtype": "f32", "shape": [], "strides": [], "offset": 0, "storage": ["0x80000000 = -0.0"]}),
            message: "out[] bits=0x00000000 (0.0) but the array has 0x80000000 (-0.0)".into(),
            signature: "x: bits of a negative-zero element changed".into(),
            cases_before_failure: 37,
            shrink_steps: 12,
            repro: "conform run --property roundtrip::b --seed 7".into(),
            corpus_file: None,
        });
        let mut stale = property("dtype::c", Status::Fixed);
        stale.known.push(KnownReport {
            signature: "tch refused".into(),
            reason: "tch needs standard layout".into(),
            reproduced: false,
            replay_message: "passed".into(),
        });
        let properties = vec![property("roundtrip::a", Status::Pass), failing, stale];
        Report {
            format_version: FORMAT_VERSION,
            run_id: "7-test".into(),
            complete: true,
            conform_version: "0.1.0".into(),
            libtorch_version: "2.11.0".into(),
            tch_version: "0.24.0".into(),
            seed: 7,
            settings: Settings { cases: 100, budget_s: None, max_numel: 64 },
            duration_s: 1.5,
            summary: Summary::of(&properties),
            claims: vec![claims::settle(
                ClaimReport {
                    id: "c".into(),
                    quote: "q".into(),
                    checked_as: "inv".into(),
                    properties: vec![ClaimProperty { name: "roundtrip::a".into(), status: Status::Pass }],
                    ..Default::default()
                },
                &properties,
            )],
            properties,
            reproductions: Vec::new(),
        }
    }

    #[test]
    fn summary_table_snapshot() {
        insta::assert_snapshot!(console::summary_table(&report()));
    }

    #[test]
    fn claims_snapshot() {
        insta::assert_snapshot!(console::claims(&report()));
    }

    #[test]
    fn details_snapshot() {
        let r = report();
        let text: String = r.properties.iter().map(text::details).collect();
        insta::assert_snapshot!(text);
    }

    #[test]
    fn json_round_trips_and_snapshot() {
        let r = report();
        let json = to_json(&r);
        assert_eq!(serde_json::from_str::<Report>(&json).unwrap(), r);
        insta::assert_snapshot!(json);
    }

    #[test]
    fn json_of_format_2_has_run_id_and_complete() {
        let json: serde_json::Value = serde_json::from_str(&to_json(&report())).unwrap();
        assert_eq!(json["format_version"], 2);
        assert_eq!(json["run_id"], "7-test");
        assert_eq!(json["complete"], true);
        assert_eq!(json["claims"][0]["properties"][0], serde_json::json!({"name": "roundtrip::a", "status": "pass"}));
    }

    #[test]
    fn a_report_without_complete_reads_as_complete() {
        let mut json: serde_json::Value = serde_json::from_str(&to_json(&report())).unwrap();
        json.as_object_mut().unwrap().remove("complete");
        assert!(serde_json::from_value::<Report>(json).unwrap().complete);
    }

    #[test]
    fn an_incomplete_run_says_so_in_html_and_junit() {
        let mut r = report();
        r.complete = false;
        assert!(html::to_html(&r).contains("Incomplete"));
        assert!(junit::to_junit(&r).unwrap().contains(r#"<property name="complete" value="false"/>"#));
    }

    #[test]
    fn html_snapshot_escapes_what_it_shows() {
        let mut r = report();
        r.properties[0].doc = "<script>".into();
        r.claims[0].quote = "a < b & c".into();
        let page = html::to_html(&r);
        assert!(page.contains("a &lt; b &amp; c") && !page.contains("a < b"));
        insta::assert_snapshot!(page);
    }

    #[test]
    fn junit_snapshot() {
        insta::assert_snapshot!(junit::to_junit(&report()).unwrap());
    }
}
