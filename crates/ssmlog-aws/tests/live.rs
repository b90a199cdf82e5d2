//! End-to-end tests against a moto server on 127.0.0.1: an organization with a log-archive
//! account and three members in two regions, reached through STS AssumeRole; apply,
//! re-apply (zero writes), pull, check, and the real `aws` CLI reading back what apply wrote;
//! a log uploaded by the `aws` CLI that `verify` sees; the canary in every account; and an
//! apply interrupted twice by cutting the endpoint (a TCP proxy between the SDK and moto, so
//! moto's state survives) that a re-run finishes, adopting the key left without its alias.
//!
//! Issue 10 (brownfield): the article set up by hand converged by a hardened apply that
//! check then proves, drift and profile switches repaired (`DuplicateDocumentContent`), a
//! lost CreateKey reply, an unreachable account and region in pull, a disabled opt-in
//! region, and an apply cut at many points that loses no foreign statement and makes one
//! key per name.
//!
//! Each test starts its own `moto_server` on a free port and kills it when done. Without
//! `moto_server` or `aws` on PATH the tests skip, unless `SSMLOG_REQUIRE_TOOLS=1`.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test: a failure is the report"
)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use ssmlog_aws::{
    canary, converge, pull, verify, Aws, CanaryOptions, CanaryReport, ConnectOptions,
    ConvergeOptions, Status, Verification, VerifyOptions,
};
use ssmlog_moto::{ConfigShape, Creds, Moto, Org, Proxy, ENV};
use ssmlog_render::{parse_config, render, Profile};

/// The organization: management account (moto's default), a log-archive account and three
/// members, each member with an `SSMInstanceRole`.
/// The organization: a log-archive account and three members, each member with an
/// `SSMInstanceRole`; the second member's role may also be assumed by its own account (as a
/// test harness's would), so the canary acts as it there, elsewhere as the access role.
fn organization(moto: &Moto) -> Org {
    let org = moto.organization(&["dev", "prod", "shared"]);
    let m = &org.members[1];
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{m}:root")},
         "Action": "sts:AssumeRole"}]})
    .to_string();
    let c = moto.assume(m);
    moto.aws(
        Some(&c),
        &[
            "iam",
            "update-assume-role-policy",
            "--role-name",
            "SSMInstanceRole",
            "--policy-document",
            &trust,
        ],
    );
    org
}

fn config(org: &Org) -> ssmlog_render::Config {
    let text = org.config_text(&ConfigShape {
        regions: &["eu-west-1", "us-east-1"],
        create_role: Some("SSMLogInstanceRole"),
        retention: true,
        idle_session_timeout: Some(20),
    });
    parse_config("ssmlog.toml", &text).unwrap_or_else(|e| panic!("{e}"))
}

/// Converged: another apply finds nothing to do: no failure, no write.
fn assert_converged(
    rt: &tokio::runtime::Runtime,
    aws: &Arc<Aws>,
    desired: &ssmlog_state::State,
    options: &ConvergeOptions,
) {
    let again = rt.block_on(converge(aws.clone(), desired, options));
    assert!(again.failures.is_empty(), "{:?}", again.failures);
    assert_eq!(aws.calls.writes(), 0, "{:?}", aws.calls.snapshot());
}

/// The live State, pulled from every account, passes the same proof as `ssmlog check`.
fn assert_pulled_state_passes(
    rt: &tokio::runtime::Runtime,
    aws: Arc<Aws>,
    desired: &ssmlog_state::State,
    cfg: &ssmlog_render::Config,
) {
    let pulled = rt.block_on(pull(aws, desired, 4, None));
    assert!(pulled.errors.is_empty(), "{:?}", pulled.errors);
    let report = ssmlog_check::check(&pulled.state, &ssmlog_check::CheckOptions::from_config(cfg));
    assert!(report.passed(), "{}", report.to_table());
}

fn runtime() -> tokio::runtime::Runtime {
    ssmlog_aws::runtime().unwrap()
}

async fn connect(moto: &Moto) -> Arc<Aws> {
    connect_url(moto.url()).await
}

async fn connect_url(url: String) -> Arc<Aws> {
    for (k, v) in ENV {
        std::env::set_var(k, v);
    }
    let options = ConnectOptions {
        region: Some("us-east-1".to_string()),
        endpoint_url: Some(url),
        ..ConnectOptions::default()
    };
    Arc::new(Aws::connect(options).await.unwrap())
}

