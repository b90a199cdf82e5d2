//! `canary --as-role ROLE` with `[guardrails]`: from each member account and region, as
//! ROLE (meant to be a member administrator: not a deploy role, not a reader), the calls the
//! guardrails must deny, each chosen to be harmless if it is allowed:
//!
//! - `ssm:UpdateDocument` of `SSM-SessionManagerRunShell` with the content of its latest
//!   version (allowed: `DuplicateDocumentContent`, nothing changes);
//! - `ssm:UpdateDocumentDefaultVersion` to its current default version (allowed: no change);
//! - `ssm:CreateDocument` of a Session document `ssmlog-canary-…` (allowed: created, then
//!   deleted as ROLE or else as the access role);
//! - `ssm:StartSession` on an instance that does not exist with an unlisted document,
//!   `AWS-StartPortForwardingSession` and `AWS-StartSSHSession` (allowed: `InvalidTarget`
//!   or another non-authorization error; a session that somehow starts is terminated);
//! - with `[readers]`, `s3:GetObject` of the canary's own log object (made in the agent
//!   calls) by this non-reader.
//!
//! Each is `denied` (good: AccessDenied, or a message naming an explicit deny or a service
//! or resource control policy), `not-denied` (a failure: AWS answered, and not with an
//! authorization error), or `unknown` (no answer: a failure too, since it is not proven).

use serde::{Deserialize, Serialize};

use crate::canary::attempt;
use crate::connect::AccountClients;
use crate::error::AwsError;

/// What a guardrail probe showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeOutcome {
    /// AWS refused it on authorization: the guardrail holds.
    Denied,
    /// AWS got past authorization (it answered another error, or did it): a failure.
    NotDenied,
    /// No answer to judge by (network, an answer without an error code): a failure.
    Unknown,
    /// Not tried (what it needs is missing, e.g. no preferences document in the region).
    Skipped,
}

/// One call the guardrails must deny.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GuardrailProbe {
    /// `ssm:UpdateDocument`, `ssm:StartSession`, …
    pub call: String,
    /// What it was tried on (a document name, `document X on instance Y`, an object key).
    pub target: String,
    /// How it went.
    pub outcome: ProbeOutcome,
    /// AWS's error code, when it answered with one.
    pub code: Option<String>,
    /// AWS's message, or why it was skipped, or what was cleaned up.
    pub message: Option<String>,
}

impl GuardrailProbe {
    /// Whether this probe lets the row pass.
    pub fn holds(&self) -> bool {
        matches!(self.outcome, ProbeOutcome::Denied | ProbeOutcome::Skipped)
    }
}

/// Error codes AWS answers when authorization refuses a call.
const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
];

/// Classifies a call's result: allowed (`Ok`) or refused for any reason but authorization is
/// `not-denied`; an authorization error is `denied`; an error without a code is `unknown`.
pub fn classify(result: Result<(), &AwsError>) -> ProbeOutcome {
    let Err(e) = result else {
        return ProbeOutcome::NotDenied;
    };
    let message = e.message.to_ascii_lowercase();
    let by_policy = message.contains("explicit deny")
        || message.contains("service control policy")
        || message.contains("resource control policy");
    match e.code.as_deref() {
        Some(code) if DENIED_CODES.contains(&code) || by_policy => ProbeOutcome::Denied,
        Some(_) => ProbeOutcome::NotDenied,
        None if by_policy || message.contains("403") => ProbeOutcome::Denied,
        None => ProbeOutcome::Unknown,
    }
}

/// A probe from a call's result.
pub(crate) fn probe(call: &str, target: &str, result: Result<(), AwsError>) -> GuardrailProbe {
    let outcome = classify(result.as_ref().map(|_| ()));
    let (code, message) = match result {
        Ok(()) => (None, Some("AWS accepted it".to_string())),
        Err(e) => (e.code, Some(e.message)),
    };
    GuardrailProbe {
        call: call.to_string(),
        target: target.to_string(),
        outcome,
        code,
        message,
    }
}

fn skipped(call: &str, target: &str, why: &str) -> GuardrailProbe {
    GuardrailProbe {
        call: call.to_string(),
        target: target.to_string(),
        outcome: ProbeOutcome::Skipped,
        code: None,
        message: Some(why.to_string()),
    }
}

/// An instance id no account has: a session to it cannot start even where allowed.
const NO_INSTANCE: &str = "i-0ssmlogcanary0000";

