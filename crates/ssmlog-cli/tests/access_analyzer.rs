//! A differential test of `ssmlog iam validate` against IAM Access Analyzer's
//! `validate-policy`, where their checks overlap: `fixtures/access-analyzer.json` holds small
//! policies written for this test, each with the finding codes Access Analyzer documents for
//! it (the "Access Analyzer policy check reference" of the IAM User Guide); ssmlog must report
//! the mapped diagnostic for each, and nothing for the clean ones (`[]`).
//!
//! The mapping is the table of `docs/iam-lints.md`; a code Access Analyzer has and ssmlog does
//! not is left out of the corpus rather than mapped loosely.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Access Analyzer issue code → the ssmlog diagnostic code that reports the same problem.
const MAPPING: &[(&str, &str)] = &[
    ("INVALID_ACTION", "unknown-action"),
    ("INVALID_SERVICE_IN_ACTION", "unknown-service"),
    ("INVALID_GLOBAL_CONDITION_KEY", "unknown-condition-key"),
    ("INVALID_SERVICE_CONDITION_KEY", "unknown-condition-key"),
    ("PASS_ROLE_WITH_STAR_IN_RESOURCE", "pass-role-star"),
    ("TYPE_MISMATCH", "condition-type-mismatch"),
    (
        "FORALLVALUES_WITH_SINGLE_VALUED_KEY",
        "set-operator-on-single-value",
    ),
    ("MISSING_VERSION", "missing-version"),
    ("MISSING_STATEMENT", "missing-statement"),
    ("MISSING_ACTION", "missing-action"),
    ("MISSING_RESOURCE", "missing-resource"),
    ("MISSING_PRINCIPAL", "missing-principal"),
    ("UNSUPPORTED_PRINCIPAL", "principal-not-allowed"),
    ("UNIQUE_SIDS_REQUIRED", "duplicate-sid"),
    ("INVALID_CONDITION_OPERATOR", "unknown-operator"),
    ("NULL_WITH_IF_EXISTS", "unknown-operator"),
    ("UNSUPPORTED_ELEMENT_COMBINATION", "element-pair"),
    ("INVALID_POLICY_ELEMENT", "unknown-element"),
    ("UNSUPPORTED_SID", "sid-characters"),
];

fn mapped(code: &str) -> &'static str {
    MAPPING
        .iter()
        .find(|(aa, _)| *aa == code)
        .map(|(_, ours)| *ours)
        .unwrap_or_else(|| panic!("`{code}` is not in the mapping: add it, or leave the case out"))
}

#[test]
fn iam_validate_reports_what_access_analyzer_documents() {
    let corpus_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/access-analyzer.json");
    let corpus: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&corpus_path).unwrap()).unwrap();
    let dir = std::env::temp_dir().join(format!("ssmlog-access-analyzer-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    // One run of `iam validate` per policy kind, every file of that kind at once.
    let mut by_kind: BTreeMap<&str, Vec<(String, &Value)>> = BTreeMap::new();
    for (i, case) in corpus.iter().enumerate() {
        let file = dir.join(format!("{i:02}.json"));
        std::fs::write(
            &file,
            serde_json::to_string_pretty(&case["policy"]).unwrap(),
        )
        .unwrap();
        by_kind
            .entry(case["kind"].as_str().unwrap())
            .or_default()
            .push((file.display().to_string(), case));
    }
    let mut failures = Vec::new();
    let mut covered = std::collections::BTreeSet::new();
    for (kind, cases) in &by_kind {
        let out = Command::new(env!("CARGO_BIN_EXE_ssmlog"))
            .args(["iam", "validate", "--kind", kind, "--format", "json"])
            .args(cases.iter().map(|(f, _)| f))
            .output()
            .unwrap();
        assert_ne!(out.status.code(), Some(2), "{kind}: bad input");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let files = report["files"].as_array().unwrap();
        assert_eq!(files.len(), cases.len());
        for ((file, case), got) in cases.iter().zip(files) {
            assert_eq!(got["file"].as_str(), Some(file.as_str()));
            let name = case["name"].as_str().unwrap();
            let ours: Vec<&str> = got["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["code"].as_str().unwrap())
                .collect();
            let mut want: Vec<&str> = case["accessAnalyzer"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    let c = c.as_str().unwrap();
                    covered.insert(c);
                    mapped(c)
                })
                .collect();
            want.sort_unstable();
            want.dedup();
            let mut have = ours.clone();
            have.sort_unstable();
            have.dedup();
            if have != want {
                failures.push(format!(
                    "{name} ({kind}): Access Analyzer {} -> want {want:?}, ssmlog says {ours:?}",
                    case["accessAnalyzer"]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every mapped code has a case, and there are clean cases.
    for (aa, _) in MAPPING {
        assert!(covered.contains(aa), "no case in the corpus for `{aa}`");
    }
    assert!(
        corpus
            .iter()
            .filter(|c| c["accessAnalyzer"].as_array().is_some_and(Vec::is_empty))
            .count()
            >= 5
    );
    let _ = std::fs::remove_dir_all(&dir);
}
