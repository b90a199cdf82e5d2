//! Reading live resources into State pieces; shared by `pull` and `converge`.

use aws_sdk_s3::types as s3t;
use serde_json::Value;
use ssmlog_state::{
    Bucket, DefaultEncryption, LifecycleRule, NamedPolicy, ObjectLock, PublicAccessBlock,
    Transition, Versioning,
};

use crate::connect::AccountClients;
use crate::error::AwsError;

/// S3 and IAM answers that mean "there is none", not "something failed".
pub(crate) const ABSENT: &[&str] = &[
    "NoSuchBucket",
    "NotFound",
    "NoSuchBucketPolicy",
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchPublicAccessBlockConfiguration",
    "OwnershipControlsNotFoundError",
    "NoSuchLifecycleConfiguration",
    "ObjectLockConfigurationNotFoundError",
    "NoSuchEntity",
    "InvalidDocument",
    "NotFoundException",
];

/// Runs one AWS call: counts it, turns "not found" into `None`, other errors into
/// [`AwsError`] naming the account and operation.
macro_rules! call {
    ($c:expr, $op:literal, $fut:expr) => {{
        $c.count($op);
        match $fut.await {
            Ok(v) => Ok(Some(v)),
            Err(e) if $crate::error::code_of(&e).is_some_and(|c| $crate::live::ABSENT.contains(&c)) => Ok(None),
            Err(e) if matches!(&e, aws_sdk_s3::error::SdkError::ServiceError(s) if s.raw().status().as_u16() == 404) => Ok(None),
            Err(e) => Err($crate::error::AwsError::from_sdk(format!("account {}: {}", $c.account, $op), &e)),
        }
    }};
}
pub(crate) use call;

