//! Hostile files: every reader, handed a `.npy` or `.npz` that may be damaged (`conform_generators::files`), returns
//! an error or exactly the values NumPy reads from it ([`oracle`]). Accepting a file NumPy refuses is a failure
//! (whatever came back was not the file's values: data past the end, a shape the header does not say); so is an
//! error that says the reader tried to allocate more than [`memory::bound`]. Crashes and hangs are the worker's to
//! record. Every outcome is tallied by what NumPy makes of the file and what the reader did, so the report shows
//! which damage each reader refuses and how.
//!
//! A typed reader (ndarray-npy) is asked for the dtype the header names when conform's reader can tell, else the
//! dtype of the file before it was damaged.

use conform_generators::files::{arb_npy_file, arb_npz_file};
use conform_generators::{FileCase, FileFormat};
use conform_judge::{CheckError, Tally, Verdict};

use super::memory::{self, attempted_allocation, within_bound};
use super::oracle::{self, Npy, Npz};
use super::readers::{NpyReader, NpzReaderOp, Read};
use super::{error_class, same_read, Expected, FAMILY};
use crate::property::Property;

pub fn hostile_npy_tch_read_npy() -> Property {
    let reader = NpyReader::tch();
    Property::new(
        FAMILY,
        "hostile_npy_tch_read_npy",
        "tch's read_npy returns an error or exactly NumPy's values for any .npy, valid or damaged, within the memory \
         bound",
    )
    .cases(arb_npy_file)
    .tallied(move |case, tally| hostile_npy(case, &reader, Some(tally)))
}

pub fn hostile_npy_ndarray_npy() -> Property {
    let reader = NpyReader::ndarray_npy();
    Property::new(
        FAMILY,
        "hostile_npy_ndarray_npy",
        "ndarray-npy's read_npy returns an error or exactly NumPy's values for any .npy, valid or damaged, within the \
         memory bound",
    )
    .cases(arb_npy_file)
    .tallied(move |case, tally| hostile_npy(case, &reader, Some(tally)))
}

pub fn hostile_npz_tch_read_npz() -> Property {
    let reader = NpzReaderOp::tch();
    Property::new(
        FAMILY,
        "hostile_npz_tch_read_npz",
        "tch's read_npz returns an error or exactly NumPy's values for any .npz, valid or damaged, within the memory \
         bound",
    )
    .cases(arb_npz_file)
    .tallied(move |case, tally| hostile_npz(case, &reader, Some(tally)))
}

pub fn hostile_npz_ndarray_npy() -> Property {
    let reader = NpzReaderOp::ndarray_npy();
    Property::new(
        FAMILY,
        "hostile_npz_ndarray_npy",
        "ndarray-npy's NpzReader returns an error or exactly NumPy's values for each member of any .npz, valid or \
         damaged, within the memory bound",
    )
    .cases(arb_npz_file)
    .tallied(move |case, tally| hostile_npz(case, &reader, Some(tally)))
}

fn add(tally: Option<&Tally>, key: String) {
    if let Some(t) = tally {
        t.add(key);
    }
}

/// What NumPy makes of a file, as a tally key's first half.
fn numpy_says(npy: &Npy) -> String {
    match npy {
        Npy::Valid(a) if a.trailing > 0 => "valid (bytes after the data)".into(),
        Npy::Valid(a) if a.version == 3 => "valid (header version 3.0)".into(),
        Npy::Valid(a) if a.fortran && a.big_endian => "valid (Fortran order, big-endian)".into(),
        Npy::Valid(a) if a.fortran => "valid (Fortran order)".into(),
        Npy::Valid(a) if a.big_endian => "valid (big-endian)".into(),
        Npy::Valid(_) => "valid".into(),
        Npy::Invalid(e) => format!("NumPy refuses: {}", e.class),
        Npy::Outside(d) => format!("valid, dtype outside conform ({d})"),
    }
}

/// An error must not say the reader tried to allocate beyond the bound.
fn within_memory(reader: &str, file_len: usize, error: &str, what: &str) -> Verdict {
    let bound = memory::bound(file_len);
    match attempted_allocation(error) {
        Some(n) if n > bound => Err(CheckError::fail(
            format!("{reader} tried to allocate beyond 64 × the file's size + 256 MiB"),
            format!(
                "{reader} tried to allocate {n} bytes for a file of {file_len} bytes (bound {bound}) [{what}]: {error}"
            ),
        )),
        _ => Ok(()),
    }
}

fn shown(read: &Read) -> String {
    let dtype = read.dtype.as_ref().map_or_else(|k| k.clone(), |d| d.to_string());
    let bits: Vec<String> = read.bits.iter().take(4).map(|b| format!("{b:#x}")).collect();
    let more = if read.bits.len() > 4 { ", …" } else { "" };
    format!("{dtype} shape {:?} bits [{}{more}]", read.shape, bits.join(", "))
}

