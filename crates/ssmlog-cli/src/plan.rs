//! `ssmlog plan`: per resource, what apply would create or change, with JSON diffs.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use ssmlog_aws::{converge, Action, ConvergeOptions, Outcome};

use crate::exit;
use crate::pull::{prepare, progress, AwsArgs, Live};
use crate::verify::LiveFormat;

/// Arguments of `ssmlog plan`.
#[derive(Args, Debug, Clone)]
pub struct PlanArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Output form: the changes with their diffs, or the whole plan as JSON.
    #[arg(long, value_enum, default_value_t = LiveFormat::Table)]
    pub format: LiveFormat,
}

/// Prints changes: `+` create, `~` update (with the diff); unchanged resources are counted.
pub fn print(outcome: &Outcome, format: LiveFormat, out: &mut impl Write) -> std::io::Result<()> {
    if format == LiveFormat::Json {
        return writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(outcome).unwrap_or_default()
        );
    }
    for c in &outcome.changes {
        let mark = match c.action {
            Action::Create => "+ create",
            Action::Update => "~ update",
            Action::NoChange => continue,
        };
        let region = c.region.as_deref().unwrap_or("global");
        writeln!(out, "{mark} {} [{} {region}]", c.resource, c.account)?;
        for line in c.diff().lines() {
            writeln!(out, "    {line}")?;
        }
    }
    for f in &outcome.failures {
        writeln!(out, "! failed [{}]: {}", f.account, f.error)?;
    }
    let same = outcome.changes.len() - outcome.pending();
    writeln!(
        out,
        "{} to change, {same} unchanged, {} failed",
        outcome.pending(),
        outcome.failures.len()
    )
}

/// Exit 0 when the plan was made (whatever it changes), 1 when an account failed.
pub fn run(args: &PlanArgs) -> ExitCode {
    let Live { rt, desired, aws } = match prepare(&args.aws) {
        Ok(live) => live,
        Err(code) => return code,
    };
    let options = ConvergeOptions {
        apply: false,
        concurrency: args.aws.concurrency,
        progress: Some(progress()),
    };
    let outcome = rt.block_on(converge(aws, &desired, &options));
    let _ = print(&outcome, args.format, &mut std::io::stdout().lock());
    exit::code(if outcome.failures.is_empty() {
        exit::OK
    } else {
        exit::FINDINGS
    })
}
