//! Devices family: CPU→CUDA→CPU copies are bit-exact (blocking, pinned non-blocking, device to device) and give new
//! storage; the same cast and the IEEE basic ops give the same bits on CPU and CUDA; transcendental ops stay within
//! a stated ULP bound of a higher-precision reference on both, with the measured maximum tabulated. The article
//! says a GPU round trip "can lead to slight numerical differences": these properties settle it on a real GPU.
//!
//! Invariant: a property that needs CUDA runs only where [`crate::cuda::cuda_status`] says CUDA is usable;
//! elsewhere the runner reports it `skip` with the reason, never `pass`. Checks take the device as a [`Remote`], so
//! unit tests run them against a fake device (deep copies on the CPU) with planted defects.

mod arithmetic;
mod copies;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use conform_generators::{CaseSpace, Dtype, TensorCase};
use conform_judge::boundary::draw_boundary;
use conform_judge::{CheckError, Tally, Verdict};
use tch::{Device, TchError, Tensor};

pub use arithmetic::{basic_ops_same, cast_same, transcendentals_within_bound};
pub use copies::{copy_is_new_storage, round_trip_bit_exact};

use crate::claims;
use crate::convert::deep_copy;
use crate::cuda::{cuda_status, CudaStatus};
use crate::families::Family;
use crate::property::Property;

pub const FAMILY: Family = Family::new(
    "devices",
    "CPU→CUDA→CPU is bit-exact and copies; casts and IEEE basic ops agree across devices; transcendentals within a bound",
);

pub fn properties() -> Vec<Property> {
    vec![
        cuda_round_trip_bit_exact(),
        cuda_copy_is_new_storage(),
        cast_cpu_matches_cuda(),
        basic_ops_cpu_matches_cuda(),
        transcendentals_within_ulp_bound(),
    ]
}

type Move = Box<dyn Fn(&Tensor) -> Result<Tensor, TchError> + Send + Sync>;

/// A device to compare with the CPU: how tensors get there and back.
pub struct Remote {
    pub name: String,
    /// Blocking copy to the device.
    pub upload: Move,
    /// Copy from pinned host memory with `non_blocking`, then a synchronize.
    pub upload_pinned: Move,
    /// Copy back to the CPU.
    pub download: Move,
    /// Copy to a second device and back to the first, where there are two.
    pub peer: Option<Move>,
}

impl Remote {
    /// CUDA device `index` (a second device is used for peer copies when `devices > 1`).
    pub fn cuda(index: usize, devices: i64) -> Remote {
        let device = Device::Cuda(index);
        Remote {
            name: format!("cuda:{index}"),
            upload: Box::new(move |t| t.f_to_device_(device, t.f_kind()?, false, true)),
            upload_pinned: Box::new(move |t| {
                let pinned = t.f_contiguous()?.f_pin_memory(device)?;
                let out = pinned.f_to_device_(device, t.f_kind()?, true, true)?;
                tch::Cuda::synchronize(index as i64);
                Ok(out)
            }),
            download: Box::new(|t| t.f_to_device_(Device::Cpu, t.f_kind()?, false, true)),
            peer: (devices > 1).then(|| {
                let other = Device::Cuda((index + 1) % devices as usize);
                Box::new(move |t: &Tensor| {
                    t.f_to_device_(other, t.f_kind()?, false, true)?.f_to_device_(device, t.f_kind()?, false, true)
                }) as Move
            }),
        }
    }

    /// A stand-in device for tests: deep copies on the CPU.
    pub fn fake() -> Remote {
        Remote {
            name: "fake".into(),
            upload: Box::new(deep_copy),
            upload_pinned: Box::new(deep_copy),
            download: Box::new(deep_copy),
            peer: Some(Box::new(deep_copy)),
        }
    }

    fn run(&self, t: &Tensor, op: impl Fn(&Tensor) -> Result<Tensor, TchError>) -> Result<Tensor, TchError> {
        (self.download)(&op(&(self.upload)(t)?)?)
    }
}

