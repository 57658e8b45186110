//! Crash isolation, tried the way it happens: a check that aborts the process, a check that never returns, a worker
//! killed from outside, and the parent killed at random moments. Each run must end (or be left) with a report.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn conform(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_conform"));
    cmd.args(args).current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    for var in ["CONFORM_CASES", "CONFORM_SEED", "CONFORM_BUDGET", "CONFORM_MAX_NUMEL", "CONFORM_OUT", "CONFORM_JOBS"] {
        cmd.env_remove(var);
    }
    // CI: no pending corpus files; the self-test family adds the planted crashes.
    cmd.env("CI", "1").env("CONFORM_SELF_TEST", "1");
    cmd
}

/// A fresh folder with an empty corpus and an empty known-deviations file (`corpus/`, `known.toml`), so that these
/// runs neither read nor write the repository's.
fn dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("corpus")).unwrap();
    std::fs::write(dir.join("known.toml"), "").unwrap();
    dir
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn report(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("report.json")).expect("report.json exists"))
        .expect("report.json parses")
}

fn property<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["properties"].as_array().unwrap().iter().find(|p| p["name"] == name).expect("the property is reported")
}

#[test]
fn a_planted_abort_is_recorded_shrunk_and_the_run_completes() {
    let out_dir = dir("abort");
    let out = conform(&[
        "run",
        "--property",
        "selftest::aborts_on_large_values",
        "--property",
        "roundtrip::copying_conversion_bit_exact",
        "--cases",
        "300",
        "--seed",
        "1",
        "--budget",
        "none",
        "--jobs",
        "2",
        "--quiet",
        "--out",
        out_dir.to_str().unwrap(),
        "--corpus",
        out_dir.join("corpus").to_str().unwrap(),
        "--known",
        out_dir.join("known.toml").to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let r = report(&out_dir);
    assert_eq!(r["complete"], true);
    let aborts = property(&r, "selftest::aborts_on_large_values");
    assert_eq!(aborts["status"], "fail", "{aborts}");
    let c = &aborts["counterexample"];
    assert_eq!(c["signature"], "crash: killed by SIGABRT", "{c}");
    assert_eq!(c["case"]["shape"], serde_json::json!([]), "shrunk to one element: {c}");
    assert_eq!(c["case"]["storage"][0], "0x000003e8 = 1000", "shrunk to the smallest value that aborts: {c}");
    assert_eq!(property(&r, "roundtrip::copying_conversion_bit_exact")["status"], "pass");
}

#[test]
fn a_case_that_never_returns_times_out_and_is_shrunk() {
    let out_dir = dir("hang");
    let started = Instant::now();
    let out = conform(&[
        "run",
        "--property",
        "selftest::hangs_on_big_cases",
        "--cases",
        "200",
        "--seed",
        "2",
        "--budget",
        "none",
        "--max-numel",
        "16",
        "--case-timeout",
        "300ms",
        "--quiet",
        "--out",
        out_dir.to_str().unwrap(),
        "--corpus",
        out_dir.join("corpus").to_str().unwrap(),
        "--known",
        out_dir.join("known.toml").to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let r = report(&out_dir);
    let hangs = property(&r, "selftest::hangs_on_big_cases");
    let c = &hangs["counterexample"];
    assert_eq!(c["signature"], "timeout: a case ran longer than 0.3s", "{c}");
    let numel: u64 = c["case"]["shape"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).product();
    // The shrinker reduces dimensions and sides one at a time, so it may stop at 2×5 rather than 3×3.
    assert!((9..=10).contains(&numel), "shrunk to (nearly) the smallest case that hangs: {c}");
    assert!(started.elapsed() < Duration::from_secs(120), "took {:?}", started.elapsed());
}

/// The child processes of `pid`, started by any of its threads (Linux).
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return Vec::new() };
    tasks
        .flatten()
        .map(|task| std::fs::read_to_string(task.path().join("children")).unwrap_or_default())
        .collect::<Vec<String>>()
        .join(" ")
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn wait_for(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

#[test]
fn a_worker_killed_from_outside_is_recorded_and_the_run_completes() {
    let out_dir = dir("kill-worker");
    let mut run = conform(&[
        "run",
        "--family",
        "casts",
        "--budget",
        "8s",
        "--seed",
        "3",
        "--jobs",
        "1",
        "--quiet",
        "--out",
        out_dir.to_str().unwrap(),
        "--corpus",
        out_dir.join("corpus").to_str().unwrap(),
        "--known",
        out_dir.join("known.toml").to_str().unwrap(),
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    // Wait for the worker, then abort it from outside while it checks cases.
    let until = Instant::now() + Duration::from_secs(30);
    let worker = loop {
        if let Some(&w) = children(run.id()).first() {
            break w;
        }
        assert!(Instant::now() < until, "no worker started");
        std::thread::sleep(Duration::from_millis(100));
    };
    std::thread::sleep(Duration::from_secs(2));
    let killed = Command::new("kill").args(["-ABRT", &worker.to_string()]).status().unwrap();
    assert!(killed.success());
    let status = wait_for(&mut run, Duration::from_secs(90)).expect("the run ends");
    assert_eq!(status.code(), Some(1));
    let r = report(&out_dir);
    assert_eq!(r["complete"], true);
    let crashed: Vec<&serde_json::Value> = r["properties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["counterexample"]["signature"] == "crash: killed by SIGABRT")
        .collect();
    assert_eq!(crashed.len(), 1, "{r}");
    let message = crashed[0]["counterexample"]["message"].as_str().unwrap();
    assert!(message.contains("passed when checked again in a fresh worker"), "{message}");
    assert_eq!(r["properties"].as_array().unwrap().len(), 15, "every cast property is reported");
}

#[test]
fn the_parent_killed_at_any_moment_leaves_a_parseable_report() {
    let tries: u64 = std::env::var("CONFORM_KILL_TRIES").ok().and_then(|t| t.parse().ok()).unwrap_or(5);
    for attempt in 0..tries {
        let out_dir = dir(&format!("kill-parent-{attempt}"));
        let mut run = conform(&[
            "run",
            "--budget",
            "6s",
            "--seed",
            "4",
            "--quiet",
            "--out",
            out_dir.to_str().unwrap(),
            "--corpus",
            out_dir.join("corpus").to_str().unwrap(),
            "--known",
            out_dir.join("known.toml").to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        // The run's first act is an incomplete report; then a pseudo-random moment in the next 4 s.
        let until = Instant::now() + Duration::from_secs(30);
        while !out_dir.join("report.json").exists() {
            assert!(Instant::now() < until, "no report.json was written");
            std::thread::sleep(Duration::from_millis(20));
        }
        let wait = attempt * 2_654_435_761 % 4000;
        std::thread::sleep(Duration::from_millis(wait));
        let _ = run.kill(); // SIGKILL
        let _ = run.wait();
        let r = report(&out_dir);
        assert!(r["run_id"].is_string(), "attempt {attempt} after {wait} ms: {r}");
        // The html and junit, where the kill left them (each is written whole, then renamed into place), are whole.
        if let Ok(html) = std::fs::read_to_string(out_dir.join("report.html")) {
            assert!(html.ends_with("</html>"), "attempt {attempt}: a truncated report.html");
        }
        if let Ok(junit) = std::fs::read_to_string(out_dir.join("junit.xml")) {
            assert!(junit.trim_end().ends_with("</testsuites>"), "attempt {attempt}: a truncated junit.xml");
        }
    }
}

#[test]
fn a_property_whose_stored_crashes_take_its_share_to_replay_still_checks_cases() {
    // files::hostile_npy_tch_read_npy has five known deviations whose evidence crashes its worker (each replay
    // restarts one). Under a short budget those replays used to spend the whole share, and the property ended
    // `vacuous` with 0 cases (found by scripts/nightly-local.sh: 2 shards of 20 s); its search keeps half its share.
    let out_dir = dir("replays-take-the-share");
    let out = conform(&["run", "--property", "files::hostile_npy_tch_read_npy", "--budget", "1s", "--seed", "5"])
        .args(["--quiet", "--out", out_dir.to_str().unwrap(), "--pending", out_dir.join("pending").to_str().unwrap()])
        .output()
        .unwrap();
    let report = report(&out_dir);
    let p = property(&report, "files::hostile_npy_tch_read_npy");
    assert_eq!(p["known"].as_array().unwrap().len(), 5, "{}", text(&out));
    assert!(p["known"].as_array().unwrap().iter().all(|k| k["reproduced"] == true), "{p}");
    assert!(p["cases"].as_u64().unwrap() > 0, "the search ran after the replays: {p}\n{}", text(&out));
    assert_ne!(p["status"], "vacuous", "{p}");
}
