//! `TensorCase`: one generated input — a dtype, a layout, and the backing storage as raw element bits — and its
//! person-readable JSON form, the form the corpus and reports store.
//!
//! Invariant: a `TensorCase` that exists has passed [`TensorCase::validate`]: every element bits value fits its dtype
//! and the layout addresses only storage elements. Deserialising checks the same, so a case read from disk is as
//! safe as a generated one.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::dtype::Dtype;
use crate::hint::Hint;
use crate::layout::{Layout, LayoutError};

/// The most elements a case may have (so a case read from disk cannot make conform allocate without bound).
pub const MAX_CASE_NUMEL: usize = 1 << 24;

#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "CaseJson", into = "CaseJson")]
pub struct TensorCase {
    dtype: Dtype,
    layout: Layout,
    storage: Vec<u64>,
}

/// Why a case is not valid. Each message is one line; [`Hint::hint`] says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidCase {
    #[error("{0}")]
    Layout(#[from] LayoutError),
    #[error("storage[{index}] = {bits:#x} does not fit dtype {dtype}")]
    BitsTooWide { index: usize, bits: u64, dtype: Dtype, width: u32, bool_hint: &'static str },
    #[error("storage[{index}] = `{text}` is not an element")]
    BadElement { index: usize, text: String },
    #[error("the case has {numel} elements, more than the {MAX_CASE_NUMEL} a case may have")]
    TooManyElements { numel: usize },
    #[error("storage[{index}]: bits {hex} are {actual} but the text says {claimed}")]
    DecimalMismatch { index: usize, hex: String, actual: String, claimed: String },
}

impl Hint for InvalidCase {
    fn hint(&self) -> Option<String> {
        match self {
            InvalidCase::Layout(e) => e.hint(),
            InvalidCase::BitsTooWide { dtype, width, bool_hint, .. } => {
                Some(format!("{dtype} elements use {width} bits{bool_hint}"))
            }
            InvalidCase::BadElement { .. } => {
                Some("write the bits in hex, optionally followed by `= decimal`, e.g. \"0x3f800000 = 1.0\"".to_string())
            }
            InvalidCase::TooManyElements { .. } => {
                Some("conform's cases are small; a broadcast layout can still address few storage values".to_string())
            }
            InvalidCase::DecimalMismatch { .. } => {
                Some("the hex bits are authoritative; fix the decimal or leave it out".to_string())
            }
        }
    }
}

impl TensorCase {
    /// Builds a case, checking every invariant.
    pub fn new(dtype: Dtype, layout: Layout, storage: Vec<u64>) -> Result<TensorCase, InvalidCase> {
        for (index, &bits) in storage.iter().enumerate() {
            if bits & !dtype.mask() != 0 {
                let bool_hint = if dtype == Dtype::Bool { " (0 or 1)" } else { "" };
                return Err(InvalidCase::BitsTooWide { index, bits, dtype, width: dtype.width(), bool_hint });
            }
        }
        layout.validate(storage.len())?;
        let numel = layout.numel().expect("validated layout");
        if numel > MAX_CASE_NUMEL {
            return Err(InvalidCase::TooManyElements { numel });
        }
        Ok(TensorCase { dtype, layout, storage })
    }

    /// A C-contiguous case holding `values` in row-major order.
    pub fn contiguous(dtype: Dtype, shape: &[usize], values: Vec<u64>) -> Result<TensorCase, InvalidCase> {
        TensorCase::new(dtype, Layout::contiguous(shape), values)
    }

    pub fn dtype(&self) -> Dtype {
        self.dtype
    }
    pub fn layout(&self) -> &Layout {
        &self.layout
    }
    pub fn shape(&self) -> &[usize] {
        &self.layout.shape
    }
    pub fn storage(&self) -> &[u64] {
        &self.storage
    }
    pub fn numel(&self) -> usize {
        self.layout.numel().expect("validated layout")
    }

    /// The elements' bits in row-major logical order.
    pub fn logical(&self) -> Vec<u64> {
        self.layout.addresses().into_iter().map(|a| self.storage[a]).collect()
    }

    /// The same values in a fresh C-contiguous layout.
    pub fn to_contiguous(&self) -> TensorCase {
        TensorCase { dtype: self.dtype, layout: Layout::contiguous(self.shape()), storage: self.logical() }
    }

    /// `[i, j, …]` for the `flat`-th logical element, for messages.
    pub fn index_string(&self, flat: usize) -> String {
        let parts: Vec<String> = self.layout.unravel(flat).iter().map(|i| i.to_string()).collect();
        format!("[{}]", parts.join(","))
    }

    /// The case as pretty JSON (the corpus form).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a case always serialises")
    }
}

