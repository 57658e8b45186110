//! conform's exact conversion oracle (`conform_judge::oracle`) checked against a second, independent one:
//! `rustc_apfloat`, a pure-Rust port of LLVM's APFloat (REFERENCES.md, "An independent IEEE oracle").
//!
//! Invariant: for every compared input, both oracles agree on
//! - float targets (f16, bf16, f32, f64), rounding to nearest with ties to even (`convert_r`, `from_i128_r`,
//!   `from_u128_r`): the result bits (so overflow to ±inf and the sign of zero exactly), `exact` (apfloat: no
//!   INEXACT), `overflow` (apfloat: OVERFLOW), `tie` and `other` (apfloat: the value equals the midpoint of its
//!   toward-zero and away-from-zero roundings, computed exactly in `Quad`, and `other` is the rounding not chosen).
//!   A NaN result is compared by NaN-ness only: apfloat quiets a signalling NaN and may drop payload bits.
//!   This comparison found that the oracle said `exact` and `tie` for values past the overflow threshold (65536
//!   and 65760 → f16); `oracle::round` was fixed and every field is now compared strictly.
//! - integer targets (u8, i8, i16, i32, i64), truncation toward zero: whether the value is representable
//!   (conform: `trunc` is `Some` and inside `int_range`; apfloat: `to_i128_r`/`to_u128_r` with `TowardZero` do not
//!   report INVALID_OP, which they do for NaN, ±inf and out-of-range values) and, if it is, the integer.
//!
//! What is compared:
//! - exhaustively, every f16 and every bf16 bit pattern into every float and every integer target, and every u8, i8
//!   and i16 value into every float target;
//! - sampled, f32, f64, i32 and i64 sources into every float target, and f32 and f64 into every integer target:
//!   half the values from conform's own boundary generators (`boundary::draw_boundary` for float targets,
//!   `boundary::draw_int_edge` for integer targets: ties, midpoints ± a few ulps, overflow thresholds, subnormals),
//!   half uniform random bits. Plain `cargo test` draws 200,000 values per (source, target) pair (the whole file runs
//!   in seconds); `CONFORM_APFLOAT_FULL=1` draws 3,000,000 per pair, i.e. 12 million per float target across the four
//!   sampled sources:
//!   `CONFORM_APFLOAT_FULL=1 cargo test -p conform-judge --release --test apfloat`.
//!   Any other value than unset, `0` or `1` is an error. The draws are seeded, so a run is reproducible.
//!
//! Every test prints how many values it compared. A failure collects up to 10 mismatches (and counts all of them)
//! before it fails, each naming the source dtype, the target, the input bits and both oracles' answers, so a run
//! shows a pattern rather than the first case only. The comparisons take conform's side as a parameter, and the
//! `planted_*` tests hand them deliberately wrong oracles to prove that they report a mismatch.

use std::fmt::Write as _;

use conform_generators::Dtype;
use conform_judge::boundary::{draw_boundary, draw_int_edge};
use conform_judge::oracle::{cast_float, int_range, trunc, Exact, Rounded};
use proptest::test_runner::{RngAlgorithm, TestRng};
use rand::RngExt;
use rustc_apfloat::ieee::{BFloat, Double, Half, Quad, Single};
use rustc_apfloat::{Float, FloatConvert, Round, Status, StatusAnd};

/// Conform's side of a float comparison: the correctly rounded cast of `bits` of `from` into `to`.
type FloatOracle = fn(Dtype, u64, Dtype) -> Rounded;
/// Conform's side of an integer comparison: the value of `bits` of `from` truncated toward zero, if `to` holds it.
type IntOracle = fn(Dtype, u64, Dtype) -> Option<i128>;

const INT_TARGETS: [Dtype; 5] = [Dtype::U8, Dtype::I8, Dtype::I16, Dtype::I32, Dtype::I64];
/// How many mismatches a failure message lists (all of them are counted).
const SHOWN: usize = 10;

fn conform_trunc(from: Dtype, bits: u64, to: Dtype) -> Option<i128> {
    let (lo, hi) = int_range(to);
    trunc(Exact::of(from, bits)).filter(|v| (lo..=hi).contains(v))
}

/// Values per sampled (source, target) pair: 200,000, or 3,000,000 under `CONFORM_APFLOAT_FULL=1`.
fn sampled_per_pair() -> u64 {
    match std::env::var("CONFORM_APFLOAT_FULL") {
        Err(std::env::VarError::NotPresent) => 200_000,
        Ok(v) if v == "0" => 200_000,
        Ok(v) if v == "1" => 3_000_000,
        Ok(v) => panic!("CONFORM_APFLOAT_FULL={v:?} is neither 0 nor 1"),
        Err(e) => panic!("CONFORM_APFLOAT_FULL is not valid unicode: {e}"),
    }
}

