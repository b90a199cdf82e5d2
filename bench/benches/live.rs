//! `apply` (a no-op, after a first apply), `verify` and `pull` on 20 member accounts x 3 regions of a
//! moto server, with 8 units in flight against one at a time: AWS calls counted (reads and
//! writes, from ssmlog-aws's own counters) and wall time, best of 3 rounds alternating.
//!
//!     cargo bench -q -p ssmlog-bench --features live --bench live
//!
//! Starts its own `moto_server` on a free port of 127.0.0.1 (scripts/install-tools.sh) and
//! builds the organization through the SDK: 21 accounts (log archive and 20 members), each
//! member with an `SSMInstanceRole`, and each member's default VPCs as AWS makes them (an
//! internet gateway); `pull` and `verify` read and prove every network (issue 13).
//! `SSMLOG_LIVE_ACCOUNTS` changes the member count.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ssmlog_aws::{converge, pull, verify, Aws, ConnectOptions, ConvergeOptions, VerifyOptions};
use ssmlog_moto::{ConfigShape, Moto, Org, EC2_TRUST};
use ssmlog_render::{parse_config, render, Profile};
use ssmlog_state::State;

const ROUNDS: usize = 3;
const REGIONS: [&str; 3] = ["eu-west-1", "us-east-1", "eu-central-1"];

fn die(msg: impl std::fmt::Display) -> ! {
    eprintln!("live: {msg}");
    std::process::exit(2)
}

async fn connect(url: &str) -> Arc<Aws> {
    let options = ConnectOptions {
        region: Some("us-east-1".to_string()),
        endpoint_url: Some(url.to_string()),
        ..ConnectOptions::default()
    };
    Arc::new(
        Aws::connect(options)
            .await
            .unwrap_or_else(|e| die(format!("connect: {e}"))),
    )
}

/// The organization, through the SDK (as [`Moto::organization`] makes it through the aws
/// CLI, which would take minutes for this many accounts).
async fn organization(aws: &Aws, members: usize) -> Org {
    let org = aws.caller().organizations();
    let id = org
        .create_organization()
        .send()
        .await
        .unwrap_or_else(|e| die(format!("create-organization: {e}")))
        .organization
        .and_then(|o| o.id)
        .unwrap_or_default();
    let mut accounts = Vec::new();
    for i in 0..=members {
        let out = org
            .create_account()
            .email(format!("a{i}@example.com"))
            .account_name(format!("account-{i}"))
            .send()
            .await
            .unwrap_or_else(|e| die(format!("create-account: {e}")));
        accounts.push(
            out.create_account_status
                .and_then(|s| s.account_id)
                .unwrap_or_default(),
        );
    }
    let log_archive = accounts.remove(0);
    for m in &accounts {
        let c = aws
            .account(m)
            .await
            .unwrap_or_else(|e| die(format!("assume into {m}: {e}")));
        c.iam()
            .create_role()
            .role_name("SSMInstanceRole")
            .assume_role_policy_document(EC2_TRUST)
            .send()
            .await
            .unwrap_or_else(|e| die(format!("create-role in {m}: {e}")));
    }
    Org {
        id,
        log_archive,
        members: accounts,
    }
}

fn desired(org: &Org) -> State {
    let text = org.config_text(&ConfigShape {
        regions: &REGIONS,
        ..ConfigShape::default()
    });
    let cfg = parse_config("live.toml", &text).unwrap_or_else(|e| die(format!("{e:?}")));
    render(&cfg, Profile::Hardened)
}

/// One measured run: `(wall, reads, writes)`.
type Run = (Duration, u64, u64);

