//! Distances in ulps, for the properties whose specification is a tolerance rather than an exact result (the
//! transcendental functions): the bound conform states and the fractional ulp error of a result from a reference.

use conform_generators::{Dtype, FloatFormat, TensorCase};

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
/// `reference`; the maximum error per device, op and dtype is tabulated (in thousandths of an ulp). Inputs whose
/// reference is NaN are not judged, nor results whose correctly rounded value overflows.
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
        if r.is_nan() || f.is_nan(x) {
            continue;
        }
        // The reference rounded to the format: what a correctly rounded result would be.
        let rounded = round(f, Exact::of_float(FloatFormat::F64, r.to_bits()));
        let err = if rounded.overflow { 0.0 } else { ulp_error(f, y, r) };
        if let Some(t) = tally {
            t.record_max(format!("max ulp ×1000: {device} {name} {dtype}"), (err.min(1e9) * 1000.0).round() as u64);
        }
        if err > ulp_bound(dtype) {
            return Err(CheckError::fail(
                format!("{device} {name} {dtype} above {} ulp", ulp_bound(dtype)),
                format!(
                    "out{}: {name}({}) = {} on {device}, {err:.2} ulp from the f64 reference {r:e} (bound {} ulp) [{dtype}]",
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
