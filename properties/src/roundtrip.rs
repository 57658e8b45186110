//! Round-trip family: ndarray → Tensor → ndarray is bit-exact (NaN payloads, -0.0, subnormals included), keeps the
//! shape and the dtype, for every dtype and generated layout — through tch's own conversions and through the
//! project's copying conversion. The tensor in the middle is read as raw bytes too, so a defect in one direction
//! cannot hide behind its inverse in the other.

use conform_generators::{CaseSpace, TensorCase};
use conform_judge::{Tally, Verdict};

use crate::claims::{self, tally_conversion, Seen};
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
    .claims(&[claims::NOT_BITWISE_IDENTICAL, claims::FLOAT64_BECOMES_FLOAT32])
    .tensors(space)
    .tallied(move |case, tally| round_trip_tallied(case, &to_tensor, &to_array, Some(tally)))
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
    .tallied(move |case, tally| round_trip_tallied(case, &to_tensor, &to_array, Some(tally)))
}

/// The check of both round-trip properties, with both conversions as parameters: the tensor in the middle is read
/// as raw bytes, then the array that comes back, each compared with the case. What the case showed of its dtype and
/// bits (or that it was refused) is tallied for the claims by [`round_trip_tallied`].
pub fn round_trip_bit_exact(case: &TensorCase, to_tensor: &ToTensor, to_array: &ToArray) -> Verdict {
    round_trip_tallied(case, to_tensor, to_array, None)
}

