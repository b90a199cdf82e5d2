//! `ssmlog pull`: the live State, written in the layout `render` writes.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use ssmlog_aws::{Aws, ConnectOptions, MemberAccess, Progress};
use ssmlog_render::{render, Profile};
use ssmlog_state::State;

use crate::exit;
use crate::output::{schema, write_document};
use crate::render::ProfileArg;
use crate::verify::LiveFormat;

/// How to reach AWS, shared by pull, plan and apply.
#[derive(Args, Debug, Clone)]
pub struct AwsArgs {
    /// The config.
    #[arg(long, default_value = "ssmlog.toml")]
    pub config: PathBuf,
    /// Which statements are desired (the baseline render writes).
    #[arg(long, value_enum, default_value_t = ProfileArg::Hardened)]
    pub baseline: ProfileArg,
    /// AWS named profile (standard credential chain otherwise: environment, SSO, ...).
    #[arg(long)]
    pub profile: Option<String>,
    /// AWS region of the first client.
    #[arg(long)]
    pub region: Option<String>,
    /// Another endpoint for every AWS service (a local moto server); S3 goes path-style.
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// Role assumed in every other account.
    #[arg(long, default_value = ssmlog_aws::DEFAULT_ACCESS_ROLE)]
    pub access_role: String,
    /// A role for one account, `ACCOUNT=ROLE` (repeatable).
    #[arg(long = "access-role-for", value_name = "ACCOUNT=ROLE")]
    pub access_role_for: Vec<String>,
    /// Accounts and regions worked on at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// `--verbose`: each `-v` shows more on stderr (every AWS call, then debug events).
    #[arg(short = 'v', action = clap::ArgAction::Count)]
    pub v: u8,
}

/// What every live subcommand starts from: the runtime, the desired State and a connection.
pub struct Live {
    /// Runs the SDK's futures.
    pub rt: tokio::runtime::Runtime,
    /// The config rendered, with accounts discovered from the organization when it asks.
    pub desired: State,
    /// Clients from the credential chain, with per-account access.
    pub aws: Arc<Aws>,
    /// Preferences inputs the config does not set: apply keeps their live values.
    pub keep_inputs: Vec<String>,
    /// What `check` needs of the config beyond the State (session starters, bucket
    /// administrators), for `verify --proof`.
    pub check_options: ssmlog_check::CheckOptions,
}

/// Builds the runtime, loads and renders the config, and connects; on failure the error is
/// printed and the exit code returned.
pub fn prepare(args: &AwsArgs) -> Result<Live, ExitCode> {
    let rt = ssmlog_aws::runtime().map_err(|e| {
        eprintln!("error: {e}");
        exit::code(exit::BAD_INPUT)
    })?;
    let profile = match args.baseline {
        ProfileArg::Hardened => Profile::Hardened,
        ProfileArg::Seed => Profile::Seed,
    };
    // What render refuses (a hardened config without administrators), apply refuses too.
    let mut cfg = crate::config::load_for(&args.config, profile).map_err(|e| {
        eprintln!("{e}");
        exit::code(exit::BAD_INPUT)
    })?;
    let mut access = MemberAccess {
        role: args.access_role.clone(),
        ..MemberAccess::default()
    };
    for pair in &args.access_role_for {
        let Some((account, role)) = pair.split_once('=') else {
            eprintln!("error: --access-role-for `{pair}`: expected ACCOUNT=ROLE");
            return Err(exit::code(exit::BAD_INPUT));
        };
        access
            .per_account
            .insert(account.to_string(), role.to_string());
    }
    let options = ConnectOptions {
        profile: args.profile.clone(),
        region: args.region.clone(),
        endpoint_url: args.endpoint_url.clone(),
        access,
    };
    let aws = rt.block_on(Aws::connect(options)).map_err(|e| {
        eprintln!("error: {e}");
        exit::code(exit::BAD_INPUT)
    })?;
    let discovered = rt.block_on(ssmlog_aws::discover(&aws.caller()));
    if cfg.account_source == ssmlog_render::AccountSource::Organization {
        let found = discovered.map_err(|e| {
            eprintln!("error: accounts.source = \"organization\": {e}");
            exit::code(exit::FINDINGS)
        })?;
        if found.organization_id != cfg.organization_id {
            eprintln!(
                "error: the config names organization `{}` but the credentials are in `{}`",
                cfg.organization_id, found.organization_id
            );
            return Err(exit::code(exit::BAD_INPUT));
        }
        refuse_outsiders(&args.config, &cfg, &found)?;
        for (id, name) in found.accounts {
            let known = cfg.accounts.iter().any(|m| m.id == id);
            if !known && !cfg.excluded_accounts.contains(&id) {
                cfg.accounts.push(ssmlog_render::Member { id, name });
            }
        }
        cfg.accounts.sort_by(|a, b| a.id.cmp(&b.id));
    } else {
        match discovered {
            Ok(found) => refuse_outsiders(&args.config, &cfg, &found)?,
            // Only the management account or a delegated administrator may read the
            // organization: say what was not verified, and go on.
            Err(e) => eprintln!(
                "warning: the member accounts of {} were not checked against the organization (it could not be read: {e})",
                args.config.display()
            ),
        }
    }
    let desired = render(&cfg, profile);
    Ok(Live {
        rt,
        desired,
        aws: Arc::new(aws),
        keep_inputs: cfg.session.unset_inputs.clone(),
        check_options: ssmlog_check::CheckOptions::from_config(&cfg),
    })
}

