//! The fast path of `logs grep`: the same matching lines as cleaning the whole log and
//! searching its text ([`search_text`] over [`clean`](crate::clean)), without cleaning the
//! lines that need none.
//!
//! # Why it finds the same lines
//!
//! For a pattern without haystack anchors (`\A`, `\z`, `(?-m)^`), [`search_text`] reports
//! exactly the lines `L` of the text for which the pattern matches `L` alone: every line is
//! preceded by a line feed or the start, followed by a line feed or the end, and `^`, `$` and
//! word boundaries cannot tell those apart. So any split of the cleaned text at line starts
//! may be searched piece by piece, with line numbers offset.
//!
//! The log's raw bytes are scanned for *plain lines* (no control byte besides the final LF or
//! CR LF; see [`scan_plain`]). Long runs of them are skipped by the cleaner (a hole in its
//! output, see [`crate::clean::skip`]); each cleaned line of a skipped run is its raw line
//! without CR LF and trailing blanks. The pieces of the cleaner's output are searched as
//! cleaned text, the runs in their raw bytes:
//!
//! * **candidates** (patterns whose only assertions are `^` and word boundaries): the regex
//!   runs over the raw run at full speed (literal prefilters); a match inside the cleaned part
//!   of its line is a match of that line (the assertions see the same neighbours: a trailing
//!   blank, CR or LF is no word character, as the end of the line is not); any other candidate
//!   line is checked on its cleaned text. Every matching cleaned line is a prefix of its raw
//!   line, so it shows up as a candidate.
//! * **copy** (`$` and other line assertions): the run's cleaned lines are copied into a
//!   scratch buffer and searched as text.
//!
//! Patterns with haystack anchors, and searches with context lines or inverted (`-v`), clean
//! the whole log.

use std::borrow::Cow;

use regex::Regex;
use regex_syntax::hir::Look;

use super::{search_lines, search_text, LineMatch, SearchOptions};
use crate::clean::header::SessionMeta;
use crate::clean::skip::{plain_line_text, scan_plain, Leave};
use crate::clean::{Cleaner, SpareScreen, LINE_CAP};

/// Runs of plain lines shorter than this many bytes are left to the cleaner.
const MIN_RUN: usize = 4096;

/// How the lines of skipped runs are searched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunMode {
    /// The regex over the raw bytes, candidates checked on their cleaned line.
    Candidates,
    /// The cleaned lines copied out and searched as text.
    Copy,
}

/// How a pattern's assertions let the search skip cleaning: `None` when the whole log must be
/// cleaned (haystack anchors, or a pattern `regex-syntax` does not take as `regex` does).
fn run_mode(opts: &SearchOptions) -> Option<RunMode> {
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(opts.case_insensitive)
        .multi_line(true)
        .build()
        .parse(&opts.pattern)
        .ok()?;
    let looks = hir.properties().look_set();
    if looks.contains_anchor_haystack() {
        return None;
    }
    let candidates_ok = looks.iter().all(|l| {
        matches!(
            l,
            Look::StartLF
                | Look::WordAscii
                | Look::WordAsciiNegate
                | Look::WordUnicode
                | Look::WordUnicodeNegate
                | Look::WordStartAscii
                | Look::WordEndAscii
                | Look::WordStartUnicode
                | Look::WordEndUnicode
                | Look::WordStartHalfAscii
                | Look::WordEndHalfAscii
                | Look::WordStartHalfUnicode
                | Look::WordEndHalfUnicode
        )
    });
    Some(if candidates_ok {
        RunMode::Candidates
    } else {
        RunMode::Copy
    })
}

