//! `ssmlog canary`: the SSM Agent's calls from each member account (see
//! `ssmlog_aws::canary`).

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use ssmlog_aws::{canary, CanaryOptions};

use crate::exit;
use crate::output::{schema, write_document};
use crate::pull::{prepare, progress, AwsArgs, Live};
use crate::verify::LiveFormat;

/// Arguments of `ssmlog canary`.
#[derive(Args, Debug, Clone)]
pub struct CanaryArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Act as this role in every account instead of the instance role: a role name, or an
    /// ARN where `{account}` stands for each account id. With `[guardrails]`, also try as
    /// it the calls the guardrails must deny (each harmless if allowed) and fail on any
    /// that is not denied: give a member administrator's role, not a deploy role or reader.
    #[arg(long, value_name = "ROLE")]
    pub as_role: Option<String>,
    /// Output form.
    #[arg(long, value_enum, default_value_t = LiveFormat::Table)]
    pub format: LiveFormat,
}

/// Exit 0 when every agent call passed everywhere, 1 when one failed, 2 on bad input or no
/// connection.
pub fn run(args: &CanaryArgs) -> ExitCode {
    let Live {
        rt, desired, aws, ..
    } = match prepare(&args.aws) {
        Ok(live) => live,
        Err(code) => return code,
    };
    let options = CanaryOptions {
        as_role: args.as_role.clone(),
        concurrency: args.aws.concurrency,
        progress: Some(progress()),
    };
    let report = rt.block_on(canary(aws, &desired, &options));
    let mut out = std::io::stdout().lock();
    let _ = match args.format {
        LiveFormat::Table => write!(out, "{}", report.to_table()),
        LiveFormat::Json => write_document(&mut out, schema::CANARY, &report),
    };
    exit::code(if report.passed() {
        exit::OK
    } else {
        exit::FINDINGS
    })
}
