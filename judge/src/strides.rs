//! Stride arithmetic: what a view op must give for a layout — a view with an exactly predicted layout, a copy of
//! predicted elements, or an error — computed from the layout alone, never by asking libtorch. The aliasing
//! family pairs each oracle here with the libtorch op it predicts.
//!
//! Invariant: every function here is pure `Layout` arithmetic on a validated layout; an oracle returns `None` when
//! its op does not apply to the layout (a rank-0 layout has no dimension 0 to narrow), never a guess.

use conform_generators::Layout;

/// What the stride arithmetic says an op must give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// A view over the same storage with exactly this layout.
    View(Layout),
    /// A new tensor holding the elements at these storage positions (row-major), with this shape.
    Copy { shape: Vec<usize>, addresses: Vec<usize> },
    /// An error (a view that the layout makes impossible).
    Error,
}

/// The 1-D layout of flattening `layout` without copying, or `None` when its strides cannot be merged
/// (libtorch's `computeStride` rule: each non-unit dimension's stride equals the next one's stride times size).
pub fn flat_view(layout: &Layout) -> Option<Layout> {
    let numel = layout.numel()?;
    let live: Vec<usize> = (0..layout.rank()).filter(|&d| layout.shape[d] != 1).collect();
    if numel > 1 {
        for pair in live.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if layout.strides[a] != layout.strides[b] * layout.shape[b] as isize {
                return None;
            }
        }
    }
    let stride = live.last().map_or(1, |&d| layout.strides[d]);
    Some(Layout { shape: vec![numel], strides: vec![stride], offset: layout.offset })
}

/// An op that returns its input's view unchanged (`detach`, `as_strided` with the same layout, a no-op `to`).
pub fn same(l: &Layout) -> Option<Expect> {
    Some(Expect::View(l.clone()))
}

/// A row-major copy of every element `l` addresses.
pub fn copy_of(l: &Layout) -> Expect {
    Expect::Copy { shape: l.shape.clone(), addresses: l.addresses() }
}

/// `reshape([numel])`: the flat view where the strides merge, else a copy.
pub fn reshape_flat(l: &Layout) -> Option<Expect> {
    Some(
        flat_view(l).map_or_else(
            || Expect::Copy { shape: vec![l.numel().unwrap_or(0)], addresses: l.addresses() },
            Expect::View,
        ),
    )
}

/// `view([numel])`: the flat view where the strides merge, else an error.
pub fn view_flat(l: &Layout) -> Option<Expect> {
    Some(flat_view(l).map_or(Expect::Error, Expect::View))
}

/// `transpose(0, -1)`: the first and last dimensions swapped.
pub fn transpose_first_last(l: &Layout) -> Option<Expect> {
    let mut out = l.clone();
    let last = l.rank().checked_sub(1)?;
    out.shape.swap(0, last);
    out.strides.swap(0, last);
    Some(Expect::View(out))
}

/// `permute(reversed)`: every dimension in reverse order.
pub fn permute_reversed(l: &Layout) -> Option<Expect> {
    let mut out = l.clone();
    out.shape.reverse();
    out.strides.reverse();
    Some(Expect::View(out))
}

/// `narrow(0, n/2, n - n/2)`: the upper half of dimension 0, its start folded into the offset.
pub fn narrow_upper_half(l: &Layout) -> Option<Expect> {
    let n = *l.shape.first()?;
    let mut out = l.clone();
    out.shape[0] = n - n / 2;
    if n > 0 {
        out.offset = (l.offset as isize + (n / 2) as isize * l.strides[0]) as usize;
    }
    Some(Expect::View(out))
}

/// `slice(0, step 2)`: every other index of dimension 0, its stride doubled.
pub fn slice_step_two(l: &Layout) -> Option<Expect> {
    let n = *l.shape.first()?;
    let mut out = l.clone();
    out.shape[0] = n.div_ceil(2);
    // A stored case may give a size-1 dimension any stride; one that cannot double is not covered.
    out.strides[0] = out.strides[0].checked_mul(2)?;
    Some(Expect::View(out))
}

/// `select(0, 0)`: dimension 0 dropped at index 0 (no index 0 in an empty dimension).
pub fn select_first(l: &Layout) -> Option<Expect> {
    (*l.shape.first()? > 0).then(|| {
        Expect::View(Layout { shape: l.shape[1..].to_vec(), strides: l.strides[1..].to_vec(), offset: l.offset })
    })
}

/// `expand([2, ...])`: a new leading dimension of size 2 and stride 0.
pub fn expand_front(l: &Layout) -> Option<Expect> {
    let mut out = l.clone();
    out.shape.insert(0, 2);
    out.strides.insert(0, 0);
    Some(Expect::View(out))
}

/// `unsqueeze(0)`: a new leading dimension of size 1 (its stride is never used to address an element).
pub fn unsqueeze_front(l: &Layout) -> Option<Expect> {
    let mut out = l.clone();
    out.shape.insert(0, 1);
    out.strides.insert(0, 1);
    Some(Expect::View(out))
}

