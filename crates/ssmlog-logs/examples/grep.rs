//! `logs grep` over a local directory as the CLI runs it (list, read, clean, search on
//! `THREADS` threads, matching lines written in grep's form to stdout), without building the
//! CLI: `cargo run --release -p ssmlog-logs --example grep -- DIR PATTERN [THREADS] [-i]`.
#![allow(missing_docs)]

use std::io::Write;

/// The allocator of the `ssmlog` binary, whose `logs grep` this stands for.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use ssmlog_logs::{list_sessions, search, Filter, LocalDir, SearchOptions};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(pattern)) = (args.first(), args.get(1)) else {
        eprintln!("usage: grep DIR PATTERN [THREADS] [-i]");
        return std::process::ExitCode::from(2);
    };
    let threads = args.get(2).and_then(|t| t.parse().ok()).unwrap_or(2);
    let source = match LocalDir::new(dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let Ok(sessions) = list_sessions(&source, &Filter::default(), false, threads) else {
        return std::process::ExitCode::from(2);
    };
    let opts = SearchOptions {
        pattern: pattern.clone(),
        case_insensitive: args.iter().any(|a| a == "-i"),
        before: 0,
        after: 0,
        invert: false,
        threads,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut separate = ssmlog_logs::TextCursor::default();
    let found = search(&source, &sessions, &opts, &mut |fm| {
        let _ = fm.write_text(0, &mut separate, &mut out);
    });
    let _ = out.flush();
    match found {
        Ok(0) => std::process::ExitCode::from(1),
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::from(2)
        }
    }
}
