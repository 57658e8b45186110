//! Aliasing family: does a tensor still share memory with the array it came from? Zero-copy views (like
//! `torch.from_numpy`) must alias both ways at exactly the addressed element and nowhere else; copying conversions
//! must never alias; view ops must alias and copy ops must not, with the result's layout predicted exactly by the
//! stride arithmetic below (not by asking libtorch); `requires_grad_` keeps aliasing (the article says it copies);
//! writes into a layout whose elements share memory are refused.

use std::rc::Rc;
use std::sync::Arc;

use conform_generators::{CaseSpace, Dtype, Layout, TensorCase};
use ndarray::ArrayD;
use tch::{TchError, Tensor};

use crate::claims::Claim;
use crate::convert::{copy_to_array, copy_to_tensor, tensor_bits, ArrayBits};
use crate::element::{kind_of, Elem};
use crate::property::{tch_fail, CaseError, DeviceNeed, Family, Property};
use crate::view::{SharedBuffer, TensorView, ViewError};
use crate::with_elem;

/// Makes a tensor over a buffer with a layout: the zero-copy view under test.
pub type MakeView = dyn Fn(&Rc<SharedBuffer>, &Layout) -> Result<TensorView, ViewError> + Send + Sync;

/// The real zero-copy view.
pub fn zero_copy(buffer: &Rc<SharedBuffer>, layout: &Layout) -> Result<TensorView, ViewError> {
    buffer.tensor(layout)
}

