//! The cleaner: raw pty output in, the text a person saw out.
//!
//! # Design
//!
//! Bytes go through a small VT/ECMA-48 parser (ground, escape, CSI, OSC and string states)
//! that keeps its state across [`Cleaner::feed`] calls, so sequences and UTF-8 characters may
//! be split anywhere. What the parser finds drives one of two models of the screen:
//!
//! * **Line mode** (almost all of a shell session): the output buffer itself is the screen.
//!   Runs of printable bytes are copied straight into it; a line ends at LF. Only when a line
//!   is edited (CR followed by text, backspace, CUB/CUF/CHA, ICH/DCH/ECH, EL 1/2) is that one
//!   line decoded into cells, edited, and encoded back at its LF. Progress bars collapse to
//!   their final state and `a\b \b` erases. The last screen-height lines stay editable until
//!   they scroll off, so a later switch to screen mode can still reach them.
//! * **Screen mode**, engaged by the first vertical cursor movement, erase-display, scroll
//!   region, reverse index or cursor restore to another row: a grid of rows (the height from
//!   `script`'s `LINES`, else 24 and grown; see below) with cursor, scroll region and saved
//!   cursor. Rows that
//!   scroll off the top become text; a full clear (`ED 2`, or `ED 0` from the home position)
//!   first emits what was on screen, so `clear` keeps the history while redraws in place
//!   collapse. When the whole screen scrolls with the cursor on the bottom row, the grid goes
//!   back to line mode.
//! * **Alternate screen** (`?1049h`, `?1047h`, `?47h`: `vim`, `less`, `top`): the lines
//!   before it are final; the alternate screen is a grid of its own, and what it showed last
//!   (when left, cleared, or at the end of the log) is emitted as lines, followed by the main
//!   screen line the program was started from. So `vim` contributes the last screen the user
//!   saw, and every full redraw.
//!
//! SGR (colours), OSC (titles, hyperlinks), DCS/APC/PM/SOS strings, modes other than the
//! alternate screen, and BEL are dropped. `ESC ( 0` and SO/SI select DEC line drawing, shown
//! as box-drawing characters. CRLF and bare LF both end a line (line mode); invalid UTF-8
//! becomes U+FFFD; nothing panics on any input.
//!
//! The terminal's width comes from `script`'s header (`COLUMNS`), or, in the agent's form
//! (no size in the header), from readline's redraw of a line reaching the right margin (see
//! [`Cleaner::infer_width`]); once known, text wraps as on a terminal with `am` and `xenl`
//! (pending wrap) and a wrapped line is one line of text; CR, backspace, cursor movement,
//! erasing and inserting act on the row the cursor is on, so readline's redraws, edits and
//! history recall of long lines come out as shown. While the width is not known lines do not
//! wrap. Characters take the columns `unicode-width` gives them (double-width CJK, zero-width
//! combining marks). The height comes from the header (`LINES`, rows below it clamped); when
//! unknown, 24 rows, grown when a program addresses a row below them or sets a larger scroll
//! region, and a blank screen (the alternate screen, or the main one after a clear) grows by
//! line feeds on its bottom row up to 200 rows instead of scrolling, so a full-screen program
//! on a taller terminal is not scrolled into pieces (its lines are kept either way).
//!
//! `tests/terminal_oracle.rs` compares the cleaned text with a terminal emulator (`vt100`) on
//! sessions recorded in a pty. Differences by design: the cleaner keeps what a terminal
//! erases or scrolls off the alternate screen (screens before a clear, full-screen programs'
//! last screens and the lines that scrolled off them). Known gaps: an OSC or string left
//! unterminated ends at the next line feed rather than swallowing the log; in screen mode the
//! assumed position of earlier lines (bottom-aligned) can differ from the real terminal's; a
//! wrong width can be inferred from a progress line redrawn as `text \r` of at least 20
//! columns before any readline wrap (a later, wider wrap corrects it); with the height unknown,
//! blank lines can differ where a program moves the cursor below the bottom row; a row the
//! cursor skipped (moved past it without writing) between written rows is a blank line when the
//! screen is emitted at once (a clear, the end of the log), but none when it scrolls off the
//! top.
//!
//! A line written straight through that grows past [`LINE_CAP`] (64 KiB) is cut into lines of
//! that size, the same way however the reads split it, so one huge line (a blob `cat` to the
//! screen) costs bounded memory; a match across a cut is not found. A line being edited
//! (after a CR, a backspace or a cursor movement) is cut the same way once the cursor is past
//! 64 KiB of cells (whole rows when the width is known). In screen mode with the width unknown
//! the margin is 64 KiB columns, where text goes on on the next row without joining it; with
//! the width known, a line wrapped over rows that scroll off the screen ends before the row
//! that would take it past 64 KiB.

