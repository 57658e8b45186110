//! report.html checked in a real browser: a report with a verdict of every kind, a cast matrix with deviating
//! pairs and a NaN table is rendered by headless Chromium (`scripts/render-report.sh --dump-dom`), and the DOM the
//! browser built must hold the verdicts, the matrix cells and the SVG histograms with their text alternatives.
//!
//! Invariant: never `ok` without a browser. Where no headless Chromium is installed the trial is ignored, says
//! "not run" and why, and fails with that reason under `--include-ignored` (libtest-mimic's rule for ignored
//! trials), like conform's CUDA trials.

use std::path::{Path, PathBuf};
use std::process::Command;

use conform_reports::{
    claims, ClaimProperty, ClaimReport, ClaimScope, Counterexample, Device, KnownReport, PropertyReport, Report,
    Reproduction, Settings, Status, StoppedBy, Summary, FORMAT_VERSION,
};
use libtest_mimic::{Arguments, Failed, Trial};

const NAME: &str = "report_html_renders_verdicts_matrix_and_histograms";

fn main() {
    let args = Arguments::from_args();
    let trial = match browser() {
        Some(browser) => Trial::test(NAME, move || check(&browser)),
        None => {
            let why = "not run: no headless Chromium (hint: apt-get install chromium-headless-shell, or set CHROMIUM)";
            eprintln!("{NAME}: {why}");
            Trial::test(NAME, move || Err(Failed::from(why))).with_ignored_flag(true)
        }
    };
    libtest_mimic::run(&args, vec![trial]).exit();
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The browser render-report.sh would use, if any.
fn browser() -> Option<String> {
    let candidates = std::env::var("CHROMIUM")
        .into_iter()
        .chain(["chromium-headless-shell", "chromium", "google-chrome"].map(String::from));
    candidates.into_iter().find(|b| {
        Command::new("sh").args(["-c", &format!("command -v '{b}'")]).output().is_ok_and(|o| o.status.success())
    })
}

fn property(name: &str, status: Status) -> PropertyReport {
    PropertyReport {
        name: name.into(),
        family: name.split("::").next().unwrap().into(),
        device: Device::Cpu,
        doc: "what must hold".into(),
        status,
        cases: 1000,
        rejects: 0,
        known_hits: 0,
        skipped: 0,
        duration_s: 1.0,
        cases_per_s: 1000.0,
        values: 64000,
        values_per_s: 64000.0,
        stopped_by: StoppedBy::Budget,
        corpus_replayed: 0,
        claims: vec![],
        counterexample: None,
        known: vec![],
        observations: Default::default(),
        reject_reasons: Default::default(),
        skip_reason: None,
        vacuous_reason: None,
    }
}

/// A report with a verdict of each kind, two deviating cast pairs and one correctly rounded, NaN rows, and a
/// counterexample with its reproductions.
fn report() -> Report {
    let mut casts = property("casts::to_f16_correctly_rounded", Status::Known);
    for (k, n) in [
        ("to_kind(f64→f16) values: drawn", 50_000),
        ("to_kind(f64→f16) values: wrong", 30),
        ("to_kind(f64→f16) values: wrong within ½ ulp", 0),
        ("to_kind(f64→f16) values: wrong beyond ½ ulp", 30),
        ("to_kind(f64→f16) error: 1 ulp", 27),
        ("to_kind(f64→f16) error: flushed to 0", 3),
        ("to_kind(i64→f16) values: drawn", 40_000),
        ("to_kind(i64→f16) values: wrong", 5),
        ("to_kind(i64→f16) values: wrong within ½ ulp", 5),
        ("to_kind(i64→f16) values: wrong beyond ½ ulp", 0),
        ("to_kind(i64→f16) error: 1 ulp", 5),
        ("to_kind(f32→f16) values: drawn", 45_000),
        ("f32→f16 quiet NaN: sign kept, payload kept, quieted [contiguous]", 12),
        ("f32→f16 signalling NaN: sign kept, payload kept, quieted [strided]", 4),
    ] {
        casts.observations.insert(k.into(), n);
    }
    casts.known.push(KnownReport {
        signature: "to_kind(f64→f16) not correctly rounded".into(),
        reason: "libtorch rounds double to f16 through float".into(),
        reproduced: true,
        replay_message: "out[] bits=0x4002 (2.00390625) but correctly rounded is 0x4001".into(),
    });
    let mut held = property("aliasing::requires_grad_keeps_aliasing", Status::Pass);
    held.claims = vec!["requires-grad-copies".into()];
    let mut broke = property("roundtrip::tch_conversions_bit_exact", Status::Fail);
    broke.counterexample = Some(Counterexample {
        case: serde_json::json!({"kind": "tensor", "dtype": "f32", "shape": [], "strides": [], "offset": 0, "storage": ["0x80000000 = -0.0"]}),
        message: "out[] bits=0x00000000 (0.0) but the array has 0x80000000 (-0.0)".into(),
        signature: "bits of a negative-zero element changed".into(),
        cases_before_failure: 3,
        shrink_steps: 1,
        repro: "conform run --property roundtrip::tch_conversions_bit_exact --seed 1".into(),
        corpus_file: None,
    });
    let mut gpu = property("devices::cuda_round_trip_bit_exact", Status::Skip);
    gpu.device = Device::Cuda;
    gpu.skip_reason = Some("no usable CUDA device: none here".into());
    let views = property("aliasing::zero_copy_view_writes_both_ways", Status::Pass);
    let properties = vec![casts, held, broke, gpu, views];
    let claim = |id: &str, names: &[&str], supported_by: &[&str]| {
        claims::settle(
            ClaimReport {
                id: id.into(),
                quote: format!("the article's words for {id}"),
                checked_as: "an invariant".into(),
                properties: names.iter().map(|n| ClaimProperty { name: n.to_string(), status: Status::Pass }).collect(),
                scope: ClaimScope {
                    supported_by: supported_by.iter().map(|s| s.to_string()).collect(),
                    ..Default::default()
                },
                ..Default::default()
            },
            &properties,
        )
    };
    let claims = vec![
        claim("requires-grad-copies", &["aliasing::requires_grad_keeps_aliasing"], &[]),
        claim("not-bitwise-identical", &["roundtrip::tch_conversions_bit_exact"], &[]),
        claim(
            "shares-memory",
            &["aliasing::zero_copy_view_writes_both_ways", "aliasing::requires_grad_keeps_aliasing"],
            &["aliasing::zero_copy_view_writes_both_ways"],
        ),
        claim("gpu-transfer-changes-values", &["devices::cuda_round_trip_bit_exact"], &[]),
    ];
    Report {
        format_version: FORMAT_VERSION,
        run_id: "browser-test".into(),
        complete: true,
        claims,
        conform_version: "0.1.0".into(),
        libtorch_version: "2.11.0".into(),
        tch_version: "0.24.0".into(),
        seed: 1,
        settings: Settings { cases: 1000, budget_s: Some(60.0), max_numel: 64 },
        duration_s: 60.0,
        summary: Summary::of(&properties),
        properties,
        reproductions: vec![Reproduction {
            property: "casts::to_f16_correctly_rounded".into(),
            signature: "to_kind(f64→f16) not correctly rounded".into(),
            corpus_file: Some("corpus/casts/to_f16_correctly_rounded/142e18461737.json".into()),
            case: serde_json::json!({"kind": "tensor", "dtype": "f64", "shape": [], "strides": [], "offset": 0, "storage": ["0x400005fff0000000 = 2.0029295682907104"]}),
            message: "out[] bits=0x4002".into(),
            culprit: "libtorch".into(),
            rust: Some("fn main() {}".into()),
            python: Some("import torch".into()),
            issue: "Title: to_kind".into(),
        }],
    }
}

fn check(browser: &str) -> Result<(), Failed> {
    let dir = std::env::temp_dir().join(format!("conform-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let page = dir.join("report.html");
    std::fs::write(&page, conform_reports::html::to_html(&report())).map_err(|e| e.to_string())?;
    let out = Command::new("bash")
        .arg(repo().join("scripts/render-report.sh"))
        .env("CHROMIUM", browser)
        .args(["--dump-dom", "--screenshot"])
        .arg(dir.join("report.png"))
        .arg(&page)
        .output()
        .map_err(|e| format!("cannot run scripts/render-report.sh: {e}"))?;
    let dom = String::from_utf8_lossy(&out.stdout).to_string();
    let _ = std::fs::remove_dir_all(&dir);
    if !out.status.success() {
        return Err(
            format!("render-report.sh failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr)).into()
        );
    }
    let expect = |what: &str, needle: &str| -> Result<(), Failed> {
        if dom.contains(needle) {
            Ok(())
        } else {
            Err(format!("the rendered DOM lacks {what}: {needle}\n--- DOM ---\n{dom}").into())
        }
    };
    // The verdicts, one of each kind, in the first section.
    for v in ["TRUE", "FALSE", "PARTLY", "UNSETTLED"] {
        expect("a verdict", &format!(r#"<span class="verdict v-{v}">{v}</span>"#))?;
    }
    let verdicts_at = dom.find(r#"id="verdicts""#).ok_or("no verdicts section")?;
    let matrix_at = dom.find(r#"class="matrix""#).ok_or("no cast matrix")?;
    if verdicts_at > matrix_at {
        return Err("the verdicts do not come first".into());
    }
    expect("the UNSETTLED sentence", "No CUDA device ran")?;
    // The matrix: a cell of each class, with the share of wrong values and a link to the counterexample.
    expect(
        "a beyond-½-ulp cell",
        r#"<td class="beyond" data-pair="f64→f16"><span class="cell-class">beyond ½ ulp</span>"#,
    )?;
    expect(
        "its share, linked",
        r##"<a href="#cx-casts-to-f16-correctly-rounded-to-kind-f64-f16-not-correctly-rounded">30 of 50,000 wrong (0.060 %)</a>"##,
    )?;
    expect(
        "a within-½-ulp cell",
        r#"<td class="half" data-pair="i64→f16"><span class="cell-class">within ½ ulp</span>"#,
    )?;
    expect(
        "a correctly rounded cell",
        r#"<td class="cr" data-pair="f32→f16"><span class="cell-class">correctly rounded</span>"#,
    )?;
    expect("the matrix headers", r#"<th scope="col">source ↓ / target →</th>"#)?;
    // An SVG histogram per deviating pair, with its text alternative and bars.
    for pair in ["f64→f16", "i64→f16"] {
        expect("a histogram", &format!(r#"<figure class="histogram" data-pair="{pair}"><svg role="img""#))?;
    }
    expect("an SVG title", "how far the 30 wrong values land</title>")?;
    expect("an SVG desc", ">1 ulp: 27; flushed to 0: 3</desc>")?;
    expect("an SVG bar", "<rect ")?;
    // NaN per pair and layout, and the counterexample with its reproductions.
    expect("the NaN layouts", r#"<th scope="col">contiguous</th><th scope="col">strided</th>"#)?;
    expect(
        "a NaN row",
        r#"<th scope="row">f32→f16</th><td>signalling NaN: sign kept, payload kept, quieted</td><td class="num">0</td><td class="num">4</td>"#,
    )?;
    expect(
        "the counterexample",
        r#"<article id="cx-casts-to-f16-correctly-rounded-to-kind-f64-f16-not-correctly-rounded">"#,
    )?;
    expect("its replay command", "conform replay corpus/casts/to_f16_correctly_rounded/142e18461737.json")?;
    expect("its Python reproduction", "<summary>Python program (torch)</summary>")?;
    Ok(())
}
