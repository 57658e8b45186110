//! Planted crashes, for conform's own tests of crash isolation: properties whose check aborts the process or never
//! returns on some inputs, as a libtorch abort or hang would. They join the registry only when the environment has
//! `CONFORM_SELF_TEST=1` (the parent and its workers both see it), so no ordinary run lists them.
//!
//! Invariant: each planted crash depends only on the case, so a fresh worker reproduces it and shrinking works.

use conform_generators::{CaseSpace, Dtype};
use conform_properties::{Family, Property};

/// The self-test family.
pub const FAMILY: Family =
    Family::new("selftest", "planted crashes that conform's own tests use (CONFORM_SELF_TEST=1)");

/// The environment variable that adds the self-test family to the registry.
pub const ENV: &str = "CONFORM_SELF_TEST";

/// The self-test properties, when [`ENV`] is set to `1`.
pub fn properties() -> Vec<Property> {
    if std::env::var(ENV).as_deref() != Ok("1") {
        return Vec::new();
    }
    let space = |n| CaseSpace::all(n).with_dtypes(&[Dtype::I32]);
    vec![
        // Aborts (SIGABRT, as libtorch's std::terminate does) on any element of 1000 or more.
        Property::new(FAMILY, "aborts_on_large_values", "planted: aborts when an element is at least 1000")
            .tensors(space)
            .check(|case| {
                if case.logical().iter().any(|&b| Dtype::I32.as_i128(b) >= 1000) {
                    std::process::abort();
                }
                Ok(())
            }),
        // Never returns on a case of more than 8 elements.
        Property::new(FAMILY, "hangs_on_big_cases", "planted: never returns when a case has more than 8 elements")
            .tensors(space)
            .check(|case| {
                if case.numel() > 8 {
                    loop {
                        std::thread::sleep(std::time::Duration::from_secs(1));
                    }
                }
                Ok(())
            }),
    ]
}

/// Every property this binary knows: the registry, and the self-test family when [`ENV`] says so.
pub fn registry() -> Vec<Property> {
    let mut all = conform_properties::registry();
    all.extend(properties());
    all
}
