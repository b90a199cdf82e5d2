//! `canary`: from each member account, the SSM Agent's own calls, as the instance role,
//! with their real parameters; what failed and AWS's error, per account and region.
//!
//! Identity, per account: the access role's session assumes `--as-role` when given;
//! otherwise the account's (first) instance role when its trust policy lets the account or
//! the access role assume it; otherwise the calls are made as the access role, and the row
//! says so (an EC2-only trust policy cannot be assumed from outside an instance).
//!
//! Calls, per region, in the agent's order (see docs/check.md):
//! 1. `s3:HeadBucket` from the session's region (a redirect names the bucket's region);
//! 2. `s3:GetBucketEncryption` (an error, or a rule other than `aws:kms`/`AES256`, fails
//!    the session, so the upload is then skipped);
//! 3. `s3:PutObject` of `<s3KeyPrefix>/ssmlog-canary-<time>.log` (`path.Join`, ':' removed)
//!    with `ContentType: text/plain`, `ACL: bucket-owner-full-control` and the SSE header and
//!    key copied from the bucket's default encryption (S3 then calls `kms:GenerateDataKey`
//!    on Key 1 as the uploader);
//! 4. when the preferences name a `kmsKeyId`: `kms:GenerateDataKey` of 64 bytes with the
//!    session context `{aws:ssm:SessionId, aws:ssm:TargetId}` (the session *client's*
//!    call: reported, but it does not fail the agent's row) and `kms:Decrypt` of its
//!    ciphertext with the same context and no `KeyId` (the agent's call; the ciphertext
//!    names its key).
//!
//! The canary object is then deleted (by version when the bucket is versioned) as the same
//! identity, else as the log-archive account's access role; when neither may, the row says
//! it is left. `verify` does not count canary objects as logs.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ssmlog_state::{Account, State};

use crate::canary_guardrails::{probe, probe_region, GuardrailProbe, ProbeOutcome};
use crate::connect::{AccountClients, Aws};
use crate::converge::{bounded, Progress};
use crate::error::AwsError;
use crate::live;
use crate::verify::{live_keys, now_secs, rfc3339};

/// File names of canary objects start with this.
pub const CANARY_PREFIX: &str = "ssmlog-canary-";

/// What `canary` does.
#[derive(Clone)]
pub struct CanaryOptions {
    /// A role to act as in every account instead of the instance role: a role name, or an
    /// ARN where `{account}` stands for each account id.
    pub as_role: Option<String>,
    /// Accounts run at once.
    pub concurrency: usize,
    /// Called as accounts finish.
    pub progress: Option<Progress>,
}

/// Who makes a call in a real session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Party {
    /// The SSM Agent, as the instance role.
    Agent,
    /// The session client (session-manager-plugin), as the person starting the session.
    Client,
    /// ssmlog itself (assuming the role to act as).
    Ssmlog,
}

/// How a call went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallOutcome {
    /// AWS accepted it.
    Ok,
    /// AWS refused it (code and message kept).
    Failed,
    /// Not made: what it needs failed first, or the preferences do not ask for it.
    Skipped,
}

/// One call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CanaryCall {
    /// `s3:PutObject`, …
    pub call: String,
    /// Whose call it is in a real session.
    pub by: Party,
    /// How it went.
    pub outcome: CallOutcome,
    /// AWS's error code.
    pub code: Option<String>,
    /// AWS's message, or why it was skipped.
    pub message: Option<String>,
}

/// What happened to the canary object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cleanup {
    /// `deleted`, `left` (no one permitted could delete it) or `none` (nothing uploaded).
    pub outcome: String,
    /// Who deleted it (a principal ARN).
    pub by: Option<String>,
    /// The errors met, when it was left.
    pub message: Option<String>,
}

