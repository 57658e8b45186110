//! conform's own reader of `.npy` and stored `.npz` files: the oracle the readers under test are judged against. It
//! follows NumPy's reading rules (`numpy.lib.format.read_array`, `numpy.load`), written from the format's
//! documentation and independent of tch and ndarray-npy: the header is a Python literal that must be a dict with
//! exactly the keys `descr`, `fortran_order` and `shape`; `shape` a tuple of non-negative ints whose byte count fits
//! `isize`; `fortran_order` `True` or `False`; `descr` a type string; the data at least as long as the header says
//! (NumPy ignores bytes after it). An `.npz` is read as `numpy.load` reads one, lazily: the end record and the
//! central directory must be intact for the archive to open at all; a member whose local header, size or CRC-32 is
//! wrong is refused on its own (Python's `zipfile` checks them when that member is read), the others still read.
//!
//! Invariant: it never allocates more than the file's size (counts and lengths are checked against the bytes that are
//! there before anything is read), and it says `Invalid` with the rule that broke, never a guess.

use conform_generators::Dtype;

/// What NumPy makes of a `.npy` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Npy {
    /// NumPy reads it: these are the values in the file.
    Valid(NpyArray),
    /// NumPy refuses it, for this reason.
    Invalid(Invalid),
    /// NumPy reads it, but as a dtype conform does not model (`'<c8'`, `'<U3'` …).
    Outside(String),
}

/// The array a valid file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyArray {
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    /// The elements' bits in C (row-major, logical) order.
    pub bits: Vec<u64>,
    pub descr: String,
    pub fortran: bool,
    pub big_endian: bool,
    pub version: u8,
    /// Bytes after the data (NumPy ignores them).
    pub trailing: usize,
}

/// A rule a file broke: `class` is stable (for failure signatures and tallies), `detail` says how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub class: &'static str,
    pub detail: String,
}

fn invalid<T>(class: &'static str, detail: impl Into<String>) -> Result<T, Invalid> {
    Err(Invalid { class, detail: detail.into() })
}

/// The header of a `.npy` file, as far as it parses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub version: u8,
    pub dtype: Option<Dtype>,
    pub descr: String,
    pub fortran: bool,
    pub big_endian: bool,
    pub shape: Vec<usize>,
    /// Where the data starts.
    pub data_offset: usize,
}

/// Reads `bytes` as NumPy would.
pub fn read_npy(bytes: &[u8]) -> Npy {
    let header = match read_header(bytes) {
        Ok(Ok(h)) => h,
        Ok(Err(outside)) => return Npy::Outside(outside),
        Err(e) => return Npy::Invalid(e),
    };
    match read_data(bytes, &header) {
        Ok(array) => Npy::Valid(array),
        Err(e) => Npy::Invalid(e),
    }
}

