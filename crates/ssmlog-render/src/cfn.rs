//! CloudFormation export: a template for the log-archive account, one for the session key's
//! replicas in the log-archive account's other regions, and a StackSet template for the
//! member accounts, built from the same documents as the State.
//!
//! Key ARNs: when the config names an existing key, its ARN is written as is and no key is
//! created. Otherwise the log-archive template creates the key and every placeholder ARN
//! (`…:key/ssmlog-pending-<name>`) becomes `{"Fn::GetAtt": [<Key>, "Arn"]}`; in the member
//! template it becomes `{"Ref": "BucketKeyArn"}` / `{"Ref": "SessionKeyArn"}`, parameters
//! to fill from the log-archive stack's outputs. A multi-Region session key is passed to the
//! member template by its key id (`SessionKeyId`, the same in every region) and each
//! region's ARN is an `Fn::Sub` around it. No placeholder ever reaches a template.

use serde_json::{json, Map, Value};
use ssmlog_state::{Bucket, Files, KeyPurpose, RoleKind, Versioning};

use crate::config::{Config, KeyMode};
use crate::render::{docs, render, session_key_config, SESSION_KEY, SSM_CORE_POLICY};
use crate::Profile;

/// File name of the log-archive template.
pub const LOG_ARCHIVE_TEMPLATE: &str = "log-archive.template.json";
/// File name of the member-account StackSet template.
pub const MEMBER_TEMPLATE: &str = "member-stackset.template.json";
/// The guardrail SCP and RCP as `AWS::Organizations::Policy` resources, attached where the
/// State attaches them (`TargetIds`), from the very documents of the State. The AWS-managed
/// full-access policies stay as they are. `None` without guardrails or in the seed.
fn organization(cfg: &Config, profile: Profile) -> Option<Value> {
    let state = render(cfg, profile);
    let mut resources = Map::new();
    for (list, kind, id, what) in [
        (
            &state.scps,
            "SERVICE_CONTROL_POLICY",
            "GuardrailScp",
            "members cannot switch session logging off or go around it",
        ),
        (
            &state.rcps,
            "RESOURCE_CONTROL_POLICY",
            "PerimeterRcp",
            "the log bucket and keys answer only to the organization",
        ),
    ] {
        let name = if kind == "SERVICE_CONTROL_POLICY" {
            crate::guardrails::GUARDRAIL_SCP
        } else {
            crate::guardrails::GUARDRAIL_RCP
        };
        let mut targets = Vec::new();
        let mut content = None;
        for t in list {
            if let Some(p) = t.policies.iter().find(|p| p.name == name) {
                targets.push(json!(t.target));
                content = Some(p.document.clone());
            }
        }
        let Some(content) = content else { continue };
        resources.insert(
            id.to_string(),
            json!({
                "Type": "AWS::Organizations::Policy",
                "Properties": {
                    "Name": name,
                    "Description": format!("ssmlog: {what}"),
                    "Type": kind,
                    "Content": content,
                    "TargetIds": targets
                }
            }),
        );
    }
    if resources.is_empty() {
        return None;
    }
    Some(json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "ssmlog guardrails: deploy in the organization's management account (or the delegated administrator for Organizations policies), once, in us-east-1",
        "Resources": resources
    }))
}

/// File name of the template of the session key's replicas (log-archive account, every
/// enabled region but the primary's).
pub const REPLICA_TEMPLATE: &str = "session-key-replica.template.json";

/// File name of the template of the guardrail SCP and RCP (`[guardrails]`, hardened
/// profile), for the management account (or the delegated administrator of Organizations
/// policies).
pub const ORGANIZATION_TEMPLATE: &str = "organization.template.json";

/// The templates by file name, canonical JSON bytes.
pub type Templates = Files;

