//! Test support for live tests and benchmarks: a `moto_server` owned by one test (started
//! on a free port of 127.0.0.1, killed on drop) and the real `aws` CLI run against it.
//! Installed by `scripts/install-tools.sh`; without it tests skip, unless
//! `SSMLOG_REQUIRE_TOOLS=1`, which makes a missing tool a failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test support: a failure here is the test's report"
)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Environment for the `aws` CLI against moto: fake credentials, no config files, no
/// instance metadata lookups.
pub const ENV: [(&str, &str); 6] = [
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_DEFAULT_REGION", "us-east-1"),
    ("AWS_CONFIG_FILE", "/dev/null"),
    ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// Is `name` on PATH? When it is not and `SSMLOG_REQUIRE_TOOLS=1`, fails instead.
pub fn tool(name: &str) -> bool {
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
        eprintln!("skipping: `{name}` is not on PATH");
    }
    found
}

/// Temporary credentials from `sts assume-role`: key id, secret, session token.
#[derive(Debug, Clone)]
pub struct Creds(pub String, pub String, pub String);

/// A moto server owned by one test.
pub struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    /// Starts a server with AWS managed policies loaded; `None` when `moto_server` or `aws`
    /// is missing (see [`tool`]).
    pub fn start() -> Option<Moto> {
        if !tool("moto_server") || !tool("aws") {
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port on 127.0.0.1");
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
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

    /// The endpoint URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The server's process id (benchmarks read its CPU time).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs the `aws` CLI against this server as `creds` (None: the management account)
    /// and returns what it printed as JSON, successful or not.
    pub fn aws_output(&self, creds: Option<&Creds>, args: &[&str]) -> Output {
        self.run(creds, "json", args)
    }

    /// Runs the `aws` CLI, which must succeed, and returns its JSON output (null if none).
    pub fn aws(&self, creds: Option<&Creds>, args: &[&str]) -> Value {
        let out = self.aws_output(creds, args);
        assert!(
            out.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    /// Runs the `aws` CLI as the management account, which must succeed, and returns its
    /// `--output text`, trimmed (handy with `--query`).
    pub fn aws_text(&self, args: &[&str]) -> String {
        let out = self.run(None, "text", args);
        assert!(
            out.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn run(&self, creds: Option<&Creds>, output: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new("aws");
        cmd.args(["--endpoint-url", &self.url(), "--output", output])
            .args(args)
            .envs(ENV);
        if let Some(c) = creds {
            cmd.env("AWS_ACCESS_KEY_ID", &c.0)
                .env("AWS_SECRET_ACCESS_KEY", &c.1)
                .env("AWS_SESSION_TOKEN", &c.2);
        }
        cmd.output().expect("aws runs")
    }

    /// Credentials of `OrganizationAccountAccessRole` in `account`.
    pub fn assume(&self, account: &str) -> Creds {
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
        let field = |k: &str| c[k].as_str().expect("assume-role credentials").to_string();
        Creds(
            field("AccessKeyId"),
            field("SecretAccessKey"),
            field("SessionToken"),
        )
    }

    /// Creates role `name` in `account`, assumable from that account (as a member's own
    /// administrator role is), as the account's `OrganizationAccountAccessRole`.
    pub fn account_role(&self, account: &str, name: &str) {
        let trust = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}]}}"#
        );
        let creds = self.assume(account);
        self.aws(
            Some(&creds),
            &[
                "iam",
                "create-role",
                "--role-name",
                name,
                "--assume-role-policy-document",
                &trust,
            ],
        );
    }
}

/// An organization made in moto: its id, the log-archive account and the member accounts.
#[derive(Debug, Clone)]
pub struct Org {
    /// `o-…`.
    pub id: String,
    /// The first account created.
    pub log_archive: String,
    /// The others, in creation order.
    pub members: Vec<String>,
}