/// `squeeze()`: every dimension of size 1 dropped.
pub fn squeeze_all(l: &Layout) -> Option<Expect> {
    let keep: Vec<usize> = (0..l.rank()).filter(|&d| l.shape[d] != 1).collect();
    Some(Expect::View(Layout {
        shape: keep.iter().map(|&d| l.shape[d]).collect(),
        strides: keep.iter().map(|&d| l.strides[d]).collect(),
        offset: l.offset,
    }))
}

/// `contiguous()`: the same view when already row-major, else a row-major copy.
pub fn contiguous(l: &Layout) -> Option<Expect> {
    Some(if l.is_c_contiguous() { Expect::View(l.clone()) } else { copy_of(l) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(shape: &[usize], strides: &[isize], offset: usize) -> Layout {
        Layout { shape: shape.to_vec(), strides: strides.to_vec(), offset }
    }

    fn view(shape: &[usize], strides: &[isize], offset: usize) -> Option<Expect> {
        Some(Expect::View(l(shape, strides, offset)))
    }

    #[test]
    fn flat_view_follows_compute_stride() {
        assert_eq!(flat_view(&l(&[2, 3], &[3, 1], 0)).unwrap().strides, vec![1]);
        assert_eq!(flat_view(&l(&[2, 3], &[6, 2], 0)).unwrap().strides, vec![2]);
        assert!(flat_view(&l(&[2, 3], &[1, 2], 0)).is_none());
        assert_eq!(flat_view(&l(&[2, 1, 3], &[3, 99, 1], 0)).unwrap().shape, vec![6]);
        assert!(flat_view(&l(&[2, 2], &[0, 1], 0)).is_none());
    }

    #[test]
    fn flat_view_keeps_the_offset_and_takes_any_stride_of_one_element() {
        assert_eq!(flat_view(&l(&[3, 2], &[2, 1], 5)), Some(l(&[6], &[1], 5)));
        assert_eq!(flat_view(&l(&[1, 1], &[7, 9], 2)), Some(l(&[1], &[1], 2)));
        assert_eq!(flat_view(&l(&[], &[], 4)), Some(l(&[1], &[1], 4)));
        // Zero elements merge whatever the strides.
        assert_eq!(flat_view(&l(&[0, 3], &[1, 5], 0)), Some(l(&[0], &[5], 0)));
    }

    #[test]
    fn reshape_copies_and_view_errs_where_strides_do_not_merge() {
        let transposed = l(&[2, 2], &[1, 2], 1);
        assert_eq!(reshape_flat(&transposed), Some(Expect::Copy { shape: vec![4], addresses: vec![1, 3, 2, 4] }));
        assert_eq!(view_flat(&transposed), Some(Expect::Error));
        assert_eq!(reshape_flat(&l(&[2, 2], &[2, 1], 1)), view(&[4], &[1], 1));
        assert_eq!(view_flat(&l(&[2, 2], &[2, 1], 1)), view(&[4], &[1], 1));
    }

    #[test]
    fn dimension_ops_move_shape_and_strides_together() {
        let x = l(&[2, 3, 4], &[12, 4, 1], 1);
        assert_eq!(transpose_first_last(&x), view(&[4, 3, 2], &[1, 4, 12], 1));
        assert_eq!(transpose_first_last(&l(&[], &[], 0)), None);
        assert_eq!(permute_reversed(&x), view(&[4, 3, 2], &[1, 4, 12], 1));
        assert_eq!(expand_front(&x), view(&[2, 2, 3, 4], &[0, 12, 4, 1], 1));
        assert_eq!(unsqueeze_front(&x), view(&[1, 2, 3, 4], &[1, 12, 4, 1], 1));
        assert_eq!(squeeze_all(&l(&[1, 3, 1], &[9, 2, 7], 0)), view(&[3], &[2], 0));
        assert_eq!(select_first(&x), view(&[3, 4], &[4, 1], 1));
        assert_eq!(select_first(&l(&[0, 2], &[2, 1], 0)), None);
        assert_eq!(select_first(&l(&[], &[], 0)), None);
    }

    #[test]
    fn narrow_and_slice_fold_into_offset_and_stride() {
        assert_eq!(narrow_upper_half(&l(&[5, 2], &[2, 1], 3)), view(&[3, 2], &[2, 1], 7));
        assert_eq!(narrow_upper_half(&l(&[4], &[-1], 3)), view(&[2], &[-1], 1));
        assert_eq!(narrow_upper_half(&l(&[0], &[1], 2)), view(&[0], &[1], 2));
        assert_eq!(narrow_upper_half(&l(&[], &[], 0)), None);
        assert_eq!(slice_step_two(&l(&[5], &[3], 0)), view(&[3], &[6], 0));
        assert_eq!(slice_step_two(&l(&[1], &[isize::MAX], 0)), None);
    }

    #[test]
    fn contiguous_copies_exactly_what_is_not_row_major() {
        assert_eq!(contiguous(&l(&[2, 2], &[2, 1], 0)), view(&[2, 2], &[2, 1], 0));
        assert_eq!(contiguous(&l(&[2, 2], &[1, 2], 0)), Some(copy_of(&l(&[2, 2], &[1, 2], 0))));
        assert_eq!(copy_of(&l(&[2], &[0], 3)), Expect::Copy { shape: vec![2], addresses: vec![3, 3] });
        assert_eq!(same(&l(&[2], &[-1], 1)), view(&[2], &[-1], 1));
    }
}
