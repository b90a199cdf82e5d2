//! `ssmlog logs` as a user runs it, on a generated corpus: output, JSON forms, exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

use ssmlog_logs::gen::{write_corpus, CorpusSpec};
use ssmlog_logs::{ExportRecord, GrepRecord, SessionRecord};

mod common;

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
    common::unversioned::<Ls>(&out(&o), "ssmlog.logs-ls/1").sessions
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
    assert!(text.starts_with("START (UTC) "), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 110), "{text}");
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
    let recs: Vec<GrepRecord> = common::unversioned_lines(&out(&o), "ssmlog.logs-grep/1");
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
    let recs: Vec<ExportRecord> = common::unversioned_lines(&out(&o), "ssmlog.logs-line/1");
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

/// Issue 11: the flags responders expect from a grep.
#[test]
fn grep_flags_like_grep() {
    let grep = |extra: &[&str]| {
        let mut args = vec!["logs", "grep", "--dir", corpus()];
        args.extend_from_slice(extra);
        let o = ssmlog(&args);
        assert!(matches!(o.status.code(), Some(0 | 1)), "{}", err(&o));
        out(&o)
    };
    let lines = |t: &str| t.lines().map(str::to_string).collect::<Vec<_>>();
    let plain = lines(&grep(&["Connection refused"]));
    assert!(plain.len() > 3);
    // -c: per session, summing to the lines; -l: the sessions.
    let counts = lines(&grep(&["-c", "Connection refused"]));
    let total: usize = counts
        .iter()
        .map(|l| l.rsplit(':').next().unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(total, plain.len());
    let files = lines(&grep(&["-l", "Connection refused"]));
    assert_eq!(files.len(), counts.len());
    assert!(files
        .iter()
        .all(|f| f.ends_with(".log") && plain.iter().any(|l| l.starts_with(&format!("{f}:")))));
    // -F takes the pattern literally; -e is repeatable.
    assert!(grep(&["-F", "[worker-1"]).lines().count() > 0);
    let o = ssmlog(&["logs", "grep", "--dir", corpus(), "[worker-1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("-F"), "{}", err(&o));
    let both = lines(&grep(&["-e", "Connection refused", "-e", "restart nginx"]));
    let nginx = lines(&grep(&["restart nginx"]));
    assert_eq!(both.len(), plain.len() + nginx.len());
    // -v: the other lines of a session, numbered as `show -n` numbers them.
    let s = sessions(&[])
        .into_iter()
        .find(|s| s.kind == "script")
        .unwrap();
    let numbered = ssmlog(&["logs", "show", "-n", "--dir", corpus(), &s.session]);
    let numbered = lines(&out(&numbered));
    let inverted = lines(&grep(&["--session", &s.session, "-v", "^$"]));
    let nonblank: Vec<String> = numbered
        .iter()
        .filter(|l| !l.split_once(':').unwrap().1.is_empty())
        .map(|l| format!("{}:{l}", s.key))
        .collect();
    assert_eq!(inverted, nonblank);
    // -A / -B: context on one side.
    let after = lines(&grep(&["--session", &s.session, "-A", "1", "-e", "."]));
    assert!(!after.is_empty());
    let b = grep(&["-B", "2", "restart nginx"]);
    assert!(b.lines().any(|l| l.contains(".log-")), "{b}");
    assert!(!grep(&["-A", "0", "-B", "0", "restart nginx"]).contains(".log-"));
    // --time: the session's start before each line.
    let timed = grep(&["--time", "--session", &s.session, "-e", "."]);
    let start = s.start.clone().unwrap();
    assert!(
        timed
            .lines()
            .all(|l| l.starts_with(&format!("{start} {}:", s.key))),
        "{timed}"
    );
    // Colour only when asked (stdout is a pipe here), never with NO_COLOR... and `never`.
    assert!(!grep(&["restart nginx"]).contains('\x1b'));
    let coloured = grep(&["--color", "always", "restart nginx"]);
    assert!(
        coloured.contains("\x1b[1;31mrestart nginx\x1b[0m"),
        "{coloured}"
    );
    assert!(!grep(&["--color", "never", "restart nginx"]).contains('\x1b'));
}

#[test]
fn show_numbers_and_json_and_ls_limit() {
    let all = sessions(&[]);
    assert_eq!(sessions(&["--limit", "2"]).len(), 2);
    assert_eq!(sessions(&["--limit", "2"])[0].session, all[0].session);
    let s = all.iter().find(|s| s.kind == "script").unwrap();
    let text = out(&ssmlog(&["logs", "show", "--dir", corpus(), &s.session]));
    let numbered = out(&ssmlog(&[
        "logs",
        "show",
        "-n",
        "--dir",
        corpus(),
        &s.session,
    ]));
    let want: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| format!("{}:{l}\n", i + 1))
        .collect();
    assert_eq!(numbered, want);
    // The line numbers grep prints are show -n's.
    let g = out(&ssmlog(&[
        "logs",
        "grep",
        "--dir",
        corpus(),
        "--session",
        &s.session,
        "ssm-user",
    ]));
    for l in g.lines() {
        let rest = l.strip_prefix(&format!("{}:", s.key)).unwrap();
        assert!(numbered.lines().any(|n| n == rest), "{l}");
    }
    let json = out(&ssmlog(&[
        "logs",
        "show",
        "--format",
        "json",
        "--dir",
        corpus(),
        &s.session,
    ]));
    let recs: Vec<ExportRecord> = common::unversioned_lines(&json, "ssmlog.logs-line/1");
    assert_eq!(recs.len(), text.lines().count());
    assert!(recs
        .iter()
        .enumerate()
        .all(|(i, r)| r.line == i + 1 && r.session == s.session && r.time == s.start));
    let o = ssmlog(&["logs", "show", "--raw", "-n", "--dir", corpus(), &s.session]);
    assert_eq!(o.status.code(), Some(2));
}

/// Issue 11: links are not followed unless `--follow`; a loop, a broken link or a file name
/// that is not UTF-8 is reported while the rest is listed and searched, and the run ends
/// with exit 2; a key with a newline does not break the table.
#[cfg(unix)]
#[test]
fn listing_problems_are_reported_and_the_rest_searched() {
    use std::os::unix::ffi::OsStrExt;
    let d = std::env::temp_dir().join(format!("ssmlog-cli-links-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let dir = d.join("111122223333/us-east-1");
    std::fs::create_dir_all(&dir).unwrap();
    let log = "Script started on 2026-11-23 10:15:00+00:00 [COMMAND=\"cat f\" <not executed on terminal>]\n$ echo exfil\r\r\nexfil\r\r\n\nScript done on 2026-11-23 10:16:00+00:00 [COMMAND_EXIT_CODE=\"0\"]\n";
    std::fs::write(dir.join("alice-0a1b2c3d4e5f67890.log"), log).unwrap();
    std::fs::write(dir.join("odd\nname-0a1b2c3d4e5f67891.log"), log).unwrap();
    std::os::unix::fs::symlink(d.join("111122223333"), dir.join("loop")).unwrap();
    std::os::unix::fs::symlink(d.join("nowhere.log"), dir.join("bob-0a1b2c3d4e5f67892.log"))
        .unwrap();
    let root = d.display().to_string();
    // Without --follow the links are passed over.
    let o = ssmlog(&["logs", "grep", "--dir", &root, "exfil"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o).lines().count(), 4, "{}", out(&o));
    assert!(
        out(&o).contains("/odd\\nname-0a1b2c3d4e5f67891.log:2:exfil\n"),
        "{}",
        out(&o)
    );
    // With it, the loop and the broken link are reported, the rest searched, exit 2.
    let o = ssmlog(&["logs", "grep", "-L", "--dir", &root, "exfil"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(out(&o).lines().count(), 4, "{}", out(&o));
    let e = err(&o);
    assert!(
        e.contains("loop") && e.contains("broken symbolic link"),
        "{e}"
    );
    assert!(
        e.contains("2 part(s) of the source could not be listed"),
        "{e}"
    );
    // A file name that is not UTF-8 is reported by ls, which lists the rest.
    std::fs::write(dir.join(std::ffi::OsStr::from_bytes(b"x\xff.log")), log).unwrap();
    let o = ssmlog(&["logs", "ls", "--dir", &root]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("not UTF-8"), "{}", err(&o));
    let table = out(&o);
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(table.contains("odd\\nname-0a1b2c3d4e5f67891"), "{table}");
    let _ = std::fs::remove_dir_all(&d);
}
