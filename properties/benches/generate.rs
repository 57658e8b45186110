//! Case generation and shrinking per family, at the default size (`CONFORM_MAX_NUMEL` 64): each iteration draws one
//! case from every property of the family, in cases/s; and shrinks one drawn case of every property of the family
//! to its minimum under a check that always fails (the longest descent the value tree has), in shrink steps/s.
//! No libtorch call runs here: generation never uses libtorch.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use conform_generators::search::{rng, shrink_tree, tree_at, Outcome, SearchConfig};
use conform_generators::DEFAULT_MAX_NUMEL;
use conform_properties::{registry, Property};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, TestRunner};

const SEED: u64 = 20261128;

/// The registry's properties by family, in registry order.
fn families() -> BTreeMap<&'static str, Vec<Property>> {
    let mut by_family: BTreeMap<&'static str, Vec<Property>> = BTreeMap::new();
    for p in registry() {
        by_family.entry(p.family.name()).or_default().push(p);
    }
    by_family
}

fn generation(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate");
    group.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(1));
    for (family, properties) in families() {
        let strategies: Vec<_> = properties.iter().map(|p| (p.space)(DEFAULT_MAX_NUMEL)).collect();
        let mut runners: Vec<TestRunner> =
            properties.iter().map(|p| TestRunner::new_with_rng(Config::default(), rng(SEED, p.name))).collect();
        group.throughput(Throughput::Elements(strategies.len() as u64));
        group.bench_function(BenchmarkId::new("cases", family), |b| {
            b.iter(|| {
                for (strategy, runner) in strategies.iter().zip(&mut runners) {
                    black_box(strategy.new_tree(runner).expect("a case").current());
                }
            })
        });
    }
    group.finish();
}

fn shrinking(c: &mut Criterion) {
    let mut group = c.benchmark_group("shrink");
    group.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(1));
    let config = SearchConfig::new(1, SEED);
    let always_fails = |_: &conform_generators::Case| Outcome::Fail(());
    for (family, properties) in families() {
        let strategies: Vec<_> = properties.iter().map(|p| ((p.space)(DEFAULT_MAX_NUMEL), p.name)).collect();
        let trees =
            || -> Vec<_> { strategies.iter().map(|(s, name)| tree_at(s, SEED, name, 0).expect("a case")).collect() };
        // The descent is deterministic: count its steps once, for the throughput.
        let steps: u64 =
            trees().iter_mut().map(|t| u64::from(shrink_tree(t, (), &config, always_fails).shrink_steps)).sum();
        group.throughput(Throughput::Elements(steps.max(1)));
        group.bench_function(BenchmarkId::new("steps", family), |b| {
            b.iter_batched(
                trees,
                |mut trees| {
                    for tree in &mut trees {
                        black_box(shrink_tree(tree, (), &config, always_fails));
                    }
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, generation, shrinking);
criterion_main!(benches);
