//! Zero-copy views: the one module of conform with `unsafe` code.
//!
//! A [`SharedBuffer`] holds a case's storage in memory that libtorch allocates and owns (a 1-D `Uint8` tensor of
//! whole 8-byte words plus a spare one). [`SharedBuffer::tensor`] makes a libtorch tensor with a layout over it —
//! the bytes reinterpreted as the case's kind (`view_dtype`), then `as_strided` with the shape, element strides and
//! storage offset, mapped exactly as `torch.from_numpy` maps them — and the `array_*` methods read, write, locate
//! and convert the elements of the ndarray view with the same layout, so libtorch and ndarray address one memory.
//!
//! The zero-copy tensors used to be `Tensor::from_blob` over memory Rust owned; they are now libtorch strided
//! views of a libtorch storage. The aliasing properties check the same thing either way (shape, strides and
//! offset mapped exactly onto memory both sides share), and this form is the sound one: a `from_blob` tensor does
//! not own its memory, so a `shallow_clone` of it could outlive the buffer, while every tensor made here holds a
//! reference to libtorch's refcounted storage.
//!
//! # Why no safe caller can cause undefined behaviour
//!
//! - **Who owns the memory.** libtorch. The storage is freed when the last tensor referring to it is dropped, and
//!   everything that can reach it holds such a reference: the buffer's own private tensors, each view, and every
//!   tensor derived or shallow-cloned from one. No safe call frees it while any of them lives.
//! - **No pointer is kept.** libtorch may still *move* the memory: `resize_` on any tensor over the storage (a
//!   caller can make one with `shallow_clone`) reallocates it and frees the old bytes. So the buffer stores no
//!   pointer and hands out no Rust reference into the memory. Each access first has libtorch check, with an
//!   `as_strided` probe, that the storage still holds the buffer's bytes, takes the address libtorch gives now, and
//!   uses it only until the method returns, running no caller code and no libtorch call on the storage meanwhile.
//! - **No Rust reference aliases a libtorch write.** [`SharedBuffer::get`], [`SharedBuffer::set`] and
//!   [`SharedBuffer::snapshot`] go through raw pointers. ndarray views exist only inside this module's methods:
//!   views of `Cell`s (shared references to `UnsafeCell` memory, which other code may write between uses) to read,
//!   write and locate elements, and a plain `&[T]` only while a read-only conversion (tch's `TryFrom`, conform's
//!   `copy_to_tensor`) copies out of it. A `&[bool]` is made only after every byte was seen to be 0 or 1: libtorch
//!   may have written any byte there.
//! - **What libtorch checks itself.** `as_strided` refuses a layout that reaches past the storage, and a negative
//!   stride, with an error (not an abort). conform still validates every layout first ([`Layout::validate`]) and
//!   refuses negative strides itself, so that the errors are conform's [`ViewError`]s.
//! - **Copying conversions.** [`tensor_of_elements`] copies a slice into a tensor that libtorch allocated a moment
//!   before and that nothing else can reach yet: one memcpy, where tch's `from_slice` zero-fills first (a second
//!   pass over the memory). [`elements_of_tensor`] copies a contiguous CPU tensor's elements into a new `Vec` with
//!   one memcpy, where tch's `copy_data` needs a slice that was zero-filled first; never for bool, whose bytes
//!   libtorch may have set to other values than 0 and 1. Both keep conform's copying conversions near memcpy's speed.
//!   Memory of 4 MiB and more that they are about to write is first advised to be backed by transparent huge
//!   pages ([`advise_huge_pages`]: `madvise`, which changes how the kernel maps untouched pages, never their
//!   contents), so that the first writes fault once per 2 MiB instead of once per 4 KiB.
//! - **Threads.** A buffer is neither `Send` nor `Sync`, so its raw accesses stay on the thread that made it
//!   (the `compile_fail` examples on [`SharedBuffer`] show both). tch's `Tensor` is `Send`, so a caller can still
//!   move a tensor over the same storage to another thread and run a kernel there while this thread uses the
//!   buffer: a data race that tch's safe API allows without conform too (two shallow clones on two threads race the
//!   same way), and beyond what this module can check. conform runs each case on one thread.

use std::cell::Cell;
use std::marker::PhantomData;

