//! Test helpers: run a check through the same search loop the harness uses and return the shrunk failure, and the
//! planted defects the families' power tests share — each wrong in exactly one element of a case of several
//! elements (at the first, a middle or the last position; at the last NaN, negative zero or subnormal), or of the
//! wrong length — so that a check that looks at one element only, or waves a class of values through, is caught.

use std::sync::Arc;

use conform_generators::{arb_case, search, CaseSpace, Dtype, Layout, SearchConfig, TensorCase};
use tch::{TchError, Tensor};

use crate::convert::{tensor_bits, ToArray, ToTensor};
use crate::element::kind_of;
use crate::property::{outcome, Failure, Verdict};

/// The minimal failing case of `check` over `space`, searching seeds 0, 1, … until one fails.
pub fn minimal_failure(space: CaseSpace, check: impl Fn(&TensorCase) -> Verdict) -> (TensorCase, Failure) {
    let strategy = arb_case(space);
    for seed in 0..20 {
        let report =
            search(&strategy, "test", &SearchConfig::new(500, seed), |c| outcome(check(c)), |_, _| {}).unwrap();
        if let Some(found) = report.found {
            return (found.minimal, found.failure);
        }
    }
    panic!("the planted defect was never detected: the property cannot fail");
}

/// Asserts that `check` passes 300 cases of `space`.
pub fn assert_passes(space: CaseSpace, check: impl Fn(&TensorCase) -> Verdict) {
    let strategy = arb_case(space);
    let report = search(&strategy, "test", &SearchConfig::new(300, 1), |c| outcome(check(c)), |_, _| {}).unwrap();
    if let Some(found) = report.found {
        panic!("unexpected failure on {:?}: {}", found.minimal, found.failure);
    }
}

/// Asserts that `check` fails over `space`, shrinks to the case whose `Debug` form is `case`, with `signature`;
/// `what` names the check and defect in the panic message. Returns the failure for further assertions.
#[track_caller]
pub fn assert_caught(
    what: &str,
    space: CaseSpace,
    check: impl Fn(&TensorCase) -> Verdict,
    case: &str,
    signature: &str,
) -> Failure {
    let (found, failure) = minimal_failure(space, check);
    assert_eq!((format!("{found:?}").as_str(), failure.signature.as_str()), (case, signature), "{what}: {failure}");
    failure
}

/// Where a positional defect strikes, in a case of at least three elements (so that first, middle and last are
/// three different elements and a check that reads only one of them misses the other two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    First,
    Middle,
    Last,
}

impl Position {
    pub const ALL: [Position; 3] = [Position::First, Position::Middle, Position::Last];

    /// The flat index struck in a case of `numel` elements, `None` below three elements.
    pub fn index(self, numel: usize) -> Option<usize> {
        (numel >= 3).then_some(match self {
            Position::First => 0,
            Position::Middle => numel / 2,
            Position::Last => numel - 1,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Position::First => "first element wrong",
            Position::Middle => "middle element wrong",
            Position::Last => "last element wrong",
        }
    }
}

/// One element as a planted defect sees it: its flat index among `numel`, the bits `x` that went in (dtype
/// `from`) and the bits `y` that came out (dtype `to`).
#[derive(Debug, Clone, Copy)]
pub struct Element {
    pub index: usize,
    pub numel: usize,
    pub from: Dtype,
    pub x: u64,
    pub to: Dtype,
    pub y: u64,
}

type Rewrite = dyn Fn(Dtype, &[u64], Dtype, &mut Vec<u64>) + Send + Sync;

/// A planted defect on an operation's output bits (row-major), given the input's bits.
#[derive(Clone)]
pub struct Defect {
    pub name: &'static str,
    rewrite: Arc<Rewrite>,
}

impl Defect {
    /// Rewrites `out`, the output of an operation from `inputs` of dtype `from` into dtype `to`.
    pub fn apply(&self, from: Dtype, inputs: &[u64], to: Dtype, out: &mut Vec<u64>) {
        (self.rewrite)(from, inputs, to, out)
    }

    /// Changes exactly one element: the last one for which `strike` gives new bits that differ from the right ones.
    pub fn one(name: &'static str, strike: impl Fn(Element) -> Option<u64> + Send + Sync + 'static) -> Defect {
        Defect {
            name,
            rewrite: Arc::new(move |from, inputs, to, out| {
                let numel = out.len().min(inputs.len());
                let struck = (0..numel).rev().find_map(|index| {
                    let e = Element { index, numel, from, x: inputs[index], to, y: out[index] };
                    strike(e).filter(|&bits| bits != e.y).map(|bits| (index, bits))
                });
                if let Some((index, bits)) = struck {
                    out[index] = bits;
                }
            }),
        }
    }

