//! Snapshot tests: the example config rendered in both profiles, as a State directory and as
//! CloudFormation, compared byte for byte with `tests/snapshots/`. Run with
//! `SSMLOG_BLESS=1` to rewrite the expected files after an intended change.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ssmlog_render::{cloudformation, parse_config, render, Profile, EXAMPLE_CONFIG};

fn snapshot_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name)
}

fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The first differing line with three lines of context on each side.
fn diff(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let first = e
        .iter()
        .zip(&a)
        .position(|(x, y)| x != y)
        .unwrap_or(e.len().min(a.len()));
    let from = first.saturating_sub(3);
    let mut out = format!("first difference at line {}\n", first + 1);
    for (i, l) in e.iter().enumerate().skip(from).take(7) {
        out.push_str(&format!("-{:>5} {l}\n", i + 1));
    }
    for (i, l) in a.iter().enumerate().skip(from).take(7) {
        out.push_str(&format!("+{:>5} {l}\n", i + 1));
    }
    out
}

fn check_snapshot(name: &str, actual: &BTreeMap<String, Vec<u8>>) {
    let dir = snapshot_dir(name);
    if std::env::var_os("SSMLOG_BLESS").is_some_and(|v| v == "1") {
        let _ = std::fs::remove_dir_all(&dir);
        for (rel, bytes) in actual {
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
        return;
    }
    let expected = read_tree(&dir);
    let mut problems = Vec::new();
    for rel in expected.keys().filter(|k| !actual.contains_key(*k)) {
        problems.push(format!("{name}/{rel}: expected file not rendered"));
    }
    for (rel, bytes) in actual {
        match expected.get(rel) {
            None => problems.push(format!("{name}/{rel}: rendered but has no snapshot")),
            Some(exp) if exp != bytes => problems.push(format!(
                "{name}/{rel}: differs\n{}",
                diff(
                    &String::from_utf8_lossy(exp),
                    &String::from_utf8_lossy(bytes)
                )
            )),
            Some(_) => {}
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n(run with SSMLOG_BLESS=1 to accept the new output)",
        problems.join("\n")
    );
}

fn example() -> ssmlog_render::Config {
    parse_config("examples/ssmlog.toml", EXAMPLE_CONFIG).unwrap()
}

#[test]
fn state_hardened_matches_snapshot() {
    let files = ssmlog_state::to_files(&render(&example(), Profile::Hardened)).unwrap();
    check_snapshot("state-hardened", &files);
}

#[test]
fn state_seed_matches_snapshot() {
    let files = ssmlog_state::to_files(&render(&example(), Profile::Seed)).unwrap();
    check_snapshot("state-seed", &files);
}

#[test]
fn cloudformation_hardened_matches_snapshot() {
    check_snapshot(
        "cloudformation-hardened",
        &cloudformation(&example(), Profile::Hardened).unwrap(),
    );
}

#[test]
fn cloudformation_seed_matches_snapshot() {
    check_snapshot(
        "cloudformation-seed",
        &cloudformation(&example(), Profile::Seed).unwrap(),
    );
}

#[test]
fn rendering_twice_gives_the_same_bytes() {
    let cfg = example();
    for p in [Profile::Hardened, Profile::Seed] {
        let a = ssmlog_state::to_files(&render(&cfg, p)).unwrap();
        let b = ssmlog_state::to_files(&render(&cfg, p)).unwrap();
        assert_eq!(a, b);
    }
}

#[test]
fn state_round_trips_through_files() {
    for p in [Profile::Hardened, Profile::Seed] {
        let state = render(&example(), p);
        let files = ssmlog_state::to_files(&state).unwrap();
        assert_eq!(ssmlog_state::from_files(&files).unwrap(), state);
    }
}
