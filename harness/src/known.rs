//! `known-deviations.toml`: deviations of libtorch/tch that conform found and a person reviewed, each with the
//! failure signature it matches and the corpus case that shows it (the evidence).
//!
//! Invariant: every entry names an existing property and an existing, valid corpus file of that property, inside
//! the corpus (read as any corpus file is: no links, no escape, capped size); the runner replays each evidence case,
//! so an entry is `known` only while it still reproduces, and `fixed` once it does not. Only the default file may be
//! missing (no known deviations); a file a person named must exist, so a typo is not silently "nothing is known".

use std::path::{Path, PathBuf};

use conform_generators::Case;
use serde::{Deserialize, Serialize};

use crate::corpus::{self, Corpus};

/// An entry as written in the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The property's full name, e.g. `dtype::tch_array_kind_preserved`.
    pub property: String,
    /// The failure signature the property reports for it (stable across seeds and shrinking).
    pub signature: String,
    /// Why this is libtorch's or tch's behaviour and not a bug of conform.
    pub reason: String,
    /// The corpus file holding the shrunk case, relative to the known-deviations file.
    pub evidence: String,
}

/// An entry with its evidence case loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownDeviation {
    pub property: String,
    pub signature: String,
    pub reason: String,
    pub evidence_path: PathBuf,
    pub evidence: Case,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KnownFile {
    #[serde(default)]
    deviation: Vec<Entry>,
}

/// What a missing known-deviations file means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMissing {
    /// The default path: no known deviations.
    NoDeviations,
    /// A path a person gave (`--known`, `CONFORM_KNOWN`): an error naming it.
    Error,
}

// The underlying errors are fields named `error`, not `source`: their text is part of the message already, and a
// `source` would make a chain printer (`{:#}`) repeat it.
#[derive(Debug, thiserror::Error)]
pub enum KnownError {
    #[error("cannot read {path}: {error}")]
    Read { path: PathBuf, error: std::io::Error },
    #[error("known deviations file {path} does not exist")]
    Missing { path: PathBuf },
    #[error("{path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: deviation #{index} names property `{property}`, which does not exist")]
    UnknownProperty { path: PathBuf, index: usize, property: String },
    #[error("{path}: deviation #{index} repeats property `{property}` with signature `{signature}`")]
    Duplicate { path: PathBuf, index: usize, property: String, signature: String },
    #[error("{path}: deviation #{index} ({property}): evidence {error}")]
    Evidence { path: PathBuf, index: usize, property: String, error: Box<corpus::CorpusError> },
    #[error("{path}: deviation #{index} is for `{property}` but its evidence {evidence} records `{recorded}`")]
    EvidenceProperty { path: PathBuf, index: usize, property: String, evidence: String, recorded: String },
}

impl KnownError {
    /// What to do about it, printed on a line of its own.
    pub fn hint(&self) -> Option<String> {
        match self {
            KnownError::Read { .. } => None,
            KnownError::Missing { .. } => Some(
                "check the path given to --known or CONFORM_KNOWN; only the default known-deviations.toml may be \
                 missing (no known deviations)"
                    .into(),
            ),
            KnownError::Parse { .. } => Some(
                "each [[deviation]] needs property, signature, reason and evidence, the path of a corpus file".into(),
            ),
            KnownError::UnknownProperty { .. } => {
                Some("`conform list` prints the property names; fix or remove the entry".into())
            }
            KnownError::Duplicate { .. } => Some("keep one entry per property and signature".into()),
            KnownError::Evidence { error, .. } => error.hint(),
            KnownError::EvidenceProperty { .. } => Some("point evidence at a corpus case of the same property".into()),
        }
    }
}

/// Loads and checks the file, whose evidence must lie in `corpus`; `if_missing` says what a missing file means.
pub fn load(
    path: &Path,
    if_missing: IfMissing,
    corpus: &Corpus,
    property_names: &[&str],
) -> Result<Vec<KnownDeviation>, KnownError> {
    let text = match read_text(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return match if_missing {
                IfMissing::NoDeviations => Ok(Vec::new()),
                IfMissing::Error => Err(KnownError::Missing { path: path.into() }),
            }
        }
        Err(error) => return Err(KnownError::Read { path: path.into(), error }),
    };
    parse(&text, path, corpus, property_names)
}