mod cells;
mod grid;
pub(crate) mod header;
mod line;
mod screen;
mod sequences;
pub(crate) mod skip;

use cells::{text_width, Cells};
use grid::Grid;
use header::{find_footer, read_head, Head, LogKind, SessionMeta};

const MAX_PARAMS: usize = 16;
const DEFAULT_ROWS: usize = 24;
/// The narrowest terminal a readline redraw is taken to show (see [`Cleaner::infer_width`]).
const MIN_WIDTH: usize = 20;
const MAX_WIDTH: usize = 1000;
/// An OSC or string longer than this is abandoned (its bytes are dropped either way).
const MAX_STRING: usize = 1 << 20;
/// A line written straight through (line mode) that grows longer than this many bytes is
/// cut into lines of at most this many (at a character boundary), wherever the log's reads
/// split it: so a log of one 200 MB line is cleaned, searched and exported in bounded memory.
/// A terminal shows such a line as rows of its width anyway (64 KiB is 64 rows of the widest
/// terminal taken, 1,000 columns).
pub const LINE_CAP: usize = 64 << 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Ground,
    Escape,
    /// `ESC (`, `ESC )`, `ESC #`, ... : one more byte selects (the byte is in `which`).
    EscArg(u8),
    Csi,
    /// OSC, DCS, APC, PM, SOS: dropped up to BEL or ST.
    Str,
    /// ESC inside a string: `\` ends it.
    StrEsc,
}

/// Whether the log is UTF-16LE (decided by its first two bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Utf16 {
    Undecided,
    No,
    Yes,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Head,
    Body,
    Done,
}

