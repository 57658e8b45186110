//! Writes every report file of a run (report.json, report.html, junit.xml) into one folder, and checks before a run
//! that the folder can take them.
//!
//! Invariant: each file is replaced atomically (written to a hidden temporary file in the same folder, synced, then
//! renamed over the final name), so a reader, or a run killed halfway, sees a whole old file or a whole new one,
//! never a truncated one. Everything is rendered before the first file is written.

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use crate::model::Report;
use crate::{html, junit, to_json};

/// The name of the JSON report in the output folder.
pub const JSON_FILE: &str = "report.json";
/// The name of the HTML report in the output folder.
pub const HTML_FILE: &str = "report.html";
/// The name of the JUnit report in the output folder.
pub const JUNIT_FILE: &str = "junit.xml";

/// The files [`write_all`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub json: PathBuf,
    pub html: PathBuf,
    pub junit: PathBuf,
}

impl Written {
    /// The three paths, JSON first.
    pub fn paths(&self) -> [&Path; 3] {
        [&self.json, &self.html, &self.junit]
    }
}

/// Why the report files could not be written. The message is one lowercase line that does not repeat the cause;
/// print the whole chain (anyhow's `{:#}`) and [`WriteError::hint`] on a line of its own.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot create folder {}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{} exists and is not a folder", path.display())]
    NotADirectory { path: PathBuf },
    #[error("cannot write into folder {}", path.display())]
    NotWritable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Writing or syncing the temporary file of `path` failed; `path` is the final name.
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot rename {} to {}", from.display(), to.display())]
    Rename {
        from: PathBuf,
        to: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot render {}", path.display())]
    Junit {
        path: PathBuf,
        #[source]
        source: quick_junit::SerializeError,
    },
}

impl WriteError {
    /// What the user can do about it, when there is something.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            WriteError::NotADirectory { .. } => Some("--out (CONFORM_OUT) must name a folder, not a file"),
            WriteError::CreateDir { .. } => {
                Some("--out (CONFORM_OUT) must name a folder that exists or can be created")
            }
            WriteError::NotWritable { .. } | WriteError::Write { .. } | WriteError::Rename { .. } => {
                Some("--out (CONFORM_OUT) must name a folder you can write to, on a disk with free space")
            }
            WriteError::Junit { .. } => None,
        }
    }
}

/// Writes report.json, report.html and junit.xml of `report` into `dir`, creating it if missing, each atomically.
pub fn write_all(report: &Report, dir: &Path) -> Result<Written, WriteError> {
    let json_path = dir.join(JSON_FILE);
    let html_path = dir.join(HTML_FILE);
    let junit_path = dir.join(JUNIT_FILE);
    let json = to_json(report);
    let page = html::to_html(report);
    let junit = junit::to_junit(report).map_err(|source| WriteError::Junit { path: junit_path.clone(), source })?;
    ensure_dir(dir)?;
    write_atomically(&json_path, json.as_bytes())?;
    write_atomically(&html_path, page.as_bytes())?;
    write_atomically(&junit_path, junit.as_bytes())?;
    sync_dir(dir);
    Ok(Written { json: json_path, html: html_path, junit: junit_path })
}

/// Refuses, before any work, an output folder that exists and is not a folder, or that cannot be created or written
/// into: creates it if missing, then creates and removes a temporary file in it.
pub fn check_out_dir(dir: &Path) -> Result<(), WriteError> {
    ensure_dir(dir)?;
    let probe = dir.join(format!(".conform-probe.tmp-{}", std::process::id()));
    let not_writable = |source| WriteError::NotWritable { path: dir.to_path_buf(), source };
    File::create(&probe).map_err(not_writable)?;
    fs::remove_file(&probe).map_err(not_writable)
}

fn ensure_dir(dir: &Path) -> Result<(), WriteError> {
    // `exists` follows symlinks, so a link to a folder is a folder.
    if dir.exists() && !dir.is_dir() {
        return Err(WriteError::NotADirectory { path: dir.to_path_buf() });
    }
    fs::create_dir_all(dir).map_err(|source| WriteError::CreateDir { path: dir.to_path_buf(), source })
}