/// What apfloat says about one conversion into a float format.
#[derive(Debug, Clone, Copy)]
struct Apf {
    bits: u64,
    nan: bool,
    status: Status,
    tie: bool,
    other: u64,
}

/// The comparisons' tally: how many values were compared, how many disagreed, and the first few messages.
#[derive(Debug, Default)]
struct Mismatches {
    compared: u64,
    total: u64,
    shown: Vec<String>,
}

impl Mismatches {
    fn record(&mut self, message: Option<String>) {
        self.compared += 1;
        if let Some(m) = message {
            self.total += 1;
            if self.shown.len() < SHOWN {
                self.shown.push(m);
            }
        }
    }

    fn merge(&mut self, other: Mismatches) {
        self.compared += other.compared;
        self.total += other.total;
        self.shown.extend(other.shown.into_iter().take(SHOWN - self.shown.len().min(SHOWN)));
    }

    /// Prints the count and fails with the collected mismatches, if any.
    fn finish(self, what: &str) {
        let Mismatches { compared, total, shown } = self;
        eprintln!("{what}: compared {compared} values with apfloat, {total} mismatches");
        assert!(compared > 0, "{what}: compared nothing");
        let mut list = String::new();
        for m in &shown {
            let _ = writeln!(list, "  {m}");
        }
        assert!(
            total == 0,
            "{what}: {total} of {compared} values disagree with apfloat; the first {}:\n{list}",
            shown.len()
        );
    }
}

/// Calls `$body` with `$T` the apfloat type of float dtype `$dtype`.
macro_rules! with_ieee {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            Dtype::F16 => {
                type $T = Half;
                $body
            }
            Dtype::Bf16 => {
                type $T = BFloat;
                $body
            }
            Dtype::F32 => {
                type $T = Single;
                $body
            }
            Dtype::F64 => {
                type $T = Double;
                $body
            }
            other => unreachable!("{other} is not a float dtype"),
        }
    };
}

fn to_quad<T: Float + FloatConvert<Quad>>(x: T) -> Quad {
    let mut loses_info = false;
    let q = x.convert_r(Round::NearestTiesToEven, &mut loses_info).value;
    assert!(!loses_info || x.is_nan(), "{x} does not widen exactly to Quad");
    q
}

/// apfloat's rounding of the value `exact` (held exactly in `Quad`) into `T`, where `conv(mode)` is apfloat's own
/// conversion of the source in rounding mode `mode`.
fn apfloat_round<T: Float + FloatConvert<Quad>>(exact: Quad, conv: impl Fn(Round) -> StatusAnd<T>) -> Apf {
    let StatusAnd { status, value } = conv(Round::NearestTiesToEven);
    let bits = value.to_bits() as u64;
    if value.is_nan() || exact.is_nan() {
        return Apf { bits, nan: value.is_nan(), status, tie: false, other: bits };
    }
    let toward_zero = conv(Round::TowardZero).value;
    let away = conv(if exact.is_negative() { Round::TowardNegative } else { Round::TowardPositive }).value;
    if toward_zero.bitwise_eq(away) {
        return Apf { bits, nan: false, status, tie: false, other: bits };
    }
    // The midpoint of the two neighbours, in magnitudes; past the largest finite number the upper neighbour is
    // where the next binade's first number would be (largest + one ulp), as IEEE's overflow threshold says.
    let low = to_quad(toward_zero.abs());
    let high = if away.is_infinite() {
        let below = to_quad(toward_zero.abs().next_down().value);
        (low + (low - below).value).value
    } else {
        to_quad(away.abs())
    };
    let mid = ((low + high).value / Quad::from_u128(2).value).value;
    let tie = exact.abs().bitwise_eq(mid);
    let other = if value.bitwise_eq(toward_zero) { away } else { toward_zero };
    Apf { bits, nan: false, status, tie, other: if tie { other.to_bits() as u64 } else { bits } }
}

/// apfloat's rounding of `bits` of float or integer dtype `from` into float dtype `to`.
fn apfloat_cast(from: Dtype, bits: u64, to: Dtype) -> Apf {
    with_ieee!(to, T => match from.float_format() {
        Some(_) => with_ieee!(from, S => {
            let x = S::from_bits(bits as u128);
            apfloat_round::<T>(to_quad(x), |mode| x.convert_r(mode, &mut false))
        }),
        None if from.is_signed_int() => {
            let v = from.as_i128(bits);
            apfloat_round::<T>(Quad::from_i128(v).value, |mode| T::from_i128_r(v, mode))
        }
        None => {
            let v = from.as_i128(bits) as u128;
            apfloat_round::<T>(Quad::from_u128(v).value, |mode| T::from_u128_r(v, mode))
        }
    })
}

