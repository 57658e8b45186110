//! The `api` family run the way a user runs it — `conform run`, every case in a crash-isolated worker — with an
//! empty corpus and no known deviations: the whole family ends with a complete report that has every api property,
//! each with a verdict earned on cases, and each failure an `api` case of its own function; and libtorch's real
//! segfault (a view tch's safe `f_internal_reshape_alias` returns, read by two more safe calls) is recorded as a
//! crash, shrunk to the same case on every run, replayed from the corpus in a worker, and the run completes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The shrunk case of the SIGSEGV: a 2-element view with stride 2^57 over a one-byte storage.
const SEGFAULT_CALL: &str = r#"{"fn":"f_internal_reshape_alias","size":[2],"stride":[144115188075855872]}"#;

fn dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("corpus")).unwrap();
    std::fs::write(dir.join("known.toml"), "").unwrap();
    dir
}

/// `conform run` with `args`, CI set (no pending files), this test's corpus, known file and output folder.
fn run(dir: &Path, args: &[&str]) -> (Output, String, serde_json::Value) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_conform"));
    cmd.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    for var in ["CONFORM_CASES", "CONFORM_SEED", "CONFORM_BUDGET", "CONFORM_MAX_NUMEL", "CONFORM_OUT", "CONFORM_JOBS"] {
        cmd.env_remove(var);
    }
    let out = cmd
        .env("CI", "1")
        .arg("run")
        .args(args)
        .args(["--quiet", "--out", dir.to_str().unwrap()])
        .args(["--corpus", dir.join("corpus").to_str().unwrap()])
        .args(["--known", dir.join("known.toml").to_str().unwrap()])
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let report = std::fs::read(dir.join("report.json")).unwrap_or_else(|e| panic!("report.json: {e}\n{text}"));
    let report = serde_json::from_slice(&report).unwrap();
    (out, text, report)
}

#[test]
fn the_api_family_runs_in_workers_to_a_complete_report() {
    let out_dir = dir("api-family");
    let (out, text, report) =
        run(&out_dir, &["--family", "api", "--cases", "60", "--budget", "none", "--seed", "7", "--jobs", "2"]);
    // tch 0.24 and libtorch 2.11 have deviations the family finds (see known-deviations.toml): exit 1 here, where
    // none is known; never a crash of the run itself (exit 101, 134, 139) or a usage error (2).
    assert!(matches!(out.status.code(), Some(0 | 1)), "{:?}\n{text}", out.status);
    assert_eq!(report["complete"], true, "{text}");
    let properties = report["properties"].as_array().unwrap();
    assert_eq!(properties.len(), 22, "every api property is reported: {text}");
    for p in properties {
        let name = p["name"].as_str().unwrap();
        assert!(name.starts_with("api::"), "{name}");
        assert!(matches!(p["status"].as_str(), Some("pass" | "fail")), "{name}: {p}");
        assert!(p["cases"].as_u64().unwrap() > 0, "{name} checked cases");
        if p["status"] == "fail" && name != "api::results_read_without_crash" {
            let c = &p["counterexample"];
            assert_eq!(c["case"]["kind"], "api", "{name}: {c}");
            let function = c["case"]["call"]["fn"].as_str().unwrap();
            let short = name.trim_start_matches("api::");
            assert!(short.starts_with(function.trim_start_matches("f_")), "{name} failed on a call of {function}");
            assert!(c["signature"].as_str().unwrap().starts_with(function), "{name}: {c}");
        }
        if name != "api::results_read_without_crash" {
            assert!(!p["observations"].as_object().unwrap().is_empty(), "{name} tallies what each call returned");
        }
    }
}

fn read_property(report: &serde_json::Value) -> &serde_json::Value {
    let properties = report["properties"].as_array().unwrap();
    properties.iter().find(|p| p["name"] == "api::results_read_without_crash").expect("reported")
}

#[test]
fn a_real_segfault_is_recorded_and_shrunk_to_the_same_case_and_the_run_completes() {
    let out_dir = dir("api-segfault");
    let args = ["--property", "api::results_read_without_crash", "--property", "api::zeros_err_or_zeros"];
    let (out, text, report) = run(&out_dir, &[&args[..], &["--cases", "3000", "--budget", "none", "--seed", "31"]].concat());
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_eq!(report["complete"], true);
    let c = &read_property(&report)["counterexample"];
    assert_eq!(c["signature"], "crash: killed by SIGSEGV", "{text}");
    let call: serde_json::Value = serde_json::from_str(SEGFAULT_CALL).unwrap();
    assert_eq!((&c["case"]["call"], &c["case"]["input"]["shape"]), (&call, &serde_json::json!([])), "{c}");
    let zeros = report["properties"].as_array().unwrap().iter().find(|p| p["name"] == "api::zeros_err_or_zeros");
    assert_eq!(zeros.unwrap()["status"], "pass", "the other property ran to the end: {text}");
}

#[test]
fn a_stored_crash_case_replays_in_a_worker() {
    let out_dir = dir("api-segfault-replay");
    let evidence = "corpus/api/results_read_without_crash/afacbfa9591e.json";
    let source = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join(evidence);
    let stored = out_dir.join(evidence);
    std::fs::create_dir_all(stored.parent().unwrap()).unwrap();
    std::fs::copy(&source, &stored).unwrap();
    let args = ["--property", "api::results_read_without_crash", "--cases", "20", "--budget", "none", "--seed", "1"];
    let (out, text, report) = run(&out_dir, &args);
    assert_eq!(out.status.code(), Some(1), "a new deviation here, where none is known: {text}");
    assert_eq!(report["complete"], true);
    let c = &read_property(&report)["counterexample"];
    assert_eq!(c["signature"], "crash: killed by SIGSEGV", "{text}");
    assert!(c["corpus_file"].as_str().is_some_and(|f| f.ends_with("afacbfa9591e.json")), "{c}");
}

#[test]
fn conform_replay_of_a_stored_crash_records_it_instead_of_dying() {
    // The repository's evidence for the segfault, replayed with its known deviation: the worker dies, the replay
    // says the crash reproduces, and `conform replay` itself exits 0 (it used to die of the SIGSEGV, exit 139).
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let out = Command::new(env!("CARGO_BIN_EXE_conform"))
        .current_dir(root)
        .args(["replay", "corpus/api/results_read_without_crash/afacbfa9591e.json"])
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("reproduces") && text.contains("(known deviation: crash: killed by SIGSEGV)"), "{text}");
}
