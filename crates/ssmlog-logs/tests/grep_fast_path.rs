//! Issue 6: the grep fast path (plain runs matched in their raw bytes, the cleaner only where
//! it changes something) against the reference: clean the whole log, then search its text.
//! Generated sessions (several seeds, sizes, screen heights), hand-made edge cases, and
//! generated sessions with random control sequences spliced in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::clean_in_pieces;
use ssmlog_logs::gen::{agent_form, linux_session, powershell_transcript, Rng};
use ssmlog_logs::{clean, search_text, Matcher, SearchOptions};

/// Patterns of every kind the fast path treats differently.
const PATTERNS: &[(&str, bool)] = &[
    ("Connection refused", false),
    ("restart nginx", true),
    (r"ERROR \[worker-[0-7]\] POST", false),
    ("WARN|DEBUG", false),
    (r"req=[0-9a-f]{4}0", false),
    // Only visible after cleaning (backspace corrections, overwrites).
    ("whoami", false),
    ("100% \\[#+\\]", false),
    // Only in raw bytes that the screen erased.
    ("restrat", false),
    ("whoamu", false),
    ("01;32m", false),
    // Anchors, boundaries, blanks that cleaning trims.
    ("^INFO", false),
    ("completed$", false),
    (r"\bssm-user\b", false),
    (r"ms \S+ $", false),
    (r"kB/s\s*$", false),
    ("^$", false),
    (r"(?-m)^Script", false),
    (r"\z", false),
    (r"\s\n", false),
    ("Running +W", true),
    ("é|\u{fffd}", false),
    ("x*", false),
    (".{200}", false),
    ("KEY1 = VALUE", true),
];

fn opts(pattern: &str, ci: bool, context: usize) -> SearchOptions {
    SearchOptions {
        pattern: pattern.into(),
        case_insensitive: ci,
        before: context,
        after: context,
        invert: false,
        threads: 1,
    }
}

/// Fast path and reference agree on `raw` for every pattern; returns the matches found.
fn agree(raw: &[u8], what: &str) -> usize {
    let (text, meta) = clean(raw);
    let mut total = 0;
    for (i, &(pattern, ci)) in PATTERNS.iter().enumerate() {
        // Context lines take the reference path; check that it is wired too.
        for context in [0, 2].into_iter().take(if i < 2 { 2 } else { 1 }) {
            let m = Matcher::new(&opts(pattern, ci, context)).unwrap();
            let want = search_text(m.regex(), &text, context);
            let (got, got_meta) = m.search_log(raw);
            if got != want {
                let first = got
                    .iter()
                    .zip(&want)
                    .position(|(a, b)| a != b)
                    .unwrap_or(got.len().min(want.len()));
                panic!(
                    "{what}, pattern {pattern:?} (ci {ci}, context {context}): {} lines vs {} \
                     expected; first difference at {first}: {:?} vs {:?}",
                    got.len(),
                    want.len(),
                    got.get(first),
                    want.get(first)
                );
            }
            assert_eq!(got_meta, meta, "{what}");
            total += got.len();
        }
    }
    total
}

#[test]
fn generated_sessions_match_the_reference() {
    let mut found = 0;
    for seed in [1, 2, 3, 5, 8] {
        let mut rng = Rng::new(seed);
        for size in [3_000, 40_000, 400_000] {
            let (raw, _) = linux_session(&mut rng, "alice", 1_790_000_000, size);
            found += agree(&raw, &format!("linux seed {seed} size {size}"));
            let raw = agent_form(&raw, "alice-0123456789abcdef0");
            found += agree(&raw, &format!("linux (agent) seed {seed} size {size}"));
            let (raw, _) = powershell_transcript(&mut rng, 1_790_000_000, size / 3);
            found += agree(&raw, &format!("powershell seed {seed} size {size}"));
        }
    }
    assert!(found > 5_000, "{found}");
}

