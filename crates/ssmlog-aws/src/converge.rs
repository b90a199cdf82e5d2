//! `plan` and `apply`: diff the desired State against live and, when applying, write what
//! differs. One code path for both: every resource is read, merged (see [`crate::merge`]),
//! compared and recorded as a [`Change`]; only `apply` then writes.
//!
//! Order: the log-archive account first (keys, then the bucket), because member documents
//! name the real key ARNs; then every member account's IAM roles and each of its regions'
//! preferences, as separate units run concurrently up to a bound. A failing unit is
//! reported as a [`Failure`] and the others go on.

use std::future::Future;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use ssmlog_state::{Bucket, Key, LifecycleRule, Role, RoleKind, State, Versioning};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::connect::{AccountClients, Aws};
use crate::error::AwsError;
use crate::live::{self, call, LivePreferences};
use crate::merge;

/// Reports each finished unit of work: `(done, total, unit, ok)`.
pub type Progress = Arc<dyn Fn(usize, usize, &str, bool) + Send + Sync>;

/// What `converge` does.
#[derive(Clone, Default)]
pub struct ConvergeOptions {
    /// Write what differs (`apply`), or only say what would change (`plan`).
    pub apply: bool,
    /// Units of work (an account's IAM, an account/region's preferences) run at once.
    pub concurrency: usize,
    /// Called as units finish.
    pub progress: Option<Progress>,
    /// Preferences inputs the config does not set (`SessionConfig::unset_inputs`): an
    /// existing document keeps its values of these.
    pub keep_inputs: Vec<String>,
    /// The config's `guardrails.deploy_roles`: before writing a guardrail policy, apply
    /// proves that they (and the role it acts as in member accounts) keep control of the
    /// preferences document.
    pub deploy_roles: Vec<String>,
}

/// What happens to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// It does not exist yet.
    Create,
    /// It exists and differs.
    Update,
    /// It is as desired.
    NoChange,
    /// It exists and goes: only ever one of ssmlog's own (a guardrail policy attached
    /// where the config no longer places it).
    Remove,
}

/// One resource, as planned (or applied).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The account it lives in.
    pub account: String,
    /// Its region; `None` for global resources (IAM).
    pub region: Option<String>,
    /// What it is: `bucket policy`, `key bucket-key policy`, `role SSMInstanceRole policy X`.
    pub resource: String,
    /// Create, update or nothing.
    pub action: Action,
    /// Live value, when there is one.
    pub before: Option<Value>,
    /// The value apply writes (merged with what is already there).
    pub after: Option<Value>,
    /// What plan has to say beyond the diff: preferences inputs kept and changed, a key
    /// adopted by its id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Change {
    /// A readable line diff of before and after.
    pub fn diff(&self) -> String {
        merge::json_diff(self.before.as_ref(), self.after.as_ref())
    }
}

/// A unit that could not be planned or applied.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    /// The account.
    pub account: String,
    /// The region, for a unit of one region (`None`: the account's IAM, or the log
    /// archive as a whole).
    pub region: Option<String>,
    /// What failed, and AWS's error.
    pub error: String,
}

/// Everything `converge` found and did.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// Every resource, in order.
    pub changes: Vec<Change>,
    /// Units that failed; the others were still done.
    pub failures: Vec<Failure>,
    /// The desired State with real key ARNs in place of placeholders (when the keys exist).
    #[serde(skip)]
    pub desired: Option<State>,
}

impl Outcome {
    /// The failure that refuses guardrails which would lock out a deploy role: apply then
    /// writes nothing at all.
    pub fn refused(&self) -> Option<&Failure> {
        self.failures
            .iter()
            .find(|f| f.error.contains(crate::guardrails::REFUSAL))
    }

    /// Resources that are created or updated.
    pub fn pending(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| c.action != Action::NoChange)
            .count()
    }
}

/// Runs `jobs` with at most `limit` at once, reporting each as it finishes; results come
/// back in the order of `jobs`, `None` for a job that panicked.
pub(crate) async fn bounded<T, F>(
    limit: usize,
    jobs: Vec<(String, F)>,
    progress: Option<Progress>,
) -> Vec<Option<T>>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let semaphore = Arc::new(Semaphore::new(limit.max(1)));
    let total = jobs.len();
    let mut set = JoinSet::new();
    for (i, (name, job)) in jobs.into_iter().enumerate() {
        let semaphore = semaphore.clone();
        set.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            (i, name, job.await)
        });
    }
    let mut out: Vec<Option<T>> = (0..total).map(|_| None).collect();
    let mut done = 0;
    while let Some(joined) = set.join_next().await {
        if let Ok((i, name, value)) = joined {
            done += 1;
            if let Some(p) = &progress {
                p(done, total, &name, true);
            }
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(value);
            }
        }
    }
    out
}

