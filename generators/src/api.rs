//! `ApiCase`: one call of a safe, fallible tch function (`f_as_strided`, `f_view`, `f_zeros`, `f_copy_data_u8`, …)
//! with hostile arguments — negative, huge and overflowing sizes, strides and offsets, dimensions out of range,
//! data shorter or longer than the sizes say, mismatched kinds, empty tensors — and, for a method, the tensor it is
//! called on: a kind, a shape and one of three layouts, holding a fixed pattern of bytes ([`ApiInput::bytes`]).
//!
//! Drawing: each argument is plausible (near its valid range, so that calls often succeed and their results get
//! judged) or hostile (0, ±1, the extremes of i64 and their neighbours, powers of two whose products overflow, random
//! words). About a third of the cases are all plausible; the others have at least one hostile argument.
//!
//! Shrinking (a hand-written greedy value tree, [`ApiTree`]): each candidate is strictly simpler than the case in one
//! part and equal in the others, so shrinking ends. In order: the input tensor loses dimensions, its sides shrink,
//! its layout becomes contiguous and its kind moves toward u8; then each argument list loses entries (a size and
//! its stride together), integers move to 0, then 1, then -1, then halve toward 0 or step toward their boundary
//! from above, kinds move toward the front of [`ApiKind::ALL`], optional arguments become absent and flags false.
//! The result has the fewest, smallest arguments that still fail: one hostile argument where one suffices.
//!
//! Invariant: every `ApiCase`, drawn or read from disk, passed [`ApiCase::validate`]: its lists and its input are
//! bounded, and a call that allocates asks either for at most [`MAX_API_BYTES`] bytes or for so many (at least
//! [`UNGRANTABLE_BYTES`], or a count that overflows) that no allocator can grant them, so that whatever libtorch
//! accepts cannot exhaust memory. Overflowing requests are drawn on purpose: libtorch must refuse them.

use std::fmt;

use proptest::strategy::{NewTree, Strategy, ValueTree};
use proptest::test_runner::{TestRng, TestRunner};
use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::dtype::Dtype;
use crate::hint::Hint;

/// The most bytes a call may legitimately allocate (the buffers conform passes included).
pub const MAX_API_BYTES: u64 = 1 << 24;
/// A request of at least this many bytes cannot be granted on any machine (beyond a 57-bit address space).
pub const UNGRANTABLE_BYTES: u128 = 1 << 57;
/// The most entries an argument list may have (libtorch's own limit on dimensions is 64).
pub const MAX_API_LIST: usize = 10;
/// The most dimensions an input tensor may have.
pub const MAX_API_RANK: usize = 8;
/// The most elements an input tensor may have.
pub const MAX_API_INPUT_NUMEL: usize = 1 << 16;

/// Every kind of element a tch `Kind` names, complex, quantized and float8 included. Shrinking moves toward the
/// front of [`ApiKind::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKind {
    U8,
    I8,
    I16,
    I32,
    I64,
    F32,
    F64,
    F16,
    Bf16,
    Bool,
    Complex32,
    Complex64,
    Complex128,
    Float8E5m2,
    Float8E4m3fn,
    Float8E5m2fnuz,
    Float8E4m3fnuz,
    Qint8,
    Quint8,
    Qint32,
}

impl ApiKind {
    /// Every kind, simplest first.
    pub const ALL: [ApiKind; 20] = [
        ApiKind::U8,
        ApiKind::I8,
        ApiKind::I16,
        ApiKind::I32,
        ApiKind::I64,
        ApiKind::F32,
        ApiKind::F64,
        ApiKind::F16,
        ApiKind::Bf16,
        ApiKind::Bool,
        ApiKind::Complex32,
        ApiKind::Complex64,
        ApiKind::Complex128,
        ApiKind::Float8E5m2,
        ApiKind::Float8E4m3fn,
        ApiKind::Float8E5m2fnuz,
        ApiKind::Float8E4m3fnuz,
        ApiKind::Qint8,
        ApiKind::Quint8,
        ApiKind::Qint32,
    ];

    /// The name in JSON and messages.
    pub fn name(self) -> &'static str {
        match self {
            ApiKind::U8 => "u8",
            ApiKind::I8 => "i8",
            ApiKind::I16 => "i16",
            ApiKind::I32 => "i32",
            ApiKind::I64 => "i64",
            ApiKind::F32 => "f32",
            ApiKind::F64 => "f64",
            ApiKind::F16 => "f16",
            ApiKind::Bf16 => "bf16",
            ApiKind::Bool => "bool",
            ApiKind::Complex32 => "complex32",
            ApiKind::Complex64 => "complex64",
            ApiKind::Complex128 => "complex128",
            ApiKind::Float8E5m2 => "float8_e5m2",
            ApiKind::Float8E4m3fn => "float8_e4m3fn",
            ApiKind::Float8E5m2fnuz => "float8_e5m2fnuz",
            ApiKind::Float8E4m3fnuz => "float8_e4m3fnuz",
            ApiKind::Qint8 => "qint8",
            ApiKind::Quint8 => "quint8",
            ApiKind::Qint32 => "qint32",
        }
    }

    /// Bytes per element (libtorch's `element_size`).
    pub fn size_bytes(self) -> usize {
        match self {
            ApiKind::U8 | ApiKind::I8 | ApiKind::Bool | ApiKind::Qint8 | ApiKind::Quint8 => 1,
            ApiKind::Float8E5m2 | ApiKind::Float8E4m3fn | ApiKind::Float8E5m2fnuz | ApiKind::Float8E4m3fnuz => 1,
            ApiKind::I16 | ApiKind::F16 | ApiKind::Bf16 => 2,
            ApiKind::I32 | ApiKind::F32 | ApiKind::Complex32 | ApiKind::Qint32 => 4,
            ApiKind::I64 | ApiKind::F64 | ApiKind::Complex64 => 8,
            ApiKind::Complex128 => 16,
        }
    }

    /// Quantized kinds, of which libtorch makes no tensor from bytes.
    pub fn is_quantized(self) -> bool {
        matches!(self, ApiKind::Qint8 | ApiKind::Quint8 | ApiKind::Qint32)
    }

    /// The kind of a conform dtype.
    pub fn of(dtype: Dtype) -> ApiKind {
        match dtype {
            Dtype::Bool => ApiKind::Bool,
            Dtype::U8 => ApiKind::U8,
            Dtype::I8 => ApiKind::I8,
            Dtype::I16 => ApiKind::I16,
            Dtype::I32 => ApiKind::I32,
            Dtype::I64 => ApiKind::I64,
            Dtype::F16 => ApiKind::F16,
            Dtype::Bf16 => ApiKind::Bf16,
            Dtype::F32 => ApiKind::F32,
            Dtype::F64 => ApiKind::F64,
        }
    }

    /// The conform dtype of this kind, if it has one.
    pub fn dtype(self) -> Option<Dtype> {
        Dtype::ALL.into_iter().find(|&d| ApiKind::of(d) == self)
    }
}

impl fmt::Display for ApiKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How an input tensor lies in its storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputLayout {
    /// Row-major over a storage of exactly its elements.
    Contiguous,
    /// Row-major, at storage offset 1, with one more storage element after it.
    Offset,
    /// Its last two dimensions transposed (made contiguous in the other order, then `transpose(-1, -2)`).
    Transposed,
}

/// The tensor a method is called on.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiInput {
    pub kind: ApiKind,
    pub shape: Vec<usize>,
    pub layout: InputLayout,
}

impl ApiInput {
    /// Its number of elements (saturating: a validated input has at most [`MAX_API_INPUT_NUMEL`]).
    pub fn numel(&self) -> usize {
        self.shape.iter().fold(1usize, |n, &s| n.saturating_mul(s))
    }

    /// The elements in its storage: its own, plus one before and one after for [`InputLayout::Offset`].
    pub fn storage_len(&self) -> usize {
        match self.layout {
            InputLayout::Offset => self.numel() + 2,
            InputLayout::Contiguous | InputLayout::Transposed => self.numel(),
        }
    }

    /// The bytes of its elements in row-major logical order: element `i`'s bytes follow a fixed pattern (a bool is
    /// `i % 2`), so a misplaced or foreign byte shows.
    pub fn bytes(&self) -> Vec<u8> {
        pattern(self.kind, self.numel())
    }

    /// The bytes of its storage, in storage order: for `Offset` one element of 0xee bytes (a bool: 1) on each
    /// side; for `Transposed` the elements in the order of the contiguous tensor of the swapped shape.
    pub fn storage_bytes(&self) -> Vec<u8> {
        let size = self.kind.size_bytes();
        let logical = self.bytes();
        match self.layout {
            InputLayout::Contiguous => logical,
            InputLayout::Offset => {
                let filler = if self.kind == ApiKind::Bool { 1 } else { 0xee };
                let mut out = vec![filler; size];
                out.extend_from_slice(&logical);
                out.extend(std::iter::repeat_n(filler, size));
                out
            }
            InputLayout::Transposed => {
                let rank = self.shape.len();
                let (rows, cols) = (self.shape[rank - 2], self.shape[rank - 1]);
                let mut out = vec![0u8; logical.len()];
                let plane = rows * cols;
                for flat in 0..self.numel() {
                    let (batch, within) = (flat / plane.max(1), flat % plane.max(1));
                    let (a, b) = (within / cols.max(1), within % cols.max(1));
                    let physical = batch * plane + b * rows + a;
                    out[physical * size..(physical + 1) * size].copy_from_slice(&logical[flat * size..][..size]);
                }
                out
            }
        }
    }

