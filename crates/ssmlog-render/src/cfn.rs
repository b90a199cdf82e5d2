//! CloudFormation export: a template for the log-archive account and a StackSet template
//! for the member accounts, built from the same documents as the State.
//!
//! Key ARNs: when the config names an existing key, its ARN is written as is and no key is
//! created. Otherwise the log-archive template creates the key and every placeholder ARN
//! (`…:key/ssmlog-pending-<name>`) becomes `{"Fn::GetAtt": [<Key>, "Arn"]}`; in the member
//! template it becomes `{"Ref": "BucketKeyArn"}` / `{"Ref": "SessionKeyArn"}`, parameters
//! to fill from the log-archive stack's outputs. No placeholder ever reaches a template.

use serde_json::{json, Map, Value};
use ssmlog_state::{Bucket, Files, RoleKind, Versioning};

use crate::config::{Config, KeyMode};
use crate::render::{docs, key_arn, render, BUCKET_KEY, SESSION_KEY, SSM_CORE_POLICY};
use crate::Profile;

/// File name of the log-archive template.
pub const LOG_ARCHIVE_TEMPLATE: &str = "log-archive.template.json";
/// File name of the member-account StackSet template.
pub const MEMBER_TEMPLATE: &str = "member-stackset.template.json";

/// The templates by file name, canonical JSON bytes.
pub type Templates = Files;

/// Replaces strings inside `v`: exact matches of `from` become the given JSON (a `Ref` or
/// `Fn::GetAtt`); strings mentioning `${AWS::…}` pseudo parameters become `Fn::Sub`, with
/// IAM policy variables (`${aws:PrincipalAccount}`) escaped as `${!…}` so CloudFormation
/// leaves them alone.
fn intrinsify(v: &Value, exact: &[(String, Value)]) -> Value {
    match v {
        Value::String(s) => {
            if let Some((_, to)) = exact.iter().find(|(from, _)| from == s) {
                return to.clone();
            }
            if s.contains("${AWS::") {
                let mut out = String::with_capacity(s.len() + 8);
                let mut rest = s.as_str();
                while let Some(i) = rest.find("${") {
                    out.push_str(&rest[..i]);
                    let after = &rest[i + 2..];
                    if after.starts_with("AWS::") {
                        out.push_str("${");
                    } else {
                        out.push_str("${!");
                    }
                    rest = after;
                }
                out.push_str(rest);
                return json!({"Fn::Sub": out});
            }
            v.clone()
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| intrinsify(i, exact)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, x)| (k.clone(), intrinsify(x, exact)))
                .collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}

/// CloudFormation logical ids are alphanumeric; keep the letters and digits of `name`.
fn logical_id(prefix: &str, name: &str, taken: &Map<String, Value>) -> String {
    let clean: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
    let base = format!("{prefix}{clean}");
    let mut id = base.clone();
    let mut n = 2;
    while taken.contains_key(&id) {
        id = format!("{base}{n}");
        n += 1;
    }
    id
}

