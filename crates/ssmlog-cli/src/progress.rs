//! Progress of pull, plan, apply, verify and canary on stderr: a bar redrawn in place when
//! stderr is a terminal (done/total and the unit that just finished), one plain line per
//! unit otherwise, so CI logs stay readable.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use ssmlog_aws::Progress;

const WIDTH: usize = 24;

/// The reporter for this process's stderr.
pub fn progress() -> Progress {
    if std::io::stderr().is_terminal() {
        Arc::new(|done, total, unit, ok| {
            let line = bar(done, total, unit, ok);
            let mut err = std::io::stderr().lock();
            // Clear the line, draw, and end it once everything is done.
            let _ = write!(err, "\r\x1b[2K{line}");
            if done >= total {
                let _ = writeln!(err);
            }
            let _ = err.flush();
        })
    } else {
        Arc::new(|done, total, unit, ok| {
            eprintln!("{}", line(done, total, unit, ok));
        })
    }
}

/// `[3/60] 222233334444 eu-west-1`, for logs.
pub fn line(done: usize, total: usize, unit: &str, ok: bool) -> String {
    format!("[{done}/{total}] {unit}{}", if ok { "" } else { " failed" })
}

/// `[#########---------------]  9/24  222233334444 eu-west-1`, for a terminal.
pub fn bar(done: usize, total: usize, unit: &str, ok: bool) -> String {
    let filled = (done * WIDTH)
        .checked_div(total)
        .unwrap_or(WIDTH)
        .min(WIDTH);
    let width = total.to_string().len();
    format!(
        "[{}{}] {done:>width$}/{total}  {unit}{}",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled),
        if ok { "" } else { " failed" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_and_lines() {
        assert_eq!(
            bar(6, 24, "222233334444 eu-west-1", true),
            "[######------------------]  6/24  222233334444 eu-west-1"
        );
        assert_eq!(bar(0, 0, "x", true), format!("[{}] 0/0  x", "#".repeat(24)));
        assert_eq!(line(1, 2, "account 1", false), "[1/2] account 1 failed");
    }
}
