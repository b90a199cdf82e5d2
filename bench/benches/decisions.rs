//! Decisions per second on the cross-account log upload, side by side in one run:
//! ssmlog (fast path and explained), iam-rs (single policy only), iam-simulate (node).
//!
//!     cargo bench -p ssmlog-bench --bench decisions
//!
//! Set SSMLOG_BENCH_SECONDS to change the time per case (default 2).

use std::hint::black_box;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use ssmlog_bench::{calls_per_second, print_table, Row};
use ssmlog_iam::{decide, evaluate, EvalInput, Outcome};

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(rel: &str) -> String {
    let path = root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("cannot read {}: {e}", path.display());
        std::process::exit(2)
    })
}

fn parse(text: &str) -> EvalInput {
    EvalInput::from_json(text).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    })
}

/// iam-simulate's rate on `request`, or why it could not be measured.
fn iam_simulate(request: &str, iterations: u32) -> Result<f64, String> {
    let oracle = root().join("tools/iam-oracle/oracle.mjs");
    if !root().join("tools/iam-oracle/node_modules").exists() {
        return Err("tools/iam-oracle/node_modules missing: run scripts/install-tools.sh".into());
    }
    let mut child = Command::new("node")
        .arg(&oracle)
        .arg("--bench")
        .arg(iterations.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start node: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let v: Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("oracle output: {e}"))?;
    if v["decision"] != "Allowed" {
        return Err(format!("iam-simulate did not allow the request: {v}"));
    }
    v["decisionsPerSecond"]
        .as_f64()
        .ok_or_else(|| format!("oracle output: {v}"))
}

/// The identity-policy part of a request, for iam-rs, which evaluates one policy set alone.
fn single_policy(request: &Value) -> (iam_rs::PolicyEvaluator, iam_rs::IAMRequest, EvalInput) {
    let identity = request["policies"]["identity"][0]["document"].to_string();
    let policy = iam_rs::IAMPolicy::from_json(&identity).unwrap_or_else(|e| {
        eprintln!("iam-rs cannot read the policy: {e}");
        std::process::exit(2)
    });
    let principal = request["principal"]["arn"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let resource = request["resource"]["arn"].as_str().unwrap_or_default();
    let action = request["action"].as_str().unwrap_or_default();
    let arn = iam_rs::Arn::parse(resource).unwrap_or_else(|e| {
        eprintln!("iam-rs cannot read the ARN: {e:?}");
        std::process::exit(2)
    });
    let req = iam_rs::IAMRequest::new(
        iam_rs::Principal::Aws(iam_rs::PrincipalId::String(principal.clone())),
        action,
        arn,
    );
    // The same single policy for ssmlog: identity only, in the resource's own account.
    let mut ours = request.clone();
    ours["policies"] = serde_json::json!({"identity": request["policies"]["identity"]});
    let account = principal.split(':').nth(4).unwrap_or_default().to_string();
    ours["resource"]["account"] = Value::String(account);
    (
        iam_rs::PolicyEvaluator::with_policies(vec![policy]),
        req,
        parse(&ours.to_string()),
    )
}

fn main() {
    // `cargo bench` passes `--bench`; there is nothing else to parse.
    let secs: f64 = std::env::var("SSMLOG_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let budget = Duration::from_secs_f64(secs);
    let mut rows = Vec::new();
    for (case, file) in [
        (
            "s3:PutObject (identity+bucket)",
            "crates/ssmlog-iam/benches/log_upload.json",
        ),
        (
            "kms:GenerateDataKey (identity+key)",
            "crates/ssmlog-iam/benches/log_upload_kms.json",
        ),
    ] {
        let text = read(file);
        let input = parse(&text);
        assert_eq!(decide(&input), Outcome::Allowed, "{file} must be allowed");
        let fast = calls_per_second(budget, || {
            black_box(decide(black_box(&input)));
        });
        rows.push(Row {
            case: case.into(),
            engine: "ssmlog (decide)".into(),
            per_second: fast,
        });
        let explained = calls_per_second(budget, || {
            black_box(evaluate(black_box(&input)));
        });
        rows.push(Row {
            case: case.into(),
            engine: "ssmlog (explained)".into(),
            per_second: explained,
        });
        let one_line: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let iterations = (secs * 20_000.0) as u32;
        match iam_simulate(&one_line.to_string(), iterations.max(2_000)) {
            Ok(r) => rows.push(Row {
                case: case.into(),
                engine: "iam-simulate".into(),
                per_second: r,
            }),
            Err(e) => eprintln!("iam-simulate skipped for {case}: {e}"),
        }

        // The single-policy part, where iam-rs can take part. A KMS key cannot be granted
        // by an identity policy alone, so only the S3 request has one.
        if !case.starts_with("s3:") {
            continue;
        }
        let (evaluator, req, ours) = single_policy(&one_line);
        let single = format!("{} [identity only]", case.split(' ').next().unwrap_or(case));
        assert_eq!(decide(&ours), Outcome::Allowed);
        let r = calls_per_second(budget, || {
            black_box(decide(black_box(&ours)));
        });
        rows.push(Row {
            case: single.clone(),
            engine: "ssmlog (decide)".into(),
            per_second: r,
        });
        match evaluator.evaluate(&req) {
            Ok(res) if res.decision == iam_rs::Decision::Allow => {
                let r = calls_per_second(budget, || {
                    black_box(evaluator.evaluate(black_box(&req)).ok());
                });
                rows.push(Row {
                    case: single,
                    engine: "iam-rs 0.8.0".into(),
                    per_second: r,
                });
            }
            other => eprintln!("iam-rs skipped for {single}: it answered {other:?}"),
        }
    }
    print_table(&rows);
}
