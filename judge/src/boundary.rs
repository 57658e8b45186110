//! Boundary-seeking value distributions for the cast family: for a source dtype and a target float format, values
//! exactly representable in the target, midpoints between target neighbours, midpoints ± k source ulps (k small and
//! large), values around the overflow threshold, the smallest subnormal and the smallest normal, plus plain random
//! and special values. Uniform random bits would almost never land on a tie; these land on one every few draws.
//!
//! Values are built as exact `±m·2^e` and encoded into the source format with the exact oracle (for integers:
//! truncated and clamped), so every drawn bit pattern is valid for the source dtype.

use conform_generators::values::{draw_mixed, special_values};
use conform_generators::{Dtype, FloatFormat};
use proptest::test_runner::TestRng;
use rand::RngExt;

use crate::oracle::{int_range, round, trunc, Exact};

/// Encodes an exact value into `dtype` (rounded to nearest for floats, truncated and clamped for integers).
pub fn encode(dtype: Dtype, x: Exact) -> u64 {
    match dtype.float_format() {
        Some(f) => round(f, x).bits,
        None => {
            let (lo, hi) = int_range(dtype);
            let v = match x {
                Exact::Nan { .. } => 0,
                Exact::Inf { negative } => {
                    if negative {
                        lo
                    } else {
                        hi
                    }
                }
                _ => trunc(x).unwrap_or(if x.negative() { lo } else { hi }).clamp(lo, hi),
            };
            (v as u64) & dtype.mask()
        }
    }
}

/// Moves `bits` by `k` steps of the source format (ulps for floats, units for integers), keeping the sign.
fn nudge(dtype: Dtype, bits: u64, k: i64) -> u64 {
    match dtype.float_format() {
        Some(f) => {
            let sign = bits & f.sign_bit();
            let magnitude = (bits & !f.sign_bit()) as i64;
            let moved = (magnitude + k).clamp(0, f.infinity() as i64);
            sign | moved as u64
        }
        None => {
            let (lo, hi) = int_range(dtype);
            ((dtype.as_i128(bits) + k as i128).clamp(lo, hi) as u64) & dtype.mask()
        }
    }
}

/// A random finite target value; for integer sources, with an exponent the source can hold.
fn target_value(source: Dtype, target: FloatFormat, rng: &mut TestRng) -> Exact {
    let sign = if rng.random_bool(0.5) { target.sign_bit() } else { 0 };
    let max_biased = (1u64 << target.exp_bits) - 2;
    let biased = if source.is_float() {
        rng.random_range(0..=max_biased)
    } else {
        // Exponents 0 .. width-1 of the integer, as biased target exponents (clamped to the target's range).
        let top = source.width() as i64 - 1;
        (rng.random_range(0..=top) + target.bias() as i64).clamp(1, max_biased as i64) as u64
    };
    let sign = if !source.is_float() && !source.is_signed_int() { 0 } else { sign };
    Exact::of_float(target, sign | biased << target.man_bits | (rng.random::<u64>() & target.man_mask()))
}

/// The point halfway between `x` (a target value) and its neighbour away from zero.
fn midpoint_after(target: FloatFormat, x: Exact) -> Exact {
    match x {
        Exact::Finite { negative, m, e } => Exact::Finite { negative, m: 2 * m + 1, e: e - 1 },
        other => Exact::Finite { negative: other.negative(), m: 1, e: 1 - target.bias() - target.man_bits as i32 - 1 },
    }
}

fn steps(rng: &mut TestRng) -> i64 {
    let k = if rng.random_bool(0.5) {
        rng.random_range(0..=3)
    } else {
        (1i64 << rng.random_range(2..24)) + rng.random_range(-2..=2)
    };
    if rng.random_bool(0.5) {
        k
    } else {
        -k
    }
}

