//! `ssmlog check`: the offline proof on a State directory, or on a config rendered in memory.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use ssmlog_check::{check, CheckOptions, Report};
use ssmlog_render::{render, Profile};

use crate::exit;
use crate::output::{schema, write_document};
use crate::render::ProfileArg;

/// Output forms.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckFormat {
    /// A table per account and region, then each finding with its fix.
    #[value(name = "text")]
    Table,
    /// The whole report as JSON.
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// One self-contained HTML page: accounts and regions by call, green or red, each cell
    /// opening its deciding statements and fix; then the findings.
    Html,
}

/// Arguments of `ssmlog check`.
#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    /// A State directory (from `ssmlog render` or `ssmlog pull`).
    pub state: Option<PathBuf>,
    /// Check this config, rendered in memory; with a State directory, the config is not
    /// rendered but says what the proof expects of that State (session starters, bucket
    /// administrators, guardrails, readers, networks).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// With --config: which statements to render (the baseline).
    #[arg(long, value_enum, default_value_t = ProfileArg::Hardened)]
    pub baseline: ProfileArg,
    /// Output form.
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,
    /// Show every proof of this account in full: request, context, matched statements.
    #[arg(long, value_name = "ACCOUNT")]
    pub explain: Option<String>,
    /// Principal ARN pattern of people who start sessions (repeatable); a config names them.
    #[arg(long = "session-starter", value_name = "ARN_PATTERN")]
    pub session_starters: Vec<String>,
    /// ARN of a bucket administrator (repeatable); a config names them; by default the keys'
    /// administrators, as render does.
    #[arg(long = "bucket-administrator", value_name = "ARN")]
    pub bucket_administrators: Vec<String>,
    /// Account whose network (VPCs) must be in the State (repeatable; `*` for every
    /// member): unknown there is an error, not a note; a config's `[network] expected`.
    #[arg(long = "expect-network", value_name = "ACCOUNT")]
    pub expect_network: Vec<String>,
}

/// Exit 0 when everything holds, 1 on findings of error severity, 2 on bad input.
pub fn run(args: &CheckArgs) -> ExitCode {
    let mut options = CheckOptions {
        session_starters: args.session_starters.clone(),
        explain_account: args.explain.clone(),
        bucket_administrators: args.bucket_administrators.clone(),
        networks_expected: args.expect_network.clone(),
        ..CheckOptions::default()
    };
    // The config: given, or `ssmlog.toml` when there is no State directory to prove.
    let config = match (&args.state, &args.config) {
        (_, Some(path)) => Some(path.clone()),
        (None, None) => Some(PathBuf::from("ssmlog.toml")),
        (Some(_), None) => None,
    };
    let cfg = match config.map(|path| crate::config::load(&path)).transpose() {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("{e}");
            return exit::code(exit::BAD_INPUT);
        }
    };
    if let Some(cfg) = &cfg {
        let from_config = CheckOptions::from_config(cfg);
        if options.session_starters.is_empty() {
            options.session_starters = from_config.session_starters;
        }
        if options.bucket_administrators.is_empty() {
            options.bucket_administrators = from_config.bucket_administrators;
        }
        if options.networks_expected.is_empty() {
            options.networks_expected = from_config.networks_expected;
        }
        options.guardrails = from_config.guardrails;
        options.readers = from_config.readers;
    }
    let state = match (&args.state, &cfg) {
        (Some(dir), _) => match ssmlog_state::read_dir(dir) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::code(exit::BAD_INPUT);
            }
        },
        (None, Some(cfg)) => {
            let profile = match args.baseline {
                ProfileArg::Hardened => Profile::Hardened,
                ProfileArg::Seed => Profile::Seed,
            };
            render(cfg, profile)
        }
        (None, None) => {
            eprintln!("error: give a State directory or `--config FILE`");
            return exit::code(exit::BAD_INPUT);
        }
    };
    // The page opens every cell's statements: keep every proof, not only the failures.
    options.keep_proofs = args.format == CheckFormat::Html;
    let report = check(&state, &options);
    let mut out = std::io::stdout().lock();
    let _ = write_report(&report, args, &mut out);
    exit::code(if report.passed() {
        exit::OK
    } else {
        exit::FINDINGS
    })
}

fn write_report(report: &Report, args: &CheckArgs, out: &mut impl Write) -> std::io::Result<()> {
    match args.format {
        CheckFormat::Table => {
            if let Some(account) = &args.explain {
                write!(out, "{}", report.explain(account))?;
            }
            write!(out, "{}", report.to_table())
        }
        CheckFormat::Json => write_document(out, schema::CHECK, report),
        CheckFormat::Html => out.write_all(crate::html::check_report(report).as_bytes()),
        CheckFormat::Sarif => {
            // Results point into the State directory as given (relative to where ssmlog
            // runs: the repository root in CI), or into the files `render` would write.
            let dir = args
                .state
                .as_ref()
                .map(|d| d.display().to_string())
                .unwrap_or_default();
            let root = std::env::current_dir()
                .ok()
                .map(|d| format!("file://{}/", d.display()));
            let sarif = report.to_sarif(&dir, root.as_deref());
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&sarif).unwrap_or_default()
            )
        }
    }
}
