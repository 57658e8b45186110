//! `casts`: the exact words of every NaN behaviour, description and failure message, every tally key and count a
//! judge records, every error bucket's edges, every out-of-range label, and the pass/fail line of each demand.

use std::collections::BTreeMap;

use conform_generators::{Dtype, Layout, TensorCase};

use crate::casts::{
    agree, bool_cast, count_keys, describe, error_bucket, int_result_class, is_nan, layout_class, nan_behaviour,
    rounding, truncates_toward_zero, widening, Demand,
};
use crate::oracle::Exact;
use crate::verdict::{CheckError, Tally, Verdict};

fn case(dtype: Dtype, values: Vec<u64>) -> TensorCase {
    TensorCase::contiguous(dtype, &[values.len()], values).unwrap()
}

/// Every other element of `values`: a strided case of `values.len() / 2` elements.
fn strided(dtype: Dtype, values: Vec<u64>) -> TensorCase {
    let n = values.len() / 2;
    TensorCase::new(dtype, Layout { shape: vec![n], strides: vec![2], offset: 0 }, values).unwrap()
}

/// `(signature, message)` of a failure.
fn fail(v: Verdict) -> (String, String) {
    match v {
        Err(CheckError::Fail(f)) => (f.signature, f.message),
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn keys(tally: &Tally) -> BTreeMap<String, u64> {
    tally.take()
}

fn map(entries: &[(&str, u64)]) -> BTreeMap<String, u64> {
    entries.iter().map(|&(k, v)| (k.to_string(), v)).collect()
}

#[test]
fn is_nan_only_for_float_nans() {
    assert!(is_nan(Dtype::F16, 0x7e00));
    assert!(is_nan(Dtype::F16, 0xfc01));
    assert!(!is_nan(Dtype::F16, 0x7c00));
    assert!(!is_nan(Dtype::F16, 0x3c00));
    assert!(!is_nan(Dtype::I16, 0x7e00), "never for integers");
    assert!(!is_nan(Dtype::U8, 0xff));
}

#[test]
fn nan_behaviour_names_kind_sign_and_payload() {
    let cases = [
        (Dtype::F32, 0x7fc0_0000, Dtype::F16, 0x7e00, "f32→f16 quiet NaN: sign kept, payload kept, quieted"),
        (Dtype::F32, 0x7fa0_0000, Dtype::F16, 0x7e00, "f32→f16 signalling NaN: sign kept, canonical quiet NaN"),
        (Dtype::F32, 0x7fa0_0000, Dtype::F16, 0x7f00, "f32→f16 signalling NaN: sign kept, payload kept, quieted"),
        (Dtype::F32, 0x7fa0_0000, Dtype::F16, 0x7d00, "f32→f16 signalling NaN: sign kept, payload kept"),
        (Dtype::F32, 0x7fa0_0000, Dtype::F16, 0x7c01, "f32→f16 signalling NaN: sign kept, other payload"),
        (Dtype::F32, 0x7fa0_0000, Dtype::F16, 0xfd00, "f32→f16 signalling NaN: sign changed, payload kept"),
        (Dtype::F32, 0xffa0_0000, Dtype::F16, 0xfd00, "f32→f16 signalling NaN: sign kept, payload kept"),
        (Dtype::F32, 0xffa0_0000, Dtype::F16, 0x7d00, "f32→f16 signalling NaN: sign changed, payload kept"),
        (Dtype::F32, 0x7fa0_0000, Dtype::F16, 0x3c00, "f32→f16 NaN became 0x3c00"),
        (Dtype::F32, 0x7fc0_0000, Dtype::F16, 0x7c00, "f32→f16 NaN became 0x7c00"),
        (Dtype::F16, 0x7d00, Dtype::F32, 0x7fe0_0000, "f16→f32 signalling NaN: sign kept, payload kept, quieted"),
        (Dtype::F16, 0xfd00, Dtype::F32, 0xffa0_0000, "f16→f32 signalling NaN: sign kept, payload kept"),
        (Dtype::F16, 0x7d00, Dtype::F32, 0x7fc0_0000, "f16→f32 signalling NaN: sign kept, canonical quiet NaN"),
        (Dtype::F16, 0x7e01, Dtype::F32, 0x7fc0_2000, "f16→f32 quiet NaN: sign kept, payload kept, quieted"),
        (Dtype::F16, 0x7e01, Dtype::F32, 0x7fc0_0000, "f16→f32 quiet NaN: sign kept, canonical quiet NaN"),
        (
            Dtype::F64,
            0x7ff8_0000_0000_0001,
            Dtype::F32,
            0x7fc0_0000,
            "f64→f32 quiet NaN: sign kept, payload kept, quieted",
        ),
        // A payload below bf16's mantissa keeps nothing, so the quiet NaN is that (empty) payload, quieted.
        (Dtype::F32, 0x7f80_0001, Dtype::Bf16, 0x7fc0, "f32→bf16 signalling NaN: sign kept, payload kept, quieted"),
    ];
    for (source, x, target, y, want) in cases {
        assert_eq!(nan_behaviour(source, x, target, y), want, "{x:#x} → {y:#x}");
    }
}

#[test]
fn describe_names_the_bits_the_value_and_a_tie() {
    assert_eq!(describe(Dtype::F32, 0x3f80_1000, Dtype::F16), "x=0x3f801000 (1.00048828125, a tie)");
    assert_eq!(describe(Dtype::F32, 0x3f80_0000, Dtype::F16), "x=0x3f800000 (1.0)");
    assert_eq!(describe(Dtype::I32, 2049, Dtype::F16), "x=0x00000801 (2049, a tie)");
}

#[test]
fn rounding_messages_say_which_demand_broke_and_how() {
    let c = case(Dtype::F32, vec![0x3f80_1000, 0x3f80_3000]);
    // Both ties rounded the wrong way: correctly rounded fails at the first, with the "within ½ ulp" note.
    assert_eq!(
        fail(rounding(&c, Dtype::F16, "op", &[0x3c01, 0x3c01], Demand::CorrectlyRounded, None)),
        (
            "op(f32→f16) not correctly rounded".into(),
            "out[0] bits=0x3c01 (1.0009765625) but correctly rounded is 0x3c00 (1.0); within ½ ulp (a tie rounded \
             the other way) [op(f32→f16), x=0x3f801000 (1.00048828125, a tie)]"
                .into()
        )
    );
    assert_eq!(rounding(&c, Dtype::F16, "op", &[0x3c01, 0x3c01], Demand::HalfUlp, None), Ok(()));
    // A tie missed by more than the other neighbour: no note, and ½ ulp fails too.
    assert_eq!(
        fail(rounding(&c, Dtype::F16, "op", &[0x3c00, 0x3c05], Demand::CorrectlyRounded, None)).1,
        "out[1] bits=0x3c05 (1.0048828125) but correctly rounded is 0x3c02 (1.001953125) [op(f32→f16), \
         x=0x3f803000 (1.00146484375, a tie)]"
    );
    assert_eq!(
        fail(rounding(&c, Dtype::F16, "op", &[0x3c00, 0x3c05], Demand::HalfUlp, None)),
        (
            "op(f32→f16) error above ½ ulp".into(),
            "out[1] bits=0x3c05 (1.0048828125) but correctly rounded is 0x3c02 (1.001953125) and more than ½ ulp \
             from x [op(f32→f16), x=0x3f803000 (1.00146484375, a tie)]"
                .into()
        )
    );
    // Not a tie: one ulp off fails both demands; an overflow kept finite passes only ½ ulp.
    let c = case(Dtype::F32, vec![0x3f80_0000, 0x4974_2400]);
    assert!(rounding(&c, Dtype::F16, "op", &[0x3c01, 0x7c00], Demand::HalfUlp, None).is_err());
    assert!(rounding(&c, Dtype::F16, "op", &[0x3c00, 0x7bff], Demand::CorrectlyRounded, None).is_err());
    assert_eq!(rounding(&c, Dtype::F16, "op", &[0x3c00, 0x7bff], Demand::HalfUlp, None), Ok(()));
    assert_eq!(rounding(&c, Dtype::F16, "op", &[0x3c00, 0x7c00], Demand::CorrectlyRounded, None), Ok(()));
    // A NaN must stay a NaN under both demands; any NaN will do.
    let c = case(Dtype::F32, vec![0x7fc0_0001]);
    for demand in [Demand::CorrectlyRounded, Demand::HalfUlp] {
        assert_eq!(rounding(&c, Dtype::F16, "op", &[0xfc01], demand, None), Ok(()));
        assert!(rounding(&c, Dtype::F16, "op", &[0x7c00], demand, None).is_err());
    }
}

/// One case with a NaN kept, a NaN lost, a tie rounded the other way, a correct value, an overflow kept finite and
/// a flushed subnormal: the verdict is the first wrong element's, and the tally counts all of them, per bucket,
/// the same under both demands.
#[test]
fn rounding_tallies_every_element_under_both_demands() {
    let c = strided(
        Dtype::F32,
        vec![0x7fc0_0001, 0, 0x7fc0_0000, 0, 0x3f80_1000, 0, 0x3f80_0000, 0, 0x4974_2400, 0, 0x3380_0000, 0],
    );
    let out = [0x7e00, 0x3c00, 0x3c01, 0x3c00, 0x7bff, 0x0000];
    let want = map(&[
        ("f32→f16 NaN became 0x3c00 [strided]", 1),
        ("f32→f16 quiet NaN: sign kept, payload kept, quieted [strided]", 1),
        ("op(f32→f16) error: 1 ulp", 1),
        ("op(f32→f16) error: NaN became a number", 1),
        ("op(f32→f16) error: flushed to 0", 1),
        ("op(f32→f16) error: stayed finite instead of inf", 1),
        ("op(f32→f16) values: drawn", 6),
        ("op(f32→f16) values: wrong", 4),
        ("op(f32→f16) values: wrong beyond ½ ulp", 3),
        ("op(f32→f16) values: wrong within ½ ulp", 1),
    ]);
    for demand in [Demand::CorrectlyRounded, Demand::HalfUlp] {
        let tally = Tally::default();
        let (_, message) = fail(rounding(&c, Dtype::F16, "op", &out, demand, Some(&tally)));
        assert!(message.starts_with("out[1] bits=0x3c00 (1.0) but correctly rounded is 0x7e00 (NaN)"), "{message}");
        assert_eq!(keys(&tally), want, "{demand:?}");
        // Without a tally, the same verdict.
        assert_eq!(fail(rounding(&c, Dtype::F16, "op", &out, demand, None)).1, message);
    }
    // A tie missed by two ulps is beyond ½ ulp.
    let c = case(Dtype::F32, vec![0x3f80_1000]);
    let tally = Tally::default();
    assert!(rounding(&c, Dtype::F16, "op", &[0x3c02], Demand::CorrectlyRounded, Some(&tally)).is_err());
    assert_eq!(
        keys(&tally),
        map(&[
            ("op(f32→f16) error: 2 ulp", 1),
            ("op(f32→f16) values: drawn", 1),
            ("op(f32→f16) values: wrong", 1),
            ("op(f32→f16) values: wrong beyond ½ ulp", 1),
            ("op(f32→f16) values: wrong within ½ ulp", 0),
        ])
    );
}

#[test]
fn count_keys_are_the_four_pair_keys() {
    assert_eq!(
        count_keys("to_kind", Dtype::F64, Dtype::Bf16),
        [
            "to_kind(f64→bf16) values: drawn",
            "to_kind(f64→bf16) values: wrong",
            "to_kind(f64→bf16) values: wrong within ½ ulp",
            "to_kind(f64→bf16) values: wrong beyond ½ ulp",
        ]
    );
}

#[test]
fn error_buckets_have_power_of_two_edges_on_both_signs_in_every_format() {
    let b = |y, c| error_bucket(Dtype::F16, false, y, c);
    assert_eq!(b(0x3c03, 0x3c00), "3-4 ulp");
    assert_eq!(b(0x3c04, 0x3c00), "3-4 ulp");
    assert_eq!(b(0x3c08, 0x3c00), "5-8 ulp");
    assert_eq!(b(0x3c09, 0x3c00), "9-16 ulp");
    assert_eq!(b(0x3c00, 0x3c10), "9-16 ulp");
    assert_eq!(b(0x3c11, 0x3c00), "17-32 ulp");
    assert_eq!(b(0xbc00, 0xbc05), "5-8 ulp");
    assert_eq!(b(0xbc01, 0xbc00), "1 ulp");
    assert_eq!(b(0x8002, 0x0001), "3-4 ulp", "across zero");
    assert_eq!(b(0x0000, 0x8000), "sign of 0 changed");
    assert_eq!(b(0x0000, 0x8001), "flushed to 0");
    assert_eq!(b(0x0001, 0x0000), "1 ulp");
    assert_eq!(b(0xfc00, 0xfbff), "became inf");
    assert_eq!(b(0xfc00, 0x7bff), "became inf");
    assert_eq!(b(0xfbff, 0xfc00), "stayed finite instead of inf");
    assert_eq!(b(0x0000, 0xfc00), "flushed to 0");
    assert_eq!(b(0xfe00, 0x0000), "became NaN");
    assert_eq!(error_bucket(Dtype::F16, true, 0xfc00, 0x7e00), "NaN became a number");
    assert_eq!(error_bucket(Dtype::Bf16, false, 0x3f81, 0x3f80), "1 ulp");
    assert_eq!(error_bucket(Dtype::Bf16, false, 0x7f80, 0x7f7f), "became inf");
    assert_eq!(error_bucket(Dtype::F32, false, 0x3f80_0000, 0x3f80_0400), "513-1024 ulp");
    assert_eq!(error_bucket(Dtype::F32, false, 0x8000_0000, 0x0000_0000), "sign of 0 changed");
    assert_eq!(error_bucket(Dtype::F64, false, 0x3ff0_0000_0000_0002, 0x3ff0_0000_0000_0000), "2 ulp");
    assert_eq!(error_bucket(Dtype::F64, false, 0x8000_0000_0000_0000, 0x0000_0000_0000_0001), "flushed to 0");
}

#[test]
fn layout_classes() {
    assert_eq!(layout_class(&case(Dtype::F32, vec![1, 2])), "contiguous");
    assert_eq!(layout_class(&strided(Dtype::F32, vec![1, 2, 3, 4])), "strided");
}

#[test]
fn widening_names_the_broken_direction_and_tallies_nan_round_trips() {
    let c = case(Dtype::F16, vec![0x3c00, 0x7d00]);
    let (signature, message) =
        fail(widening(&c, Dtype::F32, "op", &[0x3f80_0001, 0x7fe0_0000], &[0x3c00, 0x7d00], None));
    assert_eq!(signature, "op(f16→f32→f16) not exact");
    assert_eq!(message, "out[0] x=0x3c00 (1.0) widened to 0x3f800001 but exactly 0x3f800000 [op(f16→f32→f16)]");
    let (_, message) = fail(widening(&c, Dtype::F32, "op", &[0x3f80_0000, 0x7fe0_0000], &[0x3c01, 0x7d00], None));
    assert_eq!(message, "out[0] x=0x3c00 (1.0) came back as 0x3c01 [op(f16→f32→f16)]");
    // A NaN widens to any NaN and comes back as any NaN; what happened to it is tabulated.
    let s = strided(Dtype::F16, vec![0x3c00, 0, 0x7d00, 0, 0xfd00, 0]);
    let tally = Tally::default();
    let out = [0x3f80_0000, 0x7fe0_0000, 0xffa0_0000];
    assert_eq!(widening(&s, Dtype::F32, "op", &out, &[0x3c00, 0x7f00, 0xfd00], Some(&tally)), Ok(()));
    assert_eq!(
        keys(&tally),
        map(&[
            ("f16→f32 signalling NaN: sign kept, payload kept [strided]", 1),
            ("f16→f32 signalling NaN: sign kept, payload kept, quieted [strided]", 1),
            ("f16→f32→f16 NaN round trip: bit-exact", 1),
            ("f16→f32→f16 NaN round trip: payload or sign changed", 1),
        ])
    );
    // A NaN that widens to a number, or comes back as one, fails.
    let n = case(Dtype::F16, vec![0x7d00]);
    let (_, message) = fail(widening(&n, Dtype::F32, "op", &[0x7f80_0000], &[0x7d00], None));
    assert_eq!(message, "out[0] x=0x7d00 (NaN) widened to 0x7f800000 but exactly 0x7fc00000 [op(f16→f32→f16)]");
    let (_, message) = fail(widening(&n, Dtype::F32, "op", &[0x7fe0_0000], &[0x7c00], None));
    assert_eq!(message, "out[0] x=0x7d00 (NaN) came back as 0x7c00 [op(f16→f32→f16)]");
}

#[test]
fn out_of_range_int_results_have_every_label() {
    let x = |v: f64| Exact::of(Dtype::F64, v.to_bits());
    assert_eq!(int_result_class(Dtype::U8, x(511.0), 0xff), "the maximum (also the value modulo 2^width)");
    assert_eq!(int_result_class(Dtype::U8, x(300.0), 0xff), "the maximum");
    assert_eq!(int_result_class(Dtype::U8, x(300.0), 0), "the minimum");
    assert_eq!(int_result_class(Dtype::U8, x(300.0), 44), "the value modulo 2^width");
    assert_eq!(int_result_class(Dtype::U8, x(-1.0), 0xff), "the maximum (also the value modulo 2^width)");
    assert_eq!(int_result_class(Dtype::I8, x(1000.0), 0), "0");
    assert_eq!(int_result_class(Dtype::I8, x(-1000.0), 0x18), "the value modulo 2^width");
    assert_eq!(int_result_class(Dtype::I8, x(-129.0), 0x7f), "the maximum (also the value modulo 2^width)");
    assert_eq!(int_result_class(Dtype::I8, x(384.0), 0x80), "the minimum (also the value modulo 2^width)");
    assert_eq!(int_result_class(Dtype::I8, x(512.0), 0), "0 (also the value modulo 2^width)");
    assert_eq!(int_result_class(Dtype::I8, x(200.0), 5), "another value");
    assert_eq!(int_result_class(Dtype::I16, x(f64::NAN), 0), "0");
    assert_eq!(int_result_class(Dtype::I16, x(f64::INFINITY), 0x7fff), "the maximum");
    assert_eq!(int_result_class(Dtype::I16, x(f64::NEG_INFINITY), 0x8000), "the minimum");
    assert_eq!(int_result_class(Dtype::I64, x(2f64.powi(64)), 0), "0 (also the value modulo 2^width)");
    assert_eq!(int_result_class(Dtype::I64, x(1e30), 1 << 63), "the minimum");
}

#[test]
fn truncation_judges_in_range_values_and_tallies_the_rest() {
    let f = |v: f32| v.to_bits() as u64;
    let c = case(Dtype::F32, vec![f(-2.9), f(127.9), f(-128.9), f(2.5)]);
    assert_eq!(truncates_toward_zero(&c, Dtype::I8, "op", &[0xfe, 0x7f, 0x80, 2], None), Ok(()));
    assert_eq!(
        fail(truncates_toward_zero(&c, Dtype::I8, "op", &[0xfd, 0x7f, 0x80, 2], None)),
        (
            "op(f32→i8) does not truncate toward zero".into(),
            "out[0] = -3 but trunc(-2.9000000953674316) = -2 [op(f32→i8), x=0xc039999a]".into()
        )
    );
    assert!(truncates_toward_zero(&c, Dtype::I8, "op", &[0xfe, 0x7f, 0x80, 3], None).is_err());
    let c = case(
        Dtype::F32,
        vec![0x7fc0_0000, f(f32::INFINITY), f(f32::NEG_INFINITY), f(300.0), f(-300.0), f(128.0), f(-129.0)],
    );
    let tally = Tally::default();
    assert_eq!(
        truncates_toward_zero(&c, Dtype::I8, "op", &[0, 0x7f, 0x80, 44, 0x80, 0x80, 0x7f], Some(&tally)),
        Ok(())
    );
    assert_eq!(
        keys(&tally),
        map(&[
            ("f32→i8 +inf → the maximum", 1),
            ("f32→i8 -inf → the minimum", 1),
            ("f32→i8 NaN → 0", 1),
            ("f32→i8 above the maximum → the minimum (also the value modulo 2^width)", 1),
            ("f32→i8 above the maximum → the value modulo 2^width", 1),
            ("f32→i8 below the minimum → the maximum (also the value modulo 2^width)", 1),
            ("f32→i8 below the minimum → the minimum", 1),
        ])
    );
    // u8: -0.5 truncates to 0, in range; -1 is below the minimum.
    let c = case(Dtype::F32, vec![f(-0.5), f(-1.0), f(255.5)]);
    let tally = Tally::default();
    assert_eq!(truncates_toward_zero(&c, Dtype::U8, "op", &[0, 0, 0xff], Some(&tally)), Ok(()));
    assert_eq!(keys(&tally), map(&[("f32→u8 below the minimum → the minimum", 1)]));
}

#[test]
fn bool_casts_in_both_directions() {
    let c = case(Dtype::F32, vec![0, 0x8000_0000, 0x7fc0_0000, 1, 0x3f00_0000]);
    assert_eq!(bool_cast(&c, Dtype::Bool, "op", &[0, 0, 1, 1, 1]), Ok(()));
    assert_eq!(
        fail(bool_cast(&c, Dtype::Bool, "op", &[0, 1, 1, 1, 1])),
        ("op(f32→bool) wrong".into(), "out[1] = 0x1 but 0x80000000 (-0.0) must give 0x0 [op(f32→bool)]".into())
    );
    let ints = case(Dtype::I8, vec![0, 0xff, 0x80]);
    assert_eq!(bool_cast(&ints, Dtype::Bool, "op", &[0, 1, 1]), Ok(()));
    let b = case(Dtype::Bool, vec![0, 1]);
    assert_eq!(bool_cast(&b, Dtype::F32, "op", &[0, 0x3f80_0000]), Ok(()));
    assert_eq!(bool_cast(&b, Dtype::F16, "op", &[0, 0x3c00]), Ok(()));
    assert_eq!(bool_cast(&b, Dtype::I8, "op", &[0, 1]), Ok(()));
    assert_eq!(
        fail(bool_cast(&b, Dtype::F32, "op", &[0, 0])),
        ("op(bool→f32) wrong".into(), "out[1] = 0x00000000 but 0x1 (true) must give 0x3f800000 [op(bool→f32)]".into())
    );
}

#[test]
fn agreement_allows_any_two_nans_and_says_which_side_is_right() {
    let c = case(Dtype::F32, vec![0x3f80_1000, 0x7fc0_0000]);
    assert_eq!(agree(&c, Dtype::F16, ("a", &[0x3c00, 0x7e00]), ("b", &[0x3c00, 0xfe01])), Ok(()));
    assert_eq!(
        fail(agree(&c, Dtype::F16, ("a", &[0x3c01, 0x7e00]), ("b", &[0x3c00, 0x7e00]))),
        (
            "a and b disagree on f32→f16".into(),
            "out[0]: a gives 0x3c01 (not correctly rounded), b gives 0x3c00 (correctly rounded); correctly rounded \
             is 0x3c00 [x=0x3f801000 (1.00048828125, a tie)]"
                .into()
        )
    );
    // A NaN against a number disagrees, whichever side has the NaN.
    assert!(agree(&c, Dtype::F16, ("a", &[0x3c00, 0x7e00]), ("b", &[0x3c00, 0x7c00])).is_err());
    assert!(agree(&c, Dtype::F16, ("a", &[0x3c00, 0x7c00]), ("b", &[0x3c00, 0x7e00])).is_err());
    assert!(agree(&c, Dtype::F16, ("a", &[0x3c00, 0x7e00]), ("b", &[0x3c02, 0x7e00])).is_err());
}
