-- Sales lines: the order lines that count as sales, with their product's category.
-- One row per order line placed in [$start, $end) whose status is not a non-sale status.
-- Parameters: $start, $end TIMESTAMPTZ (UTC); $non_sale VARCHAR[]; $category VARCHAR or NULL (all).
-- Revenue is quantity x unit_price in the line's currency, freight excluded.
-- {category} is the category expression and {products} the join that provides it: the products
-- join, or (when neither the grouping nor the filter needs a category) nothing, so such queries
-- do not read the catalog at all (stockroom.sales.sales fills both in).
-- {seller}, {sku} and {mapping}: the unified Seller and catalog product when the data root
-- applies its mapping (seller_map, sku_map joined in {mapping}), else o.seller_id and o.sku;
-- the platform's own ids stay in platform_seller_id and platform_sku, and seller_mapped /
-- sku_mapped say whether a mapping applied to the line.
SELECT
    o.order_ts,
    CAST(date_trunc('month', o.order_ts) AS DATE) AS month,
    o.platform,
    o.order_id,
    o.line,
    {seller} AS seller_id,
    {sku} AS sku,
    o.seller_id AS platform_seller_id,
    o.sku AS platform_sku,
    {seller_mapped} AS seller_mapped,
    {sku_mapped} AS sku_mapped,
    {category} AS category,
    o.quantity AS units,
    o.quantity * o.unit_price AS revenue,
    o.currency
FROM orders AS o
{mapping}
{products}
WHERE o.order_ts >= $start
  AND o.order_ts < $end
  AND NOT list_contains($non_sale, o.status)
  AND ($category IS NULL OR {category} = $category)