impl Moto {
    /// Creates `bucket` default-encrypted with a new KMS key (Key 1) and returns the key's
    /// ARN: the central bucket as the logs tests and benchmarks need it.
    pub fn sse_kms_bucket(&self, bucket: &str) -> String {
        let key = self.aws_text(&[
            "kms",
            "create-key",
            "--description",
            "Key 1: bucket encryption",
            "--query",
            "KeyMetadata.Arn",
        ]);
        self.aws_text(&["s3api", "create-bucket", "--bucket", bucket]);
        let enc = format!(
            r#"{{"Rules":[{{"ApplyServerSideEncryptionByDefault":{{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"{key}"}}}}]}}"#
        );
        self.aws_text(&[
            "s3api",
            "put-bucket-encryption",
            "--bucket",
            bucket,
            "--server-side-encryption-configuration",
            &enc,
        ]);
        key
    }

    /// Uploads every file under `dir` to `bucket` the way people do, `aws s3 cp --recursive`
    /// with SSE-KMS under `key`.
    pub fn upload_sse_kms(&self, dir: &std::path::Path, bucket: &str, key: &str) {
        self.aws_text(&[
            "s3",
            "cp",
            "--recursive",
            "--quiet",
            &dir.display().to_string(),
            &format!("s3://{bucket}/"),
            "--sse",
            "aws:kms",
            "--sse-kms-key-id",
            key,
            "--content-type",
            "text/plain",
        ]);
    }
}

/// What a live test's config varies; everything else is the same hardened setup (see
/// [`Org::config_text`]).
#[derive(Debug, Clone, Default)]
pub struct ConfigShape<'a> {
    /// `regions.enabled`.
    pub regions: &'a [&'a str],
    /// `instance_roles.create`: a role ssmlog creates in every member.
    pub create_role: Option<&'a str>,
    /// Adds `[bucket.retention]`: logs expire after 400 days, old versions after 30.
    pub retention: bool,
    /// `session.idle_session_timeout`.
    pub idle_session_timeout: Option<u32>,
}

impl Org {
    /// The config text (TOML) of a setup for this organization: the log archive in
    /// eu-west-1 with the bucket `central-session-logs-<log archive>`, two keys administered
    /// by the log archive's `OrganizationAccountAccessRole`, every member listed with its
    /// `SSMInstanceRole`, sessions started through IAM Identity Center.
    pub fn config_text(&self, shape: &ConfigShape<'_>) -> String {
        let la = &self.log_archive;
        let admin = format!("arn:aws:iam::{la}:role/OrganizationAccountAccessRole");
        let members: Vec<String> = self
            .members
            .iter()
            .map(|m| format!("{{ id = \"{m}\" }}"))
            .collect();
        let mut text = format!(
            r#"[organization]
id = "{id}"
[log_archive]
account_id = "{la}"
region = "eu-west-1"
[bucket]
name = "central-session-logs-{la}"
key_prefix = "{{account}}/{{region}}"
"#,
            id = self.id
        );
        if shape.retention {
            text.push_str(
                "[bucket.retention]\nexpire_after_days = 400\nnoncurrent_expire_after_days = 30\n",
            );
        }
        text.push_str(&format!(
            r#"[keys]
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
enabled = [{regions}]
[instance_roles]
existing = ["SSMInstanceRole"]
"#,
            members = members.join(", "),
            regions = shape
                .regions
                .iter()
                .map(|r| format!("\"{r}\""))
                .collect::<Vec<_>>()
                .join(", "),
        ));
        if let Some(role) = shape.create_role {
            text.push_str(&format!("create = \"{role}\"\n"));
        }
        text.push_str("[session]\n");
        if let Some(t) = shape.idle_session_timeout {
            text.push_str(&format!("idle_session_timeout = {t}\n"));
        }
        text.push_str("starters = [\"arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*\"]\n");
        text
    }
}

/// A trust policy that lets EC2 instances assume a role.
pub const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

