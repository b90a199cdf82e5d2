#!/usr/bin/env bash
# The iam-simulate side of the log-upload benchmark (issue 2): decisions per second on the
# cross-account log upload (s3:PutObject with identity + bucket policy; kms:GenerateDataKey
# with identity + key policy), on the same request files the Rust benchmark reads.
#
#   tools/iam-oracle/bench.sh [ITERATIONS]        (default 20000)
#
# Prints one JSON line per request: {"request": ..., "decisionsPerSecond": ..., ...}.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
n="${1:-20000}"
scripts/install-tools.sh
for request in crates/ssmlog-iam/benches/log_upload.json crates/ssmlog-iam/benches/log_upload_kms.json; do
  result="$(node tools/iam-oracle/oracle.mjs --bench "$n" < "$request")"
  printf '{"request":"%s",%s\n' "$request" "${result#\{}"
done