/// A view of the case's storage, or the reject/fail a property reports when there is none.
fn view_of(case: &TensorCase, make: &MakeView) -> Result<(Rc<SharedBuffer>, TensorView), CaseError> {
    let buffer = SharedBuffer::from_case(case);
    match make(&buffer, case.layout()) {
        Ok(view) => Ok((buffer, view)),
        Err(ViewError::NegativeStride { .. }) => Err(CaseError::Reject(
            "negative strides: libtorch cannot represent them (from_blob would abort), so no zero-copy view is made"
                .into(),
        )),
        Err(e) => Err(CaseError::fail("zero-copy view refused", format!("zero-copy view refused a valid layout: {e}"))),
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

/// Property 1: a write through the tensor appears in the array at the same logical index and vice versa, and no
/// other storage element changes.
pub fn check_view_writes(case: &TensorCase, make: &MakeView) -> Result<(), CaseError> {
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
    let mut target = element(view.tensor(), &index).map_err(|e| tch_fail("select", e))?;
    let src = scalar(dtype, first).map_err(|e| tch_fail("scalar", e))?;
    target.f_copy_(&src).map_err(|e| tch_fail("copy_ into the element", e))?;
    if let Some(diff) = storage_diff(dtype, &expected, &buffer.snapshot()) {
        return Err(CaseError::fail(
            "a write through the tensor does not land at the array's element",
            format!(
                "after writing {} through tensor{idx}: {diff} [{dtype}, layout {:?}]",
                dtype.hex(first),
                case.layout()
            ),
        ));
    }
    let seen = with_elem!(dtype, T => buffer.with_array::<T, _>(case.layout(), |a| a[index.as_slice()].raw()))
        .map_err(|e| tch_fail("array view", e))?;
    if seen != first {
        return Err(CaseError::fail(
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
    let written = with_elem!(dtype, T => buffer.with_array_mut::<T, _>(case.layout(), |mut a| a[index.as_slice()] = T::from_raw(second)));
    match written {
        Ok(()) => {}
        // ndarray has no mutable view of an overlapping layout: write the storage element the index addresses.
        Err(ViewError::Overlapping) => buffer.set(address, second),
        Err(e) => return Err(tch_fail("mutable array view", e)),
    }
    let got = tensor_bits(&element(view.tensor(), &index).map_err(|e| tch_fail("select", e))?)
        .map_err(|e| tch_fail("read", e))?
        .bits[0];
    if got != second {
        return Err(CaseError::fail(
            "tensor does not see a write through the array",
            format!(
                "tensor{idx} is {} after writing {} through array{idx} [{dtype}, layout {:?}]",
                dtype.hex(got),
                dtype.hex(second),
                case.layout()
            ),
        ));
    }
    let whole = tensor_bits(view.tensor()).map_err(|e| tch_fail("read", e))?.bits;
    let storage = buffer.snapshot();
    let wanted: Vec<u64> = case.layout().addresses().iter().map(|&a| storage[a]).collect();
    if whole != wanted {
        let k = (0..wanted.len()).find(|&k| whole[k] != wanted[k]).unwrap_or(0);
        return Err(CaseError::fail(
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

/// Property 2: for every logical index, the tensor's element address equals the array's, and both equal the
/// project's address arithmetic.
pub fn check_addresses(case: &TensorCase, make: &MakeView) -> Result<(), CaseError> {
    let (buffer, view) = view_of(case, make)?;
    let addresses = case.layout().addresses();
    let array: Vec<usize> = with_elem!(case.dtype(), T => buffer.with_array::<T, _>(case.layout(), |a| {
        a.iter().map(|x| x as *const T as usize).collect()
    }))
    .map_err(|e| tch_fail("array view", e))?;
    // libtorch's own view metadata, read once: an element's address is data_ptr + Σ index·stride.
    let t = view.tensor();
    if t.size().iter().map(|&n| n as usize).ne(case.shape().iter().copied()) {
        return Err(CaseError::fail(
            "zero-copy view has the wrong shape",
            format!("tensor shape {:?}, array shape {:?}", t.size(), case.shape()),
        ));
    }
    let (base, strides, size) = (t.data_ptr() as i128, t.stride(), case.dtype().size_bytes() as i128);
    for (flat, &address) in addresses.iter().enumerate() {
        let index = case.layout().unravel(flat);
        let offset: i128 = index.iter().zip(&strides).map(|(&i, &s)| i as i128 * s as i128).sum();
        let tensor = (base + offset * size) as usize;
        let oracle = buffer.element_address(address);
        if tensor != array[flat] || array[flat] != oracle {
            let rel = |a: usize| (a as i128 - buffer.base_address() as i128) / case.dtype().size_bytes() as i128;
            return Err(CaseError::fail(
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

/// What a copying conversion produced, with a way to read it again later.
pub struct Copied {
    /// Address of its first element.
    pub address: usize,
    pub reread: Box<dyn Fn() -> Result<Vec<u64>, String>>,
}

/// What a [`CopyOp`] runs; `None` when the conversion does not apply to the case.
pub type CopyFn = Box<dyn Fn(&Rc<SharedBuffer>, &TensorCase) -> Result<Option<Copied>, String> + Send + Sync>;

/// A copying conversion from the buffer (with the case's layout) to a new tensor or array.
pub struct CopyOp {
    pub name: &'static str,
    pub run: CopyFn,
}

fn copied_tensor(tensor: Tensor) -> Copied {
    Copied {
        address: tensor.data_ptr() as usize,
        reread: Box::new(move || tensor_bits(&tensor).map(|b| b.bits).map_err(|e| e.to_string())),
    }
}

fn copied_array<T: Elem>(array: ArrayD<T>) -> Copied {
    Copied { address: array.as_ptr() as usize, reread: Box::new(move || Ok(ArrayBits::of(&array).bits)) }
}

/// The copying conversions conform checks: both directions, tch's and the project's. `None` means the conversion
/// does not apply to the case (tch's TryFrom needs a standard layout; the tensor side needs a zero-copy source).
pub fn copy_ops() -> Vec<CopyOp> {
    vec![
        CopyOp {
            name: "tch TryFrom<&ArrayView>",
            run: Box::new(|buffer, case| {
                with_elem!(case.dtype(), T => buffer.with_array::<T, _>(case.layout(), |a| {
                    a.is_standard_layout().then(|| Tensor::try_from(&a).map(copied_tensor).map_err(|e| e.to_string())).transpose()
                }).map_err(|e| e.to_string())?)
            }),
        },
        CopyOp {
            name: "conform copy_to_tensor",
            run: Box::new(|buffer, case| {
                with_elem!(case.dtype(), T => buffer.with_array::<T, _>(case.layout(), |a| {
                    copy_to_tensor(&a).map(|t| Some(copied_tensor(t))).map_err(|e| e.to_string())
                }).map_err(|e| e.to_string())?)
            }),
        },
        CopyOp {
            name: "tch TryInto<ArrayD>",
            run: Box::new(|buffer, case| {
                let Ok(view) = buffer.tensor(case.layout()) else { return Ok(None) };
                with_elem!(case.dtype(), T => {
                    let array: Result<ArrayD<T>, _> = view.tensor().try_into();
                    array.map(|a| Some(copied_array(a))).map_err(|e| e.to_string())
                })
            }),
        },
        CopyOp {
            name: "conform copy_to_array",
            run: Box::new(|buffer, case| {
                let Ok(view) = buffer.tensor(case.layout()) else { return Ok(None) };
                with_elem!(case.dtype(), T => copy_to_array::<T>(view.tensor()).map(|a| Some(copied_array(a))).map_err(|e| e.to_string()))
            }),
        },
    ]
}

/// Property 3: a copying conversion's result lies outside the source memory and does not change when the source
/// does.
pub fn check_copies_never_alias(case: &TensorCase, ops: &[CopyOp]) -> Result<(), CaseError> {
    if case.numel() == 0 {
        return Ok(());
    }
    for op in ops {
        let buffer = SharedBuffer::from_case(case);
        let Some(copied) = (op.run)(&buffer, case)
            .map_err(|e| CaseError::fail(format!("{} failed", op.name), format!("{} failed: {e}", op.name)))?
        else {
            continue;
        };
        let before = (copied.reread)().map_err(|e| tch_fail("read", e))?;
        if buffer.contains_address(copied.address) {
            return Err(CaseError::fail(
                format!("{} aliases its source", op.name),
                format!(
                    "{} result starts inside the source storage [{}, layout {:?}]",
                    op.name,
                    case.dtype(),
                    case.layout()
                ),
            ));
        }
        for i in 0..buffer.len() {
            buffer.set(i, other(case.dtype(), buffer.get(i)));
        }
        let after = (copied.reread)().map_err(|e| tch_fail("read", e))?;
        if after != before {
            return Err(CaseError::fail(
                format!("{} result changes with its source", op.name),
                format!("{} result changed when the source storage was overwritten [{}]", op.name, case.dtype()),
            ));
        }
    }
    Ok(())
}

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

/// An op under test with its oracle; `oracle` returns `None` when the op does not apply to the layout.
pub struct ViewOp {
    pub name: &'static str,
    pub oracle: fn(&Layout) -> Option<Expect>,
    pub run: fn(&Tensor) -> Result<Tensor, TchError>,
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

fn same(l: &Layout) -> Option<Expect> {
    Some(Expect::View(l.clone()))
}

fn copy_of(l: &Layout) -> Expect {
    Expect::Copy { shape: l.shape.clone(), addresses: l.addresses() }
}

/// The ops conform checks, each with its stride-arithmetic oracle.
pub fn view_ops() -> Vec<ViewOp> {
    vec![
        ViewOp {
            name: "reshape([numel])",
            oracle: |l| {
                Some(flat_view(l).map_or_else(
                    || Expect::Copy { shape: vec![l.numel().unwrap_or(0)], addresses: l.addresses() },
                    Expect::View,
                ))
            },
            run: |t| t.f_reshape([t.numel() as i64]),
        },
        ViewOp {
            name: "view([numel])",
            oracle: |l| Some(flat_view(l).map_or(Expect::Error, Expect::View)),
            run: |t| t.f_view_([t.numel() as i64]),
        },
        ViewOp {
            name: "transpose(0, -1)",
            oracle: |l| {
                let mut out = l.clone();
                let last = l.rank().checked_sub(1)?;
                out.shape.swap(0, last);
                out.strides.swap(0, last);
                Some(Expect::View(out))
            },
            run: |t| t.f_transpose(0, -1),
        },
        ViewOp {
            name: "permute(reversed)",
            oracle: |l| {
                let mut out = l.clone();
                out.shape.reverse();
                out.strides.reverse();
                Some(Expect::View(out))
            },
            run: |t| t.f_permute((0..t.dim() as i64).rev().collect::<Vec<_>>()),
        },
        ViewOp {
            name: "narrow(0, n/2, n - n/2)",
            oracle: |l| {
                let n = *l.shape.first()?;
                let mut out = l.clone();
                out.shape[0] = n - n / 2;
                if n > 0 {
                    out.offset = (l.offset as isize + (n / 2) as isize * l.strides[0]) as usize;
                }
                Some(Expect::View(out))
            },
            run: |t| {
                let n = t.size()[0];
                t.f_narrow(0, n / 2, n - n / 2)
            },
        },
        ViewOp {
            name: "slice(0, step 2)",
            oracle: |l| {
                let n = *l.shape.first()?;
                let mut out = l.clone();
                out.shape[0] = n.div_ceil(2);
                // A stored case may give a size-1 dimension any stride; one that cannot double is not covered.
                out.strides[0] = out.strides[0].checked_mul(2)?;
                Some(Expect::View(out))
            },
            run: |t| t.f_slice(0, 0, t.size()[0], 2),
        },
        ViewOp {
            name: "select(0, 0)",
            oracle: |l| {
                (*l.shape.first()? > 0).then(|| {
                    Expect::View(Layout {
                        shape: l.shape[1..].to_vec(),
                        strides: l.strides[1..].to_vec(),
                        offset: l.offset,
                    })
                })
            },
            run: |t| t.f_select(0, 0),
        },
        ViewOp {
            name: "expand([2, ...])",
            oracle: |l| {
                let mut out = l.clone();
                out.shape.insert(0, 2);
                out.strides.insert(0, 0);
                Some(Expect::View(out))
            },
            run: |t| t.f_expand([&[2][..], &t.size()[..]].concat(), false),
        },
        ViewOp {
            name: "unsqueeze(0)",
            oracle: |l| {
                let mut out = l.clone();
                out.shape.insert(0, 1);
                out.strides.insert(0, 1);
                Some(Expect::View(out))
            },
            run: |t| t.f_unsqueeze(0),
        },
        ViewOp {
            name: "squeeze()",
            oracle: |l| {
                let keep: Vec<usize> = (0..l.rank()).filter(|&d| l.shape[d] != 1).collect();
                Some(Expect::View(Layout {
                    shape: keep.iter().map(|&d| l.shape[d]).collect(),
                    strides: keep.iter().map(|&d| l.strides[d]).collect(),
                    offset: l.offset,
                }))
            },
            run: |t| t.f_squeeze(),
        },
        ViewOp { name: "as_strided(same)", oracle: same, run: |t| t.f_as_strided(t.size(), t.stride(), None::<i64>) },
        ViewOp { name: "detach()", oracle: same, run: |t| t.f_detach() },
        ViewOp { name: "to_kind(same kind)", oracle: same, run: |t| t.f_to_kind(t.f_kind()?) },
        ViewOp { name: "to(same device)", oracle: same, run: |t| t.f_to(tch::Device::Cpu) },
        ViewOp {
            name: "contiguous()",
            oracle: |l| Some(if l.is_c_contiguous() { Expect::View(l.clone()) } else { copy_of(l) }),
            run: |t| t.f_contiguous(),
        },
    ]
}

/// Property 4: each op gives what the stride arithmetic predicts — a view with exactly the predicted layout over
/// the same storage, a copy outside it, or an error — and the values the predicted layout addresses.
pub fn check_view_ops(case: &TensorCase, ops: &[ViewOp]) -> Result<(), CaseError> {
    let (buffer, view) = view_of(case, &zero_copy)?;
    let dtype = case.dtype();
    for op in ops {
        let Some(expect) = (op.oracle)(case.layout()) else { continue };
        let at = || format!("[{}, {dtype}, layout {:?}]", op.name, case.layout());
        let result = view.derive(op.run);
        let fail = |what: &str, detail: String| {
            Err(CaseError::fail(format!("{}: {what}", op.name), format!("{detail} {}", at())))
        };
        let result = match (result, &expect) {
            (Err(_), Expect::Error) => continue,
            (Ok(_), Expect::Error) => {
                return fail("a view of an unviewable layout succeeded", "expected an error, got a tensor".into())
            }
            (Err(e), _) => {
                return fail("failed", format!("failed: {}", e.to_string().lines().next().unwrap_or_default()))
            }
            (Ok(r), _) => r,
        };
        let t = result.tensor();
        let shape: Vec<usize> = t.size().iter().map(|&n| n as usize).collect();
        let (want_shape, addresses) = match &expect {
            Expect::View(l) => (l.shape.clone(), l.addresses()),
            Expect::Copy { shape, addresses } => (shape.clone(), addresses.clone()),
            Expect::Error => unreachable!("handled above"),
        };
        if shape != want_shape {
            return fail("wrong shape", format!("shape {shape:?}, expected {want_shape:?}"));
        }
        if addresses.is_empty() {
            continue;
        }
        let inside = buffer.contains_address(t.data_ptr() as usize);
        match (&expect, inside) {
            (Expect::View(l), true) => {
                let offset = (t.data_ptr() as usize - buffer.base_address()) / dtype.size_bytes();
                let strides = t.stride();
                let differs = (0..l.rank()).any(|d| l.shape[d] > 1 && strides[d] != l.strides[d] as i64);
                if offset != l.offset || differs {
                    return fail(
                        "view layout differs from stride arithmetic",
                        format!(
                            "offset {offset} strides {strides:?}, expected offset {} strides {:?}",
                            l.offset, l.strides
                        ),
                    );
                }
            }
            (Expect::View(_), false) => {
                return fail("copied where a view is possible", "result does not alias the array".into())
            }
            (Expect::Copy { .. }, true) => {
                return fail("aliases where a copy is needed", "result aliases the array".into())
            }
            (Expect::Copy { .. }, false) => {}
            (Expect::Error, _) => unreachable!("handled above"),
        }
        let got = tensor_bits(t).map_err(|e| tch_fail("read", e))?.bits;
        let storage = buffer.snapshot();
        let want: Vec<u64> = addresses.iter().map(|&a| storage[a]).collect();
        if got != want {
            let k = (0..want.len()).find(|&k| got[k] != want[k]).unwrap_or(0);
            return fail(
                "wrong values",
                format!("out[{k}] is {} but should be {}", dtype.hex(got[k]), dtype.hex(want[k])),
            );
        }
    }
    Ok(())
}

/// Sets `requires_grad` on a view (the op under test of property 5).
pub type RequiresGrad = dyn Fn(&mut TensorView) -> Result<TensorView, TchError> + Send + Sync;

pub fn requires_grad(view: &mut TensorView) -> Result<TensorView, TchError> {
    view.derive_mut(|t| t.f_requires_grad_(true))
}

/// Property 5 (the article's claim): `requires_grad_(true)` on a zero-copy float view keeps aliasing the array;
/// on an integer or bool view it is an error, not a panic.
pub fn check_requires_grad(case: &TensorCase, op: &RequiresGrad) -> Result<(), CaseError> {
    let (buffer, mut view) = view_of(case, &zero_copy)?;
    let dtype = case.dtype();
    let result = op(&mut view);
    let grad = match (dtype.is_float(), result) {
        (false, Err(_)) => return Ok(()),
        (false, Ok(_)) => {
            return Err(CaseError::fail(
                "requires_grad_ accepted a non-float tensor",
                format!(
                "requires_grad_(true) succeeded on a {dtype} view; only floating point tensors can require gradients"
            ),
            ))
        }
        (true, Err(e)) => return Err(tch_fail("requires_grad_(true) on a float view", e)),
        (true, Ok(grad)) => grad,
    };
    if !grad.tensor().requires_grad() {
        return Err(CaseError::fail(
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
    let seen = tensor_bits(&element(grad.tensor(), &case.layout().unravel(flat)).map_err(|e| tch_fail("select", e))?)
        .map_err(|e| tch_fail("read", e))?
        .bits[0];
    if seen != new {
        return Err(CaseError::fail(
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

/// Writes `src` into a view (the op under test of property 6).
pub type WriteInto = dyn Fn(&TensorView, &Tensor) -> Result<(), TchError> + Send + Sync;

pub fn copy_into(view: &TensorView, src: &Tensor) -> Result<(), TchError> {
    let mut target = view.tensor().f_alias()?;
    target.f_copy_(src)
}

/// Property 6: writing a tensor of distinct values into a view whose layout maps two indices to one element is
/// refused with an error and changes nothing; into a non-overlapping view it lands exactly at the addressed
/// elements and nowhere else.
pub fn check_overlapping_writes(case: &TensorCase, write: &WriteInto) -> Result<(), CaseError> {
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
        (true, Err(_)) => Err(CaseError::fail(
            "refused write into overlapping view still changed storage",
            format!(
                "copy_ into an overlapping view failed but changed the storage: {} {at}",
                storage_diff(dtype, &before, &after).unwrap_or_default()
            ),
        )),
        (true, Ok(())) => Err(CaseError::fail(
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
                Some(diff) => Err(CaseError::fail(
                    "copy_ into a view wrote the wrong elements",
                    format!("after copy_ into the view: {diff} {at}"),
                )),
            }
        }
    }
}

fn space(max_numel: usize) -> CaseSpace {
    CaseSpace::all(max_numel)
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

pub fn properties() -> Vec<Property> {
    let copies = Arc::new(copy_ops());
    let ops = Arc::new(view_ops());
    vec![
        Property {
            name: "aliasing::zero_copy_view_writes_both_ways",
            family: Family::Aliasing,
            device: DeviceNeed::Cpu,
            doc: "a write through a zero-copy tensor appears in the array at the same index and vice versa, and nowhere else",
            claims: &[Claim::SharesMemory],
            space: Arc::new(space),
            check: Arc::new(|case| check_view_writes(case, &zero_copy)),
            tally: None,
        },
        Property {
            name: "aliasing::element_addresses_agree",
            family: Family::Aliasing,
            device: DeviceNeed::Cpu,
            doc: "every element of a zero-copy tensor has the address of the array's element at the same index",
            claims: &[Claim::SharesMemory],
            space: Arc::new(space),
            check: Arc::new(|case| check_addresses(case, &zero_copy)),
            tally: None,
        },
        Property {
            name: "aliasing::copying_conversions_never_alias",
            family: Family::Aliasing,
            device: DeviceNeed::Cpu,
            doc: "tch's TryFrom/TryInto and conform's copy_to_tensor/copy_to_array give new memory that ignores later writes to the source",
            claims: &[Claim::SharesMemory],
            space: Arc::new(space),
            check: Arc::new(move |case| check_copies_never_alias(case, &copies)),
            tally: None,
        },
        Property {
            name: "aliasing::view_ops_alias_copy_ops_do_not",
            family: Family::Aliasing,
            device: DeviceNeed::Cpu,
            doc: "reshape, view, transpose, permute, narrow, slice, select, expand, (un)squeeze, as_strided, detach, to(same kind or device), contiguous give the view, copy or error stride arithmetic predicts",
            claims: &[Claim::ReshapeBreaksSharing, Claim::SharesMemory],
            space: Arc::new(space),
            check: Arc::new(move |case| check_view_ops(case, &ops)),
            tally: None,
        },
        Property {
            name: "aliasing::requires_grad_keeps_aliasing",
            family: Family::Aliasing,
            device: DeviceNeed::Cpu,
            doc: "requires_grad_(true) on a zero-copy float view still aliases the array; on an integer view it is an error",
            claims: &[Claim::RequiresGradCopies],
            space: Arc::new(floats_and_ints),
            check: Arc::new(|case| check_requires_grad(case, &requires_grad)),
            tally: None,
        },
        Property {
            name: "aliasing::overlapping_writes_refused",
            family: Family::Aliasing,
            device: DeviceNeed::Cpu,
            doc: "copy_ into a view whose indices share elements (stride 0) is an error that changes nothing; into any other view it writes exactly the addressed elements",
            claims: &[Claim::SharesMemory],
            space: Arc::new(space),
            check: Arc::new(|case| check_overlapping_writes(case, &copy_into)),
            tally: None,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_passes, minimal_failure};

    fn deep_copy(t: &Tensor) -> Result<Tensor, TchError> {
        let mut copy = t.f_empty_like()?;
        copy.f_copy_(t)?;
        Ok(copy)
    }

    #[test]
    fn flat_view_follows_compute_stride() {
        let l =
            |shape: &[usize], strides: &[isize]| Layout { shape: shape.to_vec(), strides: strides.to_vec(), offset: 0 };
        assert_eq!(flat_view(&l(&[2, 3], &[3, 1])).unwrap().strides, vec![1]);
        assert_eq!(flat_view(&l(&[2, 3], &[6, 2])).unwrap().strides, vec![2]);
        assert!(flat_view(&l(&[2, 3], &[1, 2])).is_none());
        assert_eq!(flat_view(&l(&[2, 1, 3], &[3, 99, 1])).unwrap().shape, vec![6]);
        assert!(flat_view(&l(&[2, 2], &[0, 1])).is_none());
    }

    #[test]
    fn real_ops_pass_on_contiguous_float_cases() {
        let space =
            CaseSpace::all(16).with_dtypes(&[Dtype::F32]).with_layouts(conform_generators::LayoutMix::CONTIGUOUS);
        assert_passes(space.clone(), |c| check_view_writes(c, &zero_copy));
        assert_passes(space, |c| check_addresses(c, &zero_copy));
    }

    #[test]
    fn planted_copying_view_fails_and_shrinks() {
        let copying: &MakeView = &|b, l| b.tensor(l)?.derive(deep_copy).map_err(|e| ViewError::Tch(e.to_string()));
        let (case, failure) = minimal_failure(space(64).with_dtypes(&[Dtype::U8]), |c| check_view_writes(c, copying));
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
        let (case, failure) = minimal_failure(space(64).with_dtypes(&[Dtype::I32]), |c| check_addresses(c, no_offset));
        assert_eq!(
            format!("{case:?}"),
            "TensorCase { dtype: i32, shape: [], strides: [], offset: 1, storage: [0xffffffff = -1, 0x00000000 = 0] }"
        );
        assert_eq!(failure.message, "element[] is storage[0] in the tensor, storage[1] in the array, storage[1] by stride arithmetic [i32, layout Layout { shape: [], strides: [], offset: 1 }]");
    }

    #[test]
    fn planted_aliasing_copy_fails_and_shrinks() {
        // A "copy" to array that hands out a view of the source.
        let aliasing = CopyOp {
            name: "view posing as copy",
            run: Box::new(|buffer, case| {
                let view = buffer.tensor(case.layout()).map_err(|e| e.to_string())?;
                let t = view.derive(|t| t.f_alias()).map_err(|e| e.to_string())?;
                let address = t.tensor().data_ptr() as usize;
                Ok(Some(Copied {
                    address,
                    reread: Box::new(move || tensor_bits(t.tensor()).map(|b| b.bits).map_err(|e| e.to_string())),
                }))
            }),
        };
        let (case, failure) = minimal_failure(space(64).with_dtypes(&[Dtype::F64]), |c| {
            check_copies_never_alias(c, std::slice::from_ref(&aliasing))
        });
        assert_eq!(
            format!("{case:?}"),
            "TensorCase { dtype: f64, shape: [], strides: [], offset: 0, storage: [0x0000000000000000 = 0.0] }"
        );
        assert_eq!(failure.signature, "view posing as copy aliases its source");
    }

    #[test]
    fn planted_copying_transpose_fails_and_shrinks() {
        let ops = [ViewOp {
            name: "transpose via contiguous",
            oracle: view_ops()[2].oracle,
            run: |t| t.f_transpose(0, -1)?.f_contiguous(),
        }];
        let (case, failure) = minimal_failure(space(64).with_dtypes(&[Dtype::I8]), |c| check_view_ops(c, &ops));
        assert_eq!(format!("{case:?}"), "TensorCase { dtype: i8, shape: [2, 2], strides: [2, 1], offset: 0, storage: [0x00 = 0, 0x00 = 0, 0x00 = 0, 0x00 = 0] }");
        assert_eq!(failure.signature, "transpose via contiguous: copied where a view is possible");
    }

    #[test]
    fn planted_cloning_requires_grad_fails_and_shrinks() {
        // What the article describes: requires_grad making the tensor independent of the array.
        let cloning: &RequiresGrad = &|v| v.derive(|t| deep_copy(t)?.f_set_requires_grad(true));
        let (case, failure) =
            minimal_failure(space(64).with_dtypes(&[Dtype::F32]), |c| check_requires_grad(c, cloning));
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
            let shape = view.tensor().size();
            for i in 0..n {
                let mut rest = i;
                let mut target = view.tensor().f_alias()?;
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
        let (case, failure) =
            minimal_failure(space(64).with_dtypes(&[Dtype::I16]), |c| check_overlapping_writes(c, elementwise));
        assert_eq!(
            format!("{case:?}"),
            "TensorCase { dtype: i16, shape: [2], strides: [0], offset: 0, storage: [0x0000 = 0] }"
        );
        assert_eq!(failure.signature, "write into an overlapping view accepted");
    }
}
