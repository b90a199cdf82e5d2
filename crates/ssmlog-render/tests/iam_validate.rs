//! Every policy render writes, in both profiles, passes the IAM validator
//! (`ssmlog iam validate`) without errors or warnings.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ssmlog_iam::{validate_policy, PolicyKind, Severity};
use ssmlog_render::{parse_config, render, Profile, EXAMPLE_CONFIG};
use ssmlog_state::DocumentKind;

fn kind(k: DocumentKind) -> Option<PolicyKind> {
    match k {
        DocumentKind::KeyPolicy => Some(PolicyKind::KeyPolicy),
        DocumentKind::BucketPolicy => Some(PolicyKind::BucketPolicy),
        DocumentKind::Identity => Some(PolicyKind::Identity),
        DocumentKind::TrustPolicy => Some(PolicyKind::ResourcePolicy),
        DocumentKind::Scp => Some(PolicyKind::Scp),
        DocumentKind::Rcp => Some(PolicyKind::Rcp),
        DocumentKind::VpcEndpointPolicy => Some(PolicyKind::VpcEndpointPolicy),
        DocumentKind::Preferences => None,
    }
}

fn check(config_text: &str) {
    let cfg = parse_config("test.toml", config_text).unwrap();
    for profile in [Profile::Hardened, Profile::Seed] {
        let state = render(&cfg, profile);
        let mut problems = Vec::new();
        let mut checked = 0;
        for doc in state.documents() {
            let Some(k) = kind(doc.kind) else { continue };
            let text = ssmlog_state::to_canonical_string(doc.document).unwrap();
            checked += 1;
            for d in validate_policy(&doc.path, &text, k) {
                problems.push(format!(
                    "{:?} {} {}:{}:{} {} ({})",
                    d.severity,
                    profile.as_str(),
                    doc.path,
                    d.line,
                    d.column,
                    d.message,
                    d.code
                ));
                let _ = matches!(d.severity, Severity::Error);
            }
        }
        assert!(checked > 0);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}

#[test]
fn example_config_policies_validate() {
    check(EXAMPLE_CONFIG);
}

/// Single key, a created role, CloudWatch, Object Lock, run-as: the other branches.
const VARIANT: &str = r#"
[organization]
id = "o-zz9988776655"
[log_archive]
account_id = "999988887777"
region = "us-east-1"
[bucket]
name = "org-ssm-logs"
key_prefix = "session-logs/{account}/{region}"
object_lock = { mode = "COMPLIANCE", days = 365 }
[keys]
mode = "single-key"
[keys.bucket]
arn = "arn:aws:kms:us-east-1:999988887777:key/1234abcd-12ab-34cd-56ef-1234567890ab"
[accounts]
members = [{ id = "123456789012" }]
[regions]
enabled = ["us-east-1", "eu-central-1"]
[instance_roles]
existing = ["service-role/EC2-SSM"]
create = "SSMLogInstanceRole"
[session]
idle_session_timeout = 60
max_session_duration = 1440
starters = ["arn:aws:iam::*:role/Operators", "arn:aws:iam::123456789012:user/alice"]
run_as = { enabled = true, default_user = "ec2-user" }
cloudwatch = { log_group_name = "/ssmlog/sessions", encryption_enabled = true, streaming_enabled = true }
"#;

#[test]
fn single_key_created_role_and_cloudwatch_policies_validate() {
    check(VARIANT);
}

#[test]
fn the_validator_is_not_vacuous() {
    let bad = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"StringEqual":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}]}"#;
    assert!(!validate_policy("bad.json", bad, PolicyKind::Identity).is_empty());
}
