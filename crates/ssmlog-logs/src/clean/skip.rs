//! Skipping plain lines: the search's fast path hands runs of plain lines to the cleaner as
//! *holes* instead of bytes, and searches their raw bytes itself.
//!
//! A line is *plain* when it holds no control byte other than its final LF, CR LF or CR CR LF
//! (the agent's form: its log passes the session's CR LF through a second pty; no ESC, BS,
//! TAB, other CR, DEL, ...). In line mode, with nothing pending, the cleaner copies such a
//! line as it is (without the CR LF, trailing blanks trimmed) and stays in the same state. So a
//! run of plain lines needs no cleaning, with one exception: the last `height - 1` lines stay
//! editable (a later switch to screen mode takes them into the grid, the footer is looked for
//! among them). The cleaner therefore keeps a copy of a hole's last `height - 1` raw lines and
//! *fills* them in (cleaned) only if the window ever reaches back into the hole; otherwise the
//! hole's lines are final as they are, and the search matches them in the raw bytes.

use super::{Cleaner, Phase, State};

/// What [`Cleaner::leave_screen_for`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Leave {
    /// Left screen mode: the lines are plain lines of line mode now.
    Left,
    /// Not at a blank row of the main screen with only blank rows below (or not in screen
    /// mode).
    NotHere,
    /// Too few lines, or a line too long, to scroll the screen: as the lines are fed one by
    /// one the same holds for the rest of the run.
    TooFew,
}

/// What became of one skipped run, in the order the runs were skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Hole {
    /// Where the run's lines belong in the cleaned text (an offset at a line start).
    pub(crate) at: usize,
    /// Raw bytes at the end of the run that were filled in at `at` (cleaned) because the
    /// window reached back into the hole; the hole proper is the run without them.
    pub(crate) filled: usize,
}

/// The cleaned form of one plain line (without its LF): CRs before LF and trailing blanks
/// removed, as the cleaner's line mode does.
pub(crate) fn plain_line_text(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    if end > 0 && line[end - 1] == b'\n' {
        end -= 1;
    }
    for _ in 0..2 {
        if end > 0 && line[end - 1] == b'\r' {
            end -= 1;
        }
    }
    while end > 0 && line[end - 1] == b' ' {
        end -= 1;
    }
    &line[..end]
}

/// Whether byte `x`, followed by `next` and `after`, keeps a line from being plain: a C0
/// control other than LF and a CR that ends a line (CR LF, CR CR LF), or DEL.
#[inline(always)]
fn special(x: u8, next: u8, after: u8) -> bool {
    let line_end = x == b'\r' && (next == b'\n' || (next == b'\r' && after == b'\n'));
    (x < 0x20 && x != b'\n' && !line_end) || x == 0x7f
}

/// What [`scan_plain`] found: where plain text ends, and what the search needs to know of
/// the bytes before that, gathered in the same pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PlainScan {
    /// The first byte that keeps a line from being plain (see [`special`]), or the length.
    pub(crate) special: usize,
    /// Line feeds before `special`.
    pub(crate) line_feeds: usize,
    /// Every byte before `special` is ASCII (so valid UTF-8).
    pub(crate) ascii: bool,
}

/// Scans `b` for the first byte that keeps a line from being plain (see [`special`]; a CR
/// near the very end counts as special, its LF is not known), counting line feeds and
/// noting non-ASCII bytes on the way: the search then neither counts the lines of a run it
/// skips nor validates its UTF-8 in passes of their own. Uses AVX2 where the CPU has it: the
/// scan touches every byte of a log.
pub(crate) fn scan_plain(b: &[u8]) -> PlainScan {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("popcnt") {
            // SAFETY: the CPU supports AVX2 and POPCNT (checked just above).
            return unsafe { scan_plain_avx2(b) };
        }
    }
    scan_plain_blocks(b)
}

