//! conform's judging code, free of libtorch: the exact conversion oracle, boundary-seeking values aimed at it, the
//! verdict types a check returns, and the functions that judge an output against the expected one (dtype, shape
//! and length before values; rounding; ulps; stride arithmetic).
//!
//! Why a crate of its own: a change here rebuilds and tests in seconds instead of the minutes a change in the
//! tch-linked `conform-properties` costs, so `cargo mutants -p conform-judge` runs on a 2-core machine. Properties
//! run the systems under test and hand their outputs here; nothing here runs a system under test.
#![forbid(unsafe_code)]

pub mod boundary;
pub mod casts;
pub mod compare;
pub mod metamorphic;
pub mod oracle;
pub mod strides;
pub mod ulps;
pub mod verdict;

#[cfg(test)]
mod mutation_tests;

pub use compare::{same_bits, same_len, Bits};
pub use verdict::{one_line, outcome, CheckError, Failure, Tally, Verdict};
