//! The case strategy: dtype, then shape, then layout, then values, drawn inside the limits of a [`CaseSpace`] (never
//! filtered), with a hand-written value tree so that shrinking reduces the outer structure too.
//!
//! Shrinking order, repeated until a whole pass changes nothing: fewer dimensions (a dimension is dropped by keeping
//! the slice at index 0), then smaller sides (size 0, either half, all but the last or the first element), then
//! simpler layouts (smaller offset, C order, no reversed, broadcast or stepped dimension, smaller steps), then simpler
//! values (toward 0,
//! see [`crate::values::simpler`]). The dtype never shrinks: a defect of one dtype must stay visible.
//!
//! A case is built from a recipe: the logical values in row-major order, and a physical layout made by placing the
//! dimensions in some memory order over a dense buffer, each with a step, a direction and possibly stride 0; the
//! storage elements no index addresses hold [`crate::values::filler`].

use std::fmt;
use std::sync::Arc;

use proptest::strategy::{NewTree, Strategy, ValueTree};
use proptest::test_runner::{TestRng, TestRunner};
use rand::RngExt;

use crate::case::TensorCase;
use crate::dtype::Dtype;
use crate::layout::Layout;
use crate::values;

/// Default of the one size knob, `CONFORM_MAX_NUMEL`.
pub const DEFAULT_MAX_NUMEL: usize = 64;

/// How element values are drawn.
pub type ValueDraw = Arc<dyn Fn(Dtype, &mut TestRng) -> u64 + Send + Sync>;

/// Which layout features a strategy may draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayoutMix {
    /// Fortran order, permuted axes and stepped slices.
    pub strided: bool,
    pub offset: bool,
    /// Stride 0 on a dimension of size > 1.
    pub broadcast: bool,
    pub negative: bool,
}

impl LayoutMix {
    pub const ALL: LayoutMix = LayoutMix { strided: true, offset: true, broadcast: true, negative: true };
    pub const CONTIGUOUS: LayoutMix = LayoutMix { strided: false, offset: false, broadcast: false, negative: false };

    pub const fn with_strided(self) -> LayoutMix {
        LayoutMix { strided: true, ..self }
    }
}

/// The space of cases a property draws from.
#[derive(Clone)]
pub struct CaseSpace {
    pub dtypes: Vec<Dtype>,
    /// The one size knob: numel never exceeds it; the maximum rank and side derive from it.
    pub max_numel: usize,
    pub layouts: LayoutMix,
    pub values: ValueDraw,
}

impl fmt::Debug for CaseSpace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaseSpace")
            .field("dtypes", &self.dtypes)
            .field("max_numel", &self.max_numel)
            .field("layouts", &self.layouts)
            .finish_non_exhaustive()
    }
}

impl CaseSpace {
    /// Every dtype and layout feature, the mixed value distribution.
    pub fn all(max_numel: usize) -> CaseSpace {
        CaseSpace {
            dtypes: Dtype::ALL.to_vec(),
            max_numel,
            layouts: LayoutMix::ALL,
            values: Arc::new(values::draw_mixed),
        }
    }

    pub fn with_dtypes(mut self, dtypes: &[Dtype]) -> CaseSpace {
        self.dtypes = dtypes.to_vec();
        self
    }

    pub fn with_layouts(mut self, layouts: LayoutMix) -> CaseSpace {
        self.layouts = layouts;
        self
    }

    pub fn with_values(mut self, values: ValueDraw) -> CaseSpace {
        self.values = values;
        self
    }

    /// At most 6 dimensions, fewer when numel is small: each extra dimension needs a side of at least 2 to matter.
    pub fn max_rank(&self) -> usize {
        (usize::BITS - self.max_numel.max(1).leading_zeros()).clamp(1, 6) as usize
    }
}

/// The strategy over [`TensorCase`]s of a space.
pub fn arb_case(space: CaseSpace) -> CaseStrategy {
    CaseStrategy { space }
}

#[derive(Debug, Clone)]
pub struct CaseStrategy {
    space: CaseSpace,
}

impl Strategy for CaseStrategy {
    type Tree = CaseTree;
    type Value = TensorCase;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        if self.space.dtypes.is_empty() {
            return Err("the case space has no dtype".into());
        }
        let recipe = Recipe::draw(&self.space, runner.rng());
        Ok(CaseTree::new(recipe))
    }
}

/// What a case is made from; shrinking edits this, never the case directly.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Recipe {
    dtype: Dtype,
    shape: Vec<usize>,
    /// Memory order of the dimensions, outermost first (identity = C order).
    order: Vec<usize>,
    step: Vec<usize>,
    reversed: Vec<bool>,
    broadcast: Vec<bool>,
    offset: usize,
    /// Logical values, row-major.
    values: Vec<u64>,
}

