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
    /// Stop drawing new cases after this instant (shrinking a failure found before it still runs), and pace the
    /// search so that no case starts that is not expected to end by then (see [`search_observed`]).
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
    /// Cases drawn but not checked because they were not expected to end by the deadline (see [`search_observed`]).
    pub skipped: u32,
    pub stop: Stop,
    pub found: Option<Found<V, E>>,
}

impl<V, E> SearchReport<V, E> {
    /// Cases this search drew, checked or skipped: a search that began at stream index `start` draws next (or drew
    /// last, when it stopped on a failure) at `start + drawn() (- 1)`.
    pub fn drawn(&self) -> u32 {
        self.cases + self.skipped
    }
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
    /// How large a case is (the number of values it holds), for pacing under a deadline: the largest cases so far
    /// tell how long a check takes per unit of draw time. The default, 1, makes every case alike.
    fn size(&self, _case: &V) -> u64 {
        1
    }
}

/// What [`Pace`] says of a case just drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    Check,
    /// Not expected to end by the deadline: drawn (so the stream stays the same) but not checked.
    Skip,
}

/// How a search under a deadline keeps it: no draw starts that could not end by the deadline (the longest draw so
/// far must fit), and a drawn case is checked only if its predicted check time fits in the time left; otherwise it
/// is skipped and the next one drawn, so that smaller cases still use the time left.
///
/// A check is predicted from the case's own draw time, which grows with its values as the check's does, times the
/// check/draw ratio of the largest cases checked so far (those within [`COMPARABLE`]× of the largest size: their
/// total check time over their total draw time, so one check slowed by the machine does not decide it), plus the
/// quickest check (the fixed cost). Small cases have high ratios (their checks' fixed costs over draws of
/// microseconds), so a case much larger than any checked is predicted pessimistically until cases of its order have
/// run. No draw starts either when not even the quickest check would end by the deadline. Before any evidence, a
/// case whose draw alone took more than 1/[`COMPARABLE`] of the time left is skipped while more than half of the
/// search's time remains, so the first case checked is not the largest one by chance; after that it is checked, so
/// that a search checks at least one case.
#[derive(Debug)]
struct Pace {
    started: Instant,
    longest_draw: Duration,
    quickest: Option<Duration>,
    /// The largest size checked, and the total draw and check times of the cases comparable to it.
    largest: Option<(u64, Duration, Duration)>,
}

/// Sizes within this factor of the largest are comparable (see [`Pace`]).
const COMPARABLE: u64 = 16;

impl Pace {
    fn new(started: Instant) -> Pace {
        Pace { started, longest_draw: Duration::ZERO, quickest: None, largest: None }
    }

    /// A draw took `drew` (checked or skipped).
    fn drew(&mut self, drew: Duration) {
        self.longest_draw = self.longest_draw.max(drew);
    }

    /// A case of `size` took `drew` to draw and `checked` to check.
    fn checked(&mut self, size: u64, drew: Duration, checked: Duration) {
        self.quickest = Some(self.quickest.map_or(checked, |q| q.min(checked)));
        self.largest = match self.largest {
            Some((largest, drawn, spent))
                if size.saturating_mul(COMPARABLE) >= largest && size <= largest.saturating_mul(COMPARABLE) =>
            {
                Some((largest.max(size), drawn + drew, spent + checked))
            }
            Some(kept @ (largest, _, _)) if size < largest => Some(kept),
            _ => Some((size, drew, checked)),
        };
    }

    /// Whether a draw as long as the longest so far would end before `deadline`.
    fn may_draw(&self, now: Instant, deadline: Instant) -> bool {
        now < deadline && now + self.longest_draw + self.quickest.unwrap_or_default() <= deadline
    }

