//! Planted defects: each cast check fails on a deliberately wrong operation and shrinks it — to one element for a
//! defect of every element, and to the smallest case that still has the wrong element for a defect of one element.

use std::sync::Arc;

use conform_generators::{CaseSpace, Dtype, FloatFormat, TensorCase};
use conform_judge::boundary::encode;
use conform_judge::casts::is_nan;
use conform_judge::oracle::{cast_float, int_range, Exact};
use conform_judge::Verdict;

use super::*;
use crate::testing::{assert_caught, memory_ordered, minimal_failure, Defect, Length, Position};

fn space(source: Dtype, target: FloatFormat) -> CaseSpace {
    boundary_space(Box::leak(Box::new([source])), target, 64)
}

/// An op that applies `f` to each element's exact value (a planted defect or a reference).
fn elementwise(name: &'static str, f: fn(Dtype, u64, Dtype) -> u64) -> CastOp {
    CastOp {
        name,
        run: Box::new(move |case, target| Ok(case.logical().into_iter().map(|x| f(case.dtype(), x, target)).collect())),
    }
}

/// Truncation toward zero (round-toward-zero) instead of nearest-even.
fn truncating(source: Dtype, x: u64, target: Dtype) -> u64 {
    let r = cast_float(source, x, target);
    let f = target.float_format().unwrap();
    match () {
        _ if Exact::of(source, x).is_nan() || r.exact => r.bits,
        _ if r.overflow => (r.bits & f.sign_bit()) | f.max_finite(),
        // Nearest-even went away from zero: the neighbour toward zero is one step down in magnitude.
        _ if rounds_up(source, x, target) => r.bits - 1,
        _ => r.bits,
    }
}

fn rounds_up(source: Dtype, x: u64, target: Dtype) -> bool {
    // Rounded away from zero when the result's magnitude exceeds the input's.
    let f = target.float_format().unwrap();
    let y = cast_float(source, x, target).bits;
    let (Exact::Finite { m: my, e: ey, .. }, Exact::Finite { m: mx, e: ex, .. }) =
        (Exact::of_float(f, y), Exact::of(source, x))
    else {
        return false;
    };
    let shift = ey.min(ex);
    (my << (ey - shift) as u32) > (mx << (ex - shift) as u32)
}

fn ties_away(source: Dtype, x: u64, target: Dtype) -> u64 {
    let r = cast_float(source, x, target);
    let f = target.float_format().unwrap();
    if r.tie && (r.other & !f.sign_bit()) > (r.bits & !f.sign_bit()) {
        r.other
    } else {
        r.bits
    }
}

fn flush_to_zero(source: Dtype, x: u64, target: Dtype) -> u64 {
    let r = cast_float(source, x, target);
    let f = target.float_format().unwrap();
    if r.bits & f.exp_mask() == 0 {
        r.bits & f.sign_bit()
    } else {
        r.bits
    }
}

#[test]
fn planted_truncation_fails_both_properties_and_shrinks_to_one_element() {
    let op = elementwise("truncating", truncating);
    let (case, failure) =
        minimal_failure(space(Dtype::F64, FloatFormat::F16), |c| correctly_rounded(c, Dtype::F16, &op, None));
    assert_eq!(case.numel(), 1, "{case:?}");
    assert_eq!(failure.signature, "truncating(f64→f16) not correctly rounded");
    let (case, failure) = minimal_failure(space(Dtype::F64, FloatFormat::F16), |c| within_half_ulp(c, Dtype::F16, &op));
    assert_eq!(format!("{case:?}"), "TensorCase { dtype: f64, shape: [], strides: [], offset: 0, storage: [0x3e60000000000001 = 2.980232238769532e-8] }");
    assert_eq!(failure.signature, "truncating(f64→f16) error above ½ ulp");
}