use conform_generators::{Dtype, Hint, Layout, LayoutError, TensorCase};
use conform_judge::one_line;
use ndarray::{ArrayViewD, Axis, IxDyn, ShapeBuilder};
use tch::{Device, Kind, TchError, Tensor};

use crate::convert::copy_to_tensor;
use crate::element::{kind_of, Elem};
use crate::with_elem;

/// Runs `$body` with `$u` bound to the unsigned integer of `$size` bytes (1, 2, 4 or 8): what the buffer reads and
/// writes whatever the dtype, so that no float or bool value is ever made from bytes libtorch may have written.
macro_rules! with_word {
    ($size:expr, $u:ident => $body:expr) => {
        match $size {
            1 => {
                type $u = u8;
                $body
            }
            2 => {
                type $u = u16;
                $body
            }
            4 => {
                type $u = u32;
                $body
            }
            _ => {
                type $u = u64;
                $body
            }
        }
    };
}

/// An element's bits, from the unsigned integer of its width.
fn widen<U: Into<u64>>(value: U) -> u64 {
    value.into()
}

/// Why a view, or an access through one, was not made. Each message is one line; [`Hint::hint`] says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    #[error("{0}")]
    Layout(#[from] LayoutError),
    #[error("strides {strides:?} include a negative stride, which libtorch tensors cannot represent")]
    NegativeStride { strides: Vec<isize> },
    #[error("index {index:?} is outside the view's shape {shape:?}")]
    Index { index: Vec<usize>, shape: Vec<usize> },
    #[error("storage element {index} holds byte {byte:#04x}, which is not a bool")]
    NotBool { index: usize, byte: u8 },
    /// A conversion run on the array view failed (the first line of its error).
    #[error("{0}")]
    Conversion(String),
    #[error("libtorch: {0}")]
    Tch(String),
}

impl ViewError {
    fn tch(error: &TchError) -> ViewError {
        ViewError::Tch(one_line(&error.to_string()).to_string())
    }
}

impl Hint for ViewError {
    fn hint(&self) -> Option<String> {
        match self {
            ViewError::Layout(e) => e.hint(),
            ViewError::NegativeStride { .. } => Some(
                "libtorch's as_strided refuses negative strides; copy the array with conform's copy_to_tensor instead"
                    .into(),
            ),
            ViewError::Index { .. } => Some("give one index per dimension, each below its size".into()),
            ViewError::NotBool { .. } => Some("a bool element must be 0 or 1; read its bits with `get` instead".into()),
            ViewError::Conversion(_) | ViewError::Tch(_) => None,
        }
    }
}

/// A case's storage in libtorch-owned memory that libtorch tensors and ndarray views both address.
///
/// A buffer is not `Send`, so it cannot move to another thread:
///
/// ```compile_fail,E0277
/// use conform_generators::Dtype;
/// use conform_properties::view::SharedBuffer;
///
/// let buffer = SharedBuffer::new(Dtype::U8, &[7]).unwrap();
/// std::thread::spawn(move || buffer.get(0));
/// ```
///
/// and not `Sync`, so another thread cannot borrow it either:
///
/// ```compile_fail,E0277
/// use conform_generators::Dtype;
/// use conform_properties::view::SharedBuffer;
///
/// let buffer = SharedBuffer::new(Dtype::U8, &[7]).unwrap();
/// std::thread::scope(|s| {
///     s.spawn(|| buffer.set(0, 1));
/// });
/// ```
pub struct SharedBuffer {
    dtype: Dtype,
    /// Number of elements.
    len: usize,
    /// Bytes allocated: whole 8-byte words, one spare, so that even an empty buffer has a real, aligned address.
    bytes: usize,
    /// The storage as `bytes` bytes. Never handed out, so its own metadata (size, offset 0) is nobody else's to
    /// change.
    storage: Tensor,
    /// The storage as elements of the dtype's kind; every view is an `as_strided` of it. Never handed out either.
    elements: Tensor,
    /// Neither `Send` nor `Sync` (see the module doc).
    _one_thread: PhantomData<*const ()>,
}

impl SharedBuffer {
    /// A buffer holding the case's storage.
    pub fn from_case(case: &TensorCase) -> Result<SharedBuffer, ViewError> {
        SharedBuffer::new(case.dtype(), case.storage())
    }