/// [`scan_plain`] in plain Rust, for CPUs without AVX2 (and other architectures): blocks of
/// 128 bytes without branches, so the compiler vectorizes them; the block with a hit is
/// scanned byte by byte.
fn scan_plain_blocks(b: &[u8]) -> PlainScan {
    const W: usize = 128;
    let (mut i, mut line_feeds, mut high) = (0, 0, false);
    while let Some(block) = b.get(i..i + W + 2) {
        let (mut hit, mut lfs, mut bits) = (0u8, 0u8, 0u8);
        for k in 0..W {
            let (x, next, after) = (block[k], block[k + 1], block[k + 2]);
            let line_end = (x == b'\r') & ((next == b'\n') | ((next == b'\r') & (after == b'\n')));
            let ctrl = (x < 0x20) & (x != b'\n') & !line_end;
            hit |= u8::from(ctrl | (x == 0x7f));
            lfs += u8::from(x == b'\n');
            bits |= x;
        }
        if hit != 0 {
            break;
        }
        line_feeds += usize::from(lfs);
        high |= bits >= 0x80;
        i += W;
    }
    scan_plain_from(b, i, line_feeds, high)
}

/// [`scan_plain`] byte by byte from `i`, with `line_feeds` counted and `high` (a non-ASCII
/// byte seen) noted before it.
fn scan_plain_from(b: &[u8], mut i: usize, mut line_feeds: usize, mut high: bool) -> PlainScan {
    while let Some(&x) = b.get(i) {
        let at = |d: usize| b.get(i + d).copied().unwrap_or(0);
        if special(x, at(1), at(2)) {
            break;
        }
        line_feeds += usize::from(x == b'\n');
        high |= x >= 0x80;
        i += 1;
    }
    PlainScan {
        special: i,
        line_feeds,
        ascii: !high,
    }
}

/// [`scan_plain`] 32 bytes at a time: the masks of special bytes, line feeds and high bytes
/// of each block (a CR looks at the two bytes after it through loads one and two bytes on).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
unsafe fn scan_plain_avx2(b: &[u8]) -> PlainScan {
    use std::arch::x86_64::{
        __m256i, _mm256_and_si256, _mm256_andnot_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256,
        _mm256_max_epu8, _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8,
    };
    let (c1f, lf, cr, del) = (
        _mm256_set1_epi8(0x1f),
        _mm256_set1_epi8(b'\n' as i8),
        _mm256_set1_epi8(b'\r' as i8),
        _mm256_set1_epi8(0x7f),
    );
    let (mut i, mut line_feeds, mut high) = (0, 0, 0u32);
    while i + 32 + 2 <= b.len() {
        // SAFETY: the three loads read b[i..i + 34], inside `b` (the loop's condition).
        let (v, v1, v2) = unsafe {
            let p = b.as_ptr().add(i);
            (
                _mm256_loadu_si256(p.cast::<__m256i>()),
                _mm256_loadu_si256(p.add(1).cast::<__m256i>()),
                _mm256_loadu_si256(p.add(2).cast::<__m256i>()),
            )
        };
        // x <= 0x1f (unsigned) exactly when max(x, 0x1f) == 0x1f.
        let ctrl = _mm256_cmpeq_epi8(_mm256_max_epu8(v, c1f), c1f);
        let is_lf = _mm256_cmpeq_epi8(v, lf);
        let next_ends = _mm256_or_si256(
            _mm256_cmpeq_epi8(v1, lf),
            _mm256_and_si256(_mm256_cmpeq_epi8(v1, cr), _mm256_cmpeq_epi8(v2, lf)),
        );
        let line_end = _mm256_and_si256(_mm256_cmpeq_epi8(v, cr), next_ends);
        let bad = _mm256_or_si256(
            _mm256_andnot_si256(_mm256_or_si256(is_lf, line_end), ctrl),
            _mm256_cmpeq_epi8(v, del),
        );
        let (bad, lfs, highs) = (
            _mm256_movemask_epi8(bad) as u32,
            _mm256_movemask_epi8(is_lf) as u32,
            _mm256_movemask_epi8(v) as u32,
        );
        if bad != 0 {
            let k = bad.trailing_zeros();
            let before = (1u32 << k) - 1;
            return PlainScan {
                special: i + k as usize,
                line_feeds: line_feeds + (lfs & before).count_ones() as usize,
                ascii: (high | (highs & before)) == 0,
            };
        }
        line_feeds += lfs.count_ones() as usize;
        high |= highs;
        i += 32;
    }
    scan_plain_from(b, i, line_feeds, high != 0)
}

impl Cleaner {
    /// Whether the next bytes start a line that a plain line would simply be appended to:
    /// past the header, line mode, no sequence or edit pending, no line drawing selected.
    pub(crate) fn at_plain_line_start(&self) -> bool {
        self.between_sequences()
            && self.main_grid.is_none()
            && !self.in_cells
            && !self.pending_cr
            && self.cur_start == self.out.len()
    }

