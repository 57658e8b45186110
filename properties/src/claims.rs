//! The claims of the seed article ("Why do PyTorch tensors differ from NumPy arrays after conversion?") that conform
//! settles with properties, as one table: each claim is a constant with its id, the article's words, what conform
//! checks instead, which evidence is in scope, and which of its properties speak *for* it when they hold. Each
//! property lists the claims it bears on; `conform_reports::claims` turns their results into a verdict.
//! Adding a claim is one constant and its name in [`ALL`].
//!
//! Invariant: a claim's evidence is scoped to what the claim says. Where the claim is about one aspect of a
//! conversion (the bits, the dtype) for some dtypes, its properties tally what each case showed of that aspect per
//! dtype ([`tally_conversion`]), and only those counts decide; any other failure of the same property is a finding
//! of its own, not evidence for or against the claim.

use std::fmt;

use conform_generators::Dtype;
use conform_judge::Tally;

/// A claim of the article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Claim {
    /// A stable identifier for reports.
    pub id: &'static str,
    /// The article's words.
    pub quote: &'static str,
    /// What conform checks to settle the claim.
    pub checked_as: &'static str,
    /// Which evidence counts.
    pub scope: Scope,
    /// The bearing properties whose holding is evidence *for* the claim; every other bearing property that holds is
    /// evidence against it. A property that breaks counts the other way.
    pub supported_by: &'static [&'static str],
    /// What the verdict's sentence adds that conform does not check itself (empty when nothing).
    pub note: &'static str,
}

/// The evidence a claim is judged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    /// The aspect of a conversion the claim is about; `None`: the bearing properties' whole verdicts count.
    pub aspect: Option<Aspect>,
    /// The array dtypes the claim is about; empty: every dtype.
    pub dtypes: &'static [Dtype],
}

impl Scope {
    /// Every case of every bearing property counts.
    pub const WHOLE: Scope = Scope { aspect: None, dtypes: &[] };
}

/// An aspect of an array → tensor (→ array) conversion that a case can keep or change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Aspect {
    /// Every element's bits.
    Bits,
    /// The element type (tensor kind).
    Dtype,
}

impl Aspect {
    /// The name in tally keys and reports.
    pub fn name(self) -> &'static str {
        match self {
            Aspect::Bits => "bits",
            Aspect::Dtype => "dtype",
        }
    }
}

/// What one case of a conversion showed, for the claims' scoped evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The conversion refused the array (an error, not a misreading).
    Refused,
    /// It converted; did the dtype and every element's bits survive?
    Converted { dtype_kept: bool, bits_kept: bool },
}

/// Tallies what a case of `dtype` showed under the keys `"{dtype} arrays: refused"`, `"{dtype} arrays: dtype
/// kept"` / `"… dtype changed"` and `"{dtype} arrays: bits kept"` / `"… bits changed"`: the grammar
/// `conform_reports::claims` reads (counts include shrink attempts, like every tally).
pub fn tally_conversion(tally: Option<&Tally>, dtype: Dtype, seen: Seen) {
    let Some(tally) = tally else { return };
    let word = |kept: bool| if kept { "kept" } else { "changed" };
    match seen {
        Seen::Refused => tally.add(format!("{dtype} arrays: refused")),
        Seen::Converted { dtype_kept, bits_kept } => {
            tally.add(format!("{dtype} arrays: {} {}", Aspect::Dtype.name(), word(dtype_kept)));
            tally.add(format!("{dtype} arrays: {} {}", Aspect::Bits.name(), word(bits_kept)));
        }
    }
}

pub const NOT_BITWISE_IDENTICAL: Claim = Claim {
    id: "not-bitwise-identical",
    quote: "the conversion process doesn't always yield a bitwise identical copy",
    checked_as:
        "array → tensor → array keeps every element's bits, for every dtype and layout, NaN payloads and -0.0 included",
    scope: Scope { aspect: Some(Aspect::Bits), dtypes: &[] },
    supported_by: &[],
    note: "",
};

pub const FLOAT64_BECOMES_FLOAT32: Claim = Claim {
    id: "float64-becomes-float32",
    quote: "converting a NumPy array of float64 to a PyTorch tensor might result in a float32 tensor if not specified",
    checked_as: "an f64 array becomes an f64 (Double) tensor through tch's conversions, judged on f64 arrays only",
    scope: Scope { aspect: Some(Aspect::Dtype), dtypes: &[Dtype::F64] },
    supported_by: &[],
    note: "Python's legacy torch.Tensor(array) constructor does give float32 (it always builds the default dtype), \
           which is where the claim comes from; torch.from_numpy, torch.tensor and tch keep float64",
};

