//! Every property conform knows, in a stable order: the family table's order, then each family's own order.

use crate::property::Property;

pub fn registry() -> Vec<Property> {
    crate::families().into_iter().flat_map(|entry| (entry.properties)()).collect()
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
