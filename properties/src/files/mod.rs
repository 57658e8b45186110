//! Files family: `.npy` and `.npz`, where NumPy data usually meets a Rust tensor. Two kinds of property:
//!
//! - Round trips ([`trips`]), on tensor cases of every dtype and layout: an array written by ndarray-npy and read by
//!   tch, a tensor written by tch and read by ndarray-npy (and by tch again), and `.npz` archives of several arrays
//!   of mixed dtypes each way, bit for bit, NaN payloads and -0.0 included. The file in the middle is read by
//!   conform's own reader ([`oracle`]) too, so a writer's defect cannot hide behind the reader's inverse defect.
//!   What a side refuses must be one of the documented limitations ([`trips::documented`]: bf16 everywhere, bool in
//!   tch's writer, Fortran order in tch's reader), a clear error tabulated in the report; any other refusal fails.
//! - Hostile files ([`hostile`]), on file cases (`conform_generators::files`): valid files and files with one damage
//!   each. Every reader must return an error or exactly the values NumPy reads from the file; it must not accept a
//!   file NumPy refuses, return bytes that are not in it, crash, hang or allocate beyond
//!   [`memory::bound`] (enforced with `RLIMIT_AS` in crash-isolated workers). A crash or hang is recorded by the
//!   worker that ran the case; everything else is judged here.
//!
//! The committed NumPy-written fixtures (`fixtures/npy/`) are read by every reader in the integration test
//! `properties/tests/npy_fixtures.rs`.

pub mod hostile;
pub mod memory;
pub mod oracle;
pub mod readers;
#[cfg(test)]
mod tests;
pub mod trips;

use conform_generators::Dtype;
use conform_judge::{CheckError, Verdict};

use crate::families::Family;
use crate::property::Property;
use readers::Read;

pub use memory::enforce_in_this_process;

pub const FAMILY: Family = Family::new(
    "files",
    ".npy/.npz between ndarray-npy and tch round-trip bit-exactly or refuse clearly, and hostile files get an error \
     or exactly NumPy's values: no crash, hang, misread or allocation beyond 64 × the file's size + 256 MiB",
);

/// Every files property, in report order.
pub fn properties() -> Vec<Property> {
    vec![
        trips::npy_ndarray_npy_to_tch(),
        trips::npy_tch_to_ndarray_npy(),
        trips::npz_ndarray_npy_to_tch(),
        trips::npz_tch_to_ndarray_npy(),
        hostile::hostile_npy_tch_read_npy(),
        hostile::hostile_npy_ndarray_npy(),
        hostile::hostile_npz_tch_read_npz(),
        hostile::hostile_npz_ndarray_npy(),
    ]
}

/// The expected side of a comparison: dtype, shape and C-order bits.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub dtype: Dtype,
    pub shape: &'a [usize],
    pub bits: &'a [u64],
}

/// `got` must be exactly `expected`: dtype, then shape, then length, then every element's bits. `what` names the
/// path (`tch read_npy of ndarray-npy write_npy`), `whose` the expected side (`the array`, `NumPy`).
pub fn same_read(what: &str, whose: &str, expected: Expected<'_>, got: &Read) -> Verdict {
    let dtype = expected.dtype;
    let got_dtype = got.dtype.as_ref().map_or_else(|kind| kind.clone(), |d| d.to_string());
    if got.dtype.as_ref() != Ok(&dtype) {
        return Err(CheckError::fail(
            format!("{what}: dtype changed"),
            format!("{what} has dtype {got_dtype} but {whose} has {dtype}"),
        ));
    }
    let shape: Vec<i64> = expected.shape.iter().map(|&n| n as i64).collect();
    if got.shape != shape {
        return Err(CheckError::fail(
            format!("{what}: shape changed"),
            format!("{what} has shape {:?} but {whose} has {:?} [{dtype}]", got.shape, expected.shape),
        ));
    }
    conform_judge::same_len(what, expected.bits.len(), got.bits.len())?;
    if let Some(i) = (0..expected.bits.len()).find(|&i| got.bits[i] != expected.bits[i]) {
        let (g, e) = (got.bits[i], expected.bits[i]);
        return Err(CheckError::fail(
            format!("{what}: bits of a {} element changed", conform_judge::compare::value_class(dtype, e)),
            format!(
                "out{index} bits={gh} ({gv}) but {whose} has {eh} ({ev}) [{what}, {dtype}]",
                index = index_string(expected.shape, i),
                gh = dtype.hex(g),
                gv = dtype.render(g),
                eh = dtype.hex(e),
                ev = dtype.render(e),
            ),
        ));
    }
    Ok(())
}

/// `[i,j,…]` of the `flat`-th element of `shape` in C order.
fn index_string(shape: &[usize], mut flat: usize) -> String {
    let mut index = vec![0; shape.len()];
    for (i, &d) in shape.iter().enumerate().rev() {
        if d > 0 {
            index[i] = flat % d;
            flat /= d;
        }
    }
    format!("[{}]", index.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(","))
}

/// An error message as a tally key: digits folded to `N` (sizes and offsets would make every case a key of its
/// own), at most 120 characters.
pub fn error_class(error: &str) -> String {
    let mut out = String::new();
    let mut in_digits = false;
    for c in error.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('N');
            }
            in_digits = true;
        } else {
            in_digits = false;
            out.push(c);
        }
    }
    out.chars().take(120).collect()
}
