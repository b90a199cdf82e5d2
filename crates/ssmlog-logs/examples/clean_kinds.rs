//! The cleaner's speed on one kind of line at a time, in the agent's form (CR CR LF): how
//! much of a log's cost is each kind of output, for the `logs grep` measurements in
//! BENCHMARKS.md. `cargo run --release -p ssmlog-logs --example clean_kinds [KIND]`.
#![allow(missing_docs)]

/// The allocator of the `ssmlog` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const HEAD: &str = "Script started on 2026-11-23 10:15:00+00:00 [COMMAND=\"cat /var/lib/amazon/ssm/i-0/session/orchestration/s/Standard_Stream/ipcTempFile.log\" <not executed on terminal>]\n";
const PROMPT: &str = "\x1b]0;ssm-user@ip-10-0-1-23: ~\x07\x1b[01;32mssm-user@ip-10-0-1-23\x1b[00m:\x1b[01;34m~\x1b[00m$ sudo tail -n 200 /var/log/app/app.log\r\r\n";
const LS: &str =
    "-rw-r--r-- 1 ssm-user ssm-user  12345 Nov 23 10:33 \x1b[01;34mreleases\x1b[0m\r\r\n";
const PLAIN: &str = "2026-11-23T10:15:00Z INFO [worker-3] GET /api/v1/items 200 123ms req=0123456789abcdef request completed\r\r\n";
const PROGRESS: &str = "  0% [                    ] 1234 kB/s\r 40% [########            ] 1234 kB/s\r100% [####################] 1234 kB/s\r\r\n";

/// `vim` on the alternate screen, as the generator has it.
fn vim() -> String {
    let mut t = String::from("\x1b[?1049h\x1b[22;0;0t\x1b[?1h\x1b=\x1b[H\x1b[2J");
    for r in 1..=22 {
        if r <= 6 {
            t += &format!("\x1b[{r};1Hkey{r} = value{}", r * 7);
        } else {
            t += &format!("\x1b[{r};1H\x1b[94m~\x1b[0m");
        }
    }
    t += "\x1b[24;1H\"/etc/app/app.conf\" 6L, 84B\x1b[2;5H\x1b[24;1H\x1b[1m-- INSERT --\x1b[0m";
    t + "\x1b[2;9HX\x1b[2;10H\x1b[24;1H\x1b[K:wq\r\x1b[?1l\x1b>\x1b[?1049l\x1b[23;0;0t"
}

/// Three frames of `top` on the alternate screen.
fn top() -> String {
    let mut t = String::from("\x1b[?1049h\x1b[H\x1b[2J");
    for f in 0..3 {
        t += &format!(
            "\x1b[Htop - 10:{f:02}:33 up 3 days,  1 user,  load average: 0.12\x1b[K\r\r\n"
        );
        t += "Tasks: 112 total,   1 running, 111 sleeping\x1b[K\r\r\n\x1b[K\r\r\n";
        t += "\x1b[7m  PID USER      %CPU COMMAND\x1b[0m\x1b[K\r\r\n";
        for p in 0..5 {
            t += &format!("{:>5} root       1.{p} nginx\x1b[K\r\r\n", 1000 + p);
        }
        t += "\x1b[J";
    }
    t + "\x1b[?1049l"
}

fn main() {
    let only = std::env::args().nth(1).unwrap_or_default();
    // After `clear`, with the height unknown, lines go through the screen model until the
    // grown screen scrolls.
    let after_clear = |l: &str| format!("\x1b[H\x1b[2J\x1b[3J{}", l.repeat(150));
    let kinds: Vec<(&str, String)> = vec![
        ("plain", PLAIN.repeat(100_000)),
        ("prompt", PROMPT.repeat(100_000)),
        ("ls", LS.repeat(100_000)),
        ("progress", format!("{PROMPT}{PROGRESS}").repeat(50_000)),
        ("plain-after-clear", after_clear(PLAIN).repeat(700)),
        ("prompt-after-clear", after_clear(PROMPT).repeat(700)),
        ("vim", format!("{PROMPT}{}", vim()).repeat(20_000)),
        ("top", format!("{PROMPT}{}", top()).repeat(20_000)),
    ];
    println!("{:20} {:>8} {:>10}", "kind", "MB/s", "ns/line");
    for (name, body) in kinds.into_iter().filter(|(n, _)| n.starts_with(&only)) {
        let log = format!("{HEAD}{body}");
        let lines = log.matches('\n').count();
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = std::time::Instant::now();
            let mut c = ssmlog_logs::Cleaner::new();
            c.feed(log.as_bytes());
            std::hint::black_box(c.into_text());
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "{name:20} {:8.0} {:10.1}",
            log.len() as f64 / 1e6 / best,
            best * 1e9 / lines as f64
        );
    }
}
