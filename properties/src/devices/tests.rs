//! Planted defects against a fake device: each devices check fails on a corrupting device and shrinks it.

use conform_generators::{CaseSpace, Dtype, TensorCase};
use conform_judge::Tally;
use tch::TchError;

use super::*;
use crate::convert::tensor_bits;
use crate::cuda::{cuda_status, CudaStatus};
use crate::testing::{assert_passes, minimal_failure};

/// A fake device whose download rewrites the bits with `f`.
fn corrupting(f: fn(Dtype, u64) -> u64) -> Remote {
    Remote {
        download: Box::new(move |t| {
            let bits = tensor_bits(t).map_err(|e| TchError::Convert(e.to_string()))?;
            let changed: Vec<u64> = bits.bits.iter().map(|&b| f(bits.dtype, b)).collect();
            let case = TensorCase::contiguous(bits.dtype, &bits.shape, changed)
                .map_err(|e| TchError::Convert(e.to_string()))?;
            (crate::convert::ToTensor::copying().run)(&case).map_err(|e| TchError::Convert(e.to_string()))
        }),
        ..Remote::fake()
    }
}

fn flush_subnormals(d: Dtype, b: u64) -> u64 {
    match d.float_format() {
        Some(f) if b & f.exp_mask() == 0 => b & f.sign_bit(),
        _ => b,
    }
}

#[test]
fn the_fake_device_passes_every_property() {
    let fake = Remote::fake();
    assert_passes(CaseSpace::all(16), |c| round_trip_bit_exact(c, &fake));
    assert_passes(CaseSpace::all(16), |c| copy_is_new_storage(c, &fake));
    assert_passes(float_space(1), |c| cast_same(c, &fake));
    assert_passes(float_space(1), |c| basic_ops_same(c, &fake, None));
    assert_passes(CaseSpace::all(16).with_dtypes(&[Dtype::F32, Dtype::F16, Dtype::Bf16]), |c| {
        transcendentals_within_bound(c, &fake, None)
    });
}

#[test]
fn planted_subnormal_flush_fails_the_round_trip_and_shrinks() {
    let remote = corrupting(flush_subnormals);
    let (case, failure) =
        minimal_failure(CaseSpace::all(64).with_dtypes(&[Dtype::F32]), |c| round_trip_bit_exact(c, &remote));
    assert_eq!(format!("{case:?}"), "TensorCase { dtype: f32, shape: [], strides: [], offset: 0, storage: [0x00000001 = 1.401298464324817e-45] }");
    assert_eq!(failure.signature, "cpu→fake→cpu (blocking): bits of a subnormal element changed");
}

#[test]
fn planted_aliasing_upload_fails() {
    let remote = Remote { upload: Box::new(|t| t.f_alias()), ..Remote::fake() };
    let (case, failure) =
        minimal_failure(CaseSpace::all(64).with_dtypes(&[Dtype::U8]), |c| copy_is_new_storage(c, &remote));
    assert_eq!(
        format!("{case:?}"),
        "TensorCase { dtype: u8, shape: [], strides: [], offset: 0, storage: [0x00 = 0] }"
    );
    assert_eq!(failure.signature, "device copy aliases the source");
}

#[test]
fn planted_cast_difference_names_the_correct_side() {
    // The device's f16 results are one ulp off whenever the last bit is set.
    let remote = corrupting(|d, b| if d == Dtype::F16 && b & 1 == 1 { b ^ 1 } else { b });
    let (case, failure) =
        minimal_failure(float_space(1).with_dtypes(&[Dtype::F32]), |c| cast_same(c, &remote));
    assert_eq!(case.numel(), 1);
    assert!(
        failure.message.contains("(correctly rounded), fake gives")
            && failure.message.contains("(not correctly rounded)"),
        "{}",
        failure.message
    );
}

#[test]
fn planted_basic_op_difference_fails() {
    let remote = corrupting(|d, b| if d == Dtype::F64 && b & 0xf == 0x3 { b ^ 1 } else { b });
    let (case, failure) =
        minimal_failure(float_space(1).with_dtypes(&[Dtype::F64]), |c| basic_ops_same(c, &remote, None));
    assert_eq!(case.numel(), 1);
    assert!(failure.signature.starts_with("cpu and fake disagree on "), "{}", failure.signature);
}

#[test]
fn planted_inaccurate_transcendental_fails_and_is_measured() {
    // Eight ulps off on the device for every finite nonzero result.
    let remote = corrupting(|d, b| match d.float_format() {
        Some(f) if b & f.exp_mask() != f.exp_mask() && b & !f.sign_bit() > 16 => b - 8,
        _ => b,
    });
    let tally = Tally::default();
    let (case, failure) = minimal_failure(CaseSpace::all(64).with_dtypes(&[Dtype::F32]), |c| {
        transcendentals_within_bound(c, &remote, Some(&tally))
    });
    assert_eq!(case.numel(), 1);
    assert!(
        failure.signature.starts_with("fake ") && failure.signature.ends_with(" f32 above 4 ulp"),
        "{}",
        failure.signature
    );
    let maxima = tally.take();
    assert!(maxima.keys().any(|k| k.starts_with("max ulp ×1000: cpu exp f32")), "{maxima:?}");
}

#[test]
fn status_explains_why_cuda_is_unusable_here() {
    match cuda_status() {
        CudaStatus::Usable { devices } => assert!(devices > 0),
        CudaStatus::Unusable { reason, hint } => assert!(!reason.is_empty() && hint.is_some(), "{reason}"),
    }
}
