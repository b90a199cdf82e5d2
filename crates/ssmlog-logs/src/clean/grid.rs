//! The screen model: a grid of rows with a cursor, scroll region and saved cursor, engaged only
//! when output moves the cursor between lines (full-screen programs, multi-line progress,
//! `clear`) or switches to the alternate screen.
//!
//! When the terminal's width is known (from `script`'s header, or inferred from readline's
//! redraws), text wraps at the right margin as on a terminal with `am` and `xenl` (the
//! cursor stays on the last column after writing there, and the next character wraps first);
//! a row that wrapped is *joined* to the next one, and the two become one line of text.
//! Otherwise rows are not wrapped and grow as needed. A row is *touched* once something was
//! written on it or the cursor left it by a line feed; only touched rows become lines of the
//! cleaned text, so the blank screen around a program's output adds nothing.

use super::cells::Cells;
use super::LINE_CAP;

/// The most rows a screen of unknown height grows to by line feeds (see [`Grid::grow`]).
pub(crate) const MAX_GROWN: usize = 200;

/// One screen row.
#[derive(Clone, Debug, Default)]
pub(crate) struct Row {
    pub(crate) cells: Cells,
    pub(crate) touched: bool,
    /// Text wrapped from this row onto the next: they are one line.
    pub(crate) wrapped: bool,
}

impl Row {
    /// Blanks the row, keeping its memory.
    pub(crate) fn clear(&mut self) {
        self.cells.clear();
        self.touched = false;
        self.wrapped = false;
    }
}

/// A screen: `rows.len()` is the height.
#[derive(Debug)]
pub(crate) struct Grid {
    pub(crate) rows: Vec<Row>,
    pub(crate) r: usize,
    pub(crate) c: usize,
    top: usize,
    bottom: usize,
    saved: (usize, usize),
    /// The height is the terminal's (from `script`'s header): rows below it are clamped to
    /// it, as a terminal does, instead of growing the screen.
    pub(crate) fixed_height: bool,
    /// The height is not known and the screen was blank since it was last cleared: a line
    /// feed on the bottom row adds a row (up to [`MAX_GROWN`]) instead of scrolling, so a
    /// full-screen program on a taller terminal than assumed (`top` on 48 rows) is not
    /// scrolled into pieces. Lines are kept either way; on a terminal the same text would
    /// have scrolled off the top.
    pub(crate) grow: bool,
    /// The scroll region was set by DECSTBM (it does not grow with the screen).
    region_set: bool,
    /// The terminal's width, when known.
    pub(crate) width: Option<usize>,
    /// The cursor is on the last column with a character written there: the next character
    /// wraps first.
    pub(crate) pending: bool,
    /// Bytes of the line that rows scrolled off the top have written so far, while they wrap
    /// onto each other (joined): such a line is cut at [`LINE_CAP`] as line mode cuts one.
    joined: usize,
    /// Blank rows kept from a taller screen (a reset to fewer rows): a screen that grows
    /// after each `clear` takes them back instead of allocating its rows anew.
    spare_rows: Vec<Row>,
}

impl Grid {
    /// A blank screen of `height` rows with the cursor at the top left.
    pub(crate) fn new(height: usize, width: Option<usize>) -> Self {
        let height = height.max(2);
        Self {
            rows: vec![Row::default(); height],
            r: 0,
            c: 0,
            top: 0,
            bottom: height - 1,
            saved: (0, 0),
            region_set: false,
            grow: false,
            fixed_height: false,
            width,
            pending: false,
            joined: 0,
            spare_rows: Vec::new(),
        }
    }

    /// Makes a used screen blank again with `height` rows (reusing the rows' memory).
    pub(crate) fn reset(&mut self, height: usize, width: Option<usize>) {
        let height = height.max(2);
        for row in &mut self.rows {
            row.clear();
        }
        if self.rows.len() > height {
            self.spare_rows.extend(self.rows.drain(height..));
        }
        while self.rows.len() < height {
            self.push_row();
        }
        (self.r, self.c, self.top, self.bottom, self.saved) = (0, 0, 0, height - 1, (0, 0));
        self.width = width;
        self.pending = false;
        self.region_set = false;
        self.grow = false;
        self.joined = 0;
    }

    fn height(&self) -> usize {
        self.rows.len()
    }

    /// Adds a blank row at the bottom, a spare one if there is one.
    fn push_row(&mut self) {
        let row = self.spare_rows.pop().unwrap_or_default();
        self.rows.push(row);
    }

