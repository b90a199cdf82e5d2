//! Runs each request through the engine and records what holds, what does not, and why.

use std::collections::HashMap;

use ssmlog_iam::{
    decide_request, evaluate_request, Context, Decision, Effect, Gap, OrgLevel, Outcome, Policy,
    PolicyRole, PolicySet, Request, RequestPrincipal, StatementRef,
};

use crate::report::{AccessProof, Finding, ProofKind, Report, Row, Severity};

/// One request to prove, with the policies that decide it.
pub(crate) struct Spec<'a> {
    pub(crate) id: &'static str,
    pub(crate) kind: ProofKind,
    pub(crate) account: Option<&'a str>,
    pub(crate) region: Option<&'a str>,
    pub(crate) principal: &'a RequestPrincipal,
    pub(crate) in_management_account: bool,
    pub(crate) action: &'static str,
    pub(crate) resource: &'a str,
    pub(crate) resource_account: &'a str,
    pub(crate) context: Context,
    pub(crate) purpose: &'a dyn Fn() -> String,
    pub(crate) identity: &'a [Policy],
    pub(crate) resource_policy: Option<&'a Policy>,
    /// The file of the resource policy, for fixes.
    pub(crate) resource_file: Option<&'a str>,
    pub(crate) scps: &'a [OrgLevel],
    pub(crate) rcps: &'a [OrgLevel],
    /// What to do when it does not hold.
    pub(crate) fix: &'a dyn Fn(&Decision) -> String,
    /// Set for requests that do not depend on the region: a request with the same key that
    /// already held is counted without deciding it again.
    pub(crate) memo: Option<MemoKey>,
}

