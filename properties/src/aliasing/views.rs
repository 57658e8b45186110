//! Checks on one zero-copy view of a case's storage: writes land both ways at exactly the addressed element, every
//! element has the array's address, `requires_grad_` keeps aliasing, and writes into overlapping views are refused.
//!
//! Invariant: each check takes the operation under test (the view maker, `requires_grad_`, the write) as a
//! parameter, so the tests below plant a defect and show that the check fails on it and shrinks it.

use conform_generators::TensorCase;
use conform_judge::{CheckError, Verdict};
use tch::{TchError, Tensor};

use super::{element, other, pick, scalar, storage_diff, view_of, zero_copy, MakeView};
use crate::convert::{tch_fail, tensor_bits};

/// A write through the tensor appears in the array at the same logical index and vice versa, and no other storage
/// element changes.
pub fn zero_copy_view_writes_both_ways(case: &TensorCase, make: &MakeView) -> Verdict {
    if case.numel() == 0 {
        return Ok(());
    }
    let (buffer, view) = view_of(case, make)?;
    let dtype = case.dtype();
    let flat = pick(case);
    let index = case.layout().unravel(flat);
    let idx = case.index_string(flat);
    let address = case.layout().addresses()[flat];

    let mut expected = buffer.snapshot();
    let first = other(dtype, expected[address]);
    expected[address] = first;
    let mut target = element(&view, &index).map_err(|e| tch_fail("select", e))?;
    let src = scalar(dtype, first).map_err(|e| tch_fail("scalar", e))?;
    target.f_copy_(&src).map_err(|e| tch_fail("copy_ into the element", e))?;
    if let Some(diff) = storage_diff(dtype, &expected, &buffer.snapshot()) {
        return Err(CheckError::fail(
            "a write through the tensor does not land at the array's element",
            format!(
                "after writing {} through tensor{idx}: {diff} [{dtype}, layout {:?}]",
                dtype.hex(first),
                case.layout()
            ),
        ));
    }
    let seen = buffer.array_get(case.layout(), &index).map_err(|e| tch_fail("array view", e))?;
    if seen != first {
        return Err(CheckError::fail(
            "array does not see a write through the tensor",
            format!(
                "array{idx} is {} after writing {} through tensor{idx} [{dtype}]",
                dtype.hex(seen),
                dtype.hex(first)
            ),
        ));
    }

    let second = other(dtype, first) ^ (dtype.mask() & 1);
    let second = if second == first { other(dtype, first) } else { second };
    // The array's elements are cells, so this writes through overlapping layouts too.
    buffer.array_set(case.layout(), &index, second).map_err(|e| tch_fail("mutable array view", e))?;
    let got = tensor_bits(&element(&view, &index).map_err(|e| tch_fail("select", e))?)
        .map_err(|e| tch_fail("read", e))?
        .bits[0];
    if got != second {
        return Err(CheckError::fail(
            "tensor does not see a write through the array",
            format!(
                "tensor{idx} is {} after writing {} through array{idx} [{dtype}, layout {:?}]",
                dtype.hex(got),
                dtype.hex(second),
                case.layout()
            ),
        ));
    }
    let whole = tensor_bits(&view).map_err(|e| tch_fail("read", e))?.bits;
    let storage = buffer.snapshot();
    let wanted: Vec<u64> = case.layout().addresses().iter().map(|&a| storage[a]).collect();
    conform_judge::same_len("the zero-copy view", wanted.len(), whole.len())?;
    if whole != wanted {
        let k = (0..wanted.len()).find(|&k| whole[k] != wanted[k]).unwrap_or(0);
        return Err(CheckError::fail(
            "tensor and array disagree",
            format!(
                "tensor{} is {} but array has {} [{dtype}]",
                case.index_string(k),
                dtype.hex(whole[k]),
                dtype.hex(wanted[k])
            ),
        ));
    }
    Ok(())
}

