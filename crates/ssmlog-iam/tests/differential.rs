#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Differential test of ssmlog's IAM engine against `@cloud-copilot/iam-simulate`.
//!
//! A fixed-seed generator (`differential/gen.rs`) writes a few thousand requests in the form
//! of `docs/iam-request.md`; all of them go, as JSON Lines, to one `node
//! tools/iam-oracle/oracle.mjs` process, and each is evaluated by `ssmlog_iam::evaluate`.
//! The test prints an agreement report, writes every disagreement in full to
//! `target/differential-disagreements.jsonl`, and fails on any disagreement not explained
//! in `differential/known.json` and on any explained one that no longer occurs.
//!
//! Run: `scripts/install-tools.sh && cargo test -p ssmlog-iam --test differential -- --nocapture`.
//! Without node or the oracle's node_modules the test skips, unless `SSMLOG_REQUIRE_TOOLS=1`.

#[path = "differential/gen.rs"]
mod gen;
#[path = "differential/model.rs"]
mod model;

use std::collections::BTreeMap;
use std::env;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;
use serde_json::{json, Value};

use gen::Case;

/// The generator's seed. Changing it changes every case id: update known.json with it.
const SEED: u64 = 0x5353_4d4c_4f47_0002;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the crate lives in <root>/crates/ssmlog-iam")
        .to_path_buf()
}

fn target_dir(root: &Path) -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root.join(p) })
        .unwrap_or_else(|| root.join("target"))
}

/// Why the oracle cannot run here, if it cannot.
fn tools_missing(root: &Path) -> Option<String> {
    match Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => {}
        _ => return Some("`node` is not on PATH".into()),
    }
    let modules = root.join("tools/iam-oracle/node_modules/@cloud-copilot/iam-simulate");
    if !modules.is_dir() {
        return Some(format!(
            "{} is missing (run scripts/install-tools.sh)",
            modules.display()
        ));
    }
    None
}

/// One answer of the oracle.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OracleAnswer {
    decision: Option<String>,
    error: Option<String>,
}

