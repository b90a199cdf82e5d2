//! Listing, search and export on small hand-made and generated directories.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};

mod common;

use common::clean_in_pieces;
use ssmlog_logs::gen::{write_corpus, CorpusSpec};
use ssmlog_logs::{
    export, list_sessions, parse_user_time, search, ExportRecord, Filter, GrepRecord, LocalDir,
    SearchOptions, SessionRecord, TextCursor,
};

/// A fresh directory per call: tests run in parallel and several build the same corpus.
fn tmp(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("ssmlog-logs-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn put(root: &Path, key: &str, body: &str) {
    let p = root.join(key);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

fn script(start: &str, end: &str, body: &str) -> String {
    format!("Script started on {start}+00:00 [TERM=\"xterm\"]\n{body}\nScript done on {end}+00:00 [COMMAND_EXIT_CODE=\"0\"]\n")
}

/// Three sessions in two accounts, one in the seed layout, one object that is not a log.
fn small() -> PathBuf {
    let d = tmp("small");
    put(&d, "111122223333/us-east-1/alice-0a1b2c3d4e5f67890.log", &script("2026-11-20 10:00:00", "2026-11-20 10:30:00",
        "$ sudo -i\r\n[root]# cat /etc/shadow\r\ncat: /etc/shadow: Permission denied\r\n[root]# exit\r\n"));
    put(
        &d,
        "222233334444/eu-west-1/bob@example.com-0123456789abcdef0.log",
        &script(
            "2026-11-22 08:00:00",
            "2026-11-22 08:05:00",
            "$ echo \x1b[31mhello\x1b[0m\r\nhello\r\n$ rm -rf /tmp/x\r\n$ exit\r\n",
        ),
    );
    put(
        &d,
        "222233334444/us-east-1/alice-ffffffffffffffff0.log",
        &script(
            "2026-11-21 12:00:00",
            "2026-11-21 12:10:00",
            "$ ls\r\na\r\nb\r\nc\r\nd\r\n$ grep PERMISSION x\r\n$ exit\r\n",
        ),
    );
    put(
        &d,
        "carol-00000000000000001.log",
        &script("2026-11-19 00:00:00", "2026-11-19 00:01:00", "$ id\r\n"),
    );
    put(&d, "222233334444/readme.txt", "not a log");
    d
}

fn keys(d: &Path, f: &Filter) -> Vec<String> {
    let src = LocalDir::new(d).unwrap();
    list_sessions(&src, f, true, 2)
        .unwrap()
        .into_iter()
        .map(|s| s.key.session)
        .collect()
}

#[test]
fn ls_sorts_newest_first_and_filters() {
    let d = small();
    let all = keys(&d, &Filter::default());
    assert_eq!(
        all,
        [
            "bob@example.com-0123456789abcdef0",
            "alice-ffffffffffffffff0",
            "alice-0a1b2c3d4e5f67890",
            "carol-00000000000000001"
        ]
    );
    let f = |mut f: Filter, g: &dyn Fn(&mut Filter)| {
        g(&mut f);
        keys(&d, &f)
    };
    let base = Filter::default();
    assert_eq!(
        f(base.clone(), &|f| f.account = Some("222233334444".into())).len(),
        2
    );
    assert_eq!(
        f(base.clone(), &|f| f.region = Some("us-east-1".into())).len(),
        2
    );
    assert_eq!(
        f(base.clone(), &|f| f.user = Some("ALICE".into())),
        ["alice-ffffffffffffffff0", "alice-0a1b2c3d4e5f67890"]
    );
    assert_eq!(
        f(base.clone(), &|f| f.session = Some("bob@".into())).len(),
        1
    );
    let t = |s: &str| parse_user_time(s, 0).unwrap();
    assert_eq!(
        f(base.clone(), &|f| f.since = Some(t("2026-11-21T12:05:00Z"))),
        [
            "bob@example.com-0123456789abcdef0",
            "alice-ffffffffffffffff0"
        ]
    );
    assert_eq!(
        f(base.clone(), &|f| f.until = Some(t("2026-11-20T10:00:00Z"))),
        ["alice-0a1b2c3d4e5f67890", "carol-00000000000000001"]
    );
    assert_eq!(f(base, &|f| f.prefix = "111122223333/".into()).len(), 1);
}

#[test]
fn ls_records_carry_times_and_kind() {
    let d = small();
    let src = LocalDir::new(&d).unwrap();
    let list = list_sessions(&src, &Filter::default(), true, 1).unwrap();
    let json = serde_json::to_string(&list[0].record()).unwrap();
    let back: SessionRecord = serde_json::from_str(&json).unwrap();
    assert_eq!(back.start.as_deref(), Some("2026-11-22T08:00:00Z"));
    assert_eq!(back.end.as_deref(), Some("2026-11-22T08:05:00Z"));
    assert_eq!(back.kind, "script");
    assert_eq!(back.account.as_deref(), Some("222233334444"));
    assert_eq!(back.user.as_deref(), Some("bob@example.com"));
}

fn grep(d: &Path, pattern: &str, ci: bool, context: usize) -> Vec<GrepRecord> {
    let src = LocalDir::new(d).unwrap();
    let list = list_sessions(&src, &Filter::default(), false, 2).unwrap();
    let opts = SearchOptions {
        pattern: pattern.into(),
        case_insensitive: ci,
        before: context,
        after: context,
        invert: false,
        threads: 2,
    };
    let mut out = Vec::new();
    search(&src, &list, &opts, &mut |fm| {
        assert!(fm.error.is_none());
        for r in fm.records() {
            // Through JSON and back, refusing unknown fields.
            let line = serde_json::to_string(&r).unwrap();
            out.push(serde_json::from_str::<GrepRecord>(&line).unwrap());
        }
    })
    .unwrap();
    out
}

#[test]
fn grep_matches_cleaned_text_with_line_numbers_and_context() {
    let d = small();
    // The raw bytes hold "\x1b[31mhello"; the cleaned line is "$ echo hello".
    let r = grep(&d, "echo hello", false, 0);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].account.as_deref(), Some("222233334444"));
    assert_eq!(r[0].region.as_deref(), Some("eu-west-1"));
    assert_eq!(r[0].session, "bob@example.com-0123456789abcdef0");
    assert_eq!(r[0].line, 1);
    assert_eq!(r[0].time.as_deref(), Some("2026-11-22T08:00:00Z"));

    let r = grep(&d, "permission", true, 1);
    assert_eq!(r.len(), 2);
    let alice = r
        .iter()
        .find(|x| x.session.starts_with("alice-0a"))
        .unwrap();
    assert_eq!(alice.line, 3);
    assert_eq!(alice.text, "cat: /etc/shadow: Permission denied");
    assert_eq!(alice.before[0].line, 2);
    assert_eq!(alice.before[0].text, "[root]# cat /etc/shadow");
    assert_eq!(alice.after[0].text, "[root]# exit");
    assert!(grep(&d, "permission", false, 0).is_empty());
    // Footer and header are not content.
    assert!(grep(&d, "Script (started|done)", false, 0).is_empty());
    // Matches never span lines.
    assert!(grep(&d, r"a\sb", false, 0).is_empty());
    assert_eq!(grep(&d, "^[a-d]$", false, 0).len(), 4);
}

