//! Lints beyond IAM's own validation: actions no service has, and wildcards that make a
//! resource effectively `*`.

use serde_json::Value;
use ssmlog_iam::{Policy, PolicyKind};

use crate::report::{Finding, Severity};

/// S3 actions (IAM service authorization reference), lowercased without the prefix.
const S3_ACTIONS: &[&str] = &[
    "abortmultipartupload",
    "bypassgovernanceretention",
    "createaccesspoint",
    "createbucket",
    "createjob",
    "createmultiregionaccesspoint",
    "deleteaccesspoint",
    "deleteaccesspointpolicy",
    "deletebucket",
    "deletebucketownershipcontrols",
    "deletebucketpolicy",
    "deletebucketwebsite",
    "deleteobject",
    "deleteobjecttagging",
    "deleteobjectversion",
    "deleteobjectversiontagging",
    "deletestoragelensconfiguration",
    "describejob",
    "getaccelerateconfiguration",
    "getaccesspoint",
    "getaccesspointpolicy",
    "getaccountpublicaccessblock",
    "getanalyticsconfiguration",
    "getbucketacl",
    "getbucketcors",
    "getbucketlocation",
    "getbucketlogging",
    "getbucketnotification",
    "getbucketobjectlockconfiguration",
    "getbucketownershipcontrols",
    "getbucketpolicy",
    "getbucketpolicystatus",
    "getbucketpublicaccessblock",
    "getbucketrequestpayment",
    "getbuckettagging",
    "getbucketversioning",
    "getbucketwebsite",
    "getencryptionconfiguration",
    "getintelligenttieringconfiguration",
    "getinventoryconfiguration",
    "getlifecycleconfiguration",
    "getmetricsconfiguration",
    "getobject",
    "getobjectacl",
    "getobjectattributes",
    "getobjectlegalhold",
    "getobjectretention",
    "getobjecttagging",
    "getobjecttorrent",
    "getobjectversion",
    "getobjectversionacl",
    "getobjectversionattributes",
    "getobjectversionforreplication",
    "getobjectversiontagging",
    "getobjectversiontorrent",
    "getreplicationconfiguration",
    "getbucketabac",
    "listaccesspoints",
    "listallmybuckets",
    "listbucket",
    "listbucketmultipartuploads",
    "listbucketversions",
    "listjobs",
    "listmultipartuploadparts",
    "objectowneroverridetoowner",
    "putaccelerateconfiguration",
    "putaccesspointpolicy",
    "putaccountpublicaccessblock",
    "putanalyticsconfiguration",
    "putbucketacl",
    "putbucketcors",
    "putbucketlogging",
    "putbucketnotification",
    "putbucketobjectlockconfiguration",
    "putbucketownershipcontrols",
    "putbucketpolicy",
    "putbucketpublicaccessblock",
    "putbucketrequestpayment",
    "putbuckettagging",
    "putbucketversioning",
    "putbucketwebsite",
    "putencryptionconfiguration",
    "putintelligenttieringconfiguration",
    "putinventoryconfiguration",
    "putlifecycleconfiguration",
    "putmetricsconfiguration",
    "putobject",
    "putobjectacl",
    "putobjectlegalhold",
    "putobjectretention",
    "putobjecttagging",
    "putobjectversionacl",
    "putobjectversiontagging",
    "putreplicationconfiguration",
    "putbucketabac",
    "replicatedelete",
    "replicateobject",
    "replicatetags",
    "restoreobject",
    "updatejobpriority",
    "updatejobstatus",
];

/// KMS actions, lowercased without the prefix.
const KMS_ACTIONS: &[&str] = &[
    "cancelkeydeletion",
    "connectcustomkeystore",
    "createalias",
    "createcustomkeystore",
    "creategrant",
    "createkey",
    "decrypt",
    "deletealias",
    "deletecustomkeystore",
    "deleteimportedkeymaterial",
    "derivesharedsecret",
    "describecustomkeystores",
    "describekey",
    "disablekey",
    "disablekeyrotation",
    "disconnectcustomkeystore",
    "enablekey",
    "enablekeyrotation",
    "encrypt",
    "generatedatakey",
    "generatedatakeypair",
    "generatedatakeypairwithoutplaintext",
    "generatedatakeywithoutplaintext",
    "generatemac",
    "generaterandom",
    "getkeypolicy",
    "getkeyrotationstatus",
    "getparametersforimport",
    "getpublickey",
    "importkeymaterial",
    "listaliases",
    "listgrants",
    "listkeypolicies",
    "listkeyrotations",
    "listkeys",
    "listresourcetags",
    "listretirablegrants",
    "putkeypolicy",
    "reencryptfrom",
    "reencryptto",
    "replicatekey",
    "retiregrant",
    "revokegrant",
    "rotatekeyondemand",
    "schedulekeydeletion",
    "sign",
    "synchronizemultiregionkey",
    "tagresource",
    "untagresource",
    "updatealias",
    "updatecustomkeystore",
    "updatekeydescription",
    "updateprimaryregion",
    "verify",
    "verifymac",
];

