//! A generator of realistic session-log corpora, deterministic from a seed: Linux `script`
//! logs (coloured bash prompts with title OSCs, echoed commands, `ls --color`, progress bars
//! redrawn with `\r`, backspace corrections, a `vim` session on the alternate screen, `top`
//! redraws, `clear`) and Windows PowerShell transcripts, laid out as the agent writes them:
//! `<account>/<region>/<user>-<17 hex>.log`. Tests use it for small temp corpora, benchmarks
//! for gigabytes.
//!
//! Linux logs come in the agent's form by default ([`LogForm::Agent`]): the SSM agent records
//! the session into a temporary file and makes the uploaded log with
//! `script LOG -c "cat <that file>"`, so the header names the `cat` command instead of the
//! terminal's size, and every LF of the session passes a pty's output processing again (CR LF
//! becomes CR CR LF). [`LogForm::Plain`] is the form `script` writes around an interactive
//! shell (with `COLUMNS` and `LINES`).

use std::io::Write;
use std::path::Path;

use crate::time::format_rfc3339;

/// A small, fast, deterministic PRNG (SplitMix64); not for secrets.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 > 1.0 - p
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let i = self.below(items.len());
        &items[i]
    }
}

const USERS: &[&str] = &[
    "alice",
    "bob",
    "carol.smith",
    "dave@example.com",
    "ops-admin",
    "jane.doe@corp.example",
    "svc-deploy",
    "mallory",
];
const HOSTS: &[&str] = &["ip-10-0-1-23", "ip-10-0-2-7", "ip-172-31-40-5", "bastion-1"];
const REGIONS: &[&str] = &[
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-2",
    "sa-east-1",
];
const PATHS: &[&str] = &[
    "/api/v1/orders",
    "/api/v1/users",
    "/healthz",
    "/login",
    "/static/app.js",
];
const MESSAGES: &[&str] = &[
    "request completed",
    "cache miss, fetching from origin",
    "upstream connect error: Connection refused",
    "user session refreshed",
    "slow query detected",
    "retrying after timeout",
    "config reloaded",
];
const FILES: &[&str] = &[
    "app.conf",
    "backup.tar.gz",
    "deploy.sh",
    "nginx.conf",
    "README.md",
    "notes.txt",
];
const DIRS: &[&str] = &["bin", "etc", "logs", "releases", "tmp"];

/// The escape-laden pieces of a Linux session.
struct Term<'a> {
    out: &'a mut Vec<u8>,
    user: &'a str,
    host: &'a str,
    cwd: &'a str,
    bash: bool,
}

impl Term<'_> {
    fn s(&mut self, s: &str) {
        self.out.extend_from_slice(s.as_bytes());
    }

    fn prompt(&mut self) {
        if self.bash {
            let (u, h, d) = (self.user, self.host, self.cwd);
            self.s(&format!(
                "\x1b]0;{u}@{h}: {d}\x07\x1b[01;32m{u}@{h}\x1b[00m:\x1b[01;34m{d}\x1b[00m$ "
            ));
        } else {
            self.s("sh-4.2$ ");
        }
    }

    /// A command as the terminal echoes it, then the newline.
    fn command(&mut self, cmd: &str) {
        self.prompt();
        self.s(cmd);
        self.s("\r\n");
    }
}

fn log_line(rng: &mut Rng, t: i64, out: &mut Vec<u8>) {
    let level = match rng.below(20) {
        0 => "ERROR",
        1 | 2 => "WARN",
        3 => "DEBUG",
        _ => "INFO",
    };
    let _ = write!(
        out,
        "{} {level} [worker-{}] {} {} {} {}ms req={:016x} {}\r\n",
        format_rfc3339(t + rng.below(3600) as i64),
        rng.below(8),
        if rng.chance(0.7) { "GET" } else { "POST" },
        rng.pick(PATHS),
        *rng.pick(&[200, 200, 200, 201, 304, 404, 500, 502]),
        rng.below(900),
        rng.next_u64(),
        rng.pick(MESSAGES),
    );
}

/// How a Linux session log is wrapped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogForm {
    /// As the SSM agent uploads it: `script LOG -c "cat FILE"` around the recorded bytes (no
    /// terminal size in the header; every LF of the session preceded by one more CR).
    #[default]
    Agent,
    /// As `script` writes it around an interactive shell (`COLUMNS`/`LINES` in the header).
    Plain,
}

