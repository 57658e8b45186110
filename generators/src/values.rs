//! Element values: the special values of each dtype, the default mixed distribution, and shrink candidates.
//!
//! Values shrink toward 0: first 0 itself, then the same magnitude with a positive sign, then the magnitude with one
//! set bit cleared (so a pattern in the low bits survives), then smaller magnitudes by bisection on the raw bits.
//! For floats a smaller magnitude field is a smaller number, so NaNs shrink toward the signalling NaN with payload 1
//! only while the predicate still needs a NaN.

use proptest::test_runner::TestRng;
use rand::RngExt;

use crate::dtype::Dtype;

/// The values every dtype is tried on: for floats ±0, ±inf, quiet and signalling NaNs of both signs with varied
/// payloads, the extreme subnormals, the smallest normal, the largest finite and ±1; for integers 0, ±1, min, max.
pub fn special_values(dtype: Dtype) -> Vec<u64> {
    if let Some(f) = dtype.float_format() {
        let one = (f.bias() as u64) << f.man_bits;
        let positive = [
            0,
            f.infinity(),
            f.infinity() | f.quiet_bit(),
            f.infinity() | f.quiet_bit() | 1,
            f.infinity() | f.man_mask(),
            f.infinity() | 1,
            f.infinity() | (f.quiet_bit() - 1),
            1,
            f.man_mask(),
            f.min_normal(),
            f.max_finite(),
            one,
        ];
        return positive.iter().flat_map(|&b| [b, b | f.sign_bit()]).collect();
    }
    match dtype {
        Dtype::Bool => vec![0, 1],
        _ if dtype.is_signed_int() => {
            let min = 1u64 << (dtype.width() - 1);
            vec![0, 1, dtype.mask(), min, min - 1]
        }
        _ => vec![0, 1, dtype.mask()],
    }
}

/// The bits reserved for storage elements no logical index addresses: all ones (a negative NaN with a full payload
/// for floats, -1 or the maximum for integers, `true` for bool), so a read from the wrong place shows.
pub fn filler(dtype: Dtype) -> u64 {
    dtype.mask()
}

/// The default value distribution: a quarter special values, the rest half uniformly random bits and half plain
/// numbers (floats near 1 in magnitude, small integers).
pub fn draw_mixed(dtype: Dtype, rng: &mut TestRng) -> u64 {
    match rng.random_range(0..4u32) {
        0 => {
            let specials = special_values(dtype);
            specials[rng.random_range(0..specials.len())]
        }
        1 | 2 if dtype != Dtype::Bool && rng.random_bool(0.5) => plain(dtype, rng),
        _ => rng.random::<u64>() & dtype.mask(),
    }
}

fn plain(dtype: Dtype, rng: &mut TestRng) -> u64 {
    match dtype.float_format() {
        Some(f) => {
            let exponent = (f.bias() + rng.random_range(-6..=6)) as u64;
            let sign = if rng.random_bool(0.5) { f.sign_bit() } else { 0 };
            sign | exponent << f.man_bits | (rng.random::<u64>() & f.man_mask())
        }
        None => (rng.random_range(-100i64..=100) as u64) & dtype.mask(),
    }
}

/// Simpler values to try in place of `bits`, simplest first; none equals `bits`.
pub fn simpler(dtype: Dtype, bits: u64) -> Vec<u64> {
    let (sign, magnitude) = match dtype.float_format() {
        Some(f) => (bits & f.sign_bit(), bits & !f.sign_bit()),
        None if dtype.is_signed_int() => {
            let v = dtype.as_i128(bits);
            (if v < 0 { 1 } else { 0 }, v.unsigned_abs() as u64)
        }
        None => (0, bits),
    };
    let signed = |m: u64| -> u64 {
        match dtype.float_format() {
            Some(_) => sign | m,
            None if sign != 0 => (m as i64).wrapping_neg() as u64 & dtype.mask(),
            None => m,
        }
    };
    let mut out = vec![0];
    if sign != 0 {
        // The positive value of the same magnitude (for i8's -128 the magnitude does not fit and is skipped).
        let positive = if dtype.is_float() { magnitude } else { magnitude & (dtype.mask() >> 1) };
        if positive == magnitude {
            out.push(positive);
        }
    }
    // Clearing one set bit keeps the others: a tie pattern in the low bits survives while the high bits go.
    for bit in (0..64).rev().filter(|&b| magnitude >> b & 1 == 1) {
        out.push(signed(magnitude & !(1 << bit)));
    }
    let mut shift = 1;
    while shift < 64 && magnitude >> shift > 0 {
        out.push(signed(magnitude - (magnitude >> shift)));
        shift += 1;
    }
    if magnitude > 0 {
        out.push(signed(magnitude - 1));
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|&c| c != bits && seen.insert(c));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specials_fit_their_dtype_and_cover_nan_kinds() {
        for d in Dtype::ALL {
            assert!(special_values(d).iter().all(|&b| b & !d.mask() == 0), "{d}");
        }
        let f16 = special_values(Dtype::F16);
        for bits in [0x8000, 0x7e00, 0xfe00, 0x7c01, 0x7dff, 0x0001, 0x03ff, 0x0400, 0x7bff, 0xfc00] {
            assert!(f16.contains(&bits), "{bits:#x}");
        }
        assert_eq!(special_values(Dtype::I8), vec![0, 1, 0xff, 0x80, 0x7f]);
    }

    #[test]
    fn simpler_values_move_toward_zero() {
        assert_eq!(simpler(Dtype::U8, 8), vec![0, 4, 6, 7]);
        assert_eq!(simpler(Dtype::I8, 0xf8), vec![0, 8, 0xfc, 0xfa, 0xf9]); // -8: 0, 8, -4, -6, -7
        assert_eq!(simpler(Dtype::I8, 0x80)[0], 0);
        assert_eq!(simpler(Dtype::F16, 0x8000), vec![0]);
        assert!(simpler(Dtype::F32, 0).is_empty());
        assert!(simpler(Dtype::Bool, 1) == vec![0]);
        for d in Dtype::ALL {
            for b in special_values(d) {
                assert!(simpler(d, b).iter().all(|&c| c & !d.mask() == 0 && c != b), "{d} {b:#x}");
            }
        }
    }
}
