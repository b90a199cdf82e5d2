//! Shared helpers for the side-by-side benchmarks: timing and the result table.

use std::time::{Duration, Instant};

/// Runs `f` in batches for about `budget`, returns the best observed calls per second.
///
/// The best batch, not the mean, is reported: on a shared 2-core machine the slow batches
/// measure the neighbours, not the code.
pub fn calls_per_second(budget: Duration, mut f: impl FnMut()) -> f64 {
    // Warm up caches and branch predictors, and size a batch to roughly 50 ms.
    let mut batch = 1u64;
    loop {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        if t.elapsed() >= Duration::from_millis(50) {
            break;
        }
        batch *= 2;
    }
    let end = Instant::now() + budget;
    let mut best = 0.0f64;
    while Instant::now() < end {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        best = best.max(batch as f64 / t.elapsed().as_secs_f64());
    }
    best
}

/// One row of the printed table.
pub struct Row {
    /// What was measured.
    pub case: String,
    /// Which engine.
    pub engine: String,
    /// Decisions per second.
    pub per_second: f64,
}

/// Prints rows grouped by case, each with its ratio to ssmlog's row of the same case.
pub fn print_table(rows: &[Row]) {
    println!(
        "{:<34} {:<22} {:>16} {:>12}",
        "case", "engine", "decisions/s", "ssmlog is"
    );
    for r in rows {
        let ours = rows
            .iter()
            .find(|o| o.case == r.case && o.engine.starts_with("ssmlog"))
            .map_or(f64::NAN, |o| o.per_second);
        let ratio = if r.engine.starts_with("ssmlog") {
            "-".to_string()
        } else {
            format!("{:.0}x", ours / r.per_second)
        };
        println!(
            "{:<34} {:<22} {:>16.0} {:>12}",
            r.case, r.engine, r.per_second, ratio
        );
    }
}

/// The example config (`examples/ssmlog.toml`) with `accounts` member accounts in each of the
/// 17 default regions: the scale the render and check benchmarks measure.
pub fn scaled_config(accounts: usize) -> String {
    let members: Vec<String> = (0..accounts)
        .map(|i| {
            format!(
                "  {{ id = \"{:012}\", name = \"member-{i}\" }},",
                200_000_000_000u64 + i as u64
            )
        })
        .collect();
    let regions: Vec<String> = ssmlog_render::regions::DEFAULT_REGIONS
        .iter()
        .map(|r| format!("\"{r}\""))
        .collect();
    let mut out = String::new();
    let mut skipping = false;
    for line in ssmlog_render::EXAMPLE_CONFIG.lines() {
        if line.starts_with("members = [") {
            out.push_str("members = [\n");
            out.push_str(&members.join("\n"));
            out.push_str("\n]\n");
            skipping = true;
            continue;
        }
        if skipping {
            skipping = line.trim() != "]";
            continue;
        }
        if line.starts_with("enabled = [") {
            out.push_str(&format!("enabled = [{}]\n", regions.join(", ")));
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The best of `runs` timings of `f`.
pub fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}
