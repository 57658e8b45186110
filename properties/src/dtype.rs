//! Dtype family: converting an array of element type `T` gives a tensor of the kind `T` stands for (checked against
//! the project's own table, not tch's `Element::KIND`) with the bits unchanged; converting a tensor to an array of
//! another element type must be refused, not silently cast.

use conform_generators::{CaseSpace, Dtype, TensorCase};
use conform_judge::{CheckError, Tally, Verdict};

use crate::claims::{self, tally_conversion, Seen};
use crate::convert::{tensor_bits, ToArray, ToTensor};
use crate::element::kind_of;
use crate::families::Family;
use crate::property::Property;
use crate::shared::{refused, same_array};

pub const FAMILY: Family = Family::new(
    "dtype",
    "an array of T becomes a tensor of the kind T stands for, and no conversion casts to another element type silently",
);

pub fn properties() -> Vec<Property> {
    vec![tch_array_kind_preserved(), tch_to_array_refuses_other_element(), copy_to_array_refuses_other_element()]
}

pub fn tch_array_kind_preserved() -> Property {
    let to_tensor = ToTensor::tch();
    Property::new(
        FAMILY,
        "tch_array_kind_preserved",
        "an array of T becomes, through tch's TryFrom, a tensor of the kind T stands for, bits unchanged",
    )
    .claims(&[claims::FLOAT64_BECOMES_FLOAT32])
    .tensors(space)
    .tallied(move |case, tally| kind_preserved_tallied(case, &to_tensor, Some(tally)))
}

pub fn tch_to_array_refuses_other_element() -> Property {
    let to_array = ToArray::tch();
    Property::new(
        FAMILY,
        "tch_to_array_refuses_other_element",
        "tch's TryInto<ArrayD<U>> refuses a tensor whose kind is not U rather than casting it",
    )
    .tensors(space)
    .check(move |case| refuses_other_element(case, &to_array))
}

pub fn copy_to_array_refuses_other_element() -> Property {
    let to_array = ToArray::copying();
    Property::new(
        FAMILY,
        "copy_to_array_refuses_other_element",
        "conform's copy_to_array refuses a tensor whose kind is not the requested element type",
    )
    .tensors(space)
    .check(move |case| refuses_other_element(case, &to_array))
}

/// The tensor made from an array of the case's dtype has that dtype's kind and the same bits. Runs on the
/// C-contiguous form of the case: layouts are the round-trip family's business. What the case showed of its kind and
/// bits is tallied for the claims by [`kind_preserved_tallied`].
pub fn kind_preserved(case: &TensorCase, to_tensor: &ToTensor) -> Verdict {
    kind_preserved_tallied(case, to_tensor, None)
}

/// [`kind_preserved`], tallying what the case showed of its kind and bits for the claims before the verdict.
pub fn kind_preserved_tallied(case: &TensorCase, to_tensor: &ToTensor, tally: Option<&Tally>) -> Verdict {
    let case = case.to_contiguous();
    let dtype = case.dtype();
    let tensor = (to_tensor.run)(&case).map_err(|e| {
        tally_conversion(tally, dtype, Seen::Refused);
        refused(to_tensor.name, "array", &case, &e)
    })?;
    let kind = tensor.f_kind().map_err(|e| CheckError::fail("f_kind failed", e.to_string()))?;
    let wanted = kind_of(dtype);
    let bits = tensor_bits(&tensor);
    if let Ok(got) = &bits {
        let bits_kept = got.shape == case.shape() && got.bits == case.logical();
        tally_conversion(tally, dtype, Seen::Converted { dtype_kept: kind == wanted, bits_kept });
    }
    if kind != wanted {
        return Err(CheckError::fail(
            format!("{}: wrong tensor kind", to_tensor.name),
            format!("tensor kind {kind:?} but an array of {dtype} stands for {wanted:?} [{}]", to_tensor.name),
        ));
    }
    let bits = bits.map_err(|e| refused("tensor_bits", "tensor", &case, &e))?;
    same_array(&case, &bits, &format!("tensor made by {}", to_tensor.name))
}

/// A tensor of the case's dtype asked for as an array of each other element type: each must be an error.
pub fn refuses_other_element(case: &TensorCase, to_array: &ToArray) -> Verdict {
    let tensor = (ToTensor::copying().run)(&case.to_contiguous())
        .map_err(|e| CheckError::Reject(format!("cannot make the input tensor: {e}")))?;
    for target in Dtype::ALL.into_iter().filter(|&d| d != case.dtype()) {
        if let Ok(out) = (to_array.run)(&tensor, target) {
            let source = case.dtype();
            let example = match (case.logical().first(), out.bits.first()) {
                (Some(&a), Some(&b)) => format!(": out[0] {} → {}", source.render(a), target.render(b)),
                _ => String::new(),
            };
            return Err(CheckError::fail(
                format!("{} casts a tensor to another element type without an error", to_array.name),
                format!("a {source} tensor became an array of {target} without an error{example} [{}]", to_array.name),
            ));
        }
    }
    Ok(())
}