#[test]
fn planted_ties_away_fails_exactness_but_passes_the_bound() {
    let op = elementwise("ties-away", ties_away);
    let (case, failure) =
        minimal_failure(space(Dtype::F32, FloatFormat::BF16), |c| correctly_rounded(c, Dtype::Bf16, &op, None));
    assert_eq!(
        format!("{case:?}"),
        "TensorCase { dtype: f32, shape: [], strides: [], offset: 0, storage: [0x00008000 = 4.591774807899561e-41] }"
    );
    assert!(failure.message.contains("within ½ ulp (a tie rounded the other way)"), "{}", failure.message);
    crate::testing::assert_passes(space(Dtype::F32, FloatFormat::BF16), |c| within_half_ulp(c, Dtype::Bf16, &op));
}

#[test]
fn planted_flush_to_zero_fails_and_shrinks() {
    let op = elementwise("flush-to-zero", flush_to_zero);
    let (case, failure) = minimal_failure(space(Dtype::F32, FloatFormat::F16), |c| within_half_ulp(c, Dtype::F16, &op));
    assert_eq!(
        format!("{case:?}"),
        "TensorCase { dtype: f32, shape: [], strides: [], offset: 0, storage: [0x33000001 = 2.980232594040899e-8] }"
    );
    assert_eq!(failure.message, "out[] bits=0x0000 (0.0) but correctly rounded is 0x0001 (5.960464477539063e-8) and more than ½ ulp from x [flush-to-zero(f32→f16), x=0x33000001 (2.980232594040899e-8)]");
}

#[test]
fn planted_saturating_int_cast_fails() {
    let saturating = CastOp {
        name: "rounds to nearest",
        run: Box::new(|case, target| {
            Ok(case
                .logical()
                .into_iter()
                .map(|x| {
                    let v = case.dtype().as_f64(x).round();
                    let (lo, hi) = int_range(target);
                    ((v.clamp(lo as f64, hi as f64) as i128) as u64) & target.mask()
                })
                .collect())
        }),
    };
    let space =
        CaseSpace::all(64).with_dtypes(&[Dtype::F32]).with_values(Arc::new(|d, rng| draw_int_edge(d, Dtype::I8, rng)));
    let (case, failure) = minimal_failure(space, |c| truncates_toward_zero(c, &saturating, None));
    assert_eq!(case.numel(), 1);
    assert!(failure.signature.ends_with("does not truncate toward zero"), "{}", failure.signature);
}

#[test]
fn planted_bool_defect_fails() {
    // NaN treated as false, as a `x != x ? 0 : x != 0` slip would.
    let nan_false = CastOp {
        name: "nan-is-false",
        run: Box::new(|case, target| {
            let real = (CastOp::to_kind().run)(case, target)?;
            Ok(case.logical().iter().zip(real).map(|(&x, y)| if is_nan(case.dtype(), x) { 0 } else { y }).collect())
        }),
    };
    let (case, failure) = minimal_failure(CaseSpace::all(64).with_dtypes(&[Dtype::F16]), |c| bool_cast(c, &nan_false));
    assert_eq!(
        format!("{case:?}"),
        "TensorCase { dtype: f16, shape: [], strides: [], offset: 0, storage: [0x7c01 = NaN] }"
    );
    assert_eq!(failure.signature, "nan-is-false(f16→bool) wrong");
}

#[test]
fn planted_disagreement_names_the_correct_side() {
    let ops = (elementwise("exact", |s, x, t| cast_float(s, x, t).bits), elementwise("ties-away", ties_away));
    let (_, failure) = minimal_failure(space(Dtype::F64, FloatFormat::F16), |c| agree(c, Dtype::F16, &ops.0, &ops.1));
    assert!(
        failure.message.contains("exact gives") && failure.message.contains("(correctly rounded), ties-away gives"),
        "{}",
        failure.message
    );
}

#[test]
fn planted_widening_defect_fails() {
    // Widening that drops the payload of NaNs is allowed; one that flushes subnormals is not.
    let flushing = CastOp {
        name: "flushing widen",
        run: Box::new(|case, target| {
            let f = case.dtype().float_format().unwrap();
            Ok(case
                .logical()
                .into_iter()
                .map(|x| {
                    let x = if x & f.exp_mask() == 0 { x & f.sign_bit() } else { x };
                    cast_float(case.dtype(), x, target).bits
                })
                .collect())
        }),
    };
    let (case, failure) =
        minimal_failure(CaseSpace::all(64).with_dtypes(&[Dtype::F16]), |c| widening_exact(c, &flushing, None));
    assert_eq!(
        format!("{case:?}"),
        "TensorCase { dtype: f16, shape: [], strides: [], offset: 0, storage: [0x0001 = 5.960464477539063e-8] }"
    );
    assert!(failure.message.contains("widened to 0x00000000 but exactly 0x33800000"), "{}", failure.message);
}