/// Replaces strings inside `v`: exact matches of `from` become the given JSON (a `Ref` or
/// `Fn::GetAtt`); strings mentioning `${AWS::…}` pseudo parameters or containing one of the
/// `within` literals become `Fn::Sub`, each literal replaced by `${Parameter}` and IAM
/// policy variables (`${aws:PrincipalAccount}`) escaped as `${!…}` so CloudFormation leaves
/// them alone.
fn intrinsify(v: &Value, exact: &[(String, Value)], within: &[(String, String)]) -> Value {
    match v {
        Value::String(s) => {
            if let Some((_, to)) = exact.iter().find(|(from, _)| from == s) {
                return to.clone();
            }
            let literal = within.iter().any(|(lit, _)| s.contains(lit.as_str()));
            if s.contains("${AWS::") || literal {
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
                for (lit, param) in within {
                    out = out.replace(lit.as_str(), &format!("${{{param}}}"));
                }
                return json!({"Fn::Sub": out});
            }
            v.clone()
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|i| intrinsify(i, exact, within)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, x)| (k.clone(), intrinsify(x, exact, within)))
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

fn key_description(purpose: KeyPurpose) -> &'static str {
    match purpose {
        KeyPurpose::Bucket => "ssmlog Key 1: default encryption of the session log bucket",
        KeyPurpose::Session => "ssmlog Key 2: Session Manager session data encryption",
        KeyPurpose::BucketAndSession => {
            "ssmlog key: session log bucket and session data encryption"
        }
    }
}

fn log_archive(cfg: &Config, profile: Profile) -> Value {
    let state = render(cfg, profile);
    let mut resources = Map::new();
    let mut outputs = Map::new();
    let mut exact = Vec::new();
    // Replicas live in other regions: the replica template creates them.
    for key in state.keys.iter().filter(|k| k.replica_of.is_none()) {
        let logical = if key.name == SESSION_KEY {
            "SessionKey"
        } else {
            "BucketKey"
        };
        let arn_value = if key.arn_is_placeholder {
            let mut props = Map::new();
            props.insert("Description".into(), json!(key_description(key.purpose)));
            props.insert("EnableKeyRotation".into(), json!(key.rotation_enabled));
            if key.multi_region {
                props.insert("MultiRegion".into(), json!(true));
            }
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
        let session_multi_region =
            key.multi_region && state.session_key().is_some_and(|s| s.name == key.name);
        // The member template takes a multi-Region session key by its id (below).
        let parameter_of = if session_multi_region && key.purpose == KeyPurpose::Session {
            "the replica template"
        } else if session_multi_region {
            "the member and replica templates"
        } else {
            "the member template"
        };
        outputs.insert(
            format!("{logical}Arn"),
            json!({"Description": format!("ARN of the {} (a parameter of {parameter_of})", key.name), "Value": arn_value}),
        );
        if session_multi_region {
            let id = if key.arn_is_placeholder {
                json!({"Ref": logical})
            } else {
                json!(key.key_id())
            };
            outputs.insert(
                "SessionKeyId".into(),
                json!({"Description": "Key id (mrk-…) of the multi-Region session key, the same in every region (a parameter of the member template)", "Value": id}),
            );
        }
    }
    let key_ref = intrinsify(
        &json!(state.bucket.default_encryption.kms_key_id),
        &exact,
        &[],
    );
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
                "Properties": {"Bucket": {"Ref": "LogBucket"}, "PolicyDocument": intrinsify(policy, &exact, &[])}
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
    let mut within = Vec::new();
    let mut param = |name: &str, description: String, pattern: &str, default: Option<&str>| {
        let mut p = Map::new();
        p.insert("Type".into(), json!("String"));
        p.insert("Description".into(), json!(description));
        p.insert("AllowedPattern".into(), json!(pattern));
        if let Some(v) = default {
            p.insert("Default".into(), json!(v));
        }
        parameters.insert(name.to_string(), Value::Object(p));
    };
    const KEY_ARN_PATTERN: &str = "^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$";
    let configured = |k: &crate::KeyConfig| k.arn.is_some();
    param(
        "BucketKeyArn",
        "ARN of Key 1, the bucket key (output BucketKeyArn of the log-archive stack)".into(),
        KEY_ARN_PATTERN,
        configured(&cfg.keys.bucket).then_some(d.bucket_key_arn.as_str()),
    );
    exact.push((d.bucket_key_arn.clone(), json!({"Ref": "BucketKeyArn"})));
    let (session_cfg, _) = session_key_config(cfg);
    if d.session_key_multi_region {
        // One value for every stack instance: the key id, the same in every region; each
        // region's ARN is built around it.
        let id = d
            .session_key_arn
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        param(
            "SessionKeyId",
            "Key id (mrk-…) of the multi-Region session key, the same in every region (output SessionKeyId of the log-archive stack)".into(),
            "^mrk-[0-9a-f]{32}$",
            configured(session_cfg).then_some(id.as_str()),
        );
        within.push((id, "SessionKeyId".to_string()));
    } else if let (KeyMode::TwoKeys, Some(s)) = (cfg.keys.mode, &cfg.keys.session) {
        param(
            "SessionKeyArn",
            "ARN of Key 2, the session data key (output SessionKeyArn of the log-archive stack)"
                .into(),
            KEY_ARN_PATTERN,
            configured(s).then_some(d.session_key_arn.as_str()),
        );
        exact.push((d.session_key_arn.clone(), json!({"Ref": "SessionKeyArn"})));
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
                "Content": intrinsify(&d.preferences(account, "${AWS::Region}"), &exact, &within)
            }
        }),
    );
    let policy = intrinsify(&d.role_policy(account), &exact, &within);
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
    let mut conditions = json!({"CreateIamResources": {"Fn::Equals": [{"Ref": "AWS::Region"}, {"Ref": "IamRegion"}]}});
    if cfg.network.as_ref().is_some_and(|n| n.create_endpoints) {
        agent_endpoints(cfg, &mut parameters, &mut conditions, &mut resources);
    }
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!(
            "ssmlog ({} profile): Session Manager preferences and instance-role logging policy; deploy as a StackSet to every member account and region",
            profile.as_str()
        ),
        "Parameters": parameters,
        "Conditions": conditions,
        "Resources": resources
    })
}

