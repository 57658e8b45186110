//! `ulps`: the ulp of a reference below 1 and at the subnormal floor, an infinite reference against a finite
//! result and infinities of opposite signs, a NaN result or reference (infinitely far), a result exactly at the
//! bound (passes) and one past it (fails), f64's whole ulps and infinities, and a NaN on one device only.

use conform_generators::{Dtype, FloatFormat, TensorCase};

use crate::ulps::{same_on_both, ulp_error, within_ulp_bound};
use crate::verdict::CheckError;

fn f32_case(values: &[f32]) -> TensorCase {
    TensorCase::contiguous(Dtype::F32, &[values.len()], values.iter().map(|v| v.to_bits() as u64).collect()).unwrap()
}

fn f64_case(values: &[f64]) -> TensorCase {
    TensorCase::contiguous(Dtype::F64, &[values.len()], values.iter().map(|v| v.to_bits()).collect()).unwrap()
}

fn failure(v: crate::verdict::Verdict) -> crate::verdict::Failure {
    match v {
        Err(CheckError::Fail(f)) => f,
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn identity(x: f64) -> f64 {
    x
}

#[test]
fn ulps_scale_with_the_reference_down_to_the_subnormal_quantum() {
    let f = FloatFormat::F32;
    let bits = |x: f32| x.to_bits() as u64;
    assert_eq!(ulp_error(f, bits(0.5) + 1, 0.5), 1.0, "the ulp of 0.5 is 2^-24");
    assert_eq!(ulp_error(f, bits(0.75) + 2, 0.75), 2.0);
    assert_eq!(ulp_error(f, bits(3.0) + 1, 3.0), 1.0);
    assert_eq!(ulp_error(f, 1, 0.0), 1.0, "the least subnormal from 0");
    assert_eq!(ulp_error(f, 3, f64::from(f32::from_bits(1))), 2.0, "subnormals share one quantum");
    assert_eq!(ulp_error(FloatFormat::F16, 0x3c01, 1.0), 1.0);
    assert_eq!(ulp_error(FloatFormat::F16, 0x0001, 0.0), 1.0);
}

#[test]
fn infinities_are_zero_ulps_only_from_themselves() {
    let f = FloatFormat::F32;
    let inf = f32::INFINITY.to_bits() as u64;
    let neg_inf = f32::NEG_INFINITY.to_bits() as u64;
    assert_eq!(ulp_error(f, inf, f64::INFINITY), 0.0);
    assert_eq!(ulp_error(f, neg_inf, f64::NEG_INFINITY), 0.0);
    assert_eq!(ulp_error(f, inf, f64::NEG_INFINITY), f64::INFINITY);
    assert_eq!(ulp_error(f, neg_inf, f64::INFINITY), f64::INFINITY);
    assert_eq!(ulp_error(f, 1f32.to_bits() as u64, f64::INFINITY), f64::INFINITY);
    assert_eq!(ulp_error(f, 1f32.to_bits() as u64, f64::NEG_INFINITY), f64::INFINITY);
}

/// f32's bound is 4 ulp: exactly 4 passes, 5 fails (the reference here is the identity, so the error is exact).
#[test]
fn the_bound_itself_passes() {
    let case = f32_case(&[1.5, 3.0]);
    let at = [1.5f32.to_bits() as u64 + 4, 3f32.to_bits() as u64 - 4];
    assert_eq!(within_ulp_bound(&case, "id", "cpu", &at, identity, None), Ok(()));
    let past = [1.5f32.to_bits() as u64 + 4, 3f32.to_bits() as u64 - 5];
    let Err(CheckError::Fail(f)) = within_ulp_bound(&case, "id", "cpu", &past, identity, None) else {
        panic!("five ulps must fail");
    };
    assert_eq!(f.signature, "cpu id f32 above 4 ulp");
    assert!(f.message.starts_with("out[1]: id(3.0) = "), "{}", f.message);
}

#[test]
fn a_nan_on_one_device_only_disagrees() {
    let case = f32_case(&[1.0, 2.0]);
    let a = [1f32.to_bits() as u64, 0x7fc0_0000];
    let b = [1f32.to_bits() as u64, 2f32.to_bits() as u64];
    assert!(same_on_both(&case, "add", ("cpu", &a), ("cuda:0", &b), None).is_err());
    assert!(same_on_both(&case, "add", ("cpu", &b), ("cuda:0", &a), None).is_err());
    assert_eq!(same_on_both(&case, "add", ("cpu", &a), ("cuda:0", &a), None), Ok(()));
}

/// A NaN is infinitely far from a number, whichever side it is on (never a NaN count of ulps), and an f16 NaN
/// where the reference is a number fails with that distance in its message.
#[test]
fn a_nan_is_infinitely_far_from_a_number() {
    assert_eq!(ulp_error(FloatFormat::F16, 0x7e00, 1.0), f64::INFINITY);
    assert_eq!(ulp_error(FloatFormat::F32, 0x7fc0_0000, 0.0), f64::INFINITY);
    assert_eq!(ulp_error(FloatFormat::F16, 0x3c00, f64::NAN), f64::INFINITY);
    let half = TensorCase::contiguous(Dtype::F16, &[1], vec![0x3c00]).unwrap();
    let f = failure(within_ulp_bound(&half, "id", "cpu", &[0x7e00], identity, None));
    assert_eq!(f.signature, "cpu id f16 above 1 ulp");
    assert!(f.message.contains(", inf ulp from the f64 reference 1e0 (bound 1 ulp) [f16]"), "{}", f.message);
}

/// f64 counts whole ulps from the correctly rounded reference with a bound of 1: two steps below 1.0 are 2 ulp and
/// fail, although they are 1.0 fractional ulp of 1.0 away (the ulp halves below a power of two); one step passes.
/// An infinity is within the bound of itself only: +inf for +inf passes, +inf for the largest finite number fails,
/// and so does the largest finite number where the reference is +inf (float-cmp puts them one ulp apart).
#[test]
fn f64_counts_whole_ulps_and_an_infinity_is_within_only_of_itself() {
    let one = f64_case(&[1.0]);
    let bits = 1f64.to_bits();
    assert_eq!(within_ulp_bound(&one, "id", "cpu", &[bits - 1], identity, None), Ok(()));
    assert_eq!(within_ulp_bound(&one, "id", "cpu", &[bits + 1], identity, None), Ok(()));
    let f = failure(within_ulp_bound(&one, "id", "cpu", &[bits - 2], identity, None));
    assert_eq!(f.signature, "cpu id f64 above 1 ulp");
    let two = ", 2.00 ulp from the correctly rounded f64 reference 1e0 (bound 1 ulp) [f64]";
    assert!(f.message.contains(two), "{}", f.message);
    let inf = f64::INFINITY.to_bits();
    assert_eq!(within_ulp_bound(&f64_case(&[f64::INFINITY]), "id", "cpu", &[inf], identity, None), Ok(()));
    let max = f64_case(&[f64::MAX]);
    let f = failure(within_ulp_bound(&max, "id", "cpu", &[inf], identity, None));
    assert!(f.message.contains(", inf ulp from the correctly rounded f64 reference"), "{}", f.message);
    assert!(within_ulp_bound(&max, "f", "cpu", &[f64::MAX.to_bits()], |_| f64::INFINITY, None).is_err());
}