// Power tests: every cast check against one wrong element at each position and of each value class, a defect of
// one conversion only, a defect of non-contiguous layouts only, and outputs of the wrong length.

/// The exact answer of a cast, from the oracle: the right operation the planted defects start from.
fn oracle(source: Dtype, x: u64, target: Dtype) -> u64 {
    match target {
        Dtype::Bool => !matches!(Exact::of(source, x), Exact::Zero { .. }) as u64,
        t if t.is_float() => cast_float(source, x, t).bits,
        // Truncated toward zero; out of range and NaN clamped to something (not judged).
        t => encode(t, Exact::of(source, x)),
    }
}

fn exact() -> CastOp {
    elementwise("exact", oracle)
}

/// The exact cast with `defect` planted in its output.
fn planted(defect: Defect) -> CastOp {
    CastOp {
        name: defect.name,
        run: Box::new(move |case, target| {
            let inputs = case.logical();
            let mut out: Vec<u64> = inputs.iter().map(|&x| oracle(case.dtype(), x, target)).collect();
            defect.apply(case.dtype(), &inputs, target, &mut out);
            Ok(out)
        }),
    }
}

/// The exact cast of the storage read in memory order when the layout is not C-contiguous.
fn memory_order() -> CastOp {
    CastOp {
        name: "memory order if not C-contiguous",
        run: Box::new(|case, target| {
            Ok(memory_ordered(case).logical().into_iter().map(|x| oracle(case.dtype(), x, target)).collect())
        }),
    }
}

/// The planted operations every check of a cast output must catch, in the order of the expectation tables below:
/// the first, a middle and the last element wrong; the last NaN made 0, the last -0.0 without its sign (or,
/// `bool_target`, taken for true), the last subnormal flushed; the last element wrong in the conversion `pair`
/// only; memory order on non-contiguous layouts; empty, one short, one long.
fn planted_ops(pair: (Dtype, Dtype), bool_target: bool) -> Vec<CastOp> {
    let negative_zero = if bool_target {
        Defect::one("-0.0 taken for true", |e| {
            let negative_zero = e.from.float_format().is_some_and(|f| e.x == f.sign_bit());
            (e.numel >= 2 && negative_zero && e.to == Dtype::Bool).then_some(1)
        })
    } else {
        Defect::negative_zero_sign_dropped()
    };
    let mut ops: Vec<CastOp> = Position::ALL.into_iter().map(|p| planted(Defect::at(p))).collect();
    ops.push(planted(Defect::nan_made_zero()));
    ops.push(planted(negative_zero));
    ops.push(planted(Defect::subnormal_flushed()));
    ops.push(planted(Defect::only(pair.0, pair.1, Defect::at(Position::Last))));
    ops.push(memory_order());
    ops.extend(Length::ALL.map(|l| planted(Defect::length(l))));
    ops
}

/// Each op of `ops` fails `judge` over `space` and shrinks to its row of `expected` (case, signature).
#[track_caller]
fn assert_each_caught(
    space: CaseSpace,
    judge: impl Fn(&TensorCase, &CastOp) -> Verdict,
    ops: Vec<CastOp>,
    expected: &[(&str, &str)],
) {
    assert_eq!(ops.len(), expected.len(), "one expectation per planted op");
    for (op, &(case, signature)) in ops.iter().zip(expected) {
        assert_caught(op.name, space.clone(), |c| judge(c, op), case, signature);
    }
}

fn small_boundary(sources: &'static [Dtype], target: FloatFormat) -> CaseSpace {
    boundary_space(sources, target, 1)
}