/// `[network] create_endpoints`: the VPC endpoints the agent needs, in the VPC the stack
/// instance is given: interface endpoints for ssm, ssmmessages, ec2messages and kms with
/// private DNS on (AWS's default policy), and, in the bucket's region only, an S3 gateway
/// endpoint on the given route tables (a gateway endpoint never reaches another region's
/// S3: elsewhere S3 needs NAT).
fn agent_endpoints(
    cfg: &Config,
    parameters: &mut Map<String, Value>,
    conditions: &mut Value,
    resources: &mut Map<String, Value>,
) {
    parameters.insert("VpcId".into(), json!({"Type": "AWS::EC2::VPC::Id", "Description": "The VPC of the instances whose agent needs the endpoints"}));
    parameters.insert("EndpointSubnetIds".into(), json!({"Type": "List<AWS::EC2::Subnet::Id>", "Description": "Subnets for the interface endpoints' network interfaces (one per Availability Zone)"}));
    parameters.insert("EndpointSecurityGroupIds".into(), json!({"Type": "List<AWS::EC2::SecurityGroup::Id>", "Description": "Security groups of the interface endpoints: allow HTTPS (443) from the instances"}));
    parameters.insert("RouteTableIds".into(), json!({"Type": "CommaDelimitedList", "Description": "Route tables of the instances' subnets, for the S3 gateway endpoint (bucket region only)"}));
    conditions["InBucketRegion"] =
        json!({"Fn::Equals": [{"Ref": "AWS::Region"}, cfg.bucket.region]});
    for (id, svc) in [
        ("EndpointSsm", "ssm"),
        ("EndpointSsmMessages", "ssmmessages"),
        ("EndpointEc2Messages", "ec2messages"),
        ("EndpointKms", "kms"),
    ] {
        resources.insert(
            id.into(),
            json!({
                "Type": "AWS::EC2::VPCEndpoint",
                "Properties": {
                    "VpcEndpointType": "Interface",
                    "ServiceName": {"Fn::Sub": format!("com.amazonaws.${{AWS::Region}}.{svc}")},
                    "VpcId": {"Ref": "VpcId"},
                    "SubnetIds": {"Ref": "EndpointSubnetIds"},
                    "SecurityGroupIds": {"Ref": "EndpointSecurityGroupIds"},
                    "PrivateDnsEnabled": true
                }
            }),
        );
    }
    resources.insert(
        "EndpointS3".into(),
        json!({
            "Type": "AWS::EC2::VPCEndpoint",
            "Condition": "InBucketRegion",
            "Properties": {
                "VpcEndpointType": "Gateway",
                "ServiceName": {"Fn::Sub": "com.amazonaws.${AWS::Region}.s3"},
                "VpcId": {"Ref": "VpcId"},
                "RouteTableIds": {"Ref": "RouteTableIds"}
            }
        }),
    );
}