    /// The shape of the contiguous tensor the input is made from (`Transposed`: the last two sides swapped).
    pub fn storage_shape(&self) -> Vec<usize> {
        let mut shape = self.shape.clone();
        if self.layout == InputLayout::Transposed {
            let rank = shape.len();
            shape.swap(rank - 2, rank - 1);
        }
        shape
    }

    fn validate(&self) -> Result<(), InvalidApiCase> {
        if self.shape.len() > MAX_API_RANK {
            return Err(InvalidApiCase::InputRank { rank: self.shape.len() });
        }
        let numel = self.shape.iter().try_fold(1usize, |n, &s| n.checked_mul(s));
        if numel.is_none_or(|n| n > MAX_API_INPUT_NUMEL) {
            return Err(InvalidApiCase::InputTooLarge { shape: self.shape.clone() });
        }
        if self.kind.is_quantized() {
            return Err(InvalidApiCase::QuantizedInput { kind: self.kind });
        }
        if self.layout == InputLayout::Transposed && self.shape.len() < 2 {
            return Err(InvalidApiCase::TransposedRank { rank: self.shape.len() });
        }
        Ok(())
    }
}

impl fmt::Debug for ApiInput {
    /// `f32[2, 3] contiguous`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let layout = match self.layout {
            InputLayout::Contiguous => "contiguous",
            InputLayout::Offset => "at storage offset 1",
            InputLayout::Transposed => "transposed",
        };
        write!(f, "{}{:?} {layout}", self.kind, self.shape)
    }
}

/// `numel` elements of `kind` in the fixed input pattern, as bytes.
pub fn pattern(kind: ApiKind, numel: usize) -> Vec<u8> {
    let size = kind.size_bytes();
    if kind == ApiKind::Bool {
        return (0..numel).map(|i| (i % 2) as u8).collect();
    }
    (0..numel * size).map(|j| ((j * 151 + 7) % 251) as u8).collect()
}

/// The safe, fallible tch functions the `api` family calls. The name is tch's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ApiFn {
    AsStrided,
    View,
    Reshape,
    InternalReshapeAlias,
    Expand,
    Narrow,
    Select,
    Slice,
    Unfold,
    Permute,
    Transpose,
    Flatten,
    Unsqueeze,
    SqueezeDim,
    IndexSelect,
    ToKind,
    Zeros,
    EmptyStrided,
    FromDataSize,
    CopyData,
    CopyDataU8,
}

impl ApiFn {
    pub const ALL: [ApiFn; 21] = [
        ApiFn::AsStrided,
        ApiFn::View,
        ApiFn::Reshape,
        ApiFn::InternalReshapeAlias,
        ApiFn::Expand,
        ApiFn::Narrow,
        ApiFn::Select,
        ApiFn::Slice,
        ApiFn::Unfold,
        ApiFn::Permute,
        ApiFn::Transpose,
        ApiFn::Flatten,
        ApiFn::Unsqueeze,
        ApiFn::SqueezeDim,
        ApiFn::IndexSelect,
        ApiFn::ToKind,
        ApiFn::Zeros,
        ApiFn::EmptyStrided,
        ApiFn::FromDataSize,
        ApiFn::CopyData,
        ApiFn::CopyDataU8,
    ];

    /// tch's name of the function.
    pub fn name(self) -> &'static str {
        match self {
            ApiFn::AsStrided => "f_as_strided",
            ApiFn::View => "f_view",
            ApiFn::Reshape => "f_reshape",
            ApiFn::InternalReshapeAlias => "f_internal_reshape_alias",
            ApiFn::Expand => "f_expand",
            ApiFn::Narrow => "f_narrow",
            ApiFn::Select => "f_select",
            ApiFn::Slice => "f_slice",
            ApiFn::Unfold => "f_unfold",
            ApiFn::Permute => "f_permute",
            ApiFn::Transpose => "f_transpose",
            ApiFn::Flatten => "f_flatten",
            ApiFn::Unsqueeze => "f_unsqueeze",
            ApiFn::SqueezeDim => "f_squeeze_dim",
            ApiFn::IndexSelect => "f_index_select",
            ApiFn::ToKind => "f_to_kind",
            ApiFn::Zeros => "f_zeros",
            ApiFn::EmptyStrided => "f_empty_strided",
            ApiFn::FromDataSize => "f_from_data_size",
            ApiFn::CopyData => "f_copy_data",
            ApiFn::CopyDataU8 => "f_copy_data_u8",
        }
    }

    /// A method (called on an input tensor) rather than a constructor.
    pub fn is_method(self) -> bool {
        !matches!(self, ApiFn::Zeros | ApiFn::EmptyStrided | ApiFn::FromDataSize)
    }

    /// A view: its result shares the input's storage, never new memory.
    pub fn is_view(self) -> bool {
        matches!(
            self,
            ApiFn::AsStrided
                | ApiFn::View
                | ApiFn::InternalReshapeAlias
                | ApiFn::Expand
                | ApiFn::Narrow
                | ApiFn::Select
                | ApiFn::Slice
                | ApiFn::Unfold
                | ApiFn::Permute
                | ApiFn::Transpose
                | ApiFn::Unsqueeze
                | ApiFn::SqueezeDim
        )
    }
}

impl fmt::Display for ApiFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One call and its arguments, tagged by tch's function name (`{"fn": "f_narrow", "dim": 1, …}`). Counts and
/// lengths that tch takes as `usize` are `u64` here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "fn", deny_unknown_fields)]
pub enum ApiCall {
    #[serde(rename = "f_as_strided")]
    AsStrided { size: Vec<i64>, stride: Vec<i64>, storage_offset: Option<i64> },
    #[serde(rename = "f_view")]
    View { size: Vec<i64> },
    #[serde(rename = "f_reshape")]
    Reshape { size: Vec<i64> },
    #[serde(rename = "f_internal_reshape_alias")]
    InternalReshapeAlias { size: Vec<i64>, stride: Vec<i64> },
    #[serde(rename = "f_expand")]
    Expand { size: Vec<i64>, implicit: bool },
    #[serde(rename = "f_narrow")]
    Narrow { dim: i64, start: i64, length: i64 },
    #[serde(rename = "f_select")]
    Select { dim: i64, index: i64 },
    #[serde(rename = "f_slice")]
    Slice { dim: i64, start: Option<i64>, end: Option<i64>, step: i64 },
    #[serde(rename = "f_unfold")]
    Unfold { dimension: i64, size: i64, step: i64 },
    #[serde(rename = "f_permute")]
    Permute { dims: Vec<i64> },
    #[serde(rename = "f_transpose")]
    Transpose { dim0: i64, dim1: i64 },
    #[serde(rename = "f_flatten")]
    Flatten { start_dim: i64, end_dim: i64 },
    #[serde(rename = "f_unsqueeze")]
    Unsqueeze { dim: i64 },
    #[serde(rename = "f_squeeze_dim")]
    SqueezeDim { dim: i64 },
    /// The index tensor holds `index` (made as i64, then cast to `index_kind`).
    #[serde(rename = "f_index_select")]
    IndexSelect { dim: i64, index: Vec<i64>, index_kind: ApiKind },
    #[serde(rename = "f_to_kind")]
    ToKind { kind: ApiKind },
    #[serde(rename = "f_zeros")]
    Zeros { size: Vec<i64>, kind: ApiKind },
    #[serde(rename = "f_empty_strided")]
    EmptyStrided { size: Vec<i64>, stride: Vec<i64>, kind: ApiKind },
    /// `data` is the first `data_len` bytes of a buffer holding the input pattern of `kind` (see [`pattern`]).
    #[serde(rename = "f_from_data_size")]
    FromDataSize { data_len: u64, size: Vec<i64>, kind: ApiKind },
    /// `dst` is a `Vec` of `dst_len` elements of `element`.
    #[serde(rename = "f_copy_data")]
    CopyData { element: Dtype, dst_len: u64, numel: u64 },
    /// `dst` is a `Vec<u8>` of `dst_len` bytes.
    #[serde(rename = "f_copy_data_u8")]
    CopyDataU8 { dst_len: u64, numel: u64 },
}

/// One argument, dtype-erased, for shrinking and printing.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arg {
    Int(i64),
    Opt(Option<i64>),
    List(Vec<i64>),
    Count(u64),
    Kind(ApiKind),
    Dtype(Dtype),
    Flag(bool),
}

impl ApiCall {
    /// The function called.
    pub fn function(&self) -> ApiFn {
        match self {
            ApiCall::AsStrided { .. } => ApiFn::AsStrided,
            ApiCall::View { .. } => ApiFn::View,
            ApiCall::Reshape { .. } => ApiFn::Reshape,
            ApiCall::InternalReshapeAlias { .. } => ApiFn::InternalReshapeAlias,
            ApiCall::Expand { .. } => ApiFn::Expand,
            ApiCall::Narrow { .. } => ApiFn::Narrow,
            ApiCall::Select { .. } => ApiFn::Select,
            ApiCall::Slice { .. } => ApiFn::Slice,
            ApiCall::Unfold { .. } => ApiFn::Unfold,
            ApiCall::Permute { .. } => ApiFn::Permute,
            ApiCall::Transpose { .. } => ApiFn::Transpose,
            ApiCall::Flatten { .. } => ApiFn::Flatten,
            ApiCall::Unsqueeze { .. } => ApiFn::Unsqueeze,
            ApiCall::SqueezeDim { .. } => ApiFn::SqueezeDim,
            ApiCall::IndexSelect { .. } => ApiFn::IndexSelect,
            ApiCall::ToKind { .. } => ApiFn::ToKind,
            ApiCall::Zeros { .. } => ApiFn::Zeros,
            ApiCall::EmptyStrided { .. } => ApiFn::EmptyStrided,
            ApiCall::FromDataSize { .. } => ApiFn::FromDataSize,
            ApiCall::CopyData { .. } => ApiFn::CopyData,
            ApiCall::CopyDataU8 { .. } => ApiFn::CopyDataU8,
        }
    }

