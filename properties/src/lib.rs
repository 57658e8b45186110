//! conform's properties: invariants of libtorch (through tch) and ndarray checked against exact oracles. The only
//! crate that links tch and ndarray.
//!
//! Invariant: every check takes the operation under test as a parameter, so unit tests can plant a defect and show
//! the property fails on it and shrinks it. `unsafe` lives in [`view`] only.
#![deny(unsafe_code)]

pub mod aliasing;
pub mod boundary;
pub mod casts;
pub mod claims;
pub mod convert;
pub mod devices;
pub mod dtype;
pub mod element;
pub mod oracle;
pub mod property;
pub mod registry;
pub mod roundtrip;
#[cfg(test)]
pub(crate) mod testing;
#[allow(unsafe_code)]
pub mod view;

pub use claims::Claim;
pub use property::{outcome, CaseError, Check, DeviceNeed, Failure, Family, Property};
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