/// S3 condition keys (lowercased); entries ending in `/` or `:` take a suffix.
const S3_KEYS: &[&str] = &[
    "s3:accesspointnetworkorigin",
    "s3:authtype",
    "s3:dataaccesspointaccount",
    "s3:dataaccesspointarn",
    "s3:delimiter",
    "s3:existingobjecttag/",
    "s3:if-match",
    "s3:if-none-match",
    "s3:locationconstraint",
    "s3:max-keys",
    "s3:object-lock-legal-hold",
    "s3:object-lock-mode",
    "s3:object-lock-remaining-retention-days",
    "s3:object-lock-retain-until-date",
    "s3:prefix",
    "s3:requestobjecttag/",
    "s3:requestobjecttagkeys",
    "s3:resourceaccount",
    "s3:signatureage",
    "s3:signatureversion",
    "s3:tlsversion",
    "s3:versionid",
    "s3:x-amz-acl",
    "s3:x-amz-content-sha256",
    "s3:x-amz-copy-source",
    "s3:x-amz-grant-full-control",
    "s3:x-amz-grant-read",
    "s3:x-amz-grant-read-acp",
    "s3:x-amz-grant-write",
    "s3:x-amz-grant-write-acp",
    "s3:x-amz-metadata-directive",
    "s3:x-amz-server-side-encryption",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:x-amz-server-side-encryption-customer-algorithm",
    "s3:x-amz-storage-class",
    "s3:x-amz-website-redirect-location",
    "s3:x-amz-checksum-",
    "s3:x-amz-object-ownership",
];

/// KMS condition keys (lowercased); entries ending in `:` take a suffix.
const KMS_KEYS: &[&str] = &[
    "kms:bypasspolicylockoutsafetycheck",
    "kms:callerAccount",
    "kms:customermasterkeyspec",
    "kms:customermasterkeyusage",
    "kms:datakeypairspec",
    "kms:encryptionalgorithm",
    "kms:encryptioncontext:",
    "kms:encryptioncontextkeys",
    "kms:expirationmodel",
    "kms:grantconstrainttype",
    "kms:grantisforawsresource",
    "kms:grantoperations",
    "kms:granteeprincipal",
    "kms:keyagreementalgorithm",
    "kms:keyorigin",
    "kms:keyspec",
    "kms:keyusage",
    "kms:macalgorithm",
    "kms:messagetype",
    "kms:multiregion",
    "kms:multiregionkeytype",
    "kms:primaryregion",
    "kms:reencryptonsamekey",
    "kms:recipientattestation:",
    "kms:replicaregion",
    "kms:requestalias",
    "kms:resourcealiases",
    "kms:retiringprincipal",
    "kms:rotationperiodindays",
    "kms:schedulekeydeletionpendingwindowindays",
    "kms:signingalgorithm",
    "kms:validto",
    "kms:viaservice",
    "kms:wrappingalgorithm",
    "kms:wrappingkeyspec",
];

/// Why a service condition key is unknown; keys of other services are not catalogued.
fn unknown_condition_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    let list = match lower.split(':').next() {
        Some("s3") => S3_KEYS,
        Some("kms") => KMS_KEYS,
        _ => return false,
    };
    !list.iter().any(|k| {
        let k = k.to_ascii_lowercase();
        if k.ends_with('/') || k.ends_with(':') || k.ends_with('-') {
            lower.starts_with(&k) && lower.len() > k.len()
        } else {
            lower == k
        }
    })
}

