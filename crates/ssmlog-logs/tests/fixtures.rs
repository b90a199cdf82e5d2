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
