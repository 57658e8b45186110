//! Distances in ulps, for the properties whose specification is a tolerance rather than an exact result (the
//! transcendental functions): the bound conform states, and how far a result is from the reference.
//!
//! f32 and f64 results are compared by float-cmp's ulps comparison: the number of representable values between the
//! result and the correctly rounded reference, in whole ulps. float-cmp has no f16 or bf16 (and counts whole ulps
//! only), so for those the project's own fractional ulp error from the real reference ([`ulp_error`]) stays.
//! Exact checks (casts, round trips) never come here: a tolerance is never a substitute for the rounding oracle.

use conform_generators::{Dtype, FloatFormat, TensorCase};
use float_cmp::{ApproxEq, F32Margin, F64Margin, Ulps};

use crate::compare::same_len;
use crate::oracle::{round, Exact};
use crate::verdict::{CheckError, Tally, Verdict};

/// The ULP bound conform states for exp, log, sin and tanh in f32 on both devices (CUDA documents at most 2 ulp
/// for expf, sinf and tanhf and 1 for logf; SLEEF's u10 functions on the CPU at most 1): 4 ulp, with the measured
/// maximum reported. For f16 and bf16, computed in f32 and rounded once: 1 ulp.
pub fn ulp_bound(dtype: Dtype) -> f64 {
    if dtype == Dtype::F32 {
        4.0
    } else {
        1.0
    }
}

/// The error of `y` (bits of format `f`) from the real `reference`, in ulps of `f` at the reference.
pub fn ulp_error(f: FloatFormat, y: u64, reference: f64) -> f64 {
    let got = f.to_f64(y);
    if got == reference || (got.is_infinite() && reference.is_infinite() && got.signum() == reference.signum()) {
        return 0.0;
    }
    if !got.is_finite() || !reference.is_finite() {
        return f64::INFINITY;
    }
    let exponent = if reference == 0.0 { i32::MIN } else { ((reference.abs().to_bits() >> 52) as i32) - 1023 };
    let emin = 1 - f.bias();
    let ulp = 2f64.powi(exponent.max(emin) - f.man_bits as i32);
    (got - reference).abs() / ulp
}

/// `bits`, what `op` (`name`) gave on `device` for the case's elements, stays within [`ulp_bound`] of the f64
/// `reference`: in whole ulps from the correctly rounded reference for f32 and f64 (float-cmp), in fractional ulps
/// from the reference itself for f16 and bf16. The maximum error per device, op and dtype is tabulated (in
/// thousandths of an ulp). Inputs whose reference is NaN are not judged, nor results whose correctly rounded value
/// overflows.
pub fn within_ulp_bound(
    case: &TensorCase,
    name: &str,
    device: &str,
    bits: &[u64],
    reference: fn(f64) -> f64,
    tally: Option<&Tally>,
) -> Verdict {
    let dtype = case.dtype();
    let f = dtype.float_format().expect("float dtypes only");
    let xs = case.logical();
    same_len(&format!("{device} {name} {dtype}"), xs.len(), bits.len())?;
    for (k, (&x, &y)) in xs.iter().zip(bits).enumerate() {
        let r = reference(f.to_f64(x));
        // Where the reference is NaN (a NaN input, log of a negative number) the result must be a NaN; where it is
        // a signed zero (sin, tanh of ±0) the result must be that zero, sign included (IEEE 754, C Annex F).
        let special = match () {
            _ if r.is_nan() || f.is_nan(x) => (!f.is_nan(y)).then_some("a NaN"),
            _ if r == 0.0 && f.to_f64(y) == 0.0 && r.is_sign_negative() != f.to_f64(y).is_sign_negative() => {
                Some(if r.is_sign_negative() { "-0.0" } else { "+0.0" })
            }
            _ => None,
        };
        if let Some(want) = special {
            return Err(CheckError::fail(
                format!("{device} {name} {dtype} wrong special value"),
                format!(
                    "out{}: {name}({}) = {} on {device} but must be {want} [{dtype}]",
                    case.index_string(k),
                    dtype.render(x),
                    dtype.render(y),
                ),
            ));
        }
        if r.is_nan() || f.is_nan(x) {
            continue;
        }
        // The reference rounded to the format: what a correctly rounded result would be.
        let rounded = round(f, Exact::of_float(FloatFormat::F64, r.to_bits()));
        let Distance { ulps: err, within, from } = match rounded.overflow {
            true => Distance { ulps: 0.0, within: true, from: "" },
            false => distance(dtype, f, y, rounded.bits, r),
        };
        if let Some(t) = tally {
            t.record_max(format!("max ulp ×1000: {device} {name} {dtype}"), (err.min(1e9) * 1000.0).round() as u64);
        }
        if !within {
            return Err(CheckError::fail(
                format!("{device} {name} {dtype} above {} ulp", ulp_bound(dtype)),
                format!(
                    "out{}: {name}({}) = {} on {device}, {err:.2} ulp from {from} {r:e} (bound {} ulp) [{dtype}]",
                    case.index_string(k),
                    dtype.render(x),
                    dtype.render(y),
                    ulp_bound(dtype)
                ),
            ));
        }
    }
    Ok(())
}

