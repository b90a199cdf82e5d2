//! The wrappers around a session's content: `script`'s first and last lines on Linux, the
//! PowerShell transcript's `****` blocks on Windows. They give start and end times and are not
//! part of what the person saw.

use serde::Serialize;

use crate::time::{parse_compact, parse_script_time};

/// What produced a log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogKind {
    /// Raw pty output wrapped by `script` (Linux, macOS).
    Script,
    /// A Windows PowerShell transcript.
    Powershell,
    /// Neither header was found: the bytes are cleaned as terminal output.
    #[default]
    Unknown,
}

/// What the wrappers tell about a session.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SessionMeta {
    /// Which wrapper the log has.
    pub kind: LogKind,
    /// Start time (Unix seconds) from the header.
    pub start: Option<i64>,
    /// End time (Unix seconds) from the footer.
    pub end: Option<i64>,
    /// Terminal width from `script`'s header (`COLUMNS="120"`).
    pub columns: Option<usize>,
    /// Terminal height from `script`'s header (`LINES="40"`).
    pub lines: Option<usize>,
    /// `Username:` from a PowerShell transcript header.
    pub username: Option<String>,
}

pub(crate) const SCRIPT_START_STR: &str = "Script started on ";
pub(crate) const SCRIPT_START: &[u8] = SCRIPT_START_STR.as_bytes();
pub(crate) const SCRIPT_DONE: &str = "Script done on ";
pub(crate) const STARS: &[u8] = b"**********";
/// Windows PowerShell 5.1 writes `Windows PowerShell transcript start`, PowerShell 7
/// `PowerShell transcript start`.
const PS_START: &str = "PowerShell transcript start";
const PS_END: &str = "PowerShell transcript end";

/// Whether `line` is PowerShell's `marker` line (either version's).
fn is_ps_marker(line: &str, marker: &str) -> bool {
    let l = line.trim();
    l == marker || l.strip_prefix("Windows ") == Some(marker)
}
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Outcome of looking at the first bytes of a log.
pub(crate) enum Head {
    /// More bytes are needed to decide.
    NeedMore,
    /// The header ends at this offset; everything after it is content.
    Header(usize),
    /// No header: content starts at this offset (after a BOM).
    None(usize),
}

fn value_after<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.trim()
        .strip_prefix(key)
        .map(|v| v.trim_start_matches(':').trim())
}

fn script_attr(line: &str, name: &str) -> Option<usize> {
    let at = line.find(&format!("{name}=\""))? + name.len() + 2;
    let rest = line.get(at..)?;
    rest.get(..rest.find('"')?)?.parse().ok()
}

/// Reads a header from the first bytes of a log, filling `meta`. `eof` says no more bytes
/// will come.
pub(crate) fn read_head(buf: &[u8], eof: bool, meta: &mut SessionMeta) -> Head {
    let skip = if buf.starts_with(BOM) { BOM.len() } else { 0 };
    let b = &buf[skip..];
    let could_be = |p: &[u8]| p.starts_with(&b[..b.len().min(p.len())]);
    if b.starts_with(SCRIPT_START) {
        let Some(nl) = memchr::memchr(b'\n', b) else {
            return if eof || b.len() > 4096 {
                Head::None(skip)
            } else {
                Head::NeedMore
            };
        };
        let line = String::from_utf8_lossy(&b[SCRIPT_START.len()..nl]);
        meta.kind = LogKind::Script;
        meta.start = parse_script_time(line.split('[').next().unwrap_or(&line));
        meta.columns = script_attr(&line, "COLUMNS").filter(|c| *c > 0);
        meta.lines = script_attr(&line, "LINES").filter(|l| *l > 1);
        return Head::Header(skip + nl + 1);
    }
    if b.starts_with(STARS) {
        // The block: stars, "Windows PowerShell transcript start", key: value lines, stars.
        let mut pos = 0;
        let mut stars_seen = 0;
        let mut is_ps = false;
        while let Some(nl) = memchr::memchr(b'\n', &b[pos..]) {
            let line = String::from_utf8_lossy(&b[pos..pos + nl]);
            let line = line.trim_end_matches('\r');
            pos += nl + 1;
            if line.as_bytes().starts_with(STARS) {
                stars_seen += 1;
                if stars_seen == 2 {
                    if is_ps {
                        meta.kind = LogKind::Powershell;
                        return Head::Header(skip + pos);
                    }
                    return Head::None(skip);
                }
            } else if is_ps_marker(line, PS_START) {
                is_ps = true;
            } else if let Some(v) = value_after(line, "Start time") {
                meta.start = parse_compact(v);
            } else if let Some(v) = value_after(line, "Username") {
                meta.username = Some(v.to_string());
            }
        }
        return if eof || b.len() > 65_536 {
            *meta = SessionMeta::default();
            Head::None(skip)
        } else {
            Head::NeedMore
        };
    }
    if !eof && (could_be(SCRIPT_START) || could_be(STARS)) {
        return Head::NeedMore;
    }
    Head::None(skip)
}

