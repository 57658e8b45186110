//! Both directions, from either side: tensors that libtorch made itself — `zeros`, `ones`, `arange`, `full` of each
//! drawn value, and `to_kind` of the case into every dtype — converted by tch's `TryInto<ArrayD<T>>` into the Rust
//! element type of their own kind keep their bits (read with `tensor_bits`, which copies raw bytes); and arrays
//! that ndarray made itself — `default`, `from_elem` of one and of each drawn value, `from_shape_vec` of the drawn
//! values, and a slice that starts past the first element of its buffer — converted by tch's `TryFrom<&ArrayD>`
//! give a tensor of the kind their element type stands for, with their bits.
//!
//! Invariant: a factory that libtorch refuses for a kind is tabulated, not judged: the property is about the
//! conversion of what was made. arange is not asked for bool: libtorch has no kernel for it, and tch 0.24's
//! `f_arange` panics on that refusal instead of returning it.

use std::any::Any;

use conform_generators::{CaseSpace, Dtype, TensorCase};
use conform_judge::metamorphic::keeps_bits;
use conform_judge::{one_line, Bits, CheckError, Tally, Verdict};
use ndarray::{s, Array1, ArrayD, IxDyn};
use tch::{Device, Scalar, TchError, Tensor};

use super::FAMILY;
use crate::convert::{tch_fail, tensor_bits, ArrayBits, CaseTensor, ConvertError, ToArray};
use crate::element::{kind_of, Elem};
use crate::property::Property;
use crate::with_elem;

/// Cases of the two properties: few values (each is also a `full` fill value), any dtype and layout (the layout is
/// that of the tensor `to_kind` is applied to).
fn space(max_numel: usize) -> CaseSpace {
    CaseSpace::all((max_numel / 8).max(1))
}

fn bits(a: &ArrayBits) -> Bits<'_> {
    Bits { dtype: a.dtype, shape: &a.shape, bits: &a.bits }
}

/// Tensors libtorch made keep their bits through tch's TryInto<ArrayD<T>> into their own element type.
pub fn libtorch_tensors_to_arrays_keep_bits() -> Property {
    let to_array = ToArray::tch();
    Property::new(
        FAMILY,
        "libtorch_tensors_to_arrays_keep_bits",
        "tensors libtorch made itself (zeros, ones, arange, full, to_kind into every dtype) keep their bits through \
         tch's TryInto<ArrayD<T>> into the element type of their own kind",
    )
    .tensors(space)
    .tallied(move |case, tally| made_tensors_keep_bits(case, &to_array, Some(tally)))
}

/// The fill value `bits` of `dtype` as a libtorch scalar: floats through f64 (exact for every float dtype's
/// numbers; a NaN's payload is not kept), integers and bools as integers.
fn scalar(dtype: Dtype, bits: u64) -> Scalar {
    match dtype.float_format() {
        Some(_) => Scalar::float(dtype.as_f64(bits)),
        None => Scalar::int(dtype.as_i128(bits) as i64),
    }
}

/// How many of a case's values fill a whole tensor or array each (`full`, `from_elem`).
pub const FILLS: usize = 8;

/// The first [`FILLS`] distinct values of a case, in order: the fill values of its made tensors and arrays. Each
/// fill makes a whole tensor of the case's shape, so filling with every distinct value made a check quadratic in
/// the case's size (a case of 32,768 distinct values made 32,768 arrays of 32,768 elements: 3.3 GiB and seconds per
/// case at `--max-numel 262144`); with the bound a check is linear in it, and other cases draw other values.
fn fill_values(values: Vec<u64>) -> Vec<u64> {
    let mut seen = std::collections::HashSet::new();
    values.into_iter().filter(|v| seen.insert(*v)).take(FILLS).collect()
}