/// PowerShell 7 with `-IncludeInvocationHeader`: a block (stars, `Command start time: …`,
/// stars) before every command, between outputs long enough to be skipped, and rows of stars
/// inside an output. The fast path skips the lines after each block; the blocks must still
/// come out as the reference takes them out.
#[test]
fn powershell_invocation_headers_between_long_outputs() {
    let stars = "**********************";
    let block =
        |i: usize| format!("{stars}\r\nCommand start time: 2026112310{i:04}\r\n{stars}\r\n");
    let mut found = 0;
    for seed in [1, 2, 3] {
        let mut rng = Rng::new(seed);
        let (raw, _) = powershell_transcript(&mut rng, 1_790_000_000, 200_000);
        let text = String::from_utf8(raw).unwrap();
        let mut with_blocks = String::new();
        for (i, line) in text.split_inclusive('\n').enumerate() {
            if line.starts_with("PS C:\\") {
                with_blocks.push_str(&block(i));
            }
            // A row of stars in an output, and a line that only starts like a block.
            if i % 97 == 50 {
                with_blocks.push_str(&format!("password: {stars}\r\n{stars}\r\n"));
            }
            if i % 89 == 40 {
                with_blocks.push_str("Command start time: not a block\r\n");
            }
            with_blocks.push_str(line);
        }
        // Blocks whose lines end up around the edges of a long output: two blocks in a row,
        // and one right before the footer.
        let doubled = with_blocks.replacen(&block(1), &format!("{}{}", block(1), block(2)), 1);
        for (what, raw) in [("blocks", &with_blocks), ("doubled", &doubled)] {
            let (clean_text, _) = clean(raw.as_bytes());
            if let Some(at) = clean_text.find("Command start time: 2026") {
                panic!(
                    "{what}: {:?}",
                    &clean_text[at.saturating_sub(300)..at + 200]
                );
            }
            assert!(
                clean_text.contains("Command start time: not a block"),
                "{what}"
            );
            found += agree(raw.as_bytes(), &format!("powershell 7 {what} seed {seed}"));
        }
    }
    assert!(found > 1_000, "{found}");
}

/// After `clear` with the height unknown, the screen grows to 200 rows before it scrolls:
/// the fast path leaves screen mode at once only when the plain lines that follow are
/// enough to scroll it (199 from the second row of a fresh 24-row screen: 22 rows down, 176
/// rows grown, one scroll). Around that count, a redraw from the top afterwards (cursor home,
/// a row written, cursor down) lands where the cleaner fed line by line puts it. Also when the
/// lines start lower down, below rows never written (the cursor moved there), or below a row
/// written apart from the others.
#[test]
fn plain_lines_after_clear_leave_screen_mode_exactly_when_they_would_scroll_it() {
    let head = "Script started on 2026-11-23 10:15:00+00:00 [TERM=\"xterm\" TTY=\"/dev/pts/0\"]\n";
    let mut found = 0;
    for before in ["", "\x1b[6;1H", "\x1b[3;1Hapart\x1b[6;1H", "\x1b[24;1H"] {
        for n in (170..=210)
            .step_by(if before.is_empty() { 1 } else { 3 })
            .chain([150, 300])
        {
            let lines: String = (0..n)
                .map(|i| {
                    format!("2026-11-23T10:00:00Z INFO [worker-1] GET /x 200 {i}ms req=ab ok\r\r\n")
                })
                .collect();
            let log = format!(
                "{head}$ clear\r\r\n\x1b[H\x1b[2J\x1b[3J$ tail app.log\r\r\n{before}{lines}\x1b[HTOP ROW\x1b[5BX\r\r\n$ whoami\r\r\nssm-user\r\r\n{}",
                plain_lines(40, "after")
            );
            found += agree(
                log.as_bytes(),
                &format!("{n} lines after clear and {before:?}"),
            );
        }
    }
    assert!(found > 1_000, "{found}");
}

fn plain_lines(n: usize, tag: &str) -> String {
    (0..n)
        .map(|i| format!("{tag} line {i} Connection refused whoami  \r\n"))
        .collect()
}

const HEAD: &str = "Script started on 2026-11-23 10:15:00+00:00 [COLUMNS=\"80\" LINES=\"24\"]\n";
const FOOT: &str = "\nScript done on 2026-11-23 10:20:00+00:00 [COMMAND_EXIT_CODE=\"0\"]\n";

