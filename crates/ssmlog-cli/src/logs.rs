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
    default_threads, export, format_rfc3339, list_sessions_reporting, parse_user_time, search,
    Cleaner, ExportRecord, FileMatches, Filter, LocalDir, LogSource, SearchOptions, Session,
    SourceError, TextCursor, TextStyle,
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
    Grep(Box<GrepArgs>),
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
    /// Follow symbolic links, with --dir (not followed by default; a loop or a broken link
    /// is reported and the rest is read).
    #[arg(short = 'L', long)]
    follow: bool,
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

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colours when stdout is a terminal and NO_COLOR is not set.
    Auto,
    Always,
    Never,
}

#[derive(Args)]
pub struct LsArgs {
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    filter: FilterArgs,
    /// At most this many sessions (the newest).
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
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
    #[arg(long, conflicts_with_all = ["line_number", "format"])]
    raw: bool,
    /// Each line with its number (`N:TEXT`), the numbers `logs grep` prints.
    #[arg(short = 'n', long)]
    line_number: bool,
    /// The text, or JSON Lines as `logs export` writes them (one record per line).
    #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
    format: ShowFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    Text,
    Json,
}

#[derive(Args)]
pub struct GrepArgs {
    /// A regular expression (Rust regex syntax), matched against each cleaned line; not
    /// given when the patterns come with -e.
    #[arg(required_unless_present = "regexp")]
    pattern: Option<String>,
    /// A pattern (repeatable): lines matching any of them are selected.
    #[arg(
        short = 'e',
        long = "regexp",
        value_name = "PATTERN",
        conflicts_with = "pattern"
    )]
    regexp: Vec<String>,
    /// The patterns are literal strings, not regular expressions.
    #[arg(short = 'F', long)]
    fixed_strings: bool,
    /// Select the lines that do not match.
    #[arg(short = 'v', long)]
    invert_match: bool,
    /// Only the keys of the sessions with a selected line.
    #[arg(short = 'l', long, conflicts_with = "count")]
    files_with_matches: bool,
    /// Only `KEY:COUNT` for each session with selected lines.
    #[arg(short = 'c', long)]
    count: bool,
    /// Lines of context after each selected line.
    #[arg(short = 'A', long, value_name = "N")]
    after_context: Option<usize>,
    /// Lines of context before each selected line.
    #[arg(short = 'B', long, value_name = "N")]
    before_context: Option<usize>,
    /// Colours: auto (a terminal, and NO_COLOR unset), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    color: ColorChoice,
    /// The session's start time (RFC 3339 UTC, `-` if unknown) before each line.
    #[arg(long)]
    time: bool,
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    filter: FilterArgs,
    /// Ignore case.
    #[arg(short = 'i', long)]
    ignore_case: bool,
    /// Lines of context before and after each selected line (-A/-B override a side).
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
    let source = LocalDir::new(dir).map_err(fail)?.follow_links(a.follow);
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
    /// Parts of the source that could not be listed (directories, links, file names).
    unlisted: usize,
    helped: BTreeSet<String>,
}

impl Unreadable {
    fn report(&mut self, e: &SourceError) {
        self.count += 1;
        self.say(e);
    }

    fn report_unlisted(&mut self, e: &SourceError) {
        self.unlisted += 1;
        self.say(e);
    }

    fn say(&mut self, e: &SourceError) {
        eprintln!("error: `{}`: {}", printable(&e.what), e.message);
        if let Some(h) = &e.help {
            if self.helped.insert(h.clone()) {
                eprintln!("  help: {h}");
            }
        }
    }