/// A streaming cleaner for one log. Feed it bytes, take the cleaned text as it becomes final.
///
/// ```
/// let mut c = ssmlog_logs::Cleaner::new();
/// c.feed(b"Script started on 2026-11-23 10:15:00+00:00\n\x1b[01;32mme@h\x1b[00m:~$ ls\r\n");
/// c.feed(b"10%\r50%\r100%\r\ndone\r\n");
/// c.finish();
/// let mut text = String::new();
/// c.take(&mut text);
/// assert_eq!(text, "me@h:~$ ls\n100%\ndone\n");
/// ```
#[derive(Debug)]
pub struct Cleaner {
    utf16: Utf16,
    /// UTF-16: bytes of a unit (or surrogate pair) not complete yet; undecided: the first
    /// byte.
    utf16_carry: Vec<u8>,
    phase: Phase,
    head: Vec<u8>,
    meta: SessionMeta,
    state: State,
    params: [u16; MAX_PARAMS],
    nparams: usize,
    private: u8,
    inter: u8,
    str_len: usize,
    g0_graphics: bool,
    g1_graphics: bool,
    shifted: bool,
    height: usize,
    /// The terminal's width: from `script`'s header, or inferred from readline's redraws
    /// (`width_inferred`); unknown: lines do not wrap.
    width: Option<usize>,
    width_inferred: bool,
    /// Line mode, editing as cells: the cursor is past the last column of its row (a
    /// character was written there; the next one wraps first).
    line_pending: bool,
    /// The last byte printed was a blank (readline's wrap: `X \r` at the margin).
    last_space: bool,
    /// A CR right after such a blank, taken for readline's wrap at this width until the next
    /// byte tells (see [`Cleaner::infer_width`]).
    wrap_candidate: Option<usize>,
    /// Cleaned text: final text, then the editable window lines, then the current line.
    out: Vec<u8>,
    /// Line mode: text before this offset is final (emitted by a screen, or out of the
    /// window); the window is the last `height - 1` lines after it.
    floor: usize,
    /// Start of the current line (line mode).
    cur_start: usize,
    /// Line mode: cursor at column 0 of a non-empty line (a CR not yet followed by text).
    pending_cr: bool,
    /// Line mode: the current line is being edited as cells.
    in_cells: bool,
    cells: Cells,
    col: usize,
    /// An incomplete UTF-8 character at the end of the last run (cell and screen modes).
    utf8_pending: Vec<u8>,
    main_grid: Option<Grid>,
    alt: Option<Grid>,
    /// The main screen's current line while the alternate screen shows.
    saved_line: Option<(Cells, usize)>,
    /// A screen no longer in use, kept so the next one reuses its rows.
    spare: Option<Grid>,
    /// Line feeds so far in line mode, and the line mode's saved cursor.
    line_no: u64,
    saved_cursor: Option<(u64, usize)>,
    /// Runs of plain lines skipped by the search (see [`skip`]), and the raw last lines of
    /// the latest one while the window can still reach them.
    holes: Vec<skip::Hole>,
    hole_tail: Vec<u8>,
}

/// A screen's memory (its rows) kept from one log's cleaner for the next (see
/// [`Cleaner::into_parts`]), so that a search over many logs does not allocate the rows of
/// each log's screen anew.
#[derive(Debug, Default)]
pub(crate) struct SpareScreen(Option<Grid>);

impl Default for Cleaner {
    fn default() -> Self {
        Self::new()
    }
}

/// Where the first control byte (C0 or DEL) is, or `b.len()`. Called for every stretch of
/// text between controls (a line, often shorter), so it finds the exact position 16 bytes at
/// a time (SSE2, in every x86-64) instead of finding the block first and then the byte.
#[inline]
fn find_control(b: &[u8]) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8,
            _mm_or_si128, _mm_set1_epi8,
        };
        let mut i = 0;
        // SAFETY: SSE2 is part of the x86-64 baseline; every load reads 16 bytes inside `b`.
        unsafe {
            let c1f = _mm_set1_epi8(0x1f);
            let del = _mm_set1_epi8(0x7f);
            while i + 16 <= b.len() {
                let v = _mm_loadu_si128(b.as_ptr().add(i).cast::<__m128i>());
                // x <= 0x1f (unsigned) exactly when max(x, 0x1f) == 0x1f.
                let ctrl = _mm_cmpeq_epi8(_mm_max_epu8(v, c1f), c1f);
                let hit = _mm_movemask_epi8(_mm_or_si128(ctrl, _mm_cmpeq_epi8(v, del)));
                if hit != 0 {
                    return i + hit.trailing_zeros() as usize;
                }
                i += 16;
            }
        }
        i + b[i..]
            .iter()
            .position(|&x| x < 0x20 || x == 0x7f)
            .unwrap_or(b.len() - i)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        b.iter()
            .position(|&x| x < 0x20 || x == 0x7f)
            .unwrap_or(b.len())
    }
}

/// The lines of `b`, each with its LF (the last without, when `b` does not end in one), as
/// `split_inclusive` gives them but found with `memchr` (a split by a closure looks at one byte
/// at a time, on every clear and every reach back into skipped lines).
pub(crate) fn lines_with_lf(b: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let mut ends = memchr::memchr_iter(b'\n', b);
    std::iter::from_fn(move || {
        if start >= b.len() {
            return None;
        }
        let end = ends.next().map_or(b.len(), |i| i + 1);
        let line = &b[start..end];
        start = end;
        Some(line)
    })
}

