//! Reading `report.json` back, and merging the reports of the shards of one run (`conform run --shard K/N`) into
//! one report, the way nextest's partitions add up to one test run.
//!
//! Invariant: only reports that could have come from one run are merged — the same format, seed, settings, and
//! conform, libtorch and tch versions, each property in exactly one of them, and none cut short unless asked — and
//! a merged report holds every property unchanged, as the shard that ran it reported it. What derives from the
//! properties (summary, claims) is recomputed from the merged list, never added up from the shards' own.

use std::io;
use std::path::{Path, PathBuf};

use crate::model::{ClaimReport, PropertyReport, Report, Summary, FORMAT_VERSION};

/// A report file that cannot be used. One lowercase line naming the file; the cause is the source, and
/// [`ReadError::hint`] says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{} is not a conform report.json", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// The file's `format_version` is not the one this conform reads (`None`: it has none).
    #[error("{} has report format {}, but this conform reads format {FORMAT_VERSION}", path.display(), found.map_or("(none)".to_string(), |v| v.to_string()))]
    Format { path: PathBuf, found: Option<u64> },
}

impl ReadError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ReadError::Io { .. } => None,
            ReadError::Json { .. } => Some("pass the report.json that `conform run` or `conform merge` wrote"),
            ReadError::Format { .. } => {
                Some("read it with the conform version that wrote it, or run that shard or night again")
            }
        }
    }
}

/// Reads a `report.json`, refusing another format version before reading any other field (a field of another
/// format may mean something else).
pub fn read_report(path: &Path) -> Result<Report, ReadError> {
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io { path: path.to_path_buf(), source })?;
    let json = |source| ReadError::Json { path: path.to_path_buf(), source };
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(json)?;
    let found = value.get("format_version").and_then(serde_json::Value::as_u64);
    if found != Some(u64::from(FORMAT_VERSION)) {
        return Err(ReadError::Format { path: path.to_path_buf(), found });
    }
    serde_json::from_value(value).map_err(json)
}

/// One shard's report and the file it came from (for error messages).
#[derive(Debug, Clone, PartialEq)]
pub struct ShardReport {
    pub path: PathBuf,
    pub report: Report,
}

/// How to merge.
pub struct MergeOptions<'a> {
    /// Merge reports with `complete: false` too (the merged report is then incomplete as well).
    pub allow_incomplete: bool,
    /// The merged report's run id.
    pub run_id: String,
    /// Property names in the order the merged report lists them (the property registry's order, which an unsharded
    /// run uses); names not in it follow, sorted.
    pub order: &'a [&'a str],
    /// The claims, built from the merged properties (the harness builds them from the property registry).
    pub claims: &'a dyn Fn(&[PropertyReport]) -> Vec<ClaimReport>,
}

/// Why reports cannot be merged; each names the files involved. [`MergeError::hint`] says what to do.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("no report to merge")]
    NoReports,
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Two reports differ in something one run shares.
    #[error("{} has {what} {other_value}, but {} has {first_value}: they are not shards of one run", other.display(), first.display())]
    Mismatch { what: &'static str, first: PathBuf, first_value: String, other: PathBuf, other_value: String },
    #[error("{} is incomplete (its run was cut short)", path.display())]
    Incomplete { path: PathBuf },
    #[error("property `{name}` is in both {} and {}", first.display(), other.display())]
    Duplicate { name: String, first: PathBuf, other: PathBuf },
}

impl MergeError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            MergeError::NoReports => Some("name the report.json of each shard"),
            MergeError::Read(e) => e.hint(),
            MergeError::Mismatch { .. } => {
                Some("merge the shards of one run: the same --seed, settings and binary, each with --shard K/N")
            }
            MergeError::Incomplete { .. } => {
                Some("run that shard again, or pass --allow-incomplete to merge the properties it finished")
            }
            MergeError::Duplicate { .. } => {
                Some("pass each shard's report once; the shards K/N of one N never share a property")
            }
        }
    }
}