/// The check of [`libtorch_tensors_to_arrays_keep_bits`] for one case, with the conversion as a parameter.
pub fn made_tensors_keep_bits(case: &TensorCase, to_array: &ToArray, tally: Option<&Tally>) -> Verdict {
    let dtype = case.dtype();
    let shape: Vec<i64> = case.shape().iter().map(|&n| n as i64).collect();
    let options = (kind_of(dtype), Device::Cpu);
    let numel = case.numel() as i64;
    let mut made: Vec<(&str, String, Result<Tensor, TchError>)> = vec![
        ("zeros", format!("zeros({shape:?}, {dtype})"), Tensor::f_zeros(&shape, options)),
        ("ones", format!("ones({shape:?}, {dtype})"), Tensor::f_ones(&shape, options)),
    ];
    // libtorch has no arange kernel for bool, and tch 0.24's f_arange then panics instead of returning the error
    // (its Scalar argument is dropped, and its Drop unwraps the pending error, before f_arange reads it).
    if dtype != Dtype::Bool {
        let what = format!("arange({numel}, {dtype}).view({shape:?})");
        made.push(("arange", what, Tensor::f_arange(numel, options).and_then(|t| t.f_view(&shape[..]))));
    }
    for x in fill_values(case.logical()) {
        let what = format!("full({shape:?}, {}, {dtype})", dtype.render(x));
        made.push(("full", what, Tensor::f_full(&shape, scalar(dtype, x), options)));
    }
    let source = CaseTensor::of(case).map_err(|e| tch_fail("making the case's tensor", e))?;
    for target in Dtype::ALL {
        let what = format!("to_kind({dtype}→{target}) of the case");
        made.push(("to_kind", what, source.tensor().f_to_kind(kind_of(target))));
    }
    for (factory, what, tensor) in made {
        let tensor = match tensor {
            Ok(t) => t,
            Err(e) => {
                if let Some(t) = tally {
                    t.add(format!("libtorch refuses {factory}({dtype}): {}", one_line(&e.to_string())));
                }
                continue;
            }
        };
        let expected = tensor_bits(&tensor).map_err(|e| tch_fail(&format!("tensor_bits of {what}"), e))?;
        let got = (to_array.run)(&tensor, expected.dtype).map_err(|e| {
            CheckError::fail(
                format!("{}: refused a tensor of {}", to_array.name, expected.dtype),
                format!("{} refused {what}: {}", to_array.name, one_line(&e.to_string())),
            )
        })?;
        keeps_bits(to_array.name, "tensor", &what, bits(&expected), bits(&got))?;
    }
    Ok(())
}

/// An ndarray array of any element type, so that a conversion taking one can be a parameter (a closure cannot be
/// generic over the element type).
pub struct AnyArray {
    dtype: Dtype,
    array: Box<dyn Any + Send + Sync>,
}

impl AnyArray {
    pub fn new<T: Elem>(array: ArrayD<T>) -> AnyArray {
        AnyArray { dtype: T::DTYPE, array: Box::new(array) }
    }

    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// The array, when `T` is its element type.
    pub fn get<T: Elem>(&self) -> Option<&ArrayD<T>> {
        self.array.downcast_ref()
    }

    /// Its dtype, shape and bits in logical order.
    pub fn bits(&self) -> ArrayBits {
        with_elem!(self.dtype, T => ArrayBits::of(self.get::<T>().expect("the dtype names the element type")))
    }
}

/// What an [`ArrayToTensor`] runs.
pub type ArrayToTensorFn = Box<dyn Fn(&AnyArray) -> Result<Tensor, ConvertError> + Send + Sync>;

/// A named conversion of an owned ndarray array to a tensor.
pub struct ArrayToTensor {
    pub name: &'static str,
    pub run: ArrayToTensorFn,
}

impl ArrayToTensor {
    /// tch's `TryFrom<&ArrayBase<S, D>> for Tensor` on an owned `ArrayD<T>`.
    pub fn tch() -> ArrayToTensor {
        ArrayToTensor {
            name: "tch TryFrom<&ArrayD>",
            run: Box::new(
                |a| with_elem!(a.dtype(), T => Ok(Tensor::try_from(a.get::<T>().expect("the dtype names the element type"))?)),
            ),
        }
    }
}

/// Arrays ndarray made keep their bits (and get their kind) through tch's TryFrom<&ArrayD>.
pub fn ndarray_arrays_to_tensors_keep_bits() -> Property {
    let to_tensor = ArrayToTensor::tch();
    Property::new(
        FAMILY,
        "ndarray_arrays_to_tensors_keep_bits",
        "arrays ndarray made itself (default, from_elem, from_shape_vec, a slice past the start of its buffer) become, \
         through tch's TryFrom<&ArrayD>, tensors of the kind their element type stands for, with their bits",
    )
    .tensors(space)
    .check(move |case| made_arrays_keep_bits(case, &to_tensor))
}

/// The bits of 1 in `dtype`.
fn one(dtype: Dtype) -> u64 {
    dtype.float_format().map_or(1, |f| (f.bias() as u64) << f.man_bits)
}

/// The arrays ndarray makes from the case: its shape, its values, one and zero.
fn ndarray_made<T: Elem>(case: &TensorCase) -> Result<Vec<(String, AnyArray)>, ndarray::ShapeError> {
    let shape = case.shape().to_vec();
    let dim = IxDyn(&shape);
    let values: Vec<T> = case.logical().into_iter().map(T::from_raw).collect();
    let mut made = vec![
        (format!("ArrayD::default({shape:?})"), AnyArray::new(ArrayD::<T>::default(dim.clone()))),
        (
            format!("ArrayD::from_elem({shape:?}, 1)"),
            AnyArray::new(ArrayD::from_elem(dim.clone(), T::from_raw(one(T::DTYPE)))),
        ),
    ];
    for x in fill_values(case.logical()) {
        let what = format!("ArrayD::from_elem({shape:?}, {})", T::DTYPE.render(x));
        made.push((what, AnyArray::new(ArrayD::from_elem(dim.clone(), T::from_raw(x)))));
    }
    let from_vec = ArrayD::from_shape_vec(dim.clone(), values.clone())?;
    made.push((format!("ArrayD::from_shape_vec({shape:?}, the case's values)"), AnyArray::new(from_vec)));
    let mut buffer = vec![T::from_raw(conform_generators::values::filler(T::DTYPE))];
    buffer.extend(values);
    let sliced = Array1::from(buffer).slice_move(s![1..]).into_shape_with_order(dim)?;
    made.push((format!("the case's values sliced from [1..] of a buffer, as {shape:?}"), AnyArray::new(sliced)));
    Ok(made)
}

