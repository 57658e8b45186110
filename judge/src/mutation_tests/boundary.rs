//! `boundary`: `encode` on exact values, and what `draw_boundary` and `draw_int_edge` promise of many seeded draws:
//! exact ties of the target in every binade and of both signs, ties rounding both ways, steps of ±1, ±2, ±3 and
//! 2^j ± 2 source ulps around them, the overflow threshold and the underflow anchors exactly, specials, plain and
//! random values in their shares, and only valid bit patterns of the source.
//!
//! The distance of a draw from the nearest tie is computed here independently of the generator: the midpoint of two
//! neighbouring target values `a` and `a + 1` is `(2m + 1)·2^(e-1)` for `a = m·2^e` (half the least subnormal for
//! `a = 0`), encoded into the source, and the draw's distance from it in source steps (ulps of the magnitude for
//! floats, units for integers).

use conform_generators::values::special_values;
use conform_generators::{Dtype, FloatFormat};
use proptest::test_runner::{RngAlgorithm, TestRng};

use crate::boundary::{draw_boundary, draw_int_edge, encode};
use crate::oracle::{round, Exact};

fn draws(source: Dtype, target: FloatFormat, n: usize, seed: u8) -> Vec<u64> {
    let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]);
    (0..n).map(|_| draw_boundary(source, target, &mut rng)).collect()
}

/// The midpoint between the target magnitudes `a` and `a + 1`, with a sign.
fn midpoint(target: FloatFormat, a: u64, negative: bool) -> Exact {
    match Exact::of_float(target, a) {
        Exact::Finite { m, e, .. } => Exact::Finite { negative, m: 2 * m + 1, e: e - 1 },
        _ => Exact::Finite { negative, m: 1, e: -target.bias() - target.man_bits as i32 },
    }
}

/// A draw near a tie: `d` source steps from the midpoint above target magnitude `a`.
#[derive(Debug, Clone, Copy)]
struct Near {
    d: i128,
    a: u64,
    negative: bool,
}

/// The nearest of the two midpoints around the draw's correctly rounded target value (`None` for NaN and ±inf).
fn near(source: Dtype, target: FloatFormat, bits: u64) -> Option<Near> {
    let x = Exact::of(source, bits);
    if !matches!(x, Exact::Finite { .. } | Exact::Zero { .. }) {
        return None;
    }
    let negative = x.negative();
    let r = round(target, x).bits & !target.sign_bit();
    let mut best: Option<Near> = None;
    for a in [r.wrapping_sub(1), r] {
        if a >= target.infinity() {
            continue;
        }
        let mid = encode(source, midpoint(target, a, negative));
        let d = match source.float_format() {
            Some(f) => (bits & !f.sign_bit()) as i128 - (mid & !f.sign_bit()) as i128,
            None => source.as_i128(bits) - source.as_i128(mid),
        };
        if best.is_none_or(|b| d.abs() < b.d.abs()) {
            best = Some(Near { d, a, negative });
        }
    }
    best
}

fn count<T>(items: &[T], f: impl Fn(&T) -> bool) -> usize {
    items.iter().filter(|x| f(x)).count()
}

#[test]
fn encode_rounds_floats_and_truncates_and_clamps_integers() {
    let one = Exact::of(Dtype::F64, 1f64.to_bits());
    assert_eq!(encode(Dtype::F16, one), 0x3c00);
    assert_eq!(encode(Dtype::F32, Exact::of(Dtype::F64, 0.1f64.to_bits())), 0.1f32.to_bits() as u64);
    let nan = Exact::Nan { negative: false };
    let inf = |negative| Exact::Inf { negative };
    let f = |x: f64| Exact::of(Dtype::F64, x.to_bits());
    assert_eq!(encode(Dtype::I8, nan), 0, "NaN is 0 in an integer");
    assert_eq!(encode(Dtype::I8, inf(false)), 0x7f);
    assert_eq!(encode(Dtype::I8, inf(true)), 0x80);
    assert_eq!(encode(Dtype::I8, f(-1.0)), 0xff, "two's complement, masked to the width");
    assert_eq!(encode(Dtype::I16, f(-2.75)), 0xfffe, "truncated toward zero");
    assert_eq!(encode(Dtype::I8, f(2.75)), 2);
    assert_eq!(encode(Dtype::I8, f(300.0)), 0x7f);
    assert_eq!(encode(Dtype::I8, f(-300.0)), 0x80);
    assert_eq!(encode(Dtype::I8, f(1e300)), 0x7f, "beyond trunc's range: the sign picks the end");
    assert_eq!(encode(Dtype::I8, f(-1e300)), 0x80);
    assert_eq!(encode(Dtype::U8, f(-0.5)), 0);
    assert_eq!(encode(Dtype::U8, f(-7.0)), 0);
    assert_eq!(encode(Dtype::I64, f(-1.0)), u64::MAX);
    assert_eq!(encode(Dtype::Bool, f(5.0)), 1);
}

