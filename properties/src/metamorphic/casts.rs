//! `to_kind_placement_independent`: libtorch's `to_kind`, between every pair of conform's ten dtypes, gives the
//! same output bits for the same input value in every placement (see [`super::placement`]): one value at a time in
//! a 0-d or a one-element tensor, all of them in a contiguous tensor, a strided and a transposed view, and tiled into
//! a tensor of 65,536+ elements (vectorised and multi-threaded kernels) on one and on several libtorch threads.

use conform_generators::{Dtype, TensorCase};
use conform_judge::metamorphic::{same_answer, Elements, Question};
use conform_judge::{one_line, Verdict};
use tch::{TchError, Tensor};

use super::placement::{answers, place, raw_bytes, run_everywhere, ThreadCount};
use super::{space, FAMILY};
use crate::element::kind_of;
use crate::property::Property;

/// What a [`TensorOp`] runs: a tensor and a target dtype in, a tensor out.
pub type TensorOpFn = Box<dyn Fn(&Tensor, Dtype) -> Result<Tensor, TchError> + Send + Sync>;

/// A cast of a whole tensor to a target dtype, named for messages; a parameter so unit tests can plant defects.
pub struct TensorOp {
    pub name: &'static str,
    pub run: TensorOpFn,
}

impl TensorOp {
    /// libtorch's `Tensor::to_kind` on CPU.
    pub fn to_kind() -> TensorOp {
        TensorOp { name: "to_kind", run: Box::new(|t, target| t.f_to_kind(kind_of(target))) }
    }
}

/// to_kind gives the same bits for a value wherever it is placed and however many threads libtorch uses.
pub fn to_kind_placement_independent() -> Property {
    let op = TensorOp::to_kind();
    Property::new(
        FAMILY,
        "to_kind_placement_independent",
        "to_kind between every pair of dtypes gives the same bits, NaN payloads included, for a value alone in a 0-d or \
         [1] tensor, in a contiguous, strided or transposed tensor, or tiled into 65,536+ elements on 1 or 4 threads",
    )
    .tensors(space)
    .check(move |case| same_cast_everywhere(case, &Dtype::ALL, &op))
}

