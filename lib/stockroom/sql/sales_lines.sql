-- Sales lines: the order lines that count as sales, with their product's category.
-- One row per order line placed in [$start, $end) whose status is not a non-sale status.
-- Parameters: $start, $end TIMESTAMPTZ (UTC); $non_sale VARCHAR[]; $category VARCHAR or NULL (all).
-- Revenue is quantity x unit_price in the line's currency, freight excluded.
SELECT
    o.order_ts,
    CAST(date_trunc('month', o.order_ts) AS DATE) AS month,
    o.platform,
    o.order_id,
    o.line,
    o.seller_id,
    o.sku,
    COALESCE(p.category, $uncategorised) AS category,
    o.quantity AS units,
    o.quantity * o.unit_price AS revenue,
    o.currency
FROM orders AS o
LEFT JOIN products AS p USING (sku)
WHERE o.order_ts >= $start
  AND o.order_ts < $end
  AND NOT list_contains($non_sale, o.status)
  AND ($category IS NULL OR COALESCE(p.category, $uncategorised) = $category)
