//! `ssmlog completions` and `ssmlog man` as a packager runs them: the scripts and pages come
//! from the same clap definitions as the parser, so every command and flag is in them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn ssmlog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ssmlog"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const COMMANDS: [&str; 12] = [
    "iam",
    "init",
    "render",
    "check",
    "logs",
    "pull",
    "plan",
    "apply",
    "verify",
    "canary",
    "completions",
    "man",
];

#[test]
fn bash_completion_is_valid_bash_and_completes_every_command_and_flag() {
    let o = ssmlog(&["completions", "bash"]);
    assert_eq!(o.status.code(), Some(0));
    let script = stdout(&o);
    // bash parses it without running it.
    let mut bash = Command::new("bash")
        .args(["-n"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    bash.stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let checked = bash.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&checked.stderr)
    );
    for c in COMMANDS {
        assert!(script.contains(c), "bash completion lacks `{c}`");
    }
    // Flags of nested commands too (logs grep, check).
    for flag in ["--baseline", "--color", "--expect-network", "--exit-zero"] {
        assert!(script.contains(flag), "bash completion lacks `{flag}`");
    }
}

#[test]
fn every_shell_gets_a_script_and_an_unknown_shell_is_refused() {
    for (shell, marker) in [
        ("zsh", "#compdef ssmlog"),
        ("fish", "complete -c ssmlog"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[ssmlog]"),
    ] {
        let o = ssmlog(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        assert!(stdout(&o).contains(marker), "{shell}: {}", stdout(&o));
    }
    let o = ssmlog(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("possible values"));
}

#[test]
fn man_writes_a_page_per_command_with_its_flags() {
    let dir = std::env::temp_dir().join(format!("ssmlog-cli-man-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let o = ssmlog(&["man", "--out", dir.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let page = |name: &str| std::fs::read_to_string(dir.join(format!("{name}.1"))).unwrap();
    assert!(page("ssmlog").contains(".TH ssmlog 1"));
    for c in COMMANDS {
        let p = page(&format!("ssmlog-{c}"));
        assert!(p.contains(&format!(".TH ssmlog-{c} 1")), "{c}: {p}");
    }
    // Nested pages, each with its own flags (roff escapes the dashes).
    assert!(page("ssmlog-logs-grep").contains(r"\-\-color"));
    assert!(page("ssmlog-check").contains(r"\-\-baseline"));
    assert!(page("ssmlog-iam-eval").contains(r"\-\-exit\-zero"));
    // clap's own `help` subcommand gets no page.
    assert!(!dir.join("ssmlog-help.1").exists());
    let _ = std::fs::remove_dir_all(&dir);

    // Without --out, the top-level page on standard output.
    let o = ssmlog(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    let top = stdout(&o);
    assert!(top.contains(".SH SUBCOMMANDS"), "{top}");
    assert!(top.contains(r"ssmlog\-check(1)"), "{top}");
}

#[test]
fn man_into_an_unwritable_place_names_it_and_exits_2() {
    let o = ssmlog(&["man", "--out", "/proc/ssmlog-cannot-write-here"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/proc/ssmlog-cannot-write-here"));
}
