//! Administrators keep control: each key's administrators can still change its key policy,
//! and the bucket's administrators its bucket policy. A key policy that allows nobody to
//! change it can never be repaired, so this is proven, not assumed.

use ssmlog_iam::{Decision, Policy, RequestPrincipal};
use ssmlog_state::layout;

use crate::agent::found;
use crate::prepare::Prepared;
use crate::prover::{context, Prover, Spec};
use crate::report::{ProofKind, Severity};

/// A policy its administrators must be able to change.
struct Target<'a> {
    action: &'static str,
    what: &'a str,
    resource: String,
    policy: Option<&'a Policy>,
    file: String,
    admins: &'a [String],
}

/// `identity` stands for the administrators' own IAM policies, which are not in the State
/// and are assumed to allow what they administer.
pub(crate) fn prove_control(
    prep: &Prepared<'_>,
    prover: &mut Prover,
    identity: &[Policy],
    bucket_administrators: &[String],
) {
    let la = prep.state.log_archive.account_id.as_str();
    let org = prep.state.organization.id.as_str();
    let scps = prep.scps_for(la);
    let mut targets: Vec<Target<'_>> = prep
        .keys
        .iter()
        .map(|k| Target {
            action: "kms:PutKeyPolicy",
            what: &k.key.name,
            resource: k.key.arn.clone(),
            policy: k.policy.as_ref(),
            file: k.file.clone(),
            admins: &k.key.administrators,
        })
        .collect();
    let bucket_admins = if bucket_administrators.is_empty() {
        prep.administrators.as_slice()
    } else {
        bucket_administrators
    };
    if prep.bucket_policy.is_some() {
        targets.push(Target {
            action: "s3:PutBucketPolicy",
            what: "the bucket",
            resource: prep.bucket_arn.clone(),
            policy: prep.bucket_policy.as_ref(),
            file: layout::BUCKET_POLICY.to_string(),
            admins: bucket_admins,
        });
    }
    for Target {
        action,
        what,
        resource,
        policy,
        file,
        admins,
    } in targets
    {
        if admins.is_empty() {
            prover.finding(found(
                "no-administrators",
                Severity::Warning,
                "",
                None,
                format!("{what} has no administrators in the State: nothing proves that anyone can still change its policy"),
                "name the administrators in the config (`keys.*.administrators`, `bucket.administrators`)".into(),
                None,
            ));
            continue;
        }
        for admin in admins {
            let Ok(principal) = RequestPrincipal::parse(admin) else {
                prover.finding(found(
                    "administrator-arn",
                    Severity::Error,
                    "",
                    None,
                    format!("administrator `{admin}` of {what} is not a principal ARN"),
                    "use the role or user ARN".into(),
                    None,
                ));
                continue;
            };
            let purpose = || format!("administrator `{admin}` changes the policy of {what}");
            let fix = |_: &Decision| {
                format!("allow `{action}` to `{admin}` in `{file}` (and never deny it to the administrators)")
            };
            prover.prove(Spec {
                id: action,
                kind: ProofKind::AdminCall,
                account: None,
                region: None,
                principal: &principal,
                in_management_account: prep.is_management(la),
                action,
                resource: &resource,
                resource_account: la,
                context: context(&[("aws:PrincipalOrgID", org), ("aws:SecureTransport", "true")]),
                purpose: &purpose,
                identity,
                resource_policy: policy,
                resource_file: Some(&file),
                scps: &scps,
                rcps: &prep.rcps,
                fix: &fix,
                memo: None,
            });
        }
    }
}
