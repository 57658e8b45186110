//! `oracle`: the exact value of an integer 0, the sign of every kind of value, rounding of a significand wider than
//! any dtype's (the whole `u128` range that `Exact::Finite` admits), and truncation exactly at ±2^126 and at a
//! shift of 127.

use conform_generators::{Dtype, FloatFormat};

use crate::oracle::{round, trunc, Exact};

#[test]
fn an_integer_zero_is_zero_and_every_kind_of_value_has_its_sign() {
    for dtype in [Dtype::U8, Dtype::I8, Dtype::I32, Dtype::I64, Dtype::Bool] {
        assert_eq!(Exact::of(dtype, 0), Exact::Zero { negative: false }, "{dtype}");
    }
    assert_eq!(Exact::of(Dtype::I8, 0xff), Exact::Finite { negative: true, m: 1, e: 0 });
    assert_eq!(Exact::of(Dtype::U8, 0xff), Exact::Finite { negative: false, m: 255, e: 0 });
    for negative in [false, true] {
        for x in [
            Exact::Nan { negative },
            Exact::Inf { negative },
            Exact::Zero { negative },
            Exact::Finite { negative, m: 3, e: -1 },
        ] {
            assert_eq!(x.negative(), negative, "{x:?}");
        }
    }
    assert!(Exact::of(Dtype::F32, 0x8000_0000).negative());
    assert!(!Exact::of(Dtype::F32, 0x3f80_0000).negative());
}

/// A significand as wide as `u128` allows, shifted by exactly 127 to the subnormal quantum: 2^127 · 2^(-1074-127)
/// is f64's least subnormal, exactly (and likewise for f16).
#[test]
fn a_128_bit_significand_rounds_at_a_shift_of_127() {
    let x = Exact::Finite { negative: false, m: 1 << 127, e: -1074 - 127 };
    let r = round(FloatFormat::F64, x);
    assert_eq!((r.bits, r.exact, r.tie, r.overflow), (1, true, false, false));
    let x = Exact::Finite { negative: true, m: 1 << 127, e: -24 - 127 };
    let r = round(FloatFormat::F16, x);
    assert_eq!((r.bits, r.exact), (0x8001, true));
    // Just below: (2^127 - 1) · 2^(-1074-127) is a hair under the least subnormal, and rounds to it (above half).
    let r = round(FloatFormat::F64, Exact::Finite { negative: false, m: (1 << 127) - 1, e: -1074 - 127 });
    assert_eq!((r.bits, r.exact), (1, false));
}

/// `trunc` holds magnitudes up to 2^126 inclusive and none above; a right shift of 127 still keeps a top bit.
#[test]
fn truncation_holds_exactly_up_to_2_to_the_126() {
    assert_eq!(trunc(Exact::Finite { negative: false, m: 1, e: 126 }), Some(1 << 126));
    assert_eq!(trunc(Exact::Finite { negative: true, m: 1, e: 126 }), Some(-(1 << 126)));
    assert_eq!(trunc(Exact::Finite { negative: false, m: 2, e: 125 }), Some(1 << 126));
    assert_eq!(trunc(Exact::Finite { negative: false, m: 3, e: 125 }), None);
    assert_eq!(trunc(Exact::Finite { negative: false, m: 1, e: 127 }), None);
    assert_eq!(trunc(Exact::Finite { negative: false, m: 1 << 127, e: -127 }), Some(1));
    assert_eq!(trunc(Exact::Finite { negative: true, m: (1 << 127) | (1 << 126), e: -127 }), Some(-1));
    assert_eq!(trunc(Exact::Finite { negative: false, m: u128::MAX, e: -128 }), Some(0));
    assert_eq!(trunc(Exact::Zero { negative: true }), Some(0));
    assert_eq!(trunc(Exact::Inf { negative: false }), None);
    assert_eq!(trunc(Exact::Nan { negative: false }), None);
}
