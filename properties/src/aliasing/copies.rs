//! Copying conversions never alias: tch's `TryFrom<&ArrayView>` and `TryInto<ArrayD>` and conform's
//! `copy_to_tensor` and `copy_to_array` each give memory outside the source that ignores later writes to it.
//!
//! Invariant: the source is always a [`SharedBuffer`] with the case's layout — read in place through its ndarray
//! view for array → tensor, through its zero-copy tensor for tensor → array — so "outside the source" is judged
//! against the one memory both sides share.

use conform_generators::TensorCase;
use conform_judge::{CheckError, Verdict};
use ndarray::ArrayD;
use tch::Tensor;

use super::other;
use crate::convert::{copy_to_array, tch_fail, tensor_bits, ArrayBits, ConvertError};
use crate::element::Elem;
use crate::view::{ArrayToTensor, SharedBuffer};
use crate::with_elem;

/// What a copying conversion produced, with a way to read it again later.
pub struct Copied {
    /// Address of its first element.
    pub address: usize,
    pub reread: Box<dyn Fn() -> Result<Vec<u64>, ConvertError>>,
}

/// What a [`CopyOp`] runs; `None` when the conversion does not apply to the case.
pub type CopyFn = Box<dyn Fn(&SharedBuffer, &TensorCase) -> Result<Option<Copied>, String> + Send + Sync>;

/// A copying conversion from the buffer (with the case's layout) to a new tensor or array.
pub struct CopyOp {
    pub name: &'static str,
    /// Whether the conversion must apply to the case (the oracle; a conversion never answers this for itself, or
    /// one that never applies would pass without being checked).
    pub applies: fn(&TensorCase) -> bool,
    pub run: CopyFn,
}

/// tch's `TryFrom<&ArrayView>` takes a standard (C-contiguous) layout only.
fn standard(case: &TensorCase) -> bool {
    case.layout().is_c_contiguous()
}

/// Every layout.
fn any(_: &TensorCase) -> bool {
    true
}

/// The tensor side needs a zero-copy source tensor, which no negative stride allows.
fn viewable(case: &TensorCase) -> bool {
    case.layout().strides.iter().all(|&s| s >= 0)
}

fn copied_tensor(tensor: Tensor) -> Copied {
    Copied { address: tensor.data_ptr() as usize, reread: Box::new(move || tensor_bits(&tensor).map(|b| b.bits)) }
}

fn copied_array<T: Elem>(array: ArrayD<T>) -> Copied {
    Copied { address: array.as_ptr() as usize, reread: Box::new(move || Ok(ArrayBits::of(&array).bits)) }
}

/// The array → tensor side: `conversion` reads the buffer's ndarray view in place.
fn from_array(buffer: &SharedBuffer, case: &TensorCase, conversion: ArrayToTensor) -> Result<Option<Copied>, String> {
    let tensor = buffer.array_to_tensor(case.layout(), conversion).map_err(|e| e.to_string())?;
    Ok(tensor.map(copied_tensor))
}

/// The copying conversions conform checks: both directions, tch's and the project's. `None` means the conversion
/// does not apply to the case (tch's TryFrom needs a standard layout; the tensor side needs a zero-copy source).
pub fn copy_ops() -> Vec<CopyOp> {
    vec![
        CopyOp {
            name: "tch TryFrom<&ArrayView>",
            applies: standard,
            run: Box::new(|buffer, case| from_array(buffer, case, ArrayToTensor::TchTryFrom)),
        },
        CopyOp {
            name: "conform copy_to_tensor",
            applies: any,
            run: Box::new(|buffer, case| from_array(buffer, case, ArrayToTensor::CopyToTensor)),
        },
        CopyOp {
            name: "tch TryInto<ArrayD>",
            applies: viewable,
            run: Box::new(|buffer, case| {
                let Ok(view) = buffer.tensor(case.layout()) else { return Ok(None) };
                with_elem!(case.dtype(), T => {
                    let array: Result<ArrayD<T>, _> = (&view).try_into();
                    array.map(|a| Some(copied_array(a))).map_err(|e| e.to_string())
                })
            }),
        },
        CopyOp {
            name: "conform copy_to_array",
            applies: viewable,
            run: Box::new(|buffer, case| {
                let Ok(view) = buffer.tensor(case.layout()) else { return Ok(None) };
                with_elem!(case.dtype(), T => copy_to_array::<T>(&view).map(|a| Some(copied_array(a))).map_err(|e| e.to_string()))
            }),
        },
    ]
}

/// A copying conversion's result lies outside the source memory and does not change when the source does.
pub fn copying_conversions_never_alias(case: &TensorCase, ops: &[CopyOp]) -> Verdict {
    if case.numel() == 0 {
        return Ok(());
    }
    for op in ops {
        let buffer = SharedBuffer::from_case(case).map_err(|e| tch_fail("shared buffer", e))?;
        let Some(copied) = (op.run)(&buffer, case)
            .map_err(|e| CheckError::fail(format!("{} failed", op.name), format!("{} failed: {e}", op.name)))?
        else {
            if (op.applies)(case) {
                return Err(CheckError::fail(
                    format!("{} did not apply where it must", op.name),
                    format!(
                        "{} answered 'does not apply' for a layout it takes [{}, shape={:?} strides={:?}]",
                        op.name,
                        case.dtype(),
                        case.layout().shape,
                        case.layout().strides
                    ),
                ));
            }
            continue;
        };
        let before = (copied.reread)().map_err(|e| tch_fail("read", e))?;
        if buffer.contains_address(copied.address) {
            return Err(CheckError::fail(
                format!("{} aliases its source", op.name),
                format!(
                    "{} result starts inside the source storage [{}, layout {:?}]",
                    op.name,
                    case.dtype(),
                    case.layout()
                ),
            ));
        }
        for i in 0..buffer.len() {
            buffer.set(i, other(case.dtype(), buffer.get(i)));
        }
        let after = (copied.reread)().map_err(|e| tch_fail("read", e))?;
        if after != before {
            return Err(CheckError::fail(
                format!("{} result changes with its source", op.name),
                format!("{} result changed when the source storage was overwritten [{}]", op.name, case.dtype()),
            ));
        }
    }
    Ok(())
}
