-- Sales lines: the order lines that count as sales, with their product's category.
-- One row per order line placed in [$start, $end) whose status is not a non-sale status.
-- Parameters: $start, $end TIMESTAMPTZ (UTC); $non_sale VARCHAR[]; $category VARCHAR or NULL (all).
-- Revenue is quantity x unit_price in the line's currency, freight excluded.
-- {category} is the category expression and {products} the join that provides it: the products
-- join, or (when neither the grouping nor the filter needs a category) nothing, so such queries
-- do not read the catalog at all (stockroom.sales.sales fills both in).
SELECT
    o.order_ts,
    CAST(date_trunc('month', o.order_ts) AS DATE) AS month,
    o.platform,
    o.order_id,
    o.line,
    o.seller_id,
    o.sku,
    {category} AS category,
    o.quantity AS units,
    o.quantity * o.unit_price AS revenue,
    o.currency
FROM orders AS o
{products}
WHERE o.order_ts >= $start
  AND o.order_ts < $end
  AND NOT list_contains($non_sale, o.status)
  AND ($category IS NULL OR {category} = $category)
