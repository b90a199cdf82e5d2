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