    /// The arguments with their names, in the function's order.
    fn args(&self) -> Vec<(&'static str, Arg)> {
        use Arg::*;
        match self.clone() {
            ApiCall::AsStrided { size, stride, storage_offset } => {
                vec![("size", List(size)), ("stride", List(stride)), ("storage_offset", Opt(storage_offset))]
            }
            ApiCall::View { size } | ApiCall::Reshape { size } => vec![("size", List(size))],
            ApiCall::InternalReshapeAlias { size, stride } => vec![("size", List(size)), ("stride", List(stride))],
            ApiCall::Expand { size, implicit } => vec![("size", List(size)), ("implicit", Flag(implicit))],
            ApiCall::Narrow { dim, start, length } => {
                vec![("dim", Int(dim)), ("start", Int(start)), ("length", Int(length))]
            }
            ApiCall::Select { dim, index } => vec![("dim", Int(dim)), ("index", Int(index))],
            ApiCall::Slice { dim, start, end, step } => {
                vec![("dim", Int(dim)), ("start", Opt(start)), ("end", Opt(end)), ("step", Int(step))]
            }
            ApiCall::Unfold { dimension, size, step } => {
                vec![("dimension", Int(dimension)), ("size", Int(size)), ("step", Int(step))]
            }
            ApiCall::Permute { dims } => vec![("dims", List(dims))],
            ApiCall::Transpose { dim0, dim1 } => vec![("dim0", Int(dim0)), ("dim1", Int(dim1))],
            ApiCall::Flatten { start_dim, end_dim } => vec![("start_dim", Int(start_dim)), ("end_dim", Int(end_dim))],
            ApiCall::Unsqueeze { dim } | ApiCall::SqueezeDim { dim } => vec![("dim", Int(dim))],
            ApiCall::IndexSelect { dim, index, index_kind } => {
                vec![("dim", Int(dim)), ("index", List(index)), ("index_kind", Kind(index_kind))]
            }
            ApiCall::ToKind { kind } => vec![("kind", Kind(kind))],
            ApiCall::Zeros { size, kind } => vec![("size", List(size)), ("kind", Kind(kind))],
            ApiCall::EmptyStrided { size, stride, kind } => {
                vec![("size", List(size)), ("stride", List(stride)), ("kind", Kind(kind))]
            }
            ApiCall::FromDataSize { data_len, size, kind } => {
                vec![("data_len", Count(data_len)), ("size", List(size)), ("kind", Kind(kind))]
            }
            ApiCall::CopyData { element, dst_len, numel } => {
                vec![("element", Dtype(element)), ("dst_len", Count(dst_len)), ("numel", Count(numel))]
            }
            ApiCall::CopyDataU8 { dst_len, numel } => vec![("dst_len", Count(dst_len)), ("numel", Count(numel))],
        }
    }

    /// The same call with argument `i` replaced by `arg` (of the same sort).
    fn with_arg(&self, i: usize, arg: Arg) -> ApiCall {
        use Arg::*;
        let mut out = self.clone();
        match (&mut out, i, arg) {
            (ApiCall::AsStrided { size: v, .. }, 0, List(x))
            | (ApiCall::AsStrided { stride: v, .. }, 1, List(x))
            | (ApiCall::View { size: v }, 0, List(x))
            | (ApiCall::Reshape { size: v }, 0, List(x))
            | (ApiCall::InternalReshapeAlias { size: v, .. }, 0, List(x))
            | (ApiCall::InternalReshapeAlias { stride: v, .. }, 1, List(x))
            | (ApiCall::Expand { size: v, .. }, 0, List(x))
            | (ApiCall::Permute { dims: v }, 0, List(x))
            | (ApiCall::IndexSelect { index: v, .. }, 1, List(x))
            | (ApiCall::Zeros { size: v, .. }, 0, List(x))
            | (ApiCall::EmptyStrided { size: v, .. }, 0, List(x))
            | (ApiCall::EmptyStrided { stride: v, .. }, 1, List(x))
            | (ApiCall::FromDataSize { size: v, .. }, 1, List(x)) => *v = x,
            (ApiCall::AsStrided { storage_offset: v, .. }, 2, Opt(x))
            | (ApiCall::Slice { start: v, .. }, 1, Opt(x))
            | (ApiCall::Slice { end: v, .. }, 2, Opt(x)) => *v = x,
            (ApiCall::Narrow { dim: v, .. }, 0, Int(x))
            | (ApiCall::Narrow { start: v, .. }, 1, Int(x))
            | (ApiCall::Narrow { length: v, .. }, 2, Int(x))
            | (ApiCall::Select { dim: v, .. }, 0, Int(x))
            | (ApiCall::Select { index: v, .. }, 1, Int(x))
            | (ApiCall::Slice { dim: v, .. }, 0, Int(x))
            | (ApiCall::Slice { step: v, .. }, 3, Int(x))
            | (ApiCall::Unfold { dimension: v, .. }, 0, Int(x))
            | (ApiCall::Unfold { size: v, .. }, 1, Int(x))
            | (ApiCall::Unfold { step: v, .. }, 2, Int(x))
            | (ApiCall::Transpose { dim0: v, .. }, 0, Int(x))
            | (ApiCall::Transpose { dim1: v, .. }, 1, Int(x))
            | (ApiCall::Flatten { start_dim: v, .. }, 0, Int(x))
            | (ApiCall::Flatten { end_dim: v, .. }, 1, Int(x))
            | (ApiCall::Unsqueeze { dim: v }, 0, Int(x))
            | (ApiCall::SqueezeDim { dim: v }, 0, Int(x))
            | (ApiCall::IndexSelect { dim: v, .. }, 0, Int(x)) => *v = x,
            (ApiCall::FromDataSize { data_len: v, .. }, 0, Count(x))
            | (ApiCall::CopyData { dst_len: v, .. }, 1, Count(x))
            | (ApiCall::CopyData { numel: v, .. }, 2, Count(x))
            | (ApiCall::CopyDataU8 { dst_len: v, .. }, 0, Count(x))
            | (ApiCall::CopyDataU8 { numel: v, .. }, 1, Count(x)) => *v = x,
            (ApiCall::IndexSelect { index_kind: v, .. }, 2, Kind(x))
            | (ApiCall::ToKind { kind: v }, 0, Kind(x))
            | (ApiCall::Zeros { kind: v, .. }, 1, Kind(x))
            | (ApiCall::EmptyStrided { kind: v, .. }, 2, Kind(x))
            | (ApiCall::FromDataSize { kind: v, .. }, 2, Kind(x)) => *v = x,
            (ApiCall::CopyData { element: v, .. }, 0, Dtype(x)) => *v = x,
            (ApiCall::Expand { implicit: v, .. }, 1, Flag(x)) => *v = x,
            (call, i, arg) => unreachable!("argument {i} of {} is not {arg:?}", call.function()),
        }
        out
    }

    /// The paired size and stride lists, if the call has them (`f_as_strided`, `f_internal_reshape_alias`,
    /// `f_empty_strided`): shrinking drops a dimension from both at once.
    fn paired(&self) -> Option<(&[i64], &[i64])> {
        match self {
            ApiCall::AsStrided { size, stride, .. }
            | ApiCall::InternalReshapeAlias { size, stride }
            | ApiCall::EmptyStrided { size, stride, .. } => Some((size, stride)),
            _ => None,
        }
    }

    /// Candidates strictly simpler in one argument, simplest first.
    fn simpler(&self) -> Vec<ApiCall> {
        let mut out = Vec::new();
        if let Some((size, stride)) = self.paired() {
            for i in 0..size.len().min(stride.len()) {
                let (mut s, mut t) = (size.to_vec(), stride.to_vec());
                s.remove(i);
                t.remove(i);
                out.push(self.with_arg(0, Arg::List(s)).with_arg(1, Arg::List(t)));
            }
        }
        for (i, (_, arg)) in self.args().into_iter().enumerate() {
            for simpler in simpler_arg(&arg) {
                out.push(self.with_arg(i, simpler));
            }
        }
        out
    }

    /// The lists, for validation: (name, entries).
    fn lists(&self) -> Vec<(&'static str, Vec<i64>)> {
        self.args()
            .into_iter()
            .filter_map(|(name, arg)| match arg {
                Arg::List(v) => Some((name, v)),
                _ => None,
            })
            .collect()
    }
}

