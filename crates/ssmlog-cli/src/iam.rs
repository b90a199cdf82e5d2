//! `ssmlog iam validate` and `ssmlog iam eval`: the IAM engine on files.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use ssmlog_iam::{
    evaluate, validate_policy, Decision, Diagnostic, EvalInput, Outcome, PolicyKind, Severity,
};

use crate::exit;
use crate::output::{schema, write_document, write_line};

#[derive(Subcommand)]
pub enum IamCommand {
    /// Check policy files as IAM does (syntax, elements, principals, ARNs, operators, limits)
    /// and lint them against the AWS service reference (unknown actions and condition keys,
    /// resource-type and operator-type mismatches, `iam:PassRole` on `*`; docs/iam-lints.md).
    ///
    /// Exit status: 0 when no file has errors (warnings allowed), 1 when one has, 2 when a
    /// file cannot be read.
    Validate(ValidateArgs),
    /// Decide requests (docs/iam-request.md) and explain what matched or was missing.
    ///
    /// Exit status: 0 when every request is allowed, 1 when one is denied (0 with
    /// --exit-zero), 2 on bad input.
    Eval(EvalArgs),
}

#[derive(Args)]
pub struct ValidateArgs {
    /// Policy files (JSON); `-` reads standard input. The aws CLI's `{"Policy": "..."}`
    /// (get-bucket-policy, get-key-policy) and `{"PolicyVersion": {"Document": ...}}`
    /// (iam get-policy-version) are unwrapped.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The kind of policy: auto (guessed from Principal and actions), identity,
    /// bucket-policy, key-policy, scp, rcp or resource-policy.
    #[arg(long, default_value = "auto", value_parser = parse_kind)]
    kind: KindChoice,
    /// Output for people, or JSON for CI.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(Args)]
pub struct EvalArgs {
    /// Request file: one request, a JSON array of requests, or JSON Lines with --lines.
    file: PathBuf,
    /// Read the file as JSON Lines, one request per line; with `--format json` the
    /// decisions are written as JSON Lines too, one per request, in order.
    #[arg(long)]
    lines: bool,
    /// Output for people, or JSON for CI.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Exit 0 when every request was decided, denied or not (for scripts that only want
    /// the decisions); bad input still exits 2.
    #[arg(long)]
    exit_zero: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[value(name = "text")]
    Human,
    Json,
}

/// A policy kind named on the command line, or none for `auto`.
#[derive(Clone, Copy)]
struct KindChoice(Option<PolicyKind>);

fn parse_kind(s: &str) -> Result<KindChoice, String> {
    if s == "auto" {
        return Ok(KindChoice(None));
    }
    PolicyKind::from_name(s)
        .map(|k| KindChoice(Some(k)))
        .ok_or_else(|| {
            let names: Vec<&str> = PolicyKind::ALL.iter().map(|k| k.name()).collect();
            format!("`{s}` is not a policy kind: use auto, {}", names.join(", "))
        })
}

pub fn run(cmd: &IamCommand) -> ExitCode {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let code = match cmd {
        IamCommand::Validate(a) => validate(a, &mut out),
        IamCommand::Eval(a) => eval(a, &mut out),
    };
    exit::code(code)
}

fn read(path: &PathBuf) -> Result<String, String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        return std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map(|_| text)
            .map_err(|e| format!("cannot read standard input: {e}"));
    }
    std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))
}

/// The policy inside the aws CLI's answers: `{"Policy": "<json text>"}` (s3api
/// get-bucket-policy, kms get-key-policy) or `{"PolicyVersion": {"Document": ...}}` (iam
/// get-policy-version); None for a policy document itself.
fn unwrap_cli_answer(text: &str) -> Option<(String, &'static str)> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let obj = v.as_object()?;
    if obj.contains_key("Statement") {
        return None;
    }
    if let Some(p) = obj.get("Policy").and_then(serde_json::Value::as_str) {
        return Some((p.to_string(), "Policy"));
    }
    match obj.get("PolicyVersion")?.get("Document")? {
        serde_json::Value::String(s) => Some((s.clone(), "PolicyVersion.Document")),
        doc @ serde_json::Value::Object(_) => Some((
            serde_json::to_string_pretty(doc).ok()?,
            "PolicyVersion.Document",
        )),
        _ => None,
    }
}