/// The length of a complete SGR sequence after its ESC (`[`, digits and separators, `m`) at
/// the start of `b`, if there is one.
#[inline]
fn sgr_len(b: &[u8]) -> Option<usize> {
    if b.first() != Some(&b'[') {
        return None;
    }
    let params = b[1..]
        .iter()
        .position(|&x| !matches!(x, b'0'..=b'9' | b';' | b':'))?;
    (b[1 + params] == b'm').then_some(params + 2)
}

/// Decodes `bytes` after any `pending` partial character, calling `f` per character; an
/// incomplete character at the end is kept in `pending`.
fn decode(pending: &mut Vec<u8>, bytes: &[u8], mut f: impl FnMut(char)) {
    let joined;
    let mut rest: &[u8] = if pending.is_empty() {
        bytes
    } else {
        joined = [pending.as_slice(), bytes].concat();
        pending.clear();
        &joined
    };
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                s.chars().for_each(&mut f);
                return;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                std::str::from_utf8(good)
                    .unwrap_or_default()
                    .chars()
                    .for_each(&mut f);
                match e.error_len() {
                    Some(n) => {
                        f('\u{FFFD}');
                        rest = &bad[n..];
                    }
                    None => {
                        pending.extend_from_slice(bad);
                        return;
                    }
                }
            }
        }
    }
}

/// DEC special graphics (`ESC ( 0`) for bytes 0x60..=0x7e.
fn dec_graphic(b: u8) -> char {
    const MAP: [char; 31] = [
        '◆', '▒', '␉', '␌', '␍', '␊', '°', '±', '␤', '␋', '┘', '┐', '┌', '└', '┼', '⎺', '⎻', '─',
        '⎼', '⎽', '├', '┤', '┴', '┬', '│', '≤', '≥', 'π', '≠', '£', '·',
    ];
    match b {
        0x60..=0x7e => MAP[usize::from(b - 0x60)],
        _ => char::from(b),
    }
}

impl Cleaner {
    /// A cleaner for one log, expecting a `script` or PowerShell header (or none).
    pub fn new() -> Self {
        Self::with_buffer(Vec::new())
    }

    /// A cleaner that writes into `buf` (cleared; its capacity is reused, as by
    /// [`into_bytes`](Self::into_bytes)).
    pub fn with_buffer(mut buf: Vec<u8>) -> Self {
        buf.clear();
        Self {
            utf16: Utf16::Undecided,
            utf16_carry: Vec::new(),
            phase: Phase::Head,
            head: Vec::new(),
            meta: SessionMeta::default(),
            state: State::Ground,
            params: [0; MAX_PARAMS],
            nparams: 0,
            private: 0,
            inter: 0,
            str_len: 0,
            g0_graphics: false,
            g1_graphics: false,
            shifted: false,
            height: DEFAULT_ROWS,
            width: None,
            width_inferred: false,
            line_pending: false,
            last_space: false,
            wrap_candidate: None,
            out: buf,
            floor: 0,
            cur_start: 0,
            pending_cr: false,
            in_cells: false,
            cells: Cells::default(),
            col: 0,
            utf8_pending: Vec::new(),
            main_grid: None,
            alt: None,
            saved_line: None,
            spare: None,
            line_no: 0,
            saved_cursor: None,
            holes: Vec::new(),
            hole_tail: Vec::new(),
        }
    }

    /// Reserves room for about `n` more bytes of cleaned text.
    pub fn reserve(&mut self, n: usize) {
        self.out.reserve(n);
    }

    /// What the header (and, after [`finish`](Self::finish), the footer) said.
    pub fn meta(&self) -> &SessionMeta {
        &self.meta
    }

