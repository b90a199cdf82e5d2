//! What a check produces: proofs, findings and a summary per account and region, with the
//! three output forms (table for people, JSON and SARIF for CI).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use ssmlog_iam::{Decision, Outcome, StatementRef};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Logging breaks, or logs can be read, forged or lost.
    Error,
    /// A weakness or a likely mistake.
    Warning,
    /// Worth knowing; nothing is wrong.
    Note,
}

/// Whether a proof is about a call that must work or an attack that must fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProofKind {
    /// A call the SSM Agent or Session Manager makes: must be allowed.
    AgentCall,
    /// A call by which the log-archive administrators keep control of the bucket and keys:
    /// must be allowed, or nobody can ever fix the policies (a key policy cannot be repaired
    /// by anyone it does not allow).
    AdminCall,
    /// A call by which the auditors (`[readers]`) list, read and decrypt the logs: must be
    /// allowed.
    ReaderCall,
    /// A probe: must be denied.
    Probe,
}

impl ProofKind {
    /// Must the request be allowed (rather than denied)?
    pub fn must_allow(self) -> bool {
        self != ProofKind::Probe
    }

    /// The prefix of proof ids of this kind.
    pub fn prefix(self) -> &'static str {
        match self {
            ProofKind::AgentCall => "agent",
            ProofKind::AdminCall => "admin",
            ProofKind::ReaderCall => "reader",
            ProofKind::Probe => "probe",
        }
    }

    /// The rule of the finding when a proof of this kind fails.
    pub fn failure_rule(self) -> &'static str {
        match self {
            ProofKind::AgentCall => "agent-call-denied",
            ProofKind::AdminCall => "administrator-locked-out",
            ProofKind::ReaderCall => "reader-denied",
            ProofKind::Probe => "probe-allowed",
        }
    }
}

/// One request decided by the engine, with what was expected of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessProof {
    /// Stable name of the call or probe (`agent/s3:PutObject`, `probe/other-member-overwrite`).
    pub id: String,
    /// Agent call or probe.
    pub kind: ProofKind,
    /// The member account it is about, if any.
    pub account: Option<String>,
    /// The region it is about, if any.
    pub region: Option<String>,
    /// Who calls (session or role ARN).
    pub principal: String,
    /// The action.
    pub action: String,
    /// The resource ARN.
    pub resource: String,
    /// What the request stands for, in words.
    pub purpose: String,
    /// The decision that was needed.
    pub expected: Outcome,
    /// The engine's decision.
    pub outcome: Outcome,
    /// Did it come out as needed (allowed for agent calls, denied for probes)?
    pub holds: bool,
    /// The request context, for explanations.
    pub context: Vec<(String, Vec<String>)>,
    /// The full decision; kept for failures and for `--explain`.
    pub decision: Option<Decision>,
}

/// Something a person should act on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Finding {
    /// Stable rule id (`agent-call-denied`, `probe-allowed`, `preferences-bucket`, `lint/...`).
    pub rule: String,
    /// Error, warning or note.
    pub severity: Severity,
    /// The account it concerns, if one.
    pub account: Option<String>,
    /// The region it concerns, if one.
    pub region: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub fix: String,
    /// The State file it points at (relative to the State directory).
    pub file: Option<String>,
    /// The JSON path inside that file.
    pub json_path: Option<String>,
    /// The line in that file, where known.
    pub line: Option<usize>,
    /// The statements that decided (allowed a probe, denied a call).
    pub statements: Vec<StatementRef>,
}

/// Counts for one account and region (or the organization-wide row).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Row {
    /// Account id, or `*` for organization-wide proofs.
    pub account: String,
    /// Region, or `*`.
    pub region: String,
    /// Agent calls proven allowed.
    pub calls_ok: usize,
    /// Agent calls that would fail.
    pub calls_failed: usize,
    /// Probes proven denied.
    pub probes_denied: usize,
    /// Probes that succeed (an attacker could do it).
    pub probes_allowed: usize,
    /// Findings of error severity.
    pub errors: usize,
    /// Findings of warning severity.
    pub warnings: usize,
}

/// The whole result of a check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Report {
    /// Who wrote the State that was checked.
    pub producer: String,
    /// One row per account and region, then the organization-wide row.
    pub rows: Vec<Row>,
    /// Every finding, errors first.
    pub findings: Vec<Finding>,
    /// Proofs kept in full: the explained account's, and every one that failed.
    pub proofs: Vec<AccessProof>,
    /// Total decisions made.
    pub decisions: usize,
}