fn simpler_arg(arg: &Arg) -> Vec<Arg> {
    match arg {
        Arg::Int(v) => simpler_int(*v).into_iter().map(Arg::Int).collect(),
        Arg::Opt(None) => Vec::new(),
        Arg::Opt(Some(v)) => {
            std::iter::once(Arg::Opt(None)).chain(simpler_int(*v).into_iter().map(|x| Arg::Opt(Some(x)))).collect()
        }
        Arg::List(v) => {
            let mut out: Vec<Arg> = (0..v.len())
                .map(|i| {
                    let mut shorter = v.clone();
                    shorter.remove(i);
                    Arg::List(shorter)
                })
                .collect();
            for (i, &x) in v.iter().enumerate() {
                for y in simpler_int(x) {
                    let mut changed = v.clone();
                    changed[i] = y;
                    out.push(Arg::List(changed));
                }
            }
            out
        }
        Arg::Count(v) => simpler_count(*v).into_iter().map(Arg::Count).collect(),
        Arg::Kind(k) => ApiKind::ALL.into_iter().take_while(|x| x != k).map(Arg::Kind).collect(),
        Arg::Dtype(d) => simpler_dtypes(*d).into_iter().map(Arg::Dtype).collect(),
        Arg::Flag(true) => vec![Arg::Flag(false)],
        Arg::Flag(false) => Vec::new(),
    }
}

/// Dtypes simpler than `d`: u8 first, then the others in [`Dtype::ALL`] order before `d`.
fn simpler_dtypes(d: Dtype) -> Vec<Dtype> {
    let order = ApiKind::ALL.iter().filter_map(|k| k.dtype());
    order.take_while(|&x| x != d).collect()
}

/// How far `v` is from simple: 0, 1, -1, 2, -2, … (a zigzag over magnitude, positive first).
fn int_measure(v: i64) -> u128 {
    let magnitude = v.unsigned_abs() as u128;
    if v > 0 {
        magnitude * 2 - 1
    } else {
        magnitude * 2
    }
}

/// Integers simpler than `v`, in the order shrinking tries them: 0, 1, -1, `-v`, then halving toward 0 and stepping
/// toward `v` from the 0 side (`v - v/4`, `v - v/8`, …, `v - 1`), which finds a boundary by bisection.
pub fn simpler_int(v: i64) -> Vec<i64> {
    let mut out = vec![0, 1, -1];
    if let Some(neg) = v.checked_neg() {
        out.push(neg);
    }
    out.push(v / 2);
    for k in 2..63 {
        let step = v / (1i64 << k);
        if step == 0 {
            break;
        }
        out.push(v - step);
    }
    out.push(v - v.signum());
    let mut seen = Vec::new();
    out.retain(|&x| int_measure(x) < int_measure(v) && !seen.contains(&x) && {
        seen.push(x);
        true
    });
    out
}

/// Counts simpler than `v`: 0, 1, then halving and stepping toward `v` from below.
pub fn simpler_count(v: u64) -> Vec<u64> {
    let mut out = vec![0, 1, v / 2];
    for k in 2..64 {
        let step = v >> k;
        if step == 0 {
            break;
        }
        out.push(v - step);
    }
    out.push(v.saturating_sub(1));
    let mut seen = Vec::new();
    out.retain(|&x| x < v && !seen.contains(&x) && {
        seen.push(x);
        true
    });
    out
}

/// One call of a safe tch function, with the tensor it is called on (none for a constructor).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "ApiCaseJson", into = "ApiCaseJson")]
pub struct ApiCase {
    input: Option<ApiInput>,
    call: ApiCall,
}

/// The serde form: field names are part of the corpus format.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiCaseJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    input: Option<ApiInput>,
    call: ApiCall,
}

impl TryFrom<ApiCaseJson> for ApiCase {
    type Error = InvalidApiCase;
    fn try_from(json: ApiCaseJson) -> Result<Self, Self::Error> {
        ApiCase::new(json.input, json.call)
    }
}

impl From<ApiCase> for ApiCaseJson {
    fn from(case: ApiCase) -> Self {
        ApiCaseJson { input: case.input, call: case.call }
    }
}

/// Why an `ApiCase` is not valid. Each message is one line; [`Hint::hint`] says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidApiCase {
    #[error("{function} is a method but the case has no input tensor")]
    NoInput { function: ApiFn },
    #[error("{function} makes a new tensor but the case has an input tensor")]
    UnusedInput { function: ApiFn },
    #[error("the input has {rank} dimensions, more than the {MAX_API_RANK} allowed")]
    InputRank { rank: usize },
    #[error("the input shape {shape:?} has more than the {MAX_API_INPUT_NUMEL} elements allowed")]
    InputTooLarge { shape: Vec<usize> },
    #[error("the input kind {kind} is quantized, and libtorch makes no quantized tensor from bytes")]
    QuantizedInput { kind: ApiKind },
    #[error("a transposed input needs at least 2 dimensions, not {rank}")]
    TransposedRank { rank: usize },
    #[error("argument {name} has {len} entries, more than the {MAX_API_LIST} allowed")]
    ListTooLong { name: &'static str, len: usize },
    #[error("argument {name} asks conform to allocate {bytes} bytes, more than the {MAX_API_BYTES} allowed")]
    BufferTooLarge { name: &'static str, bytes: u128 },
    #[error("{function} would allocate {bytes} bytes if libtorch accepted it, more than the {MAX_API_BYTES} allowed")]
    Grantable { function: ApiFn, bytes: u128 },
}

impl Hint for InvalidApiCase {
    fn hint(&self) -> Option<String> {
        Some(match self {
            InvalidApiCase::NoInput { .. } => "add an `input` tensor: kind, shape and layout".to_string(),
            InvalidApiCase::UnusedInput { .. } => "remove the `input` field".to_string(),
            InvalidApiCase::InputRank { .. } | InvalidApiCase::InputTooLarge { .. } => {
                "conform's api cases are small; use a smaller input".to_string()
            }
            InvalidApiCase::QuantizedInput { .. } => "quantized kinds are arguments only (to_kind, zeros…)".to_string(),
            InvalidApiCase::TransposedRank { .. } => "use the contiguous or offset layout".to_string(),
            InvalidApiCase::ListTooLong { .. } => format!("use at most {MAX_API_LIST} entries"),
            InvalidApiCase::BufferTooLarge { .. } => "use a shorter data or destination buffer".to_string(),
            InvalidApiCase::Grantable { .. } => format!(
                "ask for at most {MAX_API_BYTES} bytes, or for at least 2^57 (or an overflowing count), which no \
                 allocator grants"
            ),
        })
    }
}

/// The bytes a contiguous tensor of `size` and `kind` needs, as libtorch computes them (`None`: libtorch refuses
/// the sizes: a negative size, or a count that overflows).
pub fn contiguous_bytes(size: &[i64], kind: ApiKind) -> Option<u128> {
    if size.iter().any(|&s| s < 0) {
        return None;
    }
    let numel = size.iter().try_fold(1u64, |n, &s| n.checked_mul(s as u64))?;
    let bytes = (numel as u128) * kind.size_bytes() as u128;
    (bytes <= i64::MAX as u128).then_some(bytes)
}

/// The bytes a strided tensor of `size`, `stride` and `kind` needs, as libtorch's `computeStorageNbytes` computes
/// them in unsigned arithmetic (`None`: libtorch refuses: a negative size, mismatched ranks, or an overflow).
pub fn strided_bytes(size: &[i64], stride: &[i64], kind: ApiKind) -> Option<u128> {
    if size.len() != stride.len() || size.iter().any(|&s| s < 0) {
        return None;
    }
    if size.contains(&0) {
        return Some(0);
    }
    let mut last = 1u64;
    for (&s, &t) in size.iter().zip(stride) {
        last = last.checked_add((t as u64).checked_mul(s as u64 - 1)?)?;
    }
    let bytes = (last as u128) * kind.size_bytes() as u128;
    (bytes <= i64::MAX as u128).then_some(bytes)
}

/// Whether a constructor asking for `bytes` is safe to call: small, refused, or beyond any allocator.
fn allocation_allowed(bytes: Option<u128>) -> bool {
    bytes.is_none_or(|b| b <= MAX_API_BYTES as u128 || b >= UNGRANTABLE_BYTES)
}

impl ApiCase {
    /// A case, checking every invariant.
    pub fn new(input: Option<ApiInput>, call: ApiCall) -> Result<ApiCase, InvalidApiCase> {
        let case = ApiCase { input, call };
        case.validate()?;
        Ok(case)
    }

    pub fn input(&self) -> Option<&ApiInput> {
        self.input.as_ref()
    }

    pub fn call(&self) -> &ApiCall {
        &self.call
    }

    pub fn function(&self) -> ApiFn {
        self.call.function()
    }

    /// The input's elements (0 for a constructor), for throughput figures.
    pub fn numel(&self) -> usize {
        self.input.as_ref().map_or(0, ApiInput::numel)
    }

    /// Checks the invariant in the module doc.
    pub fn validate(&self) -> Result<(), InvalidApiCase> {
        let function = self.function();
        match (&self.input, function.is_method()) {
            (None, true) => return Err(InvalidApiCase::NoInput { function }),
            (Some(_), false) => return Err(InvalidApiCase::UnusedInput { function }),
            (Some(input), true) => input.validate()?,
            (None, false) => {}
        }
        for (name, list) in self.call.lists() {
            if list.len() > MAX_API_LIST {
                return Err(InvalidApiCase::ListTooLong { name, len: list.len() });
            }
        }
        let buffer = |name, bytes: u128| match bytes > MAX_API_BYTES as u128 {
            true => Err(InvalidApiCase::BufferTooLarge { name, bytes }),
            false => Ok(()),
        };
        let requested = match &self.call {
            ApiCall::Zeros { size, kind } => Some(contiguous_bytes(size, *kind)),
            ApiCall::EmptyStrided { size, stride, kind } => Some(strided_bytes(size, stride, *kind)),
            ApiCall::FromDataSize { data_len, size, kind } => {
                buffer("data_len", *data_len as u128)?;
                Some(contiguous_bytes(size, *kind))
            }
            ApiCall::CopyData { element, dst_len, .. } => {
                buffer("dst_len", *dst_len as u128 * element.size_bytes() as u128)?;
                None
            }
            ApiCall::CopyDataU8 { dst_len, .. } => {
                buffer("dst_len", *dst_len as u128)?;
                None
            }
            _ => None,
        };
        match requested {
            Some(bytes) if !allocation_allowed(bytes) => {
                Err(InvalidApiCase::Grantable { function, bytes: bytes.unwrap_or_default() })
            }
            _ => Ok(()),
        }
    }

    /// The case as pretty JSON (the corpus form).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a case always serialises")
    }

    /// Valid candidates strictly simpler than this case, simplest first (see the module doc).
    pub fn simpler(&self) -> Vec<ApiCase> {
        let mut out = Vec::new();
        if let Some(input) = &self.input {
            for simpler in simpler_input(input) {
                out.push(ApiCase { input: Some(simpler), call: self.call.clone() });
            }
        }
        for call in self.call.simpler() {
            out.push(ApiCase { input: self.input.clone(), call });
        }
        // A typed copy from a tensor of its own kind: a simpler kind for both at once (one at a time, the kinds
        // would no longer match, and the call fail for that reason instead).
        if let (Some(input), ApiCall::CopyData { element, dst_len, numel }) = (&self.input, &self.call) {
            if input.kind == ApiKind::of(*element) {
                for simpler in simpler_dtypes(*element) {
                    let input = ApiInput { kind: ApiKind::of(simpler), ..input.clone() };
                    let call = ApiCall::CopyData { element: simpler, dst_len: *dst_len, numel: *numel };
                    out.push(ApiCase { input: Some(input), call });
                }
            }
        }
        out.retain(|c| c.validate().is_ok());
        out
    }
}

