//! Logging that member administrators cannot switch off or go around (`[guardrails]`), and
//! the auditors who read it (`[readers]`).
//!
//! A member administrator controls its own IAM, so each probe's caller has an identity
//! policy allowing everything and the account's SCPs (by its path in the organization) are
//! all that stands in the way. The deploy roles and the listed principals must keep what
//! the guardrails exempt them from, or nobody could ever fix the preferences again.

use ssmlog_iam::{Decision, Policy, RequestPrincipal};
use ssmlog_state::PREFERENCES_DOCUMENT;

use crate::agent::{found, instantiate, Preferences, SESSION_ID, TARGET_ID};
use crate::prepare::Prepared;
use crate::prover::{context, Prover, Spec};
use crate::report::{ProofKind, Severity};
use crate::{CheckOptions, GuardrailOptions};

/// A Session document no one listed, standing for any a member administrator could create
/// (one with logging off).
const UNLISTED_DOCUMENT: &str = "ssmlog-probe-NoLoggingShell";
const PORT_FORWARDING: &str = "AWS-StartPortForwardingSession";
const SSH: &str = "AWS-StartSSHSession";

/// One request of this module, before it becomes a [`Spec`].
struct Req {
    id: &'static str,
    kind: ProofKind,
    principal: RequestPrincipal,
    action: &'static str,
    resource: String,
    purpose: String,
    fix: String,
}

pub(crate) fn prove_guardrails(
    prep: &Prepared<'_>,
    prover: &mut Prover,
    everything: &[Policy],
    options: &CheckOptions,
) {
    let Some(g) = &options.guardrails else {
        prover.finding(found(
            "guardrails-unproven",
            Severity::Note,
            "",
            None,
            "no guardrails given: that member administrators cannot edit the preferences document, start sessions with another document, or forward ports is not proven".into(),
            "configure `[guardrails]` (hardened profile) and check with the config".into(),
            None,
        ));
        return;
    };
    for (i, acct) in prep.state.accounts.iter().enumerate() {
        let a = acct.id.as_str();
        let (doc, aws_doc) = documents_of(prep, acct);
        let mut reqs = member_probes(prep, i, a, &doc, &aws_doc);
        reqs.extend(exempted(g, &options.session_starters, a, &doc, &aws_doc));
        prove_all(prep, prover, everything, a, &reqs);
    }
}

/// Only the deploy roles' control of the preferences document, in every member account,
/// under the State's SCPs: what `apply` proves on the organization as it will be before it
/// writes a guardrail.
pub(crate) fn prove_deploy_roles(
    prep: &Prepared<'_>,
    prover: &mut Prover,
    everything: &[Policy],
    deploy_roles: &[String],
) {
    for acct in &prep.state.accounts {
        let a = acct.id.as_str();
        let (doc, _) = documents_of(prep, acct);
        let reqs = deploy_requests(deploy_roles, a, &doc);
        prove_all(prep, prover, everything, a, &reqs);
    }
}

type DocumentArn = Box<dyn Fn(&str) -> String>;

/// The ARN of a member account's document, and of an AWS-owned one, in the account's
/// first region.
fn documents_of(prep: &Prepared<'_>, acct: &ssmlog_state::Account) -> (DocumentArn, DocumentArn) {
    let a = acct.id.clone();
    let region = acct
        .regions
        .first()
        .map_or(prep.state.bucket.region.clone(), |r| r.name.clone());
    let r2 = region.clone();
    (
        Box::new(move |name: &str| format!("arn:aws:ssm:{region}:{a}:document/{name}")),
        Box::new(move |name: &str| format!("arn:aws:ssm:{r2}::document/{name}")),
    )
}

