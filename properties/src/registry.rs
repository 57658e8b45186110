//! Every property conform knows, in a stable order (family, then name within the family).

use crate::property::Property;
use crate::{aliasing, casts, devices, dtype, roundtrip};

pub fn registry() -> Vec<Property> {
    let mut all = roundtrip::properties();
    all.extend(dtype::properties());
    all.extend(aliasing::properties());
    all.extend(casts::properties());
    all.extend(devices::properties());
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_prefixed_by_family() {
        let all = registry();
        let mut names: Vec<&str> = all.iter().map(|p| p.name).collect();
        for p in &all {
            assert!(p.name.starts_with(&format!("{}::", p.family)), "{}", p.name);
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len());
    }
}
