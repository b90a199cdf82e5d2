//! The `ssmlog` binary: parse arguments, dispatch to one module per subcommand.

use std::process::ExitCode;

use clap::{ArgAction, Parser, Subcommand};

/// `logs grep` allocates a line per match on worker threads and frees it on the printing
/// thread; the system allocator serialises such frees on the owning thread's arena (with
/// many matches up to a third of the time, on two cores); mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod apply;
mod canary;
mod check;
mod config;
mod exit;
mod generate;
mod html;
mod iam;
mod init;
mod logs;
mod output;
mod plan;
mod progress;
mod pull;
mod render;
mod verbose;
mod verify;
mod vocab;

/// Central, KMS-encrypted Session Manager logging for AWS Organizations.
#[derive(Parser)]
#[command(name = "ssmlog", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Show on stderr what ssmlog does: once, every AWS call (account, region, operation,
    /// outcome); twice, ssmlog's debug events; three times, the AWS SDK's too. RUST_LOG (an
    /// env-filter directive) overrides it. Standard output does not change.
    #[arg(long, action = ArgAction::Count, global = true)]
    verbose: u8,
}

#[derive(Subcommand)]
enum Command {
    /// Validate and evaluate AWS policies with ssmlog's IAM engine.
    #[command(subcommand)]
    Iam(iam::IamCommand),
    /// Write a commented example config (ssmlog.toml).
    Init(init::InitArgs),
    /// Render the config into the State directory or CloudFormation templates.
    Render(render::RenderArgs),
    /// Prove offline that every member account can log and nobody else can read, overwrite,
    /// forge or decrypt logs.
    Check(check::CheckArgs),
    /// List, read, search and export session logs, in the bucket or a local copy of it.
    #[command(subcommand)]
    Logs(logs::LogsCommand),
    /// Read the live State from AWS into a State directory.
    Pull(pull::PullArgs),
    /// Show what apply would create or change, with JSON diffs.
    Plan(plan::PlanArgs),
    /// Converge live AWS to the config (asks first unless --yes).
    Apply(apply::ApplyArgs),
    /// Verify live: bucket encryption, every preferences document, and logs arriving.
    Verify(verify::VerifyArgs),
    /// Make the SSM Agent's calls from each member account and report what fails.
    Canary(canary::CanaryArgs),
    /// Print the shell completion script for bash, zsh, fish, elvish or powershell.
    Completions(generate::CompletionsArgs),
    /// Print the man page, or write every command's page into a directory (--out).
    Man(generate::ManArgs),
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(msg) = vocab::renamed(&args) {
        eprintln!("error: {msg}");
        return exit::code(exit::BAD_INPUT);
    }
    let cli = Cli::parse();
    // `-v` belongs to the commands that reach AWS (`logs grep -v` inverts the match).
    let short_v = match &cli.command {
        Command::Pull(a) => a.aws.v,
        Command::Plan(a) => a.aws.v,
        Command::Apply(a) => a.aws.v,
        Command::Verify(a) => a.aws.v,
        Command::Canary(a) => a.aws.v,
        _ => 0,
    };
    verbose::init(cli.verbose.saturating_add(short_v));
    match cli.command {
        Command::Iam(cmd) => iam::run(&cmd),
        Command::Init(args) => init::run(&args),
        Command::Render(args) => render::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Logs(cmd) => logs::run(&cmd),
        Command::Pull(args) => pull::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Apply(args) => apply::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Canary(args) => canary::run(&args),
        Command::Completions(args) => generate::completions(&args),
        Command::Man(args) => generate::man(&args),
    }
}