/// Proves each request as made in member account `a`, with the SCPs of its path.
fn prove_all(
    prep: &Prepared<'_>,
    prover: &mut Prover,
    everything: &[Policy],
    a: &str,
    reqs: &[Req],
) {
    let org = prep.state.organization.id.as_str();
    let scps = prep.scps_for(a);
    for r in reqs {
        let purpose = || r.purpose.clone();
        let fix = |_: &Decision| r.fix.clone();
        prover.prove(Spec {
            id: r.id,
            kind: r.kind,
            account: Some(a),
            region: None,
            principal: &r.principal,
            in_management_account: prep.is_management(a),
            action: r.action,
            resource: &r.resource,
            resource_account: a,
            context: context(&[("aws:PrincipalOrgID", org), ("aws:SecureTransport", "true")]),
            purpose: &purpose,
            identity: everything,
            resource_policy: None,
            resource_file: None,
            scps: &scps,
            rcps: &[],
            fix: &fix,
            memo: None,
        });
    }
}

/// What a member administrator must not do: each request and the SCP statement that stops
/// it in the rendered guardrails.
fn member_probes(
    prep: &Prepared<'_>,
    index: usize,
    a: &str,
    doc: &dyn Fn(&str) -> String,
    aws_doc: &dyn Fn(&str) -> String,
) -> Vec<Req> {
    let Ok(admin) = RequestPrincipal::role_session(
        &format!("arn:aws:iam::{a}:role/ssmlog-probe-MemberAdministrator"),
        "admin",
    ) else {
        return Vec::new();
    };
    let fix = |sid: &str| {
        format!("attach the guardrail SCP (statement `{sid}`) to this account's root, OU or the account itself (`[guardrails] attach_to`)")
    };
    let probe = |id, action, resource: String, purpose: &str, sid: &str| Req {
        id,
        kind: ProofKind::Probe,
        principal: admin.clone(),
        action,
        resource,
        purpose: format!("a member administrator {purpose}"),
        fix: fix(sid),
    };
    let prefs = doc(PREFERENCES_DOCUMENT);
    let mut out = vec![
        probe(
            "member-edits-preferences",
            "ssm:UpdateDocument",
            prefs.clone(),
            "rewrites `SSM-SessionManagerRunShell` (encryption off, another bucket)",
            "DenyPreferencesChanges",
        ),
        probe(
            "member-redefaults-preferences",
            "ssm:UpdateDocumentDefaultVersion",
            prefs.clone(),
            "makes an older version of `SSM-SessionManagerRunShell` the default",
            "DenyPreferencesChanges",
        ),
        probe(
            "member-deletes-preferences",
            "ssm:DeleteDocument",
            prefs,
            "deletes `SSM-SessionManagerRunShell` (sessions then go unlogged)",
            "DenyPreferencesChanges",
        ),
        probe(
            "member-creates-session-document",
            "ssm:CreateDocument",
            doc(UNLISTED_DOCUMENT),
            "creates a Session document of its own (with logging off)",
            "DenyNewDocuments",
        ),
        probe(
            "member-starts-unlisted-document",
            "ssm:StartSession",
            doc(UNLISTED_DOCUMENT),
            "starts a session with a Session document that is not allowed",
            "DenyUnlistedSessionDocuments",
        ),
        probe(
            "member-port-forwarding",
            "ssm:StartSession",
            aws_doc(PORT_FORWARDING),
            "starts a port-forwarding session (never logged) without being listed",
            "DenyPortForwardingAndSsh",
        ),
        probe(
            "member-ssh",
            "ssm:StartSession",
            aws_doc(SSH),
            "starts an SSH session (never logged) without being listed",
            "DenyPortForwardingAndSsh",
        ),
    ];
    if let Some(role) = prep
        .state
        .accounts
        .get(index)
        .and_then(|acct| acct.roles.first())
    {
        out.push(probe(
            "member-removes-role-policy",
            "iam:DeleteRolePolicy",
            role.arn(a),
            "removes the logging policy of an instance role (uploads then fail silently)",
            "DenyInstanceRolePolicyChanges",
        ));
    }
    out
}

