//! `ssmlog logs grep --bucket` against what people do today, `aws s3 cp --recursive` of the
//! bucket followed by `grep -r`, on the same bucket of the same server, in one run.
//! Target: ssmlog at least 5x faster (wall time, from the command to the last match).
//!
//!     cargo install --locked --root /tmp/s3s s3s-fs@0.14.1 --features binary
//!     cargo build --release -p ssmlog && S3S_FS=/tmp/s3s/bin/s3s-fs \
//!         cargo bench -q -p ssmlog-bench --bench logs_s3
//!
//! Two servers, each started by the benchmark on a free port of 127.0.0.1:
//! * **native**: `s3s-fs` (a Rust S3 server over a directory; `$S3S_FS` or on PATH), where the
//!   server's own cost per request is small enough for the clients to be what is measured.
//!   It has no KMS, so the logs are stored unencrypted; it has no STS either, so ssmlog's
//!   one `GetCallerIdentity` goes to moto (`AWS_ENDPOINT_URL_STS`, and S3 through
//!   `AWS_ENDPOINT_URL_S3`).
//! * **moto**: the bucket as it really is, SSE-KMS with the logs uploaded under the key; moto
//!   spends 2-3 ms of CPU in Python per GetObject whatever the client, which bounds any
//!   client near 2x, so this run stands for correctness, not throughput.
//!   `SSMLOG_S3_SERVER=native` or `=moto` runs one of them only.
//!
//! The benchmark runs the release `ssmlog` binary next to it (`target/release/ssmlog`, or
//! `$SSMLOG_BIN`) on a generated corpus (`ssmlog_logs::gen`, the agent's form, 600 logs by
//! default, `SSMLOG_S3_LOGS` changes it), uploaded by `aws s3 cp --recursive`. Each side runs
//! 3 times, alternating; the best is reported. It also runs ssmlog at several `-j` to show
//! how many requests in flight pay. Needs `moto_server` and `aws` (scripts/install-tools.sh).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
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

fn lines(out: &Output) -> usize {
    out.stdout.iter().filter(|&&b| b == b'\n').count()
}

/// `s3s-fs` serving a directory, killed when dropped.
struct Native {
    child: Child,
    port: u16,
}

impl Native {
    fn start(root: &Path) -> Native {
        let bin = std::env::var_os("S3S_FS").map_or_else(|| PathBuf::from("s3s-fs"), PathBuf::from);
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| die(e));
        std::fs::create_dir_all(root).unwrap_or_else(|e| die(e));
        let (key, secret) = (
            credential("AWS_ACCESS_KEY_ID"),
            credential("AWS_SECRET_ACCESS_KEY"),
        );
        let child = Command::new(&bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", key, "--secret-key", secret])
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                die(format!(
                    "{}: {e}; install it with `cargo install --locked --root /tmp/s3s s3s-fs@0.14.1 --features binary` and set S3S_FS=/tmp/s3s/bin/s3s-fs",
                    bin.display()
                ))
            });
        let t = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if t.elapsed() > Duration::from_secs(20) {
                die("s3s-fs did not start");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Native { child, port }
    }
}

impl Drop for Native {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn credential(name: &str) -> &'static str {
    ENV.iter().find(|(k, _)| *k == name).map_or_else(
        || die(format!("{name} missing from ssmlog_moto::ENV")),
        |(_, v)| v,
    )
}

/// One server both clients read: its S3 endpoint, the process whose CPU it spends, and how
/// ssmlog is pointed at it.
struct Target<'a> {
    name: &'static str,
    s3_url: String,
    pid: u32,
    moto: &'a Moto,
    native: bool,
}

