//! Metamorphic family: the same question asked two ways must get the same answer.
//!
//! - Placement independence: the same input values placed one at a time in 0-d and one-element tensors, together
//!   in a contiguous tensor, a strided view (every other element of a bigger storage) and a transposed view, and
//!   tiled into a tensor of 65,536+ elements (where libtorch's vectorised and multi-threaded kernels run) on one and
//!   on several libtorch threads, must give identical output bits, NaN payloads included: through `to_kind` between
//!   every pair of dtypes, through tch's tensor → array and array → tensor conversions, and through conform's
//!   `tensor_bits`. An output that changes with the input's memory layout is a deviation in its own right: a user's
//!   results would change after `.contiguous()`.
//! - Both directions, from either side: tensors that libtorch made itself (zeros, ones, arange, full, to_kind
//!   results) keep their bits through tch's tensor → array conversion into the matching Rust element type, and
//!   arrays that ndarray made keep theirs through tch's array → tensor conversion.
//!
//! Placement cases are small (an eighth of `CONFORM_MAX_NUMEL` values, contiguous, any dtype): the placements are
//! derived from the values alone (see [`placement`]), the large placement tiles all of a case's values into one
//! tensor, and shrinking ends at the fewest, simplest values that still disagree, with the two placements named in
//! the message. Checks that change libtorch's thread count hold a process-wide lock while they run and restore the
//! count they found.

mod casts;
mod conversions;
mod made;
pub mod placement;

pub use casts::{same_cast_everywhere, to_kind_placement_independent, TensorOp, TensorOpFn};
use conform_generators::{CaseSpace, LayoutMix};
pub use conversions::{
    array_to_tensor_placement_independent, same_array_to_tensor_everywhere, same_tensor_to_array_everywhere,
    tensor_to_array_placement_independent,
};
pub use made::{
    libtorch_tensors_to_arrays_keep_bits, made_arrays_keep_bits, made_tensors_keep_bits,
    ndarray_arrays_to_tensors_keep_bits, AnyArray, ArrayToTensor,
};

use crate::families::Family;
use crate::property::Property;

pub const FAMILY: Family = Family::new(
    "metamorphic",
    "the same question asked two ways gets the same answer: casts and conversions give the same bits whatever the \
     input's placement, size or thread count, and libtorch's and ndarray's own tensors and arrays convert bit-exactly",
);

/// Every metamorphic property, in report order.
pub fn properties() -> Vec<Property> {
    vec![
        to_kind_placement_independent(),
        tensor_to_array_placement_independent(),
        array_to_tensor_placement_independent(),
        libtorch_tensors_to_arrays_keep_bits(),
        ndarray_arrays_to_tensors_keep_bits(),
    ]
}

/// Placement cases: few values (every one is placed eight ways, one placement tiles them into 65,536+ elements),
/// contiguous (the placements make the layouts), every dtype and the mixed value distribution.
pub(crate) fn space(max_numel: usize) -> CaseSpace {
    CaseSpace::all((max_numel / 8).max(1)).with_layouts(LayoutMix::CONTIGUOUS)
}