/// apfloat's truncation toward zero of `bits` of float dtype `from` into integer dtype `to`: `None` on INVALID_OP.
fn apfloat_trunc(from: Dtype, bits: u64, to: Dtype) -> Option<i128> {
    with_ieee!(from, S => {
        let x = S::from_bits(bits as u128);
        let width = to.width() as usize;
        let mut is_exact = false;
        let StatusAnd { status, value } = if to.is_signed_int() {
            x.to_i128_r(width, Round::TowardZero, &mut is_exact)
        } else {
            x.to_u128_r(width, Round::TowardZero, &mut is_exact).map(|v| v as i128)
        };
        (!status.contains(Status::INVALID_OP)).then_some(value)
    })
}

/// `None` if conform's rounding `c` agrees with apfloat's `a`, else the one-line mismatch message.
fn float_mismatch(from: Dtype, bits: u64, to: Dtype, c: Rounded, a: Apf) -> Option<String> {
    let f = to.float_format().expect("a float target");
    let c_nan = f.is_nan(c.bits);
    let agree = if c_nan || a.nan {
        c_nan == a.nan
    } else {
        c.bits == a.bits
            && c.exact != a.status.contains(Status::INEXACT)
            && c.overflow == a.status.contains(Status::OVERFLOW)
            && c.tie == a.tie
            && c.other == a.other
    };
    (!agree).then(|| {
        format!(
            "{from}→{to} x={x}: conform bits={cb} (exact={ce}, overflow={co}, tie={ct}, other={cother}) \
             but apfloat bits={ab} (status={st:?}, tie={at}, other={aother})",
            x = from.hex(bits),
            cb = to.hex(c.bits),
            ce = c.exact,
            co = c.overflow,
            ct = c.tie,
            cother = to.hex(c.other),
            ab = to.hex(a.bits),
            st = a.status,
            at = a.tie,
            aother = to.hex(a.other),
        )
    })
}

fn int_mismatch(from: Dtype, bits: u64, to: Dtype, c: Option<i128>, a: Option<i128>) -> Option<String> {
    let show = |v: Option<i128>| v.map_or_else(|| "not representable".to_string(), |v| v.to_string());
    (c != a).then(|| {
        format!(
            "{from}→{to} x={x} ({value}): conform truncates to {cv} but apfloat to {av}",
            x = from.hex(bits),
            value = from.render(bits),
            cv = show(c),
            av = show(a),
        )
    })
}

fn check_float(from: Dtype, to: Dtype, inputs: impl Iterator<Item = u64>, oracle: FloatOracle) -> Mismatches {
    let mut m = Mismatches::default();
    for bits in inputs {
        let (c, a) = (oracle(from, bits, to), apfloat_cast(from, bits, to));
        m.record(float_mismatch(from, bits, to, c, a));
    }
    m
}

fn check_int(from: Dtype, to: Dtype, inputs: impl Iterator<Item = u64>, oracle: IntOracle) -> Mismatches {
    let mut m = Mismatches::default();
    for bits in inputs {
        m.record(int_mismatch(from, bits, to, oracle(from, bits, to), apfloat_trunc(from, bits, to)));
    }
    m
}

/// Every bit pattern of a dtype of at most 16 bits.
fn every(dtype: Dtype) -> impl Iterator<Item = u64> {
    0..=dtype.mask()
}

/// `n` values of `from`: even draws from `boundary`, odd ones uniform random bits; seeded by the pair.
fn sampled(from: Dtype, to: Dtype, n: u64, boundary: impl Fn(&mut TestRng) -> u64) -> impl Iterator<Item = u64> {
    let index = |d: Dtype| Dtype::ALL.iter().position(|&x| x == d).unwrap() as u8;
    let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[index(from) * 16 + index(to); 32]);
    (0..n).map(move |i| if i % 2 == 0 { boundary(&mut rng) } else { rng.random::<u64>() & from.mask() })
}

