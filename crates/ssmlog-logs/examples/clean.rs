//! Prints the cleaned text of a raw log: `cargo run -p ssmlog-logs --example clean -- FILE`
//! (for looking at what the cleaner makes of a recording).
#![allow(missing_docs)]

use std::io::Write;

fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: clean FILE");
        return std::process::ExitCode::from(2);
    };
    let raw = match std::fs::read(&path) {
        Ok(raw) => raw,
        Err(e) => {
            eprintln!("cannot read {}: {e}", path.to_string_lossy());
            return std::process::ExitCode::from(2);
        }
    };
    let (text, _) = ssmlog_logs::clean(&raw);
    let _ = std::io::stdout().write_all(text.as_bytes());
    std::process::ExitCode::SUCCESS
}
