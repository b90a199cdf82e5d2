//! Screen mode and the alternate screen: when the cleaner takes the main screen into a grid
//! and gives it back, and the screen operations (erase, scroll, insert and delete lines).

use super::*;

impl Cleaner {
    pub(super) fn grid(&mut self) -> Option<(&mut Grid, &mut Vec<u8>)> {
        let Self {
            alt,
            main_grid,
            out,
            ..
        } = self;
        alt.as_mut().or(main_grid.as_mut()).map(|g| (g, out))
    }

    pub(super) fn linefeed(&mut self) {
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

    /// Switches the main screen from line mode to screen mode: the window lines fill the
    /// bottom rows (each line as many rows as it wraps onto, when the width is known), the
    /// current line's last row is the last row. A line-mode saved cursor is carried over.
    pub(super) fn engage(&mut self) {
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
        for line in lines_with_lf(window).take(k) {
            tmp.set_text(&mut pending_utf8, line.strip_suffix(b"\n").unwrap_or(line));
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
    pub(super) fn disengage(&mut self) {
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
    pub(super) fn new_grid(&mut self) -> Grid {
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

    pub(super) fn enter_alt(&mut self) {
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

    pub(super) fn leave_alt(&mut self) {
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

    pub(super) fn screen_op(&mut self, f: u8, n: usize) {
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