    /// The closing line and exit status: 2 when any log was unreadable, else `ok`.
    fn finish(&self, of: usize, ok: u8) -> u8 {
        if self.unlisted > 0 {
            eprintln!(
                "error: {} part(s) of the source could not be listed; the output covers the rest",
                self.unlisted
            );
        }
        if self.count == 0 {
            return if self.unlisted > 0 {
                exit::BAD_INPUT
            } else {
                ok
            };
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

/// Lists the sessions; what cannot be listed is reported (and counted in `problems`) while
/// the rest is.
fn sessions(
    source: &dyn LogSource,
    filter: &Filter,
    read_times: bool,
    threads: usize,
    problems: &mut Unreadable,
) -> Result<Vec<Session>, u8> {
    list_sessions_reporting(source, filter, read_times, threads, &mut |e| {
        problems.report_unlisted(&e)
    })
    .map_err(fail)
}

fn human_size(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{:.1} KB", n as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        _ => format!("{:.1} GB", n as f64 / 1e9),
    }
}

/// `2026-11-23 10:15` (UTC).
fn short_time(t: i64) -> String {
    let s = format_rfc3339(t);
    s.get(..16).map_or(s.clone(), |d| d.replace('T', " "))
}

/// How long a session lasted: `42s`, `17m`, `3h05m`, `2d04h`; `-` when unknown.
fn duration(start: Option<i64>, end: Option<i64>) -> String {
    let (Some(s), Some(e)) = (start, end) else {
        return "-".into();
    };
    let d = (e - s).max(0);
    match d {
        0..60 => format!("{d}s"),
        60..3600 => format!("{}m", d / 60),
        3600..86_400 => format!("{}h{:02}m", d / 3600, d % 3600 / 60),
        _ => format!("{}d{:02}h", d / 86_400, d % 86_400 / 3600),
    }
}

/// A table cell without control characters (see [`ssmlog_logs::printable`]).
fn printable(s: &str) -> String {
    ssmlog_logs::printable(s).into_owned()
}

fn ls(a: &LsArgs, out: &mut impl Write) -> u8 {
    let (source, filter) =
        match open_source(&a.source).and_then(|s| Ok((s, filter(&a.source, &a.filter)?))) {
            Ok(v) => v,
            Err(c) => return c,
        };
    let mut problems = Unreadable::default();
    let mut list = match sessions(&*source, &filter, true, source.threads, &mut problems) {
        Ok(l) => l,
        Err(c) => return c,
    };
    if let Some(n) = a.limit {
        list.truncate(n);
    }
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
    // The session id starts with the user, so the user has no column of its own; the end is
    // a duration. A row of a typical listing is about 100 columns.
    let rows: Vec<[String; 6]> = list
        .iter()
        .map(|s| {
            [
                s.start_time().map_or_else(|| "-".into(), short_time),
                duration(s.start_time(), s.end_time()),
                s.key.account.clone().unwrap_or_else(|| "-".into()),
                s.key.region.clone().unwrap_or_else(|| "-".into()),
                s.key.session.clone(),
                human_size(s.size),
            ]
            .map(|c| printable(&c))
        })
        .collect();
    let head = [
        "START (UTC)",
        "TIME",
        "ACCOUNT",
        "REGION",
        "SESSION",
        "SIZE",
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
    problems.finish(list.len(), exit::OK)
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
    // (What cannot be listed is reported; the session asked for may still be found.)
    let mut list = match sessions(
        &*source,
        &f,
        false,
        source.threads,
        &mut Unreadable::default(),
    ) {
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
    let mut lines = Lines {
        session,
        numbered: a.line_number,
        json: a.format == ShowFormat::Json,
        next: 1,
        buf: Vec::new(),
    };
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
        if lines.write(&text, cleaner.meta().start, out).is_err() {
            return exit::OK;
        }
        text.clear();
    }
    if !a.raw {
        cleaner.finish();
        cleaner.take(&mut text);
        let _ = lines.write(&text, cleaner.meta().start, out);
    }
    exit::OK
}

/// `show`'s output of cleaned lines: as they are, numbered, or as export records.
struct Lines<'a> {
    session: &'a Session,
    numbered: bool,
    json: bool,
    /// The number of the next line (1-based, as `logs grep` counts).
    next: usize,
    buf: Vec<u8>,
}

impl Lines<'_> {
    /// Writes `text` (complete lines).
    fn write(
        &mut self,
        text: &str,
        start: Option<i64>,
        out: &mut impl Write,
    ) -> std::io::Result<()> {
        if !self.numbered && !self.json {
            return out.write_all(text.as_bytes());
        }
        self.buf.clear();
        let k = &self.session.key;
        for line in text.lines() {
            if self.json {
                let r = ExportRecord {
                    account: k.account.clone(),
                    region: k.region.clone(),
                    session: k.session.clone(),
                    user: k.user.clone(),
                    time: start.map(format_rfc3339),
                    line: self.next,
                    text: line.to_string(),
                };
                serde_json::to_writer(&mut self.buf, &r).map_err(std::io::Error::other)?;
                self.buf.push(b'\n');
            } else {
                let _ = writeln!(self.buf, "{}:{line}", self.next);
            }
            self.next += 1;
        }
        out.write_all(&self.buf)
    }
}

/// How `grep` prints. A log searched as a stream comes in parts (several [`FileMatches`] of
/// one session in a row): it is printed as if whole, its key once (-l), its count summed (-c).
struct Printer<'a> {
    format: Format,
    context: usize,
    files_only: bool,
    count: bool,
    style: TextStyle<'a>,
    cursor: TextCursor,
    /// The session whose key (-l) or count (-c) is being printed, and its count so far.
    current: Option<(String, usize)>,
}

impl Printer<'_> {
    /// Prints one session's selected lines (see [`FileMatches::write_text_styled`] for the
    /// text form), its key (-l) or its count (-c, once its last part has come: see
    /// [`Printer::finish`]).
    fn print(&mut self, fm: &FileMatches, out: &mut impl Write) {
        if fm.matches.is_empty() {
            return;
        }
        let key = printable(&fm.session.key.key);
        if self.files_only || self.count {
            match &mut self.current {
                Some((k, n)) if *k == key => *n += fm.matches.len(),
                _ => {
                    self.finish(out);
                    if self.files_only {
                        let _ = writeln!(out, "{key}");
                    }
                    self.current = Some((key, fm.matches.len()));
                }
            }
        } else if self.format == Format::Json {
            for r in fm.records() {
                let _ = writeln!(out, "{}", serde_json::to_string(&r).unwrap_or_default());
            }
        } else {
            let _ = fm.write_text_styled(self.context, &mut self.cursor, &self.style, out);
        }
    }

    /// Prints the count of the session printed last (-c).
    fn finish(&mut self, out: &mut impl Write) {
        if let Some((key, n)) = self.current.take().filter(|_| self.count) {
            let _ = writeln!(out, "{key}:{n}");
        }
    }
}

