//! The claims of the seed article ("Why do PyTorch tensors differ from NumPy arrays after conversion?") that conform
//! settles with properties. Each property lists the claims it bears on; the report groups verdicts by claim.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Claim {
    /// "the conversion process doesn't always yield a bitwise identical copy"
    NotBitwiseIdentical,
    /// "converting a NumPy array of float64 … might result in a float32 tensor if not specified"
    Float64BecomesFloat32,
    /// "the PyTorch tensor initially shares the underlying memory buffer with the NumPy array"
    SharesMemory,
    /// "If requires_grad=True, PyTorch … demanding a separate memory buffer"
    RequiresGradCopies,
    /// "operations such as reshaping … can trigger the creation of a new, independent tensor"
    ReshapeBreaksSharing,
    /// "data transfer … can lead to slight numerical differences due to … CPU and GPU architectures"
    GpuTransferChangesValues,
}

impl Claim {
    pub const ALL: [Claim; 6] = [
        Claim::NotBitwiseIdentical,
        Claim::Float64BecomesFloat32,
        Claim::SharesMemory,
        Claim::RequiresGradCopies,
        Claim::ReshapeBreaksSharing,
        Claim::GpuTransferChangesValues,
    ];

    /// A stable identifier for reports.
    pub fn id(self) -> &'static str {
        match self {
            Claim::NotBitwiseIdentical => "not-bitwise-identical",
            Claim::Float64BecomesFloat32 => "float64-becomes-float32",
            Claim::SharesMemory => "shares-memory",
            Claim::RequiresGradCopies => "requires-grad-copies",
            Claim::ReshapeBreaksSharing => "reshape-breaks-sharing",
            Claim::GpuTransferChangesValues => "gpu-transfer-changes-values",
        }
    }

    /// The article's words.
    pub fn quote(self) -> &'static str {
        match self {
            Claim::NotBitwiseIdentical => "the conversion process doesn't always yield a bitwise identical copy",
            Claim::Float64BecomesFloat32 => {
                "converting a NumPy array of float64 to a PyTorch tensor might result in a float32 tensor if not specified"
            }
            Claim::SharesMemory => "the PyTorch tensor initially shares the underlying memory buffer with the NumPy array",
            Claim::RequiresGradCopies => "requires_grad=True … demanding a separate memory buffer",
            Claim::ReshapeBreaksSharing => {
                "operations such as reshaping … can trigger the creation of a new, independent tensor"
            }
            Claim::GpuTransferChangesValues => {
                "data transfer … can lead to slight numerical differences due to variations in floating-point precision between CPU and GPU"
            }
        }
    }
}

impl Claim {
    /// What conform checks to settle the claim: a property passing (or failing only with recorded deviations)
    /// is evidence against the claim as the article states it.
    pub fn checked_as(self) -> &'static str {
        match self {
            Claim::NotBitwiseIdentical => {
                "array → tensor → array is bit-exact for every dtype and layout, NaN payloads and -0.0 included"
            }
            Claim::Float64BecomesFloat32 => {
                "the tensor's kind is the array's element type, and no conversion casts without an error"
            }
            Claim::SharesMemory => {
                "a zero-copy view aliases the array element for element; tch's own conversions copy and never alias"
            }
            Claim::RequiresGradCopies => "requires_grad_(true) on a zero-copy float view keeps aliasing the array",
            Claim::ReshapeBreaksSharing => {
                "reshape, view, contiguous and friends copy exactly when stride arithmetic says a view is impossible"
            }
            Claim::GpuTransferChangesValues => "CPU → CUDA → CPU is bit-exact for every dtype and layout",
        }
    }
}

impl fmt::Display for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}
