//! Conversions between cases, ndarray arrays and tensors: tch's own (the system under test) and the project's own
//! copying conversion, which accepts every layout the case model has, plus dtype-erased forms the properties use,
//! and the two helpers every family's checks share: a failed step as a failure ([`tch_fail`]) and a copy into new
//! memory ([`deep_copy`]).
//!
//! Invariant: the project's conversions never cast: a tensor whose kind is not the requested element type is an
//! error, and bits pass through unchanged.

use conform_generators::{Dtype, Hint, TensorCase};
use conform_judge::{one_line, CheckError};
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use tch::{Kind, TchError, Tensor};

use crate::element::{dtype_of, kind_of, Elem};
use crate::view::{array_view, elements_of_tensor, tensor_of_elements, SharedBuffer, ViewError};
use crate::with_elem;

/// Why a conversion did not happen. Each message is one line; [`Hint::hint`] says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// libtorch's error, shortened to its first line (the rest is a C++ backtrace).
    #[error("tch: {}", one_line(&.0.to_string()))]
    Tch(#[from] TchError),
    #[error("tensor of kind {kind:?} cannot become an array of {wanted} without a cast")]
    KindMismatch { kind: Kind, wanted: Dtype, actual: String },
    #[error("tensor kind {0:?} has no conform dtype")]
    UnknownKind(Kind),
    #[error("ndarray: {0}")]
    Shape(#[from] ndarray::ShapeError),
    #[error("zero-copy view: {0}")]
    View(#[from] ViewError),
}

impl Hint for ConvertError {
    fn hint(&self) -> Option<String> {
        match self {
            ConvertError::KindMismatch { actual, .. } => {
                Some(format!("cast first with `to_kind`, or ask for an array of {actual}"))
            }
            ConvertError::UnknownKind(_) => {
                Some("conform models bool, u8, i8, i16, i32, i64, f16, bf16, f32, f64".to_string())
            }
            ConvertError::View(e) => e.hint(),
            ConvertError::Tch(_) | ConvertError::Shape(_) => None,
        }
    }
}

/// The errors a step of a check can end with: libtorch's, and conform's conversion and view errors.
pub(crate) trait StepError: std::fmt::Display {}
impl StepError for TchError {}
impl StepError for ConvertError {}
impl StepError for ViewError {}
impl<E: StepError> StepError for &E {}

/// A step of a check failed: signature `"{what} failed"`, message `"{what} failed: {the error's first line}"`.
pub(crate) fn tch_fail(what: &str, error: impl StepError) -> CheckError {
    let text = error.to_string();
    CheckError::fail(format!("{what} failed"), format!("{what} failed: {}", one_line(&text)))
}

/// A copy into new memory (`to` on the same device would return the same tensor).
pub fn deep_copy(t: &Tensor) -> Result<Tensor, TchError> {
    let mut copy = t.f_empty_like()?;
    copy.f_copy_(t)?;
    Ok(copy)
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
/// the project's own table ([`kind_of`]), so tch's `Element::KIND` (which tags `half::bf16` as `Half` in tch 0.24)
/// is never consulted. A standard-layout view is copied with one memcpy ([`tensor_of_elements`]); any other layout
/// is first put in row-major order by ndarray.
pub fn copy_to_tensor<T: Elem>(view: &ArrayViewD<'_, T>) -> Result<Tensor, ConvertError> {
    let shape: Vec<i64> = view.shape().iter().map(|&n| n as i64).collect();
    let standard = view.as_standard_layout();
    let elements = standard.as_slice().expect("a standard-layout array is one slice");
    Ok(tensor_of_elements(elements, kind_of(T::DTYPE))?.f_view(shape.as_slice())?)
}

/// The project's copying conversion, tensor → array: refuses a tensor of another kind instead of casting it. The
/// elements are copied with one memcpy out of the tensor's contiguous CPU form ([`elements_of_tensor`]); bool
/// elements are read as bits, since a bool tensor's bytes may be other than 0 and 1 (`from_raw` maps `bits != 0`).
pub fn copy_to_array<T: Elem>(tensor: &Tensor) -> Result<ArrayD<T>, ConvertError> {
    let kind = tensor.f_kind()?;
    if kind != kind_of(T::DTYPE) {
        let actual = dtype_of(kind).map_or_else(|| format!("{kind:?}"), |d| d.to_string());
        return Err(ConvertError::KindMismatch { kind, wanted: T::DTYPE, actual });
    }
    if T::DTYPE == Dtype::Bool {
        let bits = tensor_bits(tensor)?;
        return Ok(ArrayD::from_shape_vec(IxDyn(&bits.shape), bits.bits.into_iter().map(T::from_raw).collect())?);
    }
    let shape: Vec<usize> = tensor.size().iter().map(|&n| n as usize).collect();
    Ok(ArrayD::from_shape_vec(IxDyn(&shape), elements_of_tensor::<T>(tensor)?)?)
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

/// A case as a CPU tensor with the case's own layout where libtorch can represent it (so strided kernels run on
/// strided input), else a copy in logical order (negative strides).
pub enum CaseTensor {
    /// A zero-copy view over a [`SharedBuffer`] that conform can also read and write (see [`CaseTensor::shared`]).
    View { buffer: SharedBuffer, tensor: Tensor },
    /// The case's storage copied into libtorch with one call, and the case's layout over it (`as_strided`).
    Strided(Tensor),
    /// The logical elements copied into a contiguous tensor.
    Copy(Tensor),
}

impl CaseTensor {
    /// The case as a tensor with its layout, for operations that only read their input (casts, arithmetic): the
    /// storage goes to libtorch in one copy and `as_strided` lays the case's strides and offset over it.
    pub fn of(case: &TensorCase) -> Result<CaseTensor, ConvertError> {
        if case.layout().strides.iter().all(|&s| s >= 0) {
            let layout = case.layout();
            let width = case.dtype().size_bytes();
            let bytes: Vec<u8> = case.storage().iter().flat_map(|&b| b.to_le_bytes().into_iter().take(width)).collect();
            let storage = Tensor::f_from_data_size(&bytes, &[case.storage().len() as i64], kind_of(case.dtype()))?;
            let shape: Vec<i64> = layout.shape.iter().map(|&n| n as i64).collect();
            let strides: Vec<i64> = layout.strides.iter().map(|&s| s as i64).collect();
            return Ok(CaseTensor::Strided(storage.f_as_strided(&shape, &strides, layout.offset as i64)?));
        }
        CaseTensor::copied(case)
    }

    /// The case as a zero-copy view over a [`SharedBuffer`] that the caller can also read and overwrite (the devices
    /// family overwrites the source to show a device copy is new storage); a copy for negative strides.
    pub fn shared(case: &TensorCase) -> Result<CaseTensor, ConvertError> {
        if case.layout().strides.iter().all(|&s| s >= 0) {
            let buffer = SharedBuffer::from_case(case)?;
            let tensor = buffer.tensor(case.layout())?;
            return Ok(CaseTensor::View { buffer, tensor });
        }
        CaseTensor::copied(case)
    }

    fn copied(case: &TensorCase) -> Result<CaseTensor, ConvertError> {
        with_elem!(case.dtype(), T => copy_to_tensor(&array_view(case.layout(), &storage_of::<T>(case))))
            .map(CaseTensor::Copy)
    }

    pub fn tensor(&self) -> &Tensor {
        match self {
            CaseTensor::View { tensor, .. } | CaseTensor::Strided(tensor) | CaseTensor::Copy(tensor) => tensor,
        }
    }

    /// The buffer under a zero-copy view.
    pub fn buffer(&self) -> Option<&SharedBuffer> {
        match self {
            CaseTensor::View { buffer, .. } => Some(buffer),
            CaseTensor::Strided(_) | CaseTensor::Copy(_) => None,
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

    /// The memcpy paths keep every dtype's bits and kind (bf16, which tch calls Half, included), any layout, and
    /// empty and 0-d shapes; a bool tensor holding a byte other than 0 or 1 reads as `true`, never as a bad bool.
    #[test]
    fn copying_conversions_keep_kind_and_bits_of_every_dtype_shape_and_layout() {
        for dtype in Dtype::ALL {
            for (shape, strides, storage) in [
                (vec![2usize, 3], vec![1isize, 2], (1..=6).collect::<Vec<u64>>()),
                (vec![2, 3], vec![3, 1], vec![0, 1, 0x7f, 0x80, 0xff, 1]),
                (vec![], vec![], vec![1]),
                (vec![0, 4], vec![4, 1], vec![]),
            ] {
                let storage = storage.into_iter().map(|b| if dtype == Dtype::Bool { b & 1 } else { b }).collect();
                let c = case(dtype, &shape, &strides, 0, storage);
                let tensor = (ToTensor::copying().run)(&c).unwrap();
                assert_eq!(tensor.kind(), kind_of(dtype), "{dtype}");
                assert_eq!(tensor.size(), shape.iter().map(|&n| n as i64).collect::<Vec<_>>(), "{dtype}");
                assert_eq!(tensor_bits(&tensor).unwrap().bits, c.logical(), "{dtype} {shape:?} {strides:?}");
                let back = (ToArray::copying().run)(&tensor, dtype).unwrap();
                assert_eq!((back.shape, back.bits), (shape.clone(), c.logical()), "{dtype} {shape:?} {strides:?}");
                if shape.len() == 2 {
                    let transposed = tensor.f_transpose(0, 1).unwrap();
                    let read = (ToArray::copying().run)(&transposed, dtype).unwrap();
                    assert_eq!(read, tensor_bits(&transposed).unwrap(), "{dtype}: a non-contiguous tensor");
                }
            }
        }
        let bytes = Tensor::f_from_slice(&[0u8, 1, 2]).unwrap().f_view_dtype(Kind::Bool).unwrap();
        assert_eq!(copy_to_array::<bool>(&bytes).unwrap().into_raw_vec_and_offset().0, vec![false, true, true]);
    }

    #[test]
    fn errors_are_one_line_with_the_hint_apart() {
        let tensor = Tensor::f_zeros([1], (Kind::Float, tch::Device::Cpu)).unwrap();
        let mismatch = copy_to_array::<f64>(&tensor).unwrap_err();
        assert_eq!(mismatch.to_string(), "tensor of kind Float cannot become an array of f64 without a cast");
        assert_eq!(mismatch.hint().unwrap(), "cast first with `to_kind`, or ask for an array of f32");
        let tch = ConvertError::from(tensor.f_view([7]).unwrap_err());
        assert!(tch.to_string().starts_with("tch: ") && !tch.to_string().contains('\n'), "{tch}");
        assert_eq!(tch.hint(), None);
    }

    #[test]
    fn tch_fail_names_the_step_and_keeps_the_first_line() {
        let e = TchError::Torch("boom\nException raised from somewhere".into());
        let failure = tch_fail("select", &e);
        assert_eq!(failure, CheckError::fail("select failed", "select failed: Internal torch error: boom"));
        let convert = ConvertError::UnknownKind(Kind::ComplexFloat);
        assert_eq!(
            tch_fail("read", convert),
            CheckError::fail("read failed", "read failed: tensor kind ComplexFloat has no conform dtype")
        );
    }

    #[test]
    fn case_tensors_view_what_they_can_and_deep_copies_are_new_memory() {
        let c = case(Dtype::I16, &[2], &[2], 1, vec![1, 2, 3, 4]);
        let strided = CaseTensor::of(&c).unwrap();
        assert_eq!(tensor_bits(strided.tensor()).unwrap().bits, vec![2, 4]);
        assert_eq!((strided.tensor().size(), strided.tensor().stride()), (vec![2], vec![2]));
        let view = CaseTensor::shared(&c).unwrap();
        let buffer = view.buffer().expect("a non-negative layout is a zero-copy view");
        assert_eq!(view.tensor().data_ptr() as usize, buffer.element_address(1));
        let copy = deep_copy(view.tensor()).unwrap();
        assert!(!buffer.contains_address(copy.data_ptr() as usize));
        assert_eq!(tensor_bits(&copy).unwrap().bits, vec![2, 4]);
        let reversed = case(Dtype::I16, &[2], &[-1], 1, vec![1, 2]);
        let copied = CaseTensor::shared(&reversed).unwrap();
        assert!(copied.buffer().is_none());
        assert_eq!(tensor_bits(copied.tensor()).unwrap().bits, vec![2, 1]);
    }
}
