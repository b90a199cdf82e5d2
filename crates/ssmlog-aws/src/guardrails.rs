//! `plan`/`apply` of `[guardrails]` in AWS Organizations: the guardrail SCP and the
//! log-archive RCP, created or updated in the management account and attached exactly where
//! the desired State places them.
//!
//! ssmlog owns only the two policies it names ([`GUARDRAIL_SCP`], [`GUARDRAIL_RCP`]), found
//! by name: it creates, updates, attaches and detaches those and nothing else (never
//! `FullAWSAccess`, never a user's SCP). Before any write it builds the State as it will be
//! (the live tree and its policies, ssmlog's placed as desired, `FullAWSAccess` everywhere a
//! policy type is being enabled) and proves with `ssmlog-check` that every deploy role, and
//! the role apply itself acts as in member accounts, keeps control of the preferences
//! document; if not, nothing is written.

use std::collections::BTreeSet;

use aws_sdk_organizations::types::{PolicyType, PolicyTypeStatus};
use serde_json::Value;
use ssmlog_render::guardrails::{full_access, GUARDRAIL_RCP, GUARDRAIL_SCP};
use ssmlog_state::{NamedPolicy, OrgTree, State, TargetPolicies};

use crate::connect::{AccountClients, Aws};
use crate::converge::{Action, Change};
use crate::error::AwsError;
use crate::live::call;
use crate::merge;
use crate::org_tree::{read_organization, LiveOrganization};
use crate::verify::{finding, GuardrailRow, Status, VerifyFinding};

/// One policy ssmlog owns, as desired.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Owned {
    /// SCP or RCP.
    pub(crate) kind: PolicyType,
    /// Its name in Organizations.
    pub(crate) name: &'static str,
    /// Its content.
    pub(crate) document: Value,
    /// Where it attaches: root, OU or account ids.
    pub(crate) targets: BTreeSet<String>,
}

impl Owned {
    /// `SCP` or `RCP`, for messages.
    pub(crate) fn label(&self) -> &'static str {
        if self.kind == PolicyType::ServiceControlPolicy {
            "SCP"
        } else {
            "RCP"
        }
    }
}

/// ssmlog's own Organizations policies in the desired State (none without `[guardrails]`
/// or in the seed profile: then ssmlog does not touch Organizations at all).
pub(crate) fn owned(desired: &State) -> Vec<Owned> {
    let mut out = Vec::new();
    for (list, kind, name) in [
        (
            &desired.scps,
            PolicyType::ServiceControlPolicy,
            GUARDRAIL_SCP,
        ),
        (
            &desired.rcps,
            PolicyType::ResourceControlPolicy,
            GUARDRAIL_RCP,
        ),
    ] {
        let mut targets = BTreeSet::new();
        let mut document = None;
        for t in list {
            if let Some(p) = t.policies.iter().find(|p| p.name == name) {
                targets.insert(t.target.clone());
                document.get_or_insert_with(|| p.document.clone());
            }
        }
        if let Some(document) = document {
            out.push(Owned {
                kind,
                name,
                document,
                targets,
            });
        }
    }
    out
}

/// What Organizations holds of one owned policy.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct LivePolicy {
    /// Its id, when a policy of this name exists.
    pub(crate) id: Option<String>,
    /// Its content.
    pub(crate) document: Option<Value>,
    /// Every target it is attached to.
    pub(crate) targets: BTreeSet<String>,
}