/// The header, `Ok(Err(descr))` for a valid header of a dtype conform does not model.
pub fn read_header(bytes: &[u8]) -> Result<Result<Header, String>, Invalid> {
    if bytes.len() < 8 || &bytes[..6] != b"\x93NUMPY" {
        return invalid("not a .npy file", "the magic string \\x93NUMPY is missing");
    }
    let version = match (bytes[6], bytes[7]) {
        (v @ 1..=3, 0) => v,
        (major, minor) => return invalid("unknown version", format!("version {major}.{minor}")),
    };
    let len_bytes = if version == 1 { 2 } else { 4 };
    let Some(len_field) = bytes.get(8..8 + len_bytes) else {
        return invalid("file ends in the header", "the file ends before the header length");
    };
    let header_len = len_field.iter().rev().fold(0usize, |acc, &b| acc << 8 | b as usize);
    let start = 8 + len_bytes;
    let Some(raw) = bytes.get(start..).and_then(|rest| rest.get(..header_len)) else {
        return invalid(
            "header length past the end",
            format!("the header length says {header_len} bytes but {} follow", bytes.len() - start),
        );
    };
    // Versions 1 and 2 are latin-1 (every byte a char); version 3 is UTF-8.
    let text: String = if version == 3 {
        match std::str::from_utf8(raw) {
            Ok(t) => t.to_string(),
            Err(e) => return invalid("header not UTF-8", e.to_string()),
        }
    } else {
        raw.iter().map(|&b| b as char).collect()
    };
    let value = match literal::parse(text.trim_start_matches([' ', '\t'])) {
        Ok(v) => v,
        Err(e) => return invalid("header not a Python literal", e),
    };
    let literal::Value::Dict(items) = value else {
        return invalid("header not a dict", format!("the header is {}", value.kind()));
    };
    let mut keys: Vec<&str> = Vec::new();
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for (key, value) in &items {
        let literal::Value::Str(k) = key else {
            return invalid("header keys not descr, fortran_order, shape", format!("a key is {}", key.kind()));
        };
        match k.as_str() {
            "descr" => descr = Some(value),
            "fortran_order" => fortran = Some(value),
            "shape" => shape = Some(value),
            other => return invalid("header keys not descr, fortran_order, shape", format!("key '{other}'")),
        }
        keys.push(k);
    }
    let (Some(descr), Some(fortran), Some(shape)) = (descr, fortran, shape) else {
        return invalid("header keys not descr, fortran_order, shape", format!("keys {keys:?}"));
    };
    let shape = match shape {
        literal::Value::Tuple(dims) => {
            let mut out = Vec::with_capacity(dims.len().min(64));
            for d in dims {
                match d {
                    literal::Value::Int(n) if *n < 0 => {
                        return invalid("negative dimension", format!("shape has {n}"));
                    }
                    literal::Value::Int(n) => match usize::try_from(*n) {
                        Ok(n) => out.push(n),
                        Err(_) => return invalid("shape overflows", format!("dimension {n} does not fit 64 bits")),
                    },
                    other => return invalid("shape not a tuple of ints", format!("shape holds {}", other.kind())),
                }
            }
            out
        }
        other => return invalid("shape not a tuple of ints", format!("shape is {}", other.kind())),
    };
    let fortran = match fortran {
        literal::Value::Bool(b) => *b,
        other => return invalid("fortran_order not a boolean", format!("fortran_order is {}", other.kind())),
    };
    let literal::Value::Str(descr) = descr else {
        return invalid("unknown descr", format!("descr is {}", descr.kind()));
    };
    let (dtype, big_endian) = match dtype_of_descr(descr) {
        Descr::Known(dtype, big) => (dtype, big),
        Descr::Outside => return Ok(Err(descr.clone())),
        Descr::Unknown => return invalid("unknown descr", format!("descr '{descr}'")),
    };
    Ok(Ok(Header {
        version,
        dtype: Some(dtype),
        descr: descr.clone(),
        fortran,
        big_endian,
        shape,
        data_offset: start + header_len,
    }))
}

fn read_data(bytes: &[u8], header: &Header) -> Result<NpyArray, Invalid> {
    let dtype = header.dtype.expect("a modelled dtype");
    let size = dtype.size_bytes();
    let numel = header.shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let needed = numel.and_then(|n| n.checked_mul(size)).filter(|&b| b <= isize::MAX as usize);
    let (Some(numel), Some(needed)) = (numel, needed) else {
        return invalid("shape overflows", format!("shape {:?} of {dtype} overflows", header.shape));
    };
    let available = bytes.len() - header.data_offset;
    if available < needed {
        return invalid(
            "data shorter than the header says",
            format!("{available} data bytes but shape {:?} of {dtype} needs {needed}", header.shape),
        );
    }
    let data = &bytes[header.data_offset..header.data_offset + needed];
    let stored: Vec<u64> = data
        .chunks_exact(size)
        .map(|c| {
            let fold = |acc: u64, &b: &u8| acc << 8 | b as u64;
            if header.big_endian {
                c.iter().fold(0, fold)
            } else {
                c.iter().rev().fold(0, fold)
            }
        })
        .collect();
    let bits = if header.fortran && header.shape.len() > 1 {
        // Element at C index i sits at its Fortran position in the file.
        (0..numel).map(|flat| stored[fortran_position(&header.shape, flat)]).collect()
    } else {
        stored
    };
    Ok(NpyArray {
        dtype,
        shape: header.shape.clone(),
        bits,
        descr: header.descr.clone(),
        fortran: header.fortran,
        big_endian: header.big_endian,
        version: header.version,
        trailing: available - needed,
    })
}