/// The kind a document most likely is, from what it contains.
fn guess_kind(text: &str) -> PolicyKind {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return PolicyKind::Identity;
    };
    let statements: Vec<&serde_json::Value> = match &v["Statement"] {
        serde_json::Value::Array(a) => a.iter().collect(),
        s @ serde_json::Value::Object(_) => vec![s],
        _ => Vec::new(),
    };
    let has_principal = statements
        .iter()
        .any(|s| s.get("Principal").is_some() || s.get("NotPrincipal").is_some());
    if !has_principal {
        return PolicyKind::Identity;
    }
    let text_of =
        |s: &&serde_json::Value| s.get("Action").map(|a| a.to_string()).unwrap_or_default();
    let actions: Vec<String> = statements.iter().map(text_of).collect();
    if actions.iter().all(|a| a.contains("kms:")) {
        PolicyKind::KeyPolicy
    } else if actions.iter().any(|a| a.contains("s3:")) {
        PolicyKind::BucketPolicy
    } else {
        PolicyKind::ResourcePolicy
    }
}

pub(crate) fn validate(a: &ValidateArgs, out: &mut impl Write) -> u8 {
    let mut worst = exit::OK;
    let mut reports = Vec::new();
    for path in &a.files {
        let mut name = if path.as_os_str() == "-" {
            "<stdin>".to_string()
        } else {
            path.display().to_string()
        };
        let mut text = match read(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                worst = exit::BAD_INPUT;
                continue;
            }
        };
        if let Some((inner, field)) = unwrap_cli_answer(&text) {
            // Positions are then in the policy text, which the snippets show.
            name = format!("{name} ({field})");
            text = inner;
        }
        let kind = a.kind.0.unwrap_or_else(|| guess_kind(&text));
        let diags = validate_policy(&name, &text, kind);
        if diags.iter().any(|d| d.severity == Severity::Error) && worst == exit::OK {
            worst = exit::FINDINGS;
        }
        match a.format {
            Format::Human => {
                for d in &diags {
                    let _ = write!(out, "{}", d.render(&text));
                }
                let (e, w) = counts(&diags);
                let verdict = if e == 0 { "valid" } else { "invalid" };
                let _ = writeln!(
                    out,
                    "{name}: {verdict} {} ({e} errors, {w} warnings)",
                    kind.name()
                );
            }
            Format::Json => {
                reports.push(json!({"file": name, "kind": kind.name(), "diagnostics": diags}))
            }
        }
    }
    if a.format == Format::Json {
        let _ = write_document(out, schema::IAM_VALIDATE, &json!({ "files": reports }));
    }
    worst
}

fn counts(diags: &[Diagnostic]) -> (usize, usize) {
    let e = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    (e, diags.len() - e)
}

