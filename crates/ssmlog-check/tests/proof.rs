//! The proof on the example config: both profiles, then mutations of the hardened State, one
//! at a time, each of which must break exactly the calls it should, and say why.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeSet;

use serde_json::{json, Value};
use ssmlog_check::{check, CheckOptions, ProofKind, Report, Severity};
use ssmlog_render::{parse_config, render, Profile, EXAMPLE_CONFIG};
use ssmlog_state::State;

fn example(profile: Profile) -> (State, CheckOptions) {
    let cfg = parse_config("examples/ssmlog.toml", EXAMPLE_CONFIG).unwrap();
    let options = CheckOptions {
        session_starters: cfg.session.starters.clone(),
        explain_account: None,
        bucket_administrators: Vec::new(),
        ..CheckOptions::default()
    };
    (render(&cfg, profile), options)
}

fn failing(r: &Report, kind: ProofKind) -> BTreeSet<String> {
    r.proofs
        .iter()
        .filter(|p| !p.holds && p.kind == kind)
        .map(|p| p.id.clone())
        .collect()
}

#[test]
fn hardened_every_agent_call_holds_and_members_cannot_touch_each_others_logs() {
    let (state, opts) = example(Profile::Hardened);
    let r = check(&state, &opts);
    assert!(
        failing(&r, ProofKind::AgentCall).is_empty(),
        "{}",
        r.to_table()
    );
    // 3 accounts x 2 regions x 2 roles x 6 calls, plus the session starter per account and
    // region, plus the administrator of each of the 3 keys and of the bucket, plus the agent's
    // 11 core calls per role (issue 13).
    let calls: usize = r.rows.iter().map(|row| row.calls_ok).sum();
    assert_eq!(calls, 3 * 2 * (2 * 6 + 1) + 4 + 3 * 2 * 2 * 11);
    for row in r.rows.iter().filter(|row| row.account != "*") {
        assert_eq!(row.probes_allowed, 0, "{row:?}");
    }
    let per_account_denied: usize = r
        .rows
        .iter()
        .filter(|row| row.account != "*")
        .map(|row| row.probes_denied)
        .sum();
    // 15 per account, plus one `member-admin` probe on the session key's us-east-1 replica
    // (a key of its own in the State since the session key became multi-Region).
    assert_eq!(per_account_denied, 3 * 16);
    // Outsiders and anonymous callers are denied everything.
    assert!(r
        .proofs
        .iter()
        .all(|p| !(p.id.starts_with("probe/outsider") || p.id == "probe/anonymous") || p.holds));
    let remaining: BTreeSet<&str> = r
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.rule.as_str())
        .collect();
    assert_eq!(remaining, BTreeSet::new(), "{}", r.to_table());
    assert!(failing(&r, ProofKind::Probe).is_empty());
}

#[test]
fn a_key_policy_that_locks_out_its_administrators_is_an_error() {
    let (broken, r) = newly_failing(|s| {
        let kp = key_policy(s, "bucket-key");
        kp["Statement"].as_array_mut().unwrap().retain(|st| {
            st["Sid"] != "AllowKeyAdministration"
                && st["Sid"] != "EnableIamPoliciesOfLogArchiveAccount"
        });
    });
    assert_eq!(broken, set(&["admin/kms:PutKeyPolicy"]));
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "administrator-locked-out")
        .unwrap();
    assert!(
        f.message
            .contains("kms:PutKeyPolicy by `arn:aws:iam::111122223333:role/KeyAdministrator`"),
        "{}",
        f.message
    );
    assert_eq!(
        f.file.as_deref(),
        Some("log-archive/key-policies/bucket-key.json")
    );
}