/// Plans, or applies, `desired` against live AWS.
pub async fn converge(aws: Arc<Aws>, desired: &State, options: &ConvergeOptions) -> Outcome {
    let mut outcome = Outcome::default();
    // Organizations first, read and proven: guardrails that would lock out a deploy role
    // stop apply before anything at all is written.
    let org_plan =
        match crate::guardrails::plan_guardrails(&aws, desired, &options.deploy_roles).await {
            Ok(plan) => plan,
            Err(e) => {
                let refused = e.message.starts_with(crate::guardrails::REFUSAL);
                outcome.failures.push(Failure {
                    account: aws.caller_account.clone(),
                    region: None,
                    error: e.to_string(),
                });
                if refused && options.apply {
                    outcome.desired = Some(desired.clone());
                    return outcome;
                }
                None
            }
        };
    let mut desired = desired.clone();
    let la = desired.log_archive.account_id.clone();
    match aws.account(&la).await {
        Ok(c) => {
            if let Err(e) = log_archive(&aws, &c, &mut desired, options.apply, &mut outcome).await {
                outcome.failures.push(Failure {
                    account: la.clone(),
                    region: None,
                    error: e.to_string(),
                });
            }
        }
        Err(e) => outcome.failures.push(Failure {
            account: la.clone(),
            region: None,
            error: e.to_string(),
        }),
    }

    // Member documents name the keys: with a key still unknown, applying them would write
    // placeholder ARNs into every account. Plan shows them; apply waits for a re-run.
    if options.apply && desired.keys.iter().any(|k| k.arn_is_placeholder) {
        for account in &desired.accounts {
            outcome.failures.push(Failure {
                account: account.id.clone(),
                region: None,
                error: format!(
                    "account {}: not applied: the log-archive keys are not all in place (see the log-archive error); re-run apply",
                    account.id
                ),
            });
        }
        outcome.desired = Some(desired);
        return outcome;
    }

    type Unit = Result<Vec<Change>, (String, Option<String>, AwsError)>;
    type Job = std::pin::Pin<Box<dyn Future<Output = Unit> + Send>>;
    let mut jobs: Vec<(String, Job)> = Vec::new();
    for account in &desired.accounts {
        let (aws1, id, roles, apply) = (
            aws.clone(),
            account.id.clone(),
            account.roles.clone(),
            options.apply,
        );
        jobs.push((
            format!("{id} iam"),
            Box::pin(async move {
                let c = aws1.account(&id).await.map_err(|e| (id.clone(), None, e))?;
                roles_unit(&c, &roles, apply)
                    .await
                    .map_err(|e| (id, None, e))
            }),
        ));
        for region in &account.regions {
            let (aws1, id, name, prefs, apply, keep) = (
                aws.clone(),
                account.id.clone(),
                region.name.clone(),
                region.preferences.clone(),
                options.apply,
                options.keep_inputs.clone(),
            );
            jobs.push((
                format!("{id} {name}"),
                Box::pin(async move {
                    let c = aws1
                        .account(&id)
                        .await
                        .map_err(|e| (id.clone(), Some(name.clone()), e))?;
                    preferences_unit(&c, &name, prefs.as_ref(), &keep, apply)
                        .await
                        .map_err(|e| {
                            let e = crate::error::in_region(e, &id, &name);
                            (id, Some(name), e)
                        })
                }),
            ));
        }
    }
    for result in bounded(options.concurrency, jobs, options.progress.clone()).await {
        match result {
            Some(Ok(mut changes)) => outcome.changes.append(&mut changes),
            Some(Err((account, region, e))) => outcome.failures.push(Failure {
                account,
                region,
                error: e.to_string(),
            }),
            None => outcome.failures.push(Failure {
                account: String::new(),
                region: None,
                error: "a task stopped without an answer".to_string(),
            }),
        }
    }

    // Last, once the members' preferences are written: from then on only the deploy
    // roles may change them.
    if let Some(plan) = org_plan {
        outcome.changes.extend(plan.changes.iter().cloned());
        let pending = plan.changes.iter().any(|c| c.action != Action::NoChange);
        if options.apply && pending {
            if let Err(e) = crate::guardrails::write_guardrails(&plan).await {
                outcome.failures.push(Failure {
                    account: aws.caller_account.clone(),
                    region: None,
                    error: e.to_string(),
                });
            }
        }
    }
    outcome.desired = Some(desired);
    outcome
}

fn change(
    account: &str,
    region: Option<&str>,
    resource: String,
    before: Option<Value>,
    after: Value,
    same: bool,
) -> Change {
    let action = match (&before, same) {
        (None, _) => Action::Create,
        (Some(_), true) => Action::NoChange,
        (Some(_), false) => Action::Update,
    };
    Change {
        account: account.to_string(),
        region: region.map(str::to_string),
        resource,
        action,
        before,
        after: Some(after),
        notes: Vec::new(),
    }
}

fn json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

async fn log_archive(
    aws: &Aws,
    c: &AccountClients,
    desired: &mut State,
    apply: bool,
    out: &mut Outcome,
) -> Result<(), AwsError> {
    let mut replacements = Vec::new();
    let mut real_arns: Vec<(String, String)> = Vec::new();
    // Whoever writes the key policies there: it must keep the right to change them.
    let caller = aws.principal_in(&desired.log_archive.account_id);
    for key in desired.keys.clone() {
        // A replica is made from its primary, which comes first in the State.
        let primary = key.replica_of.as_ref().and_then(|p| {
            real_arns
                .iter()
                .find(|(n, _)| n == p)
                .map(|(_, a)| a.clone())
        });
        if let Some(real) = key_unit(c, &key, primary.as_deref(), &caller, apply, out).await? {
            if key.arn_is_placeholder {
                // By key id: documents may name a multi-Region key in any region.
                let id = |arn: &str| format!(":key/{}", arn.rsplit('/').next().unwrap_or(arn));
                replacements.push((id(&key.arn), id(&real)));
            }
            real_arns.push((key.name.clone(), real));
        }
    }
    if !replacements.is_empty() {
        let mut v = json(&*desired);
        replace_strings(&mut v, &replacements);
        if let Ok(s) = serde_json::from_value::<State>(v) {
            *desired = s;
        }
        for k in &mut desired.keys {
            k.arn_is_placeholder = k.arn.contains(ssmlog_render::PLACEHOLDER_KEY_ID_PREFIX);
        }
    }
    bucket_unit(c, &desired.bucket, apply, out).await
}

