//! The verdicts of a run on this machine, the way a user types it: `conform run` prints the verdict on each claim
//! first, and report.json carries `claims[].verdict`, `because` and `evidence` before the properties. On a CPU-only
//! machine: requires_grad copies — FALSE; float64 becomes float32 — FALSE for tch's conversions, saying that
//! Python's legacy `torch.Tensor(array)` does give float32; GPU transfer changes values — UNSETTLED, no CUDA device.

use std::process::Command;

#[test]
fn a_run_prints_and_writes_a_verdict_per_claim_first() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("verdicts");
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_conform"))
        .current_dir(conform_harness::REPO_ROOT)
        // The families whose properties bear on the claims, and casts for the matrix.
        .args(["run", "--quiet", "--seed", "20261128", "--budget", "40s", "--out"])
        .arg(&dir)
        .args(["--family", "roundtrip", "--family", "dtype", "--family", "aliasing", "--family", "casts"])
        .args(["--family", "devices"])
        .env_remove("CI")
        .env("CI", "1") // never write pending corpus files from a test
        .output()
        .expect("conform runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("The article's claims, judged on this run's evidence:\n"),
        "the verdicts come first:\n{stdout}"
    );
    let json_text = std::fs::read_to_string(dir.join("report.json")).expect("report.json written");
    assert!(
        json_text.find("\"claims\"").unwrap() < json_text.find("\"properties\"").unwrap(),
        "claims come before properties in report.json"
    );
    let report: serde_json::Value = serde_json::from_str(&json_text).unwrap();
    let claim = |id: &str| report["claims"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap().clone();
    let requires_grad = claim("requires-grad-copies");
    assert_eq!(requires_grad["verdict"], "FALSE", "{requires_grad:#}");
    assert!(requires_grad["because"].as_str().unwrap().contains("aliasing::requires_grad_keeps_aliasing held in all"));
    let float64 = claim("float64-becomes-float32");
    assert_eq!(float64["verdict"], "FALSE", "{float64:#}");
    let because = float64["because"].as_str().unwrap();
    assert!(because.contains("kept the dtype of all") && because.contains("f64 arrays"), "{because}");
    assert!(because.contains("Python's legacy torch.Tensor(array) constructor does give float32"), "{because}");
    // Every property that ran speaks against the claim, none broke in scope (one whose budget share ran out
    // before its first case is missing evidence, and said so).
    let evidence = float64["evidence"].as_array().unwrap();
    assert!(evidence.iter().any(|e| e["bears"] == "against"), "{float64:#}");
    assert!(evidence.iter().all(|e| e["bears"] != "for" && e["broke"] == 0), "{float64:#}");
    let devices_skipped = report["properties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["family"] == "devices")
        .all(|p| p["status"] == "skip");
    let gpu = claim("gpu-transfer-changes-values");
    if devices_skipped {
        assert_eq!(gpu["verdict"], "UNSETTLED", "{gpu:#}");
        assert!(gpu["because"].as_str().unwrap().starts_with("No CUDA device ran"), "{gpu:#}");
    } else {
        assert_ne!(gpu["verdict"], "UNSETTLED", "{gpu:#}");
    }
    for c in report["claims"].as_array().unwrap() {
        assert!(c["verdict"].is_string() && !c["because"].as_str().unwrap().is_empty(), "{c:#}");
        assert!(stdout.contains(c["because"].as_str().unwrap()), "the console prints {}", c["id"]);
    }
    // The known deviations' evidence comes with reproductions, and the page shows the matrix.
    assert!(report["reproductions"].as_array().is_some_and(|r| !r.is_empty()));
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains(r#"<td class="beyond" data-pair="f64→f16">"#), "the cast matrix has libtorch's f64→f16 cell");
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"), "self-contained");
}
