//! Lints beyond `ssmlog_iam::validate_policy` (which knows every service's actions and
//! condition keys from the AWS service reference): wildcards that make a resource of a grant
//! effectively `*`.

use serde_json::Value;
use ssmlog_iam::{Policy, PolicyKind};

use crate::report::{Finding, Severity};

/// Lints one parsed policy of the State (its source `doc` for positions by JSON path).
pub(crate) fn policy(
    file: &str,
    text: &str,
    _policy: &Policy,
    doc: &Value,
    kind: PolicyKind,
    findings: &mut Vec<Finding>,
) {
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => return,
    };
    for (i, st) in statements.iter().enumerate() {
        let path = format!("Statement[{i}]");
        let allow = st.get("Effect").and_then(Value::as_str) == Some("Allow");
        // Only grants are linted: a key policy's `*` is its own key, and SCPs/RCPs are
        // guardrails whose `Allow *` (FullAWSAccess) grants nothing by itself.
        let grants = matches!(kind, PolicyKind::Identity | PolicyKind::BucketPolicy);
        if allow && grants {
            for r in strings(st.get("Resource")) {
                if effectively_everything(r) {
                    findings.push(finding(
                        "lint/resource-wildcard",
                        Severity::Warning,
                        format!("`{r}` matches every resource of its kind, not just the logging bucket and keys"),
                        "name the bucket (`arn:aws:s3:::BUCKET/PREFIX/*`) or the key ARNs".into(),
                        file,
                        text,
                        &format!("{path}.Resource"),
                        r,
                    ));
                }
            }
        }
    }
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// `*`, or an ARN whose resource part is only wildcards (`arn:aws:s3:::*`).
fn effectively_everything(r: &str) -> bool {
    if r == "*" {
        return true;
    }
    let parts: Vec<&str> = r.splitn(6, ':').collect();
    match parts.as_slice() {
        [_, _, _, _, _, res] => res.chars().all(|c| c == '*' || c == '/') && res.contains('*'),
        _ => r.ends_with('*') && r.matches(':').count() < 5,
    }
}

#[allow(clippy::too_many_arguments)]
fn finding(
    rule: &str,
    severity: Severity,
    message: String,
    fix: String,
    file: &str,
    text: &str,
    path: &str,
    needle: &str,
) -> Finding {
    let quoted = format!("\"{needle}\"");
    let line = text
        .find(&quoted)
        .map(|i| text[..i].matches('\n').count() + 1);
    Finding {
        rule: rule.into(),
        severity,
        account: None,
        region: None,
        message,
        fix,
        file: Some(file.into()),
        json_path: Some(path.into()),
        line,
        column: None,
        statements: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_service_wildcards_are_flagged() {
        assert!(effectively_everything("*"));
        assert!(effectively_everything("arn:aws:s3:::*"));
        assert!(effectively_everything("arn:aws:s3:::*/*"));
        assert!(!effectively_everything("arn:aws:s3:::bucket/*"));
        assert!(effectively_everything("arn:aws:kms:*"));
        assert!(!effectively_everything(
            "arn:aws:kms:eu-west-1:111122223333:key/abc"
        ));
    }
}
