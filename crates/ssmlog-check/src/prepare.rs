//! The State made ready for proofs: every policy parsed once (invalid ones reported and left
//! out), keys resolved by role, organization policies arranged per account.

use serde_json::Value;
use ssmlog_iam::{validate_policy, OrgLevel, Policy, PolicyKind, RequestPrincipal};
use ssmlog_state::{layout, Key, KeyPurpose, State};

use crate::lints;
use crate::report::{Finding, Severity};

/// A key with its parsed policy.
pub(crate) struct PreparedKey<'s> {
    pub(crate) key: &'s Key,
    pub(crate) policy: Option<Policy>,
    pub(crate) file: String,
}

/// An instance role with its parsed identity policies.
pub(crate) struct PreparedRole {
    pub(crate) name: String,
    pub(crate) policies: Vec<Policy>,
    /// Managed policies are not in the State; their grants cannot be counted.
    pub(crate) managed: Vec<String>,
    /// The role's session on an instance, as the agent calls (or why the ARN is unusable).
    pub(crate) session: Result<RequestPrincipal, String>,
}

/// Everything the proofs read, parsed once.
pub(crate) struct Prepared<'s> {
    pub(crate) state: &'s State,
    pub(crate) bucket_arn: String,
    pub(crate) bucket_policy: Option<Policy>,
    pub(crate) keys: Vec<PreparedKey<'s>>,
    /// Per account (same order as `state.accounts`): its instance roles.
    pub(crate) roles: Vec<Vec<PreparedRole>>,
    /// SCPs attached to the organization root(s), and per account id.
    scp_root: Vec<Policy>,
    scp_account: Vec<(String, Vec<Policy>)>,
    /// The log-archive administrators: every principal that administers a key.
    pub(crate) administrators: Vec<String>,
    /// RCP levels that apply to the bucket and keys (all in the log-archive account).
    pub(crate) rcps: Vec<OrgLevel>,
}

impl<'s> Prepared<'s> {
    pub(crate) fn new(state: &'s State, findings: &mut Vec<Finding>) -> Self {
        let bucket_arn = format!("arn:aws:s3:::{}", state.bucket.name);
        let bucket_policy = state.bucket.policy.as_ref().and_then(|doc| {
            parse(
                layout::BUCKET_POLICY,
                doc,
                PolicyKind::BucketPolicy,
                findings,
            )
        });
        let keys = state
            .keys
            .iter()
            .map(|key| {
                let file = layout::key_policy(&key.name);
                let policy = key
                    .policy
                    .as_ref()
                    .and_then(|doc| parse(&file, doc, PolicyKind::KeyPolicy, findings));
                PreparedKey { key, policy, file }
            })
            .collect();
        let roles = state
            .accounts
            .iter()
            .map(|acct| {
                acct.roles
                    .iter()
                    .map(|role| PreparedRole {
                        name: role.name.clone(),
                        session: RequestPrincipal::role_session(
                            &role.arn(&acct.id),
                            crate::agent::TARGET_ID,
                        ),
                        policies: role
                            .policies
                            .iter()
                            .filter_map(|p| {
                                let file = layout::role_policy(&acct.id, &role.name, &p.name);
                                parse(&file, &p.document, PolicyKind::Identity, findings)
                            })
                            .collect(),
                        managed: role.managed_policy_arns.clone(),
                    })
                    .collect()
            })
            .collect();
        let org = |list: &[ssmlog_state::TargetPolicies],
                   scp: bool,
                   findings: &mut Vec<Finding>| {
            let mut root = Vec::new();
            let mut accounts = Vec::new();
            for t in list {
                let parsed: Vec<Policy> = t
                    .policies
                    .iter()
                    .filter_map(|p| {
                        let (file, kind) = if scp {
                            (layout::scp(&t.target, &p.name), PolicyKind::Scp)
                        } else {
                            (layout::rcp(&t.target, &p.name), PolicyKind::Rcp)
                        };
                        parse(&file, &p.document, kind, findings)
                    })
                    .collect();
                if t.target.starts_with("r-") {
                    root.extend(parsed);
                } else if t.target.starts_with("ou-") {
                    findings.push(Finding {
                        rule: "org-path-unknown".into(),
                        severity: Severity::Note,
                        account: None,
                        region: None,
                        message: format!("policies attached to OU `{}` are not proven: the State does not say which accounts are in it", t.target),
                        fix: "nothing to do; `ssmlog pull` will record organization paths".into(),
                        file: None,
                        json_path: None,
                        line: None,
                        column: None,
                        statements: Vec::new(),
                    });
                } else {
                    accounts.push((t.target.clone(), parsed));
                }
            }
            (root, accounts)
        };
        let (scp_root, scp_account) = org(&state.scps, true, findings);
        let (rcp_root, rcp_account) = org(&state.rcps, false, findings);
        let mut administrators: Vec<String> = state
            .keys
            .iter()
            .flat_map(|k| k.administrators.iter().cloned())
            .collect();
        administrators.sort();
        administrators.dedup();
        let rcps = levels(&rcp_root, &rcp_account, &state.log_archive.account_id);
        Prepared {
            rcps,
            state,
            bucket_arn,
            bucket_policy,
            keys,
            roles,
            scp_root,
            scp_account,
            administrators,
        }
    }

