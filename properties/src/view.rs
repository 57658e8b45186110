//! Zero-copy views: the one module of conform with `unsafe` code.
//!
//! A [`SharedBuffer`] owns a case's storage, packed as the dtype's little-endian elements in 8-byte-aligned memory.
//! Over it, [`SharedBuffer::tensor`] makes a libtorch tensor with `Tensor::from_blob` (what `torch.from_numpy`
//! does: shape, element strides and storage offset mapped exactly) and [`SharedBuffer::with_array`] /
//! [`SharedBuffer::with_array_mut`] make ndarray views with the same layout, so both sides alias one memory.
//!
//! Invariants, checked before any pointer is made:
//! - a layout reaches `from_blob` or an ndarray view only after [`Layout::validate`] against this buffer's length;
//! - a layout with a negative stride never reaches `from_blob` (libtorch aborts the process on one): it is refused
//!   with [`ViewError::NegativeStride`];
//! - every [`TensorView`] holds an `Rc` of its buffer, so the memory outlives every tensor made over it, derived
//!   tensors included (make them with [`TensorView::derive`]);
//! - ndarray views live only inside a closure that receives nothing but the view, so Rust references to the memory
//!   never coexist with a libtorch call that writes it.

use std::cell::Cell;
use std::rc::Rc;

use conform_generators::{Dtype, Layout, LayoutError, TensorCase};
use ndarray::{ArrayViewD, ArrayViewMutD, Axis, IxDyn, ShapeBuilder};
use tch::{Device, TchError, Tensor};

use crate::element::{kind_of, Elem};

/// Why a view was not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    #[error("{0}")]
    Layout(#[from] LayoutError),
    #[error("strides {strides:?} include a negative stride, which libtorch tensors cannot represent\n(hint: Tensor::from_blob would abort the process; copy the array with conform's copy_to_tensor instead)")]
    NegativeStride { strides: Vec<isize> },
    #[error("the layout maps two indices to one element, and ndarray refuses mutable views of overlapping layouts\n(hint: write through the storage or a non-overlapping view)")]
    Overlapping,
    #[error("element type {wanted} does not match the buffer's dtype {dtype}\n(hint: use the buffer's element type)")]
    WrongElement { wanted: Dtype, dtype: Dtype },
    #[error("libtorch: {0}")]
    Tch(String),
}

/// A case's storage in memory that libtorch and ndarray can both address.
pub struct SharedBuffer {
    dtype: Dtype,
    len: usize,
    /// Packed little-endian elements. `Cell` because libtorch writes this memory through pointers while Rust holds
    /// shared references to the buffer.
    words: Box<[Cell<u64>]>,
}

impl SharedBuffer {
    /// A buffer holding the case's storage.
    pub fn from_case(case: &TensorCase) -> Rc<SharedBuffer> {
        SharedBuffer::new(case.dtype(), case.storage())
    }

    pub fn new(dtype: Dtype, storage: &[u64]) -> Rc<SharedBuffer> {
        // One spare word so that even an empty buffer has a real, aligned address.
        let words = (storage.len() * dtype.size_bytes()).div_ceil(8) + 1;
        let buffer = SharedBuffer { dtype, len: storage.len(), words: vec![Cell::new(0); words].into_boxed_slice() };
        for (i, &bits) in storage.iter().enumerate() {
            buffer.set(i, bits);
        }
        Rc::new(buffer)
    }

    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bits of element `index`.
    pub fn get(&self, index: usize) -> u64 {
        assert!(index < self.len, "element {index} of a buffer of {}", self.len);
        let (word, shift, mask) = self.place(index);
        (self.words[word].get() >> shift) & mask
    }

    /// Sets element `index` to `bits`.
    pub fn set(&self, index: usize, bits: u64) {
        assert!(index < self.len, "element {index} of a buffer of {}", self.len);
        let (word, shift, mask) = self.place(index);
        let old = self.words[word].get();
        self.words[word].set(old & !(mask << shift) | (bits & mask) << shift);
    }

    /// Every element's bits.
    pub fn snapshot(&self) -> Vec<u64> {
        (0..self.len).map(|i| self.get(i)).collect()
    }

    /// Word, bit shift and mask of an element (elements never straddle words: sizes divide 8).
    fn place(&self, index: usize) -> (usize, usize, u64) {
        let size = self.dtype.size_bytes();
        let byte = index * size;
        let mask = if size == 8 { u64::MAX } else { (1u64 << (size * 8)) - 1 };
        (byte / 8, (byte % 8) * 8, mask)
    }

    /// Address of the first byte.
    pub fn base_address(&self) -> usize {
        self.words.as_ptr() as usize
    }

    /// Address of element `index` (one past the end allowed).
    pub fn element_address(&self, index: usize) -> usize {
        self.base_address() + index * self.dtype.size_bytes()
    }

