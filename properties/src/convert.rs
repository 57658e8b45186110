//! Conversions between cases, ndarray arrays and tensors: tch's own (the system under test) and the project's own
//! copying conversion, which accepts every layout the case model has, plus dtype-erased forms the properties use.
//!
//! Invariant: the project's conversions never cast: a tensor whose kind is not the requested element type is an
//! error, and bits pass through unchanged.

use std::rc::Rc;

use conform_generators::{Dtype, TensorCase};
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use tch::{Kind, Tensor};

use crate::element::{dtype_of, kind_of, Elem};
use crate::view::{array_view, SharedBuffer, TensorView};
use crate::with_elem;

/// Why a conversion did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("tch: {0}")]
    Tch(#[from] tch::TchError),
    #[error("tensor of kind {kind:?} cannot become an array of {wanted} without a cast\n(hint: cast first with `to_kind`, or ask for an array of {actual})")]
    KindMismatch { kind: Kind, wanted: Dtype, actual: String },
    #[error("tensor kind {0:?} has no conform dtype\n(hint: conform models bool, u8, i8, i16, i32, i64, f16, bf16, f32, f64)")]
    UnknownKind(Kind),
    #[error("ndarray: {0}")]
    Shape(#[from] ndarray::ShapeError),
}

/// An array with its element type erased: shape and raw bits in row-major order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayBits {
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub bits: Vec<u64>,
}

impl ArrayBits {
    pub fn of<T: Elem>(array: &ArrayD<T>) -> ArrayBits {
        ArrayBits { dtype: T::DTYPE, shape: array.shape().to_vec(), bits: array.iter().map(|&x| x.raw()).collect() }
    }
}

/// The case's storage as elements of `T` (`T` must be the case's dtype).
pub fn storage_of<T: Elem>(case: &TensorCase) -> Vec<T> {
    debug_assert_eq!(T::DTYPE, case.dtype());
    case.storage().iter().map(|&b| T::from_raw(b)).collect()
}

/// The project's copying conversion, array → tensor: logical order, any layout, bits unchanged. The kind comes from
/// the project's own table ([`kind_of`]) and the data travels as bytes, so tch's `Element::KIND` (which tags
/// `half::bf16` as `Half` in tch 0.24) is never consulted.
pub fn copy_to_tensor<T: Elem>(view: &ArrayViewD<'_, T>) -> Result<Tensor, ConvertError> {
    let width = T::DTYPE.size_bytes();
    let bytes: Vec<u8> = view.iter().flat_map(|x| x.raw().to_le_bytes().into_iter().take(width)).collect();
    let shape: Vec<i64> = view.shape().iter().map(|&n| n as i64).collect();
    Ok(Tensor::f_from_data_size(&bytes, &shape, kind_of(T::DTYPE))?)
}

/// The project's copying conversion, tensor → array: refuses a tensor of another kind instead of casting it.
pub fn copy_to_array<T: Elem>(tensor: &Tensor) -> Result<ArrayD<T>, ConvertError> {
    let kind = tensor.f_kind()?;
    if kind != kind_of(T::DTYPE) {
        let actual = dtype_of(kind).map_or_else(|| format!("{kind:?}"), |d| d.to_string());
        return Err(ConvertError::KindMismatch { kind, wanted: T::DTYPE, actual });
    }
    let bits = tensor_bits(tensor)?;
    Ok(ArrayD::from_shape_vec(IxDyn(&bits.shape), bits.bits.into_iter().map(T::from_raw).collect())?)
}

/// The raw bits of a tensor's elements in row-major order, read as bytes whatever its kind says.
pub fn tensor_bits(tensor: &Tensor) -> Result<ArrayBits, ConvertError> {
    let kind = tensor.f_kind()?;
    let dtype = dtype_of(kind).ok_or(ConvertError::UnknownKind(kind))?;
    let numel = tensor.numel();
    let width = dtype.size_bytes();
    let mut bytes = vec![0u8; numel * width];
    tensor.f_contiguous()?.f_copy_data_u8(&mut bytes, numel)?;
    let bits =
        bytes.chunks_exact(width).map(|chunk| chunk.iter().rev().fold(0u64, |acc, &b| acc << 8 | b as u64)).collect();
    Ok(ArrayBits { dtype, shape: tensor.size().iter().map(|&n| n as usize).collect(), bits })
}

/// A case as a CPU tensor: a zero-copy view of its storage where libtorch can represent the layout (so strided
/// kernels run on strided input), else a copy in logical order (negative strides).
pub enum CaseTensor {
    View { buffer: Rc<SharedBuffer>, view: TensorView },
    Copy(Tensor),
}

