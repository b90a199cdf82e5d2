//! Issue 4: the `hardened` profile passes `ssmlog check` on the example config, and on the
//! config shapes render supports: every agent call holds, every probe is denied, no finding
//! of error severity. And the Deny statements that close the log-archive account do not lock
//! its administrators out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use ssmlog_check::{check, CheckOptions, ProofKind, Report, Severity};
use ssmlog_iam::RequestPrincipal;
use ssmlog_iam::{decide_request, Context, Outcome, Policy, PolicyKind, PolicySet, Request};
use ssmlog_render::{parse_config, render, Profile, EXAMPLE_CONFIG};
use ssmlog_state::State;

fn hardened(config: &str) -> (State, Report) {
    let cfg = parse_config("ssmlog.toml", config).unwrap();
    ssmlog_render::check_profile("ssmlog.toml", &cfg, Profile::Hardened).unwrap();
    let state = render(&cfg, Profile::Hardened);
    let options = CheckOptions {
        session_starters: cfg.session.starters.clone(),
        explain_account: None,
        bucket_administrators: cfg.bucket.administrators.clone(),
        ..CheckOptions::default()
    };
    let report = check(&state, &options);
    (state, report)
}

/// Everything holds: the report passes, nothing of error severity, no agent call fails, no
/// probe is allowed.
fn assert_passes(r: &Report, label: &str) {
    let errors: Vec<String> = r
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}: {}", f.rule, f.message))
        .collect();
    assert!(errors.is_empty(), "{label}: {errors:#?}\n{}", r.to_table());
    assert!(r.passed(), "{label}:\n{}", r.to_table());
    for p in &r.proofs {
        assert!(p.holds, "{label}: {} {:?} does not hold", p.id, p.region);
    }
    for row in &r.rows {
        assert_eq!(row.calls_failed, 0, "{label}: {row:?}");
        assert_eq!(row.probes_allowed, 0, "{label}: {row:?}");
    }
}

#[test]
fn issue_4_hardened_example_passes_every_proof_and_denies_every_probe() {
    let (state, r) = hardened(EXAMPLE_CONFIG);
    assert_passes(&r, "example");
    // 3 accounts x 2 regions x (2 roles x 6 calls + 1 session starter), plus the one
    // administrator changing each of the 3 key policies and the bucket policy, plus the
    // agent's 11 core calls per role (issue 13).
    let calls: usize = r.rows.iter().map(|row| row.calls_ok).sum();
    assert_eq!(calls, 3 * 2 * (2 * 6 + 1) + 4 + 3 * 2 * 2 * 11);
    let admin: Vec<&str> = r
        .proofs
        .iter()
        .filter(|p| p.kind == ProofKind::AdminCall)
        .map(|p| p.id.as_str())
        .collect();
    assert!(
        admin.is_empty(),
        "admin proofs that hold are not kept: {admin:?}"
    );
    // The non-administrator probes ran (bucket and every key, replica included) and are denied.
    let non_admin = r
        .findings
        .iter()
        .filter(|f| f.rule == "probe-allowed")
        .count();
    assert_eq!(non_admin, 0);
    let denied: usize = r.rows.iter().map(|row| row.probes_denied).sum();
    assert!(denied > 0);
    // Each region's sessions use the session key of that region.
    for acct in &state.accounts {
        for region in &acct.regions {
            let prefs = region.preferences.as_ref().unwrap();
            let kms_key_id = prefs["inputs"]["kmsKeyId"].as_str().unwrap();
            let key = state.session_key_in(&region.name).unwrap();
            assert_eq!(kms_key_id, key.arn, "{} {}", acct.id, region.name);
            assert!(key.key_id().starts_with("mrk-"));
        }
    }
    assert!(!r.findings.iter().any(|f| f.rule == "session-key-region"));
}

#[test]
fn hardened_passes_in_every_default_region_in_single_key_mode_and_with_a_created_role() {
    let all_regions: Vec<String> = ssmlog_render::regions::DEFAULT_REGIONS
        .iter()
        .map(|r| format!("\"{r}\""))
        .collect();
    let every_region = EXAMPLE_CONFIG.replace(
        "enabled = [\"eu-west-1\", \"us-east-1\"]",
        &format!("enabled = [{}]", all_regions.join(", ")),
    );
    let (state, r) = hardened(&every_region);
    assert_passes(&r, "17 regions");
    assert_eq!(state.replicas_of("session-key").count(), 16);

    let single = EXAMPLE_CONFIG
        .replace("mode = \"two-keys\"", "mode = \"single-key\"")
        .replace(
            "[keys.session]\nalias = \"alias/ssmlog-session-data\"\nadministrators = [\"arn:aws:iam::111122223333:role/KeyAdministrator\"]\n",
            "",
        );
    let (state, r) = hardened(&single);
    assert_passes(&r, "single key");
    let replica = state.session_key_in("us-east-1").unwrap();
    assert_eq!(replica.replica_of.as_deref(), Some("bucket-key"));

    let created = EXAMPLE_CONFIG.replace(
        "# create = \"SSMLogInstanceRole\"",
        "create = \"SSMLogInstanceRole\"",
    );
    let (_, r) = hardened(&created);
    assert_passes(&r, "created role");
}

