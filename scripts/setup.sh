#!/usr/bin/env bash
# Create or refresh .venv from the lock file. Idempotent: does nothing when the lock is unchanged.
# Needs only Python 3.11 (python3.11 or python3 on PATH; override with PYTHON=...).
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-$(command -v python3.11 || command -v python3 || true)}"
if [ -z "$PY" ] || ! "$PY" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 13))'; then
  echo "stockroom: error: Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv

want="$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)"
stamp=.venv/.stockroom-lock
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing locked dependencies into .venv (first run takes a minute or two)..." >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
  .venv/bin/python -m uv pip install --quiet --python .venv/bin/python -r requirements.lock
  # bytecode of the whole environment once, at install time (see below)
  .venv/bin/python -m compileall -q -j 0 "$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" >/dev/null 2>&1 || true
  .venv/bin/python -m uv pip install --quiet --python .venv/bin/python --no-deps -e .
  echo "$want" > "$stamp"
fi
# PYTHONDONTWRITEBYTECODE=1 machines never cache bytecode at run time: compile Stockroom's own
# sources here (cheap when nothing changed), or every process recompiles them.
.venv/bin/python -m compileall -q -j 0 lib jobs benchmarks app_pages app.py >/dev/null