/// One member (or one `.npy`): the reader's answer against NumPy's.
fn judge(
    reader: &str,
    what: &str,
    npy: &Npy,
    got: Result<&Read, &str>,
    file_len: usize,
    tally: Option<&Tally>,
) -> Verdict {
    let says = numpy_says(npy);
    match (npy, got) {
        (_, Err(error)) => {
            within_memory(reader, file_len, error, what)?;
            add(tally, format!("{says} → {reader} refused: {}", error_class(error)));
            Ok(())
        }
        (Npy::Valid(a), Ok(read)) => {
            let expected = Expected { dtype: a.dtype, shape: &a.shape, bits: &a.bits };
            same_read(&format!("{reader} of {what}"), "NumPy", expected, read)?;
            add(tally, format!("{says} → {reader} read NumPy's values"));
            Ok(())
        }
        (Npy::Invalid(e), Ok(read)) => Err(CheckError::fail(
            format!("{reader} accepted a file NumPy refuses: {}", e.class),
            format!("{reader} returned {} for {what}, which NumPy refuses ({}: {})", shown(read), e.class, e.detail),
        )),
        (Npy::Outside(d), Ok(_)) => {
            add(tally, format!("{says} → {reader} read it (not judged: dtype {d})"));
            Ok(())
        }
    }
}

/// The check of the `.npy` properties, with the reader as a parameter.
pub fn hostile_npy(case: &FileCase, reader: &NpyReader, tally: Option<&Tally>) -> Verdict {
    if case.format() != FileFormat::Npy {
        return Err(CheckError::Reject("an .npz case, but this property reads .npy files".into()));
    }
    let bytes = case.bytes();
    let npy = oracle::read_npy(bytes);
    let dtype = match &npy {
        Npy::Valid(a) => a.dtype,
        _ => case.dtype(),
    };
    let got = within_bound(bytes.len(), || (reader.run)(bytes, dtype));
    let what = format!("a {}-byte file ({})", bytes.len(), case.made());
    judge(reader.name, &what, &npy, got.as_ref().map_err(|e| e.as_str()), bytes.len(), tally)
}

/// The check of the `.npz` properties: an archive NumPy refuses must be refused (every member, for a per-member
/// reader); each member a reader returns is judged like an `.npy`.
pub fn hostile_npz(case: &FileCase, reader: &NpzReaderOp, tally: Option<&Tally>) -> Verdict {
    if case.format() != FileFormat::Npz {
        return Err(CheckError::Reject("an .npy case, but this property reads .npz files".into()));
    }
    let bytes = case.bytes();
    let npz = oracle::read_npz(bytes);
    let members: Vec<(String, Npy)> = match &npz {
        Npz::Valid(m) => m.clone(),
        Npz::Invalid(_) => Vec::new(),
        Npz::Outside(why) => {
            add(tally, format!("zip beyond conform's reader ({why}): not judged"));
            return Ok(());
        }
    };
    let dtype_of = |name: &str| match members.iter().find(|(n, _)| n == name) {
        Some((_, Npy::Valid(a))) => a.dtype,
        _ => case.dtype(),
    };
    let got = within_bound(bytes.len(), || (reader.run)(bytes, &dtype_of));
    let what = format!("a {}-byte archive ({})", bytes.len(), case.made());
    let got = match got {
        Err(error) => {
            within_memory(reader.name, bytes.len(), &error, &what)?;
            let says = match &npz {
                Npz::Invalid(e) => format!("NumPy refuses: {}", e.class),
                _ if members.iter().all(|(_, m)| matches!(m, Npy::Valid(_))) => "valid".into(),
                _ => "a member NumPy refuses".into(),
            };
            add(tally, format!("archive {says} → {} refused: {}", reader.name, error_class(&error)));
            return Ok(());
        }
        Ok(got) => got,
    };
    if let Npz::Invalid(e) = &npz {
        if let Some((name, Ok(read))) = got.iter().find(|(_, r)| r.is_ok()) {
            return Err(CheckError::fail(
                format!("{} accepted an archive NumPy refuses: {}", reader.name, e.class),
                format!(
                    "{} returned {} as member {name} of {what}, which NumPy refuses ({}: {})",
                    reader.name,
                    shown(read),
                    e.class,
                    e.detail
                ),
            ));
        }
    }
    for (name, read) in &got {
        let Some((_, npy)) = members.iter().find(|(n, _)| n == name) else {
            if let Ok(read) = read {
                return Err(CheckError::fail(
                    format!("{} returned a member the archive does not hold", reader.name),
                    format!(
                        "{} returned {} as member {name} of {what}, which holds no such member",
                        reader.name,
                        shown(read)
                    ),
                ));
            }
            continue;
        };
        let member = format!("member {name} of {what}");
        judge(reader.name, &member, npy, read.as_ref().map_err(|e| e.as_str()), bytes.len(), tally)?;
    }
    // A whole-archive reader must not drop members it did not refuse.
    if got.len() < members.len() {
        return Err(CheckError::fail(
            format!("{} dropped members", reader.name),
            format!("{} returned {} members of {what}, which holds {}", reader.name, got.len(), members.len()),
        ));
    }
    Ok(())
}
