//! What the `api` family expects, computed from the case alone (no libtorch): which arguments are certainly valid,
//! so that the call must succeed ([`must_succeed`]), and whether a tensor's size, stride and first-element address
//! are consistent with its numel and with the storage it must lie in ([`layout_problem`]).
//!
//! Invariant: [`must_succeed`] is conservative — it claims success only for arguments that PyTorch documents as
//! valid, each integer within ±2^31 — so a refusal it reports is a refusal of a plain, documented call; everything
//! else may be refused. [`layout_problem`] uses i128 arithmetic, saturating where a sum of
//! many dimensions could leave it, and never overflows.

use conform_generators::api::{contiguous_bytes, strided_bytes, MAX_API_BYTES};
use conform_generators::{ApiCall, ApiCase, ApiKind, Dtype, InputLayout};

/// Integers the oracle vouches for (larger ones may be refused for reasons of their own, such as SymInt's range).
const PLAIN: i64 = 1 << 31;

fn plain(v: i64) -> bool {
    (-PLAIN..=PLAIN).contains(&v)
}

/// `dim` wrapped into `0..rank` as PyTorch wraps it (a 0-d tensor accepts -1 and 0 where `scalar_ok`).
fn wrap(dim: i64, rank: usize, scalar_ok: bool) -> Option<usize> {
    let r = if rank == 0 && scalar_ok { 1 } else { rank as i64 };
    if r == 0 || !(-r..r).contains(&dim) {
        return None;
    }
    Some(if dim < 0 { (dim + r) as usize } else { dim as usize })
}

/// The product of `size` as libtorch computes a numel (left to right, in u64, refusing overflow), if it fits.
fn numel_of(size: &[i64]) -> Option<u64> {
    let n = size.iter().try_fold(1u64, |n, &s| if s < 0 { None } else { n.checked_mul(s as u64) })?;
    (n <= i64::MAX as u64).then_some(n)
}