/// What the guardrails must leave open: the deploy roles keep the preferences document,
/// session starters start sessions with the allowed documents, listed principals forward
/// ports.
fn exempted(
    g: &GuardrailOptions,
    starters: &[String],
    a: &str,
    doc: &dyn Fn(&str) -> String,
    aws_doc: &dyn Fn(&str) -> String,
) -> Vec<Req> {
    let session =
        |pattern: &str| RequestPrincipal::role_session(&instantiate(pattern, a), "alice").ok();
    let mut out = deploy_requests(&g.deploy_roles, a, doc);
    let documents: Vec<String> = std::iter::once(PREFERENCES_DOCUMENT.to_string())
        .chain(g.session_documents.iter().cloned())
        .collect();
    for pattern in starters {
        let Some(p) = session(pattern) else { continue };
        for d in &documents {
            out.push(Req {
                id: "ssm:StartSession",
                kind: ProofKind::AgentCall,
                principal: p.clone(),
                action: "ssm:StartSession",
                resource: doc(d),
                purpose: format!("a session starter ({pattern}) starts a logged session with `{d}`"),
                fix: format!("allow `{d}` in the guardrail SCP's `DenyUnlistedSessionDocuments` (`[guardrails] session_documents`)"),
            });
        }
    }
    for pattern in &g.port_forwarding {
        let Some(p) = session(pattern) else { continue };
        for d in [PORT_FORWARDING, SSH] {
            out.push(Req {
                id: "ssm:StartSession(port-forwarding)",
                kind: ProofKind::AgentCall,
                principal: p.clone(),
                action: "ssm:StartSession",
                resource: aws_doc(d),
                purpose: format!(
                    "`{pattern}`, listed in `port_forwarding`, starts a `{d}` session"
                ),
                fix: format!(
                    "exempt `{pattern}` in the guardrail SCP's `DenyPortForwardingAndSsh`"
                ),
            });
        }
    }
    out
}

/// Each deploy role, in account `a`, changes and creates the preferences document: the
/// calls the guardrail SCP must leave to them.
fn deploy_requests(deploy_roles: &[String], a: &str, doc: &dyn Fn(&str) -> String) -> Vec<Req> {
    let session =
        |pattern: &str| RequestPrincipal::role_session(&instantiate(pattern, a), "alice").ok();
    let mut out = Vec::new();
    let prefs = doc(PREFERENCES_DOCUMENT);
    for pattern in deploy_roles {
        let Some(p) = session(pattern) else { continue };
        for (id, action) in [
            ("deploy:ssm:UpdateDocument", "ssm:UpdateDocument"),
            (
                "deploy:ssm:UpdateDocumentDefaultVersion",
                "ssm:UpdateDocumentDefaultVersion",
            ),
            ("deploy:ssm:CreateDocument", "ssm:CreateDocument"),
        ] {
            out.push(Req {
                id,
                kind: ProofKind::AdminCall,
                principal: p.clone(),
                action,
                resource: prefs.clone(),
                purpose: format!("the deploy role `{pattern}` keeps control of the preferences document (its own IAM assumed to allow it)"),
                fix: format!("exempt `{pattern}` (`aws:PrincipalArn`) in the guardrail SCP's `DenyPreferencesChanges`, or the preferences can never be fixed"),
            });
        }
    }
    out
}

