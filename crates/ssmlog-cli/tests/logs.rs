//! `ssmlog logs` as a user runs it, on a generated corpus: output, JSON forms, exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

use ssmlog_logs::gen::{write_corpus, CorpusSpec};
use ssmlog_logs::{ExportRecord, GrepRecord, SessionRecord};

fn ssmlog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ssmlog"))
        .args(args)
        .env_remove("SSMLOG_LOGS_DIR")
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A generated corpus (3 accounts, 2 regions, about 400 KB), made once per test binary.
fn corpus() -> &'static str {
    static DIR: OnceLock<String> = OnceLock::new();
    DIR.get_or_init(|| {
        let d: PathBuf =
            std::env::temp_dir().join(format!("ssmlog-cli-logs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let spec = CorpusSpec {
            seed: 11,
            target_bytes: 400_000,
            ..CorpusSpec::default()
        };
        write_corpus(&d, &spec).unwrap();
        d.display().to_string()
    })
}

fn sessions(extra: &[&str]) -> Vec<SessionRecord> {
    let mut args = vec!["logs", "ls", "--dir", corpus(), "--format", "json"];
    args.extend_from_slice(extra);
    let o = ssmlog(&args);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Ls {
        sessions: Vec<SessionRecord>,
    }
    serde_json::from_str::<Ls>(&out(&o)).unwrap().sessions
}

#[test]
fn ls_lists_newest_first_with_a_table_and_json() {
    let all = sessions(&[]);
    assert!(all.len() > 5);
    let starts: Vec<&str> = all.iter().map(|s| s.start.as_deref().unwrap()).collect();
    let mut sorted = starts.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(starts, sorted);
    assert!(all.iter().any(|s| s.kind == "powershell"));
    let o = ssmlog(&["logs", "ls", "--dir", corpus()]);
    let text = out(&o);
    assert!(text.starts_with("START "), "{text}");
    assert!(text.contains(&all[0].session), "{text}");
    // Filters.
    let account = all[0].account.clone().unwrap();
    let only = sessions(&["--account", &account]);
    assert!(!only.is_empty() && only.iter().all(|s| s.account.as_deref() == Some(&account)));
    let user = all[0].user.clone().unwrap();
    assert!(sessions(&["--user", &user])
        .iter()
        .all(|s| s.user.as_deref() == Some(&user)));
    assert!(sessions(&["--since", "2099-01-01"]).is_empty());
    assert_eq!(sessions(&["--until", "2099-01-01"]).len(), all.len());
}

#[test]
fn show_cleans_by_unique_prefix_and_raw_keeps_bytes() {
    let all = sessions(&[]);
    let s = all.iter().find(|s| s.kind == "script").unwrap();
    let o = ssmlog(&["logs", "show", "--dir", corpus(), &s.session]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let text = out(&o);
    assert!(!text.contains('\x1b') && !text.contains('\r'));
    assert!(!text.contains("Script started on"));
    let raw = ssmlog(&["logs", "show", "--raw", "--dir", corpus(), &s.key]);
    assert!(out(&raw).starts_with("Script started on"));
    // A unique prefix works; an ambiguous one names the candidates.
    let unique = &s.session[..s.session.len() - 2];
    let o = ssmlog(&["logs", "show", "--dir", corpus(), unique]);
    assert_eq!(out(&o), text);
    let shared = all
        .iter()
        .find(|x| all.iter().filter(|y| y.user == x.user).count() > 1)
        .and_then(|x| x.user.clone())
        .unwrap();
    let o = ssmlog(&["logs", "show", "--dir", corpus(), &shared]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("matches"), "{}", err(&o));
    let o = ssmlog(&["logs", "show", "--dir", corpus(), "nobody-123"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("no session `nobody-123`"), "{}", err(&o));
    assert!(err(&o).contains("ssmlog logs ls"), "{}", err(&o));
}

#[test]
fn grep_exit_codes_context_and_json() {
    let o = ssmlog(&[
        "logs",
        "grep",
        "--dir",
        corpus(),
        "-i",
        "RESTART NGINX",
        "-C",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let text = out(&o);
    assert!(
        text.lines().any(|l| l.contains(".log-")),
        "context lines: {text}"
    );
    assert!(text.lines().any(|l| l == "--"), "group separator: {text}");
    assert!(
        text.lines()
            .any(|l| l.contains(".log:") && l.ends_with("$ sudo systemctl restart nginx")),
        "{text}"
    );
    let o = ssmlog(&["logs", "grep", "--dir", corpus(), "no such text anywhere"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).is_empty());
    let o = ssmlog(&["logs", "grep", "--dir", corpus(), "(unclosed"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("not a valid regular expression"),
        "{}",
        err(&o)
    );
    let o = ssmlog(&[
        "logs",
        "grep",
        "--dir",
        corpus(),
        "--format",
        "json",
        "Connection refused",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let recs: Vec<GrepRecord> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!recs.is_empty());
    assert!(recs
        .iter()
        .all(|r| r.text.contains("Connection refused") && r.line > 0));
    assert!(recs
        .iter()
        .all(|r| r.account.is_some() && r.region.is_some()));
}

#[test]
fn export_jsonl_reads_back() {
    let all = sessions(&[]);
    let s = &all[0];
    let o = ssmlog(&["logs", "export", "--dir", corpus(), "--session", &s.session]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let recs: Vec<ExportRecord> = out(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!recs.is_empty());
    assert!(recs
        .iter()
        .all(|r| r.session == s.session && r.time == s.start));
    let lines: Vec<usize> = recs.iter().map(|r| r.line).collect();
    assert_eq!(lines, (1..=recs.len()).collect::<Vec<_>>());
}

#[test]
fn bad_input_exits_2_and_says_how_to_fix() {
    let o = ssmlog(&["logs", "ls"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--dir DIR"), "{}", err(&o));
    let o = ssmlog(&["logs", "ls", "--dir", "/nonexistent/ssmlog"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("/nonexistent/ssmlog") && err(&o).contains("aws s3 sync"),
        "{}",
        err(&o)
    );
    let o = ssmlog(&["logs", "ls", "--dir", corpus(), "--since", "yesterday"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--since"), "{}", err(&o));
    let o = ssmlog(&["logs", "ls", "--dir", corpus(), "--account", "12"]);
    assert_eq!(o.status.code(), Some(2));
}
