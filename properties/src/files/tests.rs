//! Unit tests of the files family: the real writers and readers on the round trips (valid files are safe to read
//! in this process), ndarray-npy on the hostile damages that cannot make it allocate without bound, and planted
//! defects — a reader that drops -0.0, one that refuses what it should read, one that pads short data — caught and
//! shrunk. tch's readers are not handed damaged files here: a short file makes tch copy past its buffer (see
//! known-deviations.toml), which only a crash-isolated worker may run.

use conform_generators::files::{arb_npy_file, Damage, NpySpec};
use conform_generators::{search, CaseSpace, Dtype, FileCase, FileFormat, SearchConfig};
use conform_judge::Failure;
use proptest::strategy::Strategy;

use super::hostile::hostile_npy;
use super::oracle::{self, Npy};
use super::readers::{NpyReader, NpyWriter, NpzReaderOp, NpzWriterOp, Read};
use super::trips::{documented, members, npy_round_trip, npz_round_trip, written_fortran};
use crate::property::outcome;
use crate::testing::{assert_passes, minimal_failure};

fn space(max_numel: usize) -> CaseSpace {
    CaseSpace::all(max_numel)
}

#[test]
fn real_npy_round_trips_pass_both_ways() {
    let (nd_w, tch_r) = (NpyWriter::ndarray_npy(), NpyReader::tch());
    assert_passes(space(16), |c| npy_round_trip(c, &nd_w, &[&tch_r], None));
    // u8 and i8 are left out of tch → ndarray-npy: ndarray-npy refuses tch's '<u1' and '<i1' (a known deviation).
    let (tch_w, nd_r) = (NpyWriter::tch(), NpyReader::ndarray_npy());
    let others = [Dtype::Bool, Dtype::I16, Dtype::I32, Dtype::I64, Dtype::F16, Dtype::Bf16, Dtype::F32, Dtype::F64];
    assert_passes(space(16).with_dtypes(&others), |c| npy_round_trip(c, &tch_w, &[&nd_r, &tch_r], None));
}

#[test]
fn real_npz_round_trips_pass_both_ways() {
    let readers = [NpzReaderOp::tch(), NpzReaderOp::ndarray_npy()];
    for writer in [NpzWriterOp::ndarray_npy(false), NpzWriterOp::ndarray_npy(true)] {
        assert_passes(space(8), |c| npz_round_trip(c, &writer, &[&readers[0], &readers[1]], None));
    }
    assert_passes(space(8), |c| npz_round_trip(c, &NpzWriterOp::tch(), &[&readers[0]], None));
}

#[test]
fn ndarray_npy_refuses_the_one_byte_type_strings_tch_writes() {
    // tch writes u8 and i8 as '<u1' and '<i1', which NumPy reads; ndarray-npy accepts only '|u1', 'u1', 'B' and
    // '|i1', 'i1', 'b'. Every other member and reader is still compared before the refusal fails the case.
    let (case, failure) = minimal_failure(space(8).with_dtypes(&[Dtype::I8]), |c| {
        npy_round_trip(c, &NpyWriter::tch(), &[&NpyReader::ndarray_npy(), &NpyReader::tch()], None)
    });
    assert_eq!(format!("{case:?}"), "TensorCase { dtype: i8, shape: [], strides: [], offset: 0, storage: [0x00 = 0] }");
    assert_eq!(failure.signature, "ndarray-npy read_npy refused: incorrect descriptor ('<iN') for this type");
    let readers = [NpzReaderOp::ndarray_npy(), NpzReaderOp::tch()];
    let (_, failure) = minimal_failure(space(8).with_dtypes(&[Dtype::F32]), |c| {
        npz_round_trip(c, &NpzWriterOp::tch(), &[&readers[0], &readers[1]], None)
    });
    assert_eq!(
        failure.signature,
        "ndarray-npy NpzReader refused: error reading npy file in npz archive: incorrect descriptor ('<uN') for this type"
    );
}

#[test]
fn refusals_are_documented_by_dtype_and_order() {
    assert!(
        documented("ndarray-npy write_npy", Dtype::Bf16, false, "ndarray-npy has no element type for bf16").is_some()
    );
    assert!(documented("tch write_npy", Dtype::Bool, false, "Internal torch error: unsupported kind Bool").is_some());
    assert!(documented("tch read_npy", Dtype::F32, true, "fortran order not supported").is_some());
    assert!(documented("tch read_npy", Dtype::F32, false, "fortran order not supported").is_none());
    assert!(documented("ndarray-npy read_npy", Dtype::F32, true, "anything").is_none());
    let case = conform_generators::TensorCase::contiguous(Dtype::I8, &[2], vec![0x80, 1]).unwrap();
    let m = members(&case);
    assert_eq!(
        m.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["a", "reversed", "first", "empty", "low_bytes", "bits_i64"]
    );
    assert_eq!(m[5].1.logical(), vec![0x80, 1]);
    assert!(!written_fortran(&case));
}

