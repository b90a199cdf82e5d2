//! `ssmlog check`: an offline proof, on any State, that every member account can make every
//! call the SSM Agent and Session Manager make for central logging, and that nobody else can
//! read, overwrite, forge or decrypt the logs, with the deciding statements and a fix for
//! each failure.
//!
//! Pure: a [`State`](ssmlog_state::State) in, a [`Report`] out; no IO.

mod agent;
mod control;
mod guardrails;
mod lints;
mod locate;
mod network;
mod prepare;
mod probes;
mod prover;
mod report;

pub use report::{AccessProof, Finding, ProofKind, Report, Row, Severity};

use ssmlog_iam::{Policy, PolicyKind};
use ssmlog_state::State;

/// What the State alone does not say.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Principal ARN patterns of the people who start sessions (`kms:GenerateDataKey` on
    /// Key 2); `*` in the account part stands for each member account.
    pub session_starters: Vec<String>,
    /// Keep every proof of this account in full, for `--explain`.
    pub explain_account: Option<String>,
    /// Keep every proof of every account in full (the HTML report opens each cell's deciding
    /// statements); requests are then decided one by one, not memoized across regions.
    pub keep_proofs: bool,
    /// Who administers the bucket (the config's `bucket.administrators`); empty means the
    /// keys' administrators, as render defaults it.
    pub bucket_administrators: Vec<String>,
    /// The config's `[guardrails]`: when given, `check` proves that member administrators
    /// cannot switch logging off or go around it, and that the exempted keep their access.
    pub guardrails: Option<GuardrailOptions>,
    /// Principal ARN patterns of the auditors (`[readers]`) who must be able to list, read
    /// and decrypt every account's logs; when given, nobody else may read them.
    pub readers: Vec<String>,
    /// Accounts whose network must be in the State (the config's `[network]`; `*` for
    /// every account): an unknown network there is an error rather than a note.
    pub networks_expected: Vec<String>,
}

impl CheckOptions {
    /// What a config says the proof must show beyond the State itself: who starts
    /// sessions, who administers the bucket, the guardrails, the readers and whose network
    /// must be known. `check --config`, `verify --proof` and `pull`'s proof all start here.
    pub fn from_config(cfg: &ssmlog_render::Config) -> Self {
        Self {
            session_starters: cfg.session.starters.clone(),
            bucket_administrators: cfg.bucket.administrators.clone(),
            guardrails: cfg.guardrails.as_ref().map(|g| GuardrailOptions {
                deploy_roles: g.deploy_roles.clone(),
                port_forwarding: g.port_forwarding.clone(),
                session_documents: g.session_documents.clone(),
            }),
            readers: cfg.readers.clone(),
            networks_expected: cfg
                .network
                .as_ref()
                .map(|n| n.expected.clone())
                .unwrap_or_default(),
            ..Self::default()
        }
    }
}

/// What the config's `[guardrails]` exempts, for the proofs.
#[derive(Debug, Clone, Default)]
pub struct GuardrailOptions {
    /// Roles that deploy ssmlog into member accounts (ARN patterns).
    pub deploy_roles: Vec<String>,
    /// Principals allowed port forwarding and SSH (ARN patterns).
    pub port_forwarding: Vec<String>,
    /// Session documents allowed besides `SSM-SessionManagerRunShell`.
    pub session_documents: Vec<String>,
}

