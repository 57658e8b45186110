//! Puts libtorch's `lib/` on the rpath of this package's binaries and tests, so they find `libtorch_cpu.so` with no
//! `LD_LIBRARY_PATH` (torch-sys's own rpath flag does not reach downstream binaries). `harness/build.rs` uses this
//! file, because a link argument only reaches the targets of the package whose build script prints it.
use std::path::PathBuf;

pub fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let Some(libtorch) = std::env::var_os("LIBTORCH").map(PathBuf::from) else {
        panic!("LIBTORCH is not set (.cargo/config.toml sets it)\n(hint: run `cargo xtask setup` from the repository root)");
    };
    let lib = libtorch.join("lib");
    if !lib.join("libtorch_cpu.so").is_file() {
        panic!("no libtorch_cpu.so under {}\n(hint: run `cargo xtask setup` to fetch libtorch 2.11.0)", lib.display());
    }
    let version = std::fs::read_to_string(libtorch.join("build-version")).unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=CONFORM_LIBTORCH_VERSION={}", version.trim());
    println!("cargo:rerun-if-changed={}", libtorch.join("build-version").display());
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    // With a CUDA libtorch, keep libtorch_cuda.so as a dependency: nothing references its symbols, so rustc's
    // --as-needed would drop it and libtorch would never register its CUDA hooks (Cuda::is_available() false).
    // The PyPI set-up extracts a CPU-only libtorch, so this applies only to a CUDA LIBTORCH chosen by hand; a
    // CPU-built binary gets CUDA at run time through LD_PRELOAD instead (scripts/gpu-check.sh).
    if lib.join("libtorch_cuda.so").is_file() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}