#[test]
fn sessions_must_use_the_session_key_of_their_own_region() {
    let (_, r) = newly_failing(|s| {
        let primary = s
            .keys
            .iter()
            .find(|k| k.name == "session-key")
            .unwrap()
            .arn
            .clone();
        for region in s.accounts[0].regions.iter_mut() {
            region.preferences.as_mut().unwrap()["inputs"]["kmsKeyId"] = serde_json::json!(primary);
        }
    });
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "session-key-region")
        .unwrap();
    assert_eq!(f.region.as_deref(), Some("us-east-1"));
    assert!(
        f.fix.contains("the replica of `session-key` in us-east-1"),
        "{}",
        f.fix
    );
    assert_eq!(
        r.findings
            .iter()
            .filter(|f| f.rule == "session-key-region")
            .count(),
        1
    );
}

#[test]
fn seed_reports_the_source_documents_real_weaknesses() {
    let (state, opts) = example(Profile::Seed);
    let r = check(&state, &opts);
    assert!(!r.passed());
    // Functionally the seed works: every agent call is allowed.
    assert!(
        failing(&r, ProofKind::AgentCall).is_empty(),
        "{}",
        r.to_table()
    );
    let probes = failing(&r, ProofKind::Probe);
    for weakness in [
        "probe/other-member-overwrite",
        "probe/insecure-transport",
        "probe/upload-without-sse-kms",
        "probe/upload-with-another-key",
        "probe/bucket-key-outside-s3",
    ] {
        assert!(
            probes.contains(weakness),
            "{weakness} missing from {probes:?}"
        );
    }
    // Reading and deleting another account's logs stays denied even in the seed.
    assert!(!probes.contains("probe/other-member-read"));
    assert!(!probes.contains("probe/outsider-write"));
    let overwrite = r
        .findings
        .iter()
        .find(|f| f.rule == "probe-allowed" && f.message.contains("overwrites or forges"))
        .unwrap();
    assert_eq!(
        overwrite.file.as_deref(),
        Some("log-archive/bucket-policy.json")
    );
    assert!(overwrite
        .statements
        .iter()
        .any(|s| s.policy == "log-archive/bucket-policy.json" && s.index == 1));
    assert!(overwrite.fix.contains("${aws:PrincipalAccount}"));
    let remote: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule == "bucket-other-region")
        .collect();
    assert_eq!(
        remote.len(),
        1,
        "one note for us-east-1, none for the bucket's own region"
    );
    assert_eq!(
        (remote[0].severity, remote[0].region.as_deref()),
        (Severity::Note, Some("us-east-1"))
    );
    let prefix = r
        .findings
        .iter()
        .filter(|f| f.rule == "preferences-prefix")
        .count();
    assert_eq!(prefix, 6, "one per account and region");
}

/// A named change to the State and the proofs it must newly break.
type Mutation = (
    &'static str,
    Box<dyn FnOnce(&mut State)>,
    &'static [&'static str],
);

/// Removes the statement with `sid` from a policy document.
fn without(doc: &mut Value, sid: &str) {
    let list = doc["Statement"].as_array_mut().unwrap();
    let before = list.len();
    list.retain(|s| s["Sid"] != sid);
    assert_eq!(list.len() + 1, before, "no statement {sid}");
}

fn bucket_policy(s: &mut State) -> &mut Value {
    s.bucket.policy.as_mut().unwrap()
}

fn key_policy<'a>(s: &'a mut State, name: &str) -> &'a mut Value {
    s.keys
        .iter_mut()
        .find(|k| k.name == name)
        .unwrap()
        .policy
        .as_mut()
        .unwrap()
}

fn role_policies(s: &mut State) -> impl Iterator<Item = &mut Value> {
    s.accounts
        .iter_mut()
        .flat_map(|a| a.roles.iter_mut())
        .flat_map(|r| r.policies.iter_mut())
        .map(|p| &mut p.document)
}

