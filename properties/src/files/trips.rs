//! Round trips through files, on tensor cases of every dtype and layout: a writer makes the file's bytes, conform's
//! own reader ([`oracle`]) says what NumPy would read from them (which must be the case's values), and each reader
//! must give back the case bit for bit — or refuse with one of the [`documented`] limitations, which are tallied
//! (shown as observations in the report). An `.npz` holds several arrays made from the case ([`members`]): the case
//! itself, its values reversed, one element as a 0-d array, a zero-size array, and two arrays of other dtypes (the
//! low bytes as u8, the bits as i64).

use conform_generators::{CaseSpace, Dtype, TensorCase};
use conform_judge::{CheckError, Tally, Verdict};

use super::oracle::{self, Npy, Npz};
use super::readers::{NpyReader, NpyWriter, NpzReaderOp, NpzWriterOp, Read};
use super::{error_class, same_read, Expected, FAMILY};
use crate::property::Property;
use crate::view::array_view;

fn space(max_numel: usize) -> CaseSpace {
    CaseSpace::all(max_numel)
}

pub fn npy_ndarray_npy_to_tch() -> Property {
    let (writer, reader) = (NpyWriter::ndarray_npy(), NpyReader::tch());
    Property::new(
        FAMILY,
        "npy_ndarray_npy_to_tch",
        "an array of any layout written by ndarray-npy's write_npy is read back by tch's read_npy bit for bit, or \
         refused as documented",
    )
    .tensors(space)
    .tallied(move |case, tally| npy_round_trip(case, &writer, &[&reader], Some(tally)))
}

pub fn npy_tch_to_ndarray_npy() -> Property {
    let (writer, readers) = (NpyWriter::tch(), [NpyReader::ndarray_npy(), NpyReader::tch()]);
    Property::new(
        FAMILY,
        "npy_tch_to_ndarray_npy",
        "a tensor of any layout written by tch's write_npy is read back by ndarray-npy (and by tch) bit for bit, or \
         refused as documented",
    )
    .tensors(space)
    .tallied(move |case, tally| npy_round_trip(case, &writer, &[&readers[0], &readers[1]], Some(tally)))
}

pub fn npz_ndarray_npy_to_tch() -> Property {
    let writers = [NpzWriterOp::ndarray_npy(false), NpzWriterOp::ndarray_npy(true)];
    let readers = [NpzReaderOp::tch(), NpzReaderOp::ndarray_npy()];
    Property::new(
        FAMILY,
        "npz_ndarray_npy_to_tch",
        "an .npz of several arrays of mixed dtypes written by ndarray-npy's NpzWriter (stored and compressed) is read \
         back by tch's read_npz (and ndarray-npy's NpzReader) bit for bit, or refused as documented",
    )
    .tensors(space)
    .tallied(move |case, tally| {
        writers.iter().try_for_each(|w| npz_round_trip(case, w, &[&readers[0], &readers[1]], Some(tally)))
    })
}

pub fn npz_tch_to_ndarray_npy() -> Property {
    let writer = NpzWriterOp::tch();
    let readers = [NpzReaderOp::ndarray_npy(), NpzReaderOp::tch()];
    Property::new(
        FAMILY,
        "npz_tch_to_ndarray_npy",
        "an .npz of several arrays of mixed dtypes written by tch's write_npz is read back by ndarray-npy's NpzReader \
         (and tch's read_npz) bit for bit, or refused as documented",
    )
    .tensors(space)
    .tallied(move |case, tally| npz_round_trip(case, &writer, &[&readers[0], &readers[1]], Some(tally)))
}

/// What a side may refuse, and why: the limitations of tch 0.24 and ndarray-npy 0.9.1 as documented here. `fortran`
/// says whether the file in question has `fortran_order: True`. `None`: an undocumented refusal (a failure).
pub fn documented(op: &str, dtype: Dtype, fortran: bool, error: &str) -> Option<&'static str> {
    let tch = op.starts_with("tch ");
    match () {
        _ if dtype == Dtype::Bf16 && !tch && error.contains("no element type for bf16") => {
            Some("ndarray-npy has no bf16 element type (NumPy has no bf16 type string)")
        }
        _ if dtype == Dtype::Bf16 && tch && error.contains("unsupported kind BFloat16") => {
            Some("tch's npy writer has no type string for BFloat16 (NumPy has none)")
        }
        _ if dtype == Dtype::Bool && tch && op.contains("write") && error.contains("unsupported kind Bool") => {
            Some("tch's npy writer has no type string for Bool (NumPy's is |b1)")
        }
        _ if fortran && tch && op.contains("read") && error.contains("fortran order not supported") => {
            Some("tch's reader refuses fortran_order True (ndarray-npy writes a Fortran-contiguous array that way)")
        }
        _ => None,
    }
}

