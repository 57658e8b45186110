//! The NumPy-written fixtures (`fixtures/npy/`, made by `scripts/make-npy-fixtures.py` with NumPy 2.4.6) through
//! every reader, without Python: each file is read by tch's `read_npy`/`read_npz`, ndarray-npy's `read_npy`/
//! `NpzReader` and conform's own reader (the oracle of the `files` family), and each result is compared bit for bit
//! with `manifest.json` — or is an error, where the table below says that reader refuses that file. A reader that
//! starts or stops refusing a file, or reads one differently, fails this test.

use std::path::PathBuf;

use conform_generators::Dtype;
use conform_properties::files::oracle::{self, Npy, Npz};
use conform_properties::files::readers::{NpyReader, NpzReaderOp, Read};
use serde_json::Value;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/npy")
}

fn manifest() -> Value {
    let text = std::fs::read_to_string(dir().join("manifest.json")).expect("fixtures/npy/manifest.json");
    serde_json::from_str(&text).expect("manifest.json is JSON")
}

fn dtype(name: &str) -> Dtype {
    match name {
        "bool" => Dtype::Bool,
        "uint8" => Dtype::U8,
        "int8" => Dtype::I8,
        "int16" => Dtype::I16,
        "int32" => Dtype::I32,
        "int64" => Dtype::I64,
        "float16" => Dtype::F16,
        "float32" => Dtype::F32,
        "float64" => Dtype::F64,
        other => panic!("manifest dtype {other}"),
    }
}

/// One record of the manifest: what NumPy wrote.
struct Record {
    name: String,
    dtype: Dtype,
    descr: String,
    fortran: bool,
    version: String,
    shape: Vec<i64>,
    bits: Vec<u64>,
}

fn record(r: &Value, name_key: &str) -> Record {
    let s = |k: &str| r[k].as_str().unwrap_or_else(|| panic!("{k} in {r}")).to_string();
    Record {
        name: s(name_key),
        dtype: dtype(&s("dtype")),
        descr: s("descr"),
        fortran: r["fortran_order"].as_bool().expect("fortran_order"),
        version: s("header_version"),
        shape: r["shape"].as_array().expect("shape").iter().map(|d| d.as_i64().expect("dim")).collect(),
        bits: r["bits"]
            .as_array()
            .expect("bits")
            .iter()
            .map(|b| u64::from_str_radix(b.as_str().expect("hex").trim_start_matches("0x"), 16).expect("hex bits"))
            .collect(),
    }
}

/// Which files tch's reader refuses, with the error it gives: it reads header versions 1.0 and 2.0 only, refuses a
/// big-endian type string (with a message that calls it little-endian) and Fortran order. ndarray-npy and conform's
/// reader refuse none.
fn tch_refusal(r: &Record) -> Option<String> {
    if r.version == "3.0" {
        Some("unsupported version 3".into())
    } else if r.descr.starts_with('>') {
        Some(format!("little-endian descr {}", r.descr))
    } else if r.fortran {
        Some("fortran order not supported".into())
    } else {
        None
    }
}

/// `got` must be NumPy's array exactly.
fn same(what: &str, r: &Record, got: &Read) {
    assert_eq!(got.dtype, Ok(r.dtype), "{what}: dtype");
    assert_eq!(got.shape, r.shape, "{what}: shape");
    assert_eq!(got.bits.len(), r.bits.len(), "{what}: length");
    for (i, (g, e)) in got.bits.iter().zip(&r.bits).enumerate() {
        assert_eq!(g, e, "{what}: element {i} bits {g:#x} but NumPy wrote {e:#x}");
    }
}

fn oracle_read(a: &oracle::NpyArray) -> Read {
    Read { dtype: Ok(a.dtype), shape: a.shape.iter().map(|&n| n as i64).collect(), bits: a.bits.clone() }
}

