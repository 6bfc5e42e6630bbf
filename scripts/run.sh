#!/usr/bin/env bash
# The main job: set up .venv, land the bundled real Olist data as snapshots, build the
# seller-concentration report (data/reports/*.html) and serve the app on http://127.0.0.1:8501.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/stockroom ingest olist
.venv/bin/stockroom report seller_concentration
exec .venv/bin/stockroom serve