    /// Cleans more bytes of the log.
    pub fn feed(&mut self, bytes: &[u8]) {
        match self.utf16 {
            Utf16::No => self.feed_utf8(bytes),
            Utf16::Yes => self.feed_utf16(bytes),
            // Decided on the first two bytes without copying the rest (the first read may be
            // the whole log).
            Utf16::Undecided if self.utf16_carry.is_empty() => match bytes {
                [] => {}
                [0xFF] => self.utf16_carry.push(0xFF),
                [0xFF, 0xFE, rest @ ..] => {
                    self.utf16 = Utf16::Yes;
                    self.feed_utf16(rest);
                }
                _ => {
                    self.utf16 = Utf16::No;
                    self.feed_utf8(bytes);
                }
            },
            Utf16::Undecided => {
                let mut first = std::mem::take(&mut self.utf16_carry);
                first.extend_from_slice(bytes);
                if first.len() < 2 && first.first().is_none_or(|&b| b == 0xFF) {
                    self.utf16_carry = first; // the second byte decides
                } else if let Some(rest) = first.strip_prefix(b"\xFF\xFE") {
                    self.utf16 = Utf16::Yes;
                    self.feed_utf16(rest);
                } else {
                    self.utf16 = Utf16::No;
                    self.feed_utf8(&first);
                }
            }
        }
    }

    /// A UTF-16LE log (PowerShell's `-Encoding Unicode`, after its byte-order mark), decoded
    /// to UTF-8 as it comes; a unit split across reads, or a surrogate pair, waits for the
    /// rest.
    fn feed_utf16(&mut self, bytes: &[u8]) {
        let mut b = std::mem::take(&mut self.utf16_carry);
        b.extend_from_slice(bytes);
        let mut units = b.len() / 2;
        if let Some(last) = units.checked_sub(1) {
            let u = u16::from_le_bytes([b[2 * last], b[2 * last + 1]]);
            if (0xD800..0xDC00).contains(&u) {
                units = last;
            }
        }
        let decoded: String = char::decode_utf16(
            b[..2 * units]
                .chunks_exact(2)
                .map(|p| u16::from_le_bytes([p[0], p[1]])),
        )
        .map(|c| c.unwrap_or('\u{FFFD}'))
        .collect();
        self.utf16_carry = b[2 * units..].to_vec();
        self.feed_utf8(decoded.as_bytes());
    }

    fn feed_utf8(&mut self, bytes: &[u8]) {
        match self.phase {
            Phase::Body => self.process(bytes),
            Phase::Head if self.head.is_empty() => {
                // Decide on these bytes without copying them when they hold the header.
                match read_head(bytes, false, &mut self.meta) {
                    Head::NeedMore => self.head.extend_from_slice(bytes),
                    Head::Header(n) | Head::None(n) => {
                        self.start_body();
                        self.process(bytes.get(n..).unwrap_or_default());
                    }
                }
            }
            Phase::Head => {
                self.head.extend_from_slice(bytes);
                self.try_head(false);
            }
            Phase::Done => {}
        }
    }

    fn try_head(&mut self, eof: bool) {
        let skip = match read_head(&self.head, eof, &mut self.meta) {
            Head::NeedMore => return,
            Head::Header(n) | Head::None(n) => n,
        };
        self.start_body();
        let head = std::mem::take(&mut self.head);
        self.process(head.get(skip..).unwrap_or_default());
    }

    fn start_body(&mut self) {
        if let Some(l) = self.meta.lines {
            self.height = l.clamp(2, 1000);
        }
        self.width = self.meta.columns.map(|c| c.clamp(2, MAX_WIDTH));
        self.phase = Phase::Body;
    }