/// One account and region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CanaryRow {
    /// Member account.
    pub account: String,
    /// Region (`*` when the account could not be reached at all).
    pub region: String,
    /// The principal the calls were made as.
    pub principal: String,
    /// Whether that is the instance role (or `--as-role`), not the access role.
    pub as_instance_role: bool,
    /// How the identity was chosen.
    pub note: String,
    /// The canary object's key.
    pub object: Option<String>,
    /// The calls, in order.
    pub calls: Vec<CanaryCall>,
    /// The canary object's removal.
    pub cleanup: Cleanup,
    /// No agent call failed, and every guardrail probe was denied.
    pub passed: bool,
    /// With `--as-role` and `[guardrails]`: the calls the guardrails must deny, as that
    /// role (see `canary_guardrails`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guardrail_probes: Vec<GuardrailProbe>,
}

/// The JSON form of `ssmlog canary --format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CanaryReport {
    /// The bucket.
    pub bucket: String,
    /// When it ran (RFC 3339, UTC).
    pub ran_at: String,
    /// One row per member account and region, sorted.
    pub rows: Vec<CanaryRow>,
}

impl CanaryReport {
    /// Whether every agent call held everywhere (and every guardrail probe was denied).
    pub fn passed(&self) -> bool {
        self.rows.iter().all(|r| r.passed)
    }

    /// The table `ssmlog canary` prints.
    pub fn to_table(&self) -> String {
        let mut out = format!("{:<14} {:<16} {:<6} CALLS\n", "ACCOUNT", "REGION", "RESULT");
        for r in &self.rows {
            let calls: Vec<String> = r
                .calls
                .iter()
                .map(|c| {
                    let name = c.call.split(':').nth(1).unwrap_or(&c.call);
                    let who = if c.by == Party::Client {
                        "(client)"
                    } else {
                        ""
                    };
                    let how = match c.outcome {
                        CallOutcome::Ok => "ok",
                        CallOutcome::Failed => "FAIL",
                        CallOutcome::Skipped => "skip",
                    };
                    format!("{name}{who} {how}")
                })
                .chain(std::iter::once(format!("cleanup {}", r.cleanup.outcome)))
                .chain((!r.guardrail_probes.is_empty()).then(|| {
                    let denied = r
                        .guardrail_probes
                        .iter()
                        .filter(|p| p.outcome == ProbeOutcome::Denied)
                        .count();
                    format!("guardrails {denied}/{} denied", r.guardrail_probes.len())
                }))
                .collect();
            out.push_str(&format!(
                "{:<14} {:<16} {:<6} {}\n",
                r.account,
                r.region,
                if r.passed { "ok" } else { "FAIL" },
                calls.join(", ")
            ));
        }
        let mut last = None;
        for r in &self.rows {
            if last != Some(&r.account) {
                out.push_str(&format!(
                    "\n{}: as `{}` ({})\n",
                    r.account, r.principal, r.note
                ));
                last = Some(&r.account);
            }
            for c in r.calls.iter().filter(|c| c.outcome != CallOutcome::Ok) {
                out.push_str(&format!(
                    "  {} {}: {}{}\n",
                    r.region,
                    c.call,
                    c.code
                        .as_deref()
                        .map(|s| format!("{s}: "))
                        .unwrap_or_default(),
                    c.message.as_deref().unwrap_or_default()
                ));
            }
            for p in r.guardrail_probes.iter().filter(|p| !p.holds()) {
                let how = if p.outcome == ProbeOutcome::Unknown {
                    "not proven denied"
                } else {
                    "NOT denied"
                };
                out.push_str(&format!(
                    "  {} guardrail {how}: {} ({}): {}{}\n",
                    r.region,
                    p.call,
                    p.target,
                    p.code
                        .as_deref()
                        .map(|s| format!("{s}: "))
                        .unwrap_or_default(),
                    p.message.as_deref().unwrap_or_default()
                ));
            }
            if r.cleanup.outcome == "left" {
                out.push_str(&format!(
                    "  {} canary object `{}` left in the bucket: {}\n",
                    r.region,
                    r.object.as_deref().unwrap_or_default(),
                    r.cleanup.message.as_deref().unwrap_or_default()
                ));
            }
        }
        let failed = self.rows.iter().filter(|r| !r.passed).count();
        out.push_str(&format!(
            "\n{} account/region rows, {failed} failed\n",
            self.rows.len()
        ));
        out
    }
}

