//! Issue 12: logging that member administrators cannot switch off or go around, and the
//! auditors who read it. The example config with `[guardrails]`, `[readers]` and an OU tree,
//! on both profiles; then each guardrail statement removed in turn opens exactly its probes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeSet;

use serde_json::{json, Value};
use ssmlog_check::{check, CheckOptions, GuardrailOptions, Report};
use ssmlog_render::guardrails::{GUARDRAIL_RCP, GUARDRAIL_SCP};
use ssmlog_render::{parse_config, render, Config, Profile, EXAMPLE_CONFIG};
use ssmlog_state::State;

const WORKLOADS: &str = "ou-ab12-aaaaaaaa";
const READER: &str = "arn:aws:iam::555566667777:role/SecurityAuditor";

pub fn config_text(attach_to: &str) -> String {
    let text = EXAMPLE_CONFIG
        .replace(
            "id = \"o-a1b2c3d4e5\"\n",
            "id = \"o-a1b2c3d4e5\"\nroot_id = \"r-ab12\"\nunits = [\n  { id = \"ou-ab12-aaaaaaaa\", parent = \"r-ab12\", name = \"Workloads\" },\n  { id = \"ou-ab12-bbbbbbbb\", parent = \"ou-ab12-aaaaaaaa\", name = \"Prod\" },\n]\n",
        )
        .replace(
            "{ id = \"222233334444\", name = \"workloads-dev\" }",
            "{ id = \"222233334444\", name = \"workloads-dev\", parent = \"ou-ab12-aaaaaaaa\" }",
        )
        .replace(
            "{ id = \"333344445555\", name = \"workloads-prod\" }",
            "{ id = \"333344445555\", name = \"workloads-prod\", parent = \"ou-ab12-bbbbbbbb\" }",
        );
    format!(
        "{text}\n[guardrails]\nattach_to = {attach_to}\ndeploy_roles = [\"arn:aws:iam::*:role/ssmlog-deploy\"]\nport_forwarding = [\"arn:aws:iam::*:role/NetworkAdmin\"]\n\n[readers]\nroles = [\"{READER}\"]\n"
    )
}

fn options(cfg: &Config) -> CheckOptions {
    let g = cfg.guardrails.as_ref().unwrap();
    CheckOptions {
        session_starters: cfg.session.starters.clone(),
        bucket_administrators: cfg.bucket.administrators.clone(),
        guardrails: Some(GuardrailOptions {
            deploy_roles: g.deploy_roles.clone(),
            port_forwarding: g.port_forwarding.clone(),
            session_documents: g.session_documents.clone(),
        }),
        readers: cfg.readers.clone(),
        ..CheckOptions::default()
    }
}

fn setup(profile: Profile, attach_to: &str) -> (State, CheckOptions) {
    let cfg = parse_config("ssmlog.toml", &config_text(attach_to)).unwrap();
    ssmlog_render::check_profile("ssmlog.toml", &cfg, profile).unwrap();
    (render(&cfg, profile), options(&cfg))
}

fn hardened() -> (State, CheckOptions) {
    setup(
        Profile::Hardened,
        &format!("[\"{WORKLOADS}\", \"444455556666\"]"),
    )
}

/// (account, proof id) of every proof that does not hold.
fn broken(r: &Report) -> BTreeSet<(String, String)> {
    r.proofs
        .iter()
        .filter(|p| !p.holds)
        .map(|p| (p.account.clone().unwrap_or_default(), p.id.clone()))
        .collect()
}

const MEMBER_PROBES: [&str; 8] = [
    "probe/member-edits-preferences",
    "probe/member-redefaults-preferences",
    "probe/member-deletes-preferences",
    "probe/member-creates-session-document",
    "probe/member-starts-unlisted-document",
    "probe/member-port-forwarding",
    "probe/member-ssh",
    "probe/member-removes-role-policy",
];

const MEMBERS: [&str; 3] = ["222233334444", "333344445555", "444455556666"];