#[test]
fn correctly_rounded_catches_one_wrong_element_of_any_position_class_pair_or_layout() {
    assert_each_caught(
        small_boundary(&TO_F16, FloatFormat::F16),
        |c, op| correctly_rounded(c, Dtype::F16, op, None),
        planted_ops((Dtype::I32, Dtype::F16), false),
        &[
            (
                "TensorCase { dtype: f64, shape: [3], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0] }",
                "first element wrong(f64→f16) not correctly rounded",
            ),
            (
                "TensorCase { dtype: f64, shape: [3], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0] }",
                "middle element wrong(f64→f16) not correctly rounded",
            ),
            (
                "TensorCase { dtype: f64, shape: [3], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0] }",
                "last element wrong(f64→f16) not correctly rounded",
            ),
            (
                "TensorCase { dtype: f64, shape: [2], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x7ff0000000000001 = NaN] }",
                "NaN made 0(f64→f16) not correctly rounded",
            ),
            (
                "TensorCase { dtype: f64, shape: [2], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x8000000000000000 = -0.0] }",
                "-0.0 sign dropped(f64→f16) not correctly rounded",
            ),
            (
                "TensorCase { dtype: f64, shape: [2], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x3e60000000000001 = 2.980232238769532e-8] }",
                "subnormal flushed(f64→f16) not correctly rounded",
            ),
            (
                "TensorCase { dtype: i32, shape: [3], strides: [1], offset: 0, storage: [0x00000000 = 0, 0x00000000 = 0, 0x00000000 = 0] }",
                "last element wrong (i32→f16 only)(i32→f16) not correctly rounded",
            ),
            (
                "TensorCase { dtype: f64, shape: [2, 2], strides: [1, 2], offset: 0, storage: [0x0000000000000000 = 0.0, 0x3e60000000000001 = 2.980232238769532e-8, 0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0] }",
                "memory order if not C-contiguous(f64→f16) not correctly rounded",
            ),
            (
                "TensorCase { dtype: f64, shape: [], strides: [], offset: 0, storage: [0x0000000000000000 = 0.0] }",
                "empty output(f64→f16) returned the wrong number of values",
            ),
            (
                "TensorCase { dtype: f64, shape: [2], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0] }",
                "one value short(f64→f16) returned the wrong number of values",
            ),
            (
                "TensorCase { dtype: f64, shape: [], strides: [], offset: 0, storage: [0x0000000000000000 = 0.0] }",
                "one value long(f64→f16) returned the wrong number of values",
            ),
        ],
    );
}

#[test]
fn within_half_ulp_catches_one_wrong_element_of_any_position_class_pair_or_layout() {
    assert_each_caught(
        small_boundary(&TO_BF16, FloatFormat::BF16),
        |c, op| within_half_ulp(c, Dtype::Bf16, op),
        planted_ops((Dtype::F32, Dtype::Bf16), false),
        &[
            (
                "TensorCase { dtype: f64, shape: [3], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0] }",
                "first element wrong(f64→bf16) error above ½ ulp",
            ),
            (
                "TensorCase { dtype: f64, shape: [3], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0] }",
                "middle element wrong(f64→bf16) error above ½ ulp",
            ),
            (
                "TensorCase { dtype: f64, shape: [3], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0] }",
                "last element wrong(f64→bf16) error above ½ ulp",
            ),
            (
                "TensorCase { dtype: f64, shape: [2], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x7ff0000000000001 = NaN] }",
                "NaN made 0(f64→bf16) error above ½ ulp",
            ),
            (
                "TensorCase { dtype: f64, shape: [2], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x8000000000000000 = -0.0] }",
                "-0.0 sign dropped(f64→bf16) error above ½ ulp",
            ),
            (
                "TensorCase { dtype: f64, shape: [2], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x3790000000000001 = 4.591774807899562e-41] }",
                "subnormal flushed(f64→bf16) error above ½ ulp",
            ),
            (
                "TensorCase { dtype: f32, shape: [2, 2], strides: [2, 1], offset: 0, storage: [0x00000000 = 0.0, 0x00000000 = 0.0, 0x00000000 = 0.0, 0x00000000 = 0.0] }",
                "last element wrong (f32→bf16 only)(f32→bf16) error above ½ ulp",
            ),
            (
                "TensorCase { dtype: f64, shape: [2, 2], strides: [1, 2], offset: 0, storage: [0x0000000000000000 = 0.0, 0x3790000000000001 = 4.591774807899562e-41, 0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0] }",
                "memory order if not C-contiguous(f64→bf16) error above ½ ulp",
            ),
            (
                "TensorCase { dtype: f64, shape: [], strides: [], offset: 0, storage: [0x0000000000000000 = 0.0] }",
                "empty output(f64→bf16) returned the wrong number of values",
            ),
            (
                "TensorCase { dtype: f64, shape: [2], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0] }",
                "one value short(f64→bf16) returned the wrong number of values",
            ),
            (
                "TensorCase { dtype: f64, shape: [], strides: [], offset: 0, storage: [0x0000000000000000 = 0.0] }",
                "one value long(f64→bf16) returned the wrong number of values",
            ),
        ],
    );
}

