//! The `conform` binary exercised the way a user types it: exit codes, report.json, and error messages.

use std::path::PathBuf;
use std::process::{Command, Output};

fn conform(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_conform"));
    cmd.args(args).current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    for var in [
        "CI",
        "CONFORM_DEVICE",
        "CONFORM_CASES",
        "CONFORM_SEED",
        "CONFORM_BUDGET",
        "CONFORM_MAX_NUMEL",
        "CONFORM_OUT",
        "CONFORM_KNOWN",
        "CONFORM_CORPUS",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("conform runs")
}

fn out_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn list_names_every_property() {
    let out = conform(&["list"], &[]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().any(|l| l == "roundtrip::copying_conversion_bit_exact"), "{stdout}");
    assert!(stdout.lines().any(|l| l == "dtype::tch_array_kind_preserved"), "{stdout}");
    let family = conform(&["list", "--family", "dtype"], &[]);
    assert!(String::from_utf8_lossy(&family.stdout).lines().all(|l| l.starts_with("dtype::")));
}

#[test]
fn run_writes_the_report_and_exits_zero_with_only_known_deviations() {
    let dir = out_dir("run-ok");
    let out = conform(
        &["run", "--cases", "200", "--seed", "7", "--budget", "2m", "--quiet", "--out", dir.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("property") && text(&out).contains("cases/s"), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    for field in ["format_version", "libtorch_version", "tch_version", "seed"] {
        assert!(!report[field].is_null(), "report.json lacks {field}");
    }
    assert_eq!(report["seed"], 7);
    assert_eq!(report["libtorch_version"], "2.11.0");
    let properties = report["properties"].as_array().unwrap();
    assert!(properties.len() >= 5);
    for p in properties {
        for field in ["name", "family", "device", "status", "cases", "rejects", "duration_s"] {
            assert!(!p[field].is_null(), "{} lacks {field}", p["name"]);
        }
    }
    assert!(dir.join("junit.xml").exists());
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("<td>dtype::tch_array_kind_preserved</td>"), "{html}");
}

#[test]
fn a_new_deviation_goes_pending_then_into_the_corpus_and_replays_identically() {
    // Without known deviations and with an empty corpus, tch's bf16 kind bug is a new deviation found by search.
    let dir = out_dir("corpus-flow");
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    let corpus = dir.join("corpus");
    let (c, k, o) = (corpus.to_str().unwrap(), empty.to_str().unwrap(), dir.join("out"));
    let args = ["run", "--property", "dtype::tch_array_kind_preserved", "--cases", "2000", "--seed", "1", "--quiet"];
    let run = conform(&[&args[..], &["--known", k, "--corpus", c, "--out", o.to_str().unwrap()]].concat(), &[]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    assert!(
        text(&run).contains("minimal failing input: {\"kind\":\"tensor\",\"dtype\":\"bf16\",\"shape\":[]"),
        "{}",
        text(&run)
    );
    assert!(
        text(&run).contains("repro: conform run --property dtype::tch_array_kind_preserved --seed 1"),
        "{}",
        text(&run)
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(o.join("report.json")).unwrap()).unwrap();
    let p = &report["properties"][0];
    assert_eq!(p["status"], "fail");
    assert_eq!(p["counterexample"]["case"]["dtype"], "bf16");

    // The failure is pending, not in the corpus; review shows it; CI would not have written it.
    let review = conform(&["review", "--corpus", c], &[]);
    assert!(
        text(&review).contains("1 pending file(s)")
            && text(&review).contains("signature: tch TryFrom<&ArrayView>: wrong tensor kind"),
        "{}",
        text(&review)
    );
    let ci = conform(
        &[&args[..], &["--known", k, "--corpus", dir.join("ci").to_str().unwrap(), "--out", o.to_str().unwrap()]]
            .concat(),
        &[("CI", "true")],
    );
    assert!(text(&ci).contains("no pending file written"), "{}", text(&ci));
    assert!(!dir.join("ci").exists());

    // Accepted, it replays identically, fails `conform run` from the corpus, and is `known` once recorded.
    let accept = conform(&["accept", "--all", "--corpus", c], &[]);
    assert_eq!(accept.status.code(), Some(0), "{}", text(&accept));
    let replay = conform(&["replay", "--corpus", c, "--known", k], &[]);
    assert_eq!(replay.status.code(), Some(1), "{}", text(&replay));
    assert!(
        text(&replay).contains("FAILS identically (tch TryFrom<&ArrayView>: wrong tensor kind)"),
        "{}",
        text(&replay)
    );
    let again = conform(&[&args[..], &["--known", k, "--corpus", c, "--out", o.to_str().unwrap()]].concat(), &[]);
    assert!(text(&again).contains("repro: conform replay"), "{}", text(&again));
    let file =
        std::fs::read_dir(corpus.join("dtype/tch_array_kind_preserved")).unwrap().next().unwrap().unwrap().path();
    let known = dir.join("known.toml");
    let evidence = file.strip_prefix(&dir).unwrap().display().to_string();
    std::fs::write(&known, format!("[[deviation]]\nproperty = \"dtype::tch_array_kind_preserved\"\nsignature = \"tch TryFrom<&ArrayView>: wrong tensor kind\"\nreason = \"tch 0.24 tags bf16 as Half\"\nevidence = \"{evidence}\"\n")).unwrap();
    let known_replay = conform(&["replay", "--corpus", c, "--known", known.to_str().unwrap()], &[]);
    assert_eq!(known_replay.status.code(), Some(0), "{}", text(&known_replay));
    assert!(text(&known_replay).contains("reproduces identically (known deviation"), "{}", text(&known_replay));
    let known_run = conform(
        &[&args[..], &["--known", known.to_str().unwrap(), "--corpus", c, "--out", o.to_str().unwrap()]].concat(),
        &[],
    );
    assert_eq!(known_run.status.code(), Some(0), "{}", text(&known_run));
}

#[test]
fn bad_corpus_files_are_named_and_the_others_still_replay() {
    let dir = out_dir("bad-corpus");
    let corpus = dir.join("corpus/dtype/tch_array_kind_preserved");
    std::fs::create_dir_all(&corpus).unwrap();
    let good = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/dtype/tch_array_kind_preserved"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text_of_good = std::fs::read_to_string(&good).unwrap();
    std::fs::write(corpus.join("good.json"), &text_of_good).unwrap();
    std::fs::write(corpus.join("truncated.json"), &text_of_good[..40]).unwrap();
    std::fs::write(corpus.join("dtype.json"), text_of_good.replace("\"bf16\"", "\"bf17\"")).unwrap();
    std::fs::write(corpus.join("outside.json"), text_of_good.replace("\"offset\": 0", "\"offset\": 5")).unwrap();
    std::fs::write(corpus.join("newer.json"), text_of_good.replace("\"format_version\": 2", "\"format_version\": 9"))
        .unwrap();
    // Evidence must lie in the corpus in use, so this corpus gets its own known-deviations file.
    let known = dir.join("known.toml");
    std::fs::write(&known, "[[deviation]]\nproperty = \"dtype::tch_array_kind_preserved\"\nsignature = \"tch TryFrom<&ArrayView>: wrong tensor kind\"\nreason = \"r\"\nevidence = \"corpus/dtype/tch_array_kind_preserved/good.json\"\n").unwrap();
    let out =
        conform(&["replay", "--corpus", dir.join("corpus").to_str().unwrap(), "--known", known.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("dtype.json: ERROR") && t.contains("unknown variant `bf17`"), "{t}");
    assert!(
        t.contains("outside.json: ERROR") && t.contains("addresses storage elements 5..=5 but the storage holds 1"),
        "{t}"
    );
    assert!(t.contains("newer.json: ERROR") && t.contains("format_version 9 is newer than the 2"), "{t}");
    assert!(t.contains("truncated.json: ERROR") && t.contains("EOF while parsing"), "{t}");
    assert_eq!(t.matches("truncated.json").count(), 1, "each bad file is named once: {t}");
    assert!(t.contains("good.json: dtype::tch_array_kind_preserved reproduces identically (known deviation"), "{t}");
}

#[test]
fn bad_settings_exit_two_and_say_what_to_fix() {
    let flag = conform(&["run", "--cases", "ten"], &[]);
    assert_eq!(flag.status.code(), Some(2));
    assert!(text(&flag).contains("invalid value 'ten' for '--cases <N>'"), "{}", text(&flag));
    let var = conform(&["run", "--quiet"], &[("CONFORM_CASES", "0")]);
    assert_eq!(var.status.code(), Some(2));
    assert!(text(&var).contains("invalid CONFORM_CASES `0`: must be at least 1"), "{}", text(&var));
    let budget = conform(&["run", "--quiet"], &[("CONFORM_BUDGET", "90")]);
    assert!(text(&budget).contains("invalid CONFORM_BUDGET `90`: missing unit"), "{}", text(&budget));
    let flag_budget = conform(&["run", "--budget", "soon"], &[]);
    assert_eq!(flag_budget.status.code(), Some(2));
    assert!(
        text(&flag_budget).contains("invalid --budget `soon`: expected a number followed by a unit"),
        "{}",
        text(&flag_budget)
    );
    let property = conform(&["run", "--property", "nope::x"], &[]);
    assert_eq!(property.status.code(), Some(2));
    assert!(text(&property).contains("unknown property `nope::x`"), "{}", text(&property));
    let family = conform(&["list", "--family", "nope"], &[]);
    assert_eq!(family.status.code(), Some(2));
    assert!(
        text(&family).contains("invalid value 'nope' for '--family <F>'")
            && text(&family).contains("[possible values: roundtrip, dtype, aliasing, casts, devices, metamorphic, files, api]"),
        "{}",
        text(&family)
    );
    let var = conform(&["run", "--quiet"], &[("CONFORM_CASES", "0")]);
    assert!(text(&var).contains(&format!("\n(hint: {})", conform_harness::config::CASES_HINT)), "{}", text(&var));
}

#[test]
fn a_bad_known_deviations_file_is_a_usage_error() {
    let dir = out_dir("bad-known");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("kd.toml");
    std::fs::write(
        &file,
        "[[deviation]]\nproperty = \"nope::x\"\nsignature = \"s\"\nreason = \"r\"\nevidence = \"corpus/x.json\"\n",
    )
    .unwrap();
    let out = conform(&["run", "--quiet", "--known", file.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("deviation #1 names property `nope::x`, which does not exist"), "{}", text(&out));
}

#[test]
fn cuda_properties_skip_with_a_reason_and_device_cuda_explains_why_not() {
    let dir = out_dir("devices");
    let all = conform(
        &["run", "--family", "devices", "--device", "all", "--cases", "10", "--quiet", "--out", dir.to_str().unwrap()],
        &[],
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    let cuda_usable = report["properties"][0]["status"] != "skip";
    if cuda_usable {
        return; // On a GPU machine the properties run; scripts/gpu-check.sh covers that case.
    }
    assert_eq!(all.status.code(), Some(0), "{}", text(&all));
    for p in report["properties"].as_array().unwrap() {
        assert_eq!(p["status"], "skip", "{}", p["name"]);
        assert!(p["skip_reason"].as_str().unwrap().starts_with("no usable CUDA device: "), "{}", p["skip_reason"]);
    }
    let cuda = conform(&["run", "--device", "cuda", "--quiet"], &[]);
    assert_eq!(cuda.status.code(), Some(2), "{}", text(&cuda));
    assert!(
        text(&cuda).contains("--device cuda, but CUDA is not usable: ") && text(&cuda).contains("(hint: "),
        "{}",
        text(&cuda)
    );
    let cpu =
        conform(&["run", "--family", "devices", "--device", "cpu", "--quiet", "--out", dir.to_str().unwrap()], &[]);
    assert!(text(&cpu).contains("devices::cuda_round_trip_bit_exact") && text(&cpu).contains("skip"), "{}", text(&cpu));
}

#[test]
fn a_run_that_checked_nothing_fails_and_names_the_properties() {
    // 1 ms shared by 26 CPU properties leaves each too little to check a case.
    let dir = out_dir("vacuous");
    let out = conform(&["run", "--budget", "1ms", "--seed", "3", "--quiet", "--out", dir.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    let vacuous: Vec<&serde_json::Value> =
        report["properties"].as_array().unwrap().iter().filter(|p| p["status"] == "vacuous").collect();
    assert!(!vacuous.is_empty(), "{report}");
    for p in &vacuous {
        assert_eq!(p["cases"].as_u64(), p["rejects"].as_u64(), "a vacuous property checked no case: {p}");
        assert!(p["vacuous_reason"].as_str().unwrap().starts_with("checked no case"), "{p}");
        let named = format!("{} VACUOUS: checked no case", p["name"].as_str().unwrap());
        assert!(text(&out).contains(&named), "{}", text(&out));
    }
    for p in report["properties"].as_array().unwrap() {
        if p["status"] == "pass" || p["status"] == "known" {
            assert!(p["cases"].as_u64() > p["rejects"].as_u64(), "a pass must have checked a case: {p}");
        }
    }
    assert!(report["summary"]["vacuous"].as_u64().unwrap() > 0);
}