impl fmt::Debug for TensorCase {
    /// One line a person can read back: `TensorCase { dtype: f32, shape: [1], strides: [1], offset: 0, storage: [0x3f800000 = 1.0] }`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 16;
        let mut items: Vec<String> = self.storage.iter().take(SHOWN).map(|&b| element_text(self.dtype, b)).collect();
        if self.storage.len() > SHOWN {
            items.push(format!("… {} more", self.storage.len() - SHOWN));
        }
        write!(
            f,
            "TensorCase {{ dtype: {}, shape: {:?}, strides: {:?}, offset: {}, storage: [{}] }}",
            self.dtype,
            self.layout.shape,
            self.layout.strides,
            self.layout.offset,
            items.join(", ")
        )
    }
}

/// `0x3f800000 = 1.0`: the bits, then the decimal they stand for.
pub fn element_text(dtype: Dtype, bits: u64) -> String {
    format!("{} = {}", dtype.hex(bits), dtype.render(bits))
}

fn parse_element(dtype: Dtype, index: usize, text: &str) -> Result<u64, InvalidCase> {
    let bad = || InvalidCase::BadElement { index, text: text.to_string() };
    let (hex, rest) = match text.trim().split_once(char::is_whitespace) {
        Some((hex, rest)) => (hex, Some(rest.trim())),
        None => (text.trim(), None),
    };
    let digits = hex.strip_prefix("0x").ok_or_else(bad)?;
    let bits = u64::from_str_radix(digits, 16).map_err(|_| bad())?;
    if let Some(rest) = rest {
        let claimed = rest.strip_prefix('=').ok_or_else(bad)?.trim();
        let actual = dtype.render(bits & dtype.mask());
        if claimed != actual {
            return Err(InvalidCase::DecimalMismatch {
                index,
                hex: hex.to_string(),
                actual,
                claimed: claimed.to_string(),
            });
        }
    }
    Ok(bits)
}

/// The serde form: field names are part of the corpus format.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseJson {
    dtype: Dtype,
    shape: Vec<usize>,
    strides: Vec<isize>,
    offset: usize,
    storage: Vec<String>,
}

impl TryFrom<CaseJson> for TensorCase {
    type Error = InvalidCase;
    fn try_from(json: CaseJson) -> Result<Self, Self::Error> {
        let storage = json
            .storage
            .iter()
            .enumerate()
            .map(|(index, text)| parse_element(json.dtype, index, text))
            .collect::<Result<Vec<u64>, InvalidCase>>()?;
        let layout = Layout { shape: json.shape, strides: json.strides, offset: json.offset };
        TensorCase::new(json.dtype, layout, storage)
    }
}

