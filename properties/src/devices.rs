//! Devices family: CPU→CUDA→CPU copies are bit-exact (blocking, pinned non-blocking, device to device) and give new
//! storage; the same cast and the IEEE basic ops give the same bits on CPU and CUDA; transcendental ops stay within
//! a stated ULP bound of a higher-precision reference on both, with the measured maximum tabulated. The article
//! says a GPU round trip "can lead to slight numerical differences": these properties settle it on a real GPU.
//!
//! Invariant: a property that needs CUDA runs only where [`cuda_status`] says CUDA is usable; elsewhere the runner
//! reports it `skip` with the reason, never `pass`. Checks take the device as a [`Remote`], so unit tests run them
//! against a fake device (deep copies on the CPU) with planted defects.

use std::sync::Arc;

use conform_generators::{CaseSpace, Dtype, FloatFormat, TensorCase};
use tch::{Device, TchError, Tensor};

use crate::boundary::draw_boundary;
use crate::claims::Claim;
use crate::convert::{tensor_bits, CaseTensor};
use crate::element::kind_of;
use crate::oracle::{cast_float, round, Exact};
use crate::property::{tch_fail, CaseError, DeviceNeed, Family, Property, Tally};

/// Whether CUDA can be used by this process, and if not, why and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CudaStatus {
    Usable { devices: i64 },
    Unusable(String),
}

