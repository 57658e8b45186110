//! Helpers the families' checks share, defined once: a conversion's refusal as a failure, and a converted
//! output handed to the judge's one comparison.

use conform_generators::TensorCase;
use conform_judge::{one_line, same_bits, Bits, CheckError, Verdict};

use crate::convert::{ArrayBits, ConvertError};

/// A conversion refused its input: a finding, not a reject (the property covers every generated case).
pub fn refused(op: &str, what: &str, case: &TensorCase, error: &ConvertError) -> CheckError {
    let full = error.to_string();
    let text = one_line(&full);
    let layout = case.layout();
    CheckError::fail(
        format!("{op} refused the {what}: {text}"),
        format!(
            "{op} refused the {what} [{dtype}, shape={shape:?} strides={strides:?} offset={offset} ({features})]: {text}",
            dtype = case.dtype(),
            shape = layout.shape,
            strides = layout.strides,
            offset = layout.offset,
            features = layout.features().join(", "),
        ),
    )
}

/// `got` must hold exactly the case's logical elements, with its dtype and shape (judged by
/// [`conform_judge::same_bits`]).
pub fn same_array(case: &TensorCase, got: &ArrayBits, what: &str) -> Verdict {
    same_bits(case, Bits { dtype: got.dtype, shape: &got.shape, bits: &got.bits }, what)
}
