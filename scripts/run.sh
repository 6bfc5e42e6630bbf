#!/usr/bin/env bash
# The main job: set up .venv, land the bundled real Olist data as snapshots, forecast every SKU,
# simulate the seller's stock and open POs on that real demand (seeded; the public data has no
# stock), build the morning order plan, the seller-concentration, forecast-accuracy and
# order-today reports (data/reports/*.html) and serve the app on http://127.0.0.1:8501.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/stockroom ingest olist
.venv/bin/stockroom forecast
.venv/bin/stockroom ingest demo-stock
.venv/bin/stockroom procure --export data/reports/purchase_requests.csv
.venv/bin/stockroom report seller_concentration
.venv/bin/stockroom report forecast_accuracy
.venv/bin/stockroom report order_today
exec .venv/bin/stockroom serve
