//! How ssmlog merges with what is already in AWS: pure functions, no IO.
//!
//! **Which statements ssmlog owns.** In a bucket policy or key policy, a statement is
//! ssmlog's when its `Sid` is one that render writes in either profile: a Sid of the
//! desired document, or one of [`HARDENED_SIDS`] and [`SEED_SIDS`] (so switching profile
//! either way replaces the other profile's statements, Denies included). A statement
//! without a Sid is ssmlog's when it equals, as JSON, a Sid-less statement of the desired
//! document, or when it is one of the source article's statements, recognised by content
//! ([`is_article_statement`]: what people who followed the article by hand have). Every
//! other statement is foreign: apply keeps it, unchanged, after ssmlog's statements and in
//! its original order.
//!
//! **Preferences.** The desired `SSM-SessionManagerRunShell` content wins key by key; keys of
//! the live document the desired one does not have are kept (top level and `inputs`); an
//! input the config does not set (the `keep` list, from `SessionConfig::unset_inputs`:
//! omitted means keep, set means set) keeps the live document's value; and a desired input
//! that is the empty string (or an object of empty strings, like `shellProfile`) is unset
//! too, so a non-empty live value is kept.
//!
//! **Lockout.** A merged key policy must still let every key administrator (and the
//! identity applying it) call `kms:PutKeyPolicy`, decided by ssmlog's IAM engine with the
//! principal's IAM policies taken as allowing everything: only the key policy can lock out.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};
use ssmlog_iam::{decide, evaluate, EvalInput, Outcome};

/// The Sids the hardened profile writes into bucket and key policies; always ssmlog's.
pub const HARDENED_SIDS: &[&str] = &[
    "EnableIamPoliciesOfLogArchiveAccount",
    "AllowKeyAdministration",
    "AllowOrganizationUploadsThroughS3",
    "AllowInstanceRolesToDecryptSessionData",
    "AllowSessionStartersToEncryptSessionData",
    "DenyInsecureTransport",
    "DenyUploadsWithoutSseKms",
    "DenyUploadsWithAnotherKmsKey",
    "AllowOrganizationToReadEncryptionConfig",
    "AllowEachAccountToWriteUnderItsOwnPrefix",
    "DenyBucketAdministrationToNonAdministrators",
    "DenyLogDeletionToNonAdministrators",
    "DenyKeyAdministrationToNonAdministrators",
];

/// The Sids the seed profile writes into key policies (the standard statements the article
/// assumes; its own statements have no Sid); always ssmlog's.
pub const SEED_SIDS: &[&str] = &[
    "Enable IAM User Permissions",
    "Allow access for Key Administrators",
];

/// The actions of the article's statements: the key policy's use of the keys, the bucket
/// policy's encryption-configuration read and uploads.
const ARTICLE_ACTIONS: &[&str] = &[
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "s3:GetEncryptionConfiguration",
    "s3:PutObject",
    "s3:PutObjectAcl",
];

fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether `statement` is one of the source article's, as written by hand: no Sid, an
/// Allow to every principal (`*` or `{"AWS": "*"}`) of the organization (`aws:PrincipalOrgID`
/// its only condition), of nothing but the article's actions (`kms:Decrypt`,
/// `kms:GenerateDataKey`; `s3:GetEncryptionConfiguration`, `s3:PutObject`, `s3:PutObjectAcl`),
/// whatever its resource. ssmlog replaces such a statement: left in place it would let
/// any principal of the organization use the keys and write anywhere in the bucket.
pub fn is_article_statement(statement: &Value) -> bool {
    if sid(statement).is_some() || statement.get("Effect").and_then(Value::as_str) != Some("Allow")
    {
        return false;
    }
    let everyone = match statement.get("Principal") {
        Some(Value::String(p)) => p == "*",
        Some(Value::Object(o)) => o.len() == 1 && strings(o.get("AWS")) == ["*"],
        _ => false,
    };
    let actions = strings(statement.get("Action"));
    let article_actions = !actions.is_empty()
        && actions
            .iter()
            .all(|a| ARTICLE_ACTIONS.iter().any(|x| x.eq_ignore_ascii_case(a)));
    let org_only = statement
        .get("Condition")
        .and_then(Value::as_object)
        .is_some_and(|c| {
            c.len() == 1
                && c.iter().all(|(op, kv)| {
                    op == "StringEquals"
                        && kv.as_object().is_some_and(|kv| {
                            kv.len() == 1
                                && kv
                                    .keys()
                                    .all(|k| k.eq_ignore_ascii_case("aws:PrincipalOrgID"))
                        })
                })
        });
    everyone && article_actions && org_only && statement.get("NotAction").is_none()
}