/// The agent's form of a [`LogForm::Plain`] `script` log: its header names
/// `cat <ipc temp file>` instead of the terminal, and its content went through a pty's output
/// processing (ONLCR) once more, so each LF gains a CR before it (`\r\n` -> `\r\r\n`,
/// `\n` -> `\r\n`). `script`'s own footer is written as is. A log without a `script`
/// header is returned unchanged.
pub fn agent_form(plain: &[u8], session: &str) -> Vec<u8> {
    let Some(nl) = memchr::memchr(b'\n', plain) else {
        return plain.to_vec();
    };
    let header = String::from_utf8_lossy(&plain[..nl]);
    let Some(rest) = header.strip_prefix(crate::clean::header::SCRIPT_START_STR) else {
        return plain.to_vec();
    };
    let time = rest.split(" [").next().unwrap_or(rest);
    let body = &plain[nl + 1..];
    // The footer ("\nScript done on ...\n") is script's own, not the session's.
    let footer_at = memchr::memmem::rfind(body, b"\nScript done on ").unwrap_or(body.len());
    let mut out = Vec::with_capacity(plain.len() + plain.len() / 32 + 256);
    let _ = writeln!(
        out,
        "Script started on {time} [COMMAND=\"cat /var/lib/amazon/ssm/i-0{:016x}/session/orchestration/{session}/Standard_Stream/ipcTempFile.log\" <not executed on terminal>]",
        plain.len()
    );
    let mut from = 0;
    for i in memchr::memchr_iter(b'\n', &body[..footer_at]) {
        out.extend_from_slice(&body[from..i]);
        out.extend_from_slice(b"\r\n");
        from = i + 1;
    }
    out.extend_from_slice(&body[from..]);
    out
}