#[test]
fn widening_catches_one_wrong_element_of_any_position_class_pair_or_layout() {
    // The pair is a way back (bf16 → f64 → bf16): the narrowing must be judged too.
    assert_each_caught(
        CaseSpace::all(64).with_dtypes(&[Dtype::F16, Dtype::Bf16, Dtype::F32]),
        |c, op| widening_exact(c, op, None),
        planted_ops((Dtype::F64, Dtype::Bf16), false),
        &[
            (
                "TensorCase { dtype: f16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "first element wrong(f16→f32→f16) not exact",
            ),
            (
                "TensorCase { dtype: f16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "middle element wrong(f16→f32→f16) not exact",
            ),
            (
                "TensorCase { dtype: f16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "last element wrong(f16→f32→f16) not exact",
            ),
            (
                "TensorCase { dtype: f16, shape: [2], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x7c01 = NaN] }",
                "NaN made 0(f16→f32→f16) not exact",
            ),
            (
                "TensorCase { dtype: f16, shape: [2], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x8000 = -0.0] }",
                "-0.0 sign dropped(f16→f32→f16) not exact",
            ),
            (
                "TensorCase { dtype: f16, shape: [2], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0001 = 5.960464477539063e-8] }",
                "subnormal flushed(f16→f32→f16) not exact",
            ),
            (
                "TensorCase { dtype: bf16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "last element wrong (f64→bf16 only)(bf16→f64→bf16) not exact",
            ),
            (
                "TensorCase { dtype: f16, shape: [2, 2], strides: [1, 2], offset: 0, storage: [0x0000 = 0.0, 0x0001 = 5.960464477539063e-8, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "memory order if not C-contiguous(f16→f32→f16) not exact",
            ),
            (
                "TensorCase { dtype: f16, shape: [], strides: [], offset: 0, storage: [0x0000 = 0.0] }",
                "empty output(f16→f32) returned the wrong number of values",
            ),
            (
                "TensorCase { dtype: f16, shape: [2], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0] }",
                "one value short(f16→f32) returned the wrong number of values",
            ),
            (
                "TensorCase { dtype: f16, shape: [], strides: [], offset: 0, storage: [0x0000 = 0.0] }",
                "one value long(f16→f32) returned the wrong number of values",
            ),
        ],
    );
}

