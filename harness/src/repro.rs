//! `conform repro`: reproductions that need no conform. For a stored case of a property whose deviation belongs to
//! a library — libtorch's `to_kind`, tch's conversions, the `half` crate, ndarray's `mapv` — a minimal Rust program
//! (using the library at fault), where the deviation is libtorch's own a minimal Python/torch program, each printing
//! the actual and the expected bits, and a draft upstream issue (title, versions, expected vs actual, why). File
//! cases (the `files` family) get a program that writes the stored bytes and calls the reader at fault (tch's
//! `read_npy`/`read_npz`, ndarray-npy's `read_npy`/`NpzReader`; round trips: tch's writer, then both readers), next
//! to what NumPy reads (computed here by conform's NumPy-rules reader), plus a `numpy.load` program; API cases (the
//! `api` family) get a program that makes the input tensor and calls the same `f_*` fn, next to what the property
//! requires, plus the same call in Python/torch where libtorch is at fault.
//!
//! Invariant: the expected bits are conform's exact oracle (`conform_judge::oracle`), computed here and written into
//! the programs as constants; the programs compute only the actual side, with the library under test, so they
//! show the deviation on any machine that has it. The actual bits quoted in the issue draft are the library's on
//! this machine, obtained by running the same operation through conform's cast ops.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use conform_generators::{
    ApiCall, ApiCase, ApiFn, ApiInput, ApiKind, Case, Dtype, FileCase, FileFormat, InputLayout, Layout, TensorCase,
};
use conform_judge::boundary::encode;
use conform_judge::oracle::{cast_float, int_range, trunc, Exact};
use conform_properties::casts::CastOp;
use conform_properties::files::oracle::{self, Npy, Npz};
use conform_reports::Reproduction;

/// The `half` crate version conform links (a test keeps it equal to Cargo.lock).
pub const HALF_VERSION: &str = "2.7.1";
/// The ndarray version conform links (pinned in the workspace Cargo.toml).
pub const NDARRAY_VERSION: &str = "0.16.1";
/// The ndarray-npy version conform links (pinned in the workspace Cargo.toml).
pub const NDARRAY_NPY_VERSION: &str = "0.9.1";

/// One stored failure to reproduce.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub property: &'a str,
    pub signature: &'a str,
    pub message: &'a str,
    pub case: &'a Case,
    pub libtorch_version: &'a str,
    pub tch_version: &'a str,
    /// The corpus file it is stored in.
    pub corpus_file: Option<&'a Path>,
    /// The reviewed reason, for a known deviation.
    pub reason: Option<&'a str>,
}

/// Which program reproduces a deviation (and so whose behaviour it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Program {
    /// libtorch's `to_kind` into `targets`.
    ToKind(&'static [Dtype]),
    /// The half crate's `from_f32`/`from_f64` into `target`.
    Half(Dtype),
    /// libtorch and the half crate side by side, into f16 and bf16.
    ToKindAndHalf,
    /// ndarray's `mapv(|x| x as T)`.
    Mapv,
    /// tch's `TryFrom<&ArrayD<T>> for Tensor`: the tensor's kind.
    TchArrayKind,
    /// tch's `TryInto<ArrayD<U>> for &Tensor` with another element type.
    TchToArray,
    /// tch's `TryFrom<&ArrayView>` then `TryInto<ArrayD>`.
    TchRoundTrip,
    /// tch's `TryInto<ArrayD<T>>` of tensors libtorch made (`to_kind` results) into each element type.
    TchFromTensor,
    /// libtorch's `to_kind` of the same values placed in a 0-d tensor, a large contiguous one (on 1 and 4
    /// threads) and an every-other-element view.
    Placement,
    /// tch's conversions of the same values placed in a 0-d array/tensor and an every-other-element view.
    TchPlacement,
    /// conform's own machinery (views, devices): no standalone program.
    Conform,
}

impl Program {
    fn of(property: &str, dtype: Dtype) -> Program {
        const F16: &[Dtype] = &[Dtype::F16];
        const BF16: &[Dtype] = &[Dtype::Bf16];
        const F32: &[Dtype] = &[Dtype::F32];
        const F64: &[Dtype] = &[Dtype::F64];
        let short = property.split_once("::").map_or(property, |(_, s)| s);
        match short {
            "to_f16_correctly_rounded" | "to_f16_within_half_ulp" => Program::ToKind(F16),
            "to_bf16_correctly_rounded" | "to_bf16_within_half_ulp" => Program::ToKind(BF16),
            "to_f32_correctly_rounded" | "to_f32_within_half_ulp" => Program::ToKind(F32),
            "to_f64_correctly_rounded" | "to_f64_within_half_ulp" => Program::ToKind(F64),
            "widening_exact_and_round_trips" => match dtype {
                Dtype::F32 => Program::ToKind(F64),
                _ => Program::ToKind(&[Dtype::F32, Dtype::F64]),
            },
            "float_to_int_truncates" => Program::ToKind(&[Dtype::U8, Dtype::I8, Dtype::I16, Dtype::I32, Dtype::I64]),
            "bool_casts" if dtype == Dtype::Bool => Program::ToKind(&[
                Dtype::U8,
                Dtype::I8,
                Dtype::I16,
                Dtype::I32,
                Dtype::I64,
                Dtype::F16,
                Dtype::Bf16,
                Dtype::F32,
                Dtype::F64,
            ]),
            "bool_casts" => Program::ToKind(&[Dtype::Bool]),
            "half_crate_to_f16_correctly_rounded" => Program::Half(Dtype::F16),
            "half_crate_to_bf16_correctly_rounded" => Program::Half(Dtype::Bf16),
            "libtorch_agrees_with_half" => Program::ToKindAndHalf,
            "ndarray_mapv_correctly_rounded" => Program::Mapv,
            "tch_array_kind_preserved" => Program::TchArrayKind,
            "tch_to_array_refuses_other_element" => Program::TchToArray,
            "tch_conversions_bit_exact" => Program::TchRoundTrip,
            "ndarray_arrays_to_tensors_keep_bits" => Program::TchArrayKind,
            "libtorch_tensors_to_arrays_keep_bits" => Program::TchFromTensor,
            "to_kind_placement_independent" => Program::Placement,
            "array_to_tensor_placement_independent" | "tensor_to_array_placement_independent" => Program::TchPlacement,
            _ => Program::Conform,
        }
    }

    fn culprit(self) -> &'static str {
        match self {
            Program::ToKind(_) | Program::Placement => "libtorch",
            Program::Half(_) => "half",
            Program::ToKindAndHalf => "libtorch and half",
            Program::Mapv => "ndarray",
            Program::TchArrayKind
            | Program::TchToArray
            | Program::TchRoundTrip
            | Program::TchFromTensor
            | Program::TchPlacement => "tch",
            Program::Conform => "conform",
        }
    }
}

/// The expected bits of `x` (of `source`) converted to `target`: correct rounding into floats, truncation into
/// integers that hold the result (`None`: out of range, implementation-defined), nonzero → true, false/true → 0/1.
pub fn expected(source: Dtype, x: u64, target: Dtype) -> Option<u64> {
    let exact = Exact::of(source, x);
    if target == Dtype::Bool {
        return Some(u64::from(!matches!(exact, Exact::Zero { .. })));
    }
    if source == Dtype::Bool {
        return Some(encode(target, exact));
    }
    if target.is_float() {
        return Some(cast_float(source, x, target).bits);
    }
    let (lo, hi) = int_range(target);
    trunc(exact).filter(|t| (lo..=hi).contains(t)).map(|t| (t as u64) & target.mask())
}

/// The example name of a reproduction: `repro_{family}_{property}_{file stem}`.
pub fn example_name(property: &str, corpus_file: Option<&Path>) -> String {
    let stem = corpus_file.and_then(|p| p.file_stem()).map(|s| s.to_string_lossy().to_string());
    let base = format!("repro_{}", property.replace("::", "_"));
    let name = match stem {
        Some(stem) => format!("{base}_{}", stem.trim_end_matches(".json")),
        None => base,
    };
    name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

/// The reproduction of one stored failure.
pub fn reproduce(src: &Source<'_>) -> Reproduction {
    let case = match src.case {
        Case::Tensor(case) => case,
        Case::File(file) => return reproduce_file(src, file),
        Case::Api(api) => return reproduce_api(src, api),
    };
    if let Some(trip) = Trip::of(src.property) {
        return reproduce_trip(src, case, trip);
    }
    let kind = Program::of(src.property, case.dtype());
    let name = example_name(src.property, src.corpus_file);
    let rust = match kind {
        Program::ToKind(targets) => Some(rust_to_kind(src, case, targets, &name)),
        Program::Half(target) => Some(rust_half(src, case, &[target], false, &name)),
        Program::ToKindAndHalf => Some(rust_half(src, case, &[Dtype::F16, Dtype::Bf16], true, &name)),
        Program::Mapv => Some(rust_mapv(src, case, &name)),
        Program::TchArrayKind => Some(rust_tch_kind(src, case, &name)),
        Program::TchToArray => Some(rust_tch_to_array(src, case, &name)),
        Program::TchRoundTrip => Some(rust_tch_round_trip(src, case, &name)),
        Program::TchFromTensor => Some(rust_tch_from_tensor(src, case, &name)),
        Program::Placement => Some(rust_placement(src, case, &name)),
        Program::TchPlacement => Some(rust_tch_placement(src, case, &name)),
        Program::Conform => None,
    };
    let python = match kind {
        Program::ToKind(targets) => Some(python_to_kind(src, case, targets)),
        Program::ToKindAndHalf => Some(python_to_kind(src, case, &[Dtype::F16, Dtype::Bf16])),
        Program::Placement => Some(python_placement(src, case)),
        _ => None,
    };
    Reproduction {
        property: src.property.to_string(),
        signature: src.signature.to_string(),
        corpus_file: src.corpus_file.map(|p| p.display().to_string()),
        case: serde_json::to_value(src.case).expect("a case serialises"),
        message: src.message.to_string(),
        culprit: kind.culprit().to_string(),
        issue: issue(src, case, kind, python.as_deref().or(rust.as_deref())),
        rust,
        python,
    }
}

/// A stored failure with no standalone reproduction (a files round trip whose writer is ndarray-npy's, or a file
/// case of a property that reads none): the case, the message and an issue draft without a program;
/// `conform replay FILE` reproduces it.
fn without_program(src: &Source<'_>) -> Reproduction {
    let from = src.corpus_file.map_or("a run".to_string(), |p| p.display().to_string());
    let why = src.reason.unwrap_or("conform recorded this deviation without a reviewed reason; see the message above.");
    let issue = format!(
        "Title: {property}: {signature}\n\nRepository: not determined (no standalone program for {kind} cases yet)\n\n\
         ## Versions\n\n- libtorch {libtorch}, tch {tch}, half {HALF_VERSION}, ndarray {NDARRAY_VERSION}\n- {machine}\n\n\
         ## Expected vs actual\n\n{message}\n\n## Why\n\n{why}\n\n## Reproduction\n\n`conform replay {from}`\n",
        property = src.property,
        signature = src.signature,
        kind = src.case.kind(),
        libtorch = src.libtorch_version,
        tch = src.tch_version,
        machine = machine(),
        message = src.message,
    );
    Reproduction {
        property: src.property.to_string(),
        signature: src.signature.to_string(),
        corpus_file: src.corpus_file.map(|p| p.display().to_string()),
        case: serde_json::to_value(src.case).expect("a case serialises"),
        message: src.message.to_string(),
        culprit: "not determined".to_string(),
        issue,
        rust: None,
        python: None,
    }
}

fn rust_type(d: Dtype) -> &'static str {
    match d {
        Dtype::Bool => "bool",
        Dtype::U8 => "u8",
        Dtype::I8 => "i8",
        Dtype::I16 => "i16",
        Dtype::I32 => "i32",
        Dtype::I64 => "i64",
        Dtype::F16 => "half::f16",
        Dtype::Bf16 => "half::bf16",
        Dtype::F32 => "f32",
        Dtype::F64 => "f64",
    }
}

/// A Rust expression turning the bits `b: u64` into a value of `d`.
fn rust_from_bits(d: Dtype) -> &'static str {
    match d {
        Dtype::Bool => "b != 0",
        Dtype::U8 => "b as u8",
        Dtype::I8 => "b as u8 as i8",
        Dtype::I16 => "b as u16 as i16",
        Dtype::I32 => "b as u32 as i32",
        Dtype::I64 => "b as i64",
        Dtype::F16 => "half::f16::from_bits(b as u16)",
        Dtype::Bf16 => "half::bf16::from_bits(b as u16)",
        Dtype::F32 => "f32::from_bits(b as u32)",
        Dtype::F64 => "f64::from_bits(b)",
    }
}

fn tch_kind(d: Dtype) -> &'static str {
    match d {
        Dtype::Bool => "Kind::Bool",
        Dtype::U8 => "Kind::Uint8",
        Dtype::I8 => "Kind::Int8",
        Dtype::I16 => "Kind::Int16",
        Dtype::I32 => "Kind::Int",
        Dtype::I64 => "Kind::Int64",
        Dtype::F16 => "Kind::Half",
        Dtype::Bf16 => "Kind::BFloat16",
        Dtype::F32 => "Kind::Float",
        Dtype::F64 => "Kind::Double",
    }
}

fn torch_dtype(d: Dtype) -> &'static str {
    match d {
        Dtype::Bool => "torch.bool",
        Dtype::U8 => "torch.uint8",
        Dtype::I8 => "torch.int8",
        Dtype::I16 => "torch.int16",
        Dtype::I32 => "torch.int32",
        Dtype::I64 => "torch.int64",
        Dtype::F16 => "torch.float16",
        Dtype::Bf16 => "torch.bfloat16",
        Dtype::F32 => "torch.float32",
        Dtype::F64 => "torch.float64",
    }
}

/// `[0x…, 0x…]` of `bits` in `d`'s width.
fn hex_list(d: Dtype, bits: &[u64]) -> String {
    let items: Vec<String> = bits.iter().map(|&b| d.hex(b)).collect();
    format!("[{}]", items.join(", "))
}

fn hex_opt(d: Dtype, bits: &[Option<u64>], none: &str, some: impl Fn(String) -> String) -> String {
    let items: Vec<String> = bits.iter().map(|b| b.map_or(none.to_string(), |b| some(d.hex(b)))).collect();
    format!("[{}]", items.join(", "))
}

/// The header comment shared by the Rust programs.
fn rust_header(src: &Source<'_>, what: &str, name: &str) -> String {
    rust_header_with(src, what, name, &format!("tch {}, half 2 and ndarray 0.16", src.tch_version))
}

/// The header comment of a Rust program that needs the crates `deps` outside conform's workspace.
fn rust_header_with(src: &Source<'_>, what: &str, name: &str, deps: &str) -> String {
    let from = src.corpus_file.map_or("a run of conform".to_string(), |p| p.display().to_string());
    format!(
        "//! Reproduces {from} ({property}: {signature}) without conform: {what}\n\
         //! Generated by `conform repro`; libtorch {libtorch}, tch {tch}, half {HALF_VERSION}, ndarray {NDARRAY_VERSION}.\n\
         //! In conform's workspace: `cargo run -p conform-properties --example {name}`; elsewhere, any crate that\n\
         //! depends on {deps}.\n",
        property = src.property,
        signature = src.signature,
        libtorch = src.libtorch_version,
        tch = src.tch_version,
    )
}

/// How the tensor of the case is made from its storage in Rust, or `None` when libtorch cannot hold the layout
/// (negative strides): then the logical elements, in order, stand for it.
fn strided(layout: &Layout) -> Option<String> {
    if layout.strides.iter().any(|&s| s < 0) {
        return None;
    }
    Some(format!("{:?}, {:?}, {}", layout.shape, layout.strides, layout.offset))
}

