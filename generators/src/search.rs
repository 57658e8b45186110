//! The search loop: draw cases from a strategy with a seeded proptest `TestRunner`, run a check on each, and shrink
//! the first failure with the strategy's value tree, following proptest's simplify/complicate protocol.
//!
//! It lives here rather than in the harness because the property crate's unit tests need the same loop to show that
//! a planted defect fails and shrinks; the harness adds budgets, events, corpus and known deviations around it.
//! Invariant: the same seed, stream name and strategy give the same cases in the same order.

use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// What a check says of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<E> {
    Pass,
    /// The case is outside what the property covers (not a failure, but counted).
    Reject(String),
    Fail(E),
}

/// Limits of one search.
#[derive(Debug, Clone)]
pub struct SearchConfig {
    pub cases: u32,
    pub seed: u64,
    /// Stop drawing new cases after this instant (shrinking a failure found before it still runs).
    pub deadline: Option<Instant>,
    pub max_shrink_iters: u32,
    pub max_shrink_time: Duration,
    /// Give up after this many rejected cases.
    pub max_rejects: u32,
    /// Draw (and skip, unchecked) this many cases first: a search resumed after case `start - 1`, e.g. in a fresh
    /// worker process after that case crashed the last one. `cases` still counts from the stream's first case.
    pub start: u32,
}

impl SearchConfig {
    pub fn new(cases: u32, seed: u64) -> SearchConfig {
        SearchConfig {
            cases,
            seed,
            deadline: None,
            max_shrink_iters: 100_000,
            max_shrink_time: Duration::from_secs(60),
            max_rejects: cases.saturating_mul(4).max(1000),
            start: 0,
        }
    }
}

/// Why the search stopped drawing cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    AllCases,
    Deadline,
    TooManyRejects,
    Failed,
}

/// The first failure, shrunk.
#[derive(Debug, Clone)]
pub struct Found<V, E> {
    pub minimal: V,
    pub failure: E,
    /// The original (unshrunk) failing case.
    pub original: V,
    pub shrink_steps: u32,
}

#[derive(Debug, Clone)]
pub struct SearchReport<V, E> {
    /// Cases drawn and checked by this search (after `start`), rejects included (shrink attempts not included).
    pub cases: u32,
    pub rejects: u32,
    pub stop: Stop,
    pub found: Option<Found<V, E>>,
}

/// Why a search could not run at all (a defect of the property's case space, not of the system under test).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error("cannot draw a case: {reason}")]
    CannotDraw { reason: String },
}

/// A ChaCha proptest RNG for `seed` and a named stream, so every property has its own sequence for one run seed and
/// adding a property changes no other property's cases.
pub fn rng(seed: u64, stream: &str) -> TestRng {
    let name_hash = crate::hash::fnv1a(stream.as_bytes());
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&name_hash.to_le_bytes());
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

/// What a search tells its caller as it goes (all optional): the index of the case about to be checked (counted
/// from the stream's first case, so a crash can be pinned to it), each checked case, and the start of shrinking.
pub trait Observer<V> {
    /// Case `index` of the stream is about to be checked.
    fn starting(&mut self, _index: u32) {}
    /// A case was checked; `done` counts this search's cases.
    fn checked(&mut self, _done: u32, _case: &V) {}
    /// Case `index` failed and shrinking begins.
    fn shrinking(&mut self, _index: u32) {}
}

/// An observer of checked cases only.
struct OnCase<P>(P);

impl<V, P: FnMut(u32, &V)> Observer<V> for OnCase<P> {
    fn checked(&mut self, done: u32, case: &V) {
        (self.0)(done, case)
    }
}

/// Runs `check` on up to `config.cases` cases of `strategy`; `on_case` hears the count and the case after each.
pub fn search<S, E, C, P>(
    strategy: &S,
    stream: &str,
    config: &SearchConfig,
    check: C,
    on_case: P,
) -> Result<SearchReport<S::Value, E>, SearchError>
where
    S: Strategy,
    S::Value: Clone,
    C: FnMut(&S::Value) -> Outcome<E>,
    P: FnMut(u32, &S::Value),
{
    search_observed(strategy, stream, config, check, &mut OnCase(on_case))
}

