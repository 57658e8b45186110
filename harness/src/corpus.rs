//! The regression corpus on disk: `corpus/<family>/<property>/<short-hash>.json`, one shrunk case per file, and
//! pending files (`….json.new`) that a run writes for new failures until a person accepts or rejects them.
//!
//! Invariant: a bad file never stops the others — loading collects an error naming the file and the field and goes
//! on; a run never writes into the accepted corpus, and writes nothing into the corpus when `CI` is set (a pending
//! folder outside it, `--pending DIR`, still gets its pending files, so a CI artifact can carry them). Every write
//! into the corpus happens here.
//!
//! Corpus files are untrusted (they come from pull requests), so a file is read only when it is a regular file
//! (never through a symbolic link, never a FIFO or device) inside the corpus root, at most
//! [`MAX_ENTRY_BYTES`] by its metadata, and through a reader capped at that size; walking the corpus never follows
//! a link, so a link loop cannot hang it. `accept` and `reject` take only a pending file named by its content hash
//! in the folder [`Corpus::path_for`] gives, and accepting never replaces an accepted file with other content.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};

use conform_generators::corpus::MAX_ENTRY_BYTES;
use conform_generators::{parse_entry, Case, CorpusEntry, EntryError, Hint};
use conform_reports::Counterexample;

use crate::known;

/// Text from a file (a corpus entry's fields, a file name, an error that quotes a file) as it may be shown on a
/// terminal: control characters (newlines included) and the bidirectional controls that reorder what is seen are
/// written as Rust escapes (`\u{1b}`), so a file cannot move the cursor, recolour or rewrite the screen, or forge
/// a line of output.
pub fn shown(text: &str) -> String {
    escape(text, false)
}

/// [`shown`], keeping newlines (for multi-line messages such as a TOML parser's).
pub fn shown_lines(text: &str) -> String {
    escape(text, true)
}

