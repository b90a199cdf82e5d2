//! The calls the SSM Agent and Session Manager make for one account, region and instance
//! role (see DESIGN.md, "Exactly what the agent does"), and the preferences they read.

use serde_json::Value;
use ssmlog_iam::{Decision, Gap, Outcome, Policy, RequestPrincipal};
use ssmlog_state::{layout, Account};

use crate::prepare::{Prepared, PreparedKey, PreparedRole};
use crate::prover::{context, Prover, Spec};
use crate::report::{Finding, ProofKind, Severity};

/// The session the proofs stand for: its id is `<principal-name>-<hex>`, the instance an id.
pub(crate) const SESSION_ID: &str = "alice-0a1b2c3d4e5f67890";
pub(crate) const TARGET_ID: &str = "i-0123456789abcdef0";

/// What a preferences document says, as the agent reads it.
pub(crate) struct Preferences {
    pub(crate) bucket: String,
    pub(crate) prefix: String,
    pub(crate) encryption: bool,
    pub(crate) kms_key_id: String,
}

impl Preferences {
    pub(crate) fn read(doc: &Value) -> Preferences {
        let inputs = &doc["inputs"];
        let text = |k: &str| match &inputs[k] {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        Preferences {
            bucket: text("s3BucketName"),
            prefix: text("s3KeyPrefix"),
            encryption: text("s3EncryptionEnabled").eq_ignore_ascii_case("true"),
            kms_key_id: text("kmsKeyId"),
        }
    }

    /// The object key the agent uploads: Go's `path.Join(prefix, id + ".log")`, `:` removed.
    pub(crate) fn object_key(&self) -> String {
        path_join(
            &self.prefix,
            &format!("{}.log", SESSION_ID.replace(':', "")),
        )
    }
}

/// Go's `path.Join`: join the non-empty parts with `/` and clean the result.
pub(crate) fn path_join(a: &str, b: &str) -> String {
    let joined = [a, b]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("/");
    let mut out: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    let rooted = joined.starts_with('/');
    format!("{}{}", if rooted { "/" } else { "" }, out.join("/"))
}

/// Proves one account in one region: the preferences, then every instance role's calls.
/// One member account, with what every region of it shares.
pub(crate) struct AccountScope<'a> {
    pub(crate) index: usize,
    pub(crate) account: &'a Account,
    pub(crate) roles: &'a [PreparedRole],
    /// SCP levels that apply to the account's principals.
    pub(crate) scps: Vec<ssmlog_iam::OrgLevel>,
}