/// Every draw is a valid bit pattern of its source (no bits above the width), for every source and target.
#[test]
fn every_draw_fits_its_source() {
    for source in Dtype::ALL {
        for target in Dtype::FLOATS {
            let format = target.float_format().unwrap();
            for bits in draws(source, format, 2_000, 5) {
                assert_eq!(bits & !source.mask(), 0, "{source} aimed at {target}: {bits:#x}");
            }
        }
    }
}

/// f64 → f16: draws step away from ties by -3..=3 source ulps, by 2^j ± 1 (odd, above 3), and by up to 2^23, in
/// both directions and on both signs.
#[test]
fn draws_step_off_ties_by_small_and_large_odd_amounts_both_ways() {
    let (source, target) = (Dtype::F64, FloatFormat::F16);
    let near: Vec<Near> =
        draws(source, target, 20_000, 7).into_iter().filter_map(|b| near(source, target, b)).collect();
    for k in -3..=3 {
        assert!(count(&near, |n| n.d == k) >= 50, "d = {k}: {}", count(&near, |n| n.d == k));
    }
    for k in [-1, 1] {
        for negative in [false, true] {
            assert!(count(&near, |n| n.d == k && n.negative == negative) >= 20, "d = {k}, negative {negative}");
        }
    }
    let odd_large = |n: &Near| n.d.abs() > 3 && n.d.abs() <= 1 << 24 && n.d % 2 != 0;
    assert!(count(&near, |n| odd_large(n) && n.d > 0) >= 50);
    assert!(count(&near, |n| odd_large(n) && n.d < 0) >= 50);
    assert!(count(&near, |n| n.d.abs() >= 1 << 20 && n.d.abs() <= (1 << 23) + 2) >= 20);
    // Steps off ties of every binade, not only off the threshold and the underflow anchors.
    let ordinary = |n: &Near| n.a >= target.min_normal() && n.a < target.max_finite();
    assert!(count(&near, |n| ordinary(n) && n.d != 0 && n.d.abs() <= 1 << 24) >= 1_500, "steps off ordinary ties");
    // Large steps are 2^j + r with 2 <= j < 24 and |r| <= 2.
    for n in near.iter().filter(|n| n.d.abs() > 3 && n.d.abs() <= 1 << 25) {
        let k = n.d.unsigned_abs();
        let p = k.next_power_of_two();
        assert!(p - k <= 2 || k - p / 2 <= 2, "step {k}");
    }
}

/// f64 → f16: a share of the draws are exact ties, in every binade, of both signs, rounding up and down.
#[test]
fn draws_hit_ties_in_every_binade_of_both_signs_rounding_both_ways() {
    let (source, target) = (Dtype::F64, FloatFormat::F16);
    let all = draws(source, target, 20_000, 9);
    let ties: Vec<(u64, Near)> = all
        .iter()
        .filter_map(|&b| near(source, target, b).map(|n| (b, n)))
        .filter(|(_, n)| n.d == 0 && n.a >= target.min_normal() && n.a < target.max_finite())
        .collect();
    assert!(ties.len() >= 2_500, "{} normal ties", ties.len());
    for (b, _) in &ties {
        assert!(round(target, Exact::of(source, *b)).tie);
    }
    let n = ties.len();
    let biased = |a: u64| a >> target.man_bits;
    assert!(count(&ties, |(_, t)| biased(t.a) <= 7) * 10 >= n, "low binades");
    assert!(count(&ties, |(_, t)| biased(t.a) >= 23) * 10 >= n, "high binades");
    assert!(count(&ties, |(_, t)| biased(t.a) == 30) >= 20, "the top binade");
    assert!(count(&ties, |(_, t)| t.negative) * 10 >= n * 3, "negative ties");
    assert!(count(&ties, |(_, t)| !t.negative) * 10 >= n * 3, "positive ties");
    let up = |(b, t): &(u64, Near)| round(target, Exact::of(source, *b)).bits & !target.sign_bit() == t.a + 1;
    assert!(count(&ties, up) * 5 >= n, "ties that round up");
    assert!(count(&ties, |t| !up(t)) * 5 >= n, "ties that round down");
    // Subnormal ties too (the lowest biased exponent).
    assert!(count(&all, |&b| near(source, target, b).is_some_and(|t| t.d == 0 && t.a > 0 && t.a < 0x3ff)) >= 20);
}