/// A compiled search: the pattern and how to find its lines in a log.
///
/// ```
/// let opts = ssmlog_logs::SearchOptions {
///     pattern: "restart nginx".into(),
///     case_insensitive: false,
///     before: 0,
///     after: 0,
///     invert: false,
///     threads: 1,
/// };
/// let m = ssmlog_logs::Matcher::new(&opts).unwrap();
/// let (found, _) = m.search_log(b"$ sudo systemctl restrat\x08\x1b[K\x08\x1b[K\x08\x1b[Kart nginx\r\n");
/// assert_eq!(found[0].text, "$ sudo systemctl restart nginx");
/// ```
#[derive(Clone, Debug)]
pub struct Matcher {
    re: Regex,
    /// The same pattern over bytes, for raw runs (valid UTF-8 there, so it matches the same).
    raw_re: regex::bytes::Regex,
    mode: Option<RunMode>,
    before: usize,
    after: usize,
    invert: bool,
}

/// A run of plain lines skipped by the cleaner.
#[derive(Clone, Copy, Debug)]
struct Run {
    start: usize,
    end: usize,
    /// Its line feeds, when the scan that found it counted them (the run is all it scanned).
    lines: Option<usize>,
    /// Its bytes are all ASCII (found by the scan).
    ascii: bool,
}

/// Buffers a search reuses from log to log.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// The cleaner's output.
    pub(crate) text: Vec<u8>,
    /// Cleaned lines of a run (copy mode).
    lines: String,
    /// The skipped runs of the current log.
    runs: Vec<Run>,
    /// The last log's screen.
    screen: SpareScreen,
}

impl Matcher {
    /// Compiles `opts.pattern` (see [`build_regex`](super::build_regex)).
    pub fn new(opts: &SearchOptions) -> Result<Self, regex::Error> {
        Ok(Self {
            re: super::build_regex(opts)?,
            raw_re: regex::bytes::RegexBuilder::new(&opts.pattern)
                .case_insensitive(opts.case_insensitive)
                .multi_line(true)
                .build()?,
            mode: run_mode(opts),
            before: opts.before,
            after: opts.after,
            invert: opts.invert,
        })
    }

    /// The regex matched against each cleaned line.
    pub fn regex(&self) -> &Regex {
        &self.re
    }

    /// The matching lines of one stored log, as [`search_text`] finds them in its cleaned text,
    /// with the session's metadata.
    pub fn search_log(&self, raw: &[u8]) -> (Vec<LineMatch>, SessionMeta) {
        self.search_log_with(raw, &mut Scratch::default())
    }

    pub(crate) fn search_log_with(
        &self,
        raw: &[u8],
        scratch: &mut Scratch,
    ) -> (Vec<LineMatch>, SessionMeta) {
        let plain = self.before == 0 && self.after == 0 && !self.invert;
        let Some(mode) = self.mode.filter(|_| plain) else {
            let mut c = Cleaner::with_buffer(std::mem::take(&mut scratch.text));
            c.reserve(raw.len());
            c.feed(raw);
            let (text, meta) = c.into_text();
            let found = search_lines(&self.re, &text, self.before, self.after, self.invert);
            scratch.text = text.into_bytes();
            return (found, meta);
        };
        let mut c = Cleaner::with_buffer(std::mem::take(&mut scratch.text));
        c.reuse_screen(std::mem::take(&mut scratch.screen));
        scratch.runs.clear();
        let fed = skip_runs(raw, &mut c, &mut scratch.runs);
        c.feed(&raw[fed..]);
        let (out, holes, meta, screen) = c.into_parts();
        scratch.screen = screen;

        let mut found = Vec::new();
        let mut base = 0;
        let mut from = 0;
        for (hole, run) in holes.iter().zip(&scratch.runs) {
            let piece = out.get(from..hole.at).unwrap_or_default();
            base += self.search_piece(piece, base, &mut found);
            let kept = Run {
                end: run.end - hole.filled,
                lines: run.lines.filter(|_| hole.filled == 0),
                ..*run
            };
            base += self.search_run(raw, kept, base, mode, &mut found, &mut scratch.lines);
            from = hole.at;
        }
        self.search_piece(out.get(from..).unwrap_or_default(), base, &mut found);
        scratch.text = out;
        (found, meta)
    }

