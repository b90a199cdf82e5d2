//! `ssmlog check` as a user runs it: on a config, on a rendered State directory, in every
//! output form, with the exit codes scripts rely on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

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
    let o = ssmlog(&["check", "--config", &example(), "--baseline", "seed"]);
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
        "--baseline",
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
        "--baseline",
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
        "--baseline",
        "seed",
        "--format",
        "json",
    ]);
    let report: ssmlog_check::Report = common::unversioned(&stdout(&o), "ssmlog.check/1");
    assert!(!report.passed());
    assert!(report.findings.iter().any(|f| f.rule == "probe-allowed"));
    let o = ssmlog(&[
        "check",
        "--config",
        &example(),
        "--baseline",
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

/// Why the SARIF schema test cannot run here, if it cannot.
fn sarif_tools_missing(schema: &Path) -> Option<String> {
    if !schema.is_file() {
        return Some(format!(
            "{} is missing (run scripts/install-tools.sh)",
            schema.display()
        ));
    }
    match Command::new("python3")
        .args(["-c", "import jsonschema"])
        .output()
    {
        Ok(o) if o.status.success() => None,
        _ => Some("python3 with jsonschema is missing (run scripts/install-tools.sh)".into()),
    }
}

#[test]
fn sarif_of_a_state_directory_is_valid_sarif_2_1_0_and_places_every_result() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let schema = repo.join(
        "tools/sarif-schema/node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json",
    );
    let dir = tmp("sarif-state");
    let o = ssmlog(&[
        "render",
        "--config",
        &example(),
        "--baseline",
        "seed",
        "--out",
        &dir.display().to_string(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Run from the directory that holds the State, as CI runs from the repository root.
    let parent = dir.parent().unwrap();
    let name = dir.file_name().unwrap().to_str().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_ssmlog"))
        .args(["check", name, "--format", "sarif"])
        .current_dir(parent)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let sarif: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let run = &sarif["runs"][0];
    let root = run["originalUriBaseIds"]["SRCROOT"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        root.starts_with("file:///") && root.ends_with('/'),
        "{root}"
    );
    let results = run["results"].as_array().unwrap();
    assert!(results.len() > 20, "{}", results.len());
    for r in results {
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        // The file exists in the State directory, and the line and column are inside it.
        let text =
            std::fs::read_to_string(parent.join(uri)).unwrap_or_else(|e| panic!("{uri}: {e}"));
        let line = loc["region"]["startLine"].as_u64().unwrap() as usize;
        let col = loc["region"]["startColumn"].as_u64().unwrap() as usize;
        let l = text
            .lines()
            .nth(line - 1)
            .unwrap_or_else(|| panic!("{uri}:{line}"));
        assert!(col <= l.chars().count().max(1), "{uri}:{line}:{col}");
        assert!(r["partialFingerprints"]
            .as_object()
            .is_some_and(|o| !o.is_empty()));
    }
    // Validated against the SARIF 2.1.0 JSON schema.
    if let Some(why) = sarif_tools_missing(&schema) {
        assert!(
            std::env::var_os("SSMLOG_REQUIRE_TOOLS").is_none_or(|v| v != "1"),
            "{why} and SSMLOG_REQUIRE_TOOLS=1"
        );
        eprintln!("skipping the schema validation: {why}");
        return;
    }
    let out = dir.with_extension("sarif");
    std::fs::write(&out, &o.stdout).unwrap();
    let v = Command::new("python3")
        .args([
            "-c",
            "import json, sys, jsonschema\n\
             schema = json.load(open(sys.argv[1]))\n\
             doc = json.load(open(sys.argv[2]))\n\
             jsonschema.validators.validator_for(schema)(schema).validate(doc)\n\
             print('valid')",
        ])
        .arg(&schema)
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        v.status.success(),
        "SARIF does not validate: {}",
        String::from_utf8_lossy(&v.stderr)
    );
    // And the validator does reject what is not SARIF (so a pass means something).
    std::fs::write(&out, r#"{"version": "2.1.0", "runs": [{"results": []}]}"#).unwrap();
    let bad = Command::new("python3")
        .args([
            "-c",
            "import json, sys, jsonschema\n\
             schema = json.load(open(sys.argv[1]))\n\
             jsonschema.validators.validator_for(schema)(schema).validate(json.load(open(sys.argv[2])))",
        ])
        .arg(&schema)
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        !bad.status.success(),
        "a run without a tool must not validate"
    );
}

#[test]
fn old_flag_spellings_exit_2_naming_the_new_ones() {
    let o = ssmlog(&["check", "--config", &example(), "--profile", "seed"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("`--baseline seed`"), "{err}");
    let o = ssmlog(&["check", "--config", &example(), "--format", "table"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("`--format text`"));
    let o = ssmlog(&["check", "--config", &example(), "--format", "text"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = ssmlog(&["plan", "--render-profile", "seed"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("`--baseline seed`"));
}

/// A pulled (here: rendered) State proven with what the config expects of it: the config is
/// read for its guardrails and readers, not rendered. Without it the guardrails are only a
/// note; with it a State that lacks them fails on the open probes.
#[test]
fn a_state_directory_is_proven_against_the_config_s_expectations() {
    let dir = tmp("expect");
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(example()).unwrap().replace(
        "id = \"o-a1b2c3d4e5\"\n",
        "id = \"o-a1b2c3d4e5\"\nroot_id = \"r-ab12\"\n",
    ) + "\n[guardrails]\nattach_to = [\"r-ab12\"]\ndeploy_roles = [\"arn:aws:iam::*:role/ssmlog-deploy\"]\n\n[readers]\nroles = [\"arn:aws:iam::555566667777:role/SecurityAuditor\"]\n";
    let cfg = dir.join("guarded.toml");
    std::fs::write(&cfg, text).unwrap();
    let cfg = cfg.to_str().unwrap();
    let with = dir.join("hardened");
    let without = dir.join("seed");
    for (out, baseline) in [(&with, "hardened"), (&without, "seed")] {
        let o = ssmlog(&[
            "render",
            "--config",
            cfg,
            "--baseline",
            baseline,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let rules = |o: &Output| -> Vec<String> {
        let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_string())
            .collect()
    };
    let proofs = |o: &Output| -> Vec<String> {
        let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        report["proofs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap_or_default().to_string())
            .collect()
    };

    // The guarded State alone: passes, the guardrails unproven (a note).
    let alone = ssmlog(&["check", with.to_str().unwrap(), "--format", "json"]);
    assert_eq!(alone.status.code(), Some(0));
    assert!(rules(&alone).contains(&"guardrails-unproven".to_string()));

    // With the config: the guardrail probes and the readers are proven on that State (the
    // explained account's proofs are kept in the report).
    let expected = ssmlog(&[
        "check",
        with.to_str().unwrap(),
        "--config",
        cfg,
        "--format",
        "json",
        "--explain",
        "222233334444",
    ]);
    assert_eq!(expected.status.code(), Some(0), "{}", stdout(&expected));
    assert!(!rules(&expected).contains(&"guardrails-unproven".to_string()));
    let ids = proofs(&expected);
    assert!(
        ids.iter().any(|id| id.contains("member-edits-preferences")),
        "{ids:?}"
    );
    assert!(ids.iter().any(|id| id.starts_with("reader/")), "{ids:?}");

    // The seed State has no guardrail SCP: against the same expectations it fails.
    let seed = ssmlog(&[
        "check",
        without.to_str().unwrap(),
        "--config",
        cfg,
        "--format",
        "json",
    ]);
    assert_eq!(seed.status.code(), Some(1));
    let messages = |o: &Output| -> Vec<String> {
        let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect()
    };
    let open_edit =
        |m: &String| m.starts_with("ssm:UpdateDocument by ") && m.contains("MemberAdministrator");
    assert!(
        messages(&seed).iter().any(open_edit),
        "{:?}",
        messages(&seed)
    );
    let seed_alone = ssmlog(&["check", without.to_str().unwrap(), "--format", "json"]);
    assert!(!messages(&seed_alone).iter().any(open_edit));
    let _ = std::fs::remove_dir_all(&dir);
}
