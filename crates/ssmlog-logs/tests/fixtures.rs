//! Checked-in logs (`tests/fixtures/*.log`) against the text a terminal showed
//! (`*.expected.txt`, reviewed by hand). `SSMLOG_BLESS=1` rewrites the expected files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;

use ssmlog_logs::{clean, format_rfc3339, Cleaner, LogKind};

fn check(name: &str) -> ssmlog_logs::SessionMeta {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let raw = std::fs::read(dir.join(format!("{name}.log"))).unwrap();
    let (text, meta) = clean(&raw);
    let expected_path = dir.join(format!("{name}.expected.txt"));
    if std::env::var_os("SSMLOG_BLESS").is_some() {
        std::fs::write(&expected_path, &text).unwrap();
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap();
    assert_eq!(
        text, expected,
        "{name}: cleaned text differs from {name}.expected.txt"
    );
    // Streaming in small chunks gives the same text.
    let mut c = Cleaner::new();
    let mut streamed = String::new();
    for chunk in raw.chunks(7) {
        c.feed(chunk);
        c.take(&mut streamed);
    }
    c.finish();
    c.take(&mut streamed);
    assert_eq!(streamed, expected, "{name}: streamed");
    // The same session as the agent uploads it (`script LOG -c "cat FILE"`: no terminal size,
    // CR CR LF) shows the same text.
    let agent = ssmlog_logs::gen::agent_form(&raw, name);
    if agent != raw {
        let (text, agent_meta) = clean(&agent);
        assert_eq!(text, expected, "{name}: agent form");
        assert_eq!(agent_meta.start, meta.start, "{name}: agent form");
    }
    meta
}

#[test]
fn colour_bash_session() {
    let meta = check("colour-bash");
    assert_eq!(meta.kind, LogKind::Script);
    assert_eq!(format_rfc3339(meta.start.unwrap()), "2026-11-23T10:15:00Z");
    assert_eq!(format_rfc3339(meta.end.unwrap()), "2026-11-23T10:21:07Z");
}

#[test]
fn progress_bars() {
    check("progress-bar");
}

#[test]
fn vim_session() {
    check("vim-session");
}

#[test]
fn backspaces() {
    check("backspaces");
}

#[test]
fn powershell_transcript() {
    let meta = check("powershell-transcript");
    assert_eq!(meta.kind, LogKind::Powershell);
    assert_eq!(format_rfc3339(meta.end.unwrap()), "2026-11-23T10:30:12Z");
}

/// Issue 11: a PowerShell 7 transcript with `-IncludeInvocationHeader`, in UTF-8 and as
/// UTF-16LE (PowerShell's `Unicode` encoding): the same text, the blocks before each command
/// taken out, start and end times read from both.
#[test]
fn powershell_7_invocation_headers_and_utf16() {
    let stars = "**********************";
    let log = format!(
        "{stars}\r\nPowerShell transcript start\r\nStart time: 20261123101500\r\nUsername: EC2AMAZ-1\\ssm-user\r\nPSVersion: 7.4.6\r\nPSEdition: Core\r\n{stars}\r\n\
         {stars}\r\nCommand start time: 20261123101510\r\n{stars}\r\nPS C:\\> whoami\r\nec2amaz-1\\ssm-user\r\n\
         {stars}\r\nCommand start time: 20261123101520\r\n{stars}\r\nPS C:\\> Write-Output 'naïve 日本'\r\nnaïve 日本\r\n\
         {stars}\r\nPowerShell transcript end\r\nEnd time: 20261123101600\r\n{stars}\r\n"
    );
    let want =
        "PS C:\\> whoami\nec2amaz-1\\ssm-user\nPS C:\\> Write-Output 'naïve 日本'\nnaïve 日本\n";
    let (text, meta) = clean(log.as_bytes());
    assert_eq!(text, want);
    assert_eq!(meta.kind, LogKind::Powershell);
    assert_eq!(format_rfc3339(meta.start.unwrap()), "2026-11-23T10:15:00Z");
    assert_eq!(format_rfc3339(meta.end.unwrap()), "2026-11-23T10:16:00Z");
    let mut utf16 = vec![0xFF, 0xFE];
    for u in log.encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let (text16, meta16) = clean(&utf16);
    assert_eq!((text16, &meta16), (want.to_string(), &meta));
    for chunk in [1, 3, 7] {
        let mut c = Cleaner::new();
        let mut streamed = String::new();
        for part in utf16.chunks(chunk) {
            c.feed(part);
            c.take(&mut streamed);
        }
        c.finish();
        c.take(&mut streamed);
        assert_eq!(streamed, want, "chunks of {chunk}");
    }
    // The listing's header and footer reads, the footer from an odd offset.
    assert_eq!(ssmlog_logs::header_meta(&utf16[..1000]).start, meta.start);
    let tail = &utf16[utf16.len() - 301..];
    assert_eq!(ssmlog_logs::footer_end_time(tail), meta.end);
    // The search finds the same lines.
    let m = ssmlog_logs::Matcher::new(&ssmlog_logs::SearchOptions {
        pattern: "日本".into(),
        case_insensitive: false,
        before: 0,
        after: 0,
        invert: false,
        threads: 1,
    })
    .unwrap();
    assert_eq!(m.search_log(&utf16).0.len(), 2);
    assert_eq!(m.search_log(log.as_bytes()).0.len(), 2);
}