fn newly_failing(mutate: impl FnOnce(&mut State)) -> (BTreeSet<String>, Report) {
    let (mut state, opts) = example(Profile::Hardened);
    let base = check(&state, &opts);
    mutate(&mut state);
    let r = check(&state, &opts);
    let before: BTreeSet<String> = base
        .proofs
        .iter()
        .filter(|p| !p.holds)
        .map(|p| p.id.clone())
        .collect();
    let after: BTreeSet<String> = r
        .proofs
        .iter()
        .filter(|p| !p.holds)
        .map(|p| p.id.clone())
        .collect();
    (after.difference(&before).cloned().collect(), r)
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[test]
fn removing_each_required_allow_breaks_exactly_its_calls() {
    let cases: Vec<Mutation> = vec![
        (
            "bucket: encryption config",
            Box::new(|s| without(bucket_policy(s), "AllowOrganizationToReadEncryptionConfig")),
            &["agent/s3:GetEncryptionConfiguration"],
        ),
        (
            "bucket: writes",
            Box::new(|s| without(bucket_policy(s), "AllowEachAccountToWriteUnderItsOwnPrefix")),
            &["agent/s3:PutObject", "agent/s3:PutObjectAcl"],
        ),
        (
            "key 1: uploads through S3",
            Box::new(|s| {
                without(
                    key_policy(s, "bucket-key"),
                    "AllowOrganizationUploadsThroughS3",
                )
            }),
            &["agent/kms:GenerateDataKey", "agent/kms:Decrypt"],
        ),
        (
            "key 2: instance roles",
            Box::new(|s| {
                without(
                    key_policy(s, "session-key"),
                    "AllowInstanceRolesToDecryptSessionData",
                )
            }),
            &["agent/kms:Decrypt(session)"],
        ),
        (
            "key 2: session starters",
            Box::new(|s| {
                without(
                    key_policy(s, "session-key"),
                    "AllowSessionStartersToEncryptSessionData",
                )
            }),
            &["agent/kms:GenerateDataKey(session)"],
        ),
        (
            "role: uploads",
            Box::new(|s| role_policies(s).for_each(|d| without(d, "PutSessionLogsUnderOwnPrefix"))),
            &["agent/s3:PutObject", "agent/s3:PutObjectAcl"],
        ),
        (
            "role: encryption config",
            Box::new(|s| role_policies(s).for_each(|d| without(d, "ReadBucketEncryptionConfig"))),
            &["agent/s3:GetEncryptionConfiguration"],
        ),
        (
            "role: key 1",
            Box::new(|s| role_policies(s).for_each(|d| without(d, "UseBucketKeyThroughS3"))),
            &["agent/kms:GenerateDataKey", "agent/kms:Decrypt"],
        ),
        (
            "role: key 2",
            Box::new(|s| role_policies(s).for_each(|d| without(d, "DecryptSessionData"))),
            &["agent/kms:Decrypt(session)"],
        ),
    ];
    for (name, mutate, expected) in cases {
        let (broken, r) = newly_failing(mutate);
        assert_eq!(broken, set(expected), "{name}");
        // Each broken call is named in a finding with the call, the principal and the fix.
        for id in expected {
            let action = id.trim_start_matches("agent/").split('(').next().unwrap();
            let f = r
                .findings
                .iter()
                .find(|f| {
                    f.rule == "agent-call-denied" && f.message.starts_with(&format!("{action} by"))
                })
                .unwrap_or_else(|| panic!("{name}: no finding for {id}"));
            assert!(
                f.message.contains("denied (no policy grants it)"),
                "{name}: {}",
                f.message
            );
            assert!(f.fix.contains(action), "{name}: {}", f.fix);
            assert!(f.fix.contains("missing:"), "{name}: {}", f.fix);
        }
    }
}

#[test]
fn removing_each_deny_or_narrowing_condition_opens_exactly_its_probe() {
    let cases: Vec<Mutation> = vec![
        (
            "deny plain HTTP",
            Box::new(|s| without(bucket_policy(s), "DenyInsecureTransport")),
            &["probe/insecure-transport"],
        ),
        (
            "deny missing SSE-KMS",
            Box::new(|s| without(bucket_policy(s), "DenyUploadsWithoutSseKms")),
            &["probe/upload-without-sse-kms"],
        ),
        (
            "deny another key",
            Box::new(|s| without(bucket_policy(s), "DenyUploadsWithAnotherKmsKey")),
            &["probe/upload-with-another-key"],
        ),
        (
            "write grant without the account prefix",
            Box::new(|s| {
                let bp = bucket_policy(s);
                for st in bp["Statement"].as_array_mut().unwrap() {
                    if st["Sid"] == "AllowEachAccountToWriteUnderItsOwnPrefix" {
                        st["Resource"] = json!("arn:aws:s3:::central-session-logs-111122223333/*");
                    }
                }
            }),
            &["probe/other-member-overwrite"],
        ),
        (
            "write grant without aws:PrincipalOrgID",
            Box::new(|s| {
                let bp = bucket_policy(s);
                for st in bp["Statement"].as_array_mut().unwrap() {
                    if st["Sid"] == "AllowEachAccountToWriteUnderItsOwnPrefix" {
                        st.as_object_mut().unwrap().remove("Condition");
                    }
                }
            }),
            // Anonymous callers stay out: they have no `aws:PrincipalAccount` for the prefix.
            &["probe/outsider-write"],
        ),
        (
            "key 1 use without kms:ViaService",
            Box::new(|s| {
                let kp = key_policy(s, "bucket-key");
                for st in kp["Statement"].as_array_mut().unwrap() {
                    if st["Sid"] == "AllowOrganizationUploadsThroughS3" {
                        st["Condition"]["StringEquals"]
                            .as_object_mut()
                            .unwrap()
                            .remove("kms:ViaService");
                        st["Condition"]
                            .as_object_mut()
                            .unwrap()
                            .remove("StringLike");
                    }
                }
            }),
            &["probe/bucket-key-outside-s3"],
        ),
    ];
    for (name, mutate, expected) in cases {
        let (opened, r) = newly_failing(mutate);
        assert_eq!(opened, set(expected), "{name}");
        assert!(
            r.findings
                .iter()
                .any(|f| f.rule == "probe-allowed" && !f.statements.is_empty()),
            "{name}: the allowing statement is named"
        );
    }
}

#[test]
fn settings_and_preferences_mutations_are_named() {
    let finding = |r: &Report, rule: &str| r.findings.iter().any(|f| f.rule == rule);
    let (broken, r) = newly_failing(|s| {
        s.accounts[0].regions[0].preferences.as_mut().unwrap()["inputs"]["s3KeyPrefix"] = json!("");
    });
    // The hardened bucket policy only lets an account write under its own id: an empty prefix loses logs.
    assert_eq!(
        broken,
        set(&["agent/s3:PutObject", "agent/s3:PutObjectAcl"])
    );
    assert!(finding(&r, "preferences-prefix"));
    let (broken, r) = newly_failing(|s| {
        s.accounts[0].regions[0].preferences.as_mut().unwrap()["inputs"]["s3EncryptionEnabled"] =
            json!(false);
    });
    assert_eq!(broken, set(&["agent/s3:PutObject"]));
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "agent-call-denied")
        .unwrap();
    assert!(
        f.message.contains("denied by a Deny statement"),
        "{}",
        f.message
    );
    assert_eq!(
        f.statements[0].sid.as_deref(),
        Some("DenyUploadsWithoutSseKms")
    );
    assert!(finding(&r, "preferences-encryption"));
    let (_, r) = newly_failing(|s| {
        s.accounts[1].regions[1].preferences.as_mut().unwrap()["inputs"]["idleSessionTimeout"] =
            json!("90");
    });
    assert!(r
        .findings
        .iter()
        .any(|f| f.rule == "preferences-timeout"
            && f.message.contains("`idleSessionTimeout` is `90`")));
    let (_, r) = newly_failing(|s| s.accounts[2].regions[0].preferences = None);
    assert!(r
        .findings
        .iter()
        .any(|f| f.rule == "preferences-missing" && f.account.as_deref() == Some("444455556666")));
    let (_, r) = newly_failing(|s| {
        s.bucket.default_encryption.kms_key_id =
            Some("arn:aws:kms:eu-west-1:111122223333:key/other".into())
    });
    assert!(finding(&r, "bucket-encryption-key"));
    let (_, r) = newly_failing(|s| s.bucket.versioning = ssmlog_state::Versioning::Suspended);
    assert!(finding(&r, "bucket-versioning"));
    let (_, r) = newly_failing(|s| s.bucket.public_access_block.block_public_policy = false);
    assert!(finding(&r, "bucket-public-access"));
}