fn main() {
    let members: usize = std::env::var("SSMLOG_LIVE_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        std::env::set_var(k, v);
    }
    let moto = Moto::start()
        .unwrap_or_else(|| die("moto_server or aws is missing: scripts/install-tools.sh"));
    let url = moto.url();
    let rt = ssmlog_aws::runtime().unwrap_or_else(|e| die(e));
    let setup = rt.block_on(connect(&url));
    let org = rt.block_on(organization(&setup, members));
    // moto's default VPCs have no internet gateway; AWS's have one (`pull`, `verify` prove it).
    moto.default_vpcs_as_in_aws(&org.members, &REGIONS);
    let state = desired(&org);

    let t = Instant::now();
    let aws = rt.block_on(connect(&url));
    let first = rt.block_on(converge(
        aws.clone(),
        &state,
        &ConvergeOptions {
            apply: true,
            concurrency: 8,
            progress: None,
            ..ConvergeOptions::default()
        },
    ));
    if !first.failures.is_empty() {
        die(format!("first apply failed: {:?}", first.failures));
    }
    println!(
        "first apply, {members} accounts x {} regions: {:.2} s, {} reads, {} writes",
        REGIONS.len(),
        t.elapsed().as_secs_f64(),
        aws.calls.reads(),
        aws.calls.writes()
    );

    let apply = |concurrency: usize| -> Run {
        let aws = rt.block_on(connect(&url));
        let t = Instant::now();
        let out = rt.block_on(converge(
            aws.clone(),
            &state,
            &ConvergeOptions {
                apply: true,
                concurrency,
                progress: None,
                ..ConvergeOptions::default()
            },
        ));
        let wall = t.elapsed();
        if !out.failures.is_empty() || out.pending() != 0 {
            die(format!(
                "no-op apply was not a no-op: {} pending, {:?}",
                out.pending(),
                out.failures
            ));
        }
        (wall, aws.calls.reads(), aws.calls.writes())
    };
    let check = |concurrency: usize| -> Run {
        let aws = rt.block_on(connect(&url));
        let t = Instant::now();
        let v = rt.block_on(verify(
            aws.clone(),
            &state,
            &VerifyOptions {
                since: Duration::from_secs(86_400),
                concurrency,
                progress: None,
                check: ssmlog_check::CheckOptions::default(),
            },
        ));
        let wall = t.elapsed();
        // No session ever ran here: every row is "no log yet", nothing else.
        if v.findings.iter().any(|f| f.rule != "no-log-yet") {
            die(format!(
                "verify found more than missing logs: {}",
                v.to_table()
            ));
        }
        (wall, aws.calls.reads(), aws.calls.writes())
    };

    let read = |concurrency: usize| -> Run {
        let aws = rt.block_on(connect(&url));
        let t = Instant::now();
        let out = rt.block_on(pull(aws.clone(), &state, concurrency, None));
        let wall = t.elapsed();
        if !out.errors.is_empty() || !out.state.unreachable.is_empty() {
            die(format!("pull failed: {:?}", out.errors));
        }
        (wall, aws.calls.reads(), aws.calls.writes())
    };

    let mut best: Vec<(&str, usize, Option<Run>)> = vec![
        ("no-op apply", 1, None),
        ("no-op apply", 8, None),
        ("verify", 1, None),
        ("verify", 8, None),
        ("pull", 1, None),
        ("pull", 8, None),
    ];
    for _ in 0..ROUNDS {
        for (what, concurrency, slot) in best.iter_mut() {
            let run = match *what {
                "verify" => check(*concurrency),
                "pull" => read(*concurrency),
                _ => apply(*concurrency),
            };
            if slot.as_ref().is_none_or(|b| run.0 < b.0) {
                *slot = Some(run);
            }
        }
    }
    println!(
        "\n{:<12} {:>11} {:>7} {:>7} {:>10} {:>9}",
        "operation", "concurrency", "reads", "writes", "wall (s)", "speedup"
    );
    for (what, concurrency, run) in &best {
        let Some((wall, reads, writes)) = run else {
            continue;
        };
        let serial = best
            .iter()
            .find(|(w, c, _)| w == what && *c == 1)
            .and_then(|(_, _, r)| r.as_ref())
            .map_or(f64::NAN, |r| r.0.as_secs_f64());
        println!(
            "{what:<12} {concurrency:>11} {reads:>7} {writes:>7} {:>10.2} {:>8.2}x",
            wall.as_secs_f64(),
            serial / wall.as_secs_f64()
        );
    }
    println!(
        "\n{members} member accounts x {} regions ({} units), best of {ROUNDS}, moto on 127.0.0.1",
        REGIONS.len(),
        members * (REGIONS.len() + 1)
    );
}
