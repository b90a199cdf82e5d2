//! `check --format html`: the report as one self-contained page (no scripts, no network, no
//! external assets) for people who review a proof in a browser or attach it to a ticket:
//! a grid of accounts and regions by call, green where the call or probe came out as needed
//! and red where not, each cell opening (`<details>`) its requests, deciding statements and
//! fix; then the account-wide proofs, the counts per row and every finding.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use ssmlog_check::{AccessProof, Finding, Report, Severity};

/// Text made safe for HTML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\
h1.ok{color:#176f2c}h1.fail{color:#a31515}\
table{border-collapse:collapse;margin:.5em 0 1.5em}\
th,td{border:1px solid #bbb;padding:2px 6px;vertical-align:top;text-align:left}\
thead th{background:#eee;font-weight:600;font-size:12px}\
td.ok{background:#d4f4d4}td.fail{background:#f8cccc}td.none{background:#f4f4f4;color:#888}\
details summary{cursor:pointer}details[open]{min-width:28em}\
.fix{color:#7a4b00}code{font-size:12px}\
li.error{color:#a31515}li.warning{color:#7a4b00}li.note{color:#555}";

/// The page for `report` (made with every proof kept: `CheckOptions::keep_proofs`).
pub fn check_report(report: &Report) -> String {
    let (errors, warnings) = counts(&report.findings);
    let verdict = if report.passed() { "PASSED" } else { "FAILED" };
    let class = if report.passed() { "ok" } else { "fail" };
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>ssmlog check: {verdict}</title><style>{STYLE}</style></head><body>\n\
         <h1 id=\"verdict\" class=\"{class}\">ssmlog check: {verdict}</h1>\n\
         <p>{} decisions, {errors} errors, {warnings} warnings; State from <code>{}</code>. \
         Green: the call is allowed, or the probe denied, as needed; red: not; grey: counted \
         without a proof of its own (the same request held with the same policies). Open a \
         cell for its requests, the statements that decided and the fix.</p>\n",
        report.decisions,
        esc(&report.producer)
    );
    let (regional, account_wide): (Vec<&AccessProof>, Vec<&AccessProof>) =
        report.proofs.iter().partition(|p| p.region.is_some());
    s.push_str("<h2>Calls and probes by account and region</h2>\n");
    grid(&mut s, "calls", &regional);
    if !account_wide.is_empty() {
        s.push_str("<h2>Account-wide and organization-wide proofs</h2>\n");
        grid(&mut s, "account-wide", &account_wide);
    }
    rows(&mut s, report);
    findings(&mut s, &report.findings);
    s.push_str("</body></html>\n");
    s
}

fn counts(findings: &[Finding]) -> (usize, usize) {
    let of = |sev| findings.iter().filter(|f| f.severity == sev).count();
    (of(Severity::Error), of(Severity::Warning))
}

/// One table: a row per (account, region), a column per proof id, a cell per group of
/// proofs (one per instance role or principal).
fn grid(s: &mut String, id: &str, proofs: &[&AccessProof]) {
    let columns: BTreeSet<&str> = proofs.iter().map(|p| p.id.as_str()).collect();
    let mut cells: BTreeMap<(&str, &str), BTreeMap<&str, Vec<&AccessProof>>> = BTreeMap::new();
    for p in proofs {
        let row = (
            p.account.as_deref().unwrap_or("*"),
            p.region.as_deref().unwrap_or("*"),
        );
        cells
            .entry(row)
            .or_default()
            .entry(p.id.as_str())
            .or_default()
            .push(p);
    }
    let _ = write!(
        s,
        "<table id=\"{id}\"><thead><tr><th>account</th><th>region</th>"
    );
    for c in &columns {
        let _ = write!(s, "<th>{}</th>", esc(c));
    }
    s.push_str("</tr></thead><tbody>\n");
    for ((account, region), by_id) in &cells {
        let _ = write!(
            s,
            "<tr data-account=\"{a}\" data-region=\"{r}\"><th>{a}</th><th>{r}</th>",
            a = esc(account),
            r = esc(region)
        );
        for c in &columns {
            match by_id.get(c) {
                None => s.push_str("<td class=\"none\">–</td>"),
                Some(group) => cell(s, account, region, c, group),
            }
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table>\n");
}

fn cell(s: &mut String, account: &str, region: &str, id: &str, group: &[&AccessProof]) {
    let holds = group.iter().all(|p| p.holds);
    let (class, mark) = if holds {
        ("ok", "✓")
    } else {
        ("fail", "✗")
    };
    let _ = write!(
        s,
        "<td class=\"{class}\" data-account=\"{}\" data-region=\"{}\" data-call=\"{}\">\
         <details><summary>{mark}</summary>",
        esc(account),
        esc(region),
        esc(id)
    );
    // What failed first: it is why the cell is red.
    let mut group = group.to_vec();
    group.sort_by_key(|p| p.holds);
    for p in group {
        let verdict = if p.holds { "holds" } else { "FAILS" };
        let _ = write!(
            s,
            "<p><b>{verdict}</b>: {}<br><code>{}</code> on <code>{}</code><br>by <code>{}</code>\
             <br>expected {:?}, got {:?}</p>",
            esc(&p.purpose),
            esc(&p.action),
            esc(&p.resource),
            esc(&p.principal),
            p.expected,
            p.outcome
        );
        if let Some(d) = &p.decision {
            if !d.statements.is_empty() {
                s.push_str("<ul class=\"statements\">");
                for st in &d.statements {
                    let sid = st
                        .sid
                        .as_deref()
                        .map(|x| format!(" <code>{}</code>", esc(x)))
                        .unwrap_or_default();
                    let _ = write!(
                        s,
                        "<li>{:?} statement {}{sid} of <code>{}</code></li>",
                        st.effect,
                        st.index,
                        esc(&st.policy)
                    );
                }
                s.push_str("</ul>");
            }
            for m in &d.missing {
                let _ = write!(s, "<p>missing: {}</p>", esc(m));
            }
        }
        if let Some(fix) = &p.fix {
            let _ = write!(s, "<p class=\"fix\">fix: {}</p>", esc(fix));
        }
    }
    s.push_str("</details></td>");
}

/// The counts per account and region, as the text table has them.
fn rows(s: &mut String, report: &Report) {
    s.push_str(
        "<h2>Counts</h2>\n<table id=\"rows\"><thead><tr><th>account</th><th>region</th>\
         <th>agent calls</th><th>probes denied</th><th>errors</th><th>warnings</th></tr></thead><tbody>\n",
    );
    for r in &report.rows {
        let class = if r.calls_failed + r.probes_allowed + r.errors > 0 {
            "fail"
        } else {
            "ok"
        };
        let _ = writeln!(
            s,
            "<tr><th>{}</th><th>{}</th><td class=\"{class}\">{}/{}</td><td class=\"{class}\">{}/{}</td>\
             <td>{}</td><td>{}</td></tr>",
            esc(&r.account),
            esc(&r.region),
            r.calls_ok,
            r.calls_ok + r.calls_failed,
            r.probes_denied,
            r.probes_denied + r.probes_allowed,
            r.errors,
            r.warnings
        );
    }
    s.push_str("</tbody></table>\n");
}

fn findings(s: &mut String, findings: &[Finding]) {
    let _ = writeln!(
        s,
        "<h2>Findings ({})</h2>\n<ul id=\"findings\">",
        findings.len()
    );
    for f in findings {
        let sev = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        let scope = match (&f.account, &f.region) {
            (Some(a), Some(r)) => format!(" [{} {}]", esc(a), esc(r)),
            (Some(a), None) => format!(" [{}]", esc(a)),
            _ => String::new(),
        };
        let _ = write!(
            s,
            "<li class=\"{sev}\" data-rule=\"{rule}\"><details><summary>{sev}[{rule}]{scope}: {}</summary>",
            esc(&f.message),
            rule = esc(&f.rule)
        );
        if let Some(file) = &f.file {
            let at = match (f.line, &f.json_path) {
                (Some(l), Some(p)) => format!(":{l} ({})", esc(p)),
                (Some(l), None) => format!(":{l}"),
                (None, Some(p)) => format!(" ({})", esc(p)),
                (None, None) => String::new(),
            };
            let _ = write!(s, "<p>at <code>{}</code>{at}</p>", esc(file));
        }
        for st in &f.statements {
            let _ = write!(
                s,
                "<p>decided by {:?} statement {} of <code>{}</code></p>",
                st.effect,
                st.index,
                esc(&st.policy)
            );
        }
        let _ = writeln!(
            s,
            "<p class=\"fix\">fix: {}</p></details></li>",
            esc(&f.fix)
        );
    }
    s.push_str("</ul>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
