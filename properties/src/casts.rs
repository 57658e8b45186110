//! Cast family: libtorch's `to_kind` judged bit for bit against the exact oracle — correct rounding (and,
//! separately, the weaker ½-ulp bound) into f16, bf16, f32 and f64 from every float and integer dtype; exact
//! widening and round trips; truncation toward zero into integers (out-of-range, NaN and infinite inputs are
//! implementation-defined in C++: tabulated, not judged); bool casts; and the same oracle applied to second systems,
//! the `half` crate and ndarray's `mapv(|x| x as T)`, with a property that shows where libtorch and `half` disagree.
//!
//! Cases are batches of up to 64 × `CONFORM_MAX_NUMEL` boundary-seeking values (see [`crate::boundary`]), in any
//! layout (a strided tensor takes a different libtorch loop than a contiguous one); shrinking ends at one element.

use std::sync::Arc;

use conform_generators::{CaseSpace, Dtype, FloatFormat, TensorCase};

use crate::boundary::{draw_boundary, draw_int_edge};
use crate::claims::Claim;
use crate::convert::{storage_of, tensor_bits, CaseTensor};
use crate::element::kind_of;
use crate::oracle::{cast_float, int_range, trunc, Exact};
use crate::property::{CaseError, DeviceNeed, Family, Property, Space, Tally};
use crate::view::array_view;

const INTS: [Dtype; 5] = [Dtype::U8, Dtype::I8, Dtype::I16, Dtype::I32, Dtype::I64];

/// What a [`CastOp`] runs.
pub type CastFn = Box<dyn Fn(&TensorCase, Dtype) -> Result<Vec<u64>, String> + Send + Sync>;

/// A conversion of a whole case to a target dtype, giving the result's bits in logical order.
pub struct CastOp {
    pub name: &'static str,
    pub run: CastFn,
}

impl CastOp {
    /// libtorch's `Tensor::to_kind` on CPU.
    pub fn to_kind() -> CastOp {
        CastOp {
            name: "to_kind",
            run: Box::new(|case, target| {
                let source = CaseTensor::of(case).map_err(|e| e.to_string())?;
                let out = source.tensor().f_to_kind(kind_of(target)).map_err(|e| e.to_string())?;
                Ok(tensor_bits(&out).map_err(|e| e.to_string())?.bits)
            }),
        }
    }

    /// The `half` crate's `f16::from_f32`, `f16::from_f64`, `bf16::from_f32`, `bf16::from_f64`.
    pub fn half_crate() -> CastOp {
        use half::{bf16, f16};
        CastOp {
            name: "half from_f32/from_f64",
            run: Box::new(|case, target| {
                let source = case.dtype();
                let convert: fn(u64) -> u64 = match (source, target) {
                    (Dtype::F32, Dtype::F16) => |b| f16::from_f32(f32::from_bits(b as u32)).to_bits() as u64,
                    (Dtype::F64, Dtype::F16) => |b| f16::from_f64(f64::from_bits(b)).to_bits() as u64,
                    (Dtype::F32, Dtype::Bf16) => |b| bf16::from_f32(f32::from_bits(b as u32)).to_bits() as u64,
                    (Dtype::F64, Dtype::Bf16) => |b| bf16::from_f64(f64::from_bits(b)).to_bits() as u64,
                    _ => return Err(format!("half has no {source}→{target} conversion")),
                };
                Ok(case.logical().into_iter().map(convert).collect())
            }),
        }
    }

    /// ndarray's `mapv(|x| x as T)` (Rust's `as`), on an array with the case's layout.
    pub fn ndarray_mapv() -> CastOp {
        CastOp {
            name: "ndarray mapv(as)",
            run: Box::new(|case, target| {
                macro_rules! mapv {
                    ($s:ty, $t:ty) => {{
                        let data = storage_of::<$s>(case);
                        array_view(case.layout(), &data).mapv(|x| x as $t).iter().map(|y| y.to_bits() as u64).collect()
                    }};
                }
                Ok(match (case.dtype(), target) {
                    (Dtype::F64, Dtype::F32) => mapv!(f64, f32),
                    (Dtype::F32, Dtype::F64) => mapv!(f32, f64),
                    (Dtype::I64, Dtype::F64) => mapv!(i64, f64),
                    (Dtype::I64, Dtype::F32) => mapv!(i64, f32),
                    (Dtype::I32, Dtype::F32) => mapv!(i32, f32),
                    (Dtype::I32, Dtype::F64) => mapv!(i32, f64),
                    (s, t) => return Err(format!("no {s}→{t} mapv in conform")),
                })
            }),
        }
    }
}

