//! Copying conversions against memcpy, in bytes/s, on the same f32 elements from 4 KiB to 256 MiB: conform's own
//! ([`copy_to_tensor`], [`copy_to_array`]) and tch's (`Tensor::from_slice`, `Tensor::copy_data`), each direction
//! contiguous and strided (every second column of an array twice as wide: the same logical bytes).
//!
//! The reference is `copy_from_slice` of the logical bytes into memory allocated and touched before timing: the
//! fastest a copy can be. A conversion also has to allocate what it returns (`to_vec` is the memcpy that does,
//! listed beside it, and so is that memcpy into memory advised to use huge pages, as conform's conversions do), and
//! libtorch runs on one thread, as `conform run` sets it. Goal (README, "Performance"):
//! contiguous conversions at 1 MiB and above reach 80 % of memcpy's bytes/s.

use std::hint::black_box;
use std::time::Duration;

use conform_properties::convert::{copy_to_array, copy_to_tensor};
use conform_properties::view::advise_huge_pages;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use ndarray::{s, ArrayD, IxDyn};
use tch::{Device, Kind, Tensor};

/// Logical bytes per conversion. The largest are few: each 256 MiB iteration takes tens of milliseconds.
const SIZES: [usize; 5] = [4 << 10, 64 << 10, 1 << 20, 16 << 20, 256 << 20];
/// Columns of the contiguous arrays (the strided ones have twice as many and keep every second).
const COLS: usize = 256;

fn label(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{}MiB", b >> 20),
        b => format!("{}KiB", b >> 10),
    }
}

/// Fewer, shorter samples for the large sizes, so that a whole `cargo bench -- --quick` stays within minutes.
fn sized(group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>, bytes: usize) {
    group.throughput(Throughput::Bytes(bytes as u64));
    if bytes >= 16 << 20 {
        group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    } else {
        group.sample_size(50).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(1));
    }
}

/// f32 values that are not all alike (so no page is shared or compressed away).
fn values(n: usize) -> Vec<f32> {
    (0..n).map(|i| i as f32 * 0.5).collect()
}

fn memcpy(group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>, bytes: usize, src: &[f32]) {
    let mut dst = vec![1f32; src.len()];
    group.bench_function(BenchmarkId::new("memcpy copy_from_slice", label(bytes)), |b| {
        b.iter(|| dst.copy_from_slice(black_box(src)))
    });
    group.bench_function(BenchmarkId::new("alloc+memcpy to_vec", label(bytes)), |b| b.iter(|| black_box(src).to_vec()));
    // What conform's conversions do with the memory they return: huge pages asked for, then one memcpy. The most
    // a conversion into new memory can reach on this machine.
    group.bench_function(BenchmarkId::new("alloc+memcpy huge pages", label(bytes)), |b| {
        b.iter(|| {
            let mut new = Vec::<f32>::with_capacity(src.len());
            advise_huge_pages(new.as_mut_ptr().cast(), size_of_val(src));
            new.extend_from_slice(black_box(src));
            new
        })
    });
}

fn array_to_tensor(c: &mut Criterion) {
    conform_properties::init_libtorch(1);
    let mut group = c.benchmark_group("array to tensor");
    for bytes in SIZES {
        sized(&mut group, bytes);
        let n = bytes / 4;
        let rows = n / COLS;
        let src = values(n);
        memcpy(&mut group, bytes, &src);
        let array = ArrayD::from_shape_vec(IxDyn(&[rows, COLS]), src).unwrap();
        group.bench_function(BenchmarkId::new("conform copy_to_tensor contiguous", label(bytes)), |b| {
            b.iter(|| copy_to_tensor(&black_box(&array).view()).unwrap())
        });
        let slice = array.as_slice().unwrap();
        group.bench_function(BenchmarkId::new("tch from_slice contiguous", label(bytes)), |b| {
            b.iter(|| Tensor::f_from_slice(black_box(slice)).unwrap().f_view([rows as i64, COLS as i64]).unwrap())
        });
        drop(array);
        let wide = ArrayD::from_shape_vec(IxDyn(&[rows, 2 * COLS]), values(2 * n)).unwrap();
        let strided = wide.slice(s![.., ..;2]).into_dyn();
        group.bench_function(BenchmarkId::new("conform copy_to_tensor strided", label(bytes)), |b| {
            b.iter(|| copy_to_tensor(black_box(&strided)).unwrap())
        });
        // tch has no strided array conversion (its TryFrom takes standard layouts only); its way is what
        // `CaseTensor::of` does: the whole storage in one copy, the layout laid over it, then a contiguous copy.
        let storage = wide.as_slice().unwrap();
        group.bench_function(BenchmarkId::new("tch from_slice+as_strided+contiguous strided", label(bytes)), |b| {
            b.iter(|| {
                Tensor::f_from_slice(black_box(storage))
                    .unwrap()
                    .f_as_strided([rows as i64, COLS as i64], [2 * COLS as i64, 2], 0)
                    .unwrap()
                    .f_contiguous()
                    .unwrap()
            })
        });
    }
    group.finish();
}

fn tensor_to_array(c: &mut Criterion) {
    conform_properties::init_libtorch(1);
    let mut group = c.benchmark_group("tensor to array");
    for bytes in SIZES {
        sized(&mut group, bytes);
        let n = bytes / 4;
        let rows = n / COLS;
        let src = values(n);
        memcpy(&mut group, bytes, &src);
        let tensor = Tensor::f_from_slice(&src).unwrap().f_view([rows as i64, COLS as i64]).unwrap();
        drop(src);
        group.bench_function(BenchmarkId::new("conform copy_to_array contiguous", label(bytes)), |b| {
            b.iter(|| copy_to_array::<f32>(black_box(&tensor)).unwrap())
        });
        // tch's copy_data writes into the caller's slice, which is allocated (and touched) once, outside the loop.
        let mut dst = vec![0f32; n];
        group.bench_function(BenchmarkId::new("tch copy_data contiguous", label(bytes)), |b| {
            b.iter(|| black_box(&tensor).f_copy_data(&mut dst, n).unwrap())
        });
        drop(tensor);
        let wide = Tensor::f_zeros([rows as i64, 2 * COLS as i64], (Kind::Float, Device::Cpu)).unwrap();
        let strided = wide.f_slice(1, 0, 2 * COLS as i64, 2).unwrap();
        group.bench_function(BenchmarkId::new("conform copy_to_array strided", label(bytes)), |b| {
            b.iter(|| copy_to_array::<f32>(black_box(&strided)).unwrap())
        });
        group.bench_function(BenchmarkId::new("tch copy_data strided", label(bytes)), |b| {
            b.iter(|| black_box(&strided).f_copy_data(&mut dst, n).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, array_to_tensor, tensor_to_array);
criterion_main!(benches);