fn replace_strings(v: &mut Value, pairs: &[(String, String)]) {
    match v {
        Value::String(s) => {
            for (from, to) in pairs {
                if s.contains(from.as_str()) {
                    *s = s.replace(from.as_str(), to);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| replace_strings(x, pairs)),
        Value::Object(o) => o.values_mut().for_each(|x| replace_strings(x, pairs)),
        _ => {}
    }
}

/// The region of a key, from its ARN.
pub(crate) fn key_region(arn: &str) -> &str {
    arn.split(':').nth(3).unwrap_or_default()
}

/// One key: create it (a multi-Region primary, or a replica of `primary`, with its alias
/// and rotation) or merge its policy. Returns its ARN.
async fn key_unit(
    c: &AccountClients,
    key: &Key,
    primary: Option<&str>,
    caller: &str,
    apply: bool,
    out: &mut Outcome,
) -> Result<Option<String>, AwsError> {
    let la = c.account.clone();
    let region = key_region(&key.arn);
    let arn = (!key.arn_is_placeholder).then_some(key.arn.as_str());
    let mut live = live::find_key(c, region, arn, key.alias.as_deref()).await?;
    // A key an earlier apply created but could not alias: adopt it, alias it; any other
    // such key is an orphan, reported.
    let mut adopt = false;
    let mut orphans = Vec::new();
    if live.is_none() && key.arn_is_placeholder {
        let mut found = live::find_unaliased_keys(c, region, &key.name).await?;
        if !found.is_empty() {
            live = Some(found.remove(0));
            adopt = true;
            orphans = found;
        }
    }
    let desired_policy = key.policy.clone().unwrap_or(Value::Null);
    let mut admins = key.administrators.clone();
    admins.push(caller.to_string());
    let kms = c.kms(region);
    let label = key_label(key.alias.as_deref(), live.as_ref().map(|k| k.id.as_str()));
    let resource = format!("key {} ({label}) policy", key.name);
    match live {
        None => {
            out.changes.push(change(
                &la,
                Some(region),
                resource,
                None,
                desired_policy.clone(),
                false,
            ));
            if !apply {
                return Ok(None);
            }
            if let Err(locked) = merge::lockout(&key.arn, &desired_policy, &admins) {
                return Err(lockout_error(&la, &key.name, &locked));
            }
            let created = match (&key.replica_of, primary) {
                (Some(_), Some(primary)) => call!(
                    c,
                    "kms:ReplicateKey",
                    c.kms(key_region(primary))
                        .replicate_key()
                        .key_id(primary.rsplit('/').next().unwrap_or(primary))
                        .replica_region(region)
                        .policy(desired_policy.to_string())
                        .tags(name_tag(&key.name)?)
                        .send()
                )?
                .and_then(|o| o.replica_key_metadata),
                (Some(p), None) => {
                    return Err(AwsError::new(
                        format!("account {la}: key {}", key.name),
                        format!("its primary `{p}` does not exist yet"),
                    ))
                }
                (None, _) => {
                    return create_key(c, &kms, key, &desired_policy, out)
                        .await
                        .map(Some)
                }
            }
            .ok_or_else(|| AwsError::new(format!("account {la}"), "KMS returned no key"))?;
            finish_key(c, &kms, key, &created.key_id).await?;
            Ok(created.arn)
        }
        Some(k) => {
            if let (true, Some(alias)) = (adopt, &key.alias) {
                let mut ch = change(
                    &la,
                    Some(region),
                    format!(
                        "key {} alias (adopting {}, created by an interrupted apply)",
                        key.name, k.id
                    ),
                    None,
                    Value::String(alias.clone()),
                    false,
                );
                ch.notes = orphan_notes(&key.name, region, &orphans);
                out.changes.push(ch);
                if apply {
                    set_alias(c, &kms, alias, &k.id).await?;
                }
            }
            let merged = merge::merge_policy(&desired_policy, k.policy.as_ref());
            let same = k
                .policy
                .as_ref()
                .is_some_and(|p| merge::same_policy(p, &merged));
            let mut ch = change(
                &la,
                Some(region),
                resource,
                Some(k.policy.clone().unwrap_or(Value::Null)),
                merged.clone(),
                same,
            );
            ch.notes = merge::neutralised(&desired_policy, &merged, &k.arn, &la);
            out.changes.push(ch);
            if !same {
                if let Err(locked) = merge::lockout(&k.arn, &merged, &admins) {
                    return Err(lockout_error(&la, &key.name, &locked));
                }
                if apply {
                    call!(
                        c,
                        "kms:PutKeyPolicy",
                        kms.put_key_policy()
                            .key_id(&k.id)
                            .policy_name("default")
                            .policy(merged.to_string())
                            .send()
                    )?;
                }
            }
            // Rotation is a property of the primary; replicas share it.
            let rotation_same = k.rotation || !key.rotation_enabled || key.replica_of.is_some();
            out.changes.push(change(
                &la,
                Some(region),
                format!("key {} rotation", key.name),
                Some(Value::Bool(k.rotation)),
                Value::Bool(k.rotation || key.rotation_enabled),
                rotation_same,
            ));
            if apply && !rotation_same {
                call!(
                    c,
                    "kms:EnableKeyRotation",
                    kms.enable_key_rotation().key_id(&k.id).send()
                )?;
            }
            Ok(Some(k.arn))
        }
    }
}

/// How plan names a key: by its alias, else by its key id (a configured key without an
/// alias), so it always says which key.
fn key_label(alias: Option<&str>, id: Option<&str>) -> String {
    match (alias, id) {
        (Some(a), _) => a.to_string(),
        (None, Some(id)) => id.to_string(),
        (None, None) => "new key, no alias".to_string(),
    }
}

/// Creates a key (not a replica) and gives it its alias and rotation; returns its ARN.
///
/// `CreateKey` has no idempotency token: if its reply is lost, a retry makes a second key.
/// So the SDK does not retry it, and after any failure the keys tagged with this key's name
/// are looked up: one is adopted (the call did create it), any other is reported as an
/// orphan with the command that schedules its deletion.
async fn create_key(
    c: &AccountClients,
    kms: &aws_sdk_kms::Client,
    key: &Key,
    policy: &Value,
    out: &mut Outcome,
) -> Result<String, AwsError> {
    let la = c.account.clone();
    let region = key_region(&key.arn);
    c.count("kms:CreateKey");
    let no_retry = aws_sdk_kms::config::Builder::default()
        .retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled());
    let created = kms
        .create_key()
        .policy(policy.to_string())
        .multi_region(key.multi_region)
        .tags(name_tag(&key.name)?)
        .description(format!("ssmlog {}: central Session Manager logs", key.name))
        .customize()
        .config_override(no_retry)
        .send()
        .await;
    let (id, arn) = match created {
        Ok(o) => {
            let m = o
                .key_metadata
                .ok_or_else(|| AwsError::new(format!("account {la}"), "KMS returned no key"))?;
            (m.key_id, m.arn.unwrap_or_default())
        }
        Err(e) => {
            let failed = AwsError::from_sdk(format!("account {la}: kms:CreateKey in {region}"), &e);
            // The key may exist all the same: look for it before saying anything.
            let mut found = live::find_unaliased_keys(c, region, &key.name)
                .await
                .map_err(|_| failed.clone())?;
            if found.is_empty() {
                return Err(failed);
            }
            let k = found.remove(0);
            let mut ch = change(
                &la,
                Some(region),
                format!(
                    "key {} (adopting {}: CreateKey failed ({}) but had created it)",
                    key.name, k.id, failed.message
                ),
                None,
                Value::String(k.arn.clone()),
                false,
            );
            ch.notes = orphan_notes(&key.name, region, &found);
            out.changes.push(ch);
            (k.id, k.arn)
        }
    };
    finish_key(c, kms, key, &id).await?;
    Ok(arn)
}

/// A new (or just adopted) key's alias, and rotation for a primary.
async fn finish_key(
    c: &AccountClients,
    kms: &aws_sdk_kms::Client,
    key: &Key,
    key_id: &str,
) -> Result<(), AwsError> {
    if let Some(alias) = &key.alias {
        set_alias(c, kms, alias, key_id).await?;
    }
    if key.rotation_enabled && key.replica_of.is_none() {
        call!(
            c,
            "kms:EnableKeyRotation",
            kms.enable_key_rotation().key_id(key_id).send()
        )?;
    }
    Ok(())
}

/// What plan and apply say of keys tagged for `name` beyond the one adopted: they cost money
/// and are used by nothing; their deletion is the user's call, so ssmlog gives the command.
fn orphan_notes(name: &str, region: &str, orphans: &[live::LiveKey]) -> Vec<String> {
    orphans
        .iter()
        .map(|o| {
            format!(
                "orphan key {} (tagged {}={name}, no alias, used by nothing): schedule its deletion with `aws kms schedule-key-deletion --region {region} --key-id {} --pending-window-in-days 30`",
                o.id,
                live::KEY_NAME_TAG,
                o.id
            )
        })
        .collect()
}

/// The [`live::KEY_NAME_TAG`] of a key ssmlog creates.
fn name_tag(name: &str) -> Result<aws_sdk_kms::types::Tag, AwsError> {
    aws_sdk_kms::types::Tag::builder()
        .tag_key(live::KEY_NAME_TAG)
        .tag_value(name)
        .build()
        .map_err(|e| AwsError::new(format!("key {name}"), e.to_string()))
}

/// Points `alias` at `key_id`: created, or moved when it already exists (some
/// implementations copy aliases to replicas).
async fn set_alias(
    c: &AccountClients,
    kms: &aws_sdk_kms::Client,
    alias: &str,
    key_id: &str,
) -> Result<(), AwsError> {
    c.count("kms:CreateAlias");
    let made = kms
        .create_alias()
        .alias_name(alias)
        .target_key_id(key_id)
        .send()
        .await;
    match made {
        Ok(_) => Ok(()),
        Err(e) if crate::error::code_of(&e) == Some("AlreadyExistsException") => {
            call!(
                c,
                "kms:UpdateAlias",
                kms.update_alias()
                    .alias_name(alias)
                    .target_key_id(key_id)
                    .send()
            )?;
            Ok(())
        }
        Err(e) => Err(AwsError::sdk(
            format!("account {}: kms:CreateAlias", c.account),
            &e,
        )),
    }
}

fn lockout_error(account: &str, key: &str, locked: &[String]) -> AwsError {
    AwsError::new(
        format!("account {account}: key {key}"),
        format!(
            "refusing a key policy that would lock out {}: it must let them call kms:PutKeyPolicy (keep the account-root statement or list them as administrators)",
            locked.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
        ),
    )
}

/// The lifecycle apply writes: ssmlog's rules (ids `ssmlog-…`) as desired, then the
/// bucket's other rules unchanged.
fn merge_lifecycle(desired: &[LifecycleRule], live: &[LifecycleRule]) -> Vec<LifecycleRule> {
    let mut out = desired.to_vec();
    out.extend(
        live.iter()
            .filter(|r| !r.id.starts_with("ssmlog-"))
            .cloned(),
    );
    out
}

async fn bucket_unit(
    c: &AccountClients,
    d: &Bucket,
    apply: bool,
    out: &mut Outcome,
) -> Result<(), AwsError> {
    let la = c.account.clone();
    let region = d.region.as_str();
    let s3 = c.s3(region);
    let live = live::read_bucket(c, &d.name, region).await?;
    let name = &d.name;
    if live.is_none() {
        out.changes.push(change(
            &la,
            Some(region),
            format!("bucket {name}"),
            None,
            Value::String(name.clone()),
            false,
        ));
        if apply {
            let mut req = s3.create_bucket().bucket(name);
            if region != "us-east-1" {
                req = req.create_bucket_configuration(
                    aws_sdk_s3::types::CreateBucketConfiguration::builder()
                        .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                            region,
                        ))
                        .build(),
                );
            }
            if d.object_lock.is_some() {
                req = req.object_lock_enabled_for_bucket(true);
            }
            call!(c, "s3:CreateBucket", req.send())?;
        }
    }
    let l = live.as_ref();
    let mut push = |what: &str, before: Option<Value>, after: Value, same: bool| -> bool {
        out.changes.push(change(
            &la,
            Some(region),
            format!("bucket {name} {what}"),
            before,
            after,
            same,
        ));
        apply && !same
    };

    let enc = &d.default_encryption;
    if push(
        "encryption",
        l.map(|b| json(&b.default_encryption)),
        json(enc),
        l.is_some_and(|b| &b.default_encryption == enc),
    ) {
        use aws_sdk_s3::types::*;
        let by_default = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::from(enc.sse_algorithm.as_str()))
            .set_kms_master_key_id(enc.kms_key_id.clone())
            .build()
            .map_err(|e| AwsError::new("bucket encryption", e.to_string()))?;
        let rule = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(by_default)
            .bucket_key_enabled(enc.bucket_key_enabled)
            .build();
        let conf = ServerSideEncryptionConfiguration::builder()
            .rules(rule)
            .build()
            .map_err(|e| AwsError::new("bucket encryption", e.to_string()))?;
        call!(
            c,
            "s3:PutBucketEncryption",
            s3.put_bucket_encryption()
                .bucket(name)
                .server_side_encryption_configuration(conf)
                .send()
        )?;
    }
    let pab = d.public_access_block;
    if push(
        "public access block",
        l.map(|b| json(&b.public_access_block)),
        json(&pab),
        l.is_some_and(|b| b.public_access_block == pab),
    ) {
        let conf = aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
            .block_public_acls(pab.block_public_acls)
            .ignore_public_acls(pab.ignore_public_acls)
            .block_public_policy(pab.block_public_policy)
            .restrict_public_buckets(pab.restrict_public_buckets)
            .build();
        call!(
            c,
            "s3:PutPublicAccessBlock",
            s3.put_public_access_block()
                .bucket(name)
                .public_access_block_configuration(conf)
                .send()
        )?;
    }
    let own = &d.object_ownership;
    if push(
        "object ownership",
        l.map(|b| json(&b.object_ownership)),
        json(own),
        l.is_some_and(|b| &b.object_ownership == own),
    ) {
        use aws_sdk_s3::types::*;
        let rule = OwnershipControlsRule::builder()
            .object_ownership(ObjectOwnership::from(own.as_str()))
            .build()
            .map_err(|e| AwsError::new("bucket ownership", e.to_string()))?;
        let conf = OwnershipControls::builder()
            .rules(rule)
            .build()
            .map_err(|e| AwsError::new("bucket ownership", e.to_string()))?;
        call!(
            c,
            "s3:PutBucketOwnershipControls",
            s3.put_bucket_ownership_controls()
                .bucket(name)
                .ownership_controls(conf)
                .send()
        )?;
    }
    // Versioning can be turned on or suspended, never off: `Disabled` asks for nothing.
    let vsame =
        d.versioning == Versioning::Disabled || l.is_some_and(|b| b.versioning == d.versioning);
    if push(
        "versioning",
        l.map(|b| json(&b.versioning)),
        json(&d.versioning),
        vsame,
    ) {
        use aws_sdk_s3::types::*;
        let status = if d.versioning == Versioning::Enabled {
            BucketVersioningStatus::Enabled
        } else {
            BucketVersioningStatus::Suspended
        };
        call!(
            c,
            "s3:PutBucketVersioning",
            s3.put_bucket_versioning()
                .bucket(name)
                .versioning_configuration(VersioningConfiguration::builder().status(status).build())
                .send()
        )?;
    }
    let live_rules = l.map(|b| b.lifecycle.clone()).unwrap_or_default();
    let rules = merge_lifecycle(&d.lifecycle, &live_rules);
    let lsame = d.lifecycle.is_empty() || (l.is_some() && live_rules == rules);
    if push(
        "lifecycle",
        l.map(|b| json(&b.lifecycle)),
        json(&rules),
        lsame,
    ) {
        let conf = lifecycle_configuration(&rules)?;
        call!(
            c,
            "s3:PutBucketLifecycleConfiguration",
            s3.put_bucket_lifecycle_configuration()
                .bucket(name)
                .lifecycle_configuration(conf)
                .send()
        )?;
    }
    if let Some(lock) = &d.object_lock {
        if push(
            "object lock",
            l.map(|b| json(&b.object_lock)),
            json(&d.object_lock),
            l.is_some_and(|b| b.object_lock.as_ref() == Some(lock)),
        ) {
            use aws_sdk_s3::types::*;
            let conf = ObjectLockConfiguration::builder()
                .object_lock_enabled(ObjectLockEnabled::Enabled)
                .rule(
                    ObjectLockRule::builder()
                        .default_retention(
                            DefaultRetention::builder()
                                .mode(ObjectLockRetentionMode::from(lock.mode.as_str()))
                                .days(i32::try_from(lock.days).unwrap_or(i32::MAX))
                                .build(),
                        )
                        .build(),
                )
                .build();
            call!(
                c,
                "s3:PutObjectLockConfiguration",
                s3.put_object_lock_configuration()
                    .bucket(name)
                    .object_lock_configuration(conf)
                    .send()
            )?;
        }
    }
    if let Some(policy) = &d.policy {
        let live_policy = l.and_then(|b| b.policy.as_ref());
        let merged = merge::merge_policy(policy, live_policy);
        let same = live_policy.is_some_and(|p| merge::same_policy(p, &merged));
        let notes = merge::neutralised(policy, &merged, &format!("arn:aws:s3:::{name}"), &la);
        let write = push("policy", live_policy.cloned(), merged.clone(), same);
        if let Some(last) = out.changes.last_mut() {
            last.notes = notes;
        }
        if write {
            call!(
                c,
                "s3:PutBucketPolicy",
                s3.put_bucket_policy()
                    .bucket(name)
                    .policy(merged.to_string())
                    .send()
            )?;
        }
    }
    Ok(())
}