#[test]
fn export_writes_one_record_per_cleaned_line() {
    let d = small();
    let src = LocalDir::new(&d).unwrap();
    let f = Filter {
        account: Some("111122223333".into()),
        ..Filter::default()
    };
    let list = list_sessions(&src, &f, false, 2).unwrap();
    let mut jsonl = String::new();
    export(&src, &list, 2, &mut |r| {
        for rec in r.unwrap() {
            jsonl.push_str(&serde_json::to_string(&rec).unwrap());
            jsonl.push('\n');
        }
    });
    let recs: Vec<ExportRecord> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 4);
    assert_eq!(recs[2].text, "cat: /etc/shadow: Permission denied");
    assert_eq!(recs[2].line, 3);
    assert_eq!(recs[2].user.as_deref(), Some("alice"));
    assert_eq!(recs[2].time.as_deref(), Some("2026-11-20T10:00:00Z"));
    assert!(serde_json::from_str::<ExportRecord>(
        r#"{"account":null,"region":null,"session":"s","user":null,"time":null,"line":1,"text":"","extra":1}"#
    )
    .is_err());
}

#[test]
fn generated_corpus_is_deterministic_and_searchable() {
    let spec = CorpusSpec {
        seed: 3,
        target_bytes: 300_000,
        ..CorpusSpec::default()
    };
    let (a, b) = (tmp("gen-a"), tmp("gen-b"));
    let sa = write_corpus(&a, &spec).unwrap();
    let sb = write_corpus(&b, &spec).unwrap();
    assert_eq!(sa, sb);
    assert!(sa.bytes >= 300_000);
    let ka = keys(&a, &Filter::default());
    assert_eq!(ka, keys(&b, &Filter::default()));
    for k in &ka {
        assert!(ssmlog_logs::user_of_session(k).is_some(), "{k}");
    }
    // Escapes never survive cleaning, and every corrected typo reads correctly.
    let src = LocalDir::new(&a).unwrap();
    let list = list_sessions(&src, &Filter::default(), false, 2).unwrap();
    let mut lines = 0;
    export(&src, &list, 2, &mut |r| {
        for rec in r.unwrap() {
            assert!(
                !rec.text.contains('\x1b') && !rec.text.contains('\r'),
                "{rec:?}"
            );
            assert!(!rec.text.contains("restrat"), "{rec:?}");
            lines += 1;
        }
    });
    assert!(lines > 1000);
    assert!(!grep(&a, "systemctl restart nginx", false, 0).is_empty());
}