/// Merges shard reports into one. See the module invariant.
pub fn merge(shards: &[ShardReport], options: &MergeOptions<'_>) -> Result<Report, MergeError> {
    let (first, rest) = shards.split_first().ok_or(MergeError::NoReports)?;
    for shard in shards {
        if !shard.report.complete && !options.allow_incomplete {
            return Err(MergeError::Incomplete { path: shard.path.clone() });
        }
    }
    for other in rest {
        check_same(first, other)?;
    }
    let mut seen: Vec<(&str, &Path)> = Vec::new();
    let mut properties = Vec::new();
    for shard in shards {
        for p in &shard.report.properties {
            if let Some((_, first_path)) = seen.iter().find(|(name, _)| *name == p.name) {
                return Err(MergeError::Duplicate {
                    name: p.name.clone(),
                    first: first_path.to_path_buf(),
                    other: shard.path.clone(),
                });
            }
            seen.push((&p.name, &shard.path));
            properties.push(p.clone());
        }
    }
    let rank = |name: &str| options.order.iter().position(|n| *n == name).unwrap_or(usize::MAX);
    properties.sort_by(|a, b| rank(&a.name).cmp(&rank(&b.name)).then_with(|| a.name.cmp(&b.name)));
    let r = &first.report;
    Ok(Report {
        format_version: FORMAT_VERSION,
        run_id: options.run_id.clone(),
        complete: shards.iter().all(|s| s.report.complete),
        conform_version: r.conform_version.clone(),
        libtorch_version: r.libtorch_version.clone(),
        tch_version: r.tch_version.clone(),
        seed: r.seed,
        settings: r.settings.clone(),
        // The shards run side by side: the merged run took as long as the longest.
        duration_s: shards.iter().map(|s| s.report.duration_s).fold(0.0, f64::max),
        claims: (options.claims)(&properties),
        summary: Summary::of(&properties),
        properties,
        // Each shard reproduces the deviations it ran into; the same corpus case once.
        reproductions: {
            let mut all: Vec<crate::model::Reproduction> = Vec::new();
            for r in shards.iter().flat_map(|s| &s.report.reproductions) {
                if !all.iter().any(|a| a.property == r.property && a.signature == r.signature && a.case == r.case) {
                    all.push(r.clone());
                }
            }
            all
        },
    })
}

