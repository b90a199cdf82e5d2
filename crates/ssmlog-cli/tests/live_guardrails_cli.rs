//! Issue 12 through the `ssmlog` binary against moto: `plan` shows the Organizations
//! changes; guardrails that would lock out the role apply acts as are refused by `plan` and
//! `apply --yes` (exit 1, the deciding statement named) before anything at all is written;
//! with that role listed, `apply --yes` attaches them and `verify` shows them attached.
//!
//! Skips without `moto_server`/`aws`, unless `SSMLOG_REQUIRE_TOOLS=1`.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test: a failure is the report"
)]

use std::path::Path;
use std::process::Output;

use ssmlog_aws::{Status, Verification};
use ssmlog_moto::{ConfigShape, Moto};

mod common;

fn ssmlog(moto: &Moto, config: &Path, args: &[&str]) -> Output {
    common::live(moto, config, args)
}

#[test]
fn guardrails_locking_out_apply_are_refused_before_any_write_then_applied_and_verified() {
    let Some(moto) = Moto::start() else { return };
    let org = moto.organization(&["dev"]);
    let roots = moto.aws(None, &["organizations", "list-roots"]);
    let root = roots["Roots"][0]["Id"].as_str().unwrap().to_string();
    let dir = std::env::temp_dir().join(format!("ssmlog-live-guardrails-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("ssmlog.toml");
    let base = org.config_text(&ConfigShape {
        regions: &["eu-west-1"],
        ..ConfigShape::default()
    });
    let with = |deploy: &str| {
        format!("{base}[guardrails]\nattach_to = [\"{root}\"]\ndeploy_roles = [{deploy}]\n")
    };

    // Only the StackSets role exempt: apply (as OrganizationAccountAccessRole) would lock
    // itself out of the preferences.
    std::fs::write(&config, with("\"arn:aws:iam::*:role/stacksets-exec-*\"")).unwrap();
    for args in [&["plan"][..], &["apply", "--yes"][..]] {
        let out = ssmlog(&moto, &config, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        for part in [
            "refusing to write the guardrails",
            "OrganizationAccountAccessRole",
            "statement `DenyPreferencesChanges`",
            "add it to `guardrails.deploy_roles`",
        ] {
            assert!(stderr.contains(part), "{args:?}: {part}: {stderr}");
        }
    }
    // Nothing at all was written: no bucket, no key, no policy.
    let la = moto.assume(&org.log_archive);
    let buckets = moto.aws(Some(&la), &["s3api", "list-buckets"]);
    assert_eq!(buckets["Buckets"].as_array().map_or(0, Vec::len), 0);
    let policies = moto.aws(
        None,
        &[
            "organizations",
            "list-policies",
            "--filter",
            "SERVICE_CONTROL_POLICY",
        ],
    );
    assert!(
        !policies.to_string().contains("ssmlog-session-guardrails"),
        "{policies}"
    );

    // Listed: plan shows the Organizations changes, apply writes them, verify sees them.
    std::fs::write(
        &config,
        with("\"arn:aws:iam::*:role/stacksets-exec-*\", \"arn:aws:iam::*:role/OrganizationAccountAccessRole\""),
    )
    .unwrap();
    let plan = ssmlog(&moto, &config, &["plan"]);
    let stdout = String::from_utf8_lossy(&plan.stdout);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    for line in [
        format!("+ create organization root {root} policy type SERVICE_CONTROL_POLICY"),
        "+ create SCP ssmlog-session-guardrails [".to_string(),
        format!("+ create SCP ssmlog-session-guardrails attached to root `{root}`"),
        "note: AWS then attaches FullAWSAccess".to_string(),
    ] {
        assert!(stdout.contains(&line), "{line}\n{stdout}");
    }
    let applied = ssmlog(&moto, &config, &["apply", "--yes"]);
    assert_eq!(
        applied.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let again = ssmlog(&moto, &config, &["apply", "--yes"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to do"));
    let verified = ssmlog(&moto, &config, &["verify", "--format", "json"]);
    let text = String::from_utf8_lossy(&verified.stdout);
    let v: Verification = common::unversioned(&text, "ssmlog.verify/1");
    // The guardrail rows are part of the documented schema too.
    let file = std::env::temp_dir().join(format!(
        "ssmlog-verify-guardrails-{}.json",
        std::process::id()
    ));
    std::fs::write(&file, text.as_bytes()).unwrap();

    // canary --as-role a member administrator: each call the guardrails must deny is tried
    // and, moto enforcing no SCP, reported not denied (exit 1); the JSON carries the probes
    // in the documented schema.
    moto.account_role(&org.members[0], "MemberAdministrator");
    let canary = ssmlog(
        &moto,
        &config,
        &[
            "canary",
            "--as-role",
            "MemberAdministrator",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        canary.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&canary.stderr)
    );
    let canary_text = String::from_utf8_lossy(&canary.stdout).into_owned();
    let report: serde_json::Value = common::unversioned(&canary_text, "ssmlog.canary/1");
    let probes = report["rows"][0]["guardrailProbes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        probes
            .iter()
            .any(|p| p["call"] == "ssm:UpdateDocument" && p["outcome"] == "not-denied"),
        "{canary_text}"
    );
    let canary_file = dir.join("canary.json");
    std::fs::write(&canary_file, &canary_text).unwrap();
    if let Some(result) = common::validate_against_schemas(&[file.clone(), canary_file]) {
        let report = result.unwrap_or_else(|e| panic!("{e}"));
        assert!(report.contains("2 documents checked, 0 failed"), "{report}");
    }
    let _ = std::fs::remove_file(&file);
    let rows: Vec<(&str, &str, Status)> = v
        .guardrails
        .iter()
        .map(|g| (g.policy.as_str(), g.target.as_str(), g.status))
        .collect();
    assert_eq!(
        rows,
        [
            ("ssmlog-session-guardrails", root.as_str(), Status::Ok),
            (
                "ssmlog-log-archive-perimeter",
                org.log_archive.as_str(),
                Status::Ok
            )
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
