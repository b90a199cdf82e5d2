//! `ssmlog iam validate` and `ssmlog iam eval` as a user runs them: output and exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ssmlog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ssmlog"))
        .args(args)
        .output()
        .unwrap()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn path(rel: &str) -> String {
    repo().join(rel).display().to_string()
}

fn tmp(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("ssmlog-cli-iam-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn validate_accepts_the_seed_policies_and_guesses_their_kinds() {
    let dir = "crates/ssmlog-iam/tests/fixtures/seed";
    let o = ssmlog(&[
        "iam",
        "validate",
        &path(&format!("{dir}/bucket-policy.json")),
        &path(&format!("{dir}/key-policy.json")),
        &path(&format!("{dir}/instance-role-policy.json")),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("bucket-policy.json: valid bucket-policy (0 errors, 0 warnings)"),
        "{out}"
    );
    assert!(out.contains("key-policy.json: valid key-policy"), "{out}");
    assert!(
        out.contains("instance-role-policy.json: valid identity"),
        "{out}"
    );
}

#[test]
fn validate_reports_errors_with_location_and_help_and_exits_1() {
    let f = tmp("typo.json", "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\",\n    \"Condition\": {\"StringEqual\": {\"aws:PrincipalOrgID\": \"o-1\"}}}]\n}\n");
    let o = ssmlog(&["iam", "validate", &f]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("error[unknown-operator]: unknown condition operator `StringEqual`"),
        "{out}"
    );
    assert!(
        out.contains("typo.json:4:19 (Statement[0].Condition.StringEqual)"),
        "{out}"
    );
    assert!(
        out.contains("= help: did you mean `StringEquals`?"),
        "{out}"
    );
}

#[test]
fn validate_json_output_is_machine_readable() {
    let f = tmp(
        "np.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"*"}]}"#,
    );
    let o = ssmlog(&[
        "iam",
        "validate",
        "--kind",
        "bucket-policy",
        "--format",
        "json",
        &f,
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let d = &v["files"][0]["diagnostics"][0];
    assert_eq!(d["code"], "notprincipal-allow");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["message"], "NotPrincipal is only allowed with Deny");
    assert_eq!(v["files"][0]["kind"], "bucket-policy");
}

#[test]
fn validate_an_unreadable_file_exits_2() {
    let o = ssmlog(&["iam", "validate", "/nonexistent/policy.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read `/nonexistent/policy.json`"));
}

#[test]
fn eval_explains_an_allowed_cross_account_upload() {
    let o = ssmlog(&[
        "iam",
        "eval",
        &path("crates/ssmlog-iam/benches/log_upload.json"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with(
            "ALLOWED\n  s3:PutObject on arn:aws:s3:::central-session-logs-111122223333/"
        ),
        "{out}"
    );
    assert!(out.contains("(cross-account)"), "{out}");
    assert!(
        out.contains("Allow  identity `SessionManagerLogging` Statement[0] (PutObjectsBucket)"),
        "{out}"
    );
}

#[test]
fn eval_json_names_the_missing_grant_and_exits_1() {
    let text =
        std::fs::read_to_string(repo().join("crates/ssmlog-iam/benches/log_upload_kms.json"))
            .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["principal"]["orgId"] = serde_json::json!("o-otherorg1");
    let f = tmp("outsider.json", &v.to_string());
    let o = ssmlog(&["iam", "eval", "--format", "json", &f]);
    assert_eq!(o.status.code(), Some(1));
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["decision"], "ImplicitlyDenied");
    let missing = d["missing"][0].as_str().unwrap();
    assert!(
        missing.contains("grants no principal of account 222233334444"),
        "{missing}"
    );
}

#[test]
fn eval_reads_arrays_and_json_lines() {
    let text =
        std::fs::read_to_string(repo().join("crates/ssmlog-iam/benches/log_upload.json")).unwrap();
    let one: serde_json::Value = serde_json::from_str(&text).unwrap();
    let arr = tmp("arr.json", &serde_json::json!([one, one]).to_string());
    let o = ssmlog(&["iam", "eval", "--format", "json", &arr]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schemaVersion"], "ssmlog.iam-decisions/1");
    assert_eq!(v["decisions"].as_array().unwrap().len(), 2);
    let lines = tmp("l.jsonl", &format!("{one}\n\n{one}\n"));
    let o = ssmlog(&["iam", "eval", "--lines", &lines]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o).matches("ALLOWED").count(), 2);
}

#[test]
fn eval_bad_request_exits_2_with_the_place() {
    let f = tmp("bad.json", "{\n  \"principal\": \"arn:aws:iam::1:role/R\",\n  \"action\": \"s3:GetObject\",\n  \"resource\": \"arn:aws:s3:::b/k\"\n}\n");
    let o = ssmlog(&["iam", "eval", &f]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.json:2:16"), "{err}");
    assert!(err.contains("the account must be 12 digits"), "{err}");
}

#[test]
fn an_unknown_policy_kind_is_bad_input() {
    let o = ssmlog(&[
        "iam",
        "validate",
        "--kind",
        "bucket",
        &path("crates/ssmlog-iam/tests/fixtures/seed/key-policy.json"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("`bucket` is not a policy kind: use auto, identity, bucket-policy"),
        "{err}"
    );
}

#[test]
fn eval_lines_with_json_writes_json_lines_and_exit_zero_keeps_0() {
    let allowed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("crates/ssmlog-iam/benches/log_upload.json")).unwrap(),
    )
    .unwrap();
    let mut denied = allowed.clone();
    denied["principal"]["orgId"] = serde_json::json!("o-otherorg1");
    let lines = tmp("mixed.jsonl", &format!("{allowed}\n{denied}\n{allowed}\n"));
    let o = ssmlog(&["iam", "eval", "--lines", "--format", "json", &lines]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let decisions: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let outcomes: Vec<&str> = decisions
        .iter()
        .map(|d| d["decision"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["Allowed", "ImplicitlyDenied", "Allowed"]);
    let o = ssmlog(&["iam", "eval", "--lines", "--exit-zero", &lines]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o).matches("DENIED").count(), 1);
    // Bad input is still bad input.
    let bad = tmp("bad.jsonl", "{\"principal\": 1}\n");
    let o = ssmlog(&["iam", "eval", "--lines", "--exit-zero", &bad]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn validate_reads_stdin_and_unwraps_the_aws_cli_answer() {
    use std::io::Write as _;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222233334444:root"},"Action":"s3:PutObjekt","Resource":"arn:aws:s3:::logs/*"}]}"#;
    let answer = serde_json::json!({ "Policy": policy }).to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ssmlog"))
        .args(["iam", "validate", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("warning[unknown-action]: `s3:PutObjekt` is not an action of the service"),
        "{out}"
    );
    assert!(out.contains("--> <stdin> (Policy):1:"), "{out}");
    assert!(out.contains("did you mean `s3:PutObject`?"), "{out}");
    assert!(
        out.contains("<stdin> (Policy): valid bucket-policy (0 errors, 1 warnings)"),
        "{out}"
    );
}
