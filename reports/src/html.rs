//! A self-contained HTML page of a report: the summary table, the article's claims with their properties, and the
//! details of every property that did not pass. Built with maud, which escapes every interpolated string.

use maud::{html, Markup, DOCTYPE};

use crate::model::{Report, Status};
use crate::text;

const STYLE: &str = "body{font-family:sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse}\
td,th{padding:.2em .6em;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}\
.pass{color:#176b2c}.known{color:#6b5a17}.FAIL,.FIXED,.VACUOUS{color:#a11;font-weight:bold}.skip{color:#777}\
pre{background:#f6f6f6;padding:.6em;white-space:pre-wrap}";

pub fn to_html(report: &Report) -> String {
    let s = &report.summary;
    let page: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "conform report, seed " (report.seed) }
                style { (STYLE) }
            }
            body {
                h1 { "conform report" }
                p {
                    "run " code { (report.run_id) } ", libtorch " (report.libtorch_version) ", tch " (report.tch_version) ", seed " (report.seed) ", "
                    (format!("{:.1}", report.duration_s)) " s: " (s.pass) " pass, " (s.fail) " fail, " (s.known)
                    " known, " (s.fixed) " fixed, " (s.vacuous) " vacuous, " (s.skip) " skip."
                    @if !report.complete { " " strong { "Incomplete: the run stopped before every property ran." } }
                }
                table {
                    tr { th { "property" } th { "status" } th { "cases" } th { "rejects" } th { "known" } th { "time (s)" } th { "cases/s" } th { "values/s" } }
                    @for p in &report.properties {
                        tr {
                            td { (p.name) }
                            td class=(p.status.label()) { (p.status.label()) }
                            td { (p.cases) }
                            td { (p.rejects) }
                            td { (p.known_hits) }
                            td { (format!("{:.2}", p.duration_s)) }
                            td { (format!("{:.1}", p.cases_per_s)) }
                            td { (format!("{:.0}", p.values_per_s)) }
                        }
                    }
                }
                h2 { "The article's claims" }
                @for c in &report.claims {
                    h3 { (c.id) }
                    blockquote { (c.quote) }
                    p { "Checked as: " (c.checked_as) }
                    ul { @for p in &c.properties { li { (p.name) ": " span class=(p.status.label()) { (p.status.label()) } } } }
                }
                @let troubled: Vec<_> = report.properties.iter().filter(|p| p.status != Status::Pass).collect();
                @if !troubled.is_empty() {
                    h2 { "Details" }
                    @for p in troubled {
                        h3 { (p.name) " — " (p.status.label()) }
                        @let details = text::details(p);
                        @if !details.is_empty() { pre { (details) } }
                        @for k in &p.known {
                            p { "Known deviation " code { (k.signature) } ": " (k.reason) }
                        }
                    }
                }
            }
        }
    };
    page.into_string()
}
