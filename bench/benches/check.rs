//! `ssmlog check` on 1,000 member accounts x 17 regions (the example config, scaled), on one
//! core. Target: under 1 second for the whole proof.
//!
//!     cargo bench -q -p ssmlog-bench --bench check

use std::hint::black_box;

use ssmlog_bench::{best_of, scaled_config};
use ssmlog_check::{check, CheckOptions};
use ssmlog_render::{parse_config, regions::DEFAULT_REGIONS, render, Profile};

fn main() {
    let text = scaled_config(1000);
    let cfg = match parse_config("scaled.toml", &text) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("scaled config invalid: {e:?}");
            std::process::exit(2)
        }
    };
    let state = render(&cfg, Profile::Hardened);
    let options = CheckOptions {
        session_starters: cfg.session.starters.clone(),
        explain_account: None,
        bucket_administrators: Vec::new(),
        ..CheckOptions::default()
    };
    let report = check(&state, &options);
    let per_region: usize = report
        .rows
        .iter()
        .map(|r| r.calls_ok + r.calls_failed)
        .sum();
    println!(
        "accounts: {}, regions: {}, agent calls proven: {per_region}, decisions: {}",
        state.accounts.len(),
        DEFAULT_REGIONS.len(),
        report.decisions
    );
    let t = best_of(5, || {
        black_box(check(black_box(&state), &options));
    });
    println!(
        "check (1,000 accounts x 17 regions, hardened): {:.3} s best of 5 (target < 1 s)",
        t.as_secs_f64()
    );
    let seed = render(&cfg, Profile::Seed);
    let t = best_of(5, || {
        black_box(check(black_box(&seed), &options));
    });
    println!(
        "check (1,000 accounts x 17 regions, seed, with findings): {:.3} s best of 5",
        t.as_secs_f64()
    );
}