    /// The element at `position` is off: a float's top significand bit flipped (far outside any ulp bound; a
    /// zero becomes a subnormal, a quiet NaN an infinity), an integer's lowest bit.
    pub fn at(position: Position) -> Defect {
        Defect::one(position.name(), move |e| (position.index(e.numel) == Some(e.index)).then(|| flip(e.to, e.y)))
    }

    /// In a case of several elements, the last NaN input comes out as 0.
    pub fn nan_made_zero() -> Defect {
        Defect::one("NaN made 0", |e| (e.numel >= 2 && is_nan(e.from, e.x)).then_some(0))
    }

    /// In a case of several elements, the last -0.0 input comes out without its sign (float outputs only).
    pub fn negative_zero_sign_dropped() -> Defect {
        Defect::one("-0.0 sign dropped", |e| {
            let negative_zero = e.from.float_format().is_some_and(|f| e.x == f.sign_bit());
            let sign = e.to.float_format()?.sign_bit();
            (e.numel >= 2 && negative_zero).then_some(e.y & !sign)
        })
    }

    /// In a case of several elements, the last subnormal (input or output) comes out as a zero of the output's
    /// sign (false for bool), as under flush-to-zero or denormals-are-zero.
    pub fn subnormal_flushed() -> Defect {
        Defect::one("subnormal flushed", |e| {
            (e.numel >= 2 && (is_subnormal(e.from, e.x) || is_subnormal(e.to, e.y)))
                .then(|| e.to.float_format().map_or(0, |f| e.y & f.sign_bit()))
        })
    }

    /// `inner`, only on the conversion `from` → `to`.
    pub fn only(from: Dtype, to: Dtype, inner: Defect) -> Defect {
        let name = leak(format!("{} ({from}→{to} only)", inner.name));
        Defect {
            name,
            rewrite: Arc::new(move |f, inputs, t, out| {
                if (f, t) == (from, to) {
                    inner.apply(f, inputs, t, out)
                }
            }),
        }
    }

    /// The output has no values, one value too few (of at least two), or one too many.
    pub fn length(length: Length) -> Defect {
        Defect {
            name: length.name(),
            rewrite: Arc::new(move |_, _, _, out| match length {
                Length::Empty => out.clear(),
                // In an output of several values, so that it differs from an empty one.
                Length::OneShort if out.len() >= 2 => {
                    out.pop();
                }
                Length::OneShort => {}
                Length::OneLong => out.push(0),
            }),
        }
    }

    /// Every positional and value-class defect: first, middle, last element, NaN made 0, -0.0 sign dropped,
    /// subnormal flushed.
    pub fn one_element() -> Vec<Defect> {
        let mut all: Vec<Defect> = Position::ALL.into_iter().map(Defect::at).collect();
        all.extend([Defect::nan_made_zero(), Defect::negative_zero_sign_dropped(), Defect::subnormal_flushed()]);
        all
    }
}

/// An output of the wrong length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    Empty,
    OneShort,
    OneLong,
}

impl Length {
    pub const ALL: [Length; 3] = [Length::Empty, Length::OneShort, Length::OneLong];

    pub fn name(self) -> &'static str {
        match self {
            Length::Empty => "empty output",
            Length::OneShort => "one value short",
            Length::OneLong => "one value long",
        }
    }
}

/// A float's top significand bit flipped, an integer's (or bool's) lowest bit.
pub fn flip(dtype: Dtype, bits: u64) -> u64 {
    bits ^ dtype.float_format().map_or(1, |f| 1 << (f.man_bits - 1))
}

pub fn is_nan(dtype: Dtype, bits: u64) -> bool {
    dtype.float_format().is_some_and(|f| f.is_nan(bits))
}

pub fn is_subnormal(dtype: Dtype, bits: u64) -> bool {
    dtype.float_format().is_some_and(|f| bits & f.exp_mask() == 0 && bits & f.man_mask() != 0)
}

/// A name for a planted operation (the operations' names are `&'static str`).
pub fn leak(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}

/// The elements `logical` (row-major, laid out by `layout`) in the order of their addresses in memory: what an
/// operation that copies the storage straight through, ignoring the strides, would read.
pub fn memory_order(layout: &Layout, logical: &[u64]) -> Vec<u64> {
    let mut addressed: Vec<(usize, u64)> = layout.addresses().into_iter().zip(logical.iter().copied()).collect();
    addressed.sort_by_key(|&(address, _)| address);
    addressed.into_iter().map(|(_, bits)| bits).collect()
}

