//! `Case`: every kind of input a property can draw, as one tagged enum, so that the search loop, the corpus and the
//! reports handle every family's cases the same way. Each kind is a type of its own ([`TensorCase`] today) that
//! implements [`CaseKind`]; a property is written against its own kind and the registry boxes it into a `Case`.
//!
//! Invariant: the serde form is `{"kind": "<kind>", …the kind's own fields}`; a kind's fields never include `kind`.
//! Adding a kind is a new variant here and an `impl CaseKind`; the corpus format version records the change.

use std::fmt;

use proptest::strategy::{BoxedStrategy, Strategy};
use serde::{Deserialize, Serialize};

use crate::api::ApiCase;
use crate::case::TensorCase;
use crate::files::FileCase;
use crate::strategy::{arb_case, CaseSpace};

/// One input of any kind.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Case {
    /// A dtype, a strided layout and its storage.
    Tensor(TensorCase),
    /// The bytes of a `.npy`/`.npz` file, valid or hostile (the `files` family).
    File(FileCase),
    /// One call of a safe tch function with hostile arguments (the `api` family).
    Api(ApiCase),
}

impl Case {
    /// The tag of a tensor case.
    pub const TENSOR_KIND: &'static str = "tensor";

    /// The kind's name, as in the serde tag.
    pub fn kind(&self) -> &'static str {
        match self {
            Case::Tensor(_) => TensorCase::KIND,
            Case::File(_) => FileCase::KIND,
            Case::Api(_) => ApiCase::KIND,
        }
    }

    /// The number of values the case carries (tensor elements), for throughput figures.
    pub fn size(&self) -> usize {
        match self {
            Case::Tensor(t) => t.numel(),
            Case::File(f) => f.bytes().len(),
            Case::Api(a) => a.numel(),
        }
    }

    /// The case as pretty JSON (the corpus form).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a case always serialises")
    }

    /// The JSON the corpus hashes for a file name: for a tensor case the tensor's own JSON, exactly as corpus
    /// format 1 hashed it, so that files recorded before case kinds existed keep their names.
    pub fn hash_text(&self) -> String {
        match self {
            Case::Tensor(t) => t.to_json(),
            Case::File(f) => serde_json::to_string_pretty(f).expect("a file case always serialises"),
            Case::Api(a) => a.to_json(),
        }
    }
}

impl fmt::Debug for Case {
    /// The kind's own one-line form (`TensorCase { dtype: f32, … }`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Case::Tensor(t) => fmt::Debug::fmt(t, f),
            Case::File(c) => fmt::Debug::fmt(c, f),
            Case::Api(a) => fmt::Debug::fmt(a, f),
        }
    }
}

/// A kind of case: a type that a property draws, checks and shrinks, stored in the corpus as a [`Case`].
pub trait CaseKind: Clone + fmt::Debug + Send + Sync + 'static {
    /// The serde tag of this kind.
    const KIND: &'static str;
    /// The value inside `case` when `case` is of this kind.
    fn from_case(case: &Case) -> Option<&Self>;
    fn into_case(self) -> Case;
}

impl CaseKind for FileCase {
    const KIND: &'static str = "file";
    fn from_case(case: &Case) -> Option<&Self> {
        match case {
            Case::File(f) => Some(f),
            _ => None,
        }
    }
    fn into_case(self) -> Case {
        Case::File(self)
    }
}

impl CaseKind for ApiCase {
    const KIND: &'static str = "api";
    fn from_case(case: &Case) -> Option<&Self> {
        match case {
            Case::Api(a) => Some(a),
            _ => None,
        }
    }
    fn into_case(self) -> Case {
        Case::Api(self)
    }
}

impl CaseKind for TensorCase {
    const KIND: &'static str = Case::TENSOR_KIND;
    fn from_case(case: &Case) -> Option<&Self> {
        match case {
            Case::Tensor(t) => Some(t),
            _ => None,
        }
    }
    fn into_case(self) -> Case {
        Case::Tensor(self)
    }
}

/// A strategy over any kind, boxed into `Case`s: the form the search loop and the registry use. Mapping keeps the
/// kind's own shrinking (proptest's `Map` value tree delegates simplify and complicate).
pub fn boxed<C: CaseKind>(strategy: impl Strategy<Value = C> + Send + Sync + 'static) -> BoxedStrategy<Case> {
    strategy.prop_map(C::into_case).boxed()
}

/// The strategy over tensor cases of `space`, boxed into `Case`s.
pub fn arb_tensor_case(space: CaseSpace) -> BoxedStrategy<Case> {
    boxed(arb_case(space))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::Dtype;

    #[test]
    fn the_serde_form_is_tagged_and_the_tensor_fields_stay_strict() {
        let case = Case::Tensor(TensorCase::contiguous(Dtype::F32, &[1], vec![0x3f80_0000]).unwrap());
        let json = serde_json::to_value(&case).unwrap();
        assert_eq!(json["kind"], "tensor");
        assert_eq!(json["storage"][0], "0x3f800000 = 1.0");
        assert_eq!(serde_json::from_value::<Case>(json.clone()).unwrap(), case);
        let mut extra = json.clone();
        extra["surprise"] = 1.into();
        assert!(serde_json::from_value::<Case>(extra).is_err(), "unknown fields are refused");
        let mut unknown = json;
        unknown["kind"] = "sound".into();
        let err = serde_json::from_value::<Case>(unknown).unwrap_err().to_string();
        assert!(err.contains("unknown variant `sound`"), "{err}");
    }

    #[test]
    fn debug_is_the_kinds_own_form() {
        let t = TensorCase::contiguous(Dtype::F32, &[], vec![0]).unwrap();
        assert_eq!(format!("{:?}", Case::Tensor(t.clone())), format!("{t:?}"));
    }
}