    /// A buffer holding `storage`, elements of `dtype` as raw bits.
    pub fn new(dtype: Dtype, storage: &[u64]) -> Result<SharedBuffer, ViewError> {
        let bytes = ((storage.len() * dtype.size_bytes()).div_ceil(8) + 1) * 8;
        let to_view = |e: TchError| ViewError::tch(&e);
        let bytes_tensor = Tensor::f_zeros([bytes as i64], (Kind::Uint8, Device::Cpu)).map_err(to_view)?;
        let elements = bytes_tensor.f_view_dtype(kind_of(dtype)).map_err(to_view)?;
        let buffer = SharedBuffer {
            dtype,
            len: storage.len(),
            bytes,
            storage: bytes_tensor,
            elements,
            _one_thread: PhantomData,
        };
        with_word!(dtype.size_bytes(), U => buffer.with_cells::<U, _>(|cells| {
            cells.iter().zip(storage).for_each(|(cell, &bits)| cell.set(bits as U))
        }));
        Ok(buffer)
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
        let memory = self.memory();
        with_word!(self.dtype.size_bytes(), U => {
            // SAFETY: `memory` addresses the storage's first byte now, with at least `self.bytes` live bytes
            // (probed by `memory`), aligned to 8; `index < len` and `len * size_of::<U>() <= bytes`, so the read
            // lies inside them and is aligned for `U`. Every bit pattern is a valid `U`. A raw read makes no
            // reference, and nothing else runs between the probe and the read.
            let value = unsafe { memory.add(index * size_of::<U>()).cast::<U>().read() };
            widen(value)
        })
    }

    /// Sets element `index` to `bits` (its low bits, as many as the element holds).
    pub fn set(&self, index: usize, bits: u64) {
        assert!(index < self.len, "element {index} of a buffer of {}", self.len);
        let memory = self.memory();
        with_word!(self.dtype.size_bytes(), U => {
            // SAFETY: as in `get`: in bounds, aligned, live, and written through a raw pointer with nothing else
            // running, so no Rust reference to these bytes exists to be invalidated.
            unsafe { memory.add(index * size_of::<U>()).cast::<U>().write(bits as U) }
        })
    }

    /// Every element's bits.
    pub fn snapshot(&self) -> Vec<u64> {
        with_word!(self.dtype.size_bytes(), U => self.with_cells::<U, _>(|cells| cells.iter().map(|c| widen(c.get())).collect()))
    }

    /// Address of the first byte, where libtorch holds the storage now (a `resize_` on a tensor over it moves it).
    pub fn base_address(&self) -> usize {
        self.memory() as usize
    }

    /// Address of element `index` (one past the end allowed), where the storage is now.
    pub fn element_address(&self, index: usize) -> usize {
        self.base_address() + index * self.dtype.size_bytes()
    }

    /// True when `address` lies inside this buffer's elements, where the storage is now.
    pub fn contains_address(&self, address: usize) -> bool {
        (self.base_address()..self.element_address(self.len)).contains(&address)
    }

    /// A zero-copy tensor with `layout` over this buffer, as `torch.from_numpy` makes one: a libtorch strided view
    /// of the storage, which keeps the storage alive however long it or its clones live.
    pub fn tensor(&self, layout: &Layout) -> Result<Tensor, ViewError> {
        layout.validate(self.len)?;
        if layout.strides.iter().any(|&s| s < 0) {
            return Err(ViewError::NegativeStride { strides: layout.strides.clone() });
        }
        let shape: Vec<i64> = layout.shape.iter().map(|&n| n as i64).collect();
        let strides: Vec<i64> = layout.strides.iter().map(|&s| s as i64).collect();
        self.elements.f_as_strided(&shape, &strides, layout.offset as i64).map_err(|e| ViewError::tch(&e))
    }

    /// Bits of the element at `index` of the ndarray view with `layout` (any layout: negative, zero and
    /// overlapping strides too).
    pub fn array_get(&self, layout: &Layout, index: &[usize]) -> Result<u64, ViewError> {
        layout.validate(self.len)?;
        with_word!(self.dtype.size_bytes(), U => self.with_cells::<U, _>(|cells| {
            array_view(layout, cells).get(index).map(|c| widen(c.get())).ok_or_else(|| outside(layout, index))
        }))
    }