/// Where the element of C-order index `flat` sits in Fortran order.
fn fortran_position(shape: &[usize], mut flat: usize) -> usize {
    let mut index = vec![0; shape.len()];
    for (i, &d) in shape.iter().enumerate().rev() {
        index[i] = flat % d;
        flat /= d;
    }
    index.iter().zip(shape).rev().fold(0, |acc, (&i, &d)| acc * d + i)
}

enum Descr {
    Known(Dtype, bool),
    Outside,
    Unknown,
}

/// A NumPy type string: an optional byte order (`<`, `>`, `|`, `=`) and a type code of one of conform's dtypes
/// (`f4`, `d`, `b1`, `?` …), or a NumPy type name (`float32`).
fn dtype_of_descr(descr: &str) -> Descr {
    let names = [
        ("bool", Dtype::Bool),
        ("uint8", Dtype::U8),
        ("int8", Dtype::I8),
        ("int16", Dtype::I16),
        ("int32", Dtype::I32),
        ("int64", Dtype::I64),
        ("float16", Dtype::F16),
        ("float32", Dtype::F32),
        ("float64", Dtype::F64),
    ];
    if let Some(&(_, d)) = names.iter().find(|(n, _)| *n == descr) {
        return Descr::Known(d, false);
    }
    let (order, code) = match descr.chars().next() {
        Some(c @ ('<' | '>' | '|' | '=')) => (Some(c), &descr[1..]),
        _ => (None, descr),
    };
    let dtype = match code {
        "b1" | "?" => Dtype::Bool,
        "u1" | "B" => Dtype::U8,
        "i1" | "b" => Dtype::I8,
        "i2" | "h" => Dtype::I16,
        "i4" | "i" => Dtype::I32,
        "i8" | "q" | "l" => Dtype::I64,
        "f2" | "e" => Dtype::F16,
        "f4" | "f" => Dtype::F32,
        "f8" | "d" => Dtype::F64,
        "u2" | "u4" | "u8" | "H" | "I" | "Q" | "L" | "c8" | "c16" | "F" | "D" | "g" | "G" | "O" => {
            return Descr::Outside
        }
        _ => return Descr::Unknown,
    };
    Descr::Known(dtype, order == Some('>') && dtype.size_bytes() > 1)
}

// ---------------------------------------------------------------------------------------------------------------
// Zip.

/// What `numpy.load` makes of an `.npz`: its members, each read as a `.npy` (a member the zip damaged is `Invalid`
/// with class `zip member damaged`), or why the archive cannot be opened at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Npz {
    Valid(Vec<(String, Npy)>),
    Invalid(Invalid),
    /// A zip feature conform's reader does not implement (compression, zip64): no verdict.
    Outside(String),
}

/// Reads a zip whose members are stored, checking the end record, the central directory, every local header, the
/// sizes and the CRC-32s.
pub fn read_npz(bytes: &[u8]) -> Npz {
    match read_zip(bytes) {
        Ok(Ok(members)) => Npz::Valid(
            members
                .into_iter()
                .map(|(name, data)| {
                    let key = name.strip_suffix(".npy").unwrap_or(&name).to_string();
                    (key, data.map_or_else(Npy::Invalid, read_npy))
                })
                .collect(),
        ),
        Ok(Err(outside)) => Npz::Outside(outside),
        Err(e) => Npz::Invalid(e),
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as usize)
}

fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
}

/// The members' names and bytes, or why a member cannot be read.
type Members<'a> = Vec<(String, Result<&'a [u8], Invalid>)>;

const MEMBER: &str = "zip member damaged";

