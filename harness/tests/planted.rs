//! The corpus and known-deviation life cycle on a planted defect: a defective conversion fails and is shrunk, the
//! case goes pending and then into the corpus, replays identically, is `known` once recorded, and turns `fixed`
//! when the defect is reverted.

use std::sync::atomic::{AtomicBool, Ordering};

use conform_generators::{CaseSpace, CorpusEntry, Dtype};
use conform_harness::config::RunConfig;
use conform_harness::corpus::Corpus;
use conform_harness::known::KnownDeviation;
use conform_harness::runner::{self, Replay};
use conform_properties::convert::{ToArray, ToTensor};
use conform_properties::roundtrip::{round_trip_bit_exact, FAMILY};
use conform_properties::Property;
use conform_reports::Status;

static DEFECT: AtomicBool = AtomicBool::new(true);

/// Round trip through a tensor → array conversion that drops -0.0 while `DEFECT` is set.
fn planted() -> Property {
    let to_array = ToArray {
        name: "drops -0.0",
        run: Box::new(|t, dtype| {
            let mut out = (ToArray::copying().run)(t, dtype)?;
            if DEFECT.load(Ordering::SeqCst) {
                let sign = dtype.float_format().map_or(0, |f| f.sign_bit());
                out.bits.iter_mut().filter(|b| sign != 0 && **b == sign).for_each(|b| *b = 0);
            }
            Ok(out)
        }),
    };
    let to_tensor = ToTensor::copying();
    Property::new(FAMILY, "planted_negative_zero", "planted defect")
        .tensors(|n| CaseSpace::all(n).with_dtypes(&[Dtype::F32, Dtype::F64]))
        .check(move |case| round_trip_bit_exact(case, &to_tensor, &to_array))
}

#[test]
fn planted_defect_life_cycle() {
    let property = planted();
    let names = [property.name];
    let root = std::env::temp_dir().join(format!("conform-planted-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let store = Corpus::new(root.join("corpus"));
    let config = RunConfig {
        cases: 2000,
        seed: 3,
        budget: None,
        max_numel: 64,
        out_dir: root.join("out"),
        device: conform_harness::config::DeviceChoice::All,
        isolation: conform_harness::runner::Isolation::InProcess,
    };

    // 1. A run finds and shrinks it.
    let report = runner::run_property(&property, &config, &[], &[], None, &mut |_| {});
    assert_eq!(report.status, Status::Fail);
    let found = report.counterexample.expect("a counterexample");
    assert!(found.case["shape"].as_array().unwrap().is_empty(), "shrunk to 0-d: {}", found.case);
    assert!(found.message.contains("(-0.0)"), "{}", found.message);

    // 2. It is written as pending, then accepted into the corpus.
    let case = serde_json::from_value(found.case.clone()).unwrap();
    let entry = CorpusEntry::new(property.name, &found.signature, &found.message, ("2.11.0", "0.24.0"), case);
    let pending = store.write_pending(&entry, false).unwrap().expect("written");
    assert!(store.accepted().is_empty());
    let accepted = store.accept(&pending, &names).unwrap();
    let (loaded, errors) = store.load_accepted(&names);
    assert!(errors.is_empty());
    assert_eq!(loaded[0].path, accepted);

    // 3. Replay reproduces it identically, and a run fails from the corpus before any search.
    match runner::replay(&property, &loaded[0].entry.case, &[]) {
        Replay::Fails(f) => assert_eq!((f.message, f.signature), (found.message.clone(), found.signature.clone())),
        other => panic!("expected the failure again, got {other:?}"),
    }
    let from_corpus = runner::run_property(&property, &config, &[], &[&loaded[0]], None, &mut |_| {});
    assert_eq!((from_corpus.status, from_corpus.cases), (Status::Fail, 0));
    assert_eq!(from_corpus.counterexample.unwrap().repro, format!("conform replay {}", accepted.display()));

    // 4. Recorded as a known deviation, the run is `known`.
    let known = KnownDeviation {
        property: property.name.into(),
        signature: found.signature.clone(),
        reason: "planted".into(),
        evidence_path: accepted.clone(),
        evidence: loaded[0].entry.case.clone(),
    };
    let with_known = runner::run_property(&property, &config, &[&known], &[&loaded[0]], None, &mut |_| {});
    assert_eq!(with_known.status, Status::Known);
    assert!(with_known.known[0].reproduced);

    // 5. Reverting the defect turns it `fixed`, and the corpus case passes.
    DEFECT.store(false, Ordering::SeqCst);
    let reverted = runner::run_property(&property, &config, &[&known], &[&loaded[0]], None, &mut |_| {});
    assert_eq!(reverted.status, Status::Fixed);
    assert_eq!(reverted.known[0].replay_message, "the evidence case passes now");
    assert_eq!(runner::replay(&property, &loaded[0].entry.case, &[&known]), Replay::Passes);
}
