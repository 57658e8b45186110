//! The claims of the seed article ("Why do PyTorch tensors differ from NumPy arrays after conversion?") that conform
//! settles with properties, as one table: each claim is a constant with its id, the article's words and what
//! conform checks instead. Each property lists the claims it bears on; the report groups verdicts by claim.
//! Adding a claim is one constant and its name in [`ALL`].

use std::fmt;

/// A claim of the article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Claim {
    /// A stable identifier for reports.
    pub id: &'static str,
    /// The article's words.
    pub quote: &'static str,
    /// What conform checks to settle the claim: a property passing (or failing only with recorded deviations) is
    /// evidence against the claim as the article states it.
    pub checked_as: &'static str,
}

pub const NOT_BITWISE_IDENTICAL: Claim = Claim {
    id: "not-bitwise-identical",
    quote: "the conversion process doesn't always yield a bitwise identical copy",
    checked_as: "array → tensor → array is bit-exact for every dtype and layout, NaN payloads and -0.0 included",
};

pub const FLOAT64_BECOMES_FLOAT32: Claim = Claim {
    id: "float64-becomes-float32",
    quote: "converting a NumPy array of float64 to a PyTorch tensor might result in a float32 tensor if not specified",
    checked_as: "the tensor's kind is the array's element type, and no conversion casts without an error",
};

pub const SHARES_MEMORY: Claim = Claim {
    id: "shares-memory",
    quote: "the PyTorch tensor initially shares the underlying memory buffer with the NumPy array",
    checked_as: "a zero-copy view aliases the array element for element; tch's own conversions copy and never alias",
};

pub const REQUIRES_GRAD_COPIES: Claim = Claim {
    id: "requires-grad-copies",
    quote: "requires_grad=True … demanding a separate memory buffer",
    checked_as: "requires_grad_(true) on a zero-copy float view keeps aliasing the array",
};

pub const RESHAPE_BREAKS_SHARING: Claim = Claim {
    id: "reshape-breaks-sharing",
    quote: "operations such as reshaping … can trigger the creation of a new, independent tensor",
    checked_as: "reshape, view, contiguous and friends copy exactly when stride arithmetic says a view is impossible",
};

pub const GPU_TRANSFER_CHANGES_VALUES: Claim = Claim {
    id: "gpu-transfer-changes-values",
    quote: "data transfer … can lead to slight numerical differences due to variations in floating-point precision between CPU and GPU",
    checked_as: "CPU → CUDA → CPU is bit-exact for every dtype and layout",
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

impl fmt::Display for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<&str> = super::ALL.iter().map(|c| c.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), super::ALL.len());
    }
}