    /// Sets the element at `index` of the ndarray view with `layout` to `bits`, through the view (overlapping
    /// layouts included: the view's elements are cells).
    pub fn array_set(&self, layout: &Layout, index: &[usize], bits: u64) -> Result<(), ViewError> {
        layout.validate(self.len)?;
        with_word!(self.dtype.size_bytes(), U => self.with_cells::<U, _>(|cells| {
            array_view(layout, cells).get(index).map(|c| c.set(bits as U)).ok_or_else(|| outside(layout, index))
        }))
    }

    /// The address of each element of the ndarray view with `layout`, in row-major logical order, where the
    /// storage is now.
    pub fn array_addresses(&self, layout: &Layout) -> Result<Vec<usize>, ViewError> {
        layout.validate(self.len)?;
        Ok(with_word!(self.dtype.size_bytes(), U => self.with_cells::<U, _>(|cells| {
            array_view(layout, cells).iter().map(|c| c as *const Cell<U> as usize).collect()
        })))
    }

    /// Runs `conversion` on the ndarray view with `layout` of this buffer's elements, in place: what it copies, it
    /// copies out of this memory. `Ok(None)` when the conversion does not take the layout.
    pub fn array_to_tensor(&self, layout: &Layout, conversion: ArrayToTensor) -> Result<Option<Tensor>, ViewError> {
        layout.validate(self.len)?;
        with_elem!(self.dtype, T => self.with_elements::<T, _>(|data| conversion.run(&array_view(layout, data)))?)
    }

    /// The first byte of the storage, after libtorch has confirmed that it holds this buffer's bytes.
    fn memory(&self) -> *mut u8 {
        // `as_strided` checks its extent against the storage as libtorch holds it now (a caller's `resize_` may
        // have moved it), so a successful probe's address is that of `self.bytes` live bytes. No libtorch call
        // shrinks a storage; should one ever, this panics rather than read freed memory.
        let probe = self.storage.f_as_strided([self.bytes as i64], [1i64], 0i64).unwrap_or_else(|e| {
            panic!("libtorch no longer holds this buffer's {} bytes: {}", self.bytes, one_line(&e.to_string()))
        });
        let memory = probe.data_ptr().cast::<u8>();
        // libtorch's CPU allocator aligns to 64 bytes; the slices below need the element's alignment (at most 8).
        assert!(
            !memory.is_null() && memory.cast::<u64>().is_aligned(),
            "libtorch storage at {memory:p} is not 8-byte aligned"
        );
        memory
    }

    /// Runs `f` on the elements as cells of their width. Private, and only this module's closures (which call no
    /// libtorch function on the storage) run here.
    fn with_cells<U: Copy, R>(&self, f: impl FnOnce(&[Cell<U>]) -> R) -> R {
        debug_assert_eq!(size_of::<U>(), self.dtype.size_bytes());
        let memory = self.memory();
        // SAFETY: `memory` is non-null, aligned to 8 (so to `U`), and starts `self.bytes >= len * size_of::<U>()`
        // live, initialized bytes (probed just now); every bit pattern is a valid `U`, and `Cell<U>` has `U`'s
        // layout. The slice lives only during `f`, which is one of this module's closures: none runs caller code or
        // a libtorch call that could move or free the storage, and any write during `f` goes through the cells
        // themselves. `Cell` is `!Sync`, so the slice cannot reach another thread.
        let cells = unsafe { std::slice::from_raw_parts(memory.cast::<Cell<U>>(), self.len) };
        f(cells)
    }

    /// Runs `f` on the elements as a shared slice of `T`, for a read-only conversion; refuses a dtype mismatch and,
    /// for bool, any byte that is not 0 or 1.
    fn with_elements<T: Elem, R>(&self, f: impl FnOnce(&[T]) -> R) -> Result<R, ViewError> {
        assert_eq!(T::DTYPE, self.dtype, "element type of another dtype");
        if T::DTYPE == Dtype::Bool {
            let bad = self.with_cells::<u8, _>(|cells| cells.iter().map(Cell::get).enumerate().find(|&(_, b)| b > 1));
            if let Some((index, byte)) = bad {
                return Err(ViewError::NotBool { index, byte });
            }
        }
        let memory = self.memory();
        // SAFETY: as in `with_cells` for bounds, alignment (`T`'s size and alignment equal its dtype's width, at most
        // 8) and initialization; every bit pattern is a valid `T` except for bool, whose bytes were just seen to be 0
        // or 1 (and nothing ran since). The slice lives only during `f`, a conversion of `ArrayToTensor` that only
        // reads it while libtorch copies it into new memory: nothing writes these bytes while the shared slice
        // exists.
        let data = unsafe { std::slice::from_raw_parts(memory.cast::<T>().cast_const(), self.len) };
        Ok(f(data))
    }
}

