//! The `api` family: tch's safe, fallible `f_*` functions given hostile arguments (see
//! `conform_generators::api`) must return `Err` or a valid result, and never abort, segfault, hang or allocate
//! without bound. A safe Rust function has no precondition a caller can break.
//!
//! One property per function, so that a crash (whose signature names only the signal) is tied to the function that
//! caused it. Each judges one call ([`err_or_valid`]):
//!
//! - **Never a panic**: a fallible `f_*` function reports a bad argument as `Err`.
//! - **`Err` only where the documentation allows it**: arguments PyTorch documents as valid (see
//!   [`judge::must_succeed`], conservative) must give a result.
//! - **A valid tensor**: a known kind, no negative size, a numel that fits an i64, and — for a view, or any result
//!   that lies in its input's storage — every byte it addresses inside that storage; then the kind and shape the
//!   documentation gives ([`judge::expected_shape`]), and, where the elements are cheap to know, the elements:
//!   `f_view`, `f_reshape`, `f_flatten`, `f_unsqueeze`, `f_squeeze_dim` keep the input's row-major elements,
//!   `f_zeros` is zero, `f_from_data_size` holds its data, which must cover its sizes (it must not read past its
//!   slice).
//! - **Copies stay in their buffer**: `f_copy_data` and `f_copy_data_u8` copy the tensor's first `numel` elements
//!   and nothing else, and refuse a `numel` beyond the tensor.
//!
//! - **Results can be used** ([`read::results_read_without_crash`]): reading whatever tensor a call returns, with
//!   two more safe calls, never crashes.
//!
//! Crashes and hangs need no code here: each case runs in a worker process, and the harness records a worker's
//! death as a `crash: killed by SIG…` or `timeout: …` counterexample and shrinks it. The results of views are never
//! read before their bounds are checked, and a result is read only when it has at most `MAX_API_BYTES` bytes.
//!
//! `unsafe fn`s (`f_from_blob`) are out of scope: calling one needs `unsafe` outside [`crate::view`], and an abort
//! cannot be tallied from inside the process it kills.

pub mod call;
pub mod judge;
pub mod read;
#[cfg(test)]
mod tests;

use std::panic::{catch_unwind, AssertUnwindSafe};

use conform_generators::api::{contiguous_bytes, MAX_API_BYTES};
use conform_generators::{arb_api_case, ApiCall, ApiCase, ApiFn, ApiKind, Dtype};
use conform_judge::{one_line, CheckError, Tally, Verdict};
use tch::{TchError, Tensor};

use crate::convert::tch_fail;
use crate::families::Family;
use crate::property::Property;
use call::{api_kind, canary, data_buffer, make_input, tensor_bytes, ApiOp, Args, Input, Produced, DATA_CANARY};
use judge::{expected_shape, layout_problem, must_succeed};

pub const FAMILY: Family = Family::new(
    "api",
    "tch's safe f_* functions (views, reshapes, constructors, copies) given hostile sizes, strides, offsets, dims, \
     kinds and buffers return Err or a valid result, and succeed where the arguments are valid; never a crash",
);

/// Every api property, in report order.
pub fn properties() -> Vec<Property> {
    vec![
        as_strided_err_or_valid(),
        view_err_or_valid(),
        reshape_err_or_valid(),
        internal_reshape_alias_err_or_valid(),
        expand_err_or_valid(),
        narrow_err_or_valid(),
        select_err_or_valid(),
        slice_err_or_valid(),
        unfold_err_or_valid(),
        permute_err_or_valid(),
        transpose_err_or_valid(),
        flatten_err_or_valid(),
        unsqueeze_err_or_valid(),
        squeeze_dim_err_or_valid(),
        index_select_err_or_valid(),
        to_kind_err_or_valid(),
        zeros_err_or_zeros(),
        empty_strided_err_or_valid(),
        from_data_size_err_or_copies_its_data(),
        copy_data_err_or_copies_elements(),
        copy_data_u8_err_or_copies_elements(),
        read::results_read_without_crash(),
    ]
}

/// The property of `function`: its cases, judged by [`err_or_valid`] with tch's own call.
fn property(function: ApiFn, name: &'static str, doc: &'static str) -> Property {
    let op = ApiOp::tch();
    Property::new(FAMILY, name, doc).cases(move |max_numel| arb_api_case(function, max_numel)).tallied(
        move |case: &ApiCase, tally| {
            if case.function() != function {
                let why = format!("a {} case, but this property calls {function}", case.function());
                return Err(CheckError::Reject(why));
            }
            err_or_valid(case, &op, Some(tally))
        },
    )
}

