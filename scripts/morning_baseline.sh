#!/usr/bin/env bash
# The baseline of README's "The morning" benchmark: what `stockroom daily` does on the bundled
# own data (data/raw/own/stockroom.toml), as the 13 CLI commands a seller would type, one
# process each. Usage: bash scripts/morning_baseline.sh EMPTY_DATA_ROOT
set -euo pipefail
R=${1:?usage: morning_baseline.sh EMPTY_DATA_ROOT}
HERE=$(cd "$(dirname "$0")/.." && pwd)
O=$HERE/data/raw/own
S=$HERE/.venv/bin/stockroom
$S import "$O/shopify_orders.csv" --kind orders --data-root "$R"
$S import "$O/ebay_orders.csv" --kind orders --data-root "$R"
$S import "$O/shopify_inventory.csv" --kind stock --snapshot-date 2011-12-09 --data-root "$R"
$S import "$O/inventory.csv" --kind inventory --snapshot-date 2011-12-09 --data-root "$R"
for p in shopify:shopify_products ebay:ebay_active_listings; do
  $S ingest listings "$O/${p#*:}.csv" --platform "${p%%:*}" --currency GBP --seller own \
    --snapshot-date 2011-12-09 --data-root "$R"
done
$S import "$O/suppliers.csv" --kind settings --data-root "$R"
$S import "$O/purchase_orders.csv" --kind pos --data-root "$R"
$S forecast --data-root "$R"
$S procure --data-root "$R"
$S reconcile --data-root "$R"
$S report seller_concentration --data-root "$R"
$S report order_today --data-root "$R"
