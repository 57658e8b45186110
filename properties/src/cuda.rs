//! Whether this process can use CUDA, and if not, why and how to fix it. The runner, the CLI and the `cargo test`
//! entry ask this once per run; the devices family's properties are skipped with the reason when CUDA is unusable.
//! It lives apart from the devices family because it is a fact about the process, not a property.

/// Whether CUDA can be used by this process, and if not, why and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CudaStatus {
    Usable {
        devices: i64,
    },
    /// Not usable: why, and what to do about it.
    Unusable {
        reason: String,
        hint: Option<String>,
    },
}

impl CudaStatus {
    /// Not usable, for a reason that needs no fix (CUDA was not asked for).
    pub fn unusable(reason: impl Into<String>) -> CudaStatus {
        CudaStatus::Unusable { reason: reason.into(), hint: None }
    }
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
    let (reason, hint) = match (loaded("/libtorch_cuda.so"), beside) {
        (Some(_), _) if !driver => (
            "libtorch_cuda.so is loaded but no NVIDIA driver is present (no /proc/driver/nvidia/version)".to_string(),
            "run on a machine with an NVIDIA GPU and driver".to_string(),
        ),
        (Some(_), _) => (
            "libtorch_cuda.so is loaded and a driver is present, but libtorch sees no CUDA device".to_string(),
            "check CUDA_VISIBLE_DEVICES and that the driver supports CUDA 13".to_string(),
        ),
        (None, Some(cuda)) if cuda.exists() => (
            format!(
                "{} exists but is not loaded: rustc links with --as-needed and drops it, so libtorch never registers its CUDA hooks{}",
                cuda.display(),
                if driver { "" } else { "; there is no NVIDIA driver either" },
            ),
            format!("run with LD_PRELOAD={}; scripts/gpu-check.sh does this", cuda.display()),
        ),
        (None, _) => (
            format!(
                "libtorch is CPU-only here ({} has no libtorch_cuda.so beside it){}",
                cpu.unwrap_or_else(|| "libtorch_cpu.so".into()),
                if driver { "" } else { ", and there is no NVIDIA driver (no /proc/driver/nvidia/version)" }
            ),
            "run next to a CUDA libtorch 2.11, e.g. a Python torch==2.11.0+cu130 install, with scripts/gpu-check.sh"
                .to_string(),
        ),
    };
    CudaStatus::Unusable { reason, hint: Some(hint) }
}