/// A search over many logs on one thread (its buffers, and the screen of one log's cleaner,
/// reused for the next) finds in each log what cleaning that log alone and searching its
/// text finds.
#[test]
fn search_over_many_logs_equals_each_log_cleaned_alone() {
    let d = tmp("many");
    let spec = CorpusSpec {
        seed: 11,
        target_bytes: 3_000_000,
        ..CorpusSpec::default()
    };
    write_corpus(&d, &spec).unwrap();
    let src = LocalDir::new(&d).unwrap();
    let list = list_sessions(&src, &Filter::default(), false, 1).unwrap();
    assert!(list.len() > 20, "{}", list.len());
    for (pattern, ci) in [
        ("restart nginx", true),
        ("^key[0-9] = ", false),
        ("top - ", false),
    ] {
        let opts = SearchOptions {
            pattern: pattern.into(),
            case_insensitive: ci,
            before: 0,
            after: 0,
            invert: false,
            threads: 1,
        };
        let re = ssmlog_logs::build_regex(&opts).unwrap();
        let mut found = 0;
        search(&src, &list, &opts, &mut |fm| {
            let raw = std::fs::read(d.join(&fm.session.key.key)).unwrap();
            let want = ssmlog_logs::search_text(&re, &ssmlog_logs::clean(&raw).0, 0);
            assert_eq!(fm.matches, want, "{pattern} in {}", fm.session.key.key);
            found += fm.matches.len();
        })
        .unwrap();
        assert!(found > 0, "{pattern}");
    }
}

