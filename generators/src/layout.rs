//! Strided layouts: shape, strides in elements (negative and zero allowed in the model) and a storage offset.
//!
//! Invariant: [`Layout::validate`] is the only door to a zero-copy view. It checks, with overflow-safe arithmetic,
//! that every element the layout addresses lies inside a storage of the given length; nothing else in conform
//! computes an address before it has passed.

use serde::{Deserialize, Serialize};

use crate::hint::Hint;

/// The most dimensions a stored case may have (libtorch's own limit is 64).
pub const MAX_RANK: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Layout {
    pub shape: Vec<usize>,
    /// Strides in elements, one per dimension.
    pub strides: Vec<isize>,
    /// Index of the element at logical index `[0, 0, …]` in the storage.
    pub offset: usize,
}

/// Why a layout cannot address a storage. Each message is one line; [`Hint::hint`] says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    #[error("shape has {shape} dimensions but strides has {strides}")]
    RankMismatch { shape: usize, strides: usize },
    #[error("shape has {rank} dimensions, more than the {MAX_RANK} allowed")]
    TooManyDims { rank: usize },
    #[error("the product of shape {shape:?} overflows (counting its non-zero sides only)")]
    NumelOverflow { shape: Vec<usize> },
    #[error("shape[{dim}] = {size} or strides[{dim}] = {stride} does not fit in an i64")]
    TooLarge { dim: usize, size: usize, stride: isize },
    #[error("the layout addresses storage elements {lowest}..={highest} but the storage holds {storage_len}")]
    OutOfBounds { lowest: i128, highest: i128, storage_len: usize },
    #[error("the layout addresses storage element {highest}, beyond what a pointer offset can reach")]
    AddressOverflow { highest: i128 },
    #[error("offset {offset} lies beyond the storage of {storage_len} elements")]
    OffsetOutOfBounds { offset: usize, storage_len: usize },
}

impl Hint for LayoutError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            LayoutError::RankMismatch { .. } => "give one stride per dimension".to_string(),
            LayoutError::TooManyDims { .. } => format!("use at most {MAX_RANK} dimensions"),
            LayoutError::NumelOverflow { .. } => {
                "the product of the non-zero sides must fit in an i64, as in ndarray and libtorch".to_string()
            }
            LayoutError::TooLarge { .. } => "use smaller values".to_string(),
            LayoutError::OutOfBounds { storage_len, .. } => format!(
                "every element at offset + sum(index[d] * strides[d]) must lie in 0..{storage_len}; \
                 check strides, offset and the number of storage values"
            ),
            LayoutError::AddressOverflow { .. } => "offsets and strides must keep every address below 2^63".to_string(),
            LayoutError::OffsetOutOfBounds { .. } => "offset must be at most the storage length".to_string(),
        })
    }
}

impl Layout {
    /// The C-contiguous (row-major) layout of `shape`, offset 0.
    pub fn contiguous(shape: &[usize]) -> Layout {
        Layout { shape: shape.to_vec(), strides: c_strides(shape), offset: 0 }
    }

    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// Number of logical elements; `None` when the product of the non-zero sides overflows, whatever the order of the
    /// axes (`[0, big, big]` like `[big, big, 0]`).
    pub fn numel(&self) -> Option<usize> {
        let product = self.nonzero_product()?;
        Some(if self.shape.contains(&0) { 0 } else { product })
    }

    /// The product of the non-zero sides, `None` on overflow: what ndarray (`size_of_shape_checked`) and libtorch
    /// (`numel: integer multiplication overflow`) require to fit, even when another side is 0.
    fn nonzero_product(&self) -> Option<usize> {
        self.shape.iter().filter(|&&n| n != 0).try_fold(1usize, |acc, &n| acc.checked_mul(n))
    }

