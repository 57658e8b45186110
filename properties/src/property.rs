//! The `Property` type: a named invariant with the space of cases it draws from and the check that judges one case,
//! built in one expression beside the function that judges it:
//!
//! ```ignore
//! pub fn to_f16_correctly_rounded() -> Property {
//!     Property::new(FAMILY, "to_f16_correctly_rounded", "to_kind into f16 gives the correctly rounded result …")
//!         .claims(&[claims::NOT_BITWISE_IDENTICAL]) // the article claims it bears on, if any
//!         .tensors(|n| boundary_space(&TO_F16, FloatFormat::F16, n))
//!         .tallied(|case, tally| correctly_rounded(case, Dtype::F16, &CastOp::to_kind(), Some(tally)))
//! }
//! ```
//!
//! Invariant: a property's full name is `family::name`, derived from its family, so the prefix cannot disagree;
//! a check never panics on a libtorch error (it calls tch's fallible `f_*` functions and returns a `Fail` or a
//! `Reject` that says which); a check of one case kind is never handed another kind (it is rejected, with why).

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use conform_generators::{arb_tensor_case, boxed, Case, CaseKind, CaseSpace, TensorCase};
pub use conform_judge::{outcome, CheckError, Failure, Tally, Verdict};
use proptest::strategy::{BoxedStrategy, Strategy};

use crate::claims::Claim;
use crate::families::Family;

/// The devices a property needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceNeed {
    /// The CPU alone.
    Cpu,
    /// The CPU and a usable CUDA device; reported `skip` with the reason where there is none.
    Cuda,
}

/// Judges one case of any kind.
pub type Check = Arc<dyn Fn(&Case) -> Verdict + Send + Sync>;

/// The cases a property draws, for a given `CONFORM_MAX_NUMEL`.
pub type Space = Arc<dyn Fn(usize) -> BoxedStrategy<Case> + Send + Sync>;

/// One invariant of the registry.
#[derive(Clone)]
pub struct Property {
    /// `family::name`, also the libtest trial name.
    pub name: &'static str,
    pub family: Family,
    pub device: DeviceNeed,
    /// One sentence: what must hold.
    pub doc: &'static str,
    /// The article claims this property bears on.
    pub claims: &'static [Claim],
    /// The kind of case it draws (the corpus tag, e.g. `tensor`).
    pub case_kind: &'static str,
    /// The cases it draws, for a given `CONFORM_MAX_NUMEL`.
    pub space: Space,
    pub check: Check,
    /// What it tabulates, if anything.
    pub tally: Option<Arc<Tally>>,
}

impl fmt::Debug for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Property").field("name", &self.name).field("family", &self.family).finish_non_exhaustive()
    }
}

impl Property {
    /// Starts a property of `family` called `family::name`, stating `doc`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(family: Family, name: &'static str, doc: &'static str) -> Builder {
        Builder { family, name: full_name(family, name), doc, claims: &[], device: DeviceNeed::Cpu }
    }

    /// Judges one case (the registry's boxed form; any kind).
    pub fn check(&self, case: &Case) -> Verdict {
        (self.check)(case)
    }
}

/// `family::name`, interned so that a property name is a `&'static str` however often the registry is built.
fn full_name(family: Family, name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let full = format!("{}::{name}", family.name());
    let mut names = NAMES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&known) = names.get(full.as_str()) {
        return known;
    }
    let leaked: &'static str = Box::leak(full.into_boxed_str());
    names.insert(leaked);
    leaked
}

/// A property being defined: its name, doc, claims and device; the case space comes next.
#[must_use = "a property needs a case space and a check"]
pub struct Builder {
    family: Family,
    name: &'static str,
    doc: &'static str,
    claims: &'static [Claim],
    device: DeviceNeed,
}

impl Builder {
    /// The article claims it bears on.
    pub fn claims(self, claims: &'static [Claim]) -> Builder {
        Builder { claims, ..self }
    }

    /// It needs a CUDA device besides the CPU.
    pub fn needs_cuda(self) -> Builder {
        Builder { device: DeviceNeed::Cuda, ..self }
    }

    /// It draws tensor cases from `space`.
    pub fn tensors(self, space: impl Fn(usize) -> CaseSpace + Send + Sync + 'static) -> Spaced<TensorCase> {
        Spaced { builder: self, space: Arc::new(move |n| arb_tensor_case(space(n))), kind: std::marker::PhantomData }
    }

    /// It draws cases of kind `C` from the strategy `space` makes for a `CONFORM_MAX_NUMEL`.
    pub fn cases<C, S>(self, space: impl Fn(usize) -> S + Send + Sync + 'static) -> Spaced<C>
    where
        C: CaseKind,
        S: Strategy<Value = C> + Send + Sync + 'static,
    {
        Spaced { builder: self, space: Arc::new(move |n| boxed(space(n))), kind: std::marker::PhantomData }
    }
}

/// A property with its case space; the check completes it.
#[must_use = "a property needs a check"]
pub struct Spaced<C> {
    builder: Builder,
    space: Space,
    kind: std::marker::PhantomData<fn(&C)>,
}

impl<C: CaseKind> Spaced<C> {
    /// The check that judges one case.
    pub fn check(self, check: impl Fn(&C) -> Verdict + Send + Sync + 'static) -> Property {
        self.finish(Arc::new(move |case| typed(case, &check)), None)
    }

    /// The check, with the tally where it records what it does not judge (shown as observations in the report).
    pub fn tallied(self, check: impl Fn(&C, &Tally) -> Verdict + Send + Sync + 'static) -> Property {
        let tally = Arc::new(Tally::default());
        let t = Arc::clone(&tally);
        self.finish(Arc::new(move |case| typed(case, &|c: &C| check(c, &t))), Some(tally))
    }

    fn finish(self, check: Check, tally: Option<Arc<Tally>>) -> Property {
        let Builder { family, name, doc, claims, device } = self.builder;
        Property { name, family, device, doc, claims, case_kind: C::KIND, space: self.space, check, tally }
    }
}

/// Hands `case` to a check of kind `C`, rejecting another kind (a corpus file of another family, say).
fn typed<C: CaseKind>(case: &Case, check: &dyn Fn(&C) -> Verdict) -> Verdict {
    match C::from_case(case) {
        Some(c) => check(c),
        None => Err(CheckError::Reject(format!("a {} case, but this property checks {} cases", case.kind(), C::KIND))),
    }
}