fn simpler_input(input: &ApiInput) -> Vec<ApiInput> {
    let mut out = Vec::new();
    let with = |f: &dyn Fn(&mut ApiInput)| {
        let mut c = input.clone();
        f(&mut c);
        c
    };
    for d in 0..input.shape.len() {
        out.push(with(&|c| {
            c.shape.remove(d);
            if c.shape.len() < 2 && c.layout == InputLayout::Transposed {
                c.layout = InputLayout::Contiguous;
            }
        }));
    }
    for d in 0..input.shape.len() {
        let n = input.shape[d];
        for smaller in [0, 1, n / 2, n.saturating_sub(1)] {
            if smaller < n {
                out.push(with(&|c| c.shape[d] = smaller));
            }
        }
    }
    if input.layout != InputLayout::Contiguous {
        out.push(with(&|c| c.layout = InputLayout::Contiguous));
    }
    if input.layout == InputLayout::Transposed {
        out.push(with(&|c| c.layout = InputLayout::Offset));
    }
    for kind in ApiKind::ALL.into_iter().take_while(|&k| k != input.kind) {
        out.push(with(&|c| c.kind = kind));
    }
    out.dedup();
    out
}

/// `i64::MIN`, `i64::MAX-1`, `2^32`, `-2^62+1`, `7`: extremes and large powers of two by name.
pub fn int_text(v: i64) -> String {
    const NEAR: i64 = 1000;
    if v >= i64::MAX - NEAR {
        return if v == i64::MAX { "i64::MAX".into() } else { format!("i64::MAX-{}", i64::MAX - v) };
    }
    if v <= i64::MIN + NEAR {
        return if v == i64::MIN { "i64::MIN".into() } else { format!("i64::MIN+{}", v - i64::MIN) };
    }
    let magnitude = v.unsigned_abs();
    let sign = if v < 0 { "-" } else { "" };
    for delta in -16i64..=16 {
        let base = magnitude as i128 - delta as i128;
        if base >= 1 << 16 && (base as u64).is_power_of_two() {
            let k = (base as u64).trailing_zeros();
            return match delta {
                0 => format!("{sign}2^{k}"),
                d if d > 0 => format!("{sign}(2^{k}+{d})"),
                d => format!("{sign}(2^{k}-{})", -d),
            };
        }
    }
    v.to_string()
}

/// `u64::MAX`, `2^63+1`, `7`.
pub fn count_text(v: u64) -> String {
    if v >= u64::MAX - 1000 {
        return if v == u64::MAX { "u64::MAX".into() } else { format!("u64::MAX-{}", u64::MAX - v) };
    }
    match i64::try_from(v) {
        Ok(small) => int_text(small),
        Err(_) => format!("2^63+{}", v - (1 << 63)),
    }
}

impl fmt::Debug for ApiCase {
    /// One line a person can read back: `f_narrow(dim=1, start=i64::MIN, length=1) on f32[2, 3] contiguous`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args: Vec<String> = self
            .call
            .args()
            .into_iter()
            .map(|(name, arg)| {
                let value = match arg {
                    Arg::Int(v) => int_text(v),
                    Arg::Opt(None) => "None".into(),
                    Arg::Opt(Some(v)) => int_text(v),
                    Arg::List(v) => format!("[{}]", v.into_iter().map(int_text).collect::<Vec<_>>().join(", ")),
                    Arg::Count(v) => count_text(v),
                    Arg::Kind(k) => k.to_string(),
                    Arg::Dtype(d) => d.to_string(),
                    Arg::Flag(b) => b.to_string(),
                };
                format!("{name}={value}")
            })
            .collect();
        write!(f, "{}({})", self.function(), args.join(", "))?;
        match &self.input {
            Some(input) => write!(f, " on {input:?}"),
            None => Ok(()),
        }
    }
}

// ----- Drawing -----

/// Hostile integers every argument may get: the extremes of i64 and their neighbours, the 32-bit boundaries, and
/// sides whose products overflow (`3037000500² > i64::MAX`, `2^32 · 2^32`, `2^62 · 4`).
const EXTREMES: [i64; 16] = [
    i64::MIN,
    i64::MIN + 1,
    i64::MAX,
    i64::MAX - 1,
    i32::MIN as i64,
    i32::MAX as i64,
    i32::MAX as i64 + 1,
    u32::MAX as i64,
    1 << 32,
    3_037_000_500,
    1 << 61,
    1 << 62,
    (1 << 62) + 1,
    -(1 << 62),
    -(1 << 32),
    -2,
];

/// A hostile integer.
fn hostile(rng: &mut TestRng) -> i64 {
    match rng.random_range(0..8) {
        0 => [0, 1, -1, -2][rng.random_range(0..4)],
        1..=3 => EXTREMES[rng.random_range(0..EXTREMES.len())],
        4 | 5 => {
            let v = (1i64 << rng.random_range(16..63)) + rng.random_range(-2..=2);
            if rng.random_bool(0.25) {
                -v
            } else {
                v
            }
        }
        6 => rng.random::<i64>(),
        _ => rng.random_range(-40..=40),
    }
}

/// A hostile count (a `usize` argument): 0, 1, just past `i64::MAX`, `u64::MAX`, the counts whose product with an
/// element size wraps around to a small number (`2^64 / size + k`), random words.
fn hostile_count(rng: &mut TestRng, plausible: u64) -> u64 {
    match rng.random_range(0..7) {
        0 => [0, 1, plausible + 1, plausible.saturating_sub(1)][rng.random_range(0..4)],
        1 => [u64::MAX, u64::MAX - 1, 1 << 63, (1 << 63) + 1, i64::MAX as u64][rng.random_range(0..5)],
        2 | 3 => {
            let size = [2u64, 4, 8, 16][rng.random_range(0..4)];
            (u64::MAX / size + 1).wrapping_add(rng.random_range(0..=4))
        }
        4 => 1 << rng.random_range(16..64),
        5 => rng.random::<u64>(),
        _ => rng.random_range(0..=plausible.saturating_mul(2) + 4),
    }
}

/// Draws the arguments of one call: each one plausible or hostile.
struct Draw<'a> {
    rng: &'a mut TestRng,
    /// The argument that is hostile whatever the dice say (`usize::MAX`: none).
    forced: usize,
    next: usize,
    p_hostile: f64,
}

impl<'a> Draw<'a> {
    fn new(rng: &'a mut TestRng, slots: usize) -> Draw<'a> {
        let all_plausible = rng.random_bool(0.35);
        let forced = if all_plausible { usize::MAX } else { rng.random_range(0..slots.max(1)) };
        let p_hostile = if all_plausible { 0.0 } else { 0.2 };
        Draw { rng, forced, next: 0, p_hostile }
    }

    /// Whether the next argument is hostile.
    fn hostile_now(&mut self) -> bool {
        let forced = self.next == self.forced;
        self.next += 1;
        forced || self.rng.random_bool(self.p_hostile)
    }

    /// An integer, plausibly in `lo..=hi`.
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        if self.hostile_now() {
            hostile(self.rng)
        } else {
            self.rng.random_range(lo..=hi.max(lo))
        }
    }

    /// An optional integer, plausibly in `lo..=hi`, absent one time in six.
    fn opt(&mut self, lo: i64, hi: i64) -> Option<i64> {
        if self.rng.random_bool(1.0 / 6.0) {
            self.next += 1;
            return None;
        }
        Some(self.int(lo, hi))
    }

