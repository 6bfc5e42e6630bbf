#!/usr/bin/env bash
# The test command (CI runs it through .ci/run): set up .venv, check the house -- lint
# (ruff check), formatting (ruff format --check) and the layer contracts (lint-imports, see
# [tool.importlinter] in pyproject.toml) -- then run the test suite. Extra arguments go to
# pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports
exec .venv/bin/python -m pytest "$@"
