//! `ssmlog logs grep` and `ssmlog logs export` as functions: clean each session (in parallel,
//! bounded), search or split its text, and stream results in listing order. The search skips
//! cleaning where it would change nothing ([`fast`]).

mod fast;

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::clean::header::SessionMeta;
use crate::clean::Cleaner;
use crate::list::Session;
use std::io::Read;

use crate::par::{par_ordered_with, Ahead, AHEAD_BYTES};
use crate::source::{LogSource, SourceError};
use crate::time::format_rfc3339;

pub use fast::Matcher;
use fast::Scratch;

/// How to search.
#[derive(Clone, Debug)]
pub struct SearchOptions {
    /// A regular expression (Rust `regex` syntax), matched against each cleaned line.
    pub pattern: String,
    /// Ignore case.
    pub case_insensitive: bool,
    /// Lines of context before each matching line (`grep -B`).
    pub before: usize,
    /// Lines of context after each matching line (`grep -A`).
    pub after: usize,
    /// Select the lines that do not match (`grep -v`).
    pub invert: bool,
    /// Worker threads (download, clean and search run on them).
    pub threads: usize,
}

/// A line around a match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextLine {
    /// 1-based line number in the cleaned text.
    pub line: usize,
    /// The cleaned line.
    pub text: String,
}

/// A matching line of one session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineMatch {
    /// 1-based line number in the cleaned text (as `ssmlog logs show` prints it).
    pub line: usize,
    /// The cleaned line.
    pub text: String,
    /// Up to `context` lines before, after the previous matching line (which carries its
    /// own context).
    pub before: Vec<ContextLine>,
    /// Up to `context` lines after, before the next matching line.
    pub after: Vec<ContextLine>,
}

/// The outcome for one session: its matches, or why it could not be read.
#[derive(Debug)]
pub struct FileMatches {
    /// The session searched.
    pub session: Session,
    /// Start time from the log's header.
    pub start: Option<i64>,
    /// Matching lines in order.
    pub matches: Vec<LineMatch>,
    /// Set when the log could not be read; the search goes on with the others.
    pub error: Option<SourceError>,
}

/// One line of `ssmlog logs grep --format json` (JSON Lines, one object per matching line).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrepRecord {
    /// Account id from the key.
    pub account: Option<String>,
    /// Region from the key.
    pub region: Option<String>,
    /// Session id.
    pub session: String,
    /// User from the session id.
    pub user: Option<String>,
    /// Object key.
    pub key: String,
    /// Session start (RFC 3339 UTC) from the header.
    pub time: Option<String>,
    /// 1-based line number in the cleaned text.
    pub line: usize,
    /// The matching line.
    pub text: String,
    /// Context lines before.
    pub before: Vec<ContextLine>,
    /// Context lines after.
    pub after: Vec<ContextLine>,
}