/// The temporary file sits beside `path` so that the rename stays on one file system, where it is atomic.
fn temporary_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

fn write_atomically(path: &Path, content: &[u8]) -> Result<(), WriteError> {
    let tmp = temporary_path(path);
    let written = File::create(&tmp).and_then(|mut file| {
        file.write_all(content)?;
        file.flush()?;
        file.sync_all()
    });
    if let Err(source) = written {
        let _ = fs::remove_file(&tmp);
        return Err(WriteError::Write { path: path.to_path_buf(), source });
    }
    fs::rename(&tmp, path).map_err(|source| {
        let _ = fs::remove_file(&tmp);
        WriteError::Rename { from: tmp.clone(), to: path.to_path_buf(), source }
    })
}

/// Makes the renames durable across a power loss, where the platform allows it; the files are whole either way, so
/// a failure here is not an error.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh, empty folder for one test, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(test: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!("conform-reports-{test}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn write_all_writes_three_parseable_files_and_no_temporary_ones() {
        let scratch = Scratch::new("write-all");
        let out = scratch.0.join("nested/out");
        let r = crate::tests::report();
        let written = write_all(&r, &out).unwrap();
        assert_eq!(written.paths(), [out.join(JSON_FILE), out.join(HTML_FILE), out.join(JUNIT_FILE)]);
        assert_eq!(names(&out), [JUNIT_FILE, HTML_FILE, JSON_FILE]);
        let json: Report = serde_json::from_slice(&fs::read(&written.json).unwrap()).unwrap();
        assert_eq!(json, r);
        let page = fs::read_to_string(&written.html).unwrap();
        assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>") && page.contains(&r.run_id));
        let xml = fs::read_to_string(&written.junit).unwrap();
        assert!(xml.starts_with("<?xml") && xml.trim_end().ends_with("</testsuites>"));
        assert!(xml.contains(&format!(r#"<property name="run_id" value="{}"/>"#, r.run_id)));
    }

    #[test]
    fn write_all_replaces_earlier_files() {
        let scratch = Scratch::new("replace");
        let mut r = crate::tests::report();
        write_all(&r, &scratch.0).unwrap();
        r.run_id = "second".into();
        let written = write_all(&r, &scratch.0).unwrap();
        assert!(fs::read_to_string(&written.json).unwrap().contains(r#""run_id": "second""#));
        assert_eq!(names(&scratch.0).len(), 3);
    }

    #[test]
    fn write_all_into_a_file_is_not_a_directory_with_a_hint() {
        let scratch = Scratch::new("into-file");
        let file = scratch.0.join("out");
        fs::write(&file, "not a folder").unwrap();
        let err = write_all(&crate::tests::report(), &file).unwrap_err();
        assert!(matches!(&err, WriteError::NotADirectory { path } if *path == file), "{err:?}");
        assert_eq!(err.to_string(), format!("{} exists and is not a folder", file.display()));
        assert_eq!(err.hint(), Some("--out (CONFORM_OUT) must name a folder, not a file"));
        assert_eq!(fs::read_to_string(&file).unwrap(), "not a folder");
    }

    #[test]
    fn check_out_dir_creates_a_missing_folder_and_leaves_it_empty() {
        let scratch = Scratch::new("check-new");
        let out = scratch.0.join("a/b");
        check_out_dir(&out).unwrap();
        assert!(out.is_dir());
        assert!(names(&out).is_empty());
    }

    #[test]
    fn check_out_dir_refuses_a_file_and_a_folder_below_a_file() {
        let scratch = Scratch::new("check-file");
        let file = scratch.0.join("out");
        fs::write(&file, "").unwrap();
        assert!(matches!(check_out_dir(&file), Err(WriteError::NotADirectory { .. })));
        let err = check_out_dir(&file.join("below")).unwrap_err();
        assert!(matches!(err, WriteError::CreateDir { .. }), "{err:?}");
        assert!(err.hint().is_some());
        assert!(std::error::Error::source(&err).is_some());
    }
}