impl Moto {
    /// Creates an organization with a log-archive account and one member account per name,
    /// each member with an `SSMInstanceRole` that EC2 can assume, with
    /// `AmazonSSMManagedInstanceCore` attached (made through the member's
    /// `OrganizationAccountAccessRole`, as an administrator would).
    pub fn organization(&self, members: &[&str]) -> Org {
        let org = self.aws(
            None,
            &[
                "organizations",
                "create-organization",
                "--feature-set",
                "ALL",
            ],
        );
        let id = org["Organization"]["Id"]
            .as_str()
            .expect("organization id")
            .to_string();
        let mut accounts = Vec::new();
        for name in std::iter::once("log-archive").chain(members.iter().copied()) {
            let email = format!("{name}@example.com");
            let out = self.aws(
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
            let account = out["CreateAccountStatus"]["AccountId"]
                .as_str()
                .expect("account id");
            accounts.push(account.to_string());
        }
        let log_archive = accounts.remove(0);
        for m in &accounts {
            let c = self.assume(m);
            self.aws(
                Some(&c),
                &[
                    "iam",
                    "create-role",
                    "--role-name",
                    "SSMInstanceRole",
                    "--assume-role-policy-document",
                    EC2_TRUST,
                ],
            );
            // As the source article says: the agent's core calls come from this policy.
            self.aws(
                Some(&c),
                &[
                    "iam",
                    "attach-role-policy",
                    "--role-name",
                    "SSMInstanceRole",
                    "--policy-arn",
                    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
                ],
            );
        }
        self.default_vpcs_as_in_aws(&accounts, DEFAULT_VPC_REGIONS);
        Org {
            id,
            log_archive,
            members: accounts,
        }
    }

    /// moto gives every account and region a default VPC, as AWS does, but without its
    /// internet gateway: AWS's default VPC has one, with `0.0.0.0/0` to it in the main route
    /// table, and its default subnets give instances public IPs (moto's do too). Adds the
    /// gateway and the route to the default VPC of each of `accounts` (through their
    /// `OrganizationAccountAccessRole`) in each of `regions`, so a pulled network is what
    /// AWS would give. One Python process with boto3 (a dependency of moto), since the aws
    /// CLI takes a second or more a call.
    pub fn default_vpcs_as_in_aws(&self, accounts: &[String], regions: &[&str]) {
        let out = Command::new("python3")
            .args([
                "-c",
                DEFAULT_VPC_SCRIPT,
                &self.url(),
                &serde_json::to_string(accounts).unwrap(),
                &serde_json::to_string(regions).unwrap(),
            ])
            .envs(ENV)
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "default VPCs as in AWS: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The regions the live tests use, whose default VPCs [`Moto::organization`] makes as AWS
/// has them (a test in another region calls [`Moto::default_vpcs_as_in_aws`] itself).
pub const DEFAULT_VPC_REGIONS: &[&str] = &["eu-west-1", "us-east-1", "ap-east-1"];

/// Gives the default VPC of each account and region its internet gateway and default route.
const DEFAULT_VPC_SCRIPT: &str = r#"
import json, sys
import boto3
url, accounts, regions = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
sts = boto3.client("sts", endpoint_url=url, region_name="us-east-1")
for account in accounts:
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
                        RoleSessionName="default-vpc")["Credentials"]
    for region in regions:
        ec2 = boto3.client("ec2", endpoint_url=url, region_name=region,
                           aws_access_key_id=c["AccessKeyId"],
                           aws_secret_access_key=c["SecretAccessKey"],
                           aws_session_token=c["SessionToken"])
        vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
        main = [t for t in tables if any(a.get("Main") for a in t.get("Associations", []))][0]
        if any(r.get("DestinationCidrBlock") == "0.0.0.0/0" for r in main.get("Routes", [])):
            continue
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        ec2.create_route(RouteTableId=main["RouteTableId"], DestinationCidrBlock="0.0.0.0/0",
                         GatewayId=igw)
"#;

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP proxy between the SDK and moto that a test can cut (every open connection reset,
/// new ones refused) and restore, or make drop the next reply (the request reaches moto,
/// its answer never comes back): the endpoint fails mid-apply while moto's in-memory state
/// survives.
#[derive(Clone)]
pub struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
    drop_reply: Arc<AtomicBool>,
    disabled: Arc<Mutex<Option<String>>>,
    ec2_denied: Arc<Mutex<Option<String>>>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    /// Listens on a free port of 127.0.0.1 and forwards to `upstream` there.
    pub fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let proxy = Proxy {
            port: listener.local_addr().unwrap().port(),
            cut: Arc::new(AtomicBool::new(false)),
            drop_reply: Arc::new(AtomicBool::new(false)),
            disabled: Arc::new(Mutex::new(None)),
            ec2_denied: Arc::new(Mutex::new(None)),
            open: Arc::new(Mutex::new(Vec::new())),
        };
        let p = proxy.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if p.cut.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let mut open = p.open.lock().unwrap();
                open.push(client.try_clone().unwrap());
                open.push(server.try_clone().unwrap());
                requests(
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    p.disabled.clone(),
                    p.ec2_denied.clone(),
                );
                replies(server, client, p.drop_reply.clone());
            }
        });
        proxy
    }

    /// The endpoint URL to give the SDK.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Resets every open connection and refuses new ones until [`Proxy::restore`].
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }

    /// The next reply moto sends, on any connection, is thrown away and its connection
    /// closed: the request was done, the caller never hears of it. Once.
    pub fn drop_next_reply(&self) {
        self.drop_reply.store(true, Ordering::SeqCst);
    }

    /// Whether a reply is still waiting to be dropped.
    pub fn reply_pending_drop(&self) -> bool {
        self.drop_reply.load(Ordering::SeqCst)
    }

    /// Answers every Systems Manager request signed for `region` as AWS answers in an
    /// opt-in region that is not enabled for the account (`UnrecognizedClientException`,
    /// the security token is invalid), without moto seeing it; `None` ends it.
    pub fn disable_ssm_region(&self, region: Option<&str>) {
        *self.disabled.lock().unwrap() = region.map(str::to_string);
    }

    /// Answers every EC2 request signed for `region` as AWS answers a caller whose policies
    /// (or an SCP) deny it (`UnauthorizedOperation`, HTTP 403), without moto seeing it;
    /// `None` ends it.
    pub fn deny_ec2_region(&self, region: Option<&str>) {
        *self.ec2_denied.lock().unwrap() = region.map(str::to_string);
    }
}