/// f64 → f16: the overflow threshold 65520 (max + ½ ulp) exactly, of both signs, and a few ulps around it; the
/// underflow anchors exactly: the least subnormal 2^-24, half of it, the least normal 2^-14 and the midpoint below it.
#[test]
fn draws_hit_the_overflow_threshold_and_the_underflow_anchors_exactly() {
    let (source, target) = (Dtype::F64, FloatFormat::F16);
    let all = draws(source, target, 20_000, 11);
    let exactly = |x: f64| count(&all, |&b| b == x.to_bits());
    for x in [65520.0, 2f64.powi(-24), 2f64.powi(-25), 2f64.powi(-14), 2f64.powi(-14) - 2f64.powi(-25)] {
        assert!(exactly(x) >= 20, "{x:e}: {}", exactly(x));
        assert!(exactly(-x) >= 20, "{:e}: {}", -x, exactly(-x));
    }
    let near: Vec<Near> = all.iter().filter_map(|&b| near(source, target, b)).collect();
    for negative in [false, true] {
        let around =
            count(&near, |n| n.a == target.max_finite() && n.negative == negative && (1..=3).contains(&n.d.abs()));
        assert!(around >= 10, "around the threshold, negative {negative}: {around}");
    }
}

/// f64 → f16: a share of specials (arm 0 and draw_mixed's quarter), of exact target values, of draw_mixed's plain
/// numbers near 1, and of uniformly random bits (mostly far outside f16's range).
#[test]
fn draws_keep_their_shares_of_specials_exact_plain_and_random_values() {
    let (source, target) = (Dtype::F64, FloatFormat::F16);
    let all = draws(source, target, 20_000, 13);
    let specials = special_values(source);
    let special = count(&all, |b| specials.contains(b));
    assert!(special >= 1_000, "{special} specials");
    let exact = count(&all, |&b| {
        let r = round(target, Exact::of(source, b));
        let m = r.bits & !target.sign_bit();
        r.exact && !specials.contains(&b) && m > target.min_normal() && m < target.max_finite()
    });
    assert!(exact >= 1_000, "{exact} exact f16 values");
    let plain = count(&all, |&b| {
        let x = f64::from_bits(b).abs();
        (2f64.powi(-6)..2f64.powi(7)).contains(&x)
            && !round(target, Exact::of(source, b)).exact
            && near(source, target, b).is_some_and(|n| n.d.abs() > 1 << 30)
    });
    assert!(plain >= 100, "{plain} plain values near 1");
    let random = count(&all, |&b| {
        let x = f64::from_bits(b).abs();
        x.is_finite() && (x > 2f64.powi(100) || (x > 0.0 && x < 2f64.powi(-100)))
    });
    assert!(random >= 1_600, "{random} random values far out of range");
}

