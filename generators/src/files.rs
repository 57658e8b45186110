//! File cases: the bytes of a `.npy` or `.npz` file, valid or hostile, for the `files` family. A [`FileCase`] is
//! what a reader is handed — the bytes, the dtype the caller expects (the file's own before it was damaged) and a
//! line saying how it was made — and its JSON form stores the bytes in hex, at most [`MAX_FILE_BYTES`] of them.
//!
//! The strategy draws a valid file first (dtype, shape, values, header version, byte order, memory order), written
//! the way NumPy writes it (header padded with spaces and a newline to a multiple of 64 bytes), then at most one
//! damage per file from the list the issue names: data shorter or longer than the header says, a shape whose product
//! overflows, a negative or huge dimension, a header length past the end, a header that is not a dict, an unknown or
//! mismatched `descr`, a `fortran_order` that is not a boolean; an `.npz` holds one to three such members in a
//! stored zip (written here, CRC-32 included), which may itself be truncated or damaged. Files shrink toward no
//! damage, then toward fewer and smaller members, fewer dimensions, smaller sides, values 0, header version 1.0,
//! little-endian and C order (each part of the description shrinks on its own; the bytes are rendered from it).
//!
//! Invariant: a `FileCase` that exists holds at most `MAX_FILE_BYTES` bytes, whether generated or read from disk.

use std::fmt;

use proptest::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dtype::Dtype;

/// The most bytes a file case may hold (a corpus file stores them in hex, twice as many characters).
pub const MAX_FILE_BYTES: usize = 1 << 16;

/// The dtypes NumPy and libtorch share (NumPy has no bf16).
pub const FILE_DTYPES: [Dtype; 9] =
    [Dtype::Bool, Dtype::U8, Dtype::I8, Dtype::I16, Dtype::I32, Dtype::I64, Dtype::F16, Dtype::F32, Dtype::F64];

/// Which container the bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Npy,
    Npz,
}

impl fmt::Display for FileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileFormat::Npy => "npy",
            FileFormat::Npz => "npz",
        })
    }
}

/// The bytes of one file and what a reader is asked to read from them.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "FileJson", into = "FileJson")]
pub struct FileCase {
    format: FileFormat,
    dtype: Dtype,
    made: String,
    bytes: Vec<u8>,
}

/// Why a file case is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidFile {
    #[error("the file has {len} bytes, more than the {MAX_FILE_BYTES} a file case may hold")]
    TooLarge { len: usize },
    #[error("`hex` is not an even number of hex digits")]
    BadHex,
    #[error("`len` says {claimed} bytes but `hex` holds {actual}")]
    LenMismatch { claimed: usize, actual: usize },
    #[error("dtype {0} is not one NumPy files hold")]
    Dtype(Dtype),
}

impl FileCase {
    pub fn new(format: FileFormat, dtype: Dtype, made: String, bytes: Vec<u8>) -> Result<FileCase, InvalidFile> {
        if bytes.len() > MAX_FILE_BYTES {
            return Err(InvalidFile::TooLarge { len: bytes.len() });
        }
        if !FILE_DTYPES.contains(&dtype) {
            return Err(InvalidFile::Dtype(dtype));
        }
        Ok(FileCase { format, dtype, made, bytes })
    }

