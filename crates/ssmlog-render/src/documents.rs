//! Every document render writes, for both profiles, as pure functions of the config.
//!
//! Account and region are plain strings so the CloudFormation export can pass
//! `${AWS::AccountId}` and `${AWS::Region}` and get the member template's documents from the
//! very same code.

use serde_json::{json, Value};

use crate::config::{Config, KeyMode};
use crate::Profile;

/// The IAM policy language version every document uses.
const VERSION: &str = "2012-10-17";

/// Actions the key administrators get: manage, never use (no Encrypt/Decrypt/GenerateDataKey).
/// The same list the KMS console writes for key administrators.
const KEY_ADMIN_ACTIONS: &[&str] = &[
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
];

/// Key administration of a multi-Region key, added to [`KEY_ADMIN_ACTIONS`] for one
/// (`kms:UpdatePrimaryRegion` is already in `kms:Update*`).
const MULTI_REGION_ADMIN_ACTIONS: &[&str] = &["kms:ReplicateKey"];

/// What the hardened key policies deny to everyone but the key's administrators: changing
/// who controls the key, destroying it or making it unusable, and handing out its use
/// (grants, a replica with a policy of one's own choosing). `kms:CancelKeyDeletion` stays
/// open: it only ever saves a key. AWS services never call these on a caller's behalf for
/// S3 or Session Manager, and KMS's own work on the key (rotation, deletion after the
/// waiting period, `kms:SynchronizeMultiRegionKey` through its service-linked role) is not
/// in the list.
const KEY_ADMIN_DENIED: &[&str] = &[
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:Disable*",
    "kms:Delete*",
    "kms:CreateGrant",
    "kms:ReplicateKey",
    "kms:UpdatePrimaryRegion",
];

/// Bucket changes the hardened bucket policy denies to everyone but the bucket
/// administrators. Each also covers its Delete… API (`DeleteBucketLifecycle` needs
/// `s3:PutLifecycleConfiguration`, `DeleteBucketEncryption` `s3:PutEncryptionConfiguration`,
/// `DeletePublicAccessBlock` `s3:PutBucketPublicAccessBlock`, `DeleteBucketOwnershipControls`
/// `s3:PutBucketOwnershipControls`).
const BUCKET_ADMIN_DENIED: &[&str] = &[
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketAcl",
    "s3:PutReplicationConfiguration",
    "s3:DeleteBucket",
];

/// What the readers (`[readers]`) may do on the bucket and its logs.
const READER_ACTIONS: &[&str] = &["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"];

/// Log reads denied to everyone but the readers.
const LOG_READS: &[&str] = &["s3:GetObject", "s3:GetObjectVersion"];

/// Log deletion (and shortening Object Lock retention) the hardened bucket policy denies to
/// everyone but the bucket administrators. Lifecycle expiration is S3's own work and is not
/// affected.
const LOG_DELETION_DENIED: &[&str] = &[
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObjectRetention",
    "s3:BypassGovernanceRetention",
];

/// Which key a key policy is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyRole {
    /// Key 1.
    Bucket,
    /// Key 2.
    Session,
    /// One key for both.
    Both,
}

/// The config plus the key ARNs (real, placeholder, or CloudFormation references).
pub(crate) struct Docs<'a> {
    pub cfg: &'a Config,
    pub profile: Profile,
    pub bucket_key_arn: String,
    /// The session key's ARN (its primary when multi-Region).
    pub session_key_arn: String,
    /// The session key is multi-Region: every region uses the replica of its own region.
    pub session_key_multi_region: bool,
}