fn run(op: &CastOp, case: &TensorCase, target: Dtype) -> Result<Vec<u64>, CaseError> {
    (op.run)(case, target).map_err(|e| {
        let first = e.lines().next().unwrap_or_default().to_string();
        CaseError::fail(
            format!("{}({}→{target}) failed", op.name, case.dtype()),
            format!("{}({}→{target}) failed: {first}", op.name, case.dtype()),
        )
    })
}

fn is_nan(dtype: Dtype, bits: u64) -> bool {
    dtype.float_format().is_some_and(|f| f.is_nan(bits))
}

/// How a NaN came through a float cast: sign, and whether the payload is the canonical one or the input's top bits.
fn nan_behaviour(source: Dtype, x: u64, target: Dtype, y: u64) -> String {
    let (sf, tf) = (source.float_format().expect("float"), target.float_format().expect("float"));
    if !tf.is_nan(y) {
        return format!("{source}→{target} NaN became {}", target.hex(y));
    }
    let sign = if (x & sf.sign_bit() != 0) == (y & tf.sign_bit() != 0) { "sign kept" } else { "sign changed" };
    let payload_x = x & sf.man_mask();
    let kept = if sf.man_bits >= tf.man_bits {
        payload_x >> (sf.man_bits - tf.man_bits)
    } else {
        payload_x << (tf.man_bits - sf.man_bits)
    };
    let payload = match y & tf.man_mask() {
        p if p == tf.quiet_bit() && kept | tf.quiet_bit() != tf.quiet_bit() => "canonical quiet NaN",
        p if p == kept | tf.quiet_bit() => "payload kept, quieted",
        p if p == kept => "payload kept",
        _ => "other payload",
    };
    let kind = if payload_x & sf.quiet_bit() == 0 { "signalling" } else { "quiet" };
    format!("{source}→{target} {kind} NaN: {sign}, {payload}")
}

/// What the oracle says of one element, in words, for messages.
fn describe(source: Dtype, x: u64, target: Dtype) -> String {
    let r = cast_float(source, x, target);
    let tie = if r.tie { ", a tie" } else { "" };
    format!("x={} ({}{tie})", source.hex(x), source.render(x))
}

/// What a rounding check demands of each element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Demand {
    /// The correctly rounded result (nearest, ties to even).
    CorrectlyRounded,
    /// Within ½ ulp: a tie broken the other way passes, a truncation or a flush to zero does not; overflow aside.
    HalfUlp,
}

/// Property 1 (and 6 with another op): every element converts to the correctly rounded result (NaN to any NaN;
/// IEEE leaves a converted NaN's sign and payload open, so those are tabulated).
pub fn check_correctly_rounded(
    case: &TensorCase,
    target: Dtype,
    op: &CastOp,
    tally: Option<&Tally>,
) -> Result<(), CaseError> {
    check_rounding(case, target, op, Demand::CorrectlyRounded, tally)
}

/// Property 2: every finite, non-overflowing result lies within ½ ulp of the input — a result that is not
/// correctly rounded (a tie broken the other way) passes here, a truncation or a flush to zero does not.
pub fn check_half_ulp(case: &TensorCase, target: Dtype, op: &CastOp) -> Result<(), CaseError> {
    check_rounding(case, target, op, Demand::HalfUlp, None)
}