impl Target<'_> {
    /// (the server's CPU seconds, this process's children's CPU seconds) so far.
    fn cpu(&self) -> (f64, f64) {
        (
            cpu_seconds(&self.pid.to_string(), [14, 15]),
            cpu_seconds("self", [16, 17]),
        )
    }

    fn ssmlog_grep(&self, bin: &Path, threads: Option<usize>) -> (Duration, usize) {
        let mut cmd = Command::new(bin);
        cmd.args(["logs", "grep", PATTERN, "--bucket", BUCKET]);
        if self.native {
            // S3 on the native server, STS (who am I) on moto.
            cmd.env("AWS_ENDPOINT_URL_S3", &self.s3_url)
                .env("AWS_ENDPOINT_URL_STS", self.moto.url());
        } else {
            cmd.args(["--endpoint-url", &self.s3_url]);
        }
        if let Some(j) = threads {
            cmd.args(["-j", &j.to_string()]);
        }
        let t = Instant::now();
        let out = run(&mut cmd, "ssmlog logs grep");
        (t.elapsed(), lines(&out))
    }

    fn cp_then_grep(&self, dir: &Path) -> (Duration, usize) {
        let _ = std::fs::remove_dir_all(dir);
        let t = Instant::now();
        run(
            Command::new("aws")
                .args([
                    "--endpoint-url",
                    &self.s3_url,
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

    /// Both sides, alternating, and the table.
    fn compare(&self, bin: &Path, mb: f64, tmp: &Path) {
        let down = tmp.join("download");
        let mut ours = (Duration::MAX, 0);
        let mut theirs = (Duration::MAX, 0);
        // CPU seconds of the server and of the client side over all rounds.
        let (mut ours_cpu, mut theirs_cpu) = ((0.0, 0.0), (0.0, 0.0));
        for _ in 0..ROUNDS {
            let c0 = self.cpu();
            let a = self.ssmlog_grep(bin, None);
            let c1 = self.cpu();
            let b = self.cp_then_grep(&down);
            let c2 = self.cpu();
            ours = (ours.0.min(a.0), a.1);
            theirs = (theirs.0.min(b.0), b.1);
            ours_cpu = (ours_cpu.0 + c1.0 - c0.0, ours_cpu.1 + c1.1 - c0.1);
            theirs_cpu = (theirs_cpu.0 + c2.0 - c1.0, theirs_cpu.1 + c2.1 - c1.1);
        }
        if ours.1 != theirs.1 {
            die(format!(
                "{}: ssmlog found {} lines, grep {}",
                self.name, ours.1, theirs.1
            ));
        }
        let per_run = |c: (f64, f64)| (c.0 / ROUNDS as f64, c.1 / ROUNDS as f64);
        let (ours_cpu, theirs_cpu) = (per_run(ours_cpu), per_run(theirs_cpu));
        let how = if self.native {
            "(AWS_ENDPOINT_URL_S3=URL)"
        } else {
            "--endpoint-url URL"
        };
        println!();
        println!("{}:", self.name);
        println!();
        println!("| command | matching lines | time (best of {ROUNDS}) | MB/s | ssmlog is |");
        println!("| --- | ---: | ---: | ---: | ---: |");
        println!(
            "| `ssmlog logs grep '{PATTERN}' --bucket {BUCKET} {how}` | {} | {:.2} s | {:.0} | {:.1}x |",
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
            "CPU seconds per run: ssmlog {:.2} + server {:.2}; aws CLI and grep {:.2} + server {:.2}",
            ours_cpu.1, ours_cpu.0, theirs_cpu.1, theirs_cpu.0
        );
        println!();
        println!("ssmlog by worker threads (-j), one run each:");
        for j in [2, 8, 16, 32, 64] {
            let (t, n) = self.ssmlog_grep(bin, Some(j));
            println!("  -j {j:>2}: {:.2} s ({n} lines)", t.as_secs_f64());
        }
    }
}

fn main() {
    let bin = ssmlog_bin();
    let files: usize = std::env::var("SSMLOG_S3_LOGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let which = std::env::var("SSMLOG_S3_SERVER").unwrap_or_default();
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
    let mb = stats.bytes as f64 / 1e6;
    let moto = Moto::start()
        .unwrap_or_else(|| die("moto_server or aws is missing: scripts/install-tools.sh"));
    println!(
        "corpus: {} logs, {mb:.1} MB under {} accounts x {} regions",
        stats.files, spec.accounts, spec.regions,
    );

    if which != "moto" {
        let native = Native::start(&tmp.join("native"));
        let url = format!("http://127.0.0.1:{}", native.port);
        let t = Instant::now();
        run(
            Command::new("aws")
                .args(["--endpoint-url", &url, "s3", "mb"])
                .arg(format!("s3://{BUCKET}")),
            "aws s3 mb",
        );
        run(
            Command::new("aws")
                .args(["--endpoint-url", &url, "s3", "cp", "--recursive", "--quiet"])
                .args(["--content-type", "text/plain"])
                .arg(&corpus)
                .arg(format!("s3://{BUCKET}/")),
            "aws s3 cp (upload)",
        );
        println!(
            "native (s3s-fs): uploaded by the aws CLI in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        let target = Target {
            name: "native S3 server (s3s-fs), unencrypted",
            s3_url: url,
            pid: native.child.id(),
            moto: &moto,
            native: true,
        };
        target.compare(&bin, mb, &tmp);
    }
    if which != "native" {
        let key = moto.sse_kms_bucket(BUCKET);
        let t = Instant::now();
        moto.upload_sse_kms(&corpus, BUCKET, &key);
        println!();
        println!(
            "moto: SSE-KMS, uploaded by the aws CLI in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        let target = Target {
            name: "moto, SSE-KMS",
            s3_url: moto.url(),
            pid: moto.pid(),
            moto: &moto,
            native: false,
        };
        target.compare(&bin, mb, &tmp);
    }
    drop(moto);
    let _ = std::fs::remove_dir_all(&tmp);
}
