//! JUnit XML for CI systems: one test case per property, failures carrying the counterexample; the suite's
//! properties carry the run id (the same as in report.json and report.html) and whether the run completed.

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

use crate::model::{Report, Status};
use crate::text;

pub fn to_junit(report: &Report) -> Result<String, quick_junit::SerializeError> {
    let mut junit = JunitReport::new("conform");
    let mut suite = TestSuite::new("conform");
    suite.add_property(("run_id", report.run_id.as_str()));
    suite.add_property(("complete", if report.complete { "true" } else { "false" }));
    for p in &report.properties {
        let status = match p.status {
            Status::Pass | Status::Known => TestCaseStatus::success(),
            Status::Skip => {
                let mut s = TestCaseStatus::skipped();
                if let Some(why) = &p.skip_reason {
                    s.set_message(why.as_str());
                }
                s
            }
            Status::Fail | Status::Fixed | Status::Vacuous => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(p.status.label());
                s.set_description(text::details(p));
                s
            }
        };
        let mut case = TestCase::new(p.name.as_str(), status);
        case.set_classname(p.family.as_str());
        case.set_time(std::time::Duration::from_secs_f64(p.duration_s.max(0.0)));
        suite.add_test_case(case);
    }
    junit.add_test_suite(suite);
    junit.to_string()
}