fn bucket_properties(b: &Bucket, key_ref: &Value) -> Value {
    let mut p = Map::new();
    p.insert("BucketName".into(), json!(b.name));
    p.insert(
        "BucketEncryption".into(),
        json!({"ServerSideEncryptionConfiguration": [{
            "ServerSideEncryptionByDefault": {
                "SSEAlgorithm": b.default_encryption.sse_algorithm,
                "KMSMasterKeyID": key_ref
            },
            "BucketKeyEnabled": b.default_encryption.bucket_key_enabled
        }]}),
    );
    let pab = b.public_access_block;
    p.insert(
        "PublicAccessBlockConfiguration".into(),
        json!({
            "BlockPublicAcls": pab.block_public_acls,
            "BlockPublicPolicy": pab.block_public_policy,
            "IgnorePublicAcls": pab.ignore_public_acls,
            "RestrictPublicBuckets": pab.restrict_public_buckets
        }),
    );
    p.insert(
        "OwnershipControls".into(),
        json!({"Rules": [{"ObjectOwnership": b.object_ownership}]}),
    );
    match b.versioning {
        Versioning::Enabled => {
            p.insert(
                "VersioningConfiguration".into(),
                json!({"Status": "Enabled"}),
            );
        }
        Versioning::Suspended => {
            p.insert(
                "VersioningConfiguration".into(),
                json!({"Status": "Suspended"}),
            );
        }
        Versioning::Disabled => {}
    }
    if !b.lifecycle.is_empty() {
        let rules: Vec<Value> = b
            .lifecycle
            .iter()
            .map(|r| {
                let mut rule = Map::new();
                rule.insert("Id".into(), json!(r.id));
                rule.insert("Status".into(), json!(if r.enabled { "Enabled" } else { "Disabled" }));
                if !r.prefix.is_empty() {
                    rule.insert("Prefix".into(), json!(r.prefix));
                }
                if let Some(d) = r.expiration_days {
                    rule.insert("ExpirationInDays".into(), json!(d));
                }
                if !r.transitions.is_empty() {
                    let t: Vec<Value> = r
                        .transitions
                        .iter()
                        .map(|t| json!({"StorageClass": t.storage_class, "TransitionInDays": t.days}))
                        .collect();
                    rule.insert("Transitions".into(), json!(t));
                }
                if let Some(d) = r.noncurrent_version_expiration_days {
                    rule.insert("NoncurrentVersionExpiration".into(), json!({"NoncurrentDays": d}));
                }
                if let Some(d) = r.abort_incomplete_multipart_upload_days {
                    rule.insert(
                        "AbortIncompleteMultipartUpload".into(),
                        json!({"DaysAfterInitiation": d}),
                    );
                }
                Value::Object(rule)
            })
            .collect();
        p.insert("LifecycleConfiguration".into(), json!({"Rules": rules}));
    }
    if let Some(ol) = &b.object_lock {
        p.insert("ObjectLockEnabled".into(), json!(true));
        p.insert(
            "ObjectLockConfiguration".into(),
            json!({
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": ol.mode, "Days": ol.days}}
            }),
        );
    }
    Value::Object(p)
}

fn log_archive(cfg: &Config, profile: Profile) -> Value {
    let state = render(cfg, profile);
    let mut resources = Map::new();
    let mut outputs = Map::new();
    let mut exact = Vec::new();
    for key in &state.keys {
        let logical = if key.name == SESSION_KEY {
            "SessionKey"
        } else {
            "BucketKey"
        };
        let arn_value = if key.arn_is_placeholder {
            let mut props = Map::new();
            props.insert(
                "Description".into(),
                json!(match key.purpose {
                    ssmlog_state::KeyPurpose::Bucket =>
                        "ssmlog Key 1: default encryption of the session log bucket",
                    ssmlog_state::KeyPurpose::Session =>
                        "ssmlog Key 2: Session Manager session data encryption",
                    ssmlog_state::KeyPurpose::BucketAndSession =>
                        "ssmlog key: session log bucket and session data encryption",
                }),
            );
            props.insert("EnableKeyRotation".into(), json!(key.rotation_enabled));
            props.insert(
                "KeyPolicy".into(),
                key.policy.clone().unwrap_or(Value::Null),
            );
            resources.insert(
                logical.to_string(),
                json!({
                    "Type": "AWS::KMS::Key",
                    "DeletionPolicy": "Retain",
                    "UpdateReplacePolicy": "Retain",
                    "Properties": props
                }),
            );
            if let Some(alias) = &key.alias {
                resources.insert(
                    format!("{logical}Alias"),
                    json!({
                        "Type": "AWS::KMS::Alias",
                        "Properties": {"AliasName": alias, "TargetKeyId": {"Ref": logical}}
                    }),
                );
            }
            let v = json!({"Fn::GetAtt": [logical, "Arn"]});
            exact.push((key.arn.clone(), v.clone()));
            v
        } else {
            json!(key.arn)
        };
        outputs.insert(
            format!("{logical}Arn"),
            json!({"Description": format!("ARN of the {} (a parameter of the member template)", key.name), "Value": arn_value}),
        );
    }
    let key_ref = intrinsify(&json!(state.bucket.default_encryption.kms_key_id), &exact);
    let bucket = json!({
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": bucket_properties(&state.bucket, &key_ref)
    });
    resources.insert("LogBucket".into(), bucket);
    if let Some(policy) = &state.bucket.policy {
        resources.insert(
            "LogBucketPolicy".into(),
            json!({
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {"Bucket": {"Ref": "LogBucket"}, "PolicyDocument": intrinsify(policy, &exact)}
            }),
        );
    }
    outputs.insert(
        "BucketName".into(),
        json!({"Description": "The central session log bucket", "Value": {"Ref": "LogBucket"}}),
    );
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!(
            "ssmlog ({} profile): central Session Manager log bucket and KMS keys; deploy in account {} region {}",
            profile.as_str(), cfg.log_archive_account, cfg.bucket.region
        ),
        "Resources": resources,
        "Outputs": outputs
    })
}