    /// `plausible` with, when hostile, one entry replaced by a hostile value, an entry added or one removed.
    fn list(&mut self, plausible: Vec<i64>) -> Vec<i64> {
        let mut v = plausible;
        if !self.hostile_now() {
            return v;
        }
        match self.rng.random_range(0..6) {
            0 if v.len() < MAX_API_LIST => {
                let at = self.rng.random_range(0..=v.len());
                v.insert(at, hostile(self.rng));
            }
            1 if !v.is_empty() => {
                v.remove(self.rng.random_range(0..v.len()));
            }
            _ if !v.is_empty() => {
                let at = self.rng.random_range(0..v.len());
                v[at] = hostile(self.rng);
                if self.rng.random_bool(0.3) {
                    let other = self.rng.random_range(0..v.len());
                    v[other] = hostile(self.rng);
                }
            }
            _ => v.push(hostile(self.rng)),
        }
        v
    }

    /// A count, plausibly `plausible` or near it.
    fn count(&mut self, plausible: u64) -> u64 {
        if self.hostile_now() {
            hostile_count(self.rng, plausible)
        } else {
            match self.rng.random_range(0..4) {
                0 => self.rng.random_range(0..=plausible),
                _ => plausible,
            }
        }
    }

    /// A buffer length (bytes or elements conform allocates), plausibly `needed`; hostile lengths are a little
    /// short or long, never huge: a buffer longer than a call needs is not hostile, only slow.
    fn len(&mut self, needed: u64) -> u64 {
        if self.hostile_now() {
            let choices = [0, needed.saturating_sub(1), needed / 2, needed + 1, needed * 2 + 7];
            match self.rng.random_range(0..6) {
                5 => self.rng.random_range(0..=needed * 2 + 64),
                i => choices[i],
            }
        } else {
            match self.rng.random_range(0..6) {
                0 => self.rng.random_range(0..=needed),
                _ => needed,
            }
        }
    }

    /// A kind: plausibly one of conform's dtypes, else any kind.
    fn kind(&mut self, plausible: ApiKind) -> ApiKind {
        if self.hostile_now() {
            ApiKind::ALL[self.rng.random_range(0..ApiKind::ALL.len())]
        } else if self.rng.random_bool(0.5) {
            plausible
        } else {
            ApiKind::of(Dtype::ALL[self.rng.random_range(0..Dtype::ALL.len())])
        }
    }
}

/// A random factorisation of `numel` into `rank` sides (0 somewhere when `numel` is 0).
fn factors(rng: &mut TestRng, numel: usize, rank: usize) -> Vec<i64> {
    if rank == 0 {
        return Vec::new();
    }
    let mut sides = vec![1i64; rank];
    if numel == 0 {
        sides[rng.random_range(0..rank)] = 0;
        for s in sides.iter_mut() {
            if *s != 0 && rng.random_bool(0.3) {
                *s = rng.random_range(1..=3);
            }
        }
        return sides;
    }
    let mut rest = numel;
    let mut p = 2;
    while rest > 1 {
        while rest % p != 0 {
            p += 1;
        }
        rest /= p;
        sides[rng.random_range(0..rank)] *= p as i64;
    }
    sides
}

fn c_strides(size: &[i64]) -> Vec<i64> {
    let mut strides = vec![0i64; size.len()];
    let mut acc = 1i64;
    for d in (0..size.len()).rev() {
        strides[d] = acc;
        acc = acc.saturating_mul(size[d].max(1));
    }
    strides
}

fn draw_input(rng: &mut TestRng, max_numel: usize) -> ApiInput {
    let max_numel = max_numel.clamp(1, MAX_API_INPUT_NUMEL);
    let max_rank = (usize::BITS - max_numel.leading_zeros()).clamp(1, 4) as usize;
    let rank = rng.random_range(0..=max_rank);
    let mut shape = Vec::with_capacity(rank);
    let mut numel = 1usize;
    for _ in 0..rank {
        let budget = max_numel / numel.max(1);
        let side = match rng.random_range(0..10) {
            0 => 0,
            1 => 1,
            _ => rng.random_range(1..=budget.clamp(1, 6)),
        };
        let side = side.min(budget);
        shape.push(side);
        numel = numel.saturating_mul(side.max(1));
    }
    let kinds: Vec<ApiKind> = ApiKind::ALL.into_iter().filter(|k| !k.is_quantized()).collect();
    let kind = if rng.random_bool(0.8) {
        ApiKind::of(Dtype::ALL[rng.random_range(0..Dtype::ALL.len())])
    } else {
        kinds[rng.random_range(0..kinds.len())]
    };
    let layout = match rng.random_range(0..10) {
        0 | 1 if rank >= 2 => InputLayout::Transposed,
        2 | 3 => InputLayout::Offset,
        _ => InputLayout::Contiguous,
    };
    ApiInput { kind, shape, layout }
}

/// Draws one case of `function`.
fn draw(rng: &mut TestRng, function: ApiFn, max_numel: usize) -> ApiCase {
    let input = function.is_method().then(|| draw_input(rng, max_numel));
    let shape: Vec<i64> = input.as_ref().map_or_else(Vec::new, |i| i.shape.iter().map(|&s| s as i64).collect());
    let numel = input.as_ref().map_or(0, ApiInput::numel);
    let input_kind = input.as_ref().map_or(ApiKind::F32, |i| i.kind);
    let rank = shape.len() as i64;
    // A dimension and the side along it, for calls that take one.
    let side_of = |dim: i64| -> i64 {
        let d = if dim < 0 { dim + rank } else { dim };
        if (0..rank).contains(&d) {
            shape[d as usize]
        } else {
            1
        }
    };
    let pick_dim = |rng: &mut TestRng| rng.random_range(-rank.max(1)..=rank.max(1) - 1);
    let call = match function {
        ApiFn::AsStrided => {
            let r = rng.random_range(0..=rank as usize + 1).min(MAX_API_LIST);
            let size: Vec<i64> = (0..r).map(|_| rng.random_range(0..=3)).collect();
            let stride: Vec<i64> = (0..r).map(|_| rng.random_range(0..=3)).collect();
            let storage = input.as_ref().map_or(0, ApiInput::storage_len) as i64;
            let mut d = Draw::new(rng, 3);
            let (size, stride) = (d.list(size), d.list(stride));
            ApiCall::AsStrided { size, stride, storage_offset: d.opt(0, storage) }
        }
        ApiFn::View | ApiFn::Reshape => {
            let r = rng.random_range(0..=4);
            let mut size = factors(rng, numel, r);
            if !size.is_empty() && rng.random_bool(0.3) {
                let at = rng.random_range(0..size.len());
                size[at] = -1;
            }
            let size = Draw::new(rng, 1).list(size);
            if function == ApiFn::View {
                ApiCall::View { size }
            } else {
                ApiCall::Reshape { size }
            }
        }
        ApiFn::InternalReshapeAlias => {
            let r = rng.random_range(0..=4);
            let size = factors(rng, numel, r);
            let stride = c_strides(&size);
            let mut d = Draw::new(rng, 2);
            ApiCall::InternalReshapeAlias { size: d.list(size), stride: d.list(stride) }
        }
        ApiFn::Expand => {
            let mut size: Vec<i64> =
                shape.iter().map(|&s| if s == 1 && rng.random_bool(0.5) { rng.random_range(0..=4) } else { s }).collect();
            for s in size.iter_mut() {
                if rng.random_bool(0.2) {
                    *s = -1;
                }
            }
            for _ in 0..rng.random_range(0..=2) {
                size.insert(0, rng.random_range(0..=3));
            }
            let implicit = rng.random_bool(0.2);
            ApiCall::Expand { size: Draw::new(rng, 1).list(size), implicit }
        }
        ApiFn::Narrow => {
            let dim0 = pick_dim(rng);
            let side = side_of(dim0);
            let mut d = Draw::new(rng, 3);
            let dim = d.int(dim0, dim0);
            ApiCall::Narrow { dim, start: d.int(-side - 1, side + 1), length: d.int(0, side + 1) }
        }
        ApiFn::Select => {
            let dim0 = pick_dim(rng);
            let side = side_of(dim0);
            let mut d = Draw::new(rng, 2);
            ApiCall::Select { dim: d.int(dim0, dim0), index: d.int(-side - 1, side) }
        }
        ApiFn::Slice => {
            let dim0 = pick_dim(rng);
            let side = side_of(dim0);
            let mut d = Draw::new(rng, 4);
            let dim = d.int(dim0, dim0);
            ApiCall::Slice { dim, start: d.opt(-side - 2, side + 2), end: d.opt(-side - 2, side + 2), step: d.int(1, 3) }
        }
        ApiFn::Unfold => {
            let dim0 = pick_dim(rng);
            let side = side_of(dim0);
            let mut d = Draw::new(rng, 3);
            ApiCall::Unfold { dimension: d.int(dim0, dim0), size: d.int(0, side + 1), step: d.int(1, 3) }
        }
        ApiFn::Permute => {
            let mut dims: Vec<i64> = (0..rank).collect();
            for i in (1..dims.len()).rev() {
                dims.swap(i, rng.random_range(0..=i));
            }
            for x in dims.iter_mut() {
                if rng.random_bool(0.2) {
                    *x -= rank;
                }
            }
            ApiCall::Permute { dims: Draw::new(rng, 1).list(dims) }
        }
        ApiFn::Transpose => {
            let mut d = Draw::new(rng, 2);
            ApiCall::Transpose { dim0: d.int(-rank - 1, rank), dim1: d.int(-rank - 1, rank) }
        }
        ApiFn::Flatten => {
            let mut d = Draw::new(rng, 2);
            ApiCall::Flatten { start_dim: d.int(-rank - 1, rank), end_dim: d.int(-rank - 1, rank) }
        }
        ApiFn::Unsqueeze => ApiCall::Unsqueeze { dim: Draw::new(rng, 1).int(-rank - 2, rank + 1) },
        ApiFn::SqueezeDim => ApiCall::SqueezeDim { dim: Draw::new(rng, 1).int(-rank - 1, rank) },
        ApiFn::IndexSelect => {
            let dim0 = pick_dim(rng);
            let side = side_of(dim0);
            let len = rng.random_range(0..=4);
            let index: Vec<i64> = (0..len).map(|_| rng.random_range(-side - 1..=side)).collect();
            let mut d = Draw::new(rng, 3);
            let dim = d.int(dim0, dim0);
            let index = d.list(index);
            let index_kind = if d.hostile_now() {
                ApiKind::ALL[d.rng.random_range(0..ApiKind::ALL.len())]
            } else if d.rng.random_bool(0.8) {
                ApiKind::I64
            } else {
                ApiKind::I32
            };
            ApiCall::IndexSelect { dim, index, index_kind }
        }
        ApiFn::ToKind => ApiCall::ToKind { kind: ApiKind::ALL[rng.random_range(0..ApiKind::ALL.len())] },
        ApiFn::Zeros | ApiFn::FromDataSize => {
            let r = rng.random_range(0..=4);
            let size: Vec<i64> = (0..r).map(|_| rng.random_range(0..=6)).collect();
            let mut d = Draw::new(rng, 3);
            let size = d.list(size);
            let kind = d.kind(ApiKind::F32);
            if function == ApiFn::Zeros {
                ApiCall::Zeros { size, kind }
            } else {
                // What the sizes need, when that is small; else a short buffer (sizes that large are refused).
                let needed = contiguous_bytes(&size, kind).filter(|&b| b <= 1 << 16).unwrap_or(64) as u64;
                let data_len = d.len(needed).min(MAX_API_BYTES);
                ApiCall::FromDataSize { data_len, size, kind }
            }
        }
        ApiFn::EmptyStrided => {
            let r = rng.random_range(0..=4);
            let size: Vec<i64> = (0..r).map(|_| rng.random_range(0..=4)).collect();
            let stride = if rng.random_bool(0.5) {
                c_strides(&size)
            } else {
                (0..r).map(|_| rng.random_range(0..=6)).collect()
            };
            let mut d = Draw::new(rng, 3);
            let (size, stride) = (d.list(size), d.list(stride));
            ApiCall::EmptyStrided { size, stride, kind: d.kind(ApiKind::F32) }
        }
        ApiFn::CopyData => {
            let element = match input_kind.dtype() {
                Some(dtype) if rng.random_bool(0.7) => dtype,
                _ => Dtype::ALL[rng.random_range(0..Dtype::ALL.len())],
            };
            let mut d = Draw::new(rng, 2);
            let cap = MAX_API_BYTES / element.size_bytes() as u64;
            let dst_len = d.len(numel as u64).min(cap);
            ApiCall::CopyData { element, dst_len, numel: d.count(numel as u64) }
        }
        ApiFn::CopyDataU8 => {
            let bytes = (numel * input_kind.size_bytes()) as u64;
            let mut d = Draw::new(rng, 2);
            let dst_len = d.len(bytes).min(MAX_API_BYTES);
            ApiCall::CopyDataU8 { dst_len, numel: d.count(numel as u64) }
        }
    };
    let mut case = ApiCase { input, call };
    make_ungrantable(&mut case);
    debug_assert!(case.validate().is_ok(), "{case:?}: {:?}", case.validate());
    case
}

