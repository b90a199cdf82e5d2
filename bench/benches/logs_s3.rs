//! `ssmlog logs grep --bucket` against what people do today, `aws s3 cp --recursive` of the
//! bucket followed by `grep -r`, on the same SSE-KMS bucket of a moto server, in one run.
//! Target: ssmlog at least 5x faster (wall time, from the command to the last match).
//!
//!     cargo build --release -p ssmlog && cargo bench -q -p ssmlog-bench --bench logs_s3
//!
//! The benchmark runs the release `ssmlog` binary next to it (`target/release/ssmlog`, or
//! `$SSMLOG_BIN`), starts its own `moto_server` on a free port of 127.0.0.1, and uploads a
//! generated corpus (`ssmlog_logs::gen`, 600 logs by default, `SSMLOG_S3_LOGS` changes it)
//! with `aws s3 cp --recursive --sse aws:kms`. Each side runs 3 times, alternating; the best
//! is reported. It also runs ssmlog at several `-j` to show how many requests in flight pay.
//! Needs `moto_server` and `aws` (scripts/install-tools.sh).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use ssmlog_logs::gen::{write_corpus, CorpusSpec, LogForm};
use ssmlog_moto::{Moto, ENV};

const BUCKET: &str = "central-session-logs";
const PATTERN: &str = "Connection refused";
const ROUNDS: usize = 3;

fn die(msg: impl std::fmt::Display) -> ! {
    eprintln!("logs_s3: {msg}");
    std::process::exit(2)
}

/// Fake credentials moto accepts, and no ambient AWS config.
fn env(cmd: &mut Command) -> &mut Command {
    cmd.envs(ENV).env_remove("AWS_PROFILE")
}

fn run(cmd: &mut Command, what: &str) -> Output {
    let out = env(cmd)
        .output()
        .unwrap_or_else(|e| die(format!("{what}: {e}")));
    if !out.status.success() && out.status.code() != Some(1) {
        die(format!(
            "{what}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    out
}

fn ssmlog_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("SSMLOG_BIN") {
        return PathBuf::from(p);
    }
    // This benchmark runs from <target>/release/deps/; the binary is <target>/release/ssmlog.
    let exe = std::env::current_exe().unwrap_or_else(|e| die(e));
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("ssmlog"))
        .unwrap_or_else(|| die("no target directory"));
    if !bin.exists() {
        die(format!(
            "{} is missing: run `cargo build --release -p ssmlog` first",
            bin.display()
        ));
    }
    bin
}

/// CPU seconds (user + system) from `/proc/<pid>/stat`: the process's own (`fields` 14, 15)
/// or its waited-for children's (16, 17); 0 where /proc is missing. Clock ticks are 100/s
/// on Linux.
fn cpu_seconds(pid: &str, fields: [usize; 2]) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let v: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    fields
        .iter()
        .map(|&f| v.get(f - 3).copied().unwrap_or(0.0))
        .sum::<f64>()
        / 100.0
}

/// (moto's CPU seconds, this process's children's CPU seconds) so far.
fn cpu(moto: &Moto) -> (f64, f64) {
    (
        cpu_seconds(&moto.pid().to_string(), [14, 15]),
        cpu_seconds("self", [16, 17]),
    )
}

fn lines(out: &Output) -> usize {
    out.stdout.iter().filter(|&&b| b == b'\n').count()
}

fn ssmlog_grep(bin: &Path, moto: &Moto, threads: Option<usize>) -> (Duration, usize) {
    let mut cmd = Command::new(bin);
    cmd.args([
        "logs",
        "grep",
        PATTERN,
        "--bucket",
        BUCKET,
        "--endpoint-url",
    ])
    .arg(moto.url());
    if let Some(j) = threads {
        cmd.args(["-j", &j.to_string()]);
    }
    let t = Instant::now();
    let out = run(&mut cmd, "ssmlog logs grep");
    (t.elapsed(), lines(&out))
}

