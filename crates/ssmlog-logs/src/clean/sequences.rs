//! Escape sequences: the parser's states past ESC (CSI with its parameters, OSC and other
//! strings) and what each finished sequence does to the line or the screen.

use super::*;

impl Cleaner {
    pub(super) fn param(&self, i: usize, default: u16) -> u16 {
        match self.params.get(i) {
            Some(&v) if i < self.nparams && v != 0 => v,
            _ => default,
        }
    }

    pub(super) fn escape_byte(&mut self, b: u8) {
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

    pub(super) fn escape(&mut self, b: u8) {
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

    /// The digits and separators at the start of `b`, as [`csi_byte`](Self::csi_byte) takes
    /// them one by one (a parameter saturates at `u16::MAX`; parameters past
    /// [`MAX_PARAMS`] go to the last one); returns how many bytes it took.
    pub(super) fn csi_params(&mut self, b: &[u8]) -> usize {
        let mut n = self.nparams;
        let mut value = if n == 0 {
            0
        } else {
            u32::from(self.params[n - 1])
        };
        let mut i = 0;
        while let Some(&x) = b.get(i) {
            match x {
                b'0'..=b'9' => {
                    n = n.max(1);
                    value = (value * 10 + u32::from(x - b'0')).min(u32::from(u16::MAX));
                }
                b';' | b':' => {
                    if n == 0 {
                        n = 1;
                        value = 0;
                    }
                    self.params[n - 1] = value as u16;
                    if n < MAX_PARAMS {
                        n += 1;
                        value = 0;
                    }
                }
                _ => break,
            }
            i += 1;
        }
        if n > 0 {
            self.params[n - 1] = value as u16;
        }
        self.nparams = n;
        i
    }

    /// The bytes of a string (OSC, DCS, ...) at the start of `b` that only add to its length
    /// (up to the first control byte, or to where it grows past [`MAX_STRING`] and is
    /// abandoned); returns how many bytes it took.
    pub(super) fn string_body(&mut self, b: &[u8]) -> usize {
        let n = find_control(b);
        let room = MAX_STRING.saturating_sub(self.str_len);
        if n > room {
            // The byte that takes it past the limit ends it, as byte by byte.
            self.str_len = MAX_STRING + 1;
            self.state = State::Ground;
            return room + 1;
        }
        self.str_len += n;
        n
    }

    pub(super) fn csi_byte(&mut self, b: u8) {
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

    pub(super) fn save_cursor(&mut self) {
        if let Some((g, _)) = self.grid() {
            g.save();
        } else {
            self.saved_cursor = Some((self.line_no, self.line_col()));
        }
    }

    pub(super) fn restore_cursor(&mut self) {
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

    pub(super) fn csi_dispatch(&mut self, f: u8) {
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
}

#[cfg(test)]
mod tests {
    use super::{Cleaner, State, MAX_PARAMS, MAX_STRING};

    /// Parameters taken in one go, split anywhere, are what the byte-by-byte parser makes of
    /// them: numbers past `u16::MAX` saturate, separators past `MAX_PARAMS` are ignored.
    #[test]
    fn csi_params_in_one_go_equal_byte_by_byte() {
        const ALPHABET: &[u8] = b"0123456789;:;9";
        let mut rng = crate::gen::Rng::new(3);
        for len in 0..80 {
            for _ in 0..40 {
                let params: Vec<u8> = (0..len).map(|_| *rng.pick(ALPHABET)).collect();
                let mut one_by_one = Cleaner::new();
                one_by_one.escape(b'[');
                for &b in &params {
                    one_by_one.csi_byte(b);
                }
                let split = rng.below(len + 1);
                let mut in_one_go = Cleaner::new();
                in_one_go.escape(b'[');
                let mut taken = in_one_go.csi_params(&params[..split]);
                taken += in_one_go.csi_params(&params[split..]);
                assert_eq!(taken, len);
                assert_eq!(in_one_go.nparams, one_by_one.nparams, "{params:?}");
                assert_eq!(in_one_go.params, one_by_one.params, "{params:?}");
                assert!(in_one_go.nparams <= MAX_PARAMS);
            }
        }
        // A final byte stops them.
        let mut c = Cleaner::new();
        c.escape(b'[');
        assert_eq!(c.csi_params(b"01;34m~"), 5);
        assert_eq!((c.nparams, c.params[0], c.params[1]), (2, 1, 34));
    }

    /// A string's body taken in one go ends where the byte-by-byte parser ends it: at its
    /// first control byte, or at the byte that takes it past `MAX_STRING`.
    #[test]
    fn string_body_in_one_go_equals_byte_by_byte() {
        for (len_before, body) in [
            (0, &b"0;title\x07"[..]),
            (MAX_STRING - 3, b"abcdef"),
            (MAX_STRING - 3, b"abc\x07"),
            (MAX_STRING - 2, b"ab\rcd"),
            (MAX_STRING, b"a"),
            (MAX_STRING, b"\x1b\\"),
        ] {
            let start = |c: &mut Cleaner| {
                c.escape(b']');
                c.str_len = len_before;
            };
            let mut one_by_one = Cleaner::new();
            start(&mut one_by_one);
            let mut want = body.len();
            for (i, &b) in body.iter().enumerate() {
                if one_by_one.state != State::Str || b < 0x20 {
                    want = i;
                    break;
                }
                one_by_one.escape_byte(b);
            }
            let mut in_one_go = Cleaner::new();
            start(&mut in_one_go);
            assert_eq!(in_one_go.string_body(body), want, "{len_before} {body:?}");
            assert_eq!(in_one_go.state, one_by_one.state, "{len_before} {body:?}");
            assert_eq!(
                in_one_go.str_len, one_by_one.str_len,
                "{len_before} {body:?}"
            );
        }
    }
}