/// One Linux `script` log of about `target` bytes, for `user`, starting at `start`, in the
/// plain form (see [`agent_form`] for the form the agent uploads).
pub fn linux_session(rng: &mut Rng, user: &str, start: i64, target: usize) -> (Vec<u8>, i64) {
    let mut out = Vec::with_capacity(target + 4096);
    let host = *rng.pick(HOSTS);
    let bash = rng.chance(0.8);
    let (cols, lines) = *rng.pick(&[(80, 24), (120, 40), (200, 50)]);
    let _ = writeln!(
        out,
        "Script started on {} [TERM=\"xterm-256color\" TTY=\"/dev/pts/{}\" COLUMNS=\"{cols}\" LINES=\"{lines}\"]",
        format_rfc3339(start).replace('T', " ").replace('Z', "+00:00"),
        rng.below(4)
    );
    let mut t = Term {
        out: &mut out,
        user: "ssm-user",
        host,
        cwd: "~",
        bash,
    };
    let _ = user;
    let mut first = true;
    while t.out.len() < target || first {
        first = false;
        match rng.below(12) {
            0 => {
                t.command("ls --color=auto -la");
                t.s(&format!("total {}\r\n", rng.below(200)));
                for _ in 0..3 + rng.below(8) {
                    let (name, colour) = if rng.chance(0.4) {
                        (*rng.pick(DIRS), "01;34")
                    } else {
                        (
                            *rng.pick(FILES),
                            if rng.chance(0.2) { "01;32" } else { "00" },
                        )
                    };
                    t.s(&format!(
                        "-rw-r--r-- 1 ssm-user ssm-user {:>6} Nov 23 10:{:02} \x1b[{colour}m{name}\x1b[0m\r\n",
                        rng.below(99_999),
                        rng.below(60)
                    ));
                }
            }
            1 => {
                // Progress bar redrawn in place.
                t.command("curl -O https://downloads.example.com/release.tar.gz");
                let steps = 5 + rng.below(20);
                for i in 0..=steps {
                    let pct = i * 100 / steps;
                    let bar = "#".repeat(pct / 5);
                    t.s(&format!("\r{pct:>3}% [{bar:<20}] {} kB/s", rng.below(9000)));
                }
                t.s("\r\n");
            }
            2 => {
                // A typo corrected with backspaces, as readline echoes them.
                t.prompt();
                t.s("sudo systemctl restrat");
                t.s("\x08\x1b[K\x08\x1b[K\x08\x1b[K");
                t.s("art nginx\r\n");
                t.prompt();
                t.s("whoamu\x08 \x08i\r\nssm-user\r\n");
            }
            3 => {
                // vim on the alternate screen.
                t.command("vim /etc/app/app.conf");
                t.s("\x1b[?1049h\x1b[22;0;0t\x1b[?1h\x1b=\x1b[H\x1b[2J");
                let rows = lines - 2;
                for r in 1..=rows {
                    if r <= 6 {
                        t.s(&format!("\x1b[{r};1Hkey{r} = value{}", rng.below(100)));
                    } else {
                        t.s(&format!("\x1b[{r};1H\x1b[94m~\x1b[0m"));
                    }
                }
                t.s(&format!(
                    "\x1b[{};1H\"/etc/app/app.conf\" 6L, 84B\x1b[2;5H",
                    lines
                ));
                t.s(&format!(
                    "\x1b[{};1H\x1b[1m-- INSERT --\x1b[0m\x1b[2;9H",
                    lines
                ));
                t.s("X\x1b[2;10H");
                t.s(&format!("\x1b[{};1H\x1b[K:wq\r", lines));
                t.s("\x1b[?1l\x1b>\x1b[?1049l\x1b[23;0;0t");
            }
            4 => {
                // top on the alternate screen, three frames.
                t.command("top");
                t.s("\x1b[?1049h\x1b[H\x1b[2J");
                for f in 0..3 {
                    t.s(&format!(
                        "\x1b[Htop - 10:{:02}:{:02} up 3 days,  1 user,  load average: 0.{}, 0.12, 0.09\x1b[K\r\n",
                        f,
                        rng.below(60),
                        rng.below(99)
                    ));
                    t.s("Tasks: 112 total,   1 running, 111 sleeping\x1b[K\r\n\x1b[K\r\n");
                    t.s("\x1b[7m  PID USER      %CPU COMMAND\x1b[0m\x1b[K\r\n");
                    for p in 0..5 {
                        t.s(&format!(
                            "{:>5} root      {:>4.1} {}\x1b[K\r\n",
                            1000 + p,
                            rng.below(100) as f64 / 10.0,
                            rng.pick(&["nginx", "java", "python3", "sshd", "amazon-ssm-agent"])
                        ));
                    }
                    t.s("\x1b[J");
                }
                t.s("\x1b[?1049l");
            }
            5 => {
                t.command("clear");
                t.s("\x1b[H\x1b[2J\x1b[3J");
            }
            6 => {
                t.command("sudo -i");
                t.s("\x1b]0;root@host\x07[root@host ~]# id\r\nuid=0(root) gid=0(root) groups=0(root)\r\n[root@host ~]# exit\r\nlogout\r\n");
            }
            7 => {
                // A shell loop with a tab-separated table.
                t.command("df -h");
                t.s("Filesystem\tSize\tUsed\tAvail\r\n/dev/nvme0n1p1\t8.0G\t3.1G\t4.9G\r\n");
            }
            _ => {
                // Most bytes: a log tailed to the screen.
                t.command("sudo tail -n 200 /var/log/app/app.log");
                let n = 20 + rng.below(200);
                for _ in 0..n {
                    log_line(rng, start, t.out);
                }
            }
        }
    }
    t.command("exit");
    let end = start + 60 + rng.below(3600) as i64;
    let _ = write!(
        out,
        "\nScript done on {} [COMMAND_EXIT_CODE=\"0\"]\n",
        format_rfc3339(end).replace('T', " ").replace('Z', "+00:00")
    );
    (out, end)
}

fn compact(t: i64) -> String {
    format_rfc3339(t).replace(['-', ':', 'T', 'Z'], "")
}