    /// Ends the log: resolves what is still on screen and removes the footer.
    pub fn finish(&mut self) {
        if !self.utf16_carry.is_empty() {
            let carry = std::mem::take(&mut self.utf16_carry);
            match self.utf16 {
                Utf16::Yes => self.feed_utf8("\u{FFFD}".as_bytes()),
                _ => {
                    self.utf16 = Utf16::No;
                    self.feed_utf8(&carry);
                }
            }
        }
        if self.phase == Phase::Head {
            self.try_head(true);
        }
        if self.phase == Phase::Done {
            return;
        }
        self.phase = Phase::Done;
        self.flush_pending_utf8();
        self.fill_hole();
        let tail_from = self.committed_end();
        if self.alt.is_some() {
            self.leave_alt();
        }
        if let Some(mut g) = self.main_grid.take() {
            g.emit_all(&mut self.out);
            self.cur_start = self.out.len();
            self.spare = Some(g);
        } else {
            let line_empty = !self.in_cells && self.cur_start == self.out.len();
            let cells_empty = self.in_cells && self.cells.is_blank();
            if !(line_empty || cells_empty) {
                self.newline();
            } else if self.in_cells {
                self.in_cells = false;
                self.cells.clear();
            }
            self.cur_start = self.out.len();
        }
        let kind = self.meta.kind;
        if let Some(tail) = self.out.get(tail_from..) {
            if let Some(at) = find_footer(tail, kind, &mut self.meta) {
                self.out.truncate(tail_from + at);
            }
        }
        self.cur_start = self.out.len();
        self.set_floor();
    }

    /// Appends the text that is final (complete lines, each ending in `\n`) to `dst` and
    /// forgets it. After [`finish`](Self::finish) that is everything.
    pub fn take(&mut self, dst: &mut String) {
        let end = self.committed_end().min(self.out.len());
        if end == 0 {
            return;
        }
        match std::str::from_utf8(&self.out[..end]) {
            Ok(s) => dst.push_str(s),
            Err(_) => dst.push_str(&String::from_utf8_lossy(&self.out[..end])),
        }
        self.out.drain(..end);
        self.floor = self.floor.saturating_sub(end);
        self.cur_start = self.cur_start.saturating_sub(end);
    }

    /// Finishes and returns all cleaned text with the session's metadata.
    pub fn into_text(mut self) -> (String, SessionMeta) {
        self.finish();
        let text = match String::from_utf8(std::mem::take(&mut self.out)) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        (text, self.meta)
    }

    /// Finishes and returns the cleaned text as bytes (valid UTF-8), for callers that reuse the
    /// buffer.
    pub fn into_bytes(mut self) -> (Vec<u8>, SessionMeta) {
        self.finish();
        let out = std::mem::take(&mut self.out);
        let out = match std::str::from_utf8(&out) {
            Ok(_) => out,
            Err(_) => String::from_utf8_lossy(&out).into_owned().into_bytes(),
        };
        (out, self.meta)
    }

    fn committed_end(&self) -> usize {
        if self.alt.is_some() || self.main_grid.is_some() {
            self.out.len()
        } else {
            self.window_start()
        }
    }

    /// Start of the editable window: up to `height - 1` complete lines before the current
    /// line, not before `floor`.
    fn window_start(&self) -> usize {
        let mut start = self.cur_start;
        for _ in 1..self.height {
            if start <= self.floor {
                return self.floor;
            }
            match self
                .out
                .get(self.floor..start - 1)
                .and_then(|w| memchr::memrchr(b'\n', w))
            {
                Some(i) => start = self.floor + i + 1,
                None => return self.floor,
            }
        }
        start
    }

    fn graphics(&self) -> bool {
        if self.shifted {
            self.g1_graphics
        } else {
            self.g0_graphics
        }
    }