/// Builds inside the limits instead of filtering: a constructor call that would allocate more than
/// [`MAX_API_BYTES`] but could be granted gets its largest size raised to `i64::MAX`, which no allocator grants.
fn make_ungrantable(case: &mut ApiCase) {
    if case.validate().is_ok() {
        return;
    }
    if let ApiCall::Zeros { size, .. } | ApiCall::EmptyStrided { size, .. } | ApiCall::FromDataSize { size, .. } =
        &mut case.call
    {
        if let Some(largest) = size.iter_mut().max() {
            *largest = i64::MAX;
        }
    }
    if case.validate().is_ok() {
        return;
    }
    // Zero strides can keep a huge `f_empty_strided` small: then every side is `i64::MAX`, which either needs at
    // most one element per zero stride or overflows.
    if let ApiCall::EmptyStrided { size, .. } = &mut case.call {
        size.iter_mut().for_each(|s| *s = i64::MAX);
    }
}

/// The strategy over cases of one function.
#[derive(Debug, Clone)]
pub struct ApiStrategy {
    functions: Vec<ApiFn>,
    max_numel: usize,
}

/// Cases of `function` whose input tensor has at most `max_numel` elements (the `CONFORM_MAX_NUMEL` knob).
pub fn arb_api_case(function: ApiFn, max_numel: usize) -> ApiStrategy {
    ApiStrategy { functions: vec![function], max_numel }
}

/// Cases of any of `functions` (one drawn uniformly per case; shrinking keeps it).
pub fn arb_api_any(functions: &[ApiFn], max_numel: usize) -> ApiStrategy {
    ApiStrategy { functions: functions.to_vec(), max_numel }
}

impl Strategy for ApiStrategy {
    type Tree = ApiTree;
    type Value = ApiCase;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        if self.functions.is_empty() {
            return Err("the api strategy has no function".into());
        }
        let rng = runner.rng();
        let function = self.functions[rng.random_range(0..self.functions.len())];
        Ok(ApiTree::new(draw(rng, function, self.max_numel)))
    }
}

/// The value tree of [`ApiStrategy`]: greedy shrinking. It holds the simplest case known to fail and tries the
/// candidates [`ApiCase::simpler`] gives, in order; when one fails it becomes the case and the candidates start over.
pub struct ApiTree {
    accepted: ApiCase,
    candidates: Vec<ApiCase>,
    next: usize,
    trying: bool,
}

impl ApiTree {
    pub fn new(case: ApiCase) -> ApiTree {
        ApiTree { accepted: case, candidates: Vec::new(), next: 0, trying: false }
    }
}

impl ValueTree for ApiTree {
    type Value = ApiCase;

    fn current(&self) -> ApiCase {
        if self.trying {
            self.candidates[self.next].clone()
        } else {
            self.accepted.clone()
        }
    }

    /// The current case failed: keep it, and try its simplest candidate.
    fn simplify(&mut self) -> bool {
        if self.trying {
            self.accepted = self.candidates[self.next].clone();
        }
        self.candidates = self.accepted.simpler();
        self.next = 0;
        self.trying = !self.candidates.is_empty();
        self.trying
    }

