//! `ssmlog logs ls|show|grep|export`: find one session among many and read it as it was on
//! screen. The source is the central bucket itself (`--bucket`, read through the AWS SDK:
//! SSE-KMS objects are decrypted by S3 for a caller the key allows) or a local copy of it
//! (`--dir`, as `aws s3 sync s3://BUCKET DIR` writes it); exactly one of the two.
//!
//! Unreadable logs (access denied, a KMS key that refuses `kms:Decrypt`, an object deleted
//! meanwhile) do not stop `grep` or `export`: each is reported on stderr as it happens, with
//! its key and a fix (the fix once per kind of failure), the others are still searched, and
//! the run ends with a count of the unreadable logs and exit status 2, so a script never
//! takes a partial search for a complete one.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use ssmlog_logs::{
    default_threads, export, format_rfc3339, list_sessions, parse_user_time, search, Cleaner,
    FileMatches, Filter, LocalDir, LogSource, SearchOptions, Session, SourceError,
};

use crate::exit;

#[derive(Subcommand)]
pub enum LogsCommand {
    /// List sessions, newest first: account, region, user, session, start, end, size.
    Ls(LsArgs),
    /// Print one session as a person saw it (escapes resolved), or as stored with --raw.
    ///
    /// Exit status: 0 shown, 2 when no session or several match, or it cannot be read.
    Show(ShowArgs),
    /// Search the cleaned text of every matching session with a regular expression.
    ///
    /// Exit status: 0 when a line matched, 1 when none did, 2 on bad input or when any log
    /// could not be read (the others are still searched and their matches printed).
    Grep(GrepArgs),
    /// Write every cleaned line as JSON Lines (account, region, session, user, time, line,
    /// text) for a log platform or query engine.
    Export(ExportArgs),
}

#[derive(Args, Clone)]
pub struct SourceArgs {
    /// The central bucket, read directly through S3 (credentials from the standard chain).
    #[arg(long, value_name = "NAME", conflicts_with = "dir")]
    bucket: Option<String>,
    /// A local copy of the bucket, as `aws s3 sync s3://BUCKET DIR` writes it (default:
    /// $SSMLOG_LOGS_DIR).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// AWS named profile, with --bucket (standard credential chain otherwise).
    #[arg(long)]
    profile: Option<String>,
    /// The bucket's region, with --bucket; rarely needed: ssmlog asks S3 where the bucket
    /// is (HeadBucket) and follows it. (`--region` filters sessions by their region.)
    #[arg(long, value_name = "REGION")]
    bucket_region: Option<String>,
    /// Another S3 endpoint, with --bucket (a local moto server); S3 goes path-style.
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Only keys under this prefix (for example `222233334444/`).
    #[arg(long, default_value = "")]
    prefix: String,
    /// Worker threads for reading and cleaning (default: the cores, at most 8, for --dir;
    /// 32 for --bucket, whose reads wait on the network).
    #[arg(long, short = 'j')]
    threads: Option<usize>,
}

#[derive(Args, Clone)]
pub struct FilterArgs {
    /// Account id (12 digits).
    #[arg(long)]
    account: Option<String>,
    /// Region, e.g. eu-west-1.
    #[arg(long)]
    region: Option<String>,
    /// User: the session id before its hex suffix (case-insensitive).
    #[arg(long)]
    user: Option<String>,
    /// Session id, or a prefix of it.
    #[arg(long)]
    session: Option<String>,
    /// Sessions that ended at or after this time: 2026-11-23, 2026-11-23T10:00:00Z, 24h, 7d.
    /// Logs uploaded more than a day before it are not read (an instance's clock may run
    /// that far ahead of S3's).
    #[arg(long)]
    since: Option<String>,
    /// Sessions that started at or before this time (same forms as --since).
    #[arg(long)]
    until: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[value(name = "text")]
    Human,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Jsonl,
}

