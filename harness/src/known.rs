//! `known-deviations.toml`: deviations of libtorch/tch that conform found and a person reviewed, each with the
//! failure signature it matches and the corpus case that shows it (the evidence).
//!
//! Invariant: every entry names an existing property and an existing, valid corpus file of that property; the
//! runner replays each evidence case, so an entry is `known` only while it still reproduces, and `fixed` once it
//! does not.

use std::path::{Path, PathBuf};

use conform_generators::Case;
use serde::{Deserialize, Serialize};

use crate::corpus;

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

#[derive(Debug, thiserror::Error)]
pub enum KnownError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: deviation #{index} names property `{property}`, which does not exist")]
    UnknownProperty { path: PathBuf, index: usize, property: String },
    #[error("{path}: deviation #{index} repeats property `{property}` with signature `{signature}`")]
    Duplicate { path: PathBuf, index: usize, property: String, signature: String },
    #[error("{path}: deviation #{index} ({property}): evidence {source}")]
    Evidence { path: PathBuf, index: usize, property: String, source: corpus::CorpusError },
    #[error("{path}: deviation #{index} is for `{property}` but its evidence {evidence} records `{recorded}`")]
    EvidenceProperty { path: PathBuf, index: usize, property: String, evidence: String, recorded: String },
}

impl KnownError {
    /// What to do about it, printed on a line of its own.
    pub fn hint(&self) -> Option<String> {
        match self {
            KnownError::Read { .. } => None,
            KnownError::Parse { .. } => Some(
                "each [[deviation]] needs property, signature, reason and evidence, the path of a corpus file".into(),
            ),
            KnownError::UnknownProperty { .. } => {
                Some("`conform list` prints the property names; fix or remove the entry".into())
            }
            KnownError::Duplicate { .. } => Some("keep one entry per property and signature".into()),
            KnownError::Evidence { source, .. } => source.hint(),
            KnownError::EvidenceProperty { .. } => Some("point evidence at a corpus case of the same property".into()),
        }
    }
}

/// Loads and checks the file; a missing file means no known deviations.
pub fn load(path: &Path, property_names: &[&str]) -> Result<Vec<KnownDeviation>, KnownError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(KnownError::Read { path: path.into(), source }),
    };
    parse(&text, path, property_names)
}

pub fn parse(text: &str, path: &Path, property_names: &[&str]) -> Result<Vec<KnownDeviation>, KnownError> {
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
        let loaded = corpus::load(&evidence_path, property_names).map_err(|source| KnownError::Evidence {
            path: path.into(),
            index,
            property: d.property.clone(),
            source,
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
        parse(text, &dir.join("kd.toml"), &["a::b", "a::c"]).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_entries_with_their_evidence() {
        let dir = setup("good");
        let entries = load_str(&dir, GOOD).unwrap();
        let Case::Tensor(evidence) = &entries[0].evidence;
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
}
