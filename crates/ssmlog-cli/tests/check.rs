//! `ssmlog check` as a user runs it: on a config, on a rendered State directory, in every
//! output form, with the exit codes scripts rely on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ssmlog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ssmlog"))
        .args(args)
        .output()
        .unwrap()
}

fn example() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/ssmlog.toml")
        .display()
        .to_string()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ssmlog-cli-check-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn seed_profile_fails_with_a_table_naming_the_weaknesses() {
    let o = ssmlog(&["check", "--config", &example(), "--profile", "seed"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with(
            "ACCOUNT        REGION           AGENT CALLS   PROBES DENIED  ERRORS  WARNINGS\n"
        ),
        "{out}"
    );
    assert!(
        // 2 roles x (6 logging calls + 11 core calls) + the session starter
        out.contains("222233334444   eu-west-1              35/35"),
        "{out}"
    );
    assert!(
        out.contains("another member account overwrites or forges this account's session log"),
        "{out}"
    );
    assert!(
        out.contains("= fix: grant each account writes under its own prefix only"),
        "{out}"
    );
    assert!(out.contains("\nFAILED: "), "{out}");
}

#[test]
fn a_rendered_state_directory_checks_the_same_as_its_config() {
    let dir = tmp("state");
    let r = ssmlog(&[
        "render",
        "--config",
        &example(),
        "--profile",
        "seed",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(
        r.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let from_dir = ssmlog(&[
        "check",
        dir.to_str().unwrap(),
        "--format",
        "json",
        "--session-starter",
        "arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*",
    ]);
    let from_config = ssmlog(&[
        "check",
        "--config",
        &example(),
        "--profile",
        "seed",
        "--format",
        "json",
    ]);
    assert_eq!(from_dir.status.code(), Some(1));
    let a: serde_json::Value = serde_json::from_slice(&from_dir.stdout).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&from_config.stdout).unwrap();
    assert_eq!(a["rows"], b["rows"]);
    assert_eq!(a["findings"], b["findings"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn json_and_sarif_outputs_are_machine_readable() {
    let o = ssmlog(&[
        "check",
        "--config",
        &example(),
        "--profile",
        "seed",
        "--format",
        "json",
    ]);
    let report: ssmlog_check::Report = serde_json::from_slice(&o.stdout).unwrap();
    assert!(!report.passed());
    assert!(report.findings.iter().any(|f| f.rule == "probe-allowed"));
    let o = ssmlog(&[
        "check",
        "--config",
        &example(),
        "--profile",
        "seed",
        "--format",
        "sarif",
    ]);
    let sarif: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["tool"]["driver"]["name"], "ssmlog");
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len(),
        report.findings.len()
    );
}

#[test]
fn explain_prints_the_trace_of_one_account() {
    let o = ssmlog(&["check", "--config", &example(), "--explain", "444455556666"]);
    let out = stdout(&o);
    assert!(
        out.contains("agent/kms:GenerateDataKey eu-west-1 — holds"),
        "{out}"
    );
    assert!(
        out.contains("kms:viaservice = s3.eu-west-1.amazonaws.com"),
        "{out}"
    );
    assert!(
        out.contains(
            "by arn:aws:sts::444455556666:assumed-role/SSMInstanceRole/i-0123456789abcdef0"
        ),
        "{out}"
    );
}

#[test]
fn bad_input_exits_2_and_says_what_to_do() {
    let o = ssmlog(&["check", "/nonexistent/state"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("state.json"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let dir = tmp("badcfg");
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("ssmlog.toml");
    let text = std::fs::read_to_string(example())
        .unwrap()
        .replace("id = \"o-a1b2c3d4e5\"", "id = \"org-1\"");
    std::fs::write(&cfg, text).unwrap();
    let o = ssmlog(&["check", "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("organization.id"), "{err}");
    let o = ssmlog(&["check", "--config", "/nonexistent/ssmlog.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("run `ssmlog init`"));
    let _ = std::fs::remove_dir_all(&dir);
}