/// An array → tensor conversion that reads an ndarray view of a [`SharedBuffer`] in place, so the aliasing
/// properties can check that what it makes is new memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayToTensor {
    /// tch's `TryFrom<&ArrayView>`, which takes standard-layout views only.
    TchTryFrom,
    /// conform's [`copy_to_tensor`], which takes any layout.
    CopyToTensor,
}

impl ArrayToTensor {
    fn run<T: Elem>(self, view: &ArrayViewD<'_, T>) -> Result<Option<Tensor>, ViewError> {
        let failed = |e: &dyn std::fmt::Display| ViewError::Conversion(one_line(&e.to_string()).to_string());
        match self {
            ArrayToTensor::TchTryFrom => {
                view.is_standard_layout().then(|| Tensor::try_from(view).map_err(|e| failed(&e))).transpose()
            }
            ArrayToTensor::CopyToTensor => copy_to_tensor(view).map(Some).map_err(|e| failed(&e)),
        }
    }
}

/// A new contiguous 1-D CPU tensor of `kind` holding `data`'s elements, bits unchanged, written with one memcpy into
/// memory libtorch has just allocated (`empty`, not zero-filled). `kind` must have `T`'s width; it is conform's
/// kind for the dtype, so tch's `Element::KIND` (wrong for bf16) is not consulted.
pub(crate) fn tensor_of_elements<T: Elem>(data: &[T], kind: Kind) -> Result<Tensor, TchError> {
    let tensor = Tensor::f_empty([data.len() as i64], (kind, Device::Cpu))?;
    assert_eq!(tensor.f_kind()?.elt_size_in_bytes(), size_of::<T>(), "{kind:?} has not the width of {:?}", T::DTYPE);
    if data.is_empty() {
        return Ok(tensor);
    }
    let memory = tensor.data_ptr().cast::<T>();
    assert!(
        !memory.is_null() && memory.is_aligned(),
        "libtorch storage at {memory:p} is not aligned for {:?}",
        T::DTYPE
    );
    advise_huge_pages(memory.cast(), size_of_val(data));
    // SAFETY: `tensor` was allocated by the `empty` call above: contiguous, on the CPU, `data.len()` elements of
    // `size_of::<T>()` bytes (checked), at a non-null address aligned for `T` (checked). No other tensor, view or Rust
    // reference reaches that memory yet, and `data` is memory Rust lent us, which libtorch's new allocation cannot
    // overlap. The write goes through a raw pointer and nothing runs between `data_ptr` and the copy.
    unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), memory, data.len()) };
    Ok(tensor)
}

/// The elements of `tensor` in row-major order, bits unchanged, copied with one memcpy out of its contiguous CPU form
/// (the tensor itself when it is a contiguous CPU tensor) into a new `Vec`. Its kind must have `T`'s width, and `T`
/// must not be bool (libtorch may hold other bytes than 0 and 1 there).
pub(crate) fn elements_of_tensor<T: Elem>(tensor: &Tensor) -> Result<Vec<T>, TchError> {
    assert_ne!(T::DTYPE, Dtype::Bool, "a byte libtorch wrote may not be a valid bool");
    let source = tensor.f_to_device(Device::Cpu)?.f_contiguous()?;
    let kind = source.f_kind()?;
    assert_eq!(kind.elt_size_in_bytes(), size_of::<T>(), "{kind:?} has not the width of {:?}", T::DTYPE);
    assert!(source.is_contiguous() && source.device() == Device::Cpu, "libtorch's contiguous CPU form is not one");
    let numel = source.numel();
    let mut elements = Vec::<T>::with_capacity(numel);
    if numel == 0 {
        return Ok(elements);
    }
    let memory = source.data_ptr().cast::<T>().cast_const();
    assert!(
        !memory.is_null() && memory.is_aligned(),
        "libtorch storage at {memory:p} is not aligned for {:?}",
        T::DTYPE
    );
    advise_huge_pages(elements.as_mut_ptr().cast(), numel * size_of::<T>());
    // SAFETY: `source` is a contiguous CPU tensor (checked) that stays alive to the end of this function, so its
    // `numel` elements of `size_of::<T>()` bytes (checked) lie one after another from `memory`, non-null and aligned
    // for `T` (checked), and are initialized; `elements` has room for `numel` of them in memory that libtorch cannot
    // reach. Every bit pattern is a valid `T` (bool is refused above). Nothing runs between `data_ptr` and the copy,
    // and `set_len` covers exactly the elements written.
    unsafe {
        std::ptr::copy_nonoverlapping(memory, elements.as_mut_ptr(), numel);
        elements.set_len(numel);
    }
    Ok(elements)
}