/// Sends every case to one oracle process and reads one answer per case.
fn run_oracle(root: &Path, cases: &[Case]) -> Vec<OracleAnswer> {
    let mut child = Command::new("node")
        .arg("tools/iam-oracle/oracle.mjs")
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn node tools/iam-oracle/oracle.mjs");
    let mut stdin = child.stdin.take().unwrap();
    let lines: Vec<String> = cases
        .iter()
        .map(|c| serde_json::to_string(&c.request).unwrap())
        .collect();
    let writer = std::thread::spawn(move || {
        for line in lines {
            writeln!(stdin, "{line}").expect("write to the oracle");
        }
        // Dropping stdin closes it: the oracle finishes and exits.
    });
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let answers: Vec<OracleAnswer> = stdout
        .lines()
        .map(|l| {
            let l = l.expect("read from the oracle");
            serde_json::from_str(&l).unwrap_or_else(|e| panic!("oracle wrote `{l}`: {e}"))
        })
        .collect();
    writer.join().unwrap();
    let out = child.wait_with_output().expect("wait for the oracle");
    assert!(
        out.status.success() && answers.len() == cases.len(),
        "the oracle answered {} of {} cases and exited with {}: {}",
        answers.len(),
        cases.len(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    answers
}

/// What ssmlog's engine says: the `decision` string and the whole Decision, or why the
/// request was not accepted.
fn run_engine(request: &Value) -> Result<(String, Value), String> {
    let text = serde_json::to_string(request).unwrap();
    let input = ssmlog_iam::EvalInput::from_json(&text).map_err(|e| e.to_string())?;
    let decision = ssmlog_iam::evaluate(&input);
    let full = serde_json::to_value(&decision).unwrap();
    let outcome = full["decision"].as_str().unwrap_or_default().to_string();
    Ok((outcome, full))
}

/// An explained disagreement.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Known {
    /// A case id (`seed-0042`), exact.
    #[serde(default)]
    case: Option<String>,
    /// A class prefix (`rcp/without-full-access/`).
    #[serde(default)]
    class: Option<String>,
    /// Narrow to these answers, when given.
    #[serde(default)]
    ssmlog: Option<String>,
    #[serde(default)]
    iam_simulate: Option<String>,
    /// `ssmlog`, `iam-simulate`, or `unclear`.
    right: String,
    why: String,
    doc: String,
    #[serde(default)]
    engine_bug: bool,
}

impl Known {
    fn matches(&self, case: &Case, ssmlog: &str, oracle: &str) -> bool {
        self.case.as_deref().is_none_or(|id| id == case.id)
            && self
                .class
                .as_deref()
                .is_none_or(|c| case.class.starts_with(c))
            && self.ssmlog.as_deref().is_none_or(|s| s == ssmlog)
            && self.iam_simulate.as_deref().is_none_or(|s| s == oracle)
    }

    fn label(&self) -> String {
        let what = self
            .case
            .clone()
            .or_else(|| self.class.clone())
            .unwrap_or_default();
        let when = match (&self.ssmlog, &self.iam_simulate) {
            (None, None) => String::new(),
            (s, o) => format!(
                " (ssmlog {}, iam-simulate {})",
                s.as_deref().unwrap_or("any"),
                o.as_deref().unwrap_or("any")
            ),
        };
        format!("{what}{when}")
    }
}

fn load_known() -> Vec<Known> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential/known.json");
    let text = fs::read_to_string(&path).expect("read tests/differential/known.json");
    let known: Vec<Known> = serde_json::from_str(&text).expect("parse known.json");
    for k in &known {
        assert!(
            k.case.is_some() || k.class.is_some(),
            "known.json: an entry needs `case` or `class`: {k:?}"
        );
        assert!(
            matches!(k.right.as_str(), "ssmlog" | "iam-simulate" | "unclear"),
            "known.json: `right` is ssmlog, iam-simulate or unclear: {k:?}"
        );
        assert!(
            !k.why.is_empty() && k.doc.starts_with("https://"),
            "known.json: every entry says why, with the AWS doc it rests on: {k:?}"
        );
    }
    known
}

#[derive(Default)]
struct Tally {
    cases: usize,
    agreed: usize,
    disagreed: usize,
    explained: usize,
    oracle_errors: usize,
}

#[test]
fn generator_is_deterministic_and_ids_are_unique() {
    let a = gen::all_cases(SEED);
    let b = gen::all_cases(SEED);
    assert_eq!(a.len(), b.len());
    assert!(a.len() >= 2000, "only {} cases", a.len());
    let mut ids = std::collections::HashSet::new();
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.id, y.id);
        assert_eq!(x.request, y.request);
        assert!(ids.insert(x.id.clone()), "duplicate id {}", x.id);
    }
}

#[test]
fn known_disagreements_are_well_formed() {
    load_known();
}