fn space(max_numel: usize) -> CaseSpace {
    CaseSpace::all(max_numel)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::{ArrayBits, ConvertError};
    use crate::testing::{
        assert_caught, assert_passes, defective_to_tensor, minimal_failure, Defect, Length, Position,
    };
    use tch::{Kind, Tensor};

    #[test]
    fn planted_wrong_kind_tag_fails_and_shrinks() {
        // Copies f16 bytes into a tensor tagged BFloat16: same width, so only the kind check can tell.
        let mistagged = ToTensor {
            name: "tags f16 as bf16",
            run: Box::new(|case| {
                let bytes: Vec<u8> = case.logical().iter().flat_map(|&b| (b as u16).to_le_bytes()).collect();
                let shape: Vec<i64> = case.shape().iter().map(|&n| n as i64).collect();
                Ok(Tensor::f_from_data_size(&bytes, &shape, Kind::BFloat16)?)
            }),
        };
        let (case, failure) = minimal_failure(space(64).with_dtypes(&[Dtype::F16]), |c| kind_preserved(c, &mistagged));
        assert_eq!(
            format!("{case:?}"),
            "TensorCase { dtype: f16, shape: [], strides: [], offset: 0, storage: [0x0000 = 0.0] }"
        );
        assert_eq!(failure.message, "tensor kind BFloat16 but an array of f16 stands for Half [tags f16 as bf16]");
    }

    #[test]
    fn planted_silent_cast_fails_and_shrinks() {
        let casts = ToArray {
            name: "to_kind then copy",
            run: Box::new(|t, dtype| {
                let cast = t.f_to_kind(kind_of(dtype)).map_err(ConvertError::from)?;
                (ToArray::copying().run)(&cast, dtype).map(|a: ArrayBits| a)
            }),
        };
        let (case, failure) =
            minimal_failure(space(64).with_dtypes(&[Dtype::F64]), |c| refuses_other_element(c, &casts));
        assert_eq!(
            format!("{case:?}"),
            "TensorCase { dtype: f64, shape: [], strides: [], offset: 0, storage: [0x0000000000000000 = 0.0] }"
        );
        assert_eq!(
            failure.message,
            "a f64 tensor became an array of bool without an error: out[0] 0.0 → false [to_kind then copy]"
        );
    }

    #[test]
    fn planted_one_element_defects_in_the_tensor_are_caught_and_shrink() {
        let expected = [
            (
                Defect::at(Position::First),
                Dtype::Bool,
                "TensorCase { dtype: bool, shape: [3], strides: [1], offset: 0, storage: [0x0 = false, 0x0 = false, 0x0 = false] }",
                "tensor made by first element wrong: bits of a integer element changed",
            ),
            (
                Defect::at(Position::Middle),
                Dtype::I16,
                "TensorCase { dtype: i16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0, 0x0000 = 0, 0x0000 = 0] }",
                "tensor made by middle element wrong: bits of a integer element changed",
            ),
            (
                Defect::at(Position::Last),
                Dtype::Bf16,
                "TensorCase { dtype: bf16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "tensor made by last element wrong: bits of a zero element changed",
            ),
            (
                Defect::nan_made_zero(),
                Dtype::F16,
                "TensorCase { dtype: f16, shape: [2], strides: [1], offset: 0, storage: [0x7c01 = NaN, 0x0000 = 0.0] }",
                "tensor made by NaN made 0: bits of a NaN element changed",
            ),
            (
                Defect::negative_zero_sign_dropped(),
                Dtype::F64,
                "TensorCase { dtype: f64, shape: [2], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x8000000000000000 = -0.0] }",
                "tensor made by -0.0 sign dropped: bits of a negative-zero element changed",
            ),
            (
                Defect::subnormal_flushed(),
                Dtype::F32,
                "TensorCase { dtype: f32, shape: [2], strides: [1], offset: 0, storage: [0x00000001 = 1.401298464324817e-45, 0x00000000 = 0.0] }",
                "tensor made by subnormal flushed: bits of a subnormal element changed",
            ),
        ];
        for (defect, dtype, case, signature) in expected {
            let to_tensor = defective_to_tensor(&defect);
            let space = space(16).with_dtypes(&[dtype]);
            assert_caught(defect.name, space, |c| kind_preserved(c, &to_tensor), case, signature);
        }
    }

    #[test]
    fn planted_tensor_of_the_wrong_length_is_caught_by_its_shape() {
        // A tensor's length is its shape's product, so the comparison names the shape, before the length.
        let expected = [
            (
                Length::Empty,
                "TensorCase { dtype: u8, shape: [], strides: [], offset: 0, storage: [0x00 = 0] }",
                "tensor made by empty output: shape changed",
            ),
            (
                Length::OneShort,
                "TensorCase { dtype: u8, shape: [2], strides: [1], offset: 0, storage: [0x00 = 0, 0x00 = 0] }",
                "tensor made by one value short: shape changed",
            ),
            (
                Length::OneLong,
                "TensorCase { dtype: u8, shape: [], strides: [], offset: 0, storage: [0x00 = 0] }",
                "tensor made by one value long: shape changed",
            ),
        ];
        for (length, case, signature) in expected {
            let to_tensor = defective_to_tensor(&Defect::length(length));
            let space = space(16).with_dtypes(&[Dtype::U8]);
            assert_caught(length.name(), space, |c| kind_preserved(c, &to_tensor), case, signature);
        }
    }

    #[test]
    fn planted_wrong_kind_of_one_dtype_is_caught_and_keeps_its_dtype() {
        // bf16 bytes tagged Half, every other dtype right (tch 0.24's Element::KIND mistake, in one dtype).
        let mistagged = ToTensor {
            name: "tags bf16 as f16",
            run: Box::new(|case| {
                let tensor = (ToTensor::copying().run)(case)?;
                match case.dtype() {
                    Dtype::Bf16 => Ok(tensor.f_view_dtype(Kind::Half)?),
                    _ => Ok(tensor),
                }
            }),
        };
        assert_caught(
            "bf16 only",
            space(16),
            |c| kind_preserved(c, &mistagged),
            "TensorCase { dtype: bf16, shape: [], strides: [], offset: 0, storage: [0x0000 = 0.0] }",
            "tags bf16 as f16: wrong tensor kind",
        );
    }

    /// A conversion that casts silently where `cast(source, target, numel)` says, and refuses elsewhere.
    fn casts_where(name: &'static str, cast: fn(Dtype, Dtype, usize) -> bool) -> ToArray {
        ToArray {
            name,
            run: Box::new(move |t, dtype| {
                let source = crate::element::dtype_of(t.f_kind()?).expect("a conform dtype");
                if cast(source, dtype, t.numel()) {
                    let cast = t.f_to_kind(kind_of(dtype)).map_err(ConvertError::from)?;
                    return (ToArray::copying().run)(&cast, dtype);
                }
                (ToArray::copying().run)(t, dtype)
            }),
        }
    }

    #[test]
    fn planted_silent_cast_of_one_pair_is_caught_wherever_the_pair_lies_among_the_targets() {
        // i64 → bool is the first target tried for an i64 tensor, f32 → f64 the last for an f32 one.
        let first = casts_where("casts i64 to bool", |s, t, _| (s, t) == (Dtype::I64, Dtype::Bool));
        assert_caught(
            "i64 → bool",
            space(16),
            |c| refuses_other_element(c, &first),
            "TensorCase { dtype: i64, shape: [], strides: [], offset: 0, storage: [0x0000000000000000 = 0] }",
            "casts i64 to bool casts a tensor to another element type without an error",
        );
        let last = casts_where("casts f32 to f64", |s, t, _| (s, t) == (Dtype::F32, Dtype::F64));
        assert_caught(
            "f32 → f64",
            space(16),
            |c| refuses_other_element(c, &last),
            "TensorCase { dtype: f32, shape: [], strides: [], offset: 0, storage: [0x00000000 = 0.0] }",
            "casts f32 to f64 casts a tensor to another element type without an error",
        );
    }

    #[test]
    fn planted_silent_cast_of_larger_tensors_only_is_caught_and_shrinks() {
        let op = casts_where("casts from 3 elements on", |_, _, numel| numel >= 3);
        assert_caught(
            "numel >= 3",
            space(16).with_dtypes(&[Dtype::U8]),
            |c| refuses_other_element(c, &op),
            "TensorCase { dtype: u8, shape: [3], strides: [1], offset: 0, storage: [0x00 = 0, 0x00 = 0, 0x00 = 0] }",
            "casts from 3 elements on casts a tensor to another element type without an error",
        );
    }

    #[test]
    fn real_copying_conversions_refuse_casts_and_keep_kinds() {
        assert_passes(space(16), |c| refuses_other_element(c, &ToArray::copying()));
        assert_passes(space(16), |c| kind_preserved(c, &ToTensor::copying()));
    }
}
