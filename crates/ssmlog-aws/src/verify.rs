//! `verify`: the source documents' verification steps, done live for every account and
//! region.
//!
//! - the bucket's default encryption is `aws:kms` with Key 1 (read in the log-archive
//!   account, once);
//! - in each member account and region, `SSM-SessionManagerRunShell` exists, its default
//!   version is its latest version, and the default version's content names the bucket,
//!   has `s3EncryptionEnabled` true and `kmsKeyId` the session key of that region;
//! - logs arrive: the newest object under the preferences' `s3KeyPrefix` (the desired
//!   prefix when the document cannot be read), listed as the log-archive account, is no
//!   older than `since`. Canary objects (`ssmlog-canary-…`) do not count as logs.
//!
//! - the network: the VPCs of each account and region, read as `pull` reads them
//!   ([`crate::network`]), proven by `ssmlog check`'s network proof (every VPC reaches ssm,
//!   ssmmessages, ec2messages, kms and the bucket's S3; endpoint policies let the agent's
//!   calls through) against the policies ssmlog deploys (the desired State's); its errors
//!   are findings of their account and region, its warnings (what ssmlog cannot follow,
//!   such as a transit gateway route) are `networkNotes` and leave the row's network `?`.
//!   `verify --proof` proves the whole live State, its policies included.
//!
//! Every unit (an account and region) is independent: one that cannot be read becomes an
//! `aws-error` finding and the others go on.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ssmlog_check::{CheckOptions, Severity};
use ssmlog_state::{RegionNetwork, State, Unreachable};

use crate::connect::{AccountClients, Aws};
use crate::converge::{bounded, key_region, Progress};
use crate::error::AwsError;
use crate::live::{self, call};

/// What `verify` checks against.
#[derive(Clone)]
pub struct VerifyOptions {
    /// The newest log of an account and region may be this old.
    pub since: Duration,
    /// Units (account and region) checked at once.
    pub concurrency: usize,
    /// Called as units finish.
    pub progress: Option<Progress>,
    /// What the network proof needs beyond the State (the config's session starters and
    /// expectations), as `check` takes them.
    pub check: CheckOptions,
}

/// Whether one check held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// It holds.
    Ok,
    /// It does not: see the findings.
    Failed,
    /// It could not be read (an AWS error, or what it depends on is missing).
    Unknown,
}

/// The JSON form of `ssmlog verify --format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Verification {
    /// The bucket.
    pub bucket: String,
    /// When the check ran (RFC 3339, UTC).
    pub checked_at: String,
    /// The `--since` window, in seconds.
    pub since_seconds: u64,
    /// Key 1 as found in KMS (its ARN), when found.
    pub bucket_key: Option<String>,
    /// Bucket default encryption is `aws:kms` with Key 1.
    pub bucket_encryption: Status,
    /// One row per member account and region, sorted.
    pub rows: Vec<VerifyRow>,
    /// Everything that does not hold, bucket first, then by account and region.
    pub findings: Vec<VerifyFinding>,
    /// What the network proof could not decide (warnings of `check`: a route ssmlog cannot
    /// follow, instances that need a public IP), by account and region; not failures.
    #[serde(default)]
    pub network_notes: Vec<VerifyFinding>,
    /// With `[guardrails]`: each of ssmlog's Organizations policies at each target the
    /// config names (absent without guardrails).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guardrails: Vec<GuardrailRow>,
}

/// One guardrail policy at one target: attached there, with the content ssmlog renders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GuardrailRow {
    /// The policy's name (`ssmlog-session-guardrails`, `ssmlog-log-archive-perimeter`).
    pub policy: String,
    /// `SCP` or `RCP`.
    pub kind: String,
    /// The root, OU or account id the config attaches it to.
    pub target: String,
    /// Attached there, with the rendered content, its policy type enabled.
    pub status: Status,
}

/// One account and region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyRow {
    /// Member account.
    pub account: String,
    /// Region.
    pub region: String,
    /// The preferences document exists and points at the bucket and the session key with
    /// encryption on.
    pub preferences: Status,
    /// Its default version is its latest version.
    pub default_version: Status,
    /// The prefix listed for logs (`<account>/<region>`; `""` for the whole bucket).
    pub prefix: String,
    /// The newest log under the prefix, when there is one.
    pub newest_log: Option<NewestLog>,
    /// A log newer than `since` exists.
    pub logs: Status,
    /// The network proof: every VPC reaches what the agent needs and its endpoints let the
    /// agent's calls through (`?`: not read, or a route ssmlog cannot follow).
    #[serde(default = "unknown")]
    pub network: Status,
}

