//! Lints from the AWS service authorization reference ([`crate::reference`]), like IAM Access
//! Analyzer's policy validation and Parliament: names that no service has, actions whose
//! resource types the Resource cannot match, condition keys the actions do not support or
//! compare with an operator of another type, and `iam:PassRole` on every role.
//!
//! All are warnings: AWS accepts such policies, but a part of them can never apply. Each code
//! says which Access Analyzer check it overlaps (docs/iam-lints.md).

use crate::condition::{Family, Operator};
use crate::diagnostic::{did_you_mean, Diagnostics, Severity};
use crate::json::{Json, JsonKind, Span};
use crate::pattern::Pattern;
use crate::policy::PolicyKind;
use crate::reference::{resource_may_match, Action, Key, KeyType, Reference, Service};

/// A string of the statement with where it is.
struct Str<'n> {
    text: &'n str,
    span: Span,
}

fn one(n: &Json) -> Option<Str<'_>> {
    n.as_str().map(|text| Str { text, span: n.span })
}

fn strings(node: Option<&Json>) -> Vec<Str<'_>> {
    match node {
        None => Vec::new(),
        Some(n) => match &n.kind {
            JsonKind::Array(a) => a.iter().filter_map(one).collect(),
            _ => one(n).into_iter().collect(),
        },
    }
}

/// The actions an `Action` entry names: one, or every one its wildcards match.
fn expand<'r>(r: &'r Reference, action: &str) -> Option<(&'r Service, Vec<&'r Action>)> {
    let (svc, name) = action.split_once(':')?;
    let service = r.service(svc)?;
    if name.contains(['*', '?']) {
        let p = Pattern::wildcard(&name.to_ascii_lowercase());
        let all = service
            .actions
            .iter()
            .filter(|a| p.matches(&a.name.to_ascii_lowercase()))
            .collect();
        Some((service, all))
    } else {
        Some((service, service.action(name).into_iter().collect()))
    }
}

/// Lints one statement (`node`, at `path`) of a policy of kind `kind`.
pub(crate) fn statement(diags: &mut Diagnostics<'_>, node: &Json, path: &str, kind: PolicyKind) {
    let r = Reference::get();
    let allow = node.get("Effect").and_then(Json::as_str) == Some("Allow");
    let (action_name, action_node) = match (node.get("Action"), node.get("NotAction")) {
        (Some(a), None) => ("Action", Some(a)),
        (None, Some(a)) => ("NotAction", Some(a)),
        _ => ("Action", None),
    };
    let action_at = format!("{path}.{action_name}");
    let actions = strings(action_node);
    // Every action the statement's Action names, for the condition-key lint; None when it
    // names every action (`*`, NotAction) or one outside the reference.
    let mut named: Option<Vec<(&Service, &Action)>> = (action_name == "Action").then(Vec::new);
    for a in &actions {
        if a.text == "*" {
            named = None;
            continue;
        }
        let Some((svc, name)) = a.text.split_once(':') else {
            continue;
        };
        let Some((service, found)) = expand(r, a.text) else {
            let prefixes: Vec<&str> = r.services.keys().map(String::as_str).collect();
            let help = did_you_mean(svc, &prefixes)
                .map(|s| format!("did you mean `{s}:{name}`?"))
                .or_else(|| Some("see the service authorization reference for the prefix".into()));
            diags.push(
                Severity::Warning,
                "unknown-service",
                a.span,
                &action_at,
                format!(
                    "`{svc}` is not the prefix of any AWS service, so `{}` matches nothing",
                    a.text
                ),
                help,
            );
            named = None;
            continue;
        };
        if found.is_empty() {
            let wildcard = name.contains(['*', '?']);
            let names: Vec<&str> = service.actions.iter().map(|x| x.name.as_str()).collect();
            let help = if wildcard {
                Some(format!("no `{svc}` action matches it; check the spelling against the service authorization reference"))
            } else {
                did_you_mean(name, &names).map(|s| format!("did you mean `{svc}:{s}`?"))
            };
            let (code, what) = if wildcard {
                (
                    "action-wildcard-matches-nothing",
                    "matches no action of the service",
                )
            } else {
                ("unknown-action", "is not an action of the service")
            };
            diags.push(
                Severity::Warning,
                code,
                a.span,
                &action_at,
                format!("`{}` {what}", a.text),
                help,
            );
            continue;
        }
        if let Some(n) = &mut named {
            n.extend(found.iter().map(|f| (service, *f)));
        }
        if action_name == "Action" && !name.contains(['*', '?']) {
            if let Some(action) = found.first() {
                resource_mismatch(diags, node, path, kind, a, service, action);
            }
        }
    }
    if allow && action_name == "Action" {
        pass_role(diags, node, path, kind, &actions);
    }
    if let Some(Json {
        kind: JsonKind::Object(ops),
        ..
    }) = node.get("Condition")
    {
        for op in ops {
            let Ok(operator) = Operator::parse(&op.key) else {
                continue;
            };
            for k in op.value.as_object().unwrap_or_default() {
                let at = format!("{path}.Condition.{}.{}", op.key, k.key);
                condition_key(
                    diags,
                    r,
                    &k.key,
                    k.key_span,
                    &at,
                    operator,
                    named.as_deref(),
                );
            }
        }
    }
}

