//! cfn-lint (PyPI) on both exported templates, in both profiles. Runs when `cfn-lint` is on
//! PATH; with `SSMLOG_REQUIRE_TOOLS=1` a missing cfn-lint fails the test instead of
//! skipping it, so CI cannot pass without really linting.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

use ssmlog_render::{cloudformation, parse_config, Profile, EXAMPLE_CONFIG};

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
        assert_eq!(paths.len(), 2);
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
    lint(EXAMPLE_CONFIG, "example");
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