pub const SHARES_MEMORY: Claim = Claim {
    id: "shares-memory",
    quote: "the PyTorch tensor initially shares the underlying memory buffer with the NumPy array",
    checked_as: "a zero-copy view aliases the array element for element; tch's own conversions copy and never alias",
    scope: Scope::WHOLE,
    supported_by: &["aliasing::zero_copy_view_writes_both_ways", "aliasing::element_addresses_agree"],
    note: "a zero-copy view is what torch.from_numpy makes; tch's TryFrom copies, as numpy.array() does",
};

pub const REQUIRES_GRAD_COPIES: Claim = Claim {
    id: "requires-grad-copies",
    quote: "requires_grad=True … demanding a separate memory buffer",
    checked_as: "requires_grad_(true) on a zero-copy float view keeps aliasing the array",
    scope: Scope::WHOLE,
    supported_by: &[],
    note: "",
};

pub const RESHAPE_BREAKS_SHARING: Claim = Claim {
    id: "reshape-breaks-sharing",
    quote: "operations such as reshaping … can trigger the creation of a new, independent tensor",
    checked_as: "reshape, view, contiguous and friends copy exactly when stride arithmetic says a view is impossible",
    scope: Scope::WHOLE,
    supported_by: &["aliasing::view_ops_alias_copy_ops_do_not"],
    note: "they copy only where stride arithmetic says no view exists, so the copy is predictable, not incidental",
};

pub const GPU_TRANSFER_CHANGES_VALUES: Claim = Claim {
    id: "gpu-transfer-changes-values",
    quote: "data transfer … can lead to slight numerical differences due to variations in floating-point precision between CPU and GPU",
    checked_as: "CPU → CUDA → CPU is bit-exact for every dtype and layout; casts and IEEE basic ops agree bit for bit",
    scope: Scope::WHOLE,
    supported_by: &[],
    note: "",
};

/// Every claim, in report order.
pub const ALL: [Claim; 6] = [
    NOT_BITWISE_IDENTICAL,
    FLOAT64_BECOMES_FLOAT32,
    SHARES_MEMORY,
    REQUIRES_GRAD_COPIES,
    RESHAPE_BREAKS_SHARING,
    GPU_TRANSFER_CHANGES_VALUES,
];

impl Claim {
    /// The scope's aspect name, if the claim is about one aspect.
    pub fn aspect_name(&self) -> Option<&'static str> {
        self.scope.aspect.map(Aspect::name)
    }

    /// The scope's dtype names (empty: every dtype).
    pub fn dtype_names(&self) -> Vec<&'static str> {
        self.scope.dtypes.iter().map(|d| d.name()).collect()
    }
}

impl fmt::Display for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<&str> = ALL.iter().map(|c| c.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len());
    }

    /// Every property a claim names as supporting it exists and bears on that claim.
    #[test]
    fn supporters_exist_and_bear_on_their_claim() {
        let all = crate::registry();
        for claim in ALL {
            for name in claim.supported_by {
                let p = all.iter().find(|p| p.name == *name).unwrap_or_else(|| panic!("{claim}: no property {name}"));
                assert!(p.claims.contains(&claim), "{name} does not bear on {claim}");
            }
            assert!(all.iter().any(|p| p.claims.contains(&claim)), "no property bears on {claim}");
        }
    }

    /// A claim scoped to an aspect is judged only on the tallies of that aspect: each of its properties must
    /// tally them, or the claim would read "no evidence" however much ran.
    #[test]
    fn aspect_scoped_claims_have_tallying_properties() {
        for claim in ALL.iter().filter(|c| c.scope.aspect.is_some()) {
            for p in crate::registry().iter().filter(|p| p.claims.contains(claim)) {
                assert!(p.tally.is_some(), "{} bears on {claim} but tallies nothing", p.name);
            }
        }
    }

    #[test]
    fn conversions_are_tallied_per_dtype_and_aspect() {
        let tally = Tally::default();
        tally_conversion(Some(&tally), Dtype::Bf16, Seen::Converted { dtype_kept: false, bits_kept: true });
        tally_conversion(Some(&tally), Dtype::I8, Seen::Refused);
        tally_conversion(None, Dtype::I8, Seen::Refused);
        let keys: Vec<(String, u64)> = tally.take().into_iter().collect();
        assert_eq!(
            keys,
            [
                ("bf16 arrays: bits kept".to_string(), 1),
                ("bf16 arrays: dtype changed".to_string(), 1),
                ("i8 arrays: refused".to_string(), 1)
            ]
        );
    }
}