fn lifecycle_configuration(
    rules: &[LifecycleRule],
) -> Result<aws_sdk_s3::types::BucketLifecycleConfiguration, AwsError> {
    use aws_sdk_s3::types::*;
    let err = |e: aws_sdk_s3::error::BuildError| AwsError::new("bucket lifecycle", e.to_string());
    let mut out = Vec::new();
    for r in rules {
        let days = |d: u32| i32::try_from(d).unwrap_or(i32::MAX);
        let mut b = LifecycleRule::builder()
            .id(&r.id)
            .status(if r.enabled {
                ExpirationStatus::Enabled
            } else {
                ExpirationStatus::Disabled
            })
            .filter(LifecycleRuleFilter::builder().prefix(&r.prefix).build());
        if let Some(d) = r.expiration_days {
            b = b.expiration(LifecycleExpiration::builder().days(days(d)).build());
        }
        for t in &r.transitions {
            b = b.transitions(
                Transition::builder()
                    .days(days(t.days))
                    .storage_class(TransitionStorageClass::from(t.storage_class.as_str()))
                    .build(),
            );
        }
        if let Some(d) = r.noncurrent_version_expiration_days {
            b = b.noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(days(d))
                    .build(),
            );
        }
        if let Some(d) = r.abort_incomplete_multipart_upload_days {
            b = b.abort_incomplete_multipart_upload(
                AbortIncompleteMultipartUpload::builder()
                    .days_after_initiation(days(d))
                    .build(),
            );
        }
        out.push(b.build().map_err(err)?);
    }
    BucketLifecycleConfiguration::builder()
        .set_rules(Some(out))
        .build()
        .map_err(err)
}