/// [`round_trip_bit_exact`], tallying what the case showed of its dtype and bits (or that it was refused) for the
/// claims, before the verdict, so a known deviation's cases count too.
pub fn round_trip_tallied(
    case: &TensorCase,
    to_tensor: &ToTensor,
    to_array: &ToArray,
    tally: Option<&Tally>,
) -> Verdict {
    let dtype = case.dtype();
    let logical = case.logical();
    let tensor = (to_tensor.run)(case).map_err(|e| {
        tally_conversion(tally, dtype, Seen::Refused);
        refused(to_tensor.name, "array", case, &e)
    })?;
    let middle = tensor_bits(&tensor).map_err(|e| refused("tensor_bits", "tensor", case, &e))?;
    let seen = |got: &crate::convert::ArrayBits| Seen::Converted {
        dtype_kept: got.dtype == dtype,
        bits_kept: got.shape == case.shape() && got.bits == logical,
    };
    if let Err(e) = same_array(case, &middle, &format!("tensor made by {}", to_tensor.name)) {
        tally_conversion(tally, dtype, seen(&middle));
        return Err(e);
    }
    let back = (to_array.run)(&tensor, dtype).map_err(|e| {
        tally_conversion(tally, dtype, Seen::Refused);
        refused(to_array.name, "tensor", case, &e)
    })?;
    tally_conversion(tally, dtype, seen(&back));
    same_array(case, &back, &format!("{} → {}", to_tensor.name, to_array.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::{copy_to_tensor, storage_of};
    use crate::testing::{
        assert_caught, defective_to_array, defective_to_tensor, memory_order_to_tensor, minimal_failure, Defect,
        Length, Position,
    };
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

    fn copying_with(to_array: &ToArray) -> impl Fn(&TensorCase) -> Verdict + '_ {
        move |c| round_trip_bit_exact(c, &ToTensor::copying(), to_array)
    }

    #[test]
    fn planted_one_element_defects_on_the_way_back_are_caught_and_shrink() {
        // (defect, dtype, minimal case, signature): a check that reads one element, or waves NaN, -0.0 or
        // subnormals through, misses one of these.
        let expected = [
            (
                Defect::at(Position::First),
                Dtype::I64,
                "TensorCase { dtype: i64, shape: [3], strides: [1], offset: 0, storage: [0x0000000000000000 = 0, 0x0000000000000000 = 0, 0x0000000000000000 = 0] }",
                "conform copy_to_tensor → first element wrong: bits of a integer element changed",
            ),
            (
                Defect::at(Position::Middle),
                Dtype::U8,
                "TensorCase { dtype: u8, shape: [3], strides: [1], offset: 0, storage: [0x00 = 0, 0x00 = 0, 0x00 = 0] }",
                "conform copy_to_tensor → middle element wrong: bits of a integer element changed",
            ),
            (
                Defect::at(Position::Last),
                Dtype::F16,
                "TensorCase { dtype: f16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "conform copy_to_tensor → last element wrong: bits of a zero element changed",
            ),
            (
                Defect::nan_made_zero(),
                Dtype::F32,
                "TensorCase { dtype: f32, shape: [2], strides: [1], offset: 0, storage: [0x7f800001 = NaN, 0x00000000 = 0.0] }",
                "conform copy_to_tensor → NaN made 0: bits of a NaN element changed",
            ),
            (
                Defect::negative_zero_sign_dropped(),
                Dtype::Bf16,
                "TensorCase { dtype: bf16, shape: [2], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x8000 = -0.0] }",
                "conform copy_to_tensor → -0.0 sign dropped: bits of a negative-zero element changed",
            ),
            (
                Defect::subnormal_flushed(),
                Dtype::F64,
                "TensorCase { dtype: f64, shape: [2], strides: [1], offset: 0, storage: [0x0000000000000001 = 5e-324, 0x0000000000000000 = 0.0] }",
                "conform copy_to_tensor → subnormal flushed: bits of a subnormal element changed",
            ),
        ];
        for (defect, dtype, case, signature) in expected {
            let to_array = defective_to_array(&defect);
            assert_caught(defect.name, space(16).with_dtypes(&[dtype]), copying_with(&to_array), case, signature);
        }
    }

    #[test]
    fn an_element_changed_with_the_shape_kept_is_tallied_as_changed_bits() {
        // The claims' evidence counts what each conversion kept: an array that comes back in its shape with one
        // element changed counts as "bits changed" (and its dtype as kept), never as bits kept.
        let tally = conform_judge::Tally::default();
        let case = TensorCase::contiguous(Dtype::I32, &[3], vec![1, 2, 3]).unwrap();
        let to_array = defective_to_array(&Defect::at(Position::Last));
        assert!(round_trip_tallied(&case, &ToTensor::copying(), &to_array, Some(&tally)).is_err());
        let counts = tally.take();
        let count = |key: &str| counts.get(key).copied().unwrap_or(0);
        assert_eq!(count("i32 arrays: bits changed"), 1, "{counts:?}");
        assert_eq!(count("i32 arrays: bits kept"), 0, "{counts:?}");
        assert_eq!(count("i32 arrays: dtype kept"), 1, "{counts:?}");
    }

    #[test]
    fn planted_last_element_error_in_the_tensor_is_caught_by_reading_its_bytes() {
        // The way back is right: only reading the tensor in the middle shows the defect of the way there.
        let to_tensor = defective_to_tensor(&Defect::at(Position::Last));
        assert_caught(
            "last element wrong in the tensor",
            space(16).with_dtypes(&[Dtype::I32]),
            |c| round_trip_bit_exact(c, &to_tensor, &ToArray::copying()),
            "TensorCase { dtype: i32, shape: [3], strides: [1], offset: 0, storage: [0x00000000 = 0, 0x00000000 = 0, 0x00000000 = 0] }",
            "tensor made by last element wrong: bits of a integer element changed",
        );
    }

    #[test]
    fn planted_defects_that_undo_each_other_are_caught_in_the_middle() {
        // The way there flips the last element and the way back flips it again: the array comes back intact, and
        // only the tensor's bytes show the defect.
        let (to_tensor, to_array) =
            (defective_to_tensor(&Defect::at(Position::Last)), defective_to_array(&Defect::at(Position::Last)));
        assert_caught(
            "inverse defects",
            space(16).with_dtypes(&[Dtype::F32]),
            |c| round_trip_bit_exact(c, &to_tensor, &to_array),
            "TensorCase { dtype: f32, shape: [3], strides: [1], offset: 0, storage: [0x00000000 = 0.0, 0x00000000 = 0.0, 0x00000000 = 0.0] }",
            "tensor made by last element wrong: bits of a zero element changed",
        );
    }

    #[test]
    fn planted_defect_of_one_dtype_is_caught_and_keeps_its_dtype() {
        let to_array = defective_to_array(&Defect::only(Dtype::Bf16, Dtype::Bf16, Defect::at(Position::Last)));
        assert_caught("bf16 only", space(16), copying_with(&to_array), "TensorCase { dtype: bf16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }", "conform copy_to_tensor → last element wrong (bf16→bf16 only): bits of a zero element changed");
    }

    #[test]
    fn planted_memory_order_copy_is_caught_on_every_dtype_and_shrinks_to_a_non_contiguous_case() {
        let to_tensor = memory_order_to_tensor();
        assert_caught(
            "memory order",
            space(16),
            |c| round_trip_bit_exact(c, &to_tensor, &ToArray::copying()),
            "TensorCase { dtype: i32, shape: [2], strides: [-1], offset: 1, storage: [0x00000000 = 0, 0x00000001 = 1] }",
            "tensor made by memory order if not C-contiguous: bits of a integer element changed",
        );
    }

    #[test]
    fn planted_output_of_the_wrong_length_is_named() {
        let expected = [
            (
                Length::Empty,
                "TensorCase { dtype: i8, shape: [], strides: [], offset: 0, storage: [0x00 = 0] }",
                "conform copy_to_tensor → empty output returned the wrong number of values",
            ),
            (
                Length::OneShort,
                "TensorCase { dtype: i8, shape: [2], strides: [1], offset: 0, storage: [0x00 = 0, 0x00 = 0] }",
                "conform copy_to_tensor → one value short returned the wrong number of values",
            ),
            (
                Length::OneLong,
                "TensorCase { dtype: i8, shape: [], strides: [], offset: 0, storage: [0x00 = 0] }",
                "conform copy_to_tensor → one value long returned the wrong number of values",
            ),
        ];
        for (length, case, signature) in expected {
            let to_array = defective_to_array(&Defect::length(length));
            let space = space(16).with_dtypes(&[Dtype::I8]);
            assert_caught(length.name(), space, copying_with(&to_array), case, signature);
        }
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