fn member(cfg: &Config, profile: Profile) -> Value {
    let d = docs(cfg, profile);
    let mut parameters = Map::new();
    let mut exact = Vec::new();
    let mut key_param = |name: &str, key: &crate::KeyConfig, logical: &str, what: &str| {
        let (arn, placeholder) = key_arn(cfg, key, name);
        let mut p = Map::new();
        p.insert("Type".into(), json!("String"));
        p.insert(
            "Description".into(),
            json!(format!(
                "ARN of {what} (output {logical}Arn of the log-archive stack)"
            )),
        );
        p.insert(
            "AllowedPattern".into(),
            json!("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$"),
        );
        if !placeholder {
            p.insert("Default".into(), json!(arn));
        }
        parameters.insert(format!("{logical}Arn"), Value::Object(p));
        exact.push((arn, json!({"Ref": format!("{logical}Arn")})));
    };
    key_param(
        BUCKET_KEY,
        &cfg.keys.bucket,
        "BucketKey",
        "Key 1, the bucket key",
    );
    if let (KeyMode::TwoKeys, Some(s)) = (cfg.keys.mode, &cfg.keys.session) {
        key_param(SESSION_KEY, s, "SessionKey", "Key 2, the session data key");
    }
    parameters.insert(
        "IamRegion".into(),
        json!({
            "Type": "String",
            "Default": cfg.home_region,
            "Description": "IAM is global: only the stack instance in this region writes the role policies"
        }),
    );

    let account = "${AWS::AccountId}";
    let mut resources = Map::new();
    resources.insert(
        "SessionManagerPreferences".into(),
        json!({
            "Type": "AWS::SSM::Document",
            "Properties": {
                "Name": ssmlog_state::PREFERENCES_DOCUMENT,
                "DocumentType": "Session",
                "DocumentFormat": "JSON",
                "UpdateMethod": "NewVersion",
                "Content": intrinsify(&d.preferences(account, "${AWS::Region}"), &exact)
            }
        }),
    );
    let policy = intrinsify(&d.role_policy(account), &exact);
    for role in &cfg.instance_roles {
        if role.kind == RoleKind::Created {
            let id = logical_id("Role", &role.name, &resources);
            resources.insert(
                id.clone(),
                json!({
                    "Type": "AWS::IAM::Role",
                    "Condition": "CreateIamResources",
                    "Properties": {
                        "RoleName": role.name,
                        "Path": role.path,
                        "AssumeRolePolicyDocument": d.trust_policy(),
                        "ManagedPolicyArns": [SSM_CORE_POLICY],
                        "Policies": [{"PolicyName": cfg.policy_name, "PolicyDocument": policy}]
                    }
                }),
            );
            let profile_id = logical_id("InstanceProfile", &role.name, &resources);
            resources.insert(
                profile_id,
                json!({
                    "Type": "AWS::IAM::InstanceProfile",
                    "Condition": "CreateIamResources",
                    "Properties": {"InstanceProfileName": role.name, "Path": role.path, "Roles": [{"Ref": id}]}
                }),
            );
        } else {
            let id = logical_id("LoggingPolicy", &role.name, &resources);
            resources.insert(
                id,
                json!({
                    "Type": "AWS::IAM::RolePolicy",
                    "Condition": "CreateIamResources",
                    "Properties": {"RoleName": role.name, "PolicyName": cfg.policy_name, "PolicyDocument": policy}
                }),
            );
        }
    }
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!(
            "ssmlog ({} profile): Session Manager preferences and instance-role logging policy; deploy as a StackSet to every member account and region",
            profile.as_str()
        ),
        "Parameters": parameters,
        "Conditions": {"CreateIamResources": {"Fn::Equals": [{"Ref": "AWS::Region"}, {"Ref": "IamRegion"}]}},
        "Resources": resources
    })
}

/// The two templates as canonical JSON files (sorted keys, pretty, trailing newline).
pub fn cloudformation(cfg: &Config, profile: Profile) -> Result<Templates, serde_json::Error> {
    let mut files = Templates::new();
    files.insert(
        LOG_ARCHIVE_TEMPLATE.to_string(),
        ssmlog_state::to_canonical_vec(&log_archive(cfg, profile))?,
    );
    files.insert(
        MEMBER_TEMPLATE.to_string(),
        ssmlog_state::to_canonical_vec(&member(cfg, profile))?,
    );
    Ok(files)
}