/// `op` refused: tallied when documented, else a failure naming the case's dtype and layout.
fn refusal(op: &str, case: &TensorCase, fortran: bool, error: &str, tally: Option<&Tally>) -> Verdict {
    let dtype = case.dtype();
    match documented(op, dtype, fortran, error) {
        Some(why) => {
            if let Some(t) = tally {
                t.add(format!("{op} refused {dtype}: {why}"));
            }
            Ok(())
        }
        None => {
            let layout = case.layout();
            Err(CheckError::fail(
                format!("{op} refused: {}", error_class(error)),
                format!(
                    "{op} refused [{dtype}, shape={:?} strides={:?} offset={} ({}){}]: {error}",
                    layout.shape,
                    layout.strides,
                    layout.offset,
                    layout.features().join(", "),
                    if fortran { ", fortran_order True" } else { "" },
                ),
            ))
        }
    }
}

/// Whether ndarray-npy writes this case's array with `fortran_order: True` (Fortran-contiguous, not C-contiguous).
pub fn written_fortran(case: &TensorCase) -> bool {
    let view = array_view(case.layout(), case.storage());
    !view.is_standard_layout() && view.view().reversed_axes().is_standard_layout()
}

fn read_of(a: &oracle::NpyArray) -> Read {
    Read { dtype: Ok(a.dtype), shape: a.shape.iter().map(|&n| n as i64).collect(), bits: a.bits.clone() }
}

/// The file `writer` made must be one NumPy reads as exactly the case.
fn numpy_reads(writer: &str, case: &TensorCase, npy: &Npy, expected: Expected<'_>) -> Verdict {
    let what = format!("NumPy's reading of the file {writer} wrote");
    match npy {
        Npy::Valid(a) => {
            same_read(&what, "the array", expected, &read_of(a))?;
            if a.trailing > 0 {
                return Err(CheckError::fail(
                    format!("{writer} wrote bytes after the data"),
                    format!(
                        "{writer} wrote {} bytes after the data [{}, shape {:?}]",
                        a.trailing,
                        case.dtype(),
                        case.shape()
                    ),
                ));
            }
            Ok(())
        }
        Npy::Invalid(e) => Err(CheckError::fail(
            format!("{writer} wrote a file NumPy refuses: {}", e.class),
            format!(
                "{writer} wrote a file NumPy refuses ({}: {}) [{}, shape {:?}]",
                e.class,
                e.detail,
                case.dtype(),
                case.shape()
            ),
        )),
        Npy::Outside(descr) => Err(CheckError::fail(
            format!("{writer} wrote a type string of another dtype"),
            format!("{writer} wrote descr '{descr}' for {}", case.dtype()),
        )),
    }
}

/// One case through `writer` and each of `readers`.
pub fn npy_round_trip(case: &TensorCase, writer: &NpyWriter, readers: &[&NpyReader], tally: Option<&Tally>) -> Verdict {
    let dtype = case.dtype();
    let bytes = match (writer.run)(case) {
        Ok(b) => b,
        Err(e) => return refusal(writer.name, case, false, &e, tally),
    };
    let logical = case.logical();
    let expected = Expected { dtype, shape: case.shape(), bits: &logical };
    let npy = oracle::read_npy(&bytes);
    numpy_reads(writer.name, case, &npy, expected)?;
    let fortran = matches!(&npy, Npy::Valid(a) if a.fortran);
    // An undocumented refusal fails the case after every reader has been checked for misreads.
    let mut deferred = Deferred::default();
    for reader in readers {
        match (reader.run)(&bytes, dtype) {
            Ok(read) => {
                same_read(&format!("{} of {}", reader.name, writer.name), "the array", expected, &read)?;
                if let Some(t) = tally {
                    t.add(format!("{} → {}: bit-exact ({dtype})", writer.name, reader.name));
                }
            }
            Err(e) => deferred.keep(refusal(reader.name, case, fortran, &e, tally)),
        }
    }
    deferred.verdict()
}

/// The first undocumented refusal of a case, returned once every other comparison of the case has been made (so a
/// known refusal cannot hide a misread behind it).
#[derive(Default)]
struct Deferred(Option<CheckError>);

