//! Issue 11's hardening findings, each reproduced the way a hostile user would and checked through the `conform`
//! binary as a user types it: `accept`/`reject` take only pending corpus files named by their content in their
//! property's folder and never overwrite; hostile corpus and evidence files (a link to /dev/zero, a 3 GB sparse file,
//! a FIFO, link loops, links out of the corpus) give a per-file error within seconds for `run`, `replay` and
//! `review`; text from files is shown escaped; a mistyped `--known` and an empty `--out` are errors; the overlap
//! libtorch does not look for (strides `[1, 1]`) is not a deviation.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use conform_generators::{Case, CorpusEntry, Dtype, Layout, TensorCase};

const PROPERTY: &str = "dtype::tch_array_kind_preserved";

/// How long one command may take on hostile input: libtorch's start included, far below "hangs".
const PROMPT: Duration = Duration::from_secs(60);

fn conform_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_conform"));
    cmd.args(args).current_dir(dir);
    for var in ["CI", "CONFORM_OUT", "CONFORM_KNOWN", "CONFORM_CORPUS", "CONFORM_PENDING", "CONFORM_JOBS"] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    let start = Instant::now();
    let out = cmd.output().expect("conform runs");
    assert!(start.elapsed() < PROMPT, "conform {args:?} took {:?}", start.elapsed());
    out
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A fresh folder with `corpus/` and an empty known-deviations file.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("hardening-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("corpus")).unwrap();
        std::fs::write(dir.join("empty.toml"), "").unwrap();
        Scratch { dir }
    }

    fn corpus(&self) -> PathBuf {
        self.dir.join("corpus")
    }

    /// The folder `Corpus::path_for` gives for [`PROPERTY`].
    fn folder(&self) -> PathBuf {
        let folder = self.corpus().join("dtype/tch_array_kind_preserved");
        std::fs::create_dir_all(&folder).unwrap();
        folder
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }

    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        conform_in(&self.dir, args, env)
    }
}

fn entry(value: u64) -> CorpusEntry {
    let case = Case::Tensor(TensorCase::contiguous(Dtype::Bf16, &[], vec![value]).unwrap());
    CorpusEntry::new(
        PROPERTY,
        "tch TryFrom<&ArrayView>: wrong tensor kind",
        "tensor kind Half but an array of bf16 stands for BFloat16 [tch TryFrom<&ArrayView>]",
        ("2.11.0", "0.24.0"),
        case,
    )
}

fn pending_name(e: &CorpusEntry) -> String {
    format!("{}.json.new", e.short_hash())
}

// Finding 1: accept and reject.

