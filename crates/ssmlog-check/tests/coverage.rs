//! Issue 10: `check` never passes on less than it claims: a State without members, an
//! account or region `pull` could not read, and the log-archive or management account
//! among the members are each said, not silently skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use ssmlog_check::{check, CheckOptions, Severity};
use ssmlog_render::{parse_config, render, Profile, EXAMPLE_CONFIG};
use ssmlog_state::{State, Unreachable};

fn example() -> (State, CheckOptions) {
    let cfg = parse_config("examples/ssmlog.toml", EXAMPLE_CONFIG).unwrap();
    let options = CheckOptions {
        session_starters: cfg.session.starters.clone(),
        explain_account: None,
        bucket_administrators: Vec::new(),
        ..Default::default()
    };
    (render(&cfg, Profile::Hardened), options)
}

fn rules(r: &ssmlog_check::Report, severity: Severity) -> Vec<String> {
    r.findings
        .iter()
        .filter(|f| f.severity == severity)
        .map(|f| f.rule.clone())
        .collect()
}

#[test]
fn issue_10_no_member_accounts_does_not_pass() {
    let (mut state, opts) = example();
    assert!(check(&state, &opts).passed());
    state.accounts.clear();
    let r = check(&state, &opts);
    assert!(!r.passed(), "{}", r.to_table());
    assert_eq!(rules(&r, Severity::Error), ["no-member-accounts"]);
    let f = &r.findings[0];
    assert!(f.message.contains("no agent call"), "{}", f.message);
    assert!(f.fix.contains("ssmlog pull"), "{}", f.fix);
}

#[test]
fn issue_10_organization_source_offline_does_not_pass() {
    // `source = "organization"` with no members listed: offline, nothing to prove.
    let start = EXAMPLE_CONFIG.find("source = \"list\"").unwrap();
    let end = EXAMPLE_CONFIG[start..].find("]\n").unwrap() + start + 2;
    let text = format!(
        "{}source = \"organization\"\n{}",
        &EXAMPLE_CONFIG[..start],
        &EXAMPLE_CONFIG[end..]
    );
    let cfg = parse_config("ssmlog.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    let state = render(&cfg, Profile::Hardened);
    assert!(state.accounts.is_empty());
    let (_, opts) = example();
    let r = check(&state, &opts);
    assert!(!r.passed(), "{}", r.to_table());
    assert!(rules(&r, Severity::Error).contains(&"no-member-accounts".to_string()));
}

#[test]
fn issue_10_unreachable_account_and_region_fail_by_name() {
    let (mut state, opts) = example();
    let a = state.accounts[0].id.clone();
    state.unreachable = vec![
        Unreachable {
            account: a.clone(),
            region: None,
            reason: "sts:AssumeRole: AccessDenied: not authorized".into(),
        },
        Unreachable {
            account: a.clone(),
            region: Some("ap-east-1".into()),
            reason:
                "ssm:DescribeDocument: UnrecognizedClientException: the security token is invalid"
                    .into(),
        },
    ];
    let r = check(&state, &opts);
    assert!(!r.passed());
    let found: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule == "unreachable")
        .collect();
    assert_eq!(found.len(), 2, "{}", r.to_table());
    assert_eq!(found[0].account.as_deref(), Some(a.as_str()));
    assert!(
        found[0].message.contains("AccessDenied"),
        "{}",
        found[0].message
    );
    assert_eq!(found[1].region.as_deref(), Some("ap-east-1"));
    assert!(found[1]
        .message
        .contains(&format!("account {a} in ap-east-1")));
    // The State directory keeps them.
    let back = ssmlog_state::from_files(&ssmlog_state::to_files(&state).unwrap()).unwrap();
    assert_eq!(back.unreachable, state.unreachable);
}

#[test]
fn issue_10_log_archive_and_management_accounts_as_members() {
    let (mut state, opts) = example();
    // The organization source discovers the log-archive account as an account like any
    // other: it is proven as a member but not probed as a foreign one.
    let mut la = state.accounts[0].clone();
    la.id = state.log_archive.account_id.clone();
    state.accounts.push(la);
    state.accounts.sort_by(|a, b| a.id.cmp(&b.id));
    let mgmt = state.accounts[1].id.clone();
    state.organization.management_account_id = Some(mgmt.clone());
    let r = check(&state, &opts);
    assert!(r.passed(), "{}", r.to_table());
    let notes = rules(&r, Severity::Note);
    assert!(
        notes.contains(&"log-archive-member".to_string()),
        "{notes:?}"
    );
    let m = r
        .findings
        .iter()
        .find(|f| f.rule == "management-account")
        .unwrap();
    assert_eq!(m.account.as_deref(), Some(mgmt.as_str()));
    assert!(m.message.contains("SCPs and RCPs do not restrict it"));
}

#[test]
fn issue_10_exempt_source_arns_keep_every_upload_probe_denied() {
    let cfg = parse_config("examples/ssmlog.toml", EXAMPLE_CONFIG).unwrap();
    let mut exempt = cfg.clone();
    exempt.bucket.exempt_source_arns =
        vec!["arn:aws:cloudtrail:eu-west-1:111122223333:trail/org".into()];
    let state = render(&exempt, Profile::Hardened);
    let text = state.bucket.policy.as_ref().unwrap().to_string();
    assert_eq!(text.matches("ArnNotLikeIfExists").count(), 2, "{text}");
    let (_, mut opts) = example();
    // Every proof of one account kept in full.
    opts.explain_account = Some(state.accounts[0].id.clone());
    let r = check(&state, &opts);
    assert!(r.passed(), "{}", r.to_table());
    let ids: Vec<_> = r.proofs.iter().map(|p| p.id.as_str()).collect();
    for id in [
        "probe/upload-without-sse-kms",
        "probe/upload-with-another-key",
    ] {
        let of_id: Vec<_> = r.proofs.iter().filter(|p| p.id == id).collect();
        assert!(!of_id.is_empty(), "{id} not in {ids:?}");
        assert!(of_id.iter().all(|p| p.holds), "{id}: {}", r.to_table());
    }
}

#[test]
fn issue_10_exempt_source_arns_must_be_resource_arns() {
    let text = EXAMPLE_CONFIG.replacen(
        "[bucket]\n",
        "[bucket]\nexempt_source_arns = [\"cloudtrail.amazonaws.com\"]\n",
        1,
    );
    assert_ne!(text, EXAMPLE_CONFIG);
    let errs = parse_config("ssmlog.toml", &text).unwrap_err().to_string();
    assert!(errs.contains("bucket.exempt_source_arns[0]"), "{errs}");
    assert!(errs.contains("is not the ARN of an AWS resource"), "{errs}");
}