/// The check of [`ndarray_arrays_to_tensors_keep_bits`] for one case, with the conversion as a parameter.
pub fn made_arrays_keep_bits(case: &TensorCase, to_tensor: &ArrayToTensor) -> Verdict {
    let made = with_elem!(case.dtype(), T => ndarray_made::<T>(case))
        .map_err(|e| CheckError::Reject(format!("ndarray cannot make the arrays: {e}")))?;
    for (what, array) in made {
        let tensor = (to_tensor.run)(&array).map_err(|e| {
            CheckError::fail(
                format!("{}: refused an array of {}", to_tensor.name, array.dtype()),
                format!("{} refused {what}: {}", to_tensor.name, one_line(&e.to_string())),
            )
        })?;
        let got =
            tensor_bits(&tensor).map_err(|e| tch_fail(&format!("tensor_bits of the tensor made from {what}"), e))?;
        keeps_bits(to_tensor.name, "array", &what, bits(&array.bits()), bits(&got))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_passes, minimal_failure};

    #[test]
    fn planted_conversion_through_f32_fails_on_the_smallest_double_it_cannot_hold() {
        // Converts a double tensor through float, as tch's own conversion does for a kind whose Element tag is off.
        let through_f32 = ToArray {
            name: "through f32",
            run: Box::new(|t, dtype| {
                let narrowed = t.f_to_kind(tch::Kind::Float)?.f_to_kind(kind_of(dtype))?;
                (ToArray::tch().run)(&narrowed, dtype)
            }),
        };
        let (case, failure) =
            minimal_failure(space(64).with_dtypes(&[Dtype::F64]), |c| made_tensors_keep_bits(c, &through_f32, None));
        assert_eq!(
            format!("{case:?}"),
            "TensorCase { dtype: f64, shape: [], strides: [], offset: 0, storage: [0x0000000000000001 = 5e-324] }"
        );
        assert_eq!(failure.signature, "through f32 changed the bits of a tensor of f64");
        assert_eq!(
            failure.message,
            "out[] bits=0x0000000000000000 (0.0) but the tensor holds 0x0000000000000001 (5e-324) [full([], 5e-324, f64) → through f32]"
        );
    }

    #[test]
    fn planted_conversion_that_ignores_a_slice_offset_fails_on_the_slice() {
        let from_buffer_start = ArrayToTensor {
            name: "from the buffer's start",
            run: Box::new(|a| {
                let array = a.get::<u8>().expect("a u8 case").clone();
                let shape: Vec<i64> = array.shape().iter().map(|&n| n as i64).collect();
                let numel = array.len();
                let (buffer, _offset) = array.into_raw_vec_and_offset();
                Ok(Tensor::f_from_slice(&buffer[..numel])?.f_reshape(&shape)?)
            }),
        };
        let (case, failure) =
            minimal_failure(space(64).with_dtypes(&[Dtype::U8]), |c| made_arrays_keep_bits(c, &from_buffer_start));
        assert_eq!(
            format!("{case:?}"),
            "TensorCase { dtype: u8, shape: [], strides: [], offset: 0, storage: [0x00 = 0] }"
        );
        assert_eq!(
            failure.message,
            "out[] bits=0xff (255) but the array holds 0x00 (0) [the case's values sliced from [1..] of a buffer, as [] → from the buffer's start]"
        );
    }

    #[test]
    fn a_case_makes_a_bounded_number_of_whole_arrays_whatever_its_distinct_values() {
        assert_eq!(fill_values(vec![3, 1, 3, 2, 1]), [3, 1, 2]);
        assert_eq!(fill_values((0..4096).rev().collect()), (4088..4096).rev().collect::<Vec<u64>>());
        let case = TensorCase::contiguous(Dtype::I16, &[4096], (0..4096).collect()).unwrap();
        let made = ndarray_made::<i16>(&case).unwrap();
        // default, from_elem(1), the fills, from_shape_vec, the sliced buffer: not one array per distinct value.
        assert_eq!(made.len(), 2 + FILLS + 2);
    }

    #[test]
    fn conforms_own_conversions_keep_the_bits_of_what_the_libraries_made() {
        let copying = ArrayToTensor {
            name: "conform copy_to_tensor",
            run: Box::new(
                |a| with_elem!(a.dtype(), T => crate::convert::copy_to_tensor(&a.get::<T>().unwrap().view())),
            ),
        };
        assert_passes(space(16), |c| made_arrays_keep_bits(c, &copying));
        assert_passes(space(16), |c| made_tensors_keep_bits(c, &ToArray::copying(), None));
    }
}