/// Each reader lists the bucket, reads every account's log and decrypts it through S3;
/// and, once readers are named, nobody else in the log-archive account reads a log.
pub(crate) fn prove_readers(
    prep: &Prepared<'_>,
    prover: &mut Prover,
    everything: &[Policy],
    readers: &[String],
) {
    if readers.is_empty() {
        return;
    }
    let st = prep.state;
    let la = st.log_archive.account_id.as_str();
    let org = st.organization.id.as_str();
    let bp = prep.bucket_policy.as_ref();
    let key1 = prep.bucket_key();
    let enc = &st.bucket.default_encryption;
    let via = format!("s3.{}.amazonaws.com", st.bucket.region);
    let objects: Vec<(&str, String)> = st
        .accounts
        .iter()
        .map(|acct| {
            let key = acct
                .regions
                .iter()
                .find_map(|r| r.preferences.as_ref().map(Preferences::read))
                .map_or_else(
                    || format!("{}/{SESSION_ID}.log", acct.id),
                    |p| p.object_key(),
                );
            (acct.id.as_str(), format!("{}/{key}", prep.bucket_arn))
        })
        .collect();
    let base = || context(&[("aws:PrincipalOrgID", org), ("aws:SecureTransport", "true")]);
    for pattern in readers {
        let Ok(reader) = RequestPrincipal::role_session(&instantiate(pattern, la), "auditor")
        else {
            continue;
        };
        let caller = reader
            .principal_arn
            .split(':')
            .nth(4)
            .unwrap_or(la)
            .to_string();
        let scps = prep.scps_for(&caller);
        let prove = |prover: &mut Prover,
                     account: Option<&str>,
                     id: &'static str,
                     action: &'static str,
                     resource: &str,
                     ctx,
                     policy: Option<&Policy>,
                     file: Option<&str>,
                     what: String| {
            let purpose = || format!("reader `{pattern}` {what} (its own IAM assumed to allow it)");
            let fix = |_: &Decision| {
                format!(
                    "grant `{action}` to `{pattern}` in `{}` (`[readers]`)",
                    file.unwrap_or("the policy")
                )
            };
            prover.prove(Spec {
                id,
                kind: ProofKind::ReaderCall,
                account,
                region: None,
                principal: &reader,
                in_management_account: prep.is_management(&caller),
                action,
                resource,
                resource_account: la,
                context: ctx,
                purpose: &purpose,
                identity: everything,
                resource_policy: policy,
                resource_file: file,
                scps: &scps,
                rcps: &prep.rcps,
                fix: &fix,
                memo: None,
            });
        };
        let bucket_file = Some(ssmlog_state::layout::BUCKET_POLICY);
        prove(
            prover,
            None,
            "s3:ListBucket",
            "s3:ListBucket",
            &prep.bucket_arn,
            base(),
            bp,
            bucket_file,
            "lists the logs".into(),
        );
        for (a, object) in &objects {
            prove(
                prover,
                Some(a),
                "s3:GetObject",
                "s3:GetObject",
                object,
                base(),
                bp,
                bucket_file,
                format!("reads a log of {a}"),
            );
        }
        if let Some(k1) = key1 {
            let s3_context = if enc.bucket_key_enabled {
                prep.bucket_arn.clone()
            } else {
                objects
                    .first()
                    .map_or_else(|| prep.bucket_arn.clone(), |(_, o)| o.clone())
            };
            let mut ctx = base();
            ctx.insert("kms:ViaService", vec![via.clone()]);
            ctx.insert("kms:CallerAccount", vec![caller.clone()]);
            ctx.insert("kms:EncryptionContext:aws:s3:arn", vec![s3_context]);
            ctx.insert("kms:EncryptionContextKeys", vec!["aws:s3:arn".into()]);
            prove(
                prover,
                None,
                "kms:Decrypt",
                "kms:Decrypt",
                &k1.key.arn,
                ctx,
                k1.policy.as_ref(),
                Some(&k1.file),
                "decrypts a log through S3 with Key 1".into(),
            );
        }
    }
    // Anyone else in the log-archive account, whose own IAM allows everything.
    let (Ok(other), Some((a, object))) = (
        RequestPrincipal::role_session(
            &format!("arn:aws:iam::{la}:role/ssmlog-probe-NotAReader"),
            TARGET_ID,
        ),
        objects.first(),
    ) else {
        return;
    };
    let scps = prep.scps_for(la);
    let purpose = || {
        format!("a principal of the log-archive account that is not a reader reads a log of {a}")
    };
    let fix = |_: &Decision| {
        "deny `s3:GetObject` unless `aws:PrincipalArn` is a reader (`[readers]`, hardened profile)"
            .to_string()
    };
    prover.prove(Spec {
        id: "non-reader-read",
        kind: ProofKind::Probe,
        account: None,
        region: None,
        principal: &other,
        in_management_account: prep.is_management(la),
        action: "s3:GetObject",
        resource: object,
        resource_account: la,
        context: base(),
        purpose: &purpose,
        identity: everything,
        resource_policy: bp,
        resource_file: Some(ssmlog_state::layout::BUCKET_POLICY),
        scps: &scps,
        rcps: &prep.rcps,
        fix: &fix,
        memo: None,
    });
}
