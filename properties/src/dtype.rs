//! Dtype family: converting an array of element type `T` gives a tensor of the kind `T` stands for (checked against
//! the project's own table, not tch's `Element::KIND`) with the bits unchanged; converting a tensor to an array of
//! another element type must be refused, not silently cast.

use conform_generators::{CaseSpace, Dtype, TensorCase};
use conform_judge::{CheckError, Verdict};

use crate::claims;
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
    .check(move |case| kind_preserved(case, &to_tensor))
}

pub fn tch_to_array_refuses_other_element() -> Property {
    let to_array = ToArray::tch();
    Property::new(
        FAMILY,
        "tch_to_array_refuses_other_element",
        "tch's TryInto<ArrayD<U>> refuses a tensor whose kind is not U rather than casting it",
    )
    .claims(&[claims::FLOAT64_BECOMES_FLOAT32, claims::NOT_BITWISE_IDENTICAL])
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
    .claims(&[claims::FLOAT64_BECOMES_FLOAT32])
    .tensors(space)
    .check(move |case| refuses_other_element(case, &to_array))
}

/// The tensor made from an array of the case's dtype has that dtype's kind and the same bits. Runs on the
/// C-contiguous form of the case: layouts are the round-trip family's business.
pub fn kind_preserved(case: &TensorCase, to_tensor: &ToTensor) -> Verdict {
    let case = case.to_contiguous();
    let tensor = (to_tensor.run)(&case).map_err(|e| refused(to_tensor.name, "array", &case, &e))?;
    let kind = tensor.f_kind().map_err(|e| CheckError::fail("f_kind failed", e.to_string()))?;
    let wanted = kind_of(case.dtype());
    if kind != wanted {
        return Err(CheckError::fail(
            format!("{}: wrong tensor kind", to_tensor.name),
            format!("tensor kind {kind:?} but an array of {} stands for {wanted:?} [{}]", case.dtype(), to_tensor.name),
        ));
    }
    let bits = tensor_bits(&tensor).map_err(|e| refused("tensor_bits", "tensor", &case, &e))?;
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
    use crate::testing::{assert_passes, minimal_failure};
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
        let (case, failure) =
            minimal_failure(space(64).with_dtypes(&[Dtype::F16]), |c| kind_preserved(c, &mistagged));
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
    fn real_copying_conversions_refuse_casts_and_keep_kinds() {
        assert_passes(space(16), |c| refuses_other_element(c, &ToArray::copying()));
        assert_passes(space(16), |c| kind_preserved(c, &ToTensor::copying()));
    }
}