/// The organization as it will be once ssmlog's policies are placed: in `live`'s lists,
/// every attachment of `owned.name` is replaced by `owned.targets` with the desired content,
/// and when the policy type is being enabled, the AWS-managed full-access policy AWS then
/// attaches is added at every node of `tree` that lacks it.
pub(crate) fn placed(
    live: &[TargetPolicies],
    owned: &Owned,
    enabling: bool,
    tree: &OrgTree,
) -> Vec<TargetPolicies> {
    let mut out: Vec<TargetPolicies> = live
        .iter()
        .map(|t| TargetPolicies {
            target: t.target.clone(),
            policies: t
                .policies
                .iter()
                .filter(|p| p.name != owned.name)
                .cloned()
                .collect(),
        })
        .collect();
    let mut add = |target: &str, policy: NamedPolicy| {
        let at = match out.iter().position(|t| t.target == target) {
            Some(i) => i,
            None => {
                out.push(TargetPolicies {
                    target: target.to_string(),
                    policies: Vec::new(),
                });
                out.len() - 1
            }
        };
        if let Some(t) = out.get_mut(at) {
            if !t.policies.iter().any(|p| p.name == policy.name) {
                t.policies.push(policy);
            }
        }
    };
    if enabling {
        let full = full_access(owned.kind == PolicyType::ResourceControlPolicy);
        let nodes = std::iter::once(tree.root.as_str())
            .chain(tree.units.iter().map(|u| u.id.as_str()))
            .chain(tree.accounts.iter().map(|a| a.id.as_str()));
        for node in nodes {
            add(node, full.clone());
        }
    }
    for target in &owned.targets {
        add(
            target,
            NamedPolicy {
                name: owned.name.to_string(),
                document: owned.document.clone(),
            },
        );
    }
    out.retain(|t| !t.policies.is_empty());
    for t in &mut out {
        t.policies.sort_by(|a, b| a.name.cmp(&b.name));
    }
    out.sort_by(|a, b| a.target.cmp(&b.target));
    out
}