pub(crate) fn prove_region(
    prep: &Prepared<'_>,
    prover: &mut Prover,
    scope: &AccountScope<'_>,
    region: &ssmlog_state::Region,
    starters: &[String],
    starter_identity: &[Policy],
    public: crate::network::Public,
) {
    let (acct_index, acct, roles) = (scope.index, scope.account, scope.roles);
    let a = acct.id.as_str();
    let r = region.name.as_str();
    prover.touch(a, r);
    let file = layout::preferences(a, r);
    let Some(doc) = &region.preferences else {
        prover.finding(found(
            "preferences-missing",
            Severity::Error,
            a,
            Some(r),
            format!("no `SSM-SessionManagerRunShell` document in {a} {r}: sessions there are not logged"),
            "run `ssmlog apply`, or create the document with the rendered content".into(),
            None,
        ));
        return;
    };
    let prefs = Preferences::read(doc);
    check_preferences(prep, prover, a, r, doc, &prefs, &file);
    if prefs.bucket != prep.state.bucket.name {
        return;
    }
    let object_arn = format!("{}/{}", prep.bucket_arn, prefs.object_key());
    let la = prep.state.log_archive.account_id.as_str();
    let (scps, rcps) = (&scope.scps, &prep.rcps);
    let in_mgmt = prep.is_management(a);
    let enc = &prep.state.bucket.default_encryption;
    let key1 = prep.bucket_key();
    let session_key = (!prefs.kms_key_id.is_empty())
        .then(|| prep.find_key(&prefs.kms_key_id))
        .flatten();
    if !prefs.kms_key_id.is_empty() && session_key.is_none() {
        prover.finding(found(
            "session-key-unknown",
            Severity::Error,
            a,
            Some(r),
            format!("`kmsKeyId` is `{}`, which is none of the State's keys: its key policy cannot be proven", prefs.kms_key_id),
            "point `kmsKeyId` at the session key's ARN".into(),
            Some((file.clone(), "inputs.kmsKeyId".into())),
        ));
    }
    if let Some(k) = session_key {
        key_region(prep, prover, a, r, k, &file);
    }

    let bp = prep.bucket_policy.as_ref();
    let session_key_index =
        session_key.and_then(|k2| prep.keys.iter().position(|k| std::ptr::eq(k, k2)));
    for (ri, role) in roles.iter().enumerate() {
        let principal = match &role.session {
            Ok(p) => p,
            Err(e) => {
                prover.finding(found(
                    "role-arn",
                    Severity::Error,
                    a,
                    Some(r),
                    e.clone(),
                    "fix the role name and path in state.json".into(),
                    None,
                ));
                continue;
            }
        };
        let org = prep.state.organization.id.as_str();
        let base = |extra: &[(&str, &str)]| {
            let mut pairs = vec![("aws:PrincipalOrgID", org), ("aws:SecureTransport", "true")];
            pairs.extend_from_slice(extra);
            context(&pairs)
        };
        let purpose_enc = || {
            "the agent reads the bucket's encryption before a session starts; a denial stops every session".to_string()
        };
        let purpose_put = || {
            "the agent uploads the session log at session end; a denial loses the log silently"
                .to_string()
        };
        let purpose_acl =
            || "the agent uploads with `x-amz-acl: bucket-owner-full-control`".to_string();

        if prefs.encryption && public.s3 {
            let fix = |d: &Decision| {
                fix_for_call(
                    d,
                    "s3:GetEncryptionConfiguration",
                    &prep.bucket_arn,
                    role,
                    a,
                    org,
                )
            };
            prover.prove(Spec {
                id: "s3:GetEncryptionConfiguration",
                kind: ProofKind::AgentCall,
                account: Some(a),
                region: Some(r),
                principal,
                in_management_account: in_mgmt,
                action: "s3:GetEncryptionConfiguration",
                resource: &prep.bucket_arn,
                resource_account: la,
                context: base(&[]),
                purpose: &purpose_enc,
                identity: &role.policies,
                resource_policy: bp,
                resource_file: Some(layout::BUCKET_POLICY),
                scps,
                rcps,
                fix: &fix,
                memo: Some((acct_index, ri, "s3:GetEncryptionConfiguration", true, None)),
            });
        }
        let put_ctx = upload_context(prep, &prefs);
        // Requests that go only through VPC endpoints are proven there (crate::network),
        // with the endpoint in their context.
        let uploads: &[(&'static str, &dyn Fn() -> String)] = if public.s3 {
            &[
                ("s3:PutObject", &purpose_put),
                ("s3:PutObjectAcl", &purpose_acl),
            ]
        } else {
            &[]
        };
        for &(id, purpose) in uploads {
            let fix = |d: &Decision| {
                fix_for_call(
                    d,
                    id,
                    &format!("{}/{}/*", prep.bucket_arn, prefs.prefix),
                    role,
                    a,
                    org,
                )
            };
            prover.prove(Spec {
                id,
                kind: ProofKind::AgentCall,
                account: Some(a),
                region: Some(r),
                principal,
                in_management_account: in_mgmt,
                action: id,
                resource: &object_arn,
                resource_account: la,
                context: base(&put_ctx),
                purpose,
                identity: &role.policies,
                resource_policy: bp,
                resource_file: Some(layout::BUCKET_POLICY),
                scps,
                rcps,
                fix: &fix,
                memo: None,
            });
        }

        // S3 asks KMS for a data key on Key 1 as the uploader (and Decrypt for multipart).
        if prefs.encryption && enc.sse_algorithm.starts_with("aws:kms") {
            if let Some(k1) = key1 {
                let via = format!("s3.{}.amazonaws.com", prep.state.bucket.region);
                let s3_context = if enc.bucket_key_enabled {
                    prep.bucket_arn.clone()
                } else {
                    object_arn.clone()
                };
                for (id, purpose) in [
                    ("kms:GenerateDataKey", "S3 gets a data key from Key 1 for the caller to encrypt the log"),
                    ("kms:Decrypt", "S3 decrypts the data key of Key 1 for the caller to complete a multipart upload of a large log"),
                ] {
                    let fix = |d: &Decision| fix_for_call(d, id, &k1.key.arn, role, a, org);
                    let purpose_fn = || purpose.to_string();
                    prover.prove(Spec {
                        id,
                        kind: ProofKind::AgentCall,
                        account: Some(a),
                        region: Some(r),
                        principal,
                        in_management_account: in_mgmt,
                        action: id,
                        resource: &k1.key.arn,
                        resource_account: la,
                        context: {
                            let mut c = base(&[
                                ("kms:ViaService", &via),
                                ("kms:CallerAccount", a),
                                ("kms:EncryptionContext:aws:s3:arn", &s3_context),
                            ]);
                            c.insert("kms:EncryptionContextKeys", vec!["aws:s3:arn".into()]);
                            c
                        },
                        purpose: &purpose_fn,
                        identity: &role.policies,
                        resource_policy: k1.policy.as_ref(),
                        resource_file: Some(&k1.file),
                        scps,
                        rcps,
                        fix: &fix,
                        // With bucket keys off, the encryption context is the object: per region.
                        memo: enc.bucket_key_enabled.then_some((acct_index, ri, id, true, None)),
                    });
                }
            }
        }

        // Data-channel encryption: the agent decrypts the session's data key with Key 2.
        if let Some(k2) = session_key.filter(|_| public.kms) {
            let fix = |d: &Decision| fix_for_call(d, "kms:Decrypt", &k2.key.arn, role, a, org);
            let purpose = || {
                "the agent decrypts the session's data key with Key 2; a denial stops encrypted sessions".to_string()
            };
            prover.prove(Spec {
                id: "kms:Decrypt(session)",
                kind: ProofKind::AgentCall,
                account: Some(a),
                region: Some(r),
                principal,
                in_management_account: in_mgmt,
                action: "kms:Decrypt",
                resource: &k2.key.arn,
                resource_account: la,
                context: session_context(&[("aws:PrincipalOrgID", org)], a),
                purpose: &purpose,
                identity: &role.policies,
                resource_policy: k2.policy.as_ref(),
                resource_file: Some(&k2.file),
                scps,
                rcps,
                fix: &fix,
                memo: Some((
                    acct_index,
                    ri,
                    "kms:Decrypt(session)",
                    true,
                    session_key_index,
                )),
            });
        }
    }

    // The people who start sessions ask Key 2 for the session's data key.
    if let Some(k2) = session_key {
        for (pi, pattern) in starters.iter().enumerate() {
            let arn = instantiate(pattern, a);
            let Ok(person) = RequestPrincipal::role_session(&arn, "alice") else {
                continue;
            };
            let org = prep.state.organization.id.as_str();
            let fix = |d: &Decision| {
                if d.gaps.contains(&Gap::ResourceGrant) {
                    format!("allow `kms:GenerateDataKey` to `{pattern}` (with `aws:PrincipalOrgID` {org}) in the key policy of `{}`", k2.key.name)
                } else {
                    "narrow the statement that denies it".into()
                }
            };
            let purpose = || {
                format!("a person ({pattern}) starting a session asks Key 2 for the session's data key; their own permission set must allow it too (not in the State, assumed)")
            };
            prover.prove(Spec {
                id: "kms:GenerateDataKey(session)",
                kind: ProofKind::AgentCall,
                account: Some(a),
                region: Some(r),
                principal: &person,
                in_management_account: prep.is_management(a),
                action: "kms:GenerateDataKey",
                resource: &k2.key.arn,
                resource_account: prep.state.log_archive.account_id.as_str(),
                context: session_context(&[("aws:PrincipalOrgID", org)], a),
                purpose: &purpose,
                identity: starter_identity,
                resource_policy: k2.policy.as_ref(),
                resource_file: Some(&k2.file),
                scps,
                rcps,
                fix: &fix,
                memo: Some((
                    acct_index,
                    usize::MAX - pi,
                    "kms:GenerateDataKey(session)",
                    true,
                    session_key_index,
                )),
            });
        }
    }
}

/// The upload's headers as condition keys: the ACL, and the bucket's default encryption
/// copied in when encryption is on.
pub(crate) fn upload_context<'p>(
    prep: &'p Prepared<'_>,
    prefs: &Preferences,
) -> Vec<(&'p str, &'p str)> {
    let enc = &prep.state.bucket.default_encryption;
    let mut put_ctx = vec![("s3:x-amz-acl", "bucket-owner-full-control")];
    match (
        prefs.encryption,
        enc.sse_algorithm.as_str(),
        enc.kms_key_id.as_deref(),
    ) {
        (true, alg @ ("aws:kms" | "aws:kms:dsse"), Some(k)) => {
            put_ctx.push(("s3:x-amz-server-side-encryption", alg));
            put_ctx.push(("s3:x-amz-server-side-encryption-aws-kms-key-id", k));
        }
        (true, alg, _) => put_ctx.push(("s3:x-amz-server-side-encryption", alg)),
        (false, _, _) => {}
    }
    put_ctx
}

