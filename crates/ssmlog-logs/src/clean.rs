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
//! blank lines can differ where a program moves the cursor below the bottom row.
//!
//! A line written straight through that grows past [`LINE_CAP`] (64 KiB) is cut into lines of
//! that size, the same way however the reads split it, so one huge line (a blob `cat` to the
//! screen) costs bounded memory; a match across a cut is not found. A line being edited
//! (after a CR, a backspace or a cursor movement) is cut the same way once the cursor is past
//! 64 KiB of cells (whole rows when the width is known), and so is a row in screen mode while
//! the width is unknown (the rest goes on the next row; a screen holds at most 200 such rows).

mod cells;
mod grid;
pub(crate) mod header;
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
                    Some(&b) => self.control(b),
                    None => break,
                }
                i += n + 1;
            } else {
                self.escape_byte(buf[i]);
                i += 1;
            }
        }
    }

    /// The fast path: while the text is plain lines (printable bytes ending in LF, CR LF or CR CR LF)
    /// and nothing is being edited, copies them line by line; returns the bytes consumed.
    #[inline]
    fn plain_lines(&mut self, buf: &[u8]) -> usize {
        if self.in_cells
            || self.pending_cr
            || self.alt.is_some()
            || self.main_grid.is_some()
            || self.graphics()
        {
            return 0;
        }
        let mut i = 0;
        loop {
            let rest = &buf[i..];
            let n = find_control(rest);
            let end = match (rest.get(n), rest.get(n + 1)) {
                (Some(b'\n'), _) => n + 1,
                (Some(b'\r'), Some(b'\n')) => n + 2,
                (Some(b'\r'), Some(b'\r')) if rest.get(n + 2) == Some(&b'\n') => n + 3,
                _ => return i,
            };
            self.out.extend_from_slice(&rest[..n]);
            self.cut_long_line();
            self.newline();
            i += end;
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

    /// [`cut_long_line`](Self::cut_long_line) for a line being edited: while the cursor is
    /// more than [`LINE_CAP`] cells into it, the first `LINE_CAP` cells (whole rows, when
    /// the width is known) become a line of text; the cursor and what follows stay.
    fn cut_long_cells(&mut self) {
        let cut = match self.width {
            Some(w) => LINE_CAP - LINE_CAP % w,
            None => LINE_CAP,
        };
        while self.col > cut && self.cells.len() > cut {
            let rest = self.cells.split_off(cut);
            let n = self.cells.len();
            if n == 0 {
                self.cells = rest;
                break;
            }
            self.cells.encode_row(&mut self.out, true);
            self.out.push(b'\n');
            self.cells = rest;
            self.col -= n;
            self.cur_start = self.out.len();
            self.line_no += 1;
        }
    }

    /// Cuts the current line (line mode, written straight through) into lines of at most
    /// [`LINE_CAP`] bytes while it is longer, each cut before a character (a cut inside an
    /// invalid sequence moves back at most three bytes).
    fn cut_long_line(&mut self) {
        while self.out.len() - self.cur_start > LINE_CAP {
            let mut at = self.cur_start + LINE_CAP;
            for _ in 0..3 {
                if self.out[at] & 0xC0 != 0x80 {
                    break;
                }
                at -= 1;
            }
            self.out.insert(at, b'\n');
            self.cur_start = at + 1;
            self.line_no += 1;
        }
    }

    /// Decodes the current line into cells for editing (line mode).
    fn edit_as_cells(&mut self) {
        if self.in_cells {
            return;
        }
        let Self {
            out,
            cells,
            utf8_pending,
            cur_start,
            ..
        } = self;
        cells.set_text(utf8_pending, out.get(*cur_start..).unwrap_or_default());
        self.out.truncate(self.cur_start);
        self.col = if self.pending_cr { 0 } else { self.cells.len() };
        self.line_pending = !self.pending_cr
            && self
                .width
                .is_some_and(|w| self.col > 0 && self.col % w == 0);
        self.pending_cr = false;
        self.in_cells = true;
    }

    /// Line mode: the cursor's column in the line, whether it is past the last column of its
    /// row (pending wrap), and where its row starts.
    fn cursor(&self) -> (usize, bool, usize) {
        let c = self.line_col();
        let pending = if self.in_cells {
            // (Only where a character can have been written last: the end of a row.)
            self.line_pending && self.width.is_some_and(|w| c >= w && c % w == 0)
        } else {
            !self.pending_cr && self.width.is_some_and(|w| c > 0 && c % w == 0)
        };
        let rs = match self.width {
            Some(w) if pending => c - w,
            Some(w) => c - c % w,
            None => 0,
        };
        (c, pending, rs)
    }

    /// Line mode: the cells of the current line (when it is not edited as cells, its text's
    /// columns).
    fn line_len(&self) -> usize {
        if self.in_cells {
            self.cells.len()
        } else if self.pending_cr && self.cur_start == self.out.len() {
            0
        } else {
            text_width(self.out.get(self.cur_start..).unwrap_or_default())
        }
    }

    /// Line mode: moves the cursor to column `c` of the line being edited as cells.
    fn move_in_line(&mut self, c: usize) {
        self.edit_as_cells();
        self.col = c;
        self.line_pending = false;
    }

    /// Readline redraws a line that reaches the right margin as `X \r` (the character in the
    /// last column, a blank that wraps onto the next row, CR to its start), then goes on
    /// writing. When the terminal's width is not known, a CR right after a blank written at
    /// column `L` >= [`MIN_WIDTH`] at the end of the line may be that wrap at width `L`: the
    /// cursor goes to column `L` (the next row's start), and the width becomes `L` when text
    /// follows (a CR or LF next ends the line either way). A width already inferred is only
    /// replaced by a wider one that it does not divide (a shorter `text \r` is a progress
    /// line, not a wrap). Returns whether the CR was taken so.
    fn infer_width(&mut self) -> bool {
        if !self.last_space || (self.width.is_some() && !self.width_inferred) {
            return false;
        }
        let c = self.line_col();
        let at_end = !self.pending_cr && (!self.in_cells || self.col == self.cells.len());
        let Some(l) = c.checked_sub(1) else {
            return false;
        };
        if !at_end || !(MIN_WIDTH..=MAX_WIDTH).contains(&l) {
            return false;
        }
        if let Some(w) = self.width {
            if l <= w || l % w == 0 {
                return false;
            }
        }
        self.move_in_line(l);
        self.wrap_candidate = Some(l);
        true
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

    /// Ends the current line (line mode).
    fn newline(&mut self) {
        if self.in_cells {
            self.cells.encode(&mut self.out);
            self.cells.clear();
            self.in_cells = false;
        } else {
            // Trailing blanks look like nothing on a terminal.
            while self.out.len() > self.cur_start && self.out.last() == Some(&b' ') {
                self.out.pop();
            }
            self.out.push(b'\n');
        }
        self.pending_cr = false;
        self.line_pending = false;
        self.last_space = false;
        if self.meta.kind == LogKind::Powershell {
            self.drop_invocation_header();
        }
        self.cur_start = self.out.len();
        self.line_no += 1;
    }

    /// PowerShell's `-IncludeInvocationHeader` puts `****` / `Command start time: ...` /
    /// `****` before each command: not something the screen showed, so the three lines go.
    fn drop_invocation_header(&mut self) {
        let text = self.out.get(self.floor..).unwrap_or_default();
        let mut ends = memchr::memrchr_iter(b'\n', text);
        let (Some(_), Some(e2), Some(e1)) = (ends.next(), ends.next(), ends.next()) else {
            return;
        };
        let s1 = memchr::memrchr(b'\n', &text[..e1]).map_or(0, |i| i + 1);
        let stars = |l: &[u8]| l.len() >= 10 && l.iter().all(|&b| b == b'*');
        let (l1, l2, l3) = (
            &text[s1..e1],
            &text[e1 + 1..e2],
            &text[e2 + 1..text.len() - 1],
        );
        if stars(l1) && stars(l3) && l2.starts_with(b"Command start time:") {
            let at = self.floor + s1;
            self.out.truncate(at);
        }
    }

    fn line_col(&self) -> usize {
        if self.in_cells {
            self.col
        } else if self.pending_cr {
            0
        } else {
            text_width(self.out.get(self.cur_start..).unwrap_or_default())
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

    fn grid(&mut self) -> Option<(&mut Grid, &mut Vec<u8>)> {
        let Self {
            alt,
            main_grid,
            out,
            ..
        } = self;
        alt.as_mut().or(main_grid.as_mut()).map(|g| (g, out))
    }

    fn linefeed(&mut self) {
        if self.alt.is_some() {
            if let Some((g, out)) = self.grid() {
                g.linefeed(out);
            }
            return;
        }
        let Self { main_grid, out, .. } = self;
        if let Some(g) = main_grid.as_mut() {
            if g.linefeed(out) {
                self.disengage();
            }
            return;
        }
        // Down a row within a wrapped line (readline moving over the rows of a long line).
        if let Some(w) = self.width {
            let (c, pending, rs) = self.cursor();
            if self.line_len() > rs + w {
                let phys = if pending { w - 1 } else { c - rs };
                self.move_in_line(rs + w + phys);
                return;
            }
        }
        self.newline();
    }

    /// Moves the cursor to column `c` of the current line (line mode).
    fn set_line_col(&mut self, c: usize) {
        if !self.in_cells && !self.pending_cr && c >= self.line_col() {
            // Moving right past the end of the text: pad (a tab or CUF after the text).
            let pad = c - self.line_col();
            self.out.extend(std::iter::repeat_n(b' ', pad));
            return;
        }
        self.edit_as_cells();
        self.col = c;
        self.line_pending = false;
    }

    /// Switches the main screen from line mode to screen mode: the window lines fill the
    /// bottom rows (each line as many rows as it wraps onto, when the width is known), the
    /// current line's last row is the last row. A line-mode saved cursor is carried over.
    fn engage(&mut self) {
        if self.alt.is_some() || self.main_grid.is_some() {
            return;
        }
        self.fill_hole();
        let mut g = self.new_grid();
        let first = self.window_start();
        self.edit_as_cells();
        let (c, pending, rs) = self.cursor();
        let w = self.width;
        let split = |cells: &Cells, min_rows: usize, rows: &mut Vec<grid::Row>| {
            let n = match w {
                Some(w) => cells.len().div_ceil(w).max(min_rows).max(1),
                None => 1,
            };
            for i in 0..n {
                let mut row = grid::Row::default();
                match w {
                    Some(w) if n > 1 => {
                        let to = if i + 1 == n {
                            cells.len().max(i * w)
                        } else {
                            (i + 1) * w
                        };
                        row.cells.extend_from(cells, i * w, to);
                    }
                    _ => row.cells.clone_from(cells),
                }
                row.wrapped = i + 1 < n;
                row.touched = true;
                rows.push(row);
            }
        };
        let mut phys = Vec::new();
        let mut tmp = Cells::default();
        let mut pending_utf8 = Vec::new();
        let window = self.out.get(first..self.cur_start).unwrap_or_default();
        let k = memchr::memchr_iter(b'\n', window).count();
        for line in window.split(|&b| b == b'\n').take(k) {
            tmp.set_text(&mut pending_utf8, line);
            pending_utf8.clear();
            split(&tmp, 1, &mut phys);
        }
        let cursor_row = w.map_or(0, |w| rs / w);
        let cur_first = phys.len();
        split(&self.cells, cursor_row + 1, &mut phys);
        if let Some(last) = phys.last_mut() {
            last.touched = !last.cells.is_empty();
        }
        self.cells.clear();
        self.in_cells = false;
        self.out.truncate(first);
        // Rows that do not fit on the screen have scrolled off.
        let height = g.rows.len();
        let over = phys.len().saturating_sub(height);
        grid::emit_rows(&phys[..over], &mut self.out);
        let shift = height - (phys.len() - over);
        for (i, row) in phys.into_iter().enumerate().skip(over) {
            g.rows[shift + i - over] = row;
        }
        let top_of_line = (shift + cur_first).saturating_sub(over);
        g.r = (top_of_line + cursor_row).min(height - 1);
        g.c = c - rs - usize::from(pending);
        g.pending = pending;
        if let Some((line, col)) = self.saved_cursor {
            let up = usize::try_from(self.line_no.saturating_sub(line)).unwrap_or(usize::MAX);
            let (r, col) = match w {
                Some(w) if up == 0 => (top_of_line + col / w, col % w),
                _ => (top_of_line.saturating_sub(up), col),
            };
            g.set_saved(r.min(height - 1), col);
        }
        self.cur_start = self.out.len();
        self.set_floor();
        self.main_grid = Some(g);
    }

    /// Back to line mode after the whole main screen scrolled with the cursor at the bottom:
    /// the rows of the last line (joined when it wrapped) become the current line.
    fn disengage(&mut self) {
        let Some(g) = self.main_grid.take() else {
            return;
        };
        let last = g.rows.len() - 1;
        let mut start = last;
        while start > 0 && g.rows[start - 1].wrapped {
            start -= 1;
        }
        self.set_floor();
        grid::emit_rows(&g.rows[..start], &mut self.out);
        self.cur_start = self.out.len();
        self.pending_cr = false;
        let w = g.width.unwrap_or(0);
        let row = &g.rows[last];
        if start == last && row.cells.is_empty() && g.col() == 0 {
            self.in_cells = false;
        } else {
            self.cells.clear();
            for r in &g.rows[start..last] {
                self.cells.extend_from(&r.cells, 0, w);
            }
            self.cells.extend_from(&row.cells, 0, row.cells.len());
            self.col = (last - start) * w + g.col() + usize::from(g.pending);
            self.line_pending = g.pending;
            self.in_cells = true;
        }
        self.spare = Some(g);
    }

    /// A blank screen of the assumed height, reusing the last one's memory.
    fn new_grid(&mut self) -> Grid {
        let mut g = match self.spare.take() {
            Some(mut g) => {
                g.reset(self.height, self.width);
                g
            }
            None => Grid::new(self.height, self.width),
        };
        g.fixed_height = self.meta.lines.is_some();
        g
    }

    fn enter_alt(&mut self) {
        if self.alt.is_some() {
            return;
        }
        let saved = if let Some(mut g) = self.main_grid.take() {
            let r = g.r.min(g.rows.len() - 1);
            let cur = std::mem::take(&mut g.rows[r]);
            let c = g.col();
            g.emit_all(&mut self.out);
            self.spare = Some(g);
            (cur.cells, c)
        } else {
            self.edit_as_cells();
            self.in_cells = false;
            (std::mem::take(&mut self.cells), self.col)
        };
        self.cur_start = self.out.len();
        self.set_floor();
        self.saved_line = Some(saved);
        let mut g = self.new_grid();
        // A blank screen: a program drawing more rows than assumed makes it taller.
        g.grow = !g.fixed_height;
        self.alt = Some(g);
    }

    fn leave_alt(&mut self) {
        let Some(mut g) = self.alt.take() else {
            return;
        };
        g.emit_all(&mut self.out);
        self.spare = Some(g);
        self.cur_start = self.out.len();
        self.set_floor();
        self.pending_cr = false;
        if let Some((cells, col)) = self.saved_line.take() {
            if !cells.is_empty() || col > 0 {
                self.cells = cells;
                self.col = col;
                self.in_cells = true;
            }
        }
    }

    fn param(&self, i: usize, default: u16) -> u16 {
        match self.params.get(i) {
            Some(&v) if i < self.nparams && v != 0 => v,
            _ => default,
        }
    }

    fn escape_byte(&mut self, b: u8) {
        match self.state {
            State::Ground => {}
            State::Escape => self.escape(b),
            State::EscArg(which) => {
                self.state = State::Ground;
                if b < 0x20 {
                    self.control(b);
                    return;
                }
                match which {
                    b'(' => self.g0_graphics = b == b'0',
                    b')' => self.g1_graphics = b == b'0',
                    _ => {}
                }
            }
            State::Csi => self.csi_byte(b),
            State::Str => match b {
                0x07 => self.state = State::Ground,
                0x1b => self.state = State::StrEsc,
                b'\n' | 0x18 | 0x1a => {
                    self.state = State::Ground;
                    if b == b'\n' {
                        self.linefeed();
                    }
                }
                _ => {
                    self.str_len += 1;
                    if self.str_len > MAX_STRING {
                        self.state = State::Ground;
                    }
                }
            },
            State::StrEsc => {
                if b == b'\\' {
                    self.state = State::Ground;
                } else {
                    // ESC that does not end the string starts a new sequence.
                    self.escape(b);
                }
            }
        }
    }

    fn escape(&mut self, b: u8) {
        self.state = State::Ground;
        match b {
            b'[' => {
                self.state = State::Csi;
                self.params = [0; MAX_PARAMS];
                self.nparams = 0;
                self.private = 0;
                self.inter = 0;
            }
            b']' | b'P' | b'_' | b'^' | b'X' => {
                self.state = State::Str;
                self.str_len = 0;
            }
            b'(' | b')' | b'*' | b'+' | b'-' | b'.' | b'/' | b'#' | b'%' | b' ' => {
                self.state = State::EscArg(b)
            }
            b'7' => self.save_cursor(),
            b'8' => self.restore_cursor(),
            b'D' => self.linefeed(),
            b'E' => {
                self.control(b'\r');
                self.linefeed();
            }
            b'M' => {
                self.engage();
                if let Some((g, _)) = self.grid() {
                    g.reverse_index();
                }
            }
            b'c' => {
                self.leave_alt();
                self.g0_graphics = false;
                self.g1_graphics = false;
                self.shifted = false;
            }
            0x1b => self.state = State::Escape,
            0x00..=0x1f => self.control(b),
            _ => {}
        }
    }

    fn csi_byte(&mut self, b: u8) {
        match b {
            b'0'..=b'9' => {
                if self.nparams == 0 {
                    self.nparams = 1;
                }
                if let Some(p) = self.params.get_mut(self.nparams - 1) {
                    *p = p.saturating_mul(10).saturating_add(u16::from(b - b'0'));
                }
            }
            b';' | b':' => {
                if self.nparams == 0 {
                    self.nparams = 1;
                }
                if self.nparams < MAX_PARAMS {
                    self.nparams += 1;
                }
            }
            b'<'..=b'?' => self.private = b,
            0x20..=0x2f => self.inter = b,
            0x40..=0x7e => {
                self.state = State::Ground;
                self.csi_dispatch(b);
            }
            0x1b => self.state = State::Escape,
            0x00..=0x1f => {
                // A control inside a sequence is executed (ECMA-48); CAN/SUB abort it.
                if b == 0x18 || b == 0x1a {
                    self.state = State::Ground;
                } else {
                    self.control(b);
                }
            }
            _ => self.state = State::Ground,
        }
    }

    fn save_cursor(&mut self) {
        if let Some((g, _)) = self.grid() {
            g.save();
        } else {
            self.saved_cursor = Some((self.line_no, self.line_col()));
        }
    }

    fn restore_cursor(&mut self) {
        if let Some((g, _)) = self.grid() {
            g.restore();
            return;
        }
        let Some((line, col)) = self.saved_cursor else {
            return;
        };
        if line == self.line_no {
            self.set_line_col(col);
            return;
        }
        let up = usize::try_from(self.line_no.saturating_sub(line)).unwrap_or(usize::MAX);
        self.engage();
        if let Some((g, _)) = self.grid() {
            g.up(up);
            g.set_col(col);
        }
    }

    fn csi_dispatch(&mut self, f: u8) {
        if self.inter != 0 {
            return; // DECSCUSR, DECSTR and other intermediates: no effect on text
        }
        if self.private == b'?' {
            if matches!(f, b'h' | b'l') {
                for i in 0..self.nparams.max(1) {
                    if matches!(self.params.get(i), Some(&(47 | 1047 | 1049))) {
                        if f == b'h' {
                            self.enter_alt();
                        } else {
                            self.leave_alt();
                        }
                    }
                }
            }
            return;
        }
        if self.private != 0 {
            return;
        }
        let n = usize::from(self.param(0, 1));
        let line_mode = self.alt.is_none() && self.main_grid.is_none();
        match f {
            b'm' => {}
            // Horizontal: line mode can do these.
            b'C' | b'D' | b'G' | b'`' | b'@' | b'P' | b'X' | b'K' if line_mode => {
                self.line_edit(f, n)
            }
            // Vertical movement that stays on the bottom row, or within a wrapped line, in
            // line mode.
            b'B' | b'e' if line_mode => {
                self.line_vertical(false, n);
            }
            b'A' if line_mode && self.line_vertical(true, n) => {}
            b'E' if line_mode => self.control(b'\r'),
            b'J' if line_mode && self.param(0, 0) == 0 => {
                // Erase below: the rest of the line and its rows below.
                let (c, pending, _) = self.cursor();
                if self.in_cells || c < self.line_len() || pending {
                    self.edit_as_cells();
                    self.cells.truncate(c);
                    self.col = c;
                    self.line_pending = pending;
                } else {
                    self.line_edit(b'K', 0);
                }
            }
            b'J' if line_mode && self.param(0, 0) == 3 => {}
            b's' if self.nparams == 0 => self.save_cursor(),
            b'u' if self.nparams == 0 => self.restore_cursor(),
            b'A' | b'B' | b'e' | b'E' | b'F' | b'H' | b'f' | b'd' | b'J' | b'L' | b'M' | b'S'
            | b'T' | b'r' | b'C' | b'D' | b'G' | b'`' | b'@' | b'P' | b'X' | b'K' => {
                self.engage();
                self.screen_op(f, n);
            }
            _ => {}
        }
    }

    /// Editing within the current line (line mode).
    fn line_edit(&mut self, f: u8, n: usize) {
        if let Some(w) = self.width {
            if self.line_edit_wrapped(f, n, w) {
                return;
            }
        }
        match f {
            b'C' => {
                let c = self.line_col() + n;
                self.set_line_col(c);
            }
            b'D' => {
                let c = self.line_col().saturating_sub(n);
                self.set_line_col(c);
            }
            b'G' | b'`' => self.set_line_col(n - 1),
            b'K' => {
                let mode = self.param(0, 0);
                if !self.in_cells {
                    if self.pending_cr && mode != 1 {
                        self.out.truncate(self.cur_start);
                        self.pending_cr = false;
                        return;
                    }
                    if mode == 0 {
                        return; // cursor at the end: nothing after it
                    }
                    self.edit_as_cells();
                }
                self.cells.erase(self.col, mode);
            }
            _ => {
                self.edit_as_cells();
                self.cells.edit(self.col, f, n, usize::MAX);
            }
        }
    }

    /// [`line_edit`](Self::line_edit) on a terminal `w` columns wide: the cursor moves
    /// within its row, and erasing or inserting stays in it. Returns false when the line
    /// fits in its first row and the cursor is not past the margin (the plain edit does the
    /// same there).
    fn line_edit_wrapped(&mut self, f: u8, n: usize, w: usize) -> bool {
        let (c, pending, rs) = self.cursor();
        let len = self.line_len();
        if rs == 0 && !pending && len <= w && f != b'C' && f != b'G' && f != b'`' {
            return false;
        }
        let phys = if pending { w - 1 } else { c - rs };
        let at = rs + phys;
        match f {
            b'C' => {
                let to = rs + (phys + n).min(w - 1);
                if !self.in_cells && !self.pending_cr && to >= len {
                    self.set_line_col(to);
                } else {
                    self.move_in_line(to);
                }
            }
            b'D' => self.move_in_line(rs + phys.saturating_sub(n)),
            b'G' | b'`' => {
                let to = rs + (n - 1).min(w - 1);
                if !self.in_cells && !self.pending_cr && to >= len {
                    self.set_line_col(to);
                } else {
                    self.move_in_line(to);
                }
            }
            b'K' => {
                self.edit_as_cells();
                let end = rs + w;
                let (from, to) = match self.param(0, 0) {
                    0 => (at + usize::from(pending), end),
                    1 => (rs, at + 1),
                    2 => (rs, end),
                    _ => return true,
                };
                if to >= self.cells.len() {
                    self.cells.truncate(from);
                } else {
                    self.cells.blank(from, to);
                }
                self.col = c;
                self.line_pending = pending;
            }
            _ => {
                self.edit_as_cells();
                self.cells.edit(at, f, n, rs + w);
                self.col = at;
                self.line_pending = false;
            }
        }
        true
    }

    /// CUU / CUD in line mode on a terminal of known width: within the rows of a wrapped line.
    /// Returns false when the movement leaves the line (up), so the screen takes over.
    fn line_vertical(&mut self, up: bool, n: usize) -> bool {
        let Some(w) = self.width else {
            return !up;
        };
        let (c, pending, rs) = self.cursor();
        let phys = if pending { w - 1 } else { c - rs };
        let row = rs / w;
        if up {
            if n > row {
                return false;
            }
            self.move_in_line(rs - n * w + phys);
        } else {
            let rows = self.line_len().saturating_sub(1) / w;
            let down = n.min(rows.saturating_sub(row));
            if down > 0 {
                self.move_in_line(rs + down * w + phys);
            }
        }
        true
    }

    fn screen_op(&mut self, f: u8, n: usize) {
        let p0 = self.param(0, 0);
        let row = usize::from(self.param(0, 1)) - 1;
        let col = usize::from(self.param(1, 1)) - 1;
        let (top, bottom) = (self.param(0, 1), self.param(1, 0));
        let Some((g, out)) = self.grid() else {
            return;
        };
        match f {
            b'A' => g.up(n),
            b'B' | b'e' => g.down(n),
            b'E' => {
                g.down(n);
                g.cr();
            }
            b'F' => {
                g.up(n);
                g.cr();
            }
            b'H' | b'f' => g.goto(row, col),
            b'd' => g.goto_row(row),
            b'J' => g.erase_display(p0, out),
            b'K' => g.erase_line(p0),
            b'L' => g.edit_lines(true, n),
            b'M' => g.edit_lines(false, n),
            b'S' => g.scroll_up(n, out),
            b'T' => g.scroll_down(n),
            b'r' => g.set_region(top, bottom),
            b'C' => g.set_col(g.col() + n),
            b'D' => g.set_col(g.col().saturating_sub(n)),
            b'G' | b'`' => g.set_col(n - 1),
            b'@' | b'P' | b'X' => g.edit_chars(f, n),
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
    use super::find_control;

    /// The 16-byte scan finds the first C0 or DEL byte wherever it is, including bytes with
    /// the high bit set next to it (UTF-8) and lengths that leave a tail.
    #[test]
    fn find_control_agrees_with_a_byte_by_byte_scan() {
        const ALPHABET: &[u8] = b"\x00\x08\x0a\x0d\x1b\x1f\x20\x7e\x7f\x80\xc3\xff";
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for len in 0..100 {
            for _ in 0..30 {
                let mut b = vec![b'a'; len];
                for _ in 0..3 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    if len > 0 {
                        b[(x as usize) % len] = ALPHABET[(x >> 32) as usize % ALPHABET.len()];
                    }
                }
                let want = b.iter().position(|&c| c < 0x20 || c == 0x7f).unwrap_or(len);
                assert_eq!(find_control(&b), want, "{b:?}");
            }
        }
    }
}