fn check_rounding(
    case: &TensorCase,
    target: Dtype,
    op: &CastOp,
    demand: Demand,
    tally: Option<&Tally>,
) -> Result<(), CaseError> {
    let source = case.dtype();
    let out = run(op, case, target)?;
    for (flat, (&x, &y)) in case.logical().iter().zip(&out).enumerate() {
        let r = cast_float(source, x, target);
        let nan = Exact::of(source, x).is_nan();
        if let (true, Some(tally)) = (nan, tally) {
            tally.add(nan_behaviour(source, x, target, y));
        }
        let other_tie = r.tie && y == r.other;
        let ok = match (nan, demand) {
            (true, _) => is_nan(target, y),
            (false, Demand::CorrectlyRounded) => y == r.bits,
            (false, Demand::HalfUlp) => r.overflow || y == r.bits || other_tie,
        };
        if ok {
            continue;
        }
        let (what, verdict) = match demand {
            Demand::CorrectlyRounded => {
                ("not correctly rounded", if other_tie { "; within ½ ulp (a tie rounded the other way)" } else { "" })
            }
            Demand::HalfUlp => ("error above ½ ulp", " and more than ½ ulp from x"),
        };
        return Err(CaseError::fail(
            format!("{}({source}→{target}) {what}", op.name),
            format!(
                "out{} bits={} ({}) but correctly rounded is {} ({}){verdict} [{}({source}→{target}), {}]",
                case.index_string(flat),
                target.hex(y),
                target.render(y),
                target.hex(r.bits),
                target.render(r.bits),
                op.name,
                describe(source, x, target)
            ),
        ));
    }
    Ok(())
}

