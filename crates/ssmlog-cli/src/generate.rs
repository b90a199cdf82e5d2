//! `ssmlog completions` and `ssmlog man`: shell completions and man pages made from the same
//! clap definitions the binary parses with, so they cannot drift from the real flags.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::exit;

/// Arguments of `ssmlog completions`.
#[derive(Args, Debug, Clone)]
pub struct CompletionsArgs {
    /// The shell to complete for; the script goes to standard output (for bash:
    /// `ssmlog completions bash > /etc/bash_completion.d/ssmlog`).
    pub shell: Shell,
}

/// Arguments of `ssmlog man`.
#[derive(Args, Debug, Clone)]
pub struct ManArgs {
    /// Write every page (ssmlog.1, ssmlog-check.1, ssmlog-logs-grep.1, ...) into this
    /// directory instead of printing the top-level page to standard output.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Prints the completion script for `args.shell`.
pub fn completions(args: &CompletionsArgs) -> ExitCode {
    let mut cmd = crate::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "ssmlog", &mut script);
    finish(std::io::stdout().write_all(&script), None)
}

/// Prints the top-level man page, or writes one page per command into `--out`.
pub fn man(args: &ManArgs) -> ExitCode {
    let cmd = crate::Cli::command();
    let result = match &args.out {
        None => clap_mangen::Man::new(cmd).render(&mut std::io::stdout()),
        Some(dir) => write_pages(cmd, dir),
    };
    finish(result, args.out.as_deref())
}

/// A reader that stopped early (`ssmlog man | head`) is not an error; anything else names
/// where the write failed.
fn finish(result: std::io::Result<()>, dir: Option<&Path>) -> ExitCode {
    match result {
        Ok(()) => exit::code(exit::OK),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe && dir.is_none() => {
            exit::code(exit::OK)
        }
        Err(e) => {
            let place = dir.map_or_else(
                || "standard output".to_string(),
                |d| d.display().to_string(),
            );
            eprintln!("error: {place}: cannot write: {e}");
            exit::code(exit::BAD_INPUT)
        }
    }
}

/// `ssmlog.1`, then `ssmlog-<sub>.1` for every subcommand, nested as `ssmlog-logs-grep.1`
/// (clap names each built subcommand that way, and the page's title follows it).
fn write_pages(mut cmd: clap::Command, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    cmd.build();
    write_page(&cmd, dir)
}

fn write_page(cmd: &clap::Command, dir: &Path) -> std::io::Result<()> {
    let name = cmd.get_display_name().unwrap_or_else(|| cmd.get_name());
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
    std::fs::write(dir.join(format!("{name}.1")), page)?;
    // clap's own `help` subcommand gets no page: `ssmlog help X` is `ssmlog X --help`.
    let pages = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help");
    for sub in pages {
        write_page(sub, dir)?;
    }
    Ok(())
}
