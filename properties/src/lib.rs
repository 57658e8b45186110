//! conform's properties: invariants of libtorch (through tch) and ndarray, judged by the exact oracles and
//! comparisons of `conform-judge`. The only crate that links tch and ndarray.
//!
//! Layout: one module per family (declared, and listed once in the `families!` table below); `property` defines what a property
//! is and how one is built; `convert`, `element` and `view` are the operations under test that several families
//! share (conversions between arrays and tensors, the dtype ↔ Kind table, zero-copy views); `cuda` says whether a
//! CUDA device is usable. Judging lives in `conform-judge` so that it builds without libtorch.
//!
//! Invariant: every check takes the operation under test as a parameter, so unit tests can plant a defect and show
//! the property fails on it and shrinks it. `unsafe` lives in [`view`] only.
#![deny(unsafe_code)]

pub mod claims;
pub mod convert;
pub mod cuda;
pub mod element;
pub mod families;
pub mod property;
pub mod registry;
pub mod shared;
#[cfg(test)]
pub(crate) mod testing;
#[allow(unsafe_code)]
pub mod view;

// The families: each module is declared here and listed once in the table below, which drives the registry,
// `--family` and the README's list (the `mod` lines are written out so that cargo-mutants can find the files).
pub mod aliasing;
pub mod api;
pub mod casts;
pub mod devices;
pub mod dtype;
pub mod files;
pub mod metamorphic;
pub mod roundtrip;

families! {
    roundtrip,
    dtype,
    aliasing,
    casts,
    devices,
    metamorphic,
    files,
    api,
}

pub use claims::Claim;
pub use families::{Family, FamilyEntry};
pub use property::{outcome, CheckError, DeviceNeed, Failure, Property, Verdict};
pub use registry::registry;

/// The libtorch version this crate was built against (read from `$LIBTORCH/build-version` by the build script).
pub const LIBTORCH_VERSION: &str = env!("CONFORM_LIBTORCH_VERSION");
/// The tch crate version conform pins.
pub const TCH_VERSION: &str = "0.24.0";

/// Sets libtorch's intra-op threads; conform's tensors are small, so one thread per trial avoids oversubscription.
pub fn init_libtorch(threads: i32) {
    tch::set_num_threads(threads);
}

#[doc(hidden)]
pub mod __private {
    pub use conform_generators::Dtype;
    pub use half::{bf16, f16};
}