    /// True when `address` lies inside this buffer's elements.
    pub fn contains_address(&self, address: usize) -> bool {
        (self.base_address()..self.element_address(self.len)).contains(&address)
    }

    /// A zero-copy tensor with `layout` over this buffer, as `torch.from_numpy` makes one.
    pub fn tensor(self: &Rc<Self>, layout: &Layout) -> Result<TensorView, ViewError> {
        layout.validate(self.len)?;
        if layout.strides.iter().any(|&s| s < 0) {
            return Err(ViewError::NegativeStride { strides: layout.strides.clone() });
        }
        let shape: Vec<i64> = layout.shape.iter().map(|&n| n as i64).collect();
        let strides: Vec<i64> = layout.strides.iter().map(|&s| s as i64).collect();
        let first = self.words.as_ptr().cast::<u8>().cast_mut().wrapping_add(layout.offset * self.dtype.size_bytes());
        // SAFETY: `layout` was validated against `self.len` just above, so every element it addresses (offset plus
        // the non-negative stride sums) lies inside the buffer's memory, and for an empty layout the pointer is at
        // most one past the end of a live allocation; no stride is negative, so from_blob cannot abort. The memory
        // is aligned to 8 bytes, enough for every dtype. The returned view holds an `Rc` of this buffer, so the
        // memory outlives the tensor; the buffer's words are `Cell`s, so libtorch writing them is not a write behind
        // a Rust shared reference.
        let tensor = unsafe { Tensor::f_from_blob(first, &shape, &strides, kind_of(self.dtype), Device::Cpu) }
            .map_err(|e| ViewError::Tch(e.to_string()))?;
        Ok(TensorView { tensor, _buffer: Rc::clone(self) })
    }

    /// Runs `f` on a read-only ndarray view with `layout` (negative and zero strides allowed).
    pub fn with_array<T: Elem, R>(
        &self,
        layout: &Layout,
        f: impl FnOnce(ArrayViewD<'_, T>) -> R,
    ) -> Result<R, ViewError> {
        self.check_element::<T>(layout)?;
        // SAFETY: `T` has the buffer's dtype (checked), so `len` elements of `T` fit in the words (each dtype's
        // size divides 8 and the buffer has a spare word), aligned to 8. The slice lives only during `f`, which
        // receives nothing but the view: no libtorch call can write the memory while the shared slice exists.
        let data: &[T] = unsafe { std::slice::from_raw_parts(self.words.as_ptr().cast::<T>(), self.len) };
        Ok(f(array_view(layout, data)))
    }

    /// Runs `f` on a mutable ndarray view with `layout`; overlapping layouts are refused, as ndarray requires.
    pub fn with_array_mut<T: Elem, R>(
        &self,
        layout: &Layout,
        f: impl FnOnce(ArrayViewMutD<'_, T>) -> R,
    ) -> Result<R, ViewError> {
        self.check_element::<T>(layout)?;
        // SAFETY: as in `with_array`; in addition no other Rust reference into the words exists while `f` runs
        // (every other accessor copies values out through `Cell`), so the unique slice does not alias one.
        let data: &mut [T] =
            unsafe { std::slice::from_raw_parts_mut(self.words.as_ptr().cast::<T>().cast_mut(), self.len) };
        let view = array_view_mut(layout, data).ok_or(ViewError::Overlapping)?;
        Ok(f(view))
    }

    fn check_element<T: Elem>(&self, layout: &Layout) -> Result<(), ViewError> {
        if T::DTYPE != self.dtype {
            return Err(ViewError::WrongElement { wanted: T::DTYPE, dtype: self.dtype });
        }
        Ok(layout.validate(self.len)?)
    }
}

/// A tensor over a [`SharedBuffer`]'s memory, keeping the buffer alive.
pub struct TensorView {
    // Declared first, so it is dropped before the buffer it points into.
    tensor: Tensor,
    _buffer: Rc<SharedBuffer>,
}

impl TensorView {
    pub fn tensor(&self) -> &Tensor {
        &self.tensor
    }

    /// A tensor made from this one (it may alias the same buffer), kept alive no longer than the buffer.
    pub fn derive(&self, op: impl FnOnce(&Tensor) -> Result<Tensor, TchError>) -> Result<TensorView, TchError> {
        Ok(TensorView { tensor: op(&self.tensor)?, _buffer: Rc::clone(&self._buffer) })
    }

    /// Same, for an op that needs `&mut` (in-place flags such as `requires_grad_`).
    pub fn derive_mut(
        &mut self,
        op: impl FnOnce(&mut Tensor) -> Result<Tensor, TchError>,
    ) -> Result<TensorView, TchError> {
        Ok(TensorView { tensor: op(&mut self.tensor)?, _buffer: Rc::clone(&self._buffer) })
    }
}

/// The view of `data` with exactly `layout` (validated by the caller): positive strides over the lowest addressed
/// element, then reversed axes inverted — only safe ndarray calls.
pub fn array_view<'a, T>(layout: &Layout, data: &'a [T]) -> ArrayViewD<'a, T> {
    let Some((start, shape)) = positive_shape(layout) else {
        return ArrayViewD::from_shape(IxDyn(&layout.shape), &data[..0]).expect("an empty view fits an empty slice");
    };
    let mut view = ArrayViewD::from_shape(shape, &data[start..]).expect("a validated layout fits its storage");
    invert_negative(layout, |axis| view.invert_axis(axis));
    view
}