/// The most bytes a known-deviations file may have (it lists reviewed entries; this is far beyond any real one).
const MAX_KNOWN_BYTES: u64 = 16 << 20;

/// The file's text, if it is a regular file of at most [`MAX_KNOWN_BYTES`]: a FIFO or device is refused before it
/// is opened, and the read is capped.
fn read_text(path: &Path) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind, Read};
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(Error::new(ErrorKind::InvalidInput, "not a regular file"));
    }
    let too_large = || Error::new(ErrorKind::InvalidData, format!("larger than {MAX_KNOWN_BYTES} bytes"));
    if meta.len() > MAX_KNOWN_BYTES {
        return Err(too_large());
    }
    let mut text = String::new();
    std::fs::File::open(path)?.take(MAX_KNOWN_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_KNOWN_BYTES {
        return Err(too_large());
    }
    Ok(text)
}

/// Parses the file's text; each evidence path is relative to the file's folder and must lie in `corpus`.
pub fn parse(
    text: &str,
    path: &Path,
    corpus: &Corpus,
    property_names: &[&str],
) -> Result<Vec<KnownDeviation>, KnownError> {
    let file: KnownFile =
        toml::from_str(text).map_err(|e| KnownError::Parse { path: path.into(), message: e.to_string() })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::with_capacity(file.deviation.len());
    for (index, d) in file.deviation.iter().enumerate() {
        let index = index + 1;
        if !property_names.contains(&d.property.as_str()) {
            return Err(KnownError::UnknownProperty { path: path.into(), index, property: d.property.clone() });
        }
        let earlier = &file.deviation[..index - 1];
        if earlier.iter().any(|e| e.property == d.property && e.signature == d.signature) {
            return Err(KnownError::Duplicate {
                path: path.into(),
                index,
                property: d.property.clone(),
                signature: d.signature.clone(),
            });
        }
        let evidence_path = base.join(&d.evidence);
        let loaded = corpus.load(&evidence_path, property_names).map_err(|error| KnownError::Evidence {
            path: path.into(),
            index,
            property: d.property.clone(),
            error: Box::new(error),
        })?;
        if loaded.entry.property != d.property {
            return Err(KnownError::EvidenceProperty {
                path: path.into(),
                index,
                property: d.property.clone(),
                evidence: d.evidence.clone(),
                recorded: loaded.entry.property,
            });
        }
        out.push(KnownDeviation {
            property: d.property.clone(),
            signature: d.signature.clone(),
            reason: d.reason.clone(),
            evidence_path,
            evidence: loaded.entry.case,
        });
    }
    Ok(out)
}

