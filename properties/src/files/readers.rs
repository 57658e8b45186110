//! The readers and writers under test, dtype-erased and named, so that the properties take them as parameters (and
//! unit tests can hand them a planted defect): tch's `Tensor::read_npy`/`read_npz`/`write_npy`/`write_npz` (which
//! take paths, so the bytes go through a temporary file) and ndarray-npy's `ReadNpyExt`/`WriteNpyExt`/
//! `NpzReader`/`NpzWriter` (which take readers and writers, so the bytes stay in memory).
//!
//! ndarray-npy has no f16 element type: [`F16Bits`] is conform's, written the way the crate writes its own
//! two-byte integers (the whole output allocated from the header's count, then read; `<f2` and `>f2`; extra bytes
//! refused), so an f16 file through ndarray-npy tests the crate's header and framing with conform's element. bf16
//! has no NumPy type string and no ndarray-npy element: both refuse it.
//!
//! Invariant: a reader's output is its dtype, shape and raw bits in C order — for tch read from the tensor's bytes
//! whatever its kind says (a bool byte other than 0 or 1 stays visible), for ndarray-npy from the array's elements.

use std::io::{Cursor, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use conform_generators::{Dtype, TensorCase};
use conform_judge::one_line;
use ndarray::{ArrayD, IxDyn, OwnedRepr};
use ndarray_npy::{
    NpzReader, NpzWriter, ReadDataError, ReadNpyExt, ReadableElement, WritableElement, WriteDataError, WriteNpyExt,
};
use py_literal::Value as PyValue;
use tch::Tensor;

use crate::convert::{copy_to_tensor, storage_of, tensor_bits};
use crate::element::Elem;
use crate::view::array_view;
use crate::with_elem;

/// What a reader returned: the array's dtype (its kind's name where conform has no dtype for it), shape and bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub dtype: Result<Dtype, String>,
    pub shape: Vec<i64>,
    pub bits: Vec<u64>,
}

/// A reader's error, as the first line of its message.
pub type ReadError = String;

/// Reads a `.npy` file's bytes, asked for a dtype (a typed reader needs one; tch ignores it).
pub type NpyReadFn = Box<dyn Fn(&[u8], Dtype) -> Result<Read, ReadError> + Send + Sync>;
/// Reads an `.npz` file's bytes: every member by name, in the archive's order, or one error for the whole file. The
/// closure says which dtype to ask for, per member name (a typed reader needs one).
pub type NpzReadFn =
    Box<dyn Fn(&[u8], &dyn Fn(&str) -> Dtype) -> Result<Vec<(String, Member)>, ReadError> + Send + Sync>;
/// One member of an `.npz` as a reader returned it (a per-member reader may refuse one member and read another).
pub type Member = Result<Read, ReadError>;

/// A named `.npy` reader.
pub struct NpyReader {
    pub name: &'static str,
    pub run: NpyReadFn,
}

/// A named `.npz` reader.
pub struct NpzReaderOp {
    pub name: &'static str,
    pub run: NpzReadFn,
}

fn first_line(e: impl std::fmt::Display) -> String {
    one_line(&e.to_string()).to_string()
}

/// A temporary file holding `bytes`, removed on drop (tch's npy functions take paths).
pub struct TempFile(pub PathBuf);

impl TempFile {
    pub fn empty(ext: &str) -> TempFile {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        TempFile(std::env::temp_dir().join(format!("conform-files-{}-{n}.{ext}", std::process::id())))
    }

    pub fn with(bytes: &[u8], ext: &str) -> Result<TempFile, String> {
        let f = TempFile::empty(ext);
        std::fs::write(&f.0, bytes).map_err(|e| format!("cannot write a temporary file: {e}"))?;
        Ok(f)
    }