/// The case with its elements in memory order when its layout is not C-contiguous (the planted "reads the
/// storage in memory order" defect); the case itself otherwise.
pub fn memory_ordered(case: &TensorCase) -> TensorCase {
    if case.layout().is_c_contiguous() {
        return case.clone();
    }
    TensorCase::contiguous(case.dtype(), case.shape(), memory_order(case.layout(), &case.logical()))
        .expect("same shape")
}

/// A tensor's elements in memory order when it is not contiguous (the same defect, on a tensor).
pub fn memory_ordered_tensor(t: &Tensor) -> Result<Tensor, TchError> {
    if t.is_contiguous() {
        return crate::convert::deep_copy(t);
    }
    let bits = tensor_bits(t).map_err(|e| TchError::Convert(e.to_string()))?;
    let strides = t.stride().iter().map(|&s| s as isize).collect();
    let layout = Layout { shape: bits.shape.clone(), strides, offset: 0 };
    tensor_of(bits.dtype, &bits.shape, memory_order(&layout, &bits.bits))
}

/// A new contiguous tensor holding `bits`.
pub fn tensor_of(dtype: Dtype, shape: &[usize], bits: Vec<u64>) -> Result<Tensor, TchError> {
    let case = TensorCase::contiguous(dtype, shape, bits).map_err(|e| TchError::Convert(e.to_string()))?;
    (ToTensor::copying().run)(&case).map_err(|e| TchError::Convert(e.to_string()))
}

/// A tensor's elements rewritten by `defect` (input and output are the same elements: a copy that corrupts).
pub fn corrupted(t: &Tensor, defect: &Defect) -> Result<Tensor, TchError> {
    let bits = tensor_bits(t).map_err(|e| TchError::Convert(e.to_string()))?;
    let mut out = bits.bits.clone();
    defect.apply(bits.dtype, &bits.bits, bits.dtype, &mut out);
    if out.len() == bits.bits.len() {
        return tensor_of(bits.dtype, &bits.shape, out);
    }
    // A tensor of another length needs another shape: one dimension of that length.
    let bytes: Vec<u8> = out.iter().flat_map(|b| b.to_le_bytes().into_iter().take(bits.dtype.size_bytes())).collect();
    Tensor::f_from_data_size(&bytes, &[out.len() as i64], kind_of(bits.dtype))
}

/// `conform copy_to_array`, with `defect` planted in what it returns.
pub fn defective_to_array(defect: &Defect) -> ToArray {
    let defect = defect.clone();
    ToArray {
        name: defect.name,
        run: Box::new(move |t, dtype| {
            let mut out = (ToArray::copying().run)(t, dtype)?;
            let inputs = tensor_bits(t)?.bits;
            defect.apply(dtype, &inputs, dtype, &mut out.bits);
            Ok(out)
        }),
    }
}

/// `conform copy_to_tensor`, with `defect` planted in the tensor it makes (same length only: a tensor's length is
/// its shape's).
pub fn defective_to_tensor(defect: &Defect) -> ToTensor {
    let defect = defect.clone();
    ToTensor {
        name: defect.name,
        run: Box::new(move |case| {
            let tensor = (ToTensor::copying().run)(case)?;
            Ok(corrupted(&tensor, &defect)?)
        }),
    }
}

/// `conform copy_to_tensor` reading the storage in memory order when the case's layout is not C-contiguous.
pub fn memory_order_to_tensor() -> ToTensor {
    ToTensor {
        name: "memory order if not C-contiguous",
        run: Box::new(|case| (ToTensor::copying().run)(&memory_ordered(case))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_element_defects_change_exactly_one_element() {
        let inputs = [0x7fc0_0000u64, 0x8000_0000, 1, 0x3f80_0000, 0x8000_0000, 0x7f80_0001, 2];
        for defect in Defect::one_element() {
            let mut out = inputs.to_vec();
            defect.apply(Dtype::F32, &inputs, Dtype::F32, &mut out);
            let changed: Vec<usize> = (0..out.len()).filter(|&k| out[k] != inputs[k]).collect();
            let expected = match defect.name {
                "first element wrong" => 0,
                "middle element wrong" => 3,
                "last element wrong" | "subnormal flushed" => 6,
                "NaN made 0" => 5,
                _ => 4,
            };
            assert_eq!(changed, vec![expected], "{}", defect.name);
        }
        let mut two = vec![0, 0];
        Defect::at(Position::Last).apply(Dtype::I8, &[0, 0], Dtype::I8, &mut two);
        assert_eq!(two, vec![0, 0], "fewer than three elements: no position is struck");
    }

    #[test]
    fn memory_order_follows_addresses() {
        let transposed = Layout { shape: vec![2, 2], strides: vec![1, 2], offset: 0 };
        assert_eq!(memory_order(&transposed, &[10, 11, 12, 13]), vec![10, 12, 11, 13]);
    }
}