/// Asks libtorch, and when it says no, finds out why from the process's loaded libraries and the driver.
pub fn cuda_status() -> CudaStatus {
    if tch::Cuda::is_available() {
        return CudaStatus::Usable { devices: tch::Cuda::device_count() };
    }
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let loaded = |lib: &str| {
        maps.lines().filter_map(|l| l.split_whitespace().nth(5)).find(|p| p.ends_with(lib)).map(str::to_string)
    };
    let cpu = loaded("/libtorch_cpu.so");
    let beside = cpu.as_deref().and_then(|p| std::path::Path::new(p).parent()).map(|d| d.join("libtorch_cuda.so"));
    let driver = std::path::Path::new("/proc/driver/nvidia/version").exists();
    let reason = match (loaded("/libtorch_cuda.so"), beside) {
        (Some(_), _) if !driver => "libtorch_cuda.so is loaded but no NVIDIA driver is present (no /proc/driver/nvidia/version)\n(hint: run on a machine with an NVIDIA GPU and driver)".to_string(),
        (Some(_), _) => "libtorch_cuda.so is loaded and a driver is present, but libtorch sees no CUDA device\n(hint: check CUDA_VISIBLE_DEVICES and that the driver supports CUDA 13)".to_string(),
        (None, Some(cuda)) if cuda.exists() => format!(
            "{} exists but is not loaded: rustc links with --as-needed and drops it, so libtorch never registers its CUDA hooks{}\n(hint: run with LD_PRELOAD={}; scripts/gpu-check.sh does this)",
            cuda.display(),
            if driver { "" } else { "; there is no NVIDIA driver either" },
            cuda.display()
        ),
        (None, _) => format!(
            "libtorch is CPU-only here ({} has no libtorch_cuda.so beside it){}\n(hint: run next to a CUDA libtorch 2.11, e.g. a Python torch==2.11.0+cu130 install, with scripts/gpu-check.sh)",
            cpu.unwrap_or_else(|| "libtorch_cpu.so".into()),
            if driver { "" } else { ", and there is no NVIDIA driver (no /proc/driver/nvidia/version)" }
        ),
    };
    CudaStatus::Unusable(reason)
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

/// A copy into new memory (`to` on the same device would return the same tensor).
pub fn deep_copy(t: &Tensor) -> Result<Tensor, TchError> {
    let mut out = t.f_empty_like()?;
    out.f_copy_(t)?;
    Ok(out)
}

fn source(case: &TensorCase) -> Result<CaseTensor, CaseError> {
    CaseTensor::of(case).map_err(|e| tch_fail("source tensor", e))
}

fn same_bits(case: &TensorCase, back: &Tensor, path: &str) -> Result<(), CaseError> {
    let got = tensor_bits(back).map_err(|e| tch_fail("read back", e))?;
    let dtype = case.dtype();
    if got.dtype != dtype || got.shape != case.shape() {
        return Err(CaseError::fail(
            format!("{path}: dtype or shape changed"),
            format!("{path} gave {} {:?} for {dtype} {:?}", got.dtype, got.shape, case.shape()),
        ));
    }
    let expected = case.logical();
    if let Some(k) = (0..expected.len()).find(|&k| got.bits[k] != expected[k]) {
        return Err(CaseError::fail(
            format!("{path}: bits changed"),
            format!(
                "out{} bits={} ({}) but the array has {} ({}) [{path}, {dtype}]",
                case.index_string(k),
                dtype.hex(got.bits[k]),
                dtype.render(got.bits[k]),
                dtype.hex(expected[k]),
                dtype.render(expected[k])
            ),
        ));
    }
    Ok(())
}

/// Property 1: CPU → device → CPU gives the array back bit for bit, by every copy path.
pub fn check_round_trip(case: &TensorCase, remote: &Remote) -> Result<(), CaseError> {
    let source = source(case)?;
    let src = source.tensor();
    let paths: [(&str, &Move); 2] = [("blocking", &remote.upload), ("pinned non_blocking", &remote.upload_pinned)];
    for (how, upload) in paths {
        let path = format!("cpu→{}→cpu ({how})", remote.name);
        let back = upload(src).and_then(|d| (remote.download)(&d)).map_err(|e| tch_fail(&path, e))?;
        same_bits(case, &back, &path)?;
    }
    if let Some(peer) = &remote.peer {
        let path = format!("cpu→{0}→peer→{0}→cpu", remote.name);
        let back = (remote.upload)(src)
            .and_then(|d| peer(&d))
            .and_then(|d| (remote.download)(&d))
            .map_err(|e| tch_fail(&path, e))?;
        same_bits(case, &back, &path)?;
    }
    Ok(())
}

/// Property 2: the device copy keeps dtype and shape and lives in new storage: overwriting the source afterwards
/// does not change it.
pub fn check_new_storage(case: &TensorCase, remote: &Remote) -> Result<(), CaseError> {
    let source = source(case)?;
    let (src, buffer) = (source.tensor(), source.buffer());
    let on_device = (remote.upload)(src).map_err(|e| tch_fail("upload", e))?;
    let (kind, size) = (on_device.f_kind().map_err(|e| tch_fail("kind", e))?, on_device.size());
    if kind != kind_of(case.dtype()) || size != src.size() {
        return Err(CaseError::fail(
            "device copy changed dtype or shape",
            format!("{} copy is {kind:?} {size:?}, source {:?} {:?}", remote.name, kind_of(case.dtype()), src.size()),
        ));
    }
    if let Some(buffer) = &buffer {
        if case.numel() > 0 && buffer.contains_address(on_device.data_ptr() as usize) {
            return Err(CaseError::fail(
                "device copy aliases the source",
                format!("{} copy starts inside the source array [{}]", remote.name, case.dtype()),
            ));
        }
        for i in 0..buffer.len() {
            buffer.set(i, !buffer.get(i) & case.dtype().mask());
        }
    }
    let back = (remote.download)(&on_device).map_err(|e| tch_fail("download", e))?;
    same_bits(case, &back, &format!("{} copy after the source was overwritten", remote.name))
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "correctly rounded"
    } else {
        "not correctly rounded"
    }
}

