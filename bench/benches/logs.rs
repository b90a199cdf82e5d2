//! `ssmlog logs grep` against ripgrep on the same generated corpus (at least 1 GB of session
//! logs), in one run. ssmlog cleans every log (escapes, overwrites, alternate screen) before
//! matching; ripgrep matches the raw bytes. Target: at least 0.8x ripgrep's throughput.
//!
//!     cargo bench -q -p ssmlog-bench --bench logs
//!
//! The corpus is generated once under `$SSMLOG_LOGS_CORPUS` (default
//! `/tmp/ssmlog-logs-corpus-1g`) and reused while its marker file matches the spec.
//! `SSMLOG_LOGS_BYTES` changes the size; `rg` must be on PATH (scripts/install-tools.sh).
//! `SSMLOG_LOGS_PHASES=1` first times one thread in phases (`=only`: nothing else), and
//! `SSMLOG_LOGS_FAST_ONLY=PATTERN` keeps just that pattern's phase (for a profiler).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ssmlog_logs::gen::{write_corpus, CorpusSpec, LogForm};

/// The allocator of the `ssmlog` binary, whose `logs grep` this stands for.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use ssmlog_logs::{list_sessions, search, Filter, LocalDir, LogSource, Matcher, SearchOptions};

fn corpus(dir: &Path, bytes: u64) -> u64 {
    let spec = CorpusSpec {
        seed: 7,
        accounts: 20,
        regions: 4,
        target_bytes: bytes,
        max_files: usize::MAX,
        windows_share: 0.1,
        // The agent's form (`script LOG -c "cat FILE"`, CR CR LF), or SSMLOG_LOGS_FORM=plain.
        form: if std::env::var("SSMLOG_LOGS_FORM").is_ok_and(|f| f == "plain") {
            LogForm::Plain
        } else {
            LogForm::Agent
        },
    };
    let marker = dir.join(".complete");
    let want = format!("{spec:?}");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(want.as_str()) {
        return du(dir);
    }
    let _ = std::fs::remove_dir_all(dir);
    let t = Instant::now();
    let stats = match write_corpus(dir, &spec) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot write corpus under {}: {e}", dir.display());
            std::process::exit(2)
        }
    };
    let _ = std::fs::write(&marker, want);
    println!(
        "generated {} files, {:.2} GB in {:.1} s",
        stats.files,
        stats.bytes as f64 / 1e9,
        t.elapsed().as_secs_f64()
    );
    stats.bytes
}

fn du(dir: &Path) -> u64 {
    let mut total = 0;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                total += du(&p);
            } else if p.extension().is_some_and(|x| x == "log") {
                total += e.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
    }
    total
}

/// ssmlog: list, then clean and search every log; matching lines are written as the CLI
/// writes them (`FileMatches::write_text`).
fn ssmlog_grep(dir: &Path, pattern: &str, ci: bool, threads: usize) -> usize {
    let Ok(source) = LocalDir::new(dir) else {
        return 0;
    };
    let Ok(sessions) = list_sessions(&source, &Filter::default(), false, threads) else {
        return 0;
    };
    let opts = SearchOptions {
        pattern: pattern.to_string(),
        case_insensitive: ci,
        before: 0,
        after: 0,
        invert: false,
        threads,
    };
    let mut out = std::io::sink();
    let (mut lines, mut separate) = (0, ssmlog_logs::TextCursor::default());
    let _ = search(&source, &sessions, &opts, &mut |fm| {
        let _ = fm.write_text(0, &mut separate, &mut out);
        lines += fm.matches.len();
    });
    lines
}

/// ripgrep on the raw files; output read through a pipe (ripgrep stops at the first match
/// when its output is /dev/null).
fn rg(dir: &Path, pattern: &str, ci: bool, threads: usize) -> usize {
    let mut cmd = Command::new("rg");
    cmd.args(["--no-heading", "-n", "-j", &threads.to_string()]);
    if ci {
        cmd.arg("-i");
    }
    cmd.arg("-e").arg(pattern).arg(dir).stdout(Stdio::piped());
    let Ok(mut child) = cmd.spawn() else {
        eprintln!("rg not found: run scripts/install-tools.sh");
        std::process::exit(2)
    };
    // Count line feeds in the raw output: this process shares the cores with rg, so it
    // must not spend more on each line than rg does.
    let mut n = 0;
    if let Some(mut out) = child.stdout.take() {
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(k) = out.read(&mut buf) {
            if k == 0 {
                break;
            }
            n += buf[..k].iter().filter(|&&b| b == b'\n').count();
        }
    }
    let _ = child.wait();
    n
}

