//! End-to-end tests against a moto server on 127.0.0.1: an organization with a log-archive
//! account and three members in two regions, reached through STS AssumeRole; apply,
//! re-apply (zero writes), pull, check, and the real `aws` CLI reading back what apply wrote.
//!
//! Each test starts its own `moto_server` on a free port and kills it when done. Without
//! `moto_server` or `aws` on PATH the tests skip, unless `SSMLOG_REQUIRE_TOOLS=1`.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test: a failure is the report"
)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use ssmlog_aws::{converge, pull, Aws, ConnectOptions, ConvergeOptions};
use ssmlog_render::{parse_config, render, Profile};

/// A moto server owned by one test: started on a free port, killed on drop.
struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    fn start() -> Option<Moto> {
        if !tool("moto_server") || !tool("aws") {
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let moto = Moto { child, port };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "moto_server did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(moto)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs the real `aws` CLI against this server, as `creds` (None: the management
    /// account), and returns its JSON output.
    fn aws(&self, creds: Option<&Creds>, args: &[&str]) -> Value {
        let mut cmd = Command::new("aws");
        cmd.args(["--endpoint-url", &self.url(), "--output", "json"])
            .args(args)
            .envs(fake_env());
        if let Some(c) = creds {
            cmd.env("AWS_ACCESS_KEY_ID", &c.0)
                .env("AWS_SECRET_ACCESS_KEY", &c.1)
                .env("AWS_SESSION_TOKEN", &c.2);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    fn assume(&self, account: &str) -> Creds {
        let role = format!("arn:aws:iam::{account}:role/OrganizationAccountAccessRole");
        let out = self.aws(
            None,
            &[
                "sts",
                "assume-role",
                "--role-arn",
                &role,
                "--role-session-name",
                "test",
            ],
        );
        let c = &out["Credentials"];
        Creds(
            c["AccessKeyId"].as_str().unwrap().to_string(),
            c["SecretAccessKey"].as_str().unwrap().to_string(),
            c["SessionToken"].as_str().unwrap().to_string(),
        )
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Creds(String, String, String);

fn fake_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]
}

fn tool(name: &str) -> bool {
    let found = Command::new(name)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        assert!(
            std::env::var_os("SSMLOG_REQUIRE_TOOLS").is_none_or(|v| v != "1"),
            "`{name}` is not on PATH and SSMLOG_REQUIRE_TOOLS=1: run scripts/install-tools.sh"
        );
        eprintln!("skipping: `{name}` is not on PATH (SSMLOG_REQUIRE_TOOLS=1 makes this fail)");
    }
    found
}

/// The organization: management account (moto's default), a log-archive account and three
/// members, each member with an `SSMInstanceRole`.
struct Org {
    id: String,
    log_archive: String,
    members: Vec<String>,
}

fn organization(moto: &Moto) -> Org {
    let org = moto.aws(
        None,
        &[
            "organizations",
            "create-organization",
            "--feature-set",
            "ALL",
        ],
    );
    let id = org["Organization"]["Id"].as_str().unwrap().to_string();
    let mut accounts = Vec::new();
    for name in ["log-archive", "dev", "prod", "shared"] {
        let email = format!("{name}@example.com");
        let out = moto.aws(
            None,
            &[
                "organizations",
                "create-account",
                "--email",
                &email,
                "--account-name",
                name,
            ],
        );
        accounts.push(
            out["CreateAccountStatus"]["AccountId"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let log_archive = accounts.remove(0);
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    .to_string();
    for m in &accounts {
        let c = moto.assume(m);
        moto.aws(
            Some(&c),
            &[
                "iam",
                "create-role",
                "--role-name",
                "SSMInstanceRole",
                "--assume-role-policy-document",
                &trust,
            ],
        );
    }
    Org {
        id,
        log_archive,
        members: accounts,
    }
}

fn config(org: &Org) -> ssmlog_render::Config {
    let la = &org.log_archive;
    let members: Vec<String> = org
        .members
        .iter()
        .map(|m| format!("{{ id = \"{m}\" }}"))
        .collect();
    let text = format!(
        r#"
[organization]
id = "{id}"
[log_archive]
account_id = "{la}"
region = "eu-west-1"
[bucket]
name = "central-session-logs-{la}"
key_prefix = "{{account}}/{{region}}"
[bucket.retention]
expire_after_days = 400
noncurrent_expire_after_days = 30
[keys]
mode = "two-keys"
[keys.bucket]
alias = "alias/ssmlog-session-logs"
administrators = ["{admin}"]
[keys.session]
alias = "alias/ssmlog-session-data"
administrators = ["{admin}"]
[accounts]
source = "list"
members = [{members}]
[regions]
enabled = ["eu-west-1", "us-east-1"]
[instance_roles]
existing = ["SSMInstanceRole"]
[session]
idle_session_timeout = 20
starters = ["arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*"]
"#,
        id = org.id,
        members = members.join(", "),
        admin = format!("arn:aws:iam::{la}:role/OrganizationAccountAccessRole"),
    );
    parse_config("ssmlog.toml", &text).unwrap_or_else(|e| panic!("{e}"))
}

fn runtime() -> tokio::runtime::Runtime {
    ssmlog_aws::runtime().unwrap()
}

async fn connect(moto: &Moto) -> Arc<Aws> {
    for (k, v) in fake_env() {
        std::env::set_var(k, v);
    }
    let options = ConnectOptions {
        region: Some("us-east-1".to_string()),
        endpoint_url: Some(moto.url()),
        ..ConnectOptions::default()
    };
    Arc::new(Aws::connect(options).await.unwrap())
}

fn apply_options() -> ConvergeOptions {
    ConvergeOptions {
        apply: true,
        concurrency: 4,
        progress: None,
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
    moto.aws(
        Some(&la),
        &[
            "s3api",
            "create-bucket",
            "--bucket",
            &bucket,
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
        Some(&la),
        &[
            "s3api",
            "put-bucket-policy",
            "--bucket",
            &bucket,
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
        Some(&la),
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
        Some(&la),
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

    // Pull, through the State directory, and prove it with the same engine as `check`.
    let aws = rt.block_on(connect(&moto));
    let pulled = rt.block_on(pull(aws, &desired, 4, None));
    assert!(pulled.errors.is_empty(), "{:?}", pulled.errors);
    let dir = temp_dir("pull");
    ssmlog_state::write_dir(&pulled.state, &dir).unwrap();
    let state = ssmlog_state::read_dir(&dir).unwrap();
    assert_eq!(state, pulled.state);
    let options = ssmlog_check::CheckOptions {
        session_starters: cfg.session.starters.clone(),
        explain_account: None,
        bucket_administrators: Vec::new(),
    };
    // The live State passes the check as the desired one does: every agent call is
    // allowed and every probe denied (the administrators-only Denies came back from AWS,
    // with the SCPs pull read from the organization), so no error finding.
    let report = ssmlog_check::check(&state, &options);
    assert!(report.passed(), "{}", report.to_table());
    let desired_report = ssmlog_check::check(first.desired.as_ref().unwrap(), &options);
    assert!(desired_report.passed(), "{}", desired_report.to_table());
    assert!(report.to_table().contains("7/7"), "{}", report.to_table());

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
    let _ = std::fs::remove_dir_all(&dir);
}