/// `f_as_strided` returns Err or a view inside its input's storage with the size and stride asked for.
pub fn as_strided_err_or_valid() -> Property {
    property(
        ApiFn::AsStrided,
        "as_strided_err_or_valid",
        "f_as_strided returns Err or a view inside its input's storage with the size and stride asked for",
    )
}

/// `f_view` returns Err or a view of the input's elements in the shape asked for.
pub fn view_err_or_valid() -> Property {
    property(ApiFn::View, "view_err_or_valid", "f_view returns Err or a view of the input's elements in the shape asked for")
}

/// `f_reshape` returns Err or the input's elements in the shape asked for.
pub fn reshape_err_or_valid() -> Property {
    property(ApiFn::Reshape, "reshape_err_or_valid", "f_reshape returns Err or the input's elements in the shape asked for")
}

/// `f_internal_reshape_alias` (safe in tch, unchecked in libtorch) returns Err or a view inside its storage.
pub fn internal_reshape_alias_err_or_valid() -> Property {
    property(
        ApiFn::InternalReshapeAlias,
        "internal_reshape_alias_err_or_valid",
        "f_internal_reshape_alias, a safe function in tch, returns Err or a view inside its input's storage",
    )
}

/// `f_expand` returns Err or a view inside its input's storage in the shape asked for.
pub fn expand_err_or_valid() -> Property {
    property(ApiFn::Expand, "expand_err_or_valid", "f_expand returns Err or a view inside its input's storage in the shape asked for")
}

/// `f_narrow` returns Err, or a view inside its input's storage, and succeeds on a documented range.
pub fn narrow_err_or_valid() -> Property {
    property(ApiFn::Narrow, "narrow_err_or_valid", "f_narrow returns Err or a view inside its input's storage, and succeeds in range")
}

/// `f_select` returns Err, or a view inside its input's storage, and succeeds on an index in range.
pub fn select_err_or_valid() -> Property {
    property(ApiFn::Select, "select_err_or_valid", "f_select returns Err or a view inside its input's storage, and succeeds in range")
}

/// `f_slice` returns Err or a view inside its input's storage of the documented length.
pub fn slice_err_or_valid() -> Property {
    property(ApiFn::Slice, "slice_err_or_valid", "f_slice returns Err or a view inside its input's storage of the documented length")
}

/// `f_unfold` returns Err or a view inside its input's storage of the documented shape.
pub fn unfold_err_or_valid() -> Property {
    property(ApiFn::Unfold, "unfold_err_or_valid", "f_unfold returns Err or a view inside its input's storage of the documented shape")
}

/// `f_permute` returns Err or a view inside its input's storage, and succeeds on a permutation.
pub fn permute_err_or_valid() -> Property {
    property(ApiFn::Permute, "permute_err_or_valid", "f_permute returns Err or a view inside its input's storage, and succeeds on a permutation")
}

/// `f_transpose` returns Err or a view inside its input's storage, and succeeds on dims in range.
pub fn transpose_err_or_valid() -> Property {
    property(ApiFn::Transpose, "transpose_err_or_valid", "f_transpose returns Err or a view inside its input's storage, and succeeds in range")
}

/// `f_flatten` returns Err or the input's elements in the documented shape.
pub fn flatten_err_or_valid() -> Property {
    property(ApiFn::Flatten, "flatten_err_or_valid", "f_flatten returns Err or the input's elements in the documented shape")
}

/// `f_unsqueeze` returns Err or a view of the input's elements with the new dimension.
pub fn unsqueeze_err_or_valid() -> Property {
    property(ApiFn::Unsqueeze, "unsqueeze_err_or_valid", "f_unsqueeze returns Err or a view of the input's elements with the new dimension")
}

/// `f_squeeze_dim` returns Err or a view of the input's elements without that dimension where it is 1.
pub fn squeeze_dim_err_or_valid() -> Property {
    property(ApiFn::SqueezeDim, "squeeze_dim_err_or_valid", "f_squeeze_dim returns Err or a view of the input's elements, squeezed where the side is 1")
}

/// `f_index_select` returns Err or a tensor of the documented shape, and refuses indices out of range.
pub fn index_select_err_or_valid() -> Property {
    property(ApiFn::IndexSelect, "index_select_err_or_valid", "f_index_select returns Err or a tensor of the documented shape, and succeeds on indices in range")
}

/// `f_to_kind` returns Err or a tensor of the kind asked for and the input's shape.
pub fn to_kind_err_or_valid() -> Property {
    property(ApiFn::ToKind, "to_kind_err_or_valid", "f_to_kind returns Err or a tensor of the kind asked for and the input's shape, into every tch kind")
}

