//! `--verbose` (repeatable; `-v` in the commands that reach AWS) and `RUST_LOG`: what ssmlog
//! does, on stderr, through `tracing`. Standard output is never touched, so a script's JSON
//! or table stays the same with or without it.
//!
//! - `-v`: every AWS call, with account, region, operation, outcome, HTTP status and time
//!   (`ssmlog::aws` events, see `ssmlog_aws`'s `trace` module);
//! - `-vv`: ssmlog's debug events too;
//! - `-vvv`: the AWS SDK's own events as well (retries, credentials, endpoints);
//! - `RUST_LOG` (an env-filter directive such as `ssmlog=info,aws_config=debug`) overrides
//!   the level the flags give.
//!
//! Without either, no subscriber is installed: the output is exactly what it was.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the stderr subscriber for `verbose` (the count of `-v`/`--verbose`), or for
/// `RUST_LOG` when it is set; nothing when neither asks for it.
pub fn init(verbose: u8) {
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let directives = match (from_env, verbose) {
        (Some(env), _) => env,
        (None, 0) => return,
        (None, 1) => "ssmlog=info".to_string(),
        (None, 2) => "ssmlog=debug".to_string(),
        // Everything at debug but the HTTP and TLS plumbing, which says little about AWS.
        (None, _) => {
            "debug,ssmlog=trace,hyper=info,hyper_util=info,h2=info,rustls=info".to_string()
        }
    };
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|e| {
        eprintln!("warning: RUST_LOG `{directives}` is not a filter ({e}); showing AWS calls");
        EnvFilter::new("ssmlog=info")
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
