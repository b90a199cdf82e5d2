//! `[guardrails]` as documents: the SCP that keeps member administrators from switching
//! session logging off or going around it, and the RCP that keeps the bucket and keys to
//! the organization. Both profiles see the same config; only the hardened one renders them.

use serde_json::{json, Value};
use ssmlog_state::{NamedPolicy, TargetPolicies, PREFERENCES_DOCUMENT};

use crate::config::{Config, GuardrailsConfig};

/// The SCP's name (also its file name in the State and the Organizations policy name).
pub const GUARDRAIL_SCP: &str = "ssmlog-session-guardrails";
/// The RCP's name.
pub const GUARDRAIL_RCP: &str = "ssmlog-log-archive-perimeter";
/// The AWS-managed SCP attached to every root, OU and account while SCPs are enabled;
/// recorded at each guardrail target so the proof sees what AWS evaluates, never created.
pub const FULL_AWS_ACCESS: &str = "FullAWSAccess";
/// The AWS-managed RCP attached everywhere while RCPs are enabled.
pub const RCP_FULL_AWS_ACCESS: &str = "RCPFullAWSAccess";

/// What the preferences document's guardrail denies to everyone but the deploy roles:
/// rewriting it (encryption off, another bucket), making an old version the default,
/// deleting it, or creating it afresh after a delete.
pub const PREFERENCES_ACTIONS: &[&str] = &[
    "ssm:CreateDocument",
    "ssm:DeleteDocument",
    "ssm:UpdateDocument",
    "ssm:UpdateDocumentDefaultVersion",
];

/// AWS-owned Session documents whose sessions Session Manager never logs: port forwarding
/// and SSH. Their ARNs have no account (`arn:aws:ssm:REGION::document/NAME`).
pub const UNLOGGED_SESSION_DOCUMENTS: &[&str] = &[
    "AWS-StartPortForwardingSession",
    "AWS-StartPortForwardingSessionToRemoteHost",
    "AWS-StartSSHSession",
];

/// Session targets: `ssm:StartSession` is also authorized against the instance, which the
/// document guardrail must leave alone.
const SESSION_TARGETS: &[&str] = &[
    "arn:aws:ec2:*:*:instance/*",
    "arn:aws:ssm:*:*:managed-instance/*",
    "arn:aws:ecs:*:*:task/*",
];

fn one_or_many(items: &[String]) -> Value {
    match items {
        [one] => json!(one),
        _ => json!(items),
    }
}

/// The document ARN pattern of a member account's document `name`, in any account and
/// region (an AWS-owned document's ARN has an empty account, which `*` matches too; names
/// starting `AWS-` are reserved for AWS).
pub fn document_arn_pattern(name: &str) -> String {
    format!("arn:aws:ssm:*:*:document/{name}")
}

/// The guardrail SCP, statement by statement (Sids are letters and digits, as
/// Organizations requires).
pub fn scp(cfg: &Config, g: &GuardrailsConfig) -> Value {
    let deploy = one_or_many(&g.deploy_roles);
    let mut allowed: Vec<String> = std::iter::once(PREFERENCES_DOCUMENT.to_string())
        .chain(g.session_documents.iter().cloned())
        .map(|d| document_arn_pattern(&d))
        .collect();
    let protected = allowed.clone();
    let unlogged: Vec<String> = UNLOGGED_SESSION_DOCUMENTS
        .iter()
        .map(|d| format!("arn:aws:ssm:*::document/{d}"))
        .collect();
    allowed.extend(unlogged.iter().cloned());
    allowed.extend(SESSION_TARGETS.iter().map(|t| t.to_string()));
    let mut port_forwarding = json!({
        "Sid": "DenyPortForwardingAndSsh",
        "Effect": "Deny",
        "Action": "ssm:StartSession",
        "Resource": unlogged,
    });
    if !g.port_forwarding.is_empty() {
        port_forwarding["Condition"] =
            json!({"ArnNotLike": {"aws:PrincipalArn": one_or_many(&g.port_forwarding)}});
    }
    let roles: Vec<String> = cfg
        .instance_roles
        .iter()
        .map(|r| format!("arn:aws:iam::*:role{}{}", r.path, r.name))
        .collect();
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyPreferencesChanges",
                "Effect": "Deny",
                "Action": PREFERENCES_ACTIONS,
                "Resource": protected,
                "Condition": {"ArnNotLike": {"aws:PrincipalArn": deploy}}
            },
            {
                "Sid": "DenyNewDocuments",
                "Effect": "Deny",
                "Action": "ssm:CreateDocument",
                "Resource": "arn:aws:ssm:*:*:document/*",
                "Condition": {"ArnNotLike": {"aws:PrincipalArn": deploy}}
            },
            {
                "Sid": "DenyUnlistedSessionDocuments",
                "Effect": "Deny",
                "Action": "ssm:StartSession",
                "NotResource": allowed
            },
            port_forwarding,
            {
                "Sid": "DenyInstanceRolePolicyChanges",
                "Effect": "Deny",
                "Action": ["iam:DeleteRolePolicy", "iam:PutRolePolicy"],
                "Resource": roles,
                "Condition": {"ArnNotLike": {"aws:PrincipalArn": deploy}}
            }
        ]
    })
}

/// The RCP on the log-archive account: the bucket and keys answer only to principals of the
/// organization and to AWS services (S3 calling KMS on an uploader's behalf carries the
/// uploader's organization).
pub fn rcp(cfg: &Config) -> Value {
    let bucket = format!("arn:aws:s3:::{}", cfg.bucket.name);
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyOutsideTheOrganization",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["kms:*", "s3:*"],
                "Resource": [
                    bucket.clone(),
                    format!("{bucket}/*"),
                    format!("arn:aws:kms:*:{}:key/*", cfg.log_archive_account)
                ],
                "Condition": {
                    "StringNotEqualsIfExists": {"aws:PrincipalOrgID": cfg.organization_id},
                    "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}
                }
            }
        ]
    })
}

/// The AWS-managed full-access SCP (or RCP), as AWS attaches it to every node of the tree
/// once the policy type is enabled.
pub fn full_access(rcp: bool) -> NamedPolicy {
    let statement = if rcp {
        json!({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"})
    } else {
        json!({"Effect": "Allow", "Action": "*", "Resource": "*"})
    };
    NamedPolicy {
        name: if rcp {
            RCP_FULL_AWS_ACCESS
        } else {
            FULL_AWS_ACCESS
        }
        .to_string(),
        document: json!({"Version": "2012-10-17", "Statement": [statement]}),
    }
}

/// The SCP and RCP attachments of the State: the SCP at each configured target, the RCP
/// on the log-archive account, each beside the AWS-managed full-access policy AWS keeps
/// attached there. Sorted by target.
pub fn attachments(
    cfg: &Config,
    g: &GuardrailsConfig,
) -> (Vec<TargetPolicies>, Vec<TargetPolicies>) {
    let scp_doc = scp(cfg, g);
    let scps = g
        .attach_to
        .iter()
        .map(|t| TargetPolicies {
            target: t.clone(),
            policies: vec![
                full_access(false),
                NamedPolicy {
                    name: GUARDRAIL_SCP.to_string(),
                    document: scp_doc.clone(),
                },
            ],
        })
        .collect();
    let rcps = vec![TargetPolicies {
        target: cfg.log_archive_account.clone(),
        policies: vec![
            full_access(true),
            NamedPolicy {
                name: GUARDRAIL_RCP.to_string(),
                document: rcp(cfg),
            },
        ],
    }];
    (scps, rcps)
}
