//! The regression corpus on disk: `corpus/<family>/<property>/<short-hash>.json`, one shrunk case per file, and
//! pending files (`….json.new`) that a run writes for new failures until a person accepts or rejects them.
//!
//! Invariant: a bad file never stops the others — loading collects an error naming the file and the field and goes
//! on; a run never writes into the accepted corpus, and writes nothing at all when `CI` is set. Every write into
//! the corpus happens here.

use std::path::{Path, PathBuf};

use conform_generators::{parse_entry, Case, CorpusEntry, EntryError, Hint};
use conform_reports::Counterexample;

use crate::known;

/// A corpus file that cannot be used or written: the file, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", path.display())]
pub struct CorpusError {
    pub path: PathBuf,
    pub kind: CorpusErrorKind,
}

/// What is wrong with a corpus file.
#[derive(Debug, thiserror::Error)]
pub enum CorpusErrorKind {
    #[error("cannot read: {0}")]
    Read(std::io::Error),
    /// The content is not a valid corpus entry.
    #[error("{0}")]
    Entry(EntryError),
    #[error("property `{0}` does not exist")]
    UnknownProperty(String),
    #[error("is not a pending file")]
    NotPending { accepting: bool },
    #[error("cannot create: {0}")]
    CreateDir(std::io::Error),
    #[error("cannot write: {0}")]
    Write(std::io::Error),
    #[error("cannot accept: {0}")]
    Accept(std::io::Error),
    #[error("cannot reject: {0}")]
    Reject(std::io::Error),
}

impl CorpusError {
    fn new(path: &Path, kind: CorpusErrorKind) -> CorpusError {
        CorpusError { path: path.to_path_buf(), kind }
    }

    /// What to do about it, printed on a line of its own.
    pub fn hint(&self) -> Option<String> {
        match &self.kind {
            CorpusErrorKind::Entry(e) => e.hint(),
            CorpusErrorKind::UnknownProperty(_) => {
                Some("`conform list` prints the property names; reject the file or fix its property".into())
            }
            CorpusErrorKind::NotPending { accepting: true } => {
                Some("pending files end in .json.new; `conform review` lists them".into())
            }
            CorpusErrorKind::NotPending { accepting: false } => {
                Some("only .json.new files are rejected; delete accepted cases in a reviewed commit".into())
            }
            _ => None,
        }
    }
}

/// A corpus file read and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub path: PathBuf,
    pub entry: CorpusEntry,
}

/// Reads one corpus file (accepted or pending); `property_names` are the properties it may name.
pub fn load(path: &Path, property_names: &[&str]) -> Result<Loaded, CorpusError> {
    let bytes = std::fs::read(path).map_err(|e| CorpusError::new(path, CorpusErrorKind::Read(e)))?;
    let entry = parse_entry(&bytes).map_err(|e| CorpusError::new(path, CorpusErrorKind::Entry(e)))?;
    if !property_names.contains(&entry.property.as_str()) {
        return Err(CorpusError::new(path, CorpusErrorKind::UnknownProperty(entry.property)));
    }
    Ok(Loaded { path: path.to_path_buf(), entry })
}

/// The corpus rooted at a directory.
#[derive(Debug, Clone)]
pub struct Corpus {
    pub root: PathBuf,
}

impl Corpus {
    pub fn new(root: impl Into<PathBuf>) -> Corpus {
        Corpus { root: root.into() }
    }

    /// Where an entry's accepted file lives.
    pub fn path_for(&self, entry: &CorpusEntry) -> PathBuf {
        let (family, name) = entry.property.split_once("::").unwrap_or(("other", entry.property.as_str()));
        self.root.join(family).join(name).join(format!("{}.json", entry.short_hash()))
    }