/// Refuses `other` unless it shares with `first` everything one run shares.
fn check_same(first: &ShardReport, other: &ShardReport) -> Result<(), MergeError> {
    let (a, b) = (&first.report, &other.report);
    let settings = |r: &Report| {
        let budget = r.settings.budget_s.map_or("none".to_string(), |s| format!("{s}s"));
        format!("cases {}, budget {budget}, max-numel {}", r.settings.cases, r.settings.max_numel)
    };
    let fields: [(&'static str, String, String); 6] = [
        ("format version", a.format_version.to_string(), b.format_version.to_string()),
        ("seed", a.seed.to_string(), b.seed.to_string()),
        ("conform version", a.conform_version.clone(), b.conform_version.clone()),
        ("libtorch version", a.libtorch_version.clone(), b.libtorch_version.clone()),
        ("tch version", a.tch_version.clone(), b.tch_version.clone()),
        ("settings", settings(a), settings(b)),
    ];
    match fields.into_iter().find(|(_, x, y)| x != y) {
        None => Ok(()),
        Some((what, first_value, other_value)) => Err(MergeError::Mismatch {
            what,
            first: first.path.clone(),
            first_value,
            other: other.path.clone(),
            other_value,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClaimProperty, Status};

    /// The shared test report (three properties) cut into shards: `parts[i]` names the properties of shard i.
    fn shards(parts: &[&[&str]]) -> Vec<ShardReport> {
        let whole = crate::tests::report();
        parts
            .iter()
            .enumerate()
            .map(|(i, names)| {
                let mut report = whole.clone();
                report.properties.retain(|p| names.contains(&p.name.as_str()));
                report.summary = Summary::of(&report.properties);
                report.duration_s = i as f64 + 1.0;
                report.run_id = format!("shard-{i}");
                ShardReport { path: PathBuf::from(format!("shard-{}/report.json", i + 1)), report }
            })
            .collect()
    }

    /// One claim per property, named after it: enough to see that claims are rebuilt from the merged list.
    fn claims(properties: &[PropertyReport]) -> Vec<ClaimReport> {
        properties
            .iter()
            .map(|p| ClaimReport {
                id: p.name.clone(),
                quote: String::new(),
                checked_as: String::new(),
                properties: vec![ClaimProperty { name: p.name.clone(), status: p.status }],
                ..Default::default()
            })
            .collect()
    }

    const ORDER: &[&str] = &["roundtrip::a", "roundtrip::b", "dtype::c"];

    fn options() -> MergeOptions<'static> {
        MergeOptions { allow_incomplete: false, run_id: "merged".into(), order: ORDER, claims: &claims }
    }

    fn message(e: &MergeError) -> String {
        e.to_string()
    }

    #[test]
    fn shards_merge_back_into_the_whole_run_in_registry_order() {
        let whole = crate::tests::report();
        let merged = merge(&shards(&[&["dtype::c", "roundtrip::a"], &["roundtrip::b"]]), &options()).unwrap();
        assert_eq!(merged.properties, whole.properties, "every property once, unchanged, in registry order");
        assert_eq!(merged.summary, whole.summary);
        assert_eq!(merged.claims, claims(&whole.properties));
        assert_eq!((merged.seed, &merged.settings, merged.complete), (whole.seed, &whole.settings, true));
        assert_eq!(merged.run_id, "merged");
        assert_eq!(merged.duration_s, 2.0, "the longest shard");
    }

    #[test]
    fn a_name_not_in_the_order_goes_last() {
        let mut parts = shards(&[&["roundtrip::a"], &["roundtrip::b"]]);
        parts[0].report.properties[0].name = "zzz::new".into();
        let merged = merge(&parts, &options()).unwrap();
        let names: Vec<&str> = merged.properties.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["roundtrip::b", "zzz::new"]);
    }

    #[test]
    fn reports_of_different_runs_are_refused_naming_both_files() {
        type Change = fn(&mut Report);
        let cases: [(&str, Change); 5] = [
            ("seed 8, but shard-1/report.json has 7", |r| r.seed = 8),
            ("tch version 0.26.0, but shard-1/report.json has 0.24.0", |r| r.tch_version = "0.26.0".into()),
            ("libtorch version 2.13.0", |r| r.libtorch_version = "2.13.0".into()),
            ("conform version 0.2.0", |r| r.conform_version = "0.2.0".into()),
            ("settings cases 100, budget 20s, max-numel 64", |r| r.settings.budget_s = Some(20.0)),
        ];
        for (expected, change) in cases {
            let mut parts = shards(&[&["roundtrip::a"], &["roundtrip::b"]]);
            change(&mut parts[1].report);
            let err = merge(&parts, &options()).unwrap_err();
            assert!(matches!(err, MergeError::Mismatch { .. }), "{err:?}");
            let text = message(&err);
            assert!(text.starts_with("shard-2/report.json has ") && text.contains(expected), "{text}");
            assert!(text.ends_with("they are not shards of one run"), "{text}");
            assert!(err.hint().unwrap().contains("--shard K/N"));
        }
    }

    #[test]
    fn a_duplicate_property_is_refused_naming_both_files() {
        let parts = shards(&[&["roundtrip::a", "roundtrip::b"], &["roundtrip::b"]]);
        let err = merge(&parts, &options()).unwrap_err();
        assert_eq!(message(&err), "property `roundtrip::b` is in both shard-1/report.json and shard-2/report.json");
        let same_twice = shards(&[&["roundtrip::a"], &["roundtrip::a"]]);
        assert!(matches!(merge(&same_twice, &options()), Err(MergeError::Duplicate { .. })));
    }

    #[test]
    fn an_incomplete_report_is_refused_unless_allowed() {
        let mut parts = shards(&[&["roundtrip::a"], &["roundtrip::b"]]);
        parts[1].report.complete = false;
        let err = merge(&parts, &options()).unwrap_err();
        assert_eq!(message(&err), "shard-2/report.json is incomplete (its run was cut short)");
        assert!(err.hint().unwrap().contains("--allow-incomplete"));
        let merged = merge(&parts, &MergeOptions { allow_incomplete: true, ..options() }).unwrap();
        assert!(!merged.complete, "a merge of an incomplete shard stays incomplete");
        assert_eq!(merged.properties.len(), 2);
    }

    #[test]
    fn nothing_to_merge_is_an_error() {
        assert!(matches!(merge(&[], &options()), Err(MergeError::NoReports)));
    }

    #[test]
    fn one_shard_with_a_failure_keeps_its_counterexample_and_status() {
        let merged = merge(&shards(&[&["roundtrip::b"]]), &options()).unwrap();
        assert_eq!(merged.properties[0].status, Status::Fail);
        assert!(merged.properties[0].counterexample.is_some());
        assert_eq!(merged.summary.fail, 1);
    }

    fn scratch(name: &str, content: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("conform-merge-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("report.json");
        std::fs::write(&path, content).unwrap();
        path
    }

    #[test]
    fn read_report_round_trips_and_refuses_other_formats_and_non_reports() {
        let r = crate::tests::report();
        let path = scratch("ok", &crate::to_json(&r));
        assert_eq!(read_report(&path).unwrap(), r);

        let mut old: serde_json::Value = serde_json::from_str(&crate::to_json(&r)).unwrap();
        old["format_version"] = 1.into();
        let path = scratch("format", &old.to_string());
        let err = read_report(&path).unwrap_err();
        assert_eq!(err.to_string(), format!("{} has report format 1, but this conform reads format 2", path.display()));
        assert!(err.hint().is_some());

        let path = scratch("none", "{}");
        assert!(read_report(&path)
            .unwrap_err()
            .to_string()
            .ends_with("has report format (none), but this conform reads format 2"));
        let path = scratch("junk", "<html>");
        let err = read_report(&path).unwrap_err();
        assert!(matches!(err, ReadError::Json { .. }) && err.to_string().ends_with("is not a conform report.json"));
        let missing = path.with_file_name("missing.json");
        assert!(read_report(&missing).unwrap_err().to_string().starts_with("cannot read "));
    }
}