#[test]
fn differential_against_iam_simulate() {
    let root = workspace_root();
    let require = env::var("SSMLOG_REQUIRE_TOOLS").as_deref() == Ok("1");
    if let Some(why) = tools_missing(&root) {
        assert!(!require, "SSMLOG_REQUIRE_TOOLS=1 but {why}");
        eprintln!("differential test skipped: {why}");
        return;
    }
    let cases = gen::all_cases(SEED);
    let answers = run_oracle(&root, &cases);
    let known = load_known();
    let mut used = vec![0usize; known.len()];
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut classes: BTreeMap<String, usize> = BTreeMap::new();
    let mut unexplained = Vec::new();
    let mut records = Vec::new();

    for (case, answer) in cases.iter().zip(&answers) {
        let t = tallies.entry(case.category).or_default();
        t.cases += 1;
        let engine = run_engine(&case.request);
        let (oracle, ssmlog) = match (&answer.decision, &engine) {
            (None, _) => {
                t.oracle_errors += 1;
                records.push(json!({
                    "id": case.id, "class": case.class, "kind": "oracle-cannot-represent",
                    "oracleError": answer.error,
                    "ssmlog": engine.as_ref().map(|e| e.0.clone()).unwrap_or_else(|e| e.clone()),
                    "request": case.request,
                }));
                continue;
            }
            (Some(d), Ok((s, _))) if d == s => {
                t.agreed += 1;
                continue;
            }
            (Some(d), Ok((s, _))) => (d.clone(), s.clone()),
            (Some(d), Err(_)) => (d.clone(), "InputError".to_string()),
        };
        t.disagreed += 1;
        let hit = known.iter().position(|k| k.matches(case, &ssmlog, &oracle));
        if let Some(i) = hit {
            used[i] += 1;
            t.explained += 1;
        } else {
            unexplained.push(case.id.clone());
        }
        *classes
            .entry(format!(
                "{} (ssmlog {ssmlog}, iam-simulate {oracle})",
                case.class
            ))
            .or_default() += 1;
        records.push(json!({
            "id": case.id,
            "class": case.class,
            "kind": "disagreement",
            "explainedBy": hit.map(|i| known[i].label()),
            "engineBug": hit.map(|i| known[i].engine_bug),
            "ssmlog": ssmlog,
            "ssmlogDecision": engine.as_ref().map(|e| e.1.clone()).unwrap_or_else(|e| json!({"inputError": e})),
            "iamSimulate": oracle,
            "request": case.request,
        }));
    }

    let dir = target_dir(&root);
    fs::create_dir_all(&dir).unwrap();
    let out_path = dir.join("differential-disagreements.jsonl");
    let mut out = fs::File::create(&out_path).unwrap();
    for r in &records {
        writeln!(out, "{}", serde_json::to_string(r).unwrap()).unwrap();
    }

    // The report.
    let mut total = Tally::default();
    println!("\ndifferential test against @cloud-copilot/iam-simulate (seed {SEED:#x})");
    println!(
        "{:<14} {:>6} {:>7} {:>9} {:>9} {:>14}",
        "category", "cases", "agreed", "disagreed", "explained", "not-representable"
    );
    for (name, t) in &tallies {
        println!(
            "{:<14} {:>6} {:>7} {:>9} {:>9} {:>14}",
            name, t.cases, t.agreed, t.disagreed, t.explained, t.oracle_errors
        );
        total.cases += t.cases;
        total.agreed += t.agreed;
        total.disagreed += t.disagreed;
        total.explained += t.explained;
        total.oracle_errors += t.oracle_errors;
    }
    let compared = total.cases - total.oracle_errors;
    println!(
        "{:<14} {:>6} {:>7} {:>9} {:>9} {:>14}",
        "total", total.cases, total.agreed, total.disagreed, total.explained, total.oracle_errors
    );
    println!(
        "agreement: {}/{} compared cases ({:.2}%)",
        total.agreed,
        compared,
        100.0 * total.agreed as f64 / compared.max(1) as f64
    );
    if !classes.is_empty() {
        println!("disagreements by class:");
        for (class, n) in &classes {
            println!("  {n:>4}  {class}");
        }
    }
    println!("every disagreement, in full: {}", out_path.display());

    let stale: Vec<String> = known
        .iter()
        .zip(&used)
        .filter(|(_, n)| **n == 0)
        .map(|(k, _)| k.label())
        .collect();
    let mut problems = Vec::new();
    if !unexplained.is_empty() {
        problems.push(format!(
            "{} disagreements not explained in tests/differential/known.json (first: {})",
            unexplained.len(),
            unexplained
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !stale.is_empty() {
        problems.push(format!(
            "known.json entries that no longer occur (remove them): {}",
            stale.join("; ")
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
