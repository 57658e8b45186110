//! Planted defects against a fake device: each devices check fails on a corrupting device and shrinks it — to one
//! element for a defect of every element, to the smallest case that still has the wrong element for the others.

use std::sync::Mutex;

use conform_generators::{CaseSpace, Dtype, TensorCase};
use conform_judge::Tally;
use tch::TchError;

use super::*;
use crate::convert::tensor_bits;
use crate::cuda::{cuda_status, CudaStatus};
use crate::testing::{
    assert_caught, assert_passes, corrupted, memory_ordered_tensor, minimal_failure, Defect, Length, Position,
};

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
    assert_eq!(
        format!("{case:?}"),
        "TensorCase { dtype: f32, shape: [], strides: [], offset: 0, storage: [0x00000001 = 1.401298464324817e-45] }"
    );
    assert_eq!(failure.signature, "cpu→fake→cpu (blocking): bits of a subnormal element changed");
}

#[test]
fn planted_aliasing_upload_fails() {
    let remote = Remote { upload: Box::new(|t| t.f_alias()), ..Remote::fake() };
    let (case, failure) =
        minimal_failure(CaseSpace::all(64).with_dtypes(&[Dtype::U8]), |c| copy_is_new_storage(c, &remote));
    assert_eq!(format!("{case:?}"), "TensorCase { dtype: u8, shape: [], strides: [], offset: 0, storage: [0x00 = 0] }");
    assert_eq!(failure.signature, "device copy aliases the source");
}

