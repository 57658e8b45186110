//! `known-deviations.toml`: deviations of libtorch/tch that conform found and a person reviewed, each with the
//! failure signature it matches and the shrunk case that shows it (the evidence).
//!
//! Invariant: every entry names an existing property and holds a valid case; the runner replays each evidence
//! case, so an entry is `known` only while it still reproduces, and `fixed` once it does not.

use std::path::{Path, PathBuf};

use conform_generators::TensorCase;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownDeviation {
    /// The property's full name, e.g. `dtype::tch_array_kind_preserved`.
    pub property: String,
    /// The failure signature the property reports for it (stable across seeds and shrinking).
    pub signature: String,
    /// Why this is libtorch's or tch's behaviour and not a bug of conform.
    pub reason: String,
    /// The message the shrunk case gave when it was recorded, for reviewers.
    #[serde(default)]
    pub message: String,
    /// The shrunk case, in the corpus JSON form written as a TOML table.
    pub evidence: TensorCase,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KnownFile {
    #[serde(default)]
    deviation: Vec<KnownDeviation>,
}

#[derive(Debug, thiserror::Error)]
pub enum KnownError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid: {message}\n(hint: each [[deviation]] needs property, signature, reason and evidence = {{ dtype, shape, strides, offset, storage }})")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: deviation #{index} names property `{property}`, which does not exist\n(hint: `conform list` prints the property names; fix or remove the entry)")]
    UnknownProperty { path: PathBuf, index: usize, property: String },
    #[error("{path}: deviation #{index} repeats property `{property}` with signature `{signature}`\n(hint: keep one entry per property and signature)")]
    Duplicate { path: PathBuf, index: usize, property: String, signature: String },
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
    }
    Ok(file.deviation)
}

/// A `[[deviation]]` entry a person can paste into the file after review.
pub fn entry_toml(deviation: &KnownDeviation) -> String {
    let file = KnownFile { deviation: vec![deviation.clone()] };
    toml::to_string(&file).expect("a known deviation always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[deviation]]
property = "a::b"
signature = "sig"
reason = "why"
evidence = { dtype = "u8", shape = [2], strides = [-1], offset = 1, storage = ["0x00", "0x01 = 1"] }
"#;

    fn load_str(text: &str) -> Result<Vec<KnownDeviation>, String> {
        parse(text, Path::new("kd.toml"), &["a::b"]).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_entries_with_their_evidence() {
        let entries = load_str(GOOD).unwrap();
        assert_eq!(entries[0].evidence.logical(), vec![1, 0]);
        let again = load_str(&entry_toml(&entries[0])).unwrap();
        assert_eq!(again, entries);
    }

    #[test]
    fn bad_entries_are_named() {
        let unknown = load_str(&GOOD.replace("a::b", "a::c")).unwrap_err();
        assert!(unknown.contains("deviation #1 names property `a::c`, which does not exist"), "{unknown}");
        let twice = load_str(&format!("{GOOD}{GOOD}")).unwrap_err();
        assert!(twice.contains("deviation #2 repeats property `a::b`"), "{twice}");
        let out_of_bounds = load_str(&GOOD.replace("offset = 1", "offset = 2")).unwrap_err();
        assert!(out_of_bounds.contains("addresses storage elements 1..=2 but the storage holds 2"), "{out_of_bounds}");
        let typo = load_str(&GOOD.replace("reason", "reasons")).unwrap_err();
        assert!(typo.contains("unknown field `reasons`"), "{typo}");
    }
}
