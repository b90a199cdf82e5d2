//! JSON output of every command: each document (or each line of JSON Lines) carries a
//! `schemaVersion`, `ssmlog.<what>/<major>`, described by `docs/schemas/<what>.schema.json`
//! (docs/json-output.md). A script checks the version before it reads the rest; the major
//! changes only when a field is removed or changes meaning (new fields may be added).

use std::io::Write;

use serde::Serialize;

/// The schema names, one per shape of output (docs/json-output.md).
pub mod schema {
    /// `check --format json`.
    pub const CHECK: &str = "ssmlog.check/1";
    /// `iam validate --format json`.
    pub const IAM_VALIDATE: &str = "ssmlog.iam-validate/1";
    /// `iam eval --format json` of one request, and each line of `--lines`.
    pub const IAM_DECISION: &str = "ssmlog.iam-decision/1";
    /// `iam eval --format json` of an array of requests.
    pub const IAM_DECISIONS: &str = "ssmlog.iam-decisions/1";
    /// `iam eval --format json` when the requests cannot be read.
    pub const IAM_INPUT_ERRORS: &str = "ssmlog.iam-input-errors/1";
    /// `plan --format json`.
    pub const PLAN: &str = "ssmlog.plan/1";
    /// `apply --format json`.
    pub const APPLY: &str = "ssmlog.apply/1";
    /// `verify --format json`.
    pub const VERIFY: &str = "ssmlog.verify/1";
    /// `verify --proof --format json`: the verification and the proof of the pulled State.
    pub const VERIFY_PROOF: &str = "ssmlog.verify-proof/1";
    /// `canary --format json`.
    pub const CANARY: &str = "ssmlog.canary/1";
    /// `pull --format json`: what was read and where it was written.
    pub const PULL: &str = "ssmlog.pull/1";
    /// `logs ls --format json`.
    pub const LOGS_LS: &str = "ssmlog.logs-ls/1";
    /// Each line of `logs export` and of `logs show --format json`.
    pub const LOGS_LINE: &str = "ssmlog.logs-line/1";
    /// Each line of `logs grep --format json`.
    pub const LOGS_GREP: &str = "ssmlog.logs-grep/1";
}

/// `value` (serialized as an object) behind `"schemaVersion": schema`, first.
#[derive(Serialize)]
pub struct Versioned<'a, T: Serialize + ?Sized> {
    #[serde(rename = "schemaVersion")]
    schema: &'static str,
    #[serde(flatten)]
    value: &'a T,
}

/// `value` with its schema version.
pub fn versioned<'a, T: Serialize + ?Sized>(
    schema: &'static str,
    value: &'a T,
) -> Versioned<'a, T> {
    Versioned { schema, value }
}

/// Writes one pretty-printed document with its schema version, and a newline.
pub fn write_document<T: Serialize + ?Sized>(
    out: &mut (impl Write + ?Sized),
    schema: &'static str,
    value: &T,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &versioned(schema, value))
        .map_err(std::io::Error::other)?;
    writeln!(out)
}

/// Writes one line of JSON Lines with its schema version.
pub fn write_line<T: Serialize + ?Sized>(
    out: &mut (impl Write + ?Sized),
    schema: &'static str,
    value: &T,
) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, &versioned(schema, value)).map_err(std::io::Error::other)?;
    writeln!(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_version_comes_first_and_the_fields_stay() {
        let mut out = Vec::new();
        write_line(
            &mut out,
            schema::LOGS_LINE,
            &serde_json::json!({"session": "alice-0a1b", "line": 3}),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"schemaVersion\":\"ssmlog.logs-line/1\",\"session\":\"alice-0a1b\",\"line\":3}\n"
        );
    }
}
