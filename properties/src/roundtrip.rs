//! Round-trip family: ndarray → Tensor → ndarray is bit-exact (NaN payloads, -0.0, subnormals included), keeps the
//! shape and the dtype, for every dtype and generated layout — through tch's own conversions and through the
//! project's copying conversion. The tensor in the middle is read as raw bytes too, so a defect in one direction
//! cannot hide behind its inverse in the other.

use conform_generators::{CaseSpace, TensorCase};
use conform_judge::Verdict;

use crate::claims;
use crate::convert::{tensor_bits, ToArray, ToTensor};
use crate::families::Family;
use crate::property::Property;
use crate::shared::{refused, same_array};

pub const FAMILY: Family = Family::new(
    "roundtrip",
    "ndarray → Tensor → ndarray is bit-exact and keeps shape and dtype, through tch's conversions and conform's copy",
);

pub fn properties() -> Vec<Property> {
    vec![tch_conversions_bit_exact(), copying_conversion_bit_exact()]
}

fn space(max_numel: usize) -> CaseSpace {
    CaseSpace::all(max_numel)
}

pub fn tch_conversions_bit_exact() -> Property {
    let (to_tensor, to_array) = (ToTensor::tch(), ToArray::tch());
    Property::new(
        FAMILY,
        "tch_conversions_bit_exact",
        "tch's TryFrom<&ArrayView> then TryInto<ArrayD> gives back the array bit for bit, for every layout",
    )
    .claims(&[claims::NOT_BITWISE_IDENTICAL])
    .tensors(space)
    .check(move |case| round_trip_bit_exact(case, &to_tensor, &to_array))
}

pub fn copying_conversion_bit_exact() -> Property {
    let (to_tensor, to_array) = (ToTensor::copying(), ToArray::copying());
    Property::new(
        FAMILY,
        "copying_conversion_bit_exact",
        "conform's copying conversion accepts every layout and gives back the array bit for bit",
    )
    .claims(&[claims::NOT_BITWISE_IDENTICAL])
    .tensors(space)
    .check(move |case| round_trip_bit_exact(case, &to_tensor, &to_array))
}

/// The check of both round-trip properties, with both conversions as parameters: the tensor in the middle is read
/// as raw bytes, then the array that comes back, each compared with the case.
pub fn round_trip_bit_exact(case: &TensorCase, to_tensor: &ToTensor, to_array: &ToArray) -> Verdict {
    let tensor = (to_tensor.run)(case).map_err(|e| refused(to_tensor.name, "array", case, &e))?;
    let middle = tensor_bits(&tensor).map_err(|e| refused("tensor_bits", "tensor", case, &e))?;
    same_array(case, &middle, &format!("tensor made by {}", to_tensor.name))?;
    let back = (to_array.run)(&tensor, case.dtype()).map_err(|e| refused(to_array.name, "tensor", case, &e))?;
    same_array(case, &back, &format!("{} → {}", to_tensor.name, to_array.name))
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
        crate::testing::assert_passes(space(64), |c| round_trip_bit_exact(c, &ops.0, &ops.1));
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
            round_trip_bit_exact(c, &ToTensor::copying(), &drops_negative_zero)
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
            round_trip_bit_exact(c, &memory_order, &ToArray::copying())
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