/// `f_zeros` returns Err or zeros of the size and kind asked for; it refuses overflowing sizes.
pub fn zeros_err_or_zeros() -> Property {
    property(ApiFn::Zeros, "zeros_err_or_zeros", "f_zeros returns Err (overflowing or negative sizes) or zeros of the size and kind asked for")
}

/// `f_empty_strided` returns Err or a tensor of the size, stride and kind asked for.
pub fn empty_strided_err_or_valid() -> Property {
    property(ApiFn::EmptyStrided, "empty_strided_err_or_valid", "f_empty_strided returns Err or a tensor of the size, stride and kind asked for")
}

/// `f_from_data_size` returns Err or a tensor holding its data, which must cover its sizes: never a read past it.
pub fn from_data_size_err_or_copies_its_data() -> Property {
    property(
        ApiFn::FromDataSize,
        "from_data_size_err_or_copies_its_data",
        "f_from_data_size returns Err or a tensor holding its data, and refuses data shorter than its sizes say",
    )
}

/// `f_copy_data` returns Err or copies exactly the tensor's first `numel` elements into its destination.
pub fn copy_data_err_or_copies_elements() -> Property {
    property(
        ApiFn::CopyData,
        "copy_data_err_or_copies_elements",
        "f_copy_data returns Err or copies exactly the tensor's first numel elements, never past them or its slice",
    )
}

/// `f_copy_data_u8` returns Err or copies exactly the tensor's first `numel` elements into its destination.
pub fn copy_data_u8_err_or_copies_elements() -> Property {
    property(
        ApiFn::CopyDataU8,
        "copy_data_u8_err_or_copies_elements",
        "f_copy_data_u8 returns Err or copies exactly the tensor's first numel elements, never past them or its slice",
    )
}

/// A libtorch error as a tally key: its first line without libtorch's prefix, numbers as `N`, lists as `[…]`,
/// parentheses as `(…)`, up to its first comma, so that one kind of refusal is one key.
pub fn refusal(error: &TchError) -> String {
    let text = error.to_string();
    let line = one_line(&text);
    let line = line.strip_prefix("Internal torch error: ").unwrap_or(line);
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            while chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                chars.next();
            }
            out.push('N');
        } else {
            out.push(c);
        }
    }
    let out = collapse(&collapse(&out, '[', ']', "[…]"), '(', ')', "(…)");
    let out = out.split(", ").next().unwrap_or_default();
    out.chars().take(100).collect()
}

/// `text` with every `open … close` span (not nested) replaced by `with`.
fn collapse(text: &str, open: char, close: char, with: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(open) {
        out.push_str(&rest[..at]);
        match rest[at..].find(close) {
            Some(end) => {
                out.push_str(with);
                rest = &rest[at + end + close.len_utf8()..];
            }
            None => break,
        }
    }
    out.push_str(rest);
    out
}

fn fail(signature: String, message: String) -> CheckError {
    CheckError::fail(signature, message)
}

/// What a call of `case` needs besides its arguments: the input tensor (for a method) and the data buffer of
/// `f_from_data_size` with its length (the buffer goes on past it with a canary; see [`call::data_buffer`]).
pub(crate) fn prepare(case: &ApiCase) -> Result<(Option<Input>, Vec<u8>, usize), CheckError> {
    let input = case.input().map(make_input).transpose().map_err(|e| tch_fail("making the input tensor", e))?;
    Ok(match case.call() {
        ApiCall::FromDataSize { data_len, size, kind } => {
            let data_len = *data_len as usize;
            (input, data_buffer(data_len, contiguous_bytes(size, *kind), *kind), data_len)
        }
        _ => (input, Vec::new(), 0),
    })
}