fn read_zip(bytes: &[u8]) -> Result<Result<Members<'_>, String>, Invalid> {
    const BAD: &str = "zip damaged";
    // The end record: the last signature whose comment length reaches exactly to the end.
    let eocd = (0..bytes.len().saturating_sub(21))
        .rev()
        .take(65536 + 22)
        .find(|&i| bytes[i..].starts_with(b"PK\x05\x06") && u16_at(bytes, i + 20) == Some(bytes.len() - i - 22));
    let Some(eocd) = eocd else { return invalid(BAD, "no end-of-central-directory record") };
    let (entries, cd_size, cd_offset) =
        (u16_at(bytes, eocd + 10).unwrap_or(0), u32_at(bytes, eocd + 12).unwrap_or(0), u32_at(bytes, eocd + 16));
    if cd_offset == Some(0xffff_ffff) || entries == 0xffff {
        return Ok(Err("zip64".into()));
    }
    let cd_offset = cd_offset.unwrap_or(usize::MAX);
    if cd_offset.checked_add(cd_size).is_none_or(|end| end > eocd) {
        return invalid(BAD, "the central directory lies outside the file");
    }
    let mut members = Vec::new();
    let mut at = cd_offset;
    for _ in 0..entries {
        let field = |off: usize, four: bool| if four { u32_at(bytes, at + off) } else { u16_at(bytes, at + off) };
        if !bytes.get(at..).is_some_and(|b| b.starts_with(b"PK\x01\x02")) {
            return invalid(BAD, "a central directory entry is missing");
        }
        let (Some(method), Some(crc), Some(csize), Some(usize_), Some(nlen), Some(elen), Some(clen), Some(local)) = (
            field(10, false),
            field(16, true),
            field(20, true),
            field(24, true),
            field(28, false),
            field(30, false),
            field(32, false),
            field(42, true),
        ) else {
            return invalid(BAD, "a central directory entry is cut off");
        };
        let Some(name) = bytes.get(at + 46..at + 46 + nlen) else {
            return invalid(BAD, "a central directory name is cut off");
        };
        let name = String::from_utf8_lossy(name).into_owned();
        if method != 0 {
            return Ok(Err(format!("compression method {method}")));
        }
        if csize == 0xffff_ffff || usize_ == 0xffff_ffff || local == 0xffff_ffff {
            return Ok(Err("zip64".into()));
        }
        let member = || -> Result<&[u8], Invalid> {
            if csize != usize_ {
                return invalid(MEMBER, format!("member {name}: stored with sizes {csize} and {usize_}"));
            }
            if !bytes.get(local..).is_some_and(|b| b.starts_with(b"PK\x03\x04")) {
                return invalid(MEMBER, format!("member {name}: no local header at offset {local}"));
            }
            let (Some(lnlen), Some(lelen)) = (u16_at(bytes, local + 26), u16_at(bytes, local + 28)) else {
                return invalid(MEMBER, format!("member {name}: local header cut off"));
            };
            let start = local + 30 + lnlen + lelen;
            let Some(data) = bytes.get(start..).and_then(|b| b.get(..csize)) else {
                return invalid(MEMBER, format!("member {name}: data past the end"));
            };
            if conform_generators::files::crc32(data) as usize != crc {
                return invalid(MEMBER, format!("member {name}: CRC-32 mismatch"));
            }
            Ok(data)
        };
        let data = member();
        members.push((name, data));
        at += 46 + nlen + elen + clen;
    }
    Ok(Ok(members))
}

/// A reader of the Python literals `ast.literal_eval` accepts in a header: strings, ints, `True`, `False`,
/// `None`, tuples, lists, dicts and sets.
pub mod literal {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Value {
        Str(String),
        Int(i128),
        Bool(bool),
        None,
        Tuple(Vec<Value>),
        List(Vec<Value>),
        Set(Vec<Value>),
        Dict(Vec<(Value, Value)>),
    }

    impl Value {
        /// What it is, for messages: `a list`, `the int 0`.
        pub fn kind(&self) -> String {
            match self {
                Value::Str(s) => format!("the string '{s}'"),
                Value::Int(n) => format!("the int {n}"),
                Value::Bool(b) => format!("the bool {}", if *b { "True" } else { "False" }),
                Value::None => "None".into(),
                Value::Tuple(_) => "a tuple".into(),
                Value::List(_) => "a list".into(),
                Value::Set(_) => "a set".into(),
                Value::Dict(_) => "a dict".into(),
            }
        }
    }