/// Below this many bytes a copying conversion does not ask for huge pages (a 2 MiB page needs 2 MiB of aligned room).
pub const HUGE_PAGES_FROM: usize = 4 << 20;

/// Asks the kernel to back the whole 2 MiB pages inside `len` bytes from `start` with transparent huge pages
/// (`madvise(MADV_HUGEPAGE)`), when `len` is at least [`HUGE_PAGES_FROM`]. For memory a conversion is about to
/// write for the first time: fresh pages are faulted in and cleared by the kernel one at a time, and at 256 MiB that
/// took over 40 % of a conversion's cycles with 4 KiB pages. Only the mapping's advice changes, never the memory's
/// contents; where the kernel has transparent huge pages off, or the range is not a private anonymous mapping, the
/// call fails and is ignored (the conversion is the same, only slower). Public for the conversion benchmark, which
/// times memcpy into memory advised the same way; sound for any pointer, since it touches no memory.
pub fn advise_huge_pages(start: *mut u8, len: usize) {
    const HUGE: usize = 2 << 20;
    if len < HUGE_PAGES_FROM {
        return;
    }
    let first = (start as usize).next_multiple_of(HUGE);
    let end = (start as usize + len) & !(HUGE - 1);
    if end > first {
        // SAFETY: madvise with MADV_HUGEPAGE only sets a flag on the mappings that hold [first, end), a range inside
        // the `len` bytes the caller owns from `start`; it reads and writes no memory, and on a range it cannot
        // advise it returns an error that changes nothing.
        unsafe { libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE) };
    }
}