fn each_member(ids: &[&str]) -> BTreeSet<(String, String)> {
    MEMBERS
        .iter()
        .flat_map(|a| ids.iter().map(move |id| (a.to_string(), id.to_string())))
        .collect()
}

#[test]
fn hardened_guardrails_close_every_bypass_and_keep_the_exempted_in() {
    let (state, opts) = hardened();
    let r = check(&state, &opts);
    assert!(r.passed(), "{}", r.to_table());
    assert!(broken(&r).is_empty(), "{:?}", broken(&r));
    // Every member account is covered: two through the OU Workloads (one of them below it,
    // in Prod), one through its own attachment. Proofs that hold are kept for the
    // explained account only.
    for a in MEMBERS {
        let r = check(
            &state,
            &CheckOptions {
                explain_account: Some(a.to_string()),
                ..opts.clone()
            },
        );
        let held: BTreeSet<String> = r
            .proofs
            .iter()
            .filter(|p| p.holds && p.account.as_deref() == Some(a))
            .map(|p| p.id.clone())
            .collect();
        for want in MEMBER_PROBES.iter().chain(&[
            "admin/deploy:ssm:UpdateDocument",
            "admin/deploy:ssm:UpdateDocumentDefaultVersion",
            "admin/deploy:ssm:CreateDocument",
            "agent/ssm:StartSession",
            "agent/ssm:StartSession(port-forwarding)",
            "reader/s3:GetObject",
        ]) {
            assert!(held.contains(*want), "{a}: {want} not proven");
        }
    }
}

#[test]
fn the_seed_renders_no_guardrails_so_every_bypass_is_open() {
    let (state, opts) = setup(Profile::Seed, &format!("[\"{WORKLOADS}\"]"));
    assert!(state.scps.is_empty() && state.rcps.is_empty());
    let r = check(&state, &opts);
    let open: BTreeSet<(String, String)> = broken(&r)
        .into_iter()
        .filter(|(_, id)| id.starts_with("probe/member-"))
        .collect();
    assert_eq!(open, each_member(&MEMBER_PROBES));
    // The seed's bucket policy grants readers nothing (and everyone else's IAM may read).
    let b = broken(&r);
    assert!(b.contains(&(String::new(), "reader/s3:ListBucket".into())));
    assert!(b.contains(&(String::new(), "probe/non-reader-read".into())));
}

#[test]
fn guardrails_reach_exactly_the_accounts_below_where_they_attach() {
    // Attached to Workloads only: 444455556666, at the root, keeps every bypass.
    let (state, opts) = setup(Profile::Hardened, &format!("[\"{WORKLOADS}\"]"));
    let r = check(&state, &opts);
    let open: BTreeSet<String> = broken(&r)
        .into_iter()
        .map(|(a, id)| format!("{a} {id}"))
        .collect();
    let want: BTreeSet<String> = MEMBER_PROBES
        .iter()
        .map(|id| format!("444455556666 {id}"))
        .collect();
    assert_eq!(open, want);
    let f = r
        .findings
        .iter()
        .find(|f| f.message.contains("rewrites `SSM-SessionManagerRunShell`"))
        .unwrap();
    assert_eq!(f.account.as_deref(), Some("444455556666"));
    assert!(f.fix.contains("DenyPreferencesChanges"), "{}", f.fix);
}

fn scp(s: &mut State) -> &mut Value {
    let t = s.scps.iter_mut().find(|t| t.target == WORKLOADS).unwrap();
    &mut t
        .policies
        .iter_mut()
        .find(|p| p.name == GUARDRAIL_SCP)
        .unwrap()
        .document
}

/// Applies `mutate` to the guardrail SCP at every target.
fn everywhere(s: &mut State, mutate: &dyn Fn(&mut Value)) {
    for t in &mut s.scps {
        for p in &mut t.policies {
            if p.name == GUARDRAIL_SCP {
                mutate(&mut p.document);
            }
        }
    }
}

