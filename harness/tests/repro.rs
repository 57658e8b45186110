//! `conform repro` for every corpus file: the reproductions exist, the Python ones compile
//! (`python3 -m py_compile`), and the Rust ones build as examples of the workspace (`properties/examples/`, a
//! crate that already links tch, so nothing rebuilds torch-sys). The examples are the generated programs, kept
//! in the repository; `CONFORM_UPDATE_REPROS=1 cargo test -p conform-harness --test repro` rewrites them after the
//! corpus or the generator changed.

use std::path::{Path, PathBuf};
use std::process::Command;

use conform_harness::repro::{example_name, reproduce_files};

/// The families whose corpus files must have standalone programs.
const PROGRAMS_REQUIRED: &[&str] = &["roundtrip", "dtype", "casts", "metamorphic", "files", "api"];

fn repo() -> PathBuf {
    Path::new(conform_harness::REPO_ROOT).to_path_buf()
}

fn examples() -> PathBuf {
    repo().join("properties/examples")
}

/// The generated examples of the current corpus: (file name, text).
fn generated() -> Vec<(String, String)> {
    let root = repo();
    let corpus = root.join("corpus");
    let paths: Vec<PathBuf> = conform_harness::corpus::Corpus::new(&corpus)
        .accepted()
        .into_iter()
        .map(|p| p.strip_prefix(&root).map(Path::to_path_buf).unwrap_or(p))
        .collect();
    assert!(!paths.is_empty(), "the corpus has files");
    std::env::set_current_dir(&root).unwrap();
    let reproductions =
        reproduce_files(&paths, Some(PathBuf::from("corpus")), Some(PathBuf::from("known-deviations.toml")))
            .expect("every corpus file reproduces");
    assert_eq!(reproductions.len(), paths.len());
    let mut out = Vec::new();
    for r in &reproductions {
        let name = example_name(&r.property, r.corpus_file.as_deref().map(Path::new));
        let family = r.property.split("::").next().unwrap_or_default();
        assert!(
            r.issue.starts_with("Title: ") && r.issue.contains("## Versions") && r.issue.contains("## Why"),
            "{name}"
        );
        let Some(rust) = r.rust.as_ref() else {
            // Only a family outside PROGRAMS_REQUIRED may lack a standalone program: its issue draft names the
            // replay command instead.
            assert!(!PROGRAMS_REQUIRED.contains(&family), "{name}: no Rust reproduction (culprit {})", r.culprit);
            eprintln!("{name}: no standalone program yet ({}); the issue draft names `conform replay`", r.culprit);
            continue;
        };
        assert!(rust.contains("actual") && rust.contains("expected"), "{name} prints actual and expected");
        out.push((format!("{name}.rs"), rust.clone()));
        // A libtorch deviation needs a Python/torch program; any other Python program (NumPy's reading of a file)
        // is kept and compiled too.
        if r.culprit.contains("libtorch") {
            assert!(r.python.is_some(), "{name}: libtorch's deviation without Python");
        }
        if let Some(py) = &r.python {
            out.push((format!("{name}.py"), py.clone()));
        }
    }
    out
}

#[test]
fn every_corpus_file_reproduces_the_python_compiles_and_the_rust_builds() {
    let dir = examples();
    let wanted = generated();
    let update = std::env::var_os("CONFORM_UPDATE_REPROS").is_some();
    let existing: Vec<String> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().to_string()).collect())
        .unwrap_or_default();
    let mut stale = Vec::new();
    for (name, text) in &wanted {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, text).unwrap();
            } else {
                stale.push(name.clone());
            }
        }
    }
    for name in existing.iter().filter(|n| n.starts_with("repro_") && !wanted.iter().any(|(w, _)| w == *n)) {
        if update {
            std::fs::remove_file(dir.join(name)).unwrap();
        } else {
            stale.push(format!("{name} (no corpus file any more)"));
        }
    }
    assert!(
        stale.is_empty(),
        "properties/examples is stale: {stale:?}\n(run CONFORM_UPDATE_REPROS=1 cargo test -p conform-harness --test repro)"
    );
    for (name, _) in wanted.iter().filter(|(n, _)| n.ends_with(".py")) {
        let out = Command::new("python3")
            .args(["-m", "py_compile"])
            .arg(dir.join(name))
            .env("PYTHONPYCACHEPREFIX", std::env::temp_dir().join("conform-pycache"))
            .output()
            .expect("python3 runs (the set-up needs it for pip)");
        assert!(out.status.success(), "{name} does not compile: {}", String::from_utf8_lossy(&out.stderr));
    }
    // The Rust reproductions build as examples of conform-properties, in the workspace's target folder. `cargo test
    // --workspace` builds every example, so the README's test command has built them by now and this is a no-op
    // there; it is the same command (not `cargo build -p conform-properties --example …`) because another selection
    // of packages unifies dependency features differently and would rebuild tch and the property crate (minutes).
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(repo())
        .args(["test", "--workspace", "--no-run", "--quiet", "--offline"])
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "the reproductions do not build:\n{}", String::from_utf8_lossy(&out.stderr));
    for (name, _) in wanted.iter().filter(|(n, _)| n.ends_with(".rs")) {
        let binary = repo().join("target/debug/examples").join(name.trim_end_matches(".rs"));
        assert!(binary.exists(), "{} was not built", binary.display());
    }
}
