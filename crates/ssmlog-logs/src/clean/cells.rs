//! One row of screen cells (a grid row, or the line being edited in line mode), one cell per
//! column.
//!
//! Almost every row a session shows is ASCII, so a row is kept as bytes (decoded, edited and
//! encoded at memcpy speed) and widened to [`Cell`]s only when another character is written to
//! it. Clearing keeps both buffers, so a screen that redraws reuses its rows' memory.
//!
//! Widths are those of the `unicode-width` crate (as terminals and `wcwidth` count them): a
//! double-width character takes its cell and the next (a *tail* cell, [`TAIL`]); a zero-width
//! character (a combining mark) joins the character before it.

use unicode_width::UnicodeWidthChar;

/// The second cell of a double-width character.
const TAIL: char = '\0';

/// One cell when the row is not all ASCII: a character (or [`TAIL`]) and the first combining
/// mark on it (further marks on the same cell are dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cell {
    ch: char,
    mark: char,
}

const BLANK: Cell = Cell {
    ch: ' ',
    mark: TAIL,
};

/// How many columns `ch` takes: 0 (combining), 1 or 2.
pub(crate) fn char_width(ch: char) -> usize {
    if ch.is_ascii() {
        return 1;
    }
    ch.width().unwrap_or(0).min(2)
}

/// The columns `text` takes (a line without control characters).
pub(crate) fn text_width(text: &[u8]) -> usize {
    if text.is_ascii() {
        return text.len();
    }
    String::from_utf8_lossy(text).chars().map(char_width).sum()
}

/// A row of cells; columns past its length are blank.
#[derive(Clone, Debug, Default)]
pub(crate) struct Cells {
    bytes: Vec<u8>,
    chars: Vec<Cell>,
    /// The cells are in `chars` (some cell is not ASCII); otherwise in `bytes`.
    wide: bool,
}