/// Lints one parsed policy of the State (its source `doc` for positions by JSON path).
pub(crate) fn policy(
    file: &str,
    text: &str,
    _policy: &Policy,
    doc: &Value,
    kind: PolicyKind,
    findings: &mut Vec<Finding>,
) {
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => return,
    };
    for (i, st) in statements.iter().enumerate() {
        let path = format!("Statement[{i}]");
        for a in strings(st.get("Action")) {
            if let Some(why) = unknown_action(a) {
                findings.push(finding(
                    "lint/unknown-action",
                    Severity::Warning,
                    format!("`{a}` {why}"),
                    "correct the action name (see the service authorization reference)".into(),
                    file,
                    text,
                    &format!("{path}.Action"),
                    a,
                ));
            }
        }
        if let Some(Value::Object(ops)) = st.get("Condition") {
            for (op, keys) in ops {
                for key in keys.as_object().into_iter().flat_map(|k| k.keys()) {
                    if unknown_condition_key(key) {
                        findings.push(finding(
                            "lint/unknown-condition-key",
                            Severity::Warning,
                            format!("`{key}` is not a condition key of its service: the condition never sees a value"),
                            "correct the key name (see the service authorization reference)".into(),
                            file,
                            text,
                            &format!("{path}.Condition.{op}.{key}"),
                            key,
                        ));
                    }
                }
            }
        }
        let allow = st.get("Effect").and_then(Value::as_str) == Some("Allow");
        // Only grants are linted: a key policy's `*` is its own key, and SCPs/RCPs are
        // guardrails whose `Allow *` (FullAWSAccess) grants nothing by itself.
        let grants = matches!(kind, PolicyKind::Identity | PolicyKind::BucketPolicy);
        if allow && grants {
            for r in strings(st.get("Resource")) {
                if effectively_everything(r) {
                    findings.push(finding(
                        "lint/resource-wildcard",
                        Severity::Warning,
                        format!("`{r}` matches every resource of its kind, not just the logging bucket and keys"),
                        "name the bucket (`arn:aws:s3:::BUCKET/PREFIX/*`) or the key ARNs".into(),
                        file,
                        text,
                        &format!("{path}.Resource"),
                        r,
                    ));
                }
            }
        }
    }
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Why `action` names nothing S3 or KMS has; other services are not catalogued.
fn unknown_action(action: &str) -> Option<&'static str> {
    let (svc, name) = action.split_once(':')?;
    let list = match svc.to_ascii_lowercase().as_str() {
        "s3" => S3_ACTIONS,
        "kms" => KMS_ACTIONS,
        _ => return None,
    };
    if name.contains(['*', '?']) {
        let p = name.to_ascii_lowercase();
        let any = list.iter().any(|a| wildcard(&p, a));
        return (!any).then_some("matches no action of the service");
    }
    (!list.contains(&name.to_ascii_lowercase().as_str()))
        .then_some("is not an action of the service")
}

fn wildcard(p: &str, s: &str) -> bool {
    match p.split_once('*') {
        None => p.len() == s.len() && p.chars().zip(s.chars()).all(|(a, b)| a == '?' || a == b),
        Some((head, tail)) => {
            s.len() >= head.len()
                && wildcard(head, &s[..head.len()])
                && (0..=s.len() - head.len()).any(|i| wildcard(tail, &s[head.len() + i..]))
        }
    }
}

/// `*`, or an ARN whose resource part is only wildcards (`arn:aws:s3:::*`).
fn effectively_everything(r: &str) -> bool {
    if r == "*" {
        return true;
    }
    let parts: Vec<&str> = r.splitn(6, ':').collect();
    match parts.as_slice() {
        [_, _, _, _, _, res] => res.chars().all(|c| c == '*' || c == '/') && res.contains('*'),
        _ => r.ends_with('*') && r.matches(':').count() < 5,
    }
}

#[allow(clippy::too_many_arguments)]
fn finding(
    rule: &str,
    severity: Severity,
    message: String,
    fix: String,
    file: &str,
    text: &str,
    path: &str,
    needle: &str,
) -> Finding {
    let quoted = format!("\"{needle}\"");
    let line = text
        .find(&quoted)
        .map(|i| text[..i].matches('\n').count() + 1);
    Finding {
        rule: rule.into(),
        severity,
        account: None,
        region: None,
        message,
        fix,
        file: Some(file.into()),
        json_path: Some(path.into()),
        line,
        statements: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_checked_against_the_catalogue() {
        assert_eq!(unknown_action("s3:PutObject"), None);
        assert_eq!(unknown_action("s3:Put*"), None);
        assert_eq!(unknown_action("kms:GenerateDataKey*"), None);
        assert_eq!(
            unknown_action("s3:PutObjects"),
            Some("is not an action of the service")
        );
        assert_eq!(
            unknown_action("kms:Decrypted*"),
            Some("matches no action of the service")
        );
        assert_eq!(unknown_action("ec2:Whatever"), None);
    }

    #[test]
    fn service_condition_keys_are_checked() {
        assert!(!unknown_condition_key(
            "s3:x-amz-server-side-encryption-aws-kms-key-id"
        ));
        assert!(!unknown_condition_key("kms:EncryptionContext:aws:s3:arn"));
        assert!(!unknown_condition_key("kms:CallerAccount"));
        assert!(!unknown_condition_key("s3:ExistingObjectTag/team"));
        assert!(unknown_condition_key("s3:x-amz-server-side-encription"));
        assert!(unknown_condition_key("kms:EncryptionContext"));
        assert!(!unknown_condition_key("ssm:SessionDocumentAccessCheck"));
    }

    #[test]
    fn whole_service_wildcards_are_flagged() {
        assert!(effectively_everything("*"));
        assert!(effectively_everything("arn:aws:s3:::*"));
        assert!(effectively_everything("arn:aws:s3:::*/*"));
        assert!(!effectively_everything("arn:aws:s3:::bucket/*"));
        assert!(effectively_everything("arn:aws:kms:*"));
        assert!(!effectively_everything(
            "arn:aws:kms:eu-west-1:111122223333:key/abc"
        ));
    }
}