    fn last(&self) -> usize {
        self.rows.len() - 1
    }

    /// Grows the screen when a program addresses a row below it (the real terminal was taller
    /// than assumed).
    fn ensure_row(&mut self, r: usize) {
        if r >= self.height() && r < 1000 && !self.fixed_height {
            let full = self.bottom == self.last() && !self.region_set;
            while self.rows.len() <= r {
                self.push_row();
            }
            if full {
                self.bottom = self.last();
            }
        }
    }

    fn row(&mut self) -> &mut Row {
        let r = self.r.min(self.last());
        &mut self.rows[r]
    }

    /// Writes a printable run at the cursor and moves right past it (see [`Cells::print`]),
    /// wrapping at the right margin (joined when the width is known, see `wrap`).
    pub(crate) fn print(
        &mut self,
        pending: &mut Vec<u8>,
        run: &[u8],
        graphics: bool,
        out: &mut Vec<u8>,
    ) {
        // With the width unknown, the margin is LINE_CAP columns and a row that reaches it
        // is not joined to the next (see `wrap`): one huge line costs bounded memory, cut
        // the same way however the log's reads split it, as in line mode.
        let w = self.width.unwrap_or(LINE_CAP);
        if !graphics && pending.is_empty() && run.is_ascii() {
            let mut run = run;
            while !run.is_empty() {
                if self.pending {
                    self.wrap(out);
                }
                let n = (w - self.c.min(w - 1)).min(run.len());
                let c = self.c.min(w - 1);
                let row = self.row();
                row.cells.put_ascii(c, &run[..n]);
                row.touched = true;
                self.c = c + n;
                if self.c >= w {
                    self.c = w - 1;
                    self.pending = true;
                }
                run = &run[n..];
            }
            return;
        }
        super::put_run(pending, run, graphics, |ch| {
            let cw = super::cells::char_width(ch);
            if cw == 0 {
                // A combining mark joins the character before the cursor (or under it, at the
                // margin).
                let c = if self.pending { self.c + 1 } else { self.c };
                let mut at = c;
                self.row().cells.put(&mut at, ch, None);
                return;
            }
            if self.pending || self.c.min(w - 1) + cw > w {
                if !self.pending {
                    // A wide character that does not fit wraps, leaving the last cell blank.
                    let c = self.c;
                    self.row().cells.pad_to(c + 1);
                }
                self.wrap(out);
            }
            let mut c = self.c;
            let row = self.row();
            row.cells.put(&mut c, ch, None);
            row.touched = true;
            if c >= w {
                self.c = w - 1;
                self.pending = true;
            } else {
                self.c = c;
            }
        });
    }

    /// How many line feeds, with the cursor at the start of a blank row of a screen without a
    /// scroll region and every row below it blank, until the whole screen scrolls (the cursor
    /// goes down to the bottom row, then the screen grows by one row a line feed up to
    /// [`MAX_GROWN`] rows, when it grows); `None` elsewhere (after `clear` and a few lines,
    /// plain lines fill the screen down from the cursor). The touched rows above the cursor
    /// must reach down to it without a gap: an untouched row between touched ones is a blank
    /// line when the screen is emitted at once, but none when it scrolls off the top, so only
    /// then do the rows give back the same lines either way.
    pub(crate) fn line_feeds_to_scroll(&self) -> Option<usize> {
        let blank = |row: &Row| !row.touched && row.cells.is_empty();
        let above = &self.rows[..self.r.min(self.rows.len())];
        let first_touched = above
            .iter()
            .position(|row| row.touched)
            .unwrap_or(above.len());
        let at_line_start = self.r <= self.last()
            && self.bottom == self.last()
            && !self.region_set
            && self.c == 0
            && !self.pending
            && above[first_touched..].iter().all(|row| row.touched)
            && self.rows[self.r..].iter().all(blank);
        if !at_line_start {
            return None;
        }
        let grown = if self.grow && !self.fixed_height {
            MAX_GROWN.saturating_sub(self.rows.len())
        } else {
            0
        };
        Some(self.last() - self.r + grown + 1)
    }