/// Runs the canary in every member account of `desired`; see the module documentation.
pub async fn canary(aws: Arc<Aws>, desired: &State, options: &CanaryOptions) -> CanaryReport {
    let now = now_secs();
    let la = desired.log_archive.account_id.clone();
    // The live session key of each region, for preferences that cannot be read.
    let keys = match aws.account(&la).await {
        Ok(c) => live_keys(&c, desired).await.0,
        Err(_) => Vec::new(),
    };
    // Guardrail probes need a role of the member's own to act as: never the access role,
    // which deploys ssmlog and is exempt.
    let probe_guardrails =
        options.as_role.is_some() && !crate::guardrails::owned(desired).is_empty();
    let probe_reads = probe_guardrails
        && desired.bucket.policy.as_ref().is_some_and(|p| {
            p["Statement"]
                .as_array()
                .is_some_and(|a| a.iter().any(|s| s["Sid"] == "DenyLogReadsToNonReaders"))
        });
    let ctx = Arc::new(Ctx {
        probe_guardrails,
        probe_reads,
        log_archive: la,
        bucket: desired.bucket.name.clone(),
        bucket_region: desired.bucket.region.clone(),
        as_role: options.as_role.clone(),
        time: rfc3339(now).replace(':', ""),
        session_keys: desired
            .accounts
            .iter()
            .flat_map(|a| &a.regions)
            .filter_map(|r| {
                let k = desired.session_key_in(&r.name)?;
                let arn = keys.iter().find(|(n, _)| n == &k.name)?.1.clone();
                Some((r.name.clone(), arn))
            })
            .collect(),
    });
    let jobs: Vec<_> = desired
        .accounts
        .iter()
        .map(|a| {
            let (aws, ctx, account) = (aws.clone(), ctx.clone(), a.clone());
            (format!("account {}", a.id), async move {
                account_unit(&aws, &ctx, account).await
            })
        })
        .collect();
    let mut rows = Vec::new();
    for result in bounded(options.concurrency, jobs, options.progress.clone()).await {
        rows.extend(result.unwrap_or_default());
    }
    rows.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
    CanaryReport {
        bucket: desired.bucket.name.clone(),
        ran_at: rfc3339(now),
        rows,
    }
}

struct Ctx {
    /// Try the calls the guardrails must deny (with `--as-role` and `[guardrails]`).
    probe_guardrails: bool,
    /// Also read the canary's own log as this non-reader (with `[readers]`).
    probe_reads: bool,
    log_archive: String,
    bucket: String,
    bucket_region: String,
    as_role: Option<String>,
    /// `2024-05-01T120000Z`: the agent removes ':' from file names.
    time: String,
    /// Live session key ARN by region.
    session_keys: Vec<(String, String)>,
}

fn ok(call: &str, by: Party) -> CanaryCall {
    CanaryCall {
        call: call.to_string(),
        by,
        outcome: CallOutcome::Ok,
        code: None,
        message: None,
    }
}

fn failed(call: &str, by: Party, e: &AwsError) -> CanaryCall {
    CanaryCall {
        call: call.to_string(),
        by,
        outcome: CallOutcome::Failed,
        code: e.code.clone(),
        message: Some(e.message.clone()),
    }
}

fn skipped(call: &str, by: Party, why: &str) -> CanaryCall {
    CanaryCall {
        call: call.to_string(),
        by,
        outcome: CallOutcome::Skipped,
        code: None,
        message: Some(why.to_string()),
    }
}

/// Counts and sends one call; every error is a failure (no "absent" answers here).
macro_rules! attempt {
    ($c:expr, $op:literal, $fut:expr) => {{
        $c.count($op);
        $fut.await
            .map_err(|e| AwsError::from_sdk(format!("account {}: {}", $c.account, $op), &e))
    }};
}
pub(crate) use attempt;

