//! Judging casts: an operation's output bits for a case, against the exact oracle — correct rounding or the ½-ulp
//! bound into a float format, exact widening and the way back, truncation toward zero into integers, bool casts,
//! and agreement of two systems. The properties in `conform_properties::casts` run the operations; everything that
//! decides pass or fail is here, free of libtorch, so it can be mutation-tested in seconds.
//!
//! Invariant: every judge compares the output's length with the case's before any value (a short or empty output
//! fails), looks at every element, and never calls a floating-point conversion to decide (the oracle is exact).

use conform_generators::{Dtype, TensorCase};

use crate::boundary::encode;
use crate::compare::same_len;
use crate::oracle::{cast_float, int_range, trunc, Exact};
use crate::verdict::{CheckError, Tally, Verdict};

/// The integer targets of a float → integer cast.
pub const INTS: [Dtype; 5] = [Dtype::U8, Dtype::I8, Dtype::I16, Dtype::I32, Dtype::I64];

/// True when `bits` is a NaN of `dtype` (never for integers).
pub fn is_nan(dtype: Dtype, bits: u64) -> bool {
    dtype.float_format().is_some_and(|f| f.is_nan(bits))
}

/// `op(source→target)`, the name of one conversion in messages and signatures.
fn path(op: &str, source: Dtype, target: Dtype) -> String {
    format!("{op}({source}→{target})")
}

/// How a NaN came through a float cast: sign, and whether the payload is the canonical one or the input's top bits.
pub fn nan_behaviour(source: Dtype, x: u64, target: Dtype, y: u64) -> String {
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
pub fn describe(source: Dtype, x: u64, target: Dtype) -> String {
    let r = cast_float(source, x, target);
    let tie = if r.tie { ", a tie" } else { "" };
    format!("x={} ({}{tie})", source.hex(x), source.render(x))
}

/// What a rounding judgment demands of each element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Demand {
    /// The correctly rounded result (nearest, ties to even).
    CorrectlyRounded,
    /// Within ½ ulp: a tie broken the other way passes, a truncation or a flush to zero does not; overflow aside.
    HalfUlp,
}

/// `out`, what `op` made of `case` in `target`, against the oracle under `demand`. NaN must give a NaN (IEEE leaves
/// a converted NaN's sign and payload open, so those are tabulated in `tally`, per pair and layout).
///
/// The verdict and message are those of the first wrong element. With a `tally`, every element is still judged
/// and counted per pair (see [`count_keys`]): values drawn, values wrong (within or beyond ½ ulp), and a histogram
/// of how far the wrong ones land from the correctly rounded result — whatever the runner later makes of the
/// failure (a known deviation's hits are counted too).
pub fn rounding(
    case: &TensorCase,
    target: Dtype,
    op: &str,
    out: &[u64],
    demand: Demand,
    tally: Option<&Tally>,
) -> Verdict {
    let source = case.dtype();
    let inputs = case.logical();
    same_len(&path(op, source, target), inputs.len(), out.len())?;
    let layout = layout_class(case);
    let mut first: Option<CheckError> = None;
    let mut counts = PairCounts::default();
    for (flat, (&x, &y)) in inputs.iter().zip(out).enumerate() {
        let r = cast_float(source, x, target);
        let nan = Exact::of(source, x).is_nan();
        if let (true, Some(tally)) = (nan, tally) {
            tally.add(format!("{} [{layout}]", nan_behaviour(source, x, target, y)));
        }
        let other_tie = r.tie && y == r.other;
        let correct = if nan { is_nan(target, y) } else { y == r.bits };
        counts.drawn += 1;
        if !correct {
            counts.wrong(target, nan, y, r.bits, other_tie);
        }
        let ok = match (nan, demand) {
            (true, _) => is_nan(target, y),
            (false, Demand::CorrectlyRounded) => y == r.bits,
            (false, Demand::HalfUlp) => r.overflow || y == r.bits || other_tie,
        };
        if ok || first.is_some() {
            continue;
        }
        let (what, verdict) = match demand {
            Demand::CorrectlyRounded => {
                ("not correctly rounded", if other_tie { "; within ½ ulp (a tie rounded the other way)" } else { "" })
            }
            Demand::HalfUlp => ("error above ½ ulp", " and more than ½ ulp from x"),
        };
        first = Some(CheckError::fail(
            format!("{} {what}", path(op, source, target)),
            format!(
                "out{} bits={} ({}) but correctly rounded is {} ({}){verdict} [{}, {}]",
                case.index_string(flat),
                target.hex(y),
                target.render(y),
                target.hex(r.bits),
                target.render(r.bits),
                path(op, source, target),
                describe(source, x, target)
            ),
        ));
        if tally.is_none() {
            break;
        }
    }
    if let Some(tally) = tally {
        counts.record(tally, op, source, target);
    }
    first.map_or(Ok(()), Err)
}