    /// The wrap of a pending character: the row joins the next one (when the width is
    /// known; at the [`LINE_CAP`] margin of an unknown width it does not), where the cursor
    /// goes (scrolling at the bottom of the region).
    fn wrap(&mut self, out: &mut Vec<u8>) {
        self.pending = false;
        let r = self.r.min(self.last());
        self.rows[r].wrapped = self.width.is_some();
        self.rows[r].touched = true;
        if self.r == self.bottom {
            self.scroll_up(1, out);
        } else if self.r < self.last() {
            self.r += 1;
        }
        self.c = 0;
    }

    /// Emits the screen from its first to its last touched row (blank rows between them as
    /// empty lines, keeping the layout) and blanks it: what was shown before a clear, or the
    /// final state of the alternate screen.
    pub(crate) fn emit_all(&mut self, out: &mut Vec<u8>) {
        self.grow = !self.fixed_height;
        // Blank rows at the top and bottom of a screen show nothing.
        let shown = |r: &Row| r.touched && !r.cells.is_blank();
        let first = self.rows.iter().position(shown).unwrap_or(self.rows.len());
        let last = self.rows.iter().rposition(shown).map_or(first, |i| i + 1);
        emit_rows(&self.rows[first..last], out);
        for row in &mut self.rows {
            row.clear();
        }
    }

    /// Line feed: down one row, scrolling the region at its bottom. Returns whether the whole
    /// screen scrolled (the caller may then leave screen mode).
    pub(crate) fn linefeed(&mut self, out: &mut Vec<u8>) -> bool {
        self.pending = false;
        self.row().touched = true;
        if self.r == self.bottom
            && self.grow
            && !self.fixed_height
            && !self.region_set
            && self.r == self.last()
            && self.rows.len() < MAX_GROWN
        {
            self.push_row();
            self.r += 1;
            self.bottom = self.last();
            return false;
        }
        if self.r == self.bottom {
            self.scroll_up(1, out);
            self.top == 0 && self.bottom == self.last()
        } else {
            if self.r < self.last() {
                self.r += 1;
            }
            false
        }
    }

    /// Scrolls the region up: rows leaving the top of the screen become text.
    pub(crate) fn scroll_up(&mut self, n: usize, out: &mut Vec<u8>) {
        for _ in 0..n.min(self.bottom + 1 - self.top) {
            let row = &mut self.rows[self.top];
            if self.top == 0 && row.touched {
                let at = out.len();
                row.cells.encode_row(out, row.wrapped);
                let written = out.len() - at;
                // A line wrapped over more rows than LINE_CAP bytes ends before this row.
                if self.joined > 0 && self.joined + written > LINE_CAP {
                    out.insert(at, b'\n');
                    self.joined = 0;
                }
                self.joined = if row.wrapped {
                    self.joined + written
                } else {
                    0
                };
            }
            row.clear();
            self.rows[self.top..=self.bottom].rotate_left(1);
        }
    }

    /// Scrolls the region down (reverse index at the top, SD): the bottom rows are lost.
    pub(crate) fn scroll_down(&mut self, n: usize) {
        for _ in 0..n.min(self.bottom + 1 - self.top) {
            self.rows[self.bottom].clear();
            self.rows[self.top..=self.bottom].rotate_right(1);
        }
    }

    /// Reverse index: up one row, scrolling down at the region's top.
    pub(crate) fn reverse_index(&mut self) {
        self.pending = false;
        if self.r == self.top {
            self.scroll_down(1);
        } else {
            self.r = self.r.saturating_sub(1);
        }
    }

    /// CUP/HVP, 0-based.
    pub(crate) fn goto(&mut self, r: usize, c: usize) {
        self.ensure_row(r);
        self.r = r.min(self.last());
        self.set_col(c);
    }

    /// VPA, 0-based.
    pub(crate) fn goto_row(&mut self, r: usize) {
        let c = self.c;
        self.goto(r, c);
    }

    /// CUU: up, stopping at the region's top when inside it.
    pub(crate) fn up(&mut self, n: usize) {
        self.pending = false;
        let stop = if self.r >= self.top { self.top } else { 0 };
        self.r = self.r.saturating_sub(n).max(stop);
    }

    /// CUD: down, stopping at the region's bottom when inside it.
    pub(crate) fn down(&mut self, n: usize) {
        self.pending = false;
        let stop = if self.r <= self.bottom {
            self.bottom
        } else {
            self.last()
        };
        self.r = (self.r + n).min(stop);
    }

    /// Carriage return.
    pub(crate) fn cr(&mut self) {
        self.pending = false;
        self.c = 0;
    }

    /// Backspace.
    pub(crate) fn bs(&mut self) {
        self.pending = false;
        self.c = self.c.saturating_sub(1);
    }

