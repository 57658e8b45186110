//! `conform repro`: reproductions that need no conform. For a stored case of a property whose deviation belongs to
//! a library — libtorch's `to_kind`, tch's conversions, the `half` crate, ndarray's `mapv` — a minimal Rust program
//! (using the library at fault), where the deviation is libtorch's own a minimal Python/torch program, each printing
//! the actual and the expected bits, and a draft upstream issue (title, versions, expected vs actual, why).
//!
//! Invariant: the expected bits are conform's exact oracle (`conform_judge::oracle`), computed here and written into
//! the programs as constants; the programs compute only the actual side, with the library under test, so they
//! show the deviation on any machine that has it. The actual bits quoted in the issue draft are the library's on
//! this machine, obtained by running the same operation through conform's cast ops.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use conform_generators::{Case, Dtype, Layout, TensorCase};
use conform_judge::boundary::encode;
use conform_judge::oracle::{cast_float, int_range, trunc, Exact};
use conform_properties::casts::CastOp;
use conform_reports::Reproduction;

/// The `half` crate version conform links (a test keeps it equal to Cargo.lock).
pub const HALF_VERSION: &str = "2.7.1";
/// The ndarray version conform links (pinned in the workspace Cargo.toml).
pub const NDARRAY_VERSION: &str = "0.16.1";

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
    let Case::Tensor(case) = src.case else { return without_program(src) };
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

/// A stored failure of a case kind with no standalone reproduction yet (file and API cases): the case, the message
/// and an issue draft without a program; `conform replay FILE` reproduces it.
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
    let from = src.corpus_file.map_or("a run of conform".to_string(), |p| p.display().to_string());
    format!(
        "//! Reproduces {from} ({property}: {signature}) without conform: {what}\n\
         //! Generated by `conform repro`; libtorch {libtorch}, tch {tch}, half {HALF_VERSION}, ndarray {NDARRAY_VERSION}.\n\
         //! In conform's workspace: `cargo run -p conform-properties --example {name}`; elsewhere, any crate that\n\
         //! depends on tch {tch}, half 2 and ndarray 0.16.\n",
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
    }
}
