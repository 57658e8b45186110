//! Cast family: libtorch's `to_kind` judged bit for bit against the exact oracle — correct rounding (and,
//! separately, the weaker ½-ulp bound) into f16, bf16, f32 and f64 from every float and integer dtype; exact
//! widening and round trips; truncation toward zero into integers (out-of-range, NaN and infinite inputs are
//! implementation-defined in C++: tabulated, not judged); bool casts; and the same oracle applied to second systems,
//! the `half` crate and ndarray's `mapv(|x| x as T)`, with a property that shows where libtorch and `half` disagree.
//!
//! Cases are batches of up to 64 × `CONFORM_MAX_NUMEL` boundary-seeking values (see `conform_judge::boundary`), in
//! any layout (a strided tensor takes a different libtorch loop than a contiguous one); shrinking ends at one
//! element. Each property below is defined by the function of its name; the judging is `conform_judge::casts`.

mod ops;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use conform_generators::{CaseSpace, Dtype, FloatFormat, TensorCase};
use conform_judge::boundary::{draw_boundary, draw_int_edge};
use conform_judge::casts::{self as judge, Demand, INTS};
use conform_judge::{Tally, Verdict};
pub use ops::{CastError, CastFn, CastOp};

use crate::families::Family;
use crate::property::Property;

pub const FAMILY: Family = Family::new(
    "casts",
    "libtorch's to_kind (and the half crate, and ndarray's `as`) against the exact rounding oracle, bit for bit",
);

/// Every cast property, in report order.
pub fn properties() -> Vec<Property> {
    vec![
        to_f16_correctly_rounded(),
        to_f16_within_half_ulp(),
        to_bf16_correctly_rounded(),
        to_bf16_within_half_ulp(),
        to_f32_correctly_rounded(),
        to_f32_within_half_ulp(),
        to_f64_correctly_rounded(),
        to_f64_within_half_ulp(),
        widening_exact_and_round_trips(),
        float_to_int_truncates(),
        bool_casts(),
        half_crate_to_f16_correctly_rounded(),
        half_crate_to_bf16_correctly_rounded(),
        ndarray_mapv_correctly_rounded(),
        libtorch_agrees_with_half(),
    ]
}

const TO_F16: [Dtype; 8] =
    [Dtype::F64, Dtype::F32, Dtype::Bf16, Dtype::U8, Dtype::I8, Dtype::I16, Dtype::I32, Dtype::I64];
const TO_BF16: [Dtype; 8] =
    [Dtype::F64, Dtype::F32, Dtype::F16, Dtype::U8, Dtype::I8, Dtype::I16, Dtype::I32, Dtype::I64];
const TO_F32: [Dtype; 8] =
    [Dtype::F64, Dtype::F16, Dtype::Bf16, Dtype::U8, Dtype::I8, Dtype::I16, Dtype::I32, Dtype::I64];
const TO_F64: [Dtype; 8] =
    [Dtype::F32, Dtype::F16, Dtype::Bf16, Dtype::U8, Dtype::I8, Dtype::I16, Dtype::I32, Dtype::I64];
const HALF_SOURCES: [Dtype; 2] = [Dtype::F64, Dtype::F32];
const MAPV_SOURCES: [Dtype; 3] = [Dtype::F64, Dtype::I64, Dtype::I32];

const CORRECTLY_ROUNDED_DOC: &str =
    "to_kind into this float format gives the correctly rounded result (nearest, ties to even) for every float and integer source";
const HALF_ULP_DOC: &str = "to_kind into this float format stays within ½ ulp of the input (overflow aside)";
const HALF_CRATE_DOC: &str =
    "the half crate's from_f32/from_f64 give the correctly rounded result (a second system under the same oracle)";

/// Batches of boundary values of `sources` aimed at `target`'s rounding boundaries.
pub(crate) fn boundary_space(sources: &'static [Dtype], target: FloatFormat, max_numel: usize) -> CaseSpace {
    CaseSpace::all(64 * max_numel)
        .with_dtypes(sources)
        .with_values(Arc::new(move |d, rng| draw_boundary(d, target, rng)))
}

/// Sources aimed at either of two targets' boundaries, chosen per value.
fn two_target_space(sources: &'static [Dtype], a: FloatFormat, b: FloatFormat, max_numel: usize) -> CaseSpace {
    CaseSpace::all(64 * max_numel).with_dtypes(sources).with_values(Arc::new(move |d, rng| {
        let target = if rand::RngExt::random_bool(rng, 0.5) { a } else { b };
        draw_boundary(d, target, rng)
    }))
}