impl Report {
    /// Does everything hold (no error findings)?
    pub fn passed(&self) -> bool {
        !self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The table for people: one line per account and region, then each finding.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<14} {:<16} {:>11} {:>15} {:>7} {:>9}",
            "ACCOUNT", "REGION", "AGENT CALLS", "PROBES DENIED", "ERRORS", "WARNINGS"
        );
        for r in &self.rows {
            let calls = format!("{}/{}", r.calls_ok, r.calls_ok + r.calls_failed);
            let probes = format!("{}/{}", r.probes_denied, r.probes_denied + r.probes_allowed);
            let mark = if r.calls_failed + r.probes_allowed + r.errors > 0 {
                "  FAIL"
            } else {
                ""
            };
            let _ = writeln!(
                s,
                "{:<14} {:<16} {:>11} {:>15} {:>7} {:>9}{mark}",
                r.account, r.region, calls, probes, r.errors, r.warnings
            );
        }
        if !self.findings.is_empty() {
            s.push('\n');
        }
        for f in &self.findings {
            let sev = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "note",
            };
            let scope = match (&f.account, &f.region) {
                (Some(a), Some(r)) => format!(" [{a} {r}]"),
                (Some(a), None) => format!(" [{a}]"),
                _ => String::new(),
            };
            let _ = writeln!(s, "{sev}[{}]{scope}: {}", f.rule, f.message);
            if let Some(file) = &f.file {
                let at = match (&f.json_path, f.line) {
                    (Some(p), Some(l)) => format!(":{l} ({p})"),
                    (Some(p), None) => format!(" ({p})"),
                    (None, Some(l)) => format!(":{l}"),
                    (None, None) => String::new(),
                };
                let _ = writeln!(s, "  --> {file}{at}");
            }
            for st in &f.statements {
                let sid = st
                    .sid
                    .as_deref()
                    .map(|x| format!(" `{x}`"))
                    .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "  decided by: {:?} statement {}{sid} of `{}`",
                    st.effect, st.index, st.policy
                );
            }
            let _ = writeln!(s, "  = fix: {}", f.fix);
        }
        let (errors, warnings) = self.counts();
        let verdict = if self.passed() { "PASSED" } else { "FAILED" };
        let _ = writeln!(
            s,
            "\n{verdict}: {} decisions, {errors} errors, {warnings} warnings ({})",
            self.decisions, self.producer
        );
        s
    }

    /// Rendering of one account's proofs in full, for `--explain`.
    pub fn explain(&self, account: &str) -> String {
        let mut s = String::new();
        for p in self
            .proofs
            .iter()
            .filter(|p| p.account.as_deref() == Some(account))
        {
            let verdict = if p.holds { "holds" } else { "FAILS" };
            let _ = writeln!(
                s,
                "{} {} — {verdict}: expected {:?}, got {:?}",
                p.id,
                p.region.as_deref().unwrap_or("(all regions)"),
                p.expected,
                p.outcome
            );
            let _ = writeln!(s, "  {}", p.purpose);
            let _ = writeln!(s, "  {} on {}\n  by {}", p.action, p.resource, p.principal);
            for (k, v) in &p.context {
                let _ = writeln!(s, "    {k} = {}", v.join(", "));
            }
            if let Some(d) = &p.decision {
                for st in &d.statements {
                    let sid = st
                        .sid
                        .as_deref()
                        .map(|x| format!(" `{x}`"))
                        .unwrap_or_default();
                    let _ = writeln!(
                        s,
                        "  matched: {:?} statement {}{sid} of `{}`",
                        st.effect, st.index, st.policy
                    );
                }
                for m in &d.missing {
                    let _ = writeln!(s, "  missing: {m}");
                }
            }
            s.push('\n');
        }
        if s.is_empty() {
            s = format!("no proofs concern account {account}\n");
        }
        s
    }

    fn counts(&self) -> (usize, usize) {
        let e = self
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        let w = self
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count();
        (e, w)
    }

    /// SARIF 2.1.0, one result per finding, for code scanning in CI.
    pub fn to_sarif(&self) -> serde_json::Value {
        use serde_json::json;
        let mut rules: Vec<&str> = self.findings.iter().map(|f| f.rule.as_str()).collect();
        rules.sort_unstable();
        rules.dedup();
        let results: Vec<serde_json::Value> = self
            .findings
            .iter()
            .map(|f| {
                let level = match f.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Note => "note",
                };
                let mut r = json!({
                    "ruleId": f.rule,
                    "level": level,
                    "message": {"text": format!("{} Fix: {}", f.message, f.fix)},
                });
                if let Some(file) = &f.file {
                    let mut region = json!({});
                    if let Some(l) = f.line {
                        region = json!({"startLine": l});
                    }
                    r["locations"] = json!([{"physicalLocation": {
                        "artifactLocation": {"uri": file, "uriBaseId": "STATE"},
                        "region": region
                    }}]);
                }
                r
            })
            .collect();
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "ssmlog",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules.iter().map(|r| json!({"id": r})).collect::<Vec<_>>()
                }},
                "results": results
            }]
        })
    }
}