fn apply_options() -> ConvergeOptions {
    ConvergeOptions {
        apply: true,
        concurrency: 4,
        progress: None,
        keep_inputs: Vec::new(),
        deploy_roles: Vec::new(),
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ssmlog-live-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Apply over an account that already has a bucket policy, a key and a preferences document
/// of its own; re-apply writes nothing; pull gives a State that `check` proves; the `aws`
/// CLI reads back what apply wrote; foreign statements and unmanaged inputs survive.
#[test]
fn apply_reapply_pull_check() {
    let Some(moto) = Moto::start() else { return };
    let org = organization(&moto);
    let cfg = config(&org);
    let la = moto.assume(&org.log_archive);
    let bucket = cfg.bucket.name.clone();

    // What users already have: a bucket with their own policy statement, Key 1 with their
    // own key-policy statement, and preferences with an input ssmlog does not manage.
    let key_id = existing_bucket_and_key(&moto, &org, &la, &bucket);
    let member = org.members[0].clone();
    let mc = moto.assume(&member);
    let theirs =
        json!({"schemaVersion": "1.0", "description": "theirs", "sessionType": "Standard_Stream",
        "inputs": {"s3BucketName": "", "idleSessionTimeout": "5", "runAsDefaultUser": "ops",
                   "shellProfile": {"linux": "exec bash", "windows": ""}}})
        .to_string();
    moto.aws(
        Some(&mc),
        &[
            "ssm",
            "create-document",
            "--region",
            "us-east-1",
            "--name",
            "SSM-SessionManagerRunShell",
            "--document-type",
            "Session",
            "--document-format",
            "JSON",
            "--content",
            &theirs,
        ],
    );

    let desired = render(&cfg, Profile::Hardened);
    let rt = runtime();

    // Plan writes nothing and sees work to do.
    let aws = rt.block_on(connect(&moto));
    let plan = rt.block_on(converge(
        aws.clone(),
        &desired,
        &ConvergeOptions {
            apply: false,
            ..apply_options()
        },
    ));
    assert!(plan.failures.is_empty(), "{:?}", plan.failures);
    assert!(plan.pending() > 0);
    assert_eq!(aws.calls.writes(), 0, "{:?}", aws.calls.snapshot());

    // Apply.
    let aws = rt.block_on(connect(&moto));
    let first = rt.block_on(converge(aws.clone(), &desired, &apply_options()));
    assert!(first.failures.is_empty(), "{:?}", first.failures);
    assert!(aws.calls.writes() > 0);
    eprintln!(
        "first apply: {} reads, {} writes",
        aws.calls.reads(),
        aws.calls.writes()
    );

    // Re-apply: zero writes.
    let aws = rt.block_on(connect(&moto));
    let second = rt.block_on(converge(aws.clone(), &desired, &apply_options()));
    assert!(second.failures.is_empty(), "{:?}", second.failures);
    let pending: Vec<_> = second
        .changes
        .iter()
        .filter(|c| c.action != ssmlog_aws::Action::NoChange)
        .map(|c| (&c.resource, c.diff()))
        .collect();
    assert!(pending.is_empty(), "{pending:#?}");
    assert_eq!(aws.calls.writes(), 0, "{:?}", aws.calls.snapshot());
    eprintln!("second apply: {} reads, 0 writes", aws.calls.reads());

    // The role ssmlog creates is in every member: trust policy, managed core policy, the
    // logging policy and an instance profile holding it.
    for m in &org.members {
        let mc = moto.assume(m);
        let role = moto.aws(
            Some(&mc),
            &["iam", "get-role", "--role-name", "SSMLogInstanceRole"],
        );
        let trust = role["Role"]["AssumeRolePolicyDocument"].to_string();
        assert!(trust.contains("ec2.amazonaws.com"), "{trust}");
        let profile = moto.aws(
            Some(&mc),
            &[
                "iam",
                "get-instance-profile",
                "--instance-profile-name",
                "SSMLogInstanceRole",
            ],
        );
        assert_eq!(
            profile["InstanceProfile"]["Roles"][0]["RoleName"],
            "SSMLogInstanceRole"
        );
        let attached = moto.aws(
            Some(&mc),
            &[
                "iam",
                "list-attached-role-policies",
                "--role-name",
                "SSMLogInstanceRole",
            ],
        );
        let arns: Vec<&str> = attached["AttachedPolicies"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["PolicyArn"].as_str())
            .collect();
        assert_eq!(arns, [ssmlog_render::SSM_CORE_POLICY]);
        let inline = moto.aws(
            Some(&mc),
            &[
                "iam",
                "list-role-policies",
                "--role-name",
                "SSMLogInstanceRole",
            ],
        );
        assert_eq!(inline["PolicyNames"], json!(["SSMLogSessionLogging"]));
    }

    // Pull, through the State directory, and prove it with the same engine as `check`.
    let aws = rt.block_on(connect(&moto));
    let pulled = rt.block_on(pull(aws, &desired, 4, None));
    assert!(pulled.errors.is_empty(), "{:?}", pulled.errors);
    let dir = temp_dir("pull");
    ssmlog_state::write_dir(&pulled.state, &dir).unwrap();
    let state = ssmlog_state::read_dir(&dir).unwrap();
    assert_eq!(state, pulled.state);
    let options = ssmlog_check::CheckOptions::from_config(&cfg);
    // The live State passes the check as the desired one does: every agent call is
    // allowed and every probe denied (the administrators-only Denies came back from AWS,
    // with the SCPs pull read from the organization), so no error finding.
    let report = ssmlog_check::check(&state, &options);
    assert!(report.passed(), "{}", report.to_table());
    let desired_report = ssmlog_check::check(first.desired.as_ref().unwrap(), &options);
    assert!(desired_report.passed(), "{}", desired_report.to_table());
    // Two instance roles (the existing one and the one ssmlog created) x (6 logging calls +
    // 11 core calls) + the starter.
    assert!(report.to_table().contains("35/35"), "{}", report.to_table());

    // The aws CLI reads back what apply wrote.
    let got = moto.aws(
        Some(&la),
        &["s3api", "get-bucket-policy", "--bucket", &bucket],
    );
    let live: Value = serde_json::from_str(got["Policy"].as_str().unwrap()).unwrap();
    let sids: Vec<&str> = live["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["Sid"].as_str())
        .collect();
    assert!(
        sids.contains(&"TheirDenyBucketDeletion")
            && sids.contains(&"AllowEachAccountToWriteUnderItsOwnPrefix"),
        "{sids:?}"
    );
    let enc = moto.aws(
        Some(&la),
        &["s3api", "get-bucket-encryption", "--bucket", &bucket],
    );
    let rule =
        &enc["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"];
    assert_eq!(rule["SSEAlgorithm"], "aws:kms");
    assert!(
        rule["KMSMasterKeyID"].as_str().unwrap().ends_with(&key_id),
        "{rule}"
    );
    let kp = moto.aws(
        Some(&la),
        &[
            "kms",
            "get-key-policy",
            "--region",
            "eu-west-1",
            "--key-id",
            &key_id,
            "--policy-name",
            "default",
        ],
    );
    assert!(kp["Policy"]
        .as_str()
        .unwrap()
        .contains("TheirAuditorDescribes"));
    let doc = moto.aws(
        Some(&mc),
        &[
            "ssm",
            "get-document",
            "--region",
            "us-east-1",
            "--name",
            "SSM-SessionManagerRunShell",
        ],
    );
    let content: Value = serde_json::from_str(doc["Content"].as_str().unwrap()).unwrap();
    assert_eq!(content["inputs"]["s3BucketName"], bucket.as_str());
    assert_eq!(
        content["inputs"]["s3KeyPrefix"],
        format!("{member}/us-east-1")
    );
    assert_eq!(content["inputs"]["runAsDefaultUser"], "ops");
    assert_eq!(content["inputs"]["shellProfile"]["linux"], "exec bash");
    assert_eq!(content["inputs"]["idleSessionTimeout"], "20");
    let described = moto.aws(
        Some(&mc),
        &[
            "ssm",
            "describe-document",
            "--region",
            "us-east-1",
            "--name",
            "SSM-SessionManagerRunShell",
        ],
    );
    assert_eq!(
        described["Document"]["DefaultVersion"],
        described["Document"]["LatestVersion"]
    );

    // The canary with the hardened bucket policy in place. moto cannot evaluate its
    // conditions (organization id, principal ARN, TLS) and denies every object call that
    // a conditioned statement names, Allow or Deny: so the agent's upload fails in every
    // account, which shows how the canary reports a failing call, with AWS's answer.
    use ssmlog_aws::CallOutcome::{Failed, Ok, Skipped};
    let aws = rt.block_on(connect(&moto));
    let denied = rt.block_on(canary(
        aws.clone(),
        &desired,
        &CanaryOptions {
            as_role: None,
            concurrency: 4,
            progress: None,
        },
    ));
    let table = denied.to_table();
    assert!(!denied.passed(), "{table}");
    for r in &denied.rows {
        let outcomes: Vec<_> = r
            .calls
            .iter()
            .map(|c| (c.call.as_str(), c.outcome))
            .collect();
        assert_eq!(
            &outcomes[..3],
            &[
                ("s3:HeadBucket", Ok),
                ("s3:GetBucketEncryption", Ok),
                ("s3:PutObject", Failed)
            ],
            "{table}"
        );
        assert_eq!(r.cleanup.outcome, "none", "{table}");
    }
    assert!(
        table.contains("s3:PutObject: HTTP 403 (access denied)"),
        "{table}"
    );
    // From here on, object calls need moto without the bucket policy (authorization is
    // what `check` proves, above).
    moto.aws(
        Some(&la),
        &["s3api", "delete-bucket-policy", "--bucket", &bucket],
    );

    // The aws CLI uploads a log as the agent would (SSE-KMS with Key 1) under the first
    // member's prefix: verify sees it fresh there and "no log yet" everywhere else.
    let key1 = format!("arn:aws:kms:eu-west-1:{}:key/{key_id}", org.log_archive);
    let log = dir.join("session.log");
    std::fs::write(
        &log,
        "Script started on 2025-01-01\r\n$ id\r\nuid=0(root)\r\n",
    )
    .unwrap();
    let object = format!("s3://{bucket}/{member}/eu-west-1/alice-0a1b2c3d4e5f67890.log");
    moto.aws(
        Some(&mc),
        &[
            "s3",
            "cp",
            log.to_str().unwrap(),
            &object,
            "--region",
            "eu-west-1",
            "--sse",
            "aws:kms",
            "--sse-kms-key-id",
            &key1,
        ],
    );
    let day = VerifyOptions {
        since: Duration::from_secs(86_400),
        concurrency: 4,
        progress: None,
        check: ssmlog_check::CheckOptions::from_config(&cfg),
    };
    let aws = rt.block_on(connect(&moto));
    let v = rt.block_on(verify(aws.clone(), &desired, &day));
    assert_eq!(aws.calls.writes(), 0, "{:?}", aws.calls.snapshot());
    assert_eq!(v.bucket_encryption, Status::Ok, "{}", v.to_table());
    assert_eq!(v.rows.len(), 6, "{}", v.to_table());
    let fresh = v.row(&member, "eu-west-1").unwrap();
    assert_eq!(fresh.logs, Status::Ok, "{}", v.to_table());
    assert_eq!(
        fresh.newest_log.as_ref().unwrap().key,
        format!("{member}/eu-west-1/alice-0a1b2c3d4e5f67890.log")
    );
    for r in &v.rows {
        assert_eq!(r.preferences, Status::Ok, "{}", v.to_table());
        assert_eq!(r.default_version, Status::Ok, "{}", v.to_table());
    }
    let rules: Vec<_> = v.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, ["no-log-yet"; 5], "{}", v.to_table());
    assert!(v.to_table().contains("no log yet"), "{}", v.to_table());
    // It says what it did not check, and how to prove it.
    assert!(
        v.to_table().ends_with(ssmlog_aws::NOT_CHECKED)
            && ssmlog_aws::NOT_CHECKED.contains("ssmlog pull --out DIR` then `ssmlog check DIR`"),
        "{}",
        v.to_table()
    );
    // The JSON form reads back with unknown fields denied.
    let back: Verification = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
    assert_eq!(back, v);
    // With a window of zero, the same log is stale.
    std::thread::sleep(Duration::from_millis(1100));
    let v0 = rt.block_on(verify(
        aws.clone(),
        &desired,
        &VerifyOptions {
            since: Duration::ZERO,
            ..day.clone()
        },
    ));
    assert!(
        v0.findings
            .iter()
            .any(|f| f.rule == "log-stale" && f.account.as_deref() == Some(member.as_str())),
        "{}",
        v0.to_table()
    );

    // The canary: the agent's S3 calls pass from every member account and region, as the
    // instance role where its trust policy allows, as the access role elsewhere; the canary
    // objects are removed and verify does not count them as logs. moto keeps KMS keys per
    // account and cannot use another account's key by ARN, so the session-key calls from a
    // member account get NotFoundException there (the client's GenerateDataKey fails, the
    // agent's Decrypt has nothing to decrypt and is skipped).
    let aws = rt.block_on(connect(&moto));
    let report = rt.block_on(canary(
        aws.clone(),
        &desired,
        &CanaryOptions {
            as_role: None,
            concurrency: 4,
            progress: None,
        },
    ));
    let table = report.to_table();
    assert!(report.passed(), "{table}");
    assert_eq!(report.rows.len(), 6, "{table}");
    for r in &report.rows {
        let outcomes: Vec<_> = r
            .calls
            .iter()
            .map(|c| (c.call.as_str(), c.outcome))
            .collect();
        assert_eq!(
            outcomes,
            [
                ("s3:HeadBucket", Ok),
                ("s3:GetBucketEncryption", Ok),
                ("s3:PutObject", Ok),
                ("kms:GenerateDataKey", Failed),
                ("kms:Decrypt", Skipped),
            ],
            "{table}"
        );
        assert_eq!(
            r.calls[3].code.as_deref(),
            Some("NotFoundException"),
            "{table}"
        );
        assert_eq!(r.cleanup.outcome, "deleted", "{table}");
        let object = r.object.as_deref().unwrap();
        assert!(
            object.starts_with(&format!("{}/{}/ssmlog-canary-", r.account, r.region)),
            "{object}"
        );
        let instance = r.account == org.members[1];
        assert_eq!(r.as_instance_role, instance, "{table}");
        assert_eq!(
            r.principal.contains(":assumed-role/SSMInstanceRole/"),
            instance,
            "{table}"
        );
    }
    assert!(table.contains("made as the access role"), "{table}");
    let back: CanaryReport =
        serde_json::from_str(&serde_json::to_string(&report).unwrap()).unwrap();
    assert_eq!(back, report);
    // With --as-role naming a role of the log-archive account, where moto has the keys,
    // the client's GenerateDataKey with the session context passes too. The agent's Decrypt
    // of its ciphertext cannot pass in moto with a multi-Region key: moto's ciphertext
    // header keeps 36 characters of the key id and `mrk-` ids have 40, so moto answers
    // AccessDeniedException (the canary reports it, as it would a real denial).
    let report = rt.block_on(canary(
        aws.clone(),
        &desired,
        &CanaryOptions {
            as_role: Some(format!(
                "arn:aws:iam::{}:role/OrganizationAccountAccessRole",
                org.log_archive
            )),
            concurrency: 4,
            progress: None,
        },
    ));
    let table = report.to_table();
    for r in &report.rows {
        let outcomes: Vec<_> = r
            .calls
            .iter()
            .map(|c| (c.call.as_str(), c.outcome))
            .collect();
        assert_eq!(
            outcomes,
            [
                ("s3:HeadBucket", Ok),
                ("s3:GetBucketEncryption", Ok),
                ("s3:PutObject", Ok),
                ("kms:GenerateDataKey", Ok),
                ("kms:Decrypt", Failed),
            ],
            "{table}"
        );
        assert_eq!(r.calls[4].code.as_deref(), Some("AccessDeniedException"));
        assert!(!r.passed);
        assert_eq!(r.cleanup.outcome, "deleted", "{table}");
        assert!(r.note.contains("--as-role"), "{table}");
    }
    let listed = moto.aws(
        Some(&la),
        &[
            "s3api",
            "list-objects-v2",
            "--bucket",
            &bucket,
            "--region",
            "eu-west-1",
        ],
    );
    let keys: Vec<_> = listed["Contents"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["Key"].as_str())
        .collect();
    assert_eq!(
        keys,
        [format!("{member}/eu-west-1/alice-0a1b2c3d4e5f67890.log")]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Cuts the proxy just before the `n`-th call (counting from 1) whose operation is one of
/// `ops`.
fn cut_at(aws: &Aws, proxy: &Proxy, ops: &'static [&'static str], n: usize) {
    let (proxy, seen) = (proxy.clone(), Arc::new(AtomicUsize::new(0)));
    aws.calls.set_hook(Arc::new(move |op: &str| {
        if ops.contains(&op) && seen.fetch_add(1, Ordering::SeqCst) + 1 == n {
            proxy.cut();
        }
    }));
}

/// The endpoint goes away twice in the middle of an apply: first between `CreateKey` and
/// `CreateAlias` of Key 1 (the orphan-key case), then after a few member writes. Each run
/// reports its failures per account; once the endpoint is back, a third apply finishes the
/// job: the orphan key is adopted (no second key), plan shows no change, a re-apply writes
/// nothing, and the pulled State passes the check.
#[test]
fn interrupted_apply_converges() {
    let Some(moto) = Moto::start() else { return };
    let org = organization(&moto);
    let cfg = config(&org);
    let desired = render(&cfg, Profile::Hardened);
    let proxy = Proxy::start(moto.port());
    let rt = runtime();

    // 1. Cut just before Key 1's alias: the key exists, unaliased, tagged by ssmlog.
    let aws = rt.block_on(connect_url(proxy.url()));
    cut_at(&aws, &proxy, &["kms:CreateAlias"], 1);
    let first = rt.block_on(converge(aws.clone(), &desired, &apply_options()));
    proxy.restore();
    let la_failure = first
        .failures
        .iter()
        .find(|f| f.account == org.log_archive)
        .unwrap_or_else(|| panic!("{:?}", first.failures));
    assert!(
        la_failure.error.contains("kms:CreateAlias"),
        "{la_failure:?}"
    );
    for m in &org.members {
        let f = first.failures.iter().find(|f| &f.account == m);
        assert!(
            f.is_some_and(|f| f.error.contains("not applied")),
            "{:?}",
            first.failures
        );
    }
    let la = moto.assume(&org.log_archive);
    let keys_in = |region: &str| -> usize {
        moto.aws(Some(&la), &["kms", "list-keys", "--region", region])["Keys"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(keys_in("eu-west-1"), 1);

    // 2. Cut after two member writes: some accounts are done, the others report.
    let aws = rt.block_on(connect_url(proxy.url()));
    const MEMBER_WRITES: &[&str] = &["iam:PutRolePolicy", "ssm:CreateDocument"];
    cut_at(&aws, &proxy, MEMBER_WRITES, 3);
    let second = rt.block_on(converge(aws.clone(), &desired, &apply_options()));
    proxy.restore();
    assert!(
        second
            .changes
            .iter()
            .any(|c| c.resource.contains("adopting")),
        "{:#?}",
        second.changes
    );
    assert!(!second.failures.is_empty());
    assert!(
        second.failures.iter().all(|f| f.account != org.log_archive),
        "{:?}",
        second.failures
    );
    let done = aws.calls.snapshot();
    let member_writes: u64 = MEMBER_WRITES
        .iter()
        .map(|op| done.get(*op).copied().unwrap_or(0))
        .sum();
    assert!(member_writes >= 3, "{done:?}");

    // 3. The endpoint is back: apply finishes the job.
    let aws = rt.block_on(connect_url(proxy.url()));
    let third = rt.block_on(converge(aws.clone(), &desired, &apply_options()));
    assert!(third.failures.is_empty(), "{:?}", third.failures);
    assert!(aws.calls.writes() > 0);

    // Converged: plan shows nothing, a re-apply writes nothing, no duplicate key.
    let aws = rt.block_on(connect_url(proxy.url()));
    let again = rt.block_on(converge(aws.clone(), &desired, &apply_options()));
    assert!(again.failures.is_empty(), "{:?}", again.failures);
    assert_eq!(again.pending(), 0);
    assert_eq!(aws.calls.writes(), 0, "{:?}", aws.calls.snapshot());
    assert_eq!(
        keys_in("eu-west-1"),
        2,
        "Key 1 and the session key, once each"
    );
    assert_eq!(keys_in("us-east-1"), 1, "the session key's replica");
    let aliases = moto.aws(Some(&la), &["kms", "list-aliases", "--region", "eu-west-1"]);
    let ours = aliases["Aliases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["AliasName"]
                .as_str()
                .is_some_and(|n| n.starts_with("alias/ssmlog-"))
        })
        .count();
    assert_eq!(ours, 2);
    let pulled = rt.block_on(pull(aws, &desired, 4, None));
    assert!(pulled.errors.is_empty(), "{:?}", pulled.errors);
    let options = ssmlog_check::CheckOptions::from_config(&cfg);
    let report = ssmlog_check::check(&pulled.state, &options);
    assert!(report.passed(), "{}", report.to_table());
}

/// Issue 10: `pull` that cannot reach an account (its AssumeRole fails) or one region of
/// another (its preferences cannot be read) says so in the State, and `check` on that State
/// fails naming each, where it used to leave them out and pass.
#[test]
fn issue_10_unreachable_account_and_region_in_pull_fail_the_check() {
    let Some(moto) = Moto::start() else { return };
    let org = organization(&moto);
    let cfg = config(&org);
    let desired = render(&cfg, Profile::Hardened);
    let rt = runtime();
    let aws = rt.block_on(connect(&moto));
    let applied = rt.block_on(converge(aws, &desired, &apply_options()));
    assert!(applied.failures.is_empty(), "{:?}", applied.failures);

    let proxy = Proxy::start(moto.port());
    let aws = rt.block_on(connect_url(proxy.url()));
    // One account at a time, so the two cuts land in two different accounts.
    let pulled = {
        let (aws2, proxy2) = (aws.clone(), proxy.clone());
        let cut = Arc::new(std::sync::atomic::AtomicBool::new(false));
        aws.calls.set_hook(Arc::new(move |o: &str| {
            if cut.swap(false, Ordering::SeqCst) {
                proxy2.restore();
            }
            // AssumeRole #1 is the log archive's, #2 the first member's; the first
            // DescribeDocument is another member's first region.
            let assumed = aws2
                .calls
                .snapshot()
                .get("sts:AssumeRole")
                .copied()
                .unwrap_or(0);
            let described = aws2
                .calls
                .snapshot()
                .get("ssm:DescribeDocument")
                .copied()
                .unwrap_or(0);
            if (o == "sts:AssumeRole" && assumed == 2)
                || (o == "ssm:DescribeDocument" && described == 1)
            {
                proxy2.cut();
                cut.store(true, Ordering::SeqCst);
            }
        }));
        rt.block_on(pull(aws.clone(), &desired, 1, None))
    };
    proxy.restore();
    let whole: Vec<_> = pulled
        .state
        .unreachable
        .iter()
        .filter(|u| u.region.is_none())
        .collect();
    let regional: Vec<_> = pulled
        .state
        .unreachable
        .iter()
        .filter(|u| u.region.is_some())
        .collect();
    assert_eq!(whole.len(), 1, "{:#?}", pulled.state.unreachable);
    assert_eq!(regional.len(), 1, "{:#?}", pulled.state.unreachable);
    let gone = whole[0].account.clone();
    assert!(whole[0].reason.contains("assume"), "{:?}", whole[0]);
    assert!(org.members.contains(&gone));
    assert_ne!(regional[0].account, gone);
    // The unreachable account is not in the State as if it had been read; the unreachable
    // region is not in its account as if it had no document.
    assert!(pulled.state.accounts.iter().all(|a| a.id != gone));
    let partial = pulled
        .state
        .accounts
        .iter()
        .find(|a| a.id == regional[0].account)
        .unwrap();
    assert!(partial
        .regions
        .iter()
        .all(|r| Some(&r.name) != regional[0].region.as_ref()));
    assert_eq!(pulled.errors.len(), 2, "{:?}", pulled.errors);

    // Through the State directory, as `ssmlog pull` + `ssmlog check` do.
    let dir = temp_dir("unreachable");
    ssmlog_state::write_dir(&pulled.state, &dir).unwrap();
    let state = ssmlog_state::read_dir(&dir).unwrap();
    assert_eq!(state.unreachable, pulled.state.unreachable);
    let report = ssmlog_check::check(&state, &ssmlog_check::CheckOptions::from_config(&cfg));
    assert!(!report.passed(), "{}", report.to_table());
    let named: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule == "unreachable")
        .map(|f| (f.account.clone().unwrap_or_default(), f.region.clone()))
        .collect();
    assert_eq!(
        named,
        [
            (gone.clone(), None),
            (regional[0].account.clone(), regional[0].region.clone())
        ]
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
    );

    // Reached again: nothing unreachable, and the proof passes.
    let aws = rt.block_on(connect_url(proxy.url()));
    let again = rt.block_on(pull(aws, &desired, 4, None));
    assert!(
        again.state.unreachable.is_empty(),
        "{:?}",
        again.state.unreachable
    );
    let report = ssmlog_check::check(&again.state, &ssmlog_check::CheckOptions::from_config(&cfg));
    assert!(report.passed(), "{}", report.to_table());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 10, the usual starting point: the article followed by hand (Key 1 with the
/// article's key-policy statement and a break-glass statement, the bucket with the article's
/// two statements and CloudTrail's, a preferences document with the user's own run-as and
/// timeout). A hardened apply replaces the article's statements (they have no Sid), keeps
/// the foreign ones and the inputs the config does not set, and says so in the plan; the
/// pulled State then passes the check. A preferences document changed by hand afterwards
/// (wrong bucket, encryption off) is repaired by a re-run although its wanted content is an
/// older version (`DuplicateDocumentContent`: that version becomes the default).
#[test]
fn issue_10_article_setup_by_hand_converges_and_drift_is_repaired() {
    let Some(moto) = Moto::start() else { return };
    let org = organization(&moto);
    let text = org.config_text(&ConfigShape {
        regions: &["eu-west-1", "us-east-1"],
        create_role: None,
        retention: true,
        idle_session_timeout: None,
    });
    let cfg = parse_config("ssmlog.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    assert!(cfg
        .session
        .unset_inputs
        .iter()
        .any(|i| i == "idleSessionTimeout"));
    let desired = render(&cfg, Profile::Hardened);
    let la_id = org.log_archive.clone();
    let la = moto.assume(&la_id);
    let bucket = cfg.bucket.name.clone();
    let eu = ["--region", "eu-west-1"];

    // The article by hand, in the log-archive account.
    let article_key_statement = json!({"Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": org.id}}});
    let break_glass = json!({"Sid": "BreakGlass", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{la_id}:role/BreakGlass")},
        "Action": ["kms:PutKeyPolicy", "kms:DescribeKey"], "Resource": "*"});
    let root = json!({"Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{la_id}:root")}, "Action": "kms:*", "Resource": "*"});
    let key_policy =
        json!({"Version": "2012-10-17", "Statement": [root, article_key_statement, break_glass]})
            .to_string();
    let key = moto.aws(
        Some(&la),
        &["kms", "create-key", "--policy", &key_policy, eu[0], eu[1]],
    );
    let key_id = key["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let key_arn = key["KeyMetadata"]["Arn"].as_str().unwrap().to_string();
    moto.aws(
        Some(&la),
        &[
            "kms",
            "create-alias",
            "--alias-name",
            "alias/ssmlog-session-logs",
            "--target-key-id",
            &key_id,
            eu[0],
            eu[1],
        ],
    );
    moto.aws(
        Some(&la),
        &[
            "s3api",
            "create-bucket",
            "--bucket",
            &bucket,
            "--create-bucket-configuration",
            "LocationConstraint=eu-west-1",
            eu[0],
            eu[1],
        ],
    );
    let cloudtrail = json!({"Sid": "AWSCloudTrailWrite", "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
        "Resource": format!("arn:aws:s3:::{bucket}/AWSLogs/{la_id}/*"),
        "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}});
    let bucket_policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetEncryptionConfiguration",
         "Resource": format!("arn:aws:s3:::{bucket}"),
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": org.id}}},
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["s3:PutObject", "s3:PutObjectAcl"],
         "Resource": format!("arn:aws:s3:::{bucket}/*"),
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": org.id}}},
        cloudtrail]})
    .to_string();
    moto.aws(
        Some(&la),
        &[
            "s3api",
            "put-bucket-policy",
            "--bucket",
            &bucket,
            "--policy",
            &bucket_policy,
        ],
    );
    // The article's preferences, with the user's own run-as and idle timeout.
    let member = org.members[0].clone();
    let mc = moto.assume(&member);
    let prefs = |bucket: &str, encrypted: bool, idle: &str| {
        json!({"schemaVersion": "1.0", "description": "by hand", "sessionType": "Standard_Stream",
            "inputs": {"s3BucketName": bucket, "s3KeyPrefix": "", "s3EncryptionEnabled": encrypted,
                "cloudWatchLogGroupName": "", "cloudWatchEncryptionEnabled": true,
                "cloudWatchStreamingEnabled": false, "kmsKeyId": key_arn,
                "runAsEnabled": true, "runAsDefaultUser": "ops", "idleSessionTimeout": idle,
                "maxSessionDuration": "", "shellProfile": {"windows": "", "linux": ""}}})
        .to_string()
    };
    let ssm = |args: &[&str]| -> Value {
        let mut all = vec!["ssm"];
        all.extend_from_slice(args);
        all.extend_from_slice(&[
            "--region",
            "us-east-1",
            "--name",
            "SSM-SessionManagerRunShell",
        ]);
        moto.aws(Some(&mc), &all)
    };
    let first = prefs(&bucket, true, "45");
    ssm(&[
        "create-document",
        "--document-type",
        "Session",
        "--document-format",
        "JSON",
        "--content",
        &first,
    ]);

    let rt = runtime();
    let options = ConvergeOptions {
        keep_inputs: cfg.session.unset_inputs.clone(),
        ..apply_options()
    };
    // Plan says which inputs are kept and which change.
    let aws = rt.block_on(connect(&moto));
    let plan = rt.block_on(converge(
        aws,
        &desired,
        &ConvergeOptions {
            apply: false,
            ..options.clone()
        },
    ));
    assert!(plan.failures.is_empty(), "{:?}", plan.failures);
    let p = plan
        .changes
        .iter()
        .find(|c| {
            c.account == member
                && c.region.as_deref() == Some("us-east-1")
                && c.resource.starts_with("preferences")
        })
        .unwrap();
    let notes = p.notes.join("\n");
    assert!(
        notes.contains("inputs kept (the config does not set them)"),
        "{notes}"
    );
    assert!(notes.contains("idleSessionTimeout = \"45\""), "{notes}");
    assert!(
        notes.contains("runAsEnabled = true") && notes.contains("runAsDefaultUser = \"ops\""),
        "{notes}"
    );
    assert!(
        notes.contains("inputs changed: ") && notes.contains("s3KeyPrefix: \"\" -> "),
        "{notes}"
    );

    // Foreign Allows that ssmlog's Denies would cancel are said, with the fix.
    let notes: Vec<&String> = plan.changes.iter().flat_map(|c| &c.notes).collect();
    assert!(
        notes.iter().any(|n| n
            .contains("`AWSCloudTrailWrite` allows cloudtrail.amazonaws.com `s3:PutObject`")
            && n.contains("DenyUploadsWithoutSseKms")
            && n.contains("bucket.exempt_source_arns")),
        "{notes:#?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("`BreakGlass`")
            && n.contains("kms:PutKeyPolicy")
            && n.contains("keys.*.administrators")),
        "{notes:#?}"
    );

    let aws = rt.block_on(connect(&moto));
    let applied = rt.block_on(converge(aws, &desired, &options));
    assert!(applied.failures.is_empty(), "{:?}", applied.failures);

    // The article's statements are gone, the foreign ones kept.
    let got = moto.aws(
        Some(&la),
        &["s3api", "get-bucket-policy", "--bucket", &bucket],
    );
    let live: Value = serde_json::from_str(got["Policy"].as_str().unwrap()).unwrap();
    let statements = live["Statement"].as_array().unwrap();
    assert!(
        statements.iter().all(|s| s.get("Sid").is_some()),
        "{live:#}"
    );
    assert!(
        statements.iter().any(|s| s["Sid"] == "AWSCloudTrailWrite"),
        "{live:#}"
    );
    let kp = moto.aws(
        Some(&la),
        &[
            "kms",
            "get-key-policy",
            "--key-id",
            &key_id,
            "--policy-name",
            "default",
            eu[0],
            eu[1],
        ],
    );
    let kp: Value = serde_json::from_str(kp["Policy"].as_str().unwrap()).unwrap();
    let sids: Vec<_> = kp["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap_or("(none)"))
        .collect();
    assert!(
        !sids.contains(&"(none)") && !sids.contains(&"Enable IAM User Permissions"),
        "{sids:?}"
    );
    assert!(sids.contains(&"BreakGlass"), "{sids:?}");
    // The user's inputs stay.
    let content =
        |d: &Value| -> Value { serde_json::from_str(d["Content"].as_str().unwrap()).unwrap() };
    let doc = content(&ssm(&["get-document"]));
    assert_eq!(doc["inputs"]["runAsEnabled"], true);
    assert_eq!(doc["inputs"]["runAsDefaultUser"], "ops");
    assert_eq!(doc["inputs"]["idleSessionTimeout"], "45");
    assert_eq!(doc["inputs"]["s3KeyPrefix"], format!("{member}/us-east-1"));

    // The pulled State passes the check.
    assert_pulled_state_passes(&rt, rt.block_on(connect(&moto)), &desired, &cfg);

    // Drift: someone points the document elsewhere, encryption off, as a new default version.
    let ours = ssm(&["describe-document"])["Document"]["DefaultVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let drifted = prefs("someone-elses-bucket", false, "45");
    let v = ssm(&[
        "update-document",
        "--document-version",
        "$LATEST",
        "--content",
        &drifted,
    ]);
    let v = v["DocumentDescription"]["DocumentVersion"]
        .as_str()
        .unwrap()
        .to_string();
    ssm(&["update-document-default-version", "--document-version", &v]);
    let aws = rt.block_on(connect(&moto));
    let repaired = rt.block_on(converge(aws.clone(), &desired, &options));
    assert!(repaired.failures.is_empty(), "{:?}", repaired.failures);
    let calls = aws.calls.snapshot();
    assert_eq!(calls.get("ssm:UpdateDocument"), Some(&1), "{calls:?}");
    assert_eq!(
        calls.get("ssm:UpdateDocumentDefaultVersion"),
        Some(&1),
        "{calls:?}"
    );
    let described = ssm(&["describe-document"]);
    assert_eq!(described["Document"]["DefaultVersion"], ours.as_str());
    assert_eq!(
        described["Document"]["LatestVersion"],
        v.as_str(),
        "no new version"
    );
    let doc = content(&ssm(&["get-document"]));
    assert_eq!(doc["inputs"]["s3BucketName"], bucket.as_str());
    assert_eq!(doc["inputs"]["s3EncryptionEnabled"], true);
    // Converged: a re-run writes nothing.
    assert_converged(&rt, &rt.block_on(connect(&moto)), &desired, &options);

    // The profile switched to seed and back: the hardened content is an older version
    // again, made the default without a new version.
    let seed = render(&cfg, Profile::Seed);
    let aws = rt.block_on(connect(&moto));
    let to_seed = rt.block_on(converge(aws, &seed, &options));
    assert!(to_seed.failures.is_empty(), "{:?}", to_seed.failures);
    let seed_version = ssm(&["describe-document"])["Document"]["LatestVersion"].clone();
    assert_ne!(seed_version, v.as_str());
    let aws = rt.block_on(connect(&moto));
    let back = rt.block_on(converge(aws, &desired, &options));
    assert!(back.failures.is_empty(), "{:?}", back.failures);
    let described = ssm(&["describe-document"]);
    assert_eq!(described["Document"]["DefaultVersion"], ours.as_str());
    assert_eq!(described["Document"]["LatestVersion"], seed_version);
}

/// The keys of the log-archive account in `region`, by their `ssmlog:key-name` tag (a key
/// without the tag counts under "").
fn keys_by_name(moto: &Moto, la: &ssmlog_moto::Creds, region: &str) -> Vec<String> {
    let keys = moto.aws(Some(la), &["kms", "list-keys", "--region", region]);
    let mut names: Vec<String> = keys["Keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let id = k["KeyId"].as_str().unwrap();
            let tags = moto.aws(
                Some(la),
                &[
                    "kms",
                    "list-resource-tags",
                    "--region",
                    region,
                    "--key-id",
                    id,
                ],
            );
            tags["Tags"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["TagKey"] == "ssmlog:key-name")
                .and_then(|t| t["TagValue"].as_str())
                .unwrap_or("")
                .to_string()
        })
        .collect();
    names.sort();
    names
}

/// Issue 10: `kms:CreateKey` has no idempotency token. Its reply is lost (the request
/// reaches KMS, the answer never comes back): the SDK must not retry it (a second key), and
/// apply finds the key it did create by its tag, adopts it and goes on in the same run.
#[test]
fn issue_10_a_lost_create_key_reply_makes_one_key() {
    let Some(moto) = Moto::start() else { return };
    let org = organization(&moto);
    let cfg = config(&org);
    let desired = render(&cfg, Profile::Hardened);
    let proxy = Proxy::start(moto.port());
    let rt = runtime();
    let aws = rt.block_on(connect_url(proxy.url()));
    let (p, seen) = (proxy.clone(), Arc::new(AtomicUsize::new(0)));
    aws.calls.set_hook(Arc::new(move |op: &str| {
        // The first CreateKey (Key 1) and the second (the session key): both replies lost.
        if op == "kms:CreateKey" && seen.fetch_add(1, Ordering::SeqCst) < 2 {
            p.drop_next_reply();
        }
    }));
    let first = rt.block_on(converge(aws.clone(), &desired, &apply_options()));
    assert!(!proxy.reply_pending_drop());
    assert!(first.failures.is_empty(), "{:?}", first.failures);
    let calls = aws.calls.snapshot();
    assert_eq!(calls.get("kms:CreateKey"), Some(&2), "{calls:?}");
    let adopted: Vec<_> = first
        .changes
        .iter()
        .filter(|c| c.resource.contains("CreateKey failed"))
        .collect();
    assert_eq!(adopted.len(), 2, "{:#?}", first.changes);
    let la = moto.assume(&org.log_archive);
    assert_eq!(
        keys_by_name(&moto, &la, "eu-west-1"),
        ["bucket-key", "session-key"]
    );
    // moto does not keep ReplicateKey's tags on the replica: count it.
    assert_eq!(keys_by_name(&moto, &la, "us-east-1").len(), 1);
    // Converged: a re-run writes nothing, and the pulled State passes the check.
    let aws = rt.block_on(connect_url(proxy.url()));
    assert_converged(&rt, &aws, &desired, &apply_options());
    assert_pulled_state_passes(&rt, aws, &desired, &cfg);
}

/// Issue 10: the endpoint cut at many points of an apply over a setup with foreign
/// statements (a Deny in the bucket policy, an auditor's Allow in Key 1's policy, the
/// article's seed statement): after every interrupted run no foreign statement is lost and
/// no key name has two keys; once the endpoint stays up, apply converges and check passes.
#[test]
fn issue_10_apply_cut_at_many_points_loses_nothing_and_makes_one_key_per_name() {
    let Some(moto) = Moto::start() else { return };
    let org = organization(&moto);
    let cfg = config(&org);
    let desired = render(&cfg, Profile::Hardened);
    let la = moto.assume(&org.log_archive);
    let bucket = cfg.bucket.name.clone();
    let key_id = existing_bucket_and_key(&moto, &org, &la, &bucket);
    let foreign_kept = || {
        let bp = moto.aws(
            Some(&la),
            &["s3api", "get-bucket-policy", "--bucket", &bucket],
        );
        let kp = moto.aws(
            Some(&la),
            &[
                "kms",
                "get-key-policy",
                "--region",
                "eu-west-1",
                "--key-id",
                &key_id,
                "--policy-name",
                "default",
            ],
        );
        (
            bp["Policy"]
                .as_str()
                .unwrap()
                .contains("TheirDenyBucketDeletion"),
            kp["Policy"]
                .as_str()
                .unwrap()
                .contains("TheirAuditorDescribes"),
        )
    };
    let one_key_per_name = || {
        let eu = keys_by_name(&moto, &la, "eu-west-1");
        let mut unique = eu.clone();
        unique.dedup();
        assert_eq!(eu, unique, "two keys for one name in eu-west-1");
        assert!(keys_by_name(&moto, &la, "us-east-1").len() <= 1);
    };

    let proxy = Proxy::start(moto.port());
    let rt = runtime();
    // Cut before the n-th write call of each run: early (keys, bucket), middle, late.
    let mut cuts = 0;
    for n in [1, 2, 4, 7, 12, 20] {
        let aws = rt.block_on(connect_url(proxy.url()));
        let (p, seen) = (proxy.clone(), Arc::new(AtomicUsize::new(0)));
        aws.calls.set_hook(Arc::new(move |op: &str| {
            if ssmlog_aws::is_write(op) && seen.fetch_add(1, Ordering::SeqCst) + 1 == n {
                p.cut();
            }
        }));
        let run = rt.block_on(converge(aws, &desired, &apply_options()));
        proxy.restore();
        cuts += usize::from(!run.failures.is_empty());
        assert_eq!(foreign_kept(), (true, true), "after a cut at write {n}");
        one_key_per_name();
    }
    assert!(cuts >= 4, "the cuts interrupted only {cuts} runs");

    let aws = rt.block_on(connect_url(proxy.url()));
    let last = rt.block_on(converge(aws, &desired, &apply_options()));
    assert!(last.failures.is_empty(), "{:?}", last.failures);
    let aws = rt.block_on(connect_url(proxy.url()));
    assert_converged(&rt, &aws, &desired, &apply_options());
    assert_eq!(foreign_kept(), (true, true));
    one_key_per_name();
    assert_eq!(
        keys_by_name(&moto, &la, "eu-west-1"),
        ["", "session-key"],
        "Key 1 is the user's (untagged), the session key ssmlog's"
    );
    assert_pulled_state_passes(&rt, aws, &desired, &cfg);
}

/// Issue 10: an opt-in region not enabled in the member accounts (simulated: the proxy
/// answers their Systems Manager requests signed for it as AWS does,
/// `UnrecognizedClientException`). Apply names the account and the region with the fix
/// and goes on with the other regions and accounts; pull records each as unreachable and
/// check fails on them.
#[test]
fn issue_10_a_disabled_opt_in_region_is_named_and_the_rest_goes_on() {
    let Some(moto) = Moto::start() else { return };
    let org = organization(&moto);
    let text = org.config_text(&ConfigShape {
        regions: &["eu-west-1", "ap-east-1"],
        ..ConfigShape::default()
    });
    let cfg = parse_config("ssmlog.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    let desired = render(&cfg, Profile::Hardened);
    let proxy = Proxy::start(moto.port());
    proxy.disable_ssm_region(Some("ap-east-1"));
    let rt = runtime();
    let aws = rt.block_on(connect_url(proxy.url()));
    let out = rt.block_on(converge(aws, &desired, &apply_options()));
    let mut failed: Vec<_> = out
        .failures
        .iter()
        .map(|f| (f.account.clone(), f.region.clone()))
        .collect();
    failed.sort();
    let mut expected: Vec<_> = org
        .members
        .iter()
        .map(|m| (m.clone(), Some("ap-east-1".to_string())))
        .collect();
    expected.sort();
    assert_eq!(failed, expected, "{:#?}", out.failures);
    for f in &out.failures {
        assert!(
            f.error.contains("UnrecognizedClientException"),
            "{}",
            f.error
        );
        assert!(
            f.error.contains(&format!(
                "region ap-east-1 is probably not enabled in account {}",
                f.account
            )),
            "{}",
            f.error
        );
        assert!(!f.error.contains("ServiceError {"), "{}", f.error);
    }
    // The other region of every member was applied.
    for m in &org.members {
        let c = moto.assume(m);
        let doc = moto.aws(
            Some(&c),
            &[
                "ssm",
                "describe-document",
                "--region",
                "eu-west-1",
                "--name",
                "SSM-SessionManagerRunShell",
            ],
        );
        assert_eq!(doc["Document"]["Name"], "SSM-SessionManagerRunShell");
    }
    // Pull names each account's disabled region; check fails on each.
    let aws = rt.block_on(connect_url(proxy.url()));
    let pulled = rt.block_on(pull(aws, &desired, 4, None));
    let lost: Vec<_> = pulled
        .state
        .unreachable
        .iter()
        .map(|u| (u.account.clone(), u.region.clone()))
        .collect();
    assert_eq!(lost, expected);
    let report = ssmlog_check::check(
        &pulled.state,
        &ssmlog_check::CheckOptions::from_config(&cfg),
    );
    assert!(!report.passed());
    assert_eq!(
        report
            .findings
            .iter()
            .filter(|f| f.rule == "unreachable")
            .count(),
        org.members.len(),
        "{}",
        report.to_table()
    );
}

/// What users already have before ssmlog: the bucket with their own policy statement
/// (`TheirDenyBucketDeletion`) and Key 1, under ssmlog's alias, with their own key-policy
/// statement (`TheirAuditorDescribes`); returns the key's id.
fn existing_bucket_and_key(moto: &Moto, org: &Org, la: &Creds, bucket: &str) -> String {
    moto.aws(
        Some(la),
        &[
            "s3api",
            "create-bucket",
            "--bucket",
            bucket,
            "--region",
            "eu-west-1",
            "--create-bucket-configuration",
            "LocationConstraint=eu-west-1",
        ],
    );
    let foreign_bucket = json!({"Sid": "TheirDenyBucketDeletion", "Effect": "Deny", "Principal": "*",
        "Action": "s3:DeleteBucket", "Resource": format!("arn:aws:s3:::{bucket}")});
    let policy = json!({"Version": "2012-10-17", "Statement": [foreign_bucket]}).to_string();
    moto.aws(
        Some(la),
        &[
            "s3api",
            "put-bucket-policy",
            "--bucket",
            bucket,
            "--policy",
            &policy,
        ],
    );
    let foreign_key = json!({"Sid": "TheirAuditorDescribes", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{}:role/Auditor", org.log_archive)},
        "Action": "kms:DescribeKey", "Resource": "*"});
    let root = json!({"Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{}:root", org.log_archive)}, "Action": "kms:*", "Resource": "*"});
    let key_policy = json!({"Version": "2012-10-17", "Statement": [root, foreign_key]}).to_string();
    let key = moto.aws(
        Some(la),
        &[
            "kms",
            "create-key",
            "--region",
            "eu-west-1",
            "--policy",
            &key_policy,
        ],
    );
    let key_id = key["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    moto.aws(
        Some(la),
        &[
            "kms",
            "create-alias",
            "--region",
            "eu-west-1",
            "--alias-name",
            "alias/ssmlog-session-logs",
            "--target-key-id",
            &key_id,
        ],
    );
    key_id
}