/// Every element of `case` converts into `target` to the correctly rounded result (NaN to any NaN; IEEE leaves a
/// converted NaN's sign and payload open, so those are tabulated).
pub fn correctly_rounded(case: &TensorCase, target: Dtype, op: &CastOp, tally: Option<&Tally>) -> Verdict {
    judge::rounding(case, target, op.name, &op.apply(case, target)?, Demand::CorrectlyRounded, tally)
}

/// Every finite, non-overflowing result lies within ½ ulp of the input — a tie broken the other way passes here,
/// a truncation or a flush to zero does not.
pub fn within_half_ulp(case: &TensorCase, target: Dtype, op: &CastOp) -> Verdict {
    judge::rounding(case, target, op.name, &op.apply(case, target)?, Demand::HalfUlp, None)
}

fn to_float_correctly_rounded(name: &'static str, target: Dtype, sources: &'static [Dtype]) -> Property {
    let format = target.float_format().expect("a float target");
    let op = CastOp::to_kind();
    Property::new(FAMILY, name, CORRECTLY_ROUNDED_DOC)
        .tensors(move |n| boundary_space(sources, format, n))
        .tallied(move |case, tally| correctly_rounded(case, target, &op, Some(tally)))
}

fn to_float_within_half_ulp(name: &'static str, target: Dtype, sources: &'static [Dtype]) -> Property {
    let format = target.float_format().expect("a float target");
    let op = CastOp::to_kind();
    Property::new(FAMILY, name, HALF_ULP_DOC)
        .tensors(move |n| boundary_space(sources, format, n))
        .check(move |case| within_half_ulp(case, target, &op))
}

pub fn to_f16_correctly_rounded() -> Property {
    to_float_correctly_rounded("to_f16_correctly_rounded", Dtype::F16, &TO_F16)
}

pub fn to_f16_within_half_ulp() -> Property {
    to_float_within_half_ulp("to_f16_within_half_ulp", Dtype::F16, &TO_F16)
}

pub fn to_bf16_correctly_rounded() -> Property {
    to_float_correctly_rounded("to_bf16_correctly_rounded", Dtype::Bf16, &TO_BF16)
}

pub fn to_bf16_within_half_ulp() -> Property {
    to_float_within_half_ulp("to_bf16_within_half_ulp", Dtype::Bf16, &TO_BF16)
}

pub fn to_f32_correctly_rounded() -> Property {
    to_float_correctly_rounded("to_f32_correctly_rounded", Dtype::F32, &TO_F32)
}

pub fn to_f32_within_half_ulp() -> Property {
    to_float_within_half_ulp("to_f32_within_half_ulp", Dtype::F32, &TO_F32)
}

pub fn to_f64_correctly_rounded() -> Property {
    to_float_correctly_rounded("to_f64_correctly_rounded", Dtype::F64, &TO_F64)
}

pub fn to_f64_within_half_ulp() -> Property {
    to_float_within_half_ulp("to_f64_within_half_ulp", Dtype::F64, &TO_F64)
}

/// f16/bf16 → f32/f64 and f32 → f64 are exact, and narrowing the widened value gives the input (NaN stays NaN).
pub fn widening_exact_and_round_trips() -> Property {
    let op = CastOp::to_kind();
    Property::new(
        FAMILY,
        "widening_exact_and_round_trips",
        "f16/bf16 → f32/f64 and f32 → f64 are exact, and narrowing back gives the input (NaN stays NaN)",
    )
    .tensors(|n| CaseSpace::all(64 * n).with_dtypes(&[Dtype::F16, Dtype::Bf16, Dtype::F32]))
    .tallied(move |case, tally| widening_exact(case, &op, Some(tally)))
}

/// The check of [`widening_exact_and_round_trips`] for one case, with the operation as a parameter.
pub fn widening_exact(case: &TensorCase, op: &CastOp, tally: Option<&Tally>) -> Verdict {
    let source = case.dtype();
    let wider: &[Dtype] = match source {
        Dtype::F16 | Dtype::Bf16 => &[Dtype::F32, Dtype::F64],
        Dtype::F32 => &[Dtype::F64],
        _ => &[],
    };
    for &wide in wider {
        let out = op.apply(case, wide)?;
        let back = match TensorCase::contiguous(wide, case.shape(), out.clone()) {
            Ok(widened) => op.apply(&widened, source)?,
            // The judge names the wrong length; any other refusal of the output is a wrong output too.
            Err(_) => Vec::new(),
        };
        judge::widening(case, wide, op.name, &out, &back, tally)?;
    }
    Ok(())
}