#[derive(Args)]
pub struct LsArgs {
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    filter: FilterArgs,
    /// A table for people, or JSON (`{"sessions": [...]}`).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(Args)]
pub struct ShowArgs {
    /// Session id, a unique prefix of one, or an object key.
    session: String,
    #[command(flatten)]
    source: SourceArgs,
    /// Account id, to tell apart sessions with the same prefix.
    #[arg(long)]
    account: Option<String>,
    /// Region, to tell apart sessions with the same prefix.
    #[arg(long)]
    region: Option<String>,
    /// The bytes as stored, escapes and header included.
    #[arg(long)]
    raw: bool,
}

#[derive(Args)]
pub struct GrepArgs {
    /// A regular expression (Rust regex syntax), matched against each cleaned line.
    pattern: String,
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    filter: FilterArgs,
    /// Ignore case.
    #[arg(short = 'i', long)]
    ignore_case: bool,
    /// Lines of context before and after each match.
    #[arg(short = 'C', long, default_value_t = 0, value_name = "N")]
    context: usize,
    /// `KEY:LINE:TEXT` lines for people, or JSON Lines (one object per matching line).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    filter: FilterArgs,
    /// JSON Lines, one record per cleaned line.
    #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
    format: ExportFormat,
}

pub fn run(cmd: &LogsCommand) -> ExitCode {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let code = match cmd {
        LogsCommand::Ls(a) => ls(a, &mut out),
        LogsCommand::Show(a) => show(a, &mut out),
        LogsCommand::Grep(a) => grep(a, &mut out),
        LogsCommand::Export(a) => export_cmd(a, &mut out),
    };
    let _ = out.flush();
    exit::code(code)
}

fn fail(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    exit::BAD_INPUT
}

/// An opened log source. Fields drop in order: the source before the runtime its calls
/// block on.
struct Opened {
    source: Box<dyn LogSource>,
    /// The flag that names this source again, for hints (`--bucket logs`, `--dir /srv/logs`).
    flag: String,
    threads: usize,
    _runtime: Option<tokio::runtime::Runtime>,
}

impl std::ops::Deref for Opened {
    type Target = dyn LogSource;
    fn deref(&self) -> &Self::Target {
        self.source.as_ref()
    }
}

fn open_source(a: &SourceArgs) -> Result<Opened, u8> {
    if let Some(bucket) = &a.bucket {
        return open_bucket(a, bucket);
    }
    let aws_flags = [
        ("--profile", a.profile.is_some()),
        ("--bucket-region", a.bucket_region.is_some()),
        ("--endpoint-url", a.endpoint_url.is_some()),
    ];
    if let Some((flag, _)) = aws_flags.iter().find(|(_, set)| *set) {
        return Err(fail(format!(
            "`{flag}` only applies to a bucket\n  help: add `--bucket NAME` to read the bucket through S3, or drop `{flag}` to read a local copy with `--dir`"
        )));
    }
    let dir = a
        .dir
        .clone()
        .or_else(|| std::env::var_os("SSMLOG_LOGS_DIR").map(PathBuf::from));
    let Some(dir) = dir else {
        return Err(fail(
            "no log source\n  help: pass `--bucket NAME` to read the central bucket, or `--dir DIR`, a copy of it made with `aws s3 sync s3://BUCKET DIR` (or set SSMLOG_LOGS_DIR)",
        ));
    };
    let source = LocalDir::new(dir).map_err(fail)?;
    Ok(Opened {
        flag: format!("--dir {}", source.root().display()),
        source: Box::new(source),
        threads: a.threads.unwrap_or_else(default_threads).max(1),
        _runtime: None,
    })
}

fn open_bucket(a: &SourceArgs, bucket: &str) -> Result<Opened, u8> {
    let rt = ssmlog_aws::runtime().map_err(fail)?;
    let options = ssmlog_aws::ConnectOptions {
        profile: a.profile.clone(),
        region: a.bucket_region.clone(),
        endpoint_url: a.endpoint_url.clone(),
        ..ssmlog_aws::ConnectOptions::default()
    };
    let source = rt.block_on(async {
        let aws = ssmlog_aws::Aws::connect(options).await.map_err(|e| {
            fail(format!(
                "{e}\n  help: ssmlog uses the standard AWS credential chain: check --profile, \
                 AWS_PROFILE or `aws sso login`, and --endpoint-url"
            ))
        })?;
        ssmlog_aws::S3Logs::connect(&aws, bucket, a.bucket_region.as_deref())
            .await
            .map_err(fail)
    })?;
    let mut flag = format!("--bucket {bucket}");
    if let Some(u) = &a.endpoint_url {
        flag.push_str(&format!(" --endpoint-url {u}"));
    }
    Ok(Opened {
        source: Box::new(source),
        flag,
        threads: a.threads.unwrap_or(ssmlog_aws::S3_THREADS).max(1),
        _runtime: Some(rt),
    })
}

/// Reports unreadable logs as they come: each with its key, the fix once per kind of
/// failure (a KMS key refusing one log usually refuses them all).
#[derive(Default)]
struct Unreadable {
    count: usize,
    helped: BTreeSet<String>,
}

impl Unreadable {
    fn report(&mut self, e: &SourceError) {
        self.count += 1;
        eprintln!("error: `{}`: {}", e.what, e.message);
        if let Some(h) = &e.help {
            if self.helped.insert(h.clone()) {
                eprintln!("  help: {h}");
            }
        }
    }

