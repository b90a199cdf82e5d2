#!/usr/bin/env bash
# `ssmlog iam eval` on N requests (default 100,000) read as one JSON array and as JSON Lines,
# side by side with @cloud-copilot/iam-simulate (tools/iam-oracle in its JSON Lines mode) on
# the same JSON Lines, in one run on one machine (BENCHMARKS.md, "iam eval").
#
#   tools/iam-eval-bench.sh [N]
#
# The requests are crates/ssmlog-iam/benches/log_upload.json (cross-account s3:PutObject with
# identity and bucket policy), every other one from outside the organization (denied).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
n="${1:-100000}"
scripts/install-tools.sh
cargo build --release -q -p ssmlog
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
python3 - "$n" "$dir" <<'PY'
import json, sys
n, out = int(sys.argv[1]), sys.argv[2]
one = json.load(open("crates/ssmlog-iam/benches/log_upload.json"))
outsider = json.loads(json.dumps(one))
outsider["principal"]["orgId"] = "o-otherorg1"
lines = [json.dumps(one if i % 2 == 0 else outsider) for i in range(n)]
open(f"{out}/requests.jsonl", "w").write("\n".join(lines) + "\n")
open(f"{out}/requests.json", "w").write("[\n" + ",\n".join(lines) + "\n]\n")
PY
run() {
  local label="$1"; shift
  local start end
  start="$(date +%s.%N)"
  "$@" >"$dir/out" 2>"$dir/err" || true
  end="$(date +%s.%N)"
  printf '%-44s %8.2f s  (%s output lines)\n' "$label" "$(echo "$end - $start" | bc)" "$(wc -l <"$dir/out")"
}
echo "iam eval on $n requests ($(du -h "$dir/requests.json" | cut -f1) as an array)"
run "ssmlog iam eval --format json (array)" target/release/ssmlog iam eval --exit-zero --format json "$dir/requests.json"
run "ssmlog iam eval --lines --format json" target/release/ssmlog iam eval --exit-zero --lines --format json "$dir/requests.jsonl"
run "iam-simulate (tools/iam-oracle, JSON Lines)" sh -c "node tools/iam-oracle/oracle.mjs < '$dir/requests.jsonl'"