fn escape(text: &str, keep_newlines: bool) -> String {
    let reorders = |c: char| matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if (c.is_control() && !(keep_newlines && c == '\n')) || reorders(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// A corpus file that cannot be used or written: the file, and what is wrong with it (shown escaped: both may
/// carry a file's text).
#[derive(Debug, thiserror::Error)]
#[error("{}", shown(&format!("{}: {kind}", path.display())))]
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
    /// A symbolic link: never followed, whether it names a file, a folder or itself.
    #[error("is a symbolic link, which conform does not follow in the corpus")]
    Symlink,
    #[error("is {0}, not a regular file")]
    NotRegular(&'static str),
    #[error("lies outside the corpus {}", .root.display())]
    OutsideCorpus { root: PathBuf },
    #[error("changed while it was being opened")]
    Changed,
    #[error("is not a pending file")]
    NotPending { accepting: bool },
    #[error("has a file name that is not UTF-8")]
    NotUtf8,
    /// A pending file must be named by its content hash, as a run writes it.
    #[error("is named {found} but its case hashes to {expected}")]
    NameMismatch { found: String, expected: String },
    /// A pending file must lie in the folder of its property.
    #[error("belongs in {}", .expected.display())]
    WrongFolder { expected: PathBuf },
    #[error("would replace {}, which holds different content", .accepted.display())]
    WouldOverwrite { accepted: PathBuf },
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
            CorpusErrorKind::Symlink | CorpusErrorKind::NotRegular(_) => {
                Some("put the file itself in the corpus (no links, FIFOs or devices), or remove it".into())
            }
            CorpusErrorKind::OutsideCorpus { .. } => Some(
                "corpus and evidence files must lie inside the corpus folder; name another corpus with --corpus DIR \
                      (or CONFORM_CORPUS)"
                    .into(),
            ),
            CorpusErrorKind::Changed => Some("try again once nothing else is changing the corpus".into()),
            CorpusErrorKind::NotPending { .. }
                if self.path.file_name() == Some(OsStr::new("known-deviations.toml.new")) =>
            {
                Some(
                    "known-deviations.toml is edited by hand in a reviewed commit; accept and reject take only \
                      pending corpus files (<hash>.json.new)"
                        .into(),
                )
            }
            CorpusErrorKind::NotPending { accepting: true } => {
                Some("pending files end in .json.new and lie in the corpus; `conform review` lists them".into())
            }
            CorpusErrorKind::NotPending { accepting: false } => {
                Some("only .json.new files are rejected; delete accepted cases in a reviewed commit".into())
            }
            CorpusErrorKind::NotUtf8 | CorpusErrorKind::NameMismatch { .. } | CorpusErrorKind::WrongFolder { .. } => {
                Some(
                    "a run writes pending files as <hash>.json.new in their property's folder; this one was not \
                      written by conform: delete it by hand"
                        .into(),
                )
            }
            CorpusErrorKind::WouldOverwrite { .. } => Some(
                "that case is already accepted; reject the pending file, or remove the accepted one in a reviewed \
                 commit first"
                    .into(),
            ),
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

/// What a file that is not a regular one is, for messages.
fn what_it_is(kind: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a folder"
    } else {
        "something other than a file"
    }
}

/// The bytes of a regular file of at most [`MAX_ENTRY_BYTES`], without following a link: the size comes from the
/// metadata before anything is read (a 3 GB sparse file costs nothing), a FIFO or device is refused before it is
/// opened (opening a FIFO blocks), and the read itself is capped in case the file grows meanwhile.
fn read_capped(path: &Path) -> Result<Vec<u8>, CorpusErrorKind> {
    let meta = std::fs::symlink_metadata(path).map_err(CorpusErrorKind::Read)?;
    let kind = meta.file_type();
    if kind.is_symlink() {
        return Err(CorpusErrorKind::Symlink);
    }
    if !kind.is_file() {
        return Err(CorpusErrorKind::NotRegular(what_it_is(kind)));
    }
    let too_large = |len: u64| CorpusErrorKind::Entry(EntryError::TooLarge(usize::try_from(len).unwrap_or(usize::MAX)));
    if meta.len() > MAX_ENTRY_BYTES as u64 {
        return Err(too_large(meta.len()));
    }
    let file = std::fs::File::open(path).map_err(CorpusErrorKind::Read)?;
    // The path may have been replaced between the check and the open: read only the file that was checked.
    let opened = file.metadata().map_err(CorpusErrorKind::Read)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if (opened.dev(), opened.ino()) != (meta.dev(), meta.ino()) {
            return Err(CorpusErrorKind::Changed);
        }
    }
    if !opened.file_type().is_file() {
        return Err(CorpusErrorKind::NotRegular(what_it_is(opened.file_type())));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_ENTRY_BYTES as u64 + 1).read_to_end(&mut bytes).map_err(CorpusErrorKind::Read)?;
    if bytes.len() > MAX_ENTRY_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The corpus rooted at a directory.
#[derive(Debug, Clone)]
pub struct Corpus {
    pub root: PathBuf,
    /// Where pending files go instead of beside the corpus files (`--pending DIR`), in the same layout.
    pub pending_root: Option<PathBuf>,
}

impl Corpus {
    pub fn new(root: impl Into<PathBuf>) -> Corpus {
        Corpus { root: root.into(), pending_root: None }
    }

    /// The same corpus, writing pending files under `dir` (when given) instead: see [`Corpus::write_pending`].
    pub fn pending_under(self, dir: Option<PathBuf>) -> Corpus {
        Corpus { pending_root: dir, ..self }
    }

    /// Where an entry's accepted file lives.
    pub fn path_for(&self, entry: &CorpusEntry) -> PathBuf {
        let (family, name) = entry.property.split_once("::").unwrap_or(("other", entry.property.as_str()));
        self.root.join(family).join(name).join(format!("{}.json", entry.short_hash()))
    }

    /// Every entry under the root whose name ends in `suffix`, sorted, walking folders without following links:
    /// a symbolic link is listed when its name ends in `suffix` or it leads to a folder (or loops), so that loading
    /// it names it ([`CorpusErrorKind::Symlink`]) instead of silently skipping it; a link is never walked into, so a
    /// link loop cannot hang the walk.
    fn files(&self, suffix: &str) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut dirs = vec![self.root.clone()];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                let path = entry.path();
                let named = path.to_string_lossy().ends_with(suffix);
                match entry.file_type() {
                    Ok(kind) if kind.is_dir() => dirs.push(path),
                    Ok(kind) if kind.is_symlink() => {
                        let to_folder_or_loop = match std::fs::metadata(&path) {
                            Ok(target) => target.is_dir(),
                            Err(e) => e.kind() != std::io::ErrorKind::NotFound,
                        };
                        if named || to_folder_or_loop {
                            out.push(path);
                        }
                    }
                    _ if named => out.push(path),
                    _ => {}
                }
            }
        }
        out.sort();
        out
    }

    /// Reads one corpus file (accepted or pending) of this corpus; `property_names` are the properties it may name.
    /// The file must be a regular file (not a link) whose folder, links resolved, lies inside the root.
    pub fn load(&self, path: &Path, property_names: &[&str]) -> Result<Loaded, CorpusError> {
        let real = self.inside(path)?;
        let bytes = read_capped(&real).map_err(|kind| CorpusError::new(path, kind))?;
        let entry = parse_entry(&bytes).map_err(|e| CorpusError::new(path, CorpusErrorKind::Entry(e)))?;
        if !property_names.contains(&entry.property.as_str()) {
            return Err(CorpusError::new(path, CorpusErrorKind::UnknownProperty(entry.property)));
        }
        Ok(Loaded { path: path.to_path_buf(), entry })
    }

    /// The root with every link resolved.
    fn canonical_root(&self) -> Result<PathBuf, CorpusError> {
        std::fs::canonicalize(&self.root).map_err(|e| CorpusError::new(&self.root, CorpusErrorKind::Read(e)))
    }

    /// `path` with its folder's links resolved, when that folder lies inside the root; the file itself is not
    /// resolved (a link there is refused when it is read).
    fn inside(&self, path: &Path) -> Result<PathBuf, CorpusError> {
        let root = self.canonical_root()?;
        let Some(name) = path.file_name() else {
            return Err(CorpusError::new(path, CorpusErrorKind::NotRegular("a folder")));
        };
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let folder = std::fs::canonicalize(folder).map_err(|e| CorpusError::new(path, CorpusErrorKind::Read(e)))?;
        if !folder.starts_with(&root) {
            return Err(CorpusError::new(path, CorpusErrorKind::OutsideCorpus { root: self.root.clone() }));
        }
        Ok(folder.join(name))
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
            match self.load(&path, property_names) {
                Ok(loaded) => good.push(loaded),
                Err(e) => bad.push(e),
            }
        }
        (good, bad)
    }

    /// Writes a new failure as a pending file, unless the same case is already accepted. With a pending root it goes
    /// there, at the path it would have in the corpus, whether or not `in_ci`; without one it goes beside the
    /// corpus files, unless `in_ci` (the `CI` variable is set: CI never writes into the corpus a file a person has
    /// to review). Returns the pending path written.
    pub fn write_pending(&self, entry: &CorpusEntry, in_ci: bool) -> Result<Option<PathBuf>, CorpusError> {
        let accepted = self.path_for(entry);
        if accepted.exists() {
            return Ok(None);
        }
        let pending = match &self.pending_root {
            Some(root) => pending_path(&Corpus::new(root).path_for(entry)),
            None if in_ci => return Ok(None),
            None => pending_path(&accepted),
        };
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
        Some(pending) if corpus.pending_root.is_some() => format!(
            "pending: {} (copy it into {} at the same relative path, then `conform review` and `conform accept` or \
             `conform reject`)\n",
            pending.display(),
            corpus.root.display()
        ),
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

impl Corpus {
    /// Checks that `pending` is a pending file as a run writes it: a `.json.new` file with a UTF-8 name, a regular
    /// file inside the root, a valid entry, named `<short_hash>.json.new` after its own content, in the folder
    /// [`Corpus::path_for`] gives for its property. Returns it loaded, and the accepted path (links in its folder
    /// resolved) that it would become.
    fn check_pending(
        &self,
        pending: &Path,
        property_names: &[&str],
        accepting: bool,
    ) -> Result<(Loaded, PathBuf), CorpusError> {
        let error = |kind| CorpusError::new(pending, kind);
        let name = pending.file_name().ok_or_else(|| error(CorpusErrorKind::NotPending { accepting }))?;
        // Checked before anything else: a lossy name would be accepted under a changed name.
        let name = name.to_str().ok_or_else(|| error(CorpusErrorKind::NotUtf8))?;
        if !name.ends_with(".json.new") {
            return Err(error(CorpusErrorKind::NotPending { accepting }));
        }
        let loaded = self.load(pending, property_names)?;
        let expected_name = format!("{}.json.new", loaded.entry.short_hash());
        if name != expected_name {
            return Err(error(CorpusErrorKind::NameMismatch { found: name.into(), expected: expected_name }));
        }
        let real = self.inside(pending)?;
        let accepted = Corpus::new(self.canonical_root()?).path_for(&loaded.entry);
        if real.parent() != accepted.parent() {
            let expected = self.path_for(&loaded.entry).parent().map(Path::to_path_buf).unwrap_or_default();
            return Err(error(CorpusErrorKind::WrongFolder { expected }));
        }
        Ok((loaded, accepted))
    }

    /// Moves a pending file into the corpus (see `check_pending` for what it must be). An accepted file of the same
    /// case is never replaced: when it has the same content the pending file is only removed; otherwise it is an
    /// error. Returns the accepted path.
    pub fn accept(&self, pending: &Path, property_names: &[&str]) -> Result<PathBuf, CorpusError> {
        let (loaded, accepted) = self.check_pending(pending, property_names, true)?;
        let shown = self.path_for(&loaded.entry);
        let real_pending = self.inside(pending)?;
        let content = read_capped(&real_pending).map_err(|kind| CorpusError::new(pending, kind))?;
        let error = |kind| CorpusError::new(pending, kind);
        if std::fs::symlink_metadata(&accepted).is_ok() {
            return match read_capped(&accepted) {
                Ok(existing) if existing == content => {
                    std::fs::remove_file(&real_pending).map_err(|e| error(CorpusErrorKind::Accept(e)))?;
                    Ok(shown)
                }
                _ => Err(error(CorpusErrorKind::WouldOverwrite { accepted: shown })),
            };
        }
        // A hard link fails when the target exists, so a file that appeared since the check is not replaced either.
        match std::fs::hard_link(&real_pending, &accepted) {
            Ok(()) => std::fs::remove_file(&real_pending).map_err(|e| error(CorpusErrorKind::Accept(e)))?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(error(CorpusErrorKind::WouldOverwrite { accepted: shown }))
            }
            // A file system without hard links: the check above stands.
            Err(_) => std::fs::rename(&real_pending, &accepted).map_err(|e| error(CorpusErrorKind::Accept(e)))?,
        }
        Ok(shown)
    }

    /// Deletes a pending file (see `check_pending` for what it must be).
    pub fn reject(&self, pending: &Path, property_names: &[&str]) -> Result<(), CorpusError> {
        self.check_pending(pending, property_names, false)?;
        let real = self.inside(pending)?;
        std::fs::remove_file(real).map_err(|e| CorpusError::new(pending, CorpusErrorKind::Reject(e)))
    }
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
        let accepted = corpus.accept(&pending, &["casts::x"]).unwrap();
        let (loaded, errors) = corpus.load_accepted(&["casts::x"]);
        assert!(errors.is_empty());
        assert_eq!(loaded, vec![Loaded { path: accepted, entry: entry() }]);
        assert_eq!(corpus.write_pending(&entry(), false).unwrap(), None, "an accepted case is not written again");
        let other =
            CorpusEntry { case: Case::Tensor(TensorCase::contiguous(Dtype::U8, &[], vec![8]).unwrap()), ..entry() };
        assert_eq!(corpus.write_pending(&other, true).unwrap(), None, "nothing is written in CI");
    }

    #[test]
    fn a_pending_root_gets_the_corpus_layout_even_in_ci_and_never_the_accepted() {
        let (root, elsewhere) = (temp("pending-root-corpus"), temp("pending-root"));
        let corpus = Corpus::new(&root).pending_under(Some(elsewhere.clone()));
        let pending = corpus.write_pending(&entry(), true).unwrap().expect("written under the pending root in CI");
        let relative = pending.strip_prefix(&elsewhere).unwrap();
        assert_eq!(relative, pending_path(Corpus::new(&root).path_for(&entry()).strip_prefix(&root).unwrap()));
        assert!(corpus.pending().is_empty() && !root.exists(), "nothing is written into the corpus");
        let accepted = corpus.path_for(&entry());
        std::fs::create_dir_all(accepted.parent().unwrap()).unwrap();
        std::fs::write(&accepted, entry().to_json()).unwrap();
        std::fs::remove_file(&pending).unwrap();
        assert_eq!(corpus.write_pending(&entry(), true).unwrap(), None, "an accepted case is not written again");
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
        assert!(corpus
            .reject(&accepted_like, &["casts::x"])
            .unwrap_err()
            .to_string()
            .ends_with("is not a pending file"));
        assert!(corpus
            .accept(&accepted_like, &["casts::x"])
            .unwrap_err()
            .to_string()
            .ends_with("is not a pending file"));
        corpus.reject(&pending, &["casts::x"]).unwrap();
        assert!(corpus.pending().is_empty());
    }

    #[test]
    fn text_from_files_is_shown_with_control_characters_escaped() {
        assert_eq!(
            shown("a\u{1b}[31mb\n\u{7}\u{202e}c `d` \"e\" \\ é"),
            "a\\u{1b}[31mb\\u{a}\\u{7}\\u{202e}c `d` \"e\" \\ é"
        );
        assert_eq!(shown_lines("a\nb\u{1b}"), "a\nb\\u{1b}");
        let error = CorpusError::new(Path::new("x\u{1b}[2J.json"), CorpusErrorKind::UnknownProperty("p\u{9b}".into()));
        assert_eq!(error.to_string(), "x\\u{1b}[2J.json: property `p\\u{9b}` does not exist");
    }
}