    /// Checks that every addressed element lies in `0..storage_len`, with no arithmetic overflow anywhere.
    pub fn validate(&self, storage_len: usize) -> Result<(), LayoutError> {
        if self.shape.len() != self.strides.len() {
            return Err(LayoutError::RankMismatch { shape: self.shape.len(), strides: self.strides.len() });
        }
        if self.rank() > MAX_RANK {
            return Err(LayoutError::TooManyDims { rank: self.rank() });
        }
        for (dim, (&size, &stride)) in self.shape.iter().zip(&self.strides).enumerate() {
            if i64::try_from(size).is_err() || i64::try_from(stride).is_err() {
                return Err(LayoutError::TooLarge { dim, size, stride });
            }
        }
        // The non-zero sides must multiply within i64 whatever the axis order: an empty tensor of sides
        // [0, 2^40, 2^40] is refused by ndarray and libtorch alike, so it must be refused here, not reported later as
        // a deviation of theirs.
        if self.nonzero_product().filter(|&n| i64::try_from(n).is_ok()).is_none() {
            return Err(LayoutError::NumelOverflow { shape: self.shape.clone() });
        }
        let numel = self.numel().expect("the non-zero sides' product fits");
        if numel == 0 {
            return match self.offset <= storage_len {
                true => Ok(()),
                false => Err(LayoutError::OffsetOutOfBounds { offset: self.offset, storage_len }),
            };
        }
        // Sizes and strides fit in i64, so each (size - 1) * stride fits in i128; the sums of at most MAX_RANK such
        // terms cannot overflow i128 either.
        let (mut lowest, mut highest) = (self.offset as i128, self.offset as i128);
        for (&size, &stride) in self.shape.iter().zip(&self.strides) {
            let reach = (size as i128 - 1) * stride as i128;
            if reach < 0 {
                lowest += reach;
            } else {
                highest += reach;
            }
        }
        if lowest < 0 || highest >= storage_len as i128 {
            return Err(LayoutError::OutOfBounds { lowest, highest, storage_len });
        }
        // The address walk and pointer arithmetic use isize.
        if highest > isize::MAX as i128 {
            return Err(LayoutError::AddressOverflow { highest });
        }
        Ok(())
    }

    /// Storage index of each logical element, in row-major logical order. Call only on a validated layout.
    pub fn addresses(&self) -> Vec<usize> {
        let numel = self.numel().expect("validated layout");
        let mut out = Vec::with_capacity(numel);
        if numel == 0 {
            return out;
        }
        let mut index = vec![0usize; self.rank()];
        let mut address = self.offset as isize;
        loop {
            out.push(address as usize);
            // Odometer increment from the last dimension.
            let mut dim = self.rank();
            loop {
                if dim == 0 {
                    return out;
                }
                dim -= 1;
                // Never step past the last index: a dimension of size 1 may carry any stride (isize::MAX
                // included), and one step beyond it would overflow. Every address computed here is an addressed
                // element, which validation bounded.
                if index[dim] + 1 < self.shape[dim] {
                    index[dim] += 1;
                    address += self.strides[dim];
                    break;
                }
                address -= self.strides[dim] * index[dim] as isize;
                index[dim] = 0;
            }
        }
    }

    /// The multi-index of the `flat`-th element in row-major logical order.
    pub fn unravel(&self, mut flat: usize) -> Vec<usize> {
        let mut index = vec![0; self.rank()];
        for dim in (0..self.rank()).rev() {
            let n = self.shape[dim].max(1);
            index[dim] = flat % n;
            flat /= n;
        }
        index
    }

    /// True when the layout is row-major with no gaps (dimensions of size 1 may have any stride, as in libtorch).
    pub fn is_c_contiguous(&self) -> bool {
        if self.numel() == Some(0) {
            return true;
        }
        let mut expected = 1isize;
        for dim in (0..self.rank()).rev() {
            if self.shape[dim] != 1 {
                if self.strides[dim] != expected {
                    return false;
                }
                expected *= self.shape[dim] as isize;
            }
        }
        true
    }