    pub fn read(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| format!("cannot read the temporary file back: {e}"))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A tensor's dtype, shape and raw bits.
pub fn tensor_read(t: &Tensor) -> Result<Read, ReadError> {
    let shape = t.size();
    match tensor_bits(t) {
        Ok(bits) => Ok(Read { dtype: Ok(bits.dtype), shape, bits: bits.bits }),
        Err(crate::convert::ConvertError::UnknownKind(kind)) => {
            Ok(Read { dtype: Err(format!("{kind:?}")), shape, bits: Vec::new() })
        }
        Err(e) => Err(first_line(e)),
    }
}

impl NpyReader {
    /// tch's `Tensor::read_npy`, on a temporary file.
    pub fn tch() -> NpyReader {
        NpyReader {
            name: "tch read_npy",
            run: Box::new(|bytes, _| {
                let file = TempFile::with(bytes, "npy")?;
                let t = Tensor::read_npy(&file.0).map_err(first_line)?;
                tensor_read(&t)
            }),
        }
    }

    /// ndarray-npy's `ArrayD::<T>::read_npy`, from memory, `T` the dtype asked for.
    pub fn ndarray_npy() -> NpyReader {
        NpyReader {
            name: "ndarray-npy read_npy",
            run: Box::new(|bytes, dtype| {
                with_file_elem(dtype, ReadAs { bytes }).unwrap_or_else(|| Err(no_element(dtype)))
            }),
        }
    }
}

fn no_element(dtype: Dtype) -> String {
    format!("ndarray-npy has no element type for {dtype}")
}

impl NpzReaderOp {
    /// tch's `Tensor::read_npz`, on a temporary file: every member or one error.
    pub fn tch() -> NpzReaderOp {
        NpzReaderOp {
            name: "tch read_npz",
            run: Box::new(|bytes, _| {
                let file = TempFile::with(bytes, "npz")?;
                let named = Tensor::read_npz(&file.0).map_err(first_line)?;
                Ok(named.into_iter().map(|(name, t)| (name, tensor_read(&t))).collect())
            }),
        }
    }