impl Deferred {
    fn keep(&mut self, verdict: Verdict) {
        if let Err(e) = verdict {
            self.0.get_or_insert(e);
        }
    }

    fn verdict(self) -> Verdict {
        self.0.map_or(Ok(()), Err)
    }
}

/// The arrays an `.npz` of `case` holds: the case itself (`a`, its own layout), its values reversed (`reversed`),
/// its first value as a 0-d array (or a zero-size one) (`first`), a zero-size array (`empty`), the values' low
/// bytes as u8 (`low_bytes`) and their bits as i64 (`bits_i64`).
pub fn members(case: &TensorCase) -> Vec<(String, TensorCase)> {
    let dtype = case.dtype();
    let logical = case.logical();
    let n = logical.len();
    let made = |d: Dtype, shape: &[usize], v: Vec<u64>| TensorCase::contiguous(d, shape, v).expect("fits its shape");
    let reversed: Vec<u64> = logical.iter().rev().copied().collect();
    let first = match logical.first() {
        Some(&x) => made(dtype, &[], vec![x]),
        None => made(dtype, &[0], vec![]),
    };
    vec![
        ("a".into(), case.clone()),
        ("reversed".into(), made(dtype, &[n], reversed)),
        ("first".into(), first),
        ("empty".into(), made(dtype, &[2, 0], vec![])),
        ("low_bytes".into(), made(Dtype::U8, &[n], logical.iter().map(|b| b & 0xff).collect())),
        ("bits_i64".into(), made(Dtype::I64, &[n], logical)),
    ]
}

/// One case's members through `writer` and each of `readers`.
pub fn npz_round_trip(
    case: &TensorCase,
    writer: &NpzWriterOp,
    readers: &[&NpzReaderOp],
    tally: Option<&Tally>,
) -> Verdict {
    let members = members(case);
    let bytes = match (writer.run)(&members) {
        Ok(b) => b,
        Err(e) => return refusal(writer.name, case, false, &e, tally),
    };
    // Stored archives are read by conform's reader too; a compressed one is beyond it.
    match oracle::read_npz(&bytes) {
        Npz::Valid(found) => {
            let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
            let wanted: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
            if names != wanted {
                return Err(CheckError::fail(
                    format!("{} wrote other members", writer.name),
                    format!("{} wrote members {names:?} for {wanted:?}", writer.name),
                ));
            }
            for ((name, npy), (_, m)) in found.iter().zip(&members) {
                let logical = m.logical();
                let expected = Expected { dtype: m.dtype(), shape: m.shape(), bits: &logical };
                numpy_reads(&format!("{} (member {name})", writer.name), m, npy, expected)?;
            }
        }
        Npz::Invalid(e) => {
            return Err(CheckError::fail(
                format!("{} wrote a zip NumPy refuses", writer.name),
                format!("{} wrote a zip NumPy refuses: {}", writer.name, e.detail),
            ))
        }
        Npz::Outside(_) => {}
    }
    let fortran_a = written_fortran(case) && writer.name.starts_with("ndarray-npy");
    let dtype_of = |name: &str| members.iter().find(|(n, _)| n == name).map_or(case.dtype(), |(_, m)| m.dtype());
    let mut deferred = Deferred::default();
    for reader in readers {
        let refused_before = deferred.0.is_some();
        let got = match (reader.run)(&bytes, &dtype_of) {
            Ok(got) => got,
            Err(e) => {
                deferred.keep(refusal(reader.name, case, fortran_a, &e, tally));
                continue;
            }
        };
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        let wanted: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
        if names != wanted {
            return Err(CheckError::fail(
                format!("{} of {}: other members", reader.name, writer.name),
                format!("{} of {} read members {names:?} but the archive holds {wanted:?}", reader.name, writer.name),
            ));
        }
        for ((name, read), (_, m)) in got.iter().zip(&members) {
            let fortran = name == "a" && fortran_a;
            match read {
                Ok(read) => {
                    let logical = m.logical();
                    let expected = Expected { dtype: m.dtype(), shape: m.shape(), bits: &logical };
                    same_read(
                        &format!("{} of {} (member {name})", reader.name, writer.name),
                        "the array",
                        expected,
                        read,
                    )?
                }
                Err(e) => deferred.keep(refusal(reader.name, m, fortran, e, tally)),
            }
        }
        match tally {
            Some(t) if deferred.0.is_some() == refused_before => {
                t.add(format!("{} → {}: members bit-exact ({})", writer.name, reader.name, case.dtype()))
            }
            _ => {}
        }
    }
    deferred.verdict()
}