/// Whether a trust policy lets `account` (its root, so any principal its IAM allows) or
/// the access role `access_role` call `sts:AssumeRole`. Statements with conditions are
/// taken at their word: AssumeRole itself then decides, and its error is reported.
pub fn trust_allows(trust: &Value, account: &str, access_role: &str) -> bool {
    let list = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    };
    let statements = match &trust["Statement"] {
        Value::Array(a) => a.clone(),
        s @ Value::Object(_) => vec![s.clone()],
        _ => Vec::new(),
    };
    let root = format!("arn:aws:iam::{account}:root");
    statements.iter().any(|s| {
        let allow = s["Effect"] == "Allow";
        let action = list(&s["Action"]).iter().any(|a| {
            let a = a.to_ascii_lowercase();
            a == "*" || a == "sts:*" || a == "sts:assumerole"
        });
        let principal = match &s["Principal"] {
            Value::String(p) => p == "*",
            Value::Object(o) => o
                .get("AWS")
                .map(list)
                .unwrap_or_default()
                .iter()
                .any(|p| p == "*" || p == account || *p == root || p == access_role),
            _ => false,
        };
        allow && action && principal
    })
}

/// Who acts in one account: the clients, their principal, whether it is the instance role,
/// the note, and the failed AssumeRole when the instance role could not be assumed.
struct Identity {
    clients: AccountClients,
    principal: String,
    as_instance_role: bool,
    note: String,
    assume_failure: Option<CanaryCall>,
}

async fn identity(aws: &Aws, ctx: &Ctx, account: &Account, access: AccountClients) -> Identity {
    let access_role = aws.principal_in(&account.id);
    let fallback = |note: String, failure: Option<CanaryCall>| Identity {
        clients: access.clone(),
        principal: access_role.clone(),
        as_instance_role: false,
        note,
        assume_failure: failure,
    };
    let (role_arn, why) = if let Some(r) = &ctx.as_role {
        let arn = if r.starts_with("arn:") {
            r.replace("{account}", &account.id)
        } else {
            format!(
                "arn:aws:iam::{}:role/{}",
                account.id,
                r.trim_start_matches('/')
            )
        };
        (arn, "--as-role".to_string())
    } else {
        let Some(role) = account.roles.first() else {
            return fallback(
                "no instance role in the config: made as the access role".into(),
                None,
            );
        };
        let arn = format!("arn:aws:iam::{}:role{}{}", account.id, role.path, role.name);
        let trust = match live::read_role(&access, &role.name).await {
            Ok(Some(r)) => r.trust_policy,
            Ok(None) => {
                return fallback(
                    format!(
                        "instance role `{}` does not exist: made as the access role",
                        role.name
                    ),
                    None,
                )
            }
            Err(e) => {
                return fallback(
                    format!(
                        "instance role `{}` unreadable ({e}): made as the access role",
                        role.name
                    ),
                    None,
                )
            }
        };
        if !trust
            .as_ref()
            .is_some_and(|t| trust_allows(t, &account.id, &access_role))
        {
            return fallback(
                format!(
                    "made as the access role: the trust policy of `{}` does not let the account assume it (EC2 only); pass --as-role to act as a role that can be assumed",
                    role.name
                ),
                None,
            );
        }
        (arn, format!("instance role `{}`", role.name))
    };
    match access.assume_role(&role_arn, "i-0ssmlogcanary0000").await {
        Ok((clients, principal)) => Identity {
            clients,
            principal,
            as_instance_role: true,
            note: why,
            assume_failure: None,
        },
        Err(e) => fallback(
            format!("could not assume `{role_arn}` ({why}): made as the access role"),
            Some(failed("sts:AssumeRole", Party::Ssmlog, &e)),
        ),
    }
}

