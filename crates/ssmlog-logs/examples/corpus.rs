//! Writes a generated corpus (as the logs benchmark does):
//! `cargo run --release -p ssmlog-logs --example corpus -- DIR BYTES [plain]` (the agent's
//! form unless `plain`).
#![allow(missing_docs)]

use ssmlog_logs::gen::{write_corpus, CorpusSpec, LogForm};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(bytes)) = (args.first(), args.get(1).and_then(|b| b.parse().ok())) else {
        eprintln!("usage: corpus DIR BYTES [plain]");
        return std::process::ExitCode::from(2);
    };
    let spec = CorpusSpec {
        seed: 7,
        accounts: 20,
        regions: 4,
        target_bytes: bytes,
        form: if args.get(2).is_some_and(|f| f == "plain") {
            LogForm::Plain
        } else {
            LogForm::Agent
        },
        ..CorpusSpec::default()
    };
    match write_corpus(std::path::Path::new(dir), &spec) {
        Ok(s) => {
            println!("{} files, {} bytes", s.files, s.bytes);
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot write {dir}: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
