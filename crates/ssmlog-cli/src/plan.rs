//! `ssmlog plan`: per resource, what apply would create or change, with JSON diffs.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use ssmlog_aws::{converge, Action, ConvergeOptions, Outcome};

use crate::exit;
use crate::output::{schema, write_document};
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

/// Prints changes: `+` create, `~` update (with the diff), `-` remove (only ever one of
/// ssmlog's own guardrail attachments); unchanged resources are counted.
pub fn print(outcome: &Outcome, format: LiveFormat, out: &mut impl Write) -> std::io::Result<()> {
    if format == LiveFormat::Json {
        return write_document(out, schema::PLAN, outcome);
    }
    for c in &outcome.changes {
        let mark = match c.action {
            Action::Create => "+ create",
            Action::Update => "~ update",
            Action::Remove => "- remove",
            Action::NoChange if c.notes.is_empty() => continue,
            Action::NoChange => "= unchanged",
        };
        let region = c.region.as_deref().unwrap_or("global");
        writeln!(out, "{mark} {} [{} {region}]", c.resource, c.account)?;
        for note in &c.notes {
            writeln!(out, "    note: {note}")?;
        }
        if c.action == Action::NoChange {
            continue;
        }
        for line in c.diff().lines() {
            writeln!(out, "    {line}")?;
        }
    }
    let same = outcome.changes.len() - outcome.pending();
    writeln!(
        out,
        "{} to change, {same} unchanged, {} failed",
        outcome.pending(),
        outcome.failures.len()
    )
}

/// Each failure on stderr, one line each (a multi-line help indented under it), naming the
/// account and, for a unit of one region, the region.
pub fn print_failures(outcome: &Outcome) {
    for f in &outcome.failures {
        match &f.region {
            Some(r) => eprintln!("error: [{} {r}] {}", f.account, f.error),
            None => eprintln!("error: [{}] {}", f.account, f.error),
        }
    }
}

/// What a run covered, counted by account and by account/region apart (an account's IAM
/// can fail while its regions succeed, and the other way round).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    /// Accounts worked on (the log archive and every member).
    pub accounts: usize,
    /// Of them, accounts with any failure.
    pub accounts_failed: usize,
    /// Member account/regions (one preferences document each).
    pub account_regions: usize,
    /// Of them, account/regions that failed (their own unit, or the whole account).
    pub account_regions_failed: usize,
}

impl Coverage {
    /// Counts `outcome` against the `desired` State it was run for.
    pub fn of(desired: &ssmlog_state::State, outcome: &Outcome) -> Coverage {
        let la = &desired.log_archive.account_id;
        let mut accounts: std::collections::BTreeSet<&str> =
            desired.accounts.iter().map(|a| a.id.as_str()).collect();
        accounts.insert(la);
        let failed_account = |id: &str| outcome.failures.iter().any(|f| f.account == id);
        let mut regions = 0;
        let mut regions_failed = 0;
        for a in &desired.accounts {
            for r in &a.regions {
                regions += 1;
                let own = outcome
                    .failures
                    .iter()
                    .any(|f| f.account == a.id && f.region.as_deref() == Some(r.name.as_str()));
                let placeholder_wait = outcome
                    .failures
                    .iter()
                    .any(|f| f.account == a.id && f.error.contains("not applied"));
                // Every region unit names its region when it fails, reaching the account
                // included; only "keys not in place yet" stops a whole account's regions.
                if own || placeholder_wait {
                    regions_failed += 1;
                }
            }
        }
        Coverage {
            accounts: accounts.len(),
            accounts_failed: accounts.iter().filter(|a| failed_account(a)).count(),
            account_regions: regions,
            account_regions_failed: regions_failed,
        }
    }
}

impl std::fmt::Display for Coverage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "accounts: {} ok, {} failed (of {}); account/regions: {} ok, {} failed (of {})",
            self.accounts - self.accounts_failed,
            self.accounts_failed,
            self.accounts,
            self.account_regions - self.account_regions_failed,
            self.account_regions_failed,
            self.account_regions
        )
    }
}

/// The config's `guardrails.deploy_roles`, which apply proves keep control before it
/// writes a guardrail.
pub fn deploy_roles(options: &ssmlog_check::CheckOptions) -> Vec<String> {
    options
        .guardrails
        .as_ref()
        .map(|g| g.deploy_roles.clone())
        .unwrap_or_default()
}

/// Exit 0 when the plan was made (whatever it changes), 1 when an account failed.
pub fn run(args: &PlanArgs) -> ExitCode {
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
    let options = ConvergeOptions {
        apply: false,
        concurrency: args.aws.concurrency,
        progress: Some(progress()),
        keep_inputs,
        deploy_roles: deploy_roles(&check_options),
    };
    let outcome = rt.block_on(converge(aws, &desired, &options));
    let _ = print(&outcome, args.format, &mut std::io::stdout().lock());
    print_failures(&outcome);
    exit::code(if outcome.failures.is_empty() {
        exit::OK
    } else {
        exit::FINDINGS
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssmlog_aws::Failure;

    #[test]
    fn issue_10_coverage_counts_accounts_and_account_regions_apart() {
        let parsed = ssmlog_render::parse_config("ssmlog.toml", ssmlog_render::EXAMPLE_CONFIG);
        assert!(parsed.is_ok());
        let Ok(cfg) = parsed else { return };
        let desired = ssmlog_render::render(&cfg, ssmlog_render::Profile::Hardened);
        let (a, b) = (
            desired.accounts[0].id.clone(),
            desired.accounts[1].id.clone(),
        );
        let region = desired.accounts[0].regions[0].name.clone();
        let fail = |account: &str, region: Option<&str>| Failure {
            account: account.to_string(),
            region: region.map(str::to_string),
            error: "boom".to_string(),
        };
        // One region of one account, and the IAM of another (its regions are fine).
        let outcome = Outcome {
            failures: vec![fail(&a, Some(&region)), fail(&b, None)],
            ..Outcome::default()
        };
        let c = Coverage::of(&desired, &outcome);
        // 3 members and the log archive; 3 members x 2 regions.
        assert_eq!(
            c,
            Coverage {
                accounts: 4,
                accounts_failed: 2,
                account_regions: 6,
                account_regions_failed: 1
            }
        );
        assert_eq!(
            c.to_string(),
            "accounts: 2 ok, 2 failed (of 4); account/regions: 5 ok, 1 failed (of 6)"
        );
    }
}
