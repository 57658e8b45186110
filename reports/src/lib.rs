//! conform's report model and writers: console (progress and summary table), JSON (`report.json`), JUnit and HTML.
//! No libtorch: the harness fills the model, writers only read it.
#![forbid(unsafe_code)]

pub mod console;
pub mod events;
pub mod html;
pub mod junit;
pub mod model;

pub use events::Event;
pub use model::{
    ClaimReport, Counterexample, KnownReport, PropertyReport, Report, Settings, Status, Summary, FORMAT_VERSION,
};

/// The report as pretty JSON, the content of `report.json`.
pub fn to_json(report: &Report) -> String {
    serde_json::to_string_pretty(report).expect("the report model always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn property(name: &str, status: Status) -> PropertyReport {
        PropertyReport {
            name: name.into(),
            family: name.split("::").next().unwrap().into(),
            device: "cpu".into(),
            doc: "what must hold".into(),
            status,
            cases: 100,
            rejects: 2,
            known_hits: 0,
            duration_s: 0.5,
            cases_per_s: 200.0,
            values: 1600,
            values_per_s: 3200.0,
            stopped_by: "all-cases".into(),
            corpus_replayed: 0,
            claims: vec!["not-bitwise-identical".into()],
            counterexample: None,
            known: vec![],
            observations: Default::default(),
            reject_reasons: Default::default(),
            skip_reason: None,
        }
    }

    fn report() -> Report {
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
            conform_version: "0.1.0".into(),
            libtorch_version: "2.11.0".into(),
            tch_version: "0.24.0".into(),
            seed: 7,
            settings: Settings { cases: 100, budget_s: None, max_numel: 64, strict: false },
            duration_s: 1.5,
            summary: Summary::of(&properties),
            claims: vec![ClaimReport {
                id: "c".into(),
                quote: "q".into(),
                checked_as: "inv".into(),
                properties: vec!["roundtrip::a: pass".into()],
            }],
            properties,
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
        let text: String = r.properties.iter().map(console::details).collect();
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