async fn account_unit(aws: &Aws, ctx: &Ctx, account: Account) -> Vec<CanaryRow> {
    let access = match aws.account(&account.id).await {
        Ok(c) => c,
        Err(e) => {
            return vec![CanaryRow {
                account: account.id.clone(),
                region: "*".to_string(),
                principal: aws.principal_in(&account.id),
                as_instance_role: false,
                note: "the access role could not be assumed".to_string(),
                object: None,
                calls: vec![failed("sts:AssumeRole", Party::Ssmlog, &e)],
                cleanup: Cleanup {
                    outcome: "none".to_string(),
                    by: None,
                    message: None,
                },
                passed: false,
                guardrail_probes: Vec::new(),
            }]
        }
    };
    let who = identity(aws, ctx, &account, access.clone()).await;
    let mut rows = Vec::new();
    for region in &account.regions {
        // The preferences as they are (the agent receives them with the session); the
        // desired ones when they cannot be read.
        let live_prefs = live::read_preferences(&access, &region.name)
            .await
            .ok()
            .flatten()
            .map(|p| p.content);
        let prefs = live_prefs.or_else(|| region.preferences.clone());
        let inputs = prefs
            .as_ref()
            .map(|p| p["inputs"].clone())
            .unwrap_or(Value::Null);
        let prefix = inputs["s3KeyPrefix"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let kms_key = inputs["kmsKeyId"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .or_else(|| {
                ctx.session_keys
                    .iter()
                    .find(|(r, _)| r == &region.name)
                    .map(|(_, a)| a.clone())
            });
        let (mut row, version) =
            agent_calls(ctx, &who, &account.id, &region.name, &prefix, kms_key).await;
        if let Some(f) = &who.assume_failure {
            row.calls.insert(0, f.clone());
        }
        if ctx.probe_guardrails {
            if who.as_instance_role {
                let stamp = ctx.time.to_ascii_lowercase();
                row.guardrail_probes
                    .extend(probe_region(&who.clients, &access, &region.name, &stamp).await);
            } else {
                row.guardrail_probes.push(GuardrailProbe {
                    call: "sts:AssumeRole".to_string(),
                    target: ctx.as_role.clone().unwrap_or_default(),
                    outcome: ProbeOutcome::Unknown,
                    code: None,
                    message: Some("the guardrails were not probed: --as-role could not be assumed (the access role is exempt)".to_string()),
                });
            }
            row.passed = row.passed && row.guardrail_probes.iter().all(GuardrailProbe::holds);
        }
        if row.object.is_some() && row.cleanup.outcome == "left" {
            // Not permitted as the instance role (the hardened bucket denies deletion to
            // all but its administrators): try as the log-archive account.
            if let Ok(la) = aws.account(&ctx.log_archive).await {
                let key = row.object.clone().unwrap_or_default();
                match delete(&la, ctx, &key, version.as_deref()).await {
                    Ok(()) => {
                        row.cleanup = Cleanup {
                            outcome: "deleted".to_string(),
                            by: Some(aws.principal_in(&ctx.log_archive)),
                            message: None,
                        }
                    }
                    Err(e) => {
                        let first = row.cleanup.message.take().unwrap_or_default();
                        row.cleanup.message =
                            Some(format!("{first}; as the log-archive account: {e}"));
                    }
                }
            }
        }
        rows.push(row);
    }
    rows
}

async fn delete(
    c: &AccountClients,
    ctx: &Ctx,
    key: &str,
    version: Option<&str>,
) -> Result<(), AwsError> {
    attempt!(
        c,
        "s3:DeleteObject",
        c.s3(&ctx.bucket_region)
            .delete_object()
            .bucket(&ctx.bucket)
            .key(key)
            .set_version_id(version.map(str::to_string))
            .send()
    )
    .map(|_| ())
}

/// `path.Join(prefix, name)` as the agent's Go code does it for these simple prefixes.
fn join(prefix: &str, name: &str) -> String {
    let p = prefix.trim_matches('/');
    if p.is_empty() {
        name.to_string()
    } else {
        format!("{p}/{name}")
    }
}

/// The agent's calls in one region as `who`, and the canary object's version id when it
/// was left (for a second attempt at deleting it).
async fn agent_calls(
    ctx: &Ctx,
    who: &Identity,
    account: &str,
    region: &str,
    prefix: &str,
    kms_key: Option<String>,
) -> (CanaryRow, Option<String>) {
    let c = &who.clients;
    let mut calls = Vec::new();
    let mut row = CanaryRow {
        account: account.to_string(),
        region: region.to_string(),
        principal: who.principal.clone(),
        as_instance_role: who.as_instance_role,
        note: who.note.clone(),
        object: None,
        calls: Vec::new(),
        cleanup: Cleanup {
            outcome: "none".to_string(),
            by: None,
            message: None,
        },
        passed: false,
        guardrail_probes: Vec::new(),
    };
    let mut left_version = None;

    // 1. HeadBucket from the session's region.
    let mut bucket_region = ctx.bucket_region.clone();
    c.count("s3:HeadBucket");
    match c.s3(region).head_bucket().bucket(&ctx.bucket).send().await {
        Ok(o) => {
            if let Some(r) = o.bucket_region {
                bucket_region = r;
            }
            calls.push(ok("s3:HeadBucket", Party::Agent));
        }
        Err(aws_sdk_s3::error::SdkError::ServiceError(e)) if e.raw().status().as_u16() == 301 => {
            if let Some(r) = e.raw().headers().get("x-amz-bucket-region") {
                bucket_region = r.to_string();
            }
            calls.push(ok("s3:HeadBucket", Party::Agent));
        }
        Err(e) => calls.push(failed(
            "s3:HeadBucket",
            Party::Agent,
            &AwsError::from_sdk("s3:HeadBucket", &e),
        )),
    }
    let s3 = c.s3(&bucket_region);

    // 2. GetBucketEncryption.
    let enc = attempt!(
        c,
        "s3:GetBucketEncryption",
        s3.get_bucket_encryption().bucket(&ctx.bucket).send()
    )
    .and_then(|o| {
        o.server_side_encryption_configuration
            .and_then(|c| c.rules.into_iter().next())
            .and_then(|r| r.apply_server_side_encryption_by_default)
            .map(|d| (d.sse_algorithm, d.kms_master_key_id))
            .ok_or_else(|| AwsError::new("s3:GetBucketEncryption", "no default encryption rule"))
    })
    .and_then(|(alg, key)| {
        if matches!(alg.as_str(), "aws:kms" | "AES256") {
            Ok((alg, key))
        } else {
            Err(AwsError::new(
                "s3:GetBucketEncryption",
                format!("default encryption `{}`: the agent accepts only aws:kms or AES256 and refuses the session", alg.as_str()),
            ))
        }
    });

    // 3. PutObject, as the agent does at the end of a session.
    match enc {
        Err(e) => {
            calls.push(failed("s3:GetBucketEncryption", Party::Agent, &e));
            calls.push(skipped(
                "s3:PutObject",
                Party::Agent,
                "the agent refuses the session when it cannot validate the bucket's encryption",
            ));
        }
        Ok((alg, key)) => {
            calls.push(ok("s3:GetBucketEncryption", Party::Agent));
            let object = join(prefix, &format!("{CANARY_PREFIX}{}.log", ctx.time));
            let body = format!(
                "ssmlog canary from account {account} in {region} as {}\r\n",
                who.principal
            );
            let is_kms = alg == aws_sdk_s3::types::ServerSideEncryption::AwsKms;
            let put = attempt!(
                c,
                "s3:PutObject",
                s3.put_object()
                    .bucket(&ctx.bucket)
                    .key(&object)
                    .content_type("text/plain")
                    .acl(aws_sdk_s3::types::ObjectCannedAcl::BucketOwnerFullControl)
                    .server_side_encryption(alg)
                    .set_ssekms_key_id(if is_kms { key } else { None })
                    .body(aws_sdk_s3::primitives::ByteStream::from(body.into_bytes()))
                    .send()
            );
            match put {
                Ok(out) => {
                    calls.push(ok("s3:PutObject", Party::Agent));
                    row.object = Some(object.clone());
                    if ctx.probe_reads && who.as_instance_role {
                        // A log read by this non-reader: `[readers]` must deny it.
                        let read = attempt!(
                            c,
                            "s3:GetObject",
                            s3.get_object().bucket(&ctx.bucket).key(&object).send()
                        );
                        row.guardrail_probes
                            .push(probe("s3:GetObject", &object, read.map(|_| ())));
                    }
                    match delete(c, ctx, &object, out.version_id.as_deref()).await {
                        Ok(()) => {
                            row.cleanup = Cleanup {
                                outcome: "deleted".to_string(),
                                by: Some(who.principal.clone()),
                                message: None,
                            }
                        }
                        Err(e) => {
                            left_version = out.version_id;
                            row.cleanup = Cleanup {
                                outcome: "left".to_string(),
                                by: None,
                                message: Some(format!("as `{}`: {e}", who.principal)),
                            }
                        }
                    }
                }
                Err(e) => calls.push(failed("s3:PutObject", Party::Agent, &e)),
            }
        }
    }

    // 4. Session data-channel encryption with the session context.
    match kms_key {
        None => {
            let why = "the preferences name no kmsKeyId: session data is not KMS-encrypted";
            calls.push(skipped("kms:GenerateDataKey", Party::Client, why));
            calls.push(skipped("kms:Decrypt", Party::Agent, why));
        }
        Some(key_id) => {
            let kms = c.kms(region);
            let session_id = format!("{CANARY_PREFIX}{}", ctx.time.to_ascii_lowercase());
            let target = "i-0ssmlogcanary0000";
            let generated = attempt!(
                c,
                "kms:GenerateDataKey",
                kms.generate_data_key()
                    .key_id(&key_id)
                    .number_of_bytes(64)
                    .encryption_context("aws:ssm:SessionId", &session_id)
                    .encryption_context("aws:ssm:TargetId", target)
                    .send()
            );
            match generated.map(|g| g.ciphertext_blob) {
                Ok(Some(blob)) => {
                    calls.push(ok("kms:GenerateDataKey", Party::Client));
                    let decrypted = attempt!(
                        c,
                        "kms:Decrypt",
                        kms.decrypt()
                            .ciphertext_blob(blob)
                            .encryption_context("aws:ssm:SessionId", &session_id)
                            .encryption_context("aws:ssm:TargetId", target)
                            .send()
                    );
                    calls.push(match decrypted {
                        Ok(_) => ok("kms:Decrypt", Party::Agent),
                        Err(e) => failed("kms:Decrypt", Party::Agent, &e),
                    });
                }
                Ok(None) => {
                    let e = AwsError::new("kms:GenerateDataKey", "no ciphertext returned");
                    calls.push(failed("kms:GenerateDataKey", Party::Client, &e));
                    calls.push(skipped(
                        "kms:Decrypt",
                        Party::Agent,
                        "no ciphertext to decrypt",
                    ));
                }
                Err(e) => {
                    calls.push(failed("kms:GenerateDataKey", Party::Client, &e));
                    calls.push(skipped(
                        "kms:Decrypt",
                        Party::Agent,
                        "no ciphertext to decrypt: in a session the client generates it (the instance role is not meant to; try --as-role with a session starter's role)",
                    ));
                }
            }
        }
    }
    row.passed = !calls
        .iter()
        .any(|c| c.by == Party::Agent && c.outcome == CallOutcome::Failed);
    row.calls = calls;
    (row, left_version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn trust_policies() {
        let ec2 = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        let access = "arn:aws:iam::111122223333:role/OrganizationAccountAccessRole";
        assert!(!trust_allows(&ec2, "111122223333", access));
        let root = json!({"Statement": [ec2["Statement"][0].clone(),
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root"]}, "Action": ["sts:AssumeRole"]}]});
        assert!(trust_allows(&root, "111122223333", access));
        assert!(!trust_allows(&root, "999999999999", access));
        let role = json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": access}, "Action": "sts:*"}});
        assert!(trust_allows(&role, "111122223333", access));
        let deny = json!({"Statement": [{"Effect": "Deny", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"}]});
        assert!(!trust_allows(&deny, "111122223333", access));
    }

    #[test]
    fn object_keys_join_as_the_agent_does() {
        assert_eq!(join("a/b", "x.log"), "a/b/x.log");
        assert_eq!(join("a/b/", "x.log"), "a/b/x.log");
        assert_eq!(join("", "x.log"), "x.log");
    }
}
