//! Evaluation cases, each named after the AWS documentation rule it encodes, plus the source
//! documents' three policies (tests/fixtures/seed, placeholders filled).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use serde_json::{json, Value};
use ssmlog_iam::{evaluate, EvalInput, Outcome, PolicyRole};

const ORG: &str = "o-a1b2c3d4e5";
const BUCKET: &str = "arn:aws:s3:::central-session-logs-111122223333";
const KEY1: &str = "arn:aws:kms:eu-west-1:111122223333:key/1111aaaa-2222-bbbb-3333-cccc4444dddd";
const MEMBER_ROLE: &str =
    "arn:aws:sts::222233334444:assumed-role/SSMInstanceRole/i-0123456789abcdef0";

fn seed(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/seed/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn doc(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn run(req: Value) -> ssmlog_iam::Decision {
    let input = EvalInput::from_json(&req.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let d = evaluate(&input);
    assert_eq!(ssmlog_iam::decide(&input), d.decision, "fast path agrees");
    d
}

fn log_object(account: &str) -> String {
    format!("{BUCKET}/{account}/eu-west-1/alice-0a1b2c3d4e5f67890.log")
}

fn seed_put(principal: &str, org: Option<&str>) -> Value {
    let mut p = json!({"arn": principal});
    if let Some(o) = org {
        p["orgId"] = json!(o);
    }
    json!({
        "principal": p,
        "action": "s3:PutObject",
        "resource": {"arn": log_object("222233334444"), "account": "111122223333"},
        "context": {"s3:x-amz-acl": "bucket-owner-full-control", "s3:x-amz-server-side-encryption": "aws:kms"},
        "policies": {
            "identity": [{"name": "SessionManagerLogging", "document": seed("instance-role-policy")}],
            "resourcePolicy": {"name": "bucket policy", "document": seed("bucket-policy")}
        }
    })
}

#[test]
fn seed_org_member_role_in_another_account_puts_a_log_object() {
    let d = run(seed_put(MEMBER_ROLE, Some(ORG)));
    assert_eq!(d.decision, Outcome::Allowed);
    assert!(d.cross_account);
    let kinds: Vec<_> = d.statements.iter().map(|s| (s.kind, s.index)).collect();
    assert_eq!(
        kinds,
        vec![(PolicyRole::Identity, 0), (PolicyRole::Resource, 1)]
    );
}

#[test]
fn seed_principal_outside_the_organization_is_denied() {
    let d = run(seed_put(
        "arn:aws:sts::999988887777:assumed-role/SSMInstanceRole/i-0abc",
        Some("o-zzzzzzzzzz"),
    ));
    assert_eq!(d.decision, Outcome::ImplicitlyDenied);
    assert_eq!(d.missing, vec!["resource policy `bucket policy` grants no principal of account 999988887777 `s3:PutObject`".to_string()]);
    let d = run(seed_put(
        "arn:aws:sts::999988887777:assumed-role/SSMInstanceRole/i-0abc",
        None,
    ));
    assert_eq!(d.decision, Outcome::ImplicitlyDenied);
}

#[test]
fn seed_lets_any_org_member_overwrite_another_accounts_logs() {
    // The seed's weakness: the bucket policy does not tie the key prefix to the caller's account.
    let mut req = seed_put(
        "arn:aws:sts::333344445555:assumed-role/SSMInstanceRole/i-0abc",
        Some(ORG),
    );
    req["resource"]["arn"] = json!(log_object("222233334444"));
    assert_eq!(run(req).decision, Outcome::Allowed);
}

fn kms_request(principal: &str, action: &str, identity: Option<Value>, key_policy: Value) -> Value {
    let mut policies = json!({"resourcePolicy": {"name": "Key 1", "document": key_policy}});
    if let Some(i) = identity {
        policies["identity"] = json!([{"name": "SessionManagerLogging", "document": i}]);
    }
    json!({
        "principal": {"arn": principal, "orgId": ORG},
        "action": action,
        "resource": {"arn": KEY1},
        "context": {"kms:ViaService": "s3.eu-west-1.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": BUCKET},
        "policies": policies
    })
}

#[test]
fn seed_member_role_generates_a_data_key_on_key_1_through_s3() {
    let d = run(kms_request(
        MEMBER_ROLE,
        "kms:GenerateDataKey",
        Some(seed("instance-role-policy")),
        seed("key-policy"),
    ));
    assert_eq!(d.decision, Outcome::Allowed);
    assert_eq!(
        d.statements.iter().map(|s| s.kind).collect::<Vec<_>>(),
        vec![PolicyRole::Identity, PolicyRole::Resource]
    );
}

#[test]
fn kms_cross_account_needs_the_callers_identity_policy_too() {
    let d = run(kms_request(
        MEMBER_ROLE,
        "kms:GenerateDataKey",
        None,
        seed("key-policy"),
    ));
    assert_eq!(d.decision, Outcome::ImplicitlyDenied);
    assert!(
        d.missing[0]
            .starts_with("no identity policy of `arn:aws:iam::222233334444:role/SSMInstanceRole`"),
        "{:?}",
        d.missing
    );
}

#[test]
fn kms_iam_policies_alone_never_grant_a_key_in_another_account() {
    let admin_only = doc(
        json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]),
    );
    let d = run(kms_request(
        MEMBER_ROLE,
        "kms:GenerateDataKey",
        Some(seed("instance-role-policy")),
        admin_only,
    ));
    assert_eq!(d.decision, Outcome::ImplicitlyDenied);
    assert_eq!(
        d.missing,
        vec![
            "key policy `Key 1` grants no principal of account 222233334444 `kms:GenerateDataKey`"
                .to_string()
        ]
    );
}

#[test]
fn kms_key_policy_naming_the_account_delegates_to_iam_in_the_same_account() {
    let admin = "arn:aws:sts::111122223333:assumed-role/KeyAdmin/alice";
    let delegating = doc(
        json!([{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*", "Resource": "*"}]),
    );
    // Delegation alone grants nothing ...
    assert_eq!(
        run(kms_request(admin, "kms:Decrypt", None, delegating.clone())).decision,
        Outcome::ImplicitlyDenied
    );
    // ... an identity policy in the key's account then grants.
    let iam = doc(json!([{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY1}]));
    assert_eq!(
        run(kms_request(
            admin,
            "kms:Decrypt",
            Some(iam.clone()),
            delegating
        ))
        .decision,
        Outcome::Allowed
    );
    // Without the delegation, the same identity policy grants nothing.
    let other = doc(
        json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/Other"}, "Action": "kms:*", "Resource": "*"}]),
    );
    assert_eq!(
        run(kms_request(admin, "kms:Decrypt", Some(iam), other)).decision,
        Outcome::ImplicitlyDenied
    );
}

#[test]
fn kms_key_policy_naming_the_role_grants_in_the_same_account_without_iam() {
    let named = doc(
        json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyUser"}, "Action": "kms:Decrypt", "Resource": "*"}]),
    );
    let d = run(kms_request(
        "arn:aws:sts::111122223333:assumed-role/KeyUser/s",
        "kms:Decrypt",
        None,
        named,
    ));
    assert_eq!(d.decision, Outcome::Allowed);
}

#[test]
fn same_account_either_the_identity_or_the_resource_policy_suffices() {
    let role = "arn:aws:sts::111122223333:assumed-role/Auditor/bob";
    let obj = log_object("222233334444");
    let base = |policies: Value| json!({"principal": role, "action": "s3:GetObject", "resource": {"arn": obj, "account": "111122223333"}, "policies": policies});
    let identity = json!([{"name": "read", "document": doc(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("{BUCKET}/*")}]))}]);
    let bucket = json!({"name": "bp", "document": doc(json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/Auditor"}, "Action": "s3:GetObject", "Resource": format!("{BUCKET}/*")}]))});
    assert_eq!(
        run(base(json!({"identity": identity}))).decision,
        Outcome::Allowed
    );
    assert_eq!(
        run(base(json!({"resourcePolicy": bucket}))).decision,
        Outcome::Allowed
    );
    assert_eq!(run(base(json!({}))).decision, Outcome::ImplicitlyDenied);
}

#[test]
fn cross_account_needs_both_the_identity_and_the_resource_policy() {
    let mut req = seed_put(MEMBER_ROLE, Some(ORG));
    req["policies"]["identity"] = json!([]);
    assert_eq!(run(req).decision, Outcome::ImplicitlyDenied);
    let mut req = seed_put(MEMBER_ROLE, Some(ORG));
    req["policies"]["resourcePolicy"] = Value::Null;
    let d = run(req);
    assert_eq!(d.decision, Outcome::ImplicitlyDenied);
    assert!(
        d.missing[0].contains("has no resource policy"),
        "{:?}",
        d.missing
    );
}

#[test]
fn explicit_deny_in_any_policy_wins_over_allows() {
    let mut bp = seed("bucket-policy");
    bp["Statement"].as_array_mut().unwrap().push(json!({
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [BUCKET, format!("{BUCKET}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    }));
    let mut req = seed_put(MEMBER_ROLE, Some(ORG));
    req["policies"]["resourcePolicy"]["document"] = bp;
    req["context"]["aws:SecureTransport"] = json!("false");
    let d = run(req.clone());
    assert_eq!(d.decision, Outcome::ExplicitlyDenied);
    assert_eq!(
        d.statements[0].sid.as_deref(),
        Some("DenyInsecureTransport")
    );
    req["context"]["aws:SecureTransport"] = json!("true");
    assert_eq!(run(req).decision, Outcome::Allowed);
}

#[test]
fn scps_every_level_of_the_path_must_allow_and_not_for_the_management_account() {
    let full = json!({"name": "FullAWSAccess", "document": doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]))});
    let only_ec2 = json!({"name": "OnlyEc2", "document": doc(json!([{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]))});
    let mut req = seed_put(MEMBER_ROLE, Some(ORG));
    req["policies"]["scps"] = json!([{"target": "r-ab12", "policies": [full.clone()]}, {"target": "ou-ab12-11111111", "policies": [only_ec2]}]);
    let d = run(req.clone());
    assert_eq!(d.decision, Outcome::ImplicitlyDenied);
    assert!(
        d.missing[0].contains("no SCP attached to `ou-ab12-11111111`"),
        "{:?}",
        d.missing
    );
    req["principalInManagementAccount"] = json!(true);
    assert_eq!(run(req.clone()).decision, Outcome::Allowed);
    req["principalInManagementAccount"] = json!(false);
    req["policies"]["scps"] = json!([{"target": "r-ab12", "policies": [full]}]);
    assert_eq!(run(req).decision, Outcome::Allowed);
}

#[test]
fn rcps_restrict_access_to_member_account_resources() {
    let rcp = json!({"name": "OrgOnly", "document": doc(json!([
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
        {"Sid": "DenyOutsideOrg", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
         "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG}, "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}
    ]))});
    let mut outsider = seed_put(
        "arn:aws:sts::999988887777:assumed-role/X/y",
        Some("o-zzzzzzzzzz"),
    );
    outsider["policies"]["rcps"] = json!([{"target": "r-ab12", "policies": [rcp.clone()]}]);
    assert_eq!(run(outsider).decision, Outcome::ExplicitlyDenied);
    let mut member = seed_put(MEMBER_ROLE, Some(ORG));
    member["policies"]["rcps"] = json!([{"target": "r-ab12", "policies": [rcp]}]);
    assert_eq!(run(member).decision, Outcome::Allowed);
}

#[test]
fn permissions_boundary_limits_identity_grants_but_not_a_grant_to_the_session_arn() {
    let boundary = json!({"name": "OnlyKms", "document": doc(json!([{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]))});
    let mut req = seed_put(MEMBER_ROLE, Some(ORG));
    req["policies"]["permissionsBoundary"] = boundary.clone();
    let d = run(req);
    assert_eq!(d.decision, Outcome::ImplicitlyDenied);
    assert_eq!(
        d.missing,
        vec!["the permissions boundary `OnlyKms` does not allow `s3:PutObject`".to_string()]
    );
    // Same account: a bucket policy naming the session ARN grants despite the boundary ...
    let session = "arn:aws:sts::111122223333:assumed-role/Reader/s1";
    let grant = |principal: &str| json!({"name": "bp", "document": doc(json!([{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "s3:GetObject", "Resource": format!("{BUCKET}/*")}]))});
    let req = |principal: &str| {
        json!({"principal": session, "action": "s3:GetObject", "resource": {"arn": log_object("222233334444"), "account": "111122223333"},
        "policies": {"permissionsBoundary": boundary.clone(), "resourcePolicy": grant(principal)}})
    };
    assert_eq!(run(req(session)).decision, Outcome::Allowed);
    // ... but one naming the role ARN stays within the boundary.
    assert_eq!(
        run(req("arn:aws:iam::111122223333:role/Reader")).decision,
        Outcome::ImplicitlyDenied
    );
}

#[test]
fn policy_variables_confine_each_account_to_its_prefix() {
    let bp = doc(
        json!([{"Sid": "OwnPrefix", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:PutObject",
        "Resource": format!("{BUCKET}/${{aws:PrincipalAccount}}/*"),
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}}]),
    );
    let mut own = seed_put(MEMBER_ROLE, Some(ORG));
    own["policies"]["resourcePolicy"]["document"] = bp.clone();
    assert_eq!(run(own.clone()).decision, Outcome::Allowed);
    let mut other = own.clone();
    other["resource"]["arn"] = json!(log_object("333344445555"));
    assert_eq!(run(other).decision, Outcome::ImplicitlyDenied);
    // With the 2008 version, the variable is plain text and matches nothing.
    own["policies"]["resourcePolicy"]["document"]["Version"] = json!("2008-10-17");
    assert_eq!(run(own).decision, Outcome::ImplicitlyDenied);
}

#[test]
fn unresolvable_policy_variables_make_the_statement_not_match() {
    let identity = doc(
        json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("{BUCKET}/home/${{aws:username}}/*")}]),
    );
    let req = |principal: &str, user: &str| {
        json!({"principal": principal, "action": "s3:GetObject",
        "resource": {"arn": format!("{BUCKET}/home/{user}/a"), "account": "111122223333"},
        "policies": {"identity": [{"name": "home", "document": identity.clone()}]}})
    };
    assert_eq!(
        run(req("arn:aws:iam::111122223333:user/alice", "alice")).decision,
        Outcome::Allowed
    );
    assert_eq!(
        run(req("arn:aws:iam::111122223333:user/alice", "bob")).decision,
        Outcome::ImplicitlyDenied
    );
    // A role session has no aws:username.
    assert_eq!(
        run(req(
            "arn:aws:sts::111122223333:assumed-role/R/alice",
            "alice"
        ))
        .decision,
        Outcome::ImplicitlyDenied
    );
}

#[test]
fn actions_match_case_insensitively_resources_case_sensitively() {
    let mut req = seed_put(MEMBER_ROLE, Some(ORG));
    req["action"] = json!("S3:putobject");
    assert_eq!(run(req).decision, Outcome::Allowed);
    let mut req = seed_put(MEMBER_ROLE, Some(ORG));
    req["resource"]["arn"] = json!("arn:aws:s3:::CENTRAL-session-logs-111122223333/x.log");
    assert_eq!(run(req).decision, Outcome::ImplicitlyDenied);
}

#[test]
fn principal_star_includes_anonymous_callers_unless_a_condition_excludes_them() {
    let open = doc(
        json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": format!("{BUCKET}/*")}]),
    );
    let req = |bp: Value| {
        json!({"principal": "anonymous", "action": "s3:GetObject", "resource": {"arn": log_object("2"), "account": "111122223333"},
        "policies": {"resourcePolicy": {"name": "bp", "document": bp}}})
    };
    assert_eq!(run(req(open)).decision, Outcome::Allowed);
    assert_eq!(
        run(req(seed("bucket-policy"))).decision,
        Outcome::ImplicitlyDenied
    );
}

#[test]
fn account_id_and_root_arn_name_the_same_principal() {
    for principal in ["222233334444", "arn:aws:iam::222233334444:root"] {
        let bp = doc(
            json!([{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "s3:PutObject", "Resource": format!("{BUCKET}/*")}]),
        );
        let mut req = seed_put(MEMBER_ROLE, None);
        req["policies"]["resourcePolicy"]["document"] = bp;
        assert_eq!(run(req).decision, Outcome::Allowed, "{principal}");
    }
}

#[test]
fn not_principal_with_deny_spares_only_the_listed_principals() {
    let bp = doc(json!([
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": format!("{BUCKET}/*")},
        {"Effect": "Deny", "NotPrincipal": {"AWS": ["arn:aws:iam::111122223333:user/admin", "111122223333"]}, "Action": "s3:DeleteObject", "Resource": format!("{BUCKET}/*")}
    ]));
    let req = |p: &str| {
        json!({"principal": p, "action": "s3:DeleteObject", "resource": {"arn": log_object("2"), "account": "111122223333"},
        "policies": {"resourcePolicy": {"name": "bp", "document": bp.clone()}}})
    };
    assert_eq!(
        run(req("arn:aws:iam::111122223333:user/admin")).decision,
        Outcome::Allowed
    );
    assert_eq!(
        run(req("arn:aws:iam::111122223333:user/mallory")).decision,
        Outcome::ExplicitlyDenied
    );
}

#[test]
fn service_principals_are_granted_only_by_naming_them() {
    let bp = doc(
        json!([{"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject", "Resource": format!("{BUCKET}/*")}]),
    );
    let req = |p: &str| {
        json!({"principal": p, "action": "s3:PutObject", "resource": {"arn": log_object("2"), "account": "111122223333"},
        "policies": {"resourcePolicy": {"name": "bp", "document": bp.clone()}}})
    };
    assert_eq!(
        run(req("logging.s3.amazonaws.com")).decision,
        Outcome::Allowed
    );
    assert_eq!(
        run(req("cloudtrail.amazonaws.com")).decision,
        Outcome::ImplicitlyDenied
    );
}

#[test]
fn policies_given_as_json_strings_are_read_like_aws_returns_them() {
    let mut req = seed_put(MEMBER_ROLE, Some(ORG));
    req["policies"]["resourcePolicy"]["document"] = json!(seed("bucket-policy").to_string());
    assert_eq!(run(req).decision, Outcome::Allowed);
}

#[test]
fn decision_json_round_trips_with_the_documented_fields() {
    let d = run(seed_put(MEMBER_ROLE, Some(ORG)));
    let text = serde_json::to_string(&d).unwrap();
    let back: ssmlog_iam::Decision = serde_json::from_str(&text).unwrap();
    assert_eq!(back, d);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["decision"], "Allowed");
    assert_eq!(v["crossAccount"], true);
    assert_eq!(v["statements"][1]["kind"], "resource");
}

#[test]
fn request_errors_name_the_place_and_the_fix() {
    let text = "{\n  \"principal\": \"bob\",\n  \"action\": \"s3:GetObject\",\n  \"resource\": \"arn:aws:s3:::b/k\"\n}";
    let e = EvalInput::from_json_named("req.json", text).unwrap_err();
    let msgs: Vec<String> = e
        .diagnostics
        .iter()
        .map(|d| format!("{}:{} {} {}", d.line, d.column, d.path, d.message))
        .collect();
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("2:16 principal.arn `bob` is not a principal")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("resource.account") && m.contains("carries no account")),
        "{msgs:?}"
    );
}

#[test]
fn a_trailing_star_may_match_beyond_the_remaining_arn_segments() {
    // IAM reference: a `*` at the end of a segment can expand across colons.
    let identity =
        doc(json!([{"Effect": "Allow", "Action": "kms:*", "Resource": "arn:aws:kms:*"}]));
    let d = run(kms_request(
        MEMBER_ROLE,
        "kms:GenerateDataKey",
        Some(identity),
        seed("key-policy"),
    ));
    assert_eq!(d.decision, Outcome::Allowed);
    let e = ssmlog_iam::validate_policy(
        "p",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:*"}]}"#,
        ssmlog_iam::PolicyKind::Identity,
    );
    assert_eq!(
        e[0].message,
        "`arn:aws:*` has a wildcard in the service segment, which IAM does not allow"
    );
}

#[test]
fn anonymous_requests_carry_no_principal_is_aws_service_key() {
    let bp = doc(
        json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": format!("{BUCKET}/*"),
        "Condition": {"Null": {"aws:PrincipalIsAWSService": "true"}}}]),
    );
    let req = json!({"principal": "anonymous", "action": "s3:GetObject", "resource": {"arn": log_object("2"), "account": "111122223333"},
        "policies": {"resourcePolicy": {"name": "bp", "document": bp}}});
    assert_eq!(run(req).decision, Outcome::Allowed);
}

#[test]
fn gaps_name_each_missing_grant_as_a_value() {
    use ssmlog_iam::Gap;
    let admin_only = doc(
        json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]),
    );
    let d = run(kms_request(
        MEMBER_ROLE,
        "kms:GenerateDataKey",
        None,
        admin_only,
    ));
    assert_eq!(d.gaps, vec![Gap::ResourceGrant, Gap::Identity]);
    assert_eq!(d.gaps.len(), d.missing.len());
    let allowed = run(seed_put(MEMBER_ROLE, Some(ORG)));
    assert!(allowed.gaps.is_empty());
}

fn through_endpoint(endpoint_policy: Value) -> Value {
    let mut req = seed_put(MEMBER_ROLE, Some(ORG));
    req["context"]["aws:SourceVpce"] = json!("vpce-0a1b2c3d");
    req["context"]["aws:SourceVpc"] = json!("vpc-0a1b2c3d");
    req["policies"]["vpcEndpoint"] = json!({"name": "vpce-0a1b2c3d", "document": endpoint_policy});
    req
}

#[test]
fn a_vpc_endpoint_policy_must_allow_the_call_too() {
    let full = doc(json!([{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]));
    assert_eq!(run(through_endpoint(full)).decision, Outcome::Allowed);

    let other_bucket = doc(
        json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::some-other-bucket/*"}]),
    );
    let d = run(through_endpoint(other_bucket));
    assert_eq!(d.decision, Outcome::ImplicitlyDenied);
    assert_eq!(d.gaps, vec![ssmlog_iam::Gap::VpcEndpoint]);
    assert!(
        d.missing[0].contains("VPC endpoint policy `vpce-0a1b2c3d`"),
        "{:?}",
        d.missing
    );

    let deny = doc(json!([
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
        {"Sid": "OnlyOurOrg", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-zzzzzzzzzz"}}}]));
    let d = run(through_endpoint(deny));
    assert_eq!(d.decision, Outcome::ExplicitlyDenied);
    assert_eq!(d.statements[0].kind, PolicyRole::VpcEndpoint);
    assert_eq!(d.statements[0].sid.as_deref(), Some("OnlyOurOrg"));
}

#[test]
fn a_bucket_policy_on_aws_source_vpce_sees_the_endpoint_of_the_request() {
    let mut bucket = seed("bucket-policy");
    bucket["Statement"].as_array_mut().unwrap().push(
        json!({"Sid": "OnlyThroughOurEndpoint", "Effect": "Deny", "Principal": "*",
            "Action": "s3:PutObject", "Resource": format!("{BUCKET}/*"),
            "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0a1b2c3d"}}}),
    );
    let full = doc(json!([{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]));
    let mut req = through_endpoint(full);
    req["policies"]["resourcePolicy"]["document"] = bucket;
    assert_eq!(run(req.clone()).decision, Outcome::Allowed);
    req["context"]["aws:SourceVpce"] = json!("vpce-99999999");
    assert_eq!(run(req).decision, Outcome::ExplicitlyDenied);
}

#[test]
fn an_endpoint_policy_without_principal_is_refused() {
    let d = ssmlog_iam::validate_policy(
        "vpce.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        ssmlog_iam::PolicyKind::VpcEndpointPolicy,
    );
    assert!(d.iter().any(|d| d.code == "missing-principal"), "{d:?}");
}

#[test]
fn not_principal_with_deny_always_denies_a_principal_with_a_permissions_boundary() {
    // AWS (permissions boundaries, "Important"): the NotPrincipal exception does not spare a
    // user or role that has a permissions boundary.
    let bp = doc(json!([
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:DeleteObject", "Resource": format!("{BUCKET}/*")},
        {"Effect": "Deny", "NotPrincipal": {"AWS": ["arn:aws:iam::111122223333:user/admin", "111122223333"]}, "Action": "s3:DeleteObject", "Resource": format!("{BUCKET}/*")}
    ]));
    let allow_all = json!({"name": "AllowAll", "document": doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]))});
    let req = |principal: Value, boundary: Option<Value>| {
        json!({"principal": principal, "action": "s3:DeleteObject", "resource": {"arn": log_object("2"), "account": "111122223333"},
        "policies": {"resourcePolicy": {"name": "bp", "document": bp.clone()}, "permissionsBoundary": boundary}})
    };
    let admin = json!({"arn": "arn:aws:iam::111122223333:user/admin"});
    assert_eq!(run(req(admin.clone(), None)).decision, Outcome::Allowed);
    let d = run(req(admin, Some(allow_all)));
    assert_eq!(d.decision, Outcome::ExplicitlyDenied);
    assert_eq!(d.statements[0].index, 1, "{:?}", d.statements);
    // The flag alone (the boundary's text unknown) does the same.
    let flagged =
        json!({"arn": "arn:aws:iam::111122223333:user/admin", "hasPermissionsBoundary": true});
    assert_eq!(run(req(flagged, None)).decision, Outcome::ExplicitlyDenied);
}

#[test]
fn aws_userid_is_derived_for_every_signed_request() {
    let bp = |pattern: &str| {
        doc(
            json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": format!("{BUCKET}/*"),
            "Condition": {"StringLike": {"aws:userid": pattern}}}]),
        )
    };
    let req = |principal: Value, pattern: &str| {
        json!({"principal": principal, "action": "s3:GetObject", "resource": {"arn": log_object("2"), "account": "111122223333"},
        "policies": {"resourcePolicy": {"name": "bp", "document": bp(pattern)}}})
    };
    let session = "arn:aws:sts::111122223333:assumed-role/Auditor/alice";
    // Role session: ROLEID:session, with the role's unique id when the request gives it.
    let with_id = json!({"arn": session, "uniqueId": "AROAEXAMPLEID123456"});
    assert_eq!(
        run(req(with_id.clone(), "AROAEXAMPLEID123456:alice")).decision,
        Outcome::Allowed
    );
    assert_eq!(
        run(req(with_id, "AROAEXAMPLEID123456:bob")).decision,
        Outcome::ImplicitlyDenied
    );
    // Without it, a stand-in id: session patterns work, a real id does not match.
    assert_eq!(
        run(req(json!(session), "AROA*:alice")).decision,
        Outcome::Allowed
    );
    assert_eq!(
        run(req(json!(session), "AROAEXAMPLEID123456:*")).decision,
        Outcome::ImplicitlyDenied
    );
    // User: the user's unique id; root: the account; federated user: account:name.
    let user = json!({"arn": "arn:aws:iam::111122223333:user/bob", "uniqueId": "AIDAEXAMPLEBOB"});
    assert_eq!(run(req(user, "AIDAEXAMPLEBOB")).decision, Outcome::Allowed);
    assert_eq!(
        run(req(json!("arn:aws:iam::111122223333:user/bob"), "AIDA*")).decision,
        Outcome::Allowed
    );
    assert_eq!(
        run(req(json!("arn:aws:iam::111122223333:root"), "111122223333")).decision,
        Outcome::Allowed
    );
    assert_eq!(
        run(req(
            json!("arn:aws:sts::111122223333:federated-user/carol"),
            "111122223333:carol"
        ))
        .decision,
        Outcome::Allowed
    );
    assert_eq!(
        run(req(json!("anonymous"), "anonymous")).decision,
        Outcome::Allowed
    );
    // The request's own context wins over the derived value.
    let mut r = req(json!(session), "custom");
    r["context"] = json!({"aws:userid": "custom"});
    assert_eq!(run(r).decision, Outcome::Allowed);
}

#[test]
fn rcp_levels_carry_rcp_full_aws_access_so_customer_rcps_only_deny() {
    // A level whose RCPs allow nothing does not deny implicitly: AWS keeps RCPFullAWSAccess
    // attached to every level.
    let deny_only = json!({"name": "DenyOutsideOrg", "document": doc(json!([
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
         "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG}, "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}
    ]))});
    let levels = json!([{"target": "r-ab12", "policies": [deny_only.clone()]}, {"target": "111122223333", "policies": []}]);
    let mut member = seed_put(MEMBER_ROLE, Some(ORG));
    member["policies"]["rcps"] = levels.clone();
    assert_eq!(run(member).decision, Outcome::Allowed);
    let mut outsider = seed_put(
        "arn:aws:sts::999988887777:assumed-role/X/y",
        Some("o-zzzzzzzzzz"),
    );
    outsider["policies"]["rcps"] = levels;
    assert_eq!(run(outsider).decision, Outcome::ExplicitlyDenied);
}
