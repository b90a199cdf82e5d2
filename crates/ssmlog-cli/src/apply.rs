//! `ssmlog apply`: converge live AWS to the desired State, after a plan and a yes.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::Args;
use ssmlog_aws::{converge, ConvergeOptions};

use crate::exit;
use crate::pull::{prepare, progress, AwsArgs, Live};

/// Arguments of `ssmlog apply`.
#[derive(Args, Debug, Clone)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Apply without asking.
    #[arg(long)]
    pub yes: bool,
}

/// Exit 0 when live matches desired, 1 when an account failed, 2 when refused.
pub fn run(args: &ApplyArgs) -> ExitCode {
    let Live { rt, desired, aws } = match prepare(&args.aws) {
        Ok(live) => live,
        Err(code) => return code,
    };
    let plan_options = ConvergeOptions {
        apply: false,
        concurrency: args.aws.concurrency,
        progress: Some(progress()),
    };
    let plan = rt.block_on(converge(aws.clone(), &desired, &plan_options));
    let mut out = std::io::stdout().lock();
    let _ = crate::plan::print(&plan, crate::verify::LiveFormat::Table, &mut out);
    if plan.pending() == 0 && plan.failures.is_empty() {
        let _ = writeln!(out, "nothing to do");
        return exit::code(exit::OK);
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            eprintln!("error: apply writes to AWS and there is no terminal to ask: pass --yes to apply the plan above");
            return exit::code(exit::BAD_INPUT);
        }
        eprint!("apply {} changes? [y/N] ", plan.pending());
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("nothing applied");
            return exit::code(exit::BAD_INPUT);
        }
    }
    let writes_before = aws.calls.writes();
    let options = ConvergeOptions {
        apply: true,
        ..plan_options
    };
    let done = rt.block_on(converge(aws.clone(), &desired, &options));
    for f in &done.failures {
        eprintln!("error: [{}] {}", f.account, f.error);
    }
    let _ = writeln!(
        out,
        "applied: {} write calls, {} read calls, {} accounts failed",
        aws.calls.writes() - writes_before,
        aws.calls.reads(),
        done.failures.len()
    );
    exit::code(if done.failures.is_empty() {
        exit::OK
    } else {
        exit::FINDINGS
    })
}