/// Integer sources: steps of ±1 around ties (i64 → f32, where f32's grid is coarser than 128 above 2^30), target
/// values clamped to the target's top finite binade (i64 → f16), signed values of both signs across the binades the
/// source holds (i16 → f32), and i32's minimum reached only by the top binade of i32 (exponents 0..=31, not beyond:
/// a share of 1/32 of the target values, clamped).
#[test]
fn integer_sources_step_by_one_keep_their_signs_and_their_binades() {
    let (source, target) = (Dtype::I64, FloatFormat::F32);
    let near: Vec<Near> = draws(source, target, 20_000, 15)
        .into_iter()
        .filter(|&b| source.as_i128(b).unsigned_abs() >= 1 << 30)
        .filter_map(|b| near(source, target, b))
        .collect();
    for k in [-1, 0, 1] {
        assert!(count(&near, |n| n.d == k) >= 20, "i64 d = {k}: {}", count(&near, |n| n.d == k));
    }
    // i64 → f16: exponents beyond f16's clamp to its top finite binade, [32768, 65504] in steps of 32; most of the
    // target values (arms 3 and 4: 1/8 of the draws, 49/64 of them) are there, exact, of either sign. Midpoints
    // there are odd multiples of 16, and only a step of ±16 takes one back onto the grid.
    let (source, target) = (Dtype::I64, FloatFormat::F16);
    let top = count(&draws(source, target, 20_000, 16), |&b| {
        let v = source.as_i128(b).abs();
        (32_768..=65_504).contains(&v) && v % 32 == 0
    });
    assert!(top >= 1_000, "{top} i64 draws on f16's top binade");
    let (source, target) = (Dtype::I16, FloatFormat::F32);
    let values: Vec<i128> = draws(source, target, 20_000, 17).into_iter().map(|b| source.as_i128(b)).collect();
    let mid = |v: &i128| (1 << 8..1 << 14).contains(&v.unsigned_abs());
    assert!(count(&values, |v| mid(v) && *v > 0) >= 1_500, "positive i16 values in [2^8, 2^14)");
    assert!(count(&values, |v| mid(v) && *v < 0) >= 1_500, "negative i16 values in [2^8, 2^14)");
    // i32 → f32 draws at i32's minimum: the specials (1/16 · 1/5 + 1/64 · 1/5 of the draws) and the negative
    // target values of the top binade, clamped (1/2 · 1/32 of target values, which make 5/16 of the draws plus
    // 3/16 nudged by k <= 0, about 17/32 of them): 0.0220·n in all. One binade more (exponents 0..=32) would make
    // it 0.0281·n; the bounds sit about 8 standard deviations from each.
    let (source, target) = (Dtype::I32, FloatFormat::F32);
    let n = 200_000;
    let min = count(&draws(source, target, n, 19), |&b| b == 0x8000_0000);
    assert!((3_900..5_000).contains(&min), "{min} of {n} draws at i32's minimum");
}

/// f16 aimed at f32: the underflow anchors are all 0 in f16 and the overflow threshold is +inf, so the negated half
/// of those draws is what gives -0 and -inf their share; every other way to ±0 and ±inf (target values beyond f16's
/// range, specials) is symmetric in the sign. So -0 is about as frequent as +0, and -inf as +inf.
#[test]
fn negated_zero_and_infinity_draws_keep_their_sign() {
    let all = draws(Dtype::F16, FloatFormat::F32, 40_000, 21);
    let (zero, neg_zero) = (count(&all, |&b| b == 0), count(&all, |&b| b == 0x8000));
    let (inf, neg_inf) = (count(&all, |&b| b == 0x7c00), count(&all, |&b| b == 0xfc00));
    assert!(zero >= 2_000 && inf >= 2_000, "+0: {zero}, +inf: {inf}");
    assert!(neg_zero * 10 >= zero * 8 && zero * 10 >= neg_zero * 8, "+0: {zero}, -0: {neg_zero}");
    assert!(neg_inf * 10 >= inf * 8 && inf * 10 >= neg_inf * 8, "+inf: {inf}, -inf: {neg_inf}");
}

/// f64 → i8: every quarter step within 2 of i8's minimum, maximum and 0 is drawn, and 0 with both signs.
#[test]
fn int_edges_cover_every_quarter_around_each_anchor() {
    let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[23; 32]);
    let all: Vec<u64> = (0..8_000).map(|_| draw_int_edge(Dtype::F64, Dtype::I8, &mut rng)).collect();
    for anchor in [-128.0, 127.0, 0.0] {
        for q in -8..=8 {
            let x: f64 = anchor + q as f64 / 4.0;
            assert!(all.contains(&x.to_bits()), "{x}");
        }
    }
    assert!(all.contains(&(-0f64).to_bits()));
    // Only the anchors' quarters, or draw_mixed (a quarter of the draws).
    let quarters = count(&all, |&b| {
        let x = f64::from_bits(b);
        [-128.0, 127.0, 0.0].iter().any(|a| (x - a).abs() <= 2.0 && (x * 4.0).fract() == 0.0)
    });
    assert!(quarters >= 5_500, "{quarters}");
    let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[25; 32]);
    let u8s: Vec<u64> = (0..4_000).map(|_| draw_int_edge(Dtype::F32, Dtype::U8, &mut rng)).collect();
    for x in [255.5f32, 253.0, 257.0, -2.0, 0.25] {
        assert!(u8s.contains(&(x.to_bits() as u64)), "{x}");
    }
}
