//! The lints from the AWS service authorization reference, on policies shaped like the ones
//! people write (the SSM instance-role policy of the article, CI deploy roles, bucket
//! policies). Each asserts the code, the place and the help, and that the correct form of the
//! same policy is clean.

use ssmlog_iam::{validate_policy, Diagnostic, PolicyKind};

fn lint(policy: &str, kind: PolicyKind) -> Vec<Diagnostic> {
    validate_policy("policy.json", policy, kind)
}

fn codes(d: &[Diagnostic]) -> Vec<&'static str> {
    d.iter().map(|d| d.code).collect()
}

/// The article's instance-role policy, with `{action}` / `{resource}` slots.
fn instance_role(actions: &str, resources: &str) -> String {
    format!(
        r#"{{
  "Version": "2012-10-17",
  "Statement": [
    {{
      "Effect": "Allow",
      "Action": {actions},
      "Resource": {resources}
    }}
  ]
}}"#
    )
}

#[test]
fn unknown_action_with_did_you_mean() {
    let p = instance_role(
        r#"["s3:PutObjekt", "s3:PutObjectAcl"]"#,
        r#""arn:aws:s3:::ssm-logs/*""#,
    );
    let d = lint(&p, PolicyKind::Identity);
    assert_eq!(codes(&d), ["unknown-action"], "{d:#?}");
    assert_eq!(
        d[0].message,
        "`s3:PutObjekt` is not an action of the service"
    );
    assert_eq!(d[0].help.as_deref(), Some("did you mean `s3:PutObject`?"));
    assert_eq!((d[0].line, d[0].column), (6, 18));
    assert_eq!(d[0].path, "Statement[0].Action");
}

#[test]
fn actions_the_hand_written_tables_missed_are_known() {
    let p = instance_role(
        r#"["s3:ListStorageLensConfigurations", "s3:GetAccessPointPolicyStatus", "s3:ListAllMyBuckets"]"#,
        r#""*""#,
    );
    assert_eq!(lint(&p, PolicyKind::Identity), []);
}

#[test]
fn unknown_service_and_wildcards_that_match_nothing() {
    let p = instance_role(
        r#"["s4:GetObject", "kms:Decrypted*", "kms:GenerateDataKey*"]"#,
        r#""*""#,
    );
    let d = lint(&p, PolicyKind::Identity);
    assert_eq!(
        codes(&d),
        ["unknown-service", "action-wildcard-matches-nothing"],
        "{d:#?}"
    );
    assert_eq!(d[0].help.as_deref(), Some("did you mean `s3:GetObject`?"));
    assert!(
        d[1].message.contains("`kms:Decrypted*` matches no action"),
        "{}",
        d[1].message
    );
}