fn unknown() -> Status {
    Status::Unknown
}

/// The newest object under a prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewestLog {
    /// Object key.
    pub key: String,
    /// Its `LastModified` (RFC 3339, UTC).
    pub last_modified: String,
    /// Its age when checked, in seconds.
    pub age_seconds: u64,
}

/// One thing that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyFinding {
    /// `bucket-encryption`, `bucket-key-missing`, `preferences-missing`,
    /// `preferences-default-version`, `preferences-bucket`, `preferences-encryption`,
    /// `preferences-kms-key`, `no-log-yet`, `log-stale`, `guardrail-missing`,
    /// `guardrail-detached`, `guardrail-edited`, `guardrail-type-disabled`, `aws-error`, or a
    /// network rule of `check` (`network-unreachable`, `agent-call-denied` through an
    /// endpoint, …).
    pub rule: String,
    /// The member account; `None` for the bucket; for `guardrail-detached`, the root, OU
    /// or account the guardrail should be attached to.
    pub account: Option<String>,
    /// The region; `None` for the bucket.
    pub region: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub fix: String,
}

impl Verification {
    /// Whether everything held.
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }

    /// The row of one account and region.
    pub fn row(&self, account: &str, region: &str) -> Option<&VerifyRow> {
        self.rows
            .iter()
            .find(|r| r.account == account && r.region == region)
    }

    /// The table `ssmlog verify` prints.
    pub fn to_table(&self) -> String {
        let word = |s: Status| match s {
            Status::Ok => "ok",
            Status::Failed => "FAIL",
            Status::Unknown => "?",
        };
        let mut out = format!(
            "bucket {}: default encryption {} (Key 1 {})\n\n",
            self.bucket,
            word(self.bucket_encryption),
            self.bucket_key.as_deref().unwrap_or("not found"),
        );
        out.push_str(&format!(
            "{:<14} {:<16} {:<12} {:<16} {:<8} {:<10} NEWEST LOG\n",
            "ACCOUNT", "REGION", "PREFERENCES", "DEFAULT VERSION", "NETWORK", "LOGS"
        ));
        for r in &self.rows {
            let newest = match &r.newest_log {
                Some(n) => format!("{} ago  {}", age(n.age_seconds), n.key),
                None if r.logs == Status::Unknown => "?".to_string(),
                None => "no log yet".to_string(),
            };
            out.push_str(&format!(
                "{:<14} {:<16} {:<12} {:<16} {:<8} {:<10} {newest}\n",
                r.account,
                r.region,
                word(r.preferences),
                word(r.default_version),
                word(r.network),
                word(r.logs),
            ));
        }
        if !self.findings.is_empty() || !self.network_notes.is_empty() {
            out.push('\n');
        }
        let notes = self.network_notes.iter().map(|f| ("not proven", f));
        for (label, f) in self.findings.iter().map(|f| ("finding", f)).chain(notes) {
            let place = match (&f.account, &f.region) {
                (Some(a), Some(r)) => format!(" [{a} {r}]"),
                (Some(a), None) => format!(" [{a}]"),
                _ => String::new(),
            };
            out.push_str(&format!(
                "{label}[{}]{place}: {}\n  = fix: {}\n",
                f.rule, f.message, f.fix
            ));
        }
        let n = self.findings.len();
        if !self.guardrails.is_empty() {
            out.push_str(&format!(
                "\n{:<4} {:<30} {:<24} STATUS\n",
                "KIND", "GUARDRAIL", "TARGET"
            ));
            for g in &self.guardrails {
                out.push_str(&format!(
                    "{:<4} {:<30} {:<24} {}\n",
                    g.kind,
                    g.policy,
                    g.target,
                    word(g.status)
                ));
            }
        }
        out.push_str(&format!(
            "\n{} account/region rows, {n} finding{}, logs expected within {}\n",
            self.rows.len(),
            if n == 1 { "" } else { "s" },
            age(self.since_seconds)
        ));
        out.push_str(NOT_CHECKED);
        out
    }
}

/// What `verify` does not look at, said under every table: its checks are the article's,
/// and passing them proves nothing about who may write, read or delete logs.
pub const NOT_CHECKED: &str = "not checked by verify: the bucket and key policies, the instance roles' policies, SCPs and RCPs as they are live (the network is proven against the policies ssmlog deploys), that is whether every agent call is allowed and nobody else can read, forge or delete logs; prove those with `ssmlog pull --out DIR` then `ssmlog check DIR`, or `ssmlog verify --proof`\n";