/// Whether PyTorch's documentation says the call must succeed (see the module invariant).
pub fn must_succeed(case: &ApiCase) -> bool {
    let call = case.call();
    let input = case.input();
    let shape: Vec<i64> = input.map_or_else(Vec::new, |i| i.shape.iter().map(|&s| s as i64).collect());
    let rank = shape.len();
    let numel = input.map_or(0, |i| i.numel()) as i64;
    let side = |dim: i64, scalar_ok: bool| wrap(dim, rank, scalar_ok).map(|d| shape.get(d).copied().unwrap_or(1));
    let small = |v: &[i64]| v.iter().all(|&x| plain(x));
    match call {
        // A layout over the input's storage (at the input's own offset unless one is given) that stays inside it.
        ApiCall::AsStrided { size, stride, .. } | ApiCall::InternalReshapeAlias { size, stride } => {
            let input = input.expect("a method case has an input");
            let own = if input.layout == InputLayout::Offset { 1 } else { 0 };
            let offset = match call {
                ApiCall::AsStrided { storage_offset: Some(offset), .. } => *offset,
                _ => own,
            };
            size.len() == stride.len()
                && small(size)
                && small(stride)
                && plain(offset)
                && offset >= 0
                && size.iter().all(|&s| s >= 0)
                && stride.iter().all(|&s| s >= 0)
                && numel_of(size).is_some()
                && (size.contains(&0) || {
                    let last: i128 = size.iter().zip(stride).map(|(&s, &t)| (s as i128 - 1) * t as i128).sum();
                    offset as i128 + last < input.storage_len() as i128
                })
        }
        ApiCall::View { size } | ApiCall::Reshape { size } => {
            let viewable = !matches!(call, ApiCall::View { .. })
                || input.is_some_and(|i| i.layout != InputLayout::Transposed);
            let inferred = size.iter().filter(|&&s| s == -1).count();
            let known: Vec<i64> = size.iter().copied().filter(|&s| s != -1).collect();
            let fits = match (inferred, numel_of(&known)) {
                (0, Some(p)) => p as i64 == numel,
                (1, Some(p)) => p > 0 && numel % p as i64 == 0,
                _ => false,
            };
            viewable && small(size) && fits
        }
        ApiCall::Expand { size, .. } => {
            size.len() >= rank
                && small(size)
                && numel_of(&size.iter().map(|&s| s.max(0)).collect::<Vec<_>>()).is_some()
                && size.iter().enumerate().all(|(i, &s)| match i.checked_sub(size.len() - rank) {
                    None => s >= 0,
                    Some(d) => s == -1 || s == shape[d] || (shape[d] == 1 && s >= 0),
                })
        }
        ApiCall::Narrow { dim, start, length } => match side(*dim, false) {
            Some(n) => {
                let start = if *start < 0 { start + n } else { *start };
                plain(*length) && (0..=n).contains(&start) && *length >= 0 && start + length <= n
            }
            None => false,
        },
        ApiCall::Select { dim, index } => side(*dim, false).is_some_and(|n| (-n..n).contains(index)),
        ApiCall::Slice { dim, start, end, step } => {
            side(*dim, false).is_some() && small(&[start.unwrap_or(0), end.unwrap_or(0)]) && (1..=PLAIN).contains(step)
        }
        ApiCall::Unfold { dimension, size, step } => {
            side(*dimension, true).is_some_and(|n| (0..=n).contains(size)) && (1..=PLAIN).contains(step)
        }
        ApiCall::Permute { dims } => {
            let mut seen = vec![false; rank];
            dims.len() == rank
                && dims.iter().all(|&d| match wrap(d, rank, false) {
                    Some(w) if !seen[w] => {
                        seen[w] = true;
                        true
                    }
                    _ => false,
                })
        }
        ApiCall::Transpose { dim0, dim1 } => wrap(*dim0, rank, true).is_some() && wrap(*dim1, rank, true).is_some(),
        ApiCall::Flatten { start_dim, end_dim } => {
            matches!((wrap(*start_dim, rank, true), wrap(*end_dim, rank, true)), (Some(s), Some(e)) if s <= e)
        }
        ApiCall::Unsqueeze { dim } => wrap(*dim, rank + 1, false).is_some(),
        ApiCall::SqueezeDim { dim } => wrap(*dim, rank, true).is_some(),
        ApiCall::IndexSelect { dim, index, index_kind } => {
            matches!(index_kind, ApiKind::I64 | ApiKind::I32)
                && rank > 0
                && side(*dim, false).is_some_and(|n| index.iter().all(|i| (0..n).contains(i)))
        }
        ApiCall::ToKind { kind } => !kind.is_quantized(),
        ApiCall::Zeros { size, kind } => {
            !kind.is_quantized() && small(size) && contiguous_bytes(size, *kind).is_some_and(|b| b <= MAX_API_BYTES as u128)
        }
        ApiCall::EmptyStrided { size, stride, kind } => {
            !kind.is_quantized()
                && small(size)
                && small(stride)
                && stride.iter().all(|&s| s >= 0)
                && strided_bytes(size, stride, *kind).is_some_and(|b| b <= MAX_API_BYTES as u128)
        }
        ApiCall::FromDataSize { data_len, size, kind } => {
            !kind.is_quantized()
                && small(size)
                && contiguous_bytes(size, *kind).is_some_and(|b| b <= MAX_API_BYTES as u128 && *data_len as u128 >= b)
        }
        // tch tags half::bf16 as Kind::Half (a known tch bug the dtype family records): no claim for bf16.
        ApiCall::CopyData { element, dst_len, numel: n } => {
            *element != Dtype::Bf16
                && input.is_some_and(|i| i.kind == ApiKind::of(*element))
                && *n <= *dst_len
                && *n <= numel as u64
        }
        ApiCall::CopyDataU8 { dst_len, numel: n } => {
            let size = input.map_or(1, |i| i.kind.size_bytes()) as u128;
            *n as u128 * size <= *dst_len as u128 && *n <= numel as u64
        }
    }
}