/// The session key's replica, for every other enabled region of the log-archive account;
/// `None` when there is none to create (a single-Region session key, or a configured key,
/// whose replicas are managed where the key is).
fn session_key_replica(cfg: &Config, profile: Profile) -> Option<Value> {
    let state = render(cfg, profile);
    let primary = state.session_key()?;
    let replicas: Vec<&ssmlog_state::Key> = state.replicas_of(&primary.name).collect();
    let first = replicas.first()?;
    if !first.arn_is_placeholder {
        return None;
    }
    // Render gives every replica the same key policy, so one template serves every region.
    debug_assert!(replicas.iter().all(|r| r.policy == first.policy));
    let regions: Vec<&str> = replicas.iter().map(|r| r.region()).collect();
    let mut resources = Map::new();
    resources.insert(
        "SessionKeyReplica".into(),
        json!({
            "Type": "AWS::KMS::ReplicaKey",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "Description": format!("{} (replica of the multi-Region key in {})", key_description(KeyPurpose::Session), primary.region()),
                "PrimaryKeyArn": {"Ref": "SessionKeyArn"},
                "KeyPolicy": first.policy.clone().unwrap_or(Value::Null)
            }
        }),
    );
    if let Some(alias) = &first.alias {
        resources.insert(
            "SessionKeyReplicaAlias".into(),
            json!({
                "Type": "AWS::KMS::Alias",
                "Properties": {"AliasName": alias, "TargetKeyId": {"Ref": "SessionKeyReplica"}}
            }),
        );
    }
    Some(json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!(
            "ssmlog ({} profile): replica of the multi-Region session key; deploy in account {} in each of {} (after the log-archive stack)",
            profile.as_str(), cfg.log_archive_account, regions.join(", ")
        ),
        "Parameters": {
            "SessionKeyArn": {
                "Type": "String",
                "Description": "ARN of the multi-Region session key (output SessionKeyArn of the log-archive stack)",
                "AllowedPattern": "^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/mrk-[0-9a-f]{32}$"
            }
        },
        "Rules": {
            "ReplicaRegionsOnly": {
                "Assertions": [{
                    "Assert": {"Fn::Contains": [regions, {"Ref": "AWS::Region"}]},
                    "AssertDescription": format!("deploy in one of {}: the primary key is in {}", regions.join(", "), primary.region())
                }]
            }
        },
        "Resources": resources,
        "Outputs": {
            "SessionKeyReplicaArn": {
                "Description": "ARN of the session key in this region (the kmsKeyId of this region's preferences)",
                "Value": {"Fn::GetAtt": ["SessionKeyReplica", "Arn"]}
            }
        }
    }))
}

/// The templates as canonical JSON files (sorted keys, pretty, trailing newline): the
/// log-archive template, the member StackSet template and, when the session key has
/// replicas to create, the replica template.
pub fn cloudformation(cfg: &Config, profile: Profile) -> Result<Templates, serde_json::Error> {
    let mut files = Templates::new();
    if let Some(org) = organization(cfg, profile) {
        files.insert(
            ORGANIZATION_TEMPLATE.to_string(),
            ssmlog_state::to_canonical_vec(&org)?,
        );
    }
    if let Some(replica) = session_key_replica(cfg, profile) {
        files.insert(
            REPLICA_TEMPLATE.to_string(),
            ssmlog_state::to_canonical_vec(&replica)?,
        );
    }
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
