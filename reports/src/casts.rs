//! The cast matrix, error histograms and NaN table, read from the observations the cast judges tally
//! (`conform_judge::casts::rounding`): `"{op}({source}→{target}) values: drawn|wrong|wrong within ½ ulp|wrong beyond
//! ½ ulp"`, `"{op}({source}→{target}) error: {bucket}"`, and NaN behaviour keys `"{source}→{target} {kind} NaN:
//! {behaviour} [{layout}]"`. Pure functions of the model; writers render what they return.
//!
//! Invariant: a cell's class comes from its counts alone: no wrong value is `correctly rounded`, wrong values all
//! within ½ ulp (ties broken the other way) is `within ½ ulp`, any other wrong value is `beyond ½ ulp`.

use std::collections::BTreeMap;

use crate::model::{PropertyReport, Report};

/// What one operation did to the values of one source → target pair, as one property counted them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CastCell {
    /// The operation (`to_kind`, `half from_f32/from_f64`, …).
    pub op: String,
    pub source: String,
    pub target: String,
    /// The property that counted it.
    pub property: String,
    pub drawn: u64,
    pub wrong: u64,
    pub within_half_ulp: u64,
    pub beyond_half_ulp: u64,
    /// How far the wrong values landed, bucket by bucket in order (`1 ulp`, `2 ulp`, `3-4 ulp`, …, then `flushed to
    /// 0`, `became inf` and the other special buckets).
    pub histogram: Vec<(String, u64)>,
}

/// A cell's verdict in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellClass {
    CorrectlyRounded,
    WithinHalfUlp,
    BeyondHalfUlp,
}

impl CellClass {
    pub fn label(self) -> &'static str {
        match self {
            CellClass::CorrectlyRounded => "correctly rounded",
            CellClass::WithinHalfUlp => "within ½ ulp",
            CellClass::BeyondHalfUlp => "beyond ½ ulp",
        }
    }

    /// A CSS class name.
    pub fn css(self) -> &'static str {
        match self {
            CellClass::CorrectlyRounded => "cr",
            CellClass::WithinHalfUlp => "half",
            CellClass::BeyondHalfUlp => "beyond",
        }
    }
}

impl CastCell {
    pub fn class(&self) -> CellClass {
        match (self.wrong, self.beyond_half_ulp) {
            (0, _) => CellClass::CorrectlyRounded,
            (_, 0) => CellClass::WithinHalfUlp,
            _ => CellClass::BeyondHalfUlp,
        }
    }

    /// The share of wrong values among those drawn, in percent.
    pub fn wrong_percent(&self) -> f64 {
        if self.drawn == 0 {
            0.0
        } else {
            100.0 * self.wrong as f64 / self.drawn as f64
        }
    }

    /// `f64→f16`.
    pub fn pair(&self) -> String {
        format!("{}→{}", self.source, self.target)
    }
}

/// Splits `"{op}({source}→{target}) {rest}"` into its parts.
fn split_pair(head: &str) -> Option<(&str, &str, &str)> {
    let inner = head.strip_suffix(')')?;
    let open = inner.rfind('(')?;
    let (source, target) = inner[open + 1..].split_once('→')?;
    Some((&inner[..open], source, target))
}

/// Sort key of a histogram bucket: ulp buckets by their lower bound, then the special ones in a fixed order.
fn bucket_rank(bucket: &str) -> (u64, String) {
    let lower = bucket.split(|c: char| !c.is_ascii_digit()).next().and_then(|d| d.parse::<u64>().ok());
    match lower {
        Some(n) if bucket.ends_with(" ulp") => (n, String::new()),
        _ => (u64::MAX, bucket.to_string()),
    }
}

/// The cells one property counted.
pub fn cells_of(p: &PropertyReport) -> Vec<CastCell> {
    let mut cells: BTreeMap<(String, String, String), CastCell> = BTreeMap::new();
    for (key, &n) in &p.observations {
        let (head, metric, is_error) = match (key.split_once(" values: "), key.split_once(" error: ")) {
            (Some((h, m)), _) => (h, m, false),
            (None, Some((h, m))) => (h, m, true),
            (None, None) => continue,
        };
        let Some((op, source, target)) = split_pair(head) else { continue };
        let cell = cells.entry((op.into(), source.into(), target.into())).or_insert_with(|| CastCell {
            op: op.into(),
            source: source.into(),
            target: target.into(),
            property: p.name.clone(),
            drawn: 0,
            wrong: 0,
            within_half_ulp: 0,
            beyond_half_ulp: 0,
            histogram: Vec::new(),
        });
        match (is_error, metric) {
            (true, bucket) => cell.histogram.push((bucket.to_string(), n)),
            (false, "drawn") => cell.drawn += n,
            (false, "wrong") => cell.wrong += n,
            (false, "wrong within ½ ulp") => cell.within_half_ulp += n,
            (false, "wrong beyond ½ ulp") => cell.beyond_half_ulp += n,
            _ => {}
        }
    }
    let mut out: Vec<CastCell> = cells.into_values().collect();
    for c in &mut out {
        c.histogram.sort_by_key(|(bucket, _)| bucket_rank(bucket));
    }
    out
}

/// Every cell of the report, property by property.
pub fn cells(report: &Report) -> Vec<CastCell> {
    report.properties.iter().flat_map(cells_of).collect()
}