/// Identifies a region-independent request: account, role (or starter pattern), call, and
/// the preferences it depends on (encryption on, session key).
pub(crate) type MemoKey = (usize, usize, &'static str, bool, Option<usize>);

/// Accumulates proofs, findings and rows.
pub(crate) struct Prover {
    pub(crate) report: Report,
    rows: Vec<Row>,
    /// Row index by (account, region); proofs of one row come in a run, so the last row
    /// used is checked first.
    index: HashMap<(String, String), usize>,
    last: usize,
    explain: Option<String>,
    /// Every account is explained (see `CheckOptions::keep_proofs`).
    explain_all: bool,
    /// Region-independent requests that held.
    held: std::collections::HashSet<MemoKey>,
}

impl Prover {
    pub(crate) fn new(producer: &str, explain: Option<String>, explain_all: bool) -> Self {
        Prover {
            report: Report {
                producer: producer.to_string(),
                ..Report::default()
            },
            rows: Vec::new(),
            index: HashMap::new(),
            last: usize::MAX,
            explain,
            explain_all,
            held: std::collections::HashSet::new(),
        }
    }

    fn row(&mut self, account: Option<&str>, region: Option<&str>) -> &mut Row {
        let (account, region) = (account.unwrap_or("*"), region.unwrap_or("*"));
        let hit = self
            .rows
            .get(self.last)
            .is_some_and(|r| r.account == account && r.region == region);
        if !hit {
            let key = (account.to_string(), region.to_string());
            let next = self.rows.len();
            let i = *self.index.entry(key).or_insert(next);
            if i == next {
                self.rows.push(Row {
                    account: account.to_string(),
                    region: region.to_string(),
                    ..Row::default()
                });
            }
            self.last = i;
        }
        &mut self.rows[self.last]
    }

    /// Makes sure an account/region row exists even when it holds no proofs.
    pub(crate) fn touch(&mut self, account: &str, region: &str) {
        self.row(Some(account), Some(region));
    }

    /// Counts an agent call whose region-independent request already held (see
    /// [`Spec::memo`]) without building it; false when it must be proven.
    pub(crate) fn memo_held(&mut self, key: &MemoKey, account: &str, region: &str) -> bool {
        let explained = self.explain_all || self.explain.as_deref() == Some(account);
        if explained || !self.held.contains(key) {
            return false;
        }
        self.row(Some(account), Some(region)).calls_ok += 1;
        true
    }

    /// Counts `n` agent calls that hold without deciding them: the same requests with the
    /// same policies were decided and held (see `network`).
    pub(crate) fn count_ok(&mut self, account: &str, region: &str, n: usize) {
        self.row(Some(account), Some(region)).calls_ok += n;
    }

    pub(crate) fn finding(&mut self, f: Finding) {
        let row = self.row(f.account.as_deref(), f.region.as_deref());
        match f.severity {
            Severity::Error => row.errors += 1,
            Severity::Warning => row.warnings += 1,
            Severity::Note => {}
        }
        self.report.findings.push(f);
    }

    pub(crate) fn prove(&mut self, spec: Spec<'_>) -> bool {
        self.prove_via(spec, None)
    }

    /// [`Prover::prove`] for a request that goes through a VPC endpoint with this policy and
    /// its State file (`None`: not through an endpoint, or through one with AWS's default
    /// policy).
    pub(crate) fn prove_via(&mut self, spec: Spec<'_>, endpoint: Option<(&Policy, &str)>) -> bool {
        let vpc_endpoint = endpoint.map(|(p, _)| p);
        let explained =
            self.explain_all || (self.explain.is_some() && self.explain.as_deref() == spec.account);
        if let Some(key) = spec.memo.filter(|k| !explained && self.held.contains(k)) {
            let _ = key;
            let row = self.row(spec.account, spec.region);
            if spec.kind.must_allow() {
                row.calls_ok += 1;
            } else {
                row.probes_denied += 1;
            }
            return true;
        }
        let mut request = Request::new(
            spec.principal.clone(),
            spec.action,
            spec.resource,
            Some(spec.resource_account),
            spec.context,
        );
        request.principal_in_management_account = spec.in_management_account;
        let policies = PolicySet {
            identity: spec.identity,
            resource_policy: spec.resource_policy,
            scps: spec.scps,
            rcps: spec.rcps,
            vpc_endpoint,
            ..PolicySet::default()
        };
        self.report.decisions += 1;
        let outcome = decide_request(&request, &policies);
        let must_allow = spec.kind.must_allow();
        let expected = if must_allow {
            Outcome::Allowed
        } else {
            Outcome::ImplicitlyDenied
        };
        let holds = (outcome == Outcome::Allowed) == must_allow;
        {
            let row = self.row(spec.account, spec.region);
            match (must_allow, holds) {
                (true, true) => row.calls_ok += 1,
                (true, false) => row.calls_failed += 1,
                (false, true) => row.probes_denied += 1,
                (false, false) => row.probes_allowed += 1,
            }
        }
        if holds {
            if let Some(key) = spec.memo {
                self.held.insert(key);
            }
            if !explained {
                return true;
            }
        }
        let decision = evaluate_request(&request, &policies);
        let mut proof_fix = None;
        if !holds {
            let rule = spec.kind.failure_rule();
            let message = if must_allow {
                format!(
                    "{} by `{}` on `{}` is {}: {}",
                    spec.action,
                    spec.principal.principal_arn,
                    spec.resource,
                    describe(decision.decision),
                    (spec.purpose)()
                )
            } else {
                format!(
                    "{} by `{}` on `{}` is allowed: {}",
                    spec.action,
                    spec.principal.arn,
                    spec.resource,
                    (spec.purpose)()
                )
            };
            // What decided: the Deny that blocked a needed call, or the Allows that let a probe in.
            let deciding = if must_allow {
                Effect::Deny
            } else {
                Effect::Allow
            };
            let statements: Vec<StatementRef> = decision
                .statements
                .iter()
                .filter(|s| s.effect == deciding)
                .cloned()
                .collect();
            let org: Vec<String> = statements.iter().filter_map(org_statement).collect();
            let mut message = message;
            let mut fix = (spec.fix)(&decision);
            if must_allow && !org.is_empty() {
                message = format!("{message} (denied by {})", org.join("; "));
                fix = format!(
                    "exempt this call in {} or attach that policy elsewhere; {fix}",
                    org.join(" and ")
                );
            }
            if must_allow && decision.decision == Outcome::ImplicitlyDenied {
                let why: Vec<&str> = decision.missing.iter().map(String::as_str).collect();
                fix = format!("{fix} (missing: {})", why.join("; "));
            }
            let by_endpoint = decision.gaps.first() == Some(&Gap::VpcEndpoint)
                || statements.iter().any(|s| s.kind == PolicyRole::VpcEndpoint);
            let file = match (&decision.gaps.first(), spec.kind) {
                _ if by_endpoint => endpoint.map(|(_, f)| f.to_string()),
                (Some(Gap::ResourceGrant | Gap::NoResourcePolicy), _) | (_, ProofKind::Probe) => {
                    spec.resource_file.map(str::to_string)
                }
                _ => None,
            };
            proof_fix = Some(fix.clone());
            self.finding(Finding {
                rule: rule.into(),
                severity: Severity::Error,
                account: spec.account.map(str::to_string),
                region: spec.region.map(str::to_string),
                message,
                fix,
                file,
                json_path: None,
                line: None,
                column: None,
                statements,
            });
        }
        self.report.proofs.push(AccessProof {
            id: format!("{}/{}", spec.kind.prefix(), spec.id),
            kind: spec.kind,
            account: spec.account.map(str::to_string),
            region: spec.region.map(str::to_string),
            principal: spec.principal.arn.clone(),
            action: spec.action.to_string(),
            resource: spec.resource.to_string(),
            purpose: (spec.purpose)(),
            expected,
            outcome: decision.decision,
            holds,
            context: request
                .context
                .entries()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_vec()))
                .collect(),
            decision: Some(decision),
            fix: proof_fix,
        });
        holds
    }

    /// Forgets memoized requests (after each account, so memory stays small).
    pub(crate) fn forget(&mut self) {
        self.held.clear();
    }

    pub(crate) fn finish(mut self) -> Report {
        self.report.rows = self.rows;
        // Organization-wide row last.
        self.report
            .rows
            .sort_by_key(|r| (r.account == "*", r.account.clone(), r.region.clone()));
        self.report.findings.sort_by_key(|f| f.severity);
        self.report
    }
}