/// The one regular expression for the patterns: `-e` ones joined as alternatives, each
/// escaped with `-F`.
fn combined_pattern(a: &GrepArgs) -> String {
    let patterns: Vec<String> = a
        .pattern
        .iter()
        .chain(&a.regexp)
        .map(|p| {
            if a.fixed_strings {
                ssmlog_logs::literal_pattern(p)
            } else {
                p.clone()
            }
        })
        .collect();
    match patterns.as_slice() {
        [one] => one.clone(),
        many => many
            .iter()
            .map(|p| format!("(?:{p})"))
            .collect::<Vec<_>>()
            .join("|"),
    }
}

/// Whether `grep` colours its output.
fn colour(choice: ColorChoice) -> bool {
    use std::io::IsTerminal;
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

fn grep(a: &GrepArgs, out: &mut impl Write) -> u8 {
    let (source, filter) =
        match open_source(&a.source).and_then(|s| Ok((s, filter(&a.source, &a.filter)?))) {
            Ok(v) => v,
            Err(c) => return c,
        };
    let pattern = combined_pattern(a);
    let opts = SearchOptions {
        pattern: pattern.clone(),
        case_insensitive: a.ignore_case,
        before: a.before_context.unwrap_or(a.context),
        after: a.after_context.unwrap_or(a.context),
        invert: a.invert_match,
        threads: source.threads,
    };
    let re = match ssmlog_logs::build_regex(&opts) {
        Ok(re) => re,
        Err(e) => {
            return fail(format!(
                "`{pattern}` is not a valid regular expression\n{e}\n  help: -F takes the pattern as a literal string"
            ))
        }
    };
    let mut printer = Printer {
        format: a.format,
        context: opts.before.max(opts.after),
        files_only: a.files_with_matches,
        count: a.count,
        style: TextStyle {
            colour: colour(a.color),
            highlight: (!a.invert_match).then_some(&re),
            time: a.time,
        },
        cursor: TextCursor::default(),
        current: None,
    };
    let mut unreadable = Unreadable::default();
    let list = match sessions(&*source, &filter, false, opts.threads, &mut unreadable) {
        Ok(l) => l,
        Err(c) => return c,
    };
    let result = search(&*source, &list, &opts, &mut |fm| {
        if let Some(e) = &fm.error {
            unreadable.report(e);
            return;
        }
        printer.print(&fm, out);
        let _ = out.flush();
    });
    printer.finish(out);
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
    let mut unreadable = Unreadable::default();
    let list = match sessions(&*source, &filter, false, source.threads, &mut unreadable) {
        Ok(l) => l,
        Err(c) => return c,
    };
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// A log searched as a stream comes in parts; `-c` prints its one total and `-l` its key
    /// once, as for a log read whole.
    #[test]
    fn count_and_files_print_a_streamed_log_once() {
        use ssmlog_logs::gen::{agent_form, linux_session, Rng};
        let dir = std::env::temp_dir().join(format!("ssmlog-cli-parts-{}", std::process::id()));
        let logs = dir.join("111122223333/eu-west-1");
        std::fs::create_dir_all(&logs).unwrap();
        let mut rng = Rng::new(9);
        for (i, size) in [3_000_000, 50_000].into_iter().enumerate() {
            let (plain, _) = linux_session(&mut rng, "alice", 1_790_000_000, size);
            let session = format!("alice-0a1b2c3d4e5f6789{i}");
            std::fs::write(
                logs.join(format!("{session}.log")),
                agent_form(&plain, &session),
            )
            .unwrap();
        }
        let src = LocalDir::new(&dir).unwrap();
        let list = ssmlog_logs::list_sessions(&src, &Filter::default(), false, 1).unwrap();
        let opts = SearchOptions {
            pattern: "Connection refused".into(),
            case_insensitive: false,
            before: 0,
            after: 0,
            invert: false,
            threads: 1,
        };
        let print = |above: u64, files_only: bool, count: bool| {
            let mut printer = Printer {
                format: Format::Human,
                context: 0,
                files_only,
                count,
                style: TextStyle::default(),
                cursor: TextCursor::default(),
                current: None,
            };
            let (mut out, mut parts) = (Vec::new(), 0);
            ssmlog_logs::search_streaming_above(&src, &list, &opts, above, &mut |fm| {
                parts += 1;
                printer.print(&fm, &mut out);
            })
            .unwrap();
            printer.finish(&mut out);
            (String::from_utf8(out).unwrap(), parts)
        };
        for (files_only, count) in [(false, true), (true, false)] {
            let (whole, whole_parts) = print(u64::MAX, files_only, count);
            let (streamed, streamed_parts) = print(0, files_only, count);
            assert!(streamed_parts > whole_parts + 1, "not streamed in parts");
            assert_eq!(whole.lines().count(), 2, "{whole}");
            assert_eq!(whole, streamed);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