/// The shape PyTorch documents for the call's result, when the case determines one (`None`: arguments the
/// documentation gives no result for, which the call must refuse, or a copy, which makes no tensor).
pub fn expected_shape(case: &ApiCase) -> Option<Vec<i64>> {
    let shape: Vec<i64> = case.input().map_or_else(Vec::new, |i| i.shape.iter().map(|&s| s as i64).collect());
    let rank = shape.len();
    let numel = case.input().map_or(0, |i| i.numel()) as i128;
    let at = |dim: i64| wrap(dim, rank, false);
    let mut out = shape.clone();
    match case.call() {
        ApiCall::AsStrided { size, .. } | ApiCall::InternalReshapeAlias { size, .. } => Some(size.clone()),
        ApiCall::View { size } | ApiCall::Reshape { size } => {
            let known: i128 = size.iter().filter(|&&s| s != -1).map(|&s| s as i128).product();
            match size.iter().filter(|&&s| s == -1).count() {
                0 => Some(size.clone()),
                1 if known > 0 && numel % known == 0 => {
                    Some(size.iter().map(|&s| if s == -1 { (numel / known) as i64 } else { s }).collect())
                }
                _ => None,
            }
        }
        ApiCall::Expand { size, .. } => {
            let lead = size.len().checked_sub(rank)?;
            size.iter().enumerate().map(|(i, &s)| if s == -1 { i.checked_sub(lead).map(|d| shape[d]) } else { Some(s) }).collect()
        }
        ApiCall::Narrow { dim, length, .. } => {
            out[at(*dim)?] = *length;
            Some(out)
        }
        ApiCall::Select { dim, .. } => {
            out.remove(at(*dim)?);
            Some(out)
        }
        ApiCall::Slice { dim, start, end, step } => {
            let d = at(*dim)?;
            let n = shape[d] as i128;
            if *step <= 0 {
                return None;
            }
            let wrapped = |v: i128| if v < 0 { v + n } else { v };
            let first = wrapped(start.map_or(0, i128::from)).clamp(0, n);
            let last = wrapped(end.map_or(i64::MAX as i128, i128::from)).clamp(first, n);
            out[d] = ((last - first + *step as i128 - 1) / *step as i128) as i64;
            Some(out)
        }
        ApiCall::Unfold { dimension, size, step } => {
            if rank == 0 {
                return (wrap(*dimension, 0, true).is_some() && (0..=1).contains(size) && *step > 0).then(|| vec![*size]);
            }
            let d = at(*dimension)?;
            if *step <= 0 || !(0..=shape[d]).contains(size) {
                return None;
            }
            out[d] = (shape[d] - size) / step + 1;
            out.push(*size);
            Some(out)
        }
        ApiCall::Permute { dims } => dims.iter().map(|&d| at(d).map(|w| shape[w])).collect(),
        ApiCall::Transpose { dim0, dim1 } => {
            if rank > 0 {
                out.swap(at(*dim0)?, at(*dim1)?);
            }
            Some(out)
        }
        ApiCall::Flatten { start_dim, end_dim } => {
            if rank == 0 {
                return Some(vec![1]);
            }
            let (s, e) = (at(*start_dim)?, at(*end_dim)?);
            if s > e {
                return None;
            }
            let merged = shape[s..=e].iter().product();
            out.splice(s..=e, [merged]);
            Some(out)
        }
        ApiCall::Unsqueeze { dim } => {
            out.insert(wrap(*dim, rank + 1, false)?, 1);
            Some(out)
        }
        ApiCall::SqueezeDim { dim } => {
            if rank > 0 && shape[at(*dim)?] == 1 {
                out.remove(at(*dim)?);
            }
            Some(out)
        }
        ApiCall::IndexSelect { dim, index, .. } => {
            out[at(*dim)?] = index.len() as i64;
            Some(out)
        }
        ApiCall::ToKind { .. } => Some(out),
        ApiCall::Zeros { size, .. } | ApiCall::EmptyStrided { size, .. } | ApiCall::FromDataSize { size, .. } => {
            Some(size.clone())
        }
        ApiCall::CopyData { .. } | ApiCall::CopyDataU8 { .. } => None,
    }
}

/// The storage a tensor must lie in: the address of its first byte and its length in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub base: usize,
    pub bytes: usize,
}

impl Span {
    /// Whether `address` lies inside the storage.
    pub fn holds(&self, address: usize) -> bool {
        (self.base..self.base.saturating_add(self.bytes)).contains(&address)
    }
}

/// What is wrong with a tensor's layout: `(signature part, message)`, or `None` when it is consistent — no
/// negative size, a numel that fits an i64, and, when `span` is given and the tensor has elements, every byte it
/// addresses (from `ptr`, with `element` bytes per element) inside the span.
pub fn layout_problem(
    size: &[i64],
    stride: &[i64],
    ptr: usize,
    element: usize,
    span: Option<Span>,
) -> Option<(&'static str, String)> {
    if size.len() != stride.len() {
        return Some(("a size and stride of different ranks", format!("size {size:?} but stride {stride:?}")));
    }
    if let Some(d) = size.iter().position(|&s| s < 0) {
        return Some(("a negative size", format!("size[{d}] = {} in size {size:?}", size[d])));
    }
    let numel = size.iter().try_fold(1i128, |n, &s| n.checked_mul(s as i128).filter(|&m| m <= i64::MAX as i128));
    match numel {
        None if !size.contains(&0) => {
            return Some(("a numel that overflows", format!("size {size:?} has more than i64::MAX elements")))
        }
        Some(0) | None => return None,
        Some(_) => {}
    }
    let (first, end) = reach(size, stride, ptr, element, span?);
    if first < 0 || end > span?.bytes as i128 {
        return Some((
            "a view outside its storage",
            format!(
                "size {size:?}, stride {stride:?} address bytes {first}..{end} of a storage of {} bytes",
                span?.bytes
            ),
        ));
    }
    None
}