/// A float whose truncation fits the integer target becomes that integer; NaN, infinities and out-of-range values
/// are implementation-defined in C++ and tabulated by input class and result.
pub fn float_to_int_truncates() -> Property {
    let op = CastOp::to_kind();
    Property::new(
        FAMILY,
        "float_to_int_truncates",
        "float → integer truncates toward zero when the result fits; out-of-range, NaN and inf results are tabulated",
    )
    .tensors(|n| {
        CaseSpace::all(64 * n).with_dtypes(&Dtype::FLOATS).with_values(Arc::new(|d, rng| {
            let target = INTS[rand::RngExt::random_range(rng, 0..INTS.len())];
            draw_int_edge(d, target, rng)
        }))
    })
    .tallied(move |case, tally| truncates_toward_zero(case, &op, Some(tally)))
}

/// The check of [`float_to_int_truncates`] for one case, into every integer dtype.
pub fn truncates_toward_zero(case: &TensorCase, op: &CastOp, tally: Option<&Tally>) -> Verdict {
    INTS.iter().try_for_each(|&target| judge::truncates_toward_zero(case, target, op.name, &op.apply(case, target)?, tally))
}

/// Nonzero (NaN included) → true, ±0 → false; false/true → 0/1 in every dtype.
pub fn bool_casts() -> Property {
    let op = CastOp::to_kind();
    Property::new(FAMILY, "bool_casts", "nonzero (NaN included) → true, ±0 → false; false/true → 0/1 in every dtype")
        .tensors(|n| CaseSpace::all(64 * n))
        .check(move |case| bool_cast(case, &op))
}

/// The check of [`bool_casts`] for one case: into bool, or from bool into every other dtype.
pub fn bool_cast(case: &TensorCase, op: &CastOp) -> Verdict {
    let targets: Vec<Dtype> = if case.dtype() == Dtype::Bool {
        Dtype::ALL.into_iter().filter(|&d| d != Dtype::Bool).collect()
    } else {
        vec![Dtype::Bool]
    };
    targets.into_iter().try_for_each(|target| judge::bool_cast(case, target, op.name, &op.apply(case, target)?))
}

fn half_crate_correctly_rounded(name: &'static str, target: Dtype) -> Property {
    let op = CastOp::half_crate();
    let format = target.float_format().expect("a float target");
    Property::new(FAMILY, name, HALF_CRATE_DOC)
        .tensors(move |n| boundary_space(&HALF_SOURCES, format, n))
        .tallied(move |case, tally| correctly_rounded(case, target, &op, Some(tally)))
}

pub fn half_crate_to_f16_correctly_rounded() -> Property {
    half_crate_correctly_rounded("half_crate_to_f16_correctly_rounded", Dtype::F16)
}

pub fn half_crate_to_bf16_correctly_rounded() -> Property {
    half_crate_correctly_rounded("half_crate_to_bf16_correctly_rounded", Dtype::Bf16)
}

/// ndarray's mapv(|x| x as f32 / f64) (Rust's `as`) gives the correctly rounded result.
pub fn ndarray_mapv_correctly_rounded() -> Property {
    let op = CastOp::ndarray_mapv();
    Property::new(
        FAMILY,
        "ndarray_mapv_correctly_rounded",
        "ndarray's mapv(|x| x as f32 / f64) (Rust's `as`) gives the correctly rounded result",
    )
    .tensors(|n| boundary_space(&MAPV_SOURCES, FloatFormat::F32, n))
    .tallied(move |case, tally| {
        let targets: &[Dtype] = if case.dtype() == Dtype::F64 { &[Dtype::F32] } else { &[Dtype::F32, Dtype::F64] };
        targets.iter().try_for_each(|&t| correctly_rounded(case, t, &op, Some(tally)))
    })
}

/// libtorch's to_kind and the half crate give the same f16/bf16 bits; a disagreement names the correctly rounded
/// side.
pub fn libtorch_agrees_with_half() -> Property {
    let (a, b) = (CastOp::to_kind(), CastOp::half_crate());
    Property::new(
        FAMILY,
        "libtorch_agrees_with_half",
        "libtorch's to_kind and the half crate give the same f16/bf16 bits; a disagreement names the correctly rounded side",
    )
    .tensors(|n| two_target_space(&HALF_SOURCES, FloatFormat::F16, FloatFormat::BF16, n))
    .check(move |case| [Dtype::F16, Dtype::Bf16].iter().try_for_each(|&t| agree(case, t, &a, &b)))
}

/// The check of [`libtorch_agrees_with_half`] for one case and target, with both operations as parameters.
pub fn agree(case: &TensorCase, target: Dtype, a: &CastOp, b: &CastOp) -> Verdict {
    let (ya, yb) = (a.apply(case, target)?, b.apply(case, target)?);
    judge::agree(case, target, (a.name, &ya), (b.name, &yb))
}