const RUST_BITS_FN: &str = r#"
/// The bits of every element of `t`, in logical (row-major) order.
fn bits(t: &Tensor) -> Vec<u64> {
    let flat = t.reshape([-1]);
    match flat.kind().elt_size_in_bytes() {
        1 => Vec::<u8>::try_from(&flat.view_dtype(Kind::Uint8)).unwrap().into_iter().map(u64::from).collect(),
        2 => Vec::<i16>::try_from(&flat.view_dtype(Kind::Int16)).unwrap().into_iter().map(|v| v as u16 as u64).collect(),
        4 => Vec::<i32>::try_from(&flat.view_dtype(Kind::Int)).unwrap().into_iter().map(|v| v as u32 as u64).collect(),
        _ => Vec::<i64>::try_from(&flat.view_dtype(Kind::Int64)).unwrap().into_iter().map(|v| v as u64).collect(),
    }
}

/// Prints each element's actual and expected bits (`None`: the result is implementation-defined).
fn report(what: &str, inputs: &[u64], actual: &[u64], expected: &[Option<u64>]) {
    for (k, ((x, a), e)) in inputs.iter().zip(actual).zip(expected).enumerate() {
        let (want, verdict) = match e {
            Some(e) if e == a => (format!("{e:#x}"), "ok"),
            Some(e) => (format!("{e:#x}"), "DIFFERS"),
            None => ("-".to_string(), "implementation-defined"),
        };
        println!("{what} [{k}] x={x:#x}: actual {a:#x}, expected {want} {verdict}");
    }
}
"#;

/// The storage-bits → tensor lines of a Rust program: `x` is the case as a tensor of its dtype (over `STORAGE`, the
/// case's storage, or its logical elements where libtorch cannot hold the layout).
fn rust_case_tensor(case: &TensorCase) -> String {
    let (int, cast) = match case.dtype().size_bytes() {
        1 => ("u8", "b as u8"),
        2 => ("i16", "b as u16 as i16"),
        4 => ("i32", "b as u32 as i32"),
        _ => ("i64", "b as i64"),
    };
    let (note, layout) = match strided(case.layout()) {
        Some(layout) => ("", format!(".as_strided({layout})")),
        None => (
            "    // libtorch cannot hold negative strides: the logical elements, in order, stand for the case's layout.\n",
            format!(".reshape({:?})", case.shape().iter().map(|&n| n as i64).collect::<Vec<_>>()),
        ),
    };
    format!(
        "{note}    let storage: Vec<{int}> = STORAGE.iter().map(|&b| {cast}).collect();\n    \
         let x = Tensor::from_slice(&storage).view_dtype({}){layout};\n",
        tch_kind(case.dtype())
    )
}

fn rust_to_kind(src: &Source<'_>, case: &TensorCase, targets: &[Dtype], name: &str) -> String {
    let d = case.dtype();
    let inputs = case.logical();
    let storage = if strided(case.layout()).is_some() { case.storage().to_vec() } else { inputs.clone() };
    let mut out = rust_header(
        src,
        "libtorch's `to_kind` on the stored case, next to the correctly rounded (or truncated) result.",
        name,
    );
    let _ = writeln!(out, "use tch::{{Kind, Tensor}};\n");
    let _ = writeln!(out, "/// The case's storage: the bits of its {d} elements.");
    let _ = writeln!(out, "const STORAGE: [u64; {}] = {};", storage.len(), hex_list(d, &storage));
    let _ = writeln!(out, "/// Its elements in logical order.");
    let _ = writeln!(out, "const INPUTS: [u64; {}] = {};\n", inputs.len(), hex_list(d, &inputs));
    let _ = writeln!(out, "fn main() {{");
    out.push_str(&rust_case_tensor(case));
    for &t in targets {
        let want: Vec<Option<u64>> = inputs.iter().map(|&x| expected(d, x, t)).collect();
        let _ = writeln!(
            out,
            "    report(\"to_kind({d}→{t})\", &INPUTS, &bits(&x.to_kind({})), &{});",
            tch_kind(t),
            hex_opt(t, &want, "None", |h| format!("Some({h})"))
        );
    }
    out.push_str("}\n");
    out.push_str(RUST_BITS_FN);
    out
}

fn rust_half(src: &Source<'_>, case: &TensorCase, targets: &[Dtype], with_torch: bool, name: &str) -> String {
    let d = case.dtype();
    let inputs = case.logical();
    let what = if with_torch {
        "libtorch's `to_kind` and the half crate's `from_f32`/`from_f64` on the stored values, next to the correctly rounded result."
    } else {
        "the half crate's `from_f32`/`from_f64` on the stored values, next to the correctly rounded result."
    };
    let mut out = rust_header(src, what, name);
    if with_torch {
        let _ = writeln!(out, "use tch::{{Kind, Tensor}};\n");
    }
    let _ = writeln!(out, "/// The stored {d} values' bits, in logical order.");
    let _ = writeln!(out, "const INPUTS: [u64; {}] = {};\n", inputs.len(), hex_list(d, &inputs));
    let _ = writeln!(out, "fn main() {{");
    let from = if d == Dtype::F32 { "from_f32(f32::from_bits(b as u32))" } else { "from_f64(f64::from_bits(b))" };
    if with_torch {
        let int = if d == Dtype::F32 {
            ("i32", "b as u32 as i32", "Kind::Int", "Kind::Float")
        } else {
            ("i64", "b as i64", "Kind::Int64", "Kind::Double")
        };
        let _ = writeln!(out, "    let storage: Vec<{}> = INPUTS.iter().map(|&b| {}).collect();", int.0, int.1);
        let _ = writeln!(out, "    let x = Tensor::from_slice(&storage).view_dtype({}).view_dtype({});", int.2, int.3);
    }
    for &t in targets {
        let want: Vec<Option<u64>> = inputs.iter().map(|&x| expected(d, x, t)).collect();
        let want = hex_opt(t, &want, "None", |h| format!("Some({h})"));
        let ty = if t == Dtype::F16 { "f16" } else { "bf16" };
        let _ = writeln!(
            out,
            "    let half: Vec<u64> = INPUTS.iter().map(|&b| u64::from(half::{ty}::{from}.to_bits())).collect();"
        );
        let _ = writeln!(
            out,
            "    report(\"half {ty}::{}({d}→{t})\", &INPUTS, &half, &{want});",
            from.split('(').next().unwrap_or("")
        );
        if with_torch {
            let _ = writeln!(
                out,
                "    report(\"to_kind({d}→{t})\", &INPUTS, &bits(&x.to_kind({})), &{want});",
                tch_kind(t)
            );
        }
    }
    out.push_str("}\n");
    if with_torch {
        out.push_str(RUST_BITS_FN);
    } else {
        out.push_str(&RUST_BITS_FN[RUST_BITS_FN.find("\n/// Prints each").unwrap_or(0)..]);
    }
    out
}

fn rust_mapv(src: &Source<'_>, case: &TensorCase, name: &str) -> String {
    let d = case.dtype();
    let inputs = case.logical();
    let targets: &[Dtype] = if d == Dtype::F64 { &[Dtype::F32] } else { &[Dtype::F32, Dtype::F64] };
    let mut out = rust_header(
        src,
        "ndarray's `mapv(|x| x as T)` (Rust's `as`) on the stored values, next to the correctly rounded result.",
        name,
    );
    let _ = writeln!(out, "use ndarray::{{ArrayD, IxDyn}};\n");
    let _ = writeln!(out, "/// The stored {d} values' bits, in logical order.");
    let _ = writeln!(out, "const INPUTS: [u64; {}] = {};\n", inputs.len(), hex_list(d, &inputs));
    let _ = writeln!(out, "fn main() {{");
    let _ = writeln!(
        out,
        "    let array = ArrayD::from_shape_vec(IxDyn(&{:?}), INPUTS.iter().map(|&b| {}).collect()).unwrap();",
        case.shape(),
        rust_from_bits(d)
    );
    for &t in targets {
        let want: Vec<Option<u64>> = inputs.iter().map(|&x| expected(d, x, t)).collect();
        let _ = writeln!(
            out,
            "    let actual: Vec<u64> = array.mapv(|x| x as {t}).iter().map(|y| u64::from(y.to_bits())).collect();"
        );
        let _ = writeln!(
            out,
            "    report(\"mapv(as)({d}→{t})\", &INPUTS, &actual, &{});",
            hex_opt(t, &want, "None", |h| format!("Some({h})"))
        );
    }
    out.push_str("}\n");
    out.push_str(&RUST_BITS_FN[RUST_BITS_FN.find("\n/// Prints each").unwrap_or(0)..]);
    out
}

/// `let array = …` for the case's logical elements in a standard-layout ndarray of its element type.
fn rust_standard_array(case: &TensorCase) -> String {
    let d = case.dtype();
    format!(
        "    let array = ArrayD::from_shape_vec(IxDyn(&{:?}), INPUTS.iter().map(|&b| {}).collect::<Vec<{}>>()).unwrap();\n",
        case.shape(),
        rust_from_bits(d),
        rust_type(d)
    )
}

fn rust_tch_kind(src: &Source<'_>, case: &TensorCase, name: &str) -> String {
    let d = case.dtype();
    let inputs = case.logical();
    let mut out =
        rust_header(src, "tch's `TryFrom<&ArrayD<T>> for Tensor`, whose tensor must have the kind T stands for.", name);
    let _ = writeln!(out, "use ndarray::{{ArrayD, IxDyn}};\nuse tch::{{Kind, Tensor}};\n");
    let _ = writeln!(out, "/// The stored {d} elements' bits, in logical order.");
    let _ = writeln!(out, "const INPUTS: [u64; {}] = {};\n", inputs.len(), hex_list(d, &inputs));
    let _ = writeln!(out, "fn main() {{");
    out.push_str(&rust_standard_array(case));
    let _ = writeln!(out, "    let tensor = Tensor::try_from(&array).unwrap();");
    let _ = writeln!(out, "    let (actual, expected) = (tensor.kind(), {});", tch_kind(d));
    let _ = writeln!(
        out,
        "    println!(\"an ndarray of {} became a tensor of kind {{actual:?}}, expected {{expected:?}} {{}}\", if actual == expected {{ \"ok\" }} else {{ \"DIFFERS\" }});",
        rust_type(d)
    );
    let _ = writeln!(out, "}}");
    out
}

fn rust_tch_to_array(src: &Source<'_>, case: &TensorCase, name: &str) -> String {
    let d = case.dtype();
    let inputs = case.logical();
    let mut out = rust_header(
        src,
        "tch's `TryInto<ArrayD<U>> for &Tensor` asked for another element type U, which must be an error.",
        name,
    );
    let _ = writeln!(out, "use ndarray::{{ArrayD, IxDyn}};\nuse tch::Tensor;\n");
    let _ = writeln!(out, "/// The stored {d} elements' bits, in logical order.");
    let _ = writeln!(out, "const INPUTS: [u64; {}] = {};\n", inputs.len(), hex_list(d, &inputs));
    let _ = writeln!(out, "fn main() {{");
    out.push_str(&rust_standard_array(case));
    let _ = writeln!(out, "    let tensor = Tensor::try_from(&array).unwrap();");
    let _ = writeln!(out, "    macro_rules! ask {{");
    let _ = writeln!(out, "        ($t:ty) => {{{{");
    let _ = writeln!(out, "            let got: Result<ArrayD<$t>, _> = (&tensor).try_into();");
    let _ = writeln!(
        out,
        "            match got {{ Ok(a) => println!(\"{d} tensor as ArrayD<{{}}>: actual Ok({{:?}}), expected an error DIFFERS\", stringify!($t), a.iter().collect::<Vec<_>>()), Err(e) => println!(\"{d} tensor as ArrayD<{{}}>: actual Err({{e}}), expected an error ok\", stringify!($t)) }}"
    );
    let _ = writeln!(out, "        }}}};\n    }}");
    for other in Dtype::ALL.into_iter().filter(|&o| o != d) {
        let _ = writeln!(out, "    ask!({});", rust_type(other));
    }
    let _ = writeln!(out, "}}");
    out
}

fn rust_tch_round_trip(src: &Source<'_>, case: &TensorCase, name: &str) -> String {
    let d = case.dtype();
    let layout = case.layout();
    let inputs = case.logical();
    let mut lowest = layout.offset;
    for (&n, &s) in layout.shape.iter().zip(&layout.strides) {
        if s < 0 {
            lowest -= (n - 1) * s.unsigned_abs();
        }
    }
    let abs: Vec<usize> = layout.strides.iter().map(|s| s.unsigned_abs()).collect();
    let negative: Vec<usize> = (0..layout.strides.len()).filter(|&k| layout.strides[k] < 0).collect();
    let mut out = rust_header(
        src,
        "tch's `TryFrom<&ArrayView>` then `TryInto<ArrayD>` on an ndarray view with the stored layout, which must \
         give the elements back bit for bit, in a tensor of the array's kind.",
        name,
    );
    let axis = if negative.is_empty() { "" } else { "Axis, " };
    let _ =
        writeln!(out, "use ndarray::{{ArrayD, ArrayViewD, {axis}IxDyn, ShapeBuilder}};\nuse tch::{{Kind, Tensor}};\n");
    let _ = writeln!(out, "/// The case's storage: the bits of its {d} elements.");
    let _ = writeln!(out, "const STORAGE: [u64; {}] = {};", case.storage().len(), hex_list(d, case.storage()));
    let _ = writeln!(out, "/// Its elements in logical order.");
    let _ = writeln!(out, "const INPUTS: [u64; {}] = {};\n", inputs.len(), hex_list(d, &inputs));
    let _ = writeln!(out, "fn main() {{");
    let _ = writeln!(
        out,
        "    let storage: Vec<{}> = STORAGE.iter().map(|&b| {}).collect();",
        rust_type(d),
        rust_from_bits(d)
    );
    let _ = writeln!(
        out,
        "    // Shape {:?}, strides {:?}, offset {}: absolute strides from the lowest addressed element, then the\n    // negative axes inverted.",
        layout.shape, layout.strides, layout.offset
    );
    let _ = writeln!(
        out,
        "    let {}view = ArrayViewD::from_shape(IxDyn(&{:?}).strides(IxDyn(&{:?})), &storage[{lowest}..]).unwrap();",
        if negative.is_empty() { "" } else { "mut " },
        layout.shape,
        abs
    );
    for k in &negative {
        let _ = writeln!(out, "    view.invert_axis(Axis({k}));");
    }
    let _ = writeln!(out, "    match Tensor::try_from(&view) {{");
    let _ = writeln!(out, "        Err(e) => println!(\"TryFrom<&ArrayView> of a {d} view with this layout: actual Err({{e}}), expected a tensor DIFFERS\"),");
    let _ = writeln!(out, "        Ok(tensor) => {{");
    let _ = writeln!(out, "            let (kind, expected) = (tensor.kind(), {});", tch_kind(d));
    let _ = writeln!(
        out,
        "            println!(\"tensor kind: actual {{kind:?}}, expected {{expected:?}} {{}}\", if kind == expected {{ \"ok\" }} else {{ \"DIFFERS\" }});"
    );
    let _ = writeln!(out, "            let back: ArrayD<{}> = (&tensor).try_into().unwrap();", rust_type(d));
    let _ = writeln!(out, "            for (k, (y, x)) in back.iter().zip(INPUTS).enumerate() {{");
    let to_bits = match d {
        Dtype::Bool => "u64::from(*y)",
        Dtype::U8 => "u64::from(*y)",
        Dtype::I8 => "*y as u8 as u64",
        Dtype::I16 => "*y as u16 as u64",
        Dtype::I32 => "*y as u32 as u64",
        Dtype::I64 => "*y as u64",
        Dtype::F16 | Dtype::Bf16 => "u64::from(y.to_bits())",
        Dtype::F32 => "u64::from(y.to_bits())",
        Dtype::F64 => "y.to_bits()",
    };
    let _ = writeln!(out, "                let a = {to_bits};");
    let _ = writeln!(out, "                println!(\"back [{{k}}]: actual {{a:#x}}, expected {{x:#x}} {{}}\", if a == x {{ \"ok\" }} else {{ \"DIFFERS\" }});");
    let _ = writeln!(out, "            }}\n        }}\n    }}\n}}");
    out
}