#[test]
fn list_bucket_on_an_object_arn() {
    let p = instance_role(r#""s3:ListBucket""#, r#""arn:aws:s3:::ssm-logs/*""#);
    let d = lint(&p, PolicyKind::Identity);
    assert_eq!(codes(&d), ["resource-mismatch"], "{d:#?}");
    assert!(
        d[0].message
            .contains("bucket `arn:${Partition}:s3:::${BucketName}`"),
        "{}",
        d[0].message
    );
    assert!(
        d[0].help
            .as_deref()
            .unwrap_or("")
            .contains("arn:aws:s3:::NAME"),
        "{:?}",
        d[0].help
    );
    // On the bucket, or on both, it applies.
    let ok = instance_role(
        r#""s3:ListBucket""#,
        r#"["arn:aws:s3:::ssm-logs", "arn:aws:s3:::ssm-logs/*"]"#,
    );
    assert_eq!(lint(&ok, PolicyKind::Identity), []);
}

#[test]
fn put_object_on_the_bucket_arn_and_decrypt_on_an_s3_arn() {
    let p = instance_role(
        r#"["s3:PutObject", "kms:Decrypt"]"#,
        r#""arn:aws:s3:::ssm-logs""#,
    );
    let d = lint(&p, PolicyKind::Identity);
    assert_eq!(
        codes(&d),
        ["resource-mismatch", "resource-mismatch"],
        "{d:#?}"
    );
    assert!(
        d[0].message.starts_with("`s3:PutObject` acts on"),
        "{}",
        d[0].message
    );
    assert!(
        d[1].message
            .starts_with("`kms:Decrypt` acts on key `arn:${Partition}:kms:"),
        "{}",
        d[1].message
    );
    let ok = instance_role(
        r#"["kms:Decrypt", "kms:GenerateDataKey"]"#,
        r#""arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab""#,
    );
    assert_eq!(lint(&ok, PolicyKind::Identity), []);
}

#[test]
fn actions_that_take_only_star() {
    let p = instance_role(r#""s3:ListAllMyBuckets""#, r#""arn:aws:s3:::ssm-logs""#);
    let d = lint(&p, PolicyKind::Identity);
    assert_eq!(codes(&d), ["resource-mismatch"], "{d:#?}");
    assert!(d[0].message.contains("supports only"), "{}", d[0].message);
}

#[test]
fn key_policies_are_not_checked_for_resources() {
    let p = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;
    assert_eq!(lint(p, PolicyKind::KeyPolicy), []);
}

#[test]
fn pass_role_on_every_role() {
    let p = instance_role(r#"["iam:PassRole", "ec2:RunInstances"]"#, r#""*""#);
    let d = lint(&p, PolicyKind::Identity);
    assert_eq!(codes(&d), ["pass-role-star"], "{d:#?}");
    assert_eq!(d[0].path, "Statement[0].Resource");
    let all_roles = instance_role(r#""iam:Pass*""#, r#""arn:aws:iam::111122223333:role/*""#);
    assert_eq!(
        codes(&lint(&all_roles, PolicyKind::Identity)),
        ["pass-role-star"]
    );
    let one = instance_role(
        r#""iam:PassRole""#,
        r#""arn:aws:iam::111122223333:role/SSMInstanceRole""#,
    );
    assert_eq!(lint(&one, PolicyKind::Identity), []);
    // A Deny of PassRole on `*` is a guardrail, not a grant.
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:PassRole","Resource":"*"}]}"#;
    assert_eq!(lint(deny, PolicyKind::Identity), []);
}

#[test]
fn condition_key_of_another_action() {
    // `s3:prefix` is a key of ListBucket, not of PutObject: the condition never holds.
    let p = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::ssm-logs/*","Condition":{"StringLike":{"s3:prefix":"111122223333/*"}}}]}"#;
    let d = lint(p, PolicyKind::Identity);
    assert_eq!(codes(&d), ["condition-key-not-supported"], "{d:#?}");
    assert_eq!(d[0].path, "Statement[0].Condition.StringLike.s3:prefix");
    let ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::ssm-logs","Condition":{"StringLike":{"s3:prefix":"111122223333/*"}}}]}"#;
    assert_eq!(lint(ok, PolicyKind::Identity), []);
    // The SSE condition of the hardened bucket policy, and KMS encryption context keys.
    let sse = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::ssm-logs/*","Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}},
      {"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:GenerateDataKey","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.eu-west-1.amazonaws.com","aws:PrincipalOrgID":"o-a1b2c3d4e5"},"StringLike":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::ssm-logs/*"}}}]}"#;
    assert_eq!(lint(sse, PolicyKind::BucketPolicy), []);
}

#[test]
fn unknown_service_condition_key() {
    let p = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::ssm-logs/*","Condition":{"StringNotEquals":{"s3:x-amz-server-side-encription":"aws:kms"}}}]}"#;
    let d = lint(p, PolicyKind::BucketPolicy);
    assert_eq!(codes(&d), ["unknown-condition-key"], "{d:#?}");
    assert_eq!(
        d[0].help.as_deref(),
        Some("did you mean `s3:x-amz-server-side-encryption`?")
    );
    let g = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgId2":"o-a1b2c3d4e5"}}}]}"#;
    let d = lint(g, PolicyKind::Scp);
    assert_eq!(codes(&d), ["unknown-condition-key"], "{d:#?}");
}

#[test]
fn operator_of_another_type_than_the_key() {
    let p = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:SourceIp":"203.0.113.0/24"},"NumericLessThan":{"aws:PrincipalOrgID":"3"},"Bool":{"aws:SecureTransport":"false"},"NumericGreaterThan":{"aws:MultiFactorAuthAge":"3600"}}}]}"#;
    let d = lint(p, PolicyKind::Scp);
    assert_eq!(
        codes(&d),
        ["condition-type-mismatch", "condition-type-mismatch"],
        "{d:#?}"
    );
    assert_eq!(
        d[0].help.as_deref(),
        Some("use `IpAddress` or `NotIpAddress`")
    );
    assert!(
        d[1].message
            .contains("`aws:PrincipalOrgID` is of type String"),
        "{}",
        d[1].message
    );
}

#[test]
fn multivalued_keys_come_from_the_reference() {
    let p = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:CreateGrant","Resource":"*","Condition":{"StringEquals":{"kms:GrantOperations":"Decrypt"}}}]}"#;
    assert_eq!(codes(&lint(p, PolicyKind::Identity)), ["multivalued-key"]);
}