/// Proves the State; see the crate documentation.
pub fn check(state: &State, options: &CheckOptions) -> Report {
    let mut prover = prover::Prover::new(
        &state.producer,
        options.explain_account.clone(),
        options.keep_proofs,
    );
    let mut findings = Vec::new();
    let prep = prepare::Prepared::new(state, &mut findings);
    for f in findings {
        prover.finding(f);
    }
    bucket_settings(state, &mut prover);
    coverage(state, &mut prover);
    let starter_identity: Vec<Policy> = Policy::parse(
        "(assumed) session starter's permission set",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:GenerateDataKey","Resource":"*"}]}"#,
        PolicyKind::Identity,
    )
    .into_iter()
    .collect();
    if options.session_starters.is_empty() && prep.session_keys().next().is_some() {
        prover.finding(agent::found(
            "session-starters-unknown",
            Severity::Note,
            "",
            None,
            "no session starters given: `kms:GenerateDataKey` on the session key by the people who start sessions is not proven".into(),
            "pass `--session-starter ARN_PATTERN` (or check the config, which names them)".into(),
            None,
        ));
    }
    let mut net = network::Network::new(&prep, &options.networks_expected);
    for (ai, (acct, roles)) in state.accounts.iter().zip(&prep.roles).enumerate() {
        if roles.is_empty() {
            prover.finding(agent::found(
                "no-instance-role",
                Severity::Error,
                &acct.id,
                None,
                format!(
                    "account {} has no instance role in the State: nothing can upload its logs",
                    acct.id
                ),
                "name the instance roles in the config (`instance_roles`)".into(),
                None,
            ));
        }
        let scope = agent::AccountScope {
            index: ai,
            account: acct,
            roles,
            scps: prep.scps_for(&acct.id),
        };
        let core = net.core_roles(&prep, &mut prover, ai);
        for region in &acct.regions {
            agent::prove_region(
                &prep,
                &mut prover,
                &scope,
                region,
                &options.session_starters,
                &starter_identity,
                net.public(&prep, &acct.id, &region.name),
            );
            net.prove_region(&prep, &mut prover, &scope, &core, region);
        }
        prover.forget();
    }
    net.finish(&mut prover);
    remote_regions(state, &mut prover);
    let broad_identity = probes::attacker_identity();
    control::prove_control(
        &prep,
        &mut prover,
        &broad_identity,
        &options.bucket_administrators,
    );
    probes::prove_probes(&prep, &mut prover, &broad_identity);
    guardrails::prove_guardrails(&prep, &mut prover, &broad_identity, options);
    guardrails::prove_readers(&prep, &mut prover, &broad_identity, &options.readers);
    let mut report = prover.finish();
    locate::locate(state, &mut report.findings);
    report
}

/// Only the proof that every deploy role (ARN patterns; `*` in the account part stands for
/// each member account) keeps control of `SSM-SessionManagerRunShell` in every member
/// account under the State's SCPs. `apply` runs it on the organization as it will be, before
/// writing a guardrail: a failure is an `administrator-locked-out` finding naming the
/// deciding SCP statement and its level in the tree.
pub fn deploy_role_control(state: &State, deploy_roles: &[String]) -> Report {
    let mut prover = prover::Prover::new(&state.producer, None, false);
    let mut findings = Vec::new();
    let prep = prepare::Prepared::new(state, &mut findings);
    for f in findings {
        prover.finding(f);
    }
    let everything = probes::attacker_identity();
    guardrails::prove_deploy_roles(&prep, &mut prover, &everything, deploy_roles);
    prover.finish()
}

/// What the proof does not cover must not pass silently: a State without member accounts
/// proves nothing about logging (`accounts.source = "organization"` rendered offline has
/// none), an account or region `pull` could not read proves nothing about it, and SCPs and
/// RCPs never restrict the management account.
fn coverage(state: &State, prover: &mut prover::Prover) {
    if state.accounts.is_empty() {
        prover.finding(agent::found(
            "no-member-accounts",
            Severity::Error,
            "",
            None,
            "the State has no member account: no agent call of any account, region or instance role was proven, nor any probe between members".into(),
            "list the members (`accounts.members`), or, with `accounts.source = \"organization\"`, prove the live organization: `ssmlog pull --out DIR` then `ssmlog check DIR`".into(),
            Some(("state.json".into(), "accounts".into())),
        ));
    }
    for u in &state.unreachable {
        // A region `pull` read except its network is still in `regions[]` (docs/STATE.md).
        let network_only = u.region.as_ref().is_some_and(|r| {
            state
                .accounts
                .iter()
                .any(|a| a.id == u.account && a.regions.iter().any(|x| &x.name == r))
                && state.network(&u.account, r).is_none()
        });
        let (message, fix) = match &u.region {
            Some(r) if network_only => (
                format!("the network of account {} in {r} could not be read by `pull`, so whether the agent reaches ssm, ssmmessages, ec2messages, kms and s3 there is not proven: {}", u.account, u.reason),
                "allow the access role there `ec2:DescribeVpcs`, `ec2:DescribeSubnets`, `ec2:DescribeRouteTables` and `ec2:DescribeVpcEndpoints` (an SCP may deny them), then pull again",
            ),
            Some(r) => (
                format!("account {} in {r} could not be read by `pull`, so nothing is proven there: {}", u.account, u.reason),
                "give the access role there (`--access-role`, `--access-role-for ACCOUNT=ROLE`) the rights to read it, or enable the region, then pull again",
            ),
            None => (
                format!("account {} could not be read by `pull`, so nothing is proven there: {}", u.account, u.reason),
                "give the access role there (`--access-role`, `--access-role-for ACCOUNT=ROLE`) the rights to read it, or enable the region, then pull again",
            ),
        };
        prover.finding(agent::found(
            "unreachable",
            Severity::Error,
            &u.account,
            u.region.as_deref(),
            message,
            fix.into(),
            Some(("state.json".into(), "unreachable".into())),
        ));
    }
    let la = &state.log_archive.account_id;
    if state.accounts.iter().any(|a| &a.id == la) {
        prover.finding(agent::found(
            "log-archive-member",
            Severity::Note,
            la,
            None,
            format!("account {la} is the log-archive account and a member: its agent calls are proven as any member's, but it owns the bucket and the keys, so it is not probed as a foreign member (its principals are covered by the `non-administrator` probes)"),
            "nothing to do".into(),
            None,
        ));
    }
    if let Some(m) = &state.organization.management_account_id {
        if state.accounts.iter().any(|a| &a.id == m) {
            prover.finding(agent::found(
                "management-account",
                Severity::Note,
                m,
                None,
                format!("account {m} is the organization's management account: SCPs and RCPs do not restrict it, so its proofs ignore them, and a guardrail SCP protects nothing there"),
                "run no workloads in the management account, or protect it by its own IAM policies".into(),
                None,
            ));
        }
    }
}