    /// Whether to check a case that took `drew` to draw, at `now`.
    fn next(&self, now: Instant, deadline: Instant, drew: Duration) -> Next {
        let left = deadline.saturating_duration_since(now);
        let fits = match (self.largest, self.quickest) {
            (Some((_, drawn, spent)), Some(quickest)) => {
                let ratio = spent.as_secs_f64() / drawn.as_secs_f64().max(1e-9);
                quickest + drew.mul_f64(ratio) <= left
            }
            _ => {
                let first_half =
                    now.duration_since(self.started) < deadline.saturating_duration_since(self.started) / 2;
                !first_half || drew.saturating_mul(COMPARABLE as u32) <= left
            }
        };
        if fits {
            Next::Check
        } else {
            Next::Skip
        }
    }
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
///
/// Under a deadline the search is paced ([`Pace`]): no draw starts that could not end by the deadline, and a drawn
/// case that is not expected to end by then is skipped (drawn, so later cases keep their indices, but not checked)
/// and the next one drawn. So a search keeps its deadline unless a check takes longer than predicted, or the
/// first case checked alone takes longer than the whole search may.
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
    let mut report = SearchReport { cases: 0, rejects: 0, skipped: 0, stop: Stop::AllCases, found: None };
    let draw = |runner: &mut TestRunner| {
        strategy.new_tree(runner).map_err(|e| SearchError::CannotDraw { reason: e.to_string() })
    };
    for _ in 0..config.start.min(config.cases) {
        draw(&mut runner)?;
    }
    let mut pace = Pace::new(Instant::now());
    while config.start + report.drawn() < config.cases {
        let drawing = Instant::now();
        if config.deadline.is_some_and(|d| !pace.may_draw(drawing, d)) {
            report.stop = Stop::Deadline;
            break;
        }
        let mut tree = draw(&mut runner)?;
        let case = tree.current();
        let checking = Instant::now();
        let drew = checking - drawing;
        pace.drew(drew);
        if config.deadline.is_some_and(|d| pace.next(checking, d, drew) == Next::Skip) {
            report.skipped += 1;
            continue;
        }
        let index = config.start + report.drawn();
        observer.starting(index);
        report.cases += 1;
        let outcome = check(&case);
        pace.checked(observer.size(&case), drew, checking.elapsed());
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

    /// Cases of up to 100,000 values, checked in 1 µs per value (drawing them takes about a tenth of that).
    struct Values;
    impl Observer<Vec<u64>> for Values {
        fn size(&self, case: &Vec<u64>) -> u64 {
            case.len() as u64
        }
    }
    fn slow(case: &Vec<u64>) -> Outcome<()> {
        std::thread::sleep(Duration::from_micros(case.len() as u64));
        Outcome::Pass
    }

    #[test]
    fn a_paced_search_starts_no_check_it_cannot_end_before_its_deadline() {
        let strategy = proptest::collection::vec(proptest::num::u64::ANY, 0..100_000);
        for seed in 0..3 {
            let share = Duration::from_millis(800);
            let start = Instant::now();
            let config = SearchConfig { deadline: Some(start + share), ..SearchConfig::new(100_000, seed) };
            let report = search_observed(&strategy, "paced", &config, slow, &mut Values).unwrap();
            let spent = start.elapsed();
            assert_eq!(report.stop, Stop::Deadline);
            assert!(report.cases >= 5, "seed {seed}: {} cases", report.cases);
            // A check takes up to 100 ms: unpaced, the last one ends on average 50 ms late.
            assert!(spent <= share + Duration::from_millis(20), "seed {seed}: {spent:?} for a share of {share:?}");
        }
    }

    #[test]
    fn a_paced_search_checks_its_first_case_even_when_it_is_longer_than_the_share() {
        let start = Instant::now();
        let config = SearchConfig { deadline: Some(start + Duration::from_millis(5)), ..SearchConfig::new(1000, 1) };
        let strategy = proptest::collection::vec(proptest::num::u64::ANY, 50_000..=50_000);
        let report = search_observed(&strategy, "first", &config, slow, &mut Values).unwrap();
        assert_eq!((report.cases, report.stop), (1, Stop::Deadline));
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A pace started now with a one-second deadline.
    fn one_second() -> (Instant, Instant, Pace) {
        let t0 = Instant::now();
        (t0, t0 + ms(1000), Pace::new(t0))
    }

    #[test]
    fn pace_predicts_a_check_from_its_draw_time_and_the_largest_cases_ratio() {
        let (t0, deadline, mut pace) = one_second();
        pace.checked(1000, ms(1), ms(10)); // 10 ms per ms of draw, 10 ms at least
        assert_eq!(pace.next(t0, deadline, ms(50)), Next::Check); // 10 + 500 ms
        assert_eq!(pace.next(t0, deadline, ms(100)), Next::Skip); // 10 + 1000 ms
        assert_eq!(pace.next(t0 + ms(500), deadline, ms(40)), Next::Check); // 410 ms of 500
        assert_eq!(pace.next(t0 + ms(600), deadline, ms(40)), Next::Skip);
        // A smaller, comparable case with a higher ratio raises it (30 ms of checks over 1.1 ms of draws); a far
        // smaller one changes nothing.
        pace.checked(100, Duration::from_micros(100), ms(20));
        assert_eq!(pace.next(t0, deadline, ms(50)), Next::Skip);
        let mut other = Pace::new(t0);
        other.checked(1000, ms(1), ms(10));
        other.checked(10, Duration::from_micros(1), ms(5));
        assert_eq!(other.next(t0, deadline, ms(50)), Next::Check);
    }

    #[test]
    fn pace_is_pessimistic_after_small_cases_until_larger_ones_ran() {
        let (t0, deadline, mut pace) = one_second();
        // One value: 2 µs to draw, 1 ms to check (fixed costs). A 10 ms draw then predicts 5 s.
        pace.checked(1, Duration::from_micros(2), ms(1));
        assert_eq!(pace.next(t0, deadline, ms(10)), Next::Skip);
        // A case of 100,000 values (more than 16 times larger) replaces that evidence: 2 ms per ms of draw.
        pace.checked(100_000, ms(10), ms(20));
        assert_eq!(pace.next(t0, deadline, ms(10)), Next::Check);
    }

    #[test]
    fn pace_without_evidence_skips_a_long_draw_in_the_first_half_only_and_draws_only_what_fits() {
        let (t0, deadline, mut pace) = one_second();
        assert_eq!(pace.next(t0, deadline, ms(10)), Next::Check);
        assert_eq!(pace.next(t0, deadline, ms(100)), Next::Skip); // 16 × 100 ms > 1 s left
        assert_eq!(pace.next(t0 + ms(600), deadline, ms(100)), Next::Check); // so that one case is checked
        pace.drew(ms(300));
        assert!(pace.may_draw(t0 + ms(700), deadline));
        assert!(!pace.may_draw(t0 + ms(701), deadline));
        assert!(!pace.may_draw(deadline, deadline));
        pace.checked(1, ms(1), ms(100)); // no case checks in under 100 ms
        assert!(pace.may_draw(t0 + ms(600), deadline));
        assert!(!pace.may_draw(t0 + ms(601), deadline));
    }

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
