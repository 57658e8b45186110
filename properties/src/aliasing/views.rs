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

/// Writing a tensor of distinct values into a view whose layout maps two indices to one element is refused with
/// an error and changes nothing; into a non-overlapping view it lands exactly at the addressed elements and nowhere
/// else.
pub fn overlapping_writes_refused(case: &TensorCase, write: &WriteInto) -> Verdict {
    if case.numel() == 0 {
        return Ok(());
    }
    let (buffer, view) = view_of(case, &zero_copy)?;
    let dtype = case.dtype();
    let addresses = case.layout().addresses();
    let mut distinct = addresses.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let overlapping = distinct.len() < addresses.len();
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
    match (overlapping, result) {
        (true, Err(_)) if after == before => Ok(()),
        (true, Err(_)) => Err(CheckError::fail(
            "refused write into overlapping view still changed storage",
            format!(
                "copy_ into an overlapping view failed but changed the storage: {} {at}",
                storage_diff(dtype, &before, &after).unwrap_or_default()
            ),
        )),
        (true, Ok(())) => Err(CheckError::fail(
            "write into an overlapping view accepted",
            format!("copy_ of distinct values into a view whose indices share elements succeeded {at}"),
        )),
        (false, Err(e)) => Err(tch_fail("copy_ into a non-overlapping view", e)),
        (false, Ok(())) => {
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

#[cfg(test)]
mod tests {
    use conform_generators::{CaseSpace, Dtype, Layout, LayoutMix};

    use super::*;
    use crate::convert::deep_copy;
    use crate::testing::{assert_passes, minimal_failure};
    use crate::view::ViewError;

    #[test]
    fn real_ops_pass_on_contiguous_float_cases() {
        let space = CaseSpace::all(16).with_dtypes(&[Dtype::F32]).with_layouts(LayoutMix::CONTIGUOUS);
        assert_passes(space.clone(), |c| zero_copy_view_writes_both_ways(c, &zero_copy));
        assert_passes(space, |c| element_addresses_agree(c, &zero_copy));
    }

    #[test]
    fn real_ops_pass_on_every_dtype_and_layout() {
        let space = CaseSpace::all(16);
        assert_passes(space.clone(), |c| zero_copy_view_writes_both_ways(c, &zero_copy));
        assert_passes(space.clone(), |c| element_addresses_agree(c, &zero_copy));
        assert_passes(space.clone(), |c| requires_grad_keeps_aliasing(c, &requires_grad));
        assert_passes(space, |c| overlapping_writes_refused(c, &copy_into));
    }

    #[test]
    fn planted_copying_view_fails_and_shrinks() {
        let copying: &MakeView = &|b, l| deep_copy(&b.tensor(l)?).map_err(|e| ViewError::Tch(e.to_string()));
        let (case, failure) = minimal_failure(CaseSpace::all(64).with_dtypes(&[Dtype::U8]), |c| {
            zero_copy_view_writes_both_ways(c, copying)
        });
        assert_eq!(
            format!("{case:?}"),
            "TensorCase { dtype: u8, shape: [], strides: [], offset: 0, storage: [0x00 = 0] }"
        );
        assert_eq!(failure.message, "after writing 0xff through tensor[]: storage[0] is 0x00 but should be 0xff [u8, layout Layout { shape: [], strides: [], offset: 0 }]");
    }

    #[test]
    fn planted_wrong_offset_fails_and_shrinks() {
        // Forgets the storage offset, as a view that starts at the buffer's first element would.
        let no_offset: &MakeView = &|b, l| b.tensor(&Layout { offset: 0, ..l.clone() });
        let (case, failure) =
            minimal_failure(CaseSpace::all(64).with_dtypes(&[Dtype::I32]), |c| element_addresses_agree(c, no_offset));
        assert_eq!(
            format!("{case:?}"),
            "TensorCase { dtype: i32, shape: [], strides: [], offset: 1, storage: [0xffffffff = -1, 0x00000000 = 0] }"
        );
        assert_eq!(failure.message, "element[] is storage[0] in the tensor, storage[1] in the array, storage[1] by stride arithmetic [i32, layout Layout { shape: [], strides: [], offset: 1 }]");
    }

    #[test]
    fn planted_cloning_requires_grad_fails_and_shrinks() {
        // What the article describes: requires_grad making the tensor independent of the array.
        let cloning: &RequiresGrad = &|v| deep_copy(v)?.f_set_requires_grad(true);
        let (case, failure) = minimal_failure(CaseSpace::all(64).with_dtypes(&[Dtype::F32]), |c| {
            requires_grad_keeps_aliasing(c, cloning)
        });
        assert_eq!(
            format!("{case:?}"),
            "TensorCase { dtype: f32, shape: [], strides: [], offset: 0, storage: [0x00000000 = 0.0] }"
        );
        assert_eq!(failure.signature, "requires_grad_ made the tensor independent of the array");
    }

    #[test]
    fn planted_overlap_blind_write_fails_and_shrinks() {
        // Writes element by element, as a loop that ignores overlap would: the last write wins silently.
        let elementwise: &WriteInto = &|view, src| {
            let flat_src = src.f_reshape([-1])?;
            let n = flat_src.size()[0];
            let shape = view.size();
            for i in 0..n {
                let mut rest = i;
                let mut target = view.f_alias()?;
                let mut index = vec![0; shape.len()];
                for d in (0..shape.len()).rev() {
                    index[d] = rest % shape[d];
                    rest /= shape[d];
                }
                for &j in &index {
                    target = target.f_select(0, j)?;
                }
                target.f_copy_(&flat_src.f_select(0, i)?)?;
            }
            Ok(())
        };
        let (case, failure) = minimal_failure(CaseSpace::all(64).with_dtypes(&[Dtype::I16]), |c| {
            overlapping_writes_refused(c, elementwise)
        });
        assert_eq!(
            format!("{case:?}"),
            "TensorCase { dtype: i16, shape: [2], strides: [0], offset: 0, storage: [0x0000 = 0] }"
        );
        assert_eq!(failure.signature, "write into an overlapping view accepted");
    }
}