/// Property 3: widening is exact, and narrowing the widened value gives the input back (NaNs stay NaN).
pub fn check_widening(case: &TensorCase, op: &CastOp, tally: Option<&Tally>) -> Result<(), CaseError> {
    let source = case.dtype();
    let wider: &[Dtype] = match source {
        Dtype::F16 | Dtype::Bf16 => &[Dtype::F32, Dtype::F64],
        Dtype::F32 => &[Dtype::F64],
        _ => &[],
    };
    let inputs = case.logical();
    for &wide in wider {
        let out = run(op, case, wide)?;
        let widened = TensorCase::contiguous(wide, case.shape(), out.clone()).expect("same shape");
        let back = run(op, &widened, source)?;
        for (flat, ((&x, &w), &b)) in inputs.iter().zip(&out).zip(&back).enumerate() {
            let exact = cast_float(source, x, wide).bits;
            let nan = is_nan(source, x);
            if nan {
                if let Some(tally) = tally {
                    tally.add(nan_behaviour(source, x, wide, w));
                    tally.add(format!(
                        "{source}→{wide}→{source} NaN round trip: {}",
                        if b == x { "bit-exact" } else { "payload or sign changed" }
                    ));
                }
            }
            let (widen_ok, back_ok) = if nan { (is_nan(wide, w), is_nan(source, b)) } else { (w == exact, b == x) };
            if !widen_ok || !back_ok {
                let what = if !widen_ok {
                    format!("widened to {} but exactly {}", wide.hex(w), wide.hex(exact))
                } else {
                    format!("came back as {}", source.hex(b))
                };
                return Err(CaseError::fail(
                    format!("{}({source}→{wide}→{source}) not exact", op.name),
                    format!(
                        "out{} x={} ({}) {what} [{}({source}→{wide}→{source})]",
                        case.index_string(flat),
                        source.hex(x),
                        source.render(x),
                        op.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The name of what an out-of-range cast into `target` returned.
fn int_result_class(target: Dtype, x: Exact, y: u64) -> &'static str {
    let (lo, hi) = int_range(target);
    let v = target.as_i128(y);
    let wrapped = trunc(x).map(|t| (t.rem_euclid(1i128 << target.width()) as u64) & target.mask());
    // The wrap-around explanation first: for u8, 0 is both the minimum and 256 modulo 2^8.
    match () {
        _ if wrapped == Some(y) => "the value modulo 2^width",
        _ if v == lo => "the minimum",
        _ if v == hi => "the maximum",
        _ if v == 0 => "0",
        _ => "another value",
    }
}

/// Property 4: a float whose truncation fits the integer target becomes that integer; NaN, infinities and
/// out-of-range values are implementation-defined in C++ and tabulated by input class and result.
pub fn check_float_to_int(case: &TensorCase, op: &CastOp, tally: Option<&Tally>) -> Result<(), CaseError> {
    let source = case.dtype();
    for target in INTS {
        let (lo, hi) = int_range(target);
        let out = run(op, case, target)?;
        for (flat, (&x, &y)) in case.logical().iter().zip(&out).enumerate() {
            let ex = Exact::of(source, x);
            match trunc(ex).filter(|t| (lo..=hi).contains(t)) {
                Some(t) => {
                    let want = (t as u64) & target.mask();
                    if y != want {
                        return Err(CaseError::fail(
                            format!("{}({source}→{target}) does not truncate toward zero", op.name),
                            format!(
                                "out{} = {} but trunc({}) = {t} [{}({source}→{target}), x={}]",
                                case.index_string(flat),
                                target.render(y),
                                source.render(x),
                                op.name,
                                source.hex(x)
                            ),
                        ));
                    }
                }
                None => {
                    if let Some(tally) = tally {
                        let class = match ex {
                            Exact::Nan { .. } => "NaN",
                            Exact::Inf { negative: false } => "+inf",
                            Exact::Inf { negative: true } => "-inf",
                            _ if ex.negative() => "below the minimum",
                            _ => "above the maximum",
                        };
                        tally.add(format!("{source}→{target} {class} → {}", int_result_class(target, ex, y)));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Property 5: to bool, nonzero (NaN included) is true and ±0 is false; from bool, false and true become 0 and 1.
pub fn check_bool(case: &TensorCase, op: &CastOp) -> Result<(), CaseError> {
    let source = case.dtype();
    let targets: Vec<Dtype> = if source == Dtype::Bool {
        Dtype::ALL.into_iter().filter(|&d| d != Dtype::Bool).collect()
    } else {
        vec![Dtype::Bool]
    };
    for target in targets {
        let out = run(op, case, target)?;
        for (flat, (&x, &y)) in case.logical().iter().zip(&out).enumerate() {
            let want = match target {
                Dtype::Bool => !matches!(Exact::of(source, x), Exact::Zero { .. }) as u64,
                t => crate::boundary::encode(t, Exact::of(Dtype::Bool, x)),
            };
            if y != want {
                return Err(CaseError::fail(
                    format!("{}({source}→{target}) wrong", op.name),
                    format!(
                        "out{} = {} but {} ({}) must give {} [{}({source}→{target})]",
                        case.index_string(flat),
                        target.hex(y),
                        source.hex(x),
                        source.render(x),
                        target.hex(want),
                        op.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Property 6, cross-system: libtorch and a second system give the same bits; where they do not, the message
/// says which one is correctly rounded.
pub fn check_agree(case: &TensorCase, target: Dtype, a: &CastOp, b: &CastOp) -> Result<(), CaseError> {
    let source = case.dtype();
    let (ya, yb) = (run(a, case, target)?, run(b, case, target)?);
    for (flat, ((&x, &p), &q)) in case.logical().iter().zip(&ya).zip(&yb).enumerate() {
        if p == q || (is_nan(target, p) && is_nan(target, q)) {
            continue;
        }
        let correct = cast_float(source, x, target).bits;
        let verdict = |y: u64| if y == correct { "correctly rounded" } else { "not correctly rounded" };
        return Err(CaseError::fail(
            format!("{} and {} disagree on {source}→{target}", a.name, b.name),
            format!(
                "out{}: {} gives {} ({}), {} gives {} ({}); correctly rounded is {} [{}]",
                case.index_string(flat),
                a.name,
                target.hex(p),
                verdict(p),
                b.name,
                target.hex(q),
                verdict(q),
                target.hex(correct),
                describe(source, x, target)
            ),
        ));
    }
    Ok(())
}

/// Batches of boundary values of `sources` aimed at `target`'s rounding boundaries.
fn boundary_space(sources: &'static [Dtype], target: FloatFormat) -> Space {
    Arc::new(move |max_numel| {
        CaseSpace::all(64 * max_numel)
            .with_dtypes(sources)
            .with_values(Arc::new(move |d, rng| draw_boundary(d, target, rng)))
    })
}

/// Sources aimed at either of two targets' boundaries, chosen per value.
fn two_target_space(sources: &'static [Dtype], a: FloatFormat, b: FloatFormat) -> Space {
    Arc::new(move |max_numel| {
        CaseSpace::all(64 * max_numel).with_dtypes(sources).with_values(Arc::new(move |d, rng| {
            let target = if rand::RngExt::random_bool(rng, 0.5) { a } else { b };
            draw_boundary(d, target, rng)
        }))
    })
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

pub fn properties() -> Vec<Property> {
    let mut all = Vec::new();
    let targets: [(Dtype, &'static [Dtype], &'static str, &'static str); 4] = [
        (Dtype::F16, &TO_F16, "casts::to_f16_correctly_rounded", "casts::to_f16_within_half_ulp"),
        (Dtype::Bf16, &TO_BF16, "casts::to_bf16_correctly_rounded", "casts::to_bf16_within_half_ulp"),
        (Dtype::F32, &TO_F32, "casts::to_f32_correctly_rounded", "casts::to_f32_within_half_ulp"),
        (Dtype::F64, &TO_F64, "casts::to_f64_correctly_rounded", "casts::to_f64_within_half_ulp"),
    ];
    for (target, sources, exact_name, bound_name) in targets {
        let format = target.float_format().expect("float target");
        let tally = Arc::new(Tally::default());
        let (op, t) = (CastOp::to_kind(), Arc::clone(&tally));
        all.push(Property {
            name: exact_name,
            family: Family::Casts,
            device: DeviceNeed::Cpu,
            doc: "to_kind into this float format gives the correctly rounded result (nearest, ties to even) for every float and integer source",
            claims: &[Claim::NotBitwiseIdentical],
            space: boundary_space(sources, format),
            check: Arc::new(move |case| check_correctly_rounded(case, target, &op, Some(&t))),
            tally: Some(tally),
        });
        let op = CastOp::to_kind();
        all.push(Property {
            name: bound_name,
            family: Family::Casts,
            device: DeviceNeed::Cpu,
            doc: "to_kind into this float format stays within ½ ulp of the input (overflow aside)",
            claims: &[Claim::NotBitwiseIdentical],
            space: boundary_space(sources, format),
            check: Arc::new(move |case| check_half_ulp(case, target, &op)),
            tally: None,
        });
    }
    let widening_tally = Arc::new(Tally::default());
    let (op, t) = (CastOp::to_kind(), Arc::clone(&widening_tally));
    all.push(Property {
        name: "casts::widening_exact_and_round_trips",
        family: Family::Casts,
        device: DeviceNeed::Cpu,
        doc: "f16/bf16 → f32/f64 and f32 → f64 are exact, and narrowing back gives the input (NaN stays NaN)",
        claims: &[Claim::NotBitwiseIdentical],
        space: Arc::new(|n| CaseSpace::all(64 * n).with_dtypes(&[Dtype::F16, Dtype::Bf16, Dtype::F32])),
        check: Arc::new(move |case| check_widening(case, &op, Some(&t))),
        tally: Some(widening_tally),
    });
    let int_tally = Arc::new(Tally::default());
    let (op, t) = (CastOp::to_kind(), Arc::clone(&int_tally));
    all.push(Property {
        name: "casts::float_to_int_truncates",
        family: Family::Casts,
        device: DeviceNeed::Cpu,
        doc: "float → integer truncates toward zero when the result fits; out-of-range, NaN and inf results are tabulated",
        claims: &[Claim::NotBitwiseIdentical],
        space: Arc::new(|n| {
            CaseSpace::all(64 * n).with_dtypes(&Dtype::FLOATS).with_values(Arc::new(|d, rng| {
                let target = INTS[rand::RngExt::random_range(rng, 0..INTS.len())];
                draw_int_edge(d, target, rng)
            }))
        }),
        check: Arc::new(move |case| check_float_to_int(case, &op, Some(&t))),
        tally: Some(int_tally),
    });
    let op = CastOp::to_kind();
    all.push(Property {
        name: "casts::bool_casts",
        family: Family::Casts,
        device: DeviceNeed::Cpu,
        doc: "nonzero (NaN included) → true, ±0 → false; false/true → 0/1 in every dtype",
        claims: &[Claim::NotBitwiseIdentical],
        space: Arc::new(|n| CaseSpace::all(64 * n)),
        check: Arc::new(move |case| check_bool(case, &op)),
        tally: None,
    });
    for (target, name) in [
        (Dtype::F16, "casts::half_crate_to_f16_correctly_rounded"),
        (Dtype::Bf16, "casts::half_crate_to_bf16_correctly_rounded"),
    ] {
        let op = CastOp::half_crate();
        all.push(Property {
            name,
            family: Family::Casts,
            device: DeviceNeed::Cpu,
            doc: "the half crate's from_f32/from_f64 give the correctly rounded result (a second system under the same oracle)",
            claims: &[],
            space: boundary_space(&HALF_SOURCES, target.float_format().expect("float")),
            check: Arc::new(move |case| check_correctly_rounded(case, target, &op, None)),
            tally: None,
        });
    }
    let op = CastOp::ndarray_mapv();
    all.push(Property {
        name: "casts::ndarray_mapv_correctly_rounded",
        family: Family::Casts,
        device: DeviceNeed::Cpu,
        doc: "ndarray's mapv(|x| x as f32 / f64) (Rust's `as`) gives the correctly rounded result",
        claims: &[],
        space: boundary_space(&MAPV_SOURCES, FloatFormat::F32),
        check: Arc::new(move |case| {
            let targets: &[Dtype] = if case.dtype() == Dtype::F64 { &[Dtype::F32] } else { &[Dtype::F32, Dtype::F64] };
            targets.iter().try_for_each(|&t| check_correctly_rounded(case, t, &op, None))
        }),
        tally: None,
    });
    let (a, b) = (CastOp::to_kind(), CastOp::half_crate());
    all.push(Property {
        name: "casts::libtorch_agrees_with_half",
        family: Family::Casts,
        device: DeviceNeed::Cpu,
        doc: "libtorch's to_kind and the half crate give the same f16/bf16 bits; a disagreement names the correctly rounded side",
        claims: &[],
        space: two_target_space(&HALF_SOURCES, FloatFormat::F16, FloatFormat::BF16),
        check: Arc::new(move |case| [Dtype::F16, Dtype::Bf16].iter().try_for_each(|&t| check_agree(case, t, &a, &b))),
        tally: None,
    });
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::minimal_failure;

    fn space(source: Dtype, target: FloatFormat) -> CaseSpace {
        (boundary_space(Box::leak(Box::new([source])), target))(64)
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
            minimal_failure(space(Dtype::F64, FloatFormat::F16), |c| check_correctly_rounded(c, Dtype::F16, &op, None));
        assert_eq!(case.numel(), 1, "{case:?}");
        assert_eq!(failure.signature, "truncating(f64→f16) not correctly rounded");
        let (case, failure) =
            minimal_failure(space(Dtype::F64, FloatFormat::F16), |c| check_half_ulp(c, Dtype::F16, &op));
        assert_eq!(format!("{case:?}"), "TensorCase { dtype: f64, shape: [], strides: [], offset: 0, storage: [0x3e60000000000001 = 2.980232238769532e-8] }");
        assert_eq!(failure.signature, "truncating(f64→f16) error above ½ ulp");
    }

    #[test]
    fn planted_ties_away_fails_exactness_but_passes_the_bound() {
        let op = elementwise("ties-away", ties_away);
        let (case, failure) = minimal_failure(space(Dtype::F32, FloatFormat::BF16), |c| {
            check_correctly_rounded(c, Dtype::Bf16, &op, None)
        });
        assert_eq!(format!("{case:?}"), "TensorCase { dtype: f32, shape: [], strides: [], offset: 0, storage: [0x00008000 = 4.591774807899561e-41] }");
        assert!(failure.message.contains("within ½ ulp (a tie rounded the other way)"), "{}", failure.message);
        crate::testing::assert_passes(space(Dtype::F32, FloatFormat::BF16), |c| check_half_ulp(c, Dtype::Bf16, &op));
    }

    #[test]
    fn planted_flush_to_zero_fails_and_shrinks() {
        let op = elementwise("flush-to-zero", flush_to_zero);
        let (case, failure) =
            minimal_failure(space(Dtype::F32, FloatFormat::F16), |c| check_half_ulp(c, Dtype::F16, &op));
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
        let (case, failure) = minimal_failure(space, |c| check_float_to_int(c, &saturating, None));
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
            minimal_failure(CaseSpace::all(64).with_dtypes(&[Dtype::F16]), |c| check_bool(c, &nan_false));
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
            minimal_failure(space(Dtype::F64, FloatFormat::F16), |c| check_agree(c, Dtype::F16, &ops.0, &ops.1));
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
            minimal_failure(CaseSpace::all(64).with_dtypes(&[Dtype::F16]), |c| check_widening(c, &flushing, None));
        assert_eq!(
            format!("{case:?}"),
            "TensorCase { dtype: f16, shape: [], strides: [], offset: 0, storage: [0x0001 = 5.960464477539063e-8] }"
        );
        assert!(failure.message.contains("widened to 0x00000000 but exactly 0x33800000"), "{}", failure.message);
    }
}
