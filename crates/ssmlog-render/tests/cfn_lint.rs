//! cfn-lint (PyPI) on every exported template (log-archive, member StackSet, and the session
//! key's replica when there is one), in both profiles. Runs when `cfn-lint` is on
//! PATH; with `SSMLOG_REQUIRE_TOOLS=1` a missing cfn-lint fails the test instead of
//! skipping it, so CI cannot pass without really linting.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

use ssmlog_render::{
    cloudformation, parse_config, Profile, EXAMPLE_CONFIG, LOG_ARCHIVE_TEMPLATE, MEMBER_TEMPLATE,
    ORGANIZATION_TEMPLATE, REPLICA_TEMPLATE,
};

fn cfn_lint_available() -> bool {
    Command::new("cfn-lint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn lint(config_text: &str, label: &str) {
    if !cfn_lint_available() {
        if std::env::var_os("SSMLOG_REQUIRE_TOOLS").is_some_and(|v| v == "1") {
            panic!("cfn-lint is not on PATH and SSMLOG_REQUIRE_TOOLS=1: install it with `pip install cfn-lint`");
        }
        eprintln!(
            "skipping: cfn-lint is not on PATH (set SSMLOG_REQUIRE_TOOLS=1 to make this fail)"
        );
        return;
    }
    let cfg = parse_config("ssmlog.toml", config_text).unwrap();
    for profile in [Profile::Hardened, Profile::Seed] {
        let dir: PathBuf = std::env::temp_dir().join(format!(
            "ssmlog-cfn-lint-{label}-{}-{}",
            profile.as_str(),
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let files = cloudformation(&cfg, profile).unwrap();
        let paths: Vec<PathBuf> = files
            .iter()
            .map(|(name, bytes)| {
                let p = dir.join(name);
                std::fs::write(&p, bytes).unwrap();
                p
            })
            .collect();
        assert!(
            files.contains_key(LOG_ARCHIVE_TEMPLATE) && files.contains_key(MEMBER_TEMPLATE),
            "{:?}",
            files.keys()
        );
        let out = Command::new("cfn-lint").args(&paths).output().unwrap();
        // cfn-lint exit code is a bit mask: 2 errors, 4 warnings, 8 informational.
        let code = out.status.code().unwrap_or(1);
        assert!(
            code & !8 == 0,
            "cfn-lint exit {code} on the {} templates of {label}:\n{}{}",
            profile.as_str(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn example_templates_pass_cfn_lint() {
    // The hardened session key is multi-Region: its replica has a template of its own.
    let cfg = parse_config("ssmlog.toml", EXAMPLE_CONFIG).unwrap();
    let hardened = cloudformation(&cfg, Profile::Hardened).unwrap();
    assert!(hardened.contains_key(REPLICA_TEMPLATE));
    let seed = cloudformation(&cfg, Profile::Seed).unwrap();
    assert!(!seed.contains_key(REPLICA_TEMPLATE));
    lint(EXAMPLE_CONFIG, "example");
}

#[test]
fn single_key_and_existing_multi_region_session_key_templates_pass_cfn_lint() {
    let single = EXAMPLE_CONFIG
        .replace("mode = \"two-keys\"", "mode = \"single-key\"")
        .replace(
            "[keys.session]\nalias = \"alias/ssmlog-session-data\"\nadministrators = [\"arn:aws:iam::111122223333:role/KeyAdministrator\"]\n",
            "",
        );
    assert!(!single.contains("\n[keys.session]\n"));
    lint(&single, "single-key");
    let existing = EXAMPLE_CONFIG.replace(
        "[keys.session]\n",
        "[keys.session]\narn = \"arn:aws:kms:eu-west-1:111122223333:key/mrk-0123456789abcdef0123456789abcdef\"\n",
    );
    let cfg = parse_config("ssmlog.toml", &existing).unwrap();
    let files = cloudformation(&cfg, Profile::Hardened).unwrap();
    // Replicas of a key ssmlog does not create are managed where the key is.
    assert!(!files.contains_key(REPLICA_TEMPLATE));
    let member = String::from_utf8(files[MEMBER_TEMPLATE].clone()).unwrap();
    assert!(
        member.contains("\"Default\": \"mrk-0123456789abcdef0123456789abcdef\""),
        "{member}"
    );
    lint(&existing, "existing-mrk");
}

#[test]
fn created_role_object_lock_and_existing_key_templates_pass_cfn_lint() {
    let text = EXAMPLE_CONFIG
        .replace(
            "# create = \"SSMLogInstanceRole\"",
            "create = \"SSMLogInstanceRole\"",
        )
        .replace(
            "# [bucket.object_lock]\n# mode",
            "[bucket.object_lock]\nmode",
        )
        .replace("# days = 365", "days = 365")
        .replace(
            "# arn = \"arn:aws:kms:eu-west-1:111122223333:key/",
            "arn = \"arn:aws:kms:eu-west-1:111122223333:key/",
        );
    assert!(
        text.contains("\ncreate = ")
            && text.contains("\n[bucket.object_lock]")
            && text.contains("\narn = ")
    );
    lint(&text, "variant");
}

#[test]
fn guardrail_policies_are_exported_attached_where_the_state_attaches_them_and_pass_cfn_lint() {
    let text = EXAMPLE_CONFIG.replacen(
        "# streaming_enabled = true",
        "# streaming_enabled = true\n[guardrails]\nattach_to = [\"r-ab12\", \"444455556666\"]\ndeploy_roles = [\"arn:aws:iam::*:role/ssmlog-deploy\"]\n",
        1,
    );
    let cfg = parse_config("ssmlog.toml", &text).unwrap();
    let files = cloudformation(&cfg, Profile::Hardened).unwrap();
    let t: serde_json::Value = serde_json::from_slice(&files[ORGANIZATION_TEMPLATE]).unwrap();
    let state = ssmlog_render::render(&cfg, Profile::Hardened);
    let scp = &t["Resources"]["GuardrailScp"]["Properties"];
    assert_eq!(scp["Type"], "SERVICE_CONTROL_POLICY");
    assert_eq!(
        scp["TargetIds"],
        serde_json::json!(["444455556666", "r-ab12"])
    );
    let in_state = state.scps[0]
        .policies
        .iter()
        .find(|p| p.name == "ssmlog-session-guardrails")
        .unwrap();
    assert_eq!(scp["Content"], in_state.document);
    let rcp = &t["Resources"]["PerimeterRcp"]["Properties"];
    assert_eq!(rcp["Type"], "RESOURCE_CONTROL_POLICY");
    assert_eq!(rcp["TargetIds"], serde_json::json!(["111122223333"]));
    // The AWS-managed full-access policies are never created.
    assert_eq!(t["Resources"].as_object().unwrap().len(), 2);
    assert!(!cloudformation(&cfg, Profile::Seed)
        .unwrap()
        .contains_key(ORGANIZATION_TEMPLATE));
    assert!(!cloudformation(
        &parse_config("ssmlog.toml", EXAMPLE_CONFIG).unwrap(),
        Profile::Hardened
    )
    .unwrap()
    .contains_key(ORGANIZATION_TEMPLATE));
    lint(&text, "guardrails");
}

#[test]
fn network_endpoints_template_passes_cfn_lint_and_the_s3_gateway_is_bucket_region_only() {
    let text = format!(
        "{EXAMPLE_CONFIG}\n[network]\nexpected = [\"222233334444\"]\ncreate_endpoints = true\n"
    );
    let cfg = parse_config("ssmlog.toml", &text).unwrap();
    let n = cfg.network.clone().unwrap();
    assert_eq!(n.expected, vec!["222233334444"]);
    let files = cloudformation(&cfg, Profile::Hardened).unwrap();
    let member: serde_json::Value = serde_json::from_slice(&files[MEMBER_TEMPLATE]).unwrap();
    for (id, svc) in [
        ("EndpointSsm", "ssm"),
        ("EndpointSsmMessages", "ssmmessages"),
        ("EndpointEc2Messages", "ec2messages"),
        ("EndpointKms", "kms"),
    ] {
        let e = &member["Resources"][id]["Properties"];
        assert_eq!(e["VpcEndpointType"], "Interface");
        assert_eq!(e["PrivateDnsEnabled"], true);
        assert_eq!(
            e["ServiceName"]["Fn::Sub"],
            format!("com.amazonaws.${{AWS::Region}}.{svc}")
        );
    }
    let s3 = &member["Resources"]["EndpointS3"];
    assert_eq!(s3["Properties"]["VpcEndpointType"], "Gateway");
    assert_eq!(s3["Condition"], "InBucketRegion");
    assert_eq!(
        member["Conditions"]["InBucketRegion"]["Fn::Equals"][1],
        "eu-west-1"
    );
    // Without `create_endpoints`, no endpoint.
    let plain = parse_config("ssmlog.toml", EXAMPLE_CONFIG).unwrap();
    let files = cloudformation(&plain, Profile::Hardened).unwrap();
    let member = String::from_utf8(files[MEMBER_TEMPLATE].clone()).unwrap();
    assert!(!member.contains("AWS::EC2::VPCEndpoint"));
    lint(&text, "network");
}
