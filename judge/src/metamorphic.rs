//! Metamorphic judging: the same question asked two ways must get the same answer. Two judgments, both exact and
//! free of libtorch:
//!
//! - [`same_answer`]: one operation applied to the same input values in several placements (a 0-d tensor per
//!   element, a contiguous tensor, a strided or transposed view, a large tiled tensor, one or several libtorch
//!   threads) must give identical output bits, NaN payloads included. Each placement's output holds, at position
//!   `p`, the answer for input element `p % n` (placements tile the `n` values), so one reference answer of `n`
//!   elements judges every placement, however large.
//! - [`keeps_bits`]: a conversion of a tensor or an array that a library made itself (zeros, ones, full, a cast)
//!   keeps its dtype, shape and bits.
//!
//! Invariant: nothing here reads an element past either side's length, and a verdict never depends on which
//! representation (bytes or bits) an output came in. Signatures name the operation and the kind of breakage (thread
//! count, placement, refusal; the input's value class), never an index, a size or bits, so they survive shrinking.

use conform_generators::{Dtype, Layout, TensorCase};

use crate::compare::{same_len, value_class, Bits};
use crate::verdict::{CheckError, Verdict};

/// An output's elements in row-major logical order: raw little-endian bytes (`dtype.size_bytes()` per element, as
/// libtorch copies them out) or one `u64` of bits per element (as conform's readers give them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elements<'a> {
    Bytes(&'a [u8]),
    Bits(&'a [u64]),
}

/// What one placement answered: its output dtype and elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output<'a> {
    pub dtype: Dtype,
    pub elements: Elements<'a>,
}

impl Output<'_> {
    /// The number of elements (a trailing partial element of a byte output is not one).
    pub fn len(&self) -> usize {
        match self.elements {
            Elements::Bytes(b) => b.len() / self.dtype.size_bytes(),
            Elements::Bits(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bits of element `i` (`i < len()`).
    pub fn get(&self, i: usize) -> u64 {
        match self.elements {
            Elements::Bytes(b) => {
                let w = self.dtype.size_bytes();
                b[i * w..(i + 1) * w].iter().rev().fold(0u64, |acc, &x| acc << 8 | x as u64)
            }
            Elements::Bits(b) => b[i],
        }
    }
}

/// One placement's answer to the question.
#[derive(Debug, Clone)]
pub struct Answer<'a> {
    /// The kind of placement, with no sizes in it (`"large contiguous"`): it goes into failure signatures.
    pub layout: &'a str,
    /// The placement's shape, for messages (`[65536]`; for one-element-at-a-time placements the shape of each).
    pub shape: &'a [usize],
    /// The libtorch intra-op thread count it ran under.
    pub threads: i32,
    /// How many elements it holds: position `p` answers input element `p % n`.
    pub len: usize,
    /// The output, or the error the operation returned instead (its first line).
    pub out: Result<Output<'a>, String>,
}

impl Answer<'_> {
    /// `large contiguous [65536], 4 threads`.
    pub fn name(&self) -> String {
        let s = if self.threads == 1 { "" } else { "s" };
        format!("{} {:?}, {} thread{s}", self.layout, self.shape, self.threads)
    }
}

/// The question every placement is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question<'a> {
    /// The operation on the case's dtype (`to_kind(f32→bf16)`, `tch TryInto<ArrayD<f32>>`): named in messages and
    /// in the signature of an answer that depends on the placement or the thread count.
    pub op: &'a str,
    /// The operation whatever the dtype (`to_kind`, `tch TryInto<ArrayD>`): named in the signature of a refusal,
    /// which is a matter of the layout, not of the values.
    pub any_dtype: &'a str,
}