impl FileMatches {
    /// The JSON records of this session's matches.
    pub fn records(&self) -> impl Iterator<Item = GrepRecord> + '_ {
        let k = &self.session.key;
        self.matches.iter().map(move |m| GrepRecord {
            account: k.account.clone(),
            region: k.region.clone(),
            session: k.session.clone(),
            user: k.user.clone(),
            key: k.key.clone(),
            time: self.start.map(format_rfc3339),
            line: m.line,
            text: m.text.clone(),
            before: m.before.clone(),
            after: m.after.clone(),
        })
    }

    /// Writes the matches as `logs grep` prints them, like `grep -r -n`: `KEY:LINE:TEXT` for
    /// a matching line, `KEY-LINE-TEXT` for context, `--` between groups of context (across
    /// sessions too: see [`TextCursor`]). Without `format!`, as a search may print millions
    /// of lines.
    pub fn write_text(
        &self,
        context: usize,
        cursor: &mut TextCursor,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        self.write_text_styled(context, cursor, &TextStyle::default(), out)
    }

    /// [`write_text`](Self::write_text) with colours and the session's start time (see
    /// [`TextStyle`]).
    pub fn write_text_styled(
        &self,
        context: usize,
        cursor: &mut TextCursor,
        style: &TextStyle<'_>,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        let key = printable(&self.session.key.key);
        let key = key.as_bytes();
        let time = match (style.time, self.start) {
            (true, Some(t)) => format_rfc3339(t),
            (true, None) => "-".to_string(),
            (false, _) => String::new(),
        };
        let line_style = LineStyle {
            colour: style.colour,
            highlight: style.highlight,
            time: style.time.then_some(time.as_str()),
        };
        let write_line = |out: &mut Vec<u8>, key: &[u8], sep: u8, line: usize, text: &str| {
            write_line(out, key, sep, line, text, &line_style)
        };
        // Lines are put together here and handed to the writer in batches: a search may
        // print millions of lines, each of several pieces.
        let dst = out;
        let mut out = Vec::with_capacity(1 << 12);
        // A later part of the session printed last (a log searched as a stream) goes on
        // from the line printed last; another session starts afresh.
        if cursor.key != self.session.key.key {
            cursor.key.clone_from(&self.session.key.key);
            cursor.last_line = 0;
        }
        let last_printed = &mut cursor.last_line;
        for m in &self.matches {
            let first = m.before.first().map_or(m.line, |c| c.line);
            let new_group = *last_printed == 0 || first > *last_printed + 1;
            if context > 0 && new_group && cursor.printed {
                if style.colour {
                    out.extend_from_slice(b"\x1b[36m--\x1b[0m\n");
                } else {
                    out.extend_from_slice(b"--\n");
                }
            }
            cursor.printed = true;
            for c in m.before.iter().filter(|c| c.line > *last_printed) {
                write_line(&mut out, key, b'-', c.line, &c.text);
            }
            if m.line > *last_printed {
                write_line(&mut out, key, b':', m.line, &m.text);
            }
            *last_printed = (*last_printed).max(m.line);
            // The context after stops before the next matching line (see `LineMatch`).
            for c in &m.after {
                if c.line > *last_printed {
                    write_line(&mut out, key, b'-', c.line, &c.text);
                    *last_printed = c.line;
                }
            }
            if out.len() >= 1 << 16 {
                dst.write_all(&out)?;
                out.clear();
            }
        }
        dst.write_all(&out)
    }
}

/// Where `logs grep`'s text output stands between sessions, and between the parts of one
/// session searched as a stream (each part a [`FileMatches`]): whether a group was printed
/// (the next group is set off by `--`), and which line of which session was printed last, so
/// that a log printed in parts prints exactly as it would whole.
#[derive(Debug, Default)]
pub struct TextCursor {
    printed: bool,
    key: String,
    last_line: usize,
}

/// `text` with each control character (a newline in a local file name, which would break a
/// line of output or a table) shown as `\n`, `\t` or `\xNN`.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// How [`FileMatches::write_text_styled`] prints.
#[derive(Clone, Copy, Debug, Default)]
pub struct TextStyle<'a> {
    /// ANSI colours as ripgrep has them: key magenta, line number green, separators cyan,
    /// the matched text bold red.
    pub colour: bool,
    /// The pattern whose matches are highlighted (with `colour`; not for `-v`).
    pub highlight: Option<&'a Regex>,
    /// The session's start time (RFC 3339 UTC, `-` when the log has no header) and a blank
    /// before each line.
    pub time: bool,
}

struct LineStyle<'a> {
    colour: bool,
    highlight: Option<&'a Regex>,
    time: Option<&'a str>,
}

