//! `ulps`: the ulp of a reference below 1 and at the subnormal floor, an infinite reference against a finite
//! result and infinities of opposite signs, a result exactly at the bound (passes) and one past it (fails), and a
//! NaN on one device only.

use conform_generators::{Dtype, FloatFormat, TensorCase};

use crate::ulps::{same_on_both, ulp_error, within_ulp_bound};
use crate::verdict::CheckError;

fn f32_case(values: &[f32]) -> TensorCase {
    TensorCase::contiguous(Dtype::F32, &[values.len()], values.iter().map(|v| v.to_bits() as u64).collect()).unwrap()
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
