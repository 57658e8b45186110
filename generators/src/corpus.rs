//! The corpus entry: one shrunk counterexample as a reviewable JSON file — the property, the failure, the versions
//! it was seen with, and the case itself (values, not a seed, so it stays valid when strategies change).
//!
//! Invariant: [`parse_entry`] is the only reader, and everything it returns passed the same validation as a
//! generated case; corpus files come from pull requests and other machines and are untrusted until then. It lives
//! in this libtorch-free crate so the fuzz target can exercise it.

use serde::{Deserialize, Serialize};

use crate::cases::Case;
use crate::hint::Hint;

/// Version of the corpus file format; a newer file is refused with a hint.
///
/// History: 1, the first, held a tensor case as `case`; 2 tags every case with its kind (`"case": {"kind":
/// "tensor", …}`) so that families with other kinds of cases share the corpus. A version 1 file is still read (its
/// case is a tensor case) and keeps its file name, which hashes the tensor's own JSON in both versions.
pub const CORPUS_FORMAT_VERSION: u32 = 2;

/// A corpus file larger than this is refused before parsing.
pub const MAX_ENTRY_BYTES: usize = 16 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusEntry {
    pub format_version: u32,
    /// The property's full name, e.g. `casts::to_f16_correctly_rounded`.
    pub property: String,
    /// The failure's stable signature when it was recorded.
    pub signature: String,
    /// The failure message when it was recorded.
    pub message: String,
    pub libtorch_version: String,
    pub tch_version: String,
    /// The day it was first seen, `YYYY-MM-DD` (UTC).
    pub first_seen: String,
    pub case: Case,
}

/// Why a corpus file is not an entry. Each message is one line; [`Hint::hint`] says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("the file has {0} bytes, more than the {MAX_ENTRY_BYTES} a corpus entry may have")]
    TooLarge(usize),
    /// The JSON or a field in it is wrong; the message is serde's (or ours), naming the field.
    #[error("{0}")]
    Malformed(String),
    #[error("format_version is missing")]
    NoVersion,
    #[error("format_version {0} is newer than the {CORPUS_FORMAT_VERSION} this conform reads")]
    Newer(u32),
    #[error("format_version 0 is not a corpus format")]
    Zero,
}

impl Hint for EntryError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            EntryError::TooLarge(_) => "corpus cases are shrunk; this is not one".to_string(),
            // Fixed: the message is serde's text, which may carry a case's own message but not its hint.
            EntryError::Malformed(_) => "a corpus entry is a JSON object with format_version, property, signature, \
                 message, libtorch_version, tch_version, first_seen and case"
                .to_string(),
            EntryError::NoVersion | EntryError::Zero => {
                format!("this conform writes format_version {CORPUS_FORMAT_VERSION}")
            }
            EntryError::Newer(_) => "upgrade conform, or re-record the case with this version".to_string(),
        })
    }
}

/// Reads and validates one corpus entry.
pub fn parse_entry(bytes: &[u8]) -> Result<CorpusEntry, EntryError> {
    if bytes.len() > MAX_ENTRY_BYTES {
        return Err(EntryError::TooLarge(bytes.len()));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| EntryError::Malformed(e.to_string()))?;
    let Some(object) = value.as_object() else {
        return Err(EntryError::Malformed(format!("expected a JSON object, found {}", kind(&value))));
    };
    match object.get("format_version").map(|v| v.as_u64()) {
        None => return Err(EntryError::NoVersion),
        Some(None) => return Err(EntryError::Malformed("format_version is not a whole number".into())),
        Some(Some(0)) => return Err(EntryError::Zero),
        Some(Some(v)) if v > CORPUS_FORMAT_VERSION as u64 => {
            return Err(EntryError::Newer(v.min(u32::MAX as u64) as u32))
        }
        Some(Some(1)) => return upgrade_v1(value),
        Some(Some(_)) => {}
    }
    serde_json::from_value(value).map_err(|e| EntryError::Malformed(e.to_string()))
}

/// A format 1 entry read as the current format: its case is a tensor case, tagged as one.
fn upgrade_v1(mut value: serde_json::Value) -> Result<CorpusEntry, EntryError> {
    if let Some(case) = value.get_mut("case").and_then(|c| c.as_object_mut()) {
        if case.contains_key("kind") {
            return Err(EntryError::Malformed("a format_version 1 case has no `kind` field".into()));
        }
        case.insert("kind".into(), Case::TENSOR_KIND.into());
    }
    value["format_version"] = CORPUS_FORMAT_VERSION.into();
    serde_json::from_value(value).map_err(|e| EntryError::Malformed(e.to_string()))
}

fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

impl CorpusEntry {
    /// An entry in the current format, first seen today.
    pub fn new(property: &str, signature: &str, message: &str, versions: (&str, &str), case: Case) -> CorpusEntry {
        CorpusEntry {
            format_version: CORPUS_FORMAT_VERSION,
            property: property.into(),
            signature: signature.into(),
            message: message.into(),
            libtorch_version: versions.0.into(),
            tch_version: versions.1.into(),
            first_seen: today(),
            case,
        }
    }

    /// The file content: pretty JSON with a final newline, stable for review diffs.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("an entry always serialises");
        text.push('\n');
        text
    }

    /// A short content hash (property and case), used as the file name: the same case is one file.
    pub fn short_hash(&self) -> String {
        let hash = crate::hash::fnv1a(format!("{}\n{}", self.property, self.case.hash_text()).as_bytes());
        format!("{:012x}", hash >> 16)
    }
}