/// The action's resource types cannot match any Resource of the statement.
fn resource_mismatch(
    diags: &mut Diagnostics<'_>,
    node: &Json,
    path: &str,
    kind: PolicyKind,
    a: &Str<'_>,
    service: &Service,
    action: &Action,
) {
    // A key policy's Resource is always its own key.
    if kind == PolicyKind::KeyPolicy {
        return;
    }
    let resources = strings(node.get("Resource"));
    if resources.is_empty() || node.get("NotResource").is_some() {
        return;
    }
    let svc = a.text.split_once(':').map_or("", |(s, _)| s);
    let full = format!("{svc}:{}", action.name);
    if action.resources.is_empty() {
        if !resources.iter().any(|r| resource_may_match(r.text, "*")) {
            diags.push(
                Severity::Warning,
                "resource-mismatch",
                a.span,
                &format!("{path}.Action"),
                format!("`{full}` supports only `\"Resource\": \"*\"`, so this statement never applies to it"),
                Some(format!("move `{full}` to a statement with `\"Resource\": \"*\"`")),
            );
        }
        return;
    }
    let types: Vec<&crate::reference::ResourceType> = action
        .resources
        .iter()
        .filter_map(|&i| service.resources.get(i))
        .collect();
    let matches = resources
        .iter()
        .any(|r| types.iter().any(|t| resource_may_match(r.text, &t.arn)));
    if !matches {
        let formats: Vec<String> = types
            .iter()
            .map(|t| format!("{} `{}`", t.name, t.arn))
            .collect();
        diags.push(
            Severity::Warning,
            "resource-mismatch",
            a.span,
            &format!("{path}.Action"),
            format!(
                "`{full}` acts on {}, and no Resource of the statement can be one",
                formats.join(" or ")
            ),
            Some(format!(
                "give `{full}` a Resource of that form (for example `{}`), or move it to a statement that has one",
                // The simplest form: fewest placeholders (a bucket before an access point).
                types
                    .iter()
                    .min_by_key(|t| t.arn.matches("${").count())
                    .map_or(String::new(), |t| example(&t.arn))
            )),
        );
    }
}