    /// ndarray-npy's `NpzReader`: `names()`, then `by_name` for each, as the dtype asked for that name.
    pub fn ndarray_npy() -> NpzReaderOp {
        NpzReaderOp {
            name: "ndarray-npy NpzReader",
            run: Box::new(|bytes, dtype_of| {
                let mut npz = NpzReader::new(Cursor::new(bytes)).map_err(first_line)?;
                let names = npz.names().map_err(first_line)?;
                Ok(names
                    .into_iter()
                    .map(|name| {
                        let key = name.strip_suffix(".npy").unwrap_or(&name).to_string();
                        let dtype = dtype_of(&key);
                        let read = with_file_elem(dtype, ByName { npz: &mut npz, name: &name })
                            .unwrap_or_else(|| Err(no_element(dtype)));
                        (key, read)
                    })
                    .collect())
            }),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Writers.

/// Writes a case as a `.npy` file's bytes.
pub type NpyWriteFn = Box<dyn Fn(&TensorCase) -> Result<Vec<u8>, String> + Send + Sync>;
/// Writes named cases as an `.npz` file's bytes.
pub type NpzWriteFn = Box<dyn Fn(&[(String, TensorCase)]) -> Result<Vec<u8>, String> + Send + Sync>;

pub struct NpyWriter {
    pub name: &'static str,
    pub run: NpyWriteFn,
}

pub struct NpzWriterOp {
    pub name: &'static str,
    pub run: NpzWriteFn,
}

/// The case as a tensor (conform's copying conversion: any layout, bits unchanged, bf16 as BFloat16).
pub fn case_tensor(case: &TensorCase) -> Result<Tensor, String> {
    with_elem!(case.dtype(), T => copy_to_tensor(&array_view(case.layout(), &storage_of::<T>(case))))
        .map_err(first_line)
}

impl NpyWriter {
    /// tch's `write_npy`, of the case as a tensor, through a temporary file.
    pub fn tch() -> NpyWriter {
        NpyWriter {
            name: "tch write_npy",
            run: Box::new(|case| {
                let t = case_tensor(case)?;
                let file = TempFile::empty("npy");
                t.write_npy(&file.0).map_err(first_line)?;
                file.read()
            }),
        }
    }

    /// ndarray-npy's `write_npy`, of an array view with the case's own layout.
    pub fn ndarray_npy() -> NpyWriter {
        NpyWriter {
            name: "ndarray-npy write_npy",
            run: Box::new(|case| {
                with_file_elem(case.dtype(), WriteCase { case, out: Vec::new() })
                    .unwrap_or_else(|| Err(no_element(case.dtype())))
            }),
        }
    }
}

impl NpzWriterOp {
    /// tch's `write_npz` (stored), of the cases as tensors.
    pub fn tch() -> NpzWriterOp {
        NpzWriterOp {
            name: "tch write_npz",
            run: Box::new(|cases| {
                let tensors =
                    cases.iter().map(|(n, c)| Ok((n.clone(), case_tensor(c)?))).collect::<Result<Vec<_>, String>>()?;
                let file = TempFile::empty("npz");
                Tensor::write_npz(&tensors, &file.0).map_err(first_line)?;
                file.read()
            }),
        }
    }

    /// ndarray-npy's `NpzWriter`, stored or compressed (DEFLATE).
    pub fn ndarray_npy(compressed: bool) -> NpzWriterOp {
        NpzWriterOp {
            name: if compressed { "ndarray-npy NpzWriter::new_compressed" } else { "ndarray-npy NpzWriter::new" },
            run: Box::new(move |cases| {
                let cursor = Cursor::new(Vec::new());
                let mut npz = if compressed { NpzWriter::new_compressed(cursor) } else { NpzWriter::new(cursor) };
                for (name, case) in cases {
                    with_file_elem(case.dtype(), AddCase { npz: &mut npz, name, case })
                        .unwrap_or_else(|| Err(no_element(case.dtype())))?;
                }
                Ok(npz.finish().map_err(first_line)?.into_inner())
            }),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Element types as ndarray-npy sees them.

/// An ndarray-npy element of one of conform's dtypes, with its exact bits.
pub trait FileElem: ReadableElement + WritableElement + Clone + 'static {
    const DTYPE: Dtype;
    fn from_bits(bits: u64) -> Self;
    fn bits(&self) -> u64;
}

macro_rules! file_elem_native {
    ($($t:ty),*) => {$(
        impl FileElem for $t {
            const DTYPE: Dtype = <$t as Elem>::DTYPE;
            fn from_bits(bits: u64) -> Self { <$t as Elem>::from_raw(bits) }
            fn bits(&self) -> u64 { <$t as Elem>::raw(*self) }
        }
    )*};
}
file_elem_native!(bool, u8, i8, i16, i32, i64, f32, f64);

/// conform's f16 element for ndarray-npy (which has none): the bits, read and written as `<f2`/`>f2` the way the
/// crate reads and writes its own two-byte integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct F16Bits(pub u16);

impl FileElem for F16Bits {
    const DTYPE: Dtype = Dtype::F16;
    fn from_bits(bits: u64) -> Self {
        F16Bits(bits as u16)
    }
    fn bits(&self) -> u64 {
        self.0 as u64
    }
}

impl WritableElement for F16Bits {
    fn type_descriptor() -> PyValue {
        PyValue::String("<f2".into())
    }
    fn write<W: Write>(&self, mut writer: W) -> Result<(), WriteDataError> {
        writer.write_all(&self.0.to_le_bytes())?;
        Ok(())
    }
    fn write_slice<W: Write>(slice: &[Self], mut writer: W) -> Result<(), WriteDataError> {
        for x in slice {
            x.write(&mut writer)?;
        }
        Ok(())
    }
}

impl ReadableElement for F16Bits {
    fn read_to_end_exact_vec<R: std::io::Read>(
        mut reader: R,
        type_desc: &PyValue,
        len: usize,
    ) -> Result<Vec<Self>, ReadDataError> {
        // As ndarray-npy's own multi-byte elements: the output first, sized by the header, then the descriptor.
        let mut out = vec![F16Bits(0); len];
        let big = match type_desc {
            PyValue::String(s) if s == "<f2" => false,
            PyValue::String(s) if s == ">f2" => true,
            other => return Err(ReadDataError::WrongDescriptor(other.clone())),
        };
        let mut chunk = [0u8; 4096];
        for part in out.chunks_mut(chunk.len() / 2) {
            let bytes = &mut chunk[..part.len() * 2];
            reader.read_exact(bytes)?;
            for (x, b) in part.iter_mut().zip(bytes.chunks_exact(2)) {
                let pair = [b[0], b[1]];
                x.0 = if big { u16::from_be_bytes(pair) } else { u16::from_le_bytes(pair) };
            }
        }
        let extra = reader.read_to_end(&mut Vec::new())?;
        if extra != 0 {
            return Err(ReadDataError::ExtraBytes(extra));
        }
        Ok(out)
    }
}

/// Something to do with the ndarray-npy element type of a dtype.
pub trait WithFileElem {
    type Out;
    fn run<T: FileElem>(self) -> Self::Out;
}

/// Runs `job` with the element type of `dtype`; `None` for bf16 (ndarray-npy has none).
pub fn with_file_elem<J: WithFileElem>(dtype: Dtype, job: J) -> Option<J::Out> {
    Some(match dtype {
        Dtype::Bool => job.run::<bool>(),
        Dtype::U8 => job.run::<u8>(),
        Dtype::I8 => job.run::<i8>(),
        Dtype::I16 => job.run::<i16>(),
        Dtype::I32 => job.run::<i32>(),
        Dtype::I64 => job.run::<i64>(),
        Dtype::F16 => job.run::<F16Bits>(),
        Dtype::F32 => job.run::<f32>(),
        Dtype::F64 => job.run::<f64>(),
        Dtype::Bf16 => return None,
    })
}

fn array_read<T: FileElem>(a: &ArrayD<T>) -> Read {
    Read {
        dtype: Ok(T::DTYPE),
        shape: a.shape().iter().map(|&n| n as i64).collect(),
        bits: a.iter().map(FileElem::bits).collect(),
    }
}

struct ReadAs<'a> {
    bytes: &'a [u8],
}

impl WithFileElem for ReadAs<'_> {
    type Out = Result<Read, ReadError>;
    fn run<T: FileElem>(self) -> Self::Out {
        let a = ArrayD::<T>::read_npy(Cursor::new(self.bytes)).map_err(first_line)?;
        Ok(array_read(&a))
    }
}

struct ByName<'a, 'b> {
    npz: &'a mut NpzReader<Cursor<&'b [u8]>>,
    name: &'a str,
}

impl WithFileElem for ByName<'_, '_> {
    type Out = Result<Read, ReadError>;
    fn run<T: FileElem>(self) -> Self::Out {
        let a = self.npz.by_name::<OwnedRepr<T>, IxDyn>(self.name).map_err(first_line)?;
        Ok(array_read(&a))
    }
}

fn case_elements<T: FileElem>(case: &TensorCase) -> Vec<T> {
    case.storage().iter().map(|&b| T::from_bits(b)).collect()
}

struct WriteCase<'a> {
    case: &'a TensorCase,
    out: Vec<u8>,
}

impl WithFileElem for WriteCase<'_> {
    type Out = Result<Vec<u8>, String>;
    fn run<T: FileElem>(mut self) -> Self::Out {
        let data = case_elements::<T>(self.case);
        array_view(self.case.layout(), &data).write_npy(&mut self.out).map_err(first_line)?;
        Ok(self.out)
    }
}

struct AddCase<'a, W: Write + std::io::Seek> {
    npz: &'a mut NpzWriter<W>,
    name: &'a str,
    case: &'a TensorCase,
}

impl<W: Write + std::io::Seek> WithFileElem for AddCase<'_, W> {
    type Out = Result<(), String>;
    fn run<T: FileElem>(self) -> Self::Out {
        let data = case_elements::<T>(self.case);
        self.npz.add_array(self.name, &array_view(self.case.layout(), &data)).map_err(first_line)
    }
}