impl From<TensorCase> for CaseJson {
    fn from(case: TensorCase) -> Self {
        CaseJson {
            dtype: case.dtype,
            storage: case.storage.iter().map(|&b| element_text(case.dtype, b)).collect(),
            shape: case.layout.shape,
            strides: case.layout.strides,
            offset: case.layout.offset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trips_and_reads_well() {
        let layout = Layout { shape: vec![2], strides: vec![-1], offset: 1 };
        let case = TensorCase::new(Dtype::F32, layout, vec![0x8000_0000, 0x7fc0_0001]).unwrap();
        let json = case.to_json();
        assert!(json.contains("\"0x80000000 = -0.0\""), "{json}");
        assert!(json.contains("\"0x7fc00001 = NaN\""), "{json}");
        let back: TensorCase = serde_json::from_str(&json).unwrap();
        assert_eq!(back, case);
        assert_eq!(back.logical(), vec![0x7fc0_0001, 0x8000_0000]);
    }

    #[test]
    fn bad_json_names_the_field() {
        let base = r#"{"dtype":"f16","shape":[2],"strides":[1],"offset":0,"storage":["0x3c00","0x3c00 = 1.0"]}"#;
        assert!(serde_json::from_str::<TensorCase>(base).is_ok());
        let err = |text: &str| serde_json::from_str::<TensorCase>(text).unwrap_err().to_string();
        assert!(err(&base.replace("f16", "f17")).contains("unknown variant `f17`"));
        assert!(err(&base.replace("\"0x3c00\"", "\"0x13c00\"")).contains("storage[0] = 0x13c00 does not fit dtype f16"));
        assert!(err(&base.replace("= 1.0", "= 2.0")).contains("bits 0x3c00 are 1.0 but the text says 2.0"));
        assert!(err(&base.replace("\"0x3c00\"", "\"1.0\"")).contains("storage[0] = `1.0` is not an element"));
        assert!(err(&base.replace("[1]", "[2]")).contains("addresses storage elements 0..=2 but the storage holds 2"));
        assert!(err(&base.replace("\"offset\"", "\"ofset\"")).contains("unknown field `ofset`"));
    }

    #[test]
    fn huge_broadcast_cases_are_refused() {
        let layout = Layout { shape: vec![1 << 30], strides: vec![0], offset: 0 };
        let err = TensorCase::new(Dtype::U8, layout, vec![0]).unwrap_err().to_string();
        assert!(err.contains("the case has 1073741824 elements"), "{err}");
    }

    #[test]
    fn bool_bits_are_zero_or_one() {
        let err = TensorCase::contiguous(Dtype::Bool, &[1], vec![2]).unwrap_err();
        assert_eq!(err.to_string(), "storage[0] = 0x2 does not fit dtype bool");
        assert_eq!(err.hint().as_deref(), Some("bool elements use 1 bits (0 or 1)"));
        let err = TensorCase::contiguous(Dtype::F16, &[1], vec![0x1_3c00]).unwrap_err();
        assert_eq!(err.hint().as_deref(), Some("f16 elements use 16 bits"));
    }

    #[test]
    fn messages_are_one_line_and_every_variant_has_a_hint() {
        let layout = crate::layout::LayoutError::OutOfBounds { lowest: -1, highest: 4, storage_len: 3 };
        let one_of_each = [
            InvalidCase::Layout(layout.clone()),
            InvalidCase::BitsTooWide { index: 2, bits: 2, dtype: Dtype::Bool, width: 1, bool_hint: " (0 or 1)" },
            InvalidCase::BadElement { index: 0, text: "1.0".into() },
            InvalidCase::TooManyElements { numel: 1 << 30 },
            InvalidCase::DecimalMismatch {
                index: 1,
                hex: "0x3c00".into(),
                actual: "1.0".into(),
                claimed: "2.0".into(),
            },
        ];
        for e in &one_of_each {
            let (message, hint) = (e.to_string(), e.hint());
            assert!(!message.contains('\n'), "{message:?}");
            assert!(hint.as_deref().is_some_and(|h| !h.is_empty() && !h.contains('\n')), "{e:?}: {hint:?}");
        }
        // A wrapped layout error keeps its own message and hint.
        assert_eq!(one_of_each[0].to_string(), layout.to_string());
        assert_eq!(one_of_each[0].hint(), layout.hint());
        // Through serde the message survives (with serde's position); the hint is the caller's to print.
        let json = r#"{"dtype":"f16","shape":[1],"strides":[1],"offset":0,"storage":["1.0"]}"#;
        let err = serde_json::from_str::<TensorCase>(json).unwrap_err().to_string();
        assert!(err.starts_with("storage[0] = `1.0` is not an element") && !err.contains("hint"), "{err}");
    }
}