#[test]
fn every_npy_fixture_through_every_reader() {
    let m = manifest();
    let records: Vec<Record> = m["npy"].as_array().expect("npy list").iter().map(|r| record(r, "file")).collect();
    assert_eq!(records.len(), 75, "the fixture set has 75 .npy files");
    let (tch, ndarray_npy) = (NpyReader::tch(), NpyReader::ndarray_npy());
    let mut refused_by_tch = Vec::new();
    for r in &records {
        let bytes = std::fs::read(dir().join(&r.name)).unwrap_or_else(|e| panic!("{}: {e}", r.name));
        match oracle::read_npy(&bytes) {
            Npy::Valid(a) => same(&format!("conform's reader of {}", r.name), r, &oracle_read(&a)),
            other => panic!("conform's reader of {}: {other:?}", r.name),
        }
        same(&format!("ndarray-npy of {}", r.name), r, &(ndarray_npy.run)(&bytes, r.dtype).expect(&r.name));
        match ((tch.run)(&bytes, r.dtype), tch_refusal(r)) {
            (Ok(got), None) => same(&format!("tch of {}", r.name), r, &got),
            (Err(e), Some(expected)) => {
                assert!(e.contains(&expected), "tch refused {} with `{e}`, expected `{expected}`", r.name);
                refused_by_tch.push(r.name.as_str());
            }
            (Ok(_), Some(expected)) => panic!("tch read {}, which it used to refuse ({expected})", r.name),
            (Err(e), None) => panic!("tch refused {}: {e}", r.name),
        }
    }
    // 6 multi-byte dtypes × (c_be, f_le, f_be) + 3 one-byte dtypes × f + 9 × v3.
    assert_eq!(refused_by_tch.len(), 6 * 3 + 3 + 9, "{refused_by_tch:?}");
}

#[test]
fn every_npz_fixture_through_every_reader() {
    let m = manifest();
    let (tch, ndarray_npy) = (NpzReaderOp::tch(), NpzReaderOp::ndarray_npy());
    for archive in m["npz"].as_array().expect("npz list") {
        let file = archive["file"].as_str().expect("file");
        let compressed = archive["compressed"].as_bool().expect("compressed");
        let members: Vec<Record> =
            archive["members"].as_array().expect("members").iter().map(|r| record(r, "name")).collect();
        assert_eq!(members.len(), 7, "{file}");
        let bytes = std::fs::read(dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let key = |r: &Record| r.name.trim_end_matches(".npy").to_string();
        let dtype_of = |name: &str| members.iter().find(|r| key(r) == name).map_or(Dtype::U8, |r| r.dtype);

        // ndarray-npy reads every member, stored or compressed, big-endian and Fortran order included.
        let got = (ndarray_npy.run)(&bytes, &dtype_of).unwrap_or_else(|e| panic!("ndarray-npy of {file}: {e}"));
        assert_eq!(got.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(), members.iter().map(key).collect::<Vec<_>>());
        for ((name, read), r) in got.iter().zip(&members) {
            same(&format!("ndarray-npy of {file}:{name}"), r, read.as_ref().unwrap_or_else(|e| panic!("{name}: {e}")));
        }

        // conform's reader reads the stored archive (NumPy writes zip64 extra fields, which it skips) and leaves the
        // compressed one alone.
        match (oracle::read_npz(&bytes), compressed) {
            (Npz::Valid(found), false) => {
                for ((name, npy), r) in found.iter().zip(&members) {
                    let Npy::Valid(a) = npy else { panic!("conform's reader of {file}:{name}: {npy:?}") };
                    same(&format!("conform's reader of {file}:{name}"), r, &oracle_read(a));
                }
            }
            (Npz::Outside(_), true) => {}
            (other, _) => panic!("conform's reader of {file}: {other:?}"),
        }

        // tch reads the whole archive or nothing: the big-endian Fortran-order first member makes it refuse both.
        let e = (tch.run)(&bytes, &dtype_of).expect_err(file);
        assert!(e.contains("little-endian descr >i8"), "tch refused {file} with `{e}`");
    }
}