    /// Past the header, on the main screen, with no sequence, character or line drawing
    /// pending: where a plain line is text, in line mode or screen mode.
    fn between_sequences(&self) -> bool {
        self.phase == Phase::Body
            && self.state == State::Ground
            && self.alt.is_none()
            && !self.graphics()
            && self.utf8_pending.is_empty()
    }

    /// How many bytes of `run` (complete plain lines, at a plain line start) may be skipped
    /// from its start: all of them, except in a PowerShell transcript, whose lines up to a row
    /// of stars must be fed. Its invocation headers (stars, `Command start time: …`, stars)
    /// are taken out as each line ends (see `newline`), and a header that reaches into
    /// skipped lines would put a row of stars among them.
    pub(crate) fn skippable_len(&self, run: &[u8]) -> usize {
        if self.meta.kind != super::LogKind::Powershell {
            return run.len();
        }
        match memchr::memmem::find(run, super::header::STARS) {
            Some(at) => memchr::memrchr(b'\n', &run[..at]).map_or(0, |i| i + 1),
            None => run.len(),
        }
    }

    /// Leaves screen mode at once when `run` (complete plain lines) starts at a blank row
    /// with only blank rows below it (see [`Grid::line_feeds_to_scroll`](super::grid::Grid))
    /// and its first lines scroll the whole screen, none of them longer than
    /// [`LINE_CAP`](super::LINE_CAP): fed line by line, the screen would grow and fill with
    /// them, scroll, and give its rows back as text, which is what line mode makes of the same
    /// lines (a plain line is its text on a row, in either mode). `line_feeds` is at least
    /// the number of LFs in `run` (too few are not looked for).
    pub(crate) fn leave_screen_for(&mut self, run: &[u8], line_feeds: usize) -> Leave {
        let ready = self.between_sequences() && self.wrap_candidate.is_none();
        let Some(needed) = self
            .main_grid
            .as_ref()
            .filter(|_| ready)
            .and_then(|g| g.line_feeds_to_scroll())
        else {
            return Leave::NotHere;
        };
        if line_feeds < needed {
            return Leave::TooFew;
        }
        let (mut lines, mut line) = (0, 0);
        for lf in memchr::memchr_iter(b'\n', run).take(needed) {
            if lf - line > super::LINE_CAP {
                return Leave::TooFew;
            }
            (lines, line) = (lines + 1, lf + 1);
        }
        if lines < needed {
            return Leave::TooFew;
        }
        self.disengage();
        Leave::Left
    }

    /// The screen height the cleaner assumes (from the header, else 24).
    pub(crate) fn height(&self) -> usize {
        self.height
    }

    /// Takes `run` (complete plain lines, valid UTF-8, at least `height` of them) as if fed,
    /// without copying it into the text: records a [`Hole`] at the current offset. Only when
    /// [`at_plain_line_start`](Self::at_plain_line_start); not together with
    /// [`take`](Self::take).
    ///
    /// The run's lines are not counted: the line count only tells a cursor restore how far
    /// up its row is, and a row at least a screen up is restored to the top row however far
    /// it is, so the run counts as `height` lines.
    pub(crate) fn skip_plain_lines(&mut self, run: &[u8]) {
        debug_assert!(self.at_plain_line_start());
        // Keep the lines the window could still reach.
        let mut from = run.len();
        for _ in 1..self.height {
            match from
                .checked_sub(1)
                .and_then(|e| memchr::memrchr(b'\n', &run[..e]))
            {
                Some(i) => from = i + 1,
                None => {
                    from = 0;
                    break;
                }
            }
        }
        self.hole_tail.clear();
        self.hole_tail.extend_from_slice(&run[from..]);
        self.holes.push(Hole {
            at: self.out.len(),
            filled: 0,
        });
        self.floor = self.out.len();
        self.line_no += self.height as u64;
    }

    /// Makes the text so far final (the window starts after it); a skipped run before it is
    /// then out of reach for good.
    pub(super) fn set_floor(&mut self) {
        self.floor = self.out.len();
        self.hole_tail.clear();
    }

