//! Line mode: the output buffer is the screen; plain lines are copied, an edited line is
//! decoded into cells, and the last screen-height lines stay editable (see the module
//! documentation of [`super`]).

use super::*;

impl Cleaner {
    /// The fast path: while the text is plain lines (printable bytes ending in LF, CR LF or CR CR LF)
    /// and nothing is being edited, copies them line by line; returns the bytes consumed.
    #[inline]
    pub(super) fn plain_lines(&mut self, buf: &[u8]) -> usize {
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

    /// [`cut_long_line`](Self::cut_long_line) for a line being edited: while the cursor is
    /// more than [`LINE_CAP`] cells into it, the first `LINE_CAP` cells (whole rows, when
    /// the width is known) become a line of text; the cursor and what follows stay.
    pub(super) fn cut_long_cells(&mut self) {
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
    pub(super) fn cut_long_line(&mut self) {
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
    pub(super) fn edit_as_cells(&mut self) {
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
    pub(super) fn cursor(&self) -> (usize, bool, usize) {
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
    pub(super) fn line_len(&self) -> usize {
        if self.in_cells {
            self.cells.len()
        } else if self.pending_cr && self.cur_start == self.out.len() {
            0
        } else {
            text_width(self.out.get(self.cur_start..).unwrap_or_default())
        }
    }

    /// Line mode: moves the cursor to column `c` of the line being edited as cells.
    pub(super) fn move_in_line(&mut self, c: usize) {
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
    pub(super) fn infer_width(&mut self) -> bool {
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

    /// Ends the current line (line mode).
    pub(super) fn newline(&mut self) {
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
    pub(super) fn drop_invocation_header(&mut self) {
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

    pub(super) fn line_col(&self) -> usize {
        if self.in_cells {
            self.col
        } else if self.pending_cr {
            0
        } else {
            text_width(self.out.get(self.cur_start..).unwrap_or_default())
        }
    }

    /// Moves the cursor to column `c` of the current line (line mode).
    pub(super) fn set_line_col(&mut self, c: usize) {
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

    /// Editing within the current line (line mode).
    pub(super) fn line_edit(&mut self, f: u8, n: usize) {
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
    pub(super) fn line_edit_wrapped(&mut self, f: u8, n: usize, w: usize) -> bool {
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
    pub(super) fn line_vertical(&mut self, up: bool, n: usize) -> bool {
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
}