/// Sessions in a region other than the bucket's upload across regions: fine over the
/// internet or NAT, impossible through a gateway VPC endpoint, which only reaches its own
/// region. One note per such region.
fn remote_regions(state: &State, prover: &mut prover::Prover) {
    let mut regions: Vec<&str> = state
        .accounts
        .iter()
        .flat_map(|a| a.regions.iter().map(|r| r.name.as_str()))
        .filter(|r| *r != state.bucket.region)
        .collect();
    regions.sort_unstable();
    regions.dedup();
    for r in regions {
        prover.finding(agent::found(
            "bucket-other-region",
            Severity::Note,
            "",
            Some(r),
            format!(
                "sessions in {r} upload to the bucket in {}: instances that reach S3 only through a gateway VPC endpoint (regional) cannot deliver their logs",
                state.bucket.region
            ),
            format!("give such instances a route to S3 in {} (NAT, or an interface endpoint for S3 in {})", state.bucket.region, state.bucket.region),
            None,
        ));
    }
}

/// Bucket settings that decide whether logs are safe, beyond policies.
fn bucket_settings(state: &State, prover: &mut prover::Prover) {
    let b = &state.bucket;
    let f = |rule: &str, severity: Severity, message: String, fix: &str| {
        agent::found(
            rule,
            severity,
            "",
            None,
            message,
            fix.into(),
            Some(("state.json".into(), "bucket".into())),
        )
    };
    let pab = &b.public_access_block;
    if !(pab.block_public_acls
        && pab.ignore_public_acls
        && pab.block_public_policy
        && pab.restrict_public_buckets)
    {
        prover.finding(f("bucket-public-access", Severity::Warning, "the bucket's public-access block is not fully on: a later policy or ACL could expose logs".into(), "turn on all four public-access-block settings"));
    }
    if b.object_ownership != "BucketOwnerEnforced" {
        prover.finding(f(
            "bucket-ownership",
            Severity::Warning,
            format!(
                "object ownership is `{}`: objects written by member accounts may stay theirs",
                b.object_ownership
            ),
            "set object ownership to BucketOwnerEnforced",
        ));
    }
    if b.versioning != ssmlog_state::Versioning::Enabled {
        prover.finding(f(
            "bucket-versioning",
            Severity::Warning,
            "versioning is off: an overwritten or deleted log is gone".into(),
            "enable versioning (and Object Lock for tamper-proof logs)",
        ));
    }
    if b.policy.is_none() {
        prover.finding(f(
            "bucket-policy-missing",
            Severity::Error,
            "the bucket has no policy: no member account can write to it".into(),
            "apply the rendered bucket policy",
        ));
    }
    for k in &state.keys {
        if k.policy.is_none() {
            prover.finding(agent::found(
                "key-policy-missing",
                Severity::Error,
                "",
                None,
                format!("key `{}` has no key policy in the State", k.name),
                "apply the rendered key policy".into(),
                None,
            ));
        }
        if k.arn_is_placeholder {
            prover.finding(agent::found("key-placeholder", Severity::Note, "", None, format!("key `{}` does not exist yet; its ARN is a placeholder until `ssmlog apply` creates it", k.name), "nothing to do before apply".into(), None));
        }
    }
}