impl Recipe {
    fn draw(space: &CaseSpace, rng: &mut TestRng) -> Recipe {
        let dtype = space.dtypes[rng.random_range(0..space.dtypes.len())];
        let rank = rng.random_range(0..=space.max_rank());
        let mut shape = Vec::with_capacity(rank);
        let mut numel = 1usize;
        for _ in 0..rank {
            let budget = space.max_numel / numel.max(1);
            let fair = (space.max_numel as f64).powf(1.0 / rank as f64).ceil() as usize * 2;
            let side = match rng.random_range(0..10) {
                0 => 0,
                1 => 1,
                _ => rng.random_range(1..=budget.min(fair.max(2)).max(1)),
            };
            let side = side.min(budget);
            shape.push(side);
            numel = numel.saturating_mul(side.max(1));
        }
        let mut recipe = Recipe {
            dtype,
            order: (0..rank).collect(),
            step: vec![1; rank],
            reversed: vec![false; rank],
            broadcast: vec![false; rank],
            offset: 0,
            values: Vec::new(),
            shape,
        };
        let mix = space.layouts;
        let plain = rng.random_bool(0.3);
        if !plain && rank > 0 {
            if mix.strided {
                match rng.random_range(0..6) {
                    0 => recipe.order.reverse(),
                    1 | 2 => shuffle(&mut recipe.order, rng),
                    _ => {}
                }
                if rng.random_bool(0.3) {
                    let dim = rng.random_range(0..rank);
                    recipe.step[dim] = rng.random_range(2..=3);
                }
            }
            if mix.negative && rng.random_bool(0.25) {
                for flag in &mut recipe.reversed {
                    *flag = rng.random_bool(0.5);
                }
            }
            if mix.broadcast && rng.random_bool(0.2) {
                recipe.broadcast[rng.random_range(0..rank)] = true;
            }
        }
        if mix.offset && !plain && rng.random_bool(0.4) {
            recipe.offset = rng.random_range(1..=8);
        }
        let numel = recipe.shape.iter().product::<usize>();
        recipe.values = (0..numel).map(|_| (space.values)(dtype, rng)).collect();
        recipe.normalized()
    }

    /// The case this recipe stands for.
    fn build(&self) -> TensorCase {
        let rank = self.shape.len();
        let extent = |d: usize| match (self.shape[d], self.broadcast[d]) {
            (0, _) | (_, true) => 1,
            (n, false) => (n - 1) * self.step[d] + 1,
        };
        let mut dense = vec![0usize; rank];
        let mut size = 1usize;
        for &d in self.order.iter().rev() {
            dense[d] = size;
            size *= extent(d);
        }
        let mut strides = vec![0isize; rank];
        let mut offset = self.offset;
        for d in 0..rank {
            if self.broadcast[d] {
                continue;
            }
            let stride = (self.step[d] * dense[d]) as isize;
            strides[d] = if self.reversed[d] { -stride } else { stride };
            if self.reversed[d] && self.shape[d] > 0 {
                offset += (self.shape[d] - 1) * stride as usize;
            }
        }
        let layout = Layout { shape: self.shape.clone(), strides, offset };
        let mut storage = vec![values::filler(self.dtype); self.offset + size];
        for (address, &bits) in layout.addresses().into_iter().zip(&self.values) {
            storage[address] = bits;
        }
        TensorCase::new(self.dtype, layout, storage).expect("recipes build valid cases")
    }

    /// The recipe with its values read back from the built case (a broadcast dimension keeps one value per line).
    fn normalized(mut self) -> Recipe {
        let numel: usize = self.shape.iter().product();
        self.values.resize(numel, 0);
        self.values = self.build().logical();
        self
    }

    /// Keeps the elements whose index along `dim` lies in `start..start + len`.
    fn slice(&self, dim: usize, start: usize, len: usize) -> Recipe {
        let layout = Layout::contiguous(&self.shape);
        let mut out = self.clone();
        out.values = (0..self.values.len())
            .filter(|&flat| (start..start + len).contains(&layout.unravel(flat)[dim]))
            .map(|flat| self.values[flat])
            .collect();
        out.shape[dim] = len;
        out.normalized()
    }

    fn without_dim(&self, dim: usize) -> Recipe {
        let mut out = if self.shape[dim] > 0 { self.slice(dim, 0, 1) } else { self.clone() };
        out.shape.remove(dim);
        out.step.remove(dim);
        out.reversed.remove(dim);
        out.broadcast.remove(dim);
        out.order.retain(|&d| d != dim);
        for d in &mut out.order {
            if *d > dim {
                *d -= 1;
            }
        }
        out.normalized()
    }