/// One value of `source` near a rounding boundary of `target`.
pub fn draw_boundary(source: Dtype, target: FloatFormat, rng: &mut TestRng) -> u64 {
    let at = |x: Exact| encode(source, x);
    let t = |bits: u64| Exact::of_float(target, bits);
    match rng.random_range(0..16u32) {
        0 => {
            let specials = special_values(source);
            specials[rng.random_range(0..specials.len())]
        }
        1 => rng.random::<u64>() & source.mask(),
        2 => draw_mixed(source, rng),
        3 | 4 => at(target_value(source, target, rng)),
        5..=7 => at(midpoint_after(target, target_value(source, target, rng))),
        8..=10 => {
            let mid = at(midpoint_after(target, target_value(source, target, rng)));
            nudge(source, mid, steps(rng))
        }
        11 | 12 => {
            // The overflow threshold: the largest finite target value plus half an ulp, and around it.
            let threshold = at(midpoint_after(target, t(target.max_finite())));
            let bits = nudge(source, threshold, if rng.random_bool(0.3) { 0 } else { steps(rng) });
            if rng.random_bool(0.5) {
                bits
            } else {
                at(negate(Exact::of(source, bits)))
            }
        }
        _ => {
            // Underflow: around the smallest subnormal, half of it, and the smallest normal.
            let anchor = match rng.random_range(0..4) {
                0 => t(1),
                1 => midpoint_after(target, Exact::Zero { negative: false }),
                2 => t(target.min_normal()),
                _ => midpoint_after(target, t(target.min_normal() - 1)),
            };
            let bits = nudge(source, at(anchor), if rng.random_bool(0.3) { 0 } else { steps(rng) });
            if rng.random_bool(0.5) {
                bits
            } else {
                at(negate(Exact::of(source, bits)))
            }
        }
    }
}

fn negate(x: Exact) -> Exact {
    match x {
        Exact::Nan { negative } => Exact::Nan { negative: !negative },
        Exact::Inf { negative } => Exact::Inf { negative: !negative },
        Exact::Zero { negative } => Exact::Zero { negative: !negative },
        Exact::Finite { negative, m, e } => Exact::Finite { negative: !negative, m, e },
    }
}

/// One value of a float `source` near the edges of integer `target`'s range (±0.5, ±1 around min, max and 0),
/// or a plain value.
pub fn draw_int_edge(source: Dtype, target: Dtype, rng: &mut TestRng) -> u64 {
    let (lo, hi) = int_range(target);
    let anchor = match rng.random_range(0..4) {
        0 => lo,
        1 => hi,
        2 => 0,
        _ => return draw_mixed(source, rng),
    };
    // anchor + offset/4 for offset in -8..=8: integers and quarter steps around the anchor.
    let quarters = anchor * 4 + rng.random_range(-8i128..=8);
    let x = match quarters {
        0 => Exact::Zero { negative: rng.random_bool(0.5) },
        q => Exact::Finite { negative: q < 0, m: q.unsigned_abs(), e: -2 },
    };
    encode(source, x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::RngAlgorithm;

    #[test]
    fn boundary_draws_hit_ties_often() {
        let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[3; 32]);
        for (source, target) in
            [(Dtype::F64, FloatFormat::F16), (Dtype::F32, FloatFormat::BF16), (Dtype::I64, FloatFormat::F32)]
        {
            let ties = (0..10_000)
                .filter(|_| round(target, Exact::of(source, draw_boundary(source, target, &mut rng))).tie)
                .count();
            assert!(ties > 1000, "{source}→{target:?}: {ties} ties in 10000 draws");
        }
    }

    #[test]
    fn int_edges_straddle_the_range() {
        let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[4; 32]);
        let values: Vec<f64> =
            (0..2000).map(|_| f64::from_bits(draw_int_edge(Dtype::F64, Dtype::I8, &mut rng))).collect();
        assert!(values.contains(&127.5) && values.contains(&-128.75) && values.contains(&128.0));
    }
}