#[test]
fn accept_refuses_a_known_deviations_file_and_any_other_new_file() {
    let s = Scratch::new("accept-known");
    let known = s.dir.join("known-deviations.toml");
    std::fs::write(&known, "# reviewed\n").unwrap();
    // A valid entry saved as known-deviations.toml.new used to replace known-deviations.toml.
    let forged = s.dir.join("known-deviations.toml.new");
    std::fs::write(&forged, entry(0).to_json()).unwrap();
    let out = s.run(&["accept", "known-deviations.toml.new"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("known-deviations.toml.new: is not a pending file"), "{}", text(&out));
    assert!(text(&out).contains("known-deviations.toml is edited by hand"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&known).unwrap(), "# reviewed\n");
    assert!(forged.exists());
    // Any other `.new` is refused by both, with the same rule.
    let other = s.folder().join("notes.txt.new");
    std::fs::write(&other, entry(0).to_json()).unwrap();
    for verb in ["accept", "reject"] {
        let out = s.run(&[verb, other.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{verb}: {}", text(&out));
        assert!(text(&out).contains("is not a pending file") && text(&out).contains("(hint: "), "{}", text(&out));
        assert!(other.exists() && !s.folder().join("notes.txt").exists());
    }
}

#[test]
fn accept_never_overwrites_an_accepted_file_with_other_content() {
    let s = Scratch::new("accept-overwrite");
    let (a, b) = (entry(0), entry(0x3f80));
    let evidence = s.folder().join(format!("{}.json", a.short_hash()));
    std::fs::write(&evidence, a.to_json()).unwrap();
    // A pending file named like the evidence but holding another case: its name does not match its content.
    let impostor = s.folder().join(pending_name(&a));
    std::fs::write(&impostor, b.to_json()).unwrap();
    let out = s.run(&["accept", "--all", "--corpus", "corpus"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("is named {} but its case hashes to {}", pending_name(&a), pending_name(&b))),
        "{}",
        text(&out)
    );
    assert_eq!(std::fs::read_to_string(&evidence).unwrap(), a.to_json(), "the evidence is untouched");
    // The same case with other content (another message): the accepted file stays, the pending one too.
    let edited = CorpusEntry { message: "edited".into(), ..a.clone() };
    std::fs::write(&impostor, edited.to_json()).unwrap();
    let out = s.run(&["accept", impostor.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("which holds different content"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&evidence).unwrap(), a.to_json());
    assert!(impostor.exists());
    // The same content: the pending file is only removed.
    std::fs::write(&impostor, a.to_json()).unwrap();
    let out = s.run(&["accept", impostor.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!impostor.exists());
    assert_eq!(std::fs::read_to_string(&evidence).unwrap(), a.to_json());
    // A proper pending file is accepted, then rejecting an accepted file is refused.
    let fresh = s.folder().join(pending_name(&b));
    std::fs::write(&fresh, b.to_json()).unwrap();
    let out = s.run(&["accept", fresh.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let accepted = s.folder().join(format!("{}.json", b.short_hash()));
    assert_eq!(std::fs::read_to_string(&accepted).unwrap(), b.to_json());
    let out = s.run(&["reject", accepted.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(accepted.exists());
}

#[test]
fn accept_and_reject_take_only_files_inside_the_corpus_in_their_property_folder() {
    let s = Scratch::new("accept-where");
    let e = entry(0);
    // Outside the corpus.
    let outside = s.dir.join("elsewhere");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join(pending_name(&e)), e.to_json()).unwrap();
    // Through a folder link out of the corpus.
    symlink(&outside, s.corpus().join("dtype-link")).unwrap();
    // A link named like a pending file.
    std::fs::create_dir_all(s.folder()).unwrap();
    symlink(outside.join(pending_name(&e)), s.folder().join(pending_name(&e))).unwrap();
    // A proper name in another property's folder.
    let wrong = s.corpus().join("dtype/tch_to_array_refuses_other_element");
    std::fs::create_dir_all(&wrong).unwrap();
    std::fs::write(wrong.join(pending_name(&e)), e.to_json()).unwrap();
    let cases = [
        (outside.join(pending_name(&e)), "lies outside the corpus"),
        (s.corpus().join("dtype-link").join(pending_name(&e)), "lies outside the corpus"),
        (s.folder().join(pending_name(&e)), "is a symbolic link"),
        (wrong.join(pending_name(&e)), "belongs in corpus/dtype/tch_array_kind_preserved"),
    ];
    for (path, why) in &cases {
        for verb in ["accept", "reject"] {
            let out = s.run(&[verb, "--corpus", "corpus", path.to_str().unwrap()]);
            assert_eq!(out.status.code(), Some(2), "{verb} {}: {}", path.display(), text(&out));
            assert!(text(&out).contains(why), "{verb} {}: {}", path.display(), text(&out));
        }
    }
    assert!(outside.join(pending_name(&e)).exists() && wrong.join(pending_name(&e)).exists());
    let accepted = format!("{}.json", e.short_hash());
    assert!(!outside.join(&accepted).exists() && !wrong.join(&accepted).exists());
    assert!(!s.folder().join(&accepted).exists());
}

#[test]
fn a_pending_file_with_a_non_utf8_name_is_refused_not_renamed() {
    let s = Scratch::new("accept-utf8");
    let e = entry(0);
    let mut name = b"\xff".to_vec();
    name.extend_from_slice(pending_name(&e).as_bytes());
    let path = s.folder().join(std::ffi::OsStr::from_bytes(&name));
    std::fs::write(&path, e.to_json()).unwrap();
    let out = s.run(&["accept", "--all"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("has a file name that is not UTF-8"), "{}", text(&out));
    let names: Vec<_> = std::fs::read_dir(s.folder()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from(std::ffi::OsStr::from_bytes(&name))], "nothing renamed");
}

// Finding 2: hostile files.

/// The hostile files of issue 11, each named `name` + `suffix`, in the property's folder of `s`.
fn plant_hostile_files(s: &Scratch, suffix: &str) -> Vec<(String, &'static str)> {
    let folder = s.folder();
    let file = |name: &str| folder.join(format!("{name}{suffix}"));
    symlink("/dev/zero", file("zero")).unwrap();
    let sparse = std::fs::File::create(file("sparse")).unwrap();
    sparse.set_len(3 << 30).unwrap();
    let made = Command::new("mkfifo").arg(file("fifo")).status().unwrap();
    assert!(made.success());
    symlink("..", folder.join("loop")).unwrap();
    symlink("self", folder.join("self")).unwrap();
    symlink("/etc/hostname", file("escape")).unwrap();
    vec![
        (format!("zero{suffix}"), "is a symbolic link"),
        (format!("sparse{suffix}"), "the file has 3221225472 bytes, more than the 16777216"),
        (format!("fifo{suffix}"), "is a FIFO, not a regular file"),
        ("loop".into(), "is a symbolic link"),
        ("self".into(), "is a symbolic link"),
        (format!("escape{suffix}"), "is a symbolic link"),
    ]
}

fn assert_each_named(out: &Output, expected: &[(String, &str)]) {
    let t = text(out);
    for (name, why) in expected {
        let line = t.lines().find(|l| l.contains(&format!("tch_array_kind_preserved/{name}")));
        let context = t.lines().skip_while(|l| !l.contains(&format!("tch_array_kind_preserved/{name}"))).take(2);
        let context: String = context.collect::<Vec<_>>().join("\n");
        assert!(line.is_some() && context.contains(why), "{name}: expected `{why}` in\n{t}");
    }
}

#[test]
fn hostile_corpus_files_give_a_per_file_error_promptly_in_replay_and_run() {
    let s = Scratch::new("hostile-accepted");
    let expected = plant_hostile_files(&s, ".json");
    let good = s.folder().join(format!("{}.json", entry(0).short_hash()));
    std::fs::write(&good, entry(0).to_json()).unwrap();

    let replay = s.run(&["replay", "--known", "empty.toml"]);
    assert_eq!(replay.status.code(), Some(2), "{}", text(&replay));
    assert_each_named(&replay, &expected);
    assert!(text(&replay).contains("FAILS identically"), "the good file still replays: {}", text(&replay));

    let args = format!("run --property {PROPERTY} --cases 20 --seed 1 --quiet --known empty.toml --out out");
    let run = s.run(&args.split(' ').collect::<Vec<_>>());
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert_each_named(&run, &expected);
    assert!(s.dir.join("out/report.json").exists(), "{}", text(&run));
}

#[test]
fn hostile_pending_files_give_a_per_file_error_promptly_in_review_accept_and_reject() {
    let s = Scratch::new("hostile-pending");
    let expected = plant_hostile_files(&s, ".json.new");
    let review = s.run(&["review"]);
    assert_each_named(&review, &expected);
    for verb in ["accept", "reject"] {
        let out = s.run(&[verb, "--all"]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(s.folder().join("zero.json.new").symlink_metadata().is_ok(), "nothing was removed or moved");
        assert!(!s.folder().join("zero.json").exists() && !s.folder().join("fifo.json").exists());
    }
}

#[test]
fn evidence_must_be_a_regular_file_inside_the_corpus_and_its_error_is_printed_once() {
    let s = Scratch::new("evidence");
    let plant = plant_hostile_files(&s, ".json");
    std::fs::write(s.dir.join("outside.json"), entry(0).to_json()).unwrap();
    let mut evidence: Vec<(String, &str)> =
        plant.iter().map(|(name, why)| (format!("corpus/dtype/tch_array_kind_preserved/{name}"), *why)).collect();
    evidence.push(("corpus/../outside.json".into(), "lies outside the corpus"));
    evidence.push(("corpus/dtype/tch_array_kind_preserved/gone.json".into(), "cannot read"));
    for (path, why) in &evidence {
        let known = format!(
            "[[deviation]]\nproperty = \"{PROPERTY}\"\nsignature = \"s\"\nreason = \"r\"\nevidence = \"{path}\"\n"
        );
        std::fs::write(s.dir.join("kd.toml"), known).unwrap();
        for args in [&["replay", "--known", "kd.toml"][..], &["run", "--quiet", "--known", "kd.toml", "--out", "out"]] {
            let out = s.run(args);
            assert_eq!(out.status.code(), Some(2), "{path}: {}", text(&out));
            let t = text(&out);
            assert!(t.contains("deviation #1") && t.contains(why), "{path}: expected `{why}` in {t}");
            assert_eq!(t.matches(path.as_str()).count(), 1, "the evidence path is printed once: {t}");
        }
    }
}

// Finding 6, through the corpus: a layout that is empty but overflows in another axis order is refused.

#[test]
fn an_overflowing_empty_shape_is_refused_in_every_axis_order() {
    let s = Scratch::new("axis-order");
    let big = 1u64 << 40;
    for (i, shape) in [[0, big, big], [big, big, 0]].iter().enumerate() {
        let mut v: serde_json::Value = serde_json::from_str(&entry(0).to_json()).unwrap();
        v["case"]["shape"] = serde_json::json!(shape);
        v["case"]["strides"] = serde_json::json!([1, 1, 1]);
        std::fs::write(s.folder().join(format!("order{i}.json")), v.to_string()).unwrap();
    }
    let out = s.run(&["replay", "--known", "empty.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert_eq!(t.matches("ERROR").count(), 2, "{t}");
    assert_eq!(t.matches("the product of shape").count(), 2, "{t}");
}

// Finding 7.

#[test]
fn review_shows_text_from_files_with_control_characters_escaped() {
    let s = Scratch::new("escapes");
    let hostile = CorpusEntry {
        message: "\u{1b}[2J\u{1b}]0;owned\u{7}\u{1b}[31mred\nforged line\u{202e}".into(),
        signature: "sig\u{1b}[0m".into(),
        ..entry(0)
    };
    std::fs::write(s.folder().join(pending_name(&hostile)), hostile.to_json()).unwrap();
    let odd_name = s.folder().join("\u{1b}[31mx.json.new");
    std::fs::write(&odd_name, "{\"format_version\": \"\u{1b}[31m\"}").unwrap();
    let out = s.run(&["review"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let t = text(&out);
    assert!(!t.contains('\u{1b}') && !t.contains('\u{7}') && !t.contains('\u{202e}'), "raw control characters: {t:?}");
    assert!(t.contains("message:   \\u{1b}[2J\\u{1b}]0;owned\\u{7}\\u{1b}[31mred\\u{a}forged line\\u{202e}"), "{t}");
    assert!(t.contains("signature: sig\\u{1b}[0m"), "{t}");
    assert!(t.contains("\\u{1b}[31mx.json.new\n  ERROR"), "{t}");
    assert!(!t.lines().any(|l| l.starts_with("forged line")), "{t}");
}

#[test]
fn a_named_known_file_must_exist_and_only_the_default_may_be_missing() {
    let s = Scratch::new("known-missing");
    std::fs::write(s.folder().join(format!("{}.json", entry(0).short_hash())), entry(0).to_json()).unwrap();
    let flag = s.run(&["replay", "--known", "known-deviatons.toml"]);
    assert_eq!(flag.status.code(), Some(2), "{}", text(&flag));
    assert!(text(&flag).contains("known deviations file known-deviatons.toml does not exist"), "{}", text(&flag));
    assert!(text(&flag).contains("(hint: check the path given to --known or CONFORM_KNOWN"), "{}", text(&flag));
    let var = s.run_env(&["run", "--quiet", "--out", "out"], &[("CONFORM_KNOWN", "typo.toml")]);
    assert_eq!(var.status.code(), Some(2), "{}", text(&var));
    assert!(text(&var).contains("known deviations file typo.toml does not exist"), "{}", text(&var));
    // The default path may be missing: no known deviations, so the recorded case fails as a new deviation.
    let default = s.run(&["replay"]);
    assert_eq!(default.status.code(), Some(1), "{}", text(&default));
}

#[test]
fn an_empty_out_is_an_error_before_any_case_runs() {
    let s = Scratch::new("empty-out");
    // clap refuses an empty flag value itself; the variable is conform's to refuse.
    let flag = s.run(&["run", "--quiet", "--known", "empty.toml", "--out", ""]);
    assert_eq!(flag.status.code(), Some(2), "{}", text(&flag));
    assert!(text(&flag).contains("a value is required for '--out <DIR>'"), "{}", text(&flag));
    let var = s.run_env(&["run", "--quiet", "--known", "empty.toml"], &[("CONFORM_OUT", "")]);
    assert_eq!(var.status.code(), Some(2), "{}", text(&var));
    assert!(text(&var).contains("invalid CONFORM_OUT ``: is empty"), "{}", text(&var));
    assert!(text(&var).contains("(hint: a folder for report.json"), "{}", text(&var));
    assert!(!s.dir.join("report.json").exists(), "nothing written into the current directory");
}

/// The layout of the false deviation: shape [2, 2], strides [1, 1] over 3 elements (index [0, 1] and [1, 0] share
/// storage[1]); libtorch's `has_internal_overlap` says `TooHard` and the write goes ahead.
fn undetected_overlap() -> TensorCase {
    let layout = Layout { shape: vec![2, 2], strides: vec![1, 1], offset: 0 };
    TensorCase::new(Dtype::F32, layout, vec![0x3f80_0000, 0x4000_0000, 0x4040_0000]).unwrap()
}

#[test]
fn overlap_libtorch_does_not_look_for_is_not_a_deviation_but_a_defect_still_fails() {
    use conform_properties::aliasing::{copy_into, overlapping_writes_refused, WriteInto};
    use conform_properties::CheckError;
    let case = undetected_overlap();
    assert_eq!(overlapping_writes_refused(&case, &copy_into), Ok(()), "libtorch writes; each element gets a value");
    // A write that leaves a value none of the indices had in a shared element.
    let garbles: &WriteInto = &|view, src| {
        copy_into(view, src)?;
        let _ = view.f_select(0, 0)?.f_select(0, 1)?.f_fill_(-7i64)?;
        Ok(())
    };
    match overlapping_writes_refused(&case, garbles) {
        Err(CheckError::Fail(f)) => {
            assert_eq!(f.signature, "copy_ into an overlapping view wrote a value none of its indices had");
            assert!(f.message.contains("storage[1] is 0xc0e00000 but its indices were given 0x"), "{}", f.message);
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    // Stride 0 is the overlap libtorch proves, and accepting a write there is still a failure.
    let broadcast =
        TensorCase::new(Dtype::F32, Layout { shape: vec![2], strides: vec![0], offset: 0 }, vec![0]).unwrap();
    let accepts: &WriteInto = &|view, src| {
        view.f_select(0, 1)?.f_copy_(&src.f_select(0, 1)?)?;
        Ok(())
    };
    match overlapping_writes_refused(&broadcast, accepts) {
        Err(CheckError::Fail(f)) => assert_eq!(f.signature, "write into an overlapping view accepted"),
        other => panic!("expected a failure, got {other:?}"),
    }
    assert_eq!(overlapping_writes_refused(&broadcast, &copy_into), Ok(()), "libtorch refuses it");
}

#[test]
fn the_undetected_overlap_replays_as_a_pass() {
    let s = Scratch::new("overlap-replay");
    let folder = s.corpus().join("aliasing/overlapping_writes_refused");
    std::fs::create_dir_all(&folder).unwrap();
    let e = CorpusEntry::new(
        "aliasing::overlapping_writes_refused",
        "write into an overlapping view accepted",
        "m",
        ("2.11.0", "0.24.0"),
        Case::Tensor(undetected_overlap()),
    );
    std::fs::write(folder.join(format!("{}.json", e.short_hash())), e.to_json()).unwrap();
    let out = s.run(&["replay", "--known", "empty.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("passes now"), "{}", text(&out));
}
