//! Probes: requests that must be denied. Member accounts and outsiders control their own IAM,
//! so a probe's caller gets an identity policy that allows everything; only the bucket
//! policy, the key policies, SCPs and RCPs stand between it and the logs.

use ssmlog_iam::{Decision, Policy, PolicyKind, RequestPrincipal};
use ssmlog_state::layout;

use crate::agent::{session_context, Preferences, SESSION_ID, TARGET_ID};
use crate::prepare::Prepared;
use crate::prover::{context, Prover, Spec};
use crate::report::ProofKind;

/// An organization that is not the State's, and an account in it.
const OUTSIDER_ACCOUNT: &str = "999999999999";
const OUTSIDER_ORG: &str = "o-outsider000";

/// The attacker's identity policy: everything, everywhere.
pub(crate) fn attacker_identity() -> Vec<Policy> {
    let text =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    Policy::parse(
        "(probe) caller's own identity policy: Allow *",
        text,
        PolicyKind::Identity,
    )
    .into_iter()
    .collect()
}

/// What a probe targets: an object of a member account's prefix.
struct Victim<'a> {
    account: &'a str,
    object_arn: String,
}

pub(crate) fn prove_probes(prep: &Prepared<'_>, prover: &mut Prover, attacker: &[Policy]) {
    let st = prep.state;
    let la = st.log_archive.account_id.as_str();
    let org = st.organization.id.as_str();
    let bp = prep.bucket_policy.as_ref();
    let rcps = &prep.rcps;
    let victims: Vec<Victim<'_>> = st
        .accounts
        .iter()
        .map(|acct| {
            let prefix = acct
                .regions
                .iter()
                .find_map(|r| r.preferences.as_ref().map(Preferences::read))
                .map_or_else(|| acct.id.clone(), |p| p.object_key());
            let key = if prefix.ends_with(".log") {
                prefix
            } else {
                format!("{prefix}/{SESSION_ID}.log")
            };
            Victim {
                account: &acct.id,
                object_arn: format!("{}/{key}", prep.bucket_arn),
            }
        })
        .collect();
    let key1 = prep.bucket_key();
    let via = format!("s3.{}.amazonaws.com", st.bucket.region);
    let sse_key = st
        .bucket
        .default_encryption
        .kms_key_id
        .clone()
        .unwrap_or_default();
    // Each probe: (id, account it concerns, caller, action, resource, resource policy, its
    // file, context, purpose, fix). Collected first, proven after.
    struct Probe<'p> {
        id: &'static str,
        account: Option<String>,
        principal: RequestPrincipal,
        caller_account: String,
        action: &'static str,
        resource: String,
        policy: Option<&'p Policy>,
        file: String,
        context: ssmlog_iam::Context,
        purpose: String,
        fix: String,
    }
    let mut probes: Vec<Probe<'_>> = Vec::new();
    let session = |acct: &str, role: &str| {
        RequestPrincipal::role_session(&format!("arn:aws:iam::{acct}:role/{role}"), TARGET_ID).ok()
    };

    // Outsiders and anonymous callers.
    if let Some(outsider) = session(OUTSIDER_ACCOUNT, "Outsider") {
        let first = victims.first();
        let mut targets = vec![(
            "outsider-write",
            "s3:PutObject",
            format!("{}/{OUTSIDER_ACCOUNT}/{SESSION_ID}.log", prep.bucket_arn),
            "a principal outside the organization writes into the bucket",
        )];
        if let Some(v) = first {
            targets.push((
                "outsider-read",
                "s3:GetObject",
                v.object_arn.clone(),
                "a principal outside the organization reads a log",
            ));
        }
        for (id, action, resource, purpose) in targets {
            probes.push(Probe {
                id,
                account: None,
                principal: outsider.clone(),
                caller_account: OUTSIDER_ACCOUNT.into(),
                action,
                resource,
                policy: bp,
                file: layout::BUCKET_POLICY.into(),
                context: {
                    let mut pairs = vec![("aws:PrincipalOrgID", OUTSIDER_ORG)];
                    pairs.extend(upload_context(&sse_key, &[]));
                    context(&pairs)
                },
                purpose: purpose.into(),
                fix: format!("grant only with a Condition `aws:PrincipalOrgID` = `{org}`"),
            });
        }
        for k in prep.keys.iter() {
            probes.push(Probe {
                id: "outsider-key-use",
                account: None,
                principal: outsider.clone(),
                caller_account: OUTSIDER_ACCOUNT.into(),
                action: "kms:Decrypt",
                resource: k.key.arn.clone(),
                policy: k.policy.as_ref(),
                file: k.file.clone(),
                context: session_context(
                    &[
                        ("aws:PrincipalOrgID", OUTSIDER_ORG),
                        ("kms:ViaService", via.as_str()),
                    ],
                    OUTSIDER_ACCOUNT,
                ),
                purpose: format!(
                    "a principal outside the organization decrypts with `{}`",
                    k.key.name
                ),
                fix: format!("grant key use only with a Condition `aws:PrincipalOrgID` = `{org}`"),
            });
        }
    }
    if let (Ok(anon), Some(v)) = (RequestPrincipal::parse("anonymous"), victims.first()) {
        for (action, resource) in [
            ("s3:GetObject", v.object_arn.clone()),
            ("s3:PutObject", v.object_arn.clone()),
            ("s3:ListBucket", prep.bucket_arn.clone()),
        ] {
            probes.push(Probe {
                id: "anonymous",
                account: None,
                principal: anon.clone(),
                caller_account: String::new(),
                action,
                resource,
                policy: bp,
                file: layout::BUCKET_POLICY.into(),
                context: context(&[("aws:SecureTransport", "true")]),
                purpose: "an anonymous caller reaches the bucket".into(),
                fix: "never allow `Principal: *` without a Condition that anonymous callers cannot meet".into(),
            });
        }
    }

    // Members against each other, and against the log-archive controls. The log-archive
    // account, when it is also a member (`accounts.source = "organization"` discovers it),
    // owns the bucket and the keys: its principals are what the administrator probes
    // (`non-administrator`) are about, not a foreign member's, so it is neither a victim
    // nor an attacker here.
    for (i, v) in victims.iter().enumerate() {
        if v.account == la {
            continue;
        }
        // The account's own instance role, by its real ARN (paths matter to `aws:PrincipalArn`).
        let own = match prep.roles.get(i).and_then(|r| r.first()) {
            Some(role) => role.session.clone().ok(),
            None => session(v.account, "SSMInstanceRole"),
        };
        let Some(own) = own else { continue };
        let own_ctx = |extra: &[(&str, &str)]| {
            let mut pairs = vec![("aws:PrincipalOrgID", org)];
            pairs.extend(upload_context(&sse_key, extra));
            context(&pairs)
        };
        if let Some(other) = victims
            .iter()
            .find(|o| o.account != v.account && o.account != la)
        {
            if let Some(attacker_session) = session(other.account, "SSMInstanceRole") {
                for (id, action, purpose) in [
                    (
                        "other-member-read",
                        "s3:GetObject",
                        "another member account reads this account's session log",
                    ),
                    (
                        "other-member-overwrite",
                        "s3:PutObject",
                        "another member account overwrites or forges this account's session log",
                    ),
                    (
                        "other-member-delete",
                        "s3:DeleteObject",
                        "another member account deletes this account's session log",
                    ),
                ] {
                    probes.push(Probe {
                        id,
                        account: Some(v.account.to_string()),
                        principal: attacker_session.clone(),
                        caller_account: other.account.to_string(),
                        action,
                        resource: v.object_arn.clone(),
                        policy: bp,
                        file: layout::BUCKET_POLICY.into(),
                        context: own_ctx(&[]),
                        purpose: purpose.into(),
                        fix: "grant each account writes under its own prefix only (`arn:aws:s3:::BUCKET/${aws:PrincipalAccount}/*`) and no reads or deletes".into(),
                    });
                }
            }
        }
        for (id, action, purpose, extra) in [
            (
                "instance-role-read",
                "s3:GetObject",
                "the instance role reads a session log (its own account's)",
                vec![],
            ),
            (
                "instance-role-delete",
                "s3:DeleteObject",
                "the instance role deletes a session log",
                vec![],
            ),
            (
                "insecure-transport",
                "s3:PutObject",
                "an upload over plain HTTP",
                vec![("aws:SecureTransport", "false")],
            ),
            (
                "upload-without-sse-kms",
                "s3:PutObject",
                "an upload that does not ask for SSE-KMS",
                vec![("s3:x-amz-server-side-encryption", "AES256")],
            ),
            (
                "upload-with-another-key",
                "s3:PutObject",
                "an upload encrypted with a key other than Key 1",
                vec![(
                    "s3:x-amz-server-side-encryption-aws-kms-key-id",
                    "arn:aws:kms:eu-west-1:999999999999:key/attacker-key",
                )],
            ),
        ] {
            let fix = match id {
                "insecure-transport" => "deny every s3:* request with `aws:SecureTransport` false in the bucket policy",
                "upload-without-sse-kms" => "deny s3:PutObject unless `s3:x-amz-server-side-encryption` is `aws:kms`",
                "upload-with-another-key" => "deny s3:PutObject unless `s3:x-amz-server-side-encryption-aws-kms-key-id` is Key 1",
                _ => "grant members only s3:PutObject and s3:PutObjectAcl under their own prefix",
            };
            probes.push(Probe {
                id,
                account: Some(v.account.to_string()),
                principal: own.clone(),
                caller_account: v.account.to_string(),
                action,
                resource: v.object_arn.clone(),
                policy: bp,
                file: layout::BUCKET_POLICY.into(),
                context: own_ctx(&extra),
                purpose: purpose.into(),
                fix: fix.into(),
            });
        }
        for (action, what) in [
            ("s3:PutBucketPolicy", "changes the bucket policy"),
            ("s3:DeleteBucketPolicy", "deletes the bucket policy"),
            ("s3:PutLifecycleConfiguration", "changes log retention"),
        ] {
            probes.push(Probe {
                id: "member-admin",
                account: Some(v.account.to_string()),
                principal: own.clone(),
                caller_account: v.account.to_string(),
                action,
                resource: prep.bucket_arn.clone(),
                policy: bp,
                file: layout::BUCKET_POLICY.into(),
                context: own_ctx(&[]),
                purpose: format!("a member account {what}"),
                fix: "grant member accounts nothing but their uploads".into(),
            });
        }
        if let Some(k1) = key1 {
            for action in ["kms:Decrypt", "kms:GenerateDataKey"] {
                probes.push(Probe {
                    id: "bucket-key-outside-s3",
                    account: Some(v.account.to_string()),
                    principal: own.clone(),
                    caller_account: v.account.to_string(),
                    action,
                    resource: k1.key.arn.clone(),
                    policy: k1.policy.as_ref(),
                    file: k1.file.clone(),
                    context: {
                        let mut c = context(&[
                            ("aws:PrincipalOrgID", org),
                            ("kms:CallerAccount", v.account),
                            ("kms:EncryptionContext:aws:s3:arn", v.object_arn.as_str()),
                        ]);
                        c.insert("kms:EncryptionContextKeys", vec!["aws:s3:arn".into()]);
                        c
                    },
                    purpose: "a member account uses Key 1 directly, not through S3 (it could decrypt any log it obtains)".into(),
                    fix: format!("allow members Key 1 only with `kms:ViaService` = `{via}`"),
                });
            }
        }
        for k in prep.keys.iter() {
            probes.push(Probe {
                id: "member-admin",
                account: Some(v.account.to_string()),
                principal: own.clone(),
                caller_account: v.account.to_string(),
                action: "kms:PutKeyPolicy",
                resource: k.key.arn.clone(),
                policy: k.policy.as_ref(),
                file: k.file.clone(),
                context: context(&[("aws:PrincipalOrgID", org)]),
                purpose: format!(
                    "a member account changes the key policy of `{}`",
                    k.key.name
                ),
                fix: "grant member accounts only the key uses the agent needs".into(),
            });
        }
    }

    // Principals of the log-archive account that are not its administrators.
    if let Some(dev) = session(la, "ssmlog-probe-NotAnAdministrator") {
        let ctx = || context(&[("aws:PrincipalOrgID", org), ("aws:SecureTransport", "true")]);
        let admins = if prep.administrators.is_empty() {
            "the log-archive administrators".to_string()
        } else {
            prep.administrators.join(", ")
        };
        let mut targets: Vec<(&'static str, String, Option<&Policy>, String, String)> = vec![
            (
                "s3:PutBucketPolicy",
                prep.bucket_arn.clone(),
                bp,
                layout::BUCKET_POLICY.into(),
                "changes the bucket policy".into(),
            ),
            (
                "s3:DeleteBucketPolicy",
                prep.bucket_arn.clone(),
                bp,
                layout::BUCKET_POLICY.into(),
                "deletes the bucket policy".into(),
            ),
            (
                "s3:PutLifecycleConfiguration",
                prep.bucket_arn.clone(),
                bp,
                layout::BUCKET_POLICY.into(),
                "changes log retention".into(),
            ),
        ];
        if let Some(v) = victims.first() {
            targets.push((
                "s3:DeleteObject",
                v.object_arn.clone(),
                bp,
                layout::BUCKET_POLICY.into(),
                "deletes a session log".into(),
            ));
        }
        for k in prep.keys.iter() {
            for action in [
                "kms:PutKeyPolicy",
                "kms:ScheduleKeyDeletion",
                "kms:DisableKey",
            ] {
                targets.push((
                    action,
                    k.key.arn.clone(),
                    k.policy.as_ref(),
                    k.file.clone(),
                    format!("{} `{}`", action.trim_start_matches("kms:"), k.key.name),
                ));
            }
        }
        for (action, resource, policy, file, what) in targets {
            probes.push(Probe {
                id: "non-administrator",
                account: None,
                principal: dev.clone(),
                caller_account: la.to_string(),
                action,
                resource,
                policy,
                file,
                context: ctx(),
                purpose: format!("a principal of the log-archive account that is not an administrator ({admins}) {what}"),
                fix: format!("deny `{action}` unless `aws:PrincipalArn` is one of {admins} (a Deny keeps working whatever IAM policies the account adds)"),
            });
        }
    }

    let mut scps_by_account: std::collections::HashMap<&str, Vec<ssmlog_iam::OrgLevel>> =
        std::collections::HashMap::new();
    for p in &probes {
        let scps = scps_by_account
            .entry(p.caller_account.as_str())
            .or_insert_with(|| prep.scps_for(&p.caller_account));
        let purpose = || p.purpose.clone();
        let fix = |_: &Decision| p.fix.clone();
        prover.prove(Spec {
            id: p.id,
            kind: ProofKind::Probe,
            account: p.account.as_deref(),
            region: None,
            principal: &p.principal,
            in_management_account: prep.is_management(&p.caller_account),
            action: p.action,
            resource: &p.resource,
            resource_account: la,
            context: p.context.clone(),
            purpose: &purpose,
            identity: attacker,
            resource_policy: p.policy,
            resource_file: Some(&p.file),
            scps: if p.caller_account == OUTSIDER_ACCOUNT {
                &[]
            } else {
                scps
            },
            rcps,
            fix: &fix,
            memo: None,
        });
    }
}

/// A well-formed upload's context, with some keys replaced.
fn upload_context<'a>(sse_key: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut pairs = vec![
        ("aws:SecureTransport", "true"),
        ("s3:x-amz-acl", "bucket-owner-full-control"),
        ("s3:x-amz-server-side-encryption", "aws:kms"),
        ("s3:x-amz-server-side-encryption-aws-kms-key-id", sse_key),
    ];
    for (k, v) in extra {
        pairs.retain(|(pk, _)| pk != k);
        pairs.push((k, v));
    }
    pairs
}