    /// Horizontal movement to an absolute column (at most the last one).
    pub(crate) fn set_col(&mut self, c: usize) {
        self.pending = false;
        self.c = match self.width {
            Some(w) => c.min(w - 1),
            None => c,
        };
    }

    /// The cursor column.
    pub(crate) fn col(&self) -> usize {
        self.c
    }

    /// EL: 0 cursor to end, 1 start to cursor, 2 whole line.
    pub(crate) fn erase_line(&mut self, mode: u16) {
        // With a character pending in the last column, the cursor is past it (as `vt100`
        // and VTE have it): erasing to the right keeps it.
        let c = self.c + usize::from(self.pending && mode == 0);
        self.row().cells.erase(c, mode);
    }

    /// ED: 0 cursor to end of screen, 1 start to cursor, 2 all (emitting what was shown).
    pub(crate) fn erase_display(&mut self, mode: u16, out: &mut Vec<u8>) {
        match mode {
            0 if self.r == 0 && self.c == 0 => self.emit_all(out),
            0 => {
                self.erase_line(0);
                let below = (self.r + 1).min(self.height());
                for row in &mut self.rows[below..] {
                    row.clear();
                }
            }
            1 => {
                self.erase_line(1);
                let r = self.r.min(self.last());
                for row in &mut self.rows[..r] {
                    row.clear();
                }
            }
            2 => self.emit_all(out),
            _ => {}
        }
    }

    /// ICH / DCH / ECH on the cursor row.
    pub(crate) fn edit_chars(&mut self, op: u8, n: usize) {
        let c = self.c;
        let end = self.width.unwrap_or(usize::MAX);
        self.row().cells.edit(c, op, n, end);
    }

    /// IL / DL at the cursor row, inside the scroll region.
    pub(crate) fn edit_lines(&mut self, insert: bool, n: usize) {
        if self.r < self.top || self.r > self.bottom {
            return;
        }
        for _ in 0..n.min(self.bottom + 1 - self.r) {
            if insert {
                self.rows[self.bottom].clear();
                self.rows[self.r..=self.bottom].rotate_right(1);
            } else {
                self.rows[self.r].clear();
                self.rows[self.r..=self.bottom].rotate_left(1);
            }
        }
        self.c = 0;
    }

    /// DECSTBM, 1-based inclusive; `0` means the screen edge. Moves the cursor home.
    pub(crate) fn set_region(&mut self, top: u16, bottom: u16) {
        let b = if bottom == 0 {
            self.last()
        } else {
            usize::from(bottom) - 1
        };
        self.ensure_row(b);
        let t = usize::from(top.max(1)) - 1;
        let b = b.min(self.last());
        if t < b {
            self.top = t;
            self.bottom = b;
            self.region_set = bottom != 0 || t != 0;
        } else {
            self.top = 0;
            self.bottom = self.last();
            self.region_set = false;
        }
        self.r = 0;
        self.c = 0;
        self.pending = false;
    }

    /// Sets the saved cursor (DECSC done before the screen was engaged).
    pub(crate) fn set_saved(&mut self, r: usize, c: usize) {
        self.saved = (r, c);
    }

    /// DECSC.
    pub(crate) fn save(&mut self) {
        self.saved = (self.r, self.c);
    }

    /// DECRC.
    pub(crate) fn restore(&mut self) {
        let (r, c) = self.saved;
        self.r = r.min(self.last());
        self.set_col(c);
    }

    /// Next tab stop (every 8 columns).
    pub(crate) fn tab(&mut self) {
        let c = (self.c / 8 + 1) * 8;
        self.set_col(c);
    }
}

/// Appends rows from the first to the last touched one (a wrapped row and the next as one
/// line); returns how many were written.
pub(crate) fn emit_rows(rows: &[Row], out: &mut Vec<u8>) -> usize {
    let Some(first) = rows.iter().position(|r| r.touched) else {
        return 0;
    };
    let last = rows.iter().rposition(|r| r.touched).unwrap_or(first);
    for (i, row) in rows.iter().enumerate().take(last + 1).skip(first) {
        // A wrapped row joins the next, unless that one shows nothing (erased since); the
        // next row of a slice that ends in a wrapped one is emitted right after it.
        let joined = row.wrapped && rows.get(i + 1).is_none_or(|r| r.touched);
        row.cells.encode_row(out, joined);
    }
    last + 1 - first
}