    pub fn format(&self) -> FileFormat {
        self.format
    }
    /// The dtype a reader is asked for (a typed reader such as ndarray-npy's needs one).
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }
    /// How the file was made, for people (the bytes are authoritative).
    pub fn made(&self) -> &str {
        &self.made
    }
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for FileCase {
    /// One line: `FileCase { npy, f32, 138 bytes (…how it was made…): 934e554d5059… }`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 48;
        let shown = hex(&self.bytes[..self.bytes.len().min(SHOWN)]);
        let more = if self.bytes.len() > SHOWN { "…" } else { "" };
        write!(
            f,
            "FileCase {{ {}, {}, {} bytes ({}): {shown}{more} }}",
            self.format,
            self.dtype,
            self.bytes.len(),
            self.made
        )
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileJson {
    format: FileFormat,
    dtype: Dtype,
    made: String,
    len: usize,
    hex: String,
}

impl TryFrom<FileJson> for FileCase {
    type Error = InvalidFile;
    fn try_from(j: FileJson) -> Result<FileCase, InvalidFile> {
        if j.hex.len() > 2 * MAX_FILE_BYTES {
            return Err(InvalidFile::TooLarge { len: j.hex.len() / 2 });
        }
        let bytes = unhex(&j.hex).ok_or(InvalidFile::BadHex)?;
        if bytes.len() != j.len {
            return Err(InvalidFile::LenMismatch { claimed: j.len, actual: bytes.len() });
        }
        FileCase::new(j.format, j.dtype, j.made, bytes)
    }
}

impl From<FileCase> for FileJson {
    fn from(c: FileCase) -> FileJson {
        FileJson { format: c.format, dtype: c.dtype, made: c.made, len: c.bytes.len(), hex: hex(&c.bytes) }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() & 1 == 1 || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Valid files, written the way NumPy writes them.

/// A valid `.npy` file, before any damage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpySpec {
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    /// The elements' bits in C (row-major, logical) order, one per element.
    pub values: Vec<u64>,
    /// Header version: 1, 2 or 3.
    pub version: u8,
    pub big_endian: bool,
    pub fortran: bool,
}

impl NpySpec {
    /// NumPy's type string: `<f4`, `>i2`, `|u1`, `|b1`.
    pub fn descr(&self) -> String {
        descr_of(self.dtype, self.big_endian)
    }

    /// The header dict as NumPy 2 writes it: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
    pub fn header_dict(&self) -> String {
        dict_text(&format!("'{}'", self.descr()), python_bool(self.fortran), &shape_text(&self.shape))
    }

    /// The element bytes in the file's memory order and byte order.
    pub fn data(&self) -> Vec<u8> {
        let size = self.dtype.size_bytes();
        let mut out = Vec::with_capacity(self.values.len() * size);
        for flat in memory_order(&self.shape, self.fortran) {
            let bits = self.values[flat];
            let le = bits.to_le_bytes();
            if self.big_endian {
                out.extend(le[..size].iter().rev());
            } else {
                out.extend_from_slice(&le[..size]);
            }
        }
        out
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        npy_bytes(self.version, &self.header_dict(), &self.data())
    }

    /// One line for the `made` field: `v1.0 '<f4' shape [2, 3] C order`.
    pub fn describe(&self) -> String {
        let order = if self.fortran { "Fortran" } else { "C" };
        format!("v{}.0 '{}' shape {:?} {order} order", self.version, self.descr(), self.shape)
    }
}

/// NumPy's type string for `dtype` (one-byte types get `|`, NumPy's "not applicable").
pub fn descr_of(dtype: Dtype, big_endian: bool) -> String {
    let code = match dtype {
        Dtype::Bool => return "|b1".into(),
        Dtype::U8 => return "|u1".into(),
        Dtype::I8 => return "|i1".into(),
        Dtype::I16 => "i2",
        Dtype::I32 => "i4",
        Dtype::I64 => "i8",
        Dtype::F16 => "f2",
        Dtype::Bf16 => "V2",
        Dtype::F32 => "f4",
        Dtype::F64 => "f8",
    };
    format!("{}{code}", if big_endian { '>' } else { '<' })
}

fn python_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// A Python tuple of ints as NumPy writes a shape: `()`, `(5,)`, `(2, 3)`.
fn shape_text(shape: &[usize]) -> String {
    match shape {
        [] => "()".into(),
        [one] => format!("({one},)"),
        _ => format!("({})", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

fn dict_text(descr: &str, fortran: &str, shape: &str) -> String {
    format!("{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, }}")
}

/// The C-order (flat) index of each element, in the order the file stores them.
fn memory_order(shape: &[usize], fortran: bool) -> Vec<usize> {
    let numel: usize = shape.iter().product();
    if !fortran || shape.len() < 2 {
        return (0..numel).collect();
    }
    // Fortran order: the first index varies fastest.
    let mut out = Vec::with_capacity(numel);
    let mut index = vec![0usize; shape.len()];
    for _ in 0..numel {
        let flat = index.iter().zip(shape).fold(0, |acc, (&i, &d)| acc * d + i);
        out.push(flat);
        for (i, &d) in index.iter_mut().zip(shape) {
            *i += 1;
            if *i < d {
                break;
            }
            *i = 0;
        }
    }
    out
}

/// A `.npy` file: magic, version, header length, `header` padded with spaces and a newline so that the data starts
/// at a multiple of 64 bytes (NumPy's rule), then `data`.
pub fn npy_bytes(version: u8, header: &str, data: &[u8]) -> Vec<u8> {
    let len_bytes = if version == 1 { 2 } else { 4 };
    let prefix = 6 + 2 + len_bytes;
    let unpadded = prefix + header.len() + 1;
    let padding = (64 - unpadded % 64) % 64;
    let header_len = header.len() + padding + 1;
    let mut out = Vec::with_capacity(prefix + header_len + data.len());
    out.extend_from_slice(b"\x93NUMPY");
    out.extend_from_slice(&[version, 0]);
    if version == 1 {
        out.extend_from_slice(&(header_len.min(u16::MAX as usize) as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(header_len as u32).to_le_bytes());
    }
    out.extend_from_slice(header.as_bytes());
    out.extend(std::iter::repeat_n(b' ', padding));
    out.push(b'\n');
    out.extend_from_slice(data);
    out
}

// ---------------------------------------------------------------------------------------------------------------
// Damage.

/// One way to damage a valid `.npy` file (the list), with the parameter that says how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    None,
    /// The last `n` bytes cut off (into the header when the data is shorter).
    DataShort(usize),
    /// `n` bytes appended after the data.
    DataLong(usize),
    /// One of a few shapes whose element count overflows 64 bits (or `i64`, or a byte count).
    ShapeOverflow(u8),
    /// A dimension made negative (`-n`).
    NegativeDim(usize),
    /// A dimension made 2^`e`, far beyond the data.
    HugeDim(u32),
    /// The header length field says 2^`e` bytes more than the header has (capped at the field's maximum).
    HeaderLenPastEnd(u32),
    /// The header replaced by a Python literal that is not a dict.
    NotADict(u8),
    /// An unknown type string.
    UnknownDescr(u8),
    /// Another dtype's type string, the data unchanged.
    MismatchedDescr(Dtype),
    /// `fortran_order` set to a value that is not a boolean.
    FortranNotBool(u8),
}

const SHAPE_OVERFLOWS: [&str; 4] = [
    "(4294967296, 4294967296)",
    "(9223372036854775807, 2)",
    "(3037000500, 3037000500, 2)",
    "(18446744073709551616, 0)",
];
const NOT_DICTS: [&str; 6] =
    ["['<f4', False, (1,)]", "('<f4', False, (1,))", "'descr'", "None", "{'descr', 'fortran_order', 'shape'}", "42"];
const UNKNOWN_DESCRS: [&str; 8] = ["'<f3'", "'<x4'", "'bogus'", "''", "'<i3'", "'>q8'", "4", "None"];
const NOT_BOOLS: [&str; 6] = ["0", "1", "'False'", "None", "'True'", "false"];

impl Damage {
    /// One line for the `made` field.
    pub fn describe(&self) -> String {
        match self {
            Damage::None => "valid".into(),
            Damage::DataShort(n) => format!("data short: last {n} bytes cut off"),
            Damage::DataLong(n) => format!("data long: {n} bytes appended"),
            Damage::ShapeOverflow(v) => format!("shape overflow: shape {}", SHAPE_OVERFLOWS[*v as usize % 4]),
            Damage::NegativeDim(n) => format!("negative dimension: -{n}"),
            Damage::HugeDim(e) => format!("huge dimension: 2^{e}"),
            Damage::HeaderLenPastEnd(e) => format!("header length past the end: +2^{e}"),
            Damage::NotADict(v) => format!("header not a dict: {}", NOT_DICTS[*v as usize % 6]),
            Damage::UnknownDescr(v) => format!("unknown descr: {}", UNKNOWN_DESCRS[*v as usize % 8]),
            Damage::MismatchedDescr(d) => format!("mismatched descr: {d}'s"),
            Damage::FortranNotBool(v) => format!("fortran_order not a boolean: {}", NOT_BOOLS[*v as usize % 6]),
        }
    }

    /// The damage's kind, stable under shrinking (for tallies).
    pub fn kind(&self) -> &'static str {
        match self {
            Damage::None => "valid",
            Damage::DataShort(_) => "data short",
            Damage::DataLong(_) => "data long",
            Damage::ShapeOverflow(_) => "shape overflow",
            Damage::NegativeDim(_) => "negative dimension",
            Damage::HugeDim(_) => "huge dimension",
            Damage::HeaderLenPastEnd(_) => "header length past the end",
            Damage::NotADict(_) => "header not a dict",
            Damage::UnknownDescr(_) => "unknown descr",
            Damage::MismatchedDescr(_) => "mismatched descr",
            Damage::FortranNotBool(_) => "fortran_order not a boolean",
        }
    }

    /// The bytes of `spec` with this damage.
    pub fn apply(&self, spec: &NpySpec) -> Vec<u8> {
        let descr = format!("'{}'", spec.descr());
        let fortran = python_bool(spec.fortran);
        let shape = shape_text(&spec.shape);
        let with = |d: &str, f: &str, s: &str| npy_bytes(spec.version, &dict_text(d, f, s), &spec.data());
        let with_dim = |dim: String| {
            let mut dims: Vec<String> = spec.shape.iter().map(|d| d.to_string()).collect();
            match dims.first_mut() {
                Some(first) => *first = dim,
                None => dims.push(dim),
            }
            let text = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
            with(&descr, fortran, &text)
        };
        match self {
            Damage::None => spec.to_bytes(),
            Damage::DataShort(n) => {
                let mut bytes = spec.to_bytes();
                bytes.truncate(bytes.len().saturating_sub(*n));
                bytes
            }
            Damage::DataLong(n) => {
                let mut bytes = spec.to_bytes();
                bytes.extend((0..*n).map(|i| 0x5a ^ i as u8));
                bytes
            }
            Damage::ShapeOverflow(v) => with(&descr, fortran, SHAPE_OVERFLOWS[*v as usize % 4]),
            Damage::NegativeDim(n) => with_dim(format!("-{n}")),
            Damage::HugeDim(e) => with_dim((1u64 << (*e).min(63)).to_string()),
            Damage::HeaderLenPastEnd(e) => {
                let mut bytes = spec.to_bytes();
                let rest = bytes.len() as u64 - if spec.version == 1 { 10 } else { 12 };
                let claimed = rest.saturating_add(1u64 << (*e).min(40));
                if spec.version == 1 {
                    bytes[8..10].copy_from_slice(&(claimed.min(u16::MAX as u64) as u16).to_le_bytes());
                } else {
                    bytes[8..12].copy_from_slice(&(claimed.min(u32::MAX as u64) as u32).to_le_bytes());
                }
                bytes
            }
            Damage::NotADict(v) => npy_bytes(spec.version, NOT_DICTS[*v as usize % 6], &spec.data()),
            Damage::UnknownDescr(v) => with(UNKNOWN_DESCRS[*v as usize % 8], fortran, &shape),
            Damage::MismatchedDescr(d) => with(&format!("'{}'", descr_of(*d, spec.big_endian)), fortran, &shape),
            Damage::FortranNotBool(v) => with(&descr, NOT_BOOLS[*v as usize % 6], &shape),
        }
    }
}

/// One way to damage the zip of an `.npz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZipDamage {
    None,
    /// Only the first `per_mille`/1000 of the bytes kept.
    Truncated(u16),
    /// The first member's local header signature broken (the central directory still points at it).
    LocalHeader,
    /// The first member's CRC-32 wrong, in the local header and the central directory alike.
    Crc,
}

impl ZipDamage {
    pub fn describe(&self) -> String {
        match self {
            ZipDamage::None => "zip intact".into(),
            ZipDamage::Truncated(p) => format!("zip truncated to {p}/1000 of its bytes"),
            ZipDamage::LocalHeader => "zip: first local header signature broken".into(),
            ZipDamage::Crc => "zip: first member's CRC-32 wrong".into(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            ZipDamage::None => "zip intact",
            ZipDamage::Truncated(_) => "zip truncated",
            ZipDamage::LocalHeader => "zip local header broken",
            ZipDamage::Crc => "zip CRC wrong",
        }
    }
}

/// A stored (uncompressed) zip of `members` (name, bytes), as Python's `zipfile` writes one for `numpy.savez`, with
/// `damage`.
pub fn stored_zip(members: &[(String, Vec<u8>)], damage: &ZipDamage) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (i, (name, data)) in members.iter().enumerate() {
        let offset = out.len() as u32;
        let mut crc = crc32(data);
        if i == 0 && *damage == ZipDamage::Crc {
            crc ^= 0xdead_beef;
        }
        let size = data.len() as u32;
        let signature: u32 = if i == 0 && *damage == ZipDamage::LocalHeader { 0x0403_4b51 } else { 0x0403_4b50 };
        // Local file header: version 20, no flags, stored, time/date 1980-01-01 00:00.
        out.extend_from_slice(&signature.to_le_bytes());
        out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        // Central directory entry.
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&[20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
        central.extend_from_slice(&0o100644u32.wrapping_shl(16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let central_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    if let ZipDamage::Truncated(p) = damage {
        let keep = out.len() * (*p as usize).min(999) / 1000;
        out.truncate(keep);
    }
    out
}

/// CRC-32 (IEEE 802.3, reflected, as zip uses), bit by bit: the files are small.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

// ---------------------------------------------------------------------------------------------------------------
// Strategies.

/// Valid `.npy` descriptions: one of the shared dtypes, rank ≤ 3, sides ≤ 4 (and ≤ `max_numel`), any bits.
pub fn arb_npy_spec(max_numel: usize) -> impl Strategy<Value = NpySpec> {
    let side = max_numel.clamp(1, 4);
    (
        0..FILE_DTYPES.len(),
        proptest::collection::vec(0..=side, 0..=3),
        proptest::collection::vec(any::<u64>(), 0..=64),
        1u8..=3,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(d, shape, raw, version, big_endian, fortran)| {
            let dtype = FILE_DTYPES[d];
            let numel: usize = shape.iter().product();
            let values = (0..numel).map(|i| raw.get(i).copied().unwrap_or(0) & value_mask(dtype)).collect();
            let multi_byte = dtype.size_bytes() > 1;
            NpySpec { dtype, shape, values, version, big_endian: big_endian && multi_byte, fortran }
        })
}

/// Bool elements are 0 or 1 in a valid file.
fn value_mask(dtype: Dtype) -> u64 {
    if dtype == Dtype::Bool {
        1
    } else {
        dtype.mask()
    }
}

/// At most one damage, `None` first (what everything shrinks toward).
pub fn arb_damage() -> impl Strategy<Value = Damage> {
    // Eleven alternatives are more than `prop_oneof!`'s tuple form takes; boxed `Send` strategies keep it `Sync`.
    proptest::strategy::Union::new_weighted(vec![
        (3, Just(Damage::None).sboxed()),
        (1, (1usize..=16).prop_map(Damage::DataShort).sboxed()),
        (1, (1usize..=16).prop_map(Damage::DataLong).sboxed()),
        (1, (0u8..4).prop_map(Damage::ShapeOverflow).sboxed()),
        (1, (1usize..=3).prop_map(Damage::NegativeDim).sboxed()),
        (1, (20u32..=62).prop_map(Damage::HugeDim).sboxed()),
        (1, (0u32..=32).prop_map(Damage::HeaderLenPastEnd).sboxed()),
        (1, (0u8..6).prop_map(Damage::NotADict).sboxed()),
        (1, (0u8..8).prop_map(Damage::UnknownDescr).sboxed()),
        (1, (0..FILE_DTYPES.len()).prop_map(|d| Damage::MismatchedDescr(FILE_DTYPES[d])).sboxed()),
        (1, (0u8..6).prop_map(Damage::FortranNotBool).sboxed()),
    ])
}

fn arb_zip_damage() -> impl Strategy<Value = ZipDamage> {
    prop_oneof![
        3 => Just(ZipDamage::None),
        1 => (0u16..1000).prop_map(ZipDamage::Truncated),
        1 => Just(ZipDamage::LocalHeader),
        1 => Just(ZipDamage::Crc),
    ]
}

/// `.npy` files, valid or with one damage each.
pub fn arb_npy_file(max_numel: usize) -> impl Strategy<Value = FileCase> {
    (arb_npy_spec(max_numel), arb_damage()).prop_map(|(spec, damage)| {
        let made = format!("{}; {}", spec.describe(), damage.describe());
        FileCase::new(FileFormat::Npy, spec.dtype, made, damage.apply(&spec)).expect("generated files are small")
    })
}

/// `.npz` files: one to three members (`a.npy`, `b.npy`, …), each valid or damaged, in a stored zip that may be
/// damaged too. The dtype asked for is the first member's.
pub fn arb_npz_file(max_numel: usize) -> impl Strategy<Value = FileCase> {
    (proptest::collection::vec((arb_npy_spec(max_numel), arb_damage()), 1..=3), arb_zip_damage()).prop_map(
        |(members, zip_damage)| {
            let dtype = members[0].0.dtype;
            let mut made = Vec::new();
            let files: Vec<(String, Vec<u8>)> = members
                .iter()
                .enumerate()
                .map(|(i, (spec, damage))| {
                    let name = format!("{}.npy", (b'a' + i as u8) as char);
                    made.push(format!("{name}: {}; {}", spec.describe(), damage.describe()));
                    (name, damage.apply(spec))
                })
                .collect();
            made.push(zip_damage.describe());
            let bytes = stored_zip(&files, &zip_damage);
            FileCase::new(FileFormat::Npz, dtype, made.join(" | "), bytes).expect("generated files are small")
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dtype: Dtype, shape: &[usize], values: Vec<u64>) -> NpySpec {
        NpySpec { dtype, shape: shape.to_vec(), values, version: 1, big_endian: false, fortran: false }
    }

    #[test]
    fn writes_what_numpy_writes() {
        // numpy 2.4: np.save(f, np.array([1.0, -2.0], dtype='<f4'))
        let s = spec(Dtype::F32, &[2], vec![0x3f80_0000, 0xc000_0000]);
        let bytes = s.to_bytes();
        assert_eq!(&bytes[..10], b"\x93NUMPY\x01\x00v\x00");
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
        assert_eq!(&bytes[10..10 + header.len()], header.as_bytes());
        assert_eq!(bytes.len(), 128 + 8);
        assert_eq!(bytes[127], b'\n');
        assert_eq!(&bytes[128..], &[0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
    }

    #[test]
    fn fortran_and_big_endian_data_orders() {
        let mut s = spec(Dtype::I16, &[2, 3], vec![0, 1, 2, 3, 4, 5]);
        s.fortran = true;
        s.big_endian = true;
        assert_eq!(s.descr(), ">i2");
        assert_eq!(s.data(), vec![0, 0, 0, 3, 0, 1, 0, 4, 0, 2, 0, 5]);
        assert_eq!(memory_order(&[2, 3, 2], true)[..4], [0, 6, 2, 8]);
    }

    #[test]
    fn damages_do_what_they_say() {
        let s = spec(Dtype::U8, &[3], vec![1, 2, 3]);
        let valid = s.to_bytes();
        assert_eq!(Damage::DataShort(2).apply(&s), valid[..valid.len() - 2]);
        assert_eq!(Damage::DataLong(2).apply(&s).len(), valid.len() + 2);
        let text = |d: Damage| String::from_utf8_lossy(&d.apply(&s)).into_owned();
        assert!(text(Damage::NegativeDim(2)).contains("'shape': (-2,)"));
        assert!(text(Damage::HugeDim(40)).contains("'shape': (1099511627776,)"));
        assert!(text(Damage::FortranNotBool(0)).contains("'fortran_order': 0,"));
        assert!(text(Damage::MismatchedDescr(Dtype::I32)).contains("'descr': '<i4'"));
        let past = Damage::HeaderLenPastEnd(3).apply(&s);
        assert_eq!(u16::from_le_bytes([past[8], past[9]]) as usize, valid.len() - 10 + 8);
        assert_eq!(npy_bytes(2, "{}", &[]).len() % 64, 0);
    }

    #[test]
    fn crc32_and_a_stored_zip() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        let zip = stored_zip(&[("a.npy".into(), vec![1, 2, 3])], &ZipDamage::None);
        assert_eq!(&zip[..4], b"PK\x03\x04");
        assert_eq!(&zip[zip.len() - 22..zip.len() - 18], b"PK\x05\x06");
        assert!(stored_zip(&[("a.npy".into(), vec![1])], &ZipDamage::Truncated(500)).len() < zip.len());
    }

    #[test]
    fn the_json_form_is_hex_and_refuses_oversized_or_bad_files() {
        let case = FileCase::new(FileFormat::Npy, Dtype::U8, "x".into(), vec![0x93, 0x4e]).unwrap();
        let json = serde_json::to_value(&case).unwrap();
        assert_eq!(json["hex"], "934e");
        assert_eq!(json["len"], 2);
        assert_eq!(serde_json::from_value::<FileCase>(json.clone()).unwrap(), case);
        let mut bad = json.clone();
        bad["hex"] = "93z".into();
        assert!(serde_json::from_value::<FileCase>(bad).is_err());
        let mut short = json.clone();
        short["len"] = 3.into();
        assert!(serde_json::from_value::<FileCase>(short).unwrap_err().to_string().contains("`len` says 3"));
        let mut big = json;
        big["hex"] = "00".repeat(MAX_FILE_BYTES + 1).into();
        assert!(serde_json::from_value::<FileCase>(big).unwrap_err().to_string().contains("more than the 65536"));
        assert!(FileCase::new(FileFormat::Npy, Dtype::Bf16, String::new(), vec![]).is_err());
    }

    #[test]
    fn generated_files_stay_small() {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        for _ in 0..200 {
            let f = arb_npz_file(64).new_tree(&mut runner).unwrap().current();
            assert!(f.bytes().len() < 8192, "{f:?}");
        }
    }
}
