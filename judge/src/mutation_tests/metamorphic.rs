//! `metamorphic`: an output's emptiness in both representations (a trailing partial element of bytes is none);
//! answers that are both bytes (the slice fast path) agreeing and disagreeing at the last position; the position
//! notes of a message present exactly when an answer holds more than the case's elements; an empty case; and a
//! one-element case in bytes (the slice fast path holds exactly one element's width, no more).

use conform_generators::{Dtype, TensorCase};

use crate::metamorphic::{same_answer, Answer, Elements, Output, Question};
use crate::verdict::{CheckError, Verdict};

fn case(values: Vec<u64>) -> TensorCase {
    TensorCase::contiguous(Dtype::F32, &[values.len()], values).unwrap()
}

fn q(op: &str) -> Question<'_> {
    Question { op, any_dtype: "any" }
}

fn answer<'a>(layout: &'a str, threads: i32, elements: Elements<'a>) -> Answer<'a> {
    let out = Output { dtype: Dtype::F32, elements };
    Answer { layout, shape: &[], threads, len: out.len(), out: Ok(out) }
}

fn message(v: Verdict) -> String {
    match v {
        Err(CheckError::Fail(f)) => format!("{} | {}", f.signature, f.message),
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn le_bytes(values: &[u64]) -> Vec<u8> {
    values.iter().flat_map(|&v| (v as u32).to_le_bytes()).collect()
}

#[test]
fn an_output_is_empty_exactly_when_it_holds_no_whole_element() {
    let bits = |b: &'static [u64]| Output { dtype: Dtype::F32, elements: Elements::Bits(b) };
    let bytes = |b: &'static [u8]| Output { dtype: Dtype::F32, elements: Elements::Bytes(b) };
    assert!(bits(&[]).is_empty());
    assert!(!bits(&[0]).is_empty());
    assert!(bytes(&[]).is_empty());
    assert!(bytes(&[1, 2, 3]).is_empty(), "three bytes are no f32");
    assert!(!bytes(&[0, 0, 0x80, 0x3f]).is_empty());
    assert_eq!(bytes(&[0, 0, 0x80, 0x3f, 9]).get(0), 0x3f80_0000);
}

/// Eight f32 values, answered as bytes by a contiguous placement and by a large one that tiles them three times.
#[test]
fn byte_answers_agree_through_every_position_and_the_last_one_counts() {
    let values: Vec<u64> = (1..=8).map(|i| (i as f32).to_bits() as u64).collect();
    let c = case(values.clone());
    let once = le_bytes(&values);
    let thrice = le_bytes(&[values.clone(), values.clone(), values.clone()].concat());
    let answers = [answer("contiguous", 1, Elements::Bytes(&once)), answer("large", 1, Elements::Bytes(&thrice))];
    assert_eq!(same_answer(q("op"), &c, &answers), Ok(()));
    let mut last = [values.clone(), values.clone(), values.clone()].concat();
    last[23] = 9f32.to_bits() as u64;
    let wrong = le_bytes(&last);
    let answers = [answer("contiguous", 1, Elements::Bytes(&once)), answer("large", 1, Elements::Bytes(&wrong))];
    assert_eq!(
        message(same_answer(q("op"), &c, &answers)),
        "op: the answer for a normal element depends on its placement | out[7] bits=0x41100000 (9.0) in large [], \
         1 thread (position 23) but 0x41000000 (8.0) in contiguous [], 1 thread [op, x=0x41000000 (8.0)]"
    );
    let mut first = last.clone();
    first[23] = values[7];
    first[0] = 0;
    let wrong = le_bytes(&first);
    let answers = [answer("contiguous", 1, Elements::Bytes(&once)), answer("large", 1, Elements::Bytes(&wrong))];
    assert!(message(same_answer(q("op"), &c, &answers))
        .contains("out[0] bits=0x00000000 (0.0) in large [], 1 thread (position 0)"));
}

/// An answer of exactly the case's elements is named without a position; two runs of one layout of that size,
/// without "(same position)".
#[test]
fn position_notes_only_where_an_answer_is_longer_than_the_case() {
    let c = case(vec![0x3f80_0000, 0x4000_0000]); // 1.0, 2.0
    let answers = [
        answer("0-d", 1, Elements::Bits(&[0x3f80_0000, 0x4000_0000])),
        answer("contiguous", 1, Elements::Bits(&[0x3f80_0000, 0x4040_0000])),
    ];
    assert_eq!(
        message(same_answer(q("op"), &c, &answers)),
        "op: the answer for a normal element depends on its placement | out[1] bits=0x40400000 (3.0) in \
         contiguous [], 1 thread but 0x40000000 (2.0) in 0-d [], 1 thread [op, x=0x40000000 (2.0)]"
    );
    let answers = [
        answer("contiguous", 1, Elements::Bits(&[0x3f80_0000, 0x4000_0000])),
        answer("contiguous", 2, Elements::Bits(&[0x3f80_0000, 0x4040_0000])),
    ];
    assert_eq!(
        message(same_answer(q("op"), &c, &answers)),
        "op: the answer for a normal element depends on the thread count | out[1] bits=0x40400000 (3.0) in \
         contiguous [], 2 threads but 0x40000000 (2.0) in contiguous [], 1 thread [op, x=0x40000000 (2.0)]"
    );
}

/// An empty case has nothing to compare, whatever the placements returned.
#[test]
fn an_empty_case_agrees_whatever_the_answers_hold() {
    let c = case(vec![]);
    let answers = [answer("contiguous", 1, Elements::Bits(&[1])), answer("contiguous", 4, Elements::Bits(&[2]))];
    assert_eq!(same_answer(q("op"), &c, &answers), Ok(()));
}

/// One f32 element answered as bytes by two placements: the reference holds exactly `n · width` = 4 bytes, which
/// is enough to tile (a bound of `n + width` = 5 bytes would call the agreeing answers different).
#[test]
fn a_one_element_byte_answer_is_a_whole_period() {
    let c = case(vec![0x3f80_0000]);
    let one = le_bytes(&[0x3f80_0000]);
    let twice = le_bytes(&[0x3f80_0000, 0x3f80_0000]);
    let answers = [answer("0-d", 1, Elements::Bytes(&one)), answer("large", 1, Elements::Bytes(&twice))];
    assert_eq!(same_answer(q("op"), &c, &answers), Ok(()));
    let answers = [answer("0-d", 1, Elements::Bytes(&one)), answer("0-d", 2, Elements::Bytes(&one))];
    assert_eq!(same_answer(q("op"), &c, &answers), Ok(()));
}
