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
    /// What to do, when it does not hold (the fix of its finding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
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
    /// The line in that file, where known (1-based).
    pub line: Option<usize>,
    /// The column in that line, where known (1-based, in characters).
    pub column: Option<usize>,
    /// The statements that decided (allowed a probe, denied a call).
    pub statements: Vec<StatementRef>,
}

impl Finding {
    /// Is this finding about the network (issue 13): reachability (`network-…` rules), a
    /// call denied through a VPC endpoint, or a lint of an endpoint policy? `verify` shows
    /// these per account and region.
    pub fn is_network(&self) -> bool {
        self.rule.starts_with("network-")
            || (self.rule == "agent-call-denied" && self.message.contains(" through endpoint "))
            || self
                .file
                .as_deref()
                .is_some_and(|f| f.contains("/vpc-endpoints/"))
    }
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

    /// SARIF 2.1.0, one result per finding, for code scanning in CI (GitHub places each at
    /// its State file, line and column).
    ///
    /// `state_dir` is the State directory as the repository sees it (`state`, or `""` for a
    /// State rendered in memory, whose files are those `ssmlog render` writes); each result's
    /// `uri` is that directory joined with the State file, relative to `SRCROOT`, which
    /// `originalUriBaseIds` defines as `root_uri` (the absolute `file://` URI of the directory
    /// ssmlog ran in) when given.
    pub fn to_sarif(&self, state_dir: &str, root_uri: Option<&str>) -> serde_json::Value {
        use serde_json::json;
        let mut rules: Vec<&str> = self.findings.iter().map(|f| f.rule.as_str()).collect();
        rules.sort_unstable();
        rules.dedup();
        let dir = state_dir.trim_end_matches('/');
        let results: Vec<serde_json::Value> = self
            .findings
            .iter()
            .map(|f| {
                let level = match f.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Note => "note",
                };
                let file = f.file.as_deref().unwrap_or(ssmlog_state::layout::MANIFEST);
                let uri = if dir.is_empty() {
                    file.to_string()
                } else {
                    format!("{dir}/{file}")
                };
                let mut region = json!({"startLine": f.line.unwrap_or(1).max(1)});
                if let Some(c) = f.column {
                    region["startColumn"] = json!(c.max(1));
                }
                let mut location = json!({"physicalLocation": {
                    "artifactLocation": {"uri": uri, "uriBaseId": "SRCROOT"},
                    "region": region
                }});
                if let Some(p) = &f.json_path {
                    location["logicalLocations"] =
                        json!([{"fullyQualifiedName": format!("{file}#{p}"), "kind": "element"}]);
                }
                let scope = match (&f.account, &f.region) {
                    (Some(a), Some(r)) => format!(" [{a} {r}]"),
                    (Some(a), None) => format!(" [{a}]"),
                    _ => String::new(),
                };
                json!({
                    "ruleId": f.rule,
                    "ruleIndex": rules.iter().position(|r| *r == f.rule).unwrap_or(0),
                    "level": level,
                    "message": {"text": format!("{}{scope} Fix: {}", f.message, f.fix)},
                    "locations": [location],
                    "partialFingerprints": {"ssmlogFinding/v1": fingerprint(f)},
                })
            })
            .collect();
        let rule_objects: Vec<serde_json::Value> = rules
            .iter()
            .map(|id| {
                let first = self.findings.iter().find(|f| f.rule == *id);
                let (short, full, help) = rule_text(id).unwrap_or_else(|| {
                    (
                        humanize(id),
                        first.map_or(String::new(), |f| f.message.clone()),
                        first.map_or(String::new(), |f| f.fix.clone()),
                    )
                });
                json!({
                    "id": id,
                    "name": humanize(id).replace(' ', ""),
                    "shortDescription": {"text": short},
                    "fullDescription": {"text": full},
                    "help": {"text": help, "markdown": help},
                    "defaultConfiguration": {"level": first.map_or("warning", |f| match f.severity {
                        Severity::Error => "error",
                        Severity::Warning => "warning",
                        Severity::Note => "note",
                    })},
                })
            })
            .collect();
        let mut base = json!({"description": {"text": "the directory `ssmlog check` ran in (the repository root in CI)"}});
        if let Some(root) = root_uri {
            base["uri"] = json!(if root.ends_with('/') {
                root.to_string()
            } else {
                format!("{root}/")
            });
        }
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "ssmlog",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-logging.html",
                    "rules": rule_objects
                }},
                "originalUriBaseIds": {"SRCROOT": base},
                "results": results
            }]
        })
    }
}

/// A stable fingerprint of a finding (rule, scope, place and message), FNV-1a in hex, so
/// code scanning follows a finding across runs.
fn fingerprint(f: &Finding) -> String {
    let key = format!(
        "{}|{}|{}|{}|{}|{}",
        f.rule,
        f.account.as_deref().unwrap_or(""),
        f.region.as_deref().unwrap_or(""),
        f.file.as_deref().unwrap_or(""),
        f.json_path.as_deref().unwrap_or(""),
        f.message
    );
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// `lint/unknown-action` → `Lint unknown action`.
fn humanize(id: &str) -> String {
    let words = id.replace(['/', '-'], " ");
    let mut c = words.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Short description, full description and help of the rules that decide most findings;
/// other rules take their first finding's message and fix.
fn rule_text(id: &str) -> Option<(String, String, String)> {
    let (short, full, help) = match id {
        "agent-call-denied" => (
            "A call the SSM Agent or Session Manager makes is denied",
            "The engine decided a request the agent or Session Manager makes for central logging (GetEncryptionConfiguration, PutObject, KMS GenerateDataKey/Decrypt) as denied: sessions fail to start or their logs are silently lost.",
            "Grant the call where the finding says is missing (identity policy, bucket policy or key policy); the deciding statements are listed in the finding.",
        ),
        "probe-allowed" => (
            "Someone who must not can read, overwrite, forge or decrypt logs",
            "A probe request (another member account writing this account's logs, an outsider, an unencrypted or plain-HTTP upload, a direct use of the bucket key) is allowed by the policies in the State.",
            "Narrow the statement the finding names (a prefix per account, `aws:PrincipalOrgID`, TLS-only and SSE-enforcing denies, `kms:ViaService`).",
        ),
        "administrator-locked-out" => (
            "The log-archive administrators cannot manage the bucket or keys",
            "A call by which the administrators keep control of the bucket or a key is denied: nobody could repair the policies later (a key policy cannot be fixed by anyone it does not allow).",
            "Allow the administrators in the key policy and the bucket policy.",
        ),
        _ if id.starts_with("lint/") => {
            let code = &id["lint/".len()..];
            return Some((
                format!("Policy lint: {}", code.replace('-', " ")),
                format!("A policy of the State has a problem `ssmlog iam validate` reports as `{code}` (IAM's validation and the AWS service reference; see docs/iam-lints.md)."),
                "Correct the policy at the place shown; the message says what and how.".into(),
            ));
        }
        _ => return None,
    };
    Some((short.into(), full.into(), help.into()))
}