#[test]
fn truncation_catches_one_wrong_element_of_any_position_pair_or_layout() {
    // NaN, ±0 and subnormals truncate to 0 or are implementation-defined (tabulated): no value-class defect here.
    let mut ops = planted_ops((Dtype::F32, Dtype::I16), false);
    ops.drain(3..6);
    let space = CaseSpace::all(64)
        .with_dtypes(&Dtype::FLOATS)
        .with_values(Arc::new(|d, rng| draw_int_edge(d, INTS[rand::RngExt::random_range(rng, 0..INTS.len())], rng)));
    assert_each_caught(
        space,
        |c, op| truncates_toward_zero(c, op, None),
        ops,
        &[
            (
                "TensorCase { dtype: f16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "first element wrong(f16→u8) does not truncate toward zero",
            ),
            (
                "TensorCase { dtype: bf16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "middle element wrong(bf16→u8) does not truncate toward zero",
            ),
            (
                "TensorCase { dtype: f16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "last element wrong(f16→u8) does not truncate toward zero",
            ),
            (
                "TensorCase { dtype: f32, shape: [3], strides: [1], offset: 0, storage: [0x00000000 = 0.0, 0x00000000 = 0.0, 0x00000000 = 0.0] }",
                "last element wrong (f32→i16 only)(f32→i16) does not truncate toward zero",
            ),
            (
                "TensorCase { dtype: f16, shape: [2, 2], strides: [1, 2], offset: 0, storage: [0x0000 = 0.0, 0x3c00 = 1.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "memory order if not C-contiguous(f16→u8) does not truncate toward zero",
            ),
            (
                "TensorCase { dtype: f16, shape: [], strides: [], offset: 0, storage: [0x0000 = 0.0] }",
                "empty output(f16→u8) returned the wrong number of values",
            ),
            (
                "TensorCase { dtype: f16, shape: [2], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0] }",
                "one value short(f16→u8) returned the wrong number of values",
            ),
            (
                "TensorCase { dtype: f16, shape: [], strides: [], offset: 0, storage: [0x0000 = 0.0] }",
                "one value long(f16→u8) returned the wrong number of values",
            ),
        ],
    );
}

#[test]
fn bool_casts_catch_one_wrong_element_of_any_position_class_pair_or_layout() {
    assert_each_caught(
        CaseSpace::all(64),
        bool_cast,
        planted_ops((Dtype::Bool, Dtype::Bf16), true),
        &[
            (
                "TensorCase { dtype: bool, shape: [3], strides: [1], offset: 0, storage: [0x0 = false, 0x0 = false, 0x0 = false] }",
                "first element wrong(bool→u8) wrong",
            ),
            (
                "TensorCase { dtype: bool, shape: [3], strides: [1], offset: 0, storage: [0x0 = false, 0x0 = false, 0x0 = false] }",
                "middle element wrong(bool→u8) wrong",
            ),
            (
                "TensorCase { dtype: bool, shape: [3], strides: [1], offset: 0, storage: [0x0 = false, 0x0 = false, 0x0 = false] }",
                "last element wrong(bool→u8) wrong",
            ),
            (
                "TensorCase { dtype: f32, shape: [2], strides: [1], offset: 0, storage: [0x00000000 = 0.0, 0x7f800001 = NaN] }",
                "NaN made 0(f32→bool) wrong",
            ),
            (
                "TensorCase { dtype: f32, shape: [2], strides: [1], offset: 0, storage: [0x80000000 = -0.0, 0x00000000 = 0.0] }",
                "-0.0 taken for true(f32→bool) wrong",
            ),
            (
                "TensorCase { dtype: f32, shape: [2], strides: [1], offset: 0, storage: [0x00000000 = 0.0, 0x00000001 = 1.401298464324817e-45] }",
                "subnormal flushed(f32→bool) wrong",
            ),
            (
                "TensorCase { dtype: bool, shape: [3], strides: [1], offset: 0, storage: [0x0 = false, 0x0 = false, 0x0 = false] }",
                "last element wrong (bool→bf16 only)(bool→bf16) wrong",
            ),
            (
                "TensorCase { dtype: bool, shape: [2, 2], strides: [1, 2], offset: 0, storage: [0x0 = false, 0x0 = false, 0x1 = true, 0x0 = false] }",
                "memory order if not C-contiguous(bool→u8) wrong",
            ),
            (
                "TensorCase { dtype: bool, shape: [], strides: [], offset: 0, storage: [0x0 = false] }",
                "empty output(bool→u8) returned the wrong number of values",
            ),
            (
                "TensorCase { dtype: bool, shape: [2], strides: [1], offset: 0, storage: [0x0 = false, 0x0 = false] }",
                "one value short(bool→u8) returned the wrong number of values",
            ),
            (
                "TensorCase { dtype: bool, shape: [], strides: [], offset: 0, storage: [0x0 = false] }",
                "one value long(bool→u8) returned the wrong number of values",
            ),
        ],
    );
}