/// The tally keys under which [`rounding`] counts the values `op` converted from `source` to `target`, with `pair`
/// standing for `{op}({source}→{target})` (the form failure signatures use): `"{pair} values: drawn"`,
/// `"{pair} values: wrong"`, `"{pair} values: wrong within ½ ulp"` (a tie rounded the other way),
/// `"{pair} values: wrong beyond ½ ulp"`, and one `"{pair} error: …"` key per histogram bucket of the wrong values
/// (`1 ulp`, `2 ulp`, `3-4 ulp`, `5-8 ulp`, … apart from `flushed to 0`, `sign of 0 changed`, `became inf`, `stayed finite instead of
/// inf`, `became NaN` and `NaN became a number`). conform_reports parses exactly this grammar (its `casts` module)
/// into the cast matrix and the error histograms.
pub fn count_keys(op: &str, source: Dtype, target: Dtype) -> [String; 4] {
    let pair = path(op, source, target);
    [
        format!("{pair} values: drawn"),
        format!("{pair} values: wrong"),
        format!("{pair} values: wrong within ½ ulp"),
        format!("{pair} values: wrong beyond ½ ulp"),
    ]
}

/// Counts of one pair within one case, added to the tally once per case (a lock per element would cost more than
/// the cast).
#[derive(Debug, Default)]
struct PairCounts {
    drawn: u64,
    wrong: u64,
    within_half_ulp: u64,
    histogram: std::collections::BTreeMap<String, u64>,
}

impl PairCounts {
    fn wrong(&mut self, target: Dtype, nan: bool, y: u64, correct: u64, other_tie: bool) {
        self.wrong += 1;
        if other_tie {
            self.within_half_ulp += 1;
        }
        *self.histogram.entry(error_bucket(target, nan, y, correct)).or_insert(0) += 1;
    }

    fn record(self, tally: &Tally, op: &str, source: Dtype, target: Dtype) {
        let [drawn, wrong, within, beyond] = count_keys(op, source, target);
        tally.add_n(drawn, self.drawn);
        if self.wrong == 0 {
            return;
        }
        tally.add_n(wrong, self.wrong);
        tally.add_n(within, self.within_half_ulp);
        tally.add_n(beyond, self.wrong - self.within_half_ulp);
        for (bucket, n) in self.histogram {
            tally.add_n(format!("{} error: {bucket}", path(op, source, target)), n);
        }
    }
}

/// How far a wrong result `y` lands from the correctly rounded `correct` (both bits of `target`): a flush to zero,
/// an overflow and NaN changes apart, otherwise the distance in ulps of `target` (the number of representable
/// values between them, plus one), in power-of-two buckets.
pub fn error_bucket(target: Dtype, nan_input: bool, y: u64, correct: u64) -> String {
    let f = target.float_format().expect("a float target");
    let magnitude = |b: u64| b & !f.sign_bit();
    let bucket = match () {
        _ if nan_input => "NaN became a number",
        _ if f.is_nan(y) => "became NaN",
        _ if magnitude(y) == 0 && magnitude(correct) == 0 => "sign of 0 changed",
        _ if magnitude(y) == 0 && magnitude(correct) != 0 => "flushed to 0",
        _ if magnitude(y) == f.infinity() && magnitude(correct) != f.infinity() => "became inf",
        _ if magnitude(correct) == f.infinity() => "stayed finite instead of inf",
        _ => "",
    };
    if !bucket.is_empty() {
        return bucket.to_string();
    }
    let ordinal = |b: u64| if b & f.sign_bit() != 0 { -(magnitude(b) as i128) } else { magnitude(b) as i128 };
    let distance = (ordinal(y) - ordinal(correct)).unsigned_abs().max(1);
    match distance {
        1 => "1 ulp".to_string(),
        2 => "2 ulp".to_string(),
        d => {
            let upper = d.next_power_of_two();
            format!("{}-{upper} ulp", upper / 2 + 1)
        }
    }
}

