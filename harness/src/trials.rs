//! The `cargo test` entry's trials (libtest-mimic): one per property and one per corpus file (kind `regression`).
//! A trial fails exactly when the same verdict would fail `conform run` ([`conform_reports::Status::fails`]); a
//! trial that cannot run here (a CUDA property without CUDA) is ignored, and fails with the reason when run anyway
//! (`--include-ignored`), so it never reports `ok` for something that was not checked.

use conform_properties::cuda::CudaStatus;
use conform_properties::Property;
use conform_reports::console;
use libtest_mimic::{Failed, Trial};

use crate::config::RunConfig;
use crate::corpus::{CorpusError, Loaded};
use crate::engine::Engine;
use crate::known::KnownDeviation;
use crate::runner::{self, Isolation, Replay};
use crate::verdict::{replay_with, run_property_with};

thread_local! {
    /// The engine of this test thread (a worker process, with isolation), reused by the trials it runs.
    static ENGINE: std::cell::RefCell<Option<(Isolation, Box<dyn Engine>)>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` with this thread's engine for `isolation`, started on first use.
fn with_engine<R>(isolation: &Isolation, f: impl FnOnce(&mut dyn Engine) -> R) -> R {
    ENGINE.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|(i, _)| i != isolation) {
            *slot = Some((isolation.clone(), isolation.engine()));
        }
        let (_, engine) = slot.as_mut().expect("just set");
        f(engine.as_mut())
    })
}

/// The trial of one property: a search with the run's settings, after its known deviations and corpus cases.
pub fn property_trial(
    property: &Property,
    config: &RunConfig,
    cuda: &CudaStatus,
    known: &[KnownDeviation],
    corpus: &[Loaded],
) -> Trial {
    if let Some(reason) = runner::skip_reason(property, config.device, cuda) {
        let why = format!("cannot run here: {reason}");
        return Trial::test(property.name, move || Err(Failed::from(why))).with_ignored_flag(true);
    }
    let (property, config) = (property.clone(), config.clone());
    let mine: Vec<KnownDeviation> = known.iter().filter(|k| k.property == property.name).cloned().collect();
    let stored: Vec<Loaded> = corpus.iter().filter(|l| l.entry.property == property.name).cloned().collect();
    Trial::test(property.name, move || {
        let (known, stored): (Vec<&KnownDeviation>, Vec<&Loaded>) = (mine.iter().collect(), stored.iter().collect());
        let report = with_engine(&config.isolation, |engine| {
            run_property_with(engine, &property, &config, &known, &stored, None, &mut |_| {})
        });
        match report.status.fails() {
            false => Ok(()),
            true => Err(Failed::from(console::details(&report))),
        }
    })
}

/// The trial of one corpus file: its case replayed against its property. It fails when the file cannot be read,
/// when the case fails in a way no known deviation covers, and when the property rejects the case (a regression
/// case that is not checked protects nothing).
pub fn regression_trial(
    name: String,
    loaded: Result<Loaded, CorpusError>,
    properties: &[Property],
    known: &[KnownDeviation],
    isolation: &Isolation,
) -> Trial {
    let isolation = isolation.clone();
    let trial = match loaded {
        Err(e) => {
            let text = match e.hint() {
                Some(hint) => format!("{e}\n(hint: {hint})"),
                None => e.to_string(),
            };
            Trial::test(name, move || Err(Failed::from(text)))
        }
        Ok(l) => {
            let property = properties.iter().find(|p| p.name == l.entry.property).cloned();
            let mine: Vec<KnownDeviation> = known.iter().filter(|k| k.property == l.entry.property).cloned().collect();
            Trial::test(name, move || {
                let Some(property) = property else {
                    return Err(Failed::from(format!("property `{}` does not exist", l.entry.property)));
                };
                let known: Vec<&KnownDeviation> = mine.iter().collect();
                match with_engine(&isolation, |engine| replay_with(engine, &property, &l.entry.case, &known)) {
                    Replay::Passes | Replay::Known(_) => Ok(()),
                    Replay::Rejected(why) => Err(Failed::from(format!(
                        "the property rejects this case, so it checks nothing: {why}\n(hint: the property's space \
                         no longer covers the case: re-record it with `conform run`, or remove the file)"
                    ))),
                    Replay::Fails(f) => Err(Failed::from(format!(
                        "{} ({})\nrepro: conform replay {}",
                        f.message,
                        f.signature,
                        l.path.display()
                    ))),
                }
            })
        }
    };
    trial.with_kind("regression")
}

#[cfg(test)]
mod tests {
    use conform_generators::{Case, CaseSpace, CorpusEntry, Dtype, TensorCase};
    use conform_properties::{CheckError, DeviceNeed};
    use libtest_mimic::Arguments;

    use super::*;

    fn run(trials: Vec<Trial>) -> libtest_mimic::Conclusion {
        // The inner run's log goes to a file, so that its "test result: FAILED" line cannot be mistaken for this
        // suite's result.
        let log = std::env::temp_dir().join(format!("conform-trials-{}.log", std::process::id()));
        let args = Arguments {
            include_ignored: true,
            quiet: true,
            test_threads: Some(1),
            logfile: Some(log.display().to_string()),
            ..Arguments::default()
        };
        libtest_mimic::run(&args, trials)
    }

    fn config() -> RunConfig {
        RunConfig {
            cases: 10,
            seed: 1,
            budget: None,
            max_numel: 4,
            out_dir: "unused".into(),
            device: crate::config::DeviceChoice::All,
            isolation: Isolation::InProcess,
        }
    }

    #[test]
    fn a_cuda_trial_without_cuda_is_ignored_and_fails_when_included() {
        let cuda = conform_properties::registry().into_iter().find(|p| p.device == DeviceNeed::Cuda).unwrap();
        let trial = property_trial(&cuda, &config(), &CudaStatus::unusable("no GPU in this test"), &[], &[]);
        assert!(trial.has_ignored_flag());
        let conclusion = run(vec![trial]);
        assert_eq!((conclusion.num_passed, conclusion.num_failed), (0, 1));
    }

    #[test]
    fn a_regression_trial_whose_case_is_rejected_fails() {
        let family = conform_properties::roundtrip::FAMILY;
        let rejecting = Property::new(family, "rejects_everything", "planted")
            .tensors(CaseSpace::all)
            .check(|_| Err(CheckError::Reject("not covered".into())));
        let case = Case::Tensor(TensorCase::contiguous(Dtype::U8, &[], vec![1]).unwrap());
        let entry = CorpusEntry::new(rejecting.name, "s", "m", ("2.11.0", "0.24.0"), case);
        let loaded = Loaded { path: "corpus/x.json".into(), entry };
        let trial = regression_trial("x".into(), Ok(loaded), &[rejecting], &[], &Isolation::InProcess);
        let conclusion = run(vec![trial]);
        assert_eq!((conclusion.num_passed, conclusion.num_failed), (0, 1));
    }

    #[test]
    fn a_property_that_checks_nothing_fails_its_trial() {
        let family = conform_properties::roundtrip::FAMILY;
        let rejecting = Property::new(family, "rejects_everything", "planted")
            .tensors(CaseSpace::all)
            .check(|_| Err(CheckError::Reject("not covered".into())));
        let trial = property_trial(&rejecting, &config(), &CudaStatus::unusable("unused"), &[], &[]);
        let conclusion = run(vec![trial]);
        assert_eq!((conclusion.num_passed, conclusion.num_failed), (0, 1));
    }
}