fn write_line(
    out: &mut Vec<u8>,
    key: &[u8],
    sep: u8,
    line: usize,
    text: &str,
    style: &LineStyle<'_>,
) {
    if let Some(t) = style.time {
        out.extend_from_slice(t.as_bytes());
        out.push(b' ');
    }
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = line;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if !style.colour {
        out.extend_from_slice(key);
        out.push(sep);
        out.extend_from_slice(&digits[at..]);
        out.push(sep);
        out.extend_from_slice(text.as_bytes());
        out.push(b'\n');
        return;
    }
    let sep = [sep];
    for (part, colour) in [
        (key, &b"35"[..]),
        (&sep[..], b"36"),
        (&digits[at..], b"32"),
        (&sep[..], b"36"),
    ] {
        out.extend_from_slice(b"\x1b[");
        out.extend_from_slice(colour);
        out.extend_from_slice(b"m");
        out.extend_from_slice(part);
        out.extend_from_slice(b"\x1b[0m");
    }
    let mut from = 0;
    if sep[0] == b':' {
        if let Some(re) = style.highlight {
            for m in re.find_iter(text).filter(|m| !m.is_empty()) {
                out.extend_from_slice(&text.as_bytes()[from..m.start()]);
                out.extend_from_slice(b"\x1b[1;31m");
                out.extend_from_slice(m.as_str().as_bytes());
                out.extend_from_slice(b"\x1b[0m");
                from = m.end();
            }
        }
    }
    out.extend_from_slice(&text.as_bytes()[from..]);
    out.push(b'\n');
}

/// A pattern that matches `text` literally (`grep -F`).
pub fn literal_pattern(text: &str) -> String {
    regex::escape(text)
}

/// Builds the matcher: multi-line anchors so `^`/`$` mean line start and end.
pub fn build_regex(opts: &SearchOptions) -> Result<Regex, regex::Error> {
    RegexBuilder::new(&opts.pattern)
        .case_insensitive(opts.case_insensitive)
        .multi_line(true)
        .build()
}

thread_local! {
    /// Per-worker buffers for the stored bytes and the cleaned text, reused from log to log
    /// (large logs would otherwise cost a fresh mapping and page faults each time).
    static BUFFERS: std::cell::RefCell<(Vec<u8>, Scratch)> =
        std::cell::RefCell::new((Vec::new(), Scratch::default()));
}

/// Reads one log into the worker's buffer and hands it to `f` with the worker's scratch.
fn with_raw<R>(
    source: &dyn LogSource,
    s: &Session,
    f: impl FnOnce(&[u8], &mut Scratch) -> R,
) -> Result<R, SourceError> {
    BUFFERS.with(|cell| {
        let mut bufs = cell.borrow_mut();
        let (raw, scratch) = &mut *bufs;
        source.read_into(&s.key.key, s.size, raw)?;
        let r = f(raw, scratch);
        if raw.capacity() > 64 << 20 {
            *raw = Vec::new();
            *scratch = Scratch::default();
        }
        Ok(r)
    })
}

/// Reads and cleans one log, then hands its text to `f` (inside the worker's buffers).
fn with_clean_text<R>(
    source: &dyn LogSource,
    s: &Session,
    f: impl FnOnce(&str, &SessionMeta) -> R,
) -> Result<R, SourceError> {
    with_raw(source, s, |raw, scratch| {
        let mut c = Cleaner::with_buffer(std::mem::take(&mut scratch.text));
        c.reserve(raw.len());
        c.feed(raw);
        let (out, meta) = c.into_text();
        let r = f(&out, &meta);
        scratch.text = out.into_bytes();
        r
    })
}

fn line_at(text: &str, start: usize, end: usize) -> &str {
    text.get(start..end).unwrap_or_default()
}

/// The matching lines of one cleaned text (lines end in `\n`) with `context` lines before
/// and after each. A line matches when the pattern matches within it; matches never span
/// lines.
pub fn search_text(re: &Regex, text: &str, context: usize) -> Vec<LineMatch> {
    search_lines(re, text, context, context, false)
}

