//! `ssmlog render` on 1,000 member accounts x 17 regions (the example config, scaled: 17,000
//! preferences documents, 2,000 role policies): the pure render into an in-memory State, and
//! its canonical serialisation into the bytes of every State file, on one core. Target:
//! under 1 second for both together. There is no peer for render.
//!
//!     cargo bench -q -p ssmlog-bench --bench render

use std::hint::black_box;

use ssmlog_bench::{best_of, scaled_config};
use ssmlog_render::{parse_config, regions::DEFAULT_REGIONS, render, Profile};

fn main() {
    let text = scaled_config(1000);
    let cfg = match parse_config("scaled.toml", &text) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("scaled config invalid: {e}");
            std::process::exit(2)
        }
    };
    println!(
        "accounts: {}, regions: {}",
        cfg.accounts.len(),
        DEFAULT_REGIONS.len()
    );
    println!(
        "{:<10} {:>8} {:>12} {:>12} {:>12} {:>12}",
        "profile", "files", "MB", "render", "serialise", "both"
    );
    for profile in [Profile::Hardened, Profile::Seed] {
        let state = render(&cfg, profile);
        let files = match ssmlog_state::to_files(&state) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("cannot serialise: {e}");
                std::process::exit(2)
            }
        };
        let bytes: usize = files.values().map(Vec::len).sum();
        let runs = 10;
        let t_render = best_of(runs, || {
            black_box(render(black_box(&cfg), profile));
        });
        let t_files = best_of(runs, || {
            black_box(ssmlog_state::to_files(black_box(&state)).ok());
        });
        let t_both = best_of(runs, || {
            let s = render(black_box(&cfg), profile);
            black_box(ssmlog_state::to_files(&s).ok());
        });
        let ms = |d: std::time::Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
        println!(
            "{:<10} {:>8} {:>12.1} {:>12} {:>12} {:>12}",
            profile.as_str(),
            files.len(),
            bytes as f64 / 1e6,
            ms(t_render),
            ms(t_files),
            ms(t_both)
        );
    }
    println!("best of 10 runs each (target: both under 1 s)");
}