    /// Every file under the root whose name ends in `suffix`, sorted.
    fn files(&self, suffix: &str) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut dirs = vec![self.root.clone()];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.to_string_lossy().ends_with(suffix) {
                    out.push(path);
                }
            }
        }
        out.sort();
        out
    }

    /// Accepted files (`*.json`).
    pub fn accepted(&self) -> Vec<PathBuf> {
        self.files(".json")
    }

    /// Pending files (`*.json.new`).
    pub fn pending(&self) -> Vec<PathBuf> {
        self.files(".json.new")
    }

    /// Loads every accepted file; bad ones become errors, the rest still load.
    pub fn load_accepted(&self, property_names: &[&str]) -> (Vec<Loaded>, Vec<CorpusError>) {
        let (mut good, mut bad) = (Vec::new(), Vec::new());
        for path in self.accepted() {
            match load(&path, property_names) {
                Ok(loaded) => good.push(loaded),
                Err(e) => bad.push(e),
            }
        }
        (good, bad)
    }

    /// Writes a new failure as a pending file, unless the same case is already accepted or `in_ci` (the `CI`
    /// variable is set: CI never writes files a person has to review). Returns the pending path written.
    pub fn write_pending(&self, entry: &CorpusEntry, in_ci: bool) -> Result<Option<PathBuf>, CorpusError> {
        let accepted = self.path_for(entry);
        if in_ci || accepted.exists() {
            return Ok(None);
        }
        let pending = pending_path(&accepted);
        let dir = pending.parent().expect("corpus paths have a parent");
        std::fs::create_dir_all(dir).map_err(|e| CorpusError::new(dir, CorpusErrorKind::CreateDir(e)))?;
        std::fs::write(&pending, entry.to_json()).map_err(|e| CorpusError::new(&pending, CorpusErrorKind::Write(e)))?;
        Ok(Some(pending))
    }
}

/// What a run does with a new failure found by the search: a pending corpus file for a person to review (never in
/// CI), and the `known-deviations.toml` entry to add if review finds it a deviation of libtorch or tch. Returns
/// the lines to print.
pub fn record_new_failure(
    corpus: &Corpus,
    property: &str,
    counterexample: &Counterexample,
    versions: (&str, &str),
    known_path: &Path,
    in_ci: bool,
) -> Result<String, CorpusError> {
    let Ok(case) = serde_json::from_value::<Case>(counterexample.case.clone()) else {
        return Ok(String::new());
    };
    let entry = CorpusEntry::new(property, &counterexample.signature, &counterexample.message, versions, case);
    let mut out = match corpus.write_pending(&entry, in_ci)? {
        Some(pending) => format!(
            "pending: {} (review with `conform review`, then `conform accept` or `conform reject`)\n",
            pending.display()
        ),
        None => "no pending file written (CI is set, or the case is already in the corpus)\n".to_string(),
    };
    let accepted = corpus.path_for(&entry);
    let relative = accepted.strip_prefix(known_path.parent().unwrap_or(Path::new("."))).unwrap_or(&accepted);
    let deviation = known::Entry {
        property: property.to_string(),
        signature: counterexample.signature.clone(),
        reason: "TODO: why this is libtorch's or tch's behaviour, not a conform bug".into(),
        evidence: relative.display().to_string(),
    };
    out.push_str(&format!(
        "if this is a deviation of libtorch/tch to accept after review, accept the pending file and add to {}:\n{}",
        known_path.display(),
        known::entry_toml(&deviation)
    ));
    Ok(out)
}