/// An account's instance roles: ssmlog's inline policy on each (other inline policies are
/// other documents and stay as they are); a role of kind `created` is created first, with
/// its trust policy, managed policies and instance profile.
async fn roles_unit(
    c: &AccountClients,
    roles: &[Role],
    apply: bool,
) -> Result<Vec<Change>, AwsError> {
    let iam = c.iam();
    let mut changes = Vec::new();
    for role in roles {
        let live = live::read_role(c, &role.name).await?;
        if role.kind == RoleKind::Created {
            created_role(c, role, live.as_ref(), apply, &mut changes).await?;
        }
        let live_policies = match live {
            Some(l) => l.policies,
            None if role.kind == RoleKind::Created => Vec::new(),
            None => {
                return Err(AwsError::new(
                    format!("account {}: role `{}`", c.account, role.name),
                    "the role does not exist: create it, or leave it out of instance_roles",
                ))
            }
        };
        let live = live::LiveRole {
            path: role.path.clone(),
            trust_policy: None,
            managed_policy_arns: Vec::new(),
            policies: live_policies,
        };
        for p in &role.policies {
            let current = live
                .policies
                .iter()
                .find(|l| l.name == p.name)
                .map(|l| l.document.clone());
            let same = current
                .as_ref()
                .is_some_and(|d| merge::same_policy(d, &p.document));
            changes.push(change(
                &c.account,
                None,
                format!("role {} policy {}", role.name, p.name),
                current,
                p.document.clone(),
                same,
            ));
            if apply && !same {
                call!(
                    c,
                    "iam:PutRolePolicy",
                    iam.put_role_policy()
                        .role_name(&role.name)
                        .policy_name(&p.name)
                        .policy_document(p.document.to_string())
                        .send()
                )?;
            }
        }
    }
    Ok(changes)
}