/// `90061` → `1d1h`, `300` → `5m`.
fn age(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h{m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d{h}h"),
    }
}

/// Seconds since the epoch as RFC 3339.
pub(crate) fn rfc3339(secs: i64) -> String {
    aws_sdk_s3::primitives::DateTime::from_secs(secs)
        .fmt(aws_sdk_s3::primitives::DateTimeFormat::DateTime)
        .unwrap_or_else(|_| secs.to_string())
}

pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub(crate) fn finding(
    rule: &str,
    account: Option<&str>,
    region: Option<&str>,
    message: String,
    fix: &str,
) -> VerifyFinding {
    VerifyFinding {
        rule: rule.to_string(),
        account: account.map(str::to_string),
        region: region.map(str::to_string),
        message,
        fix: fix.to_string(),
    }
}

/// The live ARN of each key of `desired` that exists (by configured ARN, else by alias),
/// by key name, read in the log-archive account.
pub(crate) async fn live_keys(
    c: &AccountClients,
    desired: &State,
) -> (Vec<(String, String)>, Vec<AwsError>) {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for key in &desired.keys {
        let arn = (!key.arn_is_placeholder).then_some(key.arn.as_str());
        match live::find_key(c, key_region(&key.arn), arn, key.alias.as_deref()).await {
            Ok(Some(k)) => found.push((key.name.clone(), k.arn)),
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    (found, errors)
}

/// Whether `given` (a `kmsKeyId` or `KMSMasterKeyID`: key ARN, key id, alias name or alias
/// ARN) names the key `arn` with `alias`.
pub(crate) fn names_key(given: &str, arn: &str, alias: Option<&str>) -> bool {
    let id = arn.rsplit('/').next().unwrap_or(arn);
    given == arn
        || given == id
        || alias.is_some_and(|a| {
            given == a || (given.ends_with(&format!(":{a}")) && given.starts_with("arn:aws:kms:"))
        })
}

/// `true`, `"true"` (SSM stores document inputs as strings or booleans).
fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Runs the verification; see the module documentation.
pub async fn verify(aws: Arc<Aws>, desired: &State, options: &VerifyOptions) -> Verification {
    let now = now_secs();
    let mut findings = Vec::new();
    let la = desired.log_archive.account_id.clone();
    let bucket = desired.bucket.name.clone();
    let mut keys = Vec::new();
    let mut bucket_key = None;
    let mut bucket_encryption = Status::Unknown;
    match aws.account(&la).await {
        Ok(c) => {
            let (found, errors) = live_keys(&c, desired).await;
            keys = found;
            for e in errors {
                findings.push(aws_error(None, None, &e));
            }
            let key1 = desired.bucket_key();
            bucket_key = key1.and_then(|k| {
                keys.iter()
                    .find(|(n, _)| n == &k.name)
                    .map(|(_, a)| a.clone())
            });
            if bucket_key.is_none() {
                findings.push(finding(
                    "bucket-key-missing",
                    None,
                    None,
                    format!(
                        "Key 1 (`{}`) does not exist in account {la}",
                        key1.and_then(|k| k.alias.clone()).unwrap_or_default()
                    ),
                    "run `ssmlog apply`, or name the key's ARN in the config (`keys.bucket.arn`)",
                ));
            }
            match bucket_encryption_of(&c, &bucket, &desired.bucket.region).await {
                Ok(enc) => {
                    let alias = key1.and_then(|k| k.alias.as_deref());
                    let ok = matches!(&enc, Some((alg, Some(id)))
                        if alg == "aws:kms" && bucket_key.as_deref().is_some_and(|k| names_key(id, k, alias)));
                    bucket_encryption = if ok { Status::Ok } else { Status::Failed };
                    if !ok {
                        let is = match &enc {
                            Some((alg, Some(id))) => format!("`{alg}` with `{id}`"),
                            Some((alg, None)) => format!("`{alg}` without a key"),
                            None => "not set".to_string(),
                        };
                        findings.push(finding(
                            "bucket-encryption",
                            None,
                            None,
                            format!("bucket `{bucket}` default encryption is {is}, not `aws:kms` with Key 1"),
                            "run `ssmlog apply` (it writes the bucket's default encryption with Key 1)",
                        ));
                    }
                }
                Err(e) => findings.push(aws_error(None, None, &e)),
            }
        }
        Err(e) => findings.push(aws_error(None, None, &e)),
    }

    let mut jobs = Vec::new();
    for account in &desired.accounts {
        for region in &account.regions {
            let session_key = desired.session_key_in(&region.name).map(|k| {
                let arn = keys
                    .iter()
                    .find(|(n, _)| n == &k.name)
                    .map(|(_, a)| a.clone());
                (k.name.clone(), arn, k.alias.clone())
            });
            let unit = Unit {
                aws: aws.clone(),
                log_archive: la.clone(),
                account: account.id.clone(),
                region: region.name.clone(),
                bucket: bucket.clone(),
                bucket_region: desired.bucket.region.clone(),
                desired_prefix: region
                    .preferences
                    .as_ref()
                    .and_then(|p| p["inputs"]["s3KeyPrefix"].as_str())
                    .map(str::to_string),
                session_key,
                since: options.since.as_secs(),
                now,
            };
            jobs.push((format!("{} {}", account.id, region.name), unit.run()));
        }
    }
    let mut rows = Vec::new();
    let mut networks = Vec::new();
    let mut unread = Vec::new();
    for result in bounded(options.concurrency, jobs, options.progress.clone()).await {
        match result {
            Some((row, network, mut f)) => {
                match network {
                    Some(Ok(vpcs)) => networks.push(RegionNetwork {
                        account: row.account.clone(),
                        region: row.region.clone(),
                        vpcs,
                    }),
                    Some(Err(reason)) => unread.push(Unreachable {
                        account: row.account.clone(),
                        region: Some(row.region.clone()),
                        reason,
                    }),
                    None => {}
                }
                rows.push(row);
                findings.append(&mut f);
            }
            None => findings.push(finding(
                "aws-error",
                None,
                None,
                "a task stopped without an answer".to_string(),
                "re-run verify",
            )),
        }
    }
    rows.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
    let network_notes = prove_networks(
        desired,
        networks,
        unread,
        &options.check,
        &mut rows,
        &mut findings,
    );
    let (guardrails, mut found) = crate::guardrails::verify_guardrails(&aws, desired).await;
    findings.append(&mut found);
    Verification {
        bucket,
        checked_at: rfc3339(now),
        since_seconds: options.since.as_secs(),
        bucket_key,
        bucket_encryption,
        rows,
        findings,
        guardrails,
        network_notes,
    }
}

/// `check`'s network proof on the desired State with the live networks: each row's
/// network status, its errors as findings, its warnings as notes (returned). A row whose
/// network could not be read stays `?` (its `aws-error` finding says why).
fn prove_networks(
    desired: &State,
    networks: Vec<RegionNetwork>,
    unread: Vec<Unreachable>,
    options: &CheckOptions,
    rows: &mut [VerifyRow],
    findings: &mut Vec<VerifyFinding>,
) -> Vec<VerifyFinding> {
    let mut state = desired.clone();
    // Only regions whose network was read: the others are not proven, and said so.
    let read: Vec<(String, String)> = networks
        .iter()
        .map(|n| (n.account.clone(), n.region.clone()))
        .collect();
    state.networks = networks;
    state.unreachable = unread;
    let report = ssmlog_check::check(&state, options);
    let mut notes = Vec::new();
    for row in rows.iter_mut() {
        if !read.contains(&(row.account.clone(), row.region.clone())) {
            continue;
        }
        let mine = report.findings.iter().filter(|f| {
            f.is_network()
                && f.account.as_deref() == Some(row.account.as_str())
                && f.region.as_deref() == Some(row.region.as_str())
                && f.severity != Severity::Note
        });
        row.network = Status::Ok;
        for f in mine {
            let v = finding(
                &f.rule,
                Some(&row.account),
                Some(&row.region),
                f.message.clone(),
                &f.fix,
            );
            if f.severity == Severity::Error {
                row.network = Status::Failed;
                if !findings.contains(&v) {
                    findings.push(v);
                }
            } else {
                if row.network == Status::Ok {
                    row.network = Status::Unknown;
                }
                if !notes.contains(&v) {
                    notes.push(v);
                }
            }
        }
    }
    notes
}

fn aws_error(account: Option<&str>, region: Option<&str>, e: &AwsError) -> VerifyFinding {
    finding(
        "aws-error",
        account,
        region,
        e.to_string(),
        "check the credentials and the access role (`--access-role`), then re-run verify",
    )
}

/// The bucket's default encryption: algorithm and key id; `None` when there is none.
async fn bucket_encryption_of(
    c: &AccountClients,
    bucket: &str,
    region: &str,
) -> Result<Option<(String, Option<String>)>, AwsError> {
    let out = call!(
        c,
        "s3:GetBucketEncryption",
        c.s3(region).get_bucket_encryption().bucket(bucket).send()
    )?;
    Ok(out
        .and_then(|o| o.server_side_encryption_configuration)
        .and_then(|c| c.rules.into_iter().next())
        .and_then(|r| r.apply_server_side_encryption_by_default)
        .map(|d| (d.sse_algorithm.as_str().to_string(), d.kms_master_key_id)))
}

/// One account and region, as an owned task.
struct Unit {
    aws: Arc<Aws>,
    log_archive: String,
    account: String,
    region: String,
    bucket: String,
    bucket_region: String,
    desired_prefix: Option<String>,
    /// `(name, live ARN, alias)` of the region's session key.
    session_key: Option<(String, Option<String>, Option<String>)>,
    since: u64,
    now: i64,
}

/// The network of a unit: its VPCs, or why they could not be read; `None` when the
/// account itself could not be reached.
type UnitNetwork = Option<Result<Vec<ssmlog_state::Vpc>, String>>;

impl Unit {
    async fn run(self) -> (VerifyRow, UnitNetwork, Vec<VerifyFinding>) {
        let (a, r) = (Some(self.account.as_str()), Some(self.region.as_str()));
        let mut findings = Vec::new();
        let mut row = VerifyRow {
            account: self.account.clone(),
            region: self.region.clone(),
            preferences: Status::Unknown,
            default_version: Status::Unknown,
            prefix: self.desired_prefix.clone().unwrap_or_default(),
            newest_log: None,
            logs: Status::Unknown,
            network: Status::Unknown,
        };
        let member = self.aws.account(&self.account).await;
        let prefs = match &member {
            Ok(c) => live::read_preferences(c, &self.region).await,
            Err(e) => Err(e.clone()),
        };
        // A region whose preferences could not be read is not read further.
        let network = match (&member, prefs.is_ok()) {
            (Ok(c), true) => Some(crate::network::read_network(c, &self.region).await.map_err(
                |e| {
                    let e = crate::error::in_region(e, &self.account, &self.region);
                    findings.push(aws_error(a, r, &e));
                    e.to_string()
                },
            )),
            _ => None,
        };
        match prefs {
            Err(e) => findings.push(aws_error(a, r, &e)),
            Ok(None) => {
                row.preferences = Status::Failed;
                findings.push(finding(
                    "preferences-missing",
                    a,
                    r,
                    format!(
                        "`{}` does not exist: sessions here are not logged",
                        ssmlog_state::PREFERENCES_DOCUMENT
                    ),
                    "run `ssmlog apply`",
                ));
            }
            Ok(Some(p)) => {
                row.default_version = if p.default_version == p.latest_version {
                    Status::Ok
                } else {
                    findings.push(finding(
                        "preferences-default-version",
                        a,
                        r,
                        format!(
                            "the default version is {} but the latest is {}: Session Manager uses the default",
                            p.default_version, p.latest_version
                        ),
                        "run `ssmlog apply` (it makes the latest version the default), or `aws ssm update-document-default-version`",
                    ));
                    Status::Failed
                };
                let inputs = &p.content["inputs"];
                let mut ok = true;
                let named = inputs["s3BucketName"].as_str().unwrap_or_default();
                if named != self.bucket {
                    ok = false;
                    findings.push(finding(
                        "preferences-bucket",
                        a,
                        r,
                        format!("s3BucketName is `{named}`, not `{}`", self.bucket),
                        "run `ssmlog apply`",
                    ));
                }
                if !truthy(inputs.get("s3EncryptionEnabled")) {
                    ok = false;
                    findings.push(finding(
                        "preferences-encryption",
                        a,
                        r,
                        "s3EncryptionEnabled is not true: the agent uploads without checking the bucket's encryption".to_string(),
                        "run `ssmlog apply`",
                    ));
                }
                let kms_key = inputs["kmsKeyId"].as_str().unwrap_or_default();
                if let Some((name, arn, alias)) = &self.session_key {
                    let good = arn
                        .as_deref()
                        .is_some_and(|arn| names_key(kms_key, arn, alias.as_deref()));
                    if !good {
                        ok = false;
                        let want = arn
                            .clone()
                            .unwrap_or_else(|| format!("`{name}` (not found)"));
                        findings.push(finding(
                            "preferences-kms-key",
                            a,
                            r,
                            format!(
                                "kmsKeyId is `{kms_key}`, not the session key of {} ({want})",
                                self.region
                            ),
                            "run `ssmlog apply`",
                        ));
                    }
                }
                row.preferences = if ok { Status::Ok } else { Status::Failed };
                if let Some(prefix) = inputs["s3KeyPrefix"].as_str() {
                    row.prefix = prefix.to_string();
                }
            }
        }
        let newest = match self.aws.account(&self.log_archive).await {
            Ok(c) => newest_object(&c, &self.bucket, &self.bucket_region, &row.prefix).await,
            Err(e) => Err(e),
        };
        match newest {
            Err(e) => findings.push(aws_error(a, r, &e)),
            Ok(None) => {
                row.logs = Status::Failed;
                findings.push(finding(
                    "no-log-yet",
                    a,
                    r,
                    format!("no log under `{}/`", row.prefix.trim_end_matches('/')),
                    "start and end a session here (`aws ssm start-session`), then re-run verify; if none arrives, run `ssmlog canary`",
                ));
            }
            Ok(Some((key, secs))) => {
                let age_seconds = u64::try_from(self.now.saturating_sub(secs)).unwrap_or(0);
                row.logs = if age_seconds <= self.since {
                    Status::Ok
                } else {
                    findings.push(finding(
                        "log-stale",
                        a,
                        r,
                        format!(
                            "the newest log `{key}` is {} old, older than {}",
                            age(age_seconds),
                            age(self.since)
                        ),
                        "if sessions ran since, logs are lost: run `ssmlog canary`; otherwise widen `--since`",
                    ));
                    Status::Failed
                };
                row.newest_log = Some(NewestLog {
                    key,
                    last_modified: rfc3339(secs),
                    age_seconds,
                });
            }
        }
        (row, network, findings)
    }
}

/// The newest object under `prefix` (as the agent joins it: `prefix/…`), ignoring canary
/// objects: `(key, LastModified seconds)`.
async fn newest_object(
    c: &AccountClients,
    bucket: &str,
    region: &str,
    prefix: &str,
) -> Result<Option<(String, i64)>, AwsError> {
    let prefix = prefix.trim_end_matches('/');
    let listed = if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    };
    let s3 = c.s3(region);
    let mut newest: Option<(String, i64)> = None;
    let mut token = None;
    loop {
        let Some(page) = call!(
            c,
            "s3:ListObjectsV2",
            s3.list_objects_v2()
                .bucket(bucket)
                .prefix(&listed)
                .set_continuation_token(token.clone())
                .send()
        )?
        else {
            return Err(AwsError::new(
                format!("account {}", c.account),
                format!("bucket `{bucket}` does not exist"),
            ));
        };
        for o in page.contents.unwrap_or_default() {
            let (Some(key), Some(t)) = (o.key, o.last_modified) else {
                continue;
            };
            let name = key.rsplit('/').next().unwrap_or(&key);
            if name.starts_with(crate::canary::CANARY_PREFIX) {
                continue;
            }
            if newest.as_ref().is_none_or(|(_, s)| t.secs() > *s) {
                newest = Some((key, t.secs()));
            }
        }
        token = page.next_continuation_token;
        if !page.is_truncated.unwrap_or(false) || token.is_none() {
            return Ok(newest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names() {
        let arn = "arn:aws:kms:eu-west-1:111122223333:key/mrk-0123";
        assert!(names_key(arn, arn, None));
        assert!(names_key("mrk-0123", arn, None));
        assert!(names_key("alias/x", arn, Some("alias/x")));
        assert!(names_key(
            "arn:aws:kms:eu-west-1:111122223333:alias/x",
            arn,
            Some("alias/x")
        ));
        assert!(!names_key("mrk-9999", arn, Some("alias/x")));
        assert!(!names_key("", arn, None));
    }

    #[test]
    fn ages() {
        assert_eq!(age(59), "59s");
        assert_eq!(age(300), "5m");
        assert_eq!(age(86_400), "1d");
        assert_eq!(age(90_061), "1d1h");
        assert_eq!(age(3_660), "1h1m");
    }

    #[test]
    fn booleans_as_ssm_stores_them() {
        assert!(truthy(Some(&Value::Bool(true))));
        assert!(truthy(Some(&Value::String("true".into()))));
        assert!(!truthy(Some(&Value::String("false".into()))));
        assert!(!truthy(None));
    }
}