/// Parses a policy document as AWS returns it; IAM returns documents URL-encoded.
pub(crate) fn parse_policy(text: &str) -> Option<Value> {
    serde_json::from_str(text)
        .ok()
        .or_else(|| serde_json::from_str(&percent_decode(text)).ok())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes.get(i).copied().unwrap_or_default();
        let hex = s
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The bucket as it is; `None` when it does not exist (or is not ours to see).
pub(crate) async fn read_bucket(
    c: &AccountClients,
    name: &str,
    region: &str,
) -> Result<Option<Bucket>, AwsError> {
    let s3 = c.s3(region);
    if call!(c, "s3:HeadBucket", s3.head_bucket().bucket(name).send())?.is_none() {
        return Ok(None);
    }
    let enc = call!(
        c,
        "s3:GetBucketEncryption",
        s3.get_bucket_encryption().bucket(name).send()
    )?;
    let rule = enc
        .and_then(|o| o.server_side_encryption_configuration)
        .and_then(|c| c.rules.into_iter().next());
    let default_encryption = match rule {
        Some(r) => {
            let by_default = r.apply_server_side_encryption_by_default;
            DefaultEncryption {
                sse_algorithm: by_default
                    .as_ref()
                    .map(|d| d.sse_algorithm.as_str().to_string())
                    .unwrap_or_default(),
                kms_key_id: by_default.and_then(|d| d.kms_master_key_id),
                bucket_key_enabled: r.bucket_key_enabled.unwrap_or(false),
            }
        }
        None => DefaultEncryption {
            sse_algorithm: "AES256".to_string(),
            kms_key_id: None,
            bucket_key_enabled: false,
        },
    };
    let pab = call!(
        c,
        "s3:GetPublicAccessBlock",
        s3.get_public_access_block().bucket(name).send()
    )?
    .and_then(|o| o.public_access_block_configuration);
    let public_access_block = PublicAccessBlock {
        block_public_acls: pab
            .as_ref()
            .and_then(|p| p.block_public_acls)
            .unwrap_or(false),
        ignore_public_acls: pab
            .as_ref()
            .and_then(|p| p.ignore_public_acls)
            .unwrap_or(false),
        block_public_policy: pab
            .as_ref()
            .and_then(|p| p.block_public_policy)
            .unwrap_or(false),
        restrict_public_buckets: pab
            .as_ref()
            .and_then(|p| p.restrict_public_buckets)
            .unwrap_or(false),
    };
    let object_ownership = call!(
        c,
        "s3:GetBucketOwnershipControls",
        s3.get_bucket_ownership_controls().bucket(name).send()
    )?
    .and_then(|o| o.ownership_controls)
    .and_then(|o| o.rules.into_iter().next())
    .map(|r| r.object_ownership.as_str().to_string())
    .unwrap_or_else(|| "ObjectWriter".to_string());
    c.count("s3:GetBucketVersioning");
    let status = match s3.get_bucket_versioning().bucket(name).send().await {
        Ok(o) => o.status,
        // Some S3 implementations (moto) answer under another root element, which the SDK
        // refuses; the status element is the same, so read it from the body.
        Err(aws_sdk_s3::error::SdkError::ServiceError(e)) if e.raw().status().is_success() => {
            let body = e.raw().body().bytes().unwrap_or_default();
            let body = String::from_utf8_lossy(body);
            ["Enabled", "Suspended"]
                .into_iter()
                .find(|s| body.contains(&format!("<Status>{s}</Status>")))
                .map(s3t::BucketVersioningStatus::from)
        }
        Err(e) => {
            return Err(AwsError::sdk(
                format!("account {}: s3:GetBucketVersioning", c.account),
                &e,
            ))
        }
    };
    let versioning = match status {
        Some(s3t::BucketVersioningStatus::Enabled) => Versioning::Enabled,
        Some(s3t::BucketVersioningStatus::Suspended) => Versioning::Suspended,
        _ => Versioning::Disabled,
    };
    let lifecycle = call!(
        c,
        "s3:GetBucketLifecycleConfiguration",
        s3.get_bucket_lifecycle_configuration().bucket(name).send()
    )?
    .and_then(|o| o.rules)
    .unwrap_or_default()
    .into_iter()
    .map(lifecycle_rule)
    .collect();
    let object_lock = call!(
        c,
        "s3:GetObjectLockConfiguration",
        s3.get_object_lock_configuration().bucket(name).send()
    )?
    .and_then(|o| o.object_lock_configuration)
    .and_then(|o| o.rule)
    .and_then(|r| r.default_retention)
    .map(|d| ObjectLock {
        mode: d.mode.map(|m| m.as_str().to_string()).unwrap_or_default(),
        days: d
            .days
            .or(d.years.map(|y| y * 365))
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
    });
    let policy = call!(
        c,
        "s3:GetBucketPolicy",
        s3.get_bucket_policy().bucket(name).send()
    )?
    .and_then(|o| o.policy)
    .and_then(|p| parse_policy(&p));
    Ok(Some(Bucket {
        name: name.to_string(),
        region: region.to_string(),
        default_encryption,
        public_access_block,
        object_ownership,
        versioning,
        lifecycle,
        object_lock,
        policy,
    }))
}

fn days(n: Option<i32>) -> Option<u32> {
    n.and_then(|d| u32::try_from(d).ok())
}

fn lifecycle_rule(r: s3t::LifecycleRule) -> LifecycleRule {
    #[allow(deprecated)]
    let legacy_prefix = r.prefix.clone();
    LifecycleRule {
        id: r.id.unwrap_or_default(),
        enabled: r.status == s3t::ExpirationStatus::Enabled,
        prefix: r
            .filter
            .and_then(|f| f.prefix)
            .or(legacy_prefix)
            .unwrap_or_default(),
        expiration_days: days(r.expiration.and_then(|e| e.days)),
        transitions: r
            .transitions
            .unwrap_or_default()
            .into_iter()
            .map(|t| Transition {
                days: days(t.days).unwrap_or(0),
                storage_class: t
                    .storage_class
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            })
            .collect(),
        noncurrent_version_expiration_days: days(
            r.noncurrent_version_expiration
                .and_then(|e| e.noncurrent_days),
        ),
        abort_incomplete_multipart_upload_days: days(
            r.abort_incomplete_multipart_upload
                .and_then(|a| a.days_after_initiation),
        ),
    }
}

/// A KMS key as it is.
#[derive(Debug, Clone)]
pub(crate) struct LiveKey {
    pub id: String,
    pub arn: String,
    pub policy: Option<Value>,
    pub rotation: bool,
}

/// Finds a key by ARN (when configured) or by alias; `None` when neither exists.
pub(crate) async fn find_key(
    c: &AccountClients,
    region: &str,
    arn: Option<&str>,
    alias: Option<&str>,
) -> Result<Option<LiveKey>, AwsError> {
    let kms = c.kms(region);
    let key_id = match (arn, alias) {
        (Some(a), _) => Some(a.to_string()),
        (None, Some(alias)) => {
            let mut found = None;
            let mut marker = None;
            loop {
                let Some(page) = call!(
                    c,
                    "kms:ListAliases",
                    kms.list_aliases().set_marker(marker.clone()).send()
                )?
                else {
                    break;
                };
                if let Some(a) = page
                    .aliases
                    .unwrap_or_default()
                    .into_iter()
                    .find(|a| a.alias_name.as_deref() == Some(alias))
                {
                    found = a.target_key_id;
                    break;
                }
                marker = page.next_marker;
                if !page.truncated || marker.is_none() {
                    break;
                }
            }
            found
        }
        (None, None) => None,
    };
    let Some(key_id) = key_id else {
        return Ok(None);
    };
    describe_key(c, &kms, &key_id).await
}

/// The tag ssmlog puts on every key it creates, naming the State key (`bucket-key`,
/// `session-key@us-east-1`): a key created by an apply that stopped before its alias is
/// found by it and adopted, not created twice.
pub(crate) const KEY_NAME_TAG: &str = "ssmlog:key-name";

/// The keys of this account and region tagged [`KEY_NAME_TAG`] = `name` that have no alias
/// and are not pending deletion, by key id: what an apply interrupted between `CreateKey`
/// and `CreateAlias` leaves, or a `CreateKey` whose reply was lost. Lists every key of the
/// region, so it runs only when the alias is missing or a creation failed.
pub(crate) async fn find_unaliased_keys(
    c: &AccountClients,
    region: &str,
    name: &str,
) -> Result<Vec<LiveKey>, AwsError> {
    let kms = c.kms(region);
    let mut found = Vec::new();
    let mut marker = None;
    loop {
        let Some(page) = call!(
            c,
            "kms:ListKeys",
            kms.list_keys().set_marker(marker.clone()).send()
        )?
        else {
            break;
        };
        for k in page.keys.unwrap_or_default() {
            let Some(id) = k.key_id else { continue };
            let tagged = call!(
                c,
                "kms:ListResourceTags",
                kms.list_resource_tags().key_id(&id).send()
            )?
            .and_then(|t| t.tags)
            .unwrap_or_default()
            .iter()
            .any(|t| t.tag_key == KEY_NAME_TAG && t.tag_value == name);
            if !tagged {
                continue;
            }
            let aliased = call!(c, "kms:ListAliases", kms.list_aliases().key_id(&id).send())?
                .and_then(|a| a.aliases)
                .is_some_and(|a| !a.is_empty());
            let pending = call!(c, "kms:DescribeKey", kms.describe_key().key_id(&id).send())?
                .and_then(|d| d.key_metadata)
                .and_then(|m| m.key_state)
                .is_some_and(|s| {
                    matches!(
                        s,
                        aws_sdk_kms::types::KeyState::PendingDeletion
                            | aws_sdk_kms::types::KeyState::PendingReplicaDeletion
                    )
                });
            if !aliased && !pending {
                if let Some(key) = describe_key(c, &kms, &id).await? {
                    found.push(key);
                }
            }
        }
        marker = page.next_marker;
        if !page.truncated || marker.is_none() {
            break;
        }
    }
    found.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(found)
}

async fn describe_key(
    c: &AccountClients,
    kms: &aws_sdk_kms::Client,
    key_id: &str,
) -> Result<Option<LiveKey>, AwsError> {
    let Some(meta) = call!(
        c,
        "kms:DescribeKey",
        kms.describe_key().key_id(key_id).send()
    )?
    .and_then(|d| d.key_metadata) else {
        return Ok(None);
    };
    let id = meta.key_id;
    let arn = meta.arn.unwrap_or_default();
    let policy = call!(
        c,
        "kms:GetKeyPolicy",
        kms.get_key_policy()
            .key_id(&id)
            .policy_name("default")
            .send()
    )?
    .and_then(|p| p.policy)
    .and_then(|p| parse_policy(&p));
    let rotation = call!(
        c,
        "kms:GetKeyRotationStatus",
        kms.get_key_rotation_status().key_id(&id).send()
    )?
    .map(|r| r.key_rotation_enabled)
    .unwrap_or(false);
    Ok(Some(LiveKey {
        id,
        arn,
        policy,
        rotation,
    }))
}

/// An IAM role as it is.
#[derive(Debug, Clone)]
pub(crate) struct LiveRole {
    pub path: String,
    pub trust_policy: Option<Value>,
    pub managed_policy_arns: Vec<String>,
    pub policies: Vec<NamedPolicy>,
}

/// Reads a role, its inline policies and attached managed policies; `None` when absent.
pub(crate) async fn read_role(
    c: &AccountClients,
    name: &str,
) -> Result<Option<LiveRole>, AwsError> {
    let iam = c.iam();
    let Some(role) =
        call!(c, "iam:GetRole", iam.get_role().role_name(name).send())?.and_then(|r| r.role)
    else {
        return Ok(None);
    };
    let mut names = Vec::new();
    let mut marker = None;
    loop {
        let Some(page) = call!(
            c,
            "iam:ListRolePolicies",
            iam.list_role_policies()
                .role_name(name)
                .set_marker(marker.clone())
                .send()
        )?
        else {
            break;
        };
        names.extend(page.policy_names);
        marker = page.marker;
        if !page.is_truncated || marker.is_none() {
            break;
        }
    }
    names.sort();
    let mut policies = Vec::new();
    for p in names {
        if let Some(doc) = call!(
            c,
            "iam:GetRolePolicy",
            iam.get_role_policy().role_name(name).policy_name(&p).send()
        )?
        .and_then(|o| parse_policy(&o.policy_document))
        {
            policies.push(NamedPolicy {
                name: p,
                document: doc,
            });
        }
    }
    let mut managed: Vec<String> = call!(
        c,
        "iam:ListAttachedRolePolicies",
        iam.list_attached_role_policies().role_name(name).send()
    )?
    .and_then(|o| o.attached_policies)
    .unwrap_or_default()
    .into_iter()
    .filter_map(|p| p.policy_arn)
    .collect();
    managed.sort();
    Ok(Some(LiveRole {
        path: role.path,
        trust_policy: role
            .assume_role_policy_document
            .as_deref()
            .and_then(parse_policy),
        managed_policy_arns: managed,
        policies,
    }))
}

/// The preferences document of one account/region.
#[derive(Debug, Clone)]
pub(crate) struct LivePreferences {
    /// Content of the default version.
    pub content: Value,
    pub default_version: String,
    pub latest_version: String,
    /// Content of the latest version when it is not the default (an interrupted update).
    pub latest_content: Option<Value>,
}

async fn document_content(
    c: &AccountClients,
    ssm: &aws_sdk_ssm::Client,
    version: &str,
) -> Result<Option<Value>, AwsError> {
    Ok(call!(
        c,
        "ssm:GetDocument",
        ssm.get_document()
            .name(ssmlog_state::PREFERENCES_DOCUMENT)
            .document_version(version)
            .send()
    )?
    .and_then(|d| d.content)
    .and_then(|t| serde_json::from_str(&t).ok()))
}

/// Reads `SSM-SessionManagerRunShell` in `region`; `None` when it does not exist.
pub(crate) async fn read_preferences(
    c: &AccountClients,
    region: &str,
) -> Result<Option<LivePreferences>, AwsError> {
    let ssm = c.ssm(region);
    let Some(d) = call!(
        c,
        "ssm:DescribeDocument",
        ssm.describe_document()
            .name(ssmlog_state::PREFERENCES_DOCUMENT)
            .send()
    )?
    .and_then(|d| d.document) else {
        return Ok(None);
    };
    let default_version = d.default_version.unwrap_or_else(|| "1".to_string());
    let latest_version = d.latest_version.unwrap_or_else(|| default_version.clone());
    let Some(content) = document_content(c, &ssm, &default_version).await? else {
        return Ok(None);
    };
    let latest_content = if latest_version != default_version {
        document_content(c, &ssm, &latest_version).await?
    } else {
        None
    };
    Ok(Some(LivePreferences {
        content,
        default_version,
        latest_version,
        latest_content,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_documents_are_url_decoded() {
        let enc = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(
            parse_policy(enc),
            Some(serde_json::json!({"Version": "2012-10-17", "Statement": []}))
        );
        assert_eq!(
            parse_policy("{\"a\":\"50%\"}"),
            Some(serde_json::json!({"a": "50%"}))
        );
    }
}