/// Every other dtype, for the programs that ask a question of each.
fn others(d: Dtype) -> impl Iterator<Item = Dtype> {
    Dtype::ALL.into_iter().filter(move |&o| o != d)
}

fn rust_tch_from_tensor(src: &Source<'_>, case: &TensorCase, name: &str) -> String {
    let d = case.dtype();
    let inputs = case.logical();
    let mut out = rust_header(
        src,
        "tensors libtorch made itself (`to_kind` of the stored case into each dtype) through tch's \
         `TryInto<ArrayD<T>>` into the matching element type, which must keep every bit.",
        name,
    );
    let _ = writeln!(out, "use ndarray::ArrayD;\nuse tch::{{Kind, Tensor}};\n");
    let _ = writeln!(out, "/// The case's storage: the bits of its {d} elements.");
    let _ = writeln!(out, "const STORAGE: [u64; {}] = {};\n", inputs.len(), hex_list(d, &inputs));
    let _ = writeln!(out, "fn main() {{");
    out.push_str(&rust_case_tensor(
        &TensorCase::contiguous(d, case.shape(), inputs.clone()).expect("the logical elements"),
    ));
    let _ = writeln!(out, "    macro_rules! check {{");
    let _ = writeln!(out, "        ($t:ty, $kind:expr, $bits:expr) => {{{{");
    let _ = writeln!(out, "            let tensor = x.to_kind($kind);");
    let _ = writeln!(out, "            let array: ArrayD<$t> = (&tensor).try_into().unwrap();");
    let _ = writeln!(out, "            let actual: Vec<u64> = array.iter().map($bits).collect();");
    let _ = writeln!(out, "            let expected = bits(&tensor);");
    let _ = writeln!(
        out,
        "            println!(\"{{:?}} tensor as ArrayD<{{}}>: actual {{actual:x?}}, expected {{expected:x?}} {{}}\", $kind, stringify!($t), if actual == expected {{ \"ok\" }} else {{ \"DIFFERS\" }});"
    );
    let _ = writeln!(out, "        }}}};\n    }}");
    for t in Dtype::ALL {
        let bits = match t {
            Dtype::Bool | Dtype::U8 => "|v| u64::from(*v)",
            Dtype::I8 => "|v| *v as u8 as u64",
            Dtype::I16 => "|v| *v as u16 as u64",
            Dtype::I32 => "|v| *v as u32 as u64",
            Dtype::I64 => "|v| *v as u64",
            Dtype::F16 | Dtype::Bf16 | Dtype::F32 => "|v| u64::from(v.to_bits())",
            Dtype::F64 => "|v| v.to_bits()",
        };
        let _ = writeln!(out, "    check!({}, {}, {bits});", rust_type(t), tch_kind(t));
    }
    out.push_str("}\n");
    out.push_str(&RUST_BITS_FN[..RUST_BITS_FN.find("\n/// Prints each").unwrap_or(RUST_BITS_FN.len())]);
    out
}