/// [`search`], telling `observer` which case is about to run and when shrinking starts.
pub fn search_observed<S, E, C>(
    strategy: &S,
    stream: &str,
    config: &SearchConfig,
    mut check: C,
    observer: &mut dyn Observer<S::Value>,
) -> Result<SearchReport<S::Value, E>, SearchError>
where
    S: Strategy,
    S::Value: Clone,
    C: FnMut(&S::Value) -> Outcome<E>,
{
    let mut runner = TestRunner::new_with_rng(Config::default(), rng(config.seed, stream));
    let mut report = SearchReport { cases: 0, rejects: 0, stop: Stop::AllCases, found: None };
    let draw = |runner: &mut TestRunner| {
        strategy.new_tree(runner).map_err(|e| SearchError::CannotDraw { reason: e.to_string() })
    };
    for _ in 0..config.start.min(config.cases) {
        draw(&mut runner)?;
    }
    while config.start + report.cases < config.cases {
        if config.deadline.is_some_and(|d| Instant::now() >= d) {
            report.stop = Stop::Deadline;
            break;
        }
        let mut tree = draw(&mut runner)?;
        let case = tree.current();
        let index = config.start + report.cases;
        observer.starting(index);
        report.cases += 1;
        let outcome = check(&case);
        observer.checked(report.cases, &case);
        match outcome {
            Outcome::Pass => {}
            Outcome::Reject(_) => {
                report.rejects += 1;
                if report.rejects >= config.max_rejects {
                    report.stop = Stop::TooManyRejects;
                    break;
                }
            }
            Outcome::Fail(failure) => {
                report.stop = Stop::Failed;
                observer.shrinking(index);
                report.found = Some(shrink(&mut tree, case, failure, config, &mut check));
                break;
            }
        }
    }
    Ok(report)
}

/// The value tree of case `index` of the stream (counted from 0), exactly as [`search`] draws it: how a parent
/// process regenerates the case a worker was checking when it died, to shrink it.
pub fn tree_at<S: Strategy>(strategy: &S, seed: u64, stream: &str, index: u32) -> Result<S::Tree, SearchError> {
    let mut runner = TestRunner::new_with_rng(Config::default(), rng(seed, stream));
    let mut tree = strategy.new_tree(&mut runner).map_err(|e| SearchError::CannotDraw { reason: e.to_string() })?;
    for _ in 0..index {
        tree = strategy.new_tree(&mut runner).map_err(|e| SearchError::CannotDraw { reason: e.to_string() })?;
    }
    Ok(tree)
}

/// Shrinks the failing case `tree` holds, as [`search`] does after a failure: what the parent of a crashed worker
/// runs, with a check that asks a fresh worker.
pub fn shrink_tree<T, E, C>(tree: &mut T, failure: E, config: &SearchConfig, mut check: C) -> Found<T::Value, E>
where
    T: ValueTree,
    T::Value: Clone,
    C: FnMut(&T::Value) -> Outcome<E>,
{
    let original = tree.current();
    shrink(tree, original, failure, config, &mut check)
}