/// How far a result is from its reference, and whether that is within [`ulp_bound`].
struct Distance {
    ulps: f64,
    within: bool,
    /// What the distance is measured from, for the message.
    from: &'static str,
}

/// The distance of `y` (bits of format `f`, of `dtype`) from the real reference `r`, whose correctly rounded value
/// in `f` is `rounded`. f32 and f64: float-cmp's whole-ulp comparison with the correctly rounded value (no epsilon)
/// when both are finite; an infinity is 0 ulp from itself and infinitely far from anything else (float-cmp would put
/// it one ulp past the largest finite number). f16 and bf16: [`ulp_error`], fractional, from `r`.
fn distance(dtype: Dtype, f: FloatFormat, y: u64, rounded: u64, r: f64) -> Distance {
    let bound = ulp_bound(dtype);
    let whole = |same: bool, finite: bool, ulps: u64, within: bool| Distance {
        ulps: if same {
            0.0
        } else if finite {
            ulps as f64
        } else {
            f64::INFINITY
        },
        within: same || (finite && within),
        from: "the correctly rounded f64 reference",
    };
    match dtype {
        Dtype::F32 => {
            let (got, want) = (f32::from_bits(y as u32), f32::from_bits(rounded as u32));
            let margin = F32Margin { epsilon: 0.0, ulps: bound as i32 };
            let finite = got.is_finite() && want.is_finite();
            whole(got == want, finite, got.ulps(&want).unsigned_abs().into(), got.approx_eq(want, margin))
        }
        Dtype::F64 => {
            let (got, want) = (f64::from_bits(y), f64::from_bits(rounded));
            let margin = F64Margin { epsilon: 0.0, ulps: bound as i64 };
            let finite = got.is_finite() && want.is_finite();
            whole(got == want, finite, got.ulps(&want).unsigned_abs(), got.approx_eq(want, margin))
        }
        _ => {
            let ulps = ulp_error(f, y, r);
            Distance { ulps, within: ulps <= bound, from: "the f64 reference" }
        }
    }
}

