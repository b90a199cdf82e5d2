//! Issue 12, live: `apply` creates the guardrail SCP and the log-archive RCP in moto's
//! Organizations (enabling both policy types on the root) and attaches them exactly where
//! the config says; `pull` reads them back and `check` proves the pulled State with the
//! guardrails; a second apply writes nothing; moving the guardrails detaches only ssmlog's
//! own attachment; a user's SCP attached at an OU stays as it was; the `aws` CLI sees the
//! attachments; guardrails that would lock out the role apply acts as are refused before
//! any Organizations write; `verify` sees them attached, then a detached and an edited one.
//! `canary --as-role` tries each call the guardrails must deny and, since moto does not
//! enforce SCPs, reports each as not denied. moto does not enforce SCPs, so these tests are about what is
//! written, not about what AWS then denies (that is `check`'s and `canary`'s job).
//!
//! Skips without `moto_server`/`aws`, unless `SSMLOG_REQUIRE_TOOLS=1`.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test: a failure is the report"
)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use ssmlog_aws::{
    canary, converge, pull, verify, Action, Aws, CanaryOptions, ConnectOptions, ConvergeOptions,
    ProbeOutcome, Status, VerifyOptions,
};
use ssmlog_moto::{ConfigShape, Moto, Org, ENV};
use ssmlog_render::guardrails::{GUARDRAIL_RCP, GUARDRAIL_SCP};
use ssmlog_render::{parse_config, render, Profile};

const ACCESS_ROLE: &str = "arn:aws:iam::*:role/OrganizationAccountAccessRole";