/// Issue 11: symbolic links are not followed unless asked (as ripgrep); with `--follow` a
/// link to a directory or a file is, a dangling link and a loop are reported while the rest
/// is listed, and a file name that is not UTF-8 is reported, not skipped silently.
#[cfg(unix)]
#[test]
fn symbolic_links_followed_only_when_asked_with_problems_reported() {
    use std::os::unix::ffi::OsStrExt;
    let d = small();
    let other = tmp("linked");
    put(
        &other,
        "eu-north-1/dave-1111111111111111a.log",
        &script("2026-11-23 09:00:00", "2026-11-23 09:01:00", "$ id\r\n"),
    );
    std::os::unix::fs::symlink(&other, d.join("333344445555")).unwrap();
    std::os::unix::fs::symlink(
        other.join("eu-north-1/dave-1111111111111111a.log"),
        d.join("222233334444/us-east-1/erin-2222222222222222b.log"),
    )
    .unwrap();
    std::os::unix::fs::symlink(d.join("missing"), d.join("dangling.log")).unwrap();
    // A loop: a directory linking to its parent.
    std::os::unix::fs::symlink(
        d.join("222233334444"),
        d.join("222233334444/us-east-1/loop"),
    )
    .unwrap();
    std::fs::write(
        d.join(std::ffi::OsStr::from_bytes(b"bad-\xff-name.log")),
        "x",
    )
    .unwrap();
    let keys = |src: &LocalDir| {
        let mut problems = Vec::new();
        let mut keys: Vec<String> =
            ssmlog_logs::list_sessions_reporting(src, &Filter::default(), false, 2, &mut |e| {
                problems.push(e.to_string())
            })
            .unwrap()
            .into_iter()
            .map(|s| s.key.key)
            .collect();
        keys.sort();
        (keys, problems)
    };
    // Not followed: the four plain logs; only the name that is not UTF-8 is a problem.
    let (plain, problems) = keys(&LocalDir::new(&d).unwrap());
    assert_eq!(plain.len(), 4, "{plain:?}");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("bad-") && problems[0].contains("not UTF-8"));
    // Followed: the linked directory and file too; the dangling link and the loop reported.
    let (followed, problems) = keys(&LocalDir::new(&d).unwrap().follow_links(true));
    assert!(followed.contains(&"333344445555/eu-north-1/dave-1111111111111111a.log".into()));
    assert!(followed.contains(&"222233334444/us-east-1/erin-2222222222222222b.log".into()));
    assert_eq!(followed.len(), 6, "{followed:?}");
    assert!(problems
        .iter()
        .any(|p| p.contains("dangling.log") && p.contains("broken")));
    assert!(problems.iter().any(|p| p.contains("loop")), "{problems:?}");
    assert_eq!(problems.len(), 3, "{problems:?}");
    // In the order of the keys, though the accounts are walked in parallel.
    assert!(
        problems[0].contains("loop")
            && problems[1].contains("not UTF-8")
            && problems[2].contains("dangling.log"),
        "{problems:?}"
    );
    // The strict listing fails on the first problem, naming it.
    let err = list_sessions(&LocalDir::new(&d).unwrap(), &Filter::default(), false, 2);
    assert!(err.unwrap_err().to_string().contains("not UTF-8"));
}

/// The text form of `logs grep`: `KEY:LINE:TEXT` for matches, `KEY-LINE-TEXT` for context,
/// context shared by neighbouring matches printed once, `--` between groups.
#[test]
fn grep_text_output_is_grep_r_n_like() {
    let d = tmp("text");
    let key = "111122223333/us-east-1/alice-0a1b2c3d4e5f67890.log";
    let body: String = (1..=12).map(|i| format!("line {i}\r\n")).collect();
    put(
        &d,
        key,
        &script("2026-11-20 10:00:00", "2026-11-20 10:30:00", &body),
    );
    let src = LocalDir::new(&d).unwrap();
    let list = list_sessions(&src, &Filter::default(), false, 1).unwrap();
    let text = |pattern: &str, context: usize| {
        let opts = SearchOptions {
            pattern: pattern.into(),
            case_insensitive: false,
            before: context,
            after: context,
            invert: false,
            threads: 1,
        };
        let mut out = Vec::new();
        let mut separate = TextCursor::default();
        search(&src, &list, &opts, &mut |fm| {
            fm.write_text(context, &mut separate, &mut out).unwrap();
        })
        .unwrap();
        String::from_utf8(out).unwrap()
    };
    let k = key;
    assert_eq!(
        text("^line (2|4|10)$", 1),
        format!(
            "{k}-1-line 1\n{k}:2:line 2\n{k}-3-line 3\n{k}:4:line 4\n{k}-5-line 5\n--\n\
             {k}-9-line 9\n{k}:10:line 10\n{k}-11-line 11\n"
        )
    );
    assert_eq!(
        text("^line 1[12]$", 0),
        format!("{k}:11:line 11\n{k}:12:line 12\n")
    );
}

/// A local directory that counts the ranged reads made of it.
struct CountingDir {
    dir: LocalDir,
    ranged: std::sync::Mutex<Vec<String>>,
}

impl ssmlog_logs::LogSource for CountingDir {
    fn describe(&self) -> String {
        self.dir.describe()
    }
    fn list(
        &self,
        prefix: &str,
        each: &mut dyn FnMut(ssmlog_logs::Entry),
    ) -> Result<(), ssmlog_logs::SourceError> {
        self.dir.list(prefix, each)
    }
    fn open(
        &self,
        key: &str,
    ) -> Result<Box<dyn std::io::Read + Send + '_>, ssmlog_logs::SourceError> {
        self.dir.open(key)
    }
    fn read_range(
        &self,
        key: &str,
        start: u64,
        len: u64,
    ) -> Result<Vec<u8>, ssmlog_logs::SourceError> {
        self.ranged.lock().unwrap().push(key.to_string());
        self.dir.read_range(key, start, len)
    }
}