impl Docs<'_> {
    fn bucket_arn(&self) -> String {
        format!("arn:aws:s3:::{}", self.cfg.bucket.name)
    }

    /// An upload Deny's condition, with the configured AWS services
    /// (`bucket.exempt_source_arns`) exempted: `aws:SourceArn` is set only by AWS services
    /// acting for a resource, so no principal can claim it, and without it (`IfExists`) the
    /// Deny applies as before.
    fn upload_deny_condition(&self, mut condition: Value) -> Value {
        let exempt = &self.cfg.bucket.exempt_source_arns;
        if let (false, Some(c)) = (exempt.is_empty(), condition.as_object_mut()) {
            c.insert(
                "ArnNotLikeIfExists".to_string(),
                json!({ "aws:SourceArn": one_or_many(exempt) }),
            );
        }
        condition
    }

    fn objects_arn(&self) -> String {
        format!("arn:aws:s3:::{}/*", self.cfg.bucket.name)
    }

    fn s3_via_service(&self) -> String {
        format!("s3.{}.amazonaws.com", self.cfg.bucket.region)
    }

    /// The prefix up to and including the account segment, with `account` filled in.
    /// Validation guarantees `{account}` is a whole segment with no variable before it.
    pub fn account_prefix(&self, account: &str) -> String {
        let scheme = &self.cfg.bucket.key_prefix;
        let upto = match scheme.find("{account}") {
            Some(i) => &scheme[..i + "{account}".len()],
            None => scheme.as_str(),
        };
        upto.replace("{account}", account)
    }

    /// The s3KeyPrefix of `account` in `region`.
    pub fn key_prefix(&self, account: &str, region: &str) -> String {
        self.cfg
            .bucket
            .key_prefix
            .replace("{account}", account)
            .replace("{region}", region)
    }

    /// The session key of `region`: the replica there (same key id, region swapped) of a
    /// multi-Region session key, else the session key itself. `region` may be
    /// `${AWS::Region}` for CloudFormation.
    pub fn session_key_in(&self, region: &str) -> String {
        if !self.session_key_multi_region {
            return self.session_key_arn.clone();
        }
        let mut parts: Vec<&str> = self.session_key_arn.splitn(6, ':').collect();
        if let Some(r) = parts.get_mut(3) {
            *r = region;
        }
        parts.join(":")
    }

    /// The session key in every region, for identity policies: the ARN with the region `*`
    /// for a multi-Region key (only its replicas share its key id), else its ARN.
    fn session_key_everywhere(&self) -> String {
        self.session_key_in("*")
    }

    /// A Deny of `actions` on `resource` to every principal but `admins`.
    fn deny_unless_admin(sid: &str, actions: &[&str], resource: Value, admins: &[String]) -> Value {
        json!({
            "Sid": sid,
            "Effect": "Deny",
            "Principal": "*",
            "Action": actions,
            "Resource": resource,
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": one_or_many(admins)}}
        })
    }

    /// Instance-role ARN patterns in any member account, for `aws:PrincipalArn`.
    fn instance_role_patterns(&self) -> Vec<String> {
        self.cfg
            .instance_roles
            .iter()
            .map(|r| format!("arn:aws:iam::*:role{}{}", r.path, r.name))
            .collect()
    }

    /// The key policy of the key playing `role`; `multi_region` for a multi-Region key (its
    /// administrators also replicate it and move its primary).
    pub fn key_policy(&self, role: KeyRole, multi_region: bool) -> Value {
        let la = &self.cfg.log_archive_account;
        let key_cfg = match role {
            KeyRole::Session => self
                .cfg
                .keys
                .session
                .as_ref()
                .unwrap_or(&self.cfg.keys.bucket),
            KeyRole::Bucket | KeyRole::Both => &self.cfg.keys.bucket,
        };
        let seed = self.profile == Profile::Seed;
        let mut statements = vec![json!({
            "Sid": if seed { "Enable IAM User Permissions" } else { "EnableIamPoliciesOfLogArchiveAccount" },
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{la}:root")},
            "Action": "kms:*",
            "Resource": "*"
        })];
        if !key_cfg.administrators.is_empty() {
            let mut actions = KEY_ADMIN_ACTIONS.to_vec();
            if multi_region && !seed {
                actions.extend_from_slice(MULTI_REGION_ADMIN_ACTIONS);
            }
            statements.push(json!({
                "Sid": if seed { "Allow access for Key Administrators" } else { "AllowKeyAdministration" },
                "Effect": "Allow",
                "Principal": {"AWS": one_or_many(&key_cfg.administrators)},
                "Action": actions,
                "Resource": "*"
            }));
        }
        let org = &self.cfg.organization_id;
        if seed {
            // The source article's statement, exactly (it has no Sid).
            statements.push(json!({
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": org}}
            }));
            return json!({"Version": VERSION, "Statement": statements});
        }
        if matches!(role, KeyRole::Bucket | KeyRole::Both) {
            statements.push(json!({
                "Sid": "AllowOrganizationUploadsThroughS3",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "aws:PrincipalOrgID": org,
                        "kms:ViaService": self.s3_via_service()
                    },
                    "StringLike": {
                        "kms:EncryptionContext:aws:s3:arn": [self.bucket_arn(), self.objects_arn()]
                    }
                }
            }));
        }
        if matches!(role, KeyRole::Session | KeyRole::Both) {
            statements.push(json!({
                "Sid": "AllowInstanceRolesToDecryptSessionData",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:PrincipalOrgID": org},
                    "ArnLike": {"aws:PrincipalArn": self.instance_role_patterns()},
                    "StringLike": {"kms:EncryptionContext:aws:ssm:SessionId": "*"}
                }
            }));
            statements.push(json!({
                "Sid": "AllowSessionStartersToEncryptSessionData",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "kms:GenerateDataKey",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:PrincipalOrgID": org},
                    "ArnLike": {"aws:PrincipalArn": self.cfg.session.starters},
                    "StringLike": {"kms:EncryptionContext:aws:ssm:SessionId": "*"}
                }
            }));
        }
        // Last, so the statements above keep their places. The account root's `kms:*`
        // delegates the key to IAM: without this, any IAM administrator of the log-archive
        // account could rewrite the policy or destroy the key. With no administrator there is
        // nobody to exempt: the Deny would lock the key for good, so it is left out (and
        // `check_profile` refuses such a config).
        if !key_cfg.administrators.is_empty() {
            statements.push(Self::deny_unless_admin(
                "DenyKeyAdministrationToNonAdministrators",
                KEY_ADMIN_DENIED,
                json!("*"),
                &key_cfg.administrators,
            ));
        }
        json!({"Version": VERSION, "Statement": statements})
    }

    /// The bucket policy.
    pub fn bucket_policy(&self) -> Value {
        let org = &self.cfg.organization_id;
        if self.profile == Profile::Seed {
            return json!({
                "Version": VERSION,
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": "s3:GetEncryptionConfiguration",
                        "Resource": self.bucket_arn(),
                        "Condition": {"StringEquals": {"aws:PrincipalOrgID": org}}
                    },
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": ["s3:PutObject", "s3:PutObjectAcl"],
                        "Resource": self.objects_arn(),
                        "Condition": {"StringEquals": {"aws:PrincipalOrgID": org}}
                    }
                ]
            });
        }
        let own_prefix = format!(
            "arn:aws:s3:::{}/{}/*",
            self.cfg.bucket.name,
            self.account_prefix("${aws:PrincipalAccount}")
        );
        let mut policy = json!({
            "Version": VERSION,
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [self.bucket_arn(), self.objects_arn()],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}}
                },
                {
                    "Sid": "DenyUploadsWithoutSseKms",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:PutObject",
                    "Resource": self.objects_arn(),
                    "Condition": self.upload_deny_condition(json!({"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}))
                },
                {
                    "Sid": "DenyUploadsWithAnotherKmsKey",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:PutObject",
                    "Resource": self.objects_arn(),
                    "Condition": self.upload_deny_condition(json!({
                        "StringNotEquals": {
                            "s3:x-amz-server-side-encryption-aws-kms-key-id": self.bucket_key_arn
                        }
                    }))
                },
                {
                    "Sid": "AllowOrganizationToReadEncryptionConfig",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "s3:GetEncryptionConfiguration",
                    "Resource": self.bucket_arn(),
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": org}}
                },
                {
                    "Sid": "AllowEachAccountToWriteUnderItsOwnPrefix",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": ["s3:PutObject", "s3:PutObjectAcl"],
                    "Resource": own_prefix,
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": org}}
                }
            ]
        });
        // Last, so the statements above keep their places. In the log-archive account
        // an IAM policy alone grants S3 access, so only a Deny here keeps its other
        // principals from changing the bucket or deleting logs. No administrator, no Deny:
        // it would lock the bucket (`check_profile` refuses such a config).
        let admins = &self.cfg.bucket.administrators;
        if !admins.is_empty() {
            if let Some(list) = policy["Statement"].as_array_mut() {
                list.push(Self::deny_unless_admin(
                    "DenyBucketAdministrationToNonAdministrators",
                    BUCKET_ADMIN_DENIED,
                    json!(self.bucket_arn()),
                    admins,
                ));
                list.push(Self::deny_unless_admin(
                    "DenyLogDeletionToNonAdministrators",
                    LOG_DELETION_DENIED,
                    json!(self.objects_arn()),
                    admins,
                ));
            }
        }
        // The readers (`[readers]`) list and read every account's logs, and nobody else
        // reads them: in the log-archive account an IAM policy alone would grant reads.
        let readers = &self.cfg.readers;
        if !readers.is_empty() {
            if let Some(list) = policy["Statement"].as_array_mut() {
                list.push(json!({
                    "Sid": "AllowReadersToListAndReadLogs",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": READER_ACTIONS,
                    "Resource": [self.bucket_arn(), self.objects_arn()],
                    "Condition": {
                        "StringEquals": {"aws:PrincipalOrgID": org},
                        "ArnLike": {"aws:PrincipalArn": one_or_many(readers)}
                    }
                }));
                list.push(json!({
                    "Sid": "DenyLogReadsToNonReaders",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": LOG_READS,
                    "Resource": self.objects_arn(),
                    "Condition": {"ArnNotLike": {"aws:PrincipalArn": one_or_many(readers)}}
                }));
            }
        }
        policy
    }

    /// The inline policy of an instance role in `account`.
    pub fn role_policy(&self, account: &str) -> Value {
        let two = self.cfg.keys.mode == KeyMode::TwoKeys;
        if self.profile == Profile::Seed {
            let keys = if two {
                json!([self.session_key_arn, self.bucket_key_arn])
            } else {
                json!([self.bucket_key_arn])
            };
            return json!({
                "Version": VERSION,
                "Statement": [
                    {
                        "Sid": "PutObjectsBucket",
                        "Action": ["s3:PutObject", "s3:PutObjectAcl"],
                        "Effect": "Allow",
                        "Resource": self.objects_arn()
                    },
                    {
                        "Sid": "ListBucketAndEncryptionConfig",
                        "Action": ["s3:GetEncryptionConfiguration"],
                        "Effect": "Allow",
                        "Resource": self.bucket_arn()
                    },
                    {
                        "Sid": "S3KMSSessionManagerKMS",
                        "Effect": "Allow",
                        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                        "Resource": keys
                    }
                ]
            });
        }
        let mut statements = vec![
            json!({
                "Sid": "PutSessionLogsUnderOwnPrefix",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:PutObjectAcl"],
                "Resource": format!("arn:aws:s3:::{}/{}/*", self.cfg.bucket.name, self.account_prefix(account))
            }),
            json!({
                "Sid": "ReadBucketEncryptionConfig",
                "Effect": "Allow",
                "Action": "s3:GetEncryptionConfiguration",
                "Resource": self.bucket_arn()
            }),
            json!({
                "Sid": "UseBucketKeyThroughS3",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": self.bucket_key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": self.s3_via_service()}}
            }),
            json!({
                "Sid": "DecryptSessionData",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": self.session_key_everywhere(),
                "Condition": {"StringLike": {"kms:EncryptionContext:aws:ssm:SessionId": "*"}}
            }),
        ];
        if let Some(cw) = &self.cfg.session.cloudwatch {
            statements.push(json!({
                "Sid": "WriteSessionLogsToCloudWatch",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": format!("arn:aws:logs:*:{account}:log-group:{}:*", cw.log_group_name)
            }));
            statements.push(json!({
                "Sid": "CheckLogGroupEncryption",
                "Effect": "Allow",
                "Action": "logs:DescribeLogGroups",
                // The service reference lists no resource type for it: only `*` applies.
                "Resource": "*"
            }));
        }
        json!({"Version": VERSION, "Statement": statements})
    }

    /// The trust policy of a role ssmlog creates: EC2 instances only.
    pub fn trust_policy(&self) -> Value {
        json!({
            "Version": VERSION,
            "Statement": [{
                "Sid": "AllowEc2InstancesToAssume",
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole"
            }]
        })
    }

    /// The `SSM-SessionManagerRunShell` content for `account` in `region`.
    pub fn preferences(&self, account: &str, region: &str) -> Value {
        let s = &self.cfg.session;
        if self.profile == Profile::Seed {
            return json!({
                "schemaVersion": "1.0",
                "description": "Document to hold regional settings for Session Manager",
                "sessionType": "Standard_Stream",
                "inputs": {
                    "s3BucketName": self.cfg.bucket.name,
                    "s3KeyPrefix": "",
                    "s3EncryptionEnabled": true,
                    "cloudWatchLogGroupName": "",
                    "cloudWatchEncryptionEnabled": false,
                    "cloudWatchStreamingEnabled": false,
                    "kmsKeyId": self.session_key_arn,
                    "runAsDefaultUser": "",
                    "idleSessionTimeout": "20",
                    "maxSessionDuration": "",
                    "shellProfile": {"windows": "", "linux": ""}
                }
            });
        }
        let (group, cw_enc, cw_stream) = match &s.cloudwatch {
            Some(c) => (
                c.log_group_name.as_str(),
                c.encryption_enabled,
                c.streaming_enabled,
            ),
            None => ("", false, false),
        };
        json!({
            "schemaVersion": "1.0",
            "description": "Session Manager preferences: encrypted session logs to the central bucket (rendered by ssmlog)",
            "sessionType": "Standard_Stream",
            "inputs": {
                "s3BucketName": self.cfg.bucket.name,
                "s3KeyPrefix": self.key_prefix(account, region),
                "s3EncryptionEnabled": true,
                "cloudWatchLogGroupName": group,
                "cloudWatchEncryptionEnabled": cw_enc,
                "cloudWatchStreamingEnabled": cw_stream,
                "kmsKeyId": self.session_key_in(region),
                "runAsEnabled": s.run_as_enabled,
                "runAsDefaultUser": s.run_as_default_user,
                "idleSessionTimeout": s.idle_session_timeout.to_string(),
                "maxSessionDuration": s.max_session_duration.map(|m| m.to_string()).unwrap_or_default(),
                "shellProfile": {"windows": s.shell_profile_windows, "linux": s.shell_profile_linux}
            }
        })
    }
}

/// IAM accepts a string for one principal and an array for several; keep one as a string.
fn one_or_many(items: &[String]) -> Value {
    match items {
        [one] => json!(one),
        many => json!(many),
    }
}
