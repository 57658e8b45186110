//! Tests that kill the mutants `cargo mutants -p conform-judge` found surviving (judge/MUTANTS.md lists the run
//! and the mutants left as equivalent). One file per module under test; each test pins an exact output (a message,
//! a tally key and count, a length) or, for the value generators, a statistical property of many seeded draws
//! that the generator promises (ties hit, steps of ±1 ulp, exact anchors), never a snapshot of the draws.
//!
//! Invariant: these tests use the crate's public API only, so they survive refactors that keep its behaviour.

mod boundary;
mod casts;
mod compare;
mod metamorphic;
mod oracle;
mod ulps;
mod verdict;