/// `--since` reads the times of recent uploads only: a log uploaded more than the clock-skew
/// allowance before `since` cannot hold a session that ended after it, and is passed over.
#[test]
fn since_passes_over_old_uploads_without_reading_them() {
    let d = small();
    // 2026-11-15T00:00:00Z; the footers say the sessions ended on 2026-11-19 to 22, and the
    // logs not touched below were uploaded (written) just now.
    let since: u64 = 1_794_700_800;
    let hour = 3600;
    let set_mtime = |key: &str, hours_before_since: u64| {
        let f = std::fs::File::options()
            .write(true)
            .open(d.join(key))
            .unwrap();
        let t = since - hours_before_since * hour;
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(t))
            .unwrap();
    };
    let old = "111122223333/us-east-1/alice-0a1b2c3d4e5f67890.log";
    let within = "222233334444/us-east-1/alice-ffffffffffffffff0.log";
    set_mtime(old, 20 * 24);
    set_mtime(within, 12);
    let src = CountingDir {
        dir: LocalDir::new(&d).unwrap(),
        ranged: Default::default(),
    };
    let filter = Filter {
        since: Some(i64::try_from(since).unwrap()),
        ..Filter::default()
    };
    let mut listed: Vec<String> = list_sessions(&src, &filter, true, 2)
        .unwrap()
        .into_iter()
        .map(|s| s.key.session)
        .collect();
    listed.sort();
    let read = src.ranged.lock().unwrap().clone();
    // Uploaded 20 days before `since`: not read (its footer's time would have passed).
    assert!(!read.iter().any(|k| k == old), "{read:?}");
    // Uploaded 12 hours before `since`, within the allowance: read, kept by its footer.
    assert!(read.iter().any(|k| k == within), "{read:?}");
    assert_eq!(
        listed,
        [
            "alice-ffffffffffffffff0",
            "bob@example.com-0123456789abcdef0",
            "carol-00000000000000001"
        ]
    );
}