/// How to make a failed agent call work, from the gaps the engine found. Worded only when a
/// call fails, so proofs that hold build nothing.
pub(crate) fn fix_for_call(
    d: &Decision,
    action: &str,
    resource: &str,
    role: &PreparedRole,
    account: &str,
    org: &str,
) -> String {
    let mut fixes = Vec::new();
    if d.decision == Outcome::ExplicitlyDenied {
        fixes.push(
            "narrow the Deny statement named above so the agent's request is not matched"
                .to_string(),
        );
    }
    for g in &d.gaps {
        fixes.push(match g {
            Gap::Identity => format!(
                "allow `{action}` on `{resource}` in a policy of role `{}` in account {account}{}",
                role.name,
                if role.managed.is_empty() { "" } else { " (its managed policies are not in the State and are not counted)" }
            ),
            Gap::ResourceGrant | Gap::NoResourcePolicy => format!(
                "allow `{action}` to principals of organization {org} in the {} (cross-account access needs the resource side too)",
                if action.starts_with("kms:") { "key policy" } else { "bucket policy" }
            ),
            Gap::Scp(t) => format!("allow `{action}` in an SCP attached to `{t}`"),
            Gap::Rcp(t) => format!("allow `{action}` in an RCP attached to `{t}`"),
            Gap::Boundary | Gap::SessionPolicy => format!("allow `{action}` in the role's permissions boundary"),
            Gap::VpcEndpoint => format!("allow `{action}` on `{resource}` in the VPC endpoint's policy"),
        });
    }
    fixes.dedup();
    fixes.join("; ")
}