#[test]
fn bucket_administrators_default_to_the_key_administrators_and_can_be_named() {
    let cfg = parse_config("ssmlog.toml", EXAMPLE_CONFIG).unwrap();
    assert_eq!(
        cfg.bucket.administrators,
        vec!["arn:aws:iam::111122223333:role/KeyAdministrator".to_string()]
    );
    let named = EXAMPLE_CONFIG.replace(
        "key_prefix = \"{account}/{region}\"",
        "key_prefix = \"{account}/{region}\"\nadministrators = [\"arn:aws:iam::111122223333:role/LogArchiveAdmin\"]",
    );
    let (state, r) = hardened(&named);
    assert_passes(&r, "named bucket administrators");
    let bp = serde_json::to_string(state.bucket.policy.as_ref().unwrap()).unwrap();
    assert!(bp.contains("role/LogArchiveAdmin") && !bp.contains("KeyAdministrator"));
}

/// What an administrator of the log-archive account may do, with an identity policy that
/// allows everything (as an administrator's has).
fn admin_decision(
    state: &State,
    role: &str,
    action: &str,
    resource: &str,
    policy: &serde_json::Value,
    kind: PolicyKind,
) -> Outcome {
    let identity = Policy::parse(
        "admin identity",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        PolicyKind::Identity,
    )
    .unwrap();
    let resource_policy = Policy::parse("resource", &policy.to_string(), kind).unwrap();
    let la = &state.log_archive.account_id;
    let principal =
        RequestPrincipal::role_session(&format!("arn:aws:iam::{la}:role/{role}"), "admin").unwrap();
    let mut context = Context::default();
    context.insert("aws:SecureTransport", vec!["true".into()]);
    context.insert("aws:PrincipalOrgID", vec![state.organization.id.clone()]);
    let request = Request::new(principal, action, resource, Some(la), context);
    let identity = [identity];
    decide_request(
        &request,
        &PolicySet {
            identity: &identity,
            resource_policy: Some(&resource_policy),
            ..PolicySet::default()
        },
    )
}

#[test]
fn administrators_keep_administration_everyone_else_in_the_account_is_denied() {
    let (state, _) = hardened(EXAMPLE_CONFIG);
    let bucket = format!("arn:aws:s3:::{}", state.bucket.name);
    let bp = state.bucket.policy.as_ref().unwrap();
    for (who, expected) in [
        ("KeyAdministrator", Outcome::Allowed),
        ("SomeoneElse", Outcome::ExplicitlyDenied),
    ] {
        for action in [
            "s3:PutBucketPolicy",
            "s3:PutLifecycleConfiguration",
            "s3:DeleteBucket",
        ] {
            assert_eq!(
                admin_decision(&state, who, action, &bucket, bp, PolicyKind::BucketPolicy),
                expected,
                "{who} {action}"
            );
        }
        assert_eq!(
            admin_decision(
                &state,
                who,
                "s3:DeleteObject",
                &format!("{bucket}/x.log"),
                bp,
                PolicyKind::BucketPolicy
            ),
            expected,
            "{who} s3:DeleteObject"
        );
        for key in &state.keys {
            let kp = key.policy.as_ref().unwrap();
            for action in [
                "kms:PutKeyPolicy",
                "kms:ScheduleKeyDeletion",
                "kms:DisableKey",
                "kms:CreateGrant",
            ] {
                assert_eq!(
                    admin_decision(&state, who, action, &key.arn, kp, PolicyKind::KeyPolicy),
                    expected,
                    "{who} {action} on {}",
                    key.name
                );
            }
        }
    }
    // Rescuing a key from deletion stays open to the account's IAM administrators.
    let kp = state.keys[0].policy.as_ref().unwrap();
    assert_eq!(
        admin_decision(
            &state,
            "SomeoneElse",
            "kms:CancelKeyDeletion",
            &state.keys[0].arn,
            kp,
            PolicyKind::KeyPolicy
        ),
        Outcome::Allowed
    );
    // The primary of the multi-Region key: only administrators replicate it.
    let session = state.session_key().unwrap();
    assert!(session.multi_region);
    let kp = session.policy.as_ref().unwrap();
    assert_eq!(
        admin_decision(
            &state,
            "KeyAdministrator",
            "kms:ReplicateKey",
            &session.arn,
            kp,
            PolicyKind::KeyPolicy
        ),
        Outcome::Allowed
    );
    assert_eq!(
        admin_decision(
            &state,
            "SomeoneElse",
            "kms:ReplicateKey",
            &session.arn,
            kp,
            PolicyKind::KeyPolicy
        ),
        Outcome::ExplicitlyDenied
    );
}

#[test]
fn the_seed_is_left_as_the_article_wrote_it() {
    // The seed keeps one session key in the bucket's region, as the article does; check
    // reports what that costs in other regions.
    let cfg = parse_config("ssmlog.toml", EXAMPLE_CONFIG).unwrap();
    let state = render(&cfg, Profile::Seed);
    assert!(state
        .keys
        .iter()
        .all(|k| !k.multi_region && k.replica_of.is_none()));
    let bp = serde_json::to_string(state.bucket.policy.as_ref().unwrap()).unwrap();
    assert!(!bp.contains("Deny"));
    let options = CheckOptions {
        session_starters: cfg.session.starters.clone(),
        explain_account: None,
        bucket_administrators: Vec::new(),
        ..CheckOptions::default()
    };
    let r = check(&state, &options);
    assert!(r
        .findings
        .iter()
        .any(|f| f.rule == "session-key-region" && f.region.as_deref() == Some("us-east-1")));
    assert!(r
        .proofs
        .iter()
        .any(|p| p.kind == ProofKind::Probe && !p.holds));
}