/// The selected lines of one cleaned text: those the pattern matches (or, with `invert`,
/// those it does not), each with up to `before` and `after` lines of context.
pub fn search_lines(
    re: &Regex,
    text: &str,
    before: usize,
    after: usize,
    invert: bool,
) -> Vec<LineMatch> {
    if invert {
        return inverted(re, text, before, after);
    }
    let context = (before, after);
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut pos = 0;
    let mut counted = 0;
    let mut line_no = 1;
    while pos < text.len() {
        let Some(m) = re.find_at(text, pos) else {
            break;
        };
        let ls = memchr::memrchr(b'\n', &bytes[..m.start()]).map_or(0, |i| i + 1);
        if ls >= text.len() {
            break;
        }
        let le = memchr::memchr(b'\n', &bytes[m.start()..]).map_or(text.len(), |i| m.start() + i);
        if m.end() > le && !re.is_match(line_at(text, ls, le)) {
            pos = le + 1;
            continue;
        }
        line_no += memchr::memchr_iter(b'\n', &bytes[counted..ls]).count();
        counted = ls;
        found.push(LineMatch {
            line: line_no,
            text: line_at(text, ls, le).to_string(),
            before: context_before(text, ls, line_no, context.0),
            after: context_after(text, le, line_no, context.1),
        });
        pos = le + 1;
    }
    stop_context_at_matches(&mut found);
    found
}

/// Cuts each match's context at its neighbouring matches, which carry their own: the
/// context after a match ends before the next matching line, the context before starts
/// after the previous one. (Printing needs no look-ahead then, and a text searched in parts
/// gives the same matches as whole.)
fn stop_context_at_matches(found: &mut [LineMatch]) {
    for i in 1..found.len() {
        let (prev, next) = (found[i - 1].line, found[i].line);
        found[i - 1].after.retain(|c| c.line < next);
        found[i].before.retain(|c| c.line > prev);
    }
}

/// The lines `re` does not match, with context (`grep -v`).
fn inverted(re: &Regex, text: &str, before: usize, after: usize) -> Vec<LineMatch> {
    let mut found = Vec::new();
    let mut start = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let body = line.strip_suffix('\n').unwrap_or(line);
        if !re.is_match(body) {
            found.push(LineMatch {
                line: i + 1,
                text: body.to_string(),
                before: context_before(text, start, i + 1, before),
                after: context_after(text, start + body.len(), i + 1, after),
            });
        }
        start += line.len();
    }
    stop_context_at_matches(&mut found);
    found
}

fn context_before(text: &str, ls: usize, line_no: usize, n: usize) -> Vec<ContextLine> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut end = ls;
    for k in 1..=n {
        if end == 0 {
            break;
        }
        let e = end - 1; // the '\n' ending the previous line
        let s = memchr::memrchr(b'\n', &bytes[..e]).map_or(0, |i| i + 1);
        out.push(ContextLine {
            line: line_no - k,
            text: line_at(text, s, e).to_string(),
        });
        end = s;
    }
    out.reverse();
    out
}

fn context_after(text: &str, le: usize, line_no: usize, n: usize) -> Vec<ContextLine> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = le + 1;
    for k in 1..=n {
        if start >= text.len() {
            break;
        }
        let e = memchr::memchr(b'\n', &bytes[start..]).map_or(text.len(), |i| start + i);
        out.push(ContextLine {
            line: line_no + k,
            text: line_at(text, start, e).to_string(),
        });
        start = e + 1;
    }
    out
}

/// Logs larger than this are not read whole: when its turn comes, such a log is cleaned and
/// searched (or exported) as a stream on the calling thread, so memory stays about a read
/// buffer, the screen and the longest line, whatever the log's size.
pub const STREAM_ABOVE: u64 = 64 << 20;

/// Searches the cleaned text of every session, `opts.threads` at a time, handing each
/// session's result to `sink` in the order of `sessions` as soon as it is ready. Returns the
/// number of matching lines. A log larger than [`STREAM_ABOVE`] is searched as a stream and
/// handed over in parts (each with the matches of a stretch of the log).
pub fn search(
    source: &dyn LogSource,
    sessions: &[Session],
    opts: &SearchOptions,
    sink: &mut dyn FnMut(FileMatches),
) -> Result<usize, regex::Error> {
    search_streaming_above(source, sessions, opts, STREAM_ABOVE, sink)
}