/// A role ssmlog owns: created with its trust policy when absent, the trust policy kept as
/// rendered, its managed policies attached, and an instance profile of the same name holding
/// it. Each step checks the live state, so an interrupted apply is finished by the next.
async fn created_role(
    c: &AccountClients,
    role: &Role,
    live: Option<&live::LiveRole>,
    apply: bool,
    changes: &mut Vec<Change>,
) -> Result<(), AwsError> {
    let iam = c.iam();
    let Some(trust) = &role.trust_policy else {
        return Err(AwsError::new(
            format!("account {}: role `{}`", c.account, role.name),
            "a role ssmlog creates needs its trust policy in the State: re-render it",
        ));
    };
    let live_trust = live.and_then(|l| l.trust_policy.clone());
    let same_trust = live_trust
        .as_ref()
        .is_some_and(|t| merge::same_policy(t, trust));
    changes.push(change(
        &c.account,
        None,
        format!("role {} trust policy", role.name),
        live_trust,
        trust.clone(),
        same_trust,
    ));
    if apply && live.is_none() {
        call!(
            c,
            "iam:CreateRole",
            iam.create_role()
                .role_name(&role.name)
                .path(&role.path)
                .assume_role_policy_document(trust.to_string())
                .description("Instance role created by ssmlog for the SSM Agent")
                .send()
        )?;
    } else if apply && !same_trust {
        call!(
            c,
            "iam:UpdateAssumeRolePolicy",
            iam.update_assume_role_policy()
                .role_name(&role.name)
                .policy_document(trust.to_string())
                .send()
        )?;
    }
    for arn in &role.managed_policy_arns {
        let attached = live.is_some_and(|l| l.managed_policy_arns.contains(arn));
        changes.push(change(
            &c.account,
            None,
            format!("role {} managed policy", role.name),
            attached.then(|| Value::String(arn.clone())),
            Value::String(arn.clone()),
            attached,
        ));
        if apply && !attached {
            call!(
                c,
                "iam:AttachRolePolicy",
                iam.attach_role_policy()
                    .role_name(&role.name)
                    .policy_arn(arn)
                    .send()
            )?;
        }
    }
    let profile = call!(
        c,
        "iam:GetInstanceProfile",
        iam.get_instance_profile()
            .instance_profile_name(&role.name)
            .send()
    )?
    .and_then(|o| o.instance_profile);
    let holds_role = profile
        .as_ref()
        .is_some_and(|p| p.roles.iter().any(|r| r.role_name == role.name));
    let want = serde_json::json!({ "InstanceProfileName": role.name, "Roles": [role.name] });
    changes.push(change(
        &c.account,
        None,
        format!("instance profile {}", role.name),
        profile.as_ref().map(|p| {
            let roles: Vec<&str> = p.roles.iter().map(|r| r.role_name.as_str()).collect();
            serde_json::json!({ "InstanceProfileName": p.instance_profile_name, "Roles": roles })
        }),
        want,
        holds_role,
    ));
    if apply && profile.is_none() {
        call!(
            c,
            "iam:CreateInstanceProfile",
            iam.create_instance_profile()
                .instance_profile_name(&role.name)
                .path(&role.path)
                .send()
        )?;
    }
    if apply && !holds_role {
        call!(
            c,
            "iam:AddRoleToInstanceProfile",
            iam.add_role_to_instance_profile()
                .instance_profile_name(&role.name)
                .role_name(&role.name)
                .send()
        )?;
    }
    Ok(())
}