/// Where the footer starts in the last cleaned lines `tail` (complete lines, each ending in
/// `\n`), filling `meta.end`; `None` when there is no footer.
pub(crate) fn find_footer(tail: &[u8], kind: LogKind, meta: &mut SessionMeta) -> Option<usize> {
    // Only the last few lines can be a footer.
    const LAST: usize = 8;
    let mut skip = tail.len();
    for _ in 0..LAST {
        match skip
            .checked_sub(2)
            .and_then(|e| memchr::memrchr(b'\n', &tail[..=e]))
        {
            Some(i) => skip = i + 1,
            None => {
                skip = 0;
                break;
            }
        }
    }
    // Offsets are in `tail`'s bytes (which may hold invalid UTF-8), lines are compared as text.
    let mut recent = Vec::with_capacity(LAST);
    let mut at = skip;
    for line in super::lines_with_lf(&tail[skip..]) {
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        recent.push((at, String::from_utf8_lossy(text)));
        at += line.len();
    }
    match kind {
        LogKind::Script | LogKind::Unknown => {
            let i = recent
                .iter()
                .rposition(|(_, l)| l.starts_with(SCRIPT_DONE))?;
            let (off, line) = &recent[i];
            let rest = &line[SCRIPT_DONE.len()..];
            meta.end = parse_script_time(rest.split('[').next().unwrap_or(rest));
            // `script` writes "\nScript done on": drop the empty line that newline made.
            match i.checked_sub(1).and_then(|j| recent.get(j)) {
                Some((prev, l)) if l.is_empty() => Some(*prev),
                _ => Some(*off),
            }
        }
        LogKind::Powershell => {
            let i = recent.iter().rposition(|(_, l)| is_ps_marker(l, PS_END))?;
            for (_, l) in &recent[i..] {
                if let Some(v) = value_after(l, "End time") {
                    meta.end = parse_compact(v);
                }
            }
            match i.checked_sub(1).and_then(|j| recent.get(j)) {
                Some((prev, l)) if l.as_bytes().starts_with(STARS) => Some(*prev),
                _ => Some(recent[i].0),
            }
        }
    }
}

/// Reads the end time from the last bytes of a stored log (for listings that do not clean
/// the whole log).
pub fn footer_end_time(tail: &[u8]) -> Option<i64> {
    let decoded;
    let tail = match utf16_alignment(tail) {
        Some(at) => {
            decoded = utf16le_to_utf8(tail.get(at..).unwrap_or_default());
            &decoded[..]
        }
        None => tail,
    };
    let text = String::from_utf8_lossy(tail);
    if let Some(at) = text.rfind(SCRIPT_DONE) {
        let rest = &text[at + SCRIPT_DONE.len()..];
        let line = rest.lines().next().unwrap_or("");
        return parse_script_time(line.split('[').next().unwrap_or(line));
    }
    let at = text.rfind(PS_END)?;
    text[at..]
        .lines()
        .find_map(|l| value_after(l, "End time"))
        .and_then(parse_compact)
}

/// Reads the header from the first bytes of a stored log.
pub fn header_meta(head: &[u8]) -> SessionMeta {
    let decoded;
    let head = match utf16_alignment(head) {
        Some(at) => {
            decoded = utf16le_to_utf8(head.get(at..).unwrap_or_default());
            &decoded[..]
        }
        None => head,
    };
    let mut meta = SessionMeta::default();
    if let Head::NeedMore | Head::None(_) = read_head(head, true, &mut meta) {
        if meta.kind == LogKind::Unknown {
            return SessionMeta::default();
        }
    }
    meta
}

/// Where UTF-16LE text starts in `b` (0 or 1: a tail read from an odd offset), when `b` looks
/// like UTF-16LE: a byte-order mark `FF FE`, or mostly NULs at every other byte (transcripts
/// are ASCII-heavy).
pub(crate) fn utf16_alignment(b: &[u8]) -> Option<usize> {
    if b.starts_with(b"\xFF\xFE") {
        return Some(0);
    }
    let sample = &b[..b.len().min(512)];
    if sample.len() < 8 {
        return None;
    }
    for at in [0, 1] {
        let odd = sample.iter().skip(at + 1).step_by(2);
        let nuls = odd.clone().filter(|&&x| x == 0).count();
        if nuls * 10 >= odd.count() * 9 {
            return Some(at);
        }
    }
    None
}

/// UTF-16LE bytes to UTF-8 (a byte-order mark dropped, unpaired surrogates and an odd last
/// byte as U+FFFD).
pub(crate) fn utf16le_to_utf8(b: &[u8]) -> Vec<u8> {
    let b = b.strip_prefix(b"\xFF\xFE").unwrap_or(b);
    let units = b.chunks_exact(2).map(|p| u16::from_le_bytes([p[0], p[1]]));
    let mut out = String::with_capacity(b.len() / 2 + 4);
    out.extend(char::decode_utf16(units).map(|c| c.unwrap_or('\u{FFFD}')));
    if b.len() % 2 == 1 {
        out.push('\u{FFFD}');
    }
    out.into_bytes()
}
