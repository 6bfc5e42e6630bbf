-- Listing lines: the active listings of the snapshot days [$first, $last], one row per listing
-- and day, on the unified Seller and catalog product.
-- Parameters: $first, $last DATE; $platform, $brand, $category VARCHAR or NULL (all);
-- $uncategorised VARCHAR (the category of a product the catalog does not know).
-- {seller}, {sku}, {seller_mapped}, {sku_mapped} and {mapping}: see stockroom.sales.mapping_parts
-- (the platform's own ids stay in platform_seller_id and platform_sku).
-- price is the asking price per unit in the listing's currency; stockroom.holdings converts it.
SELECT
    l.snapshot_date AS day,
    l.platform,
    {seller} AS seller_id,
    {sku} AS sku,
    l.seller_id AS platform_seller_id,
    l.sku AS platform_sku,
    {seller_mapped} AS seller_mapped,
    {sku_mapped} AS sku_mapped,
    COALESCE(p.category, $uncategorised) AS category,
    p.brand,
    l.title,
    l.quantity AS units,
    l.price,
    l.currency
FROM listings_history AS l
{mapping}
LEFT JOIN products AS p ON p.sku = {sku}
WHERE l.status = 'active'
  AND l.snapshot_date BETWEEN $first AND $last
  AND ($platform IS NULL OR l.platform = $platform)
  AND ($brand IS NULL OR p.brand = $brand)
  AND ($category IS NULL OR COALESCE(p.category, $uncategorised) = $category)