/// One account/region's `SSM-SessionManagerRunShell`: create it, or write a new version
/// merged with the live one and make it the default; an update interrupted before the
/// default moved is finished by moving it, and content equal to an older version (which
/// `UpdateDocument` refuses: `DuplicateDocumentContent`) is converged by making that
/// version the default.
async fn preferences_unit(
    c: &AccountClients,
    region: &str,
    desired: Option<&Value>,
    keep: &[String],
    apply: bool,
) -> Result<Vec<Change>, AwsError> {
    let Some(desired) = desired else {
        return Ok(Vec::new());
    };
    let ssm = c.ssm(region);
    let name = ssmlog_state::PREFERENCES_DOCUMENT;
    let live = live::read_preferences(c, region).await?;
    let merged = merge::merge_preferences(desired, live.as_ref().map(|l| &l.content), keep);
    let same = live.as_ref().is_some_and(|l| l.content == merged);
    let mut ch = change(
        &c.account,
        Some(region),
        format!("preferences {name}"),
        live.as_ref().map(|l| l.content.clone()),
        merged.clone(),
        same,
    );
    if let (Some(l), false) = (&live, same) {
        ch.notes = merge::preference_notes(desired, &l.content, &merged);
    }
    if !apply || same {
        return Ok(vec![ch]);
    }
    match live {
        None => {
            call!(
                c,
                "ssm:CreateDocument",
                ssm.create_document()
                    .name(name)
                    .content(merged.to_string())
                    .document_type(aws_sdk_ssm::types::DocumentType::Session)
                    .document_format(aws_sdk_ssm::types::DocumentFormat::Json)
                    .send()
            )?;
        }
        Some(LivePreferences {
            latest_content,
            latest_version,
            ..
        }) => {
            let version = if latest_content.as_ref() == Some(&merged) {
                latest_version
            } else {
                new_version(c, &ssm, region, &merged, &latest_version).await?
            };
            call!(
                c,
                "ssm:UpdateDocumentDefaultVersion",
                ssm.update_document_default_version()
                    .name(name)
                    .document_version(version)
                    .send()
            )?;
        }
    }
    Ok(vec![ch])
}