#[test]
fn agreement_catches_one_wrong_element_on_either_side_of_any_position_class_pair_or_layout() {
    let reference = exact();
    assert_each_caught(
        small_boundary(&HALF_SOURCES, FloatFormat::F16),
        |c, op| agree(c, Dtype::F16, &reference, op),
        planted_ops((Dtype::F32, Dtype::F16), false),
        &[
            (
                "TensorCase { dtype: f64, shape: [3], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0] }",
                "exact and first element wrong disagree on f64→f16",
            ),
            (
                "TensorCase { dtype: f64, shape: [3], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0] }",
                "exact and middle element wrong disagree on f64→f16",
            ),
            (
                "TensorCase { dtype: f64, shape: [3], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0] }",
                "exact and last element wrong disagree on f64→f16",
            ),
            (
                "TensorCase { dtype: f64, shape: [2], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x7ff0000000000001 = NaN] }",
                "exact and NaN made 0 disagree on f64→f16",
            ),
            (
                "TensorCase { dtype: f64, shape: [2], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x8000000000000000 = -0.0] }",
                "exact and -0.0 sign dropped disagree on f64→f16",
            ),
            (
                "TensorCase { dtype: f64, shape: [2], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x3e60000000000001 = 2.980232238769532e-8] }",
                "exact and subnormal flushed disagree on f64→f16",
            ),
            (
                "TensorCase { dtype: f32, shape: [3], strides: [1], offset: 0, storage: [0x00000000 = 0.0, 0x00000000 = 0.0, 0x00000000 = 0.0] }",
                "exact and last element wrong (f32→f16 only) disagree on f32→f16",
            ),
            (
                "TensorCase { dtype: f64, shape: [2, 2], strides: [1, 2], offset: 0, storage: [0x0000000000000000 = 0.0, 0x3e60000000000001 = 2.980232238769532e-8, 0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0] }",
                "exact and memory order if not C-contiguous disagree on f64→f16",
            ),
            (
                "TensorCase { dtype: f64, shape: [], strides: [], offset: 0, storage: [0x0000000000000000 = 0.0] }",
                "empty output(f64→f16) returned the wrong number of values",
            ),
            (
                "TensorCase { dtype: f64, shape: [2], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0] }",
                "one value short(f64→f16) returned the wrong number of values",
            ),
            (
                "TensorCase { dtype: f64, shape: [], strides: [], offset: 0, storage: [0x0000000000000000 = 0.0] }",
                "one value long(f64→f16) returned the wrong number of values",
            ),
        ],
    );
    // The defective system first: the judge must read both sides.
    let defective = planted(Defect::at(Position::Last));
    assert_caught(
        "defective side first",
        small_boundary(&HALF_SOURCES, FloatFormat::F16),
        |c| agree(c, Dtype::F16, &defective, &reference),
        "TensorCase { dtype: f64, shape: [3], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0] }",
        "last element wrong and exact disagree on f64→f16",
    );
}

#[test]
fn the_exact_reference_passes_every_cast_check() {
    let op = exact();
    crate::testing::assert_passes(small_boundary(&TO_F16, FloatFormat::F16), |c| {
        correctly_rounded(c, Dtype::F16, &op, None)
    });
    crate::testing::assert_passes(small_boundary(&TO_BF16, FloatFormat::BF16), |c| {
        within_half_ulp(c, Dtype::Bf16, &op)
    });
    crate::testing::assert_passes(CaseSpace::all(64).with_dtypes(&[Dtype::F16, Dtype::Bf16, Dtype::F32]), |c| {
        widening_exact(c, &op, None)
    });
    crate::testing::assert_passes(CaseSpace::all(64).with_dtypes(&Dtype::FLOATS), |c| {
        truncates_toward_zero(c, &op, None)
    });
    crate::testing::assert_passes(CaseSpace::all(64), |c| bool_cast(c, &op));
    crate::testing::assert_passes(small_boundary(&HALF_SOURCES, FloatFormat::F16), |c| agree(c, Dtype::F16, &op, &op));
}
