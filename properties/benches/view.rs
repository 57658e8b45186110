//! Creating a zero-copy view ([`SharedBuffer::tensor`]: layout validation, then libtorch's `as_strided`) over an
//! existing buffer of 1 KiB and of 1 GiB, contiguous and transposed. Filling the buffer is a copy and happens once,
//! before timing; what is timed must not depend on the buffer's size. Goal (README, "Performance"): the 1 GiB view
//! costs at most 2× the 1 KiB one.

use std::hint::black_box;
use std::time::Duration;

use conform_generators::{Dtype, Layout};
use conform_properties::view::SharedBuffer;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// (label, rows, columns) of f64 elements: 8 × 16 × 8 B = 1 KiB; 2^13 × 2^14 × 8 B = 1 GiB.
const SIZES: [(&str, usize, usize); 2] = [("1KiB", 8, 16), ("1GiB", 1 << 13, 1 << 14)];

fn views(c: &mut Criterion) {
    conform_properties::init_libtorch(1);
    let mut group = c.benchmark_group("view creation");
    group.throughput(Throughput::Elements(1));
    group.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(1));
    for (label, rows, cols) in SIZES {
        let buffer = {
            let storage = vec![0x3ff0_0000_0000_0000u64; rows * cols];
            SharedBuffer::new(Dtype::F64, &storage).expect("the buffer")
        };
        let contiguous = Layout::contiguous(&[rows, cols]);
        let transposed = Layout { shape: vec![cols, rows], strides: vec![1, cols as isize], offset: 0 };
        for (name, layout) in [("contiguous", contiguous), ("transposed", transposed)] {
            group.bench_with_input(BenchmarkId::new(name, label), &layout, |b, layout| {
                b.iter(|| buffer.tensor(black_box(layout)).expect("a valid layout"))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, views);
criterion_main!(benches);
