//! `ssmlog logs --bucket` end to end against a moto server on 127.0.0.1: a bucket with
//! SSE-KMS default encryption, session logs uploaded by the real `aws` CLI with
//! `--sse aws:kms` under several `<account>/<region>/` prefixes, then the `ssmlog` binary
//! lists, shows, searches and exports them. The same corpus on disk (`--dir`) is the
//! reference: S3 must give exactly what the local copy gives.
//!
//! The test starts its own `moto_server` on a free port and kills it when done. Without
//! `moto_server` or `aws` on PATH it skips, unless `SSMLOG_REQUIRE_TOOLS=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ssmlog_logs::gen::{write_corpus, CorpusSpec};
use ssmlog_logs::{ExportRecord, GrepRecord, SessionRecord};
use ssmlog_moto::{Moto, ENV};

const BUCKET: &str = "central-session-logs";

/// The `ssmlog` binary with the fake credentials moto accepts and no ambient AWS config.
fn ssmlog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ssmlog"))
        .args(args)
        .envs(ENV)
        .env_remove("SSMLOG_LOGS_DIR")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `ssmlog logs SUB` once on the bucket and once on the local copy; both outputs.
struct Both<'a> {
    url: &'a str,
    dir: &'a str,
}

impl Both<'_> {
    fn s3(&self, sub: &str, args: &[&str]) -> Output {
        let mut v = vec!["logs", sub, "--bucket", BUCKET, "--endpoint-url", self.url];
        v.extend_from_slice(args);
        ssmlog(&v)
    }

    fn local(&self, sub: &str, args: &[&str]) -> Output {
        let mut v = vec!["logs", sub, "--dir", self.dir];
        v.extend_from_slice(args);
        ssmlog(&v)
    }
}

fn ls_json(o: &Output) -> Vec<SessionRecord> {
    assert_eq!(o.status.code(), Some(0), "{}", err(o));
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Ls {
        sessions: Vec<SessionRecord>,
    }
    serde_json::from_str::<Ls>(&out(o)).unwrap().sessions
}