    /// The current case passed: go back to the last failing one and try the next candidate.
    fn complicate(&mut self) -> bool {
        if !self.trying {
            return false;
        }
        self.next += 1;
        self.trying = self.next < self.candidates.len();
        self.trying
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::{Config, RngAlgorithm};

    fn runner(seed: u8) -> TestRunner {
        TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]))
    }

    /// The minimal case of `function` that `fails`, shrunk by proptest's protocol.
    fn minimal(function: ApiFn, fails: impl Fn(&ApiCase) -> bool) -> ApiCase {
        let strategy = arb_api_case(function, 64);
        let mut runner = runner(3);
        for _ in 0..5000 {
            let mut tree = strategy.new_tree(&mut runner).unwrap();
            if !fails(&tree.current()) {
                continue;
            }
            let mut last = tree.current();
            let mut more = tree.simplify();
            while more {
                if fails(&tree.current()) {
                    last = tree.current();
                    more = tree.simplify();
                } else {
                    more = tree.complicate();
                }
            }
            assert_eq!(tree.current(), last, "the tree ends on the last failing case");
            return last;
        }
        panic!("no failing case found");
    }

    #[test]
    fn every_function_draws_valid_cases_that_round_trip_through_json() {
        let mut runner = runner(1);
        for function in ApiFn::ALL {
            let strategy = arb_api_case(function, 64);
            let mut hostile = 0;
            for _ in 0..300 {
                let case = strategy.new_tree(&mut runner).unwrap().current();
                assert_eq!(case.validate(), Ok(()), "{case:?}");
                assert_eq!(case.function(), function);
                let back: ApiCase = serde_json::from_str(&case.to_json()).unwrap();
                assert_eq!(back, case);
                let ints: Vec<i64> = case
                    .call
                    .args()
                    .into_iter()
                    .flat_map(|(_, a)| match a {
                        Arg::Int(v) | Arg::Opt(Some(v)) => vec![v],
                        Arg::List(v) => v,
                        Arg::Count(v) => vec![v as i64],
                        _ => vec![],
                    })
                    .collect();
                if ints.iter().any(|v| v.unsigned_abs() > 1 << 30) {
                    hostile += 1;
                }
            }
            let huge_args_possible = !matches!(function, ApiFn::ToKind);
            assert!(!huge_args_possible || hostile > 20, "{function}: only {hostile} cases with a huge argument");
        }
    }

    #[test]
    fn the_json_form_is_tagged_by_function_and_strict() {
        let input = ApiInput { kind: ApiKind::F32, shape: vec![2, 3], layout: InputLayout::Contiguous };
        let case = ApiCase::new(Some(input), ApiCall::Narrow { dim: 1, start: i64::MIN, length: 1 }).unwrap();
        let json = serde_json::to_value(&case).unwrap();
        assert_eq!(json["call"]["fn"], "f_narrow");
        assert_eq!(json["call"]["start"], i64::MIN);
        assert_eq!(json["input"]["kind"], "f32");
        assert_eq!(format!("{case:?}"), "f_narrow(dim=1, start=i64::MIN, length=1) on f32[2, 3] contiguous");
        let err = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut bad = json.clone();
            edit(&mut bad);
            serde_json::from_value::<ApiCase>(bad).unwrap_err().to_string()
        };
        assert!(err(&|j| j["surprise"] = 1.into()).contains("unknown field `surprise`"));
        assert!(err(&|j| j["call"]["surprise"] = 1.into()).contains("unknown field `surprise`"));
        assert!(err(&|j| j["input"]["surprise"] = 1.into()).contains("unknown field `surprise`"));
        assert!(err(&|j| j["call"]["fn"] = "f_unlink".into()).contains("unknown variant `f_unlink`"));
        assert!(err(&|j| j["input"]["kind"] = "qint8".into()).contains("quantized"));
        assert!(err(&|j| j["input"]["shape"] = serde_json::json!([1 << 20, 1 << 20])).contains("more than the 65536"));
        assert!(err(&|j| j["input"] = serde_json::Value::Null).contains("f_narrow is a method but the case has no input"));
        let zeros = ApiCase::new(None, ApiCall::Zeros { size: vec![1 << 20, 1 << 20], kind: ApiKind::U8 });
        assert_eq!(
            zeros.unwrap_err().to_string(),
            "f_zeros would allocate 1099511627776 bytes if libtorch accepted it, more than the 16777216 allowed"
        );
        for size in [vec![1 << 32, 1 << 32], vec![-1], vec![i64::MAX], vec![0, i64::MAX, i64::MAX], vec![1 << 20]] {
            assert!(ApiCase::new(None, ApiCall::Zeros { size: size.clone(), kind: ApiKind::F64 }).is_ok(), "{size:?}");
        }
        let long = ApiCall::CopyDataU8 { dst_len: MAX_API_BYTES + 1, numel: 0 };
        let input = ApiInput { kind: ApiKind::U8, shape: vec![], layout: InputLayout::Contiguous };
        assert!(ApiCase::new(Some(input), long).unwrap_err().to_string().contains("dst_len asks conform to allocate"));
    }

    #[test]
    fn a_corpus_entry_holds_an_api_case_tagged_by_kind_and_validated_on_read() {
        use crate::cases::CaseKind;
        use crate::corpus::{parse_entry, CorpusEntry};
        let call = ApiCall::FromDataSize { data_len: 0, size: vec![1 << 32, 1 << 32], kind: ApiKind::F32 };
        let case = ApiCase::new(None, call).unwrap().into_case();
        assert_eq!(case.kind(), "api");
        let entry = CorpusEntry::new("api::p", "sig", "msg", ("2.11.0", "0.24.0"), case.clone());
        let text = entry.to_json();
        assert!(text.contains("\"kind\": \"api\"") && text.contains("\"fn\": \"f_from_data_size\""), "{text}");
        assert_eq!(parse_entry(text.as_bytes()).unwrap(), entry);
        assert_eq!(ApiCase::from_case(&case).map(ApiCase::function), Some(ApiFn::FromDataSize));
        let err = |from: &str, to: &str| parse_entry(text.replace(from, to).as_bytes()).unwrap_err().to_string();
        assert!(err("\"data_len\": 0", "\"data_len\": 0, \"extra\": 1").contains("unknown field `extra`"));
        assert!(err("4294967296", "1048576").contains("would allocate 4398046511104 bytes"));
        assert!(err("\"kind\": \"f32\"", "\"kind\": \"f33\"").contains("unknown variant `f33`"));
    }

    #[test]
    fn every_error_has_a_one_line_message_and_a_hint() {
        let all = [
            InvalidApiCase::NoInput { function: ApiFn::View },
            InvalidApiCase::UnusedInput { function: ApiFn::Zeros },
            InvalidApiCase::InputRank { rank: 9 },
            InvalidApiCase::InputTooLarge { shape: vec![1 << 20] },
            InvalidApiCase::QuantizedInput { kind: ApiKind::Qint8 },
            InvalidApiCase::TransposedRank { rank: 1 },
            InvalidApiCase::ListTooLong { name: "size", len: 11 },
            InvalidApiCase::BufferTooLarge { name: "data_len", bytes: 1 << 30 },
            InvalidApiCase::Grantable { function: ApiFn::Zeros, bytes: 1 << 30 },
        ];
        for e in all {
            assert!(!e.to_string().contains('\n'));
            assert!(e.hint().is_some_and(|h| !h.is_empty() && !h.contains('\n')), "{e:?}");
        }
    }

    #[test]
    fn inputs_lay_their_pattern_out_as_they_say() {
        let t = ApiInput { kind: ApiKind::U8, shape: vec![2, 3], layout: InputLayout::Transposed };
        let logical = t.bytes();
        let storage = t.storage_bytes();
        assert_eq!(t.storage_shape(), vec![3, 2]);
        // logical [a, b] lies at storage [b, a] of the 3×2 contiguous tensor.
        for (a, b) in [(0, 0), (0, 2), (1, 1), (1, 2)] {
            assert_eq!(logical[a * 3 + b], storage[b * 2 + a]);
        }
        let o = ApiInput { kind: ApiKind::I16, shape: vec![2], layout: InputLayout::Offset };
        assert_eq!(o.storage_len(), 4);
        assert_eq!(&o.storage_bytes()[2..6], &o.bytes()[..]);
        assert_eq!(&o.storage_bytes()[..2], &[0xee, 0xee]);
        let b = ApiInput { kind: ApiKind::Bool, shape: vec![3], layout: InputLayout::Contiguous };
        assert_eq!(b.bytes(), vec![0, 1, 0]);
    }

    #[test]
    fn integers_shrink_toward_zero_then_one_and_find_a_boundary() {
        assert_eq!(&simpler_int(i64::MAX)[..3], &[0, 1, -1]);
        assert!(simpler_int(0).is_empty());
        assert_eq!(simpler_int(1), vec![0]);
        assert_eq!(simpler_int(-1), vec![0, 1]);
        assert!(simpler_int(i64::MIN).contains(&(i64::MIN + 1)));
        assert!(simpler_count(u64::MAX).contains(&(u64::MAX - 1)));
        // A failure that needs a value of at least 1000 in `start` shrinks to exactly 1000, everything else simple.
        let min = minimal(ApiFn::Narrow, |c| matches!(c.call, ApiCall::Narrow { start, .. } if start >= 1000));
        assert_eq!(format!("{min:?}"), "f_narrow(dim=0, start=1000, length=0) on u8[] contiguous");
    }

    #[test]
    fn lists_lose_entries_and_pairs_lose_a_dimension_together() {
        // Fails whenever some stride is huge: one dimension of size 0 and that stride is what is left.
        let min = minimal(ApiFn::AsStrided, |c| {
            matches!(&c.call, ApiCall::AsStrided { stride, .. } if stride.iter().any(|&s| s >= 1 << 40))
        });
        assert_eq!(format!("{min:?}"), "f_as_strided(size=[], stride=[2^40], storage_offset=None) on u8[] contiguous");
        // Fails when the sizes multiply past i64::MAX: two sides whose product just overflows.
        let min = minimal(ApiFn::Zeros, |c| {
            matches!(&c.call, ApiCall::Zeros { size, .. } if size.len() >= 2 && contiguous_bytes(size, ApiKind::U8).is_none() && size.iter().all(|&s| s > 0))
        });
        let ApiCall::Zeros { size, kind } = min.call() else { unreachable!() };
        assert_eq!((size.len(), *kind), (2, ApiKind::U8), "{min:?}");
        assert!(size.iter().all(|&s| s > 1) && (size[0] as i128 * size[1] as i128) > i64::MAX as i128, "{min:?}");
    }

    #[test]
    fn drawn_constructor_calls_never_ask_for_grantable_memory_beyond_the_limit() {
        let mut runner = runner(9);
        for function in [ApiFn::Zeros, ApiFn::EmptyStrided, ApiFn::FromDataSize] {
            let strategy = arb_api_case(function, 64);
            for _ in 0..2000 {
                let case = strategy.new_tree(&mut runner).unwrap().current();
                assert_eq!(case.validate(), Ok(()), "{case:?}");
            }
        }
    }

    #[test]
    fn names_of_numbers_read_back() {
        assert_eq!(int_text(i64::MIN), "i64::MIN");
        assert_eq!(int_text(i64::MAX - 1), "i64::MAX-1");
        assert_eq!(int_text(1 << 32), "2^32");
        assert_eq!(int_text(-(1 << 62) + 1), "-(2^62-1)");
        assert_eq!(int_text((1 << 62) + 1), "(2^62+1)");
        assert_eq!(int_text(3_037_000_500), "3037000500");
        assert_eq!(int_text(-7), "-7");
        assert_eq!(count_text(u64::MAX), "u64::MAX");
        assert_eq!(count_text((1 << 63) + 4), "2^63+4");
    }
}
