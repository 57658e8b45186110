//! Aliasing family: does a tensor still share memory with the array it came from? Zero-copy views (like
//! `torch.from_numpy`) must alias both ways at exactly the addressed element and nowhere else; copying conversions
//! must never alias; view ops must alias and copy ops must not, with the result's layout predicted exactly by the
//! stride arithmetic of `conform_judge::strides` (not by asking libtorch); `requires_grad_` keeps aliasing (the
//! article says it copies); writes into a layout whose elements share memory are refused.
//!
//! Files: `views` holds the checks on one zero-copy view (writes both ways, element addresses, `requires_grad_`,
//! overlapping writes), `copies` the copying conversions, `view_ops` the view and copy ops with their oracles.
//! Each property below is judged by the function of its name.

mod copies;
#[cfg(test)]
mod tests;
mod view_ops;
mod views;

use std::sync::Arc;

use conform_generators::{CaseSpace, Dtype, Layout, TensorCase};
use conform_judge::CheckError;
use tch::{TchError, Tensor};

pub use copies::{copy_ops, copying_conversions_never_alias, Copied, CopyFn, CopyOp};
pub use view_ops::{view_ops, view_ops_alias_copy_ops_do_not, ViewOp};
pub use views::{
    copy_into, element_addresses_agree, overlapping_writes_refused, requires_grad, requires_grad_keeps_aliasing,
    zero_copy_view_writes_both_ways, RequiresGrad, WriteInto,
};

use crate::claims;
use crate::element::kind_of;
use crate::families::Family;
use crate::property::Property;
use crate::view::{SharedBuffer, ViewError};

pub const FAMILY: Family = Family::new(
    "aliasing",
    "zero-copy views alias the array element for element, copies never do, and view ops copy exactly when stride arithmetic says",
);

pub fn properties() -> Vec<Property> {
    let copies = Arc::new(copy_ops());
    let ops = Arc::new(view_ops());
    vec![
        Property::new(
            FAMILY,
            "zero_copy_view_writes_both_ways",
            "a write through a zero-copy tensor appears in the array at the same index and vice versa, and nowhere else",
        )
        .claims(&[claims::SHARES_MEMORY])
        .tensors(CaseSpace::all)
        .check(|case| zero_copy_view_writes_both_ways(case, &zero_copy)),
        Property::new(
            FAMILY,
            "element_addresses_agree",
            "every element of a zero-copy tensor has the address of the array's element at the same index",
        )
        .claims(&[claims::SHARES_MEMORY])
        .tensors(CaseSpace::all)
        .check(|case| element_addresses_agree(case, &zero_copy)),
        Property::new(
            FAMILY,
            "copying_conversions_never_alias",
            "tch's TryFrom/TryInto and conform's copy_to_tensor/copy_to_array give new memory that ignores later writes to the source",
        )
        .claims(&[claims::SHARES_MEMORY])
        .tensors(CaseSpace::all)
        .check(move |case| copying_conversions_never_alias(case, &copies)),
        Property::new(
            FAMILY,
            "view_ops_alias_copy_ops_do_not",
            "reshape, view, transpose, permute, narrow, slice, select, expand, (un)squeeze, as_strided, detach, to(same kind or device), contiguous give the view, copy or error stride arithmetic predicts",
        )
        .claims(&[claims::RESHAPE_BREAKS_SHARING])
        .tensors(CaseSpace::all)
        .check(move |case| view_ops_alias_copy_ops_do_not(case, &ops)),
        Property::new(
            FAMILY,
            "requires_grad_keeps_aliasing",
            "requires_grad_(true) on a zero-copy float view still aliases the array; on an integer view it is an error",
        )
        .claims(&[claims::REQUIRES_GRAD_COPIES])
        .tensors(floats_and_ints)
        .check(|case| requires_grad_keeps_aliasing(case, &requires_grad)),
        Property::new(
            FAMILY,
            "overlapping_writes_refused",
            "copy_ into a view with a stride-0 dimension is an error that changes nothing (libtorch refuses only the overlap it can prove); into a view whose indices share elements otherwise each shared element gets one of its values; into any other view it writes exactly the addressed elements",
        )
        .tensors(CaseSpace::all)
        .check(|case| overlapping_writes_refused(case, &copy_into)),
    ]
}

fn floats_and_ints(max_numel: usize) -> CaseSpace {
    CaseSpace::all(max_numel).with_dtypes(&[
        Dtype::F32,
        Dtype::F64,
        Dtype::F16,
        Dtype::Bf16,
        Dtype::I64,
        Dtype::U8,
        Dtype::Bool,
    ])
}

/// Makes a tensor over a buffer with a layout: the zero-copy view under test.
pub type MakeView = dyn Fn(&SharedBuffer, &Layout) -> Result<Tensor, ViewError> + Send + Sync;

/// The real zero-copy view.
pub fn zero_copy(buffer: &SharedBuffer, layout: &Layout) -> Result<Tensor, ViewError> {
    buffer.tensor(layout)
}

/// A view of the case's storage, or the reject/fail a property reports when there is none.
fn view_of(case: &TensorCase, make: &MakeView) -> Result<(SharedBuffer, Tensor), CheckError> {
    let buffer = SharedBuffer::from_case(case).map_err(|e| crate::convert::tch_fail("shared buffer", e))?;
    match make(&buffer, case.layout()) {
        Ok(view) => Ok((buffer, view)),
        Err(ViewError::NegativeStride { .. }) => Err(CheckError::Reject(
            "negative strides: libtorch cannot represent them (from_blob would abort), so no zero-copy view is made"
                .into(),
        )),
        Err(e) => {
            Err(CheckError::fail("zero-copy view refused", format!("zero-copy view refused a valid layout: {e}")))
        }
    }
}

/// The element at a logical index, as a 0-d tensor over the same memory.
fn element(tensor: &Tensor, index: &[usize]) -> Result<Tensor, TchError> {
    let mut t = tensor.f_alias()?;
    for &i in index {
        t = t.f_select(0, i as i64)?;
    }
    Ok(t)
}

/// A 0-d tensor holding `bits` of `dtype`.
fn scalar(dtype: Dtype, bits: u64) -> Result<Tensor, TchError> {
    let bytes = bits.to_le_bytes();
    Tensor::f_from_data_size(&bytes[..dtype.size_bytes()], &[], kind_of(dtype))
}

/// A value different from `bits`.
fn other(dtype: Dtype, bits: u64) -> u64 {
    !bits & dtype.mask()
}

/// A logical element chosen from the case's values, so shrinking keeps it stable.
fn pick(case: &TensorCase) -> usize {
    let sum = case.logical().iter().fold(0u64, |a, &b| a.wrapping_add(b));
    (sum % case.numel() as u64) as usize
}

fn storage_diff(dtype: Dtype, expected: &[u64], actual: &[u64]) -> Option<String> {
    let k = (0..expected.len()).find(|&k| expected[k] != actual[k])?;
    Some(format!("storage[{k}] is {} but should be {}", dtype.hex(actual[k]), dtype.hex(expected[k])))
}
