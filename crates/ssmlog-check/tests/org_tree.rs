//! Issue 12: SCPs and RCPs are placed on each account by its path in the organization's
//! tree (root → OU → … → account), and a denial names the deciding policy and its level.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeSet;

use serde_json::json;
use ssmlog_check::{check, CheckOptions, ProofKind, Report};
use ssmlog_render::{parse_config, render, Profile, EXAMPLE_CONFIG};
use ssmlog_state::{NamedPolicy, OrgAccount, OrgTree, OrgUnit, State, TargetPolicies};

const ROOT: &str = "r-ab12";
const WORKLOADS: &str = "ou-ab12-aaaaaaaa";
const PROD: &str = "ou-ab12-bbbbbbbb";

fn full_access() -> NamedPolicy {
    NamedPolicy {
        name: "FullAWSAccess".into(),
        document: json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    }
}

fn deny(name: &str, action: &str) -> NamedPolicy {
    NamedPolicy {
        name: name.into(),
        document: json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Deny", "Effect": "Deny", "Action": action, "Resource": "*"}]}),
    }
}

/// The hardened example in a tree: 222233334444 in Workloads, 333344445555 in
/// Workloads/Prod, 444455556666 and the log-archive account at the root.
fn in_tree() -> (State, CheckOptions) {
    let cfg = parse_config("examples/ssmlog.toml", EXAMPLE_CONFIG).unwrap();
    let mut state = render(&cfg, Profile::Hardened);
    let placed = |id: &str, parent: &str| OrgAccount {
        id: id.into(),
        parent: parent.into(),
    };
    state.organization.tree = Some(OrgTree {
        root: ROOT.into(),
        units: vec![
            OrgUnit {
                id: WORKLOADS.into(),
                name: Some("Workloads".into()),
                parent: ROOT.into(),
            },
            OrgUnit {
                id: PROD.into(),
                name: Some("Prod".into()),
                parent: WORKLOADS.into(),
            },
        ],
        accounts: vec![
            placed("111122223333", ROOT),
            placed("222233334444", WORKLOADS),
            placed("333344445555", PROD),
            placed("444455556666", ROOT),
        ],
    });
    for target in [ROOT, WORKLOADS, PROD] {
        state.scps.push(TargetPolicies {
            target: target.into(),
            policies: vec![full_access()],
        });
    }
    let options = CheckOptions {
        session_starters: cfg.session.starters.clone(),
        ..CheckOptions::default()
    };
    (state, options)
}

fn failing_accounts(r: &Report) -> BTreeSet<(String, String)> {
    r.proofs
        .iter()
        .filter(|p| !p.holds && p.kind == ProofKind::AgentCall)
        .map(|p| (p.account.clone().unwrap_or_default(), p.id.clone()))
        .collect()
}

fn attach(state: &mut State, target: &str, policy: NamedPolicy) {
    let t = state.scps.iter_mut().find(|t| t.target == target).unwrap();
    t.policies.push(policy);
}

#[test]
fn a_tree_with_full_access_at_every_level_passes() {
    let (state, options) = in_tree();
    let r = check(&state, &options);
    assert!(failing_accounts(&r).is_empty(), "{}", r.to_table());
    assert!(!r.findings.iter().any(|f| f.rule == "org-path-unknown"));
}

#[test]
fn an_ou_scp_denying_generate_data_key_breaks_exactly_that_ous_accounts() {
    let (mut state, options) = in_tree();
    attach(
        &mut state,
        PROD,
        deny("DenyKmsDataKeys", "kms:GenerateDataKey"),
    );
    let r = check(&state, &options);
    let broken = failing_accounts(&r);
    let expected: BTreeSet<(String, String)> = [
        "agent/kms:GenerateDataKey",
        "agent/kms:GenerateDataKey(session)",
    ]
    .iter()
    .map(|id| ("333344445555".to_string(), id.to_string()))
    .collect();
    assert_eq!(broken, expected, "{}", r.to_table());
    let f = r
        .findings
        .iter()
        .find(|f| f.account.as_deref() == Some("333344445555"))
        .unwrap();
    assert!(
        f.message.contains("SCP `DenyKmsDataKeys`")
            && f.message.contains(&format!("attached to OU `{PROD}`")),
        "{}",
        f.message
    );
    assert!(
        f.fix.contains("exempt this call in SCP `DenyKmsDataKeys`"),
        "{}",
        f.fix
    );
    assert!(f.statements.iter().any(|s| s.policy
        == format!("organization/scps/{PROD}/DenyKmsDataKeys.json")
        && s.sid.as_deref() == Some("Deny")));

    // One level up, it reaches both accounts of Workloads and nothing at the root.
    let (mut state, options) = in_tree();
    attach(
        &mut state,
        WORKLOADS,
        deny("DenyKmsDataKeys", "kms:GenerateDataKey"),
    );
    let accounts: BTreeSet<String> = failing_accounts(&check(&state, &options))
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert_eq!(
        accounts,
        BTreeSet::from(["222233334444".to_string(), "333344445555".to_string()])
    );
}

#[test]
fn a_level_without_an_allow_implicitly_denies_below_it_and_says_where() {
    let (mut state, options) = in_tree();
    let t = state.scps.iter_mut().find(|t| t.target == PROD).unwrap();
    t.policies = vec![NamedPolicy {
        name: "OnlyS3".into(),
        document: json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
    }];
    let r = check(&state, &options);
    let broken = failing_accounts(&r);
    assert!(
        broken.iter().all(|(a, _)| a == "333344445555"),
        "{broken:?}"
    );
    assert!(broken.contains(&("333344445555".into(), "agent/kms:Decrypt(session)".into())));
    let f = r
        .findings
        .iter()
        .find(|f| f.account.as_deref() == Some("333344445555"))
        .unwrap();
    assert!(
        f.fix.contains(&format!("in an SCP attached to `{PROD}`")),
        "{}",
        f.fix
    );
}

#[test]
fn without_the_tree_ou_policies_are_noted_not_placed() {
    let (mut state, options) = in_tree();
    attach(
        &mut state,
        PROD,
        deny("DenyKmsDataKeys", "kms:GenerateDataKey"),
    );
    state.organization.tree = None;
    let r = check(&state, &options);
    assert!(failing_accounts(&r).is_empty(), "{}", r.to_table());
    assert!(r
        .findings
        .iter()
        .any(|f| f.rule == "org-path-unknown" && f.message.contains(PROD)));
}

#[test]
fn an_rcp_on_the_log_archive_accounts_level_reaches_every_writer() {
    let (mut state, options) = in_tree();
    state.rcps.push(TargetPolicies {
        target: ROOT.into(),
        policies: vec![
            full_access(),
            NamedPolicy {
                name: "DenyUploads".into(),
                document: json!({"Version": "2012-10-17", "Statement": [
                    {"Sid": "NoPut", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "*"}]}),
            },
        ],
    });
    let r = check(&state, &options);
    let accounts: BTreeSet<String> = failing_accounts(&r)
        .into_iter()
        .filter(|(_, id)| id == "agent/s3:PutObject")
        .map(|(a, _)| a)
        .collect();
    assert_eq!(accounts.len(), 3, "{}", r.to_table());
    assert!(r
        .findings
        .iter()
        .any(|f| f.message.contains("RCP `DenyUploads`") && f.message.contains("the root")));
}