/// The operations that counted cells, in first-seen order.
pub fn ops(cells: &[CastCell]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in cells {
        if !out.contains(&c.op) {
            out.push(c.op.clone());
        }
    }
    out
}

/// The dtypes in matrix order (floats first, widest first; then integers), keeping only those in `present`.
pub fn dtype_order(present: impl IntoIterator<Item = String>) -> Vec<String> {
    const ORDER: [&str; 10] = ["f64", "f32", "f16", "bf16", "i64", "i32", "i16", "i8", "u8", "bool"];
    let present: Vec<String> = present.into_iter().collect();
    let mut out: Vec<String> =
        ORDER.iter().filter(|d| present.iter().any(|p| p == *d)).map(|d| d.to_string()).collect();
    for p in present {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// NaN behaviour of one pair in one layout class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NanRow {
    pub pair: String,
    pub layout: String,
    /// `quiet NaN: sign kept, payload kept, quieted`.
    pub behaviour: String,
    pub count: u64,
    pub property: String,
}

/// Every NaN behaviour key, by pair, then layout, then behaviour.
pub fn nan_rows(report: &Report) -> Vec<NanRow> {
    let mut rows = Vec::new();
    for p in &report.properties {
        for (key, &count) in &p.observations {
            let Some((rest, layout)) = key.strip_suffix(']').and_then(|k| k.rsplit_once(" [")) else { continue };
            if !key.contains(" NaN") {
                continue;
            }
            let Some((pair, behaviour)) = rest.split_once(' ') else { continue };
            if !pair.contains('→') {
                continue;
            }
            rows.push(NanRow {
                pair: pair.into(),
                layout: layout.into(),
                behaviour: behaviour.into(),
                count,
                property: p.name.clone(),
            });
        }
    }
    rows.sort_by(|a, b| (&a.pair, &a.layout, &a.behaviour).cmp(&(&b.pair, &b.layout, &b.behaviour)));
    rows
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::Status;

    /// The literal keys `conform_judge::casts::rounding` writes (its tests pin the same strings).
    pub(crate) fn cast_property() -> PropertyReport {
        let mut p = crate::tests::property("casts::to_f16_correctly_rounded", Status::Known);
        for (k, n) in [
            ("to_kind(f64→f16) values: drawn", 1000),
            ("to_kind(f64→f16) values: wrong", 6),
            ("to_kind(f64→f16) values: wrong within ½ ulp", 0),
            ("to_kind(f64→f16) values: wrong beyond ½ ulp", 6),
            ("to_kind(f64→f16) error: 1 ulp", 4),
            ("to_kind(f64→f16) error: flushed to 0", 1),
            ("to_kind(f64→f16) error: 3-4 ulp", 1),
            ("to_kind(f32→f16) values: drawn", 800),
            ("f32→f16 quiet NaN: sign kept, payload kept, quieted [strided]", 3),
            ("f32→f16 quiet NaN: sign kept, payload kept, quieted [contiguous]", 5),
            ("unrelated observation", 1),
        ] {
            p.observations.insert(k.into(), n);
        }
        p
    }

    #[test]
    fn cells_and_histograms_come_from_the_judges_keys() {
        let cells = cells_of(&cast_property());
        assert_eq!(cells.len(), 2);
        let f64_f16 = cells.iter().find(|c| c.source == "f64").unwrap();
        assert_eq!(
            (f64_f16.op.as_str(), f64_f16.pair(), f64_f16.drawn, f64_f16.wrong),
            ("to_kind", "f64→f16".to_string(), 1000, 6)
        );
        assert_eq!(f64_f16.class(), CellClass::BeyondHalfUlp);
        assert!((f64_f16.wrong_percent() - 0.6).abs() < 1e-9);
        let buckets: Vec<&str> = f64_f16.histogram.iter().map(|(b, _)| b.as_str()).collect();
        assert_eq!(buckets, ["1 ulp", "3-4 ulp", "flushed to 0"]);
        let f32_f16 = cells.iter().find(|c| c.source == "f32").unwrap();
        assert_eq!(f32_f16.class(), CellClass::CorrectlyRounded);
        let mut ties = f64_f16.clone();
        ties.beyond_half_ulp = 0;
        assert_eq!(ties.class(), CellClass::WithinHalfUlp);
    }

    #[test]
    fn ops_with_parentheses_in_their_names_parse() {
        assert_eq!(split_pair("ndarray mapv(as)(f64→f32)"), Some(("ndarray mapv(as)", "f64", "f32")));
        assert_eq!(split_pair("half from_f32/from_f64(f64→bf16)"), Some(("half from_f32/from_f64", "f64", "bf16")));
        assert_eq!(split_pair("no pair"), None);
    }

    #[test]
    fn nan_rows_are_per_pair_and_layout() {
        let mut r = crate::tests::report();
        r.properties.push(cast_property());
        let rows = nan_rows(&r);
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].pair.as_str(), rows[0].layout.as_str(), rows[0].count), ("f32→f16", "contiguous", 5));
        assert_eq!(rows[0].behaviour, "quiet NaN: sign kept, payload kept, quieted");
    }

    #[test]
    fn dtypes_are_ordered_floats_first() {
        assert_eq!(dtype_order(["i8".to_string(), "f16".into(), "f64".into()]), ["f64", "f16", "i8"]);
    }
}