/// The version of `SSM-SessionManagerRunShell` holding `content`: a new one, or, when
/// `UpdateDocument` answers `DuplicateDocumentContent`, the existing version with that
/// content (found by reading the versions, from `latest` down).
async fn new_version(
    c: &AccountClients,
    ssm: &aws_sdk_ssm::Client,
    region: &str,
    content: &Value,
    latest: &str,
) -> Result<String, AwsError> {
    let name = ssmlog_state::PREFERENCES_DOCUMENT;
    let where_ = || format!("account {} {region}", c.account);
    c.count("ssm:UpdateDocument");
    let updated = ssm
        .update_document()
        .name(name)
        .content(content.to_string())
        .document_version("$LATEST")
        .send()
        .await;
    match updated {
        Ok(o) => o
            .document_description
            .and_then(|d| d.document_version)
            .ok_or_else(|| AwsError::new(where_(), "UpdateDocument returned no version")),
        Err(e) if crate::error::code_of(&e) == Some("DuplicateDocumentContent") => {
            // Versions are numbered 1..=latest; the wanted one is most likely recent.
            let latest: u64 = latest.parse().unwrap_or(1);
            let versions = (1..=latest).rev().map(|v| v.to_string());
            for v in versions {
                let text = call!(
                    c,
                    "ssm:GetDocument",
                    ssm.get_document().name(name).document_version(&v).send()
                )?
                .and_then(|d| d.content);
                let same = text
                    .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                    .is_some_and(|old| &old == content);
                if same {
                    return Ok(v);
                }
            }
            Err(AwsError::new(
                format!("{}: ssm:UpdateDocument", where_()),
                "AWS says an existing version has this content (DuplicateDocumentContent), but no version read back equals it",
            )
            .with_help("compare `aws ssm list-document-versions --name SSM-SessionManagerRunShell` with `ssmlog plan`, and set the default version by hand (`aws ssm update-document-default-version`)"))
        }
        Err(e) => Err(AwsError::sdk(
            format!("{}: ssm:UpdateDocument", where_()),
            &e,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_keeps_foreign_rules() {
        let rule = |id: &str| LifecycleRule {
            id: id.to_string(),
            enabled: true,
            prefix: String::new(),
            expiration_days: Some(1),
            transitions: Vec::new(),
            noncurrent_version_expiration_days: None,
            abort_incomplete_multipart_upload_days: None,
        };
        let merged = merge_lifecycle(
            &[rule("ssmlog-retention")],
            &[rule("ssmlog-old"), rule("theirs")],
        );
        let ids: Vec<_> = merged.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["ssmlog-retention", "theirs"]);
    }

    #[test]
    fn issue_10_a_key_without_alias_is_named_by_its_id() {
        assert_eq!(key_label(Some("alias/x"), Some("1234")), "alias/x");
        assert_eq!(key_label(None, Some("1234abcd")), "1234abcd");
        assert_eq!(key_label(None, None), "new key, no alias");
    }

    #[test]
    fn placeholders_are_replaced_everywhere() {
        let mut v = serde_json::json!({"a": ["x:key/ssmlog-pending-bucket-key"], "b": {"c": "key/ssmlog-pending-bucket-key"}});
        replace_strings(
            &mut v,
            &[
                ("x:key/ssmlog-pending-bucket-key".into(), "REAL".into()),
                ("key/ssmlog-pending-bucket-key".into(), "R2".into()),
            ],
        );
        assert_eq!(v, serde_json::json!({"a": ["REAL"], "b": {"c": "R2"}}));
    }
}