#[test]
fn planted_negative_zero_drop_is_caught_and_shrinks() {
    let tch = NpyReader::tch();
    let drops = NpyReader {
        name: "drops -0.0",
        run: Box::new(move |bytes, dtype| {
            let mut read = (tch.run)(bytes, dtype)?;
            read.bits.iter_mut().filter(|b| **b == 0x8000_0000).for_each(|b| *b = 0);
            Ok(read)
        }),
    };
    let writer = NpyWriter::ndarray_npy();
    let (case, failure) =
        minimal_failure(space(16).with_dtypes(&[Dtype::F32]), |c| npy_round_trip(c, &writer, &[&drops], None));
    assert_eq!(
        format!("{case:?}"),
        "TensorCase { dtype: f32, shape: [], strides: [], offset: 0, storage: [0x80000000 = -0.0] }"
    );
    assert_eq!(failure.signature, "drops -0.0 of ndarray-npy write_npy: bits of a negative-zero element changed");
    assert_eq!(
        failure.message,
        "out[] bits=0x00000000 (0.0) but the array has 0x80000000 (-0.0) [drops -0.0 of ndarray-npy write_npy, f32]"
    );
}

#[test]
fn planted_undocumented_refusal_fails() {
    let refuses_empty = NpyReader {
        name: "refuses zero-size",
        run: Box::new(|bytes, dtype| {
            let read = (NpyReader::tch().run)(bytes, dtype)?;
            if read.bits.is_empty() {
                return Err("no data".into());
            }
            Ok(read)
        }),
    };
    let (case, failure) = minimal_failure(space(16).with_dtypes(&[Dtype::U8]), |c| {
        npy_round_trip(c, &NpyWriter::ndarray_npy(), &[&refuses_empty], None)
    });
    assert!(format!("{case:?}").starts_with("TensorCase { dtype: u8, shape: [0], "), "{case:?}");
    assert_eq!(failure.signature, "refuses zero-size refused: no data");
}

/// The minimal failing file of `check` over `.npy` file cases.
fn minimal_file_failure(check: impl Fn(&FileCase) -> conform_judge::Verdict) -> (FileCase, Failure) {
    let strategy = arb_npy_file(16);
    for seed in 0..20 {
        let report =
            search(&strategy, "test", &SearchConfig::new(500, seed), |c| outcome(check(c)), |_, _| {}).unwrap();
        if let Some(found) = report.found {
            return (found.minimal, found.failure);
        }
    }
    panic!("the planted defect was never detected");
}

#[test]
fn planted_reader_that_pads_short_data_is_caught_and_shrinks_to_the_smallest_file() {
    // A lenient reader: reads the header with conform's reader, then pads missing data with zeros.
    let pads = NpyReader {
        name: "pads short data",
        run: Box::new(|bytes, _| {
            let header = oracle::read_header(bytes).map_err(|e| e.detail)??;
            let dtype = header.dtype.expect("modelled");
            if header.fortran {
                return Err("Fortran order".into());
            }
            let numel: usize = header.shape.iter().product();
            let mut data = bytes[header.data_offset..].to_vec();
            data.resize(numel * dtype.size_bytes(), 0);
            let fold = |a: u64, &b: &u8| a << 8 | b as u64;
            let bits = data.chunks(dtype.size_bytes()).map(|c| {
                if header.big_endian {
                    c.iter().fold(0, fold)
                } else {
                    c.iter().rev().fold(0, fold)
                }
            });
            Ok(Read { dtype: Ok(dtype), shape: header.shape.iter().map(|&n| n as i64).collect(), bits: bits.collect() })
        }),
    };
    let (case, failure) = minimal_file_failure(|c| hostile_npy(c, &pads, None));
    assert_eq!(failure.signature, "pads short data accepted a file NumPy refuses: data shorter than the header says");
    // The smallest such file: a 0-d array one byte short of its type string (one bool byte read as i16).
    assert_eq!(case.bytes().len(), 129, "{case:?}");
    assert!(case.made().contains("shape []"), "{case:?}");
}

#[test]
fn ndarray_npy_passes_the_damages_that_cannot_make_it_allocate_without_bound() {
    // Huge dimensions and header lengths past the end are left to the worker, where RLIMIT_AS bounds them.
    let reader = NpyReader::ndarray_npy();
    let strategy = arb_npy_file(16).prop_filter("bounded", |c| {
        !c.made().contains("huge dimension") && !c.made().contains("header length past the end")
    });
    let report =
        search(&strategy, "test", &SearchConfig::new(2000, 3), |c| outcome(hostile_npy(c, &reader, None)), |_, _| {})
            .unwrap();
    if let Some(found) = report.found {
        panic!("{:?}: {}", found.minimal, found.failure);
    }
}

#[test]
fn every_damage_of_a_valid_file_reaches_ndarray_npy_as_numpy_would_judge_it() {
    let s = NpySpec {
        dtype: Dtype::F16,
        shape: vec![2],
        values: vec![0x8000, 0x7e01],
        version: 2,
        big_endian: true,
        fortran: false,
    };
    let file = |d: Damage| FileCase::new(FileFormat::Npy, Dtype::F16, d.describe(), d.apply(&s)).unwrap();
    let reader = NpyReader::ndarray_npy();
    for d in [
        Damage::None,
        Damage::DataLong(2),
        Damage::DataShort(1),
        Damage::MismatchedDescr(Dtype::I16),
        Damage::NotADict(0),
    ] {
        assert_eq!(hostile_npy(&file(d.clone()), &reader, None), Ok(()), "{d:?}");
    }
    let Npy::Valid(a) = oracle::read_npy(&s.to_bytes()) else { panic!() };
    assert_eq!(a.bits, vec![0x8000, 0x7e01]);
}