fn statements(policy: &Value) -> Vec<Value> {
    match policy.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

fn sid(statement: &Value) -> Option<&str> {
    statement
        .get("Sid")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The statements of `live` that ssmlog does not own (see the module docs).
pub fn foreign_statements(desired: &Value, live: &Value) -> Vec<Value> {
    let desired_statements = statements(desired);
    let owned: BTreeSet<&str> = desired_statements
        .iter()
        .filter_map(sid)
        .chain(HARDENED_SIDS.iter().copied())
        .chain(SEED_SIDS.iter().copied())
        .collect();
    let unnamed: Vec<Value> = desired_statements
        .iter()
        .filter(|s| sid(s).is_none())
        .map(normalize)
        .collect();
    statements(live)
        .into_iter()
        .filter(|s| match sid(s) {
            Some(name) => !owned.contains(name),
            None => !unnamed.contains(&normalize(s)) && !is_article_statement(s),
        })
        .collect()
}

/// The policy apply writes: the desired statements, then every foreign statement of the
/// live policy.
pub fn merge_policy(desired: &Value, live: Option<&Value>) -> Value {
    let mut out = desired.clone();
    let Some(live) = live else { return out };
    let foreign = foreign_statements(desired, live);
    if foreign.is_empty() {
        return out;
    }
    let mut all = statements(desired);
    all.extend(foreign);
    if let Some(obj) = out.as_object_mut() {
        obj.insert("Statement".to_string(), Value::Array(all));
    }
    out
}

/// Whether two policies are the same to AWS: equal after [`normalize`].
pub fn same_policy(a: &Value, b: &Value) -> bool {
    normalize(a) == normalize(b)
}

/// A policy in one spelling: a one-element array becomes its element, so a document AWS
/// hands back re-serialized (`"Action": ["s3:Get"]` as `"Action": "s3:Get"`) compares equal.
pub fn normalize(v: &Value) -> Value {
    match v {
        Value::Array(a) if a.len() == 1 => normalize(&a[0]),
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    // A lone statement stays a statement list.
                    let v = if k == "Statement" {
                        Value::Array(match v {
                            Value::Array(a) => a.iter().map(normalize).collect(),
                            other => vec![normalize(other)],
                        })
                    } else {
                        normalize(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn is_unset(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty(),
        Value::Object(o) => o.values().all(is_unset),
        _ => false,
    }
}

fn overlay(live: &Map<String, Value>, desired: &Map<String, Value>) -> Map<String, Value> {
    let mut out = live.clone();
    for (k, d) in desired {
        let keep_live = matches!(live.get(k), Some(l) if is_unset(d) && !is_unset(l));
        if keep_live {
            continue;
        }
        match (live.get(k), d) {
            (Some(Value::Object(l)), Value::Object(dobj)) => {
                out.insert(k.clone(), Value::Object(overlay(l, dobj)));
            }
            _ => {
                out.insert(k.clone(), d.clone());
            }
        }
    }
    out
}

/// The preferences content apply writes (see the module docs): `keep` names the inputs
/// the config does not set.
pub fn merge_preferences(desired: &Value, live: Option<&Value>, keep: &[String]) -> Value {
    let (Some(Value::Object(l)), Value::Object(d)) = (live, desired) else {
        return desired.clone();
    };
    let kept_desired;
    let d = match (d.get("inputs"), l.get("inputs")) {
        (Some(Value::Object(di)), Some(Value::Object(li))) => {
            let mut di = di.clone();
            for k in keep {
                if let Some(v) = li.get(k) {
                    di.insert(k.clone(), v.clone());
                }
            }
            let mut d = d.clone();
            d.insert("inputs".to_string(), Value::Object(di));
            kept_desired = d;
            &kept_desired
        }
        _ => d,
    };
    let mut top = l.clone();
    for (k, v) in d {
        if k != "inputs" {
            top.insert(k.clone(), v.clone());
        }
    }
    let inputs = match (l.get("inputs"), d.get("inputs")) {
        (Some(Value::Object(li)), Some(Value::Object(di))) => Value::Object(overlay(li, di)),
        (_, Some(di)) => di.clone(),
        (Some(li), None) => li.clone(),
        (None, None) => Value::Null,
    };
    if !inputs.is_null() {
        top.insert("inputs".to_string(), inputs);
    }
    Value::Object(top)
}

/// What `plan` says of a preferences update, input by input: each input of the live
/// document that the merge keeps although the config's rendering differs (the config does
/// not set it), and each input it changes.
pub fn preference_notes(desired: &Value, live: &Value, merged: &Value) -> Vec<String> {
    let (Some(Value::Object(d)), Some(Value::Object(l)), Some(Value::Object(m))) = (
        desired.get("inputs"),
        live.get("inputs"),
        merged.get("inputs"),
    ) else {
        return Vec::new();
    };
    let mut kept = Vec::new();
    let mut changed = Vec::new();
    for (k, mv) in m {
        match l.get(k) {
            Some(lv) if lv == mv => {
                if d.get(k).is_some_and(|dv| dv != mv) {
                    kept.push(format!("{k} = {lv}"));
                }
            }
            Some(lv) => changed.push(format!("{k}: {lv} -> {mv}")),
            None => changed.push(format!("{k}: (absent) -> {mv}")),
        }
    }
    let mut out = Vec::new();
    if !kept.is_empty() {
        out.push(format!(
            "inputs kept (the config does not set them): {}",
            kept.join(", ")
        ));
    }
    if !changed.is_empty() {
        out.push(format!("inputs changed: {}", changed.join(", ")));
    }
    out
}

/// A concrete stand-in for an ARN pattern (`*` and `?` filled in), so a request can be made
/// of what a statement names.
fn concrete(pattern: &str) -> String {
    pattern.replace('*', "ssmlog-probe").replace('?', "x")
}

/// The context a statement's own conditions ask for: the first value of each key under a
/// positive operator (`StringEquals`, `ArnLike`, `Bool`, …), so the request meets them.
fn context_of(statement: &Value) -> Map<String, Value> {
    let mut ctx = Map::new();
    ctx.insert("aws:SecureTransport".into(), json!("true"));
    if let Some(Value::Object(ops)) = statement.get("Condition") {
        for (op, kv) in ops {
            let positive = !op.contains("Not") && !op.starts_with("Null");
            let (true, Value::Object(kv)) = (positive, kv) else {
                continue;
            };
            for (k, v) in kv {
                if let Some(first) = strings(Some(v)).first() {
                    ctx.insert(k.clone(), json!(concrete(first)));
                } else if let Some(b) = v.as_bool() {
                    ctx.insert(k.clone(), json!(b.to_string()));
                }
            }
        }
    }
    ctx
}

/// The foreign Allows of `merged` that ssmlog's own Denies cancel, in words with the fix:
/// each foreign Allow (see [`foreign_statements`]) is turned into the requests it grants
/// (each named principal, each action without a wildcard, its resource with wildcards
/// filled in, the context its conditions ask for), decided by ssmlog's IAM engine against
/// the merged policy; one that ssmlog's Deny refuses is kept but does nothing.
/// `resource` is the bucket or key ARN, `account` the account that owns it.
pub fn neutralised(desired: &Value, merged: &Value, resource: &str, account: &str) -> Vec<String> {
    let owned_denies: BTreeSet<String> = statements(desired)
        .iter()
        .filter(|s| s.get("Effect").and_then(Value::as_str) == Some("Deny"))
        .filter_map(|s| sid(s).map(str::to_string))
        .collect();
    let mut out = Vec::new();
    for (i, st) in foreign_statements(desired, merged).iter().enumerate() {
        if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let name = sid(st).map_or_else(|| format!("#{} (no Sid)", i + 1), |s| format!("`{s}`"));
        let principals: Vec<(String, bool)> = match st.get("Principal") {
            Some(Value::Object(p)) => {
                let aws = strings(p.get("AWS"))
                    .into_iter()
                    .filter(|a| *a != "*")
                    .map(|a| {
                        let arn = if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) {
                            format!("arn:aws:iam::{a}:root")
                        } else {
                            a.to_string()
                        };
                        (arn, false)
                    });
                let services = strings(p.get("Service"))
                    .into_iter()
                    .map(|s| (s.to_string(), true));
                aws.chain(services).collect()
            }
            _ => Vec::new(),
        };
        let resources: Vec<String> = match strings(st.get("Resource")).as_slice() {
            [] => vec![resource.to_string()],
            list => list
                .iter()
                .map(|r| {
                    if *r == "*" {
                        resource.to_string()
                    } else {
                        concrete(r)
                    }
                })
                .collect(),
        };
        let actions: Vec<&str> = strings(st.get("Action"))
            .into_iter()
            .filter(|a| !a.contains('*') && !a.contains('?'))
            .collect();
        for (principal, is_service) in &principals {
            for action in &actions {
                let Some(res) = resources.first() else {
                    continue;
                };
                let identity = if *is_service {
                    json!([])
                } else {
                    json!([{"name": "assumed permissions of the principal", "document": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}])
                };
                let request = json!({
                    "principal": {"arn": principal},
                    "action": action,
                    "resource": {"arn": res, "account": account},
                    "context": context_of(st),
                    "policies": {
                        "identity": identity,
                        "resourcePolicy": {"name": "merged policy", "document": merged}
                    }
                });
                let Ok(input) = EvalInput::from_json(&request.to_string()) else {
                    continue;
                };
                let decision = evaluate(&input);
                if decision.decision != Outcome::ExplicitlyDenied {
                    continue;
                }
                let by: Vec<String> = decision
                    .statements
                    .iter()
                    .filter(|r| r.effect == ssmlog_iam::Effect::Deny)
                    .filter_map(|r| r.sid.clone())
                    .filter(|s| owned_denies.contains(s))
                    .collect();
                let Some(deny) = by.first() else { continue };
                let fix = if *is_service {
                    format!("exempt the {principal} resource that writes in the config (`bucket.exempt_source_arns = [\"<its ARN>\"]`, matched by `aws:SourceArn`; give this statement the same `aws:SourceArn` condition), or have it send what the Deny asks for (SSE-KMS with Key 1 for uploads)")
                } else if deny.contains("Administration") || deny.contains("LogDeletion") {
                    format!("if `{principal}` must keep this right, list it as an administrator in the config (`keys.*.administrators` for a key, `bucket.administrators` for the bucket)")
                } else {
                    "change the statement so its requests meet ssmlog's Deny, or remove it"
                        .to_string()
                };
                out.push(format!(
                    "foreign statement {name} allows {principal} `{action}` on {res}, but ssmlog's `{deny}` denies it: kept, and has no effect; fix: {fix}"
                ));
                break;
            }
        }
    }
    out
}

/// Refuses a key policy that would stop `principals` (the key administrators and whoever
/// applies it) from changing the key policy again. Returns the principals locked out.
pub fn lockout(key_arn: &str, policy: &Value, principals: &[String]) -> Result<(), Vec<String>> {
    let account = key_arn.split(':').nth(4).unwrap_or_default().to_string();
    let locked: Vec<String> = principals
        .iter()
        .filter(|p| {
            let request = json!({
                "principal": {"arn": p},
                "action": "kms:PutKeyPolicy",
                "resource": {"arn": key_arn, "account": account},
                "context": {"aws:SecureTransport": "true"},
                "policies": {
                    "identity": [{"name": "assumed administrator permissions", "document": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]
                    }}],
                    "resourcePolicy": {"name": "key policy", "document": policy}
                }
            });
            match EvalInput::from_json(&request.to_string()) {
                Ok(input) => decide(&input) != Outcome::Allowed,
                Err(_) => true,
            }
        })
        .cloned()
        .collect();
    if locked.is_empty() {
        Ok(())
    } else {
        Err(locked)
    }
}

/// The IAM-style ARN of a caller: `arn:aws:sts::A:assumed-role/R/S` becomes the role
/// `arn:aws:iam::A:role/R`, which is what a key policy names.
pub fn caller_principal(arn: &str) -> String {
    if let Some(rest) = arn.strip_prefix("arn:aws:sts::") {
        let mut parts = rest.splitn(2, ":assumed-role/");
        if let (Some(account), Some(role_session)) = (parts.next(), parts.next()) {
            let role = role_session
                .rsplit_once('/')
                .map_or(role_session, |(r, _)| r);
            return format!("arn:aws:iam::{account}:role/{role}");
        }
    }
    arn.to_string()
}

/// A readable diff of two JSON documents: pretty-printed with sorted keys, then lines
/// prefixed `-` (only before), `+` (only after) or ` ` (both).
pub fn json_diff(before: Option<&Value>, after: Option<&Value>) -> String {
    let pretty = |v: Option<&Value>| -> Vec<String> {
        v.map(|v| {
            ssmlog_state::to_canonical_string(v)
                .unwrap_or_default()
                .lines()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
    };
    let (a, b) = (pretty(before), pretty(after));
    // Longest common subsequence over lines; documents are small.
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push_str(&format!("  {}\n", a[i]));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push_str(&format!("+ {}\n", b[j]));
            j += 1;
        } else {
            out.push_str(&format!("- {}\n", a[i]));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(statements: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    #[test]
    fn foreign_statements_survive_and_owned_ones_are_replaced() {
        let desired = policy(json!([
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "x"},
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:PutObject", "Resource": "y"}
        ]));
        let live = policy(json!([
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "OLD"},
            {"Sid": "AllowEachAccountToWriteUnderItsOwnPrefix", "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "OLD"},
            {"Sid": "TheirAuditRead", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "s3:GetObject", "Resource": "z"},
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["s3:PutObject"], "Resource": "y"},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "z"}
        ]));
        let merged = merge_policy(&desired, Some(&live));
        let st = statements(&merged);
        assert_eq!(st.len(), 4);
        assert_eq!(st[0], statements(&desired)[0]);
        assert_eq!(sid(&st[2]), Some("TheirAuditRead"));
        assert_eq!(st[3]["Action"], "s3:DeleteObject");
        // Idempotent: merging again changes nothing.
        assert!(same_policy(&merge_policy(&desired, Some(&merged)), &merged));
        assert!(same_policy(&merge_policy(&desired, None), &desired));
    }

    #[test]
    fn issue_10_article_statements_and_both_profiles_sids_are_ssmlogs() {
        // The article's statements written by hand: other spellings of the same thing.
        let by_hand = policy(json!([
            {"Effect": "Allow", "Principal": "*", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
             "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-x"}}},
            {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "s3:GetEncryptionConfiguration",
             "Resource": "arn:aws:s3:::b", "Condition": {"StringEquals": {"aws:PrincipalOrgId": "o-x"}}},
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "DenyKeyAdministrationToNonAdministrators", "Effect": "Deny", "Principal": "*",
             "Action": "kms:PutKeyPolicy", "Resource": "*"},
            // Not the article's: a narrower principal, an extra condition, another action.
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::2:root"}, "Action": "kms:Decrypt",
             "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-x"}}},
            {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-x"}, "ArnLike": {"aws:SourceArn": "x"}}},
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-x"}}}
        ]));
        let desired = policy(
            json!([{"Sid": "Mine", "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "y"}]),
        );
        let foreign = foreign_statements(&desired, &by_hand);
        assert_eq!(foreign.len(), 3, "{foreign:#?}");
        assert_eq!(foreign[0]["Principal"]["AWS"], "arn:aws:iam::2:root");
        assert!(foreign[1]["Condition"].get("ArnLike").is_some());
        assert_eq!(foreign[2]["Action"], "s3:GetObject");
    }

    #[test]
    fn issue_10_every_rendered_sid_is_known_in_both_profiles() {
        let parsed = ssmlog_render::parse_config("ssmlog.toml", ssmlog_render::EXAMPLE_CONFIG);
        assert!(parsed.is_ok(), "the example config parses");
        let Ok(cfg) = parsed else { return };
        for profile in [
            ssmlog_render::Profile::Hardened,
            ssmlog_render::Profile::Seed,
        ] {
            let state = ssmlog_render::render(&cfg, profile);
            let docs = state
                .keys
                .iter()
                .filter_map(|k| k.policy.as_ref())
                .chain(state.bucket.policy.as_ref());
            for doc in docs {
                for st in statements(doc) {
                    match sid(&st) {
                        Some(s) => assert!(
                            HARDENED_SIDS.contains(&s) || SEED_SIDS.contains(&s),
                            "{s} is rendered but not known as ssmlog's"
                        ),
                        None => assert!(is_article_statement(&st), "{st}"),
                    }
                }
            }
        }
    }

    #[test]
    fn issue_10_foreign_allows_cancelled_by_ssmlogs_denies_are_said() {
        let cfg = ssmlog_render::parse_config("ssmlog.toml", ssmlog_render::EXAMPLE_CONFIG);
        assert!(cfg.is_ok());
        let Ok(cfg) = cfg else { return };
        let state = ssmlog_render::render(&cfg, ssmlog_render::Profile::Hardened);
        let la = state.log_archive.account_id.clone();
        let bucket = state.bucket.name.clone();
        let bp = state.bucket.policy.clone().unwrap_or_default();
        let cloudtrail = json!({"Sid": "AWSCloudTrailWrite", "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
            "Resource": format!("arn:aws:s3:::{bucket}/AWSLogs/{la}/*"),
            "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}});
        let auditor = json!({"Sid": "AuditorReads", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{la}:role/Auditor")}, "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{bucket}/*")});
        let live = policy(json!([cloudtrail, auditor]));
        let merged = merge_policy(&bp, Some(&live));
        let notes = neutralised(&bp, &merged, &format!("arn:aws:s3:::{bucket}"), &la);
        assert_eq!(notes.len(), 1, "{notes:#?}");
        assert!(notes[0].starts_with("foreign statement `AWSCloudTrailWrite` allows cloudtrail.amazonaws.com `s3:PutObject`"), "{}", notes[0]);
        assert!(
            notes[0].contains("but ssmlog's `DenyUploadsWithoutSseKms` denies it"),
            "{}",
            notes[0]
        );
        assert!(
            notes[0].contains("bucket.exempt_source_arns"),
            "{}",
            notes[0]
        );
        // Exempted by its trail's ARN, which its statement names too: nothing cancelled.
        let trail = format!("arn:aws:cloudtrail:eu-west-1:{la}:trail/org");
        let mut exempt_cfg = cfg.clone();
        exempt_cfg.bucket.exempt_source_arns = vec![trail.clone()];
        let exempt = ssmlog_render::render(&exempt_cfg, ssmlog_render::Profile::Hardened);
        let bp2 = exempt.bucket.policy.clone().unwrap_or_default();
        let with_source = json!({"Sid": "AWSCloudTrailWrite", "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
            "Resource": format!("arn:aws:s3:::{bucket}/AWSLogs/{la}/*"),
            "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trail}}});
        let merged2 = merge_policy(&bp2, Some(&policy(json!([with_source]))));
        assert_eq!(
            neutralised(&bp2, &merged2, &format!("arn:aws:s3:::{bucket}"), &la),
            Vec::<String>::new()
        );
        // The exemption does not open the Deny to anyone else.
        let merged3 = merge_policy(&bp, Some(&policy(json!([with_source]))));
        assert_eq!(
            neutralised(&bp, &merged3, &format!("arn:aws:s3:::{bucket}"), &la).len(),
            1
        );

        let key = state.keys.first().cloned();
        let Some(key) = key else { return };
        let kp = key.policy.clone().unwrap_or_default();
        let break_glass = json!({"Sid": "BreakGlass", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{la}:role/BreakGlass")},
            "Action": ["kms:PutKeyPolicy", "kms:DescribeKey"], "Resource": "*"});
        let merged = merge_policy(&kp, Some(&policy(json!([break_glass]))));
        let notes = neutralised(&kp, &merged, &key.arn, &la);
        assert_eq!(notes.len(), 1, "{notes:#?}");
        assert!(
            notes[0].contains("`kms:PutKeyPolicy`")
                && notes[0].contains("DenyKeyAdministrationToNonAdministrators"),
            "{}",
            notes[0]
        );
        assert!(notes[0].contains("keys.*.administrators"), "{}", notes[0]);
        // With the break-glass role an administrator, nothing is cancelled.
        let mut admin_cfg = cfg.clone();
        admin_cfg
            .keys
            .bucket
            .administrators
            .push(format!("arn:aws:iam::{la}:role/BreakGlass"));
        let state = ssmlog_render::render(&admin_cfg, ssmlog_render::Profile::Hardened);
        let kp = state.keys[0].policy.clone().unwrap_or_default();
        let merged = merge_policy(
            &kp,
            Some(&policy(json!([{"Sid": "BreakGlass", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{la}:role/BreakGlass")},
            "Action": "kms:PutKeyPolicy", "Resource": "*"}]))),
        );
        assert!(neutralised(&kp, &merged, &key.arn, &la).is_empty());
    }

    #[test]
    fn normalize_ignores_one_element_arrays() {
        let a = policy(json!({"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "*"}));
        let b = policy(json!([{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": ["*"]}]));
        assert!(same_policy(&a, &b));
    }

    #[test]
    fn preferences_keep_unmanaged_inputs() {
        let desired = json!({"schemaVersion": "1.0", "sessionType": "Standard_Stream", "inputs": {
            "s3BucketName": "logs", "runAsDefaultUser": "", "shellProfile": {"linux": "", "windows": ""},
            "idleSessionTimeout": "20"}});
        let live = json!({"schemaVersion": "1.0", "description": "theirs", "sessionType": "Standard_Stream", "inputs": {
            "s3BucketName": "old", "runAsDefaultUser": "ops", "shellProfile": {"linux": "exec bash", "windows": ""},
            "idleSessionTimeout": "5", "customInput": "kept"}});
        let m = merge_preferences(&desired, Some(&live), &[]);
        assert_eq!(m["inputs"]["s3BucketName"], "logs");
        assert_eq!(m["inputs"]["idleSessionTimeout"], "20");
        assert_eq!(m["inputs"]["runAsDefaultUser"], "ops");
        assert_eq!(m["inputs"]["shellProfile"]["linux"], "exec bash");
        assert_eq!(m["inputs"]["customInput"], "kept");
        assert_eq!(m["description"], "theirs");
        assert_eq!(merge_preferences(&desired, Some(&m), &[]), m);
        assert_eq!(merge_preferences(&desired, None, &[]), desired);
    }

    #[test]
    fn issue_10_inputs_the_config_does_not_set_are_kept_and_said() {
        let desired = json!({"schemaVersion": "1.0", "sessionType": "Standard_Stream", "inputs": {
            "s3BucketName": "logs", "runAsEnabled": false, "runAsDefaultUser": "",
            "idleSessionTimeout": "20", "cloudWatchLogGroupName": "", "cloudWatchEncryptionEnabled": false}});
        let live = json!({"schemaVersion": "1.0", "sessionType": "Standard_Stream", "inputs": {
            "s3BucketName": "old", "runAsEnabled": true, "runAsDefaultUser": "ops",
            "idleSessionTimeout": "45", "cloudWatchLogGroupName": "/theirs", "cloudWatchEncryptionEnabled": true}});
        let keep: Vec<String> = [
            "idleSessionTimeout",
            "runAsEnabled",
            "runAsDefaultUser",
            "cloudWatchLogGroupName",
            "cloudWatchEncryptionEnabled",
        ]
        .map(String::from)
        .to_vec();
        let m = merge_preferences(&desired, Some(&live), &keep);
        assert_eq!(m["inputs"]["runAsEnabled"], true);
        assert_eq!(m["inputs"]["idleSessionTimeout"], "45");
        assert_eq!(m["inputs"]["cloudWatchEncryptionEnabled"], true);
        assert_eq!(m["inputs"]["s3BucketName"], "logs");
        // Set means set: without the keep list the config's values win.
        let set = merge_preferences(&desired, Some(&live), &[]);
        assert_eq!(set["inputs"]["runAsEnabled"], false);
        assert_eq!(set["inputs"]["idleSessionTimeout"], "20");
        let notes = preference_notes(&desired, &live, &m);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[0].starts_with("inputs kept (the config does not set them): "),
            "{notes:?}"
        );
        assert!(
            notes[0].contains("idleSessionTimeout = \"45\"")
                && notes[0].contains("runAsEnabled = true"),
            "{notes:?}"
        );
        assert_eq!(
            notes[1],
            "inputs changed: s3BucketName: \"old\" -> \"logs\""
        );
    }

    #[test]
    fn lockout_is_refused() {
        let key = "arn:aws:kms:eu-west-1:111122223333:key/1234";
        let admin = "arn:aws:iam::111122223333:role/KeyAdministrator".to_string();
        let ok = policy(json!([{"Sid": "Root", "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]));
        assert_eq!(lockout(key, &ok, std::slice::from_ref(&admin)), Ok(()));
        let only_admin = policy(json!([{"Effect": "Allow",
            "Principal": {"AWS": admin.clone()}, "Action": "kms:Put*", "Resource": "*"}]));
        assert_eq!(
            lockout(key, &only_admin, std::slice::from_ref(&admin)),
            Ok(())
        );
        let users_only = policy(json!([{"Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": ["kms:Decrypt"], "Resource": "*"}]));
        assert_eq!(
            lockout(key, &users_only, std::slice::from_ref(&admin)),
            Err(vec![admin.clone()])
        );
        let mut denied = ok.clone();
        if let Some(a) = denied["Statement"].as_array_mut() {
            a.push(json!({"Sid": "Theirs", "Effect": "Deny",
                "Principal": {"AWS": "*"}, "Action": "kms:PutKeyPolicy", "Resource": "*"}));
        }
        assert_eq!(
            lockout(key, &denied, std::slice::from_ref(&admin)),
            Err(vec![admin])
        );
    }

    #[test]
    fn caller_principal_of_a_session() {
        assert_eq!(
            caller_principal("arn:aws:sts::123456789012:assumed-role/Admin/alice"),
            "arn:aws:iam::123456789012:role/Admin"
        );
        assert_eq!(
            caller_principal("arn:aws:iam::1:user/x"),
            "arn:aws:iam::1:user/x"
        );
    }

    #[test]
    fn diff_marks_lines() {
        let d = json_diff(
            Some(&json!({"a": 1, "b": 2})),
            Some(&json!({"a": 1, "b": 3})),
        );
        assert!(d.contains("-   \"b\": 2"), "{d}");
        assert!(d.contains("+   \"b\": 3"), "{d}");
        assert!(d.contains("    \"a\": 1,"), "{d}");
    }
}