/// Runs `check` against CUDA device 0 where CUDA is usable; elsewhere the case is rejected with the reason (the
/// runner skips these properties before any case runs, so this guards direct callers).
fn on_cuda(case: &TensorCase, tally: Option<&Tally>, check: fn(&TensorCase, &Remote, Option<&Tally>) -> Verdict) -> Verdict {
    // Whether CUDA is usable does not change during a run: ask libtorch once, not per case.
    static STATUS: std::sync::OnceLock<CudaStatus> = std::sync::OnceLock::new();
    match STATUS.get_or_init(cuda_status) {
        CudaStatus::Usable { devices } => check(case, &Remote::cuda(0, *devices), tally),
        CudaStatus::Unusable { reason, .. } => Err(CheckError::Reject(format!("CUDA is not usable: {reason}"))),
    }
}

pub(crate) fn float_space(max_numel: usize) -> CaseSpace {
    CaseSpace::all(64 * max_numel).with_dtypes(&Dtype::FLOATS).with_values(Arc::new(|d, rng| {
        let target = Dtype::FLOATS[rand::RngExt::random_range(rng, 0..4)].float_format().expect("float");
        draw_boundary(d, target, rng)
    }))
}

pub fn cuda_round_trip_bit_exact() -> Property {
    Property::new(
        FAMILY,
        "cuda_round_trip_bit_exact",
        "CPU→CUDA→CPU (blocking, pinned non_blocking, and via a second GPU) gives every dtype and layout back bit for bit",
    )
    .claims(&[claims::GPU_TRANSFER_CHANGES_VALUES])
    .needs_cuda()
    .tensors(CaseSpace::all)
    .check(|case| on_cuda(case, None, |c, r, _| round_trip_bit_exact(c, r)))
}

pub fn cuda_copy_is_new_storage() -> Property {
    Property::new(FAMILY, "cuda_copy_is_new_storage", "the CUDA copy keeps dtype and shape and does not alias the source array")
        .claims(&[claims::GPU_TRANSFER_CHANGES_VALUES, claims::SHARES_MEMORY])
        .needs_cuda()
        .tensors(CaseSpace::all)
        .check(|case| on_cuda(case, None, |c, r, _| copy_is_new_storage(c, r)))
}

pub fn cast_cpu_matches_cuda() -> Property {
    Property::new(
        FAMILY,
        "cast_cpu_matches_cuda",
        "every float→float to_kind gives the same bits on CPU and CUDA; a difference names the correctly rounded side",
    )
    .claims(&[claims::GPU_TRANSFER_CHANGES_VALUES])
    .needs_cuda()
    .tensors(float_space)
    .check(|case| on_cuda(case, None, |c, r, _| cast_same(c, r)))
}

pub fn basic_ops_cpu_matches_cuda() -> Property {
    Property::new(
        FAMILY,
        "basic_ops_cpu_matches_cuda",
        "add, sub, mul, div and sqrt give identical bits on CPU and CUDA for f16, bf16, f32 and f64",
    )
    .claims(&[claims::GPU_TRANSFER_CHANGES_VALUES])
    .needs_cuda()
    .tensors(float_space)
    .tallied(|case, tally| on_cuda(case, Some(tally), basic_ops_same))
}

pub fn transcendentals_within_ulp_bound() -> Property {
    Property::new(
        FAMILY,
        "transcendentals_within_ulp_bound",
        "exp, log, sin and tanh stay within 4 ulp (f32) / 1 ulp (f16, bf16) of an f64 reference on CPU and CUDA; maxima tabulated",
    )
    .needs_cuda()
    .tensors(|n| CaseSpace::all(64 * n).with_dtypes(&[Dtype::F32, Dtype::F16, Dtype::Bf16]))
    .tallied(|case, tally| on_cuda(case, Some(tally), transcendentals_within_bound))
}