    /// The `j`-th simpler recipe of `phase` at position `i`, `Skip` when that one does not apply.
    fn candidate(&self, phase: Phase, i: usize, j: usize) -> Candidate {
        use Candidate::{Done, Next, Skip};
        let rank = self.shape.len();
        match phase {
            Phase::Dims => match (i < rank, j) {
                (false, _) => Done,
                (true, 0) => Next(self.without_dim(i)),
                (true, _) => Skip,
            },
            Phase::Sides => {
                if i >= rank {
                    return Done;
                }
                let n = self.shape[i];
                let pick = match j {
                    0 if n > 0 => (0, 0),
                    1 if n > 1 => (0, n / 2),
                    2 if n > 1 => (n - n / 2, n / 2),
                    3 if n > 2 => (0, n - 1),
                    4 if n > 2 => (1, n - 1),
                    0..=4 => return Candidate::Same,
                    _ => return Skip,
                };
                Next(self.slice(i, pick.0, pick.1))
            }
            Phase::Layout => {
                let mut out = self.clone();
                match (i, j) {
                    (_, 1..) => return Skip,
                    (0, _) => out.offset = 0,
                    (1, _) => out.offset = out.offset.saturating_sub(1),
                    (2, _) => out.order = (0..rank).collect(),
                    (k, _) if k - 3 < 4 * rank => {
                        let dim = (k - 3) / 4;
                        match (k - 3) % 4 {
                            0 => out.reversed[dim] = false,
                            1 => out.broadcast[dim] = false,
                            2 => out.step[dim] = 1,
                            _ => out.step[dim] = out.step[dim].saturating_sub(1).max(1),
                        }
                    }
                    _ => return Done,
                }
                Next(out.normalized())
            }
            Phase::Values => {
                let Some(&bits) = self.values.get(i) else { return Done };
                match values::simpler(self.dtype, bits).get(j) {
                    None => Skip,
                    Some(&simpler) => {
                        let mut out = self.clone();
                        out.values[i] = simpler;
                        Next(out.normalized())
                    }
                }
            }
        }
    }
}

fn shuffle(order: &mut [usize], rng: &mut TestRng) {
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Dims,
    Sides,
    Layout,
    Values,
}

const PHASES: [Phase; 4] = [Phase::Dims, Phase::Sides, Phase::Layout, Phase::Values];

enum Candidate {
    /// A simpler recipe to try.
    Next(Recipe),
    /// Nothing at this `j`, but a later `j` of the same `i` may apply.
    Same,
    /// No more candidates at this `i`.
    Skip,
    /// No more candidates in this phase.
    Done,
}

/// The value tree of [`CaseStrategy`]: holds the simplest recipe known to fail and walks the candidates in order.
pub struct CaseTree {
    accepted: Recipe,
    trying: Option<Recipe>,
    current: TensorCase,
    phase: usize,
    i: usize,
    j: usize,
    changed_this_pass: bool,
}

impl CaseTree {
    fn new(recipe: Recipe) -> CaseTree {
        let current = recipe.build();
        CaseTree { accepted: recipe, trying: None, current, phase: 0, i: 0, j: 0, changed_this_pass: false }
    }

    /// Moves to the next candidate from the cursor on (the cursor's own position first).
    fn next_candidate(&mut self) -> bool {
        loop {
            if self.phase == PHASES.len() {
                if !self.changed_this_pass {
                    self.current = self.accepted.build();
                    return false;
                }
                (self.phase, self.i, self.j, self.changed_this_pass) = (0, 0, 0, false);
            }
            match self.accepted.candidate(PHASES[self.phase], self.i, self.j) {
                Candidate::Next(recipe) if recipe != self.accepted => {
                    self.current = recipe.build();
                    self.trying = Some(recipe);
                    return true;
                }
                Candidate::Next(_) | Candidate::Same => self.j += 1,
                Candidate::Skip => (self.i, self.j) = (self.i + 1, 0),
                Candidate::Done => (self.phase, self.i, self.j) = (self.phase + 1, 0, 0),
            }
        }
    }
}

impl ValueTree for CaseTree {
    type Value = TensorCase;

    fn current(&self) -> TensorCase {
        self.current.clone()
    }

    /// The current case failed: keep it, and try something simpler.
    fn simplify(&mut self) -> bool {
        if let Some(recipe) = self.trying.take() {
            self.accepted = recipe;
            self.changed_this_pass = true;
            // Stay at the same position: the same kind of step may apply again to the simpler recipe. Layout steps
            // are one-shot, so move past them.
            self.j = 0;
            if PHASES[self.phase] == Phase::Layout {
                self.i += 1;
            }
        }
        self.next_candidate()
    }

