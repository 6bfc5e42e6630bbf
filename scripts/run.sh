#!/usr/bin/env bash
# The main job: set up .venv, land the bundled real Olist data as snapshots, forecast every SKU,
# simulate the seller's stock and open POs on that real demand (seeded; the public data has no
# stock), build the morning order plan, the seller-concentration, forecast-accuracy and
# order-today reports (data/reports/*.html), reconcile a seeded 4-platform scenario in
# data/reconcile-demo, land the StockX market demo in data/market-demo and the resale demo in
# data/resale-demo, run the morning
# (`stockroom daily`) on the bundled "your own data" exports
# in data/own-demo, and serve the app on http://127.0.0.1:8501.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/stockroom ingest olist
.venv/bin/stockroom forecast
.venv/bin/stockroom ingest demo-stock
mkdir -p data/reports data/reconcile-demo/reports  # export folders (a CLI never creates them)
.venv/bin/stockroom procure --export data/reports/purchase_requests.csv
.venv/bin/stockroom report seller_concentration
.venv/bin/stockroom report forecast_accuracy
.venv/bin/stockroom report order_today
# reconciliation demo: a seeded central inventory on 4 platforms with every drift injected, in
# its own data root (synthetic orders in USD must not mix with Olist's); the Reconciliation page
# offers a button to open it
.venv/bin/stockroom ingest reconcile-demo --items 4000 --inject 20 --data-root data/reconcile-demo
.venv/bin/stockroom reconcile --export data/reconcile-demo/reports/actions --data-root data/reconcile-demo
.venv/bin/stockroom report reconciliation --data-root data/reconcile-demo
# market demo: the real StockX sales with simulated order books on StockX, Alias, eBay and
# ShootStrayt, in its own data root (the Market page offers a button to open it), and its report
.venv/bin/stockroom ingest stockx-market --data-root data/market-demo
.venv/bin/stockroom report market --data-root data/market-demo
# resale demo: the real StockX sales as a reseller's flips (bought at retail on release day,
# sold on StockX after its fees) and synthetic auction invoices (PDF) imported, listed and sold
# on eBay, Etsy, Facebook and a shop, in its own data root (landed once), and its report
.venv/bin/stockroom resale demo --data-root data/resale-demo
.venv/bin/stockroom report resale --data-root data/resale-demo
# your own data: a seller's exports (real Online Retail orders as a Shopify orders export and an
# eBay orders report; seeded stock on two warehouses, central inventory, listings, suppliers and
# POs) taken through the whole morning by `stockroom daily` in data/own-demo, configured by
# data/raw/own/stockroom.toml (the sidebar's data root opens it)
mkdir -p data/own-demo && cp data/raw/own/stockroom.toml data/own-demo/stockroom.toml
.venv/bin/stockroom daily --data-root data/own-demo
exec .venv/bin/stockroom serve