/// Judges one call of `case` made by `op` (see the module doc); `tally` hears what each call returned.
pub fn err_or_valid(case: &ApiCase, op: &ApiOp, tally: Option<&Tally>) -> Verdict {
    let name = case.function().name();
    let note = |key: String| {
        if let Some(t) = tally {
            t.add(key);
        }
    };
    let (input, data, data_len) = prepare(case)?;
    let args = Args { input: input.as_ref().map(|i| &i.tensor), data: &data[..data_len] };
    let result = catch_unwind(AssertUnwindSafe(|| op.call(case.call(), args))).map_err(|panic| {
        let text = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a non-string panic".into());
        note("panicked".into());
        match overflowing_byte_count(case) {
            Some(bytes) => fail(
                overflow_signature(name),
                format!("{name} panicked instead of returning Err ({bytes}): {}", one_line(&text)),
            ),
            None => {
                fail(format!("{name} panicked"), format!("{name} panicked instead of returning Err: {}", one_line(&text)))
            }
        }
    })?;
    match result {
        Err(error) => {
            note(format!("Err: {}", refusal(&error)));
            if must_succeed(case) {
                let first = one_line(&error.to_string()).to_string();
                return Err(fail(
                    format!("{name} refused valid arguments"),
                    format!("{name} returned Err on arguments its documentation accepts: {first}"),
                ));
            }
            Ok(())
        }
        Ok(Produced::Tensor(t)) => {
            note("Ok: a tensor".into());
            valid_tensor(case, &t, input.as_ref(), &data, data_len)
        }
        Ok(Produced::Copied(bytes)) => {
            if let (ApiCall::CopyData { element: Dtype::Bf16, .. }, Some(i)) = (case.call(), case.input()) {
                if i.kind != ApiKind::Bf16 {
                    note(format!("Ok: copy_data::<bf16> from a {} tensor", i.kind));
                }
            }
            note("Ok: copied".into());
            copied_exactly(case, &bytes)
        }
    }
}

/// The result tensor `t` of `case` is valid (see the module doc).
fn valid_tensor(case: &ApiCase, t: &Tensor, input: Option<&Input>, data: &[u8], data_len: usize) -> Verdict {
    let function = case.function();
    let name = function.name();
    let kind = t.f_kind().map_err(|e| fail(format!("{name} returned a tensor of no known kind"), format!("{name}: {e}")))?;
    let kind = api_kind(kind);
    let (size, stride, ptr) = (t.size(), t.stride(), t.data_ptr() as usize);
    let element = kind.size_bytes();
    // A view must lie in its input's storage; any other result that starts inside it is an alias and must too.
    let span = input.map(|i| i.span).filter(|span| function.is_view() || span.holds(ptr));
    if let Some((what, message)) = layout_problem(&size, &stride, ptr, element, span) {
        return Err(fail(format!("{name} returned {what}"), format!("{name} returned {what}: {message}")));
    }
    let wanted_kind = match case.call() {
        ApiCall::ToKind { kind } | ApiCall::Zeros { kind, .. } | ApiCall::EmptyStrided { kind, .. } => *kind,
        ApiCall::FromDataSize { kind, .. } => *kind,
        _ => case.input().expect("a method case has an input").kind,
    };
    if kind != wanted_kind {
        return Err(fail(
            format!("{name} returned the wrong kind"),
            format!("{name} returned a tensor of kind {kind} but the documentation gives {wanted_kind}"),
        ));
    }
    if let Some(expected) = expected_shape(case) {
        if size != expected {
            return Err(fail(
                format!("{name} returned the wrong shape"),
                format!("{name} returned size {size:?} but the documentation gives {expected:?}"),
            ));
        }
    }
    let wanted_stride = match case.call() {
        ApiCall::AsStrided { stride, .. } | ApiCall::EmptyStrided { stride, .. } => Some(stride),
        _ => None,
    };
    // Strides of a side of 0 or 1 mean nothing (no second element along it), and a tensor without elements has
    // no meaningful stride at all: libtorch may normalise those, so only the others must be what was asked for.
    let meaningful = |s: &[i64]| -> Vec<Option<i64>> {
        let empty = size.contains(&0);
        s.iter().zip(&size).map(|(&t, &n)| (!empty && n > 1).then_some(t)).collect()
    };
    if let Some(wanted) = wanted_stride.filter(|w| meaningful(w) != meaningful(&stride)) {
        return Err(fail(
            format!("{name} returned the wrong stride"),
            format!("{name} returned stride {stride:?} but {wanted:?} was asked for"),
        ));
    }
    let numel: u128 = size.iter().map(|&s| s as u128).product();
    if numel * element as u128 > MAX_API_BYTES as u128 {
        return Ok(());
    }
    let bytes = tensor_bytes(t, numel as usize, element).map_err(|e| tch_fail(&format!("reading the result of {name}"), e))?;
    let expected: Option<(Vec<u8>, &str)> = match case.call() {
        ApiCall::View { .. }
        | ApiCall::Reshape { .. }
        | ApiCall::Flatten { .. }
        | ApiCall::Unsqueeze { .. }
        | ApiCall::SqueezeDim { .. } => {
            Some((case.input().expect("a method case has an input").bytes(), "the input's elements in row-major order"))
        }
        ApiCall::Zeros { .. } => Some((vec![0; bytes.len()], "zeros")),
        ApiCall::FromDataSize { size, kind, .. } => {
            let needed = contiguous_bytes(size, *kind).expect("a tensor was made, so its sizes fit") as usize;
            if data_len < needed {
                let past = bytes[data_len.min(bytes.len())..].iter().filter(|&&b| b == DATA_CANARY).count();
                return Err(fail(
                    format!("{name} read past its data"),
                    format!(
                        "{name} accepted {data_len} bytes of data for size {size:?} of {kind}, which needs {needed}: \
                         the tensor holds the {} bytes after the slice ({past} of them the canary {DATA_CANARY:#04x})",
                        needed - data_len
                    ),
                ));
            }
            Some((data[..needed].to_vec(), "its data"))
        }
        _ => None,
    };
    if let Some((want, what)) = expected {
        if let Some(i) = (0..want.len().max(bytes.len())).find(|&i| want.get(i) != bytes.get(i)) {
            let show = |b: Option<&u8>| b.map_or("none".to_string(), |b| format!("{b:#04x}"));
            return Err(fail(
                format!("{name} returned the wrong elements"),
                format!(
                    "{name}: byte {i} of the result is {} but {what} give {} ({} bytes vs {})",
                    show(bytes.get(i)),
                    show(want.get(i)),
                    bytes.len(),
                    want.len()
                ),
            ));
        }
    }
    Ok(())
}

