//! Validation as IAM does it: each test one rule, asserting the code, the place and the help.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use ssmlog_iam::{validate_policy, Diagnostic, PolicyKind, Severity};

fn errors(text: &str, kind: PolicyKind) -> Vec<Diagnostic> {
    validate_policy("p.json", text, kind)
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect()
}

fn only(text: &str, kind: PolicyKind) -> Diagnostic {
    let e = errors(text, kind);
    assert_eq!(e.len(), 1, "{e:#?}");
    e.into_iter().next().unwrap()
}

#[test]
fn the_seed_policies_are_valid() {
    let dir = format!("{}/tests/fixtures/seed", env!("CARGO_MANIFEST_DIR"));
    for (file, kind) in [
        ("bucket-policy", PolicyKind::BucketPolicy),
        ("key-policy", PolicyKind::KeyPolicy),
        ("instance-role-policy", PolicyKind::Identity),
    ] {
        let text = std::fs::read_to_string(format!("{dir}/{file}.json")).unwrap();
        let d = validate_policy(file, &text, kind);
        assert!(d.is_empty(), "{file}: {d:#?}");
    }
}

#[test]
fn unknown_condition_operator_suggests_the_real_one() {
    let text = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
    "Condition": {"StringEqual": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
  }]
}"#;
    let d = only(text, PolicyKind::Identity);
    assert_eq!(d.code, "unknown-operator");
    assert_eq!(d.message, "unknown condition operator `StringEqual`");
    assert_eq!(d.help.as_deref(), Some("did you mean `StringEquals`?"));
    assert_eq!((d.line, d.column), (5, 19));
    assert_eq!(d.path, "Statement[0].Condition.StringEqual");
    let rendered = d.render(text);
    assert!(rendered.contains("--> p.json:5:19"), "{rendered}");
    assert!(rendered.contains("^^^^^^^^^^^^^"), "{rendered}");
}

#[test]
fn not_principal_is_only_allowed_with_deny() {
    let d = only(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"*"}]}"#,
        PolicyKind::BucketPolicy,
    );
    assert_eq!(d.code, "notprincipal-allow");
    assert_eq!(d.message, "NotPrincipal is only allowed with Deny");
    assert_eq!(d.path, "Statement[0].NotPrincipal");
}

#[test]
fn principal_is_not_allowed_in_identity_policies_and_scps() {
    let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#;
    assert_eq!(
        only(text, PolicyKind::Identity).code,
        "principal-not-allowed"
    );
    assert_eq!(only(text, PolicyKind::Scp).code, "principal-not-allowed");
}

#[test]
fn resource_policies_need_a_principal_and_rcps_need_star() {
    let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    assert_eq!(
        only(text, PolicyKind::BucketPolicy).code,
        "missing-principal"
    );
    let rcp = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"*"}]}"#;
    assert_eq!(only(rcp, PolicyKind::Rcp).code, "rcp-principal");
}

#[test]
fn version_effect_and_elements_are_checked() {
    let d = only(
        r#"{"Version":"2012-10-18","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
        PolicyKind::Identity,
    );
    assert_eq!(
        (d.code, d.help.as_deref()),
        ("version", Some("use \"2012-10-17\""))
    );
    let d = only(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"s3:*","Resource":"*"}]}"#,
        PolicyKind::Identity,
    );
    assert_eq!(
        (d.code, d.help.as_deref()),
        ("effect", Some("did you mean `Allow`?"))
    );
    let d = only(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Actions":"s3:*","Action":"s3:*","Resource":"*"}]}"#,
        PolicyKind::Identity,
    );
    assert_eq!(
        (d.code, d.help.as_deref()),
        ("unknown-element", Some("did you mean `Action`?"))
    );
    let w = validate_policy(
        "p",
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
        PolicyKind::Identity,
    );
    assert_eq!(w.len(), 1);
    assert_eq!(
        (w[0].severity, w[0].code),
        (Severity::Warning, "missing-version")
    );
}

#[test]
fn sids_are_unique_and_alphanumeric_where_iam_requires() {
    let text = r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},
        {"Sid":"A","Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#;
    let d = only(text, PolicyKind::Identity);
    assert_eq!(
        (d.code, d.message.as_str()),
        ("duplicate-sid", "Sid `A` is already used by statement 0")
    );
    let spaced = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Allow org","Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}"#;
    assert!(errors(spaced, PolicyKind::BucketPolicy).is_empty());
    let id = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Allow-org","Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    assert_eq!(only(id, PolicyKind::Identity).code, "sid-characters");
}