/// [`search`] with logs larger than `above` bytes searched as streams.
pub fn search_streaming_above(
    source: &dyn LogSource,
    sessions: &[Session],
    opts: &SearchOptions,
    above: u64,
    sink: &mut dyn FnMut(FileMatches),
) -> Result<usize, regex::Error> {
    let matcher = Matcher::new(opts)?;
    let re = build_regex(opts)?;
    let mut total = 0;
    par_ordered_with(
        sessions,
        opts.threads,
        by_size(opts.threads),
        // A clone per thread: each has its own match cache, so threads never wait for one.
        || matcher.clone(),
        |matcher, s| {
            if s.size > above {
                return None;
            }
            Some(
                match with_raw(source, s, |raw, scratch| {
                    let (found, meta) = matcher.search_log_with(raw, scratch);
                    (meta.start, found)
                }) {
                    Ok((start, matches)) => FileMatches {
                        session: s.clone(),
                        start,
                        matches,
                        error: None,
                    },
                    Err(e) => FileMatches {
                        session: s.clone(),
                        start: None,
                        matches: Vec::new(),
                        error: Some(e),
                    },
                },
            )
        },
        |i, fm| match fm {
            Some(fm) => {
                total += fm.matches.len();
                sink(fm);
            }
            None => {
                let s = &sessions[i];
                let mut window = LineWindow::default();
                let mut parts = 0;
                let result = stream_clean(source, s, &mut |text, start, last| {
                    let matches = window.push(text, &re, opts, last);
                    if !matches.is_empty() || (last && parts == 0) {
                        parts += 1;
                        total += matches.len();
                        sink(FileMatches {
                            session: s.clone(),
                            start,
                            matches,
                            error: None,
                        });
                    }
                });
                if let Err(e) = result {
                    sink(FileMatches {
                        session: s.clone(),
                        start: None,
                        matches: Vec::new(),
                        error: Some(e),
                    });
                }
            }
        },
    );
    Ok(total)
}

/// Cleans one log as a stream: `each(text, start, last)` gets the lines that became final
/// (complete lines; `last` with the rest, once the log ended) and the start time from its
/// header.
fn stream_clean(
    source: &dyn LogSource,
    s: &Session,
    each: &mut dyn FnMut(&str, Option<i64>, bool),
) -> Result<(), SourceError> {
    let mut r = source.open(&s.key.key)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut c = Cleaner::new();
    let mut text = String::new();
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(SourceError::new(&s.key.key, format!("cannot read: {e}"))),
        };
        c.feed(&buf[..n]);
        c.take(&mut text);
        if !text.is_empty() {
            each(&text, c.meta().start, false);
            text.clear();
        }
    }
    c.finish();
    c.take(&mut text);
    each(&text, c.meta().start, true);
    Ok(())
}

/// Searches a text that comes in parts (complete lines) as [`search_lines`] searches it
/// whole: the last lines of a part stay until the lines after them (context) have come, and
/// a few searched lines stay as the context before the next ones.
#[derive(Debug, Default)]
struct LineWindow {
    buf: String,
    /// Lines before `buf`.
    base: usize,
    /// Lines at the start of `buf` already searched (kept as context).
    searched: usize,
}

