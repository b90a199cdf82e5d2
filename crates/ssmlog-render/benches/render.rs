//! Render for 1,000 accounts x 17 regions (17,000 preferences documents, 2,000 role
//! policies): the pure render into an in-memory State, and its canonical serialisation into
//! the bytes of every State file. Target: under 1 second for both together.
//!
//! cargo bench -p ssmlog-render --bench render

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use ssmlog_render::{parse_config, regions::DEFAULT_REGIONS, render, Profile, EXAMPLE_CONFIG};

/// The example config with 1,000 member accounts and the 17 default regions.
fn big_config() -> ssmlog_render::Config {
    let members: Vec<String> = (0..1000u64)
        .map(|i| {
            format!(
                "  {{ id = \"{:012}\", name = \"member-{i}\" }},",
                200_000_000_000 + i
            )
        })
        .collect();
    let regions: Vec<String> = DEFAULT_REGIONS.iter().map(|r| format!("\"{r}\"")).collect();
    let start = EXAMPLE_CONFIG.find("members = [").unwrap();
    let end = start + EXAMPLE_CONFIG[start..].find("]\n").unwrap() + 2;
    let mut text = String::new();
    text.push_str(&EXAMPLE_CONFIG[..start]);
    text.push_str(&format!("members = [\n{}\n]\n", members.join("\n")));
    text.push_str(&EXAMPLE_CONFIG[end..]);
    let text = text.replace(
        "enabled = [\"eu-west-1\", \"us-east-1\"]",
        &format!("enabled = [{}]", regions.join(", ")),
    );
    let cfg = parse_config("bench.toml", &text).unwrap();
    assert_eq!((cfg.accounts.len(), cfg.regions.len()), (1000, 17));
    cfg
}

fn bench(c: &mut Criterion) {
    let cfg = big_config();
    let mut g = c.benchmark_group("render_1000_accounts_x_17_regions");
    g.sample_size(10);
    for profile in [Profile::Hardened, Profile::Seed] {
        g.bench_function(format!("{}/render_state", profile.as_str()), |b| {
            b.iter(|| black_box(render(black_box(&cfg), profile)))
        });
        let state = render(&cfg, profile);
        g.bench_function(format!("{}/serialise_files", profile.as_str()), |b| {
            b.iter(|| black_box(ssmlog_state::to_files(black_box(&state)).unwrap()))
        });
        g.bench_function(format!("{}/render_and_serialise", profile.as_str()), |b| {
            b.iter(|| {
                let s = render(black_box(&cfg), profile);
                black_box(ssmlog_state::to_files(&s).unwrap())
            })
        });
    }
    let files = ssmlog_state::to_files(&render(&cfg, Profile::Hardened)).unwrap();
    let bytes: usize = files.values().map(Vec::len).sum();
    eprintln!("hardened State: {} files, {} bytes", files.len(), bytes);
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