/// The probes of one account and region as `c` (the role under test); `access` reads the
/// preferences document and cleans up what an allowed call made. `stamp` makes the names
/// of this run (`2024-05-01t120000z`).
pub(crate) async fn probe_region(
    c: &AccountClients,
    access: &AccountClients,
    region: &str,
    stamp: &str,
) -> Vec<GuardrailProbe> {
    let name = ssmlog_state::PREFERENCES_DOCUMENT;
    let ssm = c.ssm(region);
    let mut out = Vec::new();

    // The preferences document as it is: the latest content and the default version.
    let latest = attempt!(
        access,
        "ssm:GetDocument",
        access
            .ssm(region)
            .get_document()
            .name(name)
            .document_version("$LATEST")
            .send()
    );
    let default = attempt!(
        access,
        "ssm:DescribeDocument",
        access.ssm(region).describe_document().name(name).send()
    )
    .ok()
    .and_then(|d| d.document)
    .and_then(|d| d.default_version);
    match latest.ok().and_then(|d| d.content) {
        Some(content) => {
            let r = attempt!(
                c,
                "ssm:UpdateDocument",
                ssm.update_document()
                    .name(name)
                    .content(content)
                    .document_version("$LATEST")
                    .send()
            );
            out.push(probe("ssm:UpdateDocument", name, r.map(|_| ())));
        }
        None => out.push(skipped(
            "ssm:UpdateDocument",
            name,
            "no preferences document readable in this region",
        )),
    }
    match default {
        Some(v) => {
            let r = attempt!(
                c,
                "ssm:UpdateDocumentDefaultVersion",
                ssm.update_document_default_version()
                    .name(name)
                    .document_version(v)
                    .send()
            );
            out.push(probe(
                "ssm:UpdateDocumentDefaultVersion",
                name,
                r.map(|_| ()),
            ));
        }
        None => out.push(skipped(
            "ssm:UpdateDocumentDefaultVersion",
            name,
            "no preferences document readable in this region",
        )),
    }

    // A Session document of the member's own, deleted again if it was made.
    let own = format!("{}{stamp}", crate::canary::CANARY_PREFIX);
    let content = serde_json::json!({
        "schemaVersion": "1.0",
        "description": "ssmlog canary: a Session document the guardrails must not let members create",
        "sessionType": "Standard_Stream",
        "inputs": {"s3BucketName": "", "s3EncryptionEnabled": false}
    })
    .to_string();
    let created = attempt!(
        c,
        "ssm:CreateDocument",
        ssm.create_document()
            .name(&own)
            .content(content)
            .document_type(aws_sdk_ssm::types::DocumentType::Session)
            .document_format(aws_sdk_ssm::types::DocumentFormat::Json)
            .send()
    );
    let made = created.is_ok();
    let mut p = probe("ssm:CreateDocument", &own, created.map(|_| ()));
    if made {
        let gone = match attempt!(c, "ssm:DeleteDocument", ssm.delete_document().name(&own).send())
        {
            Ok(_) => "deleted again".to_string(),
            Err(_) => match attempt!(
                access,
                "ssm:DeleteDocument",
                access.ssm(region).delete_document().name(&own).send()
            ) {
                Ok(_) => "deleted again as the access role".to_string(),
                Err(e) => format!("LEFT in place ({e}): delete it with `aws ssm delete-document --region {region} --name {own}`"),
            },
        };
        p.message = Some(format!("AWS created it; {gone}"));
    }
    out.push(p);

    // Sessions with documents Session Manager does not log, or that nobody listed.
    for document in [
        format!("{}unlisted", crate::canary::CANARY_PREFIX),
        "AWS-StartPortForwardingSession".to_string(),
        "AWS-StartSSHSession".to_string(),
    ] {
        let started = attempt!(
            c,
            "ssm:StartSession",
            ssm.start_session()
                .target(NO_INSTANCE)
                .document_name(&document)
                .send()
        );
        if let Some(id) = started.as_ref().ok().and_then(|s| s.session_id.clone()) {
            let _ = attempt!(
                c,
                "ssm:TerminateSession",
                ssm.terminate_session().session_id(id).send()
            );
        }
        out.push(probe(
            "ssm:StartSession",
            &format!("document {document} on instance {NO_INSTANCE}"),
            started.map(|_| ()),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: Option<&str>, message: &str) -> AwsError {
        AwsError {
            context: "account 1: ssm:UpdateDocument".into(),
            code: code.map(str::to_string),
            message: message.into(),
            help: None,
        }
    }

    #[test]
    fn authorization_errors_are_denied_everything_else_is_not() {
        let denied = [
            err(Some("AccessDeniedException"), "User: arn:aws:sts::1:assumed-role/Admin/x is not authorized to perform: ssm:UpdateDocument on resource: arn:aws:ssm:eu-west-1:1:document/SSM-SessionManagerRunShell with an explicit deny in a service control policy"),
            err(Some("AccessDenied"), "Access Denied"),
            err(Some("UnauthorizedOperation"), "You are not authorized"),
            err(Some("ValidationException"), "denied with an explicit deny in a resource control policy"),
            err(None, "HTTP 403 Forbidden"),
        ];
        for e in &denied {
            assert_eq!(classify(Err(e)), ProbeOutcome::Denied, "{e:?}");
        }
        let allowed = [
            err(
                Some("DuplicateDocumentContent"),
                "The content of the association document matches another document.",
            ),
            err(
                Some("InvalidTarget"),
                "The specified target instance for the session is not valid.",
            ),
            err(
                Some("TargetNotConnected"),
                "i-0ssmlogcanary0000 is not connected.",
            ),
            err(
                Some("InvalidDocument"),
                "Document ssmlog-canary-unlisted does not exist",
            ),
            err(Some("NoSuchKey"), "The specified key does not exist."),
        ];
        for e in &allowed {
            assert_eq!(classify(Err(e)), ProbeOutcome::NotDenied, "{e:?}");
        }
        assert_eq!(classify(Ok(())), ProbeOutcome::NotDenied);
        assert_eq!(
            classify(Err(&err(None, "connection refused"))),
            ProbeOutcome::Unknown
        );
    }

    #[test]
    fn only_denied_and_skipped_probes_hold() {
        let p = |outcome| GuardrailProbe {
            call: "ssm:StartSession".into(),
            target: "x".into(),
            outcome,
            code: None,
            message: None,
        };
        assert!(p(ProbeOutcome::Denied).holds());
        assert!(p(ProbeOutcome::Skipped).holds());
        assert!(!p(ProbeOutcome::NotDenied).holds());
        assert!(!p(ProbeOutcome::Unknown).holds());
        let kept = probe(
            "ssm:UpdateDocument",
            "SSM-SessionManagerRunShell",
            Err(err(Some("DuplicateDocumentContent"), "same")),
        );
        assert_eq!(kept.code.as_deref(), Some("DuplicateDocumentContent"));
        assert_eq!(kept.outcome, ProbeOutcome::NotDenied);
    }
}