    /// The closing line and exit status: 2 when any log was unreadable, else `ok`.
    fn finish(&self, of: usize, ok: u8) -> u8 {
        if self.count == 0 {
            return ok;
        }
        eprintln!(
            "error: {} of {of} logs could not be read; the output covers the other {}",
            self.count,
            of - self.count.min(of)
        );
        exit::BAD_INPUT
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn filter(source: &SourceArgs, f: &FilterArgs) -> Result<Filter, u8> {
    let time = |v: &Option<String>, flag: &str| match v {
        None => Ok(None),
        Some(s) => parse_user_time(s, now())
            .map(Some)
            .map_err(|e| fail(format!("--{flag}: {e}"))),
    };
    if let Some(a) = &f.account {
        if !ssmlog_logs::is_account_id(a) {
            return Err(fail(format!(
                "--account: `{a}` is not an account id\n  help: an account id has 12 digits"
            )));
        }
    }
    Ok(Filter {
        prefix: source.prefix.clone(),
        account: f.account.clone(),
        region: f.region.clone(),
        user: f.user.clone(),
        session: f.session.clone(),
        since: time(&f.since, "since")?,
        until: time(&f.until, "until")?,
    })
}

fn sessions(
    source: &dyn LogSource,
    filter: &Filter,
    read_times: bool,
    threads: usize,
) -> Result<Vec<Session>, u8> {
    list_sessions(source, filter, read_times, threads).map_err(fail)
}

fn human_size(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{:.1} KB", n as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        _ => format!("{:.1} GB", n as f64 / 1e9),
    }
}

fn ls(a: &LsArgs, out: &mut impl Write) -> u8 {
    let (source, filter) =
        match open_source(&a.source).and_then(|s| Ok((s, filter(&a.source, &a.filter)?))) {
            Ok(v) => v,
            Err(c) => return c,
        };
    let list = match sessions(&*source, &filter, true, source.threads) {
        Ok(l) => l,
        Err(c) => return c,
    };
    if a.format == Format::Json {
        let records: Vec<_> = list.iter().map(Session::record).collect();
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "sessions": records }))
                .unwrap_or_default()
        );
        return exit::OK;
    }
    let rows: Vec<[String; 7]> = list
        .iter()
        .map(|s| {
            let t = |v: Option<i64>| v.map(format_rfc3339).unwrap_or_else(|| "-".into());
            [
                t(s.start_time()),
                t(s.end_time()),
                s.key.account.clone().unwrap_or_else(|| "-".into()),
                s.key.region.clone().unwrap_or_else(|| "-".into()),
                s.key.user.clone().unwrap_or_else(|| "-".into()),
                s.key.session.clone(),
                human_size(s.size),
            ]
        })
        .collect();
    let head = [
        "START", "END", "ACCOUNT", "REGION", "USER", "SESSION", "SIZE",
    ];
    let mut widths = head.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(&format!("{c:>w$}"));
            } else {
                s.push_str(&format!("{c:<w$}  "));
            }
        }
        s
    };
    let _ = writeln!(out, "{}", line(&head));
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        let _ = writeln!(out, "{}", line(&cells));
    }
    if list.is_empty() {
        eprintln!("no sessions match in {}", source.describe());
    }
    exit::OK
}