    /// The one value in `text` (whitespace around it allowed, nothing else).
    pub fn parse(text: &str) -> Result<Value, String> {
        let mut p = Parser { s: text.as_bytes(), at: 0, depth: 0 };
        let v = p.value()?;
        p.space();
        if p.at != p.s.len() {
            return Err(format!("unexpected text at byte {}", p.at));
        }
        Ok(v)
    }

    struct Parser<'a> {
        s: &'a [u8],
        at: usize,
        depth: usize,
    }

    impl Parser<'_> {
        fn space(&mut self) {
            while self.at < self.s.len() && matches!(self.s[self.at], b' ' | b'\t' | b'\n' | b'\r') {
                self.at += 1;
            }
        }

        fn peek(&mut self) -> Option<u8> {
            self.space();
            self.s.get(self.at).copied()
        }

        fn value(&mut self) -> Result<Value, String> {
            self.depth += 1;
            if self.depth > 64 {
                return Err("nested too deeply".into());
            }
            let v = self.value_inner();
            self.depth -= 1;
            v
        }

        fn value_inner(&mut self) -> Result<Value, String> {
            match self.peek() {
                None => Err("the text ends where a value should be".into()),
                Some(q @ (b'\'' | b'"')) => self.string(q),
                Some(b'(') => {
                    self.at += 1;
                    let (items, trailing_comma) = self.items(b')')?;
                    if items.len() == 1 && !trailing_comma {
                        Ok(items.into_iter().next().expect("one item"))
                    } else {
                        Ok(Value::Tuple(items))
                    }
                }
                Some(b'[') => {
                    self.at += 1;
                    Ok(Value::List(self.items(b']')?.0))
                }
                Some(b'{') => {
                    self.at += 1;
                    self.dict_or_set()
                }
                Some(b'-' | b'+' | b'0'..=b'9') => self.int(),
                Some(_) => {
                    let start = self.at;
                    while self.at < self.s.len() && (self.s[self.at].is_ascii_alphanumeric() || self.s[self.at] == b'_')
                    {
                        self.at += 1;
                    }
                    match &self.s[start..self.at] {
                        b"True" => Ok(Value::Bool(true)),
                        b"False" => Ok(Value::Bool(false)),
                        b"None" => Ok(Value::None),
                        other => Err(format!("`{}` is not a literal", String::from_utf8_lossy(other))),
                    }
                }
            }
        }

        /// Comma-separated values up to `close`; whether the last one had a trailing comma.
        fn items(&mut self, close: u8) -> Result<(Vec<Value>, bool), String> {
            let mut items = Vec::new();
            let mut trailing = false;
            loop {
                if self.peek() == Some(close) {
                    self.at += 1;
                    return Ok((items, trailing));
                }
                items.push(self.value()?);
                trailing = false;
                match self.peek() {
                    Some(b',') => {
                        self.at += 1;
                        trailing = true;
                    }
                    Some(c) if c == close => {}
                    _ => return Err(format!("expected `,` or `{}` at byte {}", close as char, self.at)),
                }
            }
        }

        fn dict_or_set(&mut self) -> Result<Value, String> {
            if self.peek() == Some(b'}') {
                self.at += 1;
                return Ok(Value::Dict(Vec::new()));
            }
            let first = self.value()?;
            if self.peek() != Some(b':') {
                let mut items = vec![first];
                if self.peek() == Some(b',') {
                    self.at += 1;
                    items.extend(self.items(b'}')?.0);
                } else if self.peek() == Some(b'}') {
                    self.at += 1;
                } else {
                    return Err(format!("expected `,` or `}}` at byte {}", self.at));
                }
                return Ok(Value::Set(items));
            }
            let mut pairs: Vec<(Value, Value)> = Vec::new();
            let mut key = first;
            loop {
                if self.peek() != Some(b':') {
                    return Err(format!("expected `:` at byte {}", self.at));
                }
                self.at += 1;
                let value = self.value()?;
                // A repeated key keeps its last value, as in Python.
                match pairs.iter_mut().find(|(k, _)| *k == key) {
                    Some(slot) => slot.1 = value,
                    None => pairs.push((key, value)),
                }
                match self.peek() {
                    Some(b',') => {
                        self.at += 1;
                        if self.peek() == Some(b'}') {
                            self.at += 1;
                            return Ok(Value::Dict(pairs));
                        }
                        key = self.value()?;
                    }
                    Some(b'}') => {
                        self.at += 1;
                        return Ok(Value::Dict(pairs));
                    }
                    _ => return Err(format!("expected `,` or `}}` at byte {}", self.at)),
                }
            }
        }

        fn string(&mut self, quote: u8) -> Result<Value, String> {
            self.at += 1;
            let mut out = Vec::new();
            while let Some(&c) = self.s.get(self.at) {
                self.at += 1;
                match c {
                    _ if c == quote => return Ok(Value::Str(String::from_utf8_lossy(&out).into_owned())),
                    b'\\' => {
                        let Some(&e) = self.s.get(self.at) else { break };
                        self.at += 1;
                        out.push(match e {
                            b'n' => b'\n',
                            b't' => b'\t',
                            other => other,
                        });
                    }
                    b'\n' => return Err("a newline inside a string".into()),
                    _ => out.push(c),
                }
            }
            Err("a string is not closed".into())
        }

        fn int(&mut self) -> Result<Value, String> {
            let start = self.at;
            if matches!(self.s[self.at], b'-' | b'+') {
                self.at += 1;
                self.space();
            }
            let digits = self.at;
            while self.at < self.s.len() && (self.s[self.at].is_ascii_digit() || self.s[self.at] == b'_') {
                self.at += 1;
            }
            if self.at == digits {
                return Err(format!("a sign without digits at byte {start}"));
            }
            if self.s.get(self.at).is_some_and(|c| matches!(c, b'.' | b'e' | b'E' | b'j' | b'x' | b'o' | b'b')) {
                return Err(format!("a number that is not a plain int at byte {start}"));
            }
            let text: String =
                String::from_utf8_lossy(&self.s[start..self.at]).chars().filter(|c| !c.is_whitespace()).collect();
            let clean = text.replace('_', "");
            let unsigned = clean.trim_start_matches(['-', '+']);
            if unsigned.len() > 1 && unsigned.starts_with('0') && unsigned.bytes().any(|b| b != b'0') {
                return Err(format!("leading zeros in an int at byte {start}"));
            }
            clean.parse::<i128>().map(Value::Int).map_err(|_| format!("int {clean} out of range"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::literal::{parse, Value};
    use super::*;
    use conform_generators::files::{npy_bytes, stored_zip, Damage, NpySpec, ZipDamage};

    #[test]
    fn literals_as_python_reads_them() {
        assert_eq!(parse("(2)"), Ok(Value::Int(2)));
        assert_eq!(parse("(2,)"), Ok(Value::Tuple(vec![Value::Int(2)])));
        assert_eq!(parse("()"), Ok(Value::Tuple(vec![])));
        assert_eq!(parse(" -3 "), Ok(Value::Int(-3)));
        assert_eq!(parse("{'a': 1, 'a': 2, }"), Ok(Value::Dict(vec![(Value::Str("a".into()), Value::Int(2))])));
        assert_eq!(parse("{'a', 'b'}").map(|v| v.kind()), Ok("a set".into()));
        assert!(parse("descr: '<f4'").is_err());
        assert!(parse("{'a': 1} x").is_err());
        assert!(parse("1.5").is_err());
        assert!(parse(&"(".repeat(200)).is_err());
    }

    fn spec(dtype: Dtype, shape: &[usize], values: Vec<u64>) -> NpySpec {
        NpySpec { dtype, shape: shape.to_vec(), values, version: 1, big_endian: false, fortran: false }
    }

    #[test]
    fn valid_files_read_back_in_c_order_whatever_their_order_and_byte_order() {
        for (fortran, big_endian, version) in [(false, false, 1), (true, true, 2), (true, false, 3)] {
            let s = NpySpec { fortran, big_endian, version, ..spec(Dtype::I16, &[2, 3], vec![0, 1, 2, 3, 4, 0x8001]) };
            let Npy::Valid(a) = read_npy(&s.to_bytes()) else { panic!("{s:?}") };
            assert_eq!((a.bits, a.shape, a.trailing), (s.values.clone(), vec![2, 3], 0));
        }
    }

    #[test]
    fn every_damage_is_judged_as_numpy_would() {
        let s = spec(Dtype::F32, &[2], vec![0x3f80_0000, 0x8000_0000]);
        let class = |d: Damage| match read_npy(&d.apply(&s)) {
            Npy::Invalid(e) => e.class,
            Npy::Valid(a) => {
                if a.trailing > 0 {
                    "valid, trailing bytes"
                } else {
                    "valid"
                }
            }
            Npy::Outside(d) => panic!("outside {d}"),
        };
        assert_eq!(class(Damage::None), "valid");
        assert_eq!(class(Damage::DataShort(1)), "data shorter than the header says");
        assert_eq!(class(Damage::DataShort(100)), "header length past the end");
        assert_eq!(class(Damage::DataLong(3)), "valid, trailing bytes");
        assert_eq!(class(Damage::ShapeOverflow(0)), "shape overflows");
        assert_eq!(class(Damage::ShapeOverflow(3)), "shape overflows");
        assert_eq!(class(Damage::NegativeDim(1)), "negative dimension");
        assert_eq!(class(Damage::HugeDim(30)), "data shorter than the header says");
        assert_eq!(class(Damage::HeaderLenPastEnd(0)), "header length past the end");
        for v in 0..6 {
            assert_eq!(class(Damage::NotADict(v)), "header not a dict", "{v}");
        }
        for v in 0..5 {
            assert_eq!(class(Damage::FortranNotBool(v)), "fortran_order not a boolean", "{v}");
        }
        // `false` is a name, not a literal: `ast.literal_eval` refuses the whole header.
        assert_eq!(class(Damage::FortranNotBool(5)), "header not a Python literal");
        for v in 0..8 {
            assert_eq!(class(Damage::UnknownDescr(v)), "unknown descr", "{v}");
        }
        assert_eq!(class(Damage::MismatchedDescr(Dtype::I32)), "valid");
        assert_eq!(class(Damage::MismatchedDescr(Dtype::I64)), "data shorter than the header says");
        assert_eq!(class(Damage::MismatchedDescr(Dtype::U8)), "valid, trailing bytes");
        let no_newline = npy_bytes(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (), }", &[7]);
        assert!(matches!(read_npy(&no_newline), Npy::Valid(a) if a.bits == [7]));
    }

    #[test]
    fn zips_must_be_intact() {
        let a = spec(Dtype::U8, &[2], vec![1, 2]).to_bytes();
        let members = vec![("a.npy".to_string(), a.clone()), ("b.npy".to_string(), a)];
        let Npz::Valid(m) = read_npz(&stored_zip(&members, &ZipDamage::None)) else { panic!() };
        assert_eq!(m.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert!(m.iter().all(|(_, npy)| matches!(npy, Npy::Valid(_))));
        for damage in [ZipDamage::Truncated(0), ZipDamage::Truncated(999)] {
            assert!(matches!(read_npz(&stored_zip(&members, &damage)), Npz::Invalid(_)), "{damage:?}");
        }
        // A damaged member is refused on its own, as numpy.load refuses it when it is read; the other still reads.
        for damage in [ZipDamage::LocalHeader, ZipDamage::Crc] {
            let Npz::Valid(m) = read_npz(&stored_zip(&members, &damage)) else { panic!("{damage:?}") };
            assert!(matches!(&m[0].1, Npy::Invalid(e) if e.class == "zip member damaged"), "{damage:?}");
            assert!(matches!(&m[1].1, Npy::Valid(_)), "{damage:?}");
        }
    }
}