/// Runs `job` for every pair, spread over the available cores, and merges the tallies.
fn in_parallel(pairs: Vec<(Dtype, Dtype)>, job: impl Fn(Dtype, Dtype) -> Mismatches + Sync) -> Mismatches {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(pairs.len());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut all = Mismatches::default();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Mismatches::default();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&(from, to)) = pairs.get(i) else { break mine };
                        mine.merge(job(from, to));
                    }
                })
            })
            .collect();
        for h in handles {
            all.merge(h.join().expect("a comparison thread panicked"));
        }
    });
    all
}

fn pairs(sources: &[Dtype], targets: &[Dtype]) -> Vec<(Dtype, Dtype)> {
    sources.iter().flat_map(|&s| targets.iter().map(move |&t| (s, t))).collect()
}

#[test]
fn exhaustive_f16_bf16_u8_i8_i16_into_every_float_target() {
    let sources = [Dtype::F16, Dtype::Bf16, Dtype::U8, Dtype::I8, Dtype::I16];
    in_parallel(pairs(&sources, &Dtype::FLOATS), |from, to| check_float(from, to, every(from), cast_float))
        .finish("exhaustive f16, bf16, u8, i8, i16 → f16, bf16, f32, f64");
}

#[test]
fn exhaustive_f16_bf16_into_every_int_target() {
    in_parallel(pairs(&[Dtype::F16, Dtype::Bf16], &INT_TARGETS), |from, to| {
        check_int(from, to, every(from), conform_trunc)
    })
    .finish("exhaustive f16, bf16 → u8, i8, i16, i32, i64");
}

/// 200,000 values per pair; 3,000,000 (12 million per target) with `CONFORM_APFLOAT_FULL=1`.
#[test]
fn sampled_f32_f64_i32_i64_into_every_float_target_full_with_conform_apfloat_full() {
    let n = sampled_per_pair();
    let sources = [Dtype::F32, Dtype::F64, Dtype::I32, Dtype::I64];
    in_parallel(pairs(&sources, &Dtype::FLOATS), |from, to| {
        let format = to.float_format().unwrap();
        check_float(from, to, sampled(from, to, n, |rng| draw_boundary(from, format, rng)), cast_float)
    })
    .finish(&format!("sampled f32, f64, i32, i64 → f16, bf16, f32, f64 ({n} per pair)"));
}

/// 200,000 values per pair; 3,000,000 with `CONFORM_APFLOAT_FULL=1`.
#[test]
fn sampled_f32_f64_into_every_int_target_full_with_conform_apfloat_full() {
    let n = sampled_per_pair();
    in_parallel(pairs(&[Dtype::F32, Dtype::F64], &INT_TARGETS), |from, to| {
        check_int(from, to, sampled(from, to, n, |rng| draw_int_edge(from, to, rng)), conform_trunc)
    })
    .finish(&format!("sampled f32, f64 → u8, i8, i16, i32, i64 ({n} per pair)"));
}

/// A planted defect in the float oracle: ties go to odd (the neighbour not chosen).
fn ties_to_odd(from: Dtype, bits: u64, to: Dtype) -> Rounded {
    let r = cast_float(from, bits, to);
    if r.tie {
        Rounded { bits: r.other, other: r.bits, ..r }
    } else {
        r
    }
}

/// A planted defect in the float oracle: the sign of a zero result is lost.
fn unsigned_zero(from: Dtype, bits: u64, to: Dtype) -> Rounded {
    let r = cast_float(from, bits, to);
    let sign = to.float_format().unwrap().sign_bit();
    if r.bits == sign {
        Rounded { bits: 0, other: 0, ..r }
    } else {
        r
    }
}

/// A planted defect in the integer oracle: floor instead of truncation (wrong for negative non-integers).
fn floor_instead_of_trunc(from: Dtype, bits: u64, to: Dtype) -> Option<i128> {
    let fractional = match Exact::of(from, bits) {
        Exact::Finite { negative: true, m, e } if e < 0 => -e >= 128 || m & ((1u128 << -e) - 1) != 0,
        _ => false,
    };
    let (lo, hi) = int_range(to);
    trunc(Exact::of(from, bits)).map(|v| if fractional { v - 1 } else { v }).filter(|v| (lo..=hi).contains(v))
}

#[test]
fn planted_ties_to_odd_is_reported() {
    let m = check_float(Dtype::F32, Dtype::Bf16, [0x3f80_8000u64, 0x3f80_0000].into_iter(), ties_to_odd);
    assert_eq!((m.compared, m.total), (2, 1));
    assert_eq!(
        m.shown[0],
        "f32→bf16 x=0x3f808000: conform bits=0x3f81 (exact=false, overflow=false, tie=true, other=0x3f80) \
         but apfloat bits=0x3f80 (status=Status(INEXACT), tie=true, other=0x3f81)"
    );
    // And in bulk, with at most SHOWN messages kept while all are counted.
    let m = check_float(Dtype::F16, Dtype::Bf16, every(Dtype::F16), ties_to_odd);
    assert!(m.total > SHOWN as u64 && m.shown.len() == SHOWN, "{m:?}");
}