fn show(a: &ShowArgs, out: &mut impl Write) -> u8 {
    let source = match open_source(&a.source) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let wanted = a.session.trim_end_matches(".log");
    let as_key = a.session.contains('/') || a.session.ends_with(".log");
    let f = Filter {
        prefix: a.source.prefix.clone(),
        account: a.account.clone(),
        region: a.region.clone(),
        session: (!as_key).then(|| wanted.to_string()),
        ..Filter::default()
    };
    let mut list = match sessions(&*source, &f, false, source.threads) {
        Ok(l) => l,
        Err(c) => return c,
    };
    if as_key {
        list.retain(|s| s.key.key == a.session || s.key.key.trim_end_matches(".log") == wanted);
    } else if list.iter().any(|s| s.key.session == wanted) {
        list.retain(|s| s.key.session == wanted);
    }
    let session = match list.as_slice() {
        [one] => one,
        [] => {
            return fail(format!(
                "no session `{}` in {}\n  help: `ssmlog logs ls {}` lists the sessions",
                a.session,
                source.describe(),
                source.flag
            ))
        }
        many => {
            let names: Vec<&str> = many.iter().take(10).map(|s| s.key.key.as_str()).collect();
            return fail(format!(
                "`{}` matches {} sessions: {}{}\n  help: give more of the session id, or --account/--region",
                a.session,
                many.len(),
                names.join(", "),
                if many.len() > 10 { ", ..." } else { "" }
            ));
        }
    };
    let key = &session.key.key;
    let mut reader = match source.open(key) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let mut buf = vec![0u8; 1 << 16];
    let mut cleaner = Cleaner::new();
    let mut text = String::new();
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => return fail(format!("`{key}`: cannot read: {e}")),
        };
        let chunk = &buf[..n];
        if a.raw {
            if out.write_all(chunk).is_err() {
                return exit::OK; // the reader went away (a pager quit)
            }
            continue;
        }
        cleaner.feed(chunk);
        cleaner.take(&mut text);
        if out.write_all(text.as_bytes()).is_err() {
            return exit::OK;
        }
        text.clear();
    }
    if !a.raw {
        cleaner.finish();
        cleaner.take(&mut text);
        let _ = out.write_all(text.as_bytes());
    }
    exit::OK
}

/// Prints one session's matches (see [`FileMatches::write_text`] for the text form).
fn print_matches(
    fm: &FileMatches,
    format: Format,
    context: usize,
    separate: &mut bool,
    out: &mut impl Write,
) {
    if format == Format::Json {
        for r in fm.records() {
            let _ = writeln!(out, "{}", serde_json::to_string(&r).unwrap_or_default());
        }
        return;
    }
    let _ = fm.write_text(context, separate, out);
}

fn grep(a: &GrepArgs, out: &mut impl Write) -> u8 {
    let (source, filter) =
        match open_source(&a.source).and_then(|s| Ok((s, filter(&a.source, &a.filter)?))) {
            Ok(v) => v,
            Err(c) => return c,
        };
    let opts = SearchOptions {
        pattern: a.pattern.clone(),
        case_insensitive: a.ignore_case,
        context: a.context,
        threads: source.threads,
    };
    if let Err(e) = ssmlog_logs::build_regex(&opts) {
        return fail(format!(
            "`{}` is not a valid regular expression\n{e}",
            a.pattern
        ));
    }
    let list = match sessions(&*source, &filter, false, opts.threads) {
        Ok(l) => l,
        Err(c) => return c,
    };
    let mut unreadable = Unreadable::default();
    let mut separate = false;
    let result = search(&*source, &list, &opts, &mut |fm| {
        if let Some(e) = &fm.error {
            unreadable.report(e);
            return;
        }
        print_matches(&fm, a.format, a.context, &mut separate, out);
        let _ = out.flush();
    });
    match result {
        Err(e) => fail(e),
        Ok(0) => unreadable.finish(list.len(), exit::FINDINGS),
        Ok(_) => unreadable.finish(list.len(), exit::OK),
    }
}

fn export_cmd(a: &ExportArgs, out: &mut impl Write) -> u8 {
    let (source, filter) =
        match open_source(&a.source).and_then(|s| Ok((s, filter(&a.source, &a.filter)?))) {
            Ok(v) => v,
            Err(c) => return c,
        };
    let ExportFormat::Jsonl = a.format;
    let list = match sessions(&*source, &filter, false, source.threads) {
        Ok(l) => l,
        Err(c) => return c,
    };
    let mut unreadable = Unreadable::default();
    export(&*source, &list, source.threads, &mut |r| match r {
        Ok(records) => {
            for rec in records {
                let _ = writeln!(out, "{}", serde_json::to_string(&rec).unwrap_or_default());
            }
        }
        Err(e) => unreadable.report(&e),
    });
    unreadable.finish(list.len(), exit::OK)
}
