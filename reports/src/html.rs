//! report.html: one self-contained page (no script, no network: styles inline, charts inline SVG) that answers the
//! question first: the verdict on each claim with the sentence naming its evidence; then the cast matrix (source ×
//! target, each cell correctly rounded / within ½ ulp / beyond ½ ulp with the share of wrong values, linked to its
//! counterexample); an SVG histogram per deviating pair of how far the wrong values land; the NaN behaviour per pair
//! and layout; the other findings; every counterexample with its case, message, replay command and reproductions;
//! and last the property table. Built with maud, which escapes every interpolated string.
//!
//! Invariant: accessible without colour or pictures: every table has header cells with scopes, every SVG a
//! `<title>` and `<desc>` that say what its bars say, and every colour-coded cell its class in words.

use maud::{html, Markup, DOCTYPE};

use crate::casts::{self, CastCell};
use crate::claims::findings;
use crate::model::{ClaimReport, PropertyReport, Report, Reproduction, Status};
use crate::text::{self, count};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:78em;padding:0 1em;color:#1a1a1a;line-height:1.4}\
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:2px solid #ddd;padding-bottom:.2em}\
table{border-collapse:collapse;margin:.5em 0}caption{text-align:left;font-weight:bold;padding:.3em 0}\
td,th{padding:.3em .6em;border:1px solid #ddd;vertical-align:top}th{background:#f4f4f4;text-align:left}\
td.num{text-align:right;font-variant-numeric:tabular-nums}\
.verdict{display:inline-block;min-width:6.5em;text-align:center;font-weight:bold;border-radius:3px;padding:.15em .4em}\
.v-TRUE{background:#d9ecd9;color:#14521d}.v-FALSE{background:#f6d5d5;color:#8a1212}.v-PARTLY{background:#fbe9c4;color:#6b4a00}\
.v-UNSETTLED{background:#e4e4e4;color:#444}\
blockquote{margin:.2em 0;color:#555;font-style:italic;font-weight:normal}.checked{font-weight:normal;font-size:.9em;color:#444}\
table.verdicts th[scope=row]{width:34%}\
.matrix td{text-align:center;min-width:8.5em}.matrix td a{color:inherit}.cr{background:#e3f2e3}.half{background:#fff3c9}\
.beyond{background:#f8d0d0}.none{color:#999}.cell-class{font-weight:bold;display:block}\
.pass{color:#176b2c}.known{color:#6b5a17}.FAIL,.FIXED,.VACUOUS{color:#a11;font-weight:bold}.skip{color:#777}\
pre{background:#f6f6f6;padding:.6em;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.9em}\
code{background:#f3f3f3;padding:0 .2em}figure{display:inline-block;margin:.5em 1.5em .5em 0;vertical-align:top}\
figcaption{font-size:.9em;color:#333;max-width:30em}article{border-left:3px solid #ddd;padding-left:1em;margin:1em 0}\
details{margin:.3em 0}summary{cursor:pointer}dl{margin:.3em 0}dt{font-weight:bold}dd{margin:0 0 .4em 1.2em}";

pub fn to_html(report: &Report) -> String {
    let s = &report.summary;
    let cells = casts::cells(report);
    let entries = counterexamples(report);
    let page: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "conform report: verdicts on the article's claims (seed " (report.seed) ")" }
                style { (STYLE) }
            }
            body {
                header {
                    h1 { "Why do tensors differ from arrays? What this run found" }
                    p {
                        "libtorch " (report.libtorch_version) ", tch " (report.tch_version) ", conform "
                        (report.conform_version) ", seed " (report.seed) ", " (format!("{:.1}", report.duration_s))
                        " s, run " code { (report.run_id) } ". " (report.properties.len()) " properties: " (s.pass)
                        " pass, " (s.fail) " fail, " (s.known) " known, " (s.fixed) " fixed, " (s.vacuous)
                        " vacuous, " (s.skip) " skip."
                        @if !report.complete { " " strong { "Incomplete: the run stopped before every property ran." } }
                    }
                    nav aria-label="sections" {
                        a href="#verdicts" { "Verdicts" } " · " a href="#casts" { "Cast matrix" } " · "
                        a href="#histograms" { "Error histograms" } " · " a href="#nan" { "NaN behaviour" } " · "
                        a href="#findings" { "Findings" } " · " a href="#counterexamples" { "Counterexamples" } " · "
                        a href="#properties" { "Properties" }
                    }
                }
                main {
                    (verdicts(report))
                    (matrices(&cells, &entries))
                    (histograms(&cells))
                    (nan_table(report))
                    (other_findings(report))
                    (counterexample_section(&entries))
                    (property_section(report))
                }
            }
        }
    };
    page.into_string()
}

fn verdicts(report: &Report) -> Markup {
    html! {
        section id="verdicts" aria-labelledby="verdicts-h" {
            h2 id="verdicts-h" { "Verdicts on the article's claims" }
            p { "Each verdict is computed from the evidence in scope of its claim; other deviations are findings of their own (below)." }
            table class="verdicts" {
                caption { "One verdict per claim, with the evidence it rests on" }
                thead { tr { th scope="col" { "Verdict" } th scope="col" { "Claim" } th scope="col" { "Because" } } }
                tbody { @for c in &report.claims { (verdict_row(c)) } }
            }
        }
    }
}

fn verdict_row(c: &ClaimReport) -> Markup {
    let label = c.verdict.map_or("—", |v| v.label());
    html! {
        tr id=(format!("claim-{}", c.id)) {
            td { span class=(format!("verdict v-{label}")) { (label) } }
            th scope="row" {
                code { (c.id) }
                blockquote { "“" (c.quote) "”" }
                span class="checked" { "Checked as: " (c.checked_as) }
            }
            td {
                p class="because" { (c.because) }
                @if !c.evidence.is_empty() {
                    details {
                        summary { "Evidence, property by property" }
                        table {
                            thead { tr { th scope="col" { "Property" } th scope="col" { "Status" } th scope="col" { "Bears" } th scope="col" { "Counted" } th scope="col" { "Held" } th scope="col" { "Broke" } th scope="col" { "Detail" } } }
                            tbody {
                                @for e in &c.evidence {
                                    tr {
                                        th scope="row" { code { (e.property) } }
                                        td class=(e.status.label()) { (e.status.label()) }
                                        td { (format!("{:?}", e.bears).to_lowercase()) }
                                        td { (e.counted) }
                                        td class="num" { (count(e.held)) }
                                        td class="num" { (count(e.broke)) }
                                        td { (e.detail.as_deref().unwrap_or("")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One counterexample or known deviation, with what the report knows of its case and reproductions.
struct Entry<'a> {
    anchor: String,
    property: &'a PropertyReport,
    signature: String,
    message: String,
    reason: Option<String>,
    repro_command: String,
    reproduction: Option<&'a Reproduction>,
}

impl Entry<'_> {
    fn case_dtype(&self) -> Option<&str> {
        self.reproduction.and_then(|r| r.case.get("dtype")).and_then(|d| d.as_str())
    }
}

/// An HTML id from free text: letters, digits and dashes.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// Every counterexample and known deviation of the report, each once, with its reproduction when one was made.
fn counterexamples(report: &Report) -> Vec<Entry<'_>> {
    let mut out = Vec::new();
    let find = |p: &PropertyReport, sig: &str| {
        report.reproductions.iter().find(|r| r.property == p.name && r.signature == sig)
    };
    for p in &report.properties {
        if let Some(c) = &p.counterexample {
            let reproduction = find(p, &c.signature);
            out.push(Entry {
                anchor: format!("cx-{}", slug(&format!("{} {}", p.name, c.signature))),
                property: p,
                signature: c.signature.clone(),
                message: c.message.clone(),
                reason: None,
                repro_command: c.repro.clone(),
                reproduction,
            });
        }
        for k in &p.known {
            let reproduction = find(p, &k.signature);
            let replay = match reproduction.and_then(|r| r.corpus_file.as_deref()) {
                Some(file) => format!("conform replay {file}"),
                None => format!("conform run --property {}", p.name),
            };
            out.push(Entry {
                anchor: format!("cx-{}", slug(&format!("{} {}", p.name, k.signature))),
                property: p,
                signature: k.signature.clone(),
                message: k.replay_message.clone(),
                reason: Some(k.reason.clone()),
                repro_command: replay,
                reproduction,
            });
        }
    }
    out
}

/// The counterexample of a cell: the entry of its property whose stored case has the cell's source dtype.
fn cell_link<'a>(cell: &CastCell, entries: &'a [Entry<'_>]) -> Option<&'a str> {
    entries
        .iter()
        .find(|e| e.property.name == cell.property && e.case_dtype() == Some(cell.source.as_str()))
        .map(|e| e.anchor.as_str())
}

fn matrices(cells: &[CastCell], entries: &[Entry<'_>]) -> Markup {
    let ops = casts::ops(cells);
    html! {
        section id="casts" aria-labelledby="casts-h" {
            h2 id="casts-h" { "Cast matrix: every value drawn, against the correctly rounded result" }
            p {
                "Each cell counts every value converted from the row's dtype to the column's, known deviations included: "
                strong { "correctly rounded" } " (no wrong value), " strong { "within ½ ulp" }
                " (only ties broken the other way), or " strong { "beyond ½ ulp" }
                ", with the share of wrong values among those drawn. The values are drawn at rounding boundaries (midpoints, \
                 their neighbours, overflow and underflow thresholds), so a share says how often a boundary value goes \
                 wrong, not how often typical data does. A cell links to its counterexample; — means the pair was not drawn."
            }
            @if cells.is_empty() { p { "No cast property counted values in this run." } }
            @for op in &ops {
                @let mine: Vec<&CastCell> = cells.iter().filter(|c| &c.op == op).collect();
                @let sources = casts::dtype_order(mine.iter().map(|c| c.source.clone()));
                @let targets = casts::dtype_order(mine.iter().map(|c| c.target.clone()));
                table class="matrix" {
                    caption { code { (op) } ": source dtype (rows) × target dtype (columns)" }
                    thead { tr { th scope="col" { "source ↓ / target →" } @for t in &targets { th scope="col" { (t) } } } }
                    tbody {
                        @for source in &sources {
                            tr {
                                th scope="row" { (source) }
                                @for target in &targets {
                                    @let cell = mine.iter().find(|c| &c.source == source && &c.target == target);
                                    @match cell {
                                        Some(c) => { (matrix_cell(c, cell_link(c, entries))) }
                                        None => { td class="none" { "—" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn matrix_cell(c: &CastCell, link: Option<&str>) -> Markup {
    let class = c.class();
    let share = match c.wrong {
        0 => format!("0 of {} wrong", count(c.drawn)),
        w => format!("{} of {} wrong ({})", count(w), count(c.drawn), percent(c.wrong_percent())),
    };
    html! {
        td class=(class.css()) data-pair=(c.pair()) {
            span class="cell-class" { (class.label()) }
            @match (link, c.wrong) {
                (Some(anchor), w) if w > 0 => { a href=(format!("#{anchor}")) { (share) } }
                _ => { span { (share) } }
            }
        }
    }
}

/// A share in percent with two significant digits at least: `14.8 %`, `0.060 %`.
fn percent(p: f64) -> String {
    match p {
        p if p >= 10.0 => format!("{p:.1} %"),
        p if p >= 1.0 => format!("{p:.2} %"),
        p if p > 0.0 => {
            let decimals = (1 - p.log10().floor() as i32).clamp(2, 12) as usize;
            format!("{p:.decimals$} %")
        }
        _ => "0 %".into(),
    }
}

fn histograms(cells: &[CastCell]) -> Markup {
    let deviating: Vec<&CastCell> = cells.iter().filter(|c| c.wrong > 0).collect();
    html! {
        section id="histograms" aria-labelledby="histograms-h" {
            h2 id="histograms-h" { "How far the wrong values land" }
            p { "For each deviating pair: the wrong values by their distance from the correctly rounded result, in ulps of the target; flushes to zero and overflows to infinity apart." }
            @if deviating.is_empty() { p { "No pair deviated in this run." } }
            @for c in &deviating { (histogram(c)) }
        }
    }
}

/// An inline SVG bar chart of one pair's error histogram, with its numbers in `<title>`/`<desc>` and the caption.
fn histogram(c: &CastCell) -> Markup {
    let id = slug(&format!("h {} {} {}", c.property, c.op, c.pair()));
    let (label_w, bar_w, row_h, top) = (170.0, 200.0, 22.0, 8.0);
    let height = top * 2.0 + row_h * c.histogram.len() as f64;
    let width = label_w + bar_w + 80.0;
    let max = c.histogram.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1) as f64;
    let summary: Vec<String> = c.histogram.iter().map(|(b, n)| format!("{b}: {}", count(*n))).collect();
    let title = format!("{} {}: how far the {} wrong values land", c.op, c.pair(), count(c.wrong));
    html! {
        figure class="histogram" data-pair=(c.pair()) {
            svg role="img" aria-labelledby=(format!("{id}-t {id}-d")) width=(width) height=(height) viewBox=(format!("0 0 {width} {height}")) {
                title id=(format!("{id}-t")) { (title) }
                desc id=(format!("{id}-d")) { (summary.join("; ")) }
                @for (k, (bucket, n)) in c.histogram.iter().enumerate() {
                    @let y = top + row_h * k as f64;
                    @let w = ((*n as f64 / max) * bar_w).max(2.0);
                    @let special = !bucket.ends_with(" ulp");
                    text x=(label_w - 6.0) y=(y + row_h * 0.68) text-anchor="end" font-size="12" { (bucket) }
                    rect x=(label_w) y=(y + 3.0) width=(format!("{w:.1}")) height=(row_h - 6.0) fill=(if special { "#d9822b" } else { "#3b6ea8" }) {}
                    text x=(label_w + w + 5.0) y=(y + row_h * 0.68) font-size="12" { (count(*n)) }
                }
            }
            figcaption {
                code { (c.op) } " " (c.pair()) " (" code { (c.property) } "): " (count(c.wrong)) " of " (count(c.drawn))
                " values wrong; " (summary.join(", ")) "."
            }
        }
    }
}

fn nan_table(report: &Report) -> Markup {
    let rows = casts::nan_rows(report);
    let layouts: Vec<String> = {
        let mut l: Vec<String> = rows.iter().map(|r| r.layout.clone()).collect();
        l.sort();
        l.dedup();
        l
    };
    // One row per pair, behaviour and property; one count column per layout, so the layouts compare side by side.
    let mut table: Vec<(&str, &str, &str, Vec<u64>)> = Vec::new();
    for r in &rows {
        let column = layouts.iter().position(|l| *l == r.layout).unwrap_or(0);
        match table.iter_mut().find(|(p, b, prop, _)| *p == r.pair && *b == r.behaviour && *prop == r.property) {
            Some((_, _, _, counts)) => counts[column] += r.count,
            None => {
                let mut counts = vec![0; layouts.len()];
                counts[column] = r.count;
                table.push((&r.pair, &r.behaviour, &r.property, counts));
            }
        }
    }
    html! {
        section id="nan" aria-labelledby="nan-h" {
            h2 id="nan-h" { "NaN behaviour per pair and layout" }
            p { "IEEE 754 leaves a converted NaN's sign and payload open: tabulated, not judged (every NaN must stay a NaN, which is judged). Counts per layout of the input tensor." }
            @if table.is_empty() { p { "No NaN was converted in this run." } } @else {
                table {
                    thead { tr { th scope="col" { "Pair" } th scope="col" { "Behaviour" } @for l in &layouts { th scope="col" { (l) } } th scope="col" { "Property" } } }
                    tbody {
                        @for (pair, behaviour, property, counts) in &table {
                            tr {
                                th scope="row" { (pair) }
                                td { (behaviour) }
                                @for n in counts { td class="num" { (count(*n)) } }
                                td { code { (property) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn other_findings(report: &Report) -> Markup {
    let found = findings(report);
    html! {
        section id="findings" aria-labelledby="findings-h" {
            h2 id="findings-h" { "Findings" }
            p { "Every deviation the run saw, each with the reason recorded when it was reviewed. A finding that entered a verdict names its claim." }
            @if found.is_empty() { p { "None." } }
            ul {
                @for f in &found {
                    li {
                        a href=(format!("#cx-{}", slug(&format!("{} {}", f.property, f.signature)))) { code { (f.property) } }
                        " — " strong { (f.signature) } " (" span class=(f.status.label()) { (f.status.label()) } "): " (f.text)
                        @if !f.claims.is_empty() { " Bears on: " (f.claims.join(", ")) "." }
                    }
                }
            }
        }
    }
}

fn counterexample_section(entries: &[Entry<'_>]) -> Markup {
    html! {
        section id="counterexamples" aria-labelledby="cx-h" {
            h2 id="cx-h" { "Counterexamples and reproductions" }
            @if entries.is_empty() { p { "No counterexample in this run." } }
            @for e in entries {
                article id=(e.anchor) {
                    h3 { code { (e.property.name) } ": " (e.signature) }
                    dl {
                        @if let Some(why) = &e.reason { dt { "Why (reviewed)" } dd { (why) } }
                        dt { "Message" } dd { code { (e.message) } }
                        @if let Some(r) = e.reproduction {
                            dt { "Case" } dd { pre { (serde_json::to_string_pretty(&r.case).unwrap_or_default()) } }
                            dt { "Whose behaviour" } dd { (r.culprit) }
                        }
                        dt { "Replay" } dd { code { (e.repro_command) } }
                        @if let Some(file) = e.reproduction.and_then(|r| r.corpus_file.as_deref()) {
                            dt { "Reproductions" } dd { code { "conform repro " (file) } }
                        }
                    }
                    @if let Some(r) = e.reproduction {
                        @if let Some(rust) = &r.rust { details { summary { "Rust program (" (r.culprit) ")" } pre { (rust) } } }
                        @if let Some(py) = &r.python { details { summary { "Python program (torch)" } pre { (py) } } }
                        details { summary { "Draft upstream issue" } pre { (r.issue) } }
                    }
                }
            }
        }
    }
}

fn property_section(report: &Report) -> Markup {
    let skipped: Vec<&PropertyReport> = report.properties.iter().filter(|p| p.status == Status::Skip).collect();
    let mut reasons: Vec<(&str, Vec<&str>)> = Vec::new();
    for p in &skipped {
        let why = p.skip_reason.as_deref().unwrap_or("no reason given");
        match reasons.iter_mut().find(|(w, _)| *w == why) {
            Some((_, names)) => names.push(&p.name),
            None => reasons.push((why, vec![&p.name])),
        }
    }
    html! {
        section id="properties" aria-labelledby="properties-h" {
            h2 id="properties-h" { "Properties" }
            table {
                thead { tr { th scope="col" { "property" } th scope="col" { "status" } th scope="col" { "cases" } th scope="col" { "rejects" } th scope="col" { "known" } th scope="col" { "time (s)" } th scope="col" { "cases/s" } th scope="col" { "values/s" } } }
                tbody {
                    @for p in &report.properties {
                        tr {
                            td { (p.name) }
                            td class=(p.status.label()) { (p.status.label()) }
                            td class="num" { (p.cases) }
                            td class="num" { (p.rejects) }
                            td class="num" { (p.known_hits) }
                            td class="num" { (format!("{:.2}", p.duration_s)) }
                            td class="num" { (format!("{:.1}", p.cases_per_s)) }
                            td class="num" { (format!("{:.0}", p.values_per_s)) }
                        }
                    }
                }
            }
            @for (why, names) in &reasons {
                p { strong { (names.len()) " skipped" } " (" (names.join(", ")) "): " (why) }
            }
            @let troubled: Vec<&PropertyReport> = report.properties.iter().filter(|p| p.status.fails()).collect();
            @for p in troubled {
                h3 { (p.name) " — " (p.status.label()) }
                @let details = text::details(p);
                @if !details.is_empty() { pre { (details) } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No script, nothing fetched from the network, and every chart with its text alternative.
    #[test]
    fn the_page_is_self_contained_and_its_charts_say_what_they_show() {
        let mut r = crate::tests::report();
        r.properties.push(crate::casts::tests::cast_property());
        let page = to_html(&r);
        assert!(!page.contains("<script") && !page.contains("http://") && !page.contains("https://"));
        assert!(!page.contains("<link") && !page.contains("<img"), "styles and charts are inline");
        let svgs = page.matches("<svg ").count();
        assert_eq!(svgs, 1, "one histogram for the one deviating pair");
        assert!(page.contains(r#"<svg role="img" aria-labelledby="h-casts-to-f16-correctly-rounded-to-kind-f64-f16-t h-casts-to-f16-correctly-rounded-to-kind-f64-f16-d""#), "{page}");
        assert!(page.contains(">1 ulp: 4; 3-4 ulp: 1; flushed to 0: 1</desc>"));
        assert!(page.contains(r#"<th scope="col">source ↓ / target →</th>"#));
        assert!(page.contains(r#"<td class="beyond" data-pair="f64→f16"><span class="cell-class">beyond ½ ulp</span><span>6 of 1,000 wrong (0.60 %)</span></td>"#), "no counterexample to link to here");
    }

    #[test]
    fn shares_keep_two_significant_digits() {
        assert_eq!(
            [percent(14.76), percent(4.163), percent(0.06), percent(0.0012), percent(0.0)],
            ["14.8 %", "4.16 %", "0.060 %", "0.0012 %", "0 %"]
        );
    }
}