/// One thread, in phases: reading the files, reading and cleaning, reading, cleaning and
/// searching (the reference), and the search as `logs grep` runs it (the fast path, which
/// cleans only where cleaning changes something); shows where the time goes.
fn phases(dir: &Path, mb: f64) {
    let Ok(source) = LocalDir::new(dir) else {
        return;
    };
    let t = Instant::now();
    let Ok(sessions) = list_sessions(&source, &Filter::default(), false, 1) else {
        return;
    };
    println!(
        "listing {} sessions: {:.0} ms",
        sessions.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    let re = regex::Regex::new("Connection refused").ok();
    let mut raw = Vec::new();
    let fast_only = std::env::var_os("SSMLOG_LOGS_FAST_ONLY").is_some();
    for phase in ["read", "read+clean", "read+clean+search"] {
        if fast_only {
            break;
        }
        let t = Instant::now();
        let mut n = 0usize;
        for s in &sessions {
            if source.read_into(&s.key.key, s.size, &mut raw).is_err() {
                continue;
            }
            if phase == "read" {
                n += raw.len();
                continue;
            }
            let (text, _) = ssmlog_logs::clean(&raw);
            if let (Some(re), true) = (&re, phase == "read+clean+search") {
                n += ssmlog_logs::search_text(re, &text, 0).len();
            } else {
                n += text.len();
            }
        }
        println!(
            "one thread, {phase}: {:.0} MB/s ({n})",
            mb / t.elapsed().as_secs_f64()
        );
    }
    for (pattern, ci) in PATTERNS {
        if std::env::var("SSMLOG_LOGS_FAST_ONLY").is_ok_and(|p| p != pattern) {
            continue;
        }
        let opts = SearchOptions {
            pattern: pattern.to_string(),
            case_insensitive: ci,
            before: 0,
            after: 0,
            invert: false,
            threads: 1,
        };
        let Ok(m) = Matcher::new(&opts) else {
            continue;
        };
        let t = Instant::now();
        let mut n = 0usize;
        for s in &sessions {
            if source.read_into(&s.key.key, s.size, &mut raw).is_ok() {
                n += m.search_log(&raw).0.len();
            }
        }
        println!(
            "one thread, read+search `{pattern}`: {:.0} MB/s ({n})",
            mb / t.elapsed().as_secs_f64()
        );
    }
}

/// Runs of each side per pattern; the best is reported.
const ROUNDS: usize = 5;

const PATTERNS: [(&str, bool); 3] = [
    ("Connection refused", false),
    ("restart nginx", true),
    (r"ERROR \[worker-[0-7]\] POST", false),
];

fn rg_version() -> String {
    Command::new("rg")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_string))
        .unwrap_or_else(|| "rg (not found)".into())
}

fn main() {
    let dir =
        std::env::var("SSMLOG_LOGS_CORPUS").unwrap_or_else(|_| "/tmp/ssmlog-logs-corpus-1g".into());
    let dir = Path::new(&dir);
    let want: u64 = std::env::var("SSMLOG_LOGS_BYTES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_100_000_000);
    let bytes = corpus(dir, want);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mb = bytes as f64 / 1e6;
    println!(
        "corpus: {} ({:.0} MB), threads: {threads}, {}",
        dir.display(),
        mb,
        rg_version()
    );
    if std::env::var_os("SSMLOG_LOGS_PHASES").is_some() {
        phases(dir, mb);
        if std::env::var_os("SSMLOG_LOGS_PHASES").is_some_and(|v| v == "only") {
            return;
        }
    }
    // Warm the page cache for both.
    rg(dir, "warm-up-pattern-that-never-matches", false, threads);
    println!("| pattern | tool | matching lines | time (best of {ROUNDS}) | MB/s | ssmlog / rg |");
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    for (pattern, ci) in PATTERNS {
        // Alternating, so a burst of load on the machine hits both alike.
        let (mut t_rg, mut n_rg, mut t_ss, mut n_ss) = (Duration::MAX, 0, Duration::MAX, 0);
        for _ in 0..ROUNDS {
            let t = Instant::now();
            n_rg = rg(dir, pattern, ci, threads);
            t_rg = t_rg.min(t.elapsed());
            let t = Instant::now();
            n_ss = ssmlog_grep(dir, pattern, ci, threads);
            t_ss = t_ss.min(t.elapsed());
        }
        let shown = if ci {
            format!("`-i {pattern}`")
        } else {
            format!("`{pattern}`")
        };
        let rate = |t: Duration| mb / t.as_secs_f64();
        println!(
            "| {shown} | rg | {n_rg} | {:.2} s | {:.0} | |",
            t_rg.as_secs_f64(),
            rate(t_rg)
        );
        println!(
            "| {shown} | ssmlog | {n_ss} | {:.2} s | {:.0} | {:.2}x |",
            t_ss.as_secs_f64(),
            rate(t_ss),
            t_rg.as_secs_f64() / t_ss.as_secs_f64()
        );
    }
}