/// One Windows PowerShell transcript of about `target` bytes.
pub fn powershell_transcript(rng: &mut Rng, start: i64, target: usize) -> (Vec<u8>, i64) {
    let mut out = Vec::with_capacity(target + 2048);
    let machine = format!("EC2AMAZ-{:07X}", rng.below(0xFFF_FFFF));
    let stars = "**********************";
    let _ = write!(
        out,
        "{stars}\r\nWindows PowerShell transcript start\r\nStart time: {}\r\nUsername: {machine}\\ssm-user\r\nRunAs User: {machine}\\ssm-user\r\nConfiguration Name: \r\nMachine: {machine} (Microsoft Windows NT 10.0.20348.0)\r\nHost Application: C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe -NoLogo -NoProfile\r\nProcess ID: {}\r\nPSVersion: 5.1.20348.2849\r\nPSEdition: Desktop\r\n{stars}\r\n",
        compact(start),
        1000 + rng.below(9000)
    );
    let mut first = true;
    while out.len() < target || first {
        first = false;
        match rng.below(3) {
            0 => {
                out.extend_from_slice(b"PS C:\\Windows\\system32> Get-Service | Where-Object Status -eq Running\r\n\r\nStatus   Name               DisplayName\r\n------   ----               -----------\r\n");
                for _ in 0..5 + rng.below(20) {
                    let _ = write!(
                        out,
                        "Running  {:<18} {}\r\n",
                        rng.pick(&["AmazonSSMAgent", "W32Time", "WinRM", "Dhcp", "EventLog"]),
                        rng.pick(&[
                            "Amazon SSM Agent",
                            "Windows Time",
                            "Windows Remote Management"
                        ])
                    );
                }
            }
            1 => {
                out.extend_from_slice(
                    b"PS C:\\Windows\\system32> Get-Content C:\\app\\logs\\app.log -Tail 50\r\n",
                );
                for _ in 0..20 + rng.below(100) {
                    log_line(rng, start, &mut out);
                }
            }
            _ => {
                out.extend_from_slice(b"PS C:\\Windows\\system32> whoami\r\n");
                let _ = write!(out, "{}\\ssm-user\r\n", machine.to_lowercase());
            }
        }
    }
    let end = start + 30 + rng.below(1800) as i64;
    let _ = write!(
        out,
        "PS C:\\Windows\\system32> exit\r\n{stars}\r\nWindows PowerShell transcript end\r\nEnd time: {}\r\n{stars}\r\n",
        compact(end)
    );
    (out, end)
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct CorpusSpec {
    /// Everything follows from it.
    pub seed: u64,
    /// Member accounts (ids derived from the seed).
    pub accounts: usize,
    /// Regions per account (the first N of a fixed list).
    pub regions: usize,
    /// Stop after this many bytes in total.
    pub target_bytes: u64,
    /// Stop after this many files.
    pub max_files: usize,
    /// Share of sessions on Windows (PowerShell transcripts).
    pub windows_share: f64,
    /// How Linux logs are wrapped (the agent's form by default).
    pub form: LogForm,
}

impl Default for CorpusSpec {
    fn default() -> Self {
        Self {
            seed: 1,
            accounts: 3,
            regions: 2,
            target_bytes: 1 << 20,
            max_files: usize::MAX,
            windows_share: 0.1,
            form: LogForm::Agent,
        }
    }
}

/// What was generated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorpusStats {
    /// Files written.
    pub files: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// Account id number `i` of a corpus.
pub fn account_id(seed: u64, i: usize) -> String {
    format!(
        "{:012}",
        100_000_000_000 + (seed % 1000) * 1_000_000 + i as u64 * 7919
    )
}

/// A plausible session size: mostly a few KB, some tens or hundreds, a few megabytes.
fn session_size(rng: &mut Rng) -> usize {
    match rng.below(100) {
        0..=59 => 1_000 + rng.below(20_000),
        60..=94 => 20_000 + rng.below(200_000),
        _ => 200_000 + rng.below(3_000_000),
    }
}

/// Writes a corpus under `root`: `<account>/<region>/<user>-<17 hex>.log`, file times set to
/// the session end (as `aws s3 sync` sets them from the upload time).
pub fn write_corpus(root: &Path, spec: &CorpusSpec) -> std::io::Result<CorpusStats> {
    let mut rng = Rng::new(spec.seed);
    let mut stats = CorpusStats::default();
    let base = 1_790_000_000; // 2026-09-21
    while stats.bytes < spec.target_bytes && stats.files < spec.max_files {
        let account = account_id(spec.seed, rng.below(spec.accounts.max(1)));
        let region = REGIONS[rng.below(spec.regions.clamp(1, REGIONS.len()))];
        let user = *rng.pick(USERS);
        let session = format!("{user}-{:017x}", rng.next_u64() >> 4);
        let start = base + rng.below(60 * 86_400) as i64;
        let size = session_size(&mut rng);
        let (bytes, end) = if rng.chance(spec.windows_share) {
            powershell_transcript(&mut rng, start, size)
        } else {
            let (plain, end) = linux_session(&mut rng, user, start, size);
            match spec.form {
                LogForm::Agent => (agent_form(&plain, &session), end),
                LogForm::Plain => (plain, end),
            }
        };
        let dir = root.join(&account).join(region);
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{session}.log"));
        let f = std::fs::File::create(&path)?;
        (&f).write_all(&bytes)?;
        let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(end.max(0) as u64);
        f.set_modified(mtime)?;
        stats.files += 1;
        stats.bytes += bytes.len() as u64;
    }
    Ok(stats)
}