impl CaseTensor {
    pub fn of(case: &TensorCase) -> Result<CaseTensor, ConvertError> {
        if case.layout().strides.iter().all(|&s| s >= 0) {
            let buffer = SharedBuffer::from_case(case);
            let view = buffer.tensor(case.layout()).map_err(|e| tch::TchError::Convert(e.to_string()))?;
            return Ok(CaseTensor::View { buffer, view });
        }
        with_elem!(case.dtype(), T => copy_to_tensor(&array_view(case.layout(), &storage_of::<T>(case))))
            .map(CaseTensor::Copy)
    }

    pub fn tensor(&self) -> &Tensor {
        match self {
            CaseTensor::View { view, .. } => view.tensor(),
            CaseTensor::Copy(t) => t,
        }
    }

    /// The buffer under a zero-copy view.
    pub fn buffer(&self) -> Option<&Rc<SharedBuffer>> {
        match self {
            CaseTensor::View { buffer, .. } => Some(buffer),
            CaseTensor::Copy(_) => None,
        }
    }
}

/// What a [`ToTensor`] runs.
pub type ToTensorFn = Box<dyn Fn(&TensorCase) -> Result<Tensor, ConvertError> + Send + Sync>;
/// What a [`ToArray`] runs.
pub type ToArrayFn = Box<dyn Fn(&Tensor, Dtype) -> Result<ArrayBits, ConvertError> + Send + Sync>;

/// A named array → tensor conversion, dtype-erased, so properties take it as a parameter.
pub struct ToTensor {
    pub name: &'static str,
    pub run: ToTensorFn,
}

/// A named tensor → array conversion to a requested element type, dtype-erased.
pub struct ToArray {
    pub name: &'static str,
    pub run: ToArrayFn,
}

impl ToTensor {
    /// tch's `TryFrom<&ArrayBase<S, D>> for Tensor`, on a view with the case's layout.
    pub fn tch() -> ToTensor {
        ToTensor {
            name: "tch TryFrom<&ArrayView>",
            run: Box::new(|case| {
                with_elem!(case.dtype(), T => {
                    let data = storage_of::<T>(case);
                    Ok(Tensor::try_from(&array_view(case.layout(), &data))?)
                })
            }),
        }
    }

    /// The project's [`copy_to_tensor`].
    pub fn copying() -> ToTensor {
        ToTensor {
            name: "conform copy_to_tensor",
            run: Box::new(
                |case| with_elem!(case.dtype(), T => copy_to_tensor(&array_view(case.layout(), &storage_of::<T>(case)))),
            ),
        }
    }
}

impl ToArray {
    /// tch's `TryInto<ArrayD<T>> for &Tensor`.
    pub fn tch() -> ToArray {
        ToArray {
            name: "tch TryInto<ArrayD>",
            run: Box::new(|tensor, dtype| {
                with_elem!(dtype, T => {
                    let array: ArrayD<T> = tensor.try_into()?;
                    Ok(ArrayBits::of(&array))
                })
            }),
        }
    }

    /// The project's [`copy_to_array`].
    pub fn copying() -> ToArray {
        ToArray {
            name: "conform copy_to_array",
            run: Box::new(|tensor, dtype| with_elem!(dtype, T => Ok(ArrayBits::of(&copy_to_array::<T>(tensor)?)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conform_generators::Layout;

    fn case(dtype: Dtype, shape: &[usize], strides: &[isize], offset: usize, storage: Vec<u64>) -> TensorCase {
        TensorCase::new(dtype, Layout { shape: shape.to_vec(), strides: strides.to_vec(), offset }, storage).unwrap()
    }

    #[test]
    fn views_follow_the_layout_exactly() {
        let c = case(Dtype::I32, &[2, 3], &[-1, 2], 1, vec![10, 11, 12, 13, 14, 15, 16]);
        let data = storage_of::<i32>(&c);
        let view = array_view(c.layout(), &data);
        let seen: Vec<u64> = view.iter().map(|x| x.raw()).collect();
        assert_eq!(seen, c.logical());
        assert_eq!(seen, vec![11, 13, 15, 10, 12, 14]);
        let broadcast = case(Dtype::U8, &[3, 2], &[0, 1], 0, vec![1, 2]);
        let data = storage_of::<u8>(&broadcast);
        assert_eq!(array_view(broadcast.layout(), &data).iter().copied().collect::<Vec<_>>(), vec![1, 2, 1, 2, 1, 2]);
    }

    #[test]
    fn copying_conversion_round_trips_any_layout_and_refuses_casts() {
        let c = case(Dtype::F32, &[2, 2], &[1, 2], 0, vec![0x8000_0000, 0x7fc0_0001, 1, 0xff80_0000]);
        let tensor = (ToTensor::copying().run)(&c).unwrap();
        let back = (ToArray::copying().run)(&tensor, Dtype::F32).unwrap();
        assert_eq!(back.bits, c.logical());
        assert_eq!(tensor_bits(&tensor).unwrap().bits, c.logical());
        let err = (ToArray::copying().run)(&tensor, Dtype::F64).unwrap_err().to_string();
        assert!(err.contains("tensor of kind Float cannot become an array of f64 without a cast"), "{err}");
    }
}
