#!/usr/bin/env bash
# Sets up everything the tests need, then lints, type-checks and runs the whole test suite.
# Extra arguments go to pytest. Any ruff or mypy finding, or a docs build warning (a broken link,
# a setting or column without its meaning), fails the run before pytest starts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
echo "test: ruff"
.venv/bin/ruff check shared web model_server scripts benchmarks tests
.venv/bin/ruff format --check shared web model_server scripts benchmarks tests
echo "test: mypy"
.venv/bin/mypy
echo "test: docs"
NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet --site-dir "$(mktemp -d)"
export TF_CPP_MIN_LOG_LEVEL=3
exec .venv/bin/python -m pytest "$@"
