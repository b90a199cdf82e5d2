//! The `ssmlog` binary against a moto server on 127.0.0.1: `apply --yes`, a second apply
//! with nothing to do, `verify` and `canary` with their exit codes, JSON read back with
//! unknown fields denied, and progress lines on stderr (not a terminal here).
//!
//! Without `moto_server` or `aws` on PATH the test skips, unless `SSMLOG_REQUIRE_TOOLS=1`.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test: a failure is the report"
)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

use ssmlog_aws::{CanaryReport, Verification};
use ssmlog_moto::{ConfigShape, Moto};

mod common;

fn ssmlog(moto: &Moto, config: &Path, args: &[&str]) -> Output {
    common::live(moto, config, args)
}

#[test]
fn apply_verify_canary_from_the_command_line() {
    let Some(moto) = Moto::start() else { return };
    let created = moto.organization(&["dev", "prod"]);
    let dir = std::env::temp_dir().join(format!("ssmlog-live-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("ssmlog.toml");
    let text = created.config_text(&ConfigShape {
        regions: &["eu-west-1", "us-east-1"],
        ..ConfigShape::default()
    });
    std::fs::write(&config, text).unwrap();

    // Without a terminal and without --yes, apply refuses (exit 2) and writes nothing.
    let refused = ssmlog(&moto, &config, &["apply"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));

    let applied = ssmlog(&moto, &config, &["apply", "--yes"]);
    let stderr = String::from_utf8_lossy(&applied.stderr);
    assert_eq!(applied.status.code(), Some(0), "{stderr}");
    // Accounts and account/regions counted apart.
    assert!(
        String::from_utf8_lossy(&applied.stdout)
            .contains("accounts: 3 ok, 0 failed (of 3); account/regions: 4 ok, 0 failed (of 4)"),
        "{}",
        String::from_utf8_lossy(&applied.stdout)
    );
    // Not a terminal: one plain progress line per unit, no redraws.
    assert!(stderr.contains("[6/6] "), "{stderr}");
    assert!(!stderr.contains('\r'), "{stderr}");
    let again = ssmlog(&moto, &config, &["apply", "--yes"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to do"));

    // `-v`: every AWS call on stderr with its account, region, operation and outcome;
    // standard output unchanged. `RUST_LOG` does the same without the flag.
    let quiet = ssmlog(&moto, &config, &["plan"]);
    let loud = ssmlog(&moto, &config, &["plan", "-v"]);
    assert_eq!(loud.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&quiet.stdout),
        String::from_utf8_lossy(&loud.stdout)
    );
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("ssmlog::aws"));
    let traced = String::from_utf8_lossy(&loud.stderr);
    let calls: Vec<&str> = traced
        .lines()
        .filter(|l| l.contains("ssmlog::aws") && l.contains("AWS call"))
        .collect();
    let la = &created.log_archive;
    for (operation, account, region) in [
        ("sts:GetCallerIdentity", "-", "us-east-1"),
        ("sts:AssumeRole", la.as_str(), "us-east-1"),
        ("s3:HeadBucket", la.as_str(), "eu-west-1"),
        ("kms:GetKeyPolicy", la.as_str(), "eu-west-1"),
        ("iam:GetRolePolicy", created.members[0].as_str(), "global"),
        ("ssm:GetDocument", created.members[1].as_str(), "us-east-1"),
    ] {
        assert!(
            calls
                .iter()
                .any(|l| l.contains(&format!("account={account} "))
                    && l.contains(&format!("region={region} "))
                    && l.contains(&format!("operation={operation} "))
                    && l.contains("outcome=\"ok\"")
                    && l.contains("status=200")),
            "no {operation} in {account} {region}:\n{traced}"
        );
    }
    let env = common::live_command(&moto, &config, &["plan"])
        .env("RUST_LOG", "ssmlog::aws=info")
        .output()
        .unwrap();
    assert_eq!(env.stdout, quiet.stdout);
    assert!(String::from_utf8_lossy(&env.stderr).contains("operation=s3:HeadBucket"));

    // verify: everything in place but no session has run: exit 1, "no log yet" only.
    let v = ssmlog(&moto, &config, &["verify", "--format", "json"]);
    assert_eq!(
        v.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&v.stderr)
    );
    let report: Verification =
        common::unversioned(&String::from_utf8_lossy(&v.stdout), "ssmlog.verify/1");
    // Every JSON document of the live commands is kept, to validate against its schema.
    let mut documents = vec![keep(&dir, "verify.json", &v)];
    assert_eq!(report.rows.len(), 4);
    assert!(report.findings.iter().all(|f| f.rule == "no-log-yet"));
    // Issue 13: each account and region's network (default VPCs, as AWS makes them) proven.
    assert!(
        report
            .rows
            .iter()
            .all(|r| r.network == ssmlog_aws::Status::Ok),
        "{}",
        report.to_table()
    );
    let table = ssmlog(&moto, &config, &["verify", "--since", "1h"]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("no log yet"));
    assert!(String::from_utf8_lossy(&table.stdout).contains(" NETWORK "));
    assert!(String::from_utf8_lossy(&table.stdout)
        .contains("ssmlog pull --out DIR` then `ssmlog check DIR`"));
    // `--proof`: the live State pulled and proven in the same run, one JSON document.
    let p = ssmlog(&moto, &config, &["verify", "--proof", "--format", "json"]);
    assert_eq!(p.status.code(), Some(1), "no log yet is still a finding");
    let both: serde_json::Value =
        common::unversioned(&String::from_utf8_lossy(&p.stdout), "ssmlog.verify-proof/1");
    documents.push(keep(&dir, "verify-proof.json", &p));
    let proof: ssmlog_check::Report = serde_json::from_value(both["proof"].clone()).unwrap();
    assert!(proof.passed(), "{}", proof.to_table());
    assert!(both["verification"]["rows"]
        .as_array()
        .is_some_and(|r| r.len() == 4));
    // `apply --format json`: the plan, nothing applied, the coverage.
    let j = ssmlog(&moto, &config, &["apply", "--yes", "--format", "json"]);
    assert_eq!(j.status.code(), Some(0));
    documents.push(keep(&dir, "apply.json", &j));
    let j: serde_json::Value =
        common::unversioned(&String::from_utf8_lossy(&j.stdout), "ssmlog.apply/1");
    assert_eq!(j["applied"], serde_json::Value::Null);
    assert_eq!(j["coverage"]["accounts"], 3);
    assert_eq!(j["coverage"]["accountRegions"], 4);
    assert_eq!(j["writeCalls"], 0);

    // canary: moto refuses every object call under the hardened bucket policy (it cannot
    // evaluate its conditions), so the agent's upload fails: exit 1, the call and the
    // answer named.
    let c = ssmlog(&moto, &config, &["canary", "--format", "json"]);
    assert_eq!(
        c.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&c.stderr)
    );
    let report: CanaryReport =
        common::unversioned(&String::from_utf8_lossy(&c.stdout), "ssmlog.canary/1");
    documents.push(keep(&dir, "canary.json", &c));
    assert_eq!(report.rows.len(), 4);
    let failing: Vec<_> = report
        .rows
        .iter()
        .flat_map(|r| &r.calls)
        .filter(|c| {
            c.outcome == ssmlog_aws::CallOutcome::Failed && c.by == ssmlog_aws::Party::Agent
        })
        .map(|c| c.call.as_str())
        .collect();
    assert_eq!(failing, ["s3:PutObject"; 4]);
    let table = ssmlog(&moto, &config, &["canary"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("PutObject FAIL") && text.contains("made as the access role"),
        "{text}"
    );

    // plan and pull as JSON: nothing to change; every account and region read.
    let plan = ssmlog(&moto, &config, &["plan", "--format", "json"]);
    assert_eq!(plan.status.code(), Some(0));
    let planned: serde_json::Value =
        common::unversioned(&String::from_utf8_lossy(&plan.stdout), "ssmlog.plan/1");
    assert!(planned["changes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["action"] == "no-change"));
    documents.push(keep(&dir, "plan.json", &plan));
    let state = dir.join("pulled");
    let pulled = ssmlog(
        &moto,
        &config,
        &["pull", "--out", state.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(pulled.status.code(), Some(0));
    let summary: serde_json::Value =
        common::unversioned(&String::from_utf8_lossy(&pulled.stdout), "ssmlog.pull/1");
    assert_eq!(summary["accounts"], 2);
    assert_eq!(summary["accountRegions"], 4);
    assert_eq!(summary["unreachable"], serde_json::json!([]));
    documents.push(keep(&dir, "pull.json", &pulled));
    if let Some(result) = common::validate_against_schemas(&documents) {
        let report = result.unwrap_or_else(|e| panic!("{e}"));
        assert!(report.contains("6 documents checked, 0 failed"), "{report}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes a command's standard output to `dir/name`, for the schema validation.
fn keep(dir: &Path, name: &str, o: &Output) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, &o.stdout).unwrap();
    path
}

/// Issue 10: a config naming an account that is not in the organization is refused before
/// anything is written (exit 2, the account and the field named), by plan, apply and pull.
#[test]
fn issue_10_an_account_outside_the_organization_is_refused_before_any_write() {
    let Some(moto) = Moto::start() else { return };
    let mut created = moto.organization(&["dev"]);
    created.members.push("999999999999".to_string());
    let dir = std::env::temp_dir().join(format!("ssmlog-live-cli-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("ssmlog.toml");
    let text = created.config_text(&ConfigShape {
        regions: &["eu-west-1"],
        ..ConfigShape::default()
    });
    std::fs::write(&config, text).unwrap();
    for args in [
        &["apply", "--yes"][..],
        &["plan"][..],
        &["pull", "--out", dir.join("state").to_str().unwrap()][..],
    ] {
        let out = ssmlog(&moto, &config, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(
                "accounts.members: account `999999999999` is not an active account of organization"
            ),
            "{stderr}"
        );
        assert!(stderr.contains("nothing was written"), "{stderr}");
    }
    assert!(!dir.join("state").exists());
    // Nothing was written: no bucket, no key in the log-archive account.
    let la = moto.assume(&created.log_archive);
    let buckets = moto.aws(Some(&la), &["s3api", "list-buckets"]);
    assert_eq!(
        buckets["Buckets"].as_array().map_or(0, Vec::len),
        0,
        "{buckets}"
    );
    let keys = moto.aws(Some(&la), &["kms", "list-keys", "--region", "eu-west-1"]);
    assert_eq!(keys["Keys"].as_array().map_or(0, Vec::len), 0, "{keys}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 10: errors before any AWS answer are one line with the fix, no SDK dump: a
/// missing profile suggests `aws sso login`, a refused connection names the endpoint.
#[test]
fn issue_10_no_credentials_and_no_endpoint_are_said_plainly() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/ssmlog.toml");
    let run = |extra: &[&str], creds: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ssmlog"));
        cmd.args([
            "plan",
            "--config",
            config.to_str().unwrap(),
            "--region",
            "us-east-1",
        ])
        .args(extra)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null());
        if creds {
            cmd.env("AWS_ACCESS_KEY_ID", "x")
                .env("AWS_SECRET_ACCESS_KEY", "y");
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, err) = run(&["--profile", "nosuch"], false);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no usable credentials"), "{err}");
    assert!(err.contains("aws sso login --profile nosuch"), "{err}");
    assert!(
        !err.contains("Error {") && !err.contains("ResponseError") && err.lines().count() <= 2,
        "{err}"
    );
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{closed}");
    let (code, err) = run(&["--endpoint-url", &url], true);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!("connection refused by {url}")),
        "{err}"
    );
    assert!(err.lines().count() <= 2, "{err}");
}
