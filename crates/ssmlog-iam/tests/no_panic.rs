//! Mutation fuzzing on stable Rust, run with every `cargo test`: mutated policies and requests
//! never panic, and the engine's properties hold on whatever parses. The coverage-guided
//! targets in `fuzz/` explore further with cargo-fuzz.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;

use ssmlog_iam::{decide, evaluate, validate_policy, EvalInput, Policy, PolicyKind, Severity};

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Fragments that steer mutations toward the grammar's corners.
const TOKENS: &[&str] = &[
    "\"*\"",
    "\"?\"",
    "${",
    "}",
    "${aws:username, 'x'}",
    "${*}",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "\"\"",
    "\"Condition\"",
    "\"ForAllValues:StringLike\"",
    "\"ForAnyValue:StringNotEquals\"",
    "\"NullIfExists\"",
    "\"NotPrincipal\"",
    "\"NotAction\"",
    "\"NotResource\"",
    "\"Deny\"",
    "\"Allow\"",
    "\"2008-10-17\"",
    "\"arn:aws:iam::111122223333:root\"",
    "\"arn:aws:s3:::b/*\"",
    "\"arn:*:*:*:*:*\"",
    "1e999",
    "-0",
    "\"10.0.0.0/8\"",
    "\"::1/129\"",
    "\"2026-02-30T25:61:00+14:00\"",
    "\"\\ud800\"",
    "\"é\"",
    "null",
    "true",
    "\"AWS\"",
    "\"Service\"",
    "\"s3.amazonaws.com\"",
    "\"anonymous\"",
    "\"kms:*\"",
    "\"IfExists\"",
    "\"arn:aws:sts::1:assumed-role/R\"",
    "\"arn:aws:kms:eu-west-1:111122223333:key/k\"",
    "99999999999999999999",
];

fn mutate(rng: &mut Rng, seed: &str) -> String {
    let mut s = seed.as_bytes().to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(s.len() + 1);
        match rng.below(6) {
            0 => {
                let end = (at + rng.below(16)).min(s.len());
                s.drain(at..end);
            }
            1 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                s.splice(at..at, t.bytes());
            }
            2 if !s.is_empty() => {
                let i = rng.below(s.len());
                s[i] = (rng.next() & 0xff) as u8;
            }
            3 => {
                let start = rng.below(s.len() + 1);
                let end = (start + rng.below(64)).min(s.len());
                let chunk = s[start..end].to_vec();
                s.splice(at..at, chunk);
            }
            4 => s.truncate(at),
            _ => {
                // Replace a quoted string with a token: keeps the JSON shape more often.
                let text = String::from_utf8_lossy(&s).into_owned();
                let quotes: Vec<usize> = text.match_indices('"').map(|(i, _)| i).collect();
                if quotes.len() >= 2 {
                    let k = rng.below(quotes.len() / 2) * 2;
                    let (a, b) = (quotes[k], quotes[k + 1] + 1);
                    let t = TOKENS[rng.below(TOKENS.len())];
                    s = format!("{}{}{}", &text[..a], t, &text[b..]).into_bytes();
                }
            }
        }
    }
    String::from_utf8_lossy(&s).into_owned()
}

fn seeds(dir: &Path, ext: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == ext))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    out.sort();
    out
}

fn iterations() -> usize {
    std::env::var("SSMLOG_FUZZ_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4_000)
}

#[test]
fn mutated_policies_never_panic_and_validation_agrees_with_parsing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = seeds(&root.join("tests/fixtures/seed"), "json");
    let mut rng = Rng(0x5eed_1a9b_0c0f_fee1);
    for i in 0..iterations() {
        let text = mutate(&mut rng, &corpus[i % corpus.len()]);
        for kind in PolicyKind::ALL {
            let diags = validate_policy("fuzz", &text, kind);
            let has_errors = diags.iter().any(|d| d.severity == Severity::Error);
            assert_eq!(
                Policy::parse("fuzz", &text, kind).is_ok(),
                !has_errors,
                "{kind:?}: {text}"
            );
            for d in &diags {
                assert!(d.line >= 1 && d.column >= 1, "{d:?}");
                assert!(d.line <= text.lines().count().max(1) + 1, "{d:?} in {text}");
                let _ = d.render(&text);
            }
        }
    }
}

#[test]
fn mutated_requests_never_panic_and_both_paths_agree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = seeds(&root.join("benches"), "json");
    assert!(!corpus.is_empty());
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let mut evaluated = 0;
    for i in 0..iterations() {
        let text = mutate(&mut rng, &corpus[i % corpus.len()]);
        if let Ok(input) = EvalInput::from_json(&text) {
            let d = evaluate(&input);
            assert_eq!(decide(&input), d.decision, "{text}");
            if d.decision != ssmlog_iam::Outcome::ImplicitlyDenied {
                assert!(d.missing.is_empty());
            }
            evaluated += 1;
        }
    }
    // The mutations must leave enough requests valid to exercise the evaluator.
    assert!(
        evaluated > iterations() / 20,
        "only {evaluated} mutated requests parsed"
    );
}
