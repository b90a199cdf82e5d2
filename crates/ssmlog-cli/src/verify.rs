//! `ssmlog verify`: the source documents' verification steps, live, for every account and
//! region (see `ssmlog_aws::verify`).

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use ssmlog_aws::{verify, VerifyOptions};

use crate::exit;
use crate::output::{schema, write_document};
use crate::pull::{prepare, progress, AwsArgs, Live};

/// Output forms of verify and canary.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveFormat {
    /// A table per account and region, then each finding.
    #[value(name = "text")]
    Table,
    /// The whole report as JSON.
    Json,
}

/// Arguments of `ssmlog verify`.
#[derive(Args, Debug, Clone)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// How old the newest log of an account and region may be: `90s`, `30m`, `24h`, `7d`.
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    pub since: Duration,
    /// Output form.
    #[arg(long, value_enum, default_value_t = LiveFormat::Table)]
    pub format: LiveFormat,
    /// Also prove the live setup: pull the live State and run `check` on it (what verify's
    /// own checks do not cover: policies, who may read, forge or delete logs).
    #[arg(long)]
    pub proof: bool,
}

/// `90s`, `30m`, `24h`, `7d`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}`: expected a number and a unit, like 24h or 7d"))?;
    let secs = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (use s, m, h or d)")),
    };
    Ok(Duration::from_secs(n.saturating_mul(secs)))
}

/// Exit 0 when everything holds, 1 on any finding, 2 on bad input or no connection.
pub fn run(args: &VerifyArgs) -> ExitCode {
    let Live {
        rt,
        desired,
        aws,
        check_options,
        ..
    } = match prepare(&args.aws) {
        Ok(live) => live,
        Err(code) => return code,
    };
    let options = VerifyOptions {
        since: args.since,
        concurrency: args.aws.concurrency,
        progress: Some(progress()),
        check: check_options.clone(),
    };
    let report = rt.block_on(verify(aws.clone(), &desired, &options));
    // `--proof`: the live State, pulled, and proven as `check` proves a State directory.
    let proof = args.proof.then(|| {
        let pulled = rt.block_on(ssmlog_aws::pull(
            aws.clone(),
            &desired,
            args.aws.concurrency,
            Some(progress()),
        ));
        for e in &pulled.errors {
            eprintln!("error: {e}");
        }
        ssmlog_check::check(&pulled.state, &check_options)
    });
    let mut out = std::io::stdout().lock();
    let _ = match (args.format, &proof) {
        (LiveFormat::Table, None) => write!(out, "{}", report.to_table()),
        (LiveFormat::Table, Some(p)) => write!(
            out,
            "{}\nproof of the live State (pull + check):\n{}",
            report.to_table(),
            p.to_table()
        ),
        (LiveFormat::Json, None) => write_document(&mut out, schema::VERIFY, &report),
        // One document: the verification and the check report side by side.
        (LiveFormat::Json, Some(p)) => write_document(
            &mut out,
            schema::VERIFY_PROOF,
            &serde_json::json!({"verification": report, "proof": p}),
        ),
    };
    let proven = proof.as_ref().is_none_or(ssmlog_check::Report::passed);
    eprintln!(
        "{} AWS calls ({} writes)",
        aws.calls.reads() + aws.calls.writes(),
        aws.calls.writes()
    );
    exit::code(if report.passed() && proven {
        exit::OK
    } else {
        exit::FINDINGS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1_800)));
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("3w").is_err());
    }
}
