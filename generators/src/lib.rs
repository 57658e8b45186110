//! conform's case model and generators, with no libtorch: element types ([`Dtype`]), strided layouts ([`Layout`]),
//! cases ([`Case`], of which [`TensorCase`] is the one kind so far) and their JSON form, value distributions, the case strategy with its shrinking, and the
//! seeded search loop the harness and the property tests share.
//!
//! Invariant: every `TensorCase`, generated or read from disk, has a layout that addresses only its own storage.
#![forbid(unsafe_code)]

pub mod api;
pub mod case;
pub mod cases;
pub mod corpus;
pub mod dtype;
pub mod files;
pub mod hash;
pub mod hint;
pub mod layout;
pub mod search;
pub mod strategy;
pub mod values;

pub use api::{arb_api_any, arb_api_case, ApiCall, ApiCase, ApiFn, ApiInput, ApiKind, InputLayout, InvalidApiCase};
pub use case::{InvalidCase, TensorCase, MAX_CASE_NUMEL};
pub use cases::{arb_tensor_case, boxed, Case, CaseKind};
pub use corpus::{parse_entry, CorpusEntry, EntryError, CORPUS_FORMAT_VERSION};
pub use dtype::{Dtype, FloatFormat};
pub use files::{FileCase, FileFormat, MAX_FILE_BYTES};
pub use hint::Hint;
pub use layout::{Layout, LayoutError};
pub use search::{
    search, search_observed, shrink_tree, tree_at, Found, Observer, Outcome, SearchConfig, SearchError, SearchReport,
    Stop,
};
pub use strategy::{arb_case, CaseSpace, CaseStrategy, LayoutMix, DEFAULT_MAX_NUMEL};