fn jsonl<T: serde::de::DeserializeOwned>(o: &Output) -> Vec<T> {
    out(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn by_key(mut v: Vec<GrepRecord>) -> Vec<GrepRecord> {
    v.sort_by(|a, b| (&a.key, a.line).cmp(&(&b.key, b.line)));
    v
}

/// Writes the corpus and uploads it the way people do: `aws s3 cp --recursive` with SSE-KMS.
const SEED_LAYOUT_LOG: &str = "carol@example.com-00000000000000001.log";

fn setup(moto: &Moto, dir: &Path) -> String {
    let spec = CorpusSpec {
        seed: 23,
        accounts: 3,
        regions: 2,
        target_bytes: 600_000,
        ..CorpusSpec::default()
    };
    let _ = std::fs::remove_dir_all(dir);
    let stats = write_corpus(dir, &spec).unwrap();
    assert!(stats.files >= 10, "{stats:?}");
    // A log in the source article's layout (empty prefix), next to the account prefixes.
    std::fs::write(
        dir.join(SEED_LAYOUT_LOG),
        "Script started on 2026-11-01 08:00:00+00:00 [TERM=\"xterm\"]\n$ id\r\nuid=0(root)\r\n\
         Script done on 2026-11-01 08:01:00+00:00 [COMMAND_EXIT_CODE=\"0\"]\n",
    )
    .unwrap();
    let key = moto.sse_kms_bucket(BUCKET);
    moto.upload_sse_kms(dir, BUCKET, &key);
    key
}

#[test]
fn logs_commands_on_an_sse_kms_bucket_match_the_local_copy() {
    let Some(moto) = Moto::start() else { return };
    let dir: PathBuf = std::env::temp_dir().join(format!("ssmlog-logs-s3-{}", std::process::id()));
    let key = setup(&moto, &dir);
    let dir_s = dir.display().to_string();
    let both = Both {
        url: &moto.url(),
        dir: &dir_s,
    };

    // ls: every log, with accounts, regions, users and times read by ranged GETs, newest
    // first, exactly as from the local copy.
    let s3 = ls_json(&both.s3("ls", &["--format", "json"]));
    let local = ls_json(&both.local("ls", &["--format", "json"]));
    assert_eq!(s3, local);
    let accounts: std::collections::BTreeSet<_> =
        s3.iter().filter_map(|s| s.account.clone()).collect();
    assert_eq!(accounts.len(), 3, "{accounts:?}");
    // Listed by account prefix in parallel, plus what lies at the top.
    assert!(s3
        .iter()
        .any(|s| s.key == SEED_LAYOUT_LOG && s.account.is_none()));
    assert!(s3.iter().all(|s| s.user.is_some() && s.start.is_some()));
    // The SDK's own endpoint settings instead of --endpoint-url (S3 on one server, STS on
    // another, as with a local S3 that has no STS): S3 is then addressed by path too.
    let o = Command::new(env!("CARGO_BIN_EXE_ssmlog"))
        .args(["logs", "ls", "--bucket", BUCKET, "--format", "json"])
        .envs(ENV)
        .env_remove("AWS_PROFILE")
        .env("AWS_ENDPOINT_URL_S3", moto.url())
        .env("AWS_ENDPOINT_URL_STS", moto.url())
        .output()
        .unwrap();
    assert_eq!(ls_json(&o), s3, "AWS_ENDPOINT_URL_S3: {}", err(&o));
    let starts: Vec<_> = s3.iter().map(|s| s.start.clone()).collect();
    let mut sorted = starts.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(starts, sorted);
    // The objects really are SSE-KMS with the bucket's key.
    let one = &s3[0].key;
    let sse = moto.aws_text(&[
        "s3api",
        "head-object",
        "--bucket",
        BUCKET,
        "--key",
        one,
        "--query",
        "[ServerSideEncryption,SSEKMSKeyId]",
    ]);
    assert!(sse.starts_with("aws:kms"), "{sse}");
    assert!(
        key.ends_with(sse.split_whitespace().last().unwrap()),
        "{sse} vs {key}"
    );
    // Filters by account under a prefix; the table names the source when empty.
    let account = s3[0].account.clone().unwrap();
    let prefixed = ls_json(&both.s3(
        "ls",
        &["--prefix", &format!("{account}/"), "--format", "json"],
    ));
    assert!(!prefixed.is_empty());
    assert_eq!(
        prefixed,
        s3.iter()
            .filter(|s| s.account.as_deref() == Some(&account))
            .cloned()
            .collect::<Vec<_>>()
    );
    let o = both.s3("ls", &["--user", "nobody"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(err(&o).contains(&format!("s3://{BUCKET}")), "{}", err(&o));

    // show: the cleaned text is the local cleaner's output for the same bytes; --raw is the
    // stored bytes, decrypted by S3.
    for kind in ["script", "powershell"] {
        let s = s3.iter().find(|s| s.kind == kind).unwrap();
        let bytes = std::fs::read(dir.join(&s.key)).unwrap();
        let o = both.s3("show", &[&s.session]);
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        assert_eq!(out(&o), ssmlog_logs::clean(&bytes).0, "{}", s.key);
        let o = both.s3("show", &["--raw", &s.key]);
        assert_eq!(o.stdout, bytes, "{}", s.key);
    }
    let o = both.s3("show", &["nobody-123"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains(&format!("ssmlog logs ls --bucket {BUCKET}")),
        "{}",
        err(&o)
    );

    // grep: matches named by account, region, session and line, as from the local copy.
    let args = ["--format", "json", "-i", "restart nginx|Connection refused"];
    let o = both.s3("grep", &args);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    // Without reading headers, grep goes newest upload first: moto's upload times are all
    // "now", the local copy's file times the session ends, so compare in key order.
    let s3_recs = by_key(jsonl(&o));
    let local_recs = by_key(jsonl(&both.local("grep", &args)));
    assert!(!s3_recs.is_empty());
    assert!(s3_recs == local_recs, "grep differs from the local copy's");
    assert!(s3_recs.iter().all(|r| r.account.is_some()
        && r.region.is_some()
        && r.line > 0
        && r.key.ends_with(&format!("{}.log", r.session))));
    // The human form: KEY:LINE:TEXT.
    let o = both.s3("grep", &["Connection refused", "--account", &account]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    for line in out(&o).lines() {
        let (key, rest) = line.split_once(".log:").unwrap();
        assert!(key.starts_with(&account), "{line}");
        let (n, text) = rest.split_once(':').unwrap();
        assert!(n.parse::<usize>().unwrap() > 0 && text.contains("Connection refused"));
    }
    let o = both.s3("grep", &["no such text anywhere"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));

    // export: JSON Lines read back, identical to the local copy's.
    let s = &s3[1];
    let o = both.s3("export", &["--session", &s.session]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let recs: Vec<ExportRecord> = jsonl(&o);
    assert!(!recs.is_empty());
    assert!(recs
        .iter()
        .all(|r| r.session == s.session && r.time == s.start));
    assert_eq!(
        recs,
        jsonl::<ExportRecord>(&both.local("export", &["--session", &s.session]))
    );

    // A log S3 will not return (archived to Glacier by a lifecycle rule) does not stop the
    // search: it is reported with its key and a fix, the others are searched, exit 2.
    let archived = format!("{account}/us-east-1/zed-00000000000000abc.log");
    let body = dir.join("archived.log");
    std::fs::write(
        &body,
        "Script started on 2026-11-23 10:00:00+00:00\n$ echo Connection refused\r\n",
    )
    .unwrap();
    moto.aws_text(&[
        "s3",
        "cp",
        "--quiet",
        &body.display().to_string(),
        &format!("s3://{BUCKET}/{archived}"),
        "--storage-class",
        "GLACIER",
        "--sse",
        "aws:kms",
        "--sse-kms-key-id",
        &key,
    ]);
    let o = both.s3("grep", &["--format", "json", "Connection refused"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    let recs = by_key(jsonl(&o));
    let want: Vec<GrepRecord> = local_recs
        .iter()
        .filter(|r| r.text.contains("Connection refused"))
        .cloned()
        .collect();
    assert!(recs == want, "{} matches, want {}", recs.len(), want.len());
    let e = err(&o);
    assert!(e.contains(&format!("s3://{BUCKET}/{archived}")), "{e}");
    assert!(
        e.contains("InvalidObjectState") && e.contains("restore-object"),
        "{e}"
    );
    assert!(e.contains("1 of "), "{e}");

    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bucket_errors_say_what_to_do() {
    let Some(moto) = Moto::start() else { return };
    let o = ssmlog(&[
        "logs",
        "ls",
        "--bucket",
        "no-such-bucket",
        "--endpoint-url",
        &moto.url(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("s3://no-such-bucket"), "{}", err(&o));
    assert!(err(&o).contains("aws s3 ls"), "{}", err(&o));
    // Exactly one source.
    let o = ssmlog(&["logs", "ls", "--bucket", "b", "--dir", "/tmp"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("cannot be used with"), "{}", err(&o));
    let o = ssmlog(&["logs", "grep", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("--bucket NAME") && err(&o).contains("--dir DIR"),
        "{}",
        err(&o)
    );
    let o = ssmlog(&["logs", "ls", "--dir", "/tmp", "--endpoint-url", &moto.url()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--bucket"), "{}", err(&o));
    // Nothing listens there: the connection error says where to look.
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}", l.local_addr().unwrap().port())
    };
    let o = ssmlog(&["logs", "ls", "--bucket", "b", "--endpoint-url", &dead]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--endpoint-url"), "{}", err(&o));
}
