//! JUnit XML for CI systems: one test case per property. A pass says how many cases held; a known deviation is a
//! pass whose `known-deviation` properties and system-out name each tolerated signature, its reason and its replay;
//! a skip carries its reason; a failure carries the counterexample's message, its signature and repro command (as
//! properties) and the full account. The suite's properties carry the run id (the same as in report.json and
//! report.html), whether the run completed, and each claim's verdict.

use std::fmt::Write as _;

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

use crate::model::{Report, Status};
use crate::text;

pub fn to_junit(report: &Report) -> Result<String, quick_junit::SerializeError> {
    let mut junit = JunitReport::new("conform");
    let mut suite = TestSuite::new("conform");
    suite.add_property(("run_id", report.run_id.as_str()));
    suite.add_property(("complete", if report.complete { "true" } else { "false" }));
    for c in &report.claims {
        let verdict = c.verdict.map_or("-", |v| v.label());
        suite.add_property((format!("claim {}", c.id).as_str(), format!("{verdict}: {}", c.because).as_str()));
    }
    for p in &report.properties {
        let mut properties: Vec<(String, String)> = vec![("status".into(), p.status.label().into())];
        let mut system_out = None;
        let status = match p.status {
            Status::Pass => {
                system_out =
                    Some(format!("held in {} cases ({} rejected)", p.cases.saturating_sub(p.rejects), p.rejects));
                TestCaseStatus::success()
            }
            // A known deviation passes the run, but says which deviations it tolerated and that each reproduces.
            Status::Known => {
                let mut text = String::new();
                for k in &p.known {
                    properties.push(("known-deviation".into(), k.signature.clone()));
                    let _ = writeln!(
                        text,
                        "known deviation: {}\n  reason: {}\n  evidence replayed: {}",
                        k.signature, k.reason, k.replay_message
                    );
                }
                let _ = writeln!(text, "{} of {} cases hit a known deviation", p.known_hits, p.cases);
                system_out = Some(text);
                TestCaseStatus::success()
            }
            Status::Skip => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(p.skip_reason.as_deref().unwrap_or("skipped"));
                s
            }
            Status::Fail | Status::Fixed | Status::Vacuous => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let message = match (&p.counterexample, &p.vacuous_reason) {
                    (Some(c), _) => c.message.clone(),
                    (None, Some(why)) => why.clone(),
                    (None, None) => text::details(p).lines().next().unwrap_or_default().to_string(),
                };
                s.set_message(message.as_str());
                s.set_type(p.status.label());
                s.set_description(text::details(p));
                if let Some(c) = &p.counterexample {
                    properties.push(("signature".into(), c.signature.clone()));
                    properties.push(("repro".into(), c.repro.clone()));
                }
                s
            }
        };
        let mut case = TestCase::new(p.name.as_str(), status);
        case.set_classname(p.family.as_str());
        case.set_time(std::time::Duration::from_secs_f64(p.duration_s.max(0.0)));
        for (name, value) in &properties {
            case.add_property((name.as_str(), value.as_str()));
        }
        if let Some(out) = system_out {
            case.set_system_out(out);
        }
        suite.add_test_case(case);
    }
    junit.add_test_suite(suite);
    junit.to_string()
}

#[cfg(test)]
mod tests {
    use crate::model::{KnownReport, Status};

    /// A known deviation is a pass that names what it tolerated; a skip says why; a failure carries its message
    /// and repro.
    #[test]
    fn known_is_a_pass_with_its_signatures_and_a_skip_has_its_reason() {
        let mut r = crate::tests::report();
        let mut known = crate::tests::property("casts::k", Status::Known);
        known.known_hits = 4;
        known.known.push(KnownReport {
            signature: "to_kind(f64→f16) not correctly rounded".into(),
            reason: "double rounding through float".into(),
            reproduced: true,
            replay_message: "out[] bits=0x4002".into(),
        });
        let mut skip = crate::tests::property("devices::s", Status::Skip);
        skip.skip_reason = Some("no usable CUDA device: none".into());
        r.properties.extend([known, skip]);
        let xml = super::to_junit(&r).unwrap();
        let case = |name: &str| {
            let start = xml.find(&format!(r#"<testcase name="{name}""#)).unwrap();
            xml[start..start + xml[start..].find("</testcase>").unwrap()].to_string()
        };
        let k = case("casts::k");
        assert!(!k.contains("<failure") && !k.contains("<skipped"), "{k}");
        assert!(
            k.contains(r#"<property name="known-deviation" value="to_kind(f64→f16) not correctly rounded"/>"#),
            "{k}"
        );
        assert!(k.contains("<system-out>known deviation: to_kind(f64→f16) not correctly rounded"), "{k}");
        assert!(k.contains("reason: double rounding through float") && k.contains("4 of 100 cases"), "{k}");
        assert!(
            case("devices::s").contains(r#"<skipped message="no usable CUDA device: none"/>"#),
            "{}",
            case("devices::s")
        );
        let f = case("roundtrip::b");
        assert!(
            f.contains(r#"<failure message="out[] bits=0x00000000 (0.0) but the array has 0x80000000 (-0.0)""#),
            "{f}"
        );
        assert!(f.contains(r#"<property name="repro" value="conform run --property roundtrip::b --seed 7"/>"#), "{f}");
    }
}