/// An ARN format with its placeholders filled in as an example.
fn example(format: &str) -> String {
    let mut out = String::new();
    let mut rest = format;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 2..start + end];
        out.push_str(match name {
            "Partition" => "aws",
            "Region" => "REGION",
            "Account" => "ACCOUNT",
            _ => "NAME",
        });
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// `iam:PassRole` allowed on every role (Access Analyzer: PASS_ROLE_WITH_STAR_IN_RESOURCE).
fn pass_role(
    diags: &mut Diagnostics<'_>,
    node: &Json,
    path: &str,
    kind: PolicyKind,
    actions: &[Str<'_>],
) {
    if kind != PolicyKind::Identity {
        return;
    }
    // Only actions of IAM: `"Action": "*"` on `*` is administrator access, a finding of
    // its own.
    let Some(a) = actions.iter().find(|a| {
        let lower = a.text.to_ascii_lowercase();
        lower.starts_with("iam:") && Pattern::wildcard(&lower).matches("iam:passrole")
    }) else {
        return;
    };
    let every_role = |r: &str| {
        r == "*"
            || Pattern::wildcard(r).matches("arn:aws:iam::111122223333:role/*")
                && Pattern::wildcard(r).matches("arn:aws:iam::111122223333:role/any")
    };
    for r in strings(node.get("Resource")) {
        if every_role(r.text) {
            diags.push(
                Severity::Warning,
                "pass-role-star",
                r.span,
                &format!("{path}.Resource"),
                format!(
                    "`{}` with Resource `{}` lets the principal pass every role, so any service it can use may act with any role's permissions",
                    a.text, r.text
                ),
                Some("name the roles it may pass (`arn:aws:iam::ACCOUNT:role/NAME`), and narrow with `iam:PassedToService`".into()),
            );
        }
    }
}

/// A condition key: known, supported by the statement's actions, compared with an operator
/// of its type.
fn condition_key(
    diags: &mut Diagnostics<'_>,
    r: &Reference,
    key: &str,
    span: Span,
    at: &str,
    op: Operator,
    actions: Option<&[(&Service, &Action)]>,
) {
    let lower = key.to_ascii_lowercase();
    let Some((prefix, _)) = lower.split_once(':') else {
        return;
    };
    let global = r.global_key(&lower);
    let found: Option<&Key> = if prefix == "aws" {
        if global.is_none() {
            let names: Vec<&str> = r
                .global
                .iter()
                .filter_map(|k| k.name.strip_prefix("aws:"))
                .map(|n| n.split('/').next().unwrap_or(n))
                .collect();
            let base = lower["aws:".len()..].split('/').next().unwrap_or("");
            let help = did_you_mean(base, &names).map(|s| format!("did you mean `aws:{s}`?"));
            diags.push(
                Severity::Warning,
                "unknown-condition-key",
                span,
                at,
                format!("`{key}` is not a global condition key"),
                help,
            );
            return;
        }
        global
    } else {
        let Some(service) = r.service(prefix) else {
            return;
        };
        match service.key(&lower).or(global) {
            Some(k) => {
                if global.is_none() {
                    supported_by_actions(diags, k, key, span, at, actions);
                }
                Some(k)
            }
            None => {
                let names: Vec<&str> = service.keys.iter().map(|k| k.name.as_str()).collect();
                let help = did_you_mean(key, &names)
                    .map(|s| format!("did you mean `{s}`?"))
                    .or_else(|| {
                        Some(
                            "see the service authorization reference for its condition keys".into(),
                        )
                    });
                diags.push(
                    Severity::Warning,
                    "unknown-condition-key",
                    span,
                    at,
                    format!("`{key}` is not a condition key of `{prefix}`: the condition never sees a value"),
                    help,
                );
                return;
            }
        }
    };
    if let Some(k) = found {
        type_mismatch(diags, k, key, span, at, op);
    }
}

fn supported_by_actions(
    diags: &mut Diagnostics<'_>,
    k: &Key,
    key: &str,
    span: Span,
    at: &str,
    actions: Option<&[(&Service, &Action)]>,
) {
    let Some(actions) = actions else {
        return;
    };
    if actions.is_empty() {
        return;
    }
    let supported = actions.iter().any(|(s, a)| {
        a.keys
            .iter()
            .filter_map(|&i| s.keys.get(i))
            .any(|ak| ak.name.eq_ignore_ascii_case(&k.name))
    });
    if !supported {
        let mut names: Vec<&str> = actions.iter().map(|(_, a)| a.name.as_str()).collect();
        names.dedup();
        let shown = if names.len() > 4 {
            format!("{} and {} more", names[..4].join(", "), names.len() - 4)
        } else {
            names.join(", ")
        };
        diags.push(
            Severity::Warning,
            "condition-key-not-supported",
            span,
            at,
            format!("no action of the statement ({shown}) supports `{key}`: the key is never in their requests"),
            Some("use a condition key the actions support (see the service authorization reference), or move the actions that support it to their own statement".into()),
        );
    }
}

/// The operator compares another type than the key's (Access Analyzer: DATA_TYPE_MISMATCH).
fn type_mismatch(
    diags: &mut Diagnostics<'_>,
    k: &Key,
    key: &str,
    span: Span,
    at: &str,
    op: Operator,
) {
    use KeyType as T;
    let fits = match op.family {
        Family::String | Family::StringIgnoreCase | Family::StringLike | Family::Arn => {
            matches!(k.ty, T::String | T::Arn | T::Unknown)
        }
        Family::Numeric(_) => matches!(k.ty, T::Numeric | T::Unknown),
        Family::Date(_) => matches!(k.ty, T::Date | T::Numeric | T::Unknown),
        Family::Bool => matches!(k.ty, T::Bool | T::Unknown),
        Family::Ip => matches!(k.ty, T::Ip | T::Unknown),
        Family::Binary | Family::Null => true,
    };
    if !fits {
        let want = match k.ty {
            T::String => "a String operator (`StringEquals`, `StringLike`)",
            T::Arn => "an ARN or String operator (`ArnLike`, `StringEquals`)",
            T::Bool => "`Bool`",
            T::Numeric => "a Numeric operator (`NumericLessThan`)",
            T::Date => "a Date operator (`DateGreaterThan`)",
            T::Ip => "`IpAddress` or `NotIpAddress`",
            T::Unknown => "an operator of its type",
        };
        diags.push(
            Severity::Warning,
            "condition-type-mismatch",
            span,
            at,
            format!(
                "`{key}` is of type {}, which this operator does not compare as AWS means it",
                k.ty.name()
            ),
            Some(format!("use {want}")),
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn examples_fill_placeholders() {
        assert_eq!(
            example("arn:${Partition}:s3:::${BucketName}/${ObjectName}"),
            "arn:aws:s3:::NAME/NAME"
        );
    }
}