/// Today's date (UTC) as `YYYY-MM-DD`, from the system clock (civil-from-days, Howard Hinnant's algorithm).
pub fn today() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + (month <= 2) as i64;
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::TensorCase;
    use crate::dtype::Dtype;

    fn entry() -> CorpusEntry {
        let case = Case::Tensor(TensorCase::contiguous(Dtype::F16, &[2], vec![0x3c00, 0x8000]).unwrap());
        CorpusEntry {
            first_seen: "2026-11-28".into(),
            ..CorpusEntry::new("casts::x", "sig", "msg", ("2.11.0", "0.24.0"), case)
        }
    }

    #[test]
    fn entries_round_trip_and_hash_by_content() {
        let e = entry();
        assert_eq!(parse_entry(e.to_json().as_bytes()).unwrap(), e);
        assert_eq!(e.short_hash().len(), 12);
        let mut other = e.clone();
        other.message = "another message".into();
        assert_eq!(other.short_hash(), e.short_hash(), "the message does not change the file name");
        assert!(e.to_json().ends_with("}\n"));
    }

    #[test]
    fn every_kind_of_bad_file_is_named() {
        let good = entry().to_json();
        let err = |text: &str| parse_entry(text.as_bytes()).unwrap_err().to_string();
        assert!(err("{").contains("EOF while parsing"));
        assert!(err("[1,2]").contains("expected a JSON object, found an array"));
        assert!(err(&good.replace("\"format_version\": 2,", "")).contains("format_version is missing"));
        assert!(err(&good.replace("\"format_version\": 2", "\"format_version\": 3"))
            .contains("format_version 3 is newer than the 2"));
        assert!(
            err(&good.replace("\"format_version\": 2", "\"format_version\": 0")).contains("format_version 0 is not")
        );
        assert!(err(&good.replace("\"format_version\": 2", "\"format_version\": \"2\"")).contains("not a whole number"));
        assert!(err(&good.replace("\"kind\": \"tensor\"", "\"kind\": \"sound\"")).contains("unknown variant `sound`"));
        assert!(err(&good.replace("\"f16\"", "\"f17\"")).contains("unknown variant `f17`"));
        assert!(err(&good.replace("\"0x8000 = -0.0\"", "\"0x18000\""))
            .contains("storage[1] = 0x18000 does not fit dtype f16"));
        assert!(err(&good.replace("\"offset\": 0", "\"offset\": 1"))
            .contains("addresses storage elements 1..=2 but the storage holds 2"));
        let edited = |fields: &[(&str, serde_json::Value)]| {
            let mut v: serde_json::Value = serde_json::from_str(&good).unwrap();
            for (field, value) in fields {
                v["case"][*field] = value.clone();
            }
            err(&v.to_string())
        };
        use serde_json::json;
        let overflow = edited(&[("shape", json!([4294967296u64, 4294967296u64])), ("strides", json!([1, 1]))]);
        assert!(overflow.contains("the product of shape"), "{overflow}");
        assert!(edited(&[("strides", json!([i64::MAX]))]).contains("addresses storage elements"));
        assert!(edited(&[("storage", json!(["0x3c00"]))]).contains("but the storage holds 1"));
        assert!(edited(&[("strides", json!([1, 1]))]).contains("shape has 1 dimensions but strides has 2"));
        assert!(err(&good.replace("\"message\"", "\"mesage\"")).contains("unknown field `mesage`"));
        assert!(parse_entry(&vec![b' '; MAX_ENTRY_BYTES + 1]).unwrap_err().to_string().contains("more than the"));
    }

    #[test]
    fn a_format_1_entry_reads_as_a_tensor_case_under_the_same_file_name() {
        let e = entry();
        let mut v1: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        v1["format_version"] = 1.into();
        v1["case"].as_object_mut().unwrap().remove("kind");
        let read = parse_entry(v1.to_string().as_bytes()).unwrap();
        assert_eq!(read, e);
        assert_eq!(read.short_hash(), e.short_hash());
        v1["case"]["kind"] = "tensor".into();
        assert!(parse_entry(v1.to_string().as_bytes()).unwrap_err().to_string().contains("has no `kind` field"));
    }

    #[test]
    fn messages_are_one_line_and_every_variant_has_a_hint() {
        let one_of_each = [
            EntryError::TooLarge(17 << 20),
            EntryError::Malformed("EOF while parsing a value at line 1 column 1".into()),
            EntryError::NoVersion,
            EntryError::Newer(3),
            EntryError::Zero,
        ];
        for e in &one_of_each {
            let (message, hint) = (e.to_string(), e.hint());
            assert!(!message.contains('\n'), "{message:?}");
            assert!(hint.as_deref().is_some_and(|h| !h.is_empty() && !h.contains('\n')), "{e:?}: {hint:?}");
        }
        let wrote = format!("this conform writes format_version {CORPUS_FORMAT_VERSION}");
        assert_eq!(EntryError::NoVersion.hint(), Some(wrote.clone()));
        assert_eq!(EntryError::Zero.hint(), Some(wrote));
        // A malformed file's hint is the entry's shape, whatever serde said.
        let good = entry().to_json();
        let err = parse_entry(good.replace("\"0x8000 = -0.0\"", "\"0x18000\"").as_bytes()).unwrap_err();
        assert!(matches!(err, EntryError::Malformed(_)), "{err:?}");
        assert!(err.hint().unwrap().starts_with("a corpus entry is a JSON object with format_version"));
    }

    #[test]
    fn today_is_a_date() {
        let d = today();
        assert_eq!(d.len(), 10);
        assert!(d.starts_with("20"));
    }
}
