//! The screen model: a grid of rows with a cursor, scroll region and saved cursor, engaged only
//! when output moves the cursor between lines (full-screen programs, multi-line progress,
//! `clear`) or switches to the alternate screen.
//!
//! Rows are not wrapped at the terminal width and grow as needed. A row is *touched* once
//! something was written on it or the cursor left it by a line feed; only touched rows become
//! lines of the cleaned text, so the blank screen around a program's output adds nothing.

use super::cells::Cells;

/// One screen row.
#[derive(Clone, Debug, Default)]
pub(crate) struct Row {
    pub(crate) cells: Cells,
    pub(crate) touched: bool,
}

impl Row {
    /// Blanks the row, keeping its memory.
    pub(crate) fn clear(&mut self) {
        self.cells.clear();
        self.touched = false;
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
}

impl Grid {
    /// A blank screen of `height` rows with the cursor at the top left.
    pub(crate) fn new(height: usize) -> Self {
        let height = height.max(2);
        Self {
            rows: vec![Row::default(); height],
            r: 0,
            c: 0,
            top: 0,
            bottom: height - 1,
            saved: (0, 0),
        }
    }

    /// Makes a used screen blank again with `height` rows (reusing the rows' memory).
    pub(crate) fn reset(&mut self, height: usize) {
        let height = height.max(2);
        self.rows.resize_with(height, Row::default);
        for row in &mut self.rows {
            row.clear();
        }
        (self.r, self.c, self.top, self.bottom, self.saved) = (0, 0, 0, height - 1, (0, 0));
    }

    fn height(&self) -> usize {
        self.rows.len()
    }

    fn last(&self) -> usize {
        self.rows.len() - 1
    }

    /// Grows the screen when a program addresses a row below it (the real terminal was taller
    /// than assumed).
    fn ensure_row(&mut self, r: usize) {
        if r >= self.height() && r < 1000 {
            let full = self.bottom == self.last();
            self.rows.resize(r + 1, Row::default());
            if full {
                self.bottom = self.last();
            }
        }
    }

    fn row(&mut self) -> &mut Row {
        let r = self.r.min(self.last());
        &mut self.rows[r]
    }

    /// Writes a printable run at the cursor and moves right past it (see [`Cells::print`]).
    pub(crate) fn print(&mut self, pending: &mut Vec<u8>, run: &[u8], graphics: bool) {
        let r = self.r.min(self.last());
        let row = &mut self.rows[r];
        let from = self.c;
        row.cells.print(&mut self.c, pending, run, graphics);
        // Only a character written touches the row (not half of one, still pending).
        row.touched |= self.c != from;
    }

    /// Emits the screen from its first to its last touched row (blank rows between them as
    /// empty lines, keeping the layout) and blanks it: what was shown before a clear, or the
    /// final state of the alternate screen.
    pub(crate) fn emit_all(&mut self, out: &mut Vec<u8>) {
        emit_rows(&self.rows, out);
        for row in &mut self.rows {
            row.clear();
        }
    }

    /// Line feed: down one row, scrolling the region at its bottom. Returns whether the whole
    /// screen scrolled (the caller may then leave screen mode).
    pub(crate) fn linefeed(&mut self, out: &mut Vec<u8>) -> bool {
        self.row().touched = true;
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
                row.cells.encode(out);
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
        self.c = c;
    }

    /// VPA, 0-based.
    pub(crate) fn goto_row(&mut self, r: usize) {
        let c = self.c;
        self.goto(r, c);
    }

    /// CUU: up, stopping at the region's top when inside it.
    pub(crate) fn up(&mut self, n: usize) {
        let stop = if self.r >= self.top { self.top } else { 0 };
        self.r = self.r.saturating_sub(n).max(stop);
    }

    /// CUD: down, stopping at the region's bottom when inside it.
    pub(crate) fn down(&mut self, n: usize) {
        let stop = if self.r <= self.bottom {
            self.bottom
        } else {
            self.last()
        };
        self.r = (self.r + n).min(stop);
    }

    /// Carriage return.
    pub(crate) fn cr(&mut self) {
        self.c = 0;
    }

    /// Backspace.
    pub(crate) fn bs(&mut self) {
        self.c = self.c.saturating_sub(1);
    }

    /// Horizontal movement to an absolute column.
    pub(crate) fn set_col(&mut self, c: usize) {
        self.c = c;
    }

    /// The cursor column.
    pub(crate) fn col(&self) -> usize {
        self.c
    }

    /// EL: 0 cursor to end, 1 start to cursor, 2 whole line.
    pub(crate) fn erase_line(&mut self, mode: u16) {
        let c = self.c;
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
        self.row().cells.edit(c, op, n);
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
        } else {
            self.top = 0;
            self.bottom = self.last();
        }
        self.r = 0;
        self.c = 0;
    }

    /// DECSC.
    pub(crate) fn save(&mut self) {
        self.saved = (self.r, self.c);
    }

    /// DECRC.
    pub(crate) fn restore(&mut self) {
        (self.r, self.c) = self.saved;
        self.r = self.r.min(self.last());
    }

    /// Next tab stop (every 8 columns).
    pub(crate) fn tab(&mut self) {
        self.c = (self.c / 8 + 1) * 8;
    }
}

/// Appends rows from the first to the last touched one; returns how many were written.
pub(crate) fn emit_rows(rows: &[Row], out: &mut Vec<u8>) -> usize {
    let Some(first) = rows.iter().position(|r| r.touched) else {
        return 0;
    };
    let last = rows.iter().rposition(|r| r.touched).unwrap_or(first);
    for row in &rows[first..=last] {
        row.cells.encode(out);
    }
    last + 1 - first
}