impl Cells {
    pub(crate) fn len(&self) -> usize {
        if self.wide {
            self.chars.len()
        } else {
            self.bytes.len()
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every cell is blank (a row that shows nothing).
    pub(crate) fn is_blank(&self) -> bool {
        if self.wide {
            self.chars.iter().all(|&c| c == BLANK)
        } else {
            self.bytes.iter().all(|&b| b == b' ')
        }
    }

    /// Empties the row, keeping its memory.
    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.chars.clear();
        self.wide = false;
    }

    fn widen(&mut self) {
        if !self.wide {
            self.chars.clear();
            self.chars.extend(self.bytes.iter().map(|&b| Cell {
                ch: char::from(b),
                mark: TAIL,
            }));
            self.wide = true;
        }
    }

    /// Replaces the row with the decoded `text` after any `pending` partial character;
    /// invalid UTF-8 becomes U+FFFD and an incomplete character at the end is left in
    /// `pending`, as by [`super::decode`].
    pub(crate) fn set_text(&mut self, pending: &mut Vec<u8>, text: &[u8]) {
        self.clear();
        if pending.is_empty() && text.is_ascii() {
            self.bytes.extend_from_slice(text);
        } else {
            self.wide = true;
            let mut col = 0;
            super::decode(pending, text, |c| self.put(&mut col, c, None));
        }
    }

    /// Appends cells `from..to` of `other` (padded with blanks to `to`).
    pub(crate) fn extend_from(&mut self, other: &Cells, from: usize, to: usize) {
        let start = self.len();
        if !self.wide && !other.wide {
            let end = to.min(other.bytes.len());
            if from < end {
                self.bytes.extend_from_slice(&other.bytes[from..end]);
            }
        } else {
            self.widen();
            if other.wide {
                let end = to.min(other.chars.len());
                if from < end {
                    self.chars.extend_from_slice(&other.chars[from..end]);
                }
            } else {
                let end = to.min(other.bytes.len());
                if from < end {
                    self.chars
                        .extend(other.bytes[from..end].iter().map(|&b| Cell {
                            ch: char::from(b),
                            mark: TAIL,
                        }));
                }
            }
        }
        self.pad_to(start + to.saturating_sub(from));
    }

    /// Pads with blanks to `n` cells.
    pub(crate) fn pad_to(&mut self, n: usize) {
        if self.wide {
            if self.chars.len() < n {
                self.chars.resize(n, BLANK);
            }
        } else if self.bytes.len() < n {
            self.bytes.resize(n, b' ');
        }
    }

    /// Writes `ch` at column `*col` and moves past it; a double-width character that would
    /// straddle the right margin of a `width`-column terminal starts on the next row (the cell
    /// it skips stays blank); a combining mark joins the character before `*col`.
    pub(crate) fn put(&mut self, col: &mut usize, ch: char, width: Option<usize>) {
        if !self.wide {
            if let Ok(b) = u8::try_from(ch) {
                if b.is_ascii() {
                    put_at(&mut self.bytes, *col, b, b' ');
                    *col += 1;
                    return;
                }
            }
            self.widen();
        }
        let w = char_width(ch);
        if w == 0 {
            let mut at = col.checked_sub(1);
            if let Some(i) = at {
                if self.chars.get(i).is_some_and(|c| c.ch == TAIL) {
                    at = i.checked_sub(1);
                }
            }
            if let Some(cell) = at.and_then(|i| self.chars.get_mut(i)) {
                if cell.mark == TAIL {
                    cell.mark = ch;
                }
            }
            return;
        }
        if w == 2 {
            if let Some(wd) = width.filter(|&wd| wd > 1) {
                if *col % wd == wd - 1 {
                    put_at(&mut self.chars, *col, BLANK, BLANK);
                    *col += 1;
                }
            }
        }
        self.fix_overwrite(*col, w);
        put_at(&mut self.chars, *col, Cell { ch, mark: TAIL }, BLANK);
        if w == 2 {
            put_at(
                &mut self.chars,
                *col + 1,
                Cell {
                    ch: TAIL,
                    mark: TAIL,
                },
                BLANK,
            );
        }
        *col += w;
    }

    /// Before writing `w` cells at `col`: blanks the other half of any double-width character
    /// the write splits.
    fn fix_overwrite(&mut self, col: usize, w: usize) {
        if !self.wide {
            return;
        }
        if self.chars.get(col).is_some_and(|c| c.ch == TAIL) && col > 0 {
            self.chars[col - 1] = BLANK;
        }
        let end = col + w;
        if self.chars.get(end).is_some_and(|c| c.ch == TAIL) {
            self.chars[end] = BLANK;
        }
    }

    /// Writes an ASCII run from column `col` on.
    pub(crate) fn put_ascii(&mut self, col: usize, run: &[u8]) {
        if self.wide {
            self.fix_overwrite(col, run.len());
            for (i, &b) in run.iter().enumerate() {
                put_at(
                    &mut self.chars,
                    col + i,
                    Cell {
                        ch: char::from(b),
                        mark: TAIL,
                    },
                    BLANK,
                );
            }
            return;
        }
        let cells = &mut self.bytes;
        if cells.len() < col {
            cells.resize(col, b' ');
        }
        let overlap = (cells.len() - col).min(run.len());
        cells[col..col + overlap].copy_from_slice(&run[..overlap]);
        cells.extend_from_slice(&run[overlap..]);
    }

    /// Writes a printable run from column `*col` on and moves `*col` past it: ASCII as it
    /// is, other text decoded after any `pending` partial character (see [`super::decode`]),
    /// or through DEC line drawing when `graphics` is on. `width` is the terminal's, if
    /// known (see [`put`](Self::put)).
    pub(crate) fn print(
        &mut self,
        col: &mut usize,
        pending: &mut Vec<u8>,
        run: &[u8],
        graphics: bool,
        width: Option<usize>,
    ) {
        if !graphics && pending.is_empty() && run.is_ascii() {
            self.put_ascii(*col, run);
            *col += run.len();
            return;
        }
        super::put_run(pending, run, graphics, |ch| self.put(col, ch, width));
    }

    /// Appends the row's text (trailing blanks trimmed unless `keep_blanks`) and, unless
    /// `joined` (the row wraps onto the next), a newline.
    pub(crate) fn encode_row(&self, out: &mut Vec<u8>, joined: bool) {
        if self.wide {
            let end = if joined {
                self.chars.len()
            } else {
                self.chars
                    .iter()
                    .rposition(|&c| c != BLANK)
                    .map_or(0, |i| i + 1)
            };
            let mut buf = [0u8; 4];
            for c in &self.chars[..end] {
                if c.ch != TAIL {
                    out.extend_from_slice(c.ch.encode_utf8(&mut buf).as_bytes());
                }
                if c.mark != TAIL {
                    out.extend_from_slice(c.mark.encode_utf8(&mut buf).as_bytes());
                }
            }
        } else {
            let end = if joined {
                self.bytes.len()
            } else {
                self.bytes
                    .iter()
                    .rposition(|&b| b != b' ')
                    .map_or(0, |i| i + 1)
            };
            out.extend_from_slice(&self.bytes[..end]);
        }
        if !joined {
            out.push(b'\n');
        }
    }

    /// Keeps the first `n` cells (one fewer when the `n`th is the second half of a
    /// double-width character, which stays whole) and returns the rest.
    pub(crate) fn split_off(&mut self, n: usize) -> Cells {
        let n = n.min(self.len());
        let n = if n > 0 && self.wide && self.chars.get(n).is_some_and(|c| c.ch == TAIL) {
            n - 1
        } else {
            n
        };
        let mut rest = Cells::default();
        rest.extend_from(self, n, self.len());
        self.truncate(n);
        rest
    }

    /// Appends the row's text (trailing blanks trimmed) and a newline.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        self.encode_row(out, false);
    }

    /// EL: 0 from `col` to the end, 1 from the start to `col`, 2 the whole row.
    pub(crate) fn erase(&mut self, col: usize, mode: u16) {
        match mode {
            0 => self.truncate(col),
            1 => {
                let end = (col + 1).min(self.len());
                self.blank(0, end);
            }
            2 => self.clear(),
            _ => {}
        }
    }

