//! Round-trip family: ndarray → Tensor → ndarray is bit-exact (NaN payloads, -0.0, subnormals included), keeps the
//! shape and the dtype, for every dtype and generated layout — through tch's own conversions and through the
//! project's copying conversion. The tensor in the middle is read as raw bytes too, so a defect in one direction
//! cannot hide behind its inverse in the other.

use std::sync::Arc;

use conform_generators::{CaseSpace, TensorCase};

use crate::claims::Claim;
use crate::convert::{tensor_bits, ArrayBits, ConvertError, ToArray, ToTensor};
use crate::property::{CaseError, DeviceNeed, Family, Property};

/// The check, with both conversions as parameters.
pub fn check_roundtrip(case: &TensorCase, to_tensor: &ToTensor, to_array: &ToArray) -> Result<(), CaseError> {
    let tensor = (to_tensor.run)(case).map_err(|e| refused(to_tensor.name, "array", case, &e))?;
    let middle = tensor_bits(&tensor).map_err(|e| refused("tensor_bits", "tensor", case, &e))?;
    same_bits(case, &middle, &format!("tensor made by {}", to_tensor.name))?;
    let back = (to_array.run)(&tensor, case.dtype()).map_err(|e| refused(to_array.name, "tensor", case, &e))?;
    same_bits(case, &back, &format!("{} → {}", to_tensor.name, to_array.name))
}

/// A conversion refused its input: a finding, not a reject (the property covers every generated case).
pub(crate) fn refused(op: &str, what: &str, case: &TensorCase, error: &ConvertError) -> CaseError {
    let first_line = error.to_string().lines().next().unwrap_or_default().to_string();
    let layout = case.layout();
    CaseError::fail(
        format!("{op} refused the {what}: {first_line}"),
        format!(
            "{op} refused the {what} [{dtype}, shape={shape:?} strides={strides:?} offset={offset} ({features})]: {first_line}",
            dtype = case.dtype(),
            shape = layout.shape,
            strides = layout.strides,
            offset = layout.offset,
            features = layout.features().join(", "),
        ),
    )
}

/// `got` must hold exactly the case's logical elements, with its dtype and shape.
pub(crate) fn same_bits(case: &TensorCase, got: &ArrayBits, what: &str) -> Result<(), CaseError> {
    let dtype = case.dtype();
    if got.dtype != dtype {
        return Err(CaseError::fail(
            format!("{what}: dtype changed"),
            format!("{what} has dtype {} but the array has {dtype}", got.dtype),
        ));
    }
    if got.shape != case.shape() {
        return Err(CaseError::fail(
            format!("{what}: shape changed"),
            format!("{what} has shape {:?} but the array has {:?} [{dtype}]", got.shape, case.shape()),
        ));
    }
    let expected = case.logical();
    if let Some(flat) = (0..expected.len()).find(|&i| got.bits[i] != expected[i]) {
        let (g, e) = (got.bits[flat], expected[flat]);
        return Err(CaseError::fail(
            format!("{what}: bits of a {} element changed", value_class(case, e)),
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
pub(crate) fn value_class(case: &TensorCase, bits: u64) -> &'static str {
    let Some(f) = case.dtype().float_format() else { return "integer" };
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

fn space(max_numel: usize) -> CaseSpace {
    CaseSpace::all(max_numel)
}

pub fn properties() -> Vec<Property> {
    let tch_ops = (ToTensor::tch(), ToArray::tch());
    let copy_ops = (ToTensor::copying(), ToArray::copying());
    vec![
        Property {
            name: "roundtrip::tch_conversions_bit_exact",
            family: Family::Roundtrip,
            device: DeviceNeed::Cpu,
            doc: "tch's TryFrom<&ArrayView> then TryInto<ArrayD> gives back the array bit for bit, for every layout",
            claims: &[Claim::NotBitwiseIdentical],
            space: Arc::new(space),
            check: Arc::new(move |case| check_roundtrip(case, &tch_ops.0, &tch_ops.1)),
            tally: None,
        },
        Property {
            name: "roundtrip::copying_conversion_bit_exact",
            family: Family::Roundtrip,
            device: DeviceNeed::Cpu,
            doc: "conform's copying conversion accepts every layout and gives back the array bit for bit",
            claims: &[Claim::NotBitwiseIdentical],
            space: Arc::new(space),
            check: Arc::new(move |case| check_roundtrip(case, &copy_ops.0, &copy_ops.1)),
            tally: None,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::{copy_to_tensor, storage_of};
    use crate::testing::minimal_failure;
    use crate::view::array_view;
    use crate::with_elem;
    use conform_generators::Dtype;

    #[test]
    fn real_copying_conversion_passes() {
        let ops = (ToTensor::copying(), ToArray::copying());
        crate::testing::assert_passes(space(64), |c| check_roundtrip(c, &ops.0, &ops.1));
    }

    #[test]
    fn planted_negative_zero_drop_fails_and_shrinks() {
        let drops_negative_zero = ToArray {
            name: "drops -0.0",
            run: Box::new(|t, dtype| {
                let mut out = (ToArray::copying().run)(t, dtype)?;
                let sign = dtype.float_format().map_or(0, |f| f.sign_bit());
                out.bits.iter_mut().filter(|b| sign != 0 && **b == sign).for_each(|b| *b = 0);
                Ok(out)
            }),
        };
        let (case, failure) = minimal_failure(space(64).with_dtypes(&[Dtype::F32]), |c| {
            check_roundtrip(c, &ToTensor::copying(), &drops_negative_zero)
        });
        assert_eq!(
            format!("{case:?}"),
            "TensorCase { dtype: f32, shape: [], strides: [], offset: 0, storage: [0x80000000 = -0.0] }"
        );
        assert_eq!(failure.message, "out[] bits=0x00000000 (0.0) but the array has 0x80000000 (-0.0) [conform copy_to_tensor → drops -0.0, f32]");
        assert_eq!(failure.signature, "conform copy_to_tensor → drops -0.0: bits of a negative-zero element changed");
    }

    #[test]
    fn planted_memory_order_copy_fails_and_shrinks_to_a_transpose() {
        // Copies the storage in memory order instead of logical order: right for C order, wrong once transposed.
        let memory_order = ToTensor {
            name: "memory-order copy",
            run: Box::new(|case| {
                let mut addressed: Vec<(usize, u64)> =
                    case.layout().addresses().into_iter().zip(case.logical()).collect();
                addressed.sort();
                let reordered =
                    TensorCase::contiguous(case.dtype(), case.shape(), addressed.into_iter().map(|p| p.1).collect())
                        .expect("same shape");
                with_elem!(case.dtype(), T => copy_to_tensor(&array_view(reordered.layout(), &storage_of::<T>(&reordered))))
            }),
        };
        let (case, failure) = minimal_failure(space(64).with_dtypes(&[Dtype::I16]), |c| {
            check_roundtrip(c, &memory_order, &ToArray::copying())
        });
        assert_eq!(
            format!("{case:?}"),
            "TensorCase { dtype: i16, shape: [2, 2], strides: [1, 2], offset: 0, storage: [0x0000 = 0, 0x0001 = 1, 0x0000 = 0, 0x0000 = 0] }"
        );
        assert_eq!(
            failure.message,
            "out[0,1] bits=0x0001 (1) but the array has 0x0000 (0) [tensor made by memory-order copy, i16]"
        );
    }
}
