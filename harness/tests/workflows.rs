//! The GitHub Actions workflows checked here, not only on GitHub: actionlint (with shellcheck on the `run:` scripts
//! where shellcheck is installed) must pass on `.github/workflows/ci.yml` and `nightly.yml`, and the workflows must
//! keep doing what the README says they do.
//!
//! Invariant: this test never passes without actionlint. It takes `ACTIONLINT` when set, else the pinned one that
//! `cargo xtask setup` (and `cargo xtask test`) installs into `.tools/actionlint/`, else `actionlint` on PATH; when
//! none runs it fails with the reason. A planted broken workflow must fail actionlint, so a linter that accepts
//! anything cannot pass it either.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const WORKFLOWS: [&str; 2] = [".github/workflows/ci.yml", ".github/workflows/nightly.yml"];

/// The actionlint to use, or why there is none.
fn actionlint() -> Result<PathBuf, String> {
    let candidates: Vec<(PathBuf, &str)> = match std::env::var_os("ACTIONLINT") {
        Some(path) => vec![(PathBuf::from(path), "ACTIONLINT")],
        None => vec![
            (Path::new(REPO).join(".tools/actionlint/actionlint"), "installed by `cargo xtask setup`"),
            (PathBuf::from("actionlint"), "on PATH"),
        ],
    };
    let mut tried = Vec::new();
    for (path, source) in candidates {
        match Command::new(&path).arg("-version").output() {
            Ok(out) if out.status.success() => return Ok(path),
            Ok(out) => tried.push(format!("{} ({source}) exits with {}", path.display(), out.status)),
            Err(e) => tried.push(format!("{} ({source}): {e}", path.display())),
        }
    }
    Err(format!(
        "actionlint is missing, so the workflows cannot be checked: {}\n(hint: run `cargo xtask setup`, which \
         installs the pinned actionlint into .tools/actionlint/ (`cargo xtask test` does it too), or set ACTIONLINT \
         to an actionlint binary)",
        tried.join("; ")
    ))
}

fn lint(files: &[&str]) -> Output {
    let exe = actionlint().unwrap_or_else(|why| panic!("{why}"));
    Command::new(exe).arg("-no-color").args(files).current_dir(REPO).output().expect("actionlint runs")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn actionlint_passes_on_both_workflows() {
    let out = lint(&WORKFLOWS);
    assert!(out.status.success(), "actionlint found problems ({}):\n{}", out.status, text(&out));
}

#[test]
fn actionlint_fails_a_planted_broken_workflow() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("workflows/.github/workflows");
    std::fs::create_dir_all(&dir).unwrap();
    let broken = dir.join("broken.yml");
    // The output of a job that this job does not need.
    std::fs::write(
        &broken,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ needs.plan.outputs.seed }}\n",
    )
    .unwrap();
    let out = lint(&[broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("needs"), "{}", text(&out));
}

fn read(file: &str) -> String {
    std::fs::read_to_string(Path::new(REPO).join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn ci_runs_the_readme_test_command_with_caches_and_uploads_junit_always() {
    let ci = read(WORKFLOWS[0]);
    for needle in [
        "push:",
        "pull_request:",
        "runs-on: ubuntu-latest",
        "run: cargo xtask test",
        "path: .libtorch",
        "key: libtorch-${{ runner.os }}-${{ hashFiles('xtask/libtorch-requirements.txt') }}",
        "~/.cargo/registry/cache",
        "            target\n",
        "target/conform/junit.xml",
    ] {
        assert!(ci.contains(needle), "ci.yml lacks {needle:?}");
    }
    let upload = &ci[ci.find("Upload junit.xml").expect("an upload step")..];
    assert!(upload.contains("if: always()"), "the upload must run when the tests failed");
}

#[test]
fn the_nightly_shards_merges_diffs_and_keeps_everything_it_found() {
    let nightly = read(WORKFLOWS[1]);
    for needle in [
        "schedule:",
        "- cron:",
        "workflow_dispatch:",
        "budget:",
        "shards:",
        "seed:",
        "date -u +%Y%m%d",
        "shard: ${{ fromJSON(needs.plan.outputs.shards) }}",
        "CI: \"true\"",
        "--shard \"$SHARD\" --budget \"$BUDGET\"",
        "--pending \"$DIR/pending\"",
        // Unique artifact names per shard (a second upload of one name fails the run).
        "name: nightly-shard-${{ matrix.shard }}-of-${{ needs.plan.outputs.count }}",
        "pattern: nightly-shard-*",
        "merge-multiple: true",
        "conform merge",
        "gh run list --workflow nightly.yml --event schedule --status success",
        "gh run download \"$run_id\" --name nightly-merged",
        "conform diff previous/report/report.json merged/report/report.json --format markdown",
        "$GITHUB_STEP_SUMMARY",
        "name: nightly-merged",
    ] {
        assert!(nightly.contains(needle), "nightly.yml lacks {needle:?}");
    }
    let shard_upload = &nightly[nightly.find("Upload the shard's report").unwrap()..];
    assert!(shard_upload[..200].contains("if: always()"), "a failing shard must still upload what it found");
}