/// The agent's form (issue 11): `script LOG -c "cat FILE"` around the session, no terminal
/// size, CR CR LF; the cleaned text is the plain form's wherever the size does not matter.
#[test]
fn agent_form_is_the_default_and_cleans_like_the_plain_form() {
    let dir = tmp("agent-form");
    let spec = CorpusSpec {
        target_bytes: 300_000,
        windows_share: 0.0,
        ..CorpusSpec::default()
    };
    write_corpus(&dir, &spec).unwrap();
    let mut logs = 0;
    for account in std::fs::read_dir(&dir).unwrap() {
        for region in std::fs::read_dir(account.unwrap().path()).unwrap() {
            for log in std::fs::read_dir(region.unwrap().path()).unwrap() {
                let raw = std::fs::read(log.unwrap().path()).unwrap();
                let head = &raw[..raw.iter().position(|&b| b == b'\n').unwrap()];
                let head = String::from_utf8_lossy(head);
                assert!(
                    head.contains("[COMMAND=\"cat /var/lib/amazon/ssm/")
                        && head.ends_with("<not executed on terminal>]")
                        && !head.contains("COLUMNS"),
                    "{head}"
                );
                let body = String::from_utf8_lossy(&raw);
                assert!(body.contains("\r\r\n") && !body.replace("\r\r\n", "").contains("\r\n"));
                logs += 1;
            }
        }
    }
    assert!(logs > 3, "{logs}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn agent_form_text_equals_plain_form_text() {
    use ssmlog_logs::gen::{agent_form, linux_session, Rng};
    for seed in 0..20 {
        let mut rng = Rng::new(seed);
        let (plain, _) = linux_session(&mut rng, "alice", 1_790_000_000, 30_000);
        let agent = agent_form(&plain, "alice-0123456789abcdef0");
        let (a, ma) = ssmlog_logs::clean(&agent);
        let (p, mp) = ssmlog_logs::clean(&plain);
        assert_eq!((ma.start, ma.end), (mp.start, mp.end));
        assert_eq!(a, p, "seed {seed}");
    }
}

/// The cleaner's shortcut for whole plain lines (line mode) needs a line's end in the same
/// read: fed a few bytes at a time, every line takes the general path. Both give the same
/// text, on sessions with `clear` (screen mode) in both forms.
#[test]
fn plain_line_shortcuts_give_what_the_general_path_gives() {
    use ssmlog_logs::gen::{agent_form, linux_session, Rng};
    let mut clears = 0;
    for seed in 0..12 {
        let mut rng = Rng::new(seed);
        let (plain, _) = linux_session(&mut rng, "alice", 1_790_000_000, 60_000);
        for raw in [agent_form(&plain, "alice-0123456789abcdef0"), plain.clone()] {
            clears += raw.windows(4).filter(|w| w == b"\x1b[2J").count();
            let (whole, meta) = ssmlog_logs::clean(&raw);
            let (text, fed_meta) = clean_in_pieces(&raw, 5);
            assert!(text == whole, "seed {seed}");
            assert_eq!(fed_meta, meta);
        }
    }
    assert!(clears > 10, "{clears}");
}

/// Issue 11: logs above the streaming size are cleaned and searched as streams, with the
/// same lines, numbers and context as when read whole.
#[test]
fn streamed_search_and_export_equal_whole_ones() {
    use ssmlog_logs::gen::{agent_form, linux_session, Rng};
    let d = tmp("stream");
    let mut rng = Rng::new(5);
    for (i, size) in [3_500_000, 200_000, 2_000].into_iter().enumerate() {
        let (plain, _) = linux_session(&mut rng, "alice", 1_790_000_000, size);
        let session = format!("alice-0a1b2c3d4e5f6789{i}");
        let body = agent_form(&plain, &session);
        let dir = d.join("111122223333/eu-west-1");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{session}.log")), body).unwrap();
    }
    let src = LocalDir::new(&d).unwrap();
    let list = list_sessions(&src, &Filter::default(), false, 2).unwrap();
    for (pattern, before, after, invert) in [
        ("Connection refused", 0, 0, false),
        // Frequent enough that contexts meet at the parts' boundaries.
        ("Connection refused", 3, 3, false),
        ("restart nginx", 2, 3, false),
        ("INFO", 0, 0, true),
        ("^$", 1, 0, false),
    ] {
        let opts = SearchOptions {
            pattern: pattern.into(),
            case_insensitive: false,
            before,
            after,
            invert,
            threads: 2,
        };
        let collect = |above: u64| {
            let mut all = Vec::new();
            ssmlog_logs::search_streaming_above(&src, &list, &opts, above, &mut |fm| {
                assert!(fm.error.is_none());
                for m in fm.matches {
                    all.push((fm.session.key.key.clone(), fm.start, m));
                }
            })
            .unwrap();
            all
        };
        let whole = collect(u64::MAX);
        let streamed = collect(0);
        assert!(!whole.is_empty(), "{pattern}");
        assert_eq!(whole.len(), streamed.len(), "{pattern}");
        assert!(whole == streamed, "{pattern}");
        // Printed as `logs grep` prints: a log that came in parts prints as if whole (no
        // context line twice, no `--` inside a group).
        let print = |above: u64| {
            let (mut out, mut cursor, mut parts) = (Vec::new(), TextCursor::default(), 0);
            ssmlog_logs::search_streaming_above(&src, &list, &opts, above, &mut |fm| {
                parts += 1;
                fm.write_text(before.max(after), &mut cursor, &mut out)
                    .unwrap();
            })
            .unwrap();
            (String::from_utf8(out).unwrap(), parts)
        };
        let ((whole, whole_parts), (streamed, streamed_parts)) = (print(u64::MAX), print(0));
        assert!(
            streamed_parts > whole_parts,
            "{pattern}: the stream came in one part"
        );
        assert!(
            whole == streamed,
            "{pattern}: printed differently when streamed"
        );
    }
    let export = |above: u64| {
        let mut all = Vec::new();
        ssmlog_logs::export_streaming_above(&src, &list, 2, above, &mut |r| {
            all.extend(r.unwrap());
        });
        all
    };
    let whole = export(u64::MAX);
    assert!(whole.len() > 10_000);
    assert!(whole == export(0));
    std::fs::remove_dir_all(&d).unwrap();
}

/// Issue 11: a log whose command printed one line of 300 kB (a minified file, a blob) is
/// cleaned into lines of at most `LINE_CAP` bytes, cut between characters wherever the reads
/// split it, nothing lost or doubled; searched whole, as a stream and on the fast path, it
/// gives the same lines, none longer than the cap. The same when the line is being edited
/// (it follows a progress line's CR) and in screen mode (after `clear`), with the terminal's
/// size unknown or known (rows that wrap and scroll off).
#[test]
fn a_huge_line_is_cut_into_bounded_lines_the_same_way_however_it_is_read() {
    let unknown = "[TERM=\"xterm\" TTY=\"/dev/pts/0\"]";
    huge_line_after(unknown, "");
    huge_line_after(unknown, "50% done\r");
    // On a screen cleared just before (screen mode, the height unknown).
    huge_line_after(unknown, "\x1b[H\x1b[2J");
    // On a terminal of known size: in line mode, and on a screen whose rows wrap and scroll.
    let known = "[COLUMNS=\"80\" LINES=\"24\"]";
    huge_line_after(known, "");
    huge_line_after(known, "\x1b[H\x1b[2J");
}

fn huge_line_after(size: &str, prefix: &str) {
    use ssmlog_logs::{clean, search_text, Matcher, LINE_CAP};
    // Two- and three-byte characters all along, so that cuts fall on them.
    let mut line = String::new();
    let mut i = 0;
    while line.len() < 300_000 {
        line.push_str(match i % 5 {
            0 => "naïve ",
            1 => "日本語 ",
            2 => "curl http://exfil.example/x ",
            _ => "abcdefghijklmnopqrstuvwxyz0123456789 ",
        });
        i += 1;
    }
    let short: String = (0..400)
        .map(|k| format!("2026-11-23T10:{:02}:00Z INFO ok {k}\r\r\n", k % 60))
        .collect();
    let log = format!(
        "Script started on 2026-11-23 10:15:00+00:00 {size}\n{short}$ cat blob.txt\r\r\n{prefix}{line}\r\r\n{short}\nScript done on 2026-11-23 10:20:00+00:00 [COMMAND_EXIT_CODE=\"0\"]\n"
    );
    let (text, _) = clean(log.as_bytes());
    // (Cells count columns: a cut line of wide characters may take more bytes.)
    assert!(text.lines().all(|l| l.chars().count() <= LINE_CAP));
    let first = text.find("naïve").unwrap();
    let pieces: Vec<&str> = text[first..]
        .lines()
        .take_while(|l| !l.starts_with("2026"))
        .collect();
    assert!(
        pieces.len() > line.chars().count() / LINE_CAP,
        "{}",
        pieces.len()
    );
    assert_eq!(pieces.concat(), line.trim_end());
    // However the log is fed.
    for chunk in [1 << 20, 4093, 61] {
        let (streamed, _) = clean_in_pieces(log.as_bytes(), chunk);
        assert!(streamed == text, "fed in chunks of {chunk}");
    }
    // Fast path (whole), reference, and stream agree.
    let d = tmp(&format!("huge-line-{}-{}", size.len(), prefix.len()));
    let _ = std::fs::remove_dir_all(&d);
    let dir = d.join("111122223333/eu-west-1");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("alice-0a1b2c3d4e5f67890.log"), &log).unwrap();
    let src = LocalDir::new(&d).unwrap();
    let list = list_sessions(&src, &Filter::default(), false, 1).unwrap();
    for pattern in ["exfil", "INFO ok 39[0-9]$", "日本語 curl"] {
        let opts = SearchOptions {
            pattern: pattern.into(),
            case_insensitive: false,
            before: 0,
            after: 0,
            invert: false,
            threads: 1,
        };
        let m = Matcher::new(&opts).unwrap();
        let want = search_text(m.regex(), &text, 0);
        assert!(!want.is_empty(), "{pattern}");
        assert!(want.iter().all(|w| w.text.chars().count() <= LINE_CAP));
        assert!(
            m.search_log(log.as_bytes()).0 == want,
            "{pattern}: fast path"
        );
        for above in [0, u64::MAX] {
            let mut got = Vec::new();
            ssmlog_logs::search_streaming_above(&src, &list, &opts, above, &mut |fm| {
                got.extend(fm.matches);
            })
            .unwrap();
            assert!(got == want, "{pattern}: streamed above {above}");
        }
    }
    std::fs::remove_dir_all(&d).unwrap();
}