    /// Searches a piece of the cleaner's output (whole lines) whose first line is number
    /// `base + 1`; returns its number of lines.
    fn search_piece(&self, piece: &[u8], base: usize, found: &mut Vec<LineMatch>) -> usize {
        if piece.is_empty() {
            return 0;
        }
        let text: Cow<'_, str> = match std::str::from_utf8(piece) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(piece),
        };
        let start = found.len();
        found.extend(search_text(&self.re, &text, 0));
        for m in &mut found[start..] {
            m.line += base;
        }
        memchr::memchr_iter(b'\n', piece).count()
    }

    /// Searches a skipped run (raw plain lines of `raw`) whose first line is number
    /// `base + 1`; returns its number of lines (from the scan, or counted here, once, on the
    /// way to the matches).
    fn search_run(
        &self,
        raw: &[u8],
        run: Run,
        base: usize,
        mode: RunMode,
        found: &mut Vec<LineMatch>,
        lines: &mut String,
    ) -> usize {
        let b = &raw[run.start..run.end];
        let valid = mode == RunMode::Candidates && (run.ascii || std::str::from_utf8(b).is_ok());
        if !valid {
            // Invalid UTF-8 becomes U+FFFD line by line, as in the cleaner's output.
            let text = String::from_utf8_lossy(b);
            lines.clear();
            for line in text.split_inclusive('\n') {
                let keep = plain_line_text(line.as_bytes()).len();
                lines.push_str(&line[..keep]);
                lines.push('\n');
            }
            let start = found.len();
            found.extend(search_text(&self.re, lines, 0));
            for m in &mut found[start..] {
                m.line += base;
            }
            return run
                .lines
                .unwrap_or_else(|| memchr::memchr_iter(b'\n', b).count());
        }
        let mut pos = 0;
        // Line feeds before `counted`.
        let mut counted = 0;
        let mut lines_before = 0;
        while pos < b.len() {
            let Some(m) = self.raw_re.find_at(b, pos) else {
                break;
            };
            let ls = memchr::memrchr(b'\n', &b[..m.start()]).map_or(0, |i| i + 1);
            if ls >= b.len() {
                break;
            }
            let le = memchr::memchr(b'\n', &b[m.start()..]).map_or(b.len(), |i| m.start() + i);
            let te = ls + plain_line_text(&b[ls..le]).len();
            // Valid, as the run is: a line starts after a LF and ends before blanks or CRs.
            let line = std::str::from_utf8(&b[ls..te]).unwrap_or_default();
            if m.end() <= te || self.re.is_match(line) {
                lines_before += memchr::memchr_iter(b'\n', &b[counted..ls]).count();
                counted = ls;
                found.push(LineMatch {
                    line: base + lines_before + 1,
                    text: line.to_string(),
                    before: Vec::new(),
                    after: Vec::new(),
                });
            }
            pos = le + 1;
        }
        run.lines
            .unwrap_or_else(|| lines_before + memchr::memchr_iter(b'\n', &b[counted..]).count())
    }
}

/// Where the first line of `run` (complete lines) that is longer than the cleaner's
/// [`LINE_CAP`] starts (the cleaner cuts it), or `run.len()`.
fn first_long_line(run: &[u8]) -> usize {
    // A line is too long when no LF is within LINE_CAP bytes of its start; the lines that
    // start before the last LF of that stretch all end in it.
    let mut line = 0;
    while line + LINE_CAP + 1 < run.len() {
        match memchr::memrchr(b'\n', &run[line..=line + LINE_CAP]) {
            Some(lf) => line += lf + 1,
            None => return line,
        }
    }
    run.len()
}