/// For every logical index, the tensor's element address equals the array's, and both equal the project's
/// address arithmetic.
pub fn element_addresses_agree(case: &TensorCase, make: &MakeView) -> Verdict {
    let (buffer, t) = view_of(case, make)?;
    let addresses = case.layout().addresses();
    let array = buffer.array_addresses(case.layout()).map_err(|e| tch_fail("array view", e))?;
    // libtorch's own view metadata, read once: an element's address is data_ptr + Σ index·stride.
    if t.size().iter().map(|&n| n as usize).ne(case.shape().iter().copied()) {
        return Err(CheckError::fail(
            "zero-copy view has the wrong shape",
            format!("tensor shape {:?}, array shape {:?}", t.size(), case.shape()),
        ));
    }
    let (base, strides, size) = (t.data_ptr() as i128, t.stride(), case.dtype().size_bytes() as i128);
    let storage_base = buffer.base_address();
    for (flat, &address) in addresses.iter().enumerate() {
        let index = case.layout().unravel(flat);
        let offset: i128 = index.iter().zip(&strides).map(|(&i, &s)| i as i128 * s as i128).sum();
        let tensor = (base + offset * size) as usize;
        let oracle = storage_base + address * case.dtype().size_bytes();
        if tensor != array[flat] || array[flat] != oracle {
            let rel = |a: usize| (a as i128 - storage_base as i128) / size;
            return Err(CheckError::fail(
                "element addresses disagree",
                format!(
                    "element{} is storage[{}] in the tensor, storage[{}] in the array, storage[{address}] by stride arithmetic [{}, layout {:?}]",
                    case.index_string(flat), rel(tensor), rel(array[flat]), case.dtype(), case.layout()
                ),
            ));
        }
    }
    Ok(())
}

/// Sets `requires_grad` on a view (the op under test of `requires_grad_keeps_aliasing`).
pub type RequiresGrad = dyn Fn(&mut Tensor) -> Result<Tensor, TchError> + Send + Sync;

pub fn requires_grad(view: &mut Tensor) -> Result<Tensor, TchError> {
    view.f_requires_grad_(true)
}

/// The article's claim: `requires_grad_(true)` on a zero-copy float view keeps aliasing the array; on an integer
/// or bool view it is an error, not a panic.
pub fn requires_grad_keeps_aliasing(case: &TensorCase, op: &RequiresGrad) -> Verdict {
    let (buffer, mut view) = view_of(case, &zero_copy)?;
    let dtype = case.dtype();
    let result = op(&mut view);
    let grad = match (dtype.is_float(), result) {
        (false, Err(_)) => return Ok(()),
        (false, Ok(_)) => {
            return Err(CheckError::fail(
                "requires_grad_ accepted a non-float tensor",
                format!(
                "requires_grad_(true) succeeded on a {dtype} view; only floating point tensors can require gradients"
            ),
            ))
        }
        (true, Err(e)) => return Err(tch_fail("requires_grad_(true) on a float view", e)),
        (true, Ok(grad)) => grad,
    };
    if !grad.requires_grad() {
        return Err(CheckError::fail(
            "requires_grad_ did not set the flag",
            format!("requires_grad() is false after requires_grad_(true) [{dtype}]"),
        ));
    }
    if case.numel() == 0 {
        return Ok(());
    }
    let flat = pick(case);
    let address = case.layout().addresses()[flat];
    let new = other(dtype, buffer.get(address));
    buffer.set(address, new);
    let seen = tensor_bits(&element(&grad, &case.layout().unravel(flat)).map_err(|e| tch_fail("select", e))?)
        .map_err(|e| tch_fail("read", e))?
        .bits[0];
    if seen != new {
        return Err(CheckError::fail(
            "requires_grad_ made the tensor independent of the array",
            format!(
                "after requires_grad_(true), writing {} into array{} leaves the tensor at {} [{dtype}]",
                dtype.hex(new),
                case.index_string(flat),
                dtype.hex(seen)
            ),
        ));
    }
    Ok(())
}

/// Writes `src` into a view (the op under test of `overlapping_writes_refused`).
pub type WriteInto = dyn Fn(&Tensor, &Tensor) -> Result<(), TchError> + Send + Sync;

pub fn copy_into(view: &Tensor, src: &Tensor) -> Result<(), TchError> {
    let mut target = view.f_alias()?;
    target.f_copy_(src)
}

/// How a view's indices share storage elements, as libtorch's `has_internal_overlap` (ATen/MemoryOverlap.cpp) sees
/// it: a dimension of two or more elements with stride 0 is overlap it can prove (`MemOverlap::Yes`, which
/// `assert_no_internal_overlap` refuses); other sharing, such as strides `[1, 1]` over shape `[2, 2]`, is
/// `MemOverlap::TooHard`, which it does not check, so the write goes ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Overlap {
    No,
    /// Stride 0 on a dimension of size ≥ 2: libtorch refuses the write.
    Proven,
    /// Indices share elements but no stride is 0: libtorch writes, each shared element ending up with the value of
    /// one of its indices (which one is unspecified).
    Undetected,
}

