#!/usr/bin/env bash
# The main job: set up .venv, land the bundled real Olist data as snapshots, forecast every SKU,
# build the seller-concentration and forecast-accuracy reports (data/reports/*.html) and serve
# the app on http://127.0.0.1:8501.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/stockroom ingest olist
.venv/bin/stockroom forecast
.venv/bin/stockroom report seller_concentration
.venv/bin/stockroom report forecast_accuracy
exec .venv/bin/stockroom serve