#[test]
fn policy_lints_point_at_the_state_file() {
    let (mut state, opts) = example(Profile::Hardened);
    let bp = state.bucket.policy.as_mut().unwrap();
    bp["Statement"].as_array_mut().unwrap().push(json!({
        "Sid": "Typo", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:PutObjects",
        "Resource": "arn:aws:s3:::*", "Condition": {"StringEquals": {"aws:PrincipalOrgId": "o-a1b2c3d4e5"}}
    }));
    let r = check(&state, &opts);
    let lint = r
        .findings
        .iter()
        .find(|f| f.rule == "lint/unknown-action")
        .unwrap();
    assert_eq!(lint.file.as_deref(), Some("log-archive/bucket-policy.json"));
    assert!(lint.message.contains("`s3:PutObjects`"));
    assert!(lint.line.is_some());
    assert!(r
        .findings
        .iter()
        .any(|f| f.rule == "lint/resource-wildcard"));
    let (mut state, opts) = example(Profile::Hardened);
    state.bucket.policy.as_mut().unwrap()["Statement"][0]["Condition"] =
        json!({"StringEqual": {"aws:SecureTransport": "false"}});
    let r = check(&state, &opts);
    let e = r
        .findings
        .iter()
        .find(|f| f.rule == "lint/unknown-operator")
        .unwrap();
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(
        e.json_path.as_deref(),
        Some("Statement[0].Condition.StringEqual")
    );
}

