//! Planted defects: each cast check fails on a deliberately wrong operation and shrinks it to one element.

use std::sync::Arc;

use conform_generators::{CaseSpace, Dtype, FloatFormat};
use conform_judge::casts::is_nan;
use conform_judge::oracle::{cast_float, int_range, Exact};

use super::*;
use crate::testing::minimal_failure;

fn space(source: Dtype, target: FloatFormat) -> CaseSpace {
    boundary_space(Box::leak(Box::new([source])), target, 64)
}

/// An op that applies `f` to each element's exact value (a planted defect or a reference).
fn elementwise(name: &'static str, f: fn(Dtype, u64, Dtype) -> u64) -> CastOp {
    CastOp {
        name,
        run: Box::new(move |case, target| {
            Ok(case.logical().into_iter().map(|x| f(case.dtype(), x, target)).collect())
        }),
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
    let (case, failure) =
        minimal_failure(space(Dtype::F64, FloatFormat::F16), |c| within_half_ulp(c, Dtype::F16, &op));
    assert_eq!(format!("{case:?}"), "TensorCase { dtype: f64, shape: [], strides: [], offset: 0, storage: [0x3e60000000000001 = 2.980232238769532e-8] }");
    assert_eq!(failure.signature, "truncating(f64→f16) error above ½ ulp");
}

#[test]
fn planted_ties_away_fails_exactness_but_passes_the_bound() {
    let op = elementwise("ties-away", ties_away);
    let (case, failure) = minimal_failure(space(Dtype::F32, FloatFormat::BF16), |c| {
        correctly_rounded(c, Dtype::Bf16, &op, None)
    });
    assert_eq!(format!("{case:?}"), "TensorCase { dtype: f32, shape: [], strides: [], offset: 0, storage: [0x00008000 = 4.591774807899561e-41] }");
    assert!(failure.message.contains("within ½ ulp (a tie rounded the other way)"), "{}", failure.message);
    crate::testing::assert_passes(space(Dtype::F32, FloatFormat::BF16), |c| within_half_ulp(c, Dtype::Bf16, &op));
}

#[test]
fn planted_flush_to_zero_fails_and_shrinks() {
    let op = elementwise("flush-to-zero", flush_to_zero);
    let (case, failure) =
        minimal_failure(space(Dtype::F32, FloatFormat::F16), |c| within_half_ulp(c, Dtype::F16, &op));
    assert_eq!(format!("{case:?}"), "TensorCase { dtype: f32, shape: [], strides: [], offset: 0, storage: [0x33000001 = 2.980232594040899e-8] }");
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
    let space = CaseSpace::all(64)
        .with_dtypes(&[Dtype::F32])
        .with_values(Arc::new(|d, rng| draw_int_edge(d, Dtype::I8, rng)));
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
    let (case, failure) =
        minimal_failure(CaseSpace::all(64).with_dtypes(&[Dtype::F16]), |c| bool_cast(c, &nan_false));
    assert_eq!(
        format!("{case:?}"),
        "TensorCase { dtype: f16, shape: [], strides: [], offset: 0, storage: [0x7c01 = NaN] }"
    );
    assert_eq!(failure.signature, "nan-is-false(f16→bool) wrong");
}

#[test]
fn planted_disagreement_names_the_correct_side() {
    let ops = (elementwise("exact", |s, x, t| cast_float(s, x, t).bits), elementwise("ties-away", ties_away));
    let (_, failure) =
        minimal_failure(space(Dtype::F64, FloatFormat::F16), |c| agree(c, Dtype::F16, &ops.0, &ops.1));
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
