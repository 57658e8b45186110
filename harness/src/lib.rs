//! conform's harness: run settings, known deviations, the runner, and the `conform` CLI. The `cargo test` entry
//! (`tests/conformance.rs`) and the binary (`src/main.rs`) are thin layers over this crate.
#![forbid(unsafe_code)]

pub mod cli;
pub mod config;
pub mod corpus;
pub mod engine;
pub mod error;
pub mod isolate;
pub mod known;
pub mod nightly;
pub mod repro;
pub mod runner;
pub mod selftest;
pub mod trials;
pub mod verdict;
pub mod worker;

/// The repository root, for the `cargo test` entry.
pub const REPO_ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
/// The repository's known-deviations file.
pub const KNOWN_DEVIATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../known-deviations.toml");
/// The repository's regression corpus.
pub const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus");