    /// Drops the cells from `col` on.
    pub(crate) fn truncate(&mut self, col: usize) {
        if self.wide && col > 0 && self.chars.get(col).is_some_and(|c| c.ch == TAIL) {
            self.chars[col - 1] = BLANK;
        }
        self.bytes.truncate(col);
        self.chars.truncate(col);
    }

    /// Blanks cells `from..to` (those that exist).
    pub(crate) fn blank(&mut self, from: usize, to: usize) {
        let to = to.min(self.len());
        if from >= to {
            return;
        }
        if self.wide {
            self.fix_overwrite(from, to - from);
            self.chars[from..to].fill(BLANK);
        } else {
            self.bytes[from..to].fill(b' ');
        }
    }

    /// ICH (`@`), DCH (`P`), ECH (`X`) at column `col`, within a row that ends at column
    /// `end` (`usize::MAX`: no margin): cells pushed past the margin are lost, cells pulled in
    /// from it are blank, and cells after it do not move.
    pub(crate) fn edit(&mut self, col: usize, op: u8, n: usize, end: usize) {
        let len = self.len();
        if col >= len {
            return;
        }
        if end < len {
            // A row with more cells after it (a wrapped line): edit the row alone.
            let end = end.max(col + 1);
            let n = n.min(end - col);
            match op {
                b'@' => {
                    self.splice(end - n, end, 0);
                    self.splice(col, col, n);
                }
                b'P' => {
                    self.splice(col, col + n, 0);
                    self.splice(end - n, end - n, n);
                }
                b'X' => self.blank(col, col + n),
                _ => {}
            }
            return;
        }
        let n = n.min(len - col);
        match op {
            b'@' => self.splice(col, col, n),
            b'P' => self.splice(col, col + n, 0),
            b'X' => self.blank(col, col + n),
            _ => {}
        }
    }

    /// Replaces cells `from..to` with `n` blanks.
    fn splice(&mut self, from: usize, to: usize, n: usize) {
        if self.wide {
            self.chars.splice(from..to, std::iter::repeat_n(BLANK, n));
        } else {
            self.bytes.splice(from..to, std::iter::repeat_n(b' ', n));
        }
    }
}

fn put_at<T: Copy>(cells: &mut Vec<T>, col: usize, v: T, blank: T) {
    if let Some(cell) = cells.get_mut(col) {
        *cell = v;
    } else {
        cells.resize(col, blank);
        cells.push(v);
    }
}

#[cfg(test)]
mod tests {
    use super::Cells;

    fn text(c: &Cells) -> String {
        let mut out = Vec::new();
        c.encode(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn ascii_rows_widen_at_the_first_other_character_and_keep_their_cells() {
        let mut c = Cells::default();
        c.put_ascii(2, b"abc");
        assert_eq!(text(&c), "  abc\n");
        c.put(&mut 3, 'é', None);
        c.put_ascii(6, b"z");
        assert_eq!(text(&c), "  aéc z\n");
        c.edit(0, b'P', 2, usize::MAX);
        assert_eq!(text(&c), "aéc z\n");
        c.edit(1, b'@', 2, usize::MAX);
        assert_eq!(text(&c), "a  éc z\n");
        c.erase(3, 0);
        assert_eq!(text(&c), "a\n");
        c.clear();
        c.put(&mut 1, 'x', None);
        assert_eq!((text(&c), c.len()), (" x\n".to_string(), 2));
    }

    #[test]
    fn set_text_decodes_and_replaces_invalid_bytes() {
        let mut c = Cells::default();
        let mut pending = Vec::new();
        c.set_text(&mut pending, b"a\xffb  \xe2\x82");
        assert_eq!(pending, b"\xe2\x82");
        assert_eq!(text(&c), "a\u{FFFD}b\n");
        assert_eq!(c.len(), 5);
        c.erase(1, 1);
        assert!(!c.is_blank());
        c.erase(0, 2);
        assert!(c.is_blank() && c.is_empty());
    }

    #[test]
    fn wide_and_combining_characters_take_their_columns() {
        let mut c = Cells::default();
        let mut pending = Vec::new();
        c.set_text(&mut pending, "日本e\u{301}x".as_bytes());
        assert_eq!(c.len(), 6);
        assert_eq!(text(&c), "日本e\u{301}x\n");
        // Overwriting half of a wide character blanks the other half.
        c.put_ascii(1, b"A");
        assert_eq!(text(&c), " A本e\u{301}x\n");
        // A wide character at the last column of an 8-column terminal starts the next row.
        let mut col = 7;
        c.put(&mut col, '語', Some(8));
        assert_eq!((col, text(&c)), (10, " A本e\u{301}x  語\n".to_string()));
    }

    #[test]
    fn edits_stay_within_their_row() {
        let mut c = Cells::default();
        c.put_ascii(0, b"abcdefghij");
        c.edit(1, b'@', 2, 5);
        assert_eq!(text(&c), "a  bcfghij\n");
        c.edit(1, b'P', 1, 5);
        assert_eq!(text(&c), "a bc fghij\n");
    }
}
