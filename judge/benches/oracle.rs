//! The exact oracle's throughput, f64 → f32: [`cast_float`] (integer arithmetic from the bits) in values/s against
//! the hardware conversion (`as`, what the oracle must never call) and against rustc_apfloat's `convert` (LLVM's
//! APFloat in Rust, the second, independent oracle of `tests/apfloat.rs`), on the same values, one core.
//!
//! The values are what the casts family draws most: finite f64s across f32's whole range (normals, subnormals, past
//! the overflow threshold), with exact ties and a few specials mixed in, so no branch is always predicted.
//! Goal (README, "Performance"): the oracle judges at least 20 million values/s.

use std::hint::black_box;
use std::time::Duration;

use conform_generators::Dtype;
use conform_judge::oracle::cast_float;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rustc_apfloat::ieee::{Double, Single};
use rustc_apfloat::{Float, FloatConvert};

/// Values per iteration: enough to amortise the loop, few enough to stay in L1/L2.
const N: usize = 4096;

/// f64 bit patterns: a fixed xorshift stream mapped onto f32's exponent range and beyond, every 16th an exact
/// f32 tie (a midpoint between two f32 neighbours) and every 64th a special (±0, ±inf, NaN).
fn values() -> Vec<u64> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..N)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let sign = state & (1 << 63);
            // f64 biased exponents 1023 ± 160 cover f32 normals (±126), subnormals (down to -149) and overflow.
            let exponent = 1023 - 160 + (state >> 20) % 320;
            let mantissa = state & ((1 << 52) - 1);
            match i % 64 {
                0 => [0, 1 << 63, 0x7ff0_0000_0000_0000, 0xfff0_0000_0000_0000, 0x7ff8_0000_0000_0001][i / 64 % 5],
                k if k % 16 == 1 => sign | exponent << 52 | (mantissa & !((1 << 29) - 1)) | 1 << 28,
                _ => sign | exponent << 52 | mantissa,
            }
        })
        .collect()
}

fn oracle(c: &mut Criterion) {
    let xs = values();
    let mut group = c.benchmark_group("oracle f64→f32");
    group.throughput(Throughput::Elements(N as u64));
    group.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    group.bench_function("conform cast_float", |b| {
        b.iter(|| black_box(&xs).iter().fold(0u64, |acc, &x| acc ^ cast_float(Dtype::F64, x, Dtype::F32).bits))
    });
    group.bench_function("hardware as", |b| {
        b.iter(|| black_box(&xs).iter().fold(0u64, |acc, &x| acc ^ u64::from((f64::from_bits(x) as f32).to_bits())))
    });
    group.bench_function("rustc_apfloat convert", |b| {
        b.iter(|| {
            black_box(&xs).iter().fold(0u64, |acc, &x| {
                let single: Single = Double::from_bits(u128::from(x)).convert(&mut false).value;
                acc ^ single.to_bits() as u64
            })
        })
    });
    group.finish();
}

criterion_group!(benches, oracle);
criterion_main!(benches);
