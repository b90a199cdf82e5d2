//! One row of screen cells (a grid row, or the line being edited in line mode), one cell per
//! column.
//!
//! Almost every row a session shows is ASCII, so a row is kept as bytes (decoded, edited and
//! encoded at memcpy speed) and widened to `char`s only when another character is written to
//! it. Clearing keeps both buffers, so a screen that redraws reuses its rows' memory.

/// A row of cells; columns past its length are blank.
#[derive(Clone, Debug, Default)]
pub(crate) struct Cells {
    bytes: Vec<u8>,
    chars: Vec<char>,
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
            self.chars.iter().all(|&c| c == ' ')
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
            self.chars.extend(self.bytes.iter().map(|&b| char::from(b)));
            self.wide = true;
        }
    }

    /// Replaces the row with the decoded `text` (one cell per character) after any `pending`
    /// partial character; invalid UTF-8 becomes U+FFFD and an incomplete character at the end
    /// is left in `pending`, as by [`super::decode`].
    pub(crate) fn set_text(&mut self, pending: &mut Vec<u8>, text: &[u8]) {
        self.clear();
        if pending.is_empty() && text.is_ascii() {
            self.bytes.extend_from_slice(text);
        } else {
            self.wide = true;
            let chars = &mut self.chars;
            super::decode(pending, text, |c| chars.push(c));
        }
    }

    /// Writes `ch` at column `col`, padding with blanks up to it.
    pub(crate) fn put(&mut self, col: usize, ch: char) {
        if !self.wide {
            if let Ok(b) = u8::try_from(ch) {
                if b.is_ascii() {
                    put_at(&mut self.bytes, col, b, b' ');
                    return;
                }
            }
            self.widen();
        }
        put_at(&mut self.chars, col, ch, ' ');
    }

    /// Writes an ASCII run from column `col` on.
    pub(crate) fn put_ascii(&mut self, col: usize, run: &[u8]) {
        if self.wide {
            for (i, &b) in run.iter().enumerate() {
                put_at(&mut self.chars, col + i, char::from(b), ' ');
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
    /// or through DEC line drawing when `graphics` is on.
    pub(crate) fn print(
        &mut self,
        col: &mut usize,
        pending: &mut Vec<u8>,
        run: &[u8],
        graphics: bool,
    ) {
        if !graphics && pending.is_empty() && run.is_ascii() {
            self.put_ascii(*col, run);
            *col += run.len();
            return;
        }
        super::put_run(pending, run, graphics, |ch| {
            self.put(*col, ch);
            *col += 1;
        });
    }

    /// Appends the row's text (trailing blanks trimmed) and a newline.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        if self.wide {
            let end = self
                .chars
                .iter()
                .rposition(|&c| c != ' ')
                .map_or(0, |i| i + 1);
            let mut buf = [0u8; 4];
            for &ch in &self.chars[..end] {
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
        } else {
            let end = self
                .bytes
                .iter()
                .rposition(|&b| b != b' ')
                .map_or(0, |i| i + 1);
            out.extend_from_slice(&self.bytes[..end]);
        }
        out.push(b'\n');
    }

    /// EL: 0 from `col` to the end, 1 from the start to `col`, 2 the whole row.
    pub(crate) fn erase(&mut self, col: usize, mode: u16) {
        match mode {
            0 => {
                self.bytes.truncate(col);
                self.chars.truncate(col);
            }
            1 => {
                let end = (col + 1).min(self.len());
                self.blank(0, end);
            }
            2 => self.clear(),
            _ => {}
        }
    }

    fn blank(&mut self, from: usize, to: usize) {
        if self.wide {
            self.chars[from..to].fill(' ');
        } else {
            self.bytes[from..to].fill(b' ');
        }
    }

    /// ICH (`@`), DCH (`P`), ECH (`X`) at column `col`.
    pub(crate) fn edit(&mut self, col: usize, op: u8, n: usize) {
        let len = self.len();
        if col >= len {
            return;
        }
        let n = n.min(len - col);
        match op {
            b'@' if self.wide => {
                self.chars.splice(col..col, std::iter::repeat_n(' ', n));
            }
            b'@' => {
                self.bytes.splice(col..col, std::iter::repeat_n(b' ', n));
            }
            b'P' => {
                if self.wide {
                    self.chars.drain(col..col + n);
                } else {
                    self.bytes.drain(col..col + n);
                }
            }
            b'X' => self.blank(col, col + n),
            _ => {}
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
        c.put(3, 'é');
        c.put_ascii(6, b"z");
        assert_eq!(text(&c), "  aéc z\n");
        c.edit(0, b'P', 2);
        assert_eq!(text(&c), "aéc z\n");
        c.edit(1, b'@', 2);
        assert_eq!(text(&c), "a  éc z\n");
        c.erase(3, 0);
        assert_eq!(text(&c), "a\n");
        c.clear();
        c.put(1, 'x');
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
}