    fn process(&mut self, buf: &[u8]) {
        let mut i = 0;
        while i < buf.len() {
            if self.state == State::Ground {
                i += self.plain_lines(&buf[i..]);
                let rest = &buf[i..];
                let n = find_control(rest);
                if n > 0 {
                    self.print(&rest[..n]);
                }
                let line_mode = self.alt.is_none() && self.main_grid.is_none();
                match rest.get(n) {
                    // CR LF, CR CR LF (the agent's form) and LF end a line the same way in
                    // line mode.
                    // (When editing a wrapped line, the CR may leave the cursor on a row
                    // above the line's last, where LF moves down instead.)
                    Some(b'\r')
                        if line_mode && !self.in_cells && rest.get(n + 1) == Some(&b'\n') =>
                    {
                        self.newline();
                        i += 1;
                    }
                    Some(b'\r')
                        if line_mode
                            && !self.in_cells
                            && rest.get(n + 1) == Some(&b'\r')
                            && rest.get(n + 2) == Some(&b'\n') =>
                    {
                        self.newline();
                        i += 2;
                    }
                    Some(b'\n') if line_mode && !self.in_cells => self.newline(),
                    Some(&0x1b) => {
                        self.control(0x1b);
                        // SGR (colours), the most common sequence, changes nothing the
                        // cleaner keeps: it ends here, without the parser's states.
                        if let Some(len) = sgr_len(&rest[n + 1..]) {
                            self.state = State::Ground;
                            i += len;
                        }
                    }
                    Some(&b) => self.control(b),
                    None => break,
                }
                i += n + 1;
            } else {
                // A sequence's parameters, and a string's body, are taken in one go.
                let n = match self.state {
                    State::Csi => self.csi_params(&buf[i..]),
                    State::Str => self.string_body(&buf[i..]),
                    _ => 0,
                };
                if n > 0 {
                    i += n;
                    continue;
                }
                self.escape_byte(buf[i]);
                i += 1;
            }
        }
    }

    /// Printable bytes (no C0, no DEL) at the cursor.
    fn print(&mut self, run: &[u8]) {
        let graphics = self.graphics();
        if let Some(w) = self.wrap_candidate.take() {
            // Text right after `X \r`: it was readline's wrap at this width.
            self.width = Some(w);
            self.width_inferred = true;
            self.line_pending = false;
        }
        self.last_space = run.last() == Some(&b' ');
        if self.alt.is_some() || self.main_grid.is_some() {
            let Self {
                alt,
                main_grid,
                utf8_pending,
                out,
                ..
            } = self;
            if let Some(g) = alt.as_mut().or(main_grid.as_mut()) {
                g.print(utf8_pending, run, graphics, out);
            }
            return;
        }
        if !self.in_cells {
            if self.pending_cr {
                if self.cur_start == self.out.len() {
                    self.pending_cr = false;
                } else {
                    self.edit_as_cells();
                }
            }
            if !self.in_cells {
                if graphics {
                    let mut buf = [0u8; 4];
                    for &b in run {
                        let s = dec_graphic(b).encode_utf8(&mut buf);
                        self.out.extend_from_slice(s.as_bytes());
                    }
                } else {
                    self.out.extend_from_slice(run);
                }
                self.cut_long_line();
                return;
            }
        }
        let Self {
            cells,
            col,
            utf8_pending,
            width,
            ..
        } = self;
        cells.print(col, utf8_pending, run, graphics, *width);
        self.line_pending = self
            .width
            .is_some_and(|w| self.col > 0 && self.col % w == 0);
        self.cut_long_cells();
    }

    fn flush_pending_utf8(&mut self) {
        if self.utf8_pending.is_empty() {
            return;
        }
        self.utf8_pending.clear();
        if self.alt.is_some() || self.main_grid.is_some() || self.in_cells {
            self.print("\u{FFFD}".as_bytes());
        }
    }

