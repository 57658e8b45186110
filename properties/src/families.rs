//! The family table: the one list of families, from which the registry, the CLI's `--family` values, the claims
//! ledger and the README's family list are all derived. Adding a family is a new module that defines `FAMILY` and
//! `properties()`, declared with `pub mod` in lib.rs and listed in its `families!` table.
//!
//! Invariant: a family's name is its module's name (a test checks it), and is the first part of each of its
//! properties' names.

use std::fmt;

use crate::property::Property;

/// A family of properties: the first part of their names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Family {
    name: &'static str,
    doc: &'static str,
}

impl Family {
    /// A family called `name` (its module's name), with one sentence saying what it checks.
    pub const fn new(name: &'static str, doc: &'static str) -> Family {
        Family { name, doc }
    }

    pub fn name(self) -> &'static str {
        self.name
    }

    /// One sentence: what the family checks.
    pub fn doc(self) -> &'static str {
        self.doc
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// A row of the family table.
#[derive(Debug, Clone, Copy)]
pub struct FamilyEntry {
    pub family: Family,
    /// The module the family lives in (checked to equal the family's name).
    pub module: &'static str,
    pub properties: fn() -> Vec<Property>,
}

/// The table over the family modules, in report order. The modules themselves are declared with plain `pub mod`
/// lines beside it: cargo-mutants finds source files only through `mod` lines written out, not ones a macro expands
/// to; a module left out of the table is dead code, and a name in the table without its module does not compile.
#[macro_export]
#[doc(hidden)]
macro_rules! families {
    ($($module:ident),* $(,)?) => {

        /// Every family, in report order.
        pub fn families() -> Vec<$crate::families::FamilyEntry> {
            vec![$($crate::families::FamilyEntry {
                family: $module::FAMILY,
                module: stringify!($module),
                properties: $module::properties,
            }),*]
        }
    };
}

/// The family called `name`.
pub fn by_name(name: &str) -> Option<Family> {
    crate::families().into_iter().map(|f| f.family).find(|f| f.name() == name)
}

/// The README's list of families, generated from the table (a harness test keeps the README equal to it).
pub fn markdown_list() -> String {
    let mut out = String::new();
    for entry in crate::families() {
        let count = (entry.properties)().len();
        let noun = if count == 1 { "property" } else { "properties" };
        out.push_str(&format!("- `{}` ({count} {noun}): {}\n", entry.family.name(), entry.family.doc()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_is_named_after_its_module_and_names_its_properties() {
        for entry in crate::families() {
            assert_eq!(entry.family.name(), entry.module);
            for p in (entry.properties)() {
                assert_eq!(p.family, entry.family, "{}", p.name);
                assert!(p.name.starts_with(&format!("{}::", entry.module)), "{}", p.name);
            }
        }
        assert_eq!(by_name("casts").map(Family::name), Some("casts"));
        assert_eq!(by_name("nope"), None);
    }
}