/// The bytes a tensor with elements addresses, `first..end`, relative to the start of `span` (negative: before
/// it). Saturating: a layout that reaches past i128 is outside any storage, and stays so.
pub fn reach(size: &[i64], stride: &[i64], ptr: usize, element: usize, span: Span) -> (i128, i128) {
    let (mut lo, mut hi) = (0i128, 0i128);
    for (&s, &t) in size.iter().zip(stride) {
        let reach = (s as i128 - 1) * t as i128;
        if reach < 0 {
            lo = lo.saturating_add(reach);
        } else {
            hi = hi.saturating_add(reach);
        }
    }
    let e = element as i128;
    let first = lo.saturating_mul(e).saturating_add(ptr as i128 - span.base as i128);
    let end = hi.saturating_add(1).saturating_mul(e).saturating_add(ptr as i128 - span.base as i128);
    (first, end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use conform_generators::ApiInput;

    fn on(shape: &[usize], layout: InputLayout, call: ApiCall) -> ApiCase {
        ApiCase::new(Some(ApiInput { kind: ApiKind::F32, shape: shape.to_vec(), layout }), call).unwrap()
    }

    fn c(shape: &[usize], call: ApiCall) -> ApiCase {
        on(shape, InputLayout::Contiguous, call)
    }

    #[test]
    fn documented_calls_must_succeed_and_hostile_ones_need_not() {
        let yes = [
            c(&[2, 3], ApiCall::Narrow { dim: 1, start: -3, length: 3 }),
            c(&[2, 3], ApiCall::Narrow { dim: -1, start: 3, length: 0 }),
            c(&[2, 3], ApiCall::Select { dim: 0, index: -2 }),
            c(&[2, 3], ApiCall::View { size: vec![3, -1] }),
            c(&[0], ApiCall::View { size: vec![0, 5] }),
            c(&[2, 3], ApiCall::AsStrided { size: vec![2], stride: vec![5], storage_offset: Some(0) }),
            on(&[2], InputLayout::Offset, ApiCall::AsStrided { size: vec![3], stride: vec![1], storage_offset: None }),
            c(&[1, 3], ApiCall::Expand { size: vec![4, 2, -1, 3], implicit: false }),
            c(&[], ApiCall::Unsqueeze { dim: -1 }),
            c(&[], ApiCall::Flatten { start_dim: 0, end_dim: -1 }),
            c(&[], ApiCall::Unfold { dimension: 0, size: 1, step: 1 }),
            c(&[2, 3], ApiCall::Permute { dims: vec![-1, 0] }),
            c(&[2, 3], ApiCall::IndexSelect { dim: 1, index: vec![2, 0, 2], index_kind: ApiKind::I32 }),
            c(&[4], ApiCall::CopyDataU8 { dst_len: 12, numel: 3 }),
        ];
        for case in yes {
            assert!(must_succeed(&case), "{case:?}");
        }
        let no = [
            c(&[2, 3], ApiCall::Narrow { dim: 1, start: -4, length: 0 }),
            c(&[2, 3], ApiCall::Narrow { dim: 1, start: 2, length: 2 }),
            c(&[2, 3], ApiCall::Select { dim: 2, index: 0 }),
            c(&[], ApiCall::Select { dim: 0, index: 0 }),
            c(&[2, 3], ApiCall::View { size: vec![-1, -1] }),
            c(&[0], ApiCall::View { size: vec![0, -1] }),
            on(&[2, 3], InputLayout::Transposed, ApiCall::View { size: vec![6] }),
            c(&[2, 3], ApiCall::AsStrided { size: vec![2], stride: vec![6], storage_offset: Some(0) }),
            on(&[2], InputLayout::Offset, ApiCall::AsStrided { size: vec![4], stride: vec![1], storage_offset: None }),
            c(&[2, 3], ApiCall::Expand { size: vec![3, 3], implicit: false }),
            c(&[2, 3], ApiCall::Permute { dims: vec![0, 0] }),
            c(&[2, 3], ApiCall::IndexSelect { dim: 1, index: vec![-1], index_kind: ApiKind::I64 }),
            c(&[2, 3], ApiCall::Slice { dim: 0, start: None, end: None, step: 0 }),
            c(&[4], ApiCall::CopyDataU8 { dst_len: 11, numel: 3 }),
            c(&[4], ApiCall::CopyData { element: Dtype::Bf16, dst_len: 4, numel: 4 }),
        ];
        for case in no {
            assert!(!must_succeed(&case), "{case:?}");
        }
        let data = |data_len| ApiCase::new(None, ApiCall::FromDataSize { data_len, size: vec![2], kind: ApiKind::F32 });
        assert!(must_succeed(&data(8).unwrap()) && !must_succeed(&data(7).unwrap()));
    }

    #[test]
    fn expected_shapes_follow_the_documentation() {
        let shape = |case: ApiCase| expected_shape(&case);
        assert_eq!(shape(c(&[2, 3], ApiCall::View { size: vec![-1, 2] })), Some(vec![3, 2]));
        assert_eq!(shape(c(&[2, 3], ApiCall::Narrow { dim: -1, start: 1, length: 2 })), Some(vec![2, 2]));
        assert_eq!(shape(c(&[2, 3], ApiCall::Select { dim: 1, index: 0 })), Some(vec![2]));
        let slice = |start, end, step| shape(c(&[5], ApiCall::Slice { dim: 0, start, end, step }));
        assert_eq!(slice(None, None, 2), Some(vec![3]));
        assert_eq!(slice(Some(-2), None, 1), Some(vec![2]));
        assert_eq!(slice(Some(i64::MIN), Some(i64::MAX), i64::MAX), Some(vec![1]));
        assert_eq!(slice(Some(4), Some(1), 1), Some(vec![0]));
        assert_eq!(shape(c(&[5, 2], ApiCall::Unfold { dimension: 0, size: 2, step: 2 })), Some(vec![2, 2, 2]));
        assert_eq!(shape(c(&[2, 3, 4], ApiCall::Flatten { start_dim: 1, end_dim: -1 })), Some(vec![2, 12]));
        assert_eq!(shape(c(&[], ApiCall::Flatten { start_dim: 0, end_dim: 0 })), Some(vec![1]));
        assert_eq!(shape(c(&[2, 3], ApiCall::Unsqueeze { dim: -1 })), Some(vec![2, 3, 1]));
        assert_eq!(shape(c(&[2, 1], ApiCall::SqueezeDim { dim: 1 })), Some(vec![2]));
        assert_eq!(shape(c(&[2, 3], ApiCall::SqueezeDim { dim: 1 })), Some(vec![2, 3]));
        assert_eq!(shape(c(&[1, 3], ApiCall::Expand { size: vec![2, 4, -1], implicit: false })), Some(vec![2, 4, 3]));
        assert_eq!(shape(c(&[1, 3], ApiCall::Expand { size: vec![-1, 1, 3], implicit: false })), None);
        assert_eq!(shape(c(&[1, 3], ApiCall::Expand { size: vec![2, 4, -1, -1], implicit: false })), Some(vec![2, 4, 1, 3]));
        assert_eq!(shape(c(&[2, 3], ApiCall::Permute { dims: vec![1, -2] })), Some(vec![3, 2]));
    }

    #[test]
    fn layouts_inside_their_storage_pass_and_one_byte_out_is_named() {
        let span = Span { base: 1000, bytes: 24 };
        assert_eq!(layout_problem(&[2, 3], &[3, 1], 1000, 4, Some(span)), None);
        assert_eq!(layout_problem(&[3], &[-2], 1016, 4, Some(span)), None);
        assert_eq!(layout_problem(&[0, i64::MAX], &[1, 1], 0, 4, Some(span)), None, "no element, nothing addressed");
        let (sig, msg) = layout_problem(&[7], &[1], 1000, 4, Some(span)).unwrap();
        assert_eq!(sig, "a view outside its storage");
        assert_eq!(msg, "size [7], stride [1] address bytes 0..28 of a storage of 24 bytes");
        assert_eq!(layout_problem(&[1], &[1], 996, 4, Some(span)).unwrap().0, "a view outside its storage");
        assert_eq!(layout_problem(&[2, -1], &[1, 1], 1000, 4, None).unwrap().0, "a negative size");
        assert_eq!(layout_problem(&[1 << 32, 1 << 32], &[0, 0], 1000, 4, None).unwrap().0, "a numel that overflows");
        assert_eq!(layout_problem(&[i64::MAX], &[i64::MAX], 1000, 8, Some(span)).unwrap().0, "a view outside its storage");
    }
}