/// The layout class NaN behaviour is tabulated by: `contiguous` (C order, no offset tricks) or `strided`.
pub fn layout_class(case: &TensorCase) -> &'static str {
    if case.layout().is_c_contiguous() {
        "contiguous"
    } else {
        "strided"
    }
}

/// Widening `case` to `wide` gave `out`, and narrowing `out` back gave `back`: the widening must be exact and the
/// way back must give the input (NaNs stay NaN; their payloads are tabulated).
pub fn widening(case: &TensorCase, wide: Dtype, op: &str, out: &[u64], back: &[u64], tally: Option<&Tally>) -> Verdict {
    let source = case.dtype();
    let inputs = case.logical();
    let round_trip = format!("{op}({source}→{wide}→{source})");
    same_len(&path(op, source, wide), inputs.len(), out.len())?;
    same_len(&path(op, wide, source), inputs.len(), back.len())?;
    for (flat, ((&x, &w), &b)) in inputs.iter().zip(out).zip(back).enumerate() {
        let exact = cast_float(source, x, wide).bits;
        let nan = is_nan(source, x);
        if let (true, Some(tally)) = (nan, tally) {
            tally.add(format!("{} [{}]", nan_behaviour(source, x, wide, w), layout_class(case)));
            tally.add(format!(
                "{source}→{wide}→{source} NaN round trip: {}",
                if b == x { "bit-exact" } else { "payload or sign changed" }
            ));
        }
        let (widen_ok, back_ok) = if nan { (is_nan(wide, w), is_nan(source, b)) } else { (w == exact, b == x) };
        if !widen_ok || !back_ok {
            let what = if !widen_ok {
                format!("widened to {} but exactly {}", wide.hex(w), wide.hex(exact))
            } else {
                format!("came back as {}", source.hex(b))
            };
            return Err(CheckError::fail(
                format!("{round_trip} not exact"),
                format!(
                    "out{} x={} ({}) {what} [{round_trip}]",
                    case.index_string(flat),
                    source.hex(x),
                    source.render(x),
                ),
            ));
        }
    }
    Ok(())
}

/// The name of what an out-of-range cast into `target` returned. Named by its value first (the minimum, the
/// maximum, 0); wrap-around is named only where it is the sole explanation, and said beside a value name where both
/// fit: 2^31 modulo 2^32 *is* i32's minimum, and 256 modulo 2^8 is u8's 0, so a cast that returns the minimum for
/// every large input must not be read as wrapping because one input happened to wrap onto it.
pub fn int_result_class(target: Dtype, x: Exact, y: u64) -> &'static str {
    let (lo, hi) = int_range(target);
    let v = target.as_i128(y);
    let wraps = trunc(x).map(|t| (t.rem_euclid(1i128 << target.width()) as u64) & target.mask()) == Some(y);
    match (v, wraps) {
        (v, false) if v == lo => "the minimum",
        (v, true) if v == lo => "the minimum (also the value modulo 2^width)",
        (v, false) if v == hi => "the maximum",
        (v, true) if v == hi => "the maximum (also the value modulo 2^width)",
        (0, false) => "0",
        (0, true) => "0 (also the value modulo 2^width)",
        (_, true) => "the value modulo 2^width",
        (_, false) => "another value",
    }
}