    /// Fills the last hole's editable lines into the text when the window reaches back into
    /// it (fewer than `height - 1` complete lines since the hole). Called before anything
    /// reads or rewrites the window.
    pub(super) fn fill_hole(&mut self) {
        let Some(hole) = self.holes.last_mut() else {
            return;
        };
        if self.hole_tail.is_empty() || self.floor != hole.at {
            return;
        }
        let mut start = self.cur_start;
        for _ in 1..self.height {
            if start <= self.floor {
                break;
            }
            match self
                .out
                .get(self.floor..start - 1)
                .and_then(|w| memchr::memrchr(b'\n', w))
            {
                Some(i) => start = self.floor + i + 1,
                None => start = self.floor,
            }
        }
        if start > self.floor {
            // Enough lines since the hole: it is out of reach for good.
            self.hole_tail.clear();
            return;
        }
        let at = hole.at;
        hole.filled = self.hole_tail.len();
        let Self { out, hole_tail, .. } = self;
        let old = out.len();
        for line in super::lines_with_lf(hole_tail) {
            out.extend_from_slice(plain_line_text(line));
            out.push(b'\n');
        }
        let added = out.len() - old;
        out[at..].rotate_right(added);
        hole_tail.clear();
        self.cur_start += added;
    }

    /// Uses the memory of a screen kept from another log's cleaner.
    pub(crate) fn reuse_screen(&mut self, spare: super::SpareScreen) {
        if self.spare.is_none() {
            self.spare = spare.0;
        }
    }

    /// Finishes and returns the cleaned text as bytes (not checked for UTF-8) with the holes
    /// skipped runs left in it, the session's metadata, and the screen's memory for the next
    /// log's cleaner.
    pub(crate) fn into_parts(
        mut self,
    ) -> (Vec<u8>, Vec<Hole>, super::SessionMeta, super::SpareScreen) {
        self.finish();
        let holes = std::mem::take(&mut self.holes);
        let spare = super::SpareScreen(self.spare.take());
        (std::mem::take(&mut self.out), holes, self.meta, spare)
    }
}

#[cfg(test)]
mod tests {
    use super::{scan_plain, scan_plain_blocks, scan_plain_from, special, PlainScan};

    /// The vectorized scan finds the first special byte wherever it is in a block (a CR
    /// only when no LF follows it), and counts the line feeds and notes the high bytes before
    /// it exactly.
    #[test]
    fn scan_plain_agrees_with_a_byte_by_byte_scan() {
        const ALPHABET: &[u8] = b"ab \n\r\r\n\r\r\n\x1b\x08\x7f\xc3\xa9";
        let mut rng = crate::gen::Rng::new(1);
        for len in (0..300).chain([511, 512, 513, 4096]) {
            for _ in 0..20 {
                let mut b = vec![b'a'; len];
                // A few bytes from the alphabet at random places, most of the line plain.
                for _ in 0..6 {
                    if len > 0 {
                        b[rng.below(len)] = *rng.pick(ALPHABET);
                    }
                }
                let at = |i: usize| b.get(i).copied().unwrap_or(0);
                let special_at = (0..len)
                    .find(|&i| special(b[i], at(i + 1), at(i + 2)))
                    .unwrap_or(len);
                let want = PlainScan {
                    special: special_at,
                    line_feeds: b[..special_at].iter().filter(|&&c| c == b'\n').count(),
                    ascii: b[..special_at].is_ascii(),
                };
                assert_eq!(scan_plain(&b), want, "{b:?}");
                assert_eq!(scan_plain_from(&b, 0, 0, false), want, "{b:?}");
                assert_eq!(scan_plain_blocks(&b), want, "{b:?}");
            }
        }
    }

    /// The agent's CR CR LF ends a plain line like CR LF; other CRs do not.
    #[test]
    fn agent_line_ends_are_plain() {
        let find_special = |b: &[u8]| scan_plain(b).special;
        let line = b"2026-11-23 INFO request completed\r\r\n".repeat(20);
        assert_eq!(find_special(&line), line.len());
        assert_eq!(scan_plain(&line).line_feeds, 20);
        assert_eq!(find_special(&line[..line.len() - 1]), line.len() - 3);
        let mut more = line.clone();
        more.extend_from_slice(b"next\r\n");
        assert_eq!(find_special(&more), more.len());
        assert_eq!(find_special(b"50%\r\r60%\r\n"), 3);
        assert_eq!(super::plain_line_text(b"text  \r\r\n"), b"text");
    }
}