/// The deploy-role proof on the organization as it will be: `Err` with every lockout, the
/// deciding SCP statement and its level in the tree, and the fix.
pub(crate) fn lockout_gate(
    after: &State,
    deploy_roles: &[String],
    access_roles: &[String],
) -> Result<(), String> {
    let mut patterns: Vec<String> = deploy_roles.to_vec();
    patterns.extend(access_roles.iter().cloned());
    patterns.sort();
    patterns.dedup();
    let report = ssmlog_check::deploy_role_control(after, &patterns);
    let errors: Vec<&ssmlog_check::Finding> = report
        .findings
        .iter()
        .filter(|f| f.severity == ssmlog_check::Severity::Error)
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    // The first few in full (each names the deciding statement and its level), then a count.
    const SHOWN: usize = 3;
    let mut locked: Vec<String> = errors
        .iter()
        .take(SHOWN)
        .map(|f| {
            let account = f.account.as_deref().unwrap_or("*");
            format!("  account {account}: {}\n    fix: {}", f.message, f.fix)
        })
        .collect();
    if errors.len() > SHOWN {
        let accounts: BTreeSet<&str> = errors.iter().filter_map(|f| f.account.as_deref()).collect();
        locked.push(format!(
            "  … and {} more such denials ({} accounts in all)",
            errors.len() - SHOWN,
            accounts.len()
        ));
    }
    let mut help = String::from(
        "no Organizations policy was written; change `[guardrails]` (deploy_roles, attach_to) or the SCP that denies, then plan again",
    );
    let access_locked: Vec<&String> = access_roles
        .iter()
        .filter(|a| !deploy_roles.contains(a))
        .filter(|a| {
            let role = a.rsplit(":role/").next().unwrap_or(a);
            errors.iter().any(|f| f.message.contains(role))
        })
        .collect();
    if !access_locked.is_empty() {
        help.push_str(&format!(
            "; apply writes the preferences as {} (`--access-role`): add it to `guardrails.deploy_roles`",
            access_locked
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Err(format!(
        "refusing to write the guardrails: they would lock out a deploy role:\n{}\n  help: {help}",
        locked.join("\n")
    ))
}

/// The role apply acts as in each member account, as an ARN pattern (`*` for the account):
/// it writes the preferences there, so the guardrails must leave it that right.
pub(crate) fn access_role_patterns(aws: &Aws, desired: &State) -> Vec<String> {
    let mut out: Vec<String> = desired
        .accounts
        .iter()
        .map(|a| {
            let arn = aws.principal_in(&a.id);
            let mut parts: Vec<&str> = arn.splitn(6, ':').collect();
            if let Some(account) = parts.get_mut(4) {
                *account = "*";
            }
            parts.join(":")
        })
        .filter(|p| p.contains(":role/"))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The live side of one owned policy: found by name among the policies of its type (an
/// AWS-managed one of that name is not ssmlog's), with its content and targets.
async fn read_owned(c: &AccountClients, owned: &Owned) -> Result<LivePolicy, AwsError> {
    let org = c.organizations();
    let mut token = None;
    let mut id = None;
    loop {
        let page = call!(
            c,
            "organizations:ListPolicies",
            org.list_policies()
                .filter(owned.kind.clone())
                .set_next_token(token.clone())
                .send()
        )?;
        let Some(page) = page else { break };
        id = page
            .policies
            .unwrap_or_default()
            .into_iter()
            .find(|p| p.name.as_deref() == Some(owned.name) && !p.aws_managed)
            .and_then(|p| p.id);
        token = page.next_token;
        if id.is_some() || token.is_none() {
            break;
        }
    }
    let Some(id) = id else {
        return Ok(LivePolicy::default());
    };
    let document = call!(
        c,
        "organizations:DescribePolicy",
        org.describe_policy().policy_id(&id).send()
    )?
    .and_then(|p| p.policy)
    .and_then(|p| p.content)
    .and_then(|t| serde_json::from_str::<Value>(&t).ok());
    let mut targets = BTreeSet::new();
    let mut token = None;
    loop {
        let page = call!(
            c,
            "organizations:ListTargetsForPolicy",
            org.list_targets_for_policy()
                .policy_id(&id)
                .set_next_token(token.clone())
                .send()
        )?;
        let Some(page) = page else { break };
        targets.extend(
            page.targets
                .unwrap_or_default()
                .into_iter()
                .filter_map(|t| t.target_id),
        );
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    Ok(LivePolicy {
        id: Some(id),
        document,
        targets,
    })
}

/// The root's id and the policy types enabled on it.
async fn read_root(c: &AccountClients) -> Result<(String, Vec<PolicyType>), AwsError> {
    let root = call!(
        c,
        "organizations:ListRoots",
        c.organizations().list_roots().send()
    )?
    .and_then(|r| r.roots)
    .unwrap_or_default()
    .into_iter()
    .next()
    .ok_or_else(|| AwsError::new("organizations:ListRoots", "the organization has no root"))?;
    let enabled = root
        .policy_types
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.status == Some(PolicyTypeStatus::Enabled))
        .filter_map(|t| t.r#type)
        .collect();
    Ok((root.id.unwrap_or_default(), enabled))
}

fn org_change(
    account: &str,
    resource: String,
    action: Action,
    before: Option<Value>,
    after: Option<Value>,
) -> Change {
    Change {
        account: account.to_string(),
        region: None,
        resource,
        action,
        before,
        after,
        notes: Vec::new(),
    }
}

/// What apply will do in Organizations, read and proven before anything is written.
pub(crate) struct OrgPlan {
    /// Every Organizations change, for the plan.
    pub(crate) changes: Vec<Change>,
    caller: AccountClients,
    root: String,
    /// Each owned policy, what is live of it, and whether its type gets enabled.
    policies: Vec<(Owned, LivePolicy, bool)>,
}

/// Starts every refusal of the lockout proof (see [`crate::Outcome::refused`]).
pub const REFUSAL: &str = "refusing to write the guardrails";

/// Plans ssmlog's Organizations policies and, when anything changes, proves the deploy
/// roles (`guardrails.deploy_roles`) and apply's own role keep control; `Ok(None)` when
/// the desired State has no guardrails (Organizations is then not even read).
pub(crate) async fn plan_guardrails(
    aws: &Aws,
    desired: &State,
    deploy_roles: &[String],
) -> Result<Option<OrgPlan>, AwsError> {
    let wanted = owned(desired);
    if wanted.is_empty() {
        return Ok(None);
    }
    let c = aws.caller();
    let where_ = format!("account {}: organization", c.account);
    let not_management = |e: AwsError| {
        e.with_help("the guardrails are Organizations policies: run plan/apply with credentials of the management account (or of the delegated administrator for Organizations policies)")
    };
    let discovery = crate::org::discover(&c).await.map_err(not_management)?;
    let (root, enabled) = read_root(&c).await.map_err(not_management)?;
    let mut ids: Vec<String> = desired.accounts.iter().map(|a| a.id.clone()).collect();
    ids.push(desired.log_archive.account_id.clone());
    ids.sort();
    ids.dedup();
    let LiveOrganization { tree, scps, rcps } = read_organization(&c, &ids).await?;
    // The tree holds only the paths of the config's accounts: an OU off them (where an
    // earlier config attached the guardrails) is still called an OU.
    let describe = |t: &str| {
        if t.starts_with("ou-") && !tree.units.iter().any(|u| u.id == t) {
            format!("OU `{t}`")
        } else {
            tree.describe(t)
        }
    };

    let mut after = desired.clone();
    after.organization.management_account_id = discovery.management_account_id.clone();
    after.scps = scps;
    after.rcps = rcps;
    let mut changes = Vec::new();
    let mut lives = Vec::new();
    for w in &wanted {
        let enabling = !enabled.contains(&w.kind);
        if enabling {
            let mut ch = org_change(
                &c.account,
                format!("organization root {root} policy type {}", w.kind.as_str()),
                Action::Create,
                None,
                Some(Value::String("ENABLED".into())),
            );
            ch.notes.push(format!(
                "AWS then attaches {} to the root and every OU and account; ssmlog attaches only {}",
                full_access(w.kind == PolicyType::ResourceControlPolicy).name,
                w.name
            ));
            changes.push(ch);
        }
        let live = read_owned(&c, w).await?;
        let same = live
            .document
            .as_ref()
            .is_some_and(|d| merge::same_policy(d, &w.document));
        let mut ch = org_change(
            &c.account,
            format!("{} {}", w.label(), w.name),
            match (&live.id, same) {
                (None, _) => Action::Create,
                (Some(_), true) => Action::NoChange,
                (Some(_), false) => Action::Update,
            },
            live.document.clone(),
            Some(w.document.clone()),
        );
        if live.id.is_some() && !same {
            ch.notes.push(format!(
                "a policy named {} exists with other content: ssmlog owns the policy of this name and replaces its content (UpdatePolicy)",
                w.name
            ));
        }
        changes.push(ch);
        for t in w.targets.union(&live.targets) {
            let (action, before, after_v) = match (w.targets.contains(t), live.targets.contains(t))
            {
                (true, true) => (Action::NoChange, Some(t), Some(t)),
                (true, false) => (Action::Create, None, Some(t)),
                _ => (Action::Remove, Some(t), None),
            };
            changes.push(org_change(
                &c.account,
                format!("{} {} attached to {}", w.label(), w.name, describe(t)),
                action,
                before.map(|t| Value::String(t.clone())),
                after_v.map(|t| Value::String(t.clone())),
            ));
        }
        let placed_list = if w.kind == PolicyType::ServiceControlPolicy {
            &mut after.scps
        } else {
            &mut after.rcps
        };
        *placed_list = placed(placed_list, w, enabling, &tree);
        lives.push((w.clone(), live, enabling));
    }
    after.organization.tree = Some(tree.clone());
    let pending = changes.iter().any(|c| c.action != Action::NoChange);
    if pending {
        // Prove before writing: the deploy roles, and apply's own role, keep control.
        lockout_gate(&after, deploy_roles, &access_role_patterns(aws, desired))
            .map_err(|m| AwsError::new(where_.clone(), m))?;
    }
    Ok(Some(OrgPlan {
        changes,
        caller: c,
        root,
        policies: lives,
    }))
}

/// Writes what [`plan_guardrails`] planned (and proved): policy types, then each policy's
/// content, then its attachments (attached before detached, so the guardrails never leave
/// a place they stay at).
pub(crate) async fn write_guardrails(plan: &OrgPlan) -> Result<(), AwsError> {
    let c = &plan.caller;
    let root = &plan.root;
    let where_ = format!("account {}: organization", c.account);
    let org = c.organizations();
    for (w, live, enabling) in &plan.policies {
        let enabling = *enabling;
        if enabling {
            call!(
                c,
                "organizations:EnablePolicyType",
                org.enable_policy_type()
                    .root_id(root)
                    .policy_type(w.kind.clone())
                    .send()
            )?;
        }
        let id = match &live.id {
            Some(id) => {
                let same = live
                    .document
                    .as_ref()
                    .is_some_and(|d| merge::same_policy(d, &w.document));
                if !same {
                    call!(
                        c,
                        "organizations:UpdatePolicy",
                        org.update_policy()
                            .policy_id(id)
                            .content(w.document.to_string())
                            .send()
                    )?;
                }
                id.clone()
            }
            None => call!(
                c,
                "organizations:CreatePolicy",
                org.create_policy()
                    .name(w.name)
                    .r#type(w.kind.clone())
                    .description("ssmlog: keeps Session Manager logging on (see docs/STATE.md)")
                    .content(w.document.to_string())
                    .send()
            )?
            .and_then(|p| p.policy)
            .and_then(|p| p.policy_summary)
            .and_then(|s| s.id)
            .ok_or_else(|| AwsError::new(where_.clone(), "CreatePolicy returned no policy id"))?,
        };
        for t in w.targets.difference(&live.targets) {
            call!(
                c,
                "organizations:AttachPolicy",
                org.attach_policy().policy_id(&id).target_id(t).send()
            )?;
        }
        for t in live.targets.difference(&w.targets) {
            call!(
                c,
                "organizations:DetachPolicy",
                org.detach_policy().policy_id(&id).target_id(t).send()
            )?;
        }
    }
    Ok(())
}

/// `verify` of the guardrails: each owned policy exists with the rendered content, its
/// policy type is enabled on the root, and it is attached at each target the config names.
/// Each miss is a finding naming the policy and the target.
pub(crate) async fn verify_guardrails(
    aws: &Aws,
    desired: &State,
) -> (Vec<GuardrailRow>, Vec<VerifyFinding>) {
    let wanted = owned(desired);
    let mut rows = Vec::new();
    let mut findings = Vec::new();
    if wanted.is_empty() {
        return (rows, findings);
    }
    let c = aws.caller();
    let apply =
        "run `ssmlog plan` to see the change, then `ssmlog apply` (as the management account)";
    let enabled = match read_root(&c).await {
        Ok((_, enabled)) => Some(enabled),
        Err(e) => {
            findings.push(finding(
                "aws-error",
                None,
                None,
                e.to_string(),
                "the guardrails are read from the management account (or the delegated administrator for Organizations policies): run verify with its credentials",
            ));
            None
        }
    };
    for w in &wanted {
        let row = |target: &str, status| GuardrailRow {
            policy: w.name.to_string(),
            kind: w.label().to_string(),
            target: target.to_string(),
            status,
        };
        let live = match (&enabled, read_owned(&c, w).await) {
            (Some(_), Ok(live)) => live,
            (_, Err(e)) => {
                findings.push(finding("aws-error", None, None, e.to_string(), apply));
                rows.extend(w.targets.iter().map(|t| row(t, Status::Unknown)));
                continue;
            }
            (None, Ok(_)) => {
                rows.extend(w.targets.iter().map(|t| row(t, Status::Unknown)));
                continue;
            }
        };
        let type_on = enabled.as_ref().is_some_and(|e| e.contains(&w.kind));
        if !type_on {
            findings.push(finding(
                "guardrail-type-disabled",
                None,
                None,
                format!(
                    "{} are not enabled on the organization's root: {} has no effect anywhere",
                    w.kind.as_str(),
                    w.name
                ),
                apply,
            ));
        }
        let Some(document) = &live.document else {
            findings.push(finding(
                "guardrail-missing",
                None,
                None,
                format!("the {} {} does not exist", w.label(), w.name),
                apply,
            ));
            rows.extend(w.targets.iter().map(|t| row(t, Status::Failed)));
            continue;
        };
        let same = merge::same_policy(document, &w.document);
        if !same {
            findings.push(finding(
                "guardrail-edited",
                None,
                None,
                format!(
                    "the {} {} differs from what ssmlog renders (edited by hand?)",
                    w.label(),
                    w.name
                ),
                apply,
            ));
        }
        for t in &w.targets {
            let attached = live.targets.contains(t);
            if !attached {
                findings.push(finding(
                    "guardrail-detached",
                    Some(t),
                    None,
                    format!("the {} {} is not attached to {t}", w.label(), w.name),
                    apply,
                ));
            }
            let ok = attached && same && type_on;
            rows.push(row(t, if ok { Status::Ok } else { Status::Failed }));
        }
    }
    (rows, findings)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic, reason = "a test: a failure is the report")]
    use super::*;
    use serde_json::json;
    use ssmlog_state::{OrgAccount, OrgUnit};

    fn tree() -> OrgTree {
        OrgTree {
            root: "r-ab12".into(),
            units: vec![OrgUnit {
                id: "ou-ab12-11111111".into(),
                name: Some("Workloads".into()),
                parent: "r-ab12".into(),
            }],
            accounts: vec![OrgAccount {
                id: "222233334444".into(),
                parent: "ou-ab12-11111111".into(),
            }],
        }
    }

    fn scp(name: &str) -> NamedPolicy {
        NamedPolicy {
            name: name.into(),
            document: json!({"Version": "2012-10-17", "Statement": [{"Sid": name, "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}),
        }
    }

    fn ours(targets: &[&str]) -> Owned {
        Owned {
            kind: PolicyType::ServiceControlPolicy,
            name: GUARDRAIL_SCP,
            document: json!({"Version": "2012-10-17", "Statement": []}),
            targets: targets.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn placing_moves_only_ssmlogs_policy_and_keeps_the_users() {
        let live = vec![
            TargetPolicies {
                target: "r-ab12".into(),
                policies: vec![scp("FullAWSAccess"), scp(GUARDRAIL_SCP)],
            },
            TargetPolicies {
                target: "ou-ab12-11111111".into(),
                policies: vec![scp("FullAWSAccess"), scp("TheirsDenyRegions")],
            },
        ];
        let after = placed(&live, &ours(&["ou-ab12-11111111"]), false, &tree());
        let names = |t: &str| -> Vec<String> {
            after
                .iter()
                .find(|x| x.target == t)
                .map(|x| x.policies.iter().map(|p| p.name.clone()).collect())
                .unwrap_or_default()
        };
        assert_eq!(names("r-ab12"), ["FullAWSAccess"]);
        assert_eq!(
            names("ou-ab12-11111111"),
            ["FullAWSAccess", "TheirsDenyRegions", GUARDRAIL_SCP]
        );
        // The user's policy keeps its content; ours has the desired one.
        let ou = after.iter().find(|x| x.target == "ou-ab12-11111111");
        let theirs = ou.and_then(|t| t.policies.iter().find(|p| p.name == "TheirsDenyRegions"));
        assert_eq!(theirs, Some(&scp("TheirsDenyRegions")));
        let mine = ou.and_then(|t| t.policies.iter().find(|p| p.name == GUARDRAIL_SCP));
        assert_eq!(mine.map(|p| &p.document), Some(&ours(&[]).document));
        assert!(names("222233334444").is_empty());
    }

    #[test]
    fn enabling_a_policy_type_adds_full_access_to_every_node() {
        let after = placed(&[], &ours(&["r-ab12"]), true, &tree());
        let targets: Vec<&str> = after.iter().map(|t| t.target.as_str()).collect();
        assert_eq!(targets, ["222233334444", "ou-ab12-11111111", "r-ab12"]);
        for t in &after {
            assert!(
                t.policies.iter().any(|p| p.name == "FullAWSAccess"),
                "{t:?}"
            );
        }
        let root = after.iter().find(|t| t.target == "r-ab12");
        assert_eq!(root.map(|t| t.policies.len()), Some(2));
    }

    /// The example config with guardrails at the root, deployed by StackSets.
    fn example(deploy: &[&str]) -> State {
        let text = format!(
            "{}\n[guardrails]\nattach_to = [\"r-ab12\"]\ndeploy_roles = [\"{}\"]\n",
            ssmlog_render::EXAMPLE_CONFIG,
            deploy.join("\", \"")
        );
        let cfg = ssmlog_render::parse_config("ssmlog.toml", &text);
        let Ok(cfg) = cfg else { panic!("{cfg:?}") };
        ssmlog_render::render(&cfg, ssmlog_render::Profile::Hardened)
    }

    #[test]
    fn the_gate_refuses_guardrails_that_lock_out_the_role_apply_acts_as() {
        let after = example(&["arn:aws:iam::*:role/stacksets-exec-*"]);
        assert_eq!(owned(&after).len(), 2);
        let access = ["arn:aws:iam::*:role/OrganizationAccountAccessRole".to_string()];
        let deploy = ["arn:aws:iam::*:role/stacksets-exec-*".to_string()];
        // The StackSets role alone keeps control.
        assert_eq!(lockout_gate(&after, &deploy, &[]), Ok(()));
        // apply's own role would not: refused, naming the deciding statement and level.
        let refused = lockout_gate(&after, &deploy, &access);
        let Err(message) = refused else {
            panic!("not refused")
        };
        assert!(
            message.contains("OrganizationAccountAccessRole"),
            "{message}"
        );
        assert!(message.contains("DenyPreferencesChanges"), "{message}");
        assert!(message.contains("ssmlog-session-guardrails"), "{message}");
        assert!(message.contains("r-ab12"), "{message}");
        assert!(
            message.contains("add it to `guardrails.deploy_roles`"),
            "{message}"
        );
        assert!(message.contains("more such denials"), "{message}");
        // Listed as a deploy role (the SCP then exempts it), it keeps control.
        let both = [deploy[0].as_str(), access[0].as_str()];
        let after = example(&both);
        let both = both.map(str::to_string);
        assert_eq!(lockout_gate(&after, &both, &access), Ok(()));
    }

    #[test]
    fn without_guardrails_ssmlog_owns_no_organizations_policy() {
        let cfg = ssmlog_render::parse_config("ssmlog.toml", ssmlog_render::EXAMPLE_CONFIG);
        let Ok(cfg) = cfg else { panic!("{cfg:?}") };
        let desired = ssmlog_render::render(&cfg, ssmlog_render::Profile::Hardened);
        assert!(owned(&desired).is_empty());
        let seed = example(&["arn:aws:iam::*:role/x"]);
        assert_eq!(
            owned(&seed)[0].targets.iter().collect::<Vec<_>>(),
            ["r-ab12"]
        );
        assert_eq!(
            owned(&seed)[1].targets.len(),
            1,
            "the RCP on the log archive"
        );
    }
}