#[test]
fn json_output_round_trips_and_sarif_has_a_result_per_finding() {
    let (state, opts) = example(Profile::Seed);
    let r = check(&state, &opts);
    let text = serde_json::to_string(&r).unwrap();
    let back: Report = serde_json::from_str(&text).unwrap();
    assert_eq!(back, r);
    let sarif = r.to_sarif("state", Some("file:///repo/"));
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["originalUriBaseIds"]["SRCROOT"]["uri"], "file:///repo/");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), r.findings.len());
    // Every result is placed: a State file, a line and a column, and fingerprinted.
    for x in results {
        let loc = &x["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "SRCROOT", "{x}");
        assert!(
            loc["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .starts_with("state/"),
            "{x}"
        );
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1, "{x}");
        assert!(loc["region"]["startColumn"].as_u64().unwrap() >= 1, "{x}");
        assert!(
            x["partialFingerprints"]["ssmlogFinding/v1"].is_string(),
            "{x}"
        );
    }
    // The other member's overwrite probe points at the bucket policy statement that allows it.
    let files = ssmlog_state::to_files(&state).unwrap();
    let overwrite = r
        .findings
        .iter()
        .find(|f| f.rule == "probe-allowed" && f.message.contains("overwrites or forges"))
        .unwrap();
    assert_eq!(
        overwrite.file.as_deref(),
        Some("log-archive/bucket-policy.json")
    );
    let path = overwrite.json_path.as_deref().unwrap();
    assert!(path.starts_with("Statement["), "{path}");
    let text = String::from_utf8(files["log-archive/bucket-policy.json"].clone()).unwrap();
    let line = text.lines().nth(overwrite.line.unwrap() - 1).unwrap();
    let col = overwrite.column.unwrap();
    assert_eq!(line.chars().nth(col - 1), Some('{'), "{line:?} at {col}");
    // Each rule is described, with help.
    for rule in run["tool"]["driver"]["rules"].as_array().unwrap() {
        for k in ["shortDescription", "fullDescription", "help"] {
            assert!(!rule[k]["text"].as_str().unwrap().is_empty(), "{rule}");
        }
    }
}