/// An SCP or RCP statement in words, with the level of the organization tree it is
/// attached to: "SCP `DenyKms` (statement `Sid`) attached to OU `ou-…`". The policy's name
/// is its State file, `organization/scps/<target>/<name>.json`.
pub(crate) fn org_statement(s: &StatementRef) -> Option<String> {
    let (label, dir) = match s.kind {
        PolicyRole::Scp => ("SCP", "organization/scps/"),
        PolicyRole::Rcp => ("RCP", "organization/rcps/"),
        _ => return None,
    };
    let rest = s.policy.strip_prefix(dir)?;
    let (target, name) = rest.split_once('/')?;
    let name = name.strip_suffix(".json").unwrap_or(name);
    let level = if target.starts_with("r-") {
        "the root"
    } else if target.starts_with("ou-") {
        "OU"
    } else {
        "account"
    };
    let sid = s.sid.as_deref().map_or_else(
        || format!("statement {}", s.index),
        |sid| format!("statement `{sid}`"),
    );
    Some(format!(
        "{label} `{name}` ({sid}) attached to {level} `{target}`"
    ))
}

fn describe(o: Outcome) -> &'static str {
    match o {
        Outcome::Allowed => "allowed",
        Outcome::ImplicitlyDenied => "denied (no policy grants it)",
        Outcome::ExplicitlyDenied => "denied by a Deny statement",
    }
}

/// A context of single-valued keys; multi-valued ones are inserted by the caller.
pub(crate) fn context(pairs: &[(&str, &str)]) -> Context {
    let mut c = Context::default();
    for (k, v) in pairs {
        c.insert(k, vec![v.to_string()]);
    }
    c
}