/// A `[[deviation]]` entry a person can paste into the file after review.
pub fn entry_toml(entry: &Entry) -> String {
    let file = KnownFile { deviation: vec![entry.clone()] };
    toml::to_string(&file).expect("a known deviation always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use conform_generators::{CorpusEntry, Dtype, TensorCase};

    fn setup(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("conform-known-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("corpus/a/b")).unwrap();
        let entry = CorpusEntry::new(
            "a::b",
            "sig",
            "m",
            ("2.11.0", "0.24.0"),
            Case::Tensor(TensorCase::contiguous(Dtype::U8, &[2], vec![1, 0]).unwrap()),
        );
        std::fs::write(dir.join("corpus/a/b/e.json"), entry.to_json()).unwrap();
        std::fs::write(dir.join("corpus/a/b/other.json"), entry.to_json().replace("a::b", "a::c")).unwrap();
        dir
    }

    const GOOD: &str = r#"
[[deviation]]
property = "a::b"
signature = "sig"
reason = "why"
evidence = "corpus/a/b/e.json"
"#;

    fn load_str(dir: &Path, text: &str) -> Result<Vec<KnownDeviation>, String> {
        parse(text, &dir.join("kd.toml"), &Corpus::new(dir.join("corpus")), &["a::b", "a::c"])
            .map_err(|e| e.to_string())
    }

    #[test]
    fn reads_entries_with_their_evidence() {
        let dir = setup("good");
        let entries = load_str(&dir, GOOD).unwrap();
        let Case::Tensor(evidence) = &entries[0].evidence else { panic!("a tensor case") };
        assert_eq!(evidence.logical(), vec![1, 0]);
        assert_eq!(entries[0].evidence_path, dir.join("corpus/a/b/e.json"));
        let entry = Entry {
            property: "a::b".into(),
            signature: "sig".into(),
            reason: "why".into(),
            evidence: "corpus/a/b/e.json".into(),
        };
        assert_eq!(load_str(&dir, &entry_toml(&entry)).unwrap(), entries);
    }

    #[test]
    fn bad_entries_are_named() {
        let dir = setup("bad");
        let unknown = load_str(&dir, &GOOD.replace("\"a::b\"", "\"a::x\"")).unwrap_err();
        assert!(unknown.contains("deviation #1 names property `a::x`, which does not exist"), "{unknown}");
        let twice = load_str(&dir, &format!("{GOOD}{GOOD}")).unwrap_err();
        assert!(twice.contains("deviation #2 repeats property `a::b`"), "{twice}");
        let missing = load_str(&dir, &GOOD.replace("e.json", "gone.json")).unwrap_err();
        assert!(
            missing.contains("deviation #1 (a::b): evidence") && missing.contains("gone.json: cannot read"),
            "{missing}"
        );
        let wrong = load_str(&dir, &GOOD.replace("e.json", "other.json")).unwrap_err();
        assert!(wrong.contains("is for `a::b` but its evidence corpus/a/b/other.json records `a::c`"), "{wrong}");
        let typo = load_str(&dir, &GOOD.replace("reason", "reasons")).unwrap_err();
        assert!(typo.contains("unknown field `reasons`"), "{typo}");
    }

    #[test]
    fn an_evidence_error_names_the_evidence_once_even_through_an_error_chain() {
        let dir = setup("once");
        let text = GOOD.replace("e.json", "gone.json");
        let error = parse(&text, &dir.join("kd.toml"), &Corpus::new(dir.join("corpus")), &["a::b"]).unwrap_err();
        assert!(std::error::Error::source(&error).is_none(), "the cause is in the message, not also a source");
        let chained = format!("{:#}", anyhow::Error::from(error));
        assert_eq!(chained.matches("gone.json").count(), 1, "{chained}");
    }

    #[test]
    fn evidence_outside_the_corpus_or_through_a_link_is_refused() {
        let dir = setup("escape");
        std::fs::copy(dir.join("corpus/a/b/e.json"), dir.join("outside.json")).unwrap();
        std::os::unix::fs::symlink(dir.join("outside.json"), dir.join("corpus/a/b/link.json")).unwrap();
        let outside = load_str(&dir, &GOOD.replace("corpus/a/b/e.json", "corpus/../outside.json")).unwrap_err();
        assert!(outside.contains("lies outside the corpus"), "{outside}");
        let link = load_str(&dir, &GOOD.replace("e.json", "link.json")).unwrap_err();
        assert!(link.contains("is a symbolic link"), "{link}");
    }

    #[test]
    fn only_the_default_file_may_be_missing() {
        let dir = setup("missing");
        let corpus = Corpus::new(dir.join("corpus"));
        let typo = dir.join("known-deviatons.toml");
        assert_eq!(load(&typo, IfMissing::NoDeviations, &corpus, &["a::b"]).unwrap(), vec![]);
        let named = load(&typo, IfMissing::Error, &corpus, &["a::b"]).unwrap_err();
        assert!(named.to_string().ends_with("known-deviatons.toml does not exist"), "{named}");
        assert!(named.hint().unwrap().contains("--known or CONFORM_KNOWN"));
    }
}
