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
    /// SCPs by the target they are attached to (root, OU or account id).
    scps: OrgPolicies,
    /// Each placed account's path in the organization (root, OUs, account), when the State
    /// has the tree.
    paths: std::collections::HashMap<String, Vec<String>>,
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
        let paths: std::collections::HashMap<String, Vec<String>> = state
            .organization
            .tree
            .as_ref()
            .map(|t| {
                t.paths()
                    .into_iter()
                    .map(|(a, p)| (a.to_string(), p.into_iter().map(str::to_string).collect()))
                    .collect()
            })
            .unwrap_or_default();
        let scps = OrgPolicies::new(state, &state.scps, true, findings);
        let rcps = OrgPolicies::new(state, &state.rcps, false, findings);
        let mut administrators: Vec<String> = state
            .keys
            .iter()
            .flat_map(|k| k.administrators.iter().cloned())
            .collect();
        administrators.sort();
        administrators.dedup();
        let rcps = levels(&rcps, &paths, &state.log_archive.account_id);
        Prepared {
            rcps,
            state,
            bucket_arn,
            bucket_policy,
            keys,
            roles,
            scps,
            paths,
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

    /// SCP levels that apply to a principal of `account`: every node of its path in the
    /// organization that has SCPs (root, OUs from the top down, the account); without the
    /// tree, the root and the account.
    pub(crate) fn scps_for(&self, account: &str) -> Vec<OrgLevel> {
        levels(&self.scps, &self.paths, account)
    }

    /// Is `account` the management account (where SCPs and RCPs do not apply)?
    pub(crate) fn is_management(&self, account: &str) -> bool {
        self.state.organization.management_account_id.as_deref() == Some(account)
    }
}

/// SCPs or RCPs, parsed, by the target they are attached to.
pub(crate) struct OrgPolicies {
    by_target: std::collections::HashMap<String, Vec<Policy>>,
    /// Targets that are roots (`r-…`), for States without the tree.
    roots: Vec<String>,
}

impl OrgPolicies {
    fn new(
        state: &State,
        list: &[ssmlog_state::TargetPolicies],
        scp: bool,
        findings: &mut Vec<Finding>,
    ) -> Self {
        let tree = state.organization.tree.as_ref();
        let mut by_target: std::collections::HashMap<String, Vec<Policy>> =
            std::collections::HashMap::new();
        let mut roots = Vec::new();
        let what = if scp { "SCPs" } else { "RCPs" };
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
            let in_tree = tree.is_some_and(|tr| {
                tr.root == t.target
                    || tr.units.iter().any(|u| u.id == t.target)
                    || tr.accounts.iter().any(|a| a.id == t.target)
            });
            if t.target.starts_with("r-") {
                roots.push(t.target.clone());
            }
            let (note, fix) = match tree {
                None if t.target.starts_with("ou-") => (
                    format!("{what} attached to OU `{}` are not proven: the State does not say which accounts are in it", t.target),
                    "record the organization's tree (`organization.tree`; `ssmlog pull` reads it)",
                ),
                Some(tr) if !in_tree && !t.target.chars().all(|c| c.is_ascii_digit()) => (
                    format!("{what} attached to `{}` are not proven: it is not in the organization's tree (root `{}`)", t.target, tr.root),
                    "add the OU to `organization.tree`, or remove the attachment",
                ),
                _ => {
                    by_target.entry(t.target.clone()).or_default().extend(parsed);
                    continue;
                }
            };
            findings.push(Finding {
                rule: "org-path-unknown".into(),
                severity: Severity::Note,
                account: None,
                region: None,
                message: note,
                fix: fix.into(),
                file: None,
                json_path: None,
                line: None,
                column: None,
                statements: Vec::new(),
            });
        }
        roots.sort();
        roots.dedup();
        OrgPolicies { by_target, roots }
    }
}

/// The levels of `account`'s path that have policies, root first. An account outside the
/// tree (or a State without one) gets the root(s) and its own.
fn levels(
    pols: &OrgPolicies,
    paths: &std::collections::HashMap<String, Vec<String>>,
    account: &str,
) -> Vec<OrgLevel> {
    let level = |target: &str| {
        pols.by_target.get(target).map(|policies| OrgLevel {
            target: target.to_string(),
            policies: policies.clone(),
        })
    };
    match paths.get(account) {
        Some(path) => path.iter().filter_map(|t| level(t)).collect(),
        None => {
            let mut root = Vec::new();
            for r in &pols.roots {
                root.extend(pols.by_target.get(r).into_iter().flatten().cloned());
            }
            let mut out = Vec::new();
            if !root.is_empty() {
                out.push(OrgLevel {
                    target: pols.roots.join(", "),
                    policies: root,
                });
            }
            out.extend(level(account));
            out
        }
    }
}

/// Parses a policy of the State; every diagnostic becomes a finding, and an invalid policy
/// is left out (so the proofs show what breaks without it).
pub(crate) fn parse(
    file: &str,
    doc: &Value,
    kind: PolicyKind,
    findings: &mut Vec<Finding>,
) -> Option<Policy> {
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