    fn control(&mut self, b: u8) {
        self.flush_pending_utf8();
        self.wrap_candidate = None;
        let space = std::mem::take(&mut self.last_space);
        match b {
            b'\n' | 0x0b | 0x0c => self.linefeed(),
            b'\r' => {
                if let Some((g, _)) = self.grid() {
                    g.cr();
                    return;
                }
                self.last_space = space;
                if self.infer_width() {
                    self.last_space = false;
                    return;
                }
                self.last_space = false;
                let (_, _, rs) = self.cursor();
                if rs > 0 {
                    self.move_in_line(rs);
                } else if self.in_cells {
                    self.col = 0;
                    self.line_pending = false;
                } else if self.cur_start != self.out.len() {
                    self.pending_cr = true;
                }
            }
            0x08 => {
                if let Some((g, _)) = self.grid() {
                    g.bs();
                } else if !(self.pending_cr || self.cur_start == self.out.len() && !self.in_cells) {
                    let (c, pending, rs) = self.cursor();
                    if pending || c > rs {
                        self.move_in_line(c - 1);
                    }
                }
            }
            b'\t' => {
                if let Some((g, _)) = self.grid() {
                    g.tab();
                } else {
                    let (c, pending, rs) = self.cursor();
                    let phys = if pending { c - rs - 1 } else { c - rs };
                    let mut to = (phys / 8 + 1) * 8;
                    if let Some(w) = self.width {
                        to = to.min(w - 1);
                    }
                    self.set_line_col(rs + to);
                }
            }
            0x1b => self.state = State::Escape,
            0x0e => self.shifted = true,
            0x0f => self.shifted = false,
            _ => {}
        }
    }
}

/// Characters of a printable run, through DEC line drawing when selected.
fn put_run(pending: &mut Vec<u8>, run: &[u8], graphics: bool, mut put: impl FnMut(char)) {
    if graphics {
        for &b in run {
            put(dec_graphic(b));
        }
    } else {
        decode(pending, run, put);
    }
}

/// Cleans a whole log in one call: its text (lines ending in `\n`) and what its header and
/// footer said.
pub fn clean(bytes: &[u8]) -> (String, SessionMeta) {
    let mut c = Cleaner::new();
    c.feed(bytes);
    c.into_text()
}

/// The kind a log is, from its first bytes.
pub fn kind_of(head: &[u8]) -> LogKind {
    header::header_meta(head).kind
}

#[cfg(test)]
mod tests {
    use super::{find_control, lines_with_lf, sgr_len};

    /// The lines come out as `split_inclusive` gives them, with or without a last LF.
    #[test]
    fn lines_with_lf_are_split_inclusive() {
        for b in [
            &b""[..],
            b"\n",
            b"a",
            b"a\n",
            b"a\nb",
            b"a\n\nb\n",
            b"\n\n",
            b"\xffx\n\x1b",
        ] {
            let want: Vec<&[u8]> = b.split_inclusive(|&c| c == b'\n').collect();
            assert_eq!(lines_with_lf(b).collect::<Vec<_>>(), want, "{b:?}");
        }
    }

    /// Only a complete SGR sequence (digits and separators, then `m`) is taken whole; any
    /// other sequence, or one cut short by the read, is left to the parser.
    #[test]
    fn sgr_len_takes_only_complete_colour_sequences() {
        assert_eq!(sgr_len(b"[m"), Some(2));
        assert_eq!(sgr_len(b"[01;32mssm-user"), Some(7));
        assert_eq!(sgr_len(b"[38:5:208mx"), Some(10));
        for other in [
            &b"[01;3"[..],
            b"[",
            b"",
            b"]0;t\x07",
            b"[?25m",
            b"[1;2H",
            b"[2 q",
            b"[1\x08m",
        ] {
            assert_eq!(sgr_len(other), None, "{other:?}");
        }
    }

    /// The 16-byte scan finds the first C0 or DEL byte wherever it is, including bytes with
    /// the high bit set next to it (UTF-8) and lengths that leave a tail.
    #[test]
    fn find_control_agrees_with_a_byte_by_byte_scan() {
        const ALPHABET: &[u8] = b"\x00\x08\x0a\x0d\x1b\x1f\x20\x7e\x7f\x80\xc3\xff";
        let mut rng = crate::gen::Rng::new(4);
        for len in 0..100 {
            for _ in 0..30 {
                let mut b = vec![b'a'; len];
                for _ in 0..3 {
                    if len > 0 {
                        b[rng.below(len)] = *rng.pick(ALPHABET);
                    }
                }
                let want = b.iter().position(|&c| c < 0x20 || c == 0x7f).unwrap_or(len);
                assert_eq!(find_control(&b), want, "{b:?}");
            }
        }
    }
}
