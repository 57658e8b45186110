//! What a safe call returns can be used: reading any result of the api family's tensor calls with two more safe
//! calls (`f_contiguous`, then `f_copy_data_u8` of its numel) never crashes the process. The per-function
//! properties judge each result without reading what lies outside its storage; this one reads it, as a user would,
//! so that an invalid result shows its consequence: a `crash: killed by SIGSEGV` counterexample, recorded and
//! shrunk by the harness's worker.
//!
//! Invariant: the verdict does not depend on the heap's layout. A result that reaches outside its storage by less
//! than [`FAULT_DISTANCE`] bytes may land on mapped memory or not, so it is not read (a reject, reported by its
//! function's own property as a view outside its storage); one that reaches at least that far addresses memory no
//! user-space process has, so reading it faults on every run and its shrunk case replays. A result of more than
//! `MAX_API_BYTES` is not read.

use std::panic::{catch_unwind, AssertUnwindSafe};

use conform_generators::api::MAX_API_BYTES;
use conform_generators::{arb_api_any, ApiCase, ApiFn};
use conform_judge::{CheckError, Verdict};
use tch::Tensor;

use super::call::{api_kind, tensor_bytes, ApiOp, Args, Produced};
use super::judge::{reach, Span};
use super::{prepare, FAMILY};
use crate::property::Property;

/// A read this far (in bytes) outside a storage faults on every 64-bit Linux: past any user address space (47 to
/// 56 bits) from a user pointer, or into the kernel half below one.
pub const FAULT_DISTANCE: i128 = 1 << 57;

/// The functions whose results are tensors.
pub fn tensor_functions() -> Vec<ApiFn> {
    ApiFn::ALL.into_iter().filter(|f| !matches!(f, ApiFn::CopyData | ApiFn::CopyDataU8)).collect()
}

/// Every tensor a safe call returns can be read by further safe calls without a crash.
pub fn results_read_without_crash() -> Property {
    let op = ApiOp::tch();
    Property::new(
        FAMILY,
        "results_read_without_crash",
        "whatever tensor a safe f_* call returns can be read back with f_contiguous and f_copy_data_u8 without a crash",
    )
    .cases(|max_numel| arb_api_any(&tensor_functions(), max_numel))
    .check(move |case: &ApiCase| read_back(case, &op))
}

/// Makes the call of `case` with `op` and, when it gives a tensor, reads all of it (see the module doc).
pub fn read_back(case: &ApiCase, op: &ApiOp) -> Verdict {
    let (input, data, data_len) = prepare(case)?;
    let args = Args { input: input.as_ref().map(|i| &i.tensor), data: &data[..data_len] };
    let Ok(Ok(Produced::Tensor(t))) = catch_unwind(AssertUnwindSafe(|| op.call(case.call(), args))) else {
        // An Err, a panic or a copy: the function's own property judges those.
        return Ok(());
    };
    if let Some((numel, element)) = read_plan(case.function(), &t, input.as_ref().map(|i| i.span))? {
        // Ok or Err: either is fine. Only a crash (which ends this process) fails the property.
        let _ = tensor_bytes(&t, numel, element);
    }
    Ok(())
}

/// Whether `read_back` reads `t`, the result of `function` on an input lying in `span`: `Some((numel, element
/// size))` to read it, `None` when it is too large, a reject when it reaches outside its storage by less than
/// [`FAULT_DISTANCE`].
pub fn read_plan(function: ApiFn, t: &Tensor, span: Option<Span>) -> Result<Option<(usize, usize)>, CheckError> {
    let Ok(kind) = t.f_kind() else { return Ok(None) };
    let element = api_kind(kind).size_bytes();
    let (size, stride, ptr) = (t.size(), t.stride(), t.data_ptr() as usize);
    let numel = size.iter().fold(1i128, |n, &s| n.saturating_mul(s.max(0) as i128));
    if numel * element as i128 > MAX_API_BYTES as i128 {
        return Ok(None);
    }
    let span = span.filter(|s| function.is_view() || s.holds(ptr));
    if let (Some(span), true) = (span, numel > 0) {
        let (first, end) = reach(&size, &stride, ptr, element, span);
        let outside = (-first).max(end - span.bytes as i128);
        if outside > 0 && outside < FAULT_DISTANCE {
            return Err(CheckError::Reject(format!(
                "{function} returned a tensor reaching less than 2^57 bytes outside its storage: whether reading it \
                 faults depends on the heap, so it is not read"
            )));
        }
    }
    Ok(Some((numel as usize, element)))
}