fn rust_placement(src: &Source<'_>, case: &TensorCase, name: &str) -> String {
    let d = case.dtype();
    let inputs = case.logical();
    let n = inputs.len();
    let mut out = rust_header(
        src,
        "libtorch's `to_kind` of the same values placed in a 0-d tensor each, a large contiguous tensor (65,536 \
         copies, on 1 and 4 threads) and an every-other-element view, which must all give the same bits.",
        name,
    );
    let _ = writeln!(out, "use tch::{{Kind, Tensor}};\n");
    let _ = writeln!(out, "/// The stored {d} values' bits, in logical order.");
    let _ = writeln!(out, "const STORAGE: [u64; {n}] = {};\n", hex_list(d, &inputs));
    let _ = writeln!(out, "fn main() {{");
    out.push_str(&rust_case_tensor(&TensorCase::contiguous(d, &[n], inputs.clone()).expect("the logical elements")));
    let _ = writeln!(out, "    let n = STORAGE.len() as i64;");
    let _ = writeln!(
        out,
        "    for (name, kind) in [{}] {{",
        others(d)
            .filter(|&t| t != Dtype::Bool)
            .map(|t| format!("(\"{t}\", {})", tch_kind(t)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ =
        writeln!(out, "        let alone: Vec<u64> = (0..n).flat_map(|k| bits(&x.get(k).to_kind(kind))).collect();");
    let _ = writeln!(out, "        let mut places = vec![];");
    let _ = writeln!(out, "        for threads in [1, 4] {{");
    let _ = writeln!(out, "            tch::set_num_threads(threads);");
    let _ = writeln!(out, "            let large = bits(&x.repeat([65536]).to_kind(kind));");
    let _ = writeln!(
        out,
        "            places.push((format!(\"large contiguous, {{threads}} threads\"), large[..n as usize].to_vec()));"
    );
    let _ = writeln!(out, "        }}");
    let _ = writeln!(out, "        let every_other = x.repeat_interleave_self_int(2, 0, None).slice(0, 0, 2 * n, 2);");
    let _ = writeln!(
        out,
        "        places.push((\"every-other-element view\".to_string(), bits(&every_other.to_kind(kind))));"
    );
    let _ = writeln!(out, "        for (place, got) in places {{");
    let _ = writeln!(
        out,
        "            println!(\"to_kind({d}→{{name}}) {{place}}: actual {{got:x?}}, expected {{alone:x?}} (what 0-d tensors give) {{}}\", if got == alone {{ \"ok\" }} else {{ \"DIFFERS\" }});"
    );
    let _ = writeln!(out, "        }}\n    }}\n}}");
    out.push_str(&RUST_BITS_FN[..RUST_BITS_FN.find("\n/// Prints each").unwrap_or(RUST_BITS_FN.len())]);
    out
}

fn python_placement(src: &Source<'_>, case: &TensorCase) -> String {
    let d = case.dtype();
    let inputs = case.logical();
    let from = src.corpus_file.map_or("a run of conform".to_string(), |p| p.display().to_string());
    let int = match d.size_bytes() {
        1 => "torch.uint8",
        2 => "torch.int16",
        4 => "torch.int32",
        _ => "torch.int64",
    };
    let width = d.width();
    let signed = if width == 8 {
        "STORAGE".to_string()
    } else {
        format!("[b - (1 << {width}) if b >= 1 << {} else b for b in STORAGE]", width - 1)
    };
    let targets: Vec<String> =
        others(d).filter(|&t| t != Dtype::Bool).map(|t| format!("(\"{t}\", {})", torch_dtype(t))).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\"\"\"Reproduces {from} ({}: {}) without conform: Tensor.to of the same values placed in a 0-d tensor\neach, a large contiguous tensor (on 1 and 4 threads) and an every-other-element view, which must all give the\nsame bits. Generated by `conform repro` for torch {}. Run: python3 this_file.py\n\"\"\"\nimport torch\n",
        src.property, src.signature, src.libtorch_version
    );
    let _ = writeln!(out, "STORAGE = {}  # the bits of the stored {d} values", hex_list(d, &inputs));
    let _ = writeln!(out, "TARGETS = [{}]\n", targets.join(", "));
    let _ = writeln!(out, "\ndef bits(t):");
    let _ = writeln!(out, "    \"\"\"The bits of every element of t, in logical (row-major) order.\"\"\"");
    let _ = writeln!(out, "    size = t.element_size()");
    let _ = writeln!(out, "    view = {{1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}}[size]");
    let _ = writeln!(out, "    return [v & ((1 << (8 * size)) - 1) for v in t.reshape(-1).view(view).tolist()]\n\n");
    let _ = writeln!(out, "x = torch.tensor({signed}, dtype={int}).view({})", torch_dtype(d));
    let _ = writeln!(out, "n = len(STORAGE)");
    let _ = writeln!(out, "for name, dtype in TARGETS:");
    let _ = writeln!(out, "    alone = [b for k in range(n) for b in bits(x[k].to(dtype))]");
    let _ = writeln!(out, "    places = []");
    let _ = writeln!(out, "    for threads in (1, 4):");
    let _ = writeln!(out, "        torch.set_num_threads(threads)");
    let _ = writeln!(
        out,
        "        places.append((f\"large contiguous, {{threads}} threads\", bits(x.repeat(65536).to(dtype))[:n]))"
    );
    let _ =
        writeln!(out, "    places.append((\"every-other-element view\", bits(x.repeat_interleave(2)[::2].to(dtype))))");
    let _ = writeln!(out, "    for place, got in places:");
    let _ = writeln!(out, "        verdict = \"ok\" if got == alone else \"DIFFERS\"");
    let _ = writeln!(out, "        print(f\"{d}→{{name}} {{place}}: actual {{[hex(b) for b in got]}}, expected {{[hex(b) for b in alone]}} (what 0-d tensors give) {{verdict}}\")");
    out
}

fn rust_tch_placement(src: &Source<'_>, case: &TensorCase, name: &str) -> String {
    let d = case.dtype();
    let inputs = case.logical();
    let n = inputs.len();
    let mut out = rust_header(
        src,
        "tch's conversions of the same values placed in a 0-d array (or tensor) each and in an every-other-element \
         view of a larger one, which must give the same answer.",
        name,
    );
    let _ = writeln!(out, "use ndarray::{{s, Array1, ArrayD}};\nuse tch::Tensor;\n");
    let _ = writeln!(out, "/// The stored {d} values' bits, in logical order.");
    let _ = writeln!(out, "const INPUTS: [u64; {n}] = {};\n", hex_list(d, &inputs));
    let _ = writeln!(out, "fn main() {{");
    let _ = writeln!(
        out,
        "    let values: Vec<{}> = INPUTS.iter().map(|&b| {}).collect();",
        rust_type(d),
        rust_from_bits(d)
    );
    let _ = writeln!(out, "    // Each value alone, as a 0-d array.");
    let _ = writeln!(out, "    for v in &values {{");
    let _ = writeln!(out, "        let alone = ArrayD::from_elem(vec![], *v);");
    let _ = writeln!(out, "        let answer = Tensor::try_from(&alone).map(|t| t.kind());");
    let _ = writeln!(
        out,
        "        let back: Result<ArrayD<{}>, _> = Tensor::try_from(&alone).and_then(|t| (&t).try_into());",
        rust_type(d)
    );
    let _ = writeln!(out, "        println!(\"0-d array: TryFrom gives {{answer:?}}, TryInto back gives {{:?}}\", back.map(|a| a.iter().copied().collect::<Vec<_>>()));");
    let _ = writeln!(out, "    }}");
    let _ = writeln!(out, "    // The same values at every other element of a larger array (65,536 of them, tiled).");
    let _ = writeln!(
        out,
        "    let tiled: Vec<{}> = values.iter().cycle().take(65536).flat_map(|&v| [v, v]).collect();",
        rust_type(d)
    );
    let _ = writeln!(out, "    let whole = Array1::from(tiled);");
    let _ = writeln!(out, "    let every_other = whole.slice(s![..;2]);");
    let _ = writeln!(out, "    let answer = Tensor::try_from(&every_other).map(|t| t.kind());");
    let _ = writeln!(out, "    println!(\"every-other-element view: actual {{answer:?}}, expected Ok (as for the 0-d arrays) {{}}\", if answer.is_ok() {{ \"ok\" }} else {{ \"DIFFERS\" }});");
    let _ = writeln!(out, "    // And a tensor view of the same shape back into an array.");
    let _ = writeln!(out, "    let tensor = Tensor::try_from(&whole).unwrap().slice(0, 0, None, 2);");
    let _ = writeln!(out, "    let back: Result<ArrayD<{}>, _> = (&tensor).try_into();", rust_type(d));
    let _ = writeln!(out, "    println!(\"every-other-element tensor: TryInto gives {{:?}}\", back.map(|a| a.len()));");
    let _ = writeln!(out, "}}");
    out
}

fn python_to_kind(src: &Source<'_>, case: &TensorCase, targets: &[Dtype]) -> String {
    let d = case.dtype();
    let inputs = case.logical();
    let (storage, layout_line) = match strided(case.layout()) {
        Some(_) => (
            case.storage().to_vec(),
            format!(
                "x = x.as_strided({}, {}, {})",
                py_tuple(&case.layout().shape.iter().map(|&n| n as i64).collect::<Vec<_>>()),
                py_tuple(&case.layout().strides.iter().map(|&s| s as i64).collect::<Vec<_>>()),
                case.layout().offset
            ),
        ),
        None => (
            inputs.clone(),
            format!(
                "# torch cannot hold negative strides: the logical elements, in order, stand for the case's layout.\nx = x.reshape({})",
                py_tuple(&case.shape().iter().map(|&n| n as i64).collect::<Vec<_>>())
            ),
        ),
    };
    let from = src.corpus_file.map_or("a run of conform".to_string(), |p| p.display().to_string());
    let int = match d.size_bytes() {
        1 => "torch.uint8",
        2 => "torch.int16",
        4 => "torch.int32",
        _ => "torch.int64",
    };
    let width = d.width();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\"\"\"Reproduces {from} ({}: {}) without conform: torch's Tensor.to on the stored case, next to the\ncorrectly rounded (or truncated) result. Generated by `conform repro` for torch {} (libtorch {}).\nRun: python3 this_file.py\n\"\"\"\nimport torch\n",
        src.property, src.signature, src.libtorch_version, src.libtorch_version
    );
    let _ = writeln!(out, "# The case's storage: the bits of its {d} elements; then its elements in logical order.");
    let _ = writeln!(out, "STORAGE = {}", hex_list(d, &storage));
    let _ = writeln!(out, "INPUTS = {}\n", hex_list(d, &inputs));
    let _ = writeln!(out, "CHECKS = [");
    for &t in targets {
        let want: Vec<Option<u64>> = inputs.iter().map(|&x| expected(d, x, t)).collect();
        let _ = writeln!(out, "    (\"{d}→{t}\", {}, {}),", torch_dtype(t), hex_opt(t, &want, "None", |h| h));
    }
    let _ = writeln!(out, "]\n");
    let _ = writeln!(out, "\ndef bits(t):");
    let _ = writeln!(out, "    \"\"\"The bits of every element of t, in logical (row-major) order.\"\"\"");
    let _ = writeln!(out, "    size = t.element_size()");
    let _ = writeln!(out, "    view = {{1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}}[size]");
    let _ = writeln!(out, "    return [v & ((1 << (8 * size)) - 1) for v in t.reshape(-1).view(view).tolist()]\n\n");
    let signed = if width == 8 {
        "STORAGE".to_string()
    } else {
        format!("[b - (1 << {width}) if b >= 1 << {} else b for b in STORAGE]", width - 1)
    };
    let _ = writeln!(out, "x = torch.tensor({signed}, dtype={int}).view({})", torch_dtype(d));
    let _ = writeln!(out, "{layout_line}");
    let _ = writeln!(out, "for name, dtype, expected in CHECKS:");
    let _ = writeln!(out, "    for k, (x_bits, a, e) in enumerate(zip(INPUTS, bits(x.to(dtype)), expected)):");
    let _ = writeln!(
        out,
        "        verdict = \"implementation-defined\" if e is None else (\"ok\" if a == e else \"DIFFERS\")"
    );
    let _ = writeln!(out, "        want = \"-\" if e is None else hex(e)");
    let _ = writeln!(
        out,
        "        print(f\"{{name}} [{{k}}] x={{x_bits:#x}}: actual {{a:#x}}, expected {{want}} {{verdict}}\")"
    );
    out
}

fn py_tuple(items: &[i64]) -> String {
    match items {
        [] => "()".into(),
        [one] => format!("({one},)"),
        _ => format!("({})", items.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

/// The first element where `op` (run here) disagrees with the oracle: (index, input, actual, expected).
fn first_difference(op: &CastOp, case: &TensorCase, target: Dtype) -> Option<(usize, u64, u64, u64)> {
    let actual = op.apply(case, target).ok()?;
    let d = case.dtype();
    case.logical().into_iter().zip(actual).enumerate().find_map(|(k, (x, a))| {
        let e = expected(d, x, target)?;
        let nan_ok = target.float_format().is_some_and(|f| f.is_nan(a) && f.is_nan(e));
        (a != e && !nan_ok).then_some((k, x, a, e))
    })
}

/// A draft upstream issue in Markdown.
fn issue(src: &Source<'_>, case: &TensorCase, kind: Program, program: Option<&str>) -> String {
    let d = case.dtype();
    let machine = machine();
    let (repo, title, actual) = match kind {
        Program::ToKind(_) | Program::Half(_) | Program::ToKindAndHalf | Program::Mapv => {
            let (op, repo, targets): (CastOp, &str, Vec<Dtype>) = match kind {
                Program::ToKind(t) => (CastOp::to_kind(), "pytorch/pytorch", t.to_vec()),
                Program::Half(t) => (CastOp::half_crate(), "starkat99/half-rs", vec![t]),
                Program::ToKindAndHalf => (CastOp::to_kind(), "pytorch/pytorch", vec![Dtype::F16, Dtype::Bf16]),
                _ => (
                    CastOp::ndarray_mapv(),
                    "rust-lang/rust (the `as` cast) or rust-ndarray/ndarray",
                    vec![Dtype::F32, Dtype::F64],
                ),
            };
            let found = targets.iter().find_map(|&t| first_difference(&op, case, t).map(|f| (t, f)));
            match found {
                Some((t, (k, x, a, e))) => (
                    repo,
                    format!(
                        "{} of {d} {} gives {} ({}); the correctly rounded {t} is {} ({})",
                        describe_op(kind, d, t),
                        d.render(x),
                        t.hex(a),
                        t.render(a),
                        t.hex(e),
                        t.render(e)
                    ),
                    format!(
                        "Element {k} of the case, x = {} ({}), converted to {t}: actual {} ({}), expected {} ({}).",
                        d.hex(x),
                        d.render(x),
                        t.hex(a),
                        t.render(a),
                        t.hex(e),
                        t.render(e)
                    ),
                ),
                None => (
                    repo,
                    format!("{}: {}", src.property, src.signature),
                    format!(
                        "On this machine the case does not deviate any more; when it was recorded: {}",
                        src.message
                    ),
                ),
            }
        }
        Program::TchArrayKind
        | Program::TchToArray
        | Program::TchRoundTrip
        | Program::TchFromTensor
        | Program::TchPlacement => {
            ("LaurentMazare/tch-rs", format!("tch {}: {}", src.tch_version, src.signature), src.message.to_string())
        }
        Program::Placement => {
            ("pytorch/pytorch", format!("{}: {}", src.property, src.signature), src.message.to_string())
        }
        Program::Conform => {
            ("(conform itself)", format!("{}: {}", src.property, src.signature), src.message.to_string())
        }
    };
    let why = src.reason.unwrap_or("conform recorded this deviation without a reviewed reason; see the message above.");
    let mut out = String::new();
    let _ = writeln!(out, "Title: {title}\n");
    let _ = writeln!(out, "Repository: {repo}\n");
    let _ = writeln!(out, "## Versions\n");
    let _ = writeln!(
        out,
        "- libtorch {} (the PyPI torch=={} wheel), tch {}, half {HALF_VERSION}, ndarray {NDARRAY_VERSION}\n- {machine}\n",
        src.libtorch_version, src.libtorch_version, src.tch_version
    );
    let _ = writeln!(out, "## Expected vs actual\n");
    let _ = writeln!(out, "{actual}\n");
    let _ = writeln!(
        out,
        "The expected value is exact: IEEE 754 round-to-nearest-even computed from the bits (for integer targets, \
         truncation toward zero), by conform's oracle, which is checked exhaustively on f16/bf16 and against a \
         second oracle (rustc_apfloat).\n"
    );
    let _ = writeln!(out, "## Why\n\n{why}\n");
    if let Some(program) = program {
        let lang = if program.starts_with("\"\"\"") { "python" } else { "rust" };
        let _ = writeln!(out, "## Reproduction\n\n```{lang}\n{}```\n", program);
    }
    let from = src.corpus_file.map_or("a run".to_string(), |p| p.display().to_string());
    let _ = writeln!(out, "Found by conform (property `{}`, case {from}).", src.property);
    out
}

fn describe_op(kind: Program, source: Dtype, target: Dtype) -> String {
    match kind {
        Program::ToKind(_) | Program::ToKindAndHalf => format!("`Tensor.to({})`", torch_dtype(target)),
        Program::Half(_) => {
            let ty = if target == Dtype::F16 { "f16" } else { "bf16" };
            let from = if source == Dtype::F32 { "from_f32" } else { "from_f64" };
            format!("`half::{ty}::{from}`")
        }
        _ => format!("`x as {target}`"),
    }
}

/// The machine a statement holds on: architecture, OS, and on x86-64 whether the CPU has F16C (which decides the
/// half crate's f16 conversion path).
pub fn machine() -> String {
    let arch = std::env::consts::ARCH;
    let os = std::env::consts::OS;
    #[cfg(target_arch = "x86_64")]
    let extra = if std::arch::is_x86_feature_detected!("f16c") { ", CPU with F16C" } else { ", CPU without F16C" };
    #[cfg(not(target_arch = "x86_64"))]
    let extra = "";
    format!("{arch} {os}{extra}")
}

/// Reproductions of every stored case behind `report`: each known deviation's evidence and each counterexample
/// (with its corpus file when it came from one), once per property, signature and case.
pub fn attach(report: &mut conform_reports::Report, known: &[crate::known::KnownDeviation]) {
    let versions = (report.libtorch_version.clone(), report.tch_version.clone());
    let mut out: Vec<Reproduction> = Vec::new();
    for p in &report.properties {
        for k in known.iter().filter(|k| k.property == p.name && p.known.iter().any(|r| r.signature == k.signature)) {
            let message = p.known.iter().find(|r| r.signature == k.signature).map(|r| r.replay_message.clone());
            out.push(reproduce(&Source {
                property: &p.name,
                signature: &k.signature,
                message: message.as_deref().unwrap_or(""),
                case: &k.evidence,
                libtorch_version: &versions.0,
                tch_version: &versions.1,
                corpus_file: Some(&k.evidence_path),
                reason: Some(&k.reason),
            }));
        }
        if let Some(c) = &p.counterexample {
            if let Ok(case) = serde_json::from_value::<Case>(c.case.clone()) {
                let file = c.corpus_file.as_deref().map(Path::new);
                out.push(reproduce(&Source {
                    property: &p.name,
                    signature: &c.signature,
                    message: &c.message,
                    case: &case,
                    libtorch_version: &versions.0,
                    tch_version: &versions.1,
                    corpus_file: file,
                    reason: None,
                }));
            }
        }
    }
    report.reproductions = out;
}

/// The text `conform repro FILE` prints: the Rust program, the Python program and the issue draft, each under a
/// heading.
pub fn render(r: &Reproduction) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# {} ({}): {}, culprit: {}\n",
        r.property,
        r.corpus_file.as_deref().unwrap_or("run"),
        r.signature,
        r.culprit
    );
    match &r.rust {
        Some(rust) => {
            let _ = writeln!(out, "## Rust\n\n{rust}");
        }
        None => {
            let _ = writeln!(
                out,
                "## Rust\n\n(none: {}; `conform replay` reproduces it)\n",
                if r.culprit == "conform" {
                    "the deviation is in conform's own machinery"
                } else {
                    "no standalone program for this kind of case yet"
                }
            );
        }
    }
    if let Some(py) = &r.python {
        let _ = writeln!(out, "## Python\n\n{py}");
    }
    let _ = writeln!(out, "## Draft upstream issue\n\n{}", r.issue);
    out
}

/// `conform repro FILE…`.
#[derive(Debug, Args)]
pub struct ReproArgs {
    /// Corpus files (default: every accepted file).
    #[arg(value_name = "FILE")]
    paths: Vec<PathBuf>,
    /// Also write each reproduction into DIR: NAME.rs (a cargo example), NAME.py and NAME.issue.md.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The regression corpus [env: CONFORM_CORPUS] [default: corpus]
    #[arg(long, value_name = "DIR")]
    corpus: Option<PathBuf>,
    /// The known deviations file, for the reviewed reasons [env: CONFORM_KNOWN] [default: known-deviations.toml]
    #[arg(long, value_name = "FILE")]
    known: Option<PathBuf>,
}

/// The reproductions of corpus files, with the reviewed reasons of their known deviations; a file that cannot be
/// loaded is an error naming it.
pub fn reproduce_files(
    paths: &[PathBuf],
    corpus_dir: Option<PathBuf>,
    known_file: Option<PathBuf>,
) -> Result<Vec<Reproduction>> {
    use crate::error::UsageError;
    let all = conform_properties::registry();
    let names: Vec<&str> = all.iter().map(|p| p.name).collect();
    let corpus = crate::corpus::Corpus::new(crate::config::corpus_dir(corpus_dir));
    let named = known_file.is_some() || std::env::var_os("CONFORM_KNOWN").is_some();
    let if_missing = if named { crate::known::IfMissing::Error } else { crate::known::IfMissing::NoDeviations };
    let known = crate::known::load(&crate::config::known_path(known_file), if_missing, &corpus, &names)
        .map_err(|e| UsageError { hint: e.hint(), message: e.to_string() })?;
    let paths = if paths.is_empty() { corpus.accepted() } else { paths.to_vec() };
    if paths.is_empty() {
        return Err(
            UsageError::new(format!("no corpus file under {}", corpus.root.display()), "name corpus files").into()
        );
    }
    conform_properties::init_libtorch(1);
    let mut out = Vec::new();
    for path in &paths {
        let loaded = corpus
            .load(path, &names)
            .map_err(|e| UsageError { hint: e.hint(), message: format!("{}: {}", path.display(), e.kind) })?;
        let e = &loaded.entry;
        let reason =
            known.iter().find(|k| k.property == e.property && k.signature == e.signature).map(|k| k.reason.as_str());
        out.push(reproduce(&Source {
            property: &e.property,
            signature: &e.signature,
            message: &e.message,
            case: &e.case,
            libtorch_version: &e.libtorch_version,
            tch_version: &e.tch_version,
            corpus_file: Some(path),
            reason,
        }));
    }
    Ok(out)
}

/// `conform repro`: prints (and with `--out` writes) each file's reproductions. Exit 0, or 2 for a file that cannot
/// be used.
pub fn run(args: ReproArgs) -> Result<u8> {
    let reproductions = reproduce_files(&args.paths, args.corpus, args.known)?;
    let mut text = String::new();
    for r in &reproductions {
        text.push_str(&render(r));
        if let Some(dir) = &args.out {
            let written = write_files(r, dir)?;
            let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
            let _ = writeln!(text, "written: {}\n", names.join(", "));
        }
    }
    use std::io::Write as _;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(0)
}

/// Writes `r`'s texts into `dir` as NAME.rs, NAME.py and NAME.issue.md (NAME from [`example_name`]).
pub fn write_files(r: &Reproduction, dir: &Path) -> Result<Vec<PathBuf>> {
    use anyhow::Context as _;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create folder {}", dir.display()))?;
    let name = example_name(&r.property, r.corpus_file.as_deref().map(Path::new));
    let mut written = Vec::new();
    for (ext, text) in [("rs", r.rust.as_deref()), ("py", r.python.as_deref()), ("issue.md", Some(r.issue.as_str()))] {
        if let Some(text) = text {
            let path = dir.join(format!("{name}.{ext}"));
            std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
            written.push(path);
        }
    }
    Ok(written)
}

// ---------------------------------------------------------------------------------------------------------------
// Shared by the file and API reproductions.

/// The part of a property's name after its family.
fn short(property: &str) -> &str {
    property.split_once("::").map_or(property, |(_, s)| s)
}

/// A reproduction whose issue draft is already written.
fn assembled(src: &Source<'_>, culprit: &str, rust: String, python: Option<String>, issue: String) -> Reproduction {
    Reproduction {
        property: src.property.to_string(),
        signature: src.signature.to_string(),
        corpus_file: src.corpus_file.map(|p| p.display().to_string()),
        case: serde_json::to_value(src.case).expect("a case serialises"),
        message: src.message.to_string(),
        culprit: culprit.to_string(),
        issue,
        rust: Some(rust),
        python,
    }
}

/// The upstream repository of a culprit.
fn repository(culprit: &str) -> &'static str {
    match culprit {
        "tch" => "LaurentMazare/tch-rs",
        "ndarray-npy" => "jturner314/ndarray-npy",
        "libtorch" => "pytorch/pytorch",
        "libtorch and tch" => "LaurentMazare/tch-rs (the safe fn) and pytorch/pytorch (the unchecked op)",
        _ => "not determined",
    }
}

/// A draft upstream issue whose expected side is conform's judgement (NumPy's reading rules, PyTorch's
/// documentation) rather than a rounding oracle: `body` says what was expected and what came back.
fn draft(src: &Source<'_>, culprit: &str, title: &str, body: &str, program: &str) -> String {
    let why = src.reason.unwrap_or("conform recorded this deviation without a reviewed reason; see the message above.");
    let from = src.corpus_file.map_or("a run".to_string(), |p| p.display().to_string());
    let mut out = String::new();
    let _ = writeln!(out, "Title: {title}\n");
    let _ = writeln!(out, "Repository: {}\n", repository(culprit));
    let _ = writeln!(out, "## Versions\n");
    let _ = writeln!(
        out,
        "- libtorch {} (the PyPI torch=={} wheel), tch {}, ndarray {NDARRAY_VERSION}, ndarray-npy {NDARRAY_NPY_VERSION}\n- {}\n",
        src.libtorch_version,
        src.libtorch_version,
        src.tch_version,
        machine()
    );
    let _ = writeln!(out, "## Expected vs actual\n\n{body}\n");
    let _ = writeln!(out, "## Why\n\n{why}\n");
    let _ = writeln!(out, "## Reproduction\n\n```rust\n{program}```\n");
    let _ = writeln!(out, "Found by conform (property `{}`, case {from}).", src.property);
    out
}

/// A Rust string literal of `text`.
fn rust_str(text: &str) -> String {
    format!("{text:?}")
}

/// `[0x93, 0x4e, …]`, sixteen to a line, indented for a `const`.
fn byte_array(bytes: &[u8]) -> String {
    let lines: Vec<String> = bytes
        .chunks(16)
        .map(|c| format!("    {},", c.iter().map(|b| format!("0x{b:02x}")).collect::<Vec<_>>().join(", ")))
        .collect();
    if lines.is_empty() {
        "[]".into()
    } else {
        format!("[\n{}\n]", lines.join("\n"))
    }
}

/// The little-endian bytes of `bits`, elements of `d`.
fn le_bytes(d: Dtype, bits: &[u64]) -> Vec<u8> {
    bits.iter().flat_map(|b| b.to_le_bytes().into_iter().take(d.size_bytes())).collect()
}

/// `&[1i64, 2][..]`: a Rust slice of i64.
fn rust_i64s(items: &[i64]) -> String {
    match items.split_first() {
        None => "&[0i64; 0][..]".into(),
        Some((first, rest)) => {
            format!("&[{first}i64{}][..]", rest.iter().map(|v| format!(", {v}")).collect::<String>())
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Files: the bytes of a .npy/.npz through the reader at fault, next to what NumPy reads from them.

/// The reader of a hostile-file property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileReader {
    TchNpy,
    TchNpz,
    NdarrayNpy,
    NdarrayNpz,
}

impl FileReader {
    fn of(property: &str) -> Option<FileReader> {
        match short(property) {
            "hostile_npy_tch_read_npy" => Some(FileReader::TchNpy),
            "hostile_npz_tch_read_npz" => Some(FileReader::TchNpz),
            "hostile_npy_ndarray_npy" => Some(FileReader::NdarrayNpy),
            "hostile_npz_ndarray_npy" => Some(FileReader::NdarrayNpz),
            _ => None,
        }
    }

    fn culprit(self) -> &'static str {
        match self {
            FileReader::TchNpy | FileReader::TchNpz => "tch",
            FileReader::NdarrayNpy | FileReader::NdarrayNpz => "ndarray-npy",
        }
    }

    fn npz(self) -> bool {
        matches!(self, FileReader::TchNpz | FileReader::NdarrayNpz)
    }
}

/// A round trip of the files family on tensor cases: which format, and whether tch writes (ndarray-npy reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Trip {
    npz: bool,
}

impl Trip {
    /// The round trips whose writer is tch's (`None` for the others, whose writer is ndarray-npy's: no program yet).
    fn of(property: &str) -> Option<Trip> {
        if !property.starts_with("files::") {
            return None;
        }
        match short(property) {
            "npy_tch_to_ndarray_npy" => Some(Trip { npz: false }),
            "npz_tch_to_ndarray_npy" => Some(Trip { npz: true }),
            _ => None,
        }
    }
}

/// The text shared by the file programs: what a reader returned, what NumPy makes of a file, and the comparison.
const RUST_ANSWER: &str = r#"
/// What a reader returned: Ok((element type, shape, little-endian bytes)) or its error.
type Answer = Result<(String, Vec<i64>, Vec<u8>), String>;

/// What NumPy makes of a file or an archive member (conform's NumPy-rules reader, when this program was generated).
#[allow(dead_code)]
enum Numpy {
    /// NumPy reads this array (element type, shape, little-endian bytes); a reader may also refuse the file.
    Reads(&'static str, &'static [i64], &'static [u8]),
    /// The file was written from this array, and NumPy reads it back: a reader must give it back too.
    Wrote(&'static str, &'static [i64], &'static [u8]),
    /// NumPy refuses the file, for this reason: a reader must refuse it too.
    Refuses(&'static str),
    /// NumPy reads it as a type conform does not model: not judged.
    Outside(&'static str),
}

/// What NumPy makes of an archive: its members, or why it refuses the whole file.
#[allow(dead_code)]
enum Archive {
    Members(&'static [(&'static str, Numpy)]),
    Refuses(&'static str),
    Outside(&'static str),
}

/// The first line of an error (libtorch's carry a C++ backtrace after it).
fn first_line(e: impl std::fmt::Display) -> String {
    e.to_string().lines().next().unwrap_or("").to_string()
}

/// At most 16 bytes of `b` in hex, and how many there are.
fn bytes(b: &[u8]) -> String {
    let shown: Vec<String> = b.iter().take(16).map(|x| format!("{x:02x}")).collect();
    format!("[{}{}] ({} bytes)", shown.join(" "), if b.len() > 16 { " …" } else { "" }, b.len())
}

fn shown(answer: &Answer) -> String {
    match answer {
        Ok((t, shape, b)) => format!("Ok: {t} shape {shape:?} bytes {}", bytes(b)),
        Err(e) => format!("Err({e})"),
    }
}

/// Prints a reader's answer next to NumPy's, and whether it is one the reader may give.
fn report(what: &str, actual: &Answer, numpy: &Numpy) {
    let (expected, verdict) = match (numpy, actual) {
        (Numpy::Reads(t, shape, b) | Numpy::Wrote(t, shape, b), Ok(got)) => {
            let same = got.0 == *t && got.1.as_slice() == *shape && got.2.as_slice() == *b;
            (format!("{t} shape {shape:?} bytes {}", bytes(b)), if same { "ok" } else { "DIFFERS" })
        }
        (Numpy::Reads(t, shape, b), Err(_)) => {
            (format!("{t} shape {shape:?} bytes {} (what NumPy reads) or an error", bytes(b)), "ok")
        }
        (Numpy::Wrote(t, shape, b), Err(_)) => {
            (format!("{t} shape {shape:?} bytes {} (the array written, which NumPy reads)", bytes(b)), "DIFFERS")
        }
        (Numpy::Refuses(why), Ok(_)) => (format!("an error, as NumPy refuses the file ({why})"), "DIFFERS"),
        (Numpy::Refuses(why), Err(_)) => (format!("an error, as NumPy refuses the file ({why})"), "ok"),
        (Numpy::Outside(descr), _) => (format!("NumPy reads it as {descr} (not judged)"), "-"),
    };
    println!("{what}: actual {}, expected {expected} {verdict}", shown(actual));
}

/// Prints an archive reader's answer: one error for the whole file, or each member's next to NumPy's.
#[allow(dead_code)]
fn report_archive(reader: &str, got: Result<Vec<(String, Answer)>, String>, numpy: &'static Archive) {
    let members = match (got, numpy) {
        (Err(e), Archive::Refuses(why)) => {
            return println!("{reader}: actual Err({e}), expected an error, as NumPy refuses the archive ({why}) ok")
        }
        (Err(e), Archive::Outside(why)) => return println!("{reader}: actual Err({e}), not judged ({why}) -"),
        (Err(e), Archive::Members(_)) => {
            return println!("{reader}: actual Err({e}), expected NumPy's members or an error ok")
        }
        (Ok(members), _) => members,
    };
    for (name, answer) in &members {
        let what = format!("{reader}, member {name}");
        match numpy {
            Archive::Refuses(why) => report(&what, answer, &Numpy::Refuses(why)),
            Archive::Outside(why) => println!("{what}: actual {}, not judged ({why}) -", shown(answer)),
            Archive::Members(all) => match all.iter().find(|(n, _)| n == name) {
                Some((_, m)) => report(&what, answer, m),
                None => println!("{what}: actual {}, expected no such member DIFFERS", shown(answer)),
            },
        }
    }
    if let Archive::Members(all) = numpy {
        if members.len() < all.len() {
            println!("{reader}: actual {} members, expected the archive's {} DIFFERS", members.len(), all.len());
        }
    }
}
"#;

/// How the file programs read a tensor's answer.
const RUST_TENSOR_ANSWER: &str = r#"
/// A tensor's answer: its kind (as NumPy's element type), shape and bytes.
fn tensor_answer(t: &Tensor) -> Answer {
    let kind = t.f_kind().map_err(first_line)?;
    let name = match kind {
        Kind::Bool => "bool",
        Kind::Uint8 => "u8",
        Kind::Int8 => "i8",
        Kind::Int16 => "i16",
        Kind::Int => "i32",
        Kind::Int64 => "i64",
        Kind::Half => "f16",
        Kind::BFloat16 => "bf16",
        Kind::Float => "f32",
        Kind::Double => "f64",
        other => return Ok((format!("{other:?}"), t.size(), Vec::new())),
    };
    let numel = t.numel();
    let mut b = vec![0u8; numel * kind.elt_size_in_bytes()];
    t.f_copy_data_u8(&mut b, numel).map_err(first_line)?;
    Ok((name.to_string(), t.size(), b))
}
"#;

/// How the file programs read an ndarray-npy array's answer.
const RUST_ARRAY_ANSWER: &str = r#"
/// An ndarray-npy element type: its name and an element's little-endian bytes.
trait Element: ndarray_npy::ReadableElement {
    const NAME: &'static str;
    fn le_bytes(&self) -> Vec<u8>;
}

impl Element for bool {
    const NAME: &'static str = "bool";
    fn le_bytes(&self) -> Vec<u8> {
        vec![u8::from(*self)]
    }
}

macro_rules! element {
    ($($t:ty),*) => {$(
        impl Element for $t {
            const NAME: &'static str = stringify!($t);
            fn le_bytes(&self) -> Vec<u8> {
                self.to_le_bytes().to_vec()
            }
        }
    )*};
}
element!(u8, i8, i16, i32, i64, f32, f64);

/// An array's answer.
fn array_answer<T: Element, E: std::fmt::Display>(got: Result<ndarray::ArrayD<T>, E>) -> Answer {
    let a = got.map_err(first_line)?;
    Ok((T::NAME.to_string(), a.shape().iter().map(|&n| n as i64).collect(), a.iter().flat_map(|v| v.le_bytes()).collect()))
}
"#;

/// conform's f16 element for ndarray-npy (which has none), for programs that read one.
const RUST_F16_ELEMENT: &str = r#"
/// f16 for ndarray-npy (which has none): the bits, read as `<f2`/`>f2` the way ndarray-npy reads its own two-byte
/// integers (the whole output allocated from the header's count first), as conform reads them.
#[derive(Clone, Copy)]
#[allow(non_camel_case_types)]
struct f16(u16);

impl Element for f16 {
    const NAME: &'static str = "f16";
    fn le_bytes(&self) -> Vec<u8> {
        self.0.to_le_bytes().to_vec()
    }
}

impl ndarray_npy::ReadableElement for f16 {
    fn read_to_end_exact_vec<R: std::io::Read>(
        mut reader: R,
        type_desc: &py_literal::Value,
        len: usize,
    ) -> Result<Vec<Self>, ndarray_npy::ReadDataError> {
        let mut out = vec![f16(0); len];
        let big = match type_desc {
            py_literal::Value::String(s) if s == "<f2" => false,
            py_literal::Value::String(s) if s == ">f2" => true,
            other => return Err(ndarray_npy::ReadDataError::WrongDescriptor(other.clone())),
        };
        for x in out.iter_mut() {
            let mut pair = [0u8; 2];
            reader.read_exact(&mut pair)?;
            x.0 = if big { u16::from_be_bytes(pair) } else { u16::from_le_bytes(pair) };
        }
        let extra = reader.read_to_end(&mut Vec::new())?;
        if extra != 0 {
            return Err(ndarray_npy::ReadDataError::ExtraBytes(extra));
        }
        Ok(out)
    }
}
"#;

/// The ndarray-npy element type a program asks for, for a dtype (`None`: ndarray-npy has none, bf16).
fn npy_element(d: Dtype) -> Option<&'static str> {
    match d {
        Dtype::Bf16 => None,
        Dtype::F16 => Some("f16"),
        other => Some(rust_type(other)),
    }
}

/// The expression of an ndarray-npy answer for `d` from `read` (generic in the element type `T`).
fn array_answer_of(d: Dtype, read: &str) -> String {
    match npy_element(d) {
        Some(t) => format!("array_answer({})", read.replace("{T}", t)),
        None => "Err(\"ndarray-npy has no element type for bf16\".to_string())".into(),
    }
}

/// A Rust `Numpy` value for what NumPy makes of one `.npy`.
fn numpy_value(npy: &Npy) -> String {
    match npy {
        Npy::Valid(a) => {
            let shape: Vec<i64> = a.shape.iter().map(|&n| n as i64).collect();
            format!("Numpy::Reads({:?}, &{shape:?}, &{:?})", a.dtype.to_string(), le_bytes(a.dtype, &a.bits))
        }
        Npy::Invalid(e) => format!("Numpy::Refuses({})", rust_str(&format!("{}: {}", e.class, e.detail))),
        Npy::Outside(d) => format!("Numpy::Outside({})", rust_str(d)),
    }
}

/// The same, in words, for the issue draft.
fn numpy_words(npy: &Npy) -> String {
    match npy {
        Npy::Valid(a) => {
            let values: Vec<String> = a.bits.iter().take(8).map(|&b| a.dtype.render(b)).collect();
            let more = if a.bits.len() > 8 { ", …" } else { "" };
            format!("NumPy reads {} shape {:?}: [{}{more}]", a.dtype, a.shape, values.join(", "))
        }
        Npy::Invalid(e) => format!("NumPy refuses it ({}: {})", e.class, e.detail),
        Npy::Outside(d) => format!("NumPy reads it as {d}, a type conform does not judge"),
    }
}

/// What the program should say happens in the read, from the stored signature (crashes, allocations).
fn read_comment(src: &Source<'_>, file_len: usize) -> String {
    let bound = conform_properties::files::memory::bound(file_len);
    let attempted = conform_properties::files::memory::attempted_allocation(src.message);
    let asked = attempted.map_or(String::new(), |n| format!(" ({n} bytes asked for)"));
    if src.signature.contains("SIGSEGV") {
        "    // This read crashes: conform's worker died of SIGSEGV in it.\n".into()
    } else if src.signature.contains("SIGABRT") {
        format!(
            "    // This read aborts (SIGABRT) under the limit above: an allocation beyond it failed{asked}. Without the\n    \
             // limit the allocation is made (committed lazily) and the read goes on.\n"
        )
    } else if src.signature.contains("allocate") {
        format!(
            "    // This read asks for more than the limit above{asked}, {bound} bytes for this file: under the limit it\n    \
             // returns the allocation error; without it the allocation is made and the read goes on.\n"
        )
    } else {
        String::new()
    }
}

/// The lines that put the process under conform's memory bound for a file of `file_len` bytes (only for the
/// signatures that are about memory: elsewhere the read runs as a user's would).
fn rlimit_lines(src: &Source<'_>, file_len: usize) -> String {
    if !(src.signature.contains("SIGABRT") || src.signature.contains("allocate")) {
        return String::new();
    }
    let bound = conform_properties::files::memory::bound(file_len);
    format!(
        "    // conform reads under RLIMIT_AS: the address space in use now + 64 × the file's size + 256 MiB.\n    \
         let status = std::fs::read_to_string(\"/proc/self/status\").unwrap();\n    \
         let vm_kb: u64 = status.lines().find(|l| l.starts_with(\"VmSize:\")).and_then(|l| l.split_whitespace().nth(1)).unwrap().parse().unwrap();\n    \
         let (_, hard) = rlimit::getrlimit(rlimit::Resource::AS).unwrap();\n    \
         rlimit::setrlimit(rlimit::Resource::AS, (vm_kb * 1024 + {bound}).min(hard), hard).unwrap();\n"
    )
}

/// The reproduction of a hostile file: its bytes through the reader at fault, next to NumPy's reading.
fn reproduce_file(src: &Source<'_>, file: &FileCase) -> Reproduction {
    let Some(reader) = FileReader::of(src.property).filter(|r| r.npz() == (file.format() == FileFormat::Npz)) else {
        return without_program(src);
    };
    let name = example_name(src.property, src.corpus_file);
    let bytes = file.bytes();
    let len = bytes.len();
    let ext = if reader.npz() { "npz" } else { "npy" };
    let tch_reader = matches!(reader, FileReader::TchNpy | FileReader::TchNpz);
    let what = match reader {
        FileReader::TchNpy => "tch's `Tensor::read_npy` on the stored file",
        FileReader::TchNpz => "tch's `Tensor::read_npz` on the stored archive",
        FileReader::NdarrayNpy => "ndarray-npy's `ReadNpyExt::read_npy` on the stored file",
        FileReader::NdarrayNpz => "ndarray-npy's `NpzReader` on the stored archive",
    };
    let what = format!("{what}, next to what NumPy reads from it (an error where NumPy refuses it).");
    let mut deps = if tch_reader { vec![format!("tch {}", src.tch_version)] } else { vec!["ndarray 0.16".into(), "ndarray-npy 0.9".into()] };
    if !rlimit_lines(src, len).is_empty() {
        deps.push("rlimit 0.11".into());
    }
    let mut out = String::new();
    // What NumPy makes of it, and (for ndarray-npy) the element type asked for per member.
    let (numpy, words, asked): (String, String, Vec<(String, Dtype)>) = if reader.npz() {
        match oracle::read_npz(bytes) {
            Npz::Valid(members) => {
                let items: Vec<String> =
                    members.iter().map(|(n, m)| format!("    ({}, {}),", rust_str(n), numpy_value(m))).collect();
                let words: Vec<String> = members.iter().map(|(n, m)| format!("member {n}: {}", numpy_words(m))).collect();
                let asked = members
                    .iter()
                    .map(|(n, m)| (n.clone(), if let Npy::Valid(a) = m { a.dtype } else { file.dtype() }))
                    .collect();
                (format!("Archive::Members(&[\n{}\n])", items.join("\n")), words.join("; "), asked)
            }
            Npz::Invalid(e) => (
                format!("Archive::Refuses({})", rust_str(&format!("{}: {}", e.class, e.detail))),
                format!("NumPy refuses the archive ({}: {})", e.class, e.detail),
                Vec::new(),
            ),
            Npz::Outside(why) => (
                format!("Archive::Outside({})", rust_str(&why)),
                format!("the archive is beyond conform's zip reader ({why})"),
                Vec::new(),
            ),
        }
    } else {
        let npy = oracle::read_npy(bytes);
        let dtype = if let Npy::Valid(a) = &npy { a.dtype } else { file.dtype() };
        (numpy_value(&npy), numpy_words(&npy), vec![(String::new(), dtype)])
    };
    let elements: Vec<Dtype> = asked.iter().map(|(_, d)| *d).chain([file.dtype()]).collect();
    let f16_element = !tch_reader && elements.contains(&Dtype::F16);
    if f16_element {
        deps.push("py_literal 0.4".into());
    }
    let deps = match deps.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    out.push_str(&rust_header_with(src, &what, &name, &deps));
    match reader {
        FileReader::TchNpy | FileReader::TchNpz => {
            let _ = writeln!(out, "use tch::{{Kind, Tensor}};\n");
        }
        FileReader::NdarrayNpy => {
            let _ = writeln!(out, "use ndarray::ArrayD;\nuse ndarray_npy::ReadNpyExt;\n");
        }
        FileReader::NdarrayNpz => {
            let _ = writeln!(out, "use ndarray::{{IxDyn, OwnedRepr}};\nuse ndarray_npy::NpzReader;\n");
        }
    }
    let _ = writeln!(out, "/// The file's {len} bytes, as stored in the corpus ({}).", file.made());
    let _ = writeln!(out, "const FILE: [u8; {len}] = {};\n", byte_array(bytes));
    let _ = writeln!(out, "/// What NumPy makes of it ({words}).");
    let ty = if reader.npz() { "Archive" } else { "Numpy" };
    let _ = writeln!(out, "static NUMPY: {ty} = {numpy};\n");
    let _ = writeln!(out, "fn main() {{");
    out.push_str(&rlimit_lines(src, len));
    let comment = read_comment(src, len);
    match reader {
        FileReader::TchNpy | FileReader::TchNpz => {
            let _ = writeln!(
                out,
                "    // tch reads from a path: the bytes go through a temporary file.\n    \
                 let path = std::env::temp_dir().join(format!(\"{name}-{{}}.{ext}\", std::process::id()));\n    \
                 std::fs::write(&path, FILE).unwrap();"
            );
            out.push_str(&comment);
            if reader == FileReader::TchNpy {
                let _ = writeln!(out, "    let got = Tensor::read_npy(&path);");
                let _ = writeln!(out, "    let _ = std::fs::remove_file(&path);");
                let _ = writeln!(
                    out,
                    "    report(\"tch read_npy\", &got.map_err(first_line).and_then(|t| tensor_answer(&t)), &NUMPY);"
                );
            } else {
                let _ = writeln!(out, "    let got = Tensor::read_npz(&path);");
                let _ = writeln!(out, "    let _ = std::fs::remove_file(&path);");
                let _ = writeln!(
                    out,
                    "    let got = got.map_err(first_line).map(|named| named.iter().map(|(n, t)| (n.clone(), tensor_answer(t))).collect());"
                );
                let _ = writeln!(out, "    report_archive(\"tch read_npz\", got, &NUMPY);");
            }
            out.push_str("}\n");
            out.push_str(RUST_ANSWER);
            out.push_str(RUST_TENSOR_ANSWER);
        }
        FileReader::NdarrayNpy => {
            let d = asked[0].1;
            out.push_str(&comment);
            let _ = writeln!(
                out,
                "    // Asked for the element type NumPy's header names ({d}; the file's own where NumPy refuses it).\n    \
                 let got = {};\n    \
                 report(\"ndarray-npy read_npy::<{}>\", &got, &NUMPY);\n}}",
                array_answer_of(d, "ArrayD::<{T}>::read_npy(&FILE[..])"),
                npy_element(d).unwrap_or("?")
            );
            out.push_str(RUST_ANSWER);
            out.push_str(RUST_ARRAY_ANSWER);
        }
        FileReader::NdarrayNpz => {
            out.push_str(&comment);
            let _ = writeln!(out, "    report_archive(\"ndarray-npy NpzReader\", read(), &NUMPY);\n}}\n");
            out.push_str(&rust_npz_reader_fn(&asked, file.dtype(), false));
            out.push_str(RUST_ANSWER);
            out.push_str(RUST_ARRAY_ANSWER);
        }
    }
    if f16_element {
        out.push_str(RUST_F16_ELEMENT);
    }
    let culprit = reader.culprit();
    let title = format!("{}: {} ({len}-byte file: {})", culprit_prefix(culprit, src), src.signature, file.made());
    let body = format!(
        "Expected: {words}.\n\nActual (conform's run, libtorch {}): {}\n\nThe expected side is conform's reader of \
         NumPy's format rules (numpy.lib.format.read_array, numpy.load), independent of tch and ndarray-npy; the \
         file's bytes are in the program below.",
        src.libtorch_version, src.message
    );
    let issue = draft(src, culprit, &title, &body, &out);
    assembled(src, culprit, out, Some(python_numpy_load(src, file)), issue)
}

/// `tch 0.24.0` or `ndarray-npy 0.9.1`, for a title.
fn culprit_prefix(culprit: &str, src: &Source<'_>) -> String {
    match culprit {
        "tch" => format!("tch {}", src.tch_version),
        "ndarray-npy" => format!("ndarray-npy {NDARRAY_NPY_VERSION}"),
        other => other.to_string(),
    }
}

/// `fn read`: ndarray-npy's `NpzReader` over the bytes (the constant `FILE`, or the argument `file` where
/// `argument`), each member as the element type NumPy's header names (`asked`; any other member as `default`).
fn rust_npz_reader_fn(asked: &[(String, Dtype)], default: Dtype, argument: bool) -> String {
    let (params, bytes) = if argument { ("file: &[u8]", "file") } else { ("", "&FILE[..]") };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "/// ndarray-npy's NpzReader: `names()`, then `by_name` for each, as the element type NumPy's header names."
    );
    let _ = writeln!(out, "fn read({params}) -> Result<Vec<(String, Answer)>, String> {{");
    let _ = writeln!(out, "    let mut npz = NpzReader::new(std::io::Cursor::new({bytes})).map_err(first_line)?;");
    let _ = writeln!(out, "    let names = npz.names().map_err(first_line)?;");
    let _ = writeln!(out, "    let mut out = Vec::new();");
    let _ = writeln!(out, "    for name in names {{");
    let _ = writeln!(out, "        let key = name.strip_suffix(\".npy\").unwrap_or(&name).to_string();");
    let _ = writeln!(out, "        let answer = match key.as_str() {{");
    let read = "npz.by_name::<OwnedRepr<{T}>, IxDyn>(&name)";
    for (n, d) in asked {
        let _ = writeln!(out, "            {} => {},", rust_str(n), array_answer_of(*d, read));
    }
    let _ = writeln!(out, "            _ => {},", array_answer_of(default, read));
    let _ = writeln!(out, "        }};");
    let _ = writeln!(out, "        out.push((key, answer));");
    let _ = writeln!(out, "    }}\n    Ok(out)\n}}");
    out
}

/// A Python program that shows NumPy's own answer for the stored file (`numpy.load`).
fn python_numpy_load(src: &Source<'_>, file: &FileCase) -> String {
    let from = src.corpus_file.map_or("a run of conform".to_string(), |p| p.display().to_string());
    let ext = if file.format() == FileFormat::Npz { "npz" } else { "npy" };
    let hex: String = file.bytes().iter().map(|b| format!("{b:02x}")).collect();
    let lines: Vec<String> = hex.as_bytes().chunks(96).map(|c| format!("    \"{}\"", String::from_utf8_lossy(c))).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\"\"\"Reproduces {from} ({}: {}) without conform: what NumPy itself reads from the stored\nfile (numpy.load), \
         the expected side of the Rust program. Run: python3 this_file.py\n\"\"\"\nimport os\nimport tempfile\n\nimport numpy\n",
        src.property, src.signature
    );
    let _ = writeln!(out, "FILE = bytes.fromhex(\n{}\n)\n", lines.join("\n"));
    let _ = writeln!(out, "with tempfile.NamedTemporaryFile(suffix=\".{ext}\", delete=False) as f:");
    let _ = writeln!(out, "    f.write(FILE)");
    let _ = writeln!(out, "try:");
    if ext == "npz" {
        let _ = writeln!(out, "    with numpy.load(f.name) as archive:");
        let _ = writeln!(out, "        for name in archive.files:");
        let _ = writeln!(out, "            try:");
        let _ = writeln!(out, "                a = archive[name]");
        let _ = writeln!(out, "                print(f\"member {{name}}: {{a.dtype}} shape {{a.shape}} {{a.tobytes().hex()}}\")");
        let _ = writeln!(out, "            except Exception as e:  # noqa: BLE001 (NumPy's refusal is the answer)");
        let _ = writeln!(out, "                print(f\"member {{name}}: NumPy refuses it: {{type(e).__name__}}: {{e}}\")");
    } else {
        let _ = writeln!(out, "    a = numpy.load(f.name)");
        let _ = writeln!(out, "    print(f\"NumPy reads {{a.dtype}} shape {{a.shape}} {{a.tobytes().hex()}}\")");
    }
    let _ = writeln!(out, "except Exception as e:  # noqa: BLE001 (NumPy's refusal is the answer)");
    let _ = writeln!(out, "    print(f\"NumPy refuses it: {{type(e).__name__}}: {{e}}\")");
    let _ = writeln!(out, "finally:");
    let _ = writeln!(out, "    os.remove(f.name)");
    out
}

/// `let {var} = …;`: a tensor of `case` (its storage and layout; its logical elements where libtorch cannot hold the
/// layout), with the storage inline.
fn rust_tensor(case: &TensorCase, var: &str) -> String {
    let d = case.dtype();
    let cast = match d.size_bytes() {
        1 => "b as u8",
        2 => "b as u16 as i16",
        4 => "b as u32 as i32",
        _ => "b as i64",
    };
    let (storage, layout) = match strided(case.layout()) {
        Some(layout) => (case.storage().to_vec(), format!(".as_strided({layout})")),
        None => (case.logical(), format!(".reshape({:?})", case.shape().iter().map(|&n| n as i64).collect::<Vec<_>>())),
    };
    let items: Vec<String> = storage.iter().map(|&b| format!("{}u64", d.hex(b))).collect();
    let items = if items.is_empty() { "[0u64; 0]".to_string() } else { format!("[{}]", items.join(", ")) };
    format!("    let {var} = Tensor::from_slice(&{items}.map(|b| {cast})).view_dtype({}){layout};\n", tch_kind(d))
}

/// The `Numpy::Wrote` value of a case: its dtype, shape and logical bytes.
fn wrote_value(case: &TensorCase) -> String {
    let shape: Vec<i64> = case.shape().iter().map(|&n| n as i64).collect();
    format!("Numpy::Wrote({:?}, &{shape:?}, &{:?})", case.dtype().to_string(), le_bytes(case.dtype(), &case.logical()))
}

/// The reproduction of a round trip through a file tch wrote: the case as a tensor, tch's writer, then ndarray-npy's
/// reader and tch's, each next to the array written (which NumPy reads back).
fn reproduce_trip(src: &Source<'_>, case: &TensorCase, trip: Trip) -> Reproduction {
    let name = example_name(src.property, src.corpus_file);
    let d = case.dtype();
    let ext = if trip.npz { "npz" } else { "npy" };
    let what = if trip.npz {
        "tch's `Tensor::write_npz` of the archive conform makes from the stored case, read back by ndarray-npy's \
         `NpzReader` and by tch's `read_npz`, each member next to the array written."
    } else {
        "tch's `write_npy` of the stored case, read back by ndarray-npy's `read_npy` and by tch's `read_npy`, next to \
         the array written."
    };
    let members = if trip.npz { conform_properties::files::trips::members(case) } else { vec![("a".into(), case.clone())] };
    let f16_element = members.iter().any(|(_, m)| m.dtype() == Dtype::F16);
    let deps = format!(
        "tch {}, ndarray 0.16{}",
        src.tch_version,
        if f16_element { ", ndarray-npy 0.9 and py_literal 0.4" } else { " and ndarray-npy 0.9" }
    );
    let mut out = rust_header_with(src, what, &name, &deps);
    if trip.npz {
        let _ = writeln!(out, "use ndarray::{{IxDyn, OwnedRepr}};\nuse ndarray_npy::NpzReader;\nuse tch::{{Kind, Tensor}};\n");
        let items: Vec<String> = members.iter().map(|(n, m)| format!("    ({}, {}),", rust_str(n), wrote_value(m))).collect();
        let _ = writeln!(out, "/// The arrays written: what NumPy reads back from the archive.");
        let _ = writeln!(out, "static NUMPY: Archive = Archive::Members(&[\n{}\n]);\n", items.join("\n"));
    } else {
        let _ = writeln!(out, "use ndarray::ArrayD;\nuse ndarray_npy::ReadNpyExt;\nuse tch::{{Kind, Tensor}};\n");
        let _ = writeln!(out, "/// The array written: what NumPy reads back from the file.");
        let _ = writeln!(out, "static NUMPY: Numpy = {};\n", wrote_value(case));
    }
    let _ = writeln!(out, "fn main() {{");
    let _ = writeln!(out, "    // The case ({d}, shape {:?}, strides {:?}, offset {}) as a tensor.", case.shape(), case.layout().strides, case.layout().offset);
    let vars: Vec<String> = (0..members.len()).map(|k| format!("t{k}")).collect();
    for ((_, m), var) in members.iter().zip(&vars) {
        out.push_str(&rust_tensor(m, var));
    }
    let _ = writeln!(out, "    let path = std::env::temp_dir().join(format!(\"{name}-{{}}.{ext}\", std::process::id()));");
    if trip.npz {
        let named: Vec<String> = members.iter().zip(&vars).map(|((n, _), v)| format!("({}, &{v})", rust_str(n))).collect();
        let _ = writeln!(out, "    let written = Tensor::write_npz(&[{}], &path);", named.join(", "));
    } else {
        let _ = writeln!(out, "    let written = t0.write_npy(&path);");
    }
    let _ = writeln!(
        out,
        "    if let Err(e) = written {{\n        \
         return println!(\"tch write_{ext}: actual Err({{e}}), expected a file NumPy reads DIFFERS\");\n    }}\n    \
         let file = std::fs::read(&path).unwrap();"
    );
    if trip.npz {
        let _ = writeln!(out, "    report_archive(\"ndarray-npy NpzReader of tch write_npz\", read(&file), &NUMPY);");
        let _ = writeln!(out, "    let got = Tensor::read_npz(&path);");
        let _ = writeln!(
            out,
            "    let got = got.map_err(first_line).map(|named| named.iter().map(|(n, t)| (n.clone(), tensor_answer(t))).collect());"
        );
        let _ = writeln!(out, "    report_archive(\"tch read_npz of tch write_npz\", got, &NUMPY);");
    } else {
        let _ = writeln!(
            out,
            "    report(\"ndarray-npy read_npy::<{}> of tch write_npy\", &{}, &NUMPY);",
            npy_element(d).unwrap_or("?"),
            array_answer_of(d, "ArrayD::<{T}>::read_npy(&file[..])")
        );
        let _ = writeln!(
            out,
            "    let got = Tensor::read_npy(&path).map_err(first_line).and_then(|t| tensor_answer(&t));\n    \
             report(\"tch read_npy of tch write_npy\", &got, &NUMPY);"
        );
    }
    let _ = writeln!(out, "    let _ = std::fs::remove_file(&path);\n}}");
    if trip.npz {
        let asked: Vec<(String, Dtype)> = members.iter().map(|(n, m)| (n.clone(), m.dtype())).collect();
        out.push_str(&rust_npz_reader_fn(&asked, d, true));
    }
    out.push_str(RUST_ANSWER);
    out.push_str(RUST_TENSOR_ANSWER);
    out.push_str(RUST_ARRAY_ANSWER);
    if f16_element {
        out.push_str(RUST_F16_ELEMENT);
    }
    let culprit = if src.signature.starts_with("ndarray-npy") {
        "ndarray-npy"
    } else if src.signature.starts_with("tch") {
        "tch"
    } else {
        "tch and ndarray-npy"
    };
    let title = format!("{}: {}", culprit_prefix(culprit, src), src.signature);
    let body = format!(
        "Expected: the {ext} file tch writes of a {d} tensor of shape {:?} reads back as the tensor's values (NumPy \
         reads it so).\n\nActual (conform's run): {}",
        case.shape(),
        src.message
    );
    let issue = draft(src, culprit, &title, &body, &out);
    assembled(src, culprit, out, None, issue)
}

// ---------------------------------------------------------------------------------------------------------------
// API: one call of a safe tch function on the input tensor the case describes.

/// Who answers for a call's misbehaviour: a panic is tch's Rust code; `f_from_data_size` and the copies are tch's
/// own functions (torch-sys's C++ side); `_reshape_alias` is libtorch's unchecked internal op that tch exposes as a
/// safe fn; the other functions are thin wrappers of libtorch's ops.
fn api_culprit(case: &ApiCase, signature: &str) -> &'static str {
    if signature.contains("panicked") {
        return "tch";
    }
    match case.function() {
        ApiFn::FromDataSize | ApiFn::CopyData | ApiFn::CopyDataU8 => "tch",
        ApiFn::InternalReshapeAlias => "libtorch and tch",
        _ => "libtorch",
    }
}

/// `Kind::Uint8` of an [`ApiKind`].
fn api_kind_rust(kind: ApiKind) -> String {
    format!("Kind::{:?}", conform_properties::api::call::tch_kind(kind))
}

/// `torch.uint8` of an [`ApiKind`].
fn api_kind_torch(kind: ApiKind) -> String {
    let name = match kind {
        ApiKind::U8 => "uint8",
        ApiKind::I8 => "int8",
        ApiKind::I16 => "int16",
        ApiKind::I32 => "int32",
        ApiKind::I64 => "int64",
        ApiKind::F32 => "float32",
        ApiKind::F64 => "float64",
        ApiKind::F16 => "float16",
        ApiKind::Bf16 => "bfloat16",
        ApiKind::Bool => "bool",
        ApiKind::Complex32 => "complex32",
        ApiKind::Complex64 => "complex64",
        ApiKind::Complex128 => "complex128",
        ApiKind::Float8E5m2 => "float8_e5m2",
        ApiKind::Float8E4m3fn => "float8_e4m3fn",
        ApiKind::Float8E5m2fnuz => "float8_e5m2fnuz",
        ApiKind::Float8E4m3fnuz => "float8_e4m3fnuz",
        ApiKind::Qint8 => "qint8",
        ApiKind::Quint8 => "quint8",
        ApiKind::Qint32 => "qint32",
    };
    format!("torch.{name}")
}

fn rust_opt(v: Option<i64>) -> String {
    v.map_or("None::<i64>".into(), |v| format!("Some({v}i64)"))
}

fn py_opt(v: Option<i64>) -> String {
    v.map_or("None".into(), |v| v.to_string())
}

fn py_list(v: &[i64]) -> String {
    format!("{v:?}")
}

/// What the call must give, per the property's judgement (PyTorch's documentation, as `conform_properties::api`
/// reads it): the words, the size a valid result has (`None`: the call must refuse), and whether Err is allowed.
struct Want {
    words: String,
    size: Option<Vec<i64>>,
    err_ok: bool,
}

fn api_want(case: &ApiCase) -> Want {
    use conform_properties::api::judge::{expected_shape, must_succeed};
    let view = case.function().is_view();
    let inside = if view { ", inside its input's storage" } else { "" };
    match case.call() {
        ApiCall::CopyData { dst_len, numel, .. } | ApiCall::CopyDataU8 { dst_len, numel } => {
            let have = case.input().map_or(0, |i| i.numel()) as u128;
            let elt = match case.call() {
                ApiCall::CopyData { element, .. } => element.size_bytes() as u128,
                _ => case.input().map_or(1, |i| i.kind.size_bytes()) as u128,
            };
            let fits = match case.call() {
                ApiCall::CopyData { .. } => u128::from(*dst_len) >= u128::from(*numel),
                _ => u128::from(*dst_len) >= u128::from(*numel) * elt,
            };
            if u128::from(*numel) <= have && fits {
                Want {
                    words: format!("Ok: the tensor's first {numel} elements copied, nothing after them"),
                    size: Some(Vec::new()),
                    err_ok: false,
                }
            } else {
                Want {
                    words: format!("Err: numel {numel} for a tensor of {have} elements and a destination of {dst_len}"),
                    size: None,
                    err_ok: true,
                }
            }
        }
        ApiCall::FromDataSize { data_len, size, kind } => {
            match conform_generators::api::contiguous_bytes(size, *kind) {
                Some(needed) if needed <= u128::from(*data_len) => Want {
                    words: format!("a {kind} tensor of size {size:?} holding the data's first {needed} bytes"),
                    size: Some(size.clone()),
                    err_ok: !must_succeed(case),
                },
                needed => Want {
                    words: format!(
                        "Err: {data_len} bytes of data for size {size:?} of {kind}, which needs {}",
                        needed.map_or("more than any allocation".into(), |n| format!("{n}"))
                    ),
                    size: None,
                    err_ok: true,
                },
            }
        }
        _ => match expected_shape(case) {
            Some(size) if size.iter().any(|&s| s < 0) => Want {
                words: format!("Err (a size may not be negative: {size:?})"),
                size: None,
                err_ok: true,
            },
            None => Want {
                words: "Err (PyTorch's documentation gives no result for these arguments)".into(),
                size: None,
                err_ok: true,
            },
            Some(size) if must_succeed(case) => Want {
                words: format!("a tensor of size {size:?}{inside} (the arguments are valid)"),
                size: Some(size),
                err_ok: false,
            },
            Some(size) => {
                Want { words: format!("Err, or a tensor of size {size:?}{inside}"), size: Some(size), err_ok: true }
            }
        },
    }
}

/// The lines that make the input tensor `x` as conform makes it (`storage`: the tensor whose storage `x` lies in).
fn rust_api_input(input: &ApiInput) -> String {
    let kind = api_kind_rust(input.kind);
    let size = input.kind.size_bytes();
    let n = input.numel();
    let shape: Vec<i64> = input.shape.iter().map(|&s| s as i64).collect();
    let mut out = format!("    // The input, as conform makes it: {input:?}, element i's bytes from a fixed pattern.\n");
    if input.kind == ApiKind::Bool {
        let _ = writeln!(out, "    let logical: Vec<u8> = (0..{n}).map(|i| (i % 2) as u8).collect();");
    } else {
        let _ = writeln!(out, "    let logical: Vec<u8> = (0..{}usize).map(|j| ((j * 151 + 7) % 251) as u8).collect();", n * size);
    }
    match input.layout {
        InputLayout::Contiguous => {
            let _ = writeln!(out, "    let storage = Tensor::f_from_data_size(&logical, &[{n}], {kind}).unwrap();");
            let _ = writeln!(out, "    let x = storage.f_view_({}).unwrap();", rust_i64s(&shape));
        }
        InputLayout::Offset => {
            let filler = if input.kind == ApiKind::Bool { "1u8" } else { "0xeeu8" };
            let _ = writeln!(out, "    // One element of filler on each side: x lies at storage offset 1.");
            let _ = writeln!(
                out,
                "    let bytes: Vec<u8> = [vec![{filler}; {size}], logical, vec![{filler}; {size}]].concat();"
            );
            let _ = writeln!(out, "    let storage = Tensor::f_from_data_size(&bytes, &[{}], {kind}).unwrap();", n + 2);
            let _ = writeln!(out, "    let x = storage.f_narrow(0, 1, {n}).unwrap().f_view_({}).unwrap();", rust_i64s(&shape));
        }
        InputLayout::Transposed => {
            let _ = writeln!(out, "    // Its last two dimensions transposed: the storage holds the contiguous tensor of the swapped shape.");
            let _ = writeln!(
                out,
                "    let storage = Tensor::f_from_data_size(&logical, &[{n}], {kind}).unwrap().f_view_({}).unwrap().f_transpose(-1, -2).unwrap().f_contiguous().unwrap();",
                rust_i64s(&shape)
            );
            let _ = writeln!(out, "    let x = storage.f_transpose(-1, -2).unwrap();");
        }
    }
    let _ = writeln!(out, "    let (base, storage_bytes) = (storage.data_ptr() as usize, {});", input.storage_len() * size);
    out
}

/// The Rust expression of the call (on `x`, the input).
fn rust_api_call(call: &ApiCall) -> String {
    use ApiCall as C;
    match call {
        C::AsStrided { size, stride, storage_offset } => {
            format!("x.f_as_strided({}, {}, {})", rust_i64s(size), rust_i64s(stride), rust_opt(*storage_offset))
        }
        C::View { size } => format!("x.f_view_({})", rust_i64s(size)),
        C::Reshape { size } => format!("x.f_reshape({})", rust_i64s(size)),
        C::InternalReshapeAlias { size, stride } => {
            format!("x.f_internal_reshape_alias({}, {})", rust_i64s(size), rust_i64s(stride))
        }
        C::Expand { size, implicit } => format!("x.f_expand({}, {implicit})", rust_i64s(size)),
        C::Narrow { dim, start, length } => format!("x.f_narrow({dim}, {start}, {length})"),
        C::Select { dim, index } => format!("x.f_select({dim}, {index})"),
        C::Slice { dim, start, end, step } => {
            format!("x.f_slice({dim}, {}, {}, {step})", rust_opt(*start), rust_opt(*end))
        }
        C::Unfold { dimension, size, step } => format!("x.f_unfold({dimension}, {size}, {step})"),
        C::Permute { dims } => format!("x.f_permute({})", rust_i64s(dims)),
        C::Transpose { dim0, dim1 } => format!("x.f_transpose({dim0}, {dim1})"),
        C::Flatten { start_dim, end_dim } => format!("x.f_flatten({start_dim}, {end_dim})"),
        C::Unsqueeze { dim } => format!("x.f_unsqueeze({dim})"),
        C::SqueezeDim { dim } => format!("x.f_squeeze_dim({dim})"),
        C::IndexSelect { dim, .. } => format!("x.f_index_select({dim}, &index)"),
        C::ToKind { kind } => format!("x.f_to_kind({})", api_kind_rust(*kind)),
        C::Zeros { size, kind } => format!("Tensor::f_zeros({}, ({}, Device::Cpu))", rust_i64s(size), api_kind_rust(*kind)),
        C::EmptyStrided { size, stride, kind } => format!(
            "Tensor::f_empty_strided({}, {}, ({}, Device::Cpu))",
            rust_i64s(size),
            rust_i64s(stride),
            api_kind_rust(*kind)
        ),
        C::FromDataSize { data_len, size, kind } => {
            format!("Tensor::f_from_data_size(&data[..{data_len}], {}, {})", rust_i64s(size), api_kind_rust(*kind))
        }
        C::CopyData { dst_len, numel, .. } => format!("x.f_copy_data(&mut dst[..{dst_len}], {numel}usize)"),
        C::CopyDataU8 { dst_len, numel } => format!("x.f_copy_data_u8(&mut dst[..{dst_len}], {numel}usize)"),
    }
}

/// How the API programs print a call's result next to what it must be.
const RUST_API_REPORT: &str = r#"
/// The bytes `t` addresses relative to `base`: the first, and one past the last.
fn reach(t: &Tensor, base: usize) -> (i128, i128) {
    let element = t.kind().elt_size_in_bytes() as i128;
    let start = t.data_ptr() as i128 - base as i128;
    let (mut first, mut last) = (start, start);
    for (&n, &s) in t.size().iter().zip(&t.stride()) {
        let span = (n as i128 - 1) * s as i128 * element;
        if span < 0 {
            first += span;
        } else {
            last += span;
        }
    }
    (first, last + element)
}

/// Prints the call's result next to what it must be (`storage`: the base and length in bytes of the storage a view
/// must stay inside).
fn report(got: &Result<Tensor, TchError>, storage: Option<(usize, usize)>) {
    let t = match got {
        Err(e) => {
            let verdict = if ERR_OK { "ok" } else { "DIFFERS" };
            return println!("{CALL}: actual Err({}), expected {EXPECTED} {verdict}", e.to_string().lines().next().unwrap_or(""));
        }
        Ok(t) => t,
    };
    let size = t.size();
    let mut shown = format!("Ok: size {size:?}, stride {:?}, kind {:?}", t.stride(), t.kind());
    let mut valid = size.iter().all(|&s| s >= 0) && SIZE == Some(size.as_slice());
    if let Some((base, bytes)) = storage.filter(|_| size.iter().all(|&s| s > 0)) {
        let (first, end) = reach(t, base);
        shown += &format!(", addressing bytes {first}..{end} of its input's {bytes}-byte storage");
        valid &= first >= 0 && end <= bytes as i128;
    }
    println!("{CALL}: actual {shown}, expected {EXPECTED} {}", if valid { "ok" } else { "DIFFERS" });
}
"#;

/// The reproduction of an API case: the input tensor, the call with the stored arguments, its result next to what
/// the property requires; for a libtorch culprit the same call in Python/torch too.
fn reproduce_api(src: &Source<'_>, case: &ApiCase) -> Reproduction {
    let name = example_name(src.property, src.corpus_file);
    let call = case.call();
    let function = case.function();
    let reads_back = short(src.property) == "results_read_without_crash";
    let want = api_want(case);
    let what = if reads_back {
        format!("tch's safe `{function}` with the stored arguments, then its result read with two more safe calls (`f_contiguous`, `f_copy_data_u8`), which must not crash.")
    } else {
        format!("tch's safe `{function}` with the stored arguments, its result next to what the arguments allow.")
    };
    let mut out = rust_header_with(src, &what, &name, &format!("tch {}", src.tch_version));
    let copies = matches!(call, ApiCall::CopyData { .. } | ApiCall::CopyDataU8 { .. });
    let mut uses = Vec::new();
    if matches!(call, ApiCall::Zeros { .. } | ApiCall::EmptyStrided { .. }) {
        uses.push("Device");
    }
    let kinds = matches!(
        call,
        ApiCall::Zeros { .. } | ApiCall::EmptyStrided { .. } | ApiCall::FromDataSize { .. } | ApiCall::ToKind { .. }
    ) || matches!(call, ApiCall::IndexSelect { index_kind, .. } if *index_kind != ApiKind::I64);
    if case.input().is_some() || kinds {
        uses.push("Kind");
    }
    if !copies {
        uses.push("TchError");
    }
    uses.push("Tensor");
    let _ = writeln!(out, "use tch::{{{}}};\n", uses.join(", "));
    let _ = writeln!(out, "/// The call, as conform writes it.");
    let _ = writeln!(out, "const CALL: &str = {};", rust_str(&format!("{case:?}")));
    let _ = writeln!(out, "/// What it must give (conform's judgement, from PyTorch's documentation).");
    let _ = writeln!(out, "const EXPECTED: &str = {};", rust_str(&want.words));
    if !copies {
        let _ = writeln!(out, "/// The size of a valid result (`None`: the call must refuse).");
        let size = want.size.as_ref().map_or("None".into(), |s| format!("Some(&{s:?})"));
        let _ = writeln!(out, "const SIZE: Option<&[i64]> = {size};");
    }
    let _ = writeln!(out, "/// Whether an Err is allowed.");
    let _ = writeln!(out, "const ERR_OK: bool = {};\n", want.err_ok);
    let _ = writeln!(out, "fn main() {{");
    if let Some(input) = case.input() {
        out.push_str(&rust_api_input(input));
    }
    match call {
        ApiCall::IndexSelect { index, index_kind, .. } => {
            let cast = if *index_kind == ApiKind::I64 { String::new() } else { format!(".to_kind({})", api_kind_rust(*index_kind)) };
            let _ = writeln!(out, "    let index = Tensor::from_slice({}){cast};", rust_i64s(index));
        }
        ApiCall::FromDataSize { data_len, size, kind } => {
            let data = conform_properties::api::call::data_buffer(
                *data_len as usize,
                conform_generators::api::contiguous_bytes(size, *kind),
                *kind,
            );
            let mask = if *kind == ApiKind::Bool { " & 1" } else { "" };
            let _ = writeln!(
                out,
                "    // The data: {data_len} bytes of a pattern, then 0x5a up to the {} bytes the sizes need, so that a read past\n    \
                 // the slice reads conform's own memory (and shows 0x5a).",
                data.len()
            );
            let _ = writeln!(out, "    let mut data: Vec<u8> = (0..{data_len}usize).map(|j| ((j * 151 + 7) % 251) as u8{mask}).collect();");
            let _ = writeln!(out, "    data.resize({}, 0x5a);", data.len());
        }
        ApiCall::CopyData { element, dst_len, .. } => {
            let fill = u64::from_le_bytes([conform_properties::api::call::canary(*element == Dtype::Bool); 8]) & element.mask();
            let _ = writeln!(out, "    // The destination, then 16 more elements of the canary {fill:#x}.");
            let _ = writeln!(out, "    let b: u64 = {fill:#x};");
            let _ = writeln!(out, "    let fill: {} = {};", rust_type(*element), rust_from_bits(*element));
            let _ = writeln!(out, "    let mut dst = vec![fill; {dst_len} + 16];");
        }
        ApiCall::CopyDataU8 { dst_len, .. } => {
            let _ = writeln!(out, "    // The destination, then 16 more bytes of the canary 0xa5.");
            let _ = writeln!(out, "    let mut dst = vec![0xa5u8; {dst_len} + 16];");
        }
        _ => {}
    }
    if src.signature.contains("panicked") {
        let _ = writeln!(out, "    // conform saw this call panic: {}", src.message);
    } else if src.signature.contains("SIGSEGV") && !reads_back {
        let _ = writeln!(out, "    // conform's worker died of SIGSEGV in this call.");
    }
    let _ = writeln!(out, "    let got = {};", rust_api_call(call));
    if copies {
        if case.input().is_some() {
            let _ = writeln!(out, "    let _ = (base, storage_bytes); // a copy: what matters is the destination");
        }
        let dst_len = match call {
            ApiCall::CopyData { dst_len, .. } | ApiCall::CopyDataU8 { dst_len, .. } => *dst_len,
            _ => 0,
        };
        let _ = writeln!(out, "    match got {{");
        let _ = writeln!(
            out,
            "        Err(e) => println!(\"{{CALL}}: actual Err({{e}}), expected {{EXPECTED}} {{}}\", if ERR_OK {{ \"ok\" }} else {{ \"DIFFERS\" }}),"
        );
        let _ = writeln!(out, "        Ok(()) => {{");
        let canary = if matches!(call, ApiCall::CopyData { .. }) { "fill" } else { "0xa5" };
        let _ = writeln!(out, "            let guard_intact = dst[{dst_len}..].iter().all(|v| *v == {canary});");
        let _ = writeln!(
            out,
            "            println!(\"{{CALL}}: actual Ok (the 16 elements after the destination {{}}), expected {{EXPECTED}} {{}}\", if guard_intact {{ \"untouched\" }} else {{ \"WRITTEN\" }}, if !ERR_OK && guard_intact {{ \"ok\" }} else {{ \"DIFFERS\" }});"
        );
        let _ = writeln!(out, "        }}\n    }}\n}}");
    } else {
        let storage = if case.input().is_some() && function.is_view() { "Some((base, storage_bytes))" } else { "None" };
        if case.input().is_some() && !function.is_view() {
            let _ = writeln!(out, "    let _ = (base, storage_bytes); // not a view: its storage is its own");
        }
        let _ = writeln!(out, "    report(&got, {storage});");
        if matches!(call, ApiCall::FromDataSize { .. }) {
            let _ = writeln!(out, "    // What it holds (a byte from past the slice shows as 0x5a).");
            let _ = writeln!(out, "    if let Ok(t) = &got {{");
            let _ = writeln!(out, "        let numel = t.numel();");
            let _ = writeln!(out, "        let mut bytes = vec![0u8; numel * t.kind().elt_size_in_bytes()];");
            let _ = writeln!(out, "        if bytes.len() <= 64 && t.f_copy_data_u8(&mut bytes, numel).is_ok() {{");
            let _ = writeln!(out, "            println!(\"its bytes: {{bytes:02x?}} (the data slice holds {{:02x?}})\", &data[..{}]);", match call { ApiCall::FromDataSize { data_len, .. } => *data_len, _ => 0 });
            let _ = writeln!(out, "        }}\n    }}");
        }
        if reads_back {
            let _ = writeln!(out, "    // Read the result back with two more safe calls, as a user would (conform's worker died of {} here).", src.signature.trim_start_matches("crash: killed by "));
            let _ = writeln!(out, "    if let Ok(t) = &got {{");
            let _ = writeln!(out, "        let numel = t.size().iter().fold(1i128, |n, &s| n.saturating_mul(s.max(0) as i128));");
            let _ = writeln!(out, "        let bytes = numel * t.kind().elt_size_in_bytes() as i128;");
            let _ = writeln!(out, "        if bytes <= 1 << 24 {{");
            let _ = writeln!(out, "            let mut out = vec![0u8; bytes as usize];");
            let _ = writeln!(out, "            let read = t.f_contiguous().and_then(|c| c.f_copy_data_u8(&mut out, numel as usize));");
            let _ = writeln!(out, "            println!(\"reading it back: actual {{}}, expected no crash ok\", if read.is_ok() {{ \"Ok\" }} else {{ \"Err\" }});");
            let _ = writeln!(out, "        }}\n    }}");
        }
        let _ = writeln!(out, "}}");
        out.push_str(RUST_API_REPORT);
    }
    let culprit = api_culprit(case, src.signature);
    let python = culprit.contains("libtorch").then(|| python_api(src, case, &want, reads_back));
    let title = match culprit {
        "tch" => format!("tch {}: {} ({case:?})", src.tch_version, src.signature),
        _ => format!("{} ({case:?})", src.signature),
    };
    let body = format!(
        "Expected: {}.\n\nActual (conform's run, libtorch {}, tch {}): {}\n\nThe expected side is conform's \
         reading of PyTorch's documentation for `{function}` (conform_properties::api::judge): a safe, fallible fn \
         must return Err or a valid tensor, and never panic, crash or read outside the memory it was given.",
        want.words, src.libtorch_version, src.tch_version, src.message
    );
    let issue = draft(src, culprit, &title, &body, &out);
    assembled(src, culprit, out, python, issue)
}

/// The same call in Python/torch (for a libtorch culprit): the input made the same way, the op called directly.
fn python_api(src: &Source<'_>, case: &ApiCase, want: &Want, reads_back: bool) -> String {
    use ApiCall as C;
    let from = src.corpus_file.map_or("a run of conform".to_string(), |p| p.display().to_string());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\"\"\"Reproduces {from} ({}: {}) without conform: the call tch's `{}` makes, in torch\n({case:?}). Generated by `conform repro` for torch {}. Run: python3 this_file.py\n\"\"\"\nimport torch\n",
        src.property,
        src.signature,
        case.function(),
        src.libtorch_version
    );
    let _ = writeln!(out, "EXPECTED = {}\n", rust_str(&want.words));
    if let Some(input) = case.input() {
        let dtype = api_kind_torch(input.kind);
        let n = input.numel();
        let size = input.kind.size_bytes();
        let shape = py_list(&input.shape.iter().map(|&s| s as i64).collect::<Vec<_>>());
        let _ = writeln!(out, "# The input, as conform makes it: {input:?}, element i's bytes from a fixed pattern.");
        if input.kind == ApiKind::Bool {
            let _ = writeln!(out, "logical = [i % 2 for i in range({n})]");
        } else {
            let _ = writeln!(out, "logical = [(j * 151 + 7) % 251 for j in range({})]", n * size);
        }
        match input.layout {
            InputLayout::Contiguous => {
                let _ = writeln!(out, "storage = torch.tensor(logical, dtype=torch.uint8).view({dtype})");
                let _ = writeln!(out, "x = storage.view({shape})");
            }
            InputLayout::Offset => {
                let filler = if input.kind == ApiKind::Bool { 1 } else { 0xee };
                let _ = writeln!(out, "filler = [{filler}] * {size}");
                let _ = writeln!(out, "storage = torch.tensor(filler + logical + filler, dtype=torch.uint8).view({dtype})");
                let _ = writeln!(out, "x = storage.narrow(0, 1, {n}).view({shape})");
            }
            InputLayout::Transposed => {
                let _ = writeln!(
                    out,
                    "storage = torch.tensor(logical, dtype=torch.uint8).view({dtype}).view({shape}).transpose(-1, -2).contiguous()"
                );
                let _ = writeln!(out, "x = storage.transpose(-1, -2)");
            }
        }
        let _ = writeln!(out);
    }
    let call = match case.call() {
        C::AsStrided { size, stride, storage_offset } => {
            format!("torch.as_strided(x, {}, {}, {})", py_list(size), py_list(stride), py_opt(*storage_offset))
        }
        C::View { size } => format!("x.view({})", py_list(size)),
        C::Reshape { size } => format!("x.reshape({})", py_list(size)),
        C::InternalReshapeAlias { size, stride } => {
            format!("torch.ops.aten._reshape_alias(x, {}, {})", py_list(size), py_list(stride))
        }
        C::Expand { size, implicit } => {
            format!("torch.ops.aten.expand(x, {}, implicit={})", py_list(size), if *implicit { "True" } else { "False" })
        }
        C::Narrow { dim, start, length } => format!("x.narrow({dim}, {start}, {length})"),
        C::Select { dim, index } => format!("x.select({dim}, {index})"),
        C::Slice { dim, start, end, step } => {
            format!("torch.ops.aten.slice(x, {dim}, {}, {}, {step})", py_opt(*start), py_opt(*end))
        }
        C::Unfold { dimension, size, step } => format!("x.unfold({dimension}, {size}, {step})"),
        C::Permute { dims } => format!("x.permute({})", py_list(dims)),
        C::Transpose { dim0, dim1 } => format!("x.transpose({dim0}, {dim1})"),
        C::Flatten { start_dim, end_dim } => format!("x.flatten({start_dim}, {end_dim})"),
        C::Unsqueeze { dim } => format!("x.unsqueeze({dim})"),
        C::SqueezeDim { dim } => format!("x.squeeze({dim})"),
        C::IndexSelect { dim, index, index_kind } => {
            format!("x.index_select({dim}, torch.tensor({}).to({}))", py_list(index), api_kind_torch(*index_kind))
        }
        C::ToKind { kind } => format!("x.to({})", api_kind_torch(*kind)),
        C::Zeros { size, kind } => format!("torch.zeros({}, dtype={})", py_list(size), api_kind_torch(*kind)),
        C::EmptyStrided { size, stride, kind } => {
            format!("torch.empty_strided({}, {}, dtype={})", py_list(size), py_list(stride), api_kind_torch(*kind))
        }
        // tch's own functions: no torch call of the same name (not reached: their culprit is tch).
        C::FromDataSize { .. } | C::CopyData { .. } | C::CopyDataU8 { .. } => "None".into(),
    };
    let _ = writeln!(out, "try:");
    let _ = writeln!(out, "    y = {call}");
    let _ = writeln!(out, "except Exception as e:  # noqa: BLE001 (torch's refusal is the answer)");
    let _ = writeln!(out, "    print(f\"actual: {{type(e).__name__}}: {{str(e).splitlines()[0]}}; expected {{EXPECTED}}\")");
    let _ = writeln!(out, "else:");
    let _ = writeln!(
        out,
        "    print(f\"actual: size {{list(y.size())}}, stride {{list(y.stride())}}, storage offset {{y.storage_offset()}}, \
         storage of {{y.untyped_storage().nbytes()}} bytes; expected {{EXPECTED}}\")"
    );
    if reads_back {
        let _ = writeln!(out, "    # Reading it back (conform's worker died of {} here).", src.signature.trim_start_matches("crash: killed by "));
        let _ = writeln!(out, "    print(\"read back:\", y.contiguous().flatten()[:4].tolist())");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_bits_follow_the_oracle() {
        // 2.0029295682907104 → f16: correctly rounded 0x4001 (libtorch gives 0x4002).
        assert_eq!(expected(Dtype::F64, 0x4000_05ff_f000_0000, Dtype::F16), Some(0x4001));
        assert_eq!(expected(Dtype::F64, 3.9f64.to_bits(), Dtype::I8), Some(3));
        assert_eq!(expected(Dtype::F64, 300f64.to_bits(), Dtype::I8), None);
        assert_eq!(expected(Dtype::F32, 0x8000_0000, Dtype::Bool), Some(0));
        assert_eq!(expected(Dtype::Bool, 1, Dtype::F16), Some(0x3c00));
    }

    #[test]
    fn example_names_are_identifiers() {
        let name = example_name("casts::to_f16_correctly_rounded", Some(Path::new("corpus/casts/x/142e18461737.json")));
        assert_eq!(name, "repro_casts_to_f16_correctly_rounded_142e18461737");
    }

    #[test]
    fn half_version_is_the_locked_one() {
        let lock = std::fs::read_to_string(Path::new(crate::REPO_ROOT).join("Cargo.lock")).unwrap();
        assert!(
            lock.contains(&format!("name = \"half\"\nversion = \"{HALF_VERSION}\"")),
            "Cargo.lock has another half"
        );
        assert!(lock.contains(&format!("name = \"ndarray\"\nversion = \"{NDARRAY_VERSION}\"")));
        assert!(lock.contains(&format!("name = \"ndarray-npy\"\nversion = \"{NDARRAY_NPY_VERSION}\"")));
    }
}