    /// The current case passed: go back to the last failing one and try the next candidate.
    fn complicate(&mut self) -> bool {
        if self.trying.take().is_none() {
            return false;
        }
        self.j += 1;
        self.next_candidate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::{Config, RngAlgorithm};

    fn runner(seed: u8) -> TestRunner {
        TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]))
    }

    /// Runs the tree's shrink protocol the way proptest's runner does and returns the minimal failing case.
    fn minimal(space: CaseSpace, fails: impl Fn(&TensorCase) -> bool) -> TensorCase {
        let strategy = arb_case(space);
        for seed in 0..=255u8 {
            let mut runner = runner(seed);
            for _ in 0..200 {
                let mut tree = strategy.new_tree(&mut runner).unwrap();
                if !fails(&tree.current()) {
                    continue;
                }
                let mut last = tree.current();
                let mut more = tree.simplify();
                while more {
                    if fails(&tree.current()) {
                        last = tree.current();
                        more = tree.simplify();
                    } else {
                        more = tree.complicate();
                    }
                }
                assert_eq!(tree.current(), last, "the tree must end on the last failing case");
                return last;
            }
        }
        panic!("no failing case found");
    }

    #[test]
    fn generated_cases_respect_the_space() {
        let space = CaseSpace::all(64);
        let strategy = arb_case(space.clone());
        let mut runner = runner(1);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            let case = strategy.new_tree(&mut runner).unwrap().current();
            assert!(case.numel() <= 64);
            assert!(case.layout().rank() <= 6);
            for f in case.layout().features() {
                seen.insert(f);
            }
            seen.insert(if case.numel() == 0 { "zero-size" } else { "nonempty" });
            if case.layout().rank() == 0 {
                seen.insert("0-d");
            }
        }
        for f in ["c-contiguous", "broadcast", "negative-stride", "non-c-order", "offset", "zero-size", "0-d"] {
            assert!(seen.contains(f), "never drew {f}: {seen:?}");
        }
    }

    #[test]
    fn same_seed_same_case() {
        let strategy = arb_case(CaseSpace::all(64));
        let a: Vec<_> = (0..50).scan(runner(7), |r, _| Some(strategy.new_tree(r).unwrap().current())).collect();
        let b: Vec<_> = (0..50).scan(runner(7), |r, _| Some(strategy.new_tree(r).unwrap().current())).collect();
        assert_eq!(a, b);
    }

    #[test]
    fn any_nonempty_case_shrinks_to_a_zero_dim_zero() {
        let min = minimal(CaseSpace::all(64).with_dtypes(&[Dtype::I32]), |c| c.numel() > 0);
        assert_eq!(
            format!("{min:?}"),
            "TensorCase { dtype: i32, shape: [], strides: [], offset: 0, storage: [0x00000000 = 0] }"
        );
    }

    #[test]
    fn a_value_predicate_shrinks_to_one_element_at_the_boundary() {
        // Fails when some element is >= 1000: the minimal case is a 0-d tensor holding exactly 1000.
        let min = minimal(CaseSpace::all(64).with_dtypes(&[Dtype::I32]), |c| {
            c.logical().iter().any(|&b| Dtype::I32.as_i128(b) >= 1000)
        });
        assert_eq!(min.shape(), &[] as &[usize]);
        assert_eq!(min.logical(), vec![1000]);
    }

    #[test]
    fn a_layout_predicate_keeps_only_what_it_needs() {
        // Fails on a negative stride: the minimal case is one dimension of two zeros, reversed, no offset padding.
        let min = minimal(CaseSpace::all(64).with_dtypes(&[Dtype::U8]), |c| {
            c.layout().features().contains(&"negative-stride")
        });
        assert_eq!(
            format!("{min:?}"),
            "TensorCase { dtype: u8, shape: [2], strides: [-1], offset: 1, storage: [0x00 = 0, 0x00 = 0] }"
        );
    }

    #[test]
    fn a_transposition_predicate_shrinks_to_a_two_by_two() {
        // Fails when logical order differs from storage order and the values differ (a reordering defect needs
        // two distinct values to show).
        let min = minimal(
            CaseSpace::all(64).with_dtypes(&[Dtype::F32]).with_layouts(LayoutMix::CONTIGUOUS.with_strided()),
            |c| {
                let logical = c.logical();
                let in_memory: Vec<u64> = {
                    let mut addressed: Vec<(usize, u64)> =
                        c.layout().addresses().into_iter().zip(logical.iter().copied()).collect();
                    addressed.sort();
                    addressed.into_iter().map(|(_, b)| b).collect()
                };
                logical != in_memory
            },
        );
        assert_eq!(min.shape(), &[2, 2]);
        assert_eq!(min.layout().strides, vec![1, 2]);
        let zeros = min.logical().iter().filter(|&&b| b == 0).count();
        assert_eq!(zeros, 3, "only one element needs to differ: {min:?}");
    }
}