/// Property 3: the same float → float cast gives the same bits on the CPU and the device; a difference names the
/// side that is correctly rounded.
pub fn check_cast_agrees(case: &TensorCase, remote: &Remote) -> Result<(), CaseError> {
    let source_dtype = case.dtype();
    let source = source(case)?;
    let src = source.tensor();
    for target in Dtype::FLOATS.into_iter().filter(|&t| t != source_dtype) {
        let kind = kind_of(target);
        let cpu = src.f_to_kind(kind).map_err(|e| tch_fail("cpu to_kind", e))?;
        let dev = remote.run(src, |t| t.f_to_kind(kind)).map_err(|e| tch_fail("device to_kind", e))?;
        let (a, b) = (
            tensor_bits(&cpu).map_err(|e| tch_fail("read", e))?.bits,
            tensor_bits(&dev).map_err(|e| tch_fail("read", e))?.bits,
        );
        for (k, ((&x, &p), &q)) in case.logical().iter().zip(&a).zip(&b).enumerate() {
            let nan = |y: u64| target.float_format().is_some_and(|f| f.is_nan(y));
            if p == q || (nan(p) && nan(q)) {
                continue;
            }
            let correct = cast_float(source_dtype, x, target).bits;
            return Err(CaseError::fail(
                format!("cpu and {} disagree on to_kind({source_dtype}→{target})", remote.name),
                format!(
                    "out{}: cpu gives {} ({}), {} gives {} ({}); correctly rounded is {} [to_kind({source_dtype}→{target}), x={}]",
                    case.index_string(k),
                    target.hex(p),
                    verdict(p == correct),
                    remote.name,
                    target.hex(q),
                    verdict(q == correct),
                    target.hex(correct),
                    source_dtype.hex(x)
                ),
            ));
        }
    }
    Ok(())
}

type Op = fn(&Tensor, &Tensor) -> Result<Tensor, TchError>;

const BASIC: [(&str, Op); 5] = [
    ("add", |a, b| a.f_add(b)),
    ("sub", |a, b| a.f_sub(b)),
    ("mul", |a, b| a.f_mul(b)),
    ("div", |a, b| a.f_div(b)),
    ("sqrt", |a, _| a.f_sqrt()),
];

/// The second operand of a binary op: the case's values in reverse order, so every pair is drawn from the case.
fn second(src: &Tensor) -> Result<Tensor, TchError> {
    src.f_reshape([-1])?.f_flip([0])?.f_reshape(src.size())
}

