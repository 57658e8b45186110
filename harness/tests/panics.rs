//! Inputs that used to panic (exit 101, no report) are clear errors before any case runs, and a closed or full
//! stderr or stdout never turns a run into a panic.

use std::process::{Command, Stdio};

fn conform(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_conform"));
    cmd.args(args).current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).env("CI", "1");
    for var in ["CONFORM_CASES", "CONFORM_SEED", "CONFORM_BUDGET", "CONFORM_MAX_NUMEL", "CONFORM_OUT", "CONFORM_JOBS"] {
        cmd.env_remove(var);
    }
    cmd
}

fn out_dir(name: &str) -> String {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir.display().to_string()
}

#[test]
fn flags_that_cannot_be_honoured_are_errors_at_start() {
    for (args, says) in [
        (vec!["run", "--max-numel", "300000"], "more than 262144 elements per case"),
        (vec!["run", "--budget", "20000000000000000000s"], "longer than a year"),
        (vec!["run", "--property", "casts::bool_casts", "--budget", "10000000000000000000s"], "longer than a year"),
        (vec!["run", "--case-timeout", "0s"], "must be positive"),
        (vec!["run", "--jobs", "0"], "must be at least 1"),
    ] {
        let out = conform(&args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {text}");
        assert!(text.contains(says), "{args:?}: {text}");
    }
    let file = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let started = std::time::Instant::now();
    let out = conform(&["run", "--out", file.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--out"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(started.elapsed().as_secs() < 20, "noticed at start, not after the budget");
}

#[test]
fn a_full_or_closed_stderr_or_stdout_is_no_panic() {
    let dir = out_dir("full-stderr");
    let full = std::fs::File::options().write(true).open("/dev/full").unwrap();
    let out = conform(&["run", "--family", "dtype", "--cases", "50", "--seed", "1", "--out", &dir])
        .stderr(Stdio::from(full))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(out.code(), Some(0), "no panic (101) with stderr on /dev/full");
    // `conform run 2>&1 | head -1`: the reader goes away after one line.
    let mut child = conform(&["run", "--family", "dtype", "--cases", "50", "--seed", "1", "--out", &out_dir("closed")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_ne!(status.code(), Some(101), "no panic with closed pipes");
}