fn overlap(case: &TensorCase) -> Overlap {
    let layout = case.layout();
    if layout.shape.iter().zip(&layout.strides).any(|(&n, &s)| n > 1 && s == 0) {
        return Overlap::Proven;
    }
    let mut addresses = layout.addresses();
    let len = addresses.len();
    addresses.sort_unstable();
    addresses.dedup();
    if addresses.len() < len {
        Overlap::Undetected
    } else {
        Overlap::No
    }
}

/// Writing a tensor of distinct values into a view with a stride-0 dimension (indices that provably share an
/// element) is refused with an error and changes nothing. Into a view whose indices share elements otherwise,
/// libtorch does not look for the overlap: the write is either refused without a change, or each shared element
/// ends up holding the value of one of its indices; into a non-overlapping view it lands exactly at the addressed
/// elements. Nothing outside the addressed elements ever changes.
pub fn overlapping_writes_refused(case: &TensorCase, write: &WriteInto) -> Verdict {
    if case.numel() == 0 {
        return Ok(());
    }
    let (buffer, view) = view_of(case, &zero_copy)?;
    let dtype = case.dtype();
    let addresses = case.layout().addresses();
    let overlap = overlap(case);
    let values: Vec<u64> = case
        .logical()
        .iter()
        .enumerate()
        .map(|(i, &b)| if i % 2 == 0 { other(dtype, b) } else { b ^ (dtype.mask() & 1) })
        .collect();
    let src = TensorCase::contiguous(dtype, case.shape(), values.clone()).expect("same shape");
    let src = (crate::convert::ToTensor::copying().run)(&src).map_err(|e| tch_fail("source tensor", e))?;
    let before = buffer.snapshot();
    let result = write(&view, &src);
    let after = buffer.snapshot();
    let at = format!("[{dtype}, layout {:?}]", case.layout());
    match (overlap, result) {
        (Overlap::Proven | Overlap::Undetected, Err(_)) if after == before => Ok(()),
        (Overlap::Proven | Overlap::Undetected, Err(_)) => Err(CheckError::fail(
            "refused write into overlapping view still changed storage",
            format!(
                "copy_ into an overlapping view failed but changed the storage: {} {at}",
                storage_diff(dtype, &before, &after).unwrap_or_default()
            ),
        )),
        (Overlap::Proven, Ok(())) => Err(CheckError::fail(
            "write into an overlapping view accepted",
            format!("copy_ of distinct values into a view with a stride-0 dimension succeeded {at}"),
        )),
        (Overlap::Undetected, Ok(())) => {
            // Each storage element may hold the value of any index that addresses it, and nothing else changes.
            let mut written: Vec<Vec<u64>> = vec![Vec::new(); before.len()];
            for (&a, &v) in addresses.iter().zip(&values) {
                written[a].push(v);
            }
            let wrong = (0..before.len()).find(|&k| match written[k].is_empty() {
                true => after[k] != before[k],
                false => !written[k].contains(&after[k]),
            });
            match wrong {
                None => Ok(()),
                Some(k) if written[k].is_empty() => Err(CheckError::fail(
                    "copy_ into a view wrote the wrong elements",
                    format!(
                        "after copy_ into the view: {} {at}",
                        storage_diff(dtype, &before, &after).unwrap_or_default()
                    ),
                )),
                Some(k) => Err(CheckError::fail(
                    "copy_ into an overlapping view wrote a value none of its indices had",
                    format!(
                        "after copy_ into the view, storage[{k}] is {} but its indices were given {} {at}",
                        dtype.hex(after[k]),
                        written[k].iter().map(|&v| dtype.hex(v)).collect::<Vec<_>>().join(" or ")
                    ),
                )),
            }
        }
        (Overlap::No, Err(e)) => Err(tch_fail("copy_ into a non-overlapping view", e)),
        (Overlap::No, Ok(())) => {
            let mut expected = before;
            for (&a, &v) in addresses.iter().zip(&values) {
                expected[a] = v;
            }
            match storage_diff(dtype, &expected, &after) {
                None => Ok(()),
                Some(diff) => Err(CheckError::fail(
                    "copy_ into a view wrote the wrong elements",
                    format!("after copy_ into the view: {diff} {at}"),
                )),
            }
        }
    }
}