#[test]
fn explain_shows_every_proof_of_one_account_in_full() {
    let (state, mut opts) = example(Profile::Hardened);
    opts.explain_account = Some("333344445555".into());
    let r = check(&state, &opts);
    let text = r.explain("333344445555");
    assert!(
        text.contains("agent/s3:PutObject eu-west-1 — holds: expected Allowed, got Allowed"),
        "{text}"
    );
    assert!(
        text.contains("s3:x-amz-acl = bucket-owner-full-control"),
        "{text}"
    );
    assert!(text.contains("matched: Allow statement 4 `AllowEachAccountToWriteUnderItsOwnPrefix` of `log-archive/bucket-policy.json`"), "{text}");
    assert!(text.contains("probe/other-member-read (all regions) — holds: expected ImplicitlyDenied, got ImplicitlyDenied"), "{text}");
    assert!(
        !text.contains("222233334444/eu-west-1/alice"),
        "only the explained account's proofs"
    );
}

#[test]
fn guardrails_and_key_policies_are_not_linted_as_wildcard_grants() {
    let (mut state, opts) = example(Profile::Hardened);
    state.scps.push(ssmlog_state::TargetPolicies {
        target: "r-ab12".into(),
        policies: vec![ssmlog_state::NamedPolicy {
            name: "FullAWSAccess".into(),
            document: json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        }],
    });
    let r = check(&state, &opts);
    assert!(
        !r.findings
            .iter()
            .any(|f| f.rule == "lint/resource-wildcard"),
        "{}",
        r.to_table()
    );
    assert!(r.passed(), "{}", r.to_table());
}

/// A finding about an account that lives in `state.json` points at the account's first
/// mention there, in the manifest `render` writes, also when the manifest is only written
/// as far as those mentions (its networks come later); one without an account at its start.
#[test]
fn account_findings_point_at_the_accounts_first_mention_in_the_manifest() {
    let (mut state, opts) = example(Profile::Hardened);
    let account = state.accounts[0].id.clone();
    let region = state.accounts[0].regions[0].name.clone();
    state.networks.push(ssmlog_state::RegionNetwork {
        account: account.clone(),
        region,
        vpcs: vec![ssmlog_state::Vpc {
            id: "vpc-1".into(),
            subnets: Vec::new(),
            route_tables: vec![ssmlog_state::RouteTable {
                id: "rtb-main".into(),
                main: true,
                routes: Vec::new(),
            }],
            endpoints: Vec::new(),
        }],
    });
    let r = check(&state, &opts);
    let files = ssmlog_state::to_files(&state).unwrap();
    let text = String::from_utf8(files["state.json"].clone()).unwrap();
    let at = |line: usize, column: usize| -> usize {
        let start: usize = text
            .split_inclusive('\n')
            .take(line - 1)
            .map(str::len)
            .sum();
        start
            + text[start..]
                .chars()
                .take(column - 1)
                .map(char::len_utf8)
                .sum::<usize>()
    };
    let mut placed = 0;
    for f in r
        .findings
        .iter()
        .filter(|f| f.file.as_deref() == Some("state.json") && f.json_path.is_none())
    {
        let offset = at(f.line.unwrap(), f.column.unwrap());
        match &f.account {
            Some(a) => {
                let quoted = format!("\"{a}\"");
                assert_eq!(text.find(&quoted), Some(offset), "{f:?}");
                placed += 1;
            }
            None => assert_eq!(offset, 0, "{f:?}"),
        }
    }
    assert!(placed >= state.accounts.len(), "{:?}", r.findings);
}