/// The context of a data-channel KMS call: the session id and target in the encryption context.
pub(crate) fn session_context(extra: &[(&str, &str)], account: &str) -> ssmlog_iam::Context {
    let mut pairs = vec![
        ("kms:EncryptionContext:aws:ssm:SessionId", SESSION_ID),
        ("kms:EncryptionContext:aws:ssm:TargetId", TARGET_ID),
        ("kms:CallerAccount", account),
        ("aws:SecureTransport", "true"),
    ];
    pairs.extend_from_slice(extra);
    let mut c = context(&pairs);
    c.insert(
        "kms:EncryptionContextKeys",
        vec!["aws:ssm:SessionId".into(), "aws:ssm:TargetId".into()],
    );
    c
}

/// A concrete principal ARN from a pattern: the account filled in, wildcards made concrete.
pub(crate) fn instantiate(pattern: &str, account: &str) -> String {
    let mut parts: Vec<String> = pattern.splitn(6, ':').map(str::to_string).collect();
    if parts.len() == 6 && (parts[4] == "*" || parts[4].is_empty()) {
        parts[4] = account.to_string();
    }
    parts
        .join(":")
        .replace('*', "AWSReservedSSO_Operator_0123456789abcdef")
        .replace('?', "x")
}

fn key_region(
    prep: &Prepared<'_>,
    prover: &mut Prover,
    a: &str,
    r: &str,
    k: &PreparedKey<'_>,
    file: &str,
) {
    let key_region = k.key.region();
    if key_region == r {
        return;
    }
    // KMS keys are regional: even a multi-Region key is used through its ARN in the caller's
    // region, so the preferences must name the replica in this region.
    let replica = prep
        .keys
        .iter()
        .find(|other| other.key.key_id() == k.key.key_id() && other.key.region() == r);
    let fix = match replica {
        Some(rep) => format!("point `kmsKeyId` at `{}`, the replica of `{}` in {r}", rep.key.arn, k.key.name),
        None if k.key.multi_region => format!("replicate `{}` to {r} and point `kmsKeyId` at the replica", k.key.name),
        None => format!("give {r} its own session key (a multi-Region key replicated to {r}) and point `kmsKeyId` there"),
    };
    prover.finding(found(
        "session-key-region",
        Severity::Error,
        a,
        Some(r),
        format!("sessions in {r} use session key `{}` of {key_region}: KMS keys are regional, so the agent's Decrypt and the client's GenerateDataKey in {r} cannot use it", k.key.name),
        fix,
        Some((file.to_string(), "inputs.kmsKeyId".into())),
    ));
}

