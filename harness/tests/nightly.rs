//! The nightly's commands exercised the way the workflow and `scripts/nightly-local.sh` type them: `run --shard K/N`
//! (the shards of one seed add up to the unsharded run), `merge` (and what it refuses), `diff` (exit 0 against
//! itself, 1 naming a planted new failure), and `run --pending DIR` (pending files land there even when CI is set).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn conform(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_conform"));
    cmd.args(args).current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    for (var, _) in std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v))) {
        if var == "CI" || var.starts_with("CONFORM_") {
            cmd.env_remove(var);
        }
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("conform runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("nightly").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// What a property's verdict is, without the fields that depend on time (durations, rates) or on more than the
/// seed: a failure's message may quote bytes read past a buffer (the `files` properties find such reads), and a
/// known deviation's reason and replay message are prose, so the counterexample is compared by case and signature
/// and the known deviations by signature and whether they reproduced.
fn verdict(p: &Value) -> Value {
    let mut v = serde_json::Map::new();
    for field in [
        "name",
        "family",
        "device",
        "status",
        "cases",
        "rejects",
        "known_hits",
        "values",
        "stopped_by",
        "corpus_replayed",
        "claims",
        "observations",
        "reject_reasons",
        "skip_reason",
        "vacuous_reason",
    ] {
        v.insert(field.into(), p[field].clone());
    }
    let c = &p["counterexample"];
    v.insert("counterexample".into(), serde_json::json!([c["case"], c["signature"]]));
    let known: Vec<Value> = p["known"]
        .as_array()
        .map(|k| k.iter().map(|k| serde_json::json!([k["signature"], k["reproduced"]])).collect())
        .unwrap_or_default();
    v.insert("known".into(), known.into());
    Value::Object(v)
}

#[test]
fn the_shards_of_one_seed_merge_into_exactly_the_unsharded_run() {
    let dir = scratch("shards");
    let pending = dir.join("pending");
    // --pending keeps any new failure out of the repository's corpus.
    let common = ["--seed", "7", "--cases", "40", "--budget", "none", "--quiet", "--pending", s(&pending)];
    let full = conform(&[&["run", "--out", s(&dir.join("full"))], &common[..]].concat(), &[]);
    assert!(matches!(full.status.code(), Some(0 | 1)), "{}", text(&full));
    let mut shard_reports = Vec::new();
    for k in ["1/2", "2/2"] {
        let out = dir.join(format!("shard-{}", &k[..1]));
        let shard = conform(&[&["run", "--shard", k, "--out", s(&out)], &common[..]].concat(), &[]);
        assert!(matches!(shard.status.code(), Some(0 | 1)), "{}", text(&shard));
        shard_reports.push(out.join("report.json"));
    }
    let merged_dir = dir.join("merged");
    let merge = conform(&["merge", s(&shard_reports[0]), s(&shard_reports[1]), "--out", s(&merged_dir)], &[]);
    assert_eq!(merge.status.code(), full.status.code(), "merge exits as the full run did: {}", text(&merge));
    assert!(text(&merge).contains("merged 2 reports of seed 7"), "{}", text(&merge));
    for file in ["report.json", "report.html", "junit.xml"] {
        assert!(merged_dir.join(file).is_file(), "{file}");
    }

    let (full, merged) = (read(&dir.join("full/report.json")), read(&merged_dir.join("report.json")));
    let shard_names = |path: &Path| -> Vec<String> {
        read(path)["properties"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
    };
    let (one, two) = (shard_names(&shard_reports[0]), shard_names(&shard_reports[1]));
    assert!(!one.is_empty() && !two.is_empty() && one.iter().all(|n| !two.contains(n)), "{one:?} {two:?}");
    let verdicts = |r: &Value| -> Vec<Value> { r["properties"].as_array().unwrap().iter().map(verdict).collect() };
    assert_eq!(verdicts(&merged), verdicts(&full), "same properties, in the same order, with the same verdicts");
    assert_eq!(merged["summary"], full["summary"]);
    assert_eq!(merged["claims"], full["claims"]);
    assert_eq!(
        (&merged["seed"], &merged["settings"], &merged["complete"]),
        (&full["seed"], &full["settings"], &Value::Bool(true))
    );

    // `list --shard` partitions `list` the same way.
    let list = |args: &[&str]| String::from_utf8(conform(args, &[]).stdout).unwrap();
    let mut sharded: Vec<String> = [list(&["list", "--shard", "1/2"]), list(&["list", "--shard", "2/2"])]
        .concat()
        .lines()
        .map(String::from)
        .collect();
    sharded.sort();
    let mut all: Vec<String> = list(&["list"]).lines().map(String::from).collect();
    all.sort();
    assert_eq!(sharded, all);
    assert_eq!(list(&["list", "--shard", "1/2"]).lines().collect::<Vec<_>>(), one);
}

#[test]
fn a_bad_shard_is_a_usage_error_that_says_why() {
    for (bad, why) in [("0/2", "between 1 and 2"), ("3/2", "between 1 and 2"), ("x", "expected K/N"), ("1/0", "N must")]
    {
        for command in ["list", "run"] {
            let out = conform(&[command, "--shard", bad], &[]);
            assert_eq!(out.status.code(), Some(2), "{command} --shard {bad}: {}", text(&out));
            assert!(text(&out).contains(&format!("invalid value '{bad}' for '--shard <K/N>'")), "{}", text(&out));
            assert!(text(&out).contains(why), "{}", text(&out));
        }
    }
}

/// A small real report: two dtype properties, few cases.
fn small_report(dir: &Path) -> PathBuf {
    let out = dir.join("small");
    let run = conform(
        &[
            "run",
            "--family",
            "dtype",
            "--seed",
            "3",
            "--cases",
            "20",
            "--budget",
            "none",
            "--quiet",
            "--out",
            s(&out),
            "--pending",
            s(&dir.join("pending")),
        ],
        &[],
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    out.join("report.json")
}

fn write(path: &Path, value: &Value) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path.to_path_buf()
}

#[test]
fn merge_refuses_other_runs_duplicates_and_incomplete_reports_naming_the_files() {
    let dir = scratch("merge-refuses");
    let report = small_report(&dir);
    let json = read(&report);
    let mut first = json.clone();
    first["properties"].as_array_mut().unwrap().truncate(1);
    let mut second = json.clone();
    second["properties"].as_array_mut().unwrap().remove(0);
    let a = write(&dir.join("a/report.json"), &first);
    let b = write(&dir.join("b/report.json"), &second);
    let out = dir.join("merged");
    let ok = conform(&["merge", s(&a), s(&b), "--out", s(&out)], &[]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert_eq!(read(&out.join("report.json"))["properties"], json["properties"]);

    let refused = |files: &[&Path], extra: &[&str]| {
        let args: Vec<&str> = ["merge"]
            .into_iter()
            .chain(files.iter().map(|f| s(f)))
            .chain(["--out", s(&out)])
            .chain(extra.iter().copied())
            .collect();
        let run = conform(&args, &[]);
        assert_eq!(run.status.code(), Some(2), "{}", text(&run));
        text(&run)
    };
    let mut other_seed = second.clone();
    other_seed["seed"] = 4.into();
    let c = write(&dir.join("c/report.json"), &other_seed);
    let said = refused(&[&a, &c], &[]);
    assert!(said.contains(&format!("error: {} has seed 4, but {} has 3", c.display(), a.display())), "{said}");
    assert!(said.contains("(hint: merge the shards of one run"), "{said}");

    let mut other_tch = second.clone();
    other_tch["tch_version"] = "0.26.0".into();
    let said = refused(&[&a, &write(&dir.join("d/report.json"), &other_tch)], &[]);
    assert!(said.contains("has tch version 0.26.0, but"), "{said}");

    let mut other_format = second.clone();
    other_format["format_version"] = 1.into();
    let e = write(&dir.join("e/report.json"), &other_format);
    let said = refused(&[&a, &e], &[]);
    assert!(said.contains(&format!("{} has report format 1, but this conform reads format 2", e.display())), "{said}");

    let said = refused(&[&a, &b, &report], &[]);
    assert!(said.contains(&format!("is in both {} and {}", a.display(), report.display())), "{said}");

    let mut cut_short = second.clone();
    cut_short["complete"] = false.into();
    let f = write(&dir.join("f/report.json"), &cut_short);
    let said = refused(&[&a, &f], &[]);
    assert!(said.contains(&format!("{} is incomplete", f.display())) && said.contains("--allow-incomplete"), "{said}");
    let allowed = conform(&["merge", s(&a), s(&f), "--out", s(&out), "--allow-incomplete"], &[]);
    assert_eq!(allowed.status.code(), Some(0), "{}", text(&allowed));
    assert_eq!(read(&out.join("report.json"))["complete"], false);
}

#[test]
fn diff_of_a_report_with_itself_exits_0_and_with_a_planted_new_failure_exits_1_naming_it() {
    let dir = scratch("diff");
    let report = small_report(&dir);
    let same = conform(&["diff", s(&report), s(&report)], &[]);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same));
    assert!(text(&same).contains(" 0 worse, 0 better, 0 changed, "), "{}", text(&same));

    let mut planted = read(&report);
    let victim = planted["properties"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p["status"] == "pass")
        .expect("a passing dtype property");
    let name = victim["name"].as_str().unwrap().to_string();
    victim["status"] = "fail".into();
    victim["counterexample"] = serde_json::json!({
        "case": null, "message": "planted", "signature": "planted signature",
        "cases_before_failure": 1, "shrink_steps": 0, "repro": "conform run"
    });
    let worse = write(&dir.join("planted/report.json"), &planted);
    let diff = conform(&["diff", s(&report), s(&worse)], &[]);
    assert_eq!(diff.status.code(), Some(1), "{}", text(&diff));
    let said = text(&diff);
    assert!(said.lines().any(|l| l.starts_with(&name) && l.contains("WORSE")), "{said}");
    assert!(
        said.contains("worse: FAIL now (was pass)") && said.contains("+ new signature: planted signature"),
        "{said}"
    );
    assert!(said.contains("1 worse,"), "{said}");

    let markdown = conform(&["diff", s(&report), s(&worse), "--format", "markdown"], &[]);
    assert_eq!(markdown.status.code(), Some(1));
    let md = String::from_utf8(markdown.stdout).unwrap();
    assert!(md.starts_with("### conform diff: worse\n") && md.contains(&format!("- `{name}`: FAIL now")), "{md}");
    let json = conform(&["diff", s(&report), s(&worse), "--format", "json"], &[]);
    let value: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["summary"]["worse"], 1);

    // Fixed the other way round: nothing worse.
    let back = conform(&["diff", s(&worse), s(&report)], &[]);
    assert_eq!(back.status.code(), Some(0), "{}", text(&back));
    let missing = conform(&["diff", s(&report), s(&dir.join("missing.json"))], &[]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(text(&missing).contains("error: cannot read "), "{}", text(&missing));
}

#[test]
fn pending_files_go_under_the_pending_folder_even_in_ci() {
    // Without known deviations and with an empty corpus, tch's bf16 kind bug is a new deviation found by search.
    let dir = scratch("pending");
    let empty = dir.join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    let (corpus, pending) = (dir.join("corpus"), dir.join("artifact/pending"));
    let args = ["run", "--property", "dtype::tch_array_kind_preserved", "--cases", "2000", "--seed", "1", "--quiet"];
    let out = dir.join("out");
    let files = ["--known", s(&empty), "--corpus", s(&corpus), "--out", s(&out)];
    let run = conform(&[&args[..], &files[..], &["--pending", s(&pending)]].concat(), &[("CI", "true")]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let written: Vec<PathBuf> = std::fs::read_dir(pending.join("dtype/tch_array_kind_preserved"))
        .unwrap_or_else(|e| panic!("{e}: {}", text(&run)))
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(written.len(), 1);
    assert!(s(&written[0]).ends_with(".json.new"), "{written:?}");
    assert!(text(&run).contains(&format!("pending: {}", written[0].display())), "{}", text(&run));
    assert!(!corpus.exists(), "nothing is written into the corpus");
    // Copied into the corpus at the same relative path, `review` and `accept` take it.
    let target = corpus.join(written[0].strip_prefix(&pending).unwrap());
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::copy(&written[0], &target).unwrap();
    let review = conform(&["review", "--corpus", s(&corpus)], &[]);
    assert!(text(&review).contains("1 pending file(s)"), "{}", text(&review));
    let accept = conform(&["accept", "--all", "--corpus", s(&corpus)], &[]);
    assert_eq!(accept.status.code(), Some(0), "{}", text(&accept));

    // Without --pending, CI writes nothing, as before; CONFORM_PENDING does what --pending does.
    let (fresh, via_env) = (dir.join("fresh-corpus"), dir.join("env-pending"));
    let files = ["--known", s(&empty), "--corpus", s(&fresh), "--out", s(&out)];
    let run = conform(&[&args[..], &files[..]].concat(), &[("CI", "true")]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    assert!(text(&run).contains("no pending file written"), "{}", text(&run));
    assert!(!fresh.exists());
    let run = conform(&[&args[..], &files[..]].concat(), &[("CI", "true"), ("CONFORM_PENDING", s(&via_env))]);
    assert!(text(&run).contains(&format!("pending: {}", via_env.display())), "{}", text(&run));
    assert!(!fresh.exists());
}