/// A float whose truncation fits the integer `target` must become that integer; NaN, infinities and out-of-range
/// values are implementation-defined in C++ and tabulated by input class and result.
pub fn truncates_toward_zero(
    case: &TensorCase,
    target: Dtype,
    op: &str,
    out: &[u64],
    tally: Option<&Tally>,
) -> Verdict {
    let source = case.dtype();
    let inputs = case.logical();
    let (lo, hi) = int_range(target);
    same_len(&path(op, source, target), inputs.len(), out.len())?;
    for (flat, (&x, &y)) in inputs.iter().zip(out).enumerate() {
        let ex = Exact::of(source, x);
        match trunc(ex).filter(|t| (lo..=hi).contains(t)) {
            Some(t) => {
                let want = (t as u64) & target.mask();
                if y != want {
                    return Err(CheckError::fail(
                        format!("{} does not truncate toward zero", path(op, source, target)),
                        format!(
                            "out{} = {} but trunc({}) = {t} [{}, x={}]",
                            case.index_string(flat),
                            target.render(y),
                            source.render(x),
                            path(op, source, target),
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
    Ok(())
}

/// To bool, nonzero (NaN included) is true and ±0 is false; from bool, false and true become 0 and 1.
pub fn bool_cast(case: &TensorCase, target: Dtype, op: &str, out: &[u64]) -> Verdict {
    let source = case.dtype();
    let inputs = case.logical();
    same_len(&path(op, source, target), inputs.len(), out.len())?;
    for (flat, (&x, &y)) in inputs.iter().zip(out).enumerate() {
        let want = match target {
            Dtype::Bool => !matches!(Exact::of(source, x), Exact::Zero { .. }) as u64,
            t => encode(t, Exact::of(Dtype::Bool, x)),
        };
        if y != want {
            return Err(CheckError::fail(
                format!("{} wrong", path(op, source, target)),
                format!(
                    "out{} = {} but {} ({}) must give {} [{}]",
                    case.index_string(flat),
                    target.hex(y),
                    source.hex(x),
                    source.render(x),
                    target.hex(want),
                    path(op, source, target)
                ),
            ));
        }
    }
    Ok(())
}

/// Two systems' outputs for the same cast must have the same bits (any NaN matches any NaN); where they differ,
/// the message says which side is correctly rounded.
pub fn agree(case: &TensorCase, target: Dtype, a: (&str, &[u64]), b: (&str, &[u64])) -> Verdict {
    let source = case.dtype();
    let inputs = case.logical();
    let ((a, ya), (b, yb)) = (a, b);
    same_len(&path(a, source, target), inputs.len(), ya.len())?;
    same_len(&path(b, source, target), inputs.len(), yb.len())?;
    for (flat, ((&x, &p), &q)) in inputs.iter().zip(ya).zip(yb).enumerate() {
        if p == q || (is_nan(target, p) && is_nan(target, q)) {
            continue;
        }
        let correct = cast_float(source, x, target).bits;
        let verdict = |y: u64| if y == correct { "correctly rounded" } else { "not correctly rounded" };
        return Err(CheckError::fail(
            format!("{a} and {b} disagree on {source}→{target}"),
            format!(
                "out{}: {a} gives {} ({}), {b} gives {} ({}); correctly rounded is {} [{}]",
                case.index_string(flat),
                target.hex(p),
                verdict(p),
                target.hex(q),
                verdict(q),
                target.hex(correct),
                describe(source, x, target)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(dtype: Dtype, values: Vec<u64>) -> TensorCase {
        TensorCase::contiguous(dtype, &[values.len()], values).unwrap()
    }

    fn signature(v: Verdict) -> String {
        match v {
            Err(CheckError::Fail(f)) => f.signature,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    /// Each judge names an output of the wrong length before looking at values: an empty, short or long output
    /// never passes (they used to `zip` and stop at the shorter side).
    #[test]
    fn every_judge_fails_an_output_of_the_wrong_length() {
        let c = case(Dtype::F32, vec![0x3f80_0000, 0x4000_0000, 0x4040_0000]);
        let right: Vec<u64> = c.logical().iter().map(|&x| cast_float(Dtype::F32, x, Dtype::F64).bits).collect();
        let back = c.logical();
        for wrong in [vec![], right[..2].to_vec(), [right.clone(), vec![0]].concat()] {
            let n = wrong.len();
            for demand in [Demand::CorrectlyRounded, Demand::HalfUlp] {
                let s = signature(rounding(&c, Dtype::F64, "op", &wrong, demand, None));
                assert_eq!(s, "op(f32→f64) returned the wrong number of values", "{n} values");
            }
            assert!(signature(widening(&c, Dtype::F64, "op", &wrong, &back, None)).ends_with("wrong number of values"));
            assert!(signature(widening(&c, Dtype::F64, "op", &right, &wrong, None)).ends_with("wrong number of values"));
            assert!(
                signature(truncates_toward_zero(&c, Dtype::I8, "op", &wrong, None)).ends_with("wrong number of values")
            );
            assert!(signature(bool_cast(&c, Dtype::Bool, "op", &wrong)).ends_with("wrong number of values"));
            assert!(signature(agree(&c, Dtype::F64, ("a", &right), ("b", &wrong))).ends_with("wrong number of values"));
            assert!(signature(agree(&c, Dtype::F64, ("a", &wrong), ("b", &right))).ends_with("wrong number of values"));
        }
        assert_eq!(rounding(&c, Dtype::F64, "op", &right, Demand::CorrectlyRounded, None), Ok(()));
        assert_eq!(widening(&c, Dtype::F64, "op", &right, &back, None), Ok(()));
    }

    /// A wrong last element of many is found (a judge that looked only at the first would pass it).
    #[test]
    fn a_wrong_last_element_fails_every_judge() {
        let c = case(Dtype::F32, vec![0x3f80_0000, 0x4000_0000, 0x4040_0000]);
        let mut out: Vec<u64> = c.logical().iter().map(|&x| cast_float(Dtype::F32, x, Dtype::F16).bits).collect();
        out[2] ^= 1;
        assert!(signature(rounding(&c, Dtype::F16, "op", &out, Demand::CorrectlyRounded, None))
            .ends_with("not correctly rounded"));
        let ints = case(Dtype::F32, vec![0x3f80_0000, 0x4000_0000, 0x4040_0000]);
        let mut trunc_out = vec![1, 2, 3];
        trunc_out[2] = 4;
        assert!(signature(truncates_toward_zero(&ints, Dtype::I8, "op", &trunc_out, None)).ends_with("toward zero"));
        let mut bools = vec![1, 1, 1];
        bools[2] = 0;
        assert!(signature(bool_cast(&c, Dtype::Bool, "op", &bools)).ends_with("wrong"));
    }

    /// A NaN must come out a NaN; any non-NaN output for a NaN input fails, whatever the demand.
    #[test]
    fn a_nan_turned_into_a_number_fails() {
        let c = case(Dtype::F32, vec![0x3f80_0000, 0x7fc0_0001]);
        for demand in [Demand::CorrectlyRounded, Demand::HalfUlp] {
            let out = vec![0x3c00, 0x7c00];
            assert!(
                signature(rounding(&c, Dtype::F16, "op", &out, demand, None)).ends_with("not correctly rounded")
                    || demand == Demand::HalfUlp
            );
            assert!(rounding(&c, Dtype::F16, "op", &out, demand, None).is_err());
        }
        assert_eq!(rounding(&c, Dtype::F16, "op", &[0x3c00, 0xfe00], Demand::CorrectlyRounded, None), Ok(()));
    }

    /// With a tally, every wrong element of a case is counted per pair (the message stays the first one's); a
    /// tie broken the other way is within ½ ulp, anything else beyond, and each lands in its histogram bucket.
    #[test]
    fn rounding_counts_every_wrong_element_and_keeps_the_first_message() {
        // 1.0, 1 + 2^-11 (a tie between 1.0 and 1 + 2^-10), 2^-24 (the least f16 subnormal), 1e6 (overflows f16).
        let c = case(Dtype::F32, vec![0x3f80_0000, 0x3f80_1000, 0x3380_0000, 0x4974_2400]);
        let right: Vec<u64> = c.logical().iter().map(|&x| cast_float(Dtype::F32, x, Dtype::F16).bits).collect();
        let mut out = right.clone();
        out[0] = 0x3c03; // 3 ulp above 1.0
        out[1] = 0x3c01; // the tie's other neighbour
        out[2] = 0x0000; // flushed
        let tally = Tally::default();
        let first = rounding(&c, Dtype::F16, "op", &out, Demand::CorrectlyRounded, Some(&tally));
        let without = rounding(&c, Dtype::F16, "op", &out, Demand::CorrectlyRounded, None);
        assert_eq!(first, without, "the verdict does not depend on counting");
        match first {
            Err(CheckError::Fail(f)) => assert!(f.message.starts_with("out[0] bits=0x3c03"), "{}", f.message),
            other => panic!("{other:?}"),
        }
        let counts = tally.take();
        let get = |k: &str| counts.get(k).copied().unwrap_or(0);
        assert_eq!(get("op(f32→f16) values: drawn"), 4);
        assert_eq!(get("op(f32→f16) values: wrong"), 3);
        assert_eq!(get("op(f32→f16) values: wrong within ½ ulp"), 1);
        assert_eq!(get("op(f32→f16) values: wrong beyond ½ ulp"), 2);
        assert_eq!(get("op(f32→f16) error: 3-4 ulp"), 1);
        assert_eq!(get("op(f32→f16) error: 1 ulp"), 1);
        assert_eq!(get("op(f32→f16) error: flushed to 0"), 1);
        assert_eq!(count_keys("op", Dtype::F32, Dtype::F16)[0], "op(f32→f16) values: drawn");
        // A pair with nothing wrong records only what was drawn.
        let tally = Tally::default();
        assert_eq!(rounding(&c, Dtype::F16, "op", &right, Demand::CorrectlyRounded, Some(&tally)), Ok(()));
        assert_eq!(tally.take().into_iter().collect::<Vec<_>>(), vec![("op(f32→f16) values: drawn".to_string(), 4)]);
    }

    #[test]
    fn error_buckets_keep_flushes_overflows_and_nans_apart() {
        let inf = 0x7c00;
        assert_eq!(error_bucket(Dtype::F16, false, 0x3c01, 0x3c00), "1 ulp");
        assert_eq!(error_bucket(Dtype::F16, false, 0x3bff, 0x3c01), "2 ulp");
        assert_eq!(error_bucket(Dtype::F16, false, 0x3c05, 0x3c00), "5-8 ulp");
        assert_eq!(error_bucket(Dtype::F16, false, 0x8001, 0x0001), "2 ulp", "across zero");
        assert_eq!(error_bucket(Dtype::F16, false, 0x8000, 0x0001), "flushed to 0");
        assert_eq!(error_bucket(Dtype::F16, false, 0x8000, 0x0000), "sign of 0 changed");
        assert_eq!(error_bucket(Dtype::F16, false, inf, 0x7bff), "became inf");
        assert_eq!(error_bucket(Dtype::F16, false, 0x7bff, inf), "stayed finite instead of inf");
        assert_eq!(error_bucket(Dtype::F16, false, 0x7e00, 0x3c00), "became NaN");
        assert_eq!(error_bucket(Dtype::F16, true, 0x3c00, 0x7e00), "NaN became a number");
    }

    /// The NaN behaviour is tabulated per pair and layout class.
    #[test]
    fn nan_behaviour_is_tabulated_with_the_layout() {
        let c = case(Dtype::F32, vec![0x7fc0_0001]);
        let tally = Tally::default();
        rounding(&c, Dtype::F16, "op", &[0x7e00], Demand::CorrectlyRounded, Some(&tally)).unwrap();
        let keys: Vec<String> = tally.take().into_keys().collect();
        assert!(
            keys.contains(&"f32→f16 quiet NaN: sign kept, payload kept, quieted [contiguous]".to_string()),
            "{keys:?}"
        );
    }

    /// INT_MIN is also 2^31 modulo 2^32: an input that wraps onto the minimum is named by its value, with the
    /// wrap-around beside it, and wrap-around alone only where no value name fits.
    #[test]
    fn out_of_range_int_results_are_named_by_value_first() {
        let two_31 = Exact::of(Dtype::F64, 0x41e0_0000_0000_0000); // 2^31
        let three_e9 = Exact::of(Dtype::F64, 3.0e9f64.to_bits());
        assert_eq!(int_result_class(Dtype::I32, two_31, 0x8000_0000), "the minimum (also the value modulo 2^width)");
        assert_eq!(int_result_class(Dtype::I32, three_e9, 0x8000_0000), "the minimum");
        assert_eq!(int_result_class(Dtype::I32, three_e9, 3_000_000_000u64 & 0xffff_ffff), "the value modulo 2^width");
        assert_eq!(int_result_class(Dtype::I32, three_e9, 0x7fff_ffff), "the maximum");
        assert_eq!(
            int_result_class(Dtype::U8, Exact::of(Dtype::F64, 256f64.to_bits()), 0),
            "the minimum (also the value modulo 2^width)"
        );
        assert_eq!(
            int_result_class(Dtype::I8, Exact::of(Dtype::F64, 256f64.to_bits()), 0),
            "0 (also the value modulo 2^width)"
        );
        assert_eq!(int_result_class(Dtype::I32, three_e9, 7), "another value");
    }
}