/// `x.json` → `x.json.new`.
pub fn pending_path(accepted: &Path) -> PathBuf {
    let mut name = accepted.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

/// Moves a pending file into the corpus; the file must be a valid entry first.
pub fn accept(pending: &Path, property_names: &[&str]) -> Result<PathBuf, CorpusError> {
    let text = pending.to_string_lossy();
    let Some(accepted) = text.strip_suffix(".new") else {
        return Err(CorpusError::new(pending, CorpusErrorKind::NotPending { accepting: true }));
    };
    load(pending, property_names)?;
    std::fs::rename(pending, accepted).map_err(|e| CorpusError::new(pending, CorpusErrorKind::Accept(e)))?;
    Ok(PathBuf::from(accepted))
}

/// Deletes a pending file.
pub fn reject(pending: &Path) -> Result<(), CorpusError> {
    if !pending.to_string_lossy().ends_with(".json.new") {
        return Err(CorpusError::new(pending, CorpusErrorKind::NotPending { accepting: false }));
    }
    std::fs::remove_file(pending).map_err(|e| CorpusError::new(pending, CorpusErrorKind::Reject(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use conform_generators::{Dtype, TensorCase};

    fn entry() -> CorpusEntry {
        CorpusEntry::new(
            "casts::x",
            "s",
            "m",
            ("2.11.0", "0.24.0"),
            Case::Tensor(TensorCase::contiguous(Dtype::U8, &[], vec![7]).unwrap()),
        )
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("conform-corpus-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn pending_then_accept_then_load() {
        let corpus = Corpus::new(temp("accept"));
        let pending = corpus.write_pending(&entry(), false).unwrap().expect("written outside CI");
        assert!(pending.to_string_lossy().ends_with(&format!("casts/x/{}.json.new", entry().short_hash())));
        assert_eq!(corpus.pending(), vec![pending.clone()]);
        assert!(corpus.accepted().is_empty(), "a run never writes into the accepted corpus");
        let accepted = accept(&pending, &["casts::x"]).unwrap();
        let (loaded, errors) = corpus.load_accepted(&["casts::x"]);
        assert!(errors.is_empty());
        assert_eq!(loaded, vec![Loaded { path: accepted, entry: entry() }]);
        assert_eq!(corpus.write_pending(&entry(), false).unwrap(), None, "an accepted case is not written again");
        let other =
            CorpusEntry { case: Case::Tensor(TensorCase::contiguous(Dtype::U8, &[], vec![8]).unwrap()), ..entry() };
        assert_eq!(corpus.write_pending(&other, true).unwrap(), None, "nothing is written in CI");
    }

    #[test]
    fn a_bad_file_is_named_and_the_others_still_load() {
        let corpus = Corpus::new(temp("bad"));
        let good = corpus.path_for(&entry());
        std::fs::create_dir_all(good.parent().unwrap()).unwrap();
        std::fs::write(&good, entry().to_json()).unwrap();
        let bad = good.with_file_name("bad.json");
        std::fs::write(&bad, entry().to_json().replace("\"u8\"", "\"u9\"")).unwrap();
        let unknown = good.with_file_name("unknown.json");
        std::fs::write(&unknown, entry().to_json().replace("casts::x", "casts::nope")).unwrap();
        let (loaded, errors) = corpus.load_accepted(&["casts::x"]);
        assert_eq!(loaded.len(), 1);
        assert_eq!(errors.len(), 2);
        assert!(
            errors[0].to_string().starts_with(&bad.display().to_string())
                && errors[0].to_string().contains("unknown variant `u9`"),
            "{}",
            errors[0]
        );
        assert!(errors[1].to_string().contains("property `casts::nope` does not exist"), "{}", errors[1]);
        assert!(errors[1].hint().unwrap().contains("conform list"));
    }

    #[test]
    fn reject_and_accept_refuse_accepted_files() {
        let corpus = Corpus::new(temp("reject"));
        let pending = corpus.write_pending(&entry(), false).unwrap().unwrap();
        let accepted_like = PathBuf::from(pending.to_string_lossy().trim_end_matches(".new").to_string());
        assert!(reject(&accepted_like).unwrap_err().to_string().ends_with("is not a pending file"));
        assert!(accept(&accepted_like, &["casts::x"]).unwrap_err().to_string().ends_with("is not a pending file"));
        reject(&pending).unwrap();
        assert!(corpus.pending().is_empty());
    }
}