impl LineWindow {
    fn push(&mut self, text: &str, re: &Regex, opts: &SearchOptions, last: bool) -> Vec<LineMatch> {
        self.buf.push_str(text);
        let total = memchr::memchr_iter(b'\n', self.buf.as_bytes()).count()
            + usize::from(last && !self.buf.is_empty() && !self.buf.ends_with('\n'));
        let upto = if last {
            total
        } else {
            total.saturating_sub(opts.after)
        };
        let mut found = search_lines(re, &self.buf, opts.before, opts.after, opts.invert);
        found.retain(|m| m.line > self.searched && m.line <= upto);
        for m in &mut found {
            m.line += self.base;
            for c in m.before.iter_mut().chain(m.after.iter_mut()) {
                c.line += self.base;
            }
        }
        // Keep the lines after `upto`, and `before` lines before them as context.
        let drop = upto.saturating_sub(opts.before);
        let at = if drop == 0 {
            0
        } else {
            memchr::memchr_iter(b'\n', self.buf.as_bytes())
                .nth(drop - 1)
                .map_or(self.buf.len(), |i| i + 1)
        };
        self.buf.drain(..at);
        self.base += drop;
        self.searched = upto - drop;
        found
    }
}

/// One line of `ssmlog logs export --format jsonl`: a cleaned line with where and when it was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportRecord {
    /// Account id from the key.
    pub account: Option<String>,
    /// Region from the key.
    pub region: Option<String>,
    /// Session id.
    pub session: String,
    /// User from the session id.
    pub user: Option<String>,
    /// Session start (RFC 3339 UTC) from the header; the line's place in time is this plus
    /// its line number (logs carry no per-line times).
    pub time: Option<String>,
    /// 1-based line number in the cleaned text.
    pub line: usize,
    /// The cleaned line.
    pub text: String,
}

/// Cleans every session (`threads` at a time) and hands its export records to `sink` in the
/// order of `sessions`, one session at a time (a log larger than [`STREAM_ABOVE`] in parts,
/// as it is cleaned); unreadable sessions go to `sink` as errors.
pub fn export(
    source: &dyn LogSource,
    sessions: &[Session],
    threads: usize,
    sink: &mut dyn FnMut(Result<Vec<ExportRecord>, SourceError>),
) {
    export_streaming_above(source, sessions, threads, STREAM_ABOVE, sink);
}

fn records(s: &Session, start: Option<i64>, text: &str, first_line: usize) -> Vec<ExportRecord> {
    let k = &s.key;
    let time = start.map(format_rfc3339);
    text.lines()
        .enumerate()
        .map(|(i, line)| ExportRecord {
            account: k.account.clone(),
            region: k.region.clone(),
            session: k.session.clone(),
            user: k.user.clone(),
            time: time.clone(),
            line: first_line + i,
            text: line.to_string(),
        })
        .collect()
}

/// The window of logs worked on ahead of the output: their stored size, [`AHEAD_BYTES`] a
/// thread (a log searched as a stream, on the calling thread when its turn comes, counts as
/// [`STREAM_ABOVE`]).
fn by_size(threads: usize) -> Ahead<impl Fn(&Session) -> u64> {
    Ahead {
        weight: |s: &Session| s.size.min(STREAM_ABOVE),
        budget: AHEAD_BYTES.saturating_mul(threads.max(1) as u64),
    }
}

/// [`export`] with logs larger than `above` bytes cleaned as streams.
pub fn export_streaming_above(
    source: &dyn LogSource,
    sessions: &[Session],
    threads: usize,
    above: u64,
    sink: &mut dyn FnMut(Result<Vec<ExportRecord>, SourceError>),
) {
    par_ordered_with(
        sessions,
        threads,
        by_size(threads),
        || (),
        |(), s| {
            if s.size > above {
                return None;
            }
            Some(with_clean_text(source, s, |text, meta| {
                records(s, meta.start, text, 1)
            }))
        },
        |i, r| match r {
            Some(r) => sink(r),
            None => {
                let s = &sessions[i];
                let mut next = 1;
                let result = stream_clean(source, s, &mut |text, start, _| {
                    let recs = records(s, start, text, next);
                    next += recs.len();
                    if !recs.is_empty() {
                        sink(Ok(recs));
                    }
                });
                if let Err(e) = result {
                    sink(Err(e));
                }
            }
        },
    );
}