    /// Key 1: the key the bucket's default encryption names.
    pub(crate) fn bucket_key(&self) -> Option<&PreparedKey<'s>> {
        let id = self.state.bucket.default_encryption.kms_key_id.as_deref()?;
        self.find_key(id)
    }

    /// The key a `kmsKeyId` (ARN, key id, alias or alias ARN) names, if it is in the State.
    /// An alias ARN names the key of its own region; a bare key id or alias is ambiguous
    /// between a multi-Region key and its replicas, and resolves to the first (the primary).
    pub(crate) fn find_key(&self, id: &str) -> Option<&PreparedKey<'s>> {
        let alias_arn = id.contains(":alias/").then(|| {
            let region = id.split(':').nth(3).unwrap_or_default();
            (region, id.rsplit_once(':').map_or("", |(_, a)| a))
        });
        self.keys.iter().find(|k| match alias_arn {
            Some((region, alias)) => {
                k.key.region() == region && k.key.alias.as_deref() == Some(alias)
            }
            None => k.key.arn == id || k.key.key_id() == id || k.key.alias.as_deref() == Some(id),
        })
    }

    /// The session key(s) of the State, for probes.
    pub(crate) fn session_keys(&self) -> impl Iterator<Item = &PreparedKey<'s>> {
        self.keys.iter().filter(|k| {
            matches!(
                k.key.purpose,
                KeyPurpose::Session | KeyPurpose::BucketAndSession
            )
        })
    }

    /// SCP levels that apply to a principal of `account`: the root, then the account.
    pub(crate) fn scps_for(&self, account: &str) -> Vec<OrgLevel> {
        levels(&self.scp_root, &self.scp_account, account)
    }

    /// Is `account` the management account (where SCPs and RCPs do not apply)?
    pub(crate) fn is_management(&self, account: &str) -> bool {
        self.state.organization.management_account_id.as_deref() == Some(account)
    }
}

fn levels(root: &[Policy], accounts: &[(String, Vec<Policy>)], account: &str) -> Vec<OrgLevel> {
    let mut out = Vec::new();
    if !root.is_empty() {
        out.push(OrgLevel {
            target: "root".into(),
            policies: root.to_vec(),
        });
    }
    for (target, policies) in accounts.iter().filter(|(t, _)| t == account) {
        out.push(OrgLevel {
            target: target.clone(),
            policies: policies.clone(),
        });
    }
    out
}

/// Parses a policy of the State; every diagnostic becomes a finding, and an invalid policy
/// is left out (so the proofs show what breaks without it).
fn parse(file: &str, doc: &Value, kind: PolicyKind, findings: &mut Vec<Finding>) -> Option<Policy> {
    // The State writer prints sorted, two-space JSON: the same text as the file, so lines match.
    let text = serde_json::to_string_pretty(&ssmlog_state::sorted(doc)).unwrap_or_default();
    let diags = validate_policy(file, &text, kind);
    for d in &diags {
        findings.push(Finding {
            rule: format!("lint/{}", d.code),
            severity: match d.severity {
                ssmlog_iam::Severity::Error => Severity::Error,
                ssmlog_iam::Severity::Warning => Severity::Warning,
            },
            account: None,
            region: None,
            message: d.message.clone(),
            fix: d
                .help
                .clone()
                .unwrap_or_else(|| "correct the policy".into()),
            file: Some(file.to_string()),
            json_path: Some(d.path.clone()),
            line: Some(d.line),
            column: Some(d.column),
            statements: Vec::new(),
        });
    }
    let policy = Policy::parse(file, &text, kind).ok();
    if let Some(p) = &policy {
        lints::policy(file, &text, p, doc, kind, findings);
    }
    policy
}
