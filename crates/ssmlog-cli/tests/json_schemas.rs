//! Every JSON document the offline commands print validates against its schema in
//! `docs/schemas` (docs/json-output.md), named by its `schemaVersion`: check, iam validate,
//! iam eval (one request, an array, JSON Lines, unreadable input), logs ls, show, grep and
//! export. The live commands' documents are validated in `live_cli.rs`. Without python3 and
//! jsonschema the validation skips, unless `SSMLOG_REQUIRE_TOOLS=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ssmlog_logs::gen::{write_corpus, CorpusSpec};

mod common;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs ssmlog and keeps its standard output in `dir/name`, asserting the exit code.
fn keep(dir: &Path, name: &str, args: &[&str], code: i32) -> PathBuf {
    let o = Command::new(env!("CARGO_BIN_EXE_ssmlog"))
        .args(args)
        .env_remove("SSMLOG_LOGS_DIR")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(code),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!o.stdout.is_empty(), "{args:?} printed nothing");
    let path = dir.join(name);
    std::fs::write(&path, &o.stdout).unwrap();
    path
}

#[test]
fn offline_json_outputs_match_their_schemas() {
    let dir = std::env::temp_dir().join(format!("ssmlog-json-schemas-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let example = repo().join("examples/ssmlog.toml").display().to_string();
    let r = |p: &str| repo().join(p).display().to_string();
    let mut files = vec![
        keep(
            &dir,
            "check-seed.json",
            &[
                "check",
                "--config",
                &example,
                "--baseline",
                "seed",
                "--format",
                "json",
            ],
            1,
        ),
        keep(
            &dir,
            "check-explained.json",
            &[
                "check",
                "--config",
                &example,
                "--explain",
                "222233334444",
                "--format",
                "json",
            ],
            0,
        ),
    ];
    // iam validate with errors and lint warnings, and clean files.
    let typo = dir.join("typo.json");
    std::fs::write(&typo, r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObjekt","Resource":"*","Condition":{"StringEqual":{"aws:PrincipalOrgID":"o-1"}}}]}"#).unwrap();
    files.push(keep(
        &dir,
        "validate.json",
        &[
            "iam",
            "validate",
            "--format",
            "json",
            typo.to_str().unwrap(),
            &r("crates/ssmlog-iam/tests/fixtures/seed/key-policy.json"),
        ],
        1,
    ));
    // iam eval: one request, an array, JSON Lines, and a request that cannot be read.
    let one = r("crates/ssmlog-iam/benches/log_upload.json");
    let request: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&one).unwrap()).unwrap();
    let array = dir.join("requests.json");
    std::fs::write(&array, serde_json::json!([request, request]).to_string()).unwrap();
    let lines = dir.join("requests.jsonl");
    std::fs::write(&lines, format!("{request}\n{request}\n")).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"principal": "arn:aws:iam::1:role/R", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}"#).unwrap();
    files.push(keep(
        &dir,
        "eval-one.json",
        &["iam", "eval", "--format", "json", &one],
        0,
    ));
    files.push(keep(
        &dir,
        "eval-array.json",
        &["iam", "eval", "--format", "json", array.to_str().unwrap()],
        0,
    ));
    files.push(keep(
        &dir,
        "eval-lines.jsonl",
        &[
            "iam",
            "eval",
            "--lines",
            "--format",
            "json",
            lines.to_str().unwrap(),
        ],
        0,
    ));
    files.push(keep(
        &dir,
        "eval-errors.json",
        &["iam", "eval", "--format", "json", bad.to_str().unwrap()],
        2,
    ));
    // logs, on a small generated corpus.
    let logs = dir.join("logs");
    write_corpus(
        &logs,
        &CorpusSpec {
            seed: 5,
            target_bytes: 60_000,
            ..CorpusSpec::default()
        },
    )
    .unwrap();
    let logs = logs.to_str().unwrap();
    let ls = keep(
        &dir,
        "ls.json",
        &["logs", "ls", "--dir", logs, "--format", "json"],
        0,
    );
    let listed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ls).unwrap()).unwrap();
    let session = listed["sessions"][0]["session"]
        .as_str()
        .unwrap()
        .to_string();
    files.push(ls);
    files.push(keep(
        &dir,
        "show.jsonl",
        &["logs", "show", "--dir", logs, "--format", "json", &session],
        0,
    ));
    files.push(keep(
        &dir,
        "grep.jsonl",
        &[
            "logs", "grep", "--dir", logs, "--format", "json", "-C", "1", "-e", "a",
        ],
        0,
    ));
    files.push(keep(
        &dir,
        "export.jsonl",
        &["logs", "export", "--dir", logs, "--session", &session],
        0,
    ));

    // Every schema of an offline command is exercised here.
    let versions: std::collections::BTreeSet<String> = files
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let first = text.lines().next().unwrap_or_default().to_string();
            let doc: serde_json::Value = serde_json::from_str(&text)
                .or_else(|_| serde_json::from_str(&first))
                .unwrap();
            doc["schemaVersion"].as_str().map(str::to_string)
        })
        .collect();
    for v in [
        "ssmlog.check/1",
        "ssmlog.iam-validate/1",
        "ssmlog.iam-decision/1",
        "ssmlog.iam-decisions/1",
        "ssmlog.iam-input-errors/1",
        "ssmlog.logs-ls/1",
        "ssmlog.logs-line/1",
        "ssmlog.logs-grep/1",
    ] {
        assert!(versions.contains(v), "{v} not produced: {versions:?}");
    }

    let Some(result) = common::validate_against_schemas(&files) else {
        return;
    };
    let report = result.unwrap_or_else(|e| panic!("{e}"));
    assert!(report.contains(" 0 failed"), "{report}");

    // The validator rejects what does not fit (so a pass means something): a field the
    // schema does not know, a severity it does not have, a missing schemaVersion.
    let mut check: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    check["findings"][0]["severity"] = "fatal".into();
    let wrong_severity = dir.join("wrong-severity.json");
    std::fs::write(&wrong_severity, check.to_string()).unwrap();
    let extra = dir.join("extra.jsonl");
    std::fs::write(
        &extra,
        r#"{"schemaVersion":"ssmlog.logs-line/1","session":"s","account":null,"region":null,"user":null,"time":null,"line":1,"text":"x","colour":"red"}"#,
    )
    .unwrap();
    let unversioned = dir.join("unversioned.json");
    std::fs::write(&unversioned, r#"{"files": []}"#).unwrap();
    for bad in [wrong_severity, extra, unversioned] {
        let result = common::validate_against_schemas(std::slice::from_ref(&bad)).unwrap();
        assert!(result.is_err(), "{} validated: {result:?}", bad.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