fn check_preferences(
    prep: &Prepared<'_>,
    prover: &mut Prover,
    a: &str,
    r: &str,
    doc: &Value,
    prefs: &Preferences,
    file: &str,
) {
    let at = |p: &str| Some((file.to_string(), p.to_string()));
    if doc["sessionType"] != "Standard_Stream" || doc["schemaVersion"] != "1.0" {
        prover.finding(found("preferences-document", Severity::Error, a, Some(r), "the preferences document must have `schemaVersion` 1.0 and `sessionType` Standard_Stream".into(), "use the rendered document".into(), at("sessionType")));
    }
    if prefs.bucket.is_empty() {
        prover.finding(found(
            "preferences-bucket",
            Severity::Error,
            a,
            Some(r),
            "`s3BucketName` is empty: sessions are not logged to S3".into(),
            format!("set it to `{}`", prep.state.bucket.name),
            at("inputs.s3BucketName"),
        ));
    } else if prefs.bucket != prep.state.bucket.name {
        prover.finding(found(
            "preferences-bucket",
            Severity::Error,
            a,
            Some(r),
            format!(
                "`s3BucketName` is `{}`, not the central bucket `{}`",
                prefs.bucket, prep.state.bucket.name
            ),
            format!("set it to `{}`", prep.state.bucket.name),
            at("inputs.s3BucketName"),
        ));
    }
    if !prefs.encryption {
        prover.finding(found(
            "preferences-encryption",
            Severity::Error,
            a,
            Some(r),
            "`s3EncryptionEnabled` is off: the agent uploads without the bucket's SSE-KMS settings"
                .into(),
            "set `s3EncryptionEnabled` to true".into(),
            at("inputs.s3EncryptionEnabled"),
        ));
    }
    if prefs.prefix.is_empty() {
        prover.finding(found("preferences-prefix", Severity::Warning, a, Some(r), "`s3KeyPrefix` is empty: logs of every account mix at the top of the bucket and no policy can tell them apart".into(), format!("use a prefix with the account id, such as `{a}/{r}`"), at("inputs.s3KeyPrefix")));
    } else if !prefs.prefix.contains(a) {
        prover.finding(found(
            "preferences-prefix",
            Severity::Warning,
            a,
            Some(r),
            format!(
                "`s3KeyPrefix` `{}` does not hold the account id",
                prefs.prefix
            ),
            format!("use a prefix with the account id, such as `{a}/{r}`"),
            at("inputs.s3KeyPrefix"),
        ));
    }
    let enc = &prep.state.bucket.default_encryption;
    if prefs.encryption {
        match enc.sse_algorithm.as_str() {
            "aws:kms" | "aws:kms:dsse" => {
                let key1 = prep.bucket_key();
                if key1.is_none() {
                    prover.finding(found("bucket-encryption-key", Severity::Error, a, Some(r), format!("the bucket encrypts with `{}`, which is none of the State's keys", enc.kms_key_id.as_deref().unwrap_or("(no key)")), "set the bucket's default encryption to Key 1's ARN".into(), None));
                }
            }
            "AES256" => prover.finding(found("bucket-encryption", Severity::Warning, a, Some(r), "the bucket's default encryption is SSE-S3 (AES256), not SSE-KMS with Key 1".into(), "set default encryption to aws:kms with Key 1".into(), None)),
            other => prover.finding(found("bucket-encryption", Severity::Error, a, Some(r), format!("the bucket's default encryption `{other}` is neither aws:kms nor AES256: the agent refuses to start sessions"), "set default encryption to aws:kms with Key 1".into(), None)),
        }
    }
    for (key, max) in [("idleSessionTimeout", 60), ("maxSessionDuration", 1440)] {
        let v = &doc["inputs"][key];
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        if text.is_empty() {
            continue;
        }
        if !text.parse::<u32>().is_ok_and(|n| (1..=max).contains(&n)) {
            prover.finding(found(
                "preferences-timeout",
                Severity::Error,
                a,
                Some(r),
                format!("`{key}` is `{text}`; Session Manager accepts 1 to {max} minutes"),
                format!("set `{key}` to a whole number of minutes from 1 to {max}"),
                at(&format!("inputs.{key}")),
            ));
        }
    }
}