#[test]
fn edits_that_reach_back_into_skipped_lines() {
    let run = plain_lines(200, "plain");
    let cases: Vec<(&str, String)> = vec![
        (
            "cursor up rewrites",
            "\x1b[5AREWRITTEN whoami\x1b[3B\r\n".into(),
        ),
        ("clear keeps the screen", "$ clear\r\n\x1b[H\x1b[2J".into()),
        (
            "erase below from line 10",
            "\x1b[10;1H\x1b[Jafter\r\n".into(),
        ),
        ("reverse index", "\x1bM\x1bMup twice\r\n".into()),
        ("restore to a saved line", String::new()),
        (
            "scroll region",
            "\x1b[5;20r\x1b[20;1H\n\n\nscrolled\r\n".into(),
        ),
        ("alternate screen", "\x1b[?1049hvim\x1b[?1049l".into()),
        (
            "alternate screen left at once, then up",
            "\x1b[?1049h\x1b[?1049l\x1b[3AOVER whoami\r\n".into(),
        ),
        ("delete lines", "\x1b[3A\x1b[2M\r\n".into()),
        ("none", String::new()),
    ];
    for (what, edit) in &cases {
        let mut log = format!("{HEAD}\x1b[01;32m$\x1b[0m tail\r\n{run}");
        if *what == "restore to a saved line" {
            log = format!("{HEAD}$ x\x1b7\r\n{run}\x1b8restored\r\n");
        }
        log.push_str(edit);
        log.push_str(&plain_lines(3, "after"));
        log.push_str(&run);
        log.push_str(edit);
        log.push_str(FOOT);
        agree(log.as_bytes(), what);
        // The same without the footer, and with the edit last.
        let cut = log.len() - FOOT.len();
        agree(&log.as_bytes()[..cut], what);
    }
}

#[test]
fn edge_cases_around_plain_runs() {
    let run = plain_lines(300, "p");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("no header", run.clone().into_bytes()),
        ("only a header and plain lines", format!("{HEAD}{run}{FOOT}").into_bytes()),
        (
            "tiny screen",
            format!("Script started on 2026-11-23 10:15:00+00:00 [LINES=\"2\"]\n{run}\x1b[A!\r\n{run}{FOOT}")
                .into_bytes(),
        ),
        (
            "tall screen",
            format!("Script started on 2026-11-23 10:15:00+00:00 [LINES=\"900\"]\n{run}\x1b[800A!\r\n{run}{FOOT}")
                .into_bytes(),
        ),
        (
            "line drawing selected over a run",
            format!("{HEAD}\x1b(0{run}\x1b(B{run}{FOOT}").into_bytes(),
        ),
        ("shifted out over a run", format!("{HEAD}\x0e{run}\x0f{run}").into_bytes()),
        (
            "unterminated sequence before a run",
            format!("{HEAD}\x1b[12\r\n{run}m{run}").into_bytes(),
        ),
        (
            "unterminated title before a run",
            format!("{HEAD}\x1b]0;title\r\n{run}").into_bytes(),
        ),
        (
            "progress bar left pending",
            format!("{HEAD}50%\r{run}").into_bytes(),
        ),
        ("bare LF lines", run.replace("\r\n", "\n").into_bytes()),
        (
            "agent form (CR CR LF)",
            format!("{HEAD}{}50%\r\r\n{}", run.replace("\r\n", "\r\r\n"), run.replace("\r\n", "\r\r\n")).into_bytes(),
        ),
        (
            "CR CR without LF",
            format!("{HEAD}{run}ab\r\rX\r\r\n{run}a\r\r").into_bytes(),
        ),
        ("CR at the end", format!("{HEAD}{run}abc\r").into_bytes()),
        ("no final newline", format!("{HEAD}{run}abc").into_bytes()),
        (
            "footer inside the last run",
            format!("{HEAD}{run}$ exit\r\nexit\r\n{FOOT}").into_bytes(),
        ),
        ("footer lines in the middle", format!("{HEAD}{run}{FOOT}{run}").into_bytes()),
        ("blank lines", format!("{HEAD}{}{run}", "   \r\n\r\n".repeat(400)).into_bytes()),
    ];
    for (what, log) in &cases {
        agree(log, what);
    }
    // Invalid UTF-8 inside a run, at its edges and split around a line feed.
    let mut log = format!("{HEAD}{run}").into_bytes();
    log.extend_from_slice(b"bad \xff\xfe byte\r\ncut \xe2\x9c\r\n\xe9 \r\n");
    log.extend_from_slice(run.as_bytes());
    log.extend_from_slice(b"\xf0\x9f\r\n");
    agree(&log, "invalid UTF-8");
}