fn shrink<T, E, C>(
    tree: &mut T,
    original: T::Value,
    failure: E,
    config: &SearchConfig,
    check: &mut C,
) -> Found<T::Value, E>
where
    T: ValueTree,
    T::Value: Clone,
    C: FnMut(&T::Value) -> Outcome<E>,
{
    let until = Instant::now().checked_add(config.max_shrink_time);
    let mut found = Found { minimal: original.clone(), failure, original, shrink_steps: 0 };
    let mut more = tree.simplify();
    let mut iters = 0;
    while more && iters < config.max_shrink_iters && until.is_none_or(|u| Instant::now() < u) {
        iters += 1;
        let candidate = tree.current();
        match check(&candidate) {
            Outcome::Fail(failure) => {
                found.minimal = candidate;
                found.failure = failure;
                found.shrink_steps += 1;
                more = tree.simplify();
            }
            Outcome::Pass | Outcome::Reject(_) => more = tree.complicate(),
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_at_regenerates_the_case_search_checked_and_a_resumed_search_goes_on_from_there() {
        let strategy = crate::strategy::arb_case(crate::strategy::CaseSpace::all(16));
        let mut seen = Vec::new();
        let config = SearchConfig::new(20, 7);
        search(&strategy, "s", &config, |_| Outcome::<()>::Pass, |_, c: &crate::TensorCase| seen.push(c.clone()))
            .unwrap();
        for index in [0u32, 5, 19] {
            assert_eq!(tree_at(&strategy, 7, "s", index).unwrap().current(), seen[index as usize]);
        }
        let mut resumed = Vec::new();
        let report = search(
            &strategy,
            "s",
            &SearchConfig { start: 12, ..config },
            |_| Outcome::<()>::Pass,
            |_, c: &crate::TensorCase| resumed.push(c.clone()),
        )
        .unwrap();
        assert_eq!(report.cases, 8);
        assert_eq!(resumed, seen[12..]);
    }

    #[test]
    fn the_observer_hears_each_index_before_its_check_and_the_failing_index() {
        #[derive(Default)]
        struct Heard(Vec<String>);
        impl<V> Observer<V> for Heard {
            fn starting(&mut self, index: u32) {
                self.0.push(format!("start {index}"));
            }
            fn shrinking(&mut self, index: u32) {
                self.0.push(format!("shrink {index}"));
            }
        }
        let strategy = crate::strategy::arb_case(crate::strategy::CaseSpace::all(16));
        let mut heard = Heard::default();
        let mut n = 0;
        let check = |_: &crate::TensorCase| {
            n += 1;
            if n == 3 {
                Outcome::Fail(())
            } else {
                Outcome::Pass
            }
        };
        search_observed(&strategy, "s", &SearchConfig::new(10, 1), check, &mut heard).unwrap();
        assert_eq!(heard.0[..4], ["start 0", "start 1", "start 2", "shrink 2"]);
    }
    use crate::dtype::Dtype;
    use crate::strategy::{arb_case, CaseSpace};

    #[test]
    fn finds_and_shrinks_and_counts() {
        let strategy = arb_case(CaseSpace::all(64).with_dtypes(&[Dtype::I16]));
        let config = SearchConfig::new(1000, 42);
        let report = search(
            &strategy,
            "t",
            &config,
            |c| match c.logical().contains(&0x7fff) {
                true => Outcome::Fail("max"),
                false => Outcome::Pass,
            },
            |_, _| {},
        )
        .unwrap();
        let found = report.found.expect("i16 max is a special value and is drawn");
        assert_eq!(report.stop, Stop::Failed);
        assert_eq!(found.minimal.logical(), vec![0x7fff]);
        assert_eq!(found.minimal.shape(), &[] as &[usize]);
        assert!(found.shrink_steps > 0);
    }

    #[test]
    fn rejects_are_counted_and_bounded() {
        let strategy = arb_case(CaseSpace::all(8));
        let mut config = SearchConfig::new(100, 1);
        config.max_rejects = 10;
        let report = search(&strategy, "t", &config, |_| Outcome::<()>::Reject("no".into()), |_, _| {}).unwrap();
        assert_eq!((report.cases, report.rejects, report.stop), (10, 10, Stop::TooManyRejects));
    }

    #[test]
    fn streams_differ_and_repeat() {
        let strategy = arb_case(CaseSpace::all(64));
        let draw = |stream: &str| {
            let mut seen = Vec::new();
            search(
                &strategy,
                stream,
                &SearchConfig::new(20, 3),
                |c| {
                    seen.push(c.clone());
                    Outcome::<()>::Pass
                },
                |_, _| {},
            )
            .unwrap();
            seen
        };
        assert_eq!(draw("a"), draw("a"));
        assert_ne!(draw("a"), draw("b"));
    }
}