#[test]
fn planted_cast_difference_names_the_correct_side() {
    // The device's f16 results are one ulp off whenever the last bit is set.
    let remote = corrupting(|d, b| if d == Dtype::F16 && b & 1 == 1 { b ^ 1 } else { b });
    let (case, failure) = minimal_failure(float_space(1).with_dtypes(&[Dtype::F32]), |c| cast_same(c, &remote));
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

// Power tests: every devices check against a fake device that is wrong in one element (at each position, of each
// value class), in one dtype, on one copy path, on non-contiguous sources only, or gives a result of the wrong
// length.

/// A fake device whose download plants `defect` in what comes back (the op's result, when there is an op).
fn downloading(defect: &Defect) -> Remote {
    let defect = defect.clone();
    Remote { download: Box::new(move |t| corrupted(t, &defect)), ..Remote::fake() }
}

/// A fake device whose upload reads a non-contiguous source in memory order.
fn memory_order_upload() -> Remote {
    Remote { upload: Box::new(memory_ordered_tensor), ..Remote::fake() }
}

/// The positional and value-class defects of a download, then one of `dtype` only.
fn one_element_downloads(dtype: Dtype) -> Vec<(&'static str, Remote)> {
    let mut all: Vec<(&'static str, Remote)> = Defect::one_element().iter().map(|d| (d.name, downloading(d))).collect();
    let only = Defect::only(dtype, dtype, Defect::at(Position::Last));
    all.push((only.name, downloading(&only)));
    all
}

fn wrong_length_downloads() -> Vec<(&'static str, Remote)> {
    Length::ALL.iter().map(|&l| (l.name(), downloading(&Defect::length(l)))).collect()
}

#[track_caller]
fn assert_each_caught(
    space: CaseSpace,
    check: impl Fn(&TensorCase, &Remote) -> Verdict,
    remotes: Vec<(&'static str, Remote)>,
    expected: &[(&str, &str)],
) {
    assert_eq!(remotes.len(), expected.len(), "one expectation per planted device");
    for ((what, remote), &(case, signature)) in remotes.iter().zip(expected) {
        assert_caught(what, space.clone(), |c| check(c, remote), case, signature);
    }
}

#[test]
fn round_trip_catches_one_wrong_element_of_any_position_class_or_dtype() {
    assert_each_caught(
        CaseSpace::all(16).with_dtypes(&[Dtype::F16, Dtype::F64]),
        round_trip_bit_exact,
        one_element_downloads(Dtype::F64),
        &[
            (
                "TensorCase { dtype: f16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "cpu→fake→cpu (blocking): bits of a zero element changed",
            ),
            (
                "TensorCase { dtype: f16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "cpu→fake→cpu (blocking): bits of a zero element changed",
            ),
            (
                "TensorCase { dtype: f16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "cpu→fake→cpu (blocking): bits of a zero element changed",
            ),
            (
                "TensorCase { dtype: f16, shape: [2], strides: [1], offset: 0, storage: [0x7c01 = NaN, 0x0000 = 0.0] }",
                "cpu→fake→cpu (blocking): bits of a NaN element changed",
            ),
            (
                "TensorCase { dtype: f64, shape: [2], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x8000000000000000 = -0.0] }",
                "cpu→fake→cpu (blocking): bits of a negative-zero element changed",
            ),
            (
                "TensorCase { dtype: f16, shape: [2], strides: [1], offset: 0, storage: [0x0001 = 5.960464477539063e-8, 0x0000 = 0.0] }",
                "cpu→fake→cpu (blocking): bits of a subnormal element changed",
            ),
            (
                "TensorCase { dtype: f64, shape: [3], strides: [1], offset: 0, storage: [0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0, 0x0000000000000000 = 0.0] }",
                "cpu→fake→cpu (blocking): bits of a zero element changed",
            ),
        ],
    );
}

#[test]
fn round_trip_judges_every_copy_path_layout_and_length() {
    let last = Defect::at(Position::Last);
    let pinned = Remote { upload_pinned: Box::new(move |t| corrupted(t, &last)), ..Remote::fake() };
    let last = Defect::at(Position::Last);
    let peer = Remote { peer: Some(Box::new(move |t| corrupted(t, &last))), ..Remote::fake() };
    let mut remotes = vec![("pinned path", pinned), ("peer path", peer), ("memory order", memory_order_upload())];
    remotes.extend(wrong_length_downloads());
    assert_each_caught(
        CaseSpace::all(16).with_dtypes(&[Dtype::I32]),
        round_trip_bit_exact,
        remotes,
        &[
            (
                "TensorCase { dtype: i32, shape: [3], strides: [1], offset: 0, storage: [0x00000000 = 0, 0x00000000 = 0, 0x00000000 = 0] }",
                "cpu→fake→cpu (pinned non_blocking): bits of a integer element changed",
            ),
            (
                "TensorCase { dtype: i32, shape: [3], strides: [1], offset: 0, storage: [0x00000000 = 0, 0x00000000 = 0, 0x00000000 = 0] }",
                "cpu→fake→peer→fake→cpu: bits of a integer element changed",
            ),
            (
                "TensorCase { dtype: i32, shape: [2, 2], strides: [1, 2], offset: 0, storage: [0x00000000 = 0, 0x00000001 = 1, 0x00000000 = 0, 0x00000000 = 0] }",
                "cpu→fake→cpu (blocking): bits of a integer element changed",
            ),
            (
                "TensorCase { dtype: i32, shape: [], strides: [], offset: 0, storage: [0x00000000 = 0] }",
                "cpu→fake→cpu (blocking): shape changed",
            ),
            (
                "TensorCase { dtype: i32, shape: [2], strides: [1], offset: 0, storage: [0x00000000 = 0, 0x00000000 = 0] }",
                "cpu→fake→cpu (blocking): shape changed",
            ),
            (
                "TensorCase { dtype: i32, shape: [], strides: [], offset: 0, storage: [0x00000000 = 0] }",
                "cpu→fake→cpu (blocking): shape changed",
            ),
        ],
    );
}

/// A fake device whose copy is new memory that reads the source when it is downloaded.
fn host_mapped() -> Remote {
    let source: Arc<Mutex<Option<tch::Tensor>>> = Arc::new(Mutex::new(None));
    let kept = Arc::clone(&source);
    Remote {
        upload: Box::new(move |t| {
            *kept.lock().unwrap() = Some(t.f_alias()?);
            deep_copy(t)
        }),
        download: Box::new(move |t| match &*source.lock().unwrap() {
            Some(live) => deep_copy(live),
            None => deep_copy(t),
        }),
        ..Remote::fake()
    }
}

#[test]
fn copy_is_new_storage_catches_wrong_values_kinds_shapes_and_aliasing_of_some_cases_only() {
    let mut remotes = one_element_downloads(Dtype::Bf16);
    remotes.extend([
        (
            "bf16 uploaded as f16",
            Remote {
                upload: Box::new(|t| match t.f_kind()? {
                    tch::Kind::BFloat16 => deep_copy(&t.f_view_dtype(tch::Kind::Half)?),
                    _ => deep_copy(t),
                }),
                ..Remote::fake()
            },
        ),
        (
            "flattened when rank 2 or more",
            Remote {
                upload: Box::new(|t| if t.dim() >= 2 { deep_copy(&t.f_reshape([-1])?) } else { deep_copy(t) }),
                ..Remote::fake()
            },
        ),
        // contiguous() returns its input when it is contiguous already: a "copy" that aliases exactly then.
        ("upload by contiguous()", Remote { upload: Box::new(|t| t.f_contiguous()), ..Remote::fake() }),
        (
            "aliases non-contiguous sources",
            Remote {
                upload: Box::new(|t| if t.is_contiguous() { deep_copy(t) } else { t.f_alias() }),
                ..Remote::fake()
            },
        ),
        // Host-mapped memory: the device tensor lies elsewhere, but its bytes are read from the source when they
        // are read at all. Only overwriting the source shows it.
        ("reads the source at download", host_mapped()),
    ]);
    remotes.extend(wrong_length_downloads());
    assert_each_caught(
        CaseSpace::all(16).with_dtypes(&[Dtype::Bf16, Dtype::F32]),
        copy_is_new_storage,
        remotes,
        &[
            (
                "TensorCase { dtype: bf16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "fake copy after the source was overwritten: bits of a zero element changed",
            ),
            (
                "TensorCase { dtype: bf16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "fake copy after the source was overwritten: bits of a zero element changed",
            ),
            (
                "TensorCase { dtype: bf16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "fake copy after the source was overwritten: bits of a zero element changed",
            ),
            (
                "TensorCase { dtype: bf16, shape: [2], strides: [1], offset: 0, storage: [0x7f81 = NaN, 0x0000 = 0.0] }",
                "fake copy after the source was overwritten: bits of a NaN element changed",
            ),
            (
                "TensorCase { dtype: f32, shape: [2], strides: [1], offset: 0, storage: [0x00000000 = 0.0, 0x80000000 = -0.0] }",
                "fake copy after the source was overwritten: bits of a negative-zero element changed",
            ),
            (
                "TensorCase { dtype: bf16, shape: [2], strides: [1], offset: 0, storage: [0x0001 = 9.183549615799121e-41, 0x0000 = 0.0] }",
                "fake copy after the source was overwritten: bits of a subnormal element changed",
            ),
            (
                "TensorCase { dtype: bf16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "fake copy after the source was overwritten: bits of a zero element changed",
            ),
            (
                "TensorCase { dtype: bf16, shape: [], strides: [], offset: 0, storage: [0x0000 = 0.0] }",
                "device copy changed dtype or shape",
            ),
            (
                "TensorCase { dtype: bf16, shape: [0, 0], strides: [1, 1], offset: 0, storage: [0xffff = -NaN] }",
                "device copy changed dtype or shape",
            ),
            (
                "TensorCase { dtype: bf16, shape: [], strides: [], offset: 0, storage: [0x0000 = 0.0] }",
                "device copy aliases the source",
            ),
            (
                "TensorCase { dtype: bf16, shape: [2], strides: [0], offset: 0, storage: [0x0000 = 0.0] }",
                "device copy aliases the source",
            ),
            (
                "TensorCase { dtype: bf16, shape: [], strides: [], offset: 0, storage: [0x0000 = 0.0] }",
                "fake copy after the source was overwritten: bits of a zero element changed",
            ),
            (
                "TensorCase { dtype: bf16, shape: [], strides: [], offset: 0, storage: [0x0000 = 0.0] }",
                "fake copy after the source was overwritten: shape changed",
            ),
            (
                "TensorCase { dtype: bf16, shape: [2], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0] }",
                "fake copy after the source was overwritten: shape changed",
            ),
            (
                "TensorCase { dtype: bf16, shape: [], strides: [], offset: 0, storage: [0x0000 = 0.0] }",
                "fake copy after the source was overwritten: shape changed",
            ),
        ],
    );
}

/// A fake device wrong in the last element of the casts from `from` to `to` only (the upload notes the source).
fn wrong_in_one_cast(from: tch::Kind, to: tch::Kind) -> Remote {
    let source = Arc::new(Mutex::new(None));
    let noted = Arc::clone(&source);
    let last = Defect::at(Position::Last);
    Remote {
        upload: Box::new(move |t| {
            *noted.lock().unwrap() = Some(t.f_kind()?);
            deep_copy(t)
        }),
        download: Box::new(move |t| match (*source.lock().unwrap(), t.f_kind()?) {
            (Some(f), k) if (f, k) == (from, to) => corrupted(t, &last),
            _ => deep_copy(t),
        }),
        ..Remote::fake()
    }
}

#[test]
fn cast_agreement_catches_one_wrong_element_of_any_position_class_pair_layout_or_length() {
    let mut remotes = one_element_downloads(Dtype::Bf16);
    remotes.pop();
    remotes.push(("f32→bf16 only", wrong_in_one_cast(tch::Kind::Float, tch::Kind::BFloat16)));
    remotes.push(("memory order", memory_order_upload()));
    remotes.extend(wrong_length_downloads());
    assert_each_caught(
        float_space(1),
        cast_same,
        remotes,
        &[
            (
                "TensorCase { dtype: f16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "cpu and fake disagree on f16→bf16",
            ),
            (
                "TensorCase { dtype: f16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "cpu and fake disagree on f16→bf16",
            ),
            (
                "TensorCase { dtype: f16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "cpu and fake disagree on f16→bf16",
            ),
            (
                "TensorCase { dtype: f16, shape: [2], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x7c01 = NaN] }",
                "cpu and fake disagree on f16→bf16",
            ),
            (
                "TensorCase { dtype: f16, shape: [2], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x8000 = -0.0] }",
                "cpu and fake disagree on f16→bf16",
            ),
            (
                "TensorCase { dtype: f32, shape: [2], strides: [1], offset: 0, storage: [0x33000001 = 2.980232594040899e-8, 0x00000000 = 0.0] }",
                "cpu and fake disagree on f32→f16",
            ),
            (
                "TensorCase { dtype: f32, shape: [3], strides: [1], offset: 0, storage: [0x00000000 = 0.0, 0x00000000 = 0.0, 0x00000000 = 0.0] }",
                "cpu and fake disagree on f32→bf16",
            ),
            (
                "TensorCase { dtype: f16, shape: [2, 2], strides: [1, 2], offset: 0, storage: [0x0000 = 0.0, 0x0001 = 5.960464477539063e-8, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "cpu and fake disagree on f16→bf16",
            ),
            (
                "TensorCase { dtype: f16, shape: [], strides: [], offset: 0, storage: [0x0000 = 0.0] }",
                "fake(f16→bf16) returned the wrong number of values",
            ),
            (
                "TensorCase { dtype: f16, shape: [2], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0] }",
                "fake(f16→bf16) returned the wrong number of values",
            ),
            (
                "TensorCase { dtype: f16, shape: [], strides: [], offset: 0, storage: [0x0000 = 0.0] }",
                "fake(f16→bf16) returned the wrong number of values",
            ),
        ],
    );
}

#[test]
fn basic_op_agreement_catches_one_wrong_element_of_any_position_class_dtype_layout_or_length() {
    let mut remotes = one_element_downloads(Dtype::Bf16);
    remotes.push(("memory order", memory_order_upload()));
    remotes.extend(wrong_length_downloads());
    assert_each_caught(
        float_space(1),
        |c, r| basic_ops_same(c, r, None),
        remotes,
        &[
            (
                "TensorCase { dtype: f16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "cpu and fake disagree on add f16",
            ),
            (
                "TensorCase { dtype: f16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "cpu and fake disagree on add f16",
            ),
            (
                "TensorCase { dtype: f16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "cpu and fake disagree on add f16",
            ),
            (
                "TensorCase { dtype: f16, shape: [2], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0] }",
                "cpu and fake disagree on div f16",
            ),
            (
                "TensorCase { dtype: f16, shape: [2], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x8000 = -0.0] }",
                "cpu and fake disagree on sub f16",
            ),
            (
                "TensorCase { dtype: f32, shape: [2, 3], strides: [3, 1], offset: 0, storage: [0x2e0bbc51 = 3.177219945471599e-11, 0x00000000 = 0.0, 0x00000000 = 0.0, 0x00000000 = 0.0, 0x00000000 = 0.0, 0x05ea8000 = 2.2052274021426114e-35] }",
                "cpu and fake disagree on mul f32",
            ),
            (
                "TensorCase { dtype: bf16, shape: [2, 2], strides: [2, 1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "cpu and fake disagree on add bf16",
            ),
            (
                "TensorCase { dtype: f16, shape: [2, 2], strides: [1, 2], offset: 0, storage: [0x0000 = 0.0, 0x0001 = 5.960464477539063e-8, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "cpu and fake disagree on add f16",
            ),
            (
                "TensorCase { dtype: f16, shape: [], strides: [], offset: 0, storage: [0x0000 = 0.0] }",
                "fake add f16 returned the wrong number of values",
            ),
            (
                "TensorCase { dtype: f16, shape: [2], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0] }",
                "fake add f16 returned the wrong number of values",
            ),
            (
                "TensorCase { dtype: f16, shape: [], strides: [], offset: 0, storage: [0x0000 = 0.0] }",
                "fake add f16 returned the wrong number of values",
            ),
        ],
    );
}

fn transcendental_space() -> CaseSpace {
    CaseSpace::all(16).with_dtypes(&[Dtype::F32, Dtype::F16, Dtype::Bf16])
}

#[test]
fn transcendental_bound_catches_one_wrong_element_of_any_position_dtype_layout_or_length() {
    let mut remotes = one_element_downloads(Dtype::Bf16);
    // NaN and -0.0 are the two ignored tests below; a flushed subnormal result is kept.
    remotes.drain(3..5);
    remotes.push(("memory order", memory_order_upload()));
    remotes.extend(wrong_length_downloads());
    assert_each_caught(
        transcendental_space(),
        |c, r| transcendentals_within_bound(c, r, None),
        remotes,
        &[
            (
                "TensorCase { dtype: f32, shape: [3], strides: [1], offset: 0, storage: [0x00000000 = 0.0, 0x00000000 = 0.0, 0x00000000 = 0.0] }",
                "fake exp f32 above 4 ulp",
            ),
            (
                "TensorCase { dtype: f32, shape: [3], strides: [1], offset: 0, storage: [0x00000000 = 0.0, 0x00000000 = 0.0, 0x00000000 = 0.0] }",
                "fake exp f32 above 4 ulp",
            ),
            (
                "TensorCase { dtype: f32, shape: [3], strides: [1], offset: 0, storage: [0x00000000 = 0.0, 0x00000000 = 0.0, 0x00000000 = 0.0] }",
                "fake exp f32 above 4 ulp",
            ),
            (
                "TensorCase { dtype: f32, shape: [2], strides: [1], offset: 0, storage: [0x00000005 = 7.006492321624085e-45, 0x00000000 = 0.0] }",
                "fake sin f32 above 4 ulp",
            ),
            (
                "TensorCase { dtype: bf16, shape: [3], strides: [1], offset: 0, storage: [0x0000 = 0.0, 0x0000 = 0.0, 0x0000 = 0.0] }",
                "fake exp bf16 above 1 ulp",
            ),
            (
                "TensorCase { dtype: f32, shape: [2, 2], strides: [1, 2], offset: 0, storage: [0x00000000 = 0.0, 0x00000001 = 1.401298464324817e-45, 0x00000000 = 0.0, 0x00000000 = 0.0] }",
                "fake log f32 above 4 ulp",
            ),
            (
                "TensorCase { dtype: f32, shape: [], strides: [], offset: 0, storage: [0x00000000 = 0.0] }",
                "fake exp f32 returned the wrong number of values",
            ),
            (
                "TensorCase { dtype: f32, shape: [2], strides: [1], offset: 0, storage: [0x00000000 = 0.0, 0x00000000 = 0.0] }",
                "fake exp f32 returned the wrong number of values",
            ),
            (
                "TensorCase { dtype: f32, shape: [], strides: [], offset: 0, storage: [0x00000000 = 0.0] }",
                "fake exp f32 returned the wrong number of values",
            ),
        ],
    );
}

#[test]
fn transcendental_bound_catches_a_nan_result_made_zero() {
    let remote = downloading(&Defect::one("NaN result made 0", |e| {
        (e.numel >= 2 && e.to.float_format()?.is_nan(e.y)).then_some(0)
    }));
    let (case, failure) = minimal_failure(transcendental_space(), |c| transcendentals_within_bound(c, &remote, None));
    assert_eq!(case.numel(), 2, "{case:?}");
    assert!(failure.signature.starts_with("fake "), "{}", failure.signature);
}

#[test]
fn transcendental_bound_catches_a_dropped_sign_of_zero() {
    let remote = downloading(&Defect::negative_zero_sign_dropped());
    let (case, failure) = minimal_failure(transcendental_space(), |c| transcendentals_within_bound(c, &remote, None));
    let negative_zero = case.dtype().float_format().unwrap().sign_bit();
    assert_eq!((case.numel(), case.logical().contains(&negative_zero)), (2, true), "{case:?}");
    assert!(failure.signature.starts_with("fake "), "{}", failure.signature);
}