fn without(sid: &'static str) -> impl Fn(&mut Value) {
    move |doc: &mut Value| {
        let list = doc["Statement"].as_array_mut().unwrap();
        let before = list.len();
        list.retain(|st| st["Sid"] != sid);
        assert_eq!(list.len() + 1, before, "{sid}");
    }
}

#[test]
fn removing_each_guardrail_statement_opens_exactly_its_probes() {
    let cases: [(&str, &[&str]); 5] = [
        (
            "DenyPreferencesChanges",
            &[
                "probe/member-edits-preferences",
                "probe/member-redefaults-preferences",
                "probe/member-deletes-preferences",
            ],
        ),
        (
            "DenyNewDocuments",
            &["probe/member-creates-session-document"],
        ),
        (
            "DenyUnlistedSessionDocuments",
            &["probe/member-starts-unlisted-document"],
        ),
        (
            "DenyPortForwardingAndSsh",
            &["probe/member-port-forwarding", "probe/member-ssh"],
        ),
        (
            "DenyInstanceRolePolicyChanges",
            &["probe/member-removes-role-policy"],
        ),
    ];
    for (sid, probes) in cases {
        let (mut state, opts) = hardened();
        everywhere(&mut state, &without(sid));
        let r = check(&state, &opts);
        assert_eq!(broken(&r), each_member(probes), "{sid}");
        let f = r
            .findings
            .iter()
            .find(|f| f.rule == "probe-allowed")
            .unwrap();
        assert!(f.fix.contains(sid), "{sid}: {}", f.fix);
    }
}

#[test]
fn an_scp_without_the_deploy_exemption_locks_the_deploy_role_out() {
    let (mut state, opts) = hardened();
    let st = &mut scp(&mut state)["Statement"][0];
    assert_eq!(st["Sid"], "DenyPreferencesChanges");
    st.as_object_mut().unwrap().remove("Condition");
    let r = check(&state, &opts);
    let locked: BTreeSet<(String, String)> = broken(&r);
    let want: BTreeSet<(String, String)> = ["222233334444", "333344445555"]
        .iter()
        .flat_map(|a| {
            [
                "admin/deploy:ssm:UpdateDocument",
                "admin/deploy:ssm:UpdateDocumentDefaultVersion",
                "admin/deploy:ssm:CreateDocument",
            ]
            .map(|id| (a.to_string(), id.to_string()))
        })
        .collect();
    assert_eq!(locked, want);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "administrator-locked-out")
        .unwrap();
    assert!(
        f.message.contains(&format!("SCP `{GUARDRAIL_SCP}`"))
            && f.message.contains(&format!("OU `{WORKLOADS}`")),
        "{}",
        f.message
    );
}

/// What apply runs before writing a guardrail: the deploy-role proofs alone, the same
/// lockouts as the full check (and nothing else), the deciding SCP and its OU named.
#[test]
fn deploy_role_control_is_the_deploy_part_of_the_proof() {
    let (state, opts) = hardened();
    let deploy = opts.guardrails.as_ref().unwrap().deploy_roles.clone();
    let clean = ssmlog_check::deploy_role_control(&state, &deploy);
    assert!(clean.passed(), "{}", clean.to_table());
    assert_eq!(clean.rows.iter().map(|r| r.calls_ok).sum::<usize>(), 3 * 3);
    assert_eq!(clean.rows.iter().map(|r| r.probes_denied).sum::<usize>(), 0);

    let (mut state, opts) = hardened();
    scp(&mut state)["Statement"][0]
        .as_object_mut()
        .unwrap()
        .remove("Condition");
    let full = check(&state, &opts);
    let gate = ssmlog_check::deploy_role_control(&state, &deploy);
    assert!(!gate.passed());
    assert_eq!(broken(&gate), broken(&full));
    assert!(gate
        .findings
        .iter()
        .all(|f| f.rule == "administrator-locked-out"
            && f.message.contains(&format!("OU `{WORKLOADS}`"))
            && f.message.contains("DenyPreferencesChanges")));
    // Another role (apply's own), not exempt: locked out everywhere the SCP reaches.
    let (state, _) = hardened();
    let other = ["arn:aws:iam::*:role/OrganizationAccountAccessRole".to_string()];
    let gate = ssmlog_check::deploy_role_control(&state, &other);
    let accounts: BTreeSet<String> = gate
        .findings
        .iter()
        .filter_map(|f| f.account.clone())
        .collect();
    assert_eq!(
        accounts,
        ["222233334444", "333344445555", "444455556666"]
            .map(str::to_string)
            .into()
    );
}

