//! `ssmlog check --format html` loaded in headless Chromium (Debian's `chromium`, installed
//! by scripts/install-tools.sh): the DOM of the example config's page is all green, and a
//! State whose instance role cannot upload under its own prefix shows exactly those cells red,
//! each opening the failed request, its statements and the fix. The page is self-contained
//! (no scripts, no external assets) and loaded with networking off.
//!
//! Without `chromium` on PATH the test skips, unless `SSMLOG_REQUIRE_TOOLS=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn ssmlog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ssmlog"))
        .args(args)
        .output()
        .unwrap()
}

fn example() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/ssmlog.toml")
        .display()
        .to_string()
}

/// Is Chromium here? When it is not and `SSMLOG_REQUIRE_TOOLS=1`, fails instead.
fn chromium() -> bool {
    let found = Command::new("chromium")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("SSMLOG_REQUIRE_TOOLS").is_none_or(|v| v != "1"),
            "`chromium` is not on PATH and SSMLOG_REQUIRE_TOOLS=1: run scripts/install-tools.sh"
        );
        eprintln!(
            "skipping: `chromium` is not on PATH (set SSMLOG_REQUIRE_TOOLS=1 to make this fail)"
        );
    }
    found
}

/// The page's DOM as headless Chromium builds it from `page`.
fn dom(page: &Path, profile: &Path) -> String {
    let o = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// The opening tags of the red cells of the table `id`.
fn red_cells(dom: &str, id: &str) -> Vec<String> {
    let start = dom
        .find(&format!("<table id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no table {id}"));
    let table = &dom[start..start + dom[start..].find("</table>").unwrap()];
    table
        .match_indices("<td class=\"fail\"")
        .map(|(i, _)| table[i..i + table[i..].find('>').unwrap() + 1].to_string())
        .collect()
}

/// Nothing a browser would fetch: no scripts, links, images, imports or URLs.
fn assert_self_contained(html: &str) {
    for needle in [
        "<script", "<link", "<img", "src=", "href=", "url(", "@import",
    ] {
        assert!(!html.contains(needle), "the page has `{needle}`");
    }
}

#[test]
fn the_html_report_shows_red_cells_where_calls_fail() {
    if !chromium() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("ssmlog-html-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("profile");

    // The example config: every cell green.
    let o = ssmlog(&["check", "--config", &example(), "--format", "html"]);
    assert_eq!(o.status.code(), Some(0));
    let html = String::from_utf8(o.stdout).unwrap();
    assert_self_contained(&html);
    let green: PathBuf = dir.join("example.html");
    std::fs::write(&green, &html).unwrap();
    let page = dom(&green, &profile);
    assert!(
        page.contains("<h1 id=\"verdict\" class=\"ok\">ssmlog check: PASSED</h1>"),
        "{}",
        &page[..page.len().min(2000)]
    );
    assert_eq!(red_cells(&page, "calls"), Vec::<String>::new());
    assert_eq!(red_cells(&page, "account-wide"), Vec::<String>::new());
    // 3 accounts x 2 regions, each with the agent's upload proven and openable.
    for account in ["222233334444", "333344445555", "444455556666"] {
        for region in ["eu-west-1", "us-east-1"] {
            let cell = format!("<td class=\"ok\" data-account=\"{account}\" data-region=\"{region}\" data-call=\"agent/s3:PutObject\"><details><summary>");
            assert!(page.contains(&cell), "{cell}");
        }
    }

    // A State where one account's instance role writes under another account's prefix.
    let state = dir.join("state");
    let o = ssmlog(&[
        "render",
        "--config",
        &example(),
        "--out",
        state.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let role = state
        .join("accounts/222233334444/roles/SSMInstanceRole/policies/SSMLogSessionLogging.json");
    let text = std::fs::read_to_string(&role).unwrap();
    let broken = text.replace(
        "central-session-logs-111122223333/222233334444/*",
        "central-session-logs-111122223333/333344445555/*",
    );
    assert_ne!(text, broken);
    std::fs::write(&role, broken).unwrap();
    let o = ssmlog(&["check", state.to_str().unwrap(), "--format", "html"]);
    assert_eq!(o.status.code(), Some(1));
    let html = String::from_utf8(o.stdout).unwrap();
    assert_self_contained(&html);
    let red = dir.join("broken.html");
    std::fs::write(&red, &html).unwrap();
    let page = dom(&red, &profile);
    assert!(page.contains("<h1 id=\"verdict\" class=\"fail\">ssmlog check: FAILED</h1>"));
    let cell = |region: &str, call: &str| {
        format!("<td class=\"fail\" data-account=\"222233334444\" data-region=\"{region}\" data-call=\"agent/{call}\">")
    };
    assert_eq!(
        red_cells(&page, "calls"),
        [
            cell("eu-west-1", "s3:PutObject"),
            cell("eu-west-1", "s3:PutObjectAcl"),
            cell("us-east-1", "s3:PutObject"),
            cell("us-east-1", "s3:PutObjectAcl"),
        ]
    );
    // The red cell opens the failed request, the statement that matched, what was missing
    // and the fix naming the role.
    let at = page.find(&cell("eu-west-1", "s3:PutObject")).unwrap();
    let content = &page[at..at + page[at..].find("</td>").unwrap()];
    assert!(
        content.contains("<details><summary>✗</summary><p><b>FAILS</b>"),
        "{content}"
    );
    assert!(
        content.contains("assumed-role/SSMInstanceRole/"),
        "{content}"
    );
    assert!(
        content.contains("expected Allowed, got ImplicitlyDenied"),
        "{content}"
    );
    assert!(
        content.contains("of <code>log-archive/bucket-policy.json</code>"),
        "{content}"
    );
    assert!(
        content.contains("<p class=\"fix\">fix: allow `s3:PutObject` on `arn:aws:s3:::central-session-logs-111122223333/222233334444/eu-west-1/*` in a policy of role `SSMInstanceRole` in account 222233334444"),
        "{content}"
    );
    // And the finding is listed, openable.
    assert!(page.contains("<li class=\"error\" data-rule=\"agent-call-denied\"><details><summary>error[agent-call-denied] [222233334444 eu-west-1]: s3:PutObject by"));
    let _ = std::fs::remove_dir_all(&dir);
}