pub(crate) fn eval(a: &EvalArgs, out: &mut impl Write) -> u8 {
    let name = a.file.display().to_string();
    let text = match read(&a.file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
    };
    let inputs = if a.lines {
        let mut all = Vec::new();
        let mut errors = Vec::new();
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            match EvalInput::from_json_named(&format!("{name} line {}", i + 1), line) {
                Ok(input) => all.push(input),
                Err(e) => errors.extend(e.diagnostics),
            }
        }
        if errors.is_empty() {
            Ok(all)
        } else {
            Err(ssmlog_iam::InputError {
                diagnostics: errors,
            })
        }
    } else {
        EvalInput::many_from_json(&name, &text)
    };
    let inputs = match inputs {
        Ok(i) => i,
        Err(e) => {
            match a.format {
                Format::Json => {
                    let _ = write_document(
                        out,
                        schema::IAM_INPUT_ERRORS,
                        &json!({ "errors": e.diagnostics }),
                    );
                }
                Format::Human => {
                    for d in &e.diagnostics {
                        // Lines read with --lines are rendered without their snippet.
                        eprint!(
                            "{}",
                            if a.lines {
                                format!(
                                    "error: {}:{}:{}: {} ({})\n",
                                    d.source, d.line, d.column, d.message, d.path
                                )
                            } else {
                                d.render(&text)
                            }
                        );
                    }
                }
            }
            return exit::BAD_INPUT;
        }
    };
    let decisions: Vec<Decision> = inputs.iter().map(evaluate).collect();
    match a.format {
        Format::Json if decisions.len() == 1 && !a.lines && !text.trim_start().starts_with('[') => {
            let _ = write_document(out, schema::IAM_DECISION, &decisions[0]);
        }
        Format::Json if a.lines => {
            for d in &decisions {
                let _ = write_line(out, schema::IAM_DECISION, d);
            }
        }
        Format::Json => {
            let _ = write_document(
                out,
                schema::IAM_DECISIONS,
                &json!({ "decisions": decisions }),
            );
        }
        Format::Human => {
            for (input, d) in inputs.iter().zip(&decisions) {
                let _ = write!(out, "{}", human_decision(input, d));
            }
        }
    }
    if a.exit_zero || decisions.iter().all(|d| d.decision == Outcome::Allowed) {
        exit::OK
    } else {
        exit::FINDINGS
    }
}

fn human_decision(input: &EvalInput, d: &Decision) -> String {
    let verdict = match d.decision {
        Outcome::Allowed => "ALLOWED",
        Outcome::ImplicitlyDenied => "DENIED (implicitly: no policy grants it)",
        Outcome::ExplicitlyDenied => "DENIED (explicitly, by a Deny statement)",
    };
    let scope = if d.cross_account {
        "cross-account"
    } else {
        "same account"
    };
    let mut s = format!(
        "{verdict}\n  {} on {}\n  by {} ({scope})\n",
        input.request.action, input.request.resource, input.request.principal.arn
    );
    if !d.statements.is_empty() {
        s.push_str("  statements that matched:\n");
        for st in &d.statements {
            let kind = serde_json::to_value(st.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let sid = st
                .sid
                .as_deref()
                .map(|x| format!(" ({x})"))
                .unwrap_or_default();
            s.push_str(&format!(
                "    {:?}  {kind} `{}` Statement[{}]{sid}\n",
                st.effect, st.policy, st.index
            ));
        }
    }
    for m in &d.missing {
        s.push_str(&format!("  missing: {m}\n"));
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn guesses_the_kind_from_the_content() {
        assert_eq!(
            guess_kind(r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#),
            PolicyKind::Identity
        );
        assert_eq!(
            guess_kind(
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":["kms:Decrypt"],"Resource":"*"}]}"#
            ),
            PolicyKind::KeyPolicy
        );
        assert_eq!(
            guess_kind(
                r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"*"}}"#
            ),
            PolicyKind::BucketPolicy
        );
        assert_eq!(guess_kind("not json"), PolicyKind::Identity);
    }

    #[test]
    fn unwraps_the_aws_cli_answers() {
        let s3 = r#"{"Policy": "{\"Version\":\"2012-10-17\",\"Statement\":[]}"}"#;
        assert_eq!(
            unwrap_cli_answer(s3),
            Some((
                r#"{"Version":"2012-10-17","Statement":[]}"#.to_string(),
                "Policy"
            ))
        );
        let iam = r#"{"PolicyVersion": {"Document": {"Version": "2012-10-17", "Statement": []}, "VersionId": "v1"}}"#;
        let (doc, field) = unwrap_cli_answer(iam).unwrap();
        assert_eq!(field, "PolicyVersion.Document");
        assert!(doc.contains("\"Statement\": []"), "{doc}");
        assert_eq!(
            unwrap_cli_answer(r#"{"Version":"2012-10-17","Statement":[]}"#),
            None
        );
    }
}
