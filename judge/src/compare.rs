//! The one comparison of an output against the expected one, used by every check: dtype, then shape, then length,
//! then values, so that a short, empty or reshaped output is a failure with its own message and never slips
//! through a `zip` that stops at the shorter side.
//!
//! Invariant: nothing here reads an element past either side's length.

use conform_generators::{Dtype, TensorCase};

use crate::verdict::{CheckError, Verdict};

/// An output as the judging code sees it: its dtype, shape and elements' bits in row-major logical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bits<'a> {
    pub dtype: Dtype,
    pub shape: &'a [usize],
    pub bits: &'a [u64],
}

/// `op` returned `actual` values for a case of `expected` elements.
pub fn same_len(op: &str, expected: usize, actual: usize) -> Verdict {
    if expected == actual {
        return Ok(());
    }
    Err(CheckError::fail(
        format!("{op} returned the wrong number of values"),
        format!("{op} returned {actual} values for {expected} elements"),
    ))
}

/// `got` must hold exactly the case's logical elements, with its dtype and shape; `what` names the path.
pub fn same_bits(case: &TensorCase, got: Bits<'_>, what: &str) -> Verdict {
    let dtype = case.dtype();
    if got.dtype != dtype {
        return Err(CheckError::fail(
            format!("{what}: dtype changed"),
            format!("{what} has dtype {} but the array has {dtype}", got.dtype),
        ));
    }
    if got.shape != case.shape() {
        return Err(CheckError::fail(
            format!("{what}: shape changed"),
            format!("{what} has shape {:?} but the array has {:?} [{dtype}]", got.shape, case.shape()),
        ));
    }
    let expected = case.logical();
    same_len(what, expected.len(), got.bits.len())?;
    if let Some(flat) = (0..expected.len()).find(|&i| got.bits[i] != expected[i]) {
        let (g, e) = (got.bits[flat], expected[flat]);
        return Err(CheckError::fail(
            format!("{what}: bits of a {} element changed", value_class(dtype, e)),
            format!(
                "out{index} bits={gh} ({gv}) but the array has {eh} ({ev}) [{what}, {dtype}]",
                index = case.index_string(flat),
                gh = dtype.hex(g),
                gv = dtype.render(g),
                eh = dtype.hex(e),
                ev = dtype.render(e),
            ),
        ));
    }
    Ok(())
}

/// A coarse class of an element, stable under shrinking, for failure signatures.
pub fn value_class(dtype: Dtype, bits: u64) -> &'static str {
    let Some(f) = dtype.float_format() else { return "integer" };
    let magnitude = bits & !f.sign_bit();
    match () {
        _ if f.is_nan(bits) => "NaN",
        _ if magnitude == f.infinity() => "infinite",
        _ if magnitude == 0 && bits != 0 => "negative-zero",
        _ if magnitude == 0 => "zero",
        _ if magnitude < f.min_normal() => "subnormal",
        _ => "normal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case() -> TensorCase {
        TensorCase::contiguous(Dtype::F32, &[3], vec![0x3f80_0000, 0x8000_0000, 0x7fc0_0001]).unwrap()
    }

    fn fails(v: Verdict) -> crate::Failure {
        match v {
            Err(CheckError::Fail(f)) => f,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn identical_output_passes() {
        let c = case();
        let bits = c.logical();
        assert_eq!(same_bits(&c, Bits { dtype: Dtype::F32, shape: &[3], bits: &bits }, "p"), Ok(()));
    }

    #[test]
    fn dtype_shape_and_length_come_before_values() {
        let c = case();
        let bits = c.logical();
        let f = fails(same_bits(&c, Bits { dtype: Dtype::F64, shape: &[3], bits: &bits }, "p"));
        assert_eq!(f.signature, "p: dtype changed");
        let f = fails(same_bits(&c, Bits { dtype: Dtype::F32, shape: &[1, 3], bits: &bits }, "p"));
        assert_eq!(f.message, "p has shape [1, 3] but the array has [3] [f32]");
        let f = fails(same_bits(&c, Bits { dtype: Dtype::F32, shape: &[3], bits: &bits[..2] }, "p"));
        assert_eq!(f.message, "p returned 2 values for 3 elements");
        let f = fails(same_bits(&c, Bits { dtype: Dtype::F32, shape: &[3], bits: &[] }, "p"));
        assert_eq!(f.signature, "p returned the wrong number of values");
    }

    #[test]
    fn a_wrong_last_element_is_named_with_its_class() {
        let c = case();
        let mut bits = c.logical();
        bits[2] = 0x7fc0_0000;
        let f = fails(same_bits(&c, Bits { dtype: Dtype::F32, shape: &[3], bits: &bits }, "p"));
        assert_eq!(f.signature, "p: bits of a NaN element changed");
        assert!(f.message.starts_with("out[2] bits=0x7fc00000"), "{}", f.message);
        bits[2] = 0x7fc0_0001;
        bits[1] = 0;
        let f = fails(same_bits(&c, Bits { dtype: Dtype::F32, shape: &[3], bits: &bits }, "p"));
        assert_eq!(f.signature, "p: bits of a negative-zero element changed");
    }

    #[test]
    fn value_classes() {
        let f32c = |b| value_class(Dtype::F32, b);
        assert_eq!(
            [f32c(0), f32c(0x8000_0000), f32c(1), f32c(0x3f80_0000), f32c(0x7f80_0000), f32c(0x7f80_0001)],
            ["zero", "negative-zero", "subnormal", "normal", "infinite", "NaN"]
        );
        assert_eq!(value_class(Dtype::I8, 0xff), "integer");
    }

    #[test]
    fn same_len_names_both_counts() {
        assert_eq!(same_len("op", 2, 2), Ok(()));
        assert_eq!(fails(same_len("op", 2, 0)).message, "op returned 0 values for 2 elements");
    }
}