/// The check of [`to_kind_placement_independent`] for one case: the inputs are made once per placement, then cast
/// into each of `targets`, every placement's output read as raw bytes and judged against the others.
pub fn same_cast_everywhere(case: &TensorCase, targets: &[Dtype], op: &TensorOp) -> Verdict {
    let source = case.dtype();
    let threads = ThreadCount::hold();
    let placed = place(source, &case.logical(), |piece| piece.tensor(source))?;
    for &target in targets {
        let name = format!("{}({source}→{target})", op.name);
        let given = run_everywhere(&name, &placed, &threads, |t: &Tensor| {
            let out = (op.run)(t, target).map_err(|e| one_line(&e.to_string()).to_string())?;
            raw_bytes(&out).map_err(|e| e.to_string())
        })?;
        let question = Question { op: &name, any_dtype: op.name };
        same_answer(question, case, &answers(&placed, &given, Elements::Bytes))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::tensor_bits;
    use crate::metamorphic::placement::LARGE;
    use crate::testing::minimal_failure;
    use conform_generators::CaseSpace;

    fn f32_space() -> CaseSpace {
        space(64).with_dtypes(&[Dtype::F32])
    }

    /// A cast that is right by construction (a bit-for-bit copy: identity on the same dtype) unless `wrong` says
    /// the tensor it is handed is one the planted defect applies to; then `rewrite` changes each output element.
    fn planted(name: &'static str, wrong: fn(&Tensor) -> bool, rewrite: fn(u64) -> u64) -> TensorOp {
        TensorOp {
            name,
            run: Box::new(move |t, target| {
                let read = tensor_bits(t).map_err(|e| TchError::Convert(e.to_string()))?;
                let width = target.size_bytes();
                let bits = read.bits.iter().map(|&b| if wrong(t) { rewrite(b) } else { b });
                let bytes: Vec<u8> = bits.flat_map(|b| b.to_le_bytes().into_iter().take(width)).collect();
                let shape: Vec<i64> = read.shape.iter().map(|&n| n as i64).collect();
                Tensor::f_from_data_size(&bytes, &shape, kind_of(target))
            }),
        }
    }

    fn check(op: &TensorOp) -> impl Fn(&TensorCase) -> Verdict + '_ {
        move |case| same_cast_everywhere(case, &[Dtype::F32], op)
    }

    #[test]
    fn planted_large_only_defect_shrinks_to_one_zero() {
        let op = planted("wrong when large", |t| t.numel() >= LARGE, |b| b ^ 1);
        let (case, failure) = minimal_failure(f32_space(), check(&op));
        assert_eq!(
            format!("{case:?}"),
            "TensorCase { dtype: f32, shape: [], strides: [], offset: 0, storage: [0x00000000 = 0.0] }"
        );
        assert_eq!(
            failure.signature,
            "wrong when large(f32→f32): the answer for a zero element depends on its placement"
        );
        assert_eq!(
            failure.message,
            "out[] bits=0x00000001 (1.401298464324817e-45) in large contiguous [65536], 1 thread (position 0) but 0x00000000 (0.0) \
             in 0-d [], 1 thread [wrong when large(f32→f32), x=0x00000000 (0.0)]"
        );
    }

    #[test]
    fn planted_strided_only_defect_names_the_strided_placement() {
        let op = planted("wrong when strided", |t| !t.is_contiguous(), |b| b ^ 1);
        let (case, failure) = minimal_failure(f32_space(), check(&op));
        // One value is enough: the large every-other-element view is strided whatever n is.
        assert_eq!(case.numel(), 1, "{case:?}");
        assert_eq!(case.logical(), vec![0]);
        assert!(
            failure
                .message
                .contains("in large every-other-element [65536], 4 threads (position 0) but 0x00000000 (0.0) in 0-d"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn planted_thread_dependence_is_named_as_such() {
        let op = planted("wrong on threads", |_| tch::get_num_threads() > 1, |b| b ^ 1);
        let (case, failure) = minimal_failure(f32_space(), check(&op));
        assert_eq!(case.logical(), vec![0]);
        assert_eq!(
            failure.signature,
            "wrong on threads(f32→f32): the answer for a zero element depends on the thread count"
        );
        assert_eq!(
            failure.message,
            "out[] bits=0x00000001 (1.401298464324817e-45) in large contiguous [65536], 4 threads (position 0) but \
             0x00000000 (0.0) in large contiguous [65536], 1 thread (same position) [wrong on threads(f32→f32), \
             x=0x00000000 (0.0)]"
        );
    }

    #[test]
    fn planted_nan_payload_loss_in_large_tensors_shrinks_to_the_smallest_payload() {
        // A vectorised path that quiets NaNs to the canonical NaN: only a NaN with another payload shows it.
        let quiets = |b: u64| if b & 0x7f80_0000 == 0x7f80_0000 && b & 0x7f_ffff != 0 { 0x7fc0_0000 } else { b };
        let op = planted("quiets when large", |t| t.numel() >= LARGE, quiets);
        let (case, failure) = minimal_failure(f32_space(), check(&op));
        assert_eq!(
            format!("{case:?}"),
            "TensorCase { dtype: f32, shape: [], strides: [], offset: 0, storage: [0x7f800001 = NaN] }"
        );
        assert_eq!(
            failure.signature,
            "quiets when large(f32→f32): the answer for a NaN element depends on its placement"
        );
    }

    #[test]
    fn planted_refusal_of_views_is_judged_after_the_answers() {
        let refuses = TensorOp {
            name: "refuses views",
            run: Box::new(|t, target| match t.is_contiguous() {
                true => t.f_to_kind(kind_of(target)),
                false => Err(TchError::Torch("not contiguous\nbacktrace".into())),
            }),
        };
        let (case, failure) =
            minimal_failure(space(64).with_dtypes(&[Dtype::I32]), |c| same_cast_everywhere(c, &[Dtype::I32], &refuses));
        // One value: a [1] tensor with stride 2, and a [2, 1] transposed view, are contiguous to libtorch (a side of
        // 1 has no stride that matters); the large every-other-element view is not.
        assert_eq!(case.logical(), vec![0]);
        assert_eq!(failure.signature, "refuses views refuses some placements and answers others");
        assert_eq!(
            failure.message,
            "refuses views(i32→i32) refused large every-other-element [65536], 4 threads: Internal torch error: not \
             contiguous, but answered 0-d [], 1 thread"
        );
    }
}