/// Property 4 (basic part): add, sub, mul, div and sqrt, which IEEE requires to be correctly rounded, give the same
/// bits on the CPU and the device (NaN results compared as NaN; their payloads are tabulated).
pub fn check_basic_ops(case: &TensorCase, remote: &Remote, tally: Option<&Tally>) -> Result<(), CaseError> {
    let dtype = case.dtype();
    let source = source(case)?;
    let src = source.tensor();
    let other = second(src).map_err(|e| tch_fail("flip", e))?;
    let f = dtype.float_format().expect("float dtypes only");
    for (name, op) in BASIC {
        let cpu = op(src, &other).map_err(|e| tch_fail(&format!("cpu {name}"), e))?;
        let dev = (remote.upload)(&other)
            .and_then(|o| remote.run(src, |a| op(a, &o)))
            .map_err(|e| tch_fail(&format!("{} {name}", remote.name), e))?;
        let (a, b) = (
            tensor_bits(&cpu).map_err(|e| tch_fail("read", e))?.bits,
            tensor_bits(&dev).map_err(|e| tch_fail("read", e))?.bits,
        );
        let xs = case.logical();
        let ys: Vec<u64> = xs.iter().rev().copied().collect();
        for (k, (&p, &q)) in a.iter().zip(&b).enumerate() {
            if f.is_nan(p) && f.is_nan(q) {
                if let (Some(t), true) = (tally, p != q) {
                    t.add(format!("{name} {dtype}: NaN bits differ between cpu and {}", remote.name));
                }
                continue;
            }
            if p != q {
                return Err(CaseError::fail(
                    format!("cpu and {} disagree on {name} {dtype}", remote.name),
                    format!(
                        "out{}: {name}({}, {}) is {} on cpu and {} on {} [{dtype}]",
                        case.index_string(k),
                        dtype.hex(xs[k]),
                        dtype.hex(ys[k]),
                        dtype.hex(p),
                        dtype.hex(q),
                        remote.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

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

type Unary = (&'static str, fn(&Tensor) -> Result<Tensor, TchError>, fn(f64) -> f64);

const TRANSCENDENTAL: [Unary; 4] = [
    ("exp", |t| t.f_exp(), f64::exp),
    ("log", |t| t.f_log(), f64::ln),
    ("sin", |t| t.f_sin(), f64::sin),
    ("tanh", |t| t.f_tanh(), f64::tanh),
];

/// The error of `y` (bits of format `f`) from the real `reference`, in ulps of `f` at the reference.
fn ulp_error(f: FloatFormat, y: u64, reference: f64) -> f64 {
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

/// Property 4 (transcendental part): exp, log, sin and tanh stay within [`ulp_bound`] of an f64 reference on the
/// CPU and on the device; the maximum error per device, op and dtype is tabulated (in thousandths of an ulp).
pub fn check_transcendental(case: &TensorCase, remote: &Remote, tally: Option<&Tally>) -> Result<(), CaseError> {
    let dtype = case.dtype();
    let f = dtype.float_format().expect("float dtypes only");
    let source = source(case)?;
    let src = source.tensor();
    let xs = case.logical();
    for (name, op, reference) in TRANSCENDENTAL {
        let cpu = op(src).map_err(|e| tch_fail(&format!("cpu {name}"), e))?;
        let dev = remote.run(src, op).map_err(|e| tch_fail(&format!("{} {name}", remote.name), e))?;
        for (device, out) in [("cpu", &cpu), (remote.name.as_str(), &dev)] {
            let bits = tensor_bits(out).map_err(|e| tch_fail("read", e))?.bits;
            for (k, (&x, &y)) in xs.iter().zip(&bits).enumerate() {
                let r = reference(f.to_f64(x));
                if r.is_nan() || f.is_nan(x) {
                    continue;
                }
                // The reference rounded to the format: what a correctly rounded result would be.
                let rounded = round(f, Exact::of_float(FloatFormat::F64, r.to_bits()));
                let err = if rounded.overflow { 0.0 } else { ulp_error(f, y, r) };
                if let Some(t) = tally {
                    t.record_max(
                        format!("max ulp ×1000: {device} {name} {dtype}"),
                        (err.min(1e9) * 1000.0).round() as u64,
                    );
                }
                if err > ulp_bound(dtype) {
                    return Err(CaseError::fail(
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
        }
    }
    Ok(())
}

fn needs_cuda(
    check: fn(&TensorCase, &Remote, Option<&Tally>) -> Result<(), CaseError>,
    tally: Option<Arc<Tally>>,
) -> crate::property::Check {
    // Whether CUDA is usable does not change during a run: ask libtorch once, not per case.
    static STATUS: std::sync::OnceLock<CudaStatus> = std::sync::OnceLock::new();
    Arc::new(move |case| match STATUS.get_or_init(cuda_status).clone() {
        CudaStatus::Usable { devices } => check(case, &Remote::cuda(0, devices), tally.as_deref()),
        CudaStatus::Unusable(why) => Err(CaseError::Reject(format!("CUDA is not usable: {why}"))),
    })
}

fn float_space(max_numel: usize) -> CaseSpace {
    CaseSpace::all(64 * max_numel).with_dtypes(&Dtype::FLOATS).with_values(Arc::new(|d, rng| {
        let target = Dtype::FLOATS[rand::RngExt::random_range(rng, 0..4)].float_format().expect("float");
        draw_boundary(d, target, rng)
    }))
}

pub fn properties() -> Vec<Property> {
    let basic_tally = Arc::new(Tally::default());
    let ulp_tally = Arc::new(Tally::default());
    vec![
        Property {
            name: "devices::cuda_round_trip_bit_exact",
            family: Family::Devices,
            device: DeviceNeed::Cuda,
            doc: "CPU→CUDA→CPU (blocking, pinned non_blocking, and via a second GPU) gives every dtype and layout back bit for bit",
            claims: &[Claim::GpuTransferChangesValues],
            space: Arc::new(CaseSpace::all),
            check: needs_cuda(|c, r, _| check_round_trip(c, r), None),
            tally: None,
        },
        Property {
            name: "devices::cuda_copy_is_new_storage",
            family: Family::Devices,
            device: DeviceNeed::Cuda,
            doc: "the CUDA copy keeps dtype and shape and does not alias the source array",
            claims: &[Claim::GpuTransferChangesValues, Claim::SharesMemory],
            space: Arc::new(CaseSpace::all),
            check: needs_cuda(|c, r, _| check_new_storage(c, r), None),
            tally: None,
        },
        Property {
            name: "devices::cast_cpu_matches_cuda",
            family: Family::Devices,
            device: DeviceNeed::Cuda,
            doc: "every float→float to_kind gives the same bits on CPU and CUDA; a difference names the correctly rounded side",
            claims: &[Claim::GpuTransferChangesValues],
            space: Arc::new(float_space),
            check: needs_cuda(|c, r, _| check_cast_agrees(c, r), None),
            tally: None,
        },
        Property {
            name: "devices::basic_ops_cpu_matches_cuda",
            family: Family::Devices,
            device: DeviceNeed::Cuda,
            doc: "add, sub, mul, div and sqrt give identical bits on CPU and CUDA for f16, bf16, f32 and f64",
            claims: &[Claim::GpuTransferChangesValues],
            space: Arc::new(float_space),
            check: needs_cuda(check_basic_ops, Some(Arc::clone(&basic_tally))),
            tally: Some(basic_tally),
        },
        Property {
            name: "devices::transcendentals_within_ulp_bound",
            family: Family::Devices,
            device: DeviceNeed::Cuda,
            doc: "exp, log, sin and tanh stay within 4 ulp (f32) / 1 ulp (f16, bf16) of an f64 reference on CPU and CUDA; maxima tabulated",
            claims: &[Claim::GpuTransferChangesValues],
            space: Arc::new(|n| CaseSpace::all(64 * n).with_dtypes(&[Dtype::F32, Dtype::F16, Dtype::Bf16])),
            check: needs_cuda(check_transcendental, Some(Arc::clone(&ulp_tally))),
            tally: Some(ulp_tally),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert_passes(CaseSpace::all(16), |c| check_round_trip(c, &fake));
        assert_passes(CaseSpace::all(16), |c| check_new_storage(c, &fake));
        assert_passes(float_space(1), |c| check_cast_agrees(c, &fake));
        assert_passes(float_space(1), |c| check_basic_ops(c, &fake, None));
        assert_passes(CaseSpace::all(16).with_dtypes(&[Dtype::F32, Dtype::F16, Dtype::Bf16]), |c| {
            check_transcendental(c, &fake, None)
        });
    }

    #[test]
    fn planted_subnormal_flush_fails_the_round_trip_and_shrinks() {
        let remote = corrupting(flush_subnormals);
        let (case, failure) =
            minimal_failure(CaseSpace::all(64).with_dtypes(&[Dtype::F32]), |c| check_round_trip(c, &remote));
        assert_eq!(format!("{case:?}"), "TensorCase { dtype: f32, shape: [], strides: [], offset: 0, storage: [0x00000001 = 1.401298464324817e-45] }");
        assert_eq!(failure.signature, "cpu→fake→cpu (blocking): bits changed");
    }

    #[test]
    fn planted_aliasing_upload_fails() {
        let remote = Remote { upload: Box::new(|t| t.f_alias()), ..Remote::fake() };
        let (case, failure) =
            minimal_failure(CaseSpace::all(64).with_dtypes(&[Dtype::U8]), |c| check_new_storage(c, &remote));
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
            minimal_failure(float_space(1).with_dtypes(&[Dtype::F32]), |c| check_cast_agrees(c, &remote));
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
            minimal_failure(float_space(1).with_dtypes(&[Dtype::F64]), |c| check_basic_ops(c, &remote, None));
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
            check_transcendental(c, &remote, Some(&tally))
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
            CudaStatus::Unusable(why) => assert!(why.contains("(hint: "), "{why}"),
        }
    }
}