pub(crate) fn found(
    rule: &str,
    severity: Severity,
    account: &str,
    region: Option<&str>,
    message: String,
    fix: String,
    at: Option<(String, String)>,
) -> Finding {
    let (file, json_path) = match at {
        Some((f, p)) => (Some(f), Some(p)),
        None => (None, None),
    };
    Finding {
        rule: rule.into(),
        severity,
        account: (!account.is_empty()).then(|| account.to_string()),
        region: region.map(str::to_string),
        message,
        fix,
        file,
        json_path,
        line: None,
        column: None,
        statements: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_keys_follow_go_path_join() {
        assert_eq!(path_join("", "x.log"), "x.log");
        assert_eq!(
            path_join("222233334444/eu-west-1", "x.log"),
            "222233334444/eu-west-1/x.log"
        );
        assert_eq!(path_join("a//b/", "x.log"), "a/b/x.log");
        assert_eq!(path_join("a/./b/../c", "x.log"), "a/c/x.log");
        assert_eq!(path_join("/", "x.log"), "/x.log");
    }

    #[test]
    fn starter_patterns_become_principals_of_the_account() {
        assert_eq!(
            instantiate("arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*", "222233334444"),
            "arn:aws:iam::222233334444:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Operator_0123456789abcdef"
        );
    }
}