fn outside(layout: &Layout, index: &[usize]) -> ViewError {
    ViewError::Index { index: index.to_vec(), shape: layout.shape.clone() }
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

    fn bits(t: &Tensor) -> Vec<u64> {
        tensor_bits(t).unwrap().bits
    }

    #[test]
    fn tensor_and_array_see_the_same_memory() {
        let buffer = SharedBuffer::new(Dtype::I16, &[1, 2, 3, 4, 5, 6, 7]).unwrap();
        let l = layout(&[2, 3], &[1, 2], 1);
        let view = buffer.tensor(&l).unwrap();
        assert_eq!(bits(&view), vec![2, 4, 6, 3, 5, 7]);
        assert_eq!(view.data_ptr() as usize, buffer.element_address(1));
        assert_eq!(buffer.array_addresses(&l).unwrap()[5], buffer.element_address(6));
        buffer.array_set(&l, &[1, 2], 0xffff).unwrap();
        assert_eq!(buffer.get(6), 0xffff);
        assert_eq!(buffer.array_get(&l, &[1, 2]).unwrap(), 0xffff);
        assert_eq!(bits(&view), vec![2, 4, 6, 3, 5, 0xffff]);
    }

    #[test]
    fn refuses_what_libtorch_cannot_take_and_arrays_take_any_layout() {
        let buffer = SharedBuffer::new(Dtype::F32, &[0; 4]).unwrap();
        let negative = buffer.tensor(&layout(&[2], &[-1], 1)).err().unwrap();
        assert!(negative.to_string().contains("negative stride"), "{negative}");
        assert!(negative.hint().unwrap().contains("copy_to_tensor"));
        let outside = buffer.tensor(&layout(&[2], &[4], 0)).err().unwrap();
        assert!(outside.to_string().contains("addresses storage elements 0..=4 but the storage holds 4"), "{outside}");
        assert!(outside.hint().is_some());
        // Views of cells take negative and overlapping layouts alike.
        assert_eq!(buffer.array_addresses(&layout(&[2], &[-1], 1)).unwrap().len(), 2);
        buffer.array_set(&layout(&[2], &[0], 3), &[1], 0x3f80_0000).unwrap();
        assert_eq!(buffer.snapshot(), vec![0, 0, 0, 0x3f80_0000]);
        let beyond = buffer.array_get(&layout(&[2], &[1], 0), &[2]).unwrap_err();
        assert_eq!(beyond, ViewError::Index { index: vec![2], shape: vec![2] });
        for e in [negative, outside, beyond] {
            assert!(!e.to_string().contains('\n'), "{e}");
        }
    }

    #[test]
    fn libtorch_refuses_a_negative_stride_with_an_error_not_an_abort() {
        let storage = Tensor::f_zeros([4], (Kind::Float, Device::Cpu)).unwrap();
        let err = storage.f_as_strided([2], [-1], 1).unwrap_err().to_string();
        assert!(err.contains("Negative strides are not supported"), "{err}");
    }

    #[test]
    fn views_keep_their_buffer_alive() {
        let buffer = SharedBuffer::new(Dtype::U8, &[9, 8]).unwrap();
        let view = buffer.tensor(&layout(&[2], &[1], 0)).unwrap();
        let derived = view.f_select(0, 1).unwrap();
        let clone = view.shallow_clone();
        drop(view);
        drop(buffer);
        assert_eq!(bits(&derived), vec![8]);
        assert_eq!(bits(&clone), vec![9, 8]);
    }

    #[test]
    fn the_buffer_follows_its_storage_when_a_caller_resizes_it() {
        let buffer = SharedBuffer::new(Dtype::I32, &[1, 2, 3]).unwrap();
        let view = buffer.tensor(&layout(&[3], &[1], 0)).unwrap();
        let before = buffer.base_address();
        // Reallocates the storage every view shares and frees the old memory (a shallow clone would share the
        // view's own metadata too, so resize an alias).
        let mut grown = view.f_alias().unwrap();
        let _ = grown.f_resize_([1 << 20]).unwrap();
        assert_ne!(buffer.base_address(), before);
        assert_eq!(buffer.snapshot(), vec![1, 2, 3]);
        buffer.set(0, 7);
        assert_eq!(bits(&view), vec![7, 2, 3]);
        assert_eq!(buffer.array_get(&layout(&[3], &[1], 0), &[0]).unwrap(), 7);
        assert!(buffer.contains_address(view.data_ptr() as usize));
    }

    #[test]
    fn bool_bytes_libtorch_wrote_are_bits_not_bools() {
        let buffer = SharedBuffer::new(Dtype::Bool, &[1, 0]).unwrap();
        let l = layout(&[2], &[1], 0);
        let mut bytes = buffer.tensor(&l).unwrap().f_view_dtype(Kind::Uint8).unwrap();
        let _ = bytes.f_fill_(2).unwrap();
        assert_eq!(buffer.snapshot(), vec![2, 2]);
        assert_eq!(buffer.array_get(&l, &[1]).unwrap(), 2);
        let refused = buffer.array_to_tensor(&l, ArrayToTensor::CopyToTensor).unwrap_err();
        assert_eq!(refused, ViewError::NotBool { index: 0, byte: 2 });
        buffer.set(0, 1);
        buffer.set(1, 0);
        let copy = buffer.array_to_tensor(&l, ArrayToTensor::TchTryFrom).unwrap().unwrap();
        assert_eq!(bits(&copy), vec![1, 0]);
    }

    #[test]
    fn conversions_read_the_array_in_place_and_make_new_memory() {
        let buffer = SharedBuffer::new(Dtype::F64, &[1, 2, 3, 4]).unwrap();
        let transposed = layout(&[2, 2], &[1, 2], 0);
        assert_eq!(buffer.array_to_tensor(&transposed, ArrayToTensor::TchTryFrom).unwrap(), None);
        let copy = buffer.array_to_tensor(&transposed, ArrayToTensor::CopyToTensor).unwrap().unwrap();
        assert_eq!(bits(&copy), vec![1, 3, 2, 4]);
        assert!(!buffer.contains_address(copy.data_ptr() as usize));
    }
}