/// Every answer to the question on `case`'s values must be the same, bit for bit. Checked in this order: answers
/// of the same layout under different thread counts (a thread-count dependence is named as such); then every
/// answer against the first one that answered at all (the reference), dtype, then length, then values; last, an
/// answer that is an error where another one answered. When every placement refused, the case is rejected: there is
/// no answer to compare.
pub fn same_answer(question: Question<'_>, case: &TensorCase, answers: &[Answer<'_>]) -> Verdict {
    let op = question.op;
    let Some(reference) = answers.iter().find(|a| a.out.is_ok()) else {
        let why = answers.first().and_then(|a| a.out.as_ref().err()).map_or("no placement", |e| e.as_str());
        return Err(CheckError::Reject(format!("{op} refused every placement: {why}")));
    };
    for (i, a) in answers.iter().enumerate() {
        for b in &answers[i + 1..] {
            if a.layout == b.layout && a.threads != b.threads {
                agree(op, case, a, b, Dependence::Threads)?;
            }
        }
    }
    for other in answers {
        agree(op, case, reference, other, Dependence::Placement)?;
    }
    if let Some(refused) = answers.iter().find(|a| a.out.is_err()) {
        let error = refused.out.as_ref().err().map_or("", |e| e.as_str());
        return Err(CheckError::fail(
            format!("{} refuses some placements and answers others", question.any_dtype),
            format!("{op} refused {}: {error}, but answered {}", refused.name(), reference.name()),
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dependence {
    Threads,
    Placement,
}

/// `b` must give `a`'s answer (both must have answered; an error is judged after all answers that exist agree).
fn agree(op: &str, case: &TensorCase, a: &Answer<'_>, b: &Answer<'_>, dependence: Dependence) -> Verdict {
    let (Ok(x), Ok(y)) = (&a.out, &b.out) else { return Ok(()) };
    let n = case.numel();
    if x.dtype != y.dtype {
        return Err(CheckError::fail(
            format!("{op}: the output dtype depends on the placement"),
            format!("{op} gives {} in {} but {} in {} [{}]", y.dtype, b.name(), x.dtype, a.name(), case.dtype()),
        ));
    }
    same_len(&format!("{op} in {}", a.name()), a.len, x.len())?;
    same_len(&format!("{op} in {}", b.name()), b.len, y.len())?;
    // Two runs of one layout must agree position by position (both may be wrong alike: the reference judges
    // that); any other placement must tile the reference's `n` answers.
    let period = match dependence {
        Dependence::Threads => x.len(),
        Dependence::Placement => n,
    };
    if n == 0 || period == 0 || tiles(x, period, y) {
        return Ok(());
    }
    let position = (0..y.len()).find(|&p| y.get(p) != x.get(p % period)).expect("a tiling that fails has a mismatch");
    let element = position % n;
    let input = case.logical()[element];
    let (source, target) = (case.dtype(), y.dtype);
    let (got, want) = (y.get(position), x.get(position % period));
    let class = value_class(source, input);
    let depends = match dependence {
        Dependence::Threads => "the thread count",
        Dependence::Placement => "its placement",
    };
    let at = if b.len > n { format!(" (position {position})") } else { String::new() };
    let at_too = if period > n { " (same position)".to_string() } else { String::new() };
    Err(CheckError::fail(
        format!("{op}: the answer for a {class} element depends on {depends}"),
        format!(
            "out{index} bits={gh} ({gv}) in {bn}{at} but {wh} ({wv}) in {an}{at_too} [{op}, x={xh} ({xv})]",
            index = case.index_string(element),
            gh = target.hex(got),
            gv = target.render(got),
            bn = b.name(),
            wh = target.hex(want),
            wv = target.render(want),
            an = a.name(),
            xh = source.hex(input),
            xv = source.render(input),
        ),
    ))
}

/// Whether `whole` repeats the first `n` elements of `reference` (position `p` equals reference element `p % n`).
/// Like representations compare as slices, by doubling (each step checks the next stretch against the stretch
/// already checked), so a large output costs a few `memcmp`s, not a loop over its elements.
fn tiles(reference: &Output<'_>, n: usize, whole: &Output<'_>) -> bool {
    match (reference.elements, whole.elements) {
        (Elements::Bytes(r), Elements::Bytes(w)) => {
            let width = reference.dtype.size_bytes();
            r.len() >= n * width && tiling(&r[..n * width], &w[..whole.len() * width])
        }
        (Elements::Bits(r), Elements::Bits(w)) => r.len() >= n && tiling(&r[..n], w),
        _ => (0..whole.len()).all(|p| whole.get(p) == reference.get(p % n)),
    }
}

/// Whether `whole` is `period` repeated (and cut short at the end).
fn tiling<T: PartialEq>(period: &[T], whole: &[T]) -> bool {
    let p = period.len().min(whole.len());
    if whole[..p] != period[..p] {
        return false;
    }
    // Invariant: whole[..checked] is the tiling, and `checked` is a multiple of the period until the last step.
    let mut checked = p;
    while checked < whole.len() {
        let step = checked.min(whole.len() - checked);
        if whole[checked..checked + step] != whole[..step] {
            return false;
        }
        checked += step;
    }
    true
}

/// A conversion of something a library made (`made`, e.g. `ones([2], bf16)`, a `source` such as "tensor") must
/// keep its dtype, shape and bits: `got` is what the conversion gave, `expected` what the source holds.
pub fn keeps_bits(conversion: &str, source: &str, made: &str, expected: Bits<'_>, got: Bits<'_>) -> Verdict {
    let dtype = expected.dtype;
    let a = if source.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    if got.dtype != dtype {
        return Err(CheckError::fail(
            format!("{conversion}: {a} {source} of {dtype} became {}", got.dtype),
            format!("{conversion} gives {} for {made}, {a} {source} of {dtype}", got.dtype),
        ));
    }
    if got.shape != expected.shape {
        return Err(CheckError::fail(
            format!("{conversion}: the shape of {a} {source} of {dtype} changed"),
            format!("{conversion} gives shape {:?} for {made} of shape {:?}", got.shape, expected.shape),
        ));
    }
    same_len(&format!("{conversion} of {made}"), expected.bits.len(), got.bits.len())?;
    let Some(flat) = (0..got.bits.len()).find(|&i| got.bits[i] != expected.bits[i]) else { return Ok(()) };
    let (g, e) = (got.bits[flat], expected.bits[flat]);
    let index: Vec<String> = Layout::contiguous(expected.shape).unravel(flat).iter().map(|i| i.to_string()).collect();
    Err(CheckError::fail(
        format!("{conversion} changed the bits of {a} {source} of {dtype}"),
        format!(
            "out[{index}] bits={gh} ({gv}) but the {source} holds {eh} ({ev}) [{made} → {conversion}]",
            index = index.join(","),
            gh = dtype.hex(g),
            gv = dtype.render(g),
            eh = dtype.hex(e),
            ev = dtype.render(e),
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(values: Vec<u64>) -> TensorCase {
        TensorCase::contiguous(Dtype::F32, &[values.len()], values).unwrap()
    }

    fn bits<'a>(layout: &'a str, threads: i32, len: usize, b: &'a [u64]) -> Answer<'a> {
        Answer { layout, shape: &[], threads, len, out: Ok(Output { dtype: Dtype::F32, elements: Elements::Bits(b) }) }
    }

    fn fails(v: Verdict) -> crate::Failure {
        match v {
            Err(CheckError::Fail(f)) => f,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    const NAN: u64 = 0x7f80_0001;

    fn q(op: &str) -> Question<'_> {
        Question { op, any_dtype: "any" }
    }

    #[test]
    fn tiling_checks_every_position_including_a_cut_short_end() {
        assert!(tiling(&[1, 2, 3], &[1, 2, 3, 1, 2, 3, 1, 2]));
        assert!(tiling(&[1, 2, 3], &[1, 2]));
        assert!(tiling::<u8>(&[], &[]));
        assert!(!tiling(&[1, 2, 3], &[1, 2, 3, 1, 2, 3, 1, 3]));
        assert!(!tiling(&[1, 2, 3], &[1, 2, 3, 1, 2, 4, 1, 2, 3, 1, 2, 3]));
        let long: Vec<u8> = (0..1000).map(|i| (i % 7) as u8).collect();
        assert!(tiling(&long[..7], &long));
        for bad in [0, 6, 7, 500, 999] {
            let mut wrong = long.clone();
            wrong[bad] ^= 1;
            assert!(!tiling(&long[..7], &wrong), "{bad}");
        }
    }

    #[test]
    fn bytes_and_bits_answers_agree_with_each_other() {
        let c = case(vec![0x3f80_0000, NAN]);
        let bytes: Vec<u8> = [0x3f80_0000u32, NAN as u32, 0x3f80_0000].iter().flat_map(|b| b.to_le_bytes()).collect();
        let out = Output { dtype: Dtype::F32, elements: Elements::Bytes(&bytes) };
        assert_eq!((out.len(), out.get(1)), (3, NAN));
        let answers = [
            bits("0-d", 1, 2, &[0x3f80_0000, NAN]),
            Answer { layout: "transposed", shape: &[2, 2], threads: 1, len: 3, out: Ok(out) },
        ];
        assert_eq!(same_answer(q("op"), &c, &answers), Ok(()));
    }

    #[test]
    fn a_thread_dependence_is_named_before_a_placement_dependence() {
        let c = case(vec![0, NAN]);
        let answers = [
            bits("0-d", 1, 2, &[0, NAN]),
            bits("large contiguous", 1, 4, &[0, 0x7fc0_0000, 0, 0x7fc0_0002]),
            bits("large contiguous", 4, 4, &[0, 0x7fc0_0000, 0, 0x7fc0_0001]),
        ];
        let f = fails(same_answer(q("to_kind(f32→f32)"), &c, &answers));
        assert_eq!(f.signature, "to_kind(f32→f32): the answer for a NaN element depends on the thread count");
        assert_eq!(
            f.message,
            "out[1] bits=0x7fc00001 (NaN) in large contiguous [], 4 threads (position 3) but 0x7fc00002 (NaN) in \
             large contiguous [], 1 thread (same position) [to_kind(f32→f32), x=0x7f800001 (NaN)]"
        );
        let f = fails(same_answer(q("op"), &c, &answers[..2]));
        assert_eq!(f.signature, "op: the answer for a NaN element depends on its placement");
        assert!(f.message.starts_with("out[1] bits=0x7fc00000 (NaN) in large contiguous [], 1 thread (position 1) but 0x7f800001 (NaN) in 0-d [], 1 thread"), "{}", f.message);
    }

    #[test]
    fn dtype_then_length_then_values() {
        let c = case(vec![1]);
        let mut other = bits("contiguous", 1, 1, &[1]);
        other.out = Ok(Output { dtype: Dtype::F64, elements: Elements::Bits(&[1]) });
        let f = fails(same_answer(q("op"), &c, &[bits("0-d", 1, 1, &[1]), other]));
        assert_eq!(f.signature, "op: the output dtype depends on the placement");
        assert_eq!(f.message, "op gives f64 in contiguous [], 1 thread but f32 in 0-d [], 1 thread [f32]");
        let f = fails(same_answer(q("op"), &c, &[bits("0-d", 1, 1, &[1]), bits("large", 1, 3, &[1, 1])]));
        assert_eq!(f.message, "op in large [], 1 thread returned 2 values for 3 elements");
        let f = fails(same_answer(q("op"), &c, &[bits("0-d", 1, 2, &[1]), bits("large", 1, 3, &[1, 1, 1])]));
        assert_eq!(f.message, "op in 0-d [], 1 thread returned 1 values for 2 elements");
        assert_eq!(same_answer(q("op"), &case(vec![]), &[bits("0-d", 1, 0, &[]), bits("large", 1, 0, &[])]), Ok(()));
    }

    #[test]
    fn a_refusal_counts_after_the_answers_agree_and_all_refusals_reject() {
        let c = case(vec![1, 2]);
        let refused = |layout| Answer { layout, shape: &[2], threads: 1, len: 2, out: Err("cannot convert".into()) };
        let answers = [bits("0-d", 1, 2, &[1, 2]), refused("strided"), bits("large", 1, 4, &[1, 2, 1, 3])];
        let f = fails(same_answer(q("conv"), &c, &answers));
        assert_eq!(f.signature, "conv: the answer for a subnormal element depends on its placement");
        let answers = [bits("0-d", 1, 2, &[1, 2]), refused("strided"), bits("large", 1, 4, &[1, 2, 1, 2])];
        let f = fails(same_answer(q("conv"), &c, &answers));
        assert_eq!(f.signature, "any refuses some placements and answers others");
        assert_eq!(f.message, "conv refused strided [2], 1 thread: cannot convert, but answered 0-d [], 1 thread");
        let all = same_answer(q("conv"), &c, &[refused("0-d"), refused("strided")]);
        assert_eq!(all, Err(CheckError::Reject("conv refused every placement: cannot convert".into())));
        // The first answer that exists is the reference.
        assert_eq!(
            fails(same_answer(q("conv"), &c, &[refused("0-d"), bits("large", 1, 2, &[1, 2])])).message,
            "conv refused 0-d [2], 1 thread: cannot convert, but answered large [], 1 thread"
        );
    }

    #[test]
    fn keeps_bits_names_dtype_shape_and_the_changed_element() {
        let b = |dtype, shape, bits| Bits { dtype, shape, bits };
        let ok =
            keeps_bits("c", "tensor", "ones([2], f32)", b(Dtype::F32, &[2], &[1, 2]), b(Dtype::F32, &[2], &[1, 2]));
        assert_eq!(ok, Ok(()));
        let f = fails(keeps_bits("c", "array", "m", b(Dtype::Bf16, &[2], &[1, 2]), b(Dtype::F16, &[2], &[1, 2])));
        assert_eq!(
            (f.signature.as_str(), f.message.as_str()),
            ("c: an array of bf16 became f16", "c gives f16 for m, an array of bf16")
        );
        let f = fails(keeps_bits("c", "tensor", "m", b(Dtype::F32, &[2], &[1, 2]), b(Dtype::F32, &[1, 2], &[1, 2])));
        assert_eq!(f.message, "c gives shape [1, 2] for m of shape [2]");
        let f = fails(keeps_bits("c", "tensor", "m", b(Dtype::F32, &[2], &[1, 2]), b(Dtype::F32, &[2], &[1])));
        assert_eq!(f.message, "c of m returned 1 values for 2 elements");
        let f = fails(keeps_bits(
            "c",
            "tensor",
            "ones([2,2], bf16)",
            b(Dtype::Bf16, &[2, 2], &[0x3f80; 4]),
            b(Dtype::Bf16, &[2, 2], &[0x3f80, 0x3f80, 0x3c00, 0x3f80]),
        ));
        assert_eq!(f.signature, "c changed the bits of a tensor of bf16");
        assert_eq!(
            f.message,
            "out[1,0] bits=0x3c00 (0.0078125) but the tensor holds 0x3f80 (1.0) [ones([2,2], bf16) → c]"
        );
    }
}