#[test]
fn arns_actions_and_principals_are_checked() {
    let d = only(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3::bucket"}]}"#,
        PolicyKind::Identity,
    );
    assert_eq!(
        (d.code, d.message.as_str()),
        ("invalid-arn", "`arn:aws:s3::bucket` is not an ARN")
    );
    let d = only(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"PutObject","Resource":"*"}]}"#,
        PolicyKind::Identity,
    );
    assert_eq!(d.code, "invalid-action");
    let d = only(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::*:role/R"},"Action":"s3:*","Resource":"*"}]}"#,
        PolicyKind::BucketPolicy,
    );
    assert_eq!(d.code, "invalid-principal");
    assert!(d.help.unwrap().contains("aws:PrincipalArn"));
}

#[test]
fn condition_values_must_fit_their_operator() {
    let d = only(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}}]}"#,
        PolicyKind::Identity,
    );
    assert_eq!(
        (d.code, d.message.as_str()),
        ("condition-value", "`ten` is not a number")
    );
    let d = only(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}]}"#,
        PolicyKind::Identity,
    );
    assert_eq!(d.code, "condition-value");
    let d = only(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NullIfExists":{"aws:TokenIssueTime":"true"}}}]}"#,
        PolicyKind::Identity,
    );
    assert_eq!(d.code, "unknown-operator");
}

/// A date that is no date keeps its message and fix, whichever library checks the calendar.
#[test]
fn impossible_dates_are_condition_value_errors() {
    for (value, ok) in [
        ("2026-02-30", false),
        ("2026-02-29T00:00:00Z", false),
        ("2028-02-29T00:00:00Z", true),
        ("2026-11-23T10:00:00+01:00", true),
        ("1795428000", true),
    ] {
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{{"DateGreaterThan":{{"aws:CurrentTime":"{value}"}}}}}}]}}"#
        );
        let e = errors(&text, PolicyKind::Identity);
        if ok {
            assert!(e.is_empty(), "{value}: {e:#?}");
            continue;
        }
        assert_eq!(e.len(), 1, "{value}: {e:#?}");
        assert_eq!(e[0].code, "condition-value");
        assert_eq!(e[0].message, format!("`{value}` is not a date"));
        assert!(
            e[0].help
                .as_deref()
                .is_some_and(|h| h.contains("`2026-01-31T00:00:00Z` or epoch seconds")),
            "{:?}",
            e[0].help
        );
    }
}

#[test]
fn size_limits_follow_the_policy_type() {
    let stmt = r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a-rather-long-bucket-name-for-size/some/prefix/*"}"#;
    let many = |n: usize| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            vec![stmt; n].join(",")
        )
    };
    let text = many(60); // about 6,400 characters
    assert_eq!(only(&text, PolicyKind::Identity).code, "size-limit");
    assert!(errors(&text, PolicyKind::Scp)
        .iter()
        .any(|d| d.code == "size-limit"));
    assert!(errors(&text, PolicyKind::BucketPolicy)
        .iter()
        .all(|d| d.code != "size-limit"));
    let text = many(45);
    assert!(errors(&text, PolicyKind::Identity).is_empty());
}

#[test]
fn json_syntax_errors_point_at_the_problem() {
    let d = only(
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [,]\n}",
        PolicyKind::Identity,
    );
    assert_eq!(d.code, "json-syntax");
    assert_eq!((d.line, d.column), (3, 17));
}

#[test]
fn public_allow_without_condition_is_a_warning() {
    let w = validate_policy(
        "p",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
        PolicyKind::BucketPolicy,
    );
    assert_eq!(w.len(), 1);
    assert_eq!(
        (w[0].severity, w[0].code),
        (Severity::Warning, "public-principal")
    );
}

#[test]
fn set_operators_fit_the_keys_cardinality() {
    let plain_on_multi = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:TagKeys":"team"}}}]}"#;
    let w = validate_policy("p", plain_on_multi, PolicyKind::Identity);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(
        (w[0].severity, w[0].code),
        (Severity::Warning, "multivalued-key")
    );
    let forall_on_single = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}]}"#;
    let w = validate_policy("p", forall_on_single, PolicyKind::Identity);
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].code, "set-operator-on-single-value");
    let fine = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":"team"},"Null":{"aws:TagKeys":"false"}}}]}"#;
    assert!(validate_policy("p", fine, PolicyKind::Identity).is_empty());
}