    /// The features a layout shows, for messages, reports and known-deviation signatures.
    pub fn features(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.is_c_contiguous() {
            out.push("c-contiguous");
        }
        let live: Vec<usize> = (0..self.rank()).filter(|&d| self.shape[d] > 1).collect();
        if live.iter().any(|&d| self.strides[d] == 0) {
            out.push("broadcast");
        }
        if live.iter().any(|&d| self.strides[d] < 0) {
            out.push("negative-stride");
        }
        if !self.is_c_contiguous() && !live.iter().any(|&d| self.strides[d] <= 0) {
            out.push("non-c-order");
        }
        if self.offset > 0 {
            out.push("offset");
        }
        out
    }
}

/// Row-major strides of `shape`.
pub fn c_strides(shape: &[usize]) -> Vec<isize> {
    let mut strides = vec![0isize; shape.len()];
    let mut acc = 1isize;
    for dim in (0..shape.len()).rev() {
        strides[dim] = acc;
        acc = acc.saturating_mul(shape[dim].max(1) as isize);
    }
    strides
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(shape: &[usize], strides: &[isize], offset: usize) -> Layout {
        Layout { shape: shape.to_vec(), strides: strides.to_vec(), offset }
    }

    #[test]
    fn addresses_follow_strides_and_offset() {
        assert_eq!(layout(&[2, 3], &[3, 1], 0).addresses(), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(layout(&[2, 3], &[1, 2], 0).addresses(), vec![0, 2, 4, 1, 3, 5]);
        assert_eq!(layout(&[3], &[-2], 4).addresses(), vec![4, 2, 0]);
        assert_eq!(layout(&[2, 2], &[0, 1], 1).addresses(), vec![1, 2, 1, 2]);
        assert_eq!(layout(&[], &[], 5).addresses(), vec![5]);
        assert!(layout(&[2, 0], &[1, 1], 0).addresses().is_empty());
    }

    #[test]
    fn unit_dimensions_with_huge_strides_do_not_overflow() {
        // Found by the `layout` fuzz target: valid (a size-1 dimension never moves), but stepping past it overflowed.
        let l = layout(&[2, 1], &[1, isize::MAX], 0);
        assert_eq!(l.validate(2), Ok(()));
        assert_eq!(l.addresses(), vec![0, 1]);
        let l = layout(&[1, 3], &[isize::MIN + 1, -1], 2);
        assert_eq!(l.validate(3), Ok(()));
        assert_eq!(l.addresses(), vec![2, 1, 0]);
        // Also found by fuzzing: an offset past isize::MAX in a (claimed) storage that large.
        let far = layout(&[2], &[1], usize::MAX - 5);
        assert!(matches!(far.validate(usize::MAX), Err(LayoutError::AddressOverflow { .. })));
    }

    #[test]
    fn validate_accepts_exact_fits_and_refuses_one_past() {
        assert_eq!(layout(&[2, 3], &[3, 1], 0).validate(6), Ok(()));
        assert!(matches!(layout(&[2, 3], &[3, 1], 1).validate(6), Err(LayoutError::OutOfBounds { .. })));
        assert_eq!(layout(&[3], &[-2], 4).validate(5), Ok(()));
        assert!(matches!(layout(&[3], &[-2], 3).validate(5), Err(LayoutError::OutOfBounds { lowest: -1, .. })));
        assert_eq!(layout(&[0, 5], &[100, 1], 7).validate(7), Ok(()));
        assert!(matches!(layout(&[0], &[1], 8).validate(7), Err(LayoutError::OffsetOutOfBounds { .. })));
        assert_eq!(layout(&[], &[], 0).validate(1), Ok(()));
        assert!(layout(&[], &[], 0).validate(0).is_err());
    }

    #[test]
    fn validate_never_overflows() {
        let huge = layout(&[usize::MAX, 2], &[1, 1], 0);
        assert!(matches!(huge.validate(10), Err(LayoutError::TooLarge { .. })));
        let product = layout(&[1 << 40, 1 << 40], &[1, 1], 0);
        assert!(matches!(product.validate(10), Err(LayoutError::NumelOverflow { .. })));
        let far = layout(&[3], &[isize::MAX], 0);
        assert!(matches!(far.validate(10), Err(LayoutError::OutOfBounds { .. })));
        let neg = layout(&[3], &[isize::MIN + 1], usize::MAX);
        assert!(matches!(neg.validate(10), Err(LayoutError::TooLarge { .. }) | Err(LayoutError::OutOfBounds { .. })));
        assert!(matches!(layout(&[1], &[], 0).validate(1), Err(LayoutError::RankMismatch { .. })));
    }

    #[test]
    fn validation_does_not_depend_on_axis_order() {
        // Issue 11, finding 6: [0, MAX, MAX] was accepted (0 * MAX * MAX = 0), then ndarray panicked and libtorch
        // said "numel: integer multiplication overflow"; [MAX, MAX, 0] was refused.
        const MAX: usize = 1 << 40;
        for shape in [[0, MAX, MAX], [MAX, 0, MAX], [MAX, MAX, 0]] {
            let l = layout(&shape, &[1, 1, 1], 0);
            assert_eq!(
                l.validate(10),
                Err(LayoutError::NumelOverflow { shape: shape.to_vec() }),
                "{shape:?} is refused in every order"
            );
        }
        let widest = i64::MAX as usize;
        assert!(matches!(layout(&[0, widest, 2], &[1, 1, 1], 0).validate(1), Err(LayoutError::NumelOverflow { .. })));
        assert!(matches!(layout(&[widest, 2, 0], &[1, 1, 1], 0).validate(1), Err(LayoutError::NumelOverflow { .. })));
        // Empty tensors whose other sides fit are still fine, in any order.
        assert_eq!(layout(&[0, widest, 1], &[1, 1, 1], 0).validate(0), Ok(()));
        assert_eq!(layout(&[1, widest, 0], &[1, 1, 1], 0).validate(0), Ok(()));
        assert_eq!(layout(&[0, 1 << 31, 1 << 31], &[1, 1, 1], 0).validate(0), Ok(()));
        assert_eq!(layout(&[0, MAX, MAX], &[1, 1, 1], 0).numel(), layout(&[MAX, MAX, 0], &[1, 1, 1], 0).numel());
    }

    /// One value of each variant.
    fn one_of_each() -> Vec<LayoutError> {
        vec![
            LayoutError::RankMismatch { shape: 1, strides: 2 },
            LayoutError::TooManyDims { rank: 65 },
            LayoutError::NumelOverflow { shape: vec![1 << 40, 1 << 40] },
            LayoutError::TooLarge { dim: 0, size: usize::MAX, stride: -3 },
            LayoutError::OutOfBounds { lowest: -1, highest: 4, storage_len: 3 },
            LayoutError::AddressOverflow { highest: 1 << 63 },
            LayoutError::OffsetOutOfBounds { offset: 8, storage_len: 7 },
        ]
    }

    #[test]
    fn messages_are_one_line_and_every_variant_has_a_hint() {
        for e in one_of_each() {
            let (message, hint) = (e.to_string(), e.hint());
            assert!(!message.contains('\n'), "{message:?}");
            assert!(hint.as_deref().is_some_and(|h| !h.is_empty() && !h.contains('\n')), "{e:?}: {hint:?}");
        }
        let e = LayoutError::OutOfBounds { lowest: -1, highest: 4, storage_len: 3 };
        assert_eq!(e.to_string(), "the layout addresses storage elements -1..=4 but the storage holds 3");
        assert_eq!(
            e.hint().unwrap(),
            "every element at offset + sum(index[d] * strides[d]) must lie in 0..3; \
             check strides, offset and the number of storage values"
        );
        assert_eq!(LayoutError::TooManyDims { rank: 65 }.hint().unwrap(), "use at most 64 dimensions");
    }

    #[test]
    fn contiguity_ignores_unit_dims() {
        assert!(layout(&[2, 1, 3], &[3, 99, 1], 0).is_c_contiguous());
        assert!(!layout(&[2, 3], &[1, 2], 0).is_c_contiguous());
        assert_eq!(layout(&[2, 3], &[1, 2], 0).features(), vec!["non-c-order"]);
        assert_eq!(layout(&[2, 3], &[0, -1], 2).features(), vec!["broadcast", "negative-stride", "offset"]);
    }
}