/// Control sequences that each change what a terminal shows in their own way.
const EDITS: &[&str] = &[
    "\x1b[A",
    "\x1b[3A",
    "\x1b[B",
    "\x1b[H",
    "\x1b[2J",
    "\x1b[J",
    "\x1b[1J",
    "\x1b[K",
    "\x1b[2K",
    "\x1b7",
    "\x1b8",
    "\x1b[s",
    "\x1b[u",
    "\x1bM",
    "\x1bD",
    "\x1bE",
    "\x1b[?1049h",
    "\x1b[?1049l",
    "\x1b[5;10r",
    "\x1b[r",
    "\x1b[2L",
    "\x1b[M",
    "\x1b[S",
    "\x1b[T",
    "\x1b[4G",
    "\x1b[2P",
    "\x1b[3@",
    "\x1b(0",
    "\x1b(B",
    "\x0e",
    "\x0f",
    "\r",
    "\x08",
    "\x08\x08 ",
    "\t",
    "\x0b",
    "\x7f",
    "\x1b[",
    "\x1b]0;t",
    "\x07",
    "   ",
    "\u{e9}",
];

#[test]
fn generated_sessions_with_spliced_edits_match_the_reference() {
    for seed in 0..30u64 {
        let mut rng = Rng::new(1000 + seed);
        let (mut raw, _) = linux_session(&mut rng, "bob", 1_790_000_000, 60_000);
        if seed % 2 == 0 {
            raw = agent_form(&raw, "bob-0123456789abcdef0");
        }
        if seed % 5 == 0 {
            raw = powershell_transcript(&mut rng, 1_790_000_000, 60_000).0;
        }
        // Splice a few edits in at random line starts and ends.
        for _ in 0..1 + rng.below(6) {
            let nl: Vec<usize> = raw
                .iter()
                .enumerate()
                .filter(|(_, &b)| b == b'\n')
                .map(|(i, _)| i)
                .collect();
            let at = nl[rng.below(nl.len())] + usize::from(rng.chance(0.5));
            let edit = rng.pick(EDITS).as_bytes().to_vec();
            raw.splice(at..at, edit);
        }
        if rng.chance(0.3) {
            let at = rng.below(raw.len());
            raw.insert(at, 0xff);
        }
        agree(&raw, &format!("spliced seed {seed}"));
    }
}

/// Lines far over the cleaner's 64 KiB cut (ASCII and double-width) among random cursor
/// movements, erases, scroll regions, screen switches, saves and restores, on terminals of
/// unknown, known and tiny size: the text is the same however the log is fed (the cuts must
/// not depend on where reads split it), and the fast path finds what the reference finds.
#[test]
fn huge_lines_among_random_sequences_clean_the_same_however_fed() {
    let pieces: &[&[u8]] = &[
        b"\r",
        b"\n",
        b"\r\r\n",
        b"\x1b[H",
        b"\x1b[2J",
        b"\x1b[?1049h",
        b"\x1b[?1049l",
        b"\x08",
        b"\t",
        b"\x1b[5A",
        b"\x1b[3B",
        b"\x1b[10;20r",
        b"\x1b[K",
        b"\x1b]0;t\x07",
        "é".as_bytes(),
        b"\xff",
        b"\x1b[31m",
        b"\x1b7",
        b"\x1b8",
        b"\x1b[2P",
        b"\x1b[4@",
        b"\x1b[1;1H",
        b"\x1b[r",
        b"\x1bM",
    ];
    let sizes = [
        "[COLUMNS=\"80\" LINES=\"24\"]",
        "[TERM=\"xterm\" TTY=\"/dev/pts/0\"]",
        "[COLUMNS=\"7\" LINES=\"3\"]",
    ];
    let m = Matcher::new(&opts("a{3}|日", false, 0)).unwrap();
    let mut rng = Rng::new(7);
    for round in 0..20 {
        let mut raw = format!(
            "Script started on 2026-11-23 10:15:00+00:00 {}\n",
            sizes[round % 3]
        )
        .into_bytes();
        for _ in 0..150 {
            if rng.below(10) < 3 {
                let n = rng.below(140_000);
                if rng.below(2) == 0 {
                    raw.extend(std::iter::repeat_n(b'a' + rng.below(26) as u8, n));
                } else {
                    raw.extend("日".repeat(n / 3).as_bytes());
                }
            } else {
                raw.extend_from_slice(pieces[rng.below(pieces.len())]);
            }
        }
        let (text, _) = clean(&raw);
        let size = [4093, 61, 1 << 20, 509][round % 4];
        let (fed, _) = clean_in_pieces(&raw, size);
        assert!(fed == text, "round {round}: fed {size} bytes at a time");
        let want = search_text(m.regex(), &text, 0);
        assert!(m.search_log(&raw).0 == want, "round {round}: fast path");
    }
}