/// The mutable view of `data` with `layout`, or `None` for an overlapping layout.
pub fn array_view_mut<'a, T>(layout: &Layout, data: &'a mut [T]) -> Option<ArrayViewMutD<'a, T>> {
    let Some((start, shape)) = positive_shape(layout) else {
        return Some(ArrayViewMutD::from_shape(IxDyn(&layout.shape), &mut data[..0]).expect("empty view"));
    };
    let mut view = ArrayViewMutD::from_shape(shape, &mut data[start..]).ok()?;
    invert_negative(layout, |axis| view.invert_axis(axis));
    Some(view)
}

/// The lowest addressed element and the shape with absolute strides; `None` for an empty layout.
fn positive_shape(layout: &Layout) -> Option<(usize, ndarray::StrideShape<IxDyn>)> {
    if layout.numel() == Some(0) {
        return None;
    }
    let mut lowest = layout.offset;
    for (&n, &s) in layout.shape.iter().zip(&layout.strides) {
        if s < 0 {
            lowest -= (n - 1) * s.unsigned_abs();
        }
    }
    let strides: Vec<usize> = layout.strides.iter().map(|s| s.unsigned_abs()).collect();
    Some((lowest, IxDyn(&layout.shape).strides(IxDyn(&strides))))
}

fn invert_negative(layout: &Layout, mut invert: impl FnMut(Axis)) {
    for (dim, &s) in layout.strides.iter().enumerate() {
        if s < 0 {
            invert(Axis(dim));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::tensor_bits;

    fn layout(shape: &[usize], strides: &[isize], offset: usize) -> Layout {
        Layout { shape: shape.to_vec(), strides: strides.to_vec(), offset }
    }

    #[test]
    fn tensor_and_array_see_the_same_memory() {
        let buffer = SharedBuffer::new(Dtype::I16, &[1, 2, 3, 4, 5, 6, 7]);
        let l = layout(&[2, 3], &[1, 2], 1);
        let view = buffer.tensor(&l).unwrap();
        assert_eq!(tensor_bits(view.tensor()).unwrap().bits, vec![2, 4, 6, 3, 5, 7]);
        assert_eq!(view.tensor().data_ptr() as usize, buffer.element_address(1));
        buffer.with_array_mut::<i16, _>(&l, |mut a| a[[1, 2]] = -1).unwrap();
        assert_eq!(buffer.get(6), 0xffff);
        assert_eq!(tensor_bits(view.tensor()).unwrap().bits, vec![2, 4, 6, 3, 5, 0xffff]);
    }

    #[test]
    fn refuses_what_libtorch_or_ndarray_cannot_take() {
        let buffer = SharedBuffer::new(Dtype::F32, &[0; 4]);
        let negative = buffer.tensor(&layout(&[2], &[-1], 1)).err().unwrap();
        assert!(negative.to_string().contains("negative stride"), "{negative}");
        let outside = buffer.tensor(&layout(&[2], &[4], 0)).err().unwrap();
        assert!(outside.to_string().contains("addresses storage elements 0..=4 but the storage holds 4"), "{outside}");
        let overlap = buffer.with_array_mut::<f32, _>(&layout(&[2], &[0], 0), |_| ()).unwrap_err();
        assert_eq!(overlap, ViewError::Overlapping);
        let wrong = buffer.with_array::<f64, _>(&layout(&[], &[], 0), |_| ()).unwrap_err();
        assert!(matches!(wrong, ViewError::WrongElement { .. }));
        assert_eq!(buffer.with_array::<f32, _>(&layout(&[2], &[-1], 1), |a| a.len()).unwrap(), 2);
    }

    #[test]
    fn views_keep_their_buffer_alive() {
        let buffer = SharedBuffer::new(Dtype::U8, &[9, 8]);
        let view = buffer.tensor(&layout(&[2], &[1], 0)).unwrap();
        let derived = view.derive(|t| t.f_select(0, 1)).unwrap();
        drop(view);
        drop(buffer);
        assert_eq!(tensor_bits(derived.tensor()).unwrap().bits, vec![8]);
    }
}
