//! Reading ssmlog's JSON output in tests: every document and JSON Lines record carries a
//! `schemaVersion` (docs/json-output.md), checked here and taken off, so the rest is read
//! into the crate's own types with unknown fields denied.
#![allow(clippy::unwrap_used, clippy::panic, dead_code)]

use serde::de::DeserializeOwned;
use serde_json::Value;

/// `text` (one JSON document) read as `T`, after checking its `schemaVersion` is `schema`.
pub fn unversioned<T: DeserializeOwned>(text: &str, schema: &str) -> T {
    let mut v: Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    let got = v
        .as_object_mut()
        .and_then(|o| o.shift_remove("schemaVersion"));
    assert_eq!(got.as_ref().and_then(Value::as_str), Some(schema), "{text}");
    serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Each line of JSON Lines `text` read as `T` (see [`unversioned`]).
pub fn unversioned_lines<T: DeserializeOwned>(text: &str, schema: &str) -> Vec<T> {
    text.lines().map(|l| unversioned(l, schema)).collect()
}

/// Validates each file (a JSON document or JSON Lines) against `docs/schemas` with
/// `tools/json-schema/validate.py`; the validator's report on failure. `None` when python3
/// with jsonschema is missing (a failure instead with `SSMLOG_REQUIRE_TOOLS=1`).
pub fn validate_against_schemas(files: &[std::path::PathBuf]) -> Option<Result<String, String>> {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let has_jsonschema = std::process::Command::new("python3")
        .args(["-c", "import jsonschema, referencing"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_jsonschema {
        assert!(
            std::env::var_os("SSMLOG_REQUIRE_TOOLS").is_none_or(|v| v != "1"),
            "python3 with jsonschema is missing and SSMLOG_REQUIRE_TOOLS=1: run scripts/install-tools.sh"
        );
        eprintln!("skipping the schema validation: python3 with jsonschema is missing (run scripts/install-tools.sh)");
        return None;
    }
    let o = std::process::Command::new("python3")
        .arg(repo.join("tools/json-schema/validate.py"))
        .arg(repo.join("docs/schemas"))
        .args(files)
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    Some(if o.status.success() {
        Ok(report)
    } else {
        Err(report)
    })
}

/// The `ssmlog` binary on a live command against moto: `args`, then the config, moto's
/// endpoint and us-east-1, with moto's fake credentials and no standard input.
pub fn live_command(
    moto: &ssmlog_moto::Moto,
    config: &std::path::Path,
    args: &[&str],
) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ssmlog"));
    cmd.args(args)
        .args([
            "--config",
            config.to_str().unwrap(),
            "--endpoint-url",
            &moto.url(),
        ])
        .args(["--region", "us-east-1"])
        .envs(ssmlog_moto::ENV)
        .stdin(std::process::Stdio::null());
    cmd
}

/// [`live_command`], run.
pub fn live(
    moto: &ssmlog_moto::Moto,
    config: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    live_command(moto, config, args).output().unwrap()
}