/// Feeds `raw` to the cleaner, skipping runs of plain lines (recorded in `runs`); returns how
/// far it fed (the rest is still to feed).
fn skip_runs(raw: &[u8], c: &mut Cleaner, runs: &mut Vec<Run>) -> usize {
    let mut fed = 0;
    let mut scan = 0;
    let line_end = |from: usize, end: usize| {
        memchr::memchr(b'\n', &raw[from..end]).map_or(end, |i| from + i + 1)
    };
    while scan < raw.len() {
        let found = scan_plain(&raw[scan..]);
        let special = scan + found.special;
        // The complete plain lines from `scan` (a line start) up to the special byte's line.
        let end = memchr::memrchr(b'\n', &raw[scan..special]).map_or(scan, |i| scan + i + 1);
        if end - scan >= MIN_RUN {
            c.feed(&raw[fed..scan]);
            let mut start = scan;
            while end - start >= MIN_RUN {
                // Step past what keeps the cleaner from taking plain lines as they are (the
                // header, for one), a line at a time. A screen of unknown height (after
                // `clear`) leaves screen mode once it has grown to its most rows and
                // scrolled; when the lines ahead are enough for that, it leaves at once
                // (`leave_screen_for`) and they are skipped too; when they are too few, they
                // are all fed at once.
                while !c.at_plain_line_start() && end - start >= MIN_RUN {
                    match c.leave_screen_for(&raw[start..end], found.line_feeds) {
                        Leave::Left => continue,
                        Leave::TooFew => {
                            c.feed(&raw[start..end]);
                            start = end;
                            break;
                        }
                        Leave::NotHere => {}
                    }
                    let next = line_end(start, end);
                    c.feed(&raw[start..next]);
                    start = next;
                }
                if !c.at_plain_line_start() {
                    break;
                }
                // The lines the cleaner must see (a PowerShell invocation header, a line it
                // cuts) end a run.
                let stop = start + c.skippable_len(&raw[start..end]);
                let stop = start + first_long_line(&raw[start..stop]);
                // The scan's line feeds are all before `end`: when the run is all it scanned,
                // they are its lines.
                let known = (start == scan && stop == end).then_some(found.line_feeds);
                // Enough lines to leave the window (counting stops there; the search counts
                // them all on its way to the matches).
                let lines = || {
                    known.unwrap_or_else(|| {
                        memchr::memchr_iter(b'\n', &raw[start..stop])
                            .take(c.height())
                            .count()
                    })
                };
                if stop - start >= MIN_RUN && lines() >= c.height() {
                    c.skip_plain_lines(&raw[start..stop]);
                    runs.push(Run {
                        start,
                        end: stop,
                        lines: known,
                        ascii: found.ascii,
                    });
                } else {
                    c.feed(&raw[start..stop]);
                }
                start = stop;
                if start < end {
                    let next = line_end(start, end);
                    c.feed(&raw[start..next]);
                    start = next;
                }
            }
            fed = start;
        }
        scan = memchr::memchr(b'\n', &raw[special..]).map_or(raw.len(), |i| special + i + 1);
    }
    fed
}

#[cfg(test)]
mod tests {
    use super::{first_long_line, LINE_CAP};

    /// The first line longer than `LINE_CAP` (without its LF), found by jumps of `LINE_CAP`
    /// bytes, is the one a walk over every line finds, for lines around that length.
    #[test]
    fn first_long_line_is_the_first_line_past_the_cap() {
        let mut rng = crate::gen::Rng::new(2);
        for _ in 0..300 {
            let mut run = Vec::new();
            for _ in 0..1 + rng.below(5) {
                let len = match rng.below(4) {
                    0 => LINE_CAP - 2 + rng.below(5),
                    1 => rng.below(200),
                    _ => rng.below(2 * LINE_CAP),
                };
                run.extend(std::iter::repeat_n(b'a', len));
                run.push(b'\n');
            }
            let mut want = run.len();
            let mut line = 0;
            for (i, &b) in run.iter().enumerate() {
                if b == b'\n' {
                    if i - line > LINE_CAP {
                        want = line;
                        break;
                    }
                    line = i + 1;
                }
            }
            assert_eq!(first_long_line(&run), want);
        }
    }
}