/// Two devices' results of the same IEEE basic op (`name`, on the case and its reverse as operands) must have the
/// same bits; NaN results compare as NaN, and differing NaN bits are tabulated.
pub fn same_on_both(
    case: &TensorCase,
    name: &str,
    (here, a): (&str, &[u64]),
    (there, b): (&str, &[u64]),
    tally: Option<&Tally>,
) -> Verdict {
    let dtype = case.dtype();
    let f = dtype.float_format().expect("float dtypes only");
    let xs = case.logical();
    same_len(&format!("{here} {name} {dtype}"), xs.len(), a.len())?;
    same_len(&format!("{there} {name} {dtype}"), xs.len(), b.len())?;
    let ys: Vec<u64> = xs.iter().rev().copied().collect();
    for (k, (&p, &q)) in a.iter().zip(b).enumerate() {
        if f.is_nan(p) && f.is_nan(q) {
            if let (Some(t), true) = (tally, p != q) {
                t.add(format!("{name} {dtype}: NaN bits differ between {here} and {there}"));
            }
            continue;
        }
        if p != q {
            return Err(CheckError::fail(
                format!("{here} and {there} disagree on {name} {dtype}"),
                format!(
                    "out{}: {name}({}, {}) is {} on {here} and {} on {there} [{dtype}]",
                    case.index_string(k),
                    dtype.hex(xs[k]),
                    dtype.hex(ys[k]),
                    dtype.hex(p),
                    dtype.hex(q),
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulp_error_counts_steps_of_the_format() {
        let f = FloatFormat::F32;
        let one = 1f32.to_bits() as u64;
        assert_eq!(ulp_error(f, one, 1.0), 0.0);
        assert_eq!(ulp_error(f, one + 1, 1.0), 1.0);
        assert_eq!(ulp_error(f, one, 1.0 + f64::from(f32::EPSILON) / 2.0), 0.5);
        assert_eq!(ulp_error(f, f32::INFINITY.to_bits() as u64, f64::INFINITY), 0.0);
        assert_eq!(ulp_error(f, f32::INFINITY.to_bits() as u64, 1.0), f64::INFINITY);
        assert_eq!(ulp_bound(Dtype::F32), 4.0);
        assert_eq!(ulp_bound(Dtype::F16), 1.0);
    }

    fn f32_case(values: &[f32]) -> TensorCase {
        TensorCase::contiguous(Dtype::F32, &[values.len()], values.iter().map(|v| v.to_bits() as u64).collect())
            .unwrap()
    }

    #[test]
    fn within_bound_passes_the_rounded_reference_and_fails_eight_ulps_off_in_the_last_element() {
        let case = f32_case(&[0.5, 1.0, 2.0]);
        let exact: Vec<u64> = [0.5f64, 1.0, 2.0].iter().map(|&x| (x.exp() as f32).to_bits() as u64).collect();
        assert_eq!(within_ulp_bound(&case, "exp", "cpu", &exact, f64::exp, None), Ok(()));
        let mut off = exact.clone();
        off[2] += 8;
        let tally = Tally::default();
        let Err(CheckError::Fail(f)) = within_ulp_bound(&case, "exp", "cpu", &off, f64::exp, Some(&tally)) else {
            panic!("eight ulps off must fail");
        };
        assert_eq!(f.signature, "cpu exp f32 above 4 ulp");
        assert!(f.message.starts_with("out[2]: exp(2.0)"), "{}", f.message);
        assert!(tally.take()["max ulp ×1000: cpu exp f32"] >= 7_500);
        let Err(CheckError::Fail(f)) = within_ulp_bound(&case, "exp", "cpu", &exact[..2], f64::exp, None) else {
            panic!("a short output must fail");
        };
        assert_eq!(f.message, "cpu exp f32 returned 2 values for 3 elements");
    }

    #[test]
    fn a_number_where_a_nan_is_due_and_a_zero_of_the_wrong_sign_fail() {
        let case = f32_case(&[-1.0, 0.5]);
        let nan_log = [0x7fc0_0000u64, (0.5f32.ln()).to_bits() as u64];
        assert_eq!(within_ulp_bound(&case, "log", "cpu", &nan_log, f64::ln, None), Ok(()));
        let zero_log = [0u64, (0.5f32.ln()).to_bits() as u64];
        let Err(CheckError::Fail(f)) = within_ulp_bound(&case, "log", "cpu", &zero_log, f64::ln, None) else {
            panic!("log(-1) = 0 must fail");
        };
        assert_eq!(f.signature, "cpu log f32 wrong special value");
        let zeros = f32_case(&[-0.0, 0.0]);
        assert_eq!(within_ulp_bound(&zeros, "sin", "cpu", &[0x8000_0000, 0], f64::sin, None), Ok(()));
        let Err(CheckError::Fail(f)) = within_ulp_bound(&zeros, "sin", "cpu", &[0, 0], f64::sin, None) else {
            panic!("sin(-0) = +0 must fail");
        };
        assert!(f.message.contains("must be -0.0"), "{}", f.message);
    }

    /// f32 counts whole ulps from the correctly rounded reference (float-cmp): a reference 0.4 ulp above 1.0
    /// rounds to 1.0, and 4 steps above that pass (4 ulp, where a fractional count from the reference gives 3.6),
    /// 5 fail; an infinity is never within a bound of the largest finite number. f16 stays fractional: one step
    /// above a reference just under 1.0 (where the ulp halves) is 2.2 ulp from it and fails the 1-ulp bound,
    /// although it is one step from the rounded value.
    #[test]
    fn f32_counts_whole_ulps_from_the_rounded_reference_and_f16_stays_fractional() {
        fn f32_above(x: f64) -> f64 {
            x + 0.4 * f64::from(f32::EPSILON)
        }
        fn f16_above(x: f64) -> f64 {
            x + 0.4 * 2f64.powi(-10)
        }
        fn f16_below(x: f64) -> f64 {
            x - 0.2 * 2f64.powi(-11)
        }
        let case = f32_case(&[1.0]);
        let one = 1f32.to_bits() as u64;
        let tally = Tally::default();
        assert_eq!(within_ulp_bound(&case, "f", "cpu", &[one + 4], f32_above, Some(&tally)), Ok(()));
        assert_eq!(tally.take()["max ulp ×1000: cpu f f32"], 4000);
        let Err(CheckError::Fail(f)) = within_ulp_bound(&case, "f", "cpu", &[one + 5], f32_above, None) else {
            panic!("five whole ulps must fail");
        };
        assert!(f.message.contains("5.00 ulp from the correctly rounded f64 reference"), "{}", f.message);
        let max = f32_case(&[f32::MAX]);
        let inf = f32::INFINITY.to_bits() as u64;
        assert!(within_ulp_bound(&max, "id", "cpu", &[inf], |x| x, None).is_err(), "inf is not 1 ulp from MAX");
        let max_bits = f32::MAX.to_bits() as u64;
        assert!(within_ulp_bound(&max, "f", "cpu", &[max_bits], |_| f64::INFINITY, None).is_err(), "nor MAX from inf");
        let zero = f32_case(&[0.0]);
        let neg_inf = f32::NEG_INFINITY.to_bits() as u64;
        assert_eq!(within_ulp_bound(&zero, "log", "cpu", &[neg_inf], f64::ln, None), Ok(()), "log(0) = -inf exactly");
        let half = TensorCase::contiguous(Dtype::F16, &[1], vec![0x3c00]).unwrap();
        assert_eq!(within_ulp_bound(&half, "f", "cpu", &[0x3c01], f16_above, None), Ok(()));
        let Err(CheckError::Fail(f)) = within_ulp_bound(&half, "f", "cpu", &[0x3c01], f16_below, None) else {
            panic!("2.2 fractional ulps must fail f16's 1-ulp bound");
        };
        assert!(f.message.contains("2.20 ulp from the f64 reference"), "{}", f.message);
    }

    #[test]
    fn same_on_both_tolerates_nan_bits_but_not_values() {
        let case = f32_case(&[1.0, f32::NAN]);
        let a = [1f32.to_bits() as u64, 0x7fc0_0000];
        let b = [1f32.to_bits() as u64, 0x7fc0_0001];
        let tally = Tally::default();
        assert_eq!(same_on_both(&case, "add", ("cpu", &a), ("cuda:0", &b), Some(&tally)), Ok(()));
        assert_eq!(tally.take().len(), 1);
        let c = [0x3f80_0001, 0x7fc0_0000];
        let Err(CheckError::Fail(f)) = same_on_both(&case, "add", ("cpu", &a), ("cuda:0", &c), None) else {
            panic!("a one-ulp difference must fail");
        };
        assert_eq!(f.signature, "cpu and cuda:0 disagree on add f32");
        assert!(same_on_both(&case, "add", ("cpu", &a), ("cuda:0", &c[..1]), None).is_err());
    }
}
