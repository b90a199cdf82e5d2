//! `ssmlog apply`: converge live AWS to the desired State, after a plan and a yes.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;
use ssmlog_aws::{converge, ConvergeOptions, Outcome};

use crate::exit;
use crate::output::{schema, write_document};
use crate::plan::{print_failures, Coverage};
use crate::pull::{prepare, progress, AwsArgs, Live};
use crate::verify::LiveFormat;

/// Arguments of `ssmlog apply`.
#[derive(Args, Debug, Clone)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Apply without asking.
    #[arg(long)]
    pub yes: bool,
    /// Output form: the plan and a summary, or one JSON document (the plan, what was
    /// applied, the calls and the coverage).
    #[arg(long, value_enum, default_value_t = LiveFormat::Table)]
    pub format: LiveFormat,
}

/// `apply --format json`: everything in one document.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    /// What apply found to do, before writing.
    plan: &'a Outcome,
    /// What it did; `null` when there was nothing to do.
    applied: Option<&'a Outcome>,
    /// Write calls made by the apply.
    write_calls: u64,
    /// Read calls made by plan and apply together.
    read_calls: u64,
    /// Accounts and account/regions, ok and failed.
    coverage: Coverage,
}

/// Exit 0 when live matches desired, 1 when an account failed or the guardrails would lock
/// out a deploy role (then nothing is written), 2 when refused.
pub fn run(args: &ApplyArgs) -> ExitCode {
    let Live {
        rt,
        desired,
        aws,
        keep_inputs,
        check_options,
        ..
    } = match prepare(&args.aws) {
        Ok(live) => live,
        Err(code) => return code,
    };
    let plan_options = ConvergeOptions {
        apply: false,
        concurrency: args.aws.concurrency,
        progress: Some(progress()),
        keep_inputs,
        deploy_roles: crate::plan::deploy_roles(&check_options),
    };
    let json = args.format == LiveFormat::Json;
    let plan = rt.block_on(converge(aws.clone(), &desired, &plan_options));
    let mut out = std::io::stdout().lock();
    if !json {
        let _ = crate::plan::print(&plan, LiveFormat::Table, &mut out);
    }
    if plan.pending() == 0 && plan.failures.is_empty() {
        if json {
            let report = Report {
                plan: &plan,
                applied: None,
                write_calls: 0,
                read_calls: aws.calls.reads(),
                coverage: Coverage::of(&desired, &plan),
            };
            let _ = write_document(&mut out, schema::APPLY, &report);
        } else {
            let _ = writeln!(out, "nothing to do");
        }
        return exit::code(exit::OK);
    }
    if plan.refused().is_some() {
        // Guardrails that would lock out a deploy role: nothing at all is written.
        print_failures(&plan);
        eprintln!("nothing applied");
        return exit::code(exit::FINDINGS);
    }
    if !args.yes {
        // Not applied (yet): what the plan could not read is said now.
        print_failures(&plan);
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
    print_failures(&done);
    let coverage = Coverage::of(&desired, &done);
    let write_calls = aws.calls.writes() - writes_before;
    if json {
        let report = Report {
            plan: &plan,
            applied: Some(&done),
            write_calls,
            read_calls: aws.calls.reads(),
            coverage,
        };
        let _ = write_document(&mut out, schema::APPLY, &report);
    } else {
        let _ = writeln!(
            out,
            "applied: {write_calls} write calls, {} read calls; {coverage}",
            aws.calls.reads(),
        );
    }
    exit::code(if done.failures.is_empty() {
        exit::OK
    } else {
        exit::FINDINGS
    })
}