fn config(org: &Org, attach_to: &[&str], deploy_roles: &[&str]) -> ssmlog_render::Config {
    let quoted = |v: &[&str]| {
        v.iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = org.config_text(&ConfigShape {
        regions: &["eu-west-1"],
        create_role: None,
        retention: false,
        idle_session_timeout: None,
    });
    text.push_str(&format!(
        "[guardrails]\nattach_to = [{}]\ndeploy_roles = [{}]\n",
        quoted(attach_to),
        quoted(deploy_roles)
    ));
    parse_config("ssmlog.toml", &text).unwrap_or_else(|e| panic!("{e}"))
}

fn connect(rt: &tokio::runtime::Runtime, moto: &Moto) -> Arc<Aws> {
    for (k, v) in ENV {
        std::env::set_var(k, v);
    }
    rt.block_on(async {
        Arc::new(
            Aws::connect(ConnectOptions {
                region: Some("us-east-1".to_string()),
                endpoint_url: Some(moto.url()),
                ..ConnectOptions::default()
            })
            .await
            .unwrap(),
        )
    })
}

fn options(cfg: &ssmlog_render::Config, apply: bool) -> ConvergeOptions {
    ConvergeOptions {
        apply,
        concurrency: 4,
        deploy_roles: cfg
            .guardrails
            .as_ref()
            .map(|g| g.deploy_roles.clone())
            .unwrap_or_default(),
        ..ConvergeOptions::default()
    }
}

fn str_at(v: &Value, path: &[&str]) -> String {
    let mut at = v;
    for p in path {
        at = &at[*p];
    }
    at.as_str()
        .unwrap_or_else(|| panic!("no {path:?} in {v}"))
        .to_string()
}

/// The id of the policy named `name` of `kind`, as the `aws` CLI lists it.
fn policy_id(moto: &Moto, kind: &str, name: &str) -> Option<String> {
    let out = moto.aws(None, &["organizations", "list-policies", "--filter", kind]);
    out["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["Name"] == name)
        .map(|p| str_at(p, &["Id"]))
}

/// Where the `aws` CLI says a policy is attached.
fn targets_of(moto: &Moto, id: &str) -> BTreeSet<String> {
    let out = moto.aws(
        None,
        &[
            "organizations",
            "list-targets-for-policy",
            "--policy-id",
            id,
        ],
    );
    out["Targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| str_at(t, &["TargetId"]))
        .collect()
}

/// The organization's root id.
fn root_of(moto: &Moto) -> String {
    let roots = moto.aws(None, &["organizations", "list-roots"]);
    str_at(&roots["Roots"][0], &["Id"])
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn apply_attaches_the_guardrails_where_the_config_says_and_leaves_the_users_scp() {
    let Some(moto) = Moto::start() else { return };
    let org = moto.organization(&["dev", "prod"]);
    let (dev, prod) = (org.members[0].clone(), org.members[1].clone());
    let root = root_of(&moto);
    // A user's OU with a user's SCP, holding prod.
    let ou = str_at(
        &moto.aws(
            None,
            &[
                "organizations",
                "create-organizational-unit",
                "--parent-id",
                &root,
                "--name",
                "Workloads",
            ],
        ),
        &["OrganizationalUnit", "Id"],
    );
    moto.aws(
        None,
        &[
            "organizations",
            "move-account",
            "--account-id",
            &prod,
            "--source-parent-id",
            &root,
            "--destination-parent-id",
            &ou,
        ],
    );
    let theirs = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoLeaving","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#;
    let theirs_id = str_at(
        &moto.aws(
            None,
            &[
                "organizations",
                "create-policy",
                "--name",
                "TheirsNoLeaving",
                "--type",
                "SERVICE_CONTROL_POLICY",
                "--description",
                "theirs",
                "--content",
                theirs,
            ],
        ),
        &["Policy", "PolicySummary", "Id"],
    );
    moto.aws(
        None,
        &[
            "organizations",
            "attach-policy",
            "--policy-id",
            &theirs_id,
            "--target-id",
            &ou,
        ],
    );

    let cfg = config(&org, &[&root, &dev], &[ACCESS_ROLE]);
    let desired = render(&cfg, Profile::Hardened);
    let rt = ssmlog_aws::runtime().unwrap();

    // Plan: every Organizations change is shown, and nothing is written.
    let aws = connect(&rt, &moto);
    let plan = rt.block_on(converge(aws.clone(), &desired, &options(&cfg, false)));
    assert!(plan.failures.is_empty(), "{:?}", plan.failures);
    assert_eq!(aws.calls.writes(), 0, "{:?}", aws.calls.snapshot());
    let planned = |resource: &str| {
        plan.changes
            .iter()
            .find(|c| c.resource == resource)
            .map(|c| c.action)
    };
    for kind in ["SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"] {
        assert_eq!(
            planned(&format!("organization root {root} policy type {kind}")),
            Some(Action::Create)
        );
    }
    assert_eq!(
        planned(&format!("SCP {GUARDRAIL_SCP}")),
        Some(Action::Create)
    );
    assert_eq!(
        planned(&format!("SCP {GUARDRAIL_SCP} attached to root `{root}`")),
        Some(Action::Create)
    );
    assert_eq!(
        planned(&format!("SCP {GUARDRAIL_SCP} attached to account `{dev}`")),
        Some(Action::Create)
    );
    assert_eq!(
        planned(&format!(
            "RCP {GUARDRAIL_RCP} attached to account `{}`",
            org.log_archive
        )),
        Some(Action::Create)
    );
    assert!(
        !plan.changes.iter().any(|c| c.resource.contains("TheirsNoLeaving")
            || c.resource.contains("FullAWSAccess")),
        "ssmlog plans only its own policies"
    );

    // Apply.
    let aws = connect(&rt, &moto);
    let done = rt.block_on(converge(aws.clone(), &desired, &options(&cfg, true)));
    assert!(done.failures.is_empty(), "{:?}", done.failures);
    let calls = aws.calls.snapshot();
    assert_eq!(calls.get("organizations:EnablePolicyType"), Some(&2));
    assert_eq!(calls.get("organizations:CreatePolicy"), Some(&2));
    assert_eq!(calls.get("organizations:AttachPolicy"), Some(&3));
    assert_eq!(calls.get("organizations:DetachPolicy"), None);

    // The aws CLI, an independent client, sees the policies where the config says.
    let scp = policy_id(&moto, "SERVICE_CONTROL_POLICY", GUARDRAIL_SCP).unwrap();
    let rcp = policy_id(&moto, "RESOURCE_CONTROL_POLICY", GUARDRAIL_RCP).unwrap();
    assert_eq!(targets_of(&moto, &scp), set(&[&root, &dev]));
    assert_eq!(targets_of(&moto, &rcp), set(&[&org.log_archive]));
    let content = moto.aws(
        None,
        &["organizations", "describe-policy", "--policy-id", &scp],
    );
    let content: Value = serde_json::from_str(&str_at(&content, &["Policy", "Content"])).unwrap();
    let rendered = desired
        .scps
        .iter()
        .find_map(|t| t.policies.iter().find(|p| p.name == GUARDRAIL_SCP))
        .unwrap();
    assert_eq!(content, rendered.document);
    let roots = moto.aws(None, &["organizations", "list-roots"]);
    let types: BTreeSet<String> = roots["Roots"][0]["PolicyTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| str_at(t, &["Type"]))
        .collect();
    assert_eq!(
        types,
        set(&["RESOURCE_CONTROL_POLICY", "SERVICE_CONTROL_POLICY"])
    );
    // The user's SCP: same content, same single place.
    assert_eq!(targets_of(&moto, &theirs_id), set(&[&ou]));
    let kept = moto.aws(
        None,
        &[
            "organizations",
            "describe-policy",
            "--policy-id",
            &theirs_id,
        ],
    );
    assert_eq!(str_at(&kept, &["Policy", "Content"]), theirs);

    // Pull reads the tree and the policies back; check proves it with the guardrails.
    let aws = connect(&rt, &moto);
    let pulled = rt.block_on(pull(aws, &desired, 4, None));
    assert!(pulled.errors.is_empty(), "{:?}", pulled.errors);
    let names_at = |t: &str| -> Vec<String> {
        pulled
            .state
            .scps
            .iter()
            .find(|x| x.target == t)
            .map(|x| x.policies.iter().map(|p| p.name.clone()).collect())
            .unwrap_or_default()
    };
    assert!(names_at(&root).contains(&GUARDRAIL_SCP.to_string()));
    assert!(names_at(&dev).contains(&GUARDRAIL_SCP.to_string()));
    assert!(names_at(&ou).contains(&"TheirsNoLeaving".to_string()));
    let report = ssmlog_check::check(
        &pulled.state,
        &ssmlog_check::CheckOptions::from_config(&cfg),
    );
    assert!(report.passed(), "{}", report.to_table());
    let probes: usize = report.rows.iter().map(|r| r.probes_denied).sum();
    assert!(probes > 0, "{}", report.to_table());

    // Converged: a second apply writes nothing.
    let aws = connect(&rt, &moto);
    let again = rt.block_on(converge(aws.clone(), &desired, &options(&cfg, true)));
    assert!(again.failures.is_empty(), "{:?}", again.failures);
    assert_eq!(aws.calls.writes(), 0, "{:?}", aws.calls.snapshot());

    // The guardrails move to dev alone: plan shows the root attachment going; apply
    // detaches exactly that one, and the user's SCP is still untouched.
    let moved = config(&org, &[&dev], &[ACCESS_ROLE]);
    let desired = render(&moved, Profile::Hardened);
    let aws = connect(&rt, &moto);
    let plan = rt.block_on(converge(aws.clone(), &desired, &options(&moved, false)));
    assert!(plan.failures.is_empty(), "{:?}", plan.failures);
    let removed: Vec<&str> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Remove)
        .map(|c| c.resource.as_str())
        .collect();
    assert_eq!(
        removed,
        [format!("SCP {GUARDRAIL_SCP} attached to root `{root}`")]
    );
    let done = rt.block_on(converge(aws.clone(), &desired, &options(&moved, true)));
    assert!(done.failures.is_empty(), "{:?}", done.failures);
    assert_eq!(
        aws.calls.snapshot().get("organizations:DetachPolicy"),
        Some(&1)
    );
    assert_eq!(targets_of(&moto, &scp), set(&[&dev]));
    assert_eq!(targets_of(&moto, &theirs_id), set(&[&ou]));
    let full = policy_id(&moto, "SERVICE_CONTROL_POLICY", "FullAWSAccess").unwrap();
    assert!(
        targets_of(&moto, &full).contains(&root),
        "FullAWSAccess stays"
    );
}

#[test]
fn a_same_named_policy_is_replaced_and_verify_names_a_detached_and_an_edited_guardrail() {
    let Some(moto) = Moto::start() else { return };
    let org = moto.organization(&["dev"]);
    let dev = org.members[0].clone();
    let stale = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Old","Effect":"Deny","Action":"ssm:DeleteDocument","Resource":"*"}]}"#;
    let id = str_at(
        &moto.aws(
            None,
            &[
                "organizations",
                "create-policy",
                "--name",
                GUARDRAIL_SCP,
                "--type",
                "SERVICE_CONTROL_POLICY",
                "--description",
                "by hand",
                "--content",
                stale,
            ],
        ),
        &["Policy", "PolicySummary", "Id"],
    );
    let cfg = config(&org, &[&dev], &[ACCESS_ROLE]);
    let desired = render(&cfg, Profile::Hardened);
    let rt = ssmlog_aws::runtime().unwrap();
    let aws = connect(&rt, &moto);
    let plan = rt.block_on(converge(aws, &desired, &options(&cfg, false)));
    assert!(plan.failures.is_empty(), "{:?}", plan.failures);
    let change = plan
        .changes
        .iter()
        .find(|c| c.resource == format!("SCP {GUARDRAIL_SCP}"))
        .unwrap();
    assert_eq!(change.action, Action::Update);
    assert_eq!(
        change.before.as_ref(),
        Some(&serde_json::from_str::<Value>(stale).unwrap())
    );
    assert!(
        change.diff().contains("DenyPreferencesChanges"),
        "{}",
        change.diff()
    );
    assert!(change.notes.iter().any(|n| n.contains("other content")));

    let aws = connect(&rt, &moto);
    let done = rt.block_on(converge(aws.clone(), &desired, &options(&cfg, true)));
    assert!(done.failures.is_empty(), "{:?}", done.failures);
    let calls = aws.calls.snapshot();
    assert_eq!(calls.get("organizations:UpdatePolicy"), Some(&1));
    assert_eq!(
        calls.get("organizations:CreatePolicy"),
        Some(&1),
        "the RCP only"
    );
    // The same policy (same id), with the rendered content, attached to dev.
    assert_eq!(
        policy_id(&moto, "SERVICE_CONTROL_POLICY", GUARDRAIL_SCP),
        Some(id.clone())
    );
    assert_eq!(targets_of(&moto, &id), set(&[&dev]));

    // verify: both guardrails attached where the config says, with the rendered content.
    let verified = |moto: &Moto| {
        let aws = connect(&rt, moto);
        let options = VerifyOptions {
            since: Duration::from_secs(3600),
            concurrency: 4,
            progress: None,
            // Only the network part of the proof is used by verify.
            check: ssmlog_check::CheckOptions::default(),
        };
        rt.block_on(verify(aws, &desired, &options))
    };
    let v = verified(&moto);
    let rows: Vec<(String, String, Status)> = v
        .guardrails
        .iter()
        .map(|g| (g.policy.clone(), g.target.clone(), g.status))
        .collect();
    assert_eq!(
        rows,
        [
            (GUARDRAIL_SCP.to_string(), dev.clone(), Status::Ok),
            (
                GUARDRAIL_RCP.to_string(),
                org.log_archive.clone(),
                Status::Ok
            )
        ]
    );
    assert!(
        !v.findings.iter().any(|f| f.rule.starts_with("guardrail")),
        "{:?}",
        v.findings
    );
    assert!(v.to_table().contains(GUARDRAIL_SCP));

    // Detached and edited by hand: failure rows and findings naming the target.
    moto.aws(
        None,
        &[
            "organizations",
            "detach-policy",
            "--policy-id",
            &id,
            "--target-id",
            &dev,
        ],
    );
    let rcp = policy_id(&moto, "RESOURCE_CONTROL_POLICY", GUARDRAIL_RCP).unwrap();
    moto.aws(
        None,
        &[
            "organizations",
            "update-policy",
            "--policy-id",
            &rcp,
            "--content",
            stale,
        ],
    );
    let v = verified(&moto);
    assert!(
        v.guardrails.iter().all(|g| g.status == Status::Failed),
        "{:?}",
        v.guardrails
    );
    let detached = v
        .findings
        .iter()
        .find(|f| f.rule == "guardrail-detached")
        .unwrap();
    assert_eq!(detached.account.as_deref(), Some(dev.as_str()));
    assert!(
        detached.message.contains(GUARDRAIL_SCP),
        "{}",
        detached.message
    );
    let edited = v
        .findings
        .iter()
        .find(|f| f.rule == "guardrail-edited")
        .unwrap();
    assert!(edited.message.contains(GUARDRAIL_RCP), "{}", edited.message);
    assert!(!v.passed());
}

#[test]
fn guardrails_that_would_lock_out_the_role_apply_acts_as_are_refused_before_writing() {
    let Some(moto) = Moto::start() else { return };
    let org = moto.organization(&["dev"]);
    let root = root_of(&moto);
    // Only the StackSets role is exempt; apply writes the preferences as the access role.
    let cfg = config(&org, &[&root], &["arn:aws:iam::*:role/stacksets-exec-*"]);
    let desired = render(&cfg, Profile::Hardened);
    let rt = ssmlog_aws::runtime().unwrap();
    let aws = connect(&rt, &moto);
    let done = rt.block_on(converge(aws.clone(), &desired, &options(&cfg, true)));
    let refused: Vec<&str> = done
        .failures
        .iter()
        .map(|f| f.error.as_str())
        .filter(|e| e.contains("refusing to write the guardrails"))
        .collect();
    assert_eq!(refused.len(), 1, "{:?}", done.failures);
    let message = refused[0];
    for part in [
        "OrganizationAccountAccessRole",
        "DenyPreferencesChanges",
        GUARDRAIL_SCP,
        &root,
        "add it to `guardrails.deploy_roles`",
    ] {
        assert!(message.contains(part), "{part}: {message}");
    }
    // Nothing written at all: refused before the keys, the bucket and the members too.
    assert_eq!(aws.calls.writes(), 0, "{:?}", aws.calls.snapshot());
    assert!(done.refused().is_some());
    assert_eq!(
        policy_id(&moto, "SERVICE_CONTROL_POLICY", GUARDRAIL_SCP),
        None
    );
}

/// moto enforces no SCP: every call the guardrails must deny goes through (StartSession,
/// which moto lacks, is not proven denied), and the canary says so, naming each call, and
/// fails. The document it made is gone again.
#[test]
fn canary_as_a_member_administrator_reports_each_guardrail_call_not_denied_on_moto() {
    let Some(moto) = Moto::start() else { return };
    let org = moto.organization(&["dev"]);
    let dev = org.members[0].clone();
    moto.account_role(&dev, "MemberAdministrator");
    let cfg = config(&org, &[&dev], &[ACCESS_ROLE]);
    let desired = render(&cfg, Profile::Hardened);
    let rt = ssmlog_aws::runtime().unwrap();
    let aws = connect(&rt, &moto);
    let done = rt.block_on(converge(aws, &desired, &options(&cfg, true)));
    assert!(done.failures.is_empty(), "{:?}", done.failures);

    let aws = connect(&rt, &moto);
    let report = rt.block_on(canary(
        aws,
        &desired,
        &CanaryOptions {
            as_role: Some("MemberAdministrator".to_string()),
            concurrency: 2,
            progress: None,
        },
    ));
    assert!(!report.passed(), "{}", report.to_table());
    let row = &report.rows[0];
    assert!(row.as_instance_role, "{}", report.to_table());
    let calls: Vec<(&str, ProbeOutcome)> = row
        .guardrail_probes
        .iter()
        .map(|p| (p.call.as_str(), p.outcome))
        .collect();
    assert_eq!(
        calls,
        [
            ("ssm:UpdateDocument", ProbeOutcome::NotDenied),
            ("ssm:UpdateDocumentDefaultVersion", ProbeOutcome::NotDenied),
            ("ssm:CreateDocument", ProbeOutcome::NotDenied),
            // moto 5.2 has no StartSession (HTTP 500, no AWS error): not proven denied,
            // which fails the row as a "not denied" does.
            ("ssm:StartSession", ProbeOutcome::Unknown),
            ("ssm:StartSession", ProbeOutcome::Unknown),
            ("ssm:StartSession", ProbeOutcome::Unknown),
        ],
        "{}",
        report.to_table()
    );
    // The allowed UpdateDocument changed nothing: AWS refused the duplicate content.
    assert_eq!(
        row.guardrail_probes[0].code.as_deref(),
        Some("DuplicateDocumentContent")
    );
    let table = report.to_table();
    for call in [
        "guardrail NOT denied: ssm:UpdateDocument (SSM-SessionManagerRunShell)",
        "guardrail NOT denied: ssm:CreateDocument",
        "guardrail not proven denied: ssm:StartSession (document AWS-StartPortForwardingSession",
        "guardrail not proven denied: ssm:StartSession (document AWS-StartSSHSession",
        "guardrails 0/6 denied",
    ] {
        assert!(table.contains(call), "{call}\n{table}");
    }
    // The Session document the canary made was deleted again.
    let docs = moto.aws(
        Some(&moto.assume(&dev)),
        &[
            "ssm",
            "list-documents",
            "--region",
            "eu-west-1",
            "--filters",
            "Key=Owner,Values=Self",
        ],
    );
    let names: Vec<&str> = docs["DocumentIdentifiers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["Name"].as_str())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with("ssmlog-canary-")),
        "{names:?}"
    );
    assert!(names.contains(&"SSM-SessionManagerRunShell"), "{names:?}");
}
