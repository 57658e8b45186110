//! Conversions asked in every placement: tch's tensor → array conversion (`TryInto<ArrayD<T>>`, into the element
//! type of the tensor's own dtype) and conform's `tensor_bits` read the same bits from a tensor in every placement,
//! and tch's array → tensor conversion (`TryFrom<&ArrayView>`) makes a tensor with the same bits from an array in
//! every placement (or refuses, which is an answer that differs too).

use conform_generators::TensorCase;
use conform_judge::metamorphic::{same_answer, Elements, Question};
use conform_judge::Verdict;
use tch::Tensor;

use super::placement::{answers, place, raw_bytes, run_everywhere, ThreadCount};
use super::{space, FAMILY};
use crate::convert::{tensor_bits, ToArray, ToTensor};
use crate::property::Property;

/// conform's `tensor_bits` as a tensor → array conversion (it reads the raw bytes, whatever the element type).
pub fn tensor_bits_reader() -> ToArray {
    ToArray { name: "conform tensor_bits", run: Box::new(|t, _| tensor_bits(t)) }
}

/// tch's TryInto<ArrayD<T>> and conform's tensor_bits read the same bits from a tensor in every placement.
pub fn tensor_to_array_placement_independent() -> Property {
    let conversions = [ToArray::tch(), tensor_bits_reader()];
    Property::new(
        FAMILY,
        "tensor_to_array_placement_independent",
        "tch's TryInto<ArrayD<T>> and conform's tensor_bits read the same bits from a tensor wherever its values are \
         placed: 0-d, [1], contiguous, strided, transposed, or tiled into 65,536+ elements on 1 or 4 threads",
    )
    .tensors(space)
    .check(move |case| same_tensor_to_array_everywhere(case, &conversions))
}

/// The check of [`tensor_to_array_placement_independent`] for one case, each conversion judged in turn.
pub fn same_tensor_to_array_everywhere(case: &TensorCase, conversions: &[ToArray]) -> Verdict {
    let dtype = case.dtype();
    let threads = ThreadCount::hold();
    let placed = place(dtype, &case.logical(), |piece| piece.tensor(dtype))?;
    for conversion in conversions {
        let name = format!("{}({dtype})", conversion.name);
        let given = run_everywhere(&name, &placed, &threads, |t: &Tensor| {
            let array = (conversion.run)(t, dtype).map_err(|e| e.to_string())?;
            Ok((array.dtype, array.bits))
        })?;
        let question = Question { op: &name, any_dtype: conversion.name };
        same_answer(question, case, &answers(&placed, &given, Elements::Bits))?;
    }
    Ok(())
}

/// tch's TryFrom<&ArrayView> makes a tensor with the same bits from an array wherever its values are placed.
pub fn array_to_tensor_placement_independent() -> Property {
    let to_tensor = ToTensor::tch();
    Property::new(
        FAMILY,
        "array_to_tensor_placement_independent",
        "tch's TryFrom<&ArrayView> makes a tensor with the same bits from an array wherever its values are placed: \
         0-d, [1], contiguous, strided, transposed, or tiled into 65,536+ elements on 1 or 4 threads",
    )
    .tensors(space)
    .check(move |case| same_array_to_tensor_everywhere(case, &to_tensor))
}

/// The check of [`array_to_tensor_placement_independent`] for one case: each placement as an ndarray view over
/// conform's storage, converted, and the tensor's raw bytes read back (one copy; `tensor_bits` is judged by
/// [`tensor_to_array_placement_independent`]).
pub fn same_array_to_tensor_everywhere(case: &TensorCase, to_tensor: &ToTensor) -> Verdict {
    let dtype = case.dtype();
    let threads = ThreadCount::hold();
    let placed = place(dtype, &case.logical(), |piece| Ok::<_, std::convert::Infallible>(piece.case(dtype)))?;
    let name = format!("{}({dtype})", to_tensor.name);
    let given = run_everywhere(&name, &placed, &threads, |array: &TensorCase| {
        let tensor = (to_tensor.run)(array).map_err(|e| e.to_string())?;
        raw_bytes(&tensor).map_err(|e| format!("reading the tensor: {e}"))
    })?;
    same_answer(Question { op: &name, any_dtype: to_tensor.name }, case, &answers(&placed, &given, Elements::Bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::{copy_to_tensor, storage_of, ArrayBits};
    use crate::metamorphic::placement::LARGE;
    use crate::testing::minimal_failure;
    use crate::view::array_view;
    use crate::with_elem;
    use conform_generators::Dtype;

    #[test]
    fn planted_reader_that_loses_nan_payloads_of_strided_tensors_shrinks_to_one_nan() {
        // Reads a non-contiguous tensor through a quieting path: NaN payloads change, nothing else does.
        let quiets = ToArray {
            name: "quiets strided",
            run: Box::new(|t, dtype| {
                let mut out: ArrayBits = tensor_bits(t)?;
                if !t.is_contiguous() {
                    let f = dtype.float_format().expect("a float case");
                    out.bits.iter_mut().filter(|b| f.is_nan(**b)).for_each(|b| *b |= f.quiet_bit());
                }
                Ok(out)
            }),
        };
        let (case, failure) = minimal_failure(space(64).with_dtypes(&[Dtype::F16]), |c| {
            same_tensor_to_array_everywhere(c, std::slice::from_ref(&quiets))
        });
        assert_eq!(
            format!("{case:?}"),
            "TensorCase { dtype: f16, shape: [], strides: [], offset: 0, storage: [0x7c01 = NaN] }"
        );
        assert_eq!(failure.signature, "quiets strided(f16): the answer for a NaN element depends on its placement");
        assert_eq!(
            failure.message,
            "out[] bits=0x7e01 (NaN) in large every-other-element [65536], 4 threads (position 0) but 0x7c01 (NaN) in 0-d \
             [], 1 thread [quiets strided(f16), x=0x7c01 (NaN)]"
        );
    }

    #[test]
    fn planted_converter_that_drops_the_tail_of_large_arrays_fails() {
        // Converts at most LARGE - 1 elements and pads with zeros: only a large placement sees it, and only where
        // the value there is not zero.
        let short = ToTensor {
            name: "drops the last element",
            run: Box::new(|case| {
                with_elem!(case.dtype(), T => {
                    let data = storage_of::<T>(case);
                    let tensor = copy_to_tensor(&array_view(case.layout(), &data))?;
                    if case.numel() < LARGE {
                        return Ok(tensor);
                    }
                    Ok(tensor.f_narrow(0, 0, case.numel() as i64 - 1)?.f_constant_pad_nd([0i64, 1])?)
                })
            }),
        };
        let (case, failure) =
            minimal_failure(space(64).with_dtypes(&[Dtype::U8]), |c| same_array_to_tensor_everywhere(c, &short));
        assert_eq!(
            format!("{case:?}"),
            "TensorCase { dtype: u8, shape: [], strides: [], offset: 0, storage: [0x01 = 1] }"
        );
        assert_eq!(
            failure.message,
            "out[] bits=0x00 (0) in large contiguous [65536], 1 thread (position 65535) but 0x01 (1) in 0-d [], 1 thread \
             [drops the last element(u8), x=0x01 (1)]"
        );
    }

    #[test]
    fn copying_conversions_are_placement_independent() {
        crate::testing::assert_passes(space(16).with_dtypes(&[Dtype::I8, Dtype::F64]), |c| {
            same_array_to_tensor_everywhere(c, &ToTensor::copying())
        });
    }
}
