#!/usr/bin/env bash
# Installs the external tools that ssmlog's tests and benchmarks run as separate processes.
# Idempotent: each step does nothing when its tool is already installed and up to date.
# Quiet on success. Append one step per tool.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# @cloud-copilot/iam-simulate: differential oracle for the IAM engine (tools/iam-oracle).
if [ ! -d tools/iam-oracle/node_modules ] \
  || [ tools/iam-oracle/package-lock.json -nt tools/iam-oracle/node_modules ]; then
  npm ci --prefix tools/iam-oracle --no-audit --no-fund --loglevel=error >/dev/null
  touch tools/iam-oracle/node_modules
fi

# cfn-lint: validates the CloudFormation templates `ssmlog render --format cloudformation` writes.
if ! command -v cfn-lint >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check "cfn-lint==1.51.0"
fi
