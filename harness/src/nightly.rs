//! What the nightly run needs beyond `conform run`: the `--shard K/N` selection, `conform merge` (shard reports into
//! one) and `conform diff` (what changed since another report). The logic of merging and comparing lives in
//! `conform_reports::{merge, diff}` (no libtorch); this is the glue to the property registry and the command line.
//!
//! Invariant: a property's shard depends only on its full name: shard K of N holds the properties whose name's
//! FNV-1a 64-bit hash ([`conform_generators::hash::fnv1a`]), shifted right by 32 bits, modulo N is K − 1, so the
//! shards 1..=N of one N partition every selection, and a property never moves between shards from one night (or
//! machine) to the next. The high half, because FNV-1a's low bits mix poorly: its lowest bit is the parity of the
//! name's odd bytes, so the plain hash modulo 2 split 36 properties 25/11, and modulo 8 left a shard empty.

use std::fmt;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use conform_generators::hash::fnv1a;
use conform_properties::{registry, Property};
use conform_reports::{console, MergeError, MergeOptions, PropertyReport, ReadError, ShardReport};

use crate::error::UsageError;
use crate::runner;

/// `--shard K/N`: shard K (1-based) of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Whether the property named `name` is in this shard (see the module invariant).
    pub fn contains(&self, name: &str) -> bool {
        shard_hash(name) % self.count == self.index - 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The number a property's shard derives from: the high 32 bits of its full name's FNV-1a 64 hash.
pub fn shard_hash(name: &str) -> u64 {
    fnv1a(name.as_bytes()) >> 32
}

/// What `--shard` accepts: `K/N` with 1 ≤ K ≤ N.
pub const SHARD_HINT: &str = "K/N with whole numbers 1 <= K <= N, e.g. 1/4 for the first of four shards";

/// Parses `K/N`.
pub fn parse_shard(text: &str) -> Result<Shard, String> {
    let Some((k, n)) = text.trim().split_once('/') else {
        return Err(format!("expected K/N, e.g. 1/4 ({SHARD_HINT})"));
    };
    let number = |s: &str, what: &str| {
        s.trim().parse::<u64>().map_err(|_| format!("{what} `{s}` is not a whole number ({SHARD_HINT})"))
    };
    let (index, count) = (number(k, "K")?, number(n, "N")?);
    if count == 0 {
        return Err(format!("N must be at least 1 ({SHARD_HINT})"));
    }
    if index == 0 || index > count {
        return Err(format!("shard numbers run from 1 to N, so K must be between 1 and {count} ({SHARD_HINT})"));
    }
    Ok(Shard { index, count })
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The report.json of each shard.
    #[arg(required = true, value_name = "REPORT")]
    reports: Vec<PathBuf>,
    /// Where the merged report.json, report.html and junit.xml go.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Merge reports of runs that were cut short (`complete: false`) too; the merged report is then incomplete.
    #[arg(long)]
    allow_incomplete: bool,
}

/// `conform merge`: writes one report from the shards of a run and prints its summary. Exit 0 when the merged
/// report is conformant (or only known deviations), 1 when a property fails it, 2 when the reports cannot be merged.
pub fn merge(args: MergeArgs) -> Result<u8> {
    let mut shards = Vec::with_capacity(args.reports.len());
    for path in &args.reports {
        let report = conform_reports::read_report(path).map_err(usage_of_read)?;
        shards.push(ShardReport { path: path.clone(), report });
    }
    let all = registry();
    let order: Vec<&str> = all.iter().map(|p| p.name).collect();
    let seed = shards.first().map_or(0, |s| s.report.seed);
    let claims = |merged: &[PropertyReport]| claims_of(&all, merged);
    let options = MergeOptions {
        allow_incomplete: args.allow_incomplete,
        run_id: format!("{}-merged", runner::run_id(seed)),
        order: &order,
        claims: &claims,
    };
    let report = conform_reports::merge(&shards, &options).map_err(usage_of_merge)?;
    let written = conform_reports::write_all(&report, &args.out).map_err(UsageError::from)?;
    let mut out = console::summary_table(&report);
    out.push('\n');
    out.push_str(&console::claims(&report));
    for p in &report.properties {
        let details = console::details(p);
        if !details.is_empty() {
            out.push_str(&format!("\n{details}"));
        }
    }
    out.push_str(&format!("merged {} reports of seed {seed}\nreport: {}\n", shards.len(), written.json.display()));
    crate::cli::print_tolerating_closed_pipe(&out)?;
    Ok(runner::exit_code(&report))
}

/// The claims of a merged report, built as a run builds them, from the registry's properties that the report has.
fn claims_of(all: &[Property], merged: &[PropertyReport]) -> Vec<conform_reports::ClaimReport> {
    let (properties, reports): (Vec<Property>, Vec<PropertyReport>) =
        merged.iter().filter_map(|r| all.iter().find(|p| p.name == r.name).map(|p| (p.clone(), r.clone()))).unzip();
    runner::claims(&properties, &reports)
}

/// `--format` of `conform diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    /// For a CI job summary (`>> "$GITHUB_STEP_SUMMARY"`).
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier report.json (e.g. last night's merged report).
    old: PathBuf,
    /// The later report.json.
    new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
}

/// `conform diff`: exit 1 when anything got worse (a property fails that did not, a new deviation signature, a
/// property gone), 0 otherwise, 2 when a report cannot be read.
pub fn diff(args: DiffArgs) -> Result<u8> {
    let old = conform_reports::read_report(&args.old).map_err(usage_of_read)?;
    let new = conform_reports::read_report(&args.new).map_err(usage_of_read)?;
    let d = conform_reports::diff(&old, &args.old.display().to_string(), &new, &args.new.display().to_string());
    let text = match args.format {
        DiffFormat::Text => conform_reports::diff::to_text(&d),
        DiffFormat::Markdown => conform_reports::diff::to_markdown(&d),
        DiffFormat::Json => conform_reports::diff::to_json(&d) + "\n",
    };
    crate::cli::print_tolerating_closed_pipe(&text)?;
    Ok(u8::from(d.worse()))
}

fn usage_of_read(e: ReadError) -> UsageError {
    UsageError { hint: e.hint().map(str::to_string), message: format!("{:#}", anyhow::Error::from(e)) }
}

fn usage_of_merge(e: MergeError) -> UsageError {
    UsageError { hint: e.hint().map(str::to_string), message: format!("{:#}", anyhow::Error::from(e)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_refuse_nonsense() {
        assert_eq!(parse_shard("1/2"), Ok(Shard { index: 1, count: 2 }));
        assert_eq!(parse_shard(" 3/3 ").unwrap().to_string(), "3/3");
        for (bad, why) in [
            ("0/2", "K must be between 1 and 2"),
            ("3/2", "K must be between 1 and 2"),
            ("1/0", "N must be at least 1"),
            ("x", "expected K/N"),
            ("a/2", "K `a` is not a whole number"),
            ("1/-2", "N `-2` is not a whole number"),
        ] {
            let err = parse_shard(bad).unwrap_err();
            assert!(err.contains(why) && err.contains(SHARD_HINT), "{bad}: {err}");
        }
    }

    #[test]
    fn the_shards_of_one_n_partition_the_registry() {
        let names: Vec<&str> = registry().iter().map(|p| p.name).collect();
        for count in 1..=5 {
            let mut seen: Vec<&str> = Vec::new();
            for index in 1..=count {
                let shard = Shard { index, count };
                seen.extend(names.iter().filter(|n| shard.contains(n)));
            }
            seen.sort_unstable();
            let mut all = names.clone();
            all.sort_unstable();
            assert_eq!(seen, all, "{count} shards");
        }
        // The hash is of the full name, fixed forever (FNV-1a 64): the same name always lands in the same shard.
        assert_eq!(fnv1a(b"casts::to_f16_correctly_rounded"), 0xdc80_1c8c_5df5_433c);
        assert_eq!(shard_hash("casts::to_f16_correctly_rounded"), 0xdc80_1c8c);
        assert!(Shard { index: 1, count: 4 }.contains("casts::to_f16_correctly_rounded"));
        assert!(Shard { index: 1, count: 3 }.contains("casts::to_f16_correctly_rounded"), "0xdc801c8c % 3 == 0");
        assert!(Shard { index: 1, count: 1 }.contains("anything"));
    }

    #[test]
    fn shards_are_balanced_enough_that_none_is_empty() {
        let names: Vec<&str> = registry().iter().map(|p| p.name).collect();
        // Up to 4 shards (the nightly's default): with some 36 names an empty shard is then a 1-in-10,000 accident.
        for count in 2..=4u64 {
            let sizes: Vec<usize> =
                (1..=count).map(|index| names.iter().filter(|n| Shard { index, count }.contains(n)).count()).collect();
            let fair = names.len() as f64 / count as f64;
            assert!(sizes.iter().all(|&n| n > 0 && (n as f64) < 2.5 * fair), "{count} shards: {sizes:?}");
        }
    }
}