#[test]
fn a_port_forwarding_principal_is_allowed_only_when_listed() {
    let (mut state, opts) = hardened();
    // The listed principal loses its exemption: its own port-forwarding proofs fail, nothing else.
    everywhere(&mut state, &|doc: &mut Value| {
        for st in doc["Statement"].as_array_mut().unwrap() {
            if st["Sid"] == "DenyPortForwardingAndSsh" {
                st.as_object_mut().unwrap().remove("Condition");
            }
        }
    });
    let r = check(&state, &opts);
    assert_eq!(
        broken(&r),
        each_member(&["agent/ssm:StartSession(port-forwarding)"])
    );
}

#[test]
fn readers_read_everything_and_nobody_else_reads() {
    // Key 1 needs nothing new: its organization grant through S3 (with this bucket's
    // encryption context) already covers readers; the bucket policy decides who reads.
    for (sid, key, want) in [
        (
            "AllowReadersToListAndReadLogs",
            false,
            vec!["reader/s3:ListBucket", "reader/s3:GetObject"],
        ),
        (
            "DenyLogReadsToNonReaders",
            false,
            vec!["probe/non-reader-read"],
        ),
    ] {
        let (mut state, opts) = hardened();
        let doc = if key {
            state.keys[0].policy.as_mut().unwrap()
        } else {
            state.bucket.policy.as_mut().unwrap()
        };
        without(sid)(doc);
        let r = check(&state, &opts);
        let ids: BTreeSet<String> = broken(&r).into_iter().map(|(_, id)| id).collect();
        let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
        assert_eq!(ids, want, "{sid}");
    }
}

#[test]
fn the_rcp_keeps_the_bucket_to_the_organization_whatever_its_policy_says() {
    let open_to_all = |s: &mut State| {
        s.bucket.policy.as_mut().unwrap()["Statement"]
            .as_array_mut()
            .unwrap()
            .push(json!({"Sid": "Oops", "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::central-session-logs-111122223333/*"}));
    };
    let (mut state, opts) = hardened();
    open_to_all(&mut state);
    let r = check(&state, &opts);
    assert!(!broken(&r).contains(&(String::new(), "probe/outsider-write".into())));
    // Without the RCP, the same bucket policy lets outsiders read.
    let (mut state, opts) = hardened();
    open_to_all(&mut state);
    for t in &mut state.rcps {
        t.policies.retain(|p| p.name != GUARDRAIL_RCP);
    }
    let r = check(&state, &opts);
    assert!(broken(&r).contains(&(String::new(), "probe/outsider-write".into())));
}

#[test]
fn the_guardrail_policies_pass_the_lints() {
    let (state, opts) = hardened();
    let r = check(&state, &opts);
    let lints: Vec<String> = r
        .findings
        .iter()
        .filter(|f| {
            f.rule.starts_with("lint/")
                && f.file
                    .as_deref()
                    .is_some_and(|f| f.starts_with("organization/"))
        })
        .map(|f| {
            format!(
                "{}: {} {}",
                f.rule,
                f.message,
                f.file.as_deref().unwrap_or("")
            )
        })
        .collect();
    assert!(lints.is_empty(), "{lints:#?}");
}