fn cp_then_grep(moto: &Moto, dir: &Path) -> (Duration, usize) {
    let _ = std::fs::remove_dir_all(dir);
    let t = Instant::now();
    run(
        Command::new("aws")
            .args([
                "--endpoint-url",
                &moto.url(),
                "s3",
                "cp",
                "--recursive",
                "--quiet",
            ])
            .arg(format!("s3://{BUCKET}"))
            .arg(dir),
        "aws s3 cp --recursive",
    );
    let out = run(
        Command::new("grep").args(["-r", PATTERN]).arg(dir),
        "grep -r",
    );
    (t.elapsed(), lines(&out))
}

fn main() {
    let bin = ssmlog_bin();
    let files: usize = std::env::var("SSMLOG_S3_LOGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let tmp = std::env::temp_dir().join(format!("ssmlog-bench-s3-{}", std::process::id()));
    let corpus = tmp.join("corpus");
    let spec = CorpusSpec {
        seed: 13,
        accounts: 8,
        regions: 3,
        target_bytes: u64::MAX,
        max_files: files,
        windows_share: 0.1,
        form: LogForm::Agent,
    };
    let stats = write_corpus(&corpus, &spec).unwrap_or_else(|e| die(e));
    let moto = Moto::start()
        .unwrap_or_else(|| die("moto_server or aws is missing: scripts/install-tools.sh"));
    let key = moto.sse_kms_bucket(BUCKET);
    let t = Instant::now();
    moto.upload_sse_kms(&corpus, BUCKET, &key);
    println!(
        "corpus: {} logs, {:.1} MB under {} accounts x {} regions, SSE-KMS, uploaded by the aws CLI in {:.1} s",
        stats.files,
        stats.bytes as f64 / 1e6,
        spec.accounts,
        spec.regions,
        t.elapsed().as_secs_f64()
    );

    let down = tmp.join("download");
    let mut ours = (Duration::MAX, 0);
    let mut theirs = (Duration::MAX, 0);
    // CPU seconds of moto and of the client side over all rounds.
    let (mut ours_cpu, mut theirs_cpu) = ((0.0, 0.0), (0.0, 0.0));
    for _ in 0..ROUNDS {
        let c0 = cpu(&moto);
        let a = ssmlog_grep(&bin, &moto, None);
        let c1 = cpu(&moto);
        let b = cp_then_grep(&moto, &down);
        let c2 = cpu(&moto);
        ours = (ours.0.min(a.0), a.1);
        theirs = (theirs.0.min(b.0), b.1);
        ours_cpu = (ours_cpu.0 + c1.0 - c0.0, ours_cpu.1 + c1.1 - c0.1);
        theirs_cpu = (theirs_cpu.0 + c2.0 - c1.0, theirs_cpu.1 + c2.1 - c1.1);
    }
    let per_run = |c: (f64, f64)| (c.0 / ROUNDS as f64, c.1 / ROUNDS as f64);
    let (ours_cpu, theirs_cpu) = (per_run(ours_cpu), per_run(theirs_cpu));
    let mb = stats.bytes as f64 / 1e6;
    println!();
    println!("| command | matching lines | time (best of {ROUNDS}) | MB/s | ssmlog is |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    println!(
        "| `ssmlog logs grep '{PATTERN}' --bucket {BUCKET} --endpoint-url URL` | {} | {:.2} s | {:.0} | {:.1}x |",
        ours.1,
        ours.0.as_secs_f64(),
        mb / ours.0.as_secs_f64(),
        theirs.0.as_secs_f64() / ours.0.as_secs_f64()
    );
    println!(
        "| `aws s3 cp --recursive s3://{BUCKET} DIR && grep -r '{PATTERN}' DIR` | {} | {:.2} s | {:.0} | |",
        theirs.1,
        theirs.0.as_secs_f64(),
        mb / theirs.0.as_secs_f64()
    );
    println!();
    println!(
        "CPU seconds per run: ssmlog {:.2} + moto {:.2}; aws CLI and grep {:.2} + moto {:.2}",
        ours_cpu.1, ours_cpu.0, theirs_cpu.1, theirs_cpu.0
    );
    println!();
    println!("ssmlog by worker threads (-j), one run each:");
    for j in [2, 8, 16, 32, 64] {
        let (t, n) = ssmlog_grep(&bin, &moto, Some(j));
        println!("  -j {j:>2}: {:.2} s ({n} lines)", t.as_secs_f64());
    }
    drop(moto);
    let _ = std::fs::remove_dir_all(&tmp);
}
