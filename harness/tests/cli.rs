//! The `conform` binary exercised the way a user types it: exit codes, report.json, and error messages.

use std::path::PathBuf;
use std::process::{Command, Output};

fn conform(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_conform"));
    cmd.args(args).current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    for var in ["CONFORM_CASES", "CONFORM_SEED", "CONFORM_BUDGET", "CONFORM_MAX_NUMEL", "CONFORM_OUT", "CONFORM_KNOWN"] {
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
    let out = conform(&["run", "--cases", "200", "--seed", "7", "--budget", "2m", "--quiet", "--out", dir.to_str().unwrap()], &[]);
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
}

#[test]
fn a_new_deviation_exits_one_with_a_counterexample() {
    // Without the known-deviations file, tch's bf16 kind bug is a new deviation.
    let dir = out_dir("run-fail");
    let empty = dir.with_extension("toml");
    std::fs::write(&empty, "").unwrap();
    let args = ["run", "--property", "dtype::tch_array_kind_preserved", "--cases", "2000", "--seed", "1", "--quiet"];
    let out = conform(&[&args[..], &["--known", empty.to_str().unwrap(), "--out", dir.to_str().unwrap()]].concat(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("minimal failing input: {\"dtype\":\"bf16\",\"shape\":[]"), "{}", text(&out));
    assert!(text(&out).contains("repro: conform run --property dtype::tch_array_kind_preserved --seed 1"), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    let p = &report["properties"][0];
    assert_eq!(p["status"], "fail");
    assert_eq!(p["counterexample"]["case"]["dtype"], "bf16");
    assert!(p["counterexample"]["repro"].as_str().unwrap().starts_with("conform run"));
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
    assert!(text(&flag_budget).contains("invalid --budget `soon`: expected a number followed by a unit"), "{}", text(&flag_budget));
    let property = conform(&["run", "--property", "nope::x"], &[]);
    assert_eq!(property.status.code(), Some(2));
    assert!(text(&property).contains("unknown property `nope::x`"), "{}", text(&property));
    let family = conform(&["list", "--family", "nope"], &[]);
    assert!(text(&family).contains("unknown family `nope`\n(hint: families are roundtrip, dtype, aliasing, casts)"), "{}", text(&family));
}

#[test]
fn a_bad_known_deviations_file_is_a_usage_error() {
    let dir = out_dir("bad-known");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("kd.toml");
    std::fs::write(&file, "[[deviation]]\nproperty = \"nope::x\"\nsignature = \"s\"\nreason = \"r\"\nevidence = { dtype = \"u8\", shape = [], strides = [], offset = 0, storage = [\"0x00\"] }\n").unwrap();
    let out = conform(&["run", "--quiet", "--known", file.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("deviation #1 names property `nope::x`, which does not exist"), "{}", text(&out));
}