/// Refuses, before anything is read or written, a config naming an account that is not an
/// active account of the organization (the log-archive account and every member).
fn refuse_outsiders(
    path: &std::path::Path,
    cfg: &ssmlog_render::Config,
    found: &ssmlog_aws::Discovery,
) -> Result<(), ExitCode> {
    let ids = std::iter::once(cfg.log_archive_account.as_str())
        .chain(cfg.accounts.iter().map(|m| m.id.as_str()));
    let outsiders = found.outsiders(ids);
    if outsiders.is_empty() {
        return Ok(());
    }
    for id in &outsiders {
        let field = if *id == cfg.log_archive_account {
            "log_archive.account_id"
        } else {
            "accounts.members"
        };
        eprintln!(
            "error: {}: {field}: account `{id}` is not an active account of organization `{}`\n  help: fix the account id, or remove it from the config (nothing was written)",
            path.display(),
            found.organization_id
        );
    }
    Err(exit::code(exit::BAD_INPUT))
}

/// Progress on stderr: a bar on a terminal, one line per finished unit otherwise.
pub fn progress() -> Progress {
    crate::progress::progress()
}

/// Arguments of `ssmlog pull`.
#[derive(Args, Debug, Clone)]
pub struct PullArgs {
    /// Where to write the State directory.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Output form: the summary on stderr only, or also as JSON on stdout (what was read,
    /// what could not be, where the State went).
    #[arg(long, value_enum, default_value_t = LiveFormat::Table)]
    pub format: LiveFormat,
}

/// `pull --format json`: what a script needs to know before it runs `check` on the State.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct PullSummary<'a> {
    /// The State directory written.
    out: String,
    /// The organization read (empty when it could not be).
    organization_id: &'a str,
    /// Member accounts in the State.
    accounts: usize,
    /// Member account/regions in the State.
    account_regions: usize,
    /// Accounts and regions that could not be read (also recorded in the State; `check`
    /// fails on them).
    unreachable: &'a [ssmlog_state::Unreachable],
    /// Every error, in AWS's words.
    errors: Vec<String>,
    /// AWS calls made.
    calls: u64,
}

/// Exit 0 when everything was read, 1 when some account failed (the rest is written).
pub fn run(args: &PullArgs) -> ExitCode {
    let Live {
        rt, desired, aws, ..
    } = match prepare(&args.aws) {
        Ok(live) => live,
        Err(code) => return code,
    };
    let out = rt.block_on(ssmlog_aws::pull(
        aws.clone(),
        &desired,
        args.aws.concurrency,
        Some(progress()),
    ));
    if let Err(e) = ssmlog_state::write_dir(&out.state, &args.out) {
        eprintln!("error: {e}");
        return exit::code(exit::BAD_INPUT);
    }
    for e in &out.errors {
        eprintln!("error: {e}");
    }
    let calls = aws.calls.reads() + aws.calls.writes();
    eprintln!("{calls} AWS calls; State written to {}", args.out.display());
    if args.format == LiveFormat::Json {
        let summary = PullSummary {
            out: args.out.display().to_string(),
            organization_id: &out.state.organization.id,
            accounts: out.state.accounts.len(),
            account_regions: out.state.accounts.iter().map(|a| a.regions.len()).sum(),
            unreachable: &out.state.unreachable,
            errors: out.errors.iter().map(ToString::to_string).collect(),
            calls,
        };
        let _ = write_document(&mut std::io::stdout().lock(), schema::PULL, &summary);
    }
    exit::code(if out.errors.is_empty() {
        exit::OK
    } else {
        exit::FINDINGS
    })
}