/// A `f_copy_data*` call that returned `Ok` copied exactly the tensor's first `numel` elements (`bytes` is the
/// whole destination buffer, guard included).
fn copied_exactly(case: &ApiCase, bytes: &[u8]) -> Verdict {
    let name = case.function().name();
    let input = case.input().expect("a copy is a method");
    let (dst_element, dst_len, numel) = match *case.call() {
        ApiCall::CopyData { element, dst_len, numel } => (element.size_bytes(), dst_len, numel),
        ApiCall::CopyDataU8 { dst_len, numel } => (1, dst_len, numel),
        _ => unreachable!("only copies give bytes"),
    };
    let fill = canary(matches!(case.call(), ApiCall::CopyData { element: Dtype::Bool, .. }));
    if let Some(bytes) = overflowing_byte_count(case) {
        return Err(fail(
            overflow_signature(name),
            format!("{name} returned Ok for numel {numel} ({bytes}) from a tensor of {} elements", input.numel()),
        ));
    }
    if numel > input.numel() as u64 {
        return Err(fail(
            format!("{name} accepted numel beyond the tensor"),
            format!("{name} returned Ok for numel {numel} from a tensor of {} elements", input.numel()),
        ));
    }
    let copied = numel as usize * input.kind.size_bytes();
    let room = dst_len as usize * dst_element;
    if copied > room {
        return Err(fail(
            format!("{name} copied past its slice"),
            format!("{name} returned Ok copying {copied} bytes into a slice of {room}"),
        ));
    }
    let source = input.bytes();
    if let Some(i) = (0..copied).find(|&i| bytes[i] != source[i]) {
        return Err(fail(
            format!("{name} copied the wrong elements"),
            format!("{name}: byte {i} of dst is {:#04x} but the tensor's is {:#04x}", bytes[i], source[i]),
        ));
    }
    if let Some(i) = (copied..bytes.len()).find(|&i| bytes[i] != fill) {
        let place = if i < room { "inside the slice" } else { "past the slice" };
        return Err(fail(
            format!("{name} wrote past the elements it copied"),
            format!("{name}: byte {i} of dst ({place} of {room} bytes) is {:#04x} after copying {copied} bytes", bytes[i]),
        ));
    }
    Ok(())
}

/// For a copy whose `numel` times the tensor's element size overflows `usize`, what the byte count is. tch computes
/// that product unchecked before any check: with overflow checks (debug builds) it panics, without them (release) it
/// wraps to a small count that passes every length check. One signature for both, so a known deviation recorded in
/// one build profile is the same deviation in the other.
fn overflowing_byte_count(case: &ApiCase) -> Option<String> {
    let (numel, size) = match *case.call() {
        ApiCall::CopyData { element, numel, .. } => (numel, element.size_bytes()),
        ApiCall::CopyDataU8 { numel, .. } => (numel, case.input()?.kind.size_bytes()),
        _ => return None,
    };
    let fits = usize::try_from(numel).ok().and_then(|n| n.checked_mul(size)).is_some();
    (!fits).then(|| format!("numel × {size} bytes overflows usize"))
}

fn overflow_signature(name: &str) -> String {
    format!("{name} mishandled a numel whose byte count overflows usize")
}
