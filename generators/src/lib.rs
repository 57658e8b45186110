//! conform's case model and generators, with no libtorch: element types ([`Dtype`]), strided layouts ([`Layout`]),
//! cases ([`TensorCase`]) and their JSON form, value distributions, the case strategy with its shrinking, and the
//! seeded search loop the harness and the property tests share.
//!
//! Invariant: every `TensorCase`, generated or read from disk, has a layout that addresses only its own storage.
#![forbid(unsafe_code)]

pub mod case;
pub mod corpus;
pub mod dtype;
pub mod layout;
pub mod search;
pub mod strategy;
pub mod values;

pub use case::{CaseError, TensorCase, MAX_CASE_NUMEL};
pub use corpus::{parse_entry, CorpusEntry, EntryError, CORPUS_FORMAT_VERSION};
pub use dtype::{Dtype, FloatFormat};
pub use layout::{Layout, LayoutError};
pub use search::{search, Found, Outcome, SearchConfig, SearchReport, Stop};
pub use strategy::{arb_case, CaseSpace, CaseStrategy, LayoutMix, DEFAULT_MAX_NUMEL};