#[test]
fn planted_lost_zero_sign_is_reported() {
    let m =
        check_float(Dtype::F64, Dtype::F16, [(-1e-30f64).to_bits(), (-0.0f64).to_bits()].into_iter(), unsigned_zero);
    assert_eq!((m.compared, m.total), (2, 2), "{m:?}");
    let x = Dtype::F64.hex((-1e-30f64).to_bits());
    assert!(m.shown[0].starts_with(&format!("f64→f16 x={x}: conform bits=0x0000")), "{}", m.shown[0]);
    assert!(m.shown[0].contains("apfloat bits=0x8000"), "{}", m.shown[0]);
}

#[test]
fn planted_floor_is_reported() {
    let m = check_int(Dtype::F16, Dtype::I8, [0xbc00u64, 0xbe00, 0x3e00].into_iter(), floor_instead_of_trunc);
    assert_eq!((m.compared, m.total), (3, 1), "{m:?}"); // -1 and 1.5 agree; -1.5 does not
    assert_eq!(m.shown[0], "f16→i8 x=0xbe00 (-1.5): conform truncates to -2 but apfloat to -1");
    // -128.5 floors out of range while truncation keeps -128.
    let m = check_int(Dtype::F16, Dtype::I8, [0xd804u64].into_iter(), floor_instead_of_trunc);
    assert_eq!(m.shown, ["f16→i8 x=0xd804 (-128.5): conform truncates to not representable but apfloat to -128"]);
}

/// The two overflow cases the cross-check found in the oracle (fixed), compared strictly with apfloat.
#[test]
fn overflow_flags_agree_with_apfloat() {
    for (from, bits) in [(Dtype::Bf16, 0x4780u64), (Dtype::F32, 0x4780_7000), (Dtype::F32, 65520f32.to_bits() as u64)] {
        let (c, a) = (cast_float(from, bits, Dtype::F16), apfloat_cast(from, bits, Dtype::F16));
        assert_eq!(float_mismatch(from, bits, Dtype::F16, c, a), None);
    }
}

/// The helper agrees with hand-checked IEEE facts, so a pass is not two oracles sharing a blind spot in the helper.
#[test]
fn apfloat_side_matches_hand_checked_cases() {
    // 1 + 2^-11 from f64 into f16: a tie between 0x3c00 and 0x3c01, to even.
    let a = apfloat_cast(Dtype::F64, (1.0 + 2f64.powi(-11)).to_bits(), Dtype::F16);
    assert_eq!((a.bits, a.tie, a.other), (0x3c00, true, 0x3c01));
    // 65520 is f16's overflow threshold: a tie between max and "max + ulp", rounding to inf.
    let a = apfloat_cast(Dtype::F64, 65520f64.to_bits(), Dtype::F16);
    assert_eq!((a.bits, a.tie, a.other), (0x7c00, true, 0x7bff));
    assert!(a.status.contains(Status::OVERFLOW));
    // i32 2049 → f16: tie, to even 2048.
    let a = apfloat_cast(Dtype::I32, 2049, Dtype::F16);
    assert_eq!((a.bits, a.tie), (0x6800, true));
    // A signalling f32 NaN is a NaN in bf16.
    assert!(apfloat_cast(Dtype::F32, 0x7f80_0001, Dtype::Bf16).nan);
    // Truncation: -0.75 → 0 in u8; 255.75 → 255; 256 and -1 are not u8; -128.75 → -128 in i8.
    assert_eq!(apfloat_trunc(Dtype::F32, (-0.75f32).to_bits() as u64, Dtype::U8), Some(0));
    assert_eq!(apfloat_trunc(Dtype::F32, 255.75f32.to_bits() as u64, Dtype::U8), Some(255));
    assert_eq!(apfloat_trunc(Dtype::F32, 256f32.to_bits() as u64, Dtype::U8), None);
    assert_eq!(apfloat_trunc(Dtype::F32, (-1f32).to_bits() as u64, Dtype::U8), None);
    assert_eq!(apfloat_trunc(Dtype::F32, (-128.75f32).to_bits() as u64, Dtype::I8), Some(-128));
    assert_eq!(apfloat_trunc(Dtype::F64, f64::NAN.to_bits(), Dtype::I64), None);
}