/// The client-to-moto half: forwards requests, except those signed for the disabled region
/// (Systems Manager), which get AWS's answer for a region not enabled, and those signed for
/// the EC2-denied region, which get AWS's access denial; their connection is closed.
fn requests(
    from: TcpStream,
    to: TcpStream,
    disabled: Arc<Mutex<Option<String>>>,
    ec2_denied: Arc<Mutex<Option<String>>>,
) {
    pump(from, to, move |chunk, from| {
        let text = String::from_utf8_lossy(chunk);
        let signed_for = |region: &Option<String>, service: &str| {
            region
                .as_ref()
                .is_some_and(|r| text.contains(&format!("/{r}/{service}/aws4_request")))
        };
        let (status, content_type, body) = if signed_for(&disabled.lock().unwrap(), "ssm") {
            (
                "400 Bad Request",
                "application/x-amz-json-1.1",
                r#"{"__type":"UnrecognizedClientException","message":"The security token included in the request is invalid."}"#,
            )
        } else if signed_for(&ec2_denied.lock().unwrap(), "ec2") {
            (
                "403 Forbidden",
                "text/xml;charset=UTF-8",
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>ssmlog-proxy</RequestID></Response>",
            )
        } else {
            return false;
        };
        let reply = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nx-amzn-RequestId: ssmlog-proxy\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = from.write_all(reply.as_bytes());
        true
    });
}

/// The moto-to-client half: forwards replies, except the one [`Proxy::drop_next_reply`]
/// asked to lose.
fn replies(from: TcpStream, to: TcpStream, drop_reply: Arc<AtomicBool>) {
    pump(from, to, move |_, _| {
        drop_reply.swap(false, Ordering::SeqCst)
    });
}

/// Copies `from` to `to` on a thread of its own, chunk by chunk, until either side closes;
/// when `intercept` takes a chunk (returns true) it is not forwarded and both connections
/// are closed.
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    mut intercept: impl FnMut(&[u8], &mut TcpStream) -> bool + Send + 'static,
) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if intercept(&buf[..n], &mut from) {
                let _ = from.shutdown(Shutdown::Both);
                let _ = to.shutdown(Shutdown::Both);
                return;
            }
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}
